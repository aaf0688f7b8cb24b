//! Writing outputs so that a reader never sees half of one: a file appears whole or not at
//! all (a temporary file beside it, then a rename), and a set of files (`--out DIR`) appears
//! as a whole set (a temporary folder beside it, then a rename). Folders on the way are
//! created; every error names the path the user asked for, never a temporary one.

use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// The folder a new `path` goes in (`.` for a bare file name), created if missing.
fn parent_of(path: &Path) -> Result<PathBuf, String> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("{}: cannot create its folder: {e}", path.display()))?;
    Ok(dir)
}

/// A temporary file in `path`'s folder, to be [`persist`]ed onto `path` when complete.
pub fn create_beside(path: &Path) -> Result<NamedTempFile, String> {
    let dir = parent_of(path)?;
    let file = NamedTempFile::new_in(&dir)
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    // A temporary file is private (0600); the output is an ordinary file others may read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }
    Ok(file)
}

/// Moves a complete temporary file onto `path` (atomic: same folder).
pub fn persist(file: NamedTempFile, path: &Path) -> Result<(), String> {
    file.persist(path)
        .map(drop)
        .map_err(|e| format!("{}: cannot write: {}", path.display(), e.error))
}

/// Writes `bytes` to `path` atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut file = create_beside(path)?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    persist(file, path)
}

/// Writes `files` (name, bytes) as the folder `dir`, atomically as a set: they are written
/// into a temporary folder beside `dir`, which then takes `dir`'s place. A folder already at
/// `dir` is replaced only if it holds nothing but files of this set (an earlier run's), so a
/// user's own files are never removed.
pub fn write_set(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let shown = dir.display();
    let parent = parent_of(dir)?;
    if dir.exists() {
        refuse_foreign_files(dir, files)?;
    }
    let staging = tempfile::Builder::new()
        .prefix(".creditsim-out-")
        .tempdir_in(&parent)
        .map_err(|e| format!("{shown}: cannot create a folder beside it: {e}"))?;
    for (name, bytes) in files {
        std::fs::write(staging.path().join(name), bytes)
            .map_err(|e| format!("{}: cannot write: {e}", dir.join(name).display()))?;
    }
    let staged = staging.keep();
    let replace = || -> std::io::Result<()> {
        if dir.exists() {
            // Move the old set aside first: a rename cannot replace a non-empty folder.
            let old = tempfile::Builder::new()
                .prefix(".creditsim-old-")
                .tempdir_in(&parent)?
                .keep();
            std::fs::rename(dir, old.join("set"))?;
            std::fs::rename(&staged, dir)?;
            std::fs::remove_dir_all(old)
        } else {
            std::fs::rename(&staged, dir)
        }
    };
    replace().map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        format!("{shown}: cannot write the set of files: {e}")
    })
}

fn refuse_foreign_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(format!("{shown}: exists and is not a folder"));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{shown}: cannot read: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !files.iter().any(|(n, _)| *n == name) {
            return Err(format!(
                "{shown}: holds \"{name}\", which this command does not write; \
                 --out takes a new folder or one an earlier run wrote"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(content: &str) -> Vec<(String, Vec<u8>)> {
        vec![
            ("a.txt".to_string(), content.as_bytes().to_vec()),
            ("b.txt".to_string(), content.as_bytes().to_vec()),
        ]
    }

    #[test]
    fn a_set_replaces_an_earlier_set_whole_and_leaves_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("deep/out");
        write_set(&out, &set("one")).unwrap();
        write_set(&out, &set("two")).unwrap();
        for f in ["a.txt", "b.txt"] {
            assert_eq!(std::fs::read_to_string(out.join(f)).unwrap(), "two");
        }
        // No temporary folders left beside it.
        let beside: Vec<_> = std::fs::read_dir(root.path().join("deep"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(beside, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn a_folder_with_other_files_is_refused_and_kept() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("notes.md"), "mine").unwrap();
        let e = write_set(root.path(), &set("x")).unwrap_err();
        assert!(e.contains("holds \"notes.md\""), "{e}");
        assert_eq!(
            std::fs::read_to_string(root.path().join("notes.md")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn errors_name_the_path_asked_for() {
        let root = tempfile::tempdir().unwrap();
        let blocker = root.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let wanted = blocker.join("report.json");
        let e = write_file(&wanted, b"{}").unwrap_err();
        let expected = format!("{}: cannot create its folder: ", wanted.display());
        assert!(e.starts_with(&expected), "{e}");
    }
}

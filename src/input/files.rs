//! Finding input files: scenarios and pricing books among paths and folders.

use crate::model::diag::InputError;
use std::path::{Path, PathBuf};

/// What a TOML file is, judged by its top-level tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Scenario,
    PricingBook,
    /// A customer profile (`input::profile`): a `[profile]` table and no `[scenario]`.
    Profile,
    /// Customer segments (`input::segments`): a `[segments]` table and no `[scenario]`.
    Segments,
}

/// Expands files and folders (recursively, `*.toml` only) into a sorted list of files.
/// A named file is taken whatever its extension; a missing path is an error.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)
                .map_err(|e| InputError::whole_file(p, format!("cannot list folder: {e}")))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(InputError::whole_file(p, "no such file or folder"));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// A file with a `[book]` table and no `[scenario]` is a pricing book, one with a `[profile]`
/// table and no `[scenario]` a customer profile; anything else is read as a scenario (so a broken file gets the scenario loader's precise error).
pub fn kind_of(path: &Path) -> FileKind {
    // A scenario's inline events are kept out of this parse as out of the loader's (issue
    // 12): the text with them taken out has the same top-level tables.
    let text = match super::inline_events::scan(path) {
        Ok(Some(scanned)) => scanned.text,
        _ => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(_) => return FileKind::Scenario,
        },
    };
    match text.parse::<toml::Table>() {
        Ok(t) if t.contains_key("book") && !t.contains_key("scenario") => FileKind::PricingBook,
        Ok(t) if t.contains_key("profile") && !t.contains_key("scenario") => FileKind::Profile,
        Ok(t) if t.contains_key("segments") && !t.contains_key("scenario") => FileKind::Segments,
        _ => FileKind::Scenario,
    }
}

/// A CSV file with a header row, cells trimmed; `flexible` lets rows have fewer or more
/// fields than the header (the caller says which are errors).
pub fn open_csv(
    path: &Path,
    flexible: bool,
) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord), InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(flexible)
        .from_path(path)
        .map_err(|e| InputError::whole_file(path, format!("cannot read: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| InputError::whole_file(path, format!("cannot read the header: {e}")))?
        .clone();
    // A second column of the same name would be silently ignored: refuse it.
    for (k, name) in headers.iter().enumerate() {
        if headers.iter().take(k).any(|h| h == name) {
            return Err(InputError::at_row(
                path,
                0,
                name,
                "the header names this column twice",
            ));
        }
    }
    Ok((reader, headers))
}

/// The SHA-256 of `bytes`, in lower-case hex: how provenance names an input's content.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Bytes in lowercase hexadecimal, as a digest is written.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_a_known_text() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

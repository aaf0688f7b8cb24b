//! Tidy checks in the spirit of rust-analyzer's: rules about the source tree itself, so that
//! the layering described in ARCHITECTURE.md stays true as the code grows.
//!
//! - A module under `src/<layer>/` names only its own layer and the layers below it.
//! - clap is used only in `src/cli/` (the library has no command-line types).
//! - No Rust file sits outside the layer folders but `lib.rs` and `main.rs`.
//! - No function is longer than `FUNCTION_LINES_MAX` lines unless the line before it says
//!   why (`// long-function: <reason>`).
//! - No floating point in `model/` or `engine/`: money and credits are exact there.

use std::fs;
use std::path::{Path, PathBuf};

/// The library's layers, lowest first; `cli` is the binary's front end on top.
const LAYERS: [&str; 7] = [
    "model", "engine", "usage", "analysis", "input", "report", "cli",
];
const FUNCTION_LINES_MAX: usize = 70;
const LONG_FUNCTION_MARK: &str = "// long-function:";

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The text with `//` comments removed (strings are left alone; a `crate::x` inside a string
/// literal would be reported, which is the cautious direction).
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every layer a file names through a `crate::` or `creditsim::` path, including the names
/// inside `use crate::{a, b}` groups.
fn layers_named(code: &str) -> Vec<&'static str> {
    let mut named = Vec::new();
    for root in ["crate::", "creditsim::"] {
        for (i, _) in code.match_indices(root) {
            let rest = &code[i + root.len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                group[..end]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .collect()
            } else {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                vec![&rest[..end]]
            };
            for n in names {
                if let Some(layer) = LAYERS.iter().find(|l| **l == n) {
                    named.push(*layer);
                }
            }
        }
    }
    named
}

fn layer_of(file: &Path) -> Option<usize> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    LAYERS.iter().position(|l| *l == first)
}

#[test]
fn layers_only_point_down() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut upward = Vec::new();
    for f in &files {
        let Some(own) = layer_of(f) else { continue };
        let code = without_comments(&fs::read_to_string(f).unwrap());
        for named in layers_named(&code) {
            let rank = LAYERS.iter().position(|l| *l == named).unwrap();
            if rank > own {
                upward.push(format!(
                    "{} ({}) names {named}",
                    f.strip_prefix(src()).unwrap().display(),
                    LAYERS[own]
                ));
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "layers {} only point down; these point up:\n{}",
        LAYERS.join(" < "),
        upward.join("\n")
    );
}

#[test]
fn every_file_is_in_a_layer() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let loose: Vec<String> = files
        .iter()
        .filter(|f| layer_of(f).is_none())
        .map(|f| f.strip_prefix(src()).unwrap().display().to_string())
        .filter(|f| f != "lib.rs" && f != "main.rs")
        .collect();
    assert!(loose.is_empty(), "files outside the layers: {loose:?}");
}

#[test]
fn clap_is_only_in_the_command_line() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let cli = LAYERS.iter().position(|l| *l == "cli");
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| layer_of(f) != cli)
        .filter(|f| without_comments(&fs::read_to_string(f).unwrap()).contains("clap::"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "clap outside src/cli: {offenders:?}");
}

/// `(name, first line, length)` of every `fn` in `text` longer than the limit that has no
/// reason written on the line before it. rustfmt's layout makes a function's closing brace
/// the first line after it that is its indentation followed by `}`.
fn long_functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let signature = [
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "fn ",
            "const fn ",
        ]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p));
        let Some(rest) = signature else { continue };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        let Some(end) = (i..lines.len()).find(|&j| lines[j] == close) else {
            continue;
        };
        let length = end - i + 1;
        let reasoned = i > 0 && lines[i - 1].trim_start().starts_with(LONG_FUNCTION_MARK);
        if length > FUNCTION_LINES_MAX && !reasoned && !line.trim_end().ends_with(';') {
            long.push((name, i + 1, length));
        }
    }
    long
}

#[test]
fn functions_fit_on_a_screen() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut long = Vec::new();
    for f in &files {
        for (name, line, length) in long_functions(&fs::read_to_string(f).unwrap()) {
            long.push(format!(
                "{}:{line}: fn {name} is {length} lines",
                f.strip_prefix(src()).unwrap().display()
            ));
        }
    }
    assert!(
        long.is_empty(),
        "functions over {FUNCTION_LINES_MAX} lines (split them, or write why on the line \
         before with `{LONG_FUNCTION_MARK} reason`):\n{}",
        long.join("\n")
    );
}

/// Whether code (comments removed) names a floating-point type.
fn names_a_float(code: &str) -> bool {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == "f32" || word == "f64")
}

#[test]
fn model_and_engine_have_no_floating_point() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let exact = ["model", "engine"].map(|l| LAYERS.iter().position(|x| *x == l));
    let floats: Vec<String> = files
        .iter()
        .filter(|f| exact.contains(&layer_of(f)))
        .filter(|f| names_a_float(&without_comments(&fs::read_to_string(f).unwrap())))
        .map(|f| f.strip_prefix(src()).unwrap().display().to_string())
        .collect();
    assert!(
        floats.is_empty(),
        "floating point in exact layers: {floats:?}"
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert!(names_a_float("let x: f64 = 1.0;"));
    assert!(!names_a_float(&without_comments("let buf64 = 1; // f64")));
    // The detectors themselves, on small texts: a tidy test that finds nothing because it
    // looks wrong would pass forever.
    assert_eq!(
        layers_named("use crate::report::x;\nuse crate::{model, input::y};"),
        vec!["report", "model", "input"]
    );
    assert!(layers_named(&without_comments("// see crate::cli")).is_empty());
    let body = "    let x = 1;\n".repeat(FUNCTION_LINES_MAX);
    let long = format!("fn big() {{\n{body}}}\n");
    assert_eq!(
        long_functions(&long),
        vec![("big".to_string(), 1, FUNCTION_LINES_MAX + 2)]
    );
    let reasoned = format!("{LONG_FUNCTION_MARK} a table\n{long}");
    assert!(long_functions(&reasoned).is_empty());
}

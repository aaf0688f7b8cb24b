//! notebooks-data: every sample is what the tool writes today (regenerated here with the
//! commands notebooks-data/README.md lists), and every Parquet file there has exactly the
//! columns and types its data dictionary lists.

use polars::prelude::*;
use std::path::{Path, PathBuf};

mod common;
use common::{creditsim_ok, root};

fn parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
    out.sort();
}

/// The dictionary's name for a column type.
fn type_name(dtype: &DataType) -> String {
    match dtype {
        DataType::String => "string".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::Boolean => "bool".into(),
        DataType::Date => "date".into(),
        DataType::Decimal(p, s) => format!("decimal({p},{s})"),
        DataType::Datetime(TimeUnit::Microseconds, Some(tz)) => format!("timestamp(us, {tz})"),
        other => format!("{other:?}"),
    }
}

/// The (column, type) rows of the README table under the heading naming `name`.
fn dictionary(readme: &str, name: &str) -> Vec<(String, String)> {
    let heading = format!("### `{name}`");
    let start = readme
        .find(&heading)
        .unwrap_or_else(|| panic!("notebooks-data/README.md has no heading {heading}"));
    readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // header and separator
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].to_string(), cells[2].to_string())
        })
        .collect()
}

#[test]
fn every_parquet_file_matches_the_data_dictionary() {
    let dir = root().join("notebooks-data");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut all = Vec::new();
    files(&dir, &mut all);
    let parquet_files: Vec<&PathBuf> = all
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert_eq!(parquet_files.len(), 4, "{parquet_files:?}");
    for path in parquet_files {
        let name = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let frame = parquet(path);
        let actual: Vec<(String, String)> = frame
            .columns()
            .iter()
            .map(|c| (c.name().to_string(), type_name(c.dtype())))
            .collect();
        assert_eq!(actual, dictionary(&readme, &name), "{name}");
        assert!(frame.height() > 0, "{name} has rows");
    }
}

fn without_provenance(json: &[u8]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(json).unwrap();
    let had = v
        .as_object_mut()
        .and_then(|m| m.remove("provenance"))
        .is_some();
    assert!(had, "every summary records its provenance");
    v
}

#[test]
fn the_samples_are_what_the_tool_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |name: &str| tmp.path().join(name).to_string_lossy().into_owned();
    let data = root().join("notebooks-data");
    creditsim_ok(&[
        "trace",
        "generate",
        "scenarios/examples/prospect-history.toml",
        "--out",
        &t("prospect-quarter.csv"),
        "--rows-per-day",
        "8",
    ]);
    creditsim_ok(&[
        "trace",
        "generate",
        "scenarios/examples/portfolio.toml",
        "--out",
        &t("portfolio-trace.parquet"),
        "--workspaces",
        "20",
        "--rows-per-day",
        "2",
    ]);
    creditsim_ok(&[
        "portfolio",
        "scenarios/examples/portfolio.toml",
        "--trace",
        "notebooks-data/traces/portfolio.parquet",
        "--accounts",
        "notebooks-data/accounts.csv",
        "--out",
        &t("portfolio"),
    ]);
    creditsim_ok(&[
        "simulate",
        "scenarios/examples/steady-inference.toml",
        "--paths",
        "200",
        "--out",
        &t("simulate"),
    ]);
    let bytes = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert!(
        bytes(data.join("traces/prospect-quarter.csv"))
            == bytes(tmp.path().join("prospect-quarter.csv"))
    );
    assert!(
        bytes(data.join("tables/portfolio/workspaces.csv"))
            == bytes(tmp.path().join("portfolio/workspaces.csv"))
    );
    // Summaries are the same but for their provenance (the command line names the folder).
    for summary in ["steady-inference/summary.json", "portfolio/summary.json"] {
        let fresh = summary.replace("steady-inference", "simulate");
        assert_eq!(
            without_provenance(&bytes(data.join("tables").join(summary))),
            without_provenance(&bytes(tmp.path().join(fresh))),
            "{summary}"
        );
    }
    for (committed, fresh) in [
        ("traces/portfolio.parquet", "portfolio-trace.parquet"),
        (
            "tables/portfolio/workspaces.parquet",
            "portfolio/workspaces.parquet",
        ),
        (
            "tables/steady-inference/paths.parquet",
            "simulate/paths.parquet",
        ),
        (
            "tables/steady-inference/fan.parquet",
            "simulate/fan.parquet",
        ),
    ] {
        let (a, b) = (
            parquet(&data.join(committed)),
            parquet(&tmp.path().join(fresh)),
        );
        assert!(
            a.equals_missing(&b),
            "{committed} differs from what the tool writes"
        );
    }
}

/// The replay CSV's columns in the data dictionary are the metrics registry's, in its order,
/// with its kinds, units and meanings: the registry is the one source, the README its view.
#[test]
fn the_replay_dictionary_is_the_metrics_registry() {
    use creditsim::analysis::metrics::{Field, FieldKind, FieldScope};
    let readme = std::fs::read_to_string(root().join("notebooks-data/README.md")).unwrap();
    let documented: Vec<String> =
        table_after(&readme, "## `creditsim replay SCENARIO --format csv`")
            .into_iter()
            .skip(2) // strategy, statement: the row's key, not metrics
            .collect();
    let registry: Vec<String> = Field::ALL
        .iter()
        .map(|f| {
            let kind = match f.kind() {
                FieldKind::Money | FieldKind::Credits | FieldKind::Ratio => "decimal",
                FieldKind::Count => "integer",
                FieldKind::Plan => "text",
                FieldKind::Instant => "date-time or `none`",
            };
            let scope = match f.scope() {
                FieldScope::Both => "",
                FieldScope::Totals => " (totals)",
                FieldScope::Statement => " (statements)",
            };
            format!(
                "| {} | {kind} | {} | {}{scope} |",
                f.name(),
                f.unit("currency"),
                f.meaning()
            )
            .replace("|  |", "| |")
        })
        .collect();
    assert_eq!(
        documented,
        registry,
        "notebooks-data/README.md's replay table should read:\n{}",
        registry.join("\n")
    );
}

/// The rows (as lines) of the first table after `heading`, without its header and separator.
fn table_after(readme: &str, heading: &str) -> Vec<String> {
    let start = readme
        .find(heading)
        .unwrap_or_else(|| panic!("no heading {heading}"));
    readme[start..]
        .lines()
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(str::to_string)
        .collect()
}

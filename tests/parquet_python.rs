//! Every Parquet file the tool writes, opened where analysts open it: pyarrow and pandas.
//! Text columns must be plain UTF-8 strings (pandas cannot group by Arrow's string_view),
//! amounts exact decimals, and the file must carry its provenance.
//!
//! Python comes from `CREDITSIM_PYTHON` (`.ci/run` makes a venv with pyarrow and pandas),
//! else `python3`. Without pyarrow and pandas the test says so and passes, unless
//! `CREDITSIM_REQUIRE_TOOLS` is set (`.ci/run` sets it): CI never skips it.

use std::process::Command;

mod common;
use common::{creditsim_ok, python_importing, tool_or_skip};

/// For each file: read with pyarrow, check the text column's type and the provenance, then
/// group by it in pandas (pyarrow-backed) and print the group count.
const SCRIPT: &str = r#"
import sys, pyarrow.parquet as pq, pyarrow as pa, pandas as pd
for path, text_column, needs_provenance in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):
    table = pq.read_table(path)
    kind = table.schema.field(text_column).type
    assert kind in (pa.string(), pa.large_string()), f"{path}: {text_column} is {kind}"
    meta = {k.decode(): v.decode() for k, v in (pq.read_metadata(path).metadata or {}).items()}
    if needs_provenance == "yes":
        assert meta.get("creditsim.creditsim"), f"{path}: no provenance in {sorted(meta)}"
        assert "creditsim.command" in meta, path
    frame = pd.read_parquet(path, dtype_backend="pyarrow")
    groups = frame.groupby(text_column).size()
    print(path.rsplit("/", 1)[-1], text_column, len(groups), len(frame))
"#;

#[test]
fn pyarrow_and_pandas_read_every_parquet_file_and_group_by_text() {
    let Some(py) = tool_or_skip(
        python_importing("pyarrow, pandas"),
        "Python with pyarrow and pandas (CREDITSIM_PYTHON)",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let t = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    creditsim_ok(&[
        "simulate",
        "scenarios/examples/steady-inference.toml",
        "--paths",
        "50",
        "--out",
        &t("simulate"),
    ]);
    creditsim_ok(&[
        "portfolio",
        "tests/data/portfolio.toml",
        "--accounts",
        "tests/data/portfolio-accounts.csv",
        "--out",
        &t("portfolio"),
    ]);
    creditsim_ok(&[
        "impact",
        "tests/data/portfolio.toml",
        "--accounts",
        "tests/data/portfolio-accounts.csv",
        "--after",
        "scenarios/pricing/credits-book-2027.toml",
        "--out",
        &t("impact"),
    ]);
    creditsim_ok(&[
        "trace",
        "generate",
        "scenarios/examples/portfolio.toml",
        "--out",
        &t("trace.parquet"),
        "--workspaces",
        "3",
    ]);
    // (file, a text column, whether it must carry provenance), and the groups expected:
    // 4 strategies; 2 workspaces (tests/data); 3 views (today, same behaviour,
    // re-optimised); 3 metrics of the portfolio example's model.
    let files = [
        (t("simulate/paths.parquet"), "strategy", "yes", 4),
        (t("simulate/fan.parquet"), "strategy", "yes", 4),
        (t("portfolio/workspaces.parquet"), "workspace", "yes", 2),
        (t("impact/customers.parquet"), "workspace", "yes", 2),
        (t("impact/revenue.parquet"), "view", "yes", 3),
        (t("trace.parquet"), "workspace", "yes", 3),
    ];
    let mut args = vec!["-c".to_string(), SCRIPT.to_string()];
    for (path, column, provenance, _) in &files {
        args.extend([path.clone(), column.to_string(), provenance.to_string()]);
    }
    let out = Command::new(&py).args(&args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "{stdout}");
    for ((_, column, _, groups), line) in files.iter().zip(&lines) {
        let cells: Vec<&str> = line.split(' ').collect();
        assert_eq!(cells[1], *column, "{line}");
        assert_eq!(cells[2], groups.to_string(), "{line}");
    }
}

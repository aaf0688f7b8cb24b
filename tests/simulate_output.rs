//! `creditsim simulate --out DIR`: every file is written, the Parquet tables read back with the
//! documented schema (notebooks-data/README.md), and their numbers agree with summary.json when
//! recomputed here independently (exact decimal sums and nearest-rank order statistics).

use polars::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const PATHS: usize = 300;
const STRATEGIES: usize = 4;
const MONTHS: usize = 12;

fn run_simulation(out: &Path) -> Value {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/examples/steady-inference.toml");
    let status = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args([
            "simulate",
            "--paths",
            &PATHS.to_string(),
            "--format",
            "json",
        ])
        .arg(&scenario)
        .arg("--out")
        .arg(out)
        .output()
        .expect("creditsim runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(out.join("summary.json")).expect("summary.json written");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

fn read_parquet(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).expect("the table exists");
    ParquetReader::new(file).finish().expect("the table reads")
}

fn schema_of(frame: &DataFrame) -> Vec<(String, DataType)> {
    frame
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.dtype().clone()))
        .collect()
}

/// A decimal(19, 6) column as exact decimals.
fn decimals(frame: &DataFrame, name: &str) -> Vec<Decimal> {
    let column = frame.column(name).expect("column exists");
    let physical = column
        .decimal()
        .expect("a decimal column")
        .physical()
        .clone();
    physical
        .into_no_null_iter()
        .map(|v| Decimal::from_i128_with_scale(v, 6))
        .collect()
}

fn strings(frame: &DataFrame, name: &str) -> Vec<String> {
    frame
        .column(name)
        .expect("column exists")
        .str()
        .expect("a string column")
        .iter()
        .map(|v| v.expect("no nulls").to_string())
        .collect()
}

/// Nearest rank: the smallest value with at least q% of the values at or below it.
fn nearest_rank(mut values: Vec<Decimal>, q_percent: usize) -> Decimal {
    values.sort();
    let rank = (values.len() * q_percent).div_ceil(100).max(1);
    values[rank - 1]
}

fn json_decimal(v: &Value) -> Decimal {
    v.as_str()
        .expect("a decimal string")
        .parse()
        .expect("a decimal")
}

#[test]
fn out_dir_holds_tables_that_agree_with_the_summary_and_two_charts() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run_simulation(dir.path());

    let paths = read_parquet(&dir.path().join("paths.parquet"));
    let decimal = DataType::Decimal(19, 6);
    assert_eq!(
        schema_of(&paths),
        vec![
            ("path".to_string(), DataType::UInt32),
            ("strategy".to_string(), DataType::String),
            ("is_baseline".to_string(), DataType::Boolean),
            ("cash".to_string(), decimal.clone()),
            ("economic_cost".to_string(), decimal.clone()),
            ("unused_prepaid_value".to_string(), decimal.clone()),
            ("unexpired_fee_value".to_string(), decimal.clone()),
            ("economic_savings_vs_baseline".to_string(), decimal.clone()),
            ("credits_demanded".to_string(), decimal.clone()),
            ("credits_blocked".to_string(), decimal.clone()),
            ("prepaid_credits_purchased".to_string(), decimal.clone()),
            ("prepaid_credits_consumed".to_string(), decimal.clone()),
        ]
    );
    assert_eq!(paths.height(), PATHS * STRATEGIES);

    let names = strings(&paths, "strategy");
    let economic = decimals(&paths, "economic_cost");
    let savings = decimals(&paths, "economic_savings_vs_baseline");
    let demanded = decimals(&paths, "credits_demanded");
    // Economic cost is explained on every row: cash minus the two values it credits back.
    let cash = decimals(&paths, "cash");
    let unused = decimals(&paths, "unused_prepaid_value");
    let unexpired = decimals(&paths, "unexpired_fee_value");
    for r in 0..economic.len() {
        assert_eq!(economic[r], cash[r] - unused[r] - unexpired[r], "row {r}");
    }
    let strategies = summary["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), STRATEGIES);
    for (s, stats) in strategies.iter().enumerate() {
        let name = stats["name"].as_str().unwrap();
        let rows: Vec<usize> = (0..names.len()).filter(|r| names[*r] == name).collect();
        assert_eq!(rows.len(), PATHS, "{name}: one row per path");
        let values: Vec<Decimal> = rows.iter().map(|r| economic[*r]).collect();
        // Mean: exact sum over the paths / n, rounded half-up to 4 places as the summary is.
        let sum: Decimal = values.iter().sum();
        let mean = (sum / Decimal::from(PATHS))
            .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        let reported = &stats["economic_cost"];
        assert_eq!(mean, json_decimal(&reported["mean"]), "{name}: mean");
        for (q, key) in [(5, "p5"), (50, "p50"), (95, "p95"), (99, "p99")] {
            assert_eq!(
                nearest_rank(values.clone(), q),
                json_decimal(&reported[key]),
                "{name}: {key}"
            );
        }
        // Savings are the baseline's cost minus this one's on the same path, and every
        // strategy saw the same demand on a path (common random numbers).
        for (k, r) in rows.iter().enumerate() {
            // Rows are path-major in strategy order; the baseline, flex only, is strategy 0.
            let base = r - s;
            assert_eq!(names[base], strategies[0]["name"].as_str().unwrap());
            assert_eq!(
                savings[*r],
                economic[base] - economic[*r],
                "{name} path {k}"
            );
            assert_eq!(demanded[*r], demanded[base], "{name} path {k}");
        }
    }

    let fan = read_parquet(&dir.path().join("fan.parquet"));
    assert_eq!(
        schema_of(&fan),
        vec![
            ("strategy".to_string(), DataType::String),
            ("measure".to_string(), DataType::String),
            ("month".to_string(), DataType::UInt32),
            ("as_of".to_string(), DataType::Date),
            ("p10".to_string(), decimal.clone()),
            ("p50".to_string(), decimal.clone()),
            ("p90".to_string(), decimal),
        ]
    );
    assert_eq!(fan.height(), STRATEGIES * 2 * MONTHS);
    // The horizon is 2026-04-01 + 12 months: month k ends on the first of month k + 1, and
    // the last month's cumulative cost is the path's total.
    let as_of: Vec<i32> = fan
        .column("as_of")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .clone()
        .into_no_null_iter()
        .collect();
    let days = |y, m| {
        (chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap()
            - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days() as i32
    };
    assert_eq!(as_of[0], days(2026, 5));
    assert_eq!(as_of[MONTHS - 1], days(2027, 4));
    let fan_names = strings(&fan, "strategy");
    let measures = strings(&fan, "measure");
    let p10 = decimals(&fan, "p10");
    let p90 = decimals(&fan, "p90");
    for stats in strategies {
        let name = stats["name"].as_str().unwrap();
        let last = (0..fan.height())
            .rev()
            .find(|r| fan_names[*r] == name && measures[*r] == "economic_cost")
            .expect("the strategy's economic fan");
        let values: Vec<Decimal> = (0..names.len())
            .filter(|r| names[*r] == name)
            .map(|r| economic[r])
            .collect();
        assert_eq!(p10[last], nearest_rank(values.clone(), 10), "{name}: P10");
        assert_eq!(p90[last], nearest_rank(values, 90), "{name}: P90");
    }

    for chart in ["cost-distribution", "cost-fan"] {
        let png = std::fs::read(dir.path().join(format!("{chart}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{chart}.png is a PNG");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width, 1100, "{chart}.png width");
        let svg = std::fs::read_to_string(dir.path().join(format!("{chart}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{chart}.svg is SVG");
        for stats in strategies {
            let name = stats["name"].as_str().unwrap();
            assert!(svg.contains(name), "{chart}.svg names {name}");
        }
    }
    let fan_svg = std::fs::read_to_string(dir.path().join("cost-fan.svg")).unwrap();
    assert!(fan_svg.contains("cumulative economic cost (USD)"));
    let dist_svg = std::fs::read_to_string(dir.path().join("cost-distribution.svg")).unwrap();
    assert!(dist_svg.contains("% of paths"));
}

#[test]
fn a_run_whose_month_end_costs_cannot_go_to_a_temporary_file_stops_before_any_output() {
    // 50,000 paths x 4 strategies x 2 measures x 12 month ends x 8 bytes = 38,400,000 bytes,
    // past the 33,554,432 (32 MiB) kept in memory: the run keeps them in a temporary file,
    // and TMPDIR names a folder that does not exist.
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let (missing, out) = (scratch.path().join("missing"), scratch.path().join("out"));
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench/reference.toml");
    let run = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(["simulate", "--paths", "50000"])
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .env("TMPDIR", &missing)
        .output()
        .expect("creditsim runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let expected = format!(
        "keeping the paths' month-end costs in a temporary file in {} (TMPDIR)",
        missing.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(run.stdout.is_empty() && !out.exists(), "no partial output");
}

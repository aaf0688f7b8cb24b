//! Runs that would pass an amount limit stop with a clear error and exit 2, never with a
//! wrapped-around amount or a panic (issue 12). Loading rejects what it can bound (the
//! golden `tests/errors/limit-*` cases); these reach the ledger's own checks, the second line.

use std::path::Path;
use std::process::{Command, Output};

fn creditsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

/// A top-up rule whose purchases pass the credit limit, which loading cannot know: it depends
/// on the usage the rule answers.
///
/// Bundle "big": 10^11 credits at 0.001 = 10^8.00. Top-up below 9 x 10^11.
/// - 01-01: balance 0 -> 9 bundles (9 x 10^11 credits bought).
/// - 01-10: 5 x 10^11 demanded: 5 included, the rest prepaid; balance 4.00000000005 x 10^11,
///   short 4.99999999995 x 10^11 -> 5 more bundles: 1.4 x 10^12 credits bought in all, past
///   the limit of 10^12.
///
/// What loading bounds stays inside: fees 2 x 10.00 (+ one), flex at most 5 x 10^11 x 1.00.
const TOP_UP_PAST_THE_LIMIT: &str = r#"
[scenario]
name = "top-up past the limit"

[pricing.book]
name = "big bundles"
currency = "USD"

[[pricing.plans]]
id = "basic"
cycle = "monthly"
fee = "10.00"
included_credits = 5

[[pricing.cohorts]]
id = "all"
prepaid_base_price = "0.001"
flex_price = "1.00"
bundles = [{ id = "big", credits = 100000000000, discount_percent = 0 }]

[[pricing.rates]]
metric = "credits"
credits = 1

[workspace]
created = 2026-01-01
plan = "basic"

[horizon]
start = 2026-01-01
months = 2

[usage]
events = [{ at = 2026-01-10, metric = "credits", quantity = 500000000000 }]

[[strategy]]
name = "flex only"

[[strategy]]
name = "top up big"
top_up = { below = 900000000000, buy = { bundle = "big" } }
"#;

#[test]
fn a_top_up_past_the_credit_limit_stops_the_run_with_exit_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), TOP_UP_PAST_THE_LIMIT).unwrap();
    let validated = creditsim(&["validate", "s.toml"], dir.path());
    assert!(validated.status.success(), "loading cannot bound a top-up");

    let out = creditsim(&["replay", "s.toml"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no partial report");
    assert_eq!(
        stderr.trim_end(),
        "error: s.toml: strategy \"top up big\" at 2026-01-10: prepaid credits bought over \
         the horizon would pass the limit of 1,000,000,000,000 credits"
    );

    let checked = creditsim(&["check", "s.toml"], dir.path());
    assert_eq!(
        checked.status.code(),
        Some(2),
        "check counts the file invalid"
    );
    assert!(String::from_utf8_lossy(&checked.stderr).contains("would pass the limit"));
}

/// Cash of exactly the money limit, 10^12: one monthly fee of 1,000,000,000,000.00 and no usage
/// (one cycle in a one-month horizon). Parquet amounts were decimal(18, 6), which holds less
/// than 10^12, and the writer panicked; decimal(19, 6) holds every amount the ledger can
/// reach, and this one reads back exact.
const CASH_AT_THE_LIMIT: &str = r#"
[scenario]
name = "cash at the limit"

[pricing.book]
name = "dear"
currency = "USD"

[[pricing.plans]]
id = "dear"
cycle = "monthly"
fee = "1000000000000"
included_credits = 0

[[pricing.cohorts]]
id = "all"
prepaid_base_price = "1.00"
flex_price = "1.00"

[[pricing.rates]]
metric = "credits"
credits = 1

[workspace]
created = 2026-04-01
plan = "dear"

[horizon]
start = 2026-04-01
months = 1

[simulation]
paths = 3
seed = 1

[[simulation.model]]
metric = "credits"
daily = 0
distribution = "fixed"

[[strategy]]
name = "flex only"
flex = false
"#;

#[test]
fn parquet_holds_an_amount_at_the_money_limit_exactly() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), CASH_AT_THE_LIMIT).unwrap();
    let out = creditsim(&["simulate", "s.toml", "--out", "out"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = std::fs::File::open(dir.path().join("out/paths.parquet")).unwrap();
    let frame = ParquetReader::new(file).finish().unwrap();
    let cash = frame.column("cash").unwrap();
    assert_eq!(cash.dtype(), &DataType::Decimal(19, 6));
    let micros: Vec<i128> = cash
        .decimal()
        .unwrap()
        .physical()
        .into_no_null_iter()
        .collect();
    assert_eq!(
        micros,
        vec![1_000_000_000_000 * 1_000_000; 3],
        "10^12.000000 on every path"
    );
}

#[test]
fn a_replay_that_stops_at_a_limit_writes_no_charges_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), TOP_UP_PAST_THE_LIMIT).unwrap();
    let out = creditsim(&["replay", "s.toml", "--charges", "c.csv"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        vec![std::ffi::OsString::from("s.toml")],
        "no file, no temporary left"
    );
}

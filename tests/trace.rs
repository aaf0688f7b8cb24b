//! Imported traces: the same usage replays to the same numbers whether it is written inline,
//! in a CSV or Parquet trace, in any row order, column names or time zone; a generated trace
//! is the Monte Carlo path it came from; a portfolio matches a hand calculation.

use creditsim::input::check::run;
use creditsim::input::scenario::{load, load_portfolio, load_with, Scenario, TraceOverrides};
use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn with_trace(file: &Path) -> TraceOverrides {
    TraceOverrides {
        file: Some(file.to_path_buf()),
        ..TraceOverrides::default()
    }
}

/// Every scenario with inline usage events, its events as (at, metric, quantity) text.
fn inline_scenarios() -> Vec<(PathBuf, Vec<[String; 3]>)> {
    let files = creditsim::input::files::expand(&[root().join("scenarios")]).unwrap();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let value: toml::Table = toml::from_str(&text).unwrap();
        let Some(events) = value
            .get("usage")
            .and_then(|u| u.get("events"))
            .and_then(|e| e.as_array())
        else {
            continue;
        };
        if value["usage"].get("file").is_some() || events.is_empty() {
            continue;
        }
        let text_of = |v: &toml::Value| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let rows = events
            .iter()
            .map(|e| {
                [
                    text_of(&e["at"]),
                    text_of(&e["metric"]),
                    text_of(&e["quantity"]),
                ]
            })
            .collect();
        out.push((f, rows));
    }
    out
}

#[test]
fn a_trace_replays_to_the_numbers_of_the_same_usage_inline() {
    let dir = tempfile::tempdir().unwrap();
    let cases = inline_scenarios();
    assert!(
        cases.len() >= 10,
        "the regression scenarios have inline usage"
    );
    for (path, rows) in cases {
        let inline = load(&path).unwrap();
        let want = run(&inline);

        // 1. The events as written, as a CSV trace.
        let plain = dir.path().join("plain.csv");
        let mut text = String::from("timestamp,metric,quantity\n");
        for [at, metric, quantity] in &rows {
            text.push_str(&format!("{at},{metric},{quantity}\n"));
        }
        std::fs::write(&plain, text).unwrap();
        let traced = load_with(&path, &with_trace(&plain)).unwrap();
        assert_eq!(traced.usage, inline.usage, "{}: usage", path.display());
        assert_eq!(run(&traced), want, "{}: csv trace", path.display());

        // 2. Renamed and reordered columns, semicolons, rows from the last instant to the
        // first (rows of one instant keep their order), and local times in Tokyo (UTC+9).
        let shuffled = dir.path().join("shuffled.csv");
        let mut instants: Vec<Vec<&[String; 3]>> = Vec::new();
        for r in &rows {
            match instants.last_mut() {
                Some(group) if group[0][0] == r[0] => group.push(r),
                _ => instants.push(vec![r]),
            }
        }
        let mut text = String::from("qty;event_time;sku\n");
        for group in instants.iter().rev() {
            for [at, metric, quantity] in group.iter().copied() {
                let utc = creditsim::usage::trace::parse::timestamp(
                    at,
                    &creditsim::usage::trace::parse::TimestampFormat::Iso,
                    creditsim::usage::trace::parse::Zone::Utc,
                )
                .unwrap();
                let tokyo = utc + chrono::Duration::hours(9);
                text.push_str(&format!(
                    "{quantity};{};{metric}\n",
                    tokyo.format("%Y-%m-%d %H:%M:%S%.f")
                ));
            }
        }
        std::fs::write(&shuffled, text).unwrap();
        let overrides = TraceOverrides {
            timestamp: Some("event_time".into()),
            metric: Some("sku".into()),
            quantity: Some("qty".into()),
            timezone: Some("Asia/Tokyo".into()),
            delimiter: Some(';'),
            ..with_trace(&shuffled)
        };
        let traced = load_with(&path, &overrides).unwrap();
        assert_eq!(run(&traced), want, "{}: shuffled trace", path.display());
    }
}

#[test]
fn a_parquet_trace_with_typed_columns_replays_like_the_csv() {
    // The example's usage CSV, written by polars as Parquet with a UTC datetime column and
    // an integer quantity, independently of creditsim's own writer.
    let path = root().join("scenarios/examples/inference-quarter.toml");
    let csv = root().join("scenarios/examples/inference-quarter.csv");
    let want = run(&load(&path).unwrap());
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv))
        .unwrap()
        .finish()
        .unwrap();
    let micros: Vec<i64> = frame
        .column("timestamp")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t.unwrap())
                .unwrap()
                .timestamp_micros()
        })
        .collect();
    frame
        .with_column(
            Int64Chunked::from_vec("timestamp".into(), micros)
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_column(),
        )
        .unwrap();
    assert!(frame.column("quantity").unwrap().dtype().is_integer());
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("usage.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut frame)
        .unwrap();
    let traced = load_with(&path, &with_trace(&parquet)).unwrap();
    assert_eq!(run(&traced), want);
}

#[test]
fn a_generated_trace_at_day_resolution_is_the_monte_carlo_path_it_came_from() {
    // Workspace k of `trace generate` is path k: with the example's exact rate (2 millionths
    // of a credit per millisecond), converting each row and summing per day gives the
    // credits the runner draws for that day.
    let scenario_path = root().join("scenarios/examples/steady-inference.toml");
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("five.parquet");
    let status = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(["trace", "generate"])
        .arg(&scenario_path)
        .arg("--out")
        .arg(&trace)
        .args(["--workspaces", "5", "--rows-per-day", "6"])
        .status()
        .unwrap();
    assert!(status.success());
    let overrides = TraceOverrides {
        resolution: Some("day".into()),
        ..with_trace(&trace)
    };
    let portfolio = load_portfolio(&scenario_path, &overrides, None).unwrap();
    let s: &Scenario = &portfolio.scenario;
    let spec = s.simulation.as_ref().unwrap();
    assert_eq!(portfolio.members.len(), 5);
    for (k, member) in portfolio.members.iter().enumerate() {
        assert_eq!(member.id, format!("ws-00{}", k + 1));
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        rng.set_stream(k as u64);
        let mut drawn = Vec::new();
        let days = (s.case.horizon.end - s.case.workspace.anchor).num_days() as u32;
        spec.model.draw(
            &mut rng,
            s.case.workspace.anchor,
            days,
            s.case.book.rounding,
            &mut Default::default(),
            &mut drawn,
        );
        assert_eq!(member.usage.expand(), drawn, "workspace {k}");
    }
    // The split into rows is a real split: more rows than days.
    assert!(portfolio.import.rows > 5 * 365 * 2);
}

/// A bad accounts cell is named by row and column with its limit, and echoed cut to 80
/// characters (diag::SHOWN_VALUE_CHARS_MAX), not whole: a 500-digit seat count and a seat
/// count of -3 (outside 1-1,000,000), both in data row 1 (rows count from the first after the
/// header, as in traces).
#[test]
fn a_bad_accounts_cell_names_row_column_and_limit_and_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = dir.path().join("accounts.csv");
    let long = "9".repeat(500);
    for (cell, expected) in [
        (long.as_str(), format!("\"{}...", "9".repeat(80))),
        ("-3", "\"-3\" is not a seat count 1-1,000,000".to_string()),
    ] {
        let csv = format!("workspace,created,plan,seats\nws-old,2026-01-10,core-monthly,{cell}\n");
        std::fs::write(&accounts, csv).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
            .arg("portfolio")
            .arg(root().join("tests/data/portfolio.toml"))
            .arg("--accounts")
            .arg(&accounts)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(stderr.contains("row 1, column \"seats\""), "{stderr}");
        assert!(stderr.contains(&expected), "{stderr}");
        assert!(!stderr.contains(&"9".repeat(81)), "{stderr}");
    }
}

#[test]
fn portfolio_with_accounts_matches_a_hand_calculation() {
    let scenario = root().join("tests/data/portfolio.toml");
    let accounts = root().join("tests/data/portfolio-accounts.csv");
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("portfolio");
    let table = out_dir.join("workspaces.parquet");
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .arg("portfolio")
        .arg(&scenario)
        .arg("--accounts")
        .arg(&accounts)
        .arg("--out")
        .arg(&out_dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frame = ParquetReader::new(std::fs::File::open(&table).unwrap())
        .finish()
        .unwrap();
    assert_eq!(frame.height(), 4, "2 workspaces x 2 strategies");
    let text = |c: &str, i: usize| {
        frame
            .column(c)
            .unwrap()
            .str()
            .unwrap()
            .get(i)
            .unwrap()
            .to_string()
    };
    let amount = |c: &str, i: usize| -> String {
        let col = frame.column(c).unwrap();
        let v = col.decimal().unwrap().physical().get(i).unwrap();
        rust_decimal::Decimal::from_i128_with_scale(v, 6)
            .normalize()
            .to_string()
    };
    // Rows: workspaces in the accounts table's order, strategies in the scenario's.
    let rows: Vec<(String, String)> = (0..4)
        .map(|i| (text("workspace", i), text("strategy", i)))
        .collect();
    assert_eq!(
        rows,
        [
            ("ws-old", "flex only"),
            ("ws-old", "b25 at start"),
            ("ws-new", "flex only"),
            ("ws-new", "b25 at start")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // ws-old: created 2026-01-10, so cohort before-2026-03-28 (flex 4.00, b25 = 25 x 4.00 =
    // 100.00, no discount); subscribed from the horizon's start 2026-04-01; 3 monthly fees of
    // 99.00 = 297.00. 40 credits on 2026-04-10 (two rows): 30 included + 10 more.
    //   flex only:    297 + 10 x 4.00 = 337.00.
    //   b25 at start: 297 + 100.00 = 397.00 cash; 15 prepaid unused at 4.00 = 60.00;
    //                 economic 337.00, a tie, so the first listed (flex only) is cheapest.
    //   Its last cycle [06-01, 07-01) ends with the horizon: no unexpired fee.
    // ws-new: created 2026-05-15 (cohort from-2026-03-28: flex 6.00, b25 = 25 x 5.00 x 0.91 =
    // 113.75), Growth monthly (299.00, 100 included), subscribed 2026-05-15: fees on 05-15
    // and 06-15 = 598.00. 120 credits on 2026-05-20: 100 included + 20 more.
    // The cycle [06-15, 07-15) = 30 days = 2,592,000 s runs at the horizon's end 07-01, with
    // 14 days = 1,209,600 s left: unexpired fee 299.00 x 1,209,600 / 2,592,000 = 139.533..
    // -> 139.53 for both strategies.
    //   flex only:    598 + 20 x 6.00 = 718.00; economic 718.00 - 139.53 = 578.47.
    //   b25 at start: 598 + 113.75 = 711.75 cash; 5 unused at cost 113.75 / 25 = 4.55 is
    //                 22.75; economic 711.75 - 22.75 - 139.53 = 549.47: cheapest.
    let want = [
        (
            "before-2026-03-28",
            ["337", "337", "0", "0"],
            "true",
            "flex only",
        ),
        (
            "before-2026-03-28",
            ["397", "337", "60", "0"],
            "false",
            "flex only",
        ),
        (
            "from-2026-03-28",
            ["718", "578.47", "0", "139.53"],
            "false",
            "b25 at start",
        ),
        (
            "from-2026-03-28",
            ["711.75", "549.47", "22.75", "139.53"],
            "true",
            "b25 at start",
        ),
    ];
    let money = [
        "cash",
        "economic_cost",
        "unused_prepaid_value",
        "unexpired_fee_value",
    ];
    for (i, (cohort, amounts, cheapest, cheapest_name)) in want.iter().enumerate() {
        assert_eq!(text("cohort", i), *cohort, "row {i}");
        for (column, value) in money.iter().zip(amounts) {
            assert_eq!(amount(column, i), *value, "row {i} {column}");
        }
        let is = frame
            .column("is_cheapest")
            .unwrap()
            .bool()
            .unwrap()
            .get(i)
            .unwrap();
        assert_eq!(is.to_string(), *cheapest, "row {i}");
        assert_eq!(text("cheapest_strategy", i), *cheapest_name, "row {i}");
    }
    assert_eq!(text("start_plan", 2), "growth-monthly");
    let seats = frame.column("seats").unwrap().u32().unwrap();
    assert_eq!((seats.get(0), seats.get(2)), (Some(1), Some(2)));
    // The summary: flex only 337 + 718 = 1055 cash and 337 + 578.47 = 915.47 economic; b25
    // 397 + 711.75 = 1108.75 cash and 337 + 549.47 = 886.47 economic; each on its cheapest
    // (ws-old flex only, ws-new b25): 337 + 549.47 = 886.47.
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["strategies"][0]["cash"], "1055.00");
    assert_eq!(summary["strategies"][0]["economic_cost"], "915.47");
    assert_eq!(summary["strategies"][1]["cash"], "1108.75");
    assert_eq!(summary["strategies"][1]["economic_cost"], "886.47");
    assert_eq!(summary["strategies"][0]["cheapest_in"], 1);
    assert_eq!(summary["each_on_cheapest"]["economic_cost"], "886.47");
}

#[test]
fn portfolio_errors_name_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = root().join("tests/data/portfolio.toml");
    let run = |accounts: &str, trace: &str| {
        let a = dir.path().join("accounts.csv");
        let t = dir.path().join("trace.csv");
        std::fs::write(&a, accounts).unwrap();
        std::fs::write(&t, trace).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
            .arg("portfolio")
            .arg(&scenario)
            .arg("--accounts")
            .arg(&a)
            .arg("--trace")
            .arg(&t)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty(), "no partial output");
        String::from_utf8(out.stderr).unwrap()
    };
    let trace = "timestamp,workspace,metric,quantity\n2026-04-10,a,credits,1\n";
    let e = run("workspace,created\na,2026-01-10\na,2026-02-10\n", trace);
    assert!(e.contains("accounts.csv: row 2, column \"workspace\": workspace \"a\" is listed twice (first at row 1)"), "{e}");
    let e = run("workspace,created,plan\na,2026-01-10,platinum\n", trace);
    assert!(
        e.contains("row 1, column \"plan\": unknown plan \"platinum\""),
        "{e}"
    );
    let e = run(
        "workspace,created\na,2026-01-10\n",
        "timestamp,workspace,metric,quantity\n2026-04-10,a,credits,1\n2026-04-11,b,credits,1\n",
    );
    assert!(e.contains("trace.csv: row 2, column \"workspace\": unknown workspace \"b\" (not in the accounts table)"), "{e}");
    // A row before its workspace was created.
    let e = run("workspace,created\na,2026-05-01\n", trace);
    assert!(e.contains("trace.csv: row 1, column \"timestamp\": usage at 2026-04-10 is before the workspace was created (2026-05-01)"), "{e}");
}

#[test]
fn skip_invalid_reports_how_many_and_which() {
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args([
            "replay",
            "tests/errors/trace-bad-rows.toml",
            "--skip-invalid",
            "--format",
            "json",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    // 9 data rows: 1 and 9 are valid, 2-8 each have one problem (see the case's stderr).
    assert!(
        stderr.contains("9 rows read, 2 used, 7 skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "skipped 7 invalid rows (3 in timestamp, 1 in metric, 2 in quantity, 1 in fields)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("row 9") || stderr.contains("1 row(s) earlier"),
        "{stderr}"
    );
    for row in 2..=8 {
        assert!(
            stderr.contains(&format!("row {row}, column")),
            "row {row}: {stderr}"
        );
    }
    // The two valid rows: 1 + 7 credits.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let demanded = &report["strategies"][0]["totals"]["credits.demanded"];
    assert_eq!(
        report["strategies"][0]["statements"][0]["credits.demanded"],
        "8"
    );
    assert_eq!(demanded, "8", "{report}");
}

#[test]
fn a_folder_of_traces_is_one_workspace_per_file() {
    // The hand-calculated portfolio again, its trace split into one file per workspace
    // (named like the workspace, no workspace column): the same summary.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ws-old.csv"),
        "timestamp,metric,quantity\n2026-04-10T08:00:00Z,credits,25\n2026-04-10T08:00:00Z,credits,15\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ws-new.csv"),
        "timestamp,metric,quantity\n2026-05-20T09:00:00Z,credits,120\n",
    )
    .unwrap();
    let summary = |trace: Option<&Path>| -> serde_json::Value {
        let mut c = Command::new(env!("CARGO_BIN_EXE_creditsim"));
        c.arg("portfolio")
            .arg(root().join("tests/data/portfolio.toml"))
            .arg("--accounts")
            .arg(root().join("tests/data/portfolio-accounts.csv"))
            .args(["--format", "json"]);
        if let Some(t) = trace {
            c.arg("--trace").arg(t);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["trace"] = serde_json::Value::Null; // file name and row counts differ
        v["provenance"] = serde_json::Value::Null; // so do the command lines
        v
    };
    assert_eq!(summary(Some(dir.path())), summary(None));
}

#[test]
fn replay_of_one_workspace_takes_its_setup_from_the_accounts_table() {
    // ws-new of tests/data (hand calculation in portfolio_with_accounts_matches_a_hand_
    // calculation): created 2026-05-15, so cohort from-2026-03-28 and Growth monthly from
    // the accounts table; flex only 598 + 20 x 6.00 = 718.00; b25 at start 598 + 113.75 =
    // 711.75 cash, 711.75 - 22.75 unused prepaid - 139.53 unexpired fee = 549.47 economic.
    // Without --accounts it would be set up like the scenario's [workspace] instead.
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .arg("replay")
        .arg(root().join("tests/data/portfolio.toml"))
        .args(["--workspace", "ws-new", "--accounts"])
        .arg(root().join("tests/data/portfolio-accounts.csv"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["cohort"], "from-2026-03-28");
    let totals = |k: usize| &json["strategies"][k]["totals"];
    assert_eq!(totals(0)["cash"], "718.00");
    assert_eq!(totals(1)["cash"], "711.75");
    assert_eq!(totals(1)["unexpired_fee_value"], "139.53");
    assert_eq!(totals(1)["economic_cost"], "549.47");
    assert_eq!(totals(0)["final_plan"], "growth-monthly");
}

/// `creditsim replay` of the error cases' trace scenario (the credits book, 1 credit per
/// unit of `credits`, a workspace created 2026-04-01, three months) over `trace`: the exit
/// code and stderr.
fn replay_trace(trace: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args([
            "replay",
            "tests/errors/trace-bad-rows.toml",
            "--format",
            "json",
        ])
        .arg("--trace")
        .arg(trace)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn crlf_line_ends_keep_row_numbers() {
    // Windows exports end every line, the header's too, with CRLF. Data row 1 is the line
    // after the header, so the bad quantity on the third data line is row 3, and the file
    // has 3 rows (no empty row between the header and the data).
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("trace.csv");
    std::fs::write(
        &bad,
        "timestamp,metric,quantity\r\n2026-04-02T10:00:00Z,credits,1\r\n2026-04-03T10:00:00Z,credits,2\r\n2026-04-04T10:00:00Z,credits,x\r\n",
    )
    .unwrap();
    let (code, stderr) = replay_trace(&bad);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("trace.csv: row 3, column \"quantity\": \"x\" is not a decimal number"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("row 1,") && !stderr.contains("row 4,"),
        "{stderr}"
    );
    // The same file with a quantity there: 3 rows, all used (1 + 2 + 4 credits).
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "timestamp,metric,quantity\r\n2026-04-02T10:00:00Z,credits,1\r\n2026-04-03T10:00:00Z,credits,2\r\n2026-04-04T10:00:00Z,credits,4\r\n",
    )
    .unwrap();
    let (code, stderr) = replay_trace(&good);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("3 rows read, 3 used, 0 skipped"),
        "{stderr}"
    );
}

#[test]
fn a_cell_that_is_not_utf8_is_named_by_row_and_column() {
    // Row 7's metric has a Latin-1 byte (0xE9, "é"); row 3's note, a column the import does
    // not read, has one too and is used like any row (its 3 credits count).
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    let mut bytes = b"timestamp,metric,quantity,note\n".to_vec();
    for row in 1..=9 {
        let metric: &[u8] = if row == 7 { b"cr\xe9dits" } else { b"credits" };
        let note: &[u8] = if row == 3 { b"caf\xe9" } else { b"ok" };
        bytes.extend_from_slice(format!("2026-04-{:02}T10:00:00Z,", row + 1).as_bytes());
        bytes.extend_from_slice(metric);
        bytes.extend_from_slice(format!(",{row},").as_bytes());
        bytes.extend_from_slice(note);
        bytes.push(b'\n');
    }
    std::fs::write(&trace, &bytes).unwrap();
    let (code, stderr) = replay_trace(&trace);
    assert_eq!(code, Some(2), "{stderr}");
    let first = stderr.lines().next().unwrap();
    assert!(
        first.ends_with("trace.csv: row 7, column \"metric\": not valid UTF-8: \"cr\\xe9dits\""),
        "{stderr}"
    );
    assert_eq!(stderr.matches("row ").count(), 1, "only row 7: {stderr}");
    // Skipped, it leaves 1 + 2 + ... + 9 - 7 = 38 credits from the other eight rows.
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args([
            "replay",
            "tests/errors/trace-bad-rows.toml",
            "--format",
            "json",
        ])
        .arg("--trace")
        .arg(&trace)
        .arg("--skip-invalid")
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("9 rows read, 8 used, 1 skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped 1 invalid rows (1 in metric)"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["strategies"][0]["totals"]["credits.demanded"], "38",
        "{report}"
    );
}

/// Writes `frame` as Parquet at `path`, declaring the columns named in `declared` with
/// another Arrow type: what pyarrow writes for an int8 or uint16 column (Parquet stores
/// them as 32-bit integers, the Arrow schema in the file says which), from a column polars
/// itself can hold (it is built without 8- and 16-bit integers).
fn write_parquet(frame: &mut DataFrame, path: &Path, declared: &[(&str, ArrowDataType)]) {
    let mut arrow = frame.schema().to_arrow(CompatLevel::oldest());
    for (name, dtype) in declared {
        arrow.get_mut(name).unwrap().dtype = dtype.clone();
    }
    let key = polars_parquet::write::schema_to_metadata_key(&arrow);
    let metadata = KeyValueMetadata::from_static(vec![(key.key, key.value.unwrap())]);
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .with_key_value_metadata(Some(metadata))
        .finish(frame)
        .unwrap();
}

/// The rows every Parquet type test writes: (timestamp, metric, quantity). On the credits
/// book: 1 + 60/30 + 100 + 90/30 = 106 credits.
const TYPED_ROWS: [(&str, &str, i32); 4] = [
    ("2026-04-02T10:00:00Z", "credits", 1),
    ("2026-04-03T10:00:00Z", "gpu_training_minutes", 60),
    ("2026-04-04T10:00:00Z", "credits", 100),
    ("2026-04-05T10:00:00Z", "gpu_training_minutes", 90),
];

fn typed_frame(metric: Series, quantity: Series) -> DataFrame {
    let timestamps: Vec<&str> = TYPED_ROWS.iter().map(|r| r.0).collect();
    DataFrame::new_infer_height(vec![
        Series::new("timestamp".into(), timestamps).into_column(),
        metric.into_column(),
        quantity.into_column(),
    ])
    .unwrap()
}

#[test]
fn parquet_integer_and_dictionary_columns_read_like_the_csv() {
    let scenario = root().join("tests/errors/trace-bad-rows.toml");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("trace.csv");
    let mut text = String::from("timestamp,metric,quantity\n");
    for (t, m, q) in TYPED_ROWS {
        text.push_str(&format!("{t},{m},{q}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let want = load_with(&scenario, &with_trace(&csv)).unwrap();
    let want_run = run(&want).unwrap();
    assert_eq!(want_run[0].totals.credits.demanded.to_string(), "106");

    let metrics: Vec<&str> = TYPED_ROWS.iter().map(|r| r.1).collect();
    let quantities: Vec<i32> = TYPED_ROWS.iter().map(|r| r.2).collect();
    let metric = Series::new("metric".into(), metrics);
    let int32 = Series::new("quantity".into(), quantities.clone());
    // A pandas categorical (Arrow dictionary of strings) for the metric and the quantity.
    let categorical = DataType::from_categories(Categories::global());
    let text_quantities: Vec<String> = quantities.iter().map(i32::to_string).collect();
    // (name, frame, columns declared with another Arrow type)
    type Case<'a> = (&'a str, DataFrame, Vec<(&'a str, ArrowDataType)>);
    let cases: Vec<Case> = vec![
        (
            "int8",
            typed_frame(metric.clone(), int32.clone()),
            vec![("quantity", ArrowDataType::Int8)],
        ),
        (
            "int16",
            typed_frame(metric.clone(), int32.clone()),
            vec![("quantity", ArrowDataType::Int16)],
        ),
        (
            "uint8",
            typed_frame(metric.clone(), int32.clone()),
            vec![("quantity", ArrowDataType::UInt8)],
        ),
        (
            "uint16",
            typed_frame(metric.clone(), int32.clone()),
            vec![("quantity", ArrowDataType::UInt16)],
        ),
        (
            "uint32",
            typed_frame(metric.clone(), int32.cast(&DataType::UInt32).unwrap()),
            vec![],
        ),
        (
            "uint64",
            typed_frame(metric.clone(), int32.cast(&DataType::UInt64).unwrap()),
            vec![],
        ),
        (
            "dictionary",
            typed_frame(
                metric.cast(&categorical).unwrap(),
                Series::new("quantity".into(), text_quantities)
                    .cast(&categorical)
                    .unwrap(),
            ),
            vec![],
        ),
    ];
    for (name, mut frame, declared) in cases {
        let parquet = dir.path().join(format!("{name}.parquet"));
        write_parquet(&mut frame, &parquet, &declared);
        let got =
            load_with(&scenario, &with_trace(&parquet)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.usage, want.usage, "{name}");
        assert_eq!(run(&got).unwrap(), want_run, "{name}");
    }
}

#[test]
fn parquet_types_that_cannot_be_read_are_named_with_those_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let metrics: Vec<&str> = TYPED_ROWS.iter().map(|r| r.1).collect();
    let metric = Series::new("metric".into(), metrics);
    let quantity = Series::new("quantity".into(), [1i64, 2, 3, 4]);
    let quantities = "int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, decimal, string, dictionary of string";
    let cases = [
        (
            typed_frame(metric.clone(), Series::new("quantity".into(), [true, false, true, true])),
            format!("trace.parquet: column \"quantity\" has type boolean; accepted: {quantities}"),
        ),
        (
            typed_frame(Series::new("metric".into(), [1i64, 2, 3, 4]), quantity.clone()),
            "trace.parquet: column \"metric\" has type int64; accepted: string, dictionary of string".to_string(),
        ),
        (
            DataFrame::new_infer_height(vec![
                Series::new("timestamp".into(), [1.5f64, 2.5, 3.5, 4.5]).into_column(),
                metric.clone().into_column(),
                quantity.clone().into_column(),
            ])
            .unwrap(),
            "trace.parquet: column \"timestamp\" has type float64; accepted: string, dictionary of string, timestamp, date".to_string(),
        ),
    ];
    for (mut frame, want) in cases {
        let parquet = dir.path().join("trace.parquet");
        write_parquet(&mut frame, &parquet, &[]);
        let (code, stderr) = replay_trace(&parquet);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.trim_end().ends_with(&want), "{stderr}");
    }
    // A uint64 quantity past i64 is read as its own number, refused by the credits it
    // converts to (1 credit per credit); the rows before it are not the problem.
    let mut frame = typed_frame(
        Series::new("metric".into(), ["credits"; 4]),
        Series::new("quantity".into(), [1u64, 2, u64::MAX, 4]),
    );
    let parquet = dir.path().join("trace.parquet");
    write_parquet(&mut frame, &parquet, &[]);
    let (code, stderr) = replay_trace(&parquet);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("trace.parquet: row 3, column \"quantity\": quantity 18446744073709551615 converts to more than 1000000000000 credits, the limit per usage event"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("row ").count(), 1, "{stderr}");
}

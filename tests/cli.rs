//! The `creditsim` binary as CI and people use it: exit codes, the mismatch diff, JUnit,
//! `--update`, and the replay formats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn creditsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A two-month scenario whose numbers are easy to check by hand:
/// plan fee 10.00 with 5 included credits a month; flex at 2.00 per credit.
/// Month 1 uses 8 credits: 5 included + 3 flex = 6.00. Month 2 uses 4: all included.
/// cash = 2 x 10.00 + 6.00 = 26.00.
const SCENARIO: &str = r#"
[scenario]
name = "tiny"

[pricing.book]
name = "tiny book"
currency = "USD"

[[pricing.plans]]
id = "basic"
cycle = "monthly"
fee = "10.00"
included_credits = 5

[[pricing.cohorts]]
id = "all"
prepaid_base_price = "2.00"
flex_price = "2.00"

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
events = [
  { at = 2026-01-10, metric = "credits", quantity = 8 },
  { at = 2026-02-10, metric = "credits", quantity = 4 },
]

[[expect]]
cash = "26.00"          # 2 x 10.00 fees + 3 flex credits x 2.00
money.flex = "6.00"     # (8 - 5) x 2.00

[[expect]]
statement = 2
credits.included = 4    # month 2: 4 of 5 included
"#;

fn write_scenario(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn check_passes_and_prints_the_summary_line() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), SCENARIO);
    let out = creditsim(&["check", "tiny.toml"], dir.path());
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("3 passed, 0 failed"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_edited_expectation_fails_with_a_readable_diff() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(
        dir.path(),
        &SCENARIO.replace("money.flex = \"6.00\"", "money.flex = \"6.50\""),
    );
    let junit = dir.path().join("junit.xml");
    let out = creditsim(
        &["check", "tiny.toml", "--junit", junit.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    // The money.flex line is line 40 of the scenario text (SCENARIO starts with a newline).
    assert!(
        stdout.contains(
            "tiny.toml:40: strategy \"as-is\", field money.flex: expected 6.50, got 6.00"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("2 passed, 1 failed"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    // One test per expected value, as on the console: 2 passed + 1 failed.
    assert!(xml.contains("tests=\"3\" failures=\"1\""), "{xml}");
    assert!(xml.contains("money.flex: expected 6.50, got 6.00"), "{xml}");
}

#[test]
fn update_rewrites_values_and_keeps_comments() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        dir.path(),
        &SCENARIO.replace("credits.included = 4 ", "credits.included = 3 "),
    );
    let out = creditsim(&["check", "tiny.toml", "--update"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    // The change is shown as a unified diff before it is written.
    assert!(
        stdout.contains("-credits.included = 3    # month 2: 4 of 5 included\n"),
        "{stdout}"
    );
    let tagged = "credits.included = 4    # STALE HAND CALCULATION (check --update: 3 -> 4): month 2: 4 of 5 included";
    assert!(stdout.contains(&format!("+{tagged}\n")), "{stdout}");
    let updated = std::fs::read_to_string(&path).unwrap();
    // The value is corrected and its comment tagged; everything else is byte-for-byte what
    // it was.
    assert_eq!(
        updated,
        SCENARIO.replace("credits.included = 4    # month 2: 4 of 5 included", tagged)
    );
    // The next check fails on the tag until the hand calculation is redone.
    let again = creditsim(&["check", "tiny.toml"], dir.path());
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stdout)
            .contains("tiny.toml:44: a hand calculation changed by check --update is tagged stale"),
        "{}",
        text(&again.stdout)
    );
    // Redone (here: the comment was right all along), the tag removed: green.
    std::fs::write(&path, SCENARIO).unwrap();
    let fixed = creditsim(&["check", "tiny.toml"], dir.path());
    assert_eq!(fixed.status.code(), Some(0));
}

#[test]
fn invalid_input_exits_2_and_names_the_place() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(
        dir.path(),
        &SCENARIO.replace("plan = \"basic\"", "plan = \"premium\""),
    );
    let out = creditsim(&["check", "tiny.toml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("tiny.toml:26:8: unknown plan \"premium\" (known: basic)"),
        "{}",
        text(&out.stderr)
    );
    // check goes on past an invalid file and counts it; nothing was compared.
    assert!(
        text(&out.stdout).contains("0 passed, 0 failed, 1 invalid file(s)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_reports_an_invalid_file_and_checks_the_others() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), SCENARIO);
    std::fs::write(
        dir.path().join("broken.toml"),
        SCENARIO.replace("plan = \"basic\"", "plan = \"premium\""),
    )
    .unwrap();
    let junit = dir.path().join("out/junit.xml");
    let out = creditsim(
        &["check", ".", "--junit", junit.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "an invalid file exits 2");
    let stdout = text(&out.stdout);
    // tiny.toml's 3 expected values pass; broken.toml is counted, not checked.
    assert!(
        stdout.contains("3 passed, 0 failed, 1 invalid file(s)"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    // The same counts: 3 tests passing + 1 error.
    assert!(
        xml.contains("tests=\"4\" failures=\"0\" errors=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("<error message=\"invalid file\">"), "{xml}");
    assert!(xml.contains("unknown plan &quot;premium&quot;"), "{xml}");
}

#[test]
fn replay_formats_carry_exact_decimal_strings() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), SCENARIO);
    let out = creditsim(&["replay", "tiny.toml", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let totals = &json["strategies"][0]["totals"];
    assert_eq!(totals["cash"], "26.00");
    assert_eq!(totals["credits.flex"], "3");
    assert_eq!(json["strategies"][0]["statements"][0]["money.flex"], "6.00");

    let out = creditsim(&["replay", "tiny.toml", "--format", "csv"], dir.path());
    let csv = text(&out.stdout);
    assert!(csv.starts_with("strategy,statement,cash,"), "{csv}");
    assert_eq!(
        csv.lines().count(),
        1 + 2 + 1,
        "header, two statements, one totals row"
    );

    let out = creditsim(&["replay", "tiny.toml", "--format", "markdown"], dir.path());
    assert!(
        text(&out.stdout).contains("| cash "),
        "{}",
        text(&out.stdout)
    );

    let out = creditsim(&["replay", "tiny.toml", "--strategy", "nope"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no strategy named \"nope\" (known: as-is)"));
}

#[test]
fn validate_reports_each_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = creditsim(&["validate", "scenarios/pricing"], root);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok: scenarios/pricing/credits-book.toml"));
}

#[test]
fn replaying_a_pricing_book_says_what_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = creditsim(&["replay", "scenarios/pricing/credits-book.toml"], root);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("this is a pricing book, not a scenario"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ranking_sets_apart_strategies_that_block_usage() {
    let dir = tempfile::tempdir().unwrap();
    let head = &SCENARIO[..SCENARIO.find("[[expect]]").unwrap()];
    // "flex": cash 26.00 (see SCENARIO). "no flex": 2 x 10.00 = 20.00, but 3 credits blocked
    // on 2026-01-10. "also flex": the same 26.00 as "flex", a tie.
    let body = format!(
        "{head}\n[[strategy]]\nname = \"flex\"\n\n[[strategy]]\nname = \"no flex\"\nflex = false\n\n[[strategy]]\nname = \"also flex\"\n"
    );
    write_scenario(dir.path(), &body);
    let out = creditsim(&["replay", "tiny.toml"], dir.path());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "Cheapest by economic cost (serving all usage): flex 26.00 USD = also flex 26.00 USD\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Not ranked: no flex (20.00 USD) blocks 3 credits of usage, first at 2026-01-10"
        ),
        "{stdout}"
    );
}

#[test]
fn bench_reports_the_floor_and_the_full_run_per_thread_count() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = creditsim(
        &[
            "bench",
            "scenarios/bench/reference.toml",
            "--paths",
            "40",
            "--threads",
            "1,2",
            "--repeat",
            "1",
        ],
        root,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("40 paths x 365 days x 3 metrics x 4 strategies"));
    let (_, fastest) = stdout
        .split_once("fastest of the rounds:")
        .expect("the table of the fastest rounds");
    let (fastest, _) = fastest
        .split_once("round by round")
        .expect("the round-by-round table follows it");
    let rows: Vec<&str> = fastest
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(rows.len(), 2, "one row per thread count:\n{stdout}");
    for (row, threads) in rows.iter().zip(["1", "2"]) {
        // threads, samplers, lean floor, draw, full run (s), paths/s, draw / samplers,
        // draw / floor, full / draw.
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), 9, "{row}");
        assert_eq!(cells[0], threads);
        for ratio in &cells[6..] {
            let ratio: f64 = ratio.parse().expect("a ratio is a number");
            assert!(ratio > 0.0, "{row}");
        }
    }
    assert!(stdout.contains("speed-up from 1 to 2 threads"));
    // The same ratios within each round: median (least-most) per thread count.
    let (_, by_round) = stdout
        .split_once("round by round, median (least-most) of 1 round(s):")
        .expect("the round-by-round table");
    let by_round: Vec<&str> = by_round.lines().skip(2).take(2).collect();
    for (row, threads) in by_round.iter().zip(["1", "2"]) {
        // threads, draw / floor and full / draw, each "median (least-most)"; with one
        // round all three are that round's ratio.
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), 5, "{row}");
        assert_eq!(cells[0], threads);
        for (median, range) in [(cells[1], cells[2]), (cells[3], cells[4])] {
            let ratio: f64 = median.parse().expect("a ratio is a number");
            assert!(ratio > 0.0, "{row}");
            assert_eq!(range, format!("({median}-{median})"), "{row}");
        }
    }
    assert!(
        stdout.contains("full run speed-up from 1 to 2 threads: "),
        "{stdout}"
    );

    let bad = creditsim(
        &["bench", "scenarios/bench/reference.toml", "--threads", "0"],
        root,
    );
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn replaying_a_scenario_without_usage_points_to_simulate() {
    // A scenario whose usage is drawn by [simulation] has nothing to replay: say so rather
    // than print a quarter of zero usage.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = creditsim(
        &["replay", "scenarios/examples/steady-inference.toml"],
        root,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no usage events to replay")
            && stderr.contains("creditsim simulate scenarios/examples/steady-inference.toml"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn out_dir_is_written_as_one_set_with_provenance() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(dir.path(), SCENARIO);
    let out_dir = dir.path().join("reports/tiny");
    let out = creditsim(
        &["replay", "tiny.toml", "--out", "reports/tiny"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["report.html", "summary.csv", "summary.json"]);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    // The hand calculation at the top of this file: cash 26.00.
    assert_eq!(json["strategies"][0]["totals"]["cash"], "26.00");
    let p = &json["provenance"];
    assert_eq!(
        p["command"],
        "creditsim replay tiny.toml --out reports/tiny"
    );
    assert!(p["scenario"]
        .as_str()
        .unwrap()
        .starts_with("tiny.toml (sha256 "));
    // A folder holding something else is refused, and kept as it was.
    std::fs::write(out_dir.join("notes.md"), "mine").unwrap();
    let again = creditsim(
        &["replay", "tiny.toml", "--out", "reports/tiny"],
        dir.path(),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("holds \"notes.md\""));
    assert!(again.stdout.is_empty(), "no partial output");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("notes.md")).unwrap(),
        "mine"
    );
}

#[test]
fn simulate_csv_is_tidy() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = creditsim(
        &[
            "simulate",
            "scenarios/examples/steady-inference.toml",
            "--paths",
            "20",
            "--format",
            "csv",
        ],
        root,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("strategy,measure,statistic,value"));
    // Per strategy: 2 measures x (9 statistics + 5 savings + break-even) + 3 service rows =
    // 33 rows; the example has 4 strategies.
    assert_eq!(lines.clone().count(), 4 * 33, "{csv}");
    assert!(lines.all(|l| l.split(',').count() == 4), "{csv}");
}

#[test]
fn check_json_carries_every_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(
        dir.path(),
        &SCENARIO.replace("money.flex = \"6.00\"", "money.flex = \"6.50\""),
    );
    let out = creditsim(&["check", "tiny.toml", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // As the console says for the same edit: 2 passed, 1 failed, line 40.
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(2), Some(1))
    );
    let m = &json["mismatches"][0];
    assert_eq!(m["file"], "tiny.toml");
    assert_eq!(m["line"], "40");
    assert_eq!(m["field"], "money.flex");
    assert_eq!(
        (m["expected"].as_str(), m["got"].as_str()),
        (Some("6.50"), Some("6.00"))
    );
}

/// `replay --charges` streams every charge; the statements sum them per item and period.
/// scenarios/regression/top-up-one-line.toml (hand calculation in its comments): the top-up
/// buys 80,000 x b1 on 04-01, then 8 on 04-05, 2 on 05-15 and 5 on 05-20, b1 at 2.00; fees
/// 10.00 on 04-01 and 05-01.
#[test]
fn replay_charges_lists_every_charge_the_statement_lines_sum() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("charges.csv");
    let scenario = root.join("scenarios/regression/top-up-one-line.toml");
    let args = [
        "replay",
        scenario.to_str().unwrap(),
        "--charges",
        csv.to_str().unwrap(),
    ];
    let out = creditsim(&args, dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = "\"top up b1 below 80000\"";
    let expected = format!(
        "strategy,at,kind,item,quantity,credits,money\n\
         {s},2026-04-01,plan_fee,\"p\",1,10,10.00\n\
         {s},2026-04-01,prepaid,\"b1\",80000,80000,160000.00\n\
         {s},2026-04-05,prepaid,\"b1\",8,8,16.00\n\
         {s},2026-05-01,plan_fee,\"p\",1,10,10.00\n\
         {s},2026-05-15,prepaid,\"b1\",2,2,4.00\n\
         {s},2026-05-20,prepaid,\"b1\",5,5,10.00\n"
    );
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), expected);
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const BREAKEVEN_REGRESSION: &str = "scenarios/regression/breakeven-plans-and-top-up.toml";

#[test]
fn breakeven_says_from_which_level_each_choice_pays_off() {
    // The regression scenario's hand calculations (in its comments): in economic cost the
    // top-up (4.35 a credit) beats flex (6.00) from 31 credits a month, growth (3,588 a year)
    // beats the top-up from 76 (1,188 + 52.2 x 46 = 3,589.20 > 3,588).
    let o = creditsim(&["breakeven", BREAKEVEN_REGRESSION], root());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    for line in [
        "At 0 credits a month, flex only is the cheapest (economic cost).",
        "top up b100 pays off from 31 credits a month (economic cost; was flex only).",
        "growth-monthly pays off from 76 credits a month (economic cost; was top up b100).",
        "top up b100 pays off from 37 credits a month (cash; was flex only).",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    // On the bundled example: over its quarter, core-annual is credited 948 x 274 / 365 =
    // 711.65 of its fee (economic 236.35), growth-annual 2,243.05 (744.95), and core-annual's
    // flex at 5.00 passes that from 154 credits a month (236.35 + 15 x 34 = 746.35).
    let o = creditsim(
        &["breakeven", "scenarios/examples/inference-quarter.toml"],
        root(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(
        "growth-annual pays off from 154 credits a month (economic cost; was core-annual)."
    ));
}

#[test]
fn breakeven_csv_is_one_row_per_crossing() {
    let o = creditsim(
        &["breakeven", BREAKEVEN_REGRESSION, "--format", "csv"],
        root(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("measure,level,unit,from,to,from_cost_below,to_cost_below,from_cost_at,to_cost_at")
    );
    // At 30 all cost 1,188.00; at 31 flex only 1,188 + 72 = 1,260.00, the top-up
    // 1,188 + 4.35 x 12 = 1,240.20.
    assert_eq!(
        lines.next(),
        Some("economic_cost,31,credits,flex only,top up b100,1188.00,1188.00,1260.00,1240.20")
    );
    // 3 crossings in economic cost and 11 in cash, as the scenario pins.
    assert_eq!(out.lines().count(), 1 + 3 + 11);
}

#[test]
fn breakeven_refuses_a_bad_metric_or_range_with_exit_2() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--metric", "gpu_minutes"],
            "error: --metric: unknown metric \"gpu_minutes\" (known: credits, gpu_training_minutes,",
        ),
        (&["--from", "10", "--to", "5"], "the range must go up from zero or more: from 10 credits to 5 credits"),
        (&["--to", "lots"], "error: --to \"lots\": not a number"),
        (&["--to=-3"], "error: --to -3: a level is a number from 0 with at most 6 decimals"),
        // 10^11 credits a month over 3 months: 3 x 10^11 credits, but as flex at 6.00 it could
        // cost 1.8 x 10^12, above the money limit.
        (&["--to", "100000000000"], "above the limit of 1,000,000,000,000 currency units"),
    ];
    for (args, message) in cases {
        let mut all = vec!["breakeven", "scenarios/examples/inference-quarter.toml"];
        all.extend_from_slice(args);
        let o = creditsim(&all, root());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(o.stdout.is_empty(), "{args:?}: nothing on stdout");
        let err = text(&o.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

#[test]
fn breakeven_out_writes_the_chart_and_every_cost() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("be");
    let o = creditsim(
        &[
            "breakeven",
            BREAKEVEN_REGRESSION,
            "--out",
            out.to_str().unwrap(),
        ],
        root(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    for f in [
        "report.html",
        "summary.json",
        "summary.csv",
        "costs.csv",
        "breakeven.png",
        "breakeven.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let costs = std::fs::read_to_string(out.join("costs.csv")).unwrap();
    // At 31 credits a month the top-up's cash is one bundle (12 x 99 + 435 = 1,623.00) and
    // its economic cost 1,240.20: 88 of its 100 credits are unused, worth 4.35 each.
    assert!(
        costs.contains("\n31,top up b100,1623.00,1240.20,0\n"),
        "{costs}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg"), "the chart is inline");
}

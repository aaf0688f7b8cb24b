//! `[[expect_advice]]` through the binary as CI runs it (`creditsim check`), and `bench
//! --advise`. The bad blocks' messages are golden files in `tests/errors/expect-advice-*`.

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

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `scenarios/examples/steady-inference.toml` copied into `dir` with `edit` applied, its
/// pricing book named by absolute path so the copy loads anywhere.
fn steady_inference_copy(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let example = root().join("scenarios/examples/steady-inference.toml");
    let book = root().join("scenarios/pricing/credits-book.toml");
    let text = std::fs::read_to_string(example).unwrap();
    let relative = "pricing_book = \"../pricing/credits-book.toml\"";
    assert!(text.contains(relative), "the example names its book so");
    let text = text.replace(relative, &format!("pricing_book = {:?}", book.display()));
    let path = dir.join("steady-inference.toml");
    std::fs::write(&path, edit(text)).unwrap();
    path
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .expect("the line is there")
        + 1
}

#[test]
fn check_passes_the_example_pins() {
    let dir = tempfile::tempdir().unwrap();
    steady_inference_copy(dir.path(), |t| t);
    let out = creditsim(&["check", "steady-inference.toml"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // Two expected values in the example's [[expect_advice]]: the setup and the saving.
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_different_recommendation_fails_check_naming_both_setups() {
    // 2 x b100 is a real candidate (core-annual + 2 x b100 at start) that loses to 1 x b250 on
    // every path: the same 360 included and the same fee, and each prepaid credit it consumes
    // costs 4.35 against b250's 4.30. Pinning it must fail with exit 1, and the message must
    // say what was pinned and what advise chose, with its saving.
    let dir = tempfile::tempdir().unwrap();
    let wrong = "recommended = \"core-annual + 2 x b100 at start\"";
    let path = steady_inference_copy(dir.path(), |t| {
        let right = "recommended = \"core-annual + 1 x b250 at start\"";
        assert!(t.contains(right), "the example pins 1 x b250");
        t.replace(right, wrong)
    });
    let out = creditsim(&["check", "steady-inference.toml"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let line = line_of(&path, "[[expect_advice]]");
    let expected = format!(
        "steady-inference.toml:{line}: strategy \"flex only\", field advice.recommended: \
         expected \"core-annual + 2 x b100 at start\", got \"core-annual + 1 x b250 at start\", \
         saving "
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains("against \"flex only\""), "{stdout}");
    // The saving pinned beside it still holds: one passed, one failed.
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_saving_above_the_advised_one_fails_check() {
    // No setup of the book saves 5,000 USD a year on a ~2,300 USD bill.
    let dir = tempfile::tempdir().unwrap();
    steady_inference_copy(dir.path(), |t| {
        let re = t
            .lines()
            .find(|l| l.starts_with("saving_at_least"))
            .expect("the example pins a saving")
            .to_string();
        t.replace(&re, "saving_at_least = \"5000.00\"")
    });
    let out = creditsim(&["check", "steady-inference.toml"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "field advice.saving_at_least: expected a saving of at least 5000.00 USD, got \
             \"core-annual + 1 x b250 at start\", saving "
        ),
        "{stdout}"
    );
}

/// Two months of exactly 2 credits every day, on a book with no bundles: a weekly bootstrap
/// of such usage draws the same 2 credits every day on every path, so the advice is exact.
///
/// - basic (the current setup, "as-is"): 2 x 10.00 fees + flex (62 - 5 + 56 - 5) x 2.00 =
///   20.00 + 216.00 = 236.00 (January has 31 days, 62 credits; February 28, 56 credits).
/// - pro from the start ("pro, pay as you go"): 2 x 40.00 + flex (62 - 60) x 2.00 = 84.00
///   (February's 56 credits are within its 60).
/// - the upgrade from basic to pro once a cycle's flex passes 30.00 (the fee difference)
///   pays basic's fee and more than 30.00 of flex before it moves, and then pro's fees:
///   above 10 + 30 + 40 + 40 = 120.00.
///
/// So the advice is "pro, pay as you go", saving 236.00 - 84.00 = 152.00 on every path.
fn bootstrap_scenario(saving: &str) -> String {
    let mut events = String::new();
    for (month, days) in [(1, 31), (2, 28)] {
        for day in 1..=days {
            events.push_str(&format!(
                "  {{ at = 2026-{month:02}-{day:02}T12:00:00Z, metric = \"credits\", quantity = 2 }},\n"
            ));
        }
    }
    format!(
        r#"
[scenario]
name = "steady two credits a day"

[pricing.book]
name = "two plans"
currency = "USD"

[[pricing.plans]]
id = "basic"
cycle = "monthly"
fee = "10.00"
included_credits = 5

[[pricing.plans]]
id = "pro"
cycle = "monthly"
fee = "40.00"
included_credits = 60

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
{events}]

[[strategy]]
name = "as-is"

[[expect_advice]]
recommended = "pro, pay as you go"
saving_at_least = "{saving}"
paths = 64
"#
    )
}

#[test]
fn advice_on_a_scenarios_own_usage_is_checked_through_its_bootstrap() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("own.toml"), bootstrap_scenario("152.00")).unwrap();
    let out = creditsim(&["check", "own.toml"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");

    // One cent more than the exact saving fails: the saving is compared exactly.
    std::fs::write(dir.path().join("own.toml"), bootstrap_scenario("152.01")).unwrap();
    let out = creditsim(&["check", "own.toml"], dir.path());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "expected a saving of at least 152.01 USD, got \"pro, pay as you go\", saving \
             152.00 USD on average"
        ),
        "{stdout}"
    );
}

#[test]
fn bench_advise_reports_the_race_and_the_ratio_to_simulate() {
    let out = creditsim(
        &[
            "bench",
            "scenarios/examples/steady-inference.toml",
            "--advise",
            "--paths",
            "200",
            "--threads",
            "1,2",
            "--repeat",
            "1",
        ],
        root(),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(rows.len(), 2, "one row per thread count:\n{stdout}");
    for (row, threads) in rows.iter().zip(["1", "2"]) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[0], threads);
        let ratio: f64 = cells[3].parse().expect("advise / simulate is a number");
        assert!(ratio > 0.0);
    }
    for part in [
        "candidates: ",
        "race: ",
        "replays (one setup on one path): race ",
        "floor: advise within 5x one simulate",
    ] {
        assert!(stdout.contains(part), "{part}:\n{stdout}");
    }
    // The final measurement is the current setup and up to 3 finalists on all 200 paths.
    let finals = stdout
        .split("final measurement ")
        .nth(1)
        .and_then(|rest| rest.split(" setups x 200 paths)").next())
        .expect("the final measurement is reported");
    let (replays, setups) = finals.split_once(" (").expect("replays (setups");
    let setups: u64 = setups.parse().unwrap();
    assert!((2..=4).contains(&setups), "{stdout}");
    assert_eq!(replays.parse::<u64>().unwrap(), setups * 200, "{stdout}");
}

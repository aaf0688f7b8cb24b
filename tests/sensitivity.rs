//! `creditsim sensitivity` on a scenario whose flip is known by hand.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Core (monthly) against Growth (monthly), flex uncapped, on exactly 2.5 credits a day from
/// 2026-04-01 for 12 months (365 days): 912.5 credits, every month between 75 and 77.5, so
/// within Growth's 100 included credits and above Core's 30. Cohort from-2026-03-28: flex
/// 6.00 a credit on both.
/// - Growth: 12 x 299 = 3,588.00. Core: 12 x 99 + (912.5 - 360) x p = 1,188 + 552.5 p, at
///   p = 6.00: 4,503.00. Growth is recommended.
/// - They are equal at p = 2,400 / 552.5 = 4.343891...: a flex price change of
///   4.343891 / 6 - 1 = -27.6018%. At -27.60% (p = 4.344) Core costs 3,588.06, more than
///   Growth; at -27.61% (p = 4.3434) it costs 3,587.69, less. So the flip lies in
///   (-27.61%, -27.6018%], and bisection to 0.01% reports it there.
/// - Plan fees +-20% move Growth to 4,305.60 and 2,870.40 (Core: 4,740.60 and 4,265.40):
///   no flip.
const SCENARIO: &str = r#"
[scenario]
name = "known flip"
pricing_book = "BOOK"

[workspace]
created = 2026-04-01
plan = "core-monthly"

[horizon]
start = 2026-04-01
months = 12

[simulation]
paths = 20
seed = 7

[[simulation.model]]
metric = "credits"
daily = 2.5
distribution = "fixed"
unit = 0.5

[[strategy]]
name = "core"
flex_cap = "none"

[[strategy]]
name = "growth"
start_plan = "growth-monthly"
flex_cap = "none"
"#;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

fn scenario() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let book = root().join("scenarios/pricing/credits-book.toml");
    let path = dir.path().join("flip.toml");
    std::fs::write(&path, SCENARIO.replace("BOOK", &book.display().to_string())).unwrap();
    (dir, path.display().to_string())
}

#[test]
fn the_flex_price_flip_is_where_the_hand_calculation_puts_it() {
    let (_dir, path) = scenario();
    let (code, out, err) = run(&[
        "sensitivity",
        &path,
        "--vary",
        "flex_price=-40,20",
        "--vary",
        "plan_fees=-20,20",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["recommended"], "growth");
    assert_eq!(
        v["base_means"],
        serde_json::json!(["4503.0000", "3588.0000"])
    );
    let flex = &v["parameters"][0];
    assert_eq!(flex["cheapest_at_low"], "core");
    assert_eq!(flex["cheapest_at_high"], "growth");
    let flips = flex["flips"].as_array().unwrap();
    assert_eq!(flips.len(), 1);
    assert_eq!(flips[0]["to"], "core");
    let at: f64 = flips[0]["change"].as_str().unwrap().parse().unwrap();
    assert!((-27.61..=-27.6018).contains(&at), "flip at {at}");
    let fees = &v["parameters"][1];
    assert_eq!(fees["flips"].as_array().unwrap().len(), 0);
    assert_eq!(
        fees["means_at_low"],
        serde_json::json!(["4265.4000", "2870.4000"])
    );
    assert_eq!(
        fees["means_at_high"],
        serde_json::json!(["4740.6000", "4305.6000"])
    );
}

#[test]
fn every_example_gets_a_tornado_and_bad_ranges_are_refused() {
    let (code, out, err) = run(&[
        "sensitivity",
        "scenarios/examples/steady-inference.toml",
        "--paths",
        "200",
    ]);
    assert_eq!(code, Some(0), "{err}");
    for p in [
        "flex_price",
        "bundle_discount",
        "included_credits",
        "plan_fees",
        "usage",
        "growth",
        "volatility",
    ] {
        assert!(out.contains(p), "{p} in\n{out}");
    }
    let (_dir, path) = scenario();
    for (vary, message) in [
        ("price=-1,1", "unknown parameter"),
        ("flex_price=5,10", "from a change at or below 0"),
        ("usage=-100,10", "cannot fall by 100%"),
        ("usage", "expected NAME=LOW,HIGH"),
    ] {
        let (code, out, err) = run(&["sensitivity", &path, "--vary", vary]);
        assert_eq!(code, Some(2), "{vary}");
        assert!(out.is_empty() && err.contains(message), "{vary}: {err}");
    }
    let (code, _, err) = run(&[
        "sensitivity",
        "scenarios/examples/prospect-bootstrap.toml",
        "--vary",
        "growth=-1,1",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("resamples a history"), "{err}");
}

/// A `[sensitivity]` table gives the ranges when no --vary does; a wrong one is located.
#[test]
fn a_sensitivity_table_sets_the_ranges_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let book = root().join("scenarios/pricing/credits-book.toml");
    let write = |table: &str| {
        let path = dir.path().join("table.toml");
        let text = SCENARIO.replace("BOOK", &book.display().to_string()) + table;
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let path = write("\n[sensitivity]\nplan_fees = [-10, 10]\n");
    let (code, out, err) = run(&["sensitivity", &path, "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let params = v["parameters"].as_array().unwrap();
    assert_eq!(params.len(), 1);
    // Growth's fee 299 -10%: 269.10 a month, 3,229.20 a year.
    assert_eq!(params[0]["means_at_low"][1], "3229.2000");
    for (table, message) in [
        (
            "\n[sensitivity]\nprice = [-10, 10]\n",
            "34:1: unknown parameter \"price\"",
        ),
        (
            "\n[sensitivity]\nusage = [10]\n",
            "34:9: a range is [low, high]",
        ),
        (
            "\n[sensitivity]\nusage = [-120, 10]\n",
            "34:9: usage cannot fall by 100%",
        ),
    ] {
        let path = write(table);
        let (code, _, err) = run(&["sensitivity", &path]);
        assert_eq!(code, Some(2), "{table}");
        assert!(err.contains(message), "{table}: {err}");
    }
}

/// With --advise the setups are advise's: on steady-inference the recommendation it pins in
/// `[[expect_advice]]` (core-annual with one b250 at start) is the base's cheapest.
#[test]
fn with_advise_the_setups_are_the_advice() {
    let (code, out, err) = run(&[
        "sensitivity",
        "scenarios/examples/steady-inference.toml",
        "--advise",
        "--paths",
        "1000",
        "--vary",
        "usage=-30,30",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["recommended"], "core-annual + 1 x b250 at start");
    assert_eq!(v["strategies"][0], "flex only", "the current setup first");
    assert_eq!(v["strategies"].as_array().unwrap().len(), 4);
}

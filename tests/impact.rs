//! `creditsim impact` against hand calculations on the two-workspace portfolio of tests/data
//! (its trace, accounts and today's prices are hand-calculated in tests/trace.rs), with the
//! candidate book scenarios/pricing/credits-book-2027.toml; and the migration table's rules.

use polars::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::root;

const SCENARIO: &str = "tests/data/portfolio.toml";
const ACCOUNTS: &str = "tests/data/portfolio-accounts.csv";
const BOOK_2027: &str = "scenarios/pricing/credits-book-2027.toml";

fn impact(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .current_dir(root())
        .args(["impact", SCENARIO, "--accounts", ACCOUNTS])
        .args(extra)
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn text(frame: &DataFrame, column: &str, i: usize) -> String {
    let c = frame.column(column).unwrap();
    c.str().unwrap().get(i).unwrap().to_string()
}

/// A decimal cell in plain form with its trailing zeros dropped ("337", "236.35").
fn amount(frame: &DataFrame, column: &str, i: usize) -> String {
    let c = frame.column(column).unwrap();
    let v = c.decimal().unwrap().physical().get(i).unwrap();
    rust_decimal::Decimal::from_i128_with_scale(v, 6)
        .normalize()
        .to_string()
}

// The hand calculation. Today (tests/trace.rs): both workspaces on "flex only" (flex
// uncapped, nothing prepaid), horizon 2026-04-01 to 2026-07-01.
//   ws-old: core-monthly, older cohort (flex 4.00): fees 04-01, 05-01, 06-01 = 297.00; 40
//     credits on 04-10 = 30 included + 10 flex x 4.00 = 40.00, invoiced when April's
//     period closes on 05-01. Cash 337.00.
//   ws-new: growth-monthly from 2026-05-15, newer cohort (flex 6.00): fees 05-15, 06-15 =
//     598.00; 120 credits on 05-20 = 100 included + 20 x 6.00 = 120.00, invoiced 06-15.
//     Cash 718.00.
//   Revenue today: fees 895.00, prepaid 0, flex 160.00, total 1,055.00; by month: April
//   99.00; May 99 + 40 + 299 = 438.00; June 99 + 299 + 120 = 518.00.
// Under the 2027 book, same behaviour (flex 4.80 and 7.00 on monthly plans):
//   ws-old 297 + 10 x 4.80 = 345.00 (+8.00); ws-new 598 + 20 x 7.00 = 738.00 (+20.00).
//   Revenue: fees 895.00, flex 48 + 140 = 188.00, total 1,083.00; by month 99.00,
//   99 + 48 + 299 = 446.00, 99 + 299 + 140 = 538.00.
// Re-optimised: the cheapest setup by economic cost (cash less unexpired plan fee and unused
// prepaid value). Core annual (948.00 for 360 credits) covers either workspace's usage:
//   ws-old: its cycle [2026-04-01, 2027-04-01) has 365 days, 274 of them after 07-01:
//     unexpired 948 x 274 / 365 = 711.649.. -> 711.65; economic 948 - 711.65 = 236.35.
//     Any other setup: core monthly costs 297.00 before flex; growth monthly 897.00; growth
//     annual 2,988 x 91 / 365 = 744.95; core annual with bundles adds their cost and gets
//     back at most their cost basis: 236.35 at best, a tie, and pay-as-you-go is listed
//     first among core annual's setups, so it wins ties.
//   ws-new: cycle [2026-05-15, 2027-05-15), 47 days used, 318 left: unexpired
//     948 x 318 / 365 = 825.928.. -> 825.93; economic 122.07. Core monthly's two fees less
//     its unexpired 99 x 14 / 30 = 46.20 are 151.80 before the 90 credits over its 30.
//   Both pay 948.00 in plan fees, on 2026-04-01 and 2026-05-15: total 1,896.00 (+611.00
//   and +230.00), by month 948.00, 948.00, 0.
#[test]
fn impact_matches_a_hand_calculation() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("impact");
    let out = impact(&[
        "--after",
        BOOK_2027,
        "--format",
        "json",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let json = json_of(&out);
    let today = &json["today"];
    assert_eq!(
        [
            &today["plan_fees"],
            &today["prepaid"],
            &today["flex"],
            &today["cash"]
        ],
        ["895.00", "0.00", "160.00", "1055.00"]
    );
    let views = &json["candidates"][0]["views"];
    let same = &views[0];
    assert_eq!(same["view"], "same_behaviour");
    assert_eq!(
        [
            &same["revenue"]["plan_fees"],
            &same["revenue"]["flex"],
            &same["revenue"]["cash"]
        ],
        ["895.00", "188.00", "1083.00"]
    );
    assert_eq!(
        (&same["customers_paying_more"], &same["customers_moved"]),
        (&2.into(), &0.into())
    );
    let moved = &views[1];
    assert_eq!(moved["view"], "reoptimised");
    assert_eq!(
        [
            &moved["revenue"]["plan_fees"],
            &moved["revenue"]["flex"],
            &moved["revenue"]["cash"]
        ],
        ["1896.00", "0.00", "1896.00"]
    );
    assert_eq!(moved["customers_moved"], 2);

    // Per customer: (workspace, book_index, view) -> cash, plan fees, flex, economic, change, setup.
    let customers = read_parquet(&out_dir.join("customers.parquet"));
    assert_eq!(customers.height(), 2 * 3, "2 customers x (today + 2 views)");
    let want = [
        (
            "ws-old",
            0,
            "today",
            ["337", "297", "40", "337", "0"],
            "flex only",
        ),
        (
            "ws-old",
            1,
            "same_behaviour",
            ["345", "297", "48", "345", "8"],
            "flex only",
        ),
        (
            "ws-old",
            1,
            "reoptimised",
            ["948", "948", "0", "236.35", "611"],
            "core-annual, pay as you go",
        ),
        (
            "ws-new",
            0,
            "today",
            ["718", "598", "120", "578.47", "0"],
            "flex only",
        ),
        (
            "ws-new",
            1,
            "same_behaviour",
            ["738", "598", "140", "598.47", "20"],
            "flex only",
        ),
        (
            "ws-new",
            1,
            "reoptimised",
            ["948", "948", "0", "122.07", "230"],
            "core-annual, pay as you go",
        ),
    ];
    let columns = [
        "cash",
        "plan_fees",
        "flex_charges",
        "economic_cost",
        "cash_change",
    ];
    for (i, (ws, book, view, amounts, setup)) in want.iter().enumerate() {
        assert_eq!(text(&customers, "workspace", i), *ws, "row {i}");
        let b = customers
            .column("book_index")
            .unwrap()
            .u32()
            .unwrap()
            .get(i);
        assert_eq!(b, Some(*book), "row {i}");
        assert_eq!(text(&customers, "view", i), *view, "row {i}");
        for (column, value) in columns.iter().zip(amounts) {
            assert_eq!(amount(&customers, column, i), *value, "row {i} {column}");
        }
        assert_eq!(text(&customers, "setup", i), *setup, "row {i}");
    }

    // Revenue by month: today, same behaviour, re-optimised, three months each.
    let revenue = read_parquet(&out_dir.join("revenue.parquet"));
    assert_eq!(revenue.height(), 3 * 3);
    let cash: Vec<(String, String)> = (0..revenue.height())
        .map(|i| (text(&revenue, "view", i), amount(&revenue, "cash", i)))
        .collect();
    let want = [
        ("today", "99"),
        ("today", "438"),
        ("today", "518"),
        ("same_behaviour", "99"),
        ("same_behaviour", "446"),
        ("same_behaviour", "538"),
        ("reoptimised", "948"),
        ("reoptimised", "948"),
        ("reoptimised", "0"),
    ]
    .map(|(v, c)| (v.to_string(), c.to_string()));
    assert_eq!(cash, want);
    for name in [
        "waterfall-1.png",
        "waterfall-1.svg",
        "cost-change-1.png",
        "customers.csv",
        "revenue.csv",
    ] {
        assert!(out_dir.join(name).is_file(), "{name}");
    }
}

/// A search of one setup is the current setup alone: the re-optimised view is then the
/// same-behaviour view, customer by customer.
#[test]
fn a_search_of_one_keeps_every_customer_where_they_are() {
    let json = json_of(&impact(&[
        "--after", BOOK_2027, "--search", "1", "--format", "json",
    ]));
    let views = &json["candidates"][0]["views"];
    assert_eq!(views[0]["revenue"], views[1]["revenue"]);
    assert_eq!(views[1]["customers_moved"], 0);
    assert_eq!(
        views[0]["change_percentiles"],
        views[1]["change_percentiles"]
    );
}

/// The 2027 book with core-monthly renamed starter-monthly and b25 renamed b30 in both
/// cohorts (same credits and discounts): a pure renaming.
fn renamed_book(dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(root().join(BOOK_2027)).unwrap();
    let renamed = text
        .replace("\"core-monthly\"", "\"starter-monthly\"")
        .replace("\"b25\"", "\"b30\"");
    assert_ne!(renamed, text);
    let path = dir.join("renamed-book.toml");
    std::fs::write(&path, renamed).unwrap();
    path
}

// With "b25 at start" as the current setup (flex uncapped, one b25 on day one), by hand:
//   ws-old: older cohort, b25 at 0% off = 100.00 both today and in 2027; 40 credits = 30
//     included + 10 prepaid, no flex. Cash 297 + 100 = 397.00 in both.
//   ws-new: newer cohort, b25 = 25 x 5.00 x 0.91 = 113.75 today, 25 x 5.00 x 0.88 = 110.00 in
//     2027; 120 credits = 100 included + 20 prepaid. Cash 711.75 today, 707.75 in 2027.
//   Revenue: today fees 895.00, prepaid 213.75, total 1,108.75; same behaviour prepaid
//   210.00, total 1,105.00.
#[test]
fn renamed_items_are_an_error_until_a_migration_table_maps_them() {
    let dir = tempfile::tempdir().unwrap();
    let book = renamed_book(dir.path());
    let book = book.to_str().unwrap();
    let current = ["--current", "b25 at start", "--format", "json"];

    let out = impact(&[&["--after", book][..], &current].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for item in [
        "plan \"core-monthly\"",
        "bundle \"b25\" of cohort \"before-2026-03-28\"",
        "bundle \"b25\" of cohort \"from-2026-03-28\"",
        "3 items",
    ] {
        assert!(stderr.contains(item), "{item} in {stderr}");
    }

    let migration = dir.path().join("migration.toml");
    std::fs::write(
        &migration,
        "[plans]\n\"core-monthly\" = \"starter-monthly\"\n[bundles]\n\"b25\" = \"b30\"\n",
    )
    .unwrap();
    let migration = migration.to_str().unwrap();
    let renamed = json_of(&impact(
        &[&["--after", book, "--migration", migration][..], &current].concat(),
    ));
    let plain = json_of(&impact(&[&["--after", BOOK_2027][..], &current].concat()));
    let revenue = |j: &Value, v: usize| j["candidates"][0]["views"][v]["revenue"].clone();
    assert_eq!(revenue(&renamed, 0), revenue(&plain, 0));
    assert_eq!(revenue(&renamed, 1), revenue(&plain, 1));
    let today = &plain["today"];
    assert_eq!([&today["prepaid"], &today["cash"]], ["213.75", "1108.75"]);
    let same = revenue(&plain, 0);
    assert_eq!(
        [
            &same["plan_fees"],
            &same["prepaid"],
            &same["flex"],
            &same["cash"]
        ],
        ["895.00", "210.00", "0.00", "1105.00"]
    );
}

#[test]
fn a_wrong_migration_table_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let book = renamed_book(dir.path());
    let book = book.to_str().unwrap();
    for (table, line_col, words) in [
        (
            "[plans]\n\"core-monthly\" = \"gold\"\n",
            ":2:18",
            "no plan \"gold\" in",
        ),
        (
            "[plans]\n\"silver\" = \"starter-monthly\"\n",
            ":2:1",
            "no plan \"silver\" in the current book",
        ),
        (
            "[plan]\n\"core-monthly\" = \"starter-monthly\"\n",
            ":1:2",
            "unknown field `plan`",
        ),
    ] {
        let migration = dir.path().join("m.toml");
        std::fs::write(&migration, table).unwrap();
        let out = impact(&["--after", book, "--migration", migration.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr.contains(&format!("m.toml{line_col}")),
            "{line_col} in {stderr}"
        );
        assert!(stderr.contains(words), "{words} in {stderr}");
    }
}

#[test]
fn books_that_price_other_credits_are_refused() {
    // The wallet book has another rate card: impact replays the same credits under each book.
    let out = impact(&["--after", "scenarios/pricing/wallet-book.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("wallet-book.toml") && stderr.contains("converts to credits differently"),
        "{stderr}"
    );
    let out = impact(&["--after", "scenarios/pricing/no-such-book.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = impact(&["--after", BOOK_2027, "--current", "no such strategy"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("flex only, b25 at start"), "{stderr}");
}

/// A segments file in `dir` over the bundled profiles, 50 simulated customers each.
fn segments_file(dir: &Path, extra: &str) -> std::path::PathBuf {
    let profile = |name: &str| root().join("scenarios/profiles").join(name);
    let text = format!(
        "[segments]\nname = \"two segments\"\npaths = 50\n\n\
         [[segment]]\nname = \"small\"\nprofile = \"{}\"\ncustomers = 400\n\n\
         [[segment]]\nname = \"vision\"\nprofile = \"{}\"\ncustomers = 40\n{extra}",
        profile("small-team.toml").display(),
        profile("acme-vision.toml").display(),
    );
    let path = dir.join("segments.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The mean cash of a profile's current setup over its first 50 simulated paths, as
/// `simulate` reports it (4 decimals).
fn simulated_mean_cash(profile: &str) -> rust_decimal::Decimal {
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .current_dir(root())
        .args(["simulate", profile, "--paths", "50", "--format", "json"])
        .output()
        .unwrap();
    let json = json_of(&out);
    json["strategies"][0]["cash"]["mean"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

// Customer k of a segment is path k of `simulate` on its profile, so today's revenue is the
// segments' customers times their profiles' simulated mean cash: 400 x small + 40 x vision.
// simulate shows means to 4 decimals, so the sum is good to 440 x 0.00005 = 0.022, and the
// revenue is shown to the cent: within 0.03 in all.
fn impact_of(target: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .current_dir(root())
        .arg("impact")
        .arg(target)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn segments_weigh_each_simulated_customer_by_its_segment() {
    let dir = tempfile::tempdir().unwrap();
    let segments = segments_file(dir.path(), "");
    let out_dir = dir.path().join("out");
    let args = [
        "--after",
        BOOK_2027,
        "--format",
        "json",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let json = json_of(&impact_of(&segments, &args));
    let small = simulated_mean_cash("scenarios/profiles/small-team.toml");
    let vision = simulated_mean_cash("scenarios/profiles/acme-vision.toml");
    let want = rust_decimal::Decimal::from(400) * small + rust_decimal::Decimal::from(40) * vision;
    let got: rust_decimal::Decimal = json["today"]["cash"].as_str().unwrap().parse().unwrap();
    assert!(
        (got - want).abs() <= "0.03".parse().unwrap(),
        "{got} against {want}"
    );
    assert_eq!(json["customers"], 440);

    // The table: 100 simulated customers x (today + 2 views); each stands for 400 / 50 = 8 or
    // 40 / 50 = 0.8 customers, and weight x cash summed is each view's revenue.
    let customers = read_parquet(&out_dir.join("customers.parquet"));
    assert_eq!(customers.height(), 100 * 3);
    assert_eq!(text(&customers, "workspace", 0), "small #1");
    assert_eq!(text(&customers, "segment", 3 * 50), "vision");
    assert_eq!(amount(&customers, "weight", 0), "8");
    assert_eq!(amount(&customers, "weight", 3 * 50), "0.8");
    let views = [
        ("today", &json["today"]["cash"]),
        (
            "same_behaviour",
            &json["candidates"][0]["views"][0]["revenue"]["cash"],
        ),
        (
            "reoptimised",
            &json["candidates"][0]["views"][1]["revenue"]["cash"],
        ),
    ];
    for (view, revenue) in views {
        let mut sum = rust_decimal::Decimal::ZERO;
        for i in 0..customers.height() {
            if text(&customers, "view", i) == view {
                let w: rust_decimal::Decimal = amount(&customers, "weight", i).parse().unwrap();
                let c: rust_decimal::Decimal = amount(&customers, "cash", i).parse().unwrap();
                sum += w * c;
            }
        }
        assert_eq!(
            sum.round_dp(2).to_string(),
            revenue.as_str().unwrap(),
            "{view}"
        );
        // revenue.parquet's months add up to the same weighted revenue.
        let months = read_parquet(&out_dir.join("revenue.parquet"));
        let mut by_month = rust_decimal::Decimal::ZERO;
        for i in 0..months.height() {
            if text(&months, "view", i) == view {
                by_month += amount(&months, "cash", i)
                    .parse::<rust_decimal::Decimal>()
                    .unwrap();
            }
        }
        let by_month = by_month.round_dp(2).to_string();
        assert_eq!(by_month, revenue.as_str().unwrap(), "{view} by month");
    }
}

#[test]
fn segments_must_share_a_book_and_a_horizon() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = root().join("scenarios/profiles/wallet-shop.toml");
    let extra = format!(
        "\n[[segment]]\nname = \"wallet\"\nprofile = \"{}\"\ncustomers = 5\n",
        wallet.display()
    );
    let segments = segments_file(dir.path(), &extra);
    let out = impact_of(&segments, &["--after", BOOK_2027]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("segments.toml:17:11"), "{stderr}");
    assert!(stderr.contains("pricing book differs"), "{stderr}");
    let segments = segments_file(dir.path(), "");
    let out = impact_of(&segments, &["--after", BOOK_2027, "--accounts", ACCOUNTS]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a segments file takes no --accounts"));
}

/// A segment's customers is read at TOML's 64-bit width: -5 is refused with the field's range
/// (1-1,000,000,000, segments::CUSTOMERS_MAX), not serde's "expected u32". segments_file
/// writes 13 lines; this segment adds a blank line 14, its header 15, name 16, profile 17 and
/// customers on line 18, the value at column 13.
#[test]
fn a_negative_customer_count_names_its_range() {
    let dir = tempfile::tempdir().unwrap();
    let small = root().join("scenarios/profiles/small-team.toml");
    let extra = format!(
        "\n[[segment]]\nname = \"more\"\nprofile = \"{}\"\ncustomers = -5\n",
        small.display()
    );
    let segments = segments_file(dir.path(), &extra);
    let out = impact_of(&segments, &["--after", BOOK_2027]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains("segments.toml:18:13: customers -5 is outside 1-1,000,000,000"),
        "{stderr}"
    );
}

// `sensitivity --portfolio` on the hand-calculated portfolio (see the top of this file), in
// the view where customers keep "flex only": revenue 1,055.00 at the base (fees 895.00 =
// 3 x 99 + 2 x 299; flex 10 credits x 4.00 + 20 x 6.00 = 160.00).
//   flex_price -20%/+20%: flex 10 x 3.20 + 20 x 4.80 = 128.00 (-32.00); 10 x 4.80 + 20 x 7.20
//     = 192.00 (+32.00).
//   plan_fees -20%/+20%: fees 3 x 79.20 + 2 x 239.20 = 716.00 (-179.00); 3 x 118.80 +
//     2 x 358.80 = 1,074.00 (+179.00).
//   included_credits -20%/+20%: core 24 and growth 80 included: flex 16 x 4 + 40 x 6 =
//     304.00 (+144.00); core 36 and growth 120: 4 x 4 + 0 = 16.00 (-144.00).
//   usage -30%/+30%: 28 and 84 credits, all within 30 and 100 included: flex 0 (-160.00);
//     52 and 156 credits: 22 x 4 + 56 x 6 = 424.00 (+264.00).
//   bundle_discount: nothing is bought, 0 both ways.
#[test]
fn portfolio_revenue_sensitivity_matches_a_hand_calculation() {
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .current_dir(root())
        .args([
            "sensitivity",
            SCENARIO,
            "--portfolio",
            "--accounts",
            ACCOUNTS,
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json = json_of(&out);
    assert_eq!(json["base"]["keep"], "1055.00");
    let want = [
        ("flex_price", "1023.00", "1087.00"),
        ("bundle_discount", "1055.00", "1055.00"),
        ("included_credits", "1199.00", "911.00"),
        ("plan_fees", "876.00", "1234.00"),
        ("usage", "895.00", "1319.00"),
    ];
    let parameters = json["parameters"].as_array().unwrap();
    assert_eq!(parameters.len(), want.len());
    for (p, (name, low, high)) in parameters.iter().zip(want) {
        assert_eq!(p["parameter"], name);
        assert_eq!(p["revenue_at_low"]["keep"], low, "{name}");
        assert_eq!(p["revenue_at_high"]["keep"], high, "{name}");
    }
    // A usage model's parameters do not apply to a trace.
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .current_dir(root())
        .args([
            "sensitivity",
            SCENARIO,
            "--portfolio",
            "--vary",
            "growth=-1,1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

//! The month-by-month replay (`engine::monthly`, the Monte Carlo fast path for strategies that
//! cannot react) against the full replay through the ledger: every path's totals and every
//! month end's costs (their exact sums over the paths and their fans) are the same, on every
//! bundled scenario and on generated ones that reach the corners the fast path has to get
//! right (anchors on the 29th-31st, horizons ending mid-month, lots bought at start in two
//! orders, lots expiring inside, at or after the horizon's end, seat fees, a currency without
//! minor units, both roundings, flex caps from the plan (per cycle or per flex period) or the
//! strategy that bind in some months and not in others, flex switched off), and strategies
//! whose rules buy (top-ups below thresholds from nothing to many bundles, buying on the usage
//! alert at any threshold, both at once, with lots consumed in either of the book's orders).

use creditsim::analysis::montecarlo::{simulate, simulate_in_full, SimConfig};
use creditsim::analysis::Case;
use creditsim::engine::monthly::Monthly;
use creditsim::input::scenario::load;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// How many of `case`'s strategies the fast path replays (the rest go through the ledger).
fn monthly_strategies(case: &Case) -> usize {
    let (book, workspace, end) = (&case.book, case.workspace, case.horizon.end);
    (case.strategies.iter())
        .filter(|s| Monthly::prepare(book, workspace, end, s).is_some())
        .count()
}

/// Simulates `file`'s scenario both ways on `paths` paths; the strategies the fast path took.
fn both_ways(file: &Path, paths: u32) -> usize {
    let s = load(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let spec = s.simulation.as_ref().expect("a [simulation]");
    let config = SimConfig {
        paths,
        seed: spec.seed,
        threads: Some(2),
    };
    let fast = simulate(&s.case, &spec.model, config, &|_| {});
    let full = simulate_in_full(&s.case, &spec.model, config);
    match (fast, full) {
        (Ok(fast), Ok(full)) => assert_eq!(fast, full, "{}", file.display()),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{}", file.display()),
        (a, b) => panic!("{}: {:?} against {:?}", file.display(), a.err(), b.err()),
    }
    monthly_strategies(&s.case)
}

fn simulation_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.ends_with("errors") {
            simulation_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.lines().any(|l| l.trim() == "[simulation]") {
                out.push(path);
            }
        }
    }
}

#[test]
fn every_bundled_simulation_is_the_same_month_by_month_as_in_full() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    simulation_files(&root.join("scenarios"), &mut files);
    simulation_files(&root.join("tests"), &mut files);
    assert!(files.len() >= 10, "{files:?}");
    let monthly: usize = files.iter().map(|f| both_ways(f, 300)).sum();
    // The reference workload alone has two ("flex only", "b250 at start"): the comparison
    // must have met the fast path, not only the full replay twice.
    assert!(monthly >= 5, "{monthly} strategies month by month");
}

/// One generated scenario (see [`scenario_text`]).
#[derive(Debug, Clone)]
struct Generated {
    anchor_day: u32,
    anchor_month: u32,
    /// Months, or an end day-of-year offset (a horizon ending mid-month).
    months: Option<u32>,
    end_days: u32,
    yen: bool,
    half_even: bool,
    fee_cents: u64,
    seat_fee_cents: u64,
    seats: u32,
    included: u32,
    flex_cents: u64,
    bundle_credits: [u32; 2],
    discount: [u32; 2],
    expiry_days: [Option<u32>; 2],
    daily: f64,
    /// The strategy's cap and the plan's, in hundredths (none: uncapped), and the plan's
    /// cap period.
    strategy_cap: Option<u64>,
    plan_cap: Option<u64>,
    cap_per_flex_period: bool,
    /// The top-ups' thresholds (credits), the usage alert's threshold and the lot order.
    below: [u32; 2],
    alert_percent: u32,
    purchase_order: bool,
    seed: u64,
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        (
            28u32..=31,
            1u32..=12,
            prop::option::of(1u32..=26),
            20u32..=400,
        ),
        (
            any::<bool>(),
            any::<bool>(),
            0u64..=30_000,
            0u64..=5_000,
            1u32..=5,
        ),
        (
            0u32..=200,
            1u64..=900,
            [1u32..=400, 1u32..=400],
            [0u32..=40, 0u32..=40],
        ),
        [prop::option::of(1u32..=500), prop::option::of(1u32..=500)],
        (0.0f64..40.0, 0u64..=i64::MAX as u64),
        (
            prop::option::of(1u64..=20_000),
            prop::option::of(1u64..=20_000),
            any::<bool>(),
        ),
        ([1u32..=600, 1u32..=600], 1u32..=100, any::<bool>()),
    )
        .prop_map(
            |(time, money, pools, expiry, usage, caps, rules)| Generated {
                anchor_day: time.0,
                anchor_month: time.1,
                months: time.2,
                end_days: time.3,
                yen: money.0,
                half_even: money.1,
                fee_cents: money.2,
                seat_fee_cents: money.3,
                seats: money.4,
                included: pools.0,
                flex_cents: pools.1,
                bundle_credits: pools.2,
                discount: pools.3,
                expiry_days: expiry,
                daily: usage.0,
                seed: usage.1,
                strategy_cap: caps.0,
                plan_cap: caps.1,
                cap_per_flex_period: caps.2,
                below: rules.0,
                alert_percent: rules.1,
                purchase_order: rules.2,
            },
        )
}

/// An amount of `cents` hundredths, in yen as whole units (a currency without minor units).
fn amount(g: &Generated, cents: u64) -> String {
    if g.yen {
        format!("{cents}")
    } else {
        format!("{}.{:02}", cents / 100, cents % 100)
    }
}

fn scenario_text(g: &Generated) -> String {
    // February has no 29th-31st in 2027: the anchor day clamps (`add_months`) where it must.
    let day = g.anchor_day.min(match g.anchor_month {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    });
    let anchor = format!("2027-{:02}-{day:02}", g.anchor_month);
    let horizon = match g.months {
        Some(m) => format!("months = {m}"),
        None => {
            let start = chrono::NaiveDate::parse_from_str(&anchor, "%Y-%m-%d").unwrap();
            format!("end = {}", start + chrono::Days::new(u64::from(g.end_days)))
        }
    };
    let expiry = |k: usize| match g.expiry_days[k] {
        Some(d) => format!(", expires_after_days = {d}"),
        None => String::new(),
    };
    let bundle = |k: usize| {
        format!(
            "{{ id = \"b{k}\", credits = {}, discount_percent = {}{} }}",
            g.bundle_credits[k],
            g.discount[k],
            expiry(k)
        )
    };
    let cap = |hundredths: Option<u64>| match hundredths {
        Some(h) => format!("\"{}\"", amount(g, h)),
        None => "\"none\"".to_string(),
    };
    let period = if g.cap_per_flex_period {
        "flex_period"
    } else {
        "cycle"
    };
    format!(
        r#"[scenario]
name = "generated"

[pricing.book]
name = "b"
currency = "{currency}"
rounding = "{rounding}"
alert_threshold_percent = {alert}
lot_order = "{lot_order}"

[[pricing.plans]]
id = "m"
cycle = "monthly"
fee = "{fee}"
seat_fee = "{seat_fee}"
included_credits = {included}
flex_cap = {plan_cap}
cap_period = "{period}"

[[pricing.cohorts]]
id = "all"
prepaid_base_price = "{base}"
flex_price = "{flex}"
bundles = [{b0}, {b1}]

[[pricing.rates]]
metric = "credits"
credits = 1

[workspace]
created = {anchor}
plan = "m"
seats = {seats}

[horizon]
start = {anchor}
{horizon}

[simulation]
seed = {seed}

[[simulation.model]]
metric = "credits"
daily = {daily:.3}
distribution = "gamma"
shape = 2

[[strategy]]
name = "flex"
flex_cap = {strategy_cap}

[[strategy]]
name = "the plan's cap"

[[strategy]]
name = "both bundles"
flex_cap = "none"
buy_at_start = [{{ bundle = "b0" }}, {{ bundle = "b1" }}]

[[strategy]]
name = "one bundle twice"
flex_cap = "none"
buy_at_start = [{{ bundle = "b1" }}, {{ bundle = "b1" }}]

[[strategy]]
name = "no flex"
flex = false
buy_at_start = [{{ bundle = "b0" }}]

[[strategy]]
name = "top up b0"
flex_cap = {strategy_cap}
top_up = {{ below = {below0}, buy = {{ bundle = "b0" }} }}

[[strategy]]
name = "b1 at start, top up b1"
buy_at_start = [{{ bundle = "b1" }}]
top_up = {{ below = {below1}, buy = {{ bundle = "b1" }} }}

[[strategy]]
name = "buy on alert"
flex_cap = {strategy_cap}
buy_on_alert = true

[[strategy]]
name = "b0 at start, buy on alert, top up b1"
flex = false
buy_at_start = [{{ bundle = "b0" }}]
buy_on_alert = true
top_up = {{ below = {below1}, buy = {{ bundle = "b1" }} }}
"#,
        currency = if g.yen { "JPY" } else { "USD" },
        rounding = if g.half_even { "half_even" } else { "half_up" },
        fee = amount(g, g.fee_cents),
        seat_fee = amount(g, g.seat_fee_cents),
        included = g.included,
        base = amount(g, g.flex_cents),
        flex = amount(g, g.flex_cents + 7),
        b0 = bundle(0),
        b1 = bundle(1),
        seats = g.seats,
        seed = g.seed,
        daily = g.daily + 0.001,
        plan_cap = cap(g.plan_cap),
        strategy_cap = cap(g.strategy_cap),
        below0 = g.below[0],
        below1 = g.below[1],
        alert = g.alert_percent,
        lot_order = if g.purchase_order {
            "purchase_order"
        } else {
            "expiry_then_purchase"
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn generated_scenarios_are_the_same_month_by_month_as_in_full(g in generated()) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("generated.toml");
        std::fs::write(&file, scenario_text(&g)).unwrap();
        let monthly = both_ways(&file, 40);
        // "flex" and "the plan's cap" buy nothing, so they always go month by month.
        prop_assert!(monthly >= 2, "{monthly}");
    }
}

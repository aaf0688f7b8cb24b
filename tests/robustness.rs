//! Mutated scenario files never panic the loader, and whatever loads also replays without a
//! panic: an input that validation accepts runs to a result or to an error naming a limit.
//! Two generators: random edits of a scenario (some setting a number to a value at a limit),
//! and scenarios whose every multiplying or summing amount is drawn from values at the limits.
//! Both run in every `cargo test` (about 3,000 cases, a few seconds); a fuzz target with
//! cargo-fuzz would search deeper, but not in bounded CI time.

use creditsim::input::check::check_scenario;
use creditsim::input::scenario::load;
use proptest::prelude::*;
use std::path::Path;

/// The tiny scenario of tests/cli.rs plus a bundle, a strategy with rules and a schedule, so
/// mutations reach every part of the loader.
const BASE: &str = r#"
[scenario]
name = "mutant"

[pricing.book]
name = "b"
currency = "USD"
prepaid_expires_after_days = 40

[[pricing.plans]]
id = "basic"
cycle = "monthly"
fee = "10.00"
included_credits = 5
flex_cap = "30.00"

[[pricing.plans]]
id = "pro"
cycle = "annual"
fee = "100.00"
included_credits = 80

[[pricing.cohorts]]
id = "all"
prepaid_base_price = "2.00"
flex_price = "2.50"
bundles = [{ id = "b10", credits = 10, discount_percent = 10 }]
open_amount = { min = "1.00", max = "500.00" }

[[pricing.rates]]
metric = "credits"
credits = 1

[workspace]
created = 2026-01-31
plan = "basic"

[horizon]
start = 2026-01-31
months = 14

[usage]
events = [
  { at = 2026-02-10, metric = "credits", quantity = 8.5 },
  { at = 2026-03-10, metric = "credits", quantity = 40 },
  { at = 2026-04-30, metric = "credits", quantity = 3 },
]

[[strategy]]
name = "s"
buy_at_start = [{ bundle = "b10" }]
top_up = { below = 2, buy = { amount = "7.00" } }
buy_on_alert = true
upgrade = { to = "pro", when_cycle_flex_spend_exceeds = "5.00" }
schedule = [{ at = 2026-03-01, flex_cap = "none" }]

[[expect]]
cash = "1.00"
"#;

#[derive(Debug, Clone)]
enum Edit {
    Delete {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        text: String,
    },
    /// Replaces one digit, the most common kind of meaningful edit.
    Digit {
        nth: usize,
        digit: char,
    },
    /// Replaces one number with a value at or near a limit: where overflow hides.
    Extreme {
        nth: usize,
        value: &'static str,
    },
}

/// Values at and around the amount limits (10^12 credits or currency units), the per-seat and
/// horizon limits, the smallest amount, and a bundle size that overflowed a lot's valuation.
const EXTREMES: &[&str] = &[
    "0",
    "0.000001",
    "1000000",
    "240",
    "100000000000",
    "999999999999.99",
    "1000000000000",
    "1000000000001",
    "14583431672",
    "9223372036854",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..BASE.len(), 1usize..12).prop_map(|(at, len)| Edit::Delete { at, len }),
        (0..BASE.len(), "[-=\\[\\]{}\".,0-9a-z_ \n#]{1,8}")
            .prop_map(|(at, text)| Edit::Insert { at, text }),
        (0usize..400, proptest::char::range('0', '9'))
            .prop_map(|(nth, digit)| Edit::Digit { nth, digit }),
        (0usize..400, proptest::sample::select(EXTREMES))
            .prop_map(|(nth, value)| Edit::Extreme { nth, value }),
    ]
}

fn apply(text: &str, e: &Edit) -> String {
    let mut s = text.to_string();
    let clamp = |at: usize, s: &str| {
        let mut at = at.min(s.len());
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match e {
        Edit::Delete { at, len } => {
            let a = clamp(*at, &s);
            let b = clamp(a + len, &s);
            s.replace_range(a..b, "");
        }
        Edit::Insert { at, text } => {
            let a = clamp(*at, &s);
            s.insert_str(a, text);
        }
        Edit::Digit { nth, digit } => {
            let positions: Vec<usize> = s
                .char_indices()
                .filter(|(_, c)| c.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            if !positions.is_empty() {
                let i = positions[nth % positions.len()];
                s.replace_range(i..i + 1, &digit.to_string());
            }
        }
        Edit::Extreme { nth, value } => {
            let numbers = number_spans(&s);
            if !numbers.is_empty() {
                let (a, b) = numbers[nth % numbers.len()];
                s.replace_range(a..b, value);
            }
        }
    }
    s
}

/// Byte ranges of the runs of digits and dots (numbers, and the digits of dates).
fn number_spans(s: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        match (c.is_ascii_digit() || c == '.', start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                spans.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    spans
}

fn load_and_run(dir: &Path, text: &str) {
    let path = dir.join("mutant.toml");
    std::fs::write(&path, text).unwrap();
    match load(&path) {
        Ok(s) => {
            // A run may stop at a limit; then it says which, and never panics.
            if let Err(e) = check_scenario(&s) {
                assert!(e.contains("limit") || e.contains("never settle"), "{e}");
            }
        }
        Err(e) => {
            // Every error names the file.
            assert!(e.to_string().contains("mutant.toml"), "{e}");
        }
    }
}

#[test]
fn the_base_scenario_loads_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutant.toml");
    std::fs::write(&path, BASE).unwrap();
    let s = load(&path).expect("the base scenario is valid");
    assert_eq!(s.usage.len(), 3);
    check_scenario(&s).expect("the base scenario runs");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]
    #[test]
    fn mutated_scenarios_never_panic(edits in proptest::collection::vec(edit(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = BASE.to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        load_and_run(dir.path(), &text);
    }
}

/// A scenario with every amount that multiplies or sums in the ledger set from `v`: the
/// generator below draws each from values at the limits, so products and totals land on both
/// sides of them in one file.
#[derive(Debug, Clone)]
struct Sizes {
    fee: &'static str,
    seat_fee: &'static str,
    seats: u32,
    included: &'static str,
    included_per_seat: &'static str,
    months: u32,
    base_price: &'static str,
    flex_price: &'static str,
    bundle_credits: &'static str,
    discount: &'static str,
    open_max: &'static str,
    below: &'static str,
    quantity: &'static str,
}

fn sized_scenario(v: &Sizes) -> String {
    format!(
        r#"
[scenario]
name = "sizes"

[pricing.book]
name = "b"
currency = "USD"

[[pricing.plans]]
id = "basic"
cycle = "monthly"
fee = "{fee}"
seat_fee = "{seat_fee}"
included_credits = {included}
included_credits_per_seat = {included_per_seat}

[[pricing.plans]]
id = "pro"
cycle = "annual"
fee = "{fee}"
included_credits = {included}

[[pricing.cohorts]]
id = "all"
prepaid_base_price = "{base_price}"
flex_price = "{flex_price}"
bundles = [{{ id = "b", credits = {bundle_credits}, discount_percent = {discount} }}]
open_amount = {{ min = "0.01", max = "OPEN_MAX" }}

[[pricing.rates]]
metric = "credits"
credits = 1

[workspace]
created = 2026-01-31
plan = "basic"
seats = {seats}

[horizon]
start = 2026-01-31
months = {months}

[usage]
events = [
  {{ at = 2026-02-10, metric = "credits", quantity = {quantity} }},
  {{ at = 2026-03-10, metric = "credits", quantity = {quantity} }},
]

[[strategy]]
name = "flex"

[[strategy]]
name = "bundle and top-up"
buy_at_start = [{{ bundle = "b" }}]
top_up = {{ below = {below}, buy = {{ bundle = "b" }} }}
buy_on_alert = true
upgrade = {{ to = "pro", when_cycle_flex_spend_exceeds = "5.00" }}

[[strategy]]
name = "open amounts"
flex = false
buy_at_start = [{{ amount = "OPEN_MAX" }}]
schedule = [{{ at = 2026-03-01, flex = true }}]
"#,
        fee = v.fee,
        seat_fee = v.seat_fee,
        included = v.included,
        included_per_seat = v.included_per_seat,
        base_price = v.base_price,
        flex_price = v.flex_price,
        bundle_credits = v.bundle_credits,
        discount = v.discount,
        seats = v.seats,
        months = v.months,
        quantity = v.quantity,
        below = v.below,
    )
    .replace("OPEN_MAX", v.open_max)
}

fn sizes() -> impl Strategy<Value = Sizes> {
    let pick = |values: &'static [&'static str]| proptest::sample::select(values);
    // Ordinary values beside the extreme ones, so that many combinations load and run.
    let amounts: &'static [&'static str] = &[
        "0.01",
        "10.00",
        "99.00",
        "100000000000",
        "999999999999.99",
        "1000000000000",
    ];
    let credits: &'static [&'static str] = &[
        "0",
        "0.000001",
        "1",
        "30",
        "14583431672",
        "100000000000",
        "1000000000000",
    ];
    let prices: &'static [&'static str] = &["0.000001", "0.01", "2.00", "10", "1000000"];
    let seats = proptest::sample::select(&[1u32, 5, 1000, 1_000_000][..]);
    (
        (pick(amounts), pick(amounts), seats),
        (
            pick(credits),
            pick(credits),
            proptest::sample::select(&[12u32, 240][..]),
        ),
        (
            pick(prices),
            pick(prices),
            pick(&credits[1..]),
            pick(&["0", "20", "99.9999", "100"]),
        ),
        (pick(amounts), pick(&credits[1..]), pick(credits)),
    )
        .prop_map(|(a, b, c, d)| Sizes {
            fee: a.0,
            seat_fee: a.1,
            seats: a.2,
            included: b.0,
            included_per_seat: b.1,
            months: b.2,
            base_price: c.0,
            flex_price: c.1,
            bundle_credits: c.2,
            discount: c.3,
            open_max: d.0,
            below: d.1,
            quantity: d.2,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]
    /// Amounts at the limits, in every combination: the scenario is rejected with a located
    /// error, or it runs to a result or to an error naming a limit. Never a panic, never a
    /// wrapped amount (a result's totals are re-added here in `i128`).
    #[test]
    fn amounts_at_the_limits_are_an_error_or_exact(v in sizes()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sizes.toml");
        std::fs::write(&path, sized_scenario(&v)).unwrap();
        let Ok(s) = load(&path) else { return Ok(()) };
        match creditsim::input::check::run(&s) {
            Err(e) => prop_assert!(e.to_string().contains("would pass the limit"), "{e}"),
            Ok(outcomes) => {
                for o in outcomes {
                    let t = &o.totals;
                    let parts = i128::from(t.money.plan_fees.micros())
                        + i128::from(t.money.prepaid.micros())
                        + i128::from(t.money.flex.micros());
                    prop_assert_eq!(i128::from(t.cash().micros()), parts);
                    prop_assert!(parts <= i128::from(creditsim::model::amounts::MONEY_MAX.micros()));
                    prop_assert!(t.money.plan_fees.micros() >= 0 && t.money.flex.micros() >= 0);
                }
            }
        }
    }
}

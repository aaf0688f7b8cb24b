//! Mutated scenario files never panic the loader, and whatever loads also replays without a
//! panic: the ledger must not fail on any input that validation accepts. (A fuzz target with
//! cargo-fuzz would search deeper; this runs in every `cargo test`.)

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
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..BASE.len(), 1usize..12).prop_map(|(at, len)| Edit::Delete { at, len }),
        (0..BASE.len(), "[-=\\[\\]{}\".,0-9a-z_ \n#]{1,8}")
            .prop_map(|(at, text)| Edit::Insert { at, text }),
        (0usize..400, proptest::char::range('0', '9'))
            .prop_map(|(nth, digit)| Edit::Digit { nth, digit }),
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
    }
    s
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

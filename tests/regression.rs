//! Every scenario under `scenarios/` is checked through the same `check` the CLI uses: a
//! billing-rule change that moves a pinned number fails `cargo test` with the mismatch.

use creditsim::input::check::check_scenario;
use creditsim::input::files::{expand, kind_of, FileKind};
use creditsim::input::scenario::{load, load_book};
use creditsim::report::check::mismatch_lines;
use std::path::PathBuf;

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Loads and checks every file under `dir`; returns problems as readable lines and the number
/// of expected values that passed.
fn check(dir: &str) -> (Vec<String>, usize) {
    let files = expand(&[scenarios_dir().join(dir)]).expect("scenario folder exists");
    let mut problems = Vec::new();
    let mut passed = 0;
    for f in files {
        match kind_of(&f) {
            FileKind::PricingBook => {
                if let Err(e) = load_book(&f) {
                    problems.push(e.to_string());
                }
            }
            FileKind::Profile => {
                if let Err(e) = creditsim::input::profile::load(&f) {
                    problems.push(e.to_string());
                }
            }
            FileKind::Segments => {
                if let Err(e) = creditsim::input::segments::load(&f) {
                    problems.push(e.to_string());
                }
            }
            FileKind::Scenario => match load(&f) {
                Err(e) => problems.push(e.to_string()),
                Ok(s) => match check_scenario(&s) {
                    Err(e) => problems.push(format!("{}: {e}", f.display())),
                    Ok(c) => {
                        passed += c.passed();
                        problems.extend(mismatch_lines(&c));
                    }
                },
            },
        }
    }
    (problems, passed)
}

#[test]
fn regression_scenarios_pass() {
    let (problems, passed) = check("regression");
    assert!(
        problems.is_empty(),
        "regression scenarios failed:\n{}",
        problems.join("\n")
    );
    // A folder of scenarios that pins nothing protects nothing.
    assert!(
        passed >= 50,
        "only {passed} expected values checked in scenarios/regression"
    );
}

#[test]
fn examples_and_books_are_valid() {
    for dir in ["examples", "pricing"] {
        let (problems, _) = check(dir);
        assert!(problems.is_empty(), "{dir}:\n{}", problems.join("\n"));
    }
}

#[test]
fn every_regression_scenario_pins_something() {
    let files = expand(&[scenarios_dir().join("regression")]).unwrap();
    let empty: Vec<_> = files
        .iter()
        .filter(|f| kind_of(f) == FileKind::Scenario)
        .filter(|f| load(f).map(|s| s.pins_nothing()).unwrap_or(false))
        .collect();
    assert!(
        empty.is_empty(),
        "regression scenarios without [[expect]]: {empty:?}"
    );
}

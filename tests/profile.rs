//! Customer profiles (`input::profile`): the examples load, their usage model's monthly
//! P10/P50/P90 match the stated low/per_month/high within a derived Monte Carlo tolerance, and
//! bad profiles fail with located errors.

use creditsim::input::profile::{self, Profile, Z90};
use creditsim::usage::synthetic::{DrawBuffers, DAYS_PER_MONTH};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::ToPrimitive;
use std::path::{Path, PathBuf};

const PATHS: usize = 4000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> Profile {
    let path = root().join("scenarios/profiles").join(name);
    profile::load(&path).unwrap_or_else(|e| panic!("{}", e.render()))
}

/// The empirical `p` quantile (nearest rank) of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let k = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// Standard error of the empirical `p` quantile of `n` draws of a lognormal with log-sd
/// `sigma` whose `p` quantile is `x`: sqrt(p(1-p)/n) / f(x), and f(x) = phi(z_p) / (x sigma).
fn quantile_se(p: f64, n: usize, x: f64, sigma: f64) -> f64 {
    let z: f64 = if p == 0.5 { 0.0 } else { Z90 };
    let phi = (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    (p * (1.0 - p) / n as f64).sqrt() * x * sigma / phi
}

/// Each metric's first-month totals over `PATHS` paths, scaled to an average month
/// (x 30.436875 / days) and divided by the growth's mean over the month, in metric units.
fn first_month_totals(p: &Profile) -> Vec<Vec<f64>> {
    let s = &p.scenario;
    let model = &s.simulation.as_ref().unwrap().model;
    let start = s.case.horizon.start;
    let end = creditsim::model::calendar::add_months(start, 1);
    let days = (end - start).num_days() as u32;
    let horizon = model.horizon(start, days);
    let mut rng = ChaCha8Rng::seed_from_u64(20260401);
    let mut buffers = DrawBuffers::default();
    let mut totals = vec![Vec::with_capacity(PATHS); model.metrics.len()];
    for _ in 0..PATHS {
        let mut units = vec![0i64; model.metrics.len()];
        horizon.walk(&mut rng, &mut buffers, |_, drawn| {
            if let Some((m, u)) = drawn {
                units[m] += u;
            }
        });
        for (m, metric) in model.metrics.iter().enumerate() {
            let g = metric.trend_per_month;
            let growth: f64 = (0..days)
                .map(|d| (1.0 + g).powf(f64::from(d) / DAYS_PER_MONTH))
                .sum::<f64>()
                / f64::from(days);
            let q = units[m] as f64 * metric.unit.to_f64().unwrap();
            totals[m].push(q * DAYS_PER_MONTH / f64::from(days) / growth);
        }
    }
    totals
}

/// P10, P50 and P90 of a month against low, per_month and high: within 4 standard errors
/// of the empirical quantile (about 1% of the value at sigma 0.4 and 4,000 paths), plus how
/// far the reading itself puts the model's quantile from the stated one (a few tenths of a
/// percent for the examples, whose per_month is near the geometric mean of low and high).
fn check_quantiles(name: &str) {
    let p = example(name);
    let totals = first_month_totals(&p);
    for (reading, mut t) in p.usage.iter().zip(totals) {
        t.sort_by(f64::total_cmp);
        let targets = [
            (0.1, reading.low, reading.p10),
            (0.5, reading.per_month, reading.per_month.to_f64().unwrap()),
            (0.9, reading.high, reading.p90),
        ];
        for (q, stated, model) in targets {
            let stated = stated.to_f64().unwrap();
            let measured = quantile(&t, q);
            let se = quantile_se(q, PATHS, model, reading.sigma);
            let tolerance = 4.0 * se + (model - stated).abs();
            println!(
                "{name} {}: P{:.0} measured {measured:.1}, stated {stated}, model {model:.1}, \
                 se {se:.1}, tolerance {tolerance:.1}",
                reading.metric,
                q * 100.0
            );
            assert!(
                (measured - stated).abs() <= tolerance,
                "{name} {}: P{} {measured} vs {stated} (tolerance {tolerance})",
                reading.metric,
                q * 100.0
            );
        }
    }
}

#[test]
fn acme_vision_months_match_the_stated_range() {
    check_quantiles("acme-vision.toml");
}

#[test]
fn wallet_shop_months_match_the_stated_range() {
    check_quantiles("wallet-shop.toml");
}

#[test]
fn examples_become_scenarios_with_the_pay_as_you_go_baseline() {
    let p = example("acme-vision.toml");
    let s = &p.scenario;
    assert_eq!(p.customer, "Acme Vision");
    assert_eq!(s.case.strategies.len(), 1);
    assert_eq!(s.case.strategies[0].name, "pay as you go on core-monthly");
    let sim = s.simulation.as_ref().unwrap();
    assert_eq!((sim.paths, sim.seed, sim.baseline), (2000, 1, 0));
    assert_eq!(s.inputs[0].role, "profile");
    assert!(
        p.reading.contains(
            "gpu_training_minutes: about 2,500 minutes a month; 1 month in 10 below 1,500 and 1 in 10 above 4,200."
        ),
        "{}",
        p.reading
    );
    let w = example("wallet-shop.toml");
    assert_eq!(w.scenario.case.workspace.seats, 2);
    assert_eq!(
        w.scenario.case.strategies[0].name,
        "pay as you go on essential"
    );
}

/// A profile in a temporary folder, its pricing book the credits book.
fn bad_profile(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let book = root().join("scenarios/pricing/credits-book.toml");
    let text = text.replace("BOOK", &book.display().to_string());
    let path = dir.path().join("profile.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// The first line of the error, without the file's path: "LINE:COL: message".
fn error_of(text: &str) -> String {
    let (_dir, path) = bad_profile(text);
    let e = profile::load(&path).expect_err("a bad profile");
    let first = e.render().lines().next().unwrap().to_string();
    let prefix = format!("{}:", path.display());
    first
        .trim_start_matches("error: ")
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("not located in the profile: {first}"))
        .to_string()
}

const HEAD: &str = "[profile]\ncustomer = \"X\"\npricing_book = \"BOOK\"\ncreated = 2026-04-01\nplan = \"core-monthly\"\n";

#[test]
fn an_unknown_key_is_located() {
    let e = error_of(&format!(
        "{HEAD}colour = \"red\"\n[[usage]]\nmetric = \"credits\"\nper_month = 10\nlow = 5\nhigh = 20\n"
    ));
    assert!(e.starts_with("6:1: unknown field `colour`"), "{e}");
}

#[test]
fn a_currency_other_than_the_books_is_located() {
    let e = error_of(&format!(
        "{HEAD}currency = \"EUR\"\n[[usage]]\nmetric = \"credits\"\nper_month = 10\nlow = 5\nhigh = 20\n"
    ));
    assert_eq!(
        e,
        "6:12: currency \"EUR\": the pricing book prices in USD; quote in the book's currency"
    );
}

/// Counts are read at TOML's full 64-bit width, so one outside u32 is refused with its field's
/// range (seats 1-1,000,000, months 1-240, paths 1-10,000,000; a seed 0-u64::MAX), not
/// serde's "expected u32".
#[test]
fn counts_outside_32_bits_name_the_field_and_its_range() {
    let usage = "[[usage]]\nmetric = \"credits\"\nper_month = 10\nlow = 5\nhigh = 20\n";
    let cases = [
        ("seats = -3", "6:9: seats -3 is outside 1-1,000,000"),
        (
            "months = 4294967297",
            "6:10: months 4294967297 is outside 1-240",
        ),
        ("paths = -1", "6:9: paths -1 is outside 1-10,000,000"),
        (
            "seed = -2",
            "6:8: seed -2 is outside 0-9,223,372,036,854,775,807",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(error_of(&format!("{HEAD}{line}\n{usage}")), expected);
    }
}

#[test]
fn ranges_and_a_history_together_are_refused() {
    let trace = root().join("notebooks-data/traces/prospect-quarter.csv");
    let e = error_of(&format!(
        "{HEAD}usage_trace = \"{}\"\n[[usage]]\nmetric = \"credits\"\nper_month = 10\nlow = 5\nhigh = 20\n",
        trace.display()
    ));
    assert!(
        e.starts_with("7:1: give [[usage]] ranges or a usage_trace, not both"),
        "{e}"
    );
    let e = error_of(&format!(
        "{HEAD}growth_percent_per_month = 3\nusage_trace = \"{}\"\n",
        trace.display()
    ));
    assert!(
        e.starts_with("7:15: growth_percent_per_month shapes"),
        "{e}"
    );
}

/// A profile on the customer's own history reads its range from the projection. The hand
/// check of scenarios/examples/prospect-bootstrap.toml (tests/reference/bootstrap_mean.py,
/// exact fractions) puts the expected year at 1,241.364 credits: 103.447 a month. The
/// median of 1,000 projected years' average month lies within 1% of it (the months'
/// spread is a few percent, so the median's standard error is a few hundredths of a
/// percent of it), and P10 < P50 < P90.
#[test]
fn a_history_profile_reads_its_range_from_the_projection() {
    let p = example("prospect-history.toml");
    let l = p.levels;
    let expected = 1_241.364 / 12.0;
    let median = l.expected_micros as f64 / 1e6;
    assert!(
        (median / expected - 1.0).abs() < 0.01,
        "{median} against {expected}"
    );
    assert!(l.low_micros < l.expected_micros && l.expected_micros < l.high_micros);
    assert!(p.usage.is_empty());
    assert!(p
        .reading
        .starts_with("Projected from the customer's own usage history"));
    let sim = p.scenario.simulation.as_ref().unwrap();
    assert_eq!((sim.paths, sim.seed), (2000, 1));
}

#[test]
fn an_unknown_metric_is_located() {
    let e = error_of(&format!(
        "{HEAD}[[usage]]\nmetric = \"gpu_hours\"\nper_month = 10\nlow = 5\nhigh = 20\n"
    ));
    assert!(
        e.starts_with("7:10: unknown metric \"gpu_hours\" (known:"),
        "{e}"
    );
}

#[test]
fn low_above_high_is_located() {
    let e = error_of(&format!(
        "{HEAD}[[usage]]\nmetric = \"credits\"\nper_month = 10\nlow = 30\nhigh = 20\n"
    ));
    assert_eq!(
        e,
        "9:7: low (30) is above high (20): the range is low to high"
    );
}

#[test]
fn an_unknown_plan_is_located_in_the_profile() {
    let e = error_of(
        "[profile]\ncustomer = \"X\"\npricing_book = \"BOOK\"\ncreated = 2026-04-01\nplan = \"gold\"\n[[usage]]\nmetric = \"credits\"\nper_month = 10\nlow = 5\nhigh = 20\n",
    );
    assert!(e.starts_with("5:8: "), "{e}");
}

#[test]
fn a_lopsided_range_is_read_with_the_wider_side_and_says_so() {
    let (_dir, path) = bad_profile(
        "[profile]\ncustomer = \"X\"\npricing_book = \"BOOK\"\ncreated = 2026-04-01\nplan = \"core-monthly\"\n[[usage]]\nmetric = \"credits\"\nper_month = 10\nlow = 5\nhigh = 40\n",
    );
    let p = profile::load(&path).unwrap_or_else(|e| panic!("{}", e.render()));
    let r = &p.usage[0];
    assert!(r.asymmetric);
    // The wider side is above: ln(40/10) / 1.2816, so P90 is 40 and P10 reads 2.5, not 5.
    assert!((r.sigma - 4f64.ln() / Z90).abs() < 1e-12);
    assert!((r.p90 - 40.0).abs() < 1e-9 && (r.p10 - 2.5).abs() < 1e-9);
    assert_eq!(
        p.reading,
        "credits: about 10 credits a month; 1 month in 10 below 5 and 1 in 10 above 40 \
         (the range is lopsided around 10: read with the wider side, as 2.5 to 40)."
    );
}

#[test]
fn a_profile_simulates_as_a_scenario() {
    use creditsim::analysis::montecarlo::{simulate, SimConfig};
    for name in ["acme-vision.toml", "wallet-shop.toml"] {
        let p = example(name);
        let s = &p.scenario;
        let sim = s.simulation.as_ref().unwrap();
        let config = SimConfig {
            paths: 50,
            seed: sim.seed,
            threads: Some(1),
        };
        let paths = simulate(&s.case, &sim.model, config, &|_| {}).expect("simulates");
        assert_eq!(paths.paths.len(), 50, "{name}");
    }
}

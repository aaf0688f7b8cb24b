//! Advice's contract: on expiring prepaid with no salvage the best amount bought at start is
//! the newsvendor's critical fractile (checked against the exact Poisson distribution); the
//! same seed gives the same advice on any thread count; the command explains itself and
//! refuses bad flags.

use creditsim::analysis::advise::{
    advise, candidates, race, Constraints, Goal, Objective, RaceConfig, Setup,
};
use creditsim::analysis::montecarlo::{demands, Measure, SimConfig};
use creditsim::input::scenario::{load, Scenario};
use std::path::Path;
use std::process::Command;

fn scenario(relative: &str) -> Scenario {
    load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).expect("the scenario loads")
}

const ECONOMIC_MEAN: Goal = Goal {
    objective: Objective::Mean,
    measure: Measure::Economic,
};

const NO_LIMITS: Constraints = Constraints {
    max_blocked_ppm: None,
    max_upfront: None,
};

/// P(N = k) for N ~ Poisson(mean), k = 0..len.
fn poisson_pmf(mean: f64, len: usize) -> Vec<f64> {
    let mut pmf = vec![(-mean).exp()];
    for k in 1..len {
        pmf.push(pmf[k - 1] * mean / k as f64);
    }
    pmf
}

/// Mean and standard deviation of what buying `q` at start costs more than buying `best`,
/// on one month: 0.80 (q - best) + E[max(0, N - q)] - E[max(0, N - best)] at flex 1.00.
fn paired_difference(pmf: &[f64], q: i64, best: i64) -> (f64, f64) {
    let cost = |q: i64, n: i64| 0.8 * q as f64 + (n - q).max(0) as f64;
    let d = |n: usize| cost(q, n as i64) - cost(best, n as i64);
    let mean: f64 = pmf.iter().enumerate().map(|(n, p)| p * d(n)).sum();
    let square: f64 = pmf.iter().enumerate().map(|(n, p)| p * d(n) * d(n)).sum();
    (mean, (square - mean * mean).max(0.0).sqrt())
}

#[test]
fn the_best_amount_at_start_is_the_newsvendor_critical_fractile() {
    let s = scenario("scenarios/regression/advise-newsvendor.toml");
    let spec = s.simulation.as_ref().unwrap();
    let sim = SimConfig {
        paths: spec.paths,
        seed: spec.seed,
        threads: None,
    };
    // The reference: N ~ Poisson(15) (0.5 a day over April's 30 days); b / f = 0.80, so
    // Q* is the smallest q with F(q) >= 1 - 0.80 = 0.2.
    let pmf = poisson_pmf(15.0, 120);
    let mut cdf = 0.0;
    let q_star = pmf
        .iter()
        .position(|p| {
            cdf += p;
            cdf >= 0.2
        })
        .unwrap() as i64;
    assert_eq!(q_star, 12, "F(11) = 0.1848, F(12) = 0.2676");

    let pilot = demands(&s.case, &spec.model, SimConfig { paths: 1024, ..sim });
    let all = candidates(&s.case, &s.case.strategies[0], &pilot);
    // The amounts bought at start, and the current setup (the race's reference).
    let at_start: Vec<_> = all
        .into_iter()
        .filter(|c| matches!(c.setup, Setup::Current | Setup::AtStart { .. }))
        .collect();
    let counts: Vec<u64> = at_start
        .iter()
        .filter_map(|c| match c.setup {
            Setup::AtStart { count, .. } => Some(count),
            _ => None,
        })
        .collect();
    assert!(counts.contains(&11) && counts.contains(&12) && counts.contains(&13));

    let result = race(
        &s.case,
        &spec.model,
        &at_start,
        ECONOMIC_MEAN,
        NO_LIMITS,
        RaceConfig::new(sim, 3),
    );
    let best = result.standing.iter().find(|&&c| c != 0).copied().unwrap();
    let Setup::AtStart { count, .. } = at_start[best].setup else {
        panic!("an amount at start wins");
    };
    // Within Monte Carlo error: the winner's exact expected cost is above the optimum's by
    // less than 3 standard errors of the paired difference over the scenario's paths (Q* =
    // 12 itself, or 11, whose mean excess 0.0152 is 2.4 standard errors at 4,000 paths).
    let (excess, sd) = paired_difference(&pmf, count as i64, q_star);
    let stderr = sd / f64::from(spec.paths).sqrt();
    assert!(
        excess <= 3.0 * stderr,
        "advised {count}, Q* = {q_star}: exact excess {excess:.4} > 3 x {stderr:.4}"
    );
    assert!(
        (count as i64 - q_star).abs() <= 1,
        "advised {count}, Q* = {q_star}"
    );
}

#[test]
fn same_seed_same_advice_on_one_or_two_threads() {
    let s = scenario("scenarios/examples/steady-inference.toml");
    let spec = s.simulation.as_ref().unwrap();
    let run = |threads: usize| {
        let sim = SimConfig {
            paths: 600,
            seed: 5,
            threads: Some(threads),
        };
        advise(
            &s.case,
            &spec.model,
            spec.baseline,
            ECONOMIC_MEAN,
            NO_LIMITS,
            RaceConfig::new(sim, 3),
        )
        .expect("in limits")
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.recommended, two.recommended);
    assert_eq!(one.finalists, two.finalists);
    assert_eq!(one.race, two.race);
    assert_eq!(one.summary, two.summary);
    assert!(one.race.replays > 0 && !one.race.rounds.is_empty());
}

fn creditsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_command_recommends_and_says_why() {
    let (code, out, err) = creditsim(&[
        "advise",
        "scenarios/examples/steady-inference.toml",
        "--paths",
        "400",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("saves") && out.contains("95% CI"), "{out}");
    assert!(out.contains("against \"flex only\""), "{out}");
    // A scenario without a usage model is advised on a bootstrap of its own usage.
    let (code, out, err) = creditsim(&[
        "advise",
        "scenarios/examples/inference-quarter.toml",
        "--paths",
        "200",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["paths"], 200, "{out}");
    let why = v["why"].as_str().expect("a why");
    assert!(why.contains("saves") || why.starts_with("Keep"), "{why}");
}

#[test]
fn bad_flags_are_refused_with_exit_2() {
    let cases: [(&[&str], &str); 3] = [
        (&["--current", "nobody"], "no strategy named \"nobody\""),
        (
            &["--max-upfront", "lots"],
            "--max-upfront \"lots\": not a number",
        ),
        (
            &["--max-blocked-percent", "150"],
            "--max-blocked-percent must be 0-100",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["advise", "scenarios/examples/steady-inference.toml"];
        args.extend_from_slice(flags);
        let (code, out, err) = creditsim(&args);
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(out.is_empty(), "no partial output");
        assert!(err.contains(message), "{flags:?}: {err}");
    }
}

#[test]
fn upgrade_rules_move_at_the_break_even_flex_spend() {
    // steady-inference: Core monthly (99.00, 30 credits included) in the cohort from
    // 2026-03-28 (flex 6.00). Growth monthly (299.00, 100 included) is cheaper in cash from
    // 64 credits a month (99 + 6 (u - 30) > 299 for u > 63.33); at 64 a Core cycle spends
    // 6.00 x (64 - 30) = 204.00 on flex: the rule moves once a cycle's flex passes 204.00.
    // The annual plans are another cycle: no rule from a monthly plan to them.
    let s = scenario("scenarios/examples/steady-inference.toml");
    let spec = s.simulation.as_ref().unwrap();
    let sim = SimConfig {
        paths: 256,
        seed: spec.seed,
        threads: None,
    };
    let pilot = demands(&s.case, &spec.model, sim);
    let upgrades: Vec<(String, String)> = candidates(&s.case, &s.case.strategies[0], &pilot)
        .iter()
        .filter_map(|c| match c.setup {
            Setup::Upgrade {
                to,
                flex_spend_over,
                ..
            } => Some((
                s.case.book.plans[to.0].id.clone(),
                flex_spend_over.to_decimal().normalize().to_string(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        upgrades,
        vec![("growth-monthly".to_string(), "204".to_string())]
    );
}

#[test]
fn serving_refused_usage_comes_before_cost() {
    // The wallet book has flex off by default, so paying as you go on "essential" refuses
    // usage on every path (no credits bought, no flex). A setup that serves that usage costs
    // more and must still win: like with like, as `analysis::ranking` ranks replays.
    let (code, out, err) = creditsim(&[
        "advise",
        "scenarios/profiles/wallet-shop.toml",
        "--paths",
        "300",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let setups = v["setups"].as_array().expect("setups");
    let current = &setups[0];
    let chosen = setups
        .iter()
        .find(|s| s["recommended"] == true)
        .expect("one");
    assert_eq!(current["p_blocked"], "1.0000", "{out}");
    assert_ne!(chosen["setup"], current["setup"], "{out}");
    let share = |s: &serde_json::Value| s["p_blocked"].as_str().unwrap().parse::<f64>().unwrap();
    assert!(share(chosen) < share(current), "{out}");
    assert!(
        v["why"].as_str().unwrap().contains("serves the usage"),
        "{out}"
    );
}

//! The Monte Carlo runner's contract: one seed reproduces everything, whatever the thread
//! count; a different seed gives different paths; every strategy sees the same usage.

use creditsim::analysis::montecarlo::{
    simulate, simulate_within, summarise, Comparison, SimConfig, Simulated,
};
use creditsim::input::scenario::{load, Scenario};
use std::path::Path;

fn scenario() -> Scenario {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/examples/steady-inference.toml");
    load(&path).expect("the example loads")
}

fn config(paths: u32, seed: u64, threads: usize) -> SimConfig {
    SimConfig {
        paths,
        seed,
        threads: Some(threads),
    }
}

/// `paths` paths of the example under `seed` on `threads` threads.
fn run(s: &Scenario, paths: u32, seed: u64, threads: usize) -> Simulated {
    let spec = s.simulation.as_ref().unwrap();
    simulate(&s.case, &spec.model, config(paths, seed, threads), &|_| {}).expect("in limits")
}

#[test]
fn same_seed_same_numbers_with_one_or_many_threads() {
    let s = scenario();
    let one = run(&s, 64, 99, 1);
    assert_eq!(one, run(&s, 64, 99, 2), "1 vs 2 threads");
    assert_eq!(one, run(&s, 64, 99, 5), "1 vs 5 threads");
    let one_thread = config(64, 99, 1);
    assert_eq!(
        summarise(&s.case, one_thread, Comparison::exact(0), &one),
        summarise(
            &s.case,
            one_thread,
            Comparison::exact(0),
            &run(&s, 64, 99, 3)
        )
    );
}

#[test]
fn month_end_costs_kept_in_a_file_give_the_same_results_as_in_memory() {
    // Runs past analysis::month_costs::IN_MEMORY_BYTES_MAX keep every path's month-end costs
    // in a temporary file, in blocks; forced here on a small run (a bound of 0 bytes: every
    // path is a block of its own), on 1 and 3 threads.
    let s = scenario();
    let spec = s.simulation.as_ref().unwrap();
    let in_memory = run(&s, 64, 99, 1);
    for threads in [1, 3] {
        let spilled = simulate_within(&s.case, &spec.model, config(64, 99, threads), &|_| {}, 0)
            .expect("in limits");
        assert_eq!(in_memory, spilled, "{threads} threads");
    }
    // The last month end is each path's total: its sum is the sum of the totals.
    let totals: i128 = in_memory
        .paths
        .iter()
        .map(|p| i128::from(p.strategies[1].cash.micros()))
        .sum();
    let cash_months = &in_memory.months[1][0];
    assert_eq!(cash_months.last().unwrap().sum_micros, totals);
}

#[test]
fn a_different_seed_draws_different_paths() {
    let s = scenario();
    let a = run(&s, 8, 1, 1);
    let b = run(&s, 8, 2, 1);
    assert_ne!(a, b);
    // Paths differ from each other too (each path has its own stream).
    assert_ne!(a.paths[0].demanded, a.paths[1].demanded);
}

#[test]
fn path_results_do_not_depend_on_the_path_count() {
    // Path i depends on (seed, i) only: the first 8 of 32 paths are the 8 of an 8-path run.
    let s = scenario();
    let few = run(&s, 8, 5, 2);
    let many = run(&s, 32, 5, 2);
    assert_eq!(few.paths[..], many.paths[..8]);
}

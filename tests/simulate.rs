//! The Monte Carlo runner's contract: one seed reproduces everything, whatever the thread
//! count; a different seed gives different paths; every strategy sees the same usage.

use creditsim::scenario::load;
use creditsim::sim::{simulate, summarise, Comparison, SimConfig};
use std::path::Path;

fn scenario() -> creditsim::scenario::Scenario {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/examples/steady-inference.toml");
    load(&path).expect("the example loads")
}

#[test]
fn same_seed_same_numbers_with_one_or_many_threads() {
    let s = scenario();
    let spec = s.simulation.as_ref().unwrap();
    let run = |threads| {
        let config = SimConfig {
            paths: 64,
            seed: 99,
            threads: Some(threads),
        };
        simulate(&s, &spec.model, config, &|_| {})
    };
    let one = run(1);
    assert_eq!(one, run(2), "1 vs 2 threads");
    assert_eq!(one, run(5), "1 vs 5 threads");
    let config = SimConfig {
        paths: 64,
        seed: 99,
        threads: Some(1),
    };
    assert_eq!(
        summarise(&s, config, Comparison::exact(0), &one),
        summarise(&s, config, Comparison::exact(0), &run(3))
    );
}

#[test]
fn a_different_seed_draws_different_paths() {
    let s = scenario();
    let spec = s.simulation.as_ref().unwrap();
    let a = simulate(
        &s,
        &spec.model,
        SimConfig {
            paths: 8,
            seed: 1,
            threads: Some(1),
        },
        &|_| {},
    );
    let b = simulate(
        &s,
        &spec.model,
        SimConfig {
            paths: 8,
            seed: 2,
            threads: Some(1),
        },
        &|_| {},
    );
    assert_ne!(a, b);
    // Paths differ from each other too (each path has its own stream).
    assert_ne!(a[0].demanded, a[1].demanded);
}

#[test]
fn path_results_do_not_depend_on_the_path_count() {
    // Path i depends on (seed, i) only: the first 8 of 32 paths are the 8 of an 8-path run.
    let s = scenario();
    let spec = s.simulation.as_ref().unwrap();
    let few = simulate(
        &s,
        &spec.model,
        SimConfig {
            paths: 8,
            seed: 5,
            threads: Some(2),
        },
        &|_| {},
    );
    let many = simulate(
        &s,
        &spec.model,
        SimConfig {
            paths: 32,
            seed: 5,
            threads: Some(2),
        },
        &|_| {},
    );
    assert_eq!(few[..], many[..8]);
}

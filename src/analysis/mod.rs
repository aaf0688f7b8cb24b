//! Answers on a `Case` (book, workspace, horizon, strategies), never on a parsed file: the
//! Monte Carlo runner and its statistics, and portfolios.

pub mod advise;
pub mod breakeven;
pub mod case;
pub mod impact;
pub mod metrics;
pub mod montecarlo;
pub mod month_costs;
pub mod portfolio;
pub mod quote;
pub mod ranking;
pub mod revenue_sensitivity;
pub mod sensitivity;
pub mod worst_case;

pub use case::Case;

/// Runs `work` on a pool of `threads` threads, or on rayon's global pool (one per core).
pub fn in_pool<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> T {
    match threads {
        None => work(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("a thread pool can be built")
            .install(work),
    }
}

//! Replays every workspace of a portfolio under every strategy, in parallel, and finds each
//! workspace's cheapest strategy. Results are in the portfolio's workspace order whatever the
//! thread count.

use crate::analysis::ranking::{rank, Contender};
use crate::engine::ledger::Totals;
use crate::engine::ledger::Workspace;
use crate::engine::replay::{replay, ReplayError};
use crate::engine::strategy::Strategy;
use crate::model::calendar::Instant;
use crate::model::pricing::PricingBook;
use crate::usage::packed::PackedUsage;
use rayon::prelude::*;

/// One workspace of a portfolio: its setup (cohort, plan, seats), its strategies (built for
/// its cohort's bundles) and its usage, packed (a portfolio may hold 100 million events).
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub workspace: Workspace,
    pub strategies: Vec<Strategy>,
    pub usage: PackedUsage,
}

/// One workspace's totals under each strategy.
#[derive(Debug, Clone)]
pub struct WorkspaceResult {
    pub totals: Vec<Totals>,
    /// The strategy that serves the most usage at the least economic cost (ties: the first).
    pub cheapest: usize,
}

/// Per strategy, over every workspace. Sums are millionths in `i128`: a portfolio may add up
/// to more than one workspace's limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrategyTotal {
    pub cash_micros: i128,
    pub economic_micros: i128,
    pub demanded_micros: i128,
    pub blocked_micros: i128,
    /// Workspaces where this strategy is the cheapest.
    pub cheapest_in: usize,
    /// Workspaces where this strategy refuses some usage.
    pub blocking_in: usize,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub strategies: Vec<StrategyTotal>,
    /// Economic cost and cash when every workspace takes its cheapest strategy.
    pub best_economic_micros: i128,
    pub best_cash_micros: i128,
}

/// Replays every member under every strategy until `end` on `threads` threads (default: all
/// cores).
pub fn run(
    book: &PricingBook,
    end: Instant,
    members: &[Member],
    threads: Option<usize>,
) -> Result<Vec<WorkspaceResult>, MemberError> {
    let work = || {
        members
            .par_iter()
            .map(|m| {
                // Expanded here, per member, so that only the workspaces being replayed (one
                // per thread) are ever held as the engine's 24-byte events.
                let usage = m.usage.expand();
                let totals = m
                    .strategies
                    .iter()
                    .map(|s| Ok(replay(book, m.workspace, end, &usage, s)?.totals))
                    .collect::<Result<Vec<Totals>, ReplayError>>()
                    .map_err(|error| MemberError {
                        workspace: m.id.clone(),
                        error,
                    })?;
                let cheapest = cheapest(&totals);
                Ok(WorkspaceResult { totals, cheapest })
            })
            .collect::<Vec<_>>()
    };
    // The first failing workspace in portfolio order: the same error on any thread count.
    crate::analysis::in_pool(threads, work)
        .into_iter()
        .collect()
}

/// A workspace whose replay stopped at a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("workspace \"{workspace}\": {error}")]
pub struct MemberError {
    pub workspace: String,
    pub error: ReplayError,
}

/// The first of the ranking by economic cost (like with like: see `analysis::ranking`).
pub fn cheapest(totals: &[Totals]) -> usize {
    let contenders: Vec<Contender> = totals
        .iter()
        .map(|t| Contender {
            refused: t.credits.blocked,
            cost: t.economic_cost(),
        })
        .collect();
    rank(&contenders).cheapest()
}

pub fn summarise(results: &[WorkspaceResult], strategies: usize) -> Summary {
    let mut per = vec![StrategyTotal::default(); strategies];
    let (mut best_economic_micros, mut best_cash_micros) = (0i128, 0i128);
    for r in results {
        for (s, t) in r.totals.iter().enumerate() {
            let p = &mut per[s];
            p.cash_micros += i128::from(t.cash().micros());
            p.economic_micros += i128::from(t.economic_cost().micros());
            p.demanded_micros += i128::from(t.credits.demanded.micros());
            p.blocked_micros += i128::from(t.credits.blocked.micros());
            p.blocking_in += usize::from(!t.credits.blocked.is_zero());
        }
        let best = &r.totals[r.cheapest];
        per[r.cheapest].cheapest_in += 1;
        best_economic_micros += i128::from(best.economic_cost().micros());
        best_cash_micros += i128::from(best.cash().micros());
    }
    Summary {
        strategies: per,
        best_economic_micros,
        best_cash_micros,
    }
}

/// The shard (0-based, of `shards`) a workspace belongs to: the first 8 bytes of the SHA-256
/// of its id, big-endian, modulo `shards`. It depends on the id alone, so any tool can
/// compute it (Python: `int.from_bytes(hashlib.sha256(id.encode()).digest()[:8], "big") % n`).
pub fn shard_of(id: &str, shards: u32) -> u32 {
    use sha2::{Digest, Sha256};
    assert!(shards >= 1, "at least one shard");
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(shards)) as u32
}

#[cfg(test)]
mod tests {
    use super::shard_of;

    #[test]
    fn shards_follow_the_ids_sha256() {
        // Computed apart, in Python: int.from_bytes(hashlib.sha256(id).digest()[:8], "big")
        // % n. sha256("ws-001") begins f1 82 86 68, sha256("ws-002") 1d 79 97 14.
        let want = [("ws-001", 2, 6), ("ws-002", 1, 0), ("ws-003", 0, 5)];
        for (id, of3, of7) in want {
            assert_eq!((shard_of(id, 3), shard_of(id, 7)), (of3, of7), "{id}");
            assert_eq!(shard_of(id, 1), 0);
        }
    }
}

//! What a pricing change does to each customer and to revenue: every workspace of a
//! portfolio replayed on its own usage under the book it is on (the baseline) and under each
//! candidate book, in two views.
//!
//! - **Same behaviour**: the customer keeps their setup (plan, purchases, rules), carried
//!   over to the new book by the migration table.
//! - **Re-optimised**: the customer moves to the cheapest of `advise`'s candidates under the
//!   new book, judged on their own usage (the setup that serves the most of it at the least
//!   economic cost, as `portfolio` ranks), a bounded search: at most `search_max` setups.
//!
//! Both views compare with the same baseline, what the customer pays today: their setup
//! under the current book. Revenue is cash (what customers are charged), by kind and by
//! calendar month of the charge. Sums over customers are `i128` millionths.

use crate::analysis::advise::candidates;
use crate::analysis::case::Case;
use crate::analysis::montecarlo::month_ends;
use crate::analysis::portfolio::{cheapest, MemberError};
use crate::analysis::worst_case::{self, Subject};
use crate::engine::ledger::{MoneyByKind, Outcome, Purchase, Workspace};
use crate::engine::replay::{replay, CreditUsage, ReplayError};
use crate::engine::strategy::Strategy;
use crate::model::amounts::{Credits, Money};
use crate::model::calendar::Period;
use crate::model::pricing::{CohortId, PlanId, PricingBook};
use crate::usage::packed::PackedUsage;
use rayon::prelude::*;
use std::sync::Arc;

/// Default bound on the setups tried per customer and book in the re-optimised view.
pub const SEARCH_DEFAULT: u32 = 64;
/// Largest movers listed each way.
pub const MOVERS: usize = 5;

/// Where each item of the current book goes in a candidate book, resolved by name (the
/// migration table, else the same name) when loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Indexed by the current book's `PlanId`.
    pub plans: Vec<PlanId>,
    /// Indexed by the current book's `CohortId`.
    pub cohorts: Vec<CohortId>,
    /// Per current cohort, its bundles' indices in the cohort it migrates to.
    pub bundles: Vec<Vec<usize>>,
}

impl Migration {
    /// A workspace's setup under the new book: same seats and anchor.
    pub fn workspace(&self, w: Workspace) -> Workspace {
        Workspace {
            cohort: self.cohorts[w.cohort.0],
            plan: self.plans[w.plan.0],
            ..w
        }
    }

    /// A strategy of a workspace in cohort `cohort` (of the current book) under the new book.
    pub fn strategy(&self, s: &Strategy, cohort: CohortId) -> Strategy {
        let bundles = &self.bundles[cohort.0];
        s.translated(
            |p| self.plans[p.0],
            |purchase| match purchase {
                Purchase::Bundle(b) => Purchase::Bundle(bundles[b]),
                open @ Purchase::OpenAmount(_) => open,
            },
        )
    }
}

/// A customer: its id, its usage and its current setup.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    /// The customers this one stands for, in `ImpactInput::weight_per`ths: 1 for a trace's
    /// workspace; a segment's customers for each of its simulated ones.
    pub weight: u64,
    pub workspace: Workspace,
    pub current: Strategy,
    pub usage: PackedUsage,
}

impl Customer {
    /// Credits over the horizon (the import and the usage model keep it within the credits
    /// limit).
    pub fn usage_total(&self) -> Credits {
        Credits::from_micros(i64::try_from(self.usage.total_micros()).unwrap_or(i64::MAX))
    }
}

/// A candidate book with each customer's current setup carried over to it.
#[derive(Debug, Clone)]
pub struct CandidateBook {
    pub name: String,
    pub book: Arc<PricingBook>,
    /// Per customer, in the portfolio's order.
    pub setups: Vec<(Workspace, Strategy)>,
}

/// What an impact run compares.
#[derive(Debug, Clone)]
pub struct ImpactInput {
    pub horizon: Period,
    pub current_book: Arc<PricingBook>,
    pub customers: Vec<Customer>,
    pub candidates: Vec<CandidateBook>,
    /// Most setups tried per customer and book when re-optimising.
    pub search_max: usize,
    /// The denominator of every customer's weight: 1 for a trace, a segment's paths.
    pub weight_per: u64,
}

/// Money by kind: plan fees, prepaid purchases, flex, in millionths.
pub type ByKind<T> = [T; 3];
pub const KINDS: [&str; 3] = ["plan fees", "prepaid", "flex"];

/// One customer's bill under one book and setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    /// The strategy's name (a setup advise names, when re-optimised).
    pub setup: String,
    pub plan: PlanId,
    pub money: ByKind<Money>,
    pub economic: Money,
    pub demanded: Credits,
    pub blocked: Credits,
    /// Per calendar month of the horizon (from its start), cash by kind in millionths.
    pub months: Vec<ByKind<i64>>,
}

impl Bill {
    pub fn cash(&self) -> Money {
        self.money[0] + self.money[1] + self.money[2]
    }
}

/// One customer's bills: today, then per candidate book [same behaviour, re-optimised].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerImpact {
    pub today: Bill,
    pub after: Vec<[Bill; 2]>,
}

pub const VIEWS: [&str; 2] = ["same behaviour", "re-optimised"];
/// The views as the tables' `view` column names them (`today` for today's bills).
pub const VIEW_KEYS: [&str; 2] = ["same_behaviour", "reoptimised"];

/// Every customer under every book, in portfolio order whatever the thread count.
pub fn impact(
    input: &ImpactInput,
    threads: Option<usize>,
) -> Result<Vec<CustomerImpact>, MemberError> {
    let starts = month_starts(input.horizon);
    let work = || {
        (0..input.customers.len())
            .into_par_iter()
            .map(|k| customer_impact(input, k, &starts))
            .collect::<Vec<_>>()
    };
    crate::analysis::in_pool(threads, work)
        .into_iter()
        .collect()
}

fn customer_impact(
    input: &ImpactInput,
    k: usize,
    starts: &[crate::model::calendar::Instant],
) -> Result<CustomerImpact, MemberError> {
    let c = &input.customers[k];
    let fail = |error: ReplayError| MemberError {
        workspace: c.id.clone(),
        error,
    };
    let end = input.horizon.end;
    // Expanded here, per customer, so that only the customers being replayed (one per
    // thread) are ever held as the engine's 24-byte events.
    let usage = c.usage.expand();
    let bill = |book: &PricingBook, w: Workspace, s: &Strategy| {
        let outcome = replay(book, w, end, &usage, s).map_err(fail)?;
        Ok(bill_of(&s.name, &outcome, starts))
    };
    let today = bill(&input.current_book, c.workspace, &c.current)?;
    let mut after = Vec::with_capacity(input.candidates.len());
    for candidate in &input.candidates {
        let (w, s) = &candidate.setups[k];
        let same = bill(&candidate.book, *w, s)?;
        let (best, outcome) = best_setup(input, candidate, k, &usage).map_err(fail)?;
        after.push([same, bill_of(&best.name, &outcome, starts)]);
    }
    Ok(CustomerImpact { today, after })
}

/// The cheapest of at most `search_max` of advise's candidates for customer `k` under
/// `candidate`'s book, on the customer's own usage (the current setup first, so it stays
/// when nothing beats it), with its replay.
fn best_setup(
    input: &ImpactInput,
    candidate: &CandidateBook,
    k: usize,
    usage: &[CreditUsage],
) -> Result<(Strategy, Outcome), ReplayError> {
    let (workspace, current) = &candidate.setups[k];
    let case = Case {
        book: Arc::clone(&candidate.book),
        workspace: *workspace,
        horizon: input.horizon,
        strategies: vec![current.clone()],
    };
    let demanded = input.customers[k].usage_total();
    // Setups that could pass an amount limit are left out, as advise leaves them out.
    let mut setups: Vec<Strategy> = candidates(&case, current, &[demanded])
        .into_iter()
        .map(|c| c.strategy)
        .filter(|s| {
            let subject = Subject {
                strategies: std::slice::from_ref(s),
                ..Subject::of(&case)
            };
            worst_case::check(subject, Some(demanded)).is_ok()
        })
        .collect();
    setups.truncate(input.search_max.max(1));
    let mut outcomes = Vec::with_capacity(setups.len());
    for s in &setups {
        outcomes.push(replay(
            &candidate.book,
            *workspace,
            input.horizon.end,
            usage,
            s,
        )?);
    }
    let totals: Vec<_> = outcomes.iter().map(|o| o.totals.clone()).collect();
    let best = cheapest(&totals);
    Ok((setups.swap_remove(best), outcomes.swap_remove(best)))
}

/// The first instant of each calendar month of the horizon, from its start.
pub fn month_starts(horizon: Period) -> Vec<crate::model::calendar::Instant> {
    let mut out = vec![horizon.start];
    out.extend(month_ends(horizon.start, horizon.end));
    out.pop();
    out
}

fn bill_of(setup: &str, outcome: &Outcome, starts: &[crate::model::calendar::Instant]) -> Bill {
    let t = &outcome.totals;
    let mut months = vec![MoneyByKind::default(); starts.len()];
    for line in outcome.statements.iter().flat_map(|s| &s.lines) {
        let month = starts.partition_point(|s| *s <= line.at).max(1) - 1;
        // Within the horizon's cash, which the ledger checked against the money limit.
        months[month].add_line(line);
    }
    let by_kind = |m: &MoneyByKind| [m.plan_fees, m.prepaid, m.flex];
    Bill {
        setup: setup.to_string(),
        plan: t.final_plan,
        money: by_kind(&t.money),
        economic: t.economic_cost(),
        demanded: t.credits.demanded,
        blocked: t.credits.blocked,
        months: (months.iter())
            .map(|m| by_kind(m).map(|x| x.micros()))
            .collect(),
    }
}

/// Which bills: today's, or a candidate book's (0-based among the candidates) in a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Today,
    After { book: usize, view: usize },
}

impl Which {
    /// Today's bills, then each candidate book's in both views: every bill a run makes.
    pub fn every(books: usize) -> impl Iterator<Item = Which> {
        let after = (0..books)
            .flat_map(|book| (0..VIEWS.len()).map(move |view| Which::After { book, view }));
        std::iter::once(Which::Today).chain(after)
    }

    /// The book's index in the tables: 0 for today's, k for the k-th candidate.
    pub fn book_index(self) -> u32 {
        match self {
            Which::Today => 0,
            Which::After { book, .. } => book as u32 + 1,
        }
    }

    /// The `view` column's value.
    pub fn view_key(self) -> &'static str {
        match self {
            Which::Today => "today",
            Which::After { view, .. } => VIEW_KEYS[view],
        }
    }

    pub fn of(self, r: &CustomerImpact) -> &Bill {
        match self {
            Which::Today => &r.today,
            Which::After { book, view } => &r.after[book][view],
        }
    }
}

/// `num / den` rounded half away from zero (`den` > 0).
fn div_round(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// Revenue from a set of bills, by calendar month and in total: each customer's bill times
/// the customers it stands for (a segment's simulated customer stands for customers / paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    pub months: Vec<ByKind<i128>>,
    pub total: ByKind<i128>,
}

impl Revenue {
    pub fn cash(&self) -> i128 {
        self.total.iter().sum()
    }
}

pub fn revenue(input: &ImpactInput, results: &[CustomerImpact], which: Which) -> Revenue {
    revenue_of(input, results, which, &|_| true)
}

/// [`revenue`] of the customers `keep` keeps (by index).
pub fn revenue_of(
    input: &ImpactInput,
    results: &[CustomerImpact],
    which: Which,
    keep: &dyn Fn(usize) -> bool,
) -> Revenue {
    let months = month_starts(input.horizon).len();
    let mut out = Revenue {
        months: vec![[0; 3]; months],
        total: [0; 3],
    };
    for (k, (c, r)) in input.customers.iter().zip(results).enumerate() {
        if !keep(k) {
            continue;
        }
        let (bill, w) = (which.of(r), i128::from(c.weight));
        for (sum, month) in out.months.iter_mut().zip(&bill.months) {
            for kind in 0..3 {
                sum[kind] += w * i128::from(month[kind]);
            }
        }
        for kind in 0..3 {
            out.total[kind] += w * i128::from(bill.money[kind].micros());
        }
    }
    // Weighted sums are exact; the one rounding is to millionths, per sum.
    let per = i128::from(input.weight_per);
    for v in out.months.iter_mut().flatten().chain(out.total.iter_mut()) {
        *v = div_round(*v, per);
    }
    out
}

/// Percentiles of the change in what customers pay that a summary reports.
pub const CHANGE_PERCENTILES: [u32; 7] = [0, 10, 25, 50, 75, 90, 100];

/// How customers' bills change from today to one book and view. Counts are weights: divide
/// by `per` for customers (a trace's customer weighs 1 and `per` is 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub per: u64,
    pub customers: u128,
    pub paying_more: u128,
    pub paying_less: u128,
    /// The mean change per customer, millionths (rounded).
    pub mean_micros: i128,
    /// At each of `CHANGE_PERCENTILES` (weighted nearest rank; 0 and 100 are the least and
    /// the most).
    pub percentiles_micros: Vec<i64>,
    /// Customers whose bill rises most, largest first (at most `MOVERS`, rises only).
    pub up: Vec<usize>,
    /// Customers whose bill falls most, largest fall first (falls only).
    pub down: Vec<usize>,
    /// Customers refused some usage today and after.
    pub blocking_today: u128,
    pub blocking_after: u128,
    /// Credits refused, over every customer (weighted, rounded to millionths).
    pub blocked_today_micros: i128,
    pub blocked_after_micros: i128,
    /// Customers on another setup than today's.
    pub moved: u128,
}

/// A customer's change in cash from today to book `book` in `view`, millionths.
pub fn change(r: &CustomerImpact, book: usize, view: usize) -> i64 {
    // Both within the money limit, so the difference fits.
    r.after[book][view].cash().micros() - r.today.cash().micros()
}

/// The value at weighted percentile `q` of `sorted` (value, weight) pairs: the first whose
/// running weight reaches q% of the total (at least the first).
fn weighted_percentile(sorted: &[(i64, u64)], total: u128, q: u32) -> i64 {
    let need = (total * u128::from(q)).div_ceil(100).max(1);
    let mut run = 0u128;
    for (v, w) in sorted {
        run += u128::from(*w);
        if run >= need {
            return *v;
        }
    }
    sorted.last().map_or(0, |x| x.0)
}

pub fn changes(
    input: &ImpactInput,
    results: &[CustomerImpact],
    book: usize,
    view: usize,
) -> Changes {
    let after = Which::After { book, view };
    let weights: Vec<u64> = input.customers.iter().map(|c| c.weight).collect();
    let deltas: Vec<i64> = results.iter().map(|r| change(r, book, view)).collect();
    let mut sorted: Vec<(i64, u64)> = deltas
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .collect();
    sorted.sort_unstable();
    let total: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let percentiles_micros = (CHANGE_PERCENTILES.iter())
        .map(|q| weighted_percentile(&sorted, total, *q))
        .collect();
    let mut order: Vec<usize> = (0..deltas.len()).collect();
    // Largest rise first; ties in portfolio order (the sort is stable).
    order.sort_by_key(|&k| std::cmp::Reverse(deltas[k]));
    let up = order
        .iter()
        .copied()
        .filter(|&k| deltas[k] > 0)
        .take(MOVERS)
        .collect();
    let down = order
        .iter()
        .rev()
        .copied()
        .filter(|&k| deltas[k] < 0)
        .take(MOVERS)
        .collect();
    let weigh = |f: &dyn Fn(usize) -> bool| -> u128 {
        (0..deltas.len())
            .filter(|&k| f(k))
            .map(|k| u128::from(weights[k]))
            .sum()
    };
    let blocked = |which: Which| -> i128 {
        let sum: i128 = (results.iter().zip(&weights))
            .map(|(r, w)| i128::from(*w) * i128::from(which.of(r).blocked.micros()))
            .sum();
        div_round(sum, i128::from(input.weight_per))
    };
    let weighted_sum: i128 = deltas
        .iter()
        .zip(&weights)
        .map(|(d, w)| i128::from(*d) * i128::from(*w))
        .sum();
    Changes {
        per: input.weight_per,
        customers: total,
        paying_more: weigh(&|k| deltas[k] > 0),
        paying_less: weigh(&|k| deltas[k] < 0),
        mean_micros: div_round(weighted_sum, (total as i128).max(1)),
        percentiles_micros,
        up,
        down,
        blocking_today: weigh(&|k| !results[k].today.blocked.is_zero()),
        blocking_after: weigh(&|k| !after.of(&results[k]).blocked.is_zero()),
        blocked_today_micros: blocked(Which::Today),
        blocked_after_micros: blocked(after),
        moved: weigh(&|k| after.of(&results[k]).setup != results[k].today.setup),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        // 7 / 2 = 3.5 -> 4; -7 / 2 -> -4; 5 / 3 = 1.67 -> 2; -4 / 3 = -1.33 -> -1.
        assert_eq!(
            [
                div_round(7, 2),
                div_round(-7, 2),
                div_round(5, 3),
                div_round(-4, 3)
            ],
            [4, -4, 2, -1]
        );
    }

    #[test]
    fn weighted_percentiles_are_nearest_rank_over_weights() {
        // Values -5 (weight 1), 0 (weight 2), 10 (weight 7): total 10. P10 needs a running
        // weight of 1: -5. P25 needs 3 (ceil 2.5): 0 (1 + 2). P50 needs 5: 10. P0 needs at
        // least 1: -5. P100 needs 10: 10.
        let sorted = [(-5, 1), (0, 2), (10, 7)];
        let at = |q| weighted_percentile(&sorted, 10, q);
        assert_eq!(
            [at(0), at(10), at(25), at(30), at(50), at(100)],
            [-5, -5, 0, 0, 10, 10]
        );
        // Weights of 1 are the unweighted nearest rank: P50 of 4 values is the 2nd.
        let flat = [(1, 1), (2, 1), (3, 1), (4, 1)];
        assert_eq!(weighted_percentile(&flat, 4, 50), 2);
    }
}

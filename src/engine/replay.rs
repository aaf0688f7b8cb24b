//! Replays one usage stream through the ledger under one strategy.
//!
//! This is the inner loop every later part shares: a scenario replay, each Monte Carlo path,
//! each workspace of a portfolio. It takes usage already in credits and in time order, so it
//! knows nothing of files, metrics or randomness.

use crate::engine::ledger::{ChargeLog, Ledger, Outcome, Workspace};
pub use crate::engine::reading::UsageStream;
use crate::engine::reading::{Cursor, QuietRun, UsageReader};
use crate::engine::strategy::{Action, Scheduled, Strategy};
use crate::model::amounts::{Credits, LimitExceeded};
use crate::model::calendar::{display, Instant};
use crate::model::pricing::PricingBook;

/// Credits demanded at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditUsage {
    pub at: Instant,
    pub credits: Credits,
}

/// How many rounds of strategy reactions one instant may trigger. Each round is a strategy
/// answering the ledger's alerts and state; a correct strategy settles in two or three.
const REACTION_ROUNDS_MAX: u32 = 64;

/// Why a replay stopped before the horizon's end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strategy \"{strategy}\" at {}: {reason}", display(*at))]
pub struct ReplayError {
    pub strategy: String,
    pub at: Instant,
    pub reason: Stop,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    #[error(
        "the strategy still acts after {REACTION_ROUNDS_MAX} rounds of reactions at one instant \
         (its rules never settle)"
    )]
    Restless,
}

/// Replays `usage` (sorted by instant, inside `[workspace.anchor, horizon_end)`) under
/// `strategy`.
pub fn replay(
    book: &PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    usage: &[CreditUsage],
    strategy: &Strategy,
) -> Result<Outcome, ReplayError> {
    replay_stream(
        book,
        workspace,
        horizon_end,
        usage.iter().copied(),
        strategy,
    )
}

/// [`replay`] of usage read forward from any stream: a packed trace is replayed without
/// expanding it (a workspace of 100 million events would take 2.4 GB as a slice).
pub fn replay_stream(
    book: &PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    usage: impl UsageStream,
    strategy: &Strategy,
) -> Result<Outcome, ReplayError> {
    replay_unobserved(book, workspace, horizon_end, usage, strategy, None)
}

/// [`replay`], sending every charge to `log` as it is made: the detail that statements sum
/// per item and period, streamed rather than kept.
pub fn replay_logged<'a>(
    book: &'a PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    usage: impl UsageStream,
    strategy: &Strategy,
    log: ChargeLog<'a>,
) -> Result<Outcome, ReplayError> {
    replay_unobserved(book, workspace, horizon_end, usage, strategy, Some(log))
}

fn replay_unobserved<'a>(
    book: &'a PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    usage: impl UsageStream,
    strategy: &Strategy,
    log: Option<ChargeLog<'a>>,
) -> Result<Outcome, ReplayError> {
    let watch = Watch {
        at: &[],
        observe: &mut |_: usize, _: &Ledger<'_>| Ok(()),
        statements: true,
    };
    let (end, usage) = (horizon_end, Cursor::new(usage));
    replay_observed(book, workspace, end, usage, strategy, watch, log)
}

/// What [`replay_observed`] calls at each observed instant; it may read amounts that pass a
/// limit (the cash so far), and then the replay stops with that error.
pub type Observer<'f> = dyn FnMut(usize, &Ledger<'_>) -> Result<(), LimitExceeded> + 'f;

/// What a replay's caller watches as it goes: `observe(k, ledger)` at each instant of `at`
/// (sorted, inside the horizon), after everything strictly before it and before anything at
/// it (the state at the end of a month whose last instant is just before `at[k]`); and
/// whether the outcome keeps its statements (`false`: totals only, see
/// [`Ledger::totals_only`]).
pub struct Watch<'o, 'f> {
    pub at: &'o [Instant],
    pub observe: &'f mut Observer<'f>,
    pub statements: bool,
}

/// [`replay`] of usage read through any reader, watched by `watch`.
pub fn replay_observed<'a>(
    book: &'a PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    mut usage: impl UsageReader,
    strategy: &Strategy,
    watch: Watch<'_, '_>,
    log: Option<ChargeLog<'a>>,
) -> Result<Outcome, ReplayError> {
    let stopped = |at: Instant| {
        move |reason: Stop| ReplayError {
            strategy: strategy.name.clone(),
            at,
            reason,
        }
    };
    let start = workspace.anchor;
    let (mut ledger, mut driver) =
        start_subscription(book, workspace, horizon_end, strategy, log).map_err(stopped(start))?;
    if !watch.statements {
        ledger.totals_only();
    }
    let mut observations = Observations {
        at: watch.at,
        next: 0,
        observe: watch.observe,
    };
    // The scheduled actions not yet replayed (in time order), a slice rather than an
    // iterator: those at an instant are handed on without collecting them.
    let mut scheduled = &strategy.scheduled[..];
    loop {
        let next_scheduled = scheduled.first().map(|s| s.at);
        let next_usage = usage.head().map(|u| u.at);
        let t = match (next_scheduled, next_usage) {
            (None, None) => break,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => a.min(b),
        };
        if t >= horizon_end {
            break;
        }
        observations
            .report_while(&mut ledger, |o| o <= t)
            .map_err(|(o, e)| stopped(o)(e.into()))?;
        let (at_t, later) = scheduled.split_at(scheduled.partition_point(|s| s.at == t));
        scheduled = later;
        driver
            .replay_instant(&mut ledger, t, at_t)
            .map_err(stopped(t))?;
        // Nothing but usage happens before the next scheduled action, observation or
        // boundary: what the strategy cannot answer is served as one run, the usage at `t`
        // included (it comes after everything else at `t`).
        let until = [scheduled.first().map(|s| s.at), observations.next_at()]
            .into_iter()
            .flatten()
            .fold(ledger.quiet_until(), Instant::min);
        driver
            .serve_quiet_run(&mut ledger, until, &mut usage)
            .map_err(|(at, stop)| stopped(at)(stop))?;
        // What the run did not take at `t`, one event at a time.
        driver
            .serve_at(&mut ledger, t, &mut usage)
            .map_err(stopped(t))?;
    }
    observations
        .report_while(&mut ledger, |o| o < horizon_end)
        .map_err(|(o, e)| stopped(o)(e.into()))?;
    ledger.finish().map_err(|e| stopped(horizon_end)(e.into()))
}

/// The ledger as `strategy` leaves it at the start, before any usage (see
/// [`crate::engine::monthly`]).
pub(crate) fn opened<'a>(
    book: &'a PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    strategy: &Strategy,
) -> Result<Ledger<'a>, Stop> {
    start_subscription(book, workspace, horizon_end, strategy, None).map(|(ledger, _)| ledger)
}

/// Opens the ledger on the strategy's start plan and lets the strategy act at the start (its
/// purchases at start, a first top-up).
fn start_subscription<'a, 's>(
    book: &'a PricingBook,
    workspace: Workspace,
    horizon_end: Instant,
    strategy: &'s Strategy,
    log: Option<ChargeLog<'a>>,
) -> Result<(Ledger<'a>, Driver<'s>), Stop> {
    let workspace = Workspace {
        plan: strategy.start_plan.unwrap_or(workspace.plan),
        ..workspace
    };
    let mut ledger = Ledger::open(book, workspace, horizon_end, strategy.flex)?;
    if let Some(log) = log {
        ledger.log_charges(log);
    }
    let mut driver = Driver {
        strategy,
        actions: Vec::new(),
        answered_version: None,
        reacts: strategy.reacts(),
    };
    strategy.on_start(&ledger, &mut driver.actions)?;
    driver.apply_and_react(&mut ledger, workspace.anchor)?;
    Ok((ledger, driver))
}

/// The instants a replay shows its ledger at, and the next one due.
struct Observations<'o, 'f> {
    at: &'o [Instant],
    next: usize,
    observe: &'f mut Observer<'f>,
}

impl Observations<'_, '_> {
    fn next_at(&self) -> Option<Instant> {
        self.at.get(self.next).copied()
    }

    /// Shows the ledger at every pending instant `due` accepts, in order; the ledger is
    /// advanced to each without crossing it, so the state is that of just before it.
    #[inline]
    fn report_while(
        &mut self,
        ledger: &mut Ledger<'_>,
        due: impl Fn(Instant) -> bool,
    ) -> Result<(), (Instant, LimitExceeded)> {
        while let Some(&o) = self.at.get(self.next).filter(|o| due(**o)) {
            ledger.advance(o, false).map_err(|e| (o, e))?;
            (self.observe)(self.next, ledger).map_err(|e| (o, e))?;
            self.next += 1;
        }
        Ok(())
    }
}

/// The instant of the first of the `count` events from `run` that `served` credits, given out in
/// event order, do not cover in full.
fn first_refused(mut run: impl UsageReader, count: usize, served: Credits) -> Instant {
    let mut covered = i128::from(served.micros());
    for _ in 0..count {
        let u = run.head().expect("the run's events are in the stream");
        covered -= i128::from(u.credits.micros());
        if covered < 0 {
            return u.at;
        }
        run.advance();
    }
    unreachable!("something was refused, so the run asked for more than was served")
}

struct Driver<'s> {
    strategy: &'s Strategy,
    actions: Vec<Action>,
    /// The ledger version the strategy last answered with no action.
    answered_version: Option<u64>,
    /// [`Strategy::reacts`]: without rules, the strategy answers every state with nothing.
    reacts: bool,
}

impl Driver<'_> {
    /// Everything at instant `t` but its usage: the scheduled actions `at_t` and the ledger
    /// crossing to `t`, each followed by the strategy's reactions.
    #[inline]
    fn replay_instant(
        &mut self,
        ledger: &mut Ledger<'_>,
        t: Instant,
        at_t: &[Scheduled],
    ) -> Result<(), Stop> {
        // Plan changes at t come before a renewal falling at t: they replace it
        // (`Ledger::change_plan` crosses only the boundaries before t).
        for s in at_t
            .iter()
            .filter(|s| matches!(s.action, Action::ChangePlan(_)))
        {
            self.actions.push(s.action);
            self.apply_and_react(ledger, t)?;
        }
        ledger.advance(t, true)?;
        self.apply_and_react(ledger, t)?;
        for s in at_t
            .iter()
            .filter(|s| !matches!(s.action, Action::ChangePlan(_)))
        {
            self.actions.push(s.action);
            self.apply_and_react(ledger, t)?;
        }
        Ok(())
    }

    /// The usage at `t` not yet served, one event at a time, each followed by the strategy's
    /// reactions.
    #[inline]
    fn serve_at(
        &mut self,
        ledger: &mut Ledger<'_>,
        t: Instant,
        usage: &mut impl UsageReader,
    ) -> Result<(), Stop> {
        while let Some(u) = usage.next_at(t) {
            ledger.consume(t, u.credits)?;
            self.apply_and_react(ledger, t)?;
        }
        Ok(())
    }

    /// Serves, as one run, the longest stretch of the next usage events that fall before
    /// `until` and stay within the strategy's quiet budget, then lets the strategy answer
    /// once: what it would have answered after the last of them, having had nothing to do
    /// after each. Most days of most paths are such stretches, and serving them as one
    /// replaces a ledger step per event by a sum.
    #[inline]
    fn serve_quiet_run(
        &mut self,
        ledger: &mut Ledger<'_>,
        until: Instant,
        usage: &mut impl UsageReader,
    ) -> Result<(), (Instant, Stop)> {
        // Without rules there is nothing to stop for (`quiet_budget` would say so, later).
        let budget = (self.reacts)
            .then(|| self.strategy.quiet_budget(ledger))
            .flatten()
            .map_or(i128::MAX, |b| i128::from(b.micros()));
        let QuietRun {
            count,
            total_micros,
            last,
        } = usage.quiet_run(until, budget);
        let Some(last) = last.filter(|_| count >= 2) else {
            return Ok(()); // a single event goes the ordinary way
        };
        // `usage` moves past the run; `run` keeps its start, read again only if some of it
        // was refused.
        let run = usage.clone();
        usage.skip(count);
        // The run's total is at most the budget, itself at most a few credit limits; the
        // ledger checks it against the demand limit.
        let total = Credits::from_micros(i64::try_from(total_micros).unwrap_or(i64::MAX));
        let first_refused = |served: Credits| first_refused(run, count, served);
        ledger
            .consume_run(last, total, first_refused)
            .map_err(|e| (last, e.into()))?;
        self.apply_and_react(ledger, last).map_err(|e| (last, e))
    }

    /// Applies pending actions, lets the strategy answer the ledger's alerts and the new
    /// balance, and repeats until nothing more happens.
    #[inline]
    fn apply_and_react(&mut self, ledger: &mut Ledger<'_>, t: Instant) -> Result<(), Stop> {
        // Nothing pending, and nothing changed since the strategy last had nothing to do (it
        // decides from ledger state alone) or a strategy without rules: nothing to do again.
        if self.actions.is_empty() {
            if !self.reacts {
                ledger.take_alerts(); // answered with nothing
                return Ok(());
            }
            if self.answered_version == Some(ledger.version()) {
                return Ok(());
            }
        }
        self.react(ledger, t)
    }

    /// [`Driver::apply_and_react`] when there is something to apply or answer: out of line,
    /// so that the common case above is a comparison where it is called.
    #[inline(never)]
    fn react(&mut self, ledger: &mut Ledger<'_>, t: Instant) -> Result<(), Stop> {
        let mut rounds = 0;
        loop {
            for action in self.actions.drain(..) {
                match action {
                    Action::Buy { purchase, quantity } => ledger.purchase(t, purchase, quantity)?,
                    Action::ChangePlan(plan) => ledger.change_plan(t, plan)?,
                    Action::SetFlex(flex) => ledger.set_flex(t, flex)?,
                }
            }
            for _ in 0..ledger.take_alerts() {
                self.strategy.on_alert(ledger, &mut self.actions)?;
            }
            self.strategy.after_change(ledger, &mut self.actions)?;
            if self.actions.is_empty() {
                self.answered_version = Some(ledger.version());
                return Ok(());
            }
            rounds += 1;
            if rounds > REACTION_ROUNDS_MAX {
                return Err(Stop::Restless);
            }
        }
    }
}

//! Advice: which setup a customer should choose, and how sure that is.
//!
//! The user writes no strategies. Candidates come from the pricing book ([`candidates`]):
//! every plan (each plan id is a plan and a billing cycle) paid as it goes; on each plan,
//! bundles bought at the start in the counts the usage's quantiles call for (or open
//! amounts, for a wallet book); top-up rules (each bundle, bought when the balance is
//! nearly empty or down to about a week of usage); the vendor's own rule (on the usage
//! alert, buy the smallest bundle covering last cycle's flex); and upgrade rules from the
//! current plan at the flex spend where the bigger plan pays off. The scenario's current
//! setup (its baseline strategy) races too: "keep what you have" is an answer.
//!
//! They race on common random numbers ([`race`]): every candidate replays the same paths
//! (path `k` is the same draw for all, see `montecarlo`), a round adds paths to the
//! candidates still in it, and after each round a candidate is dropped when it is worse than
//! the round's best with paired confidence (the mean of its per-path differences more than
//! `z` standard errors above zero) or, while more than half would stay, when it is in the
//! worse half (successive halving; such a candidate was within noise of the best, and the
//! finalists are measured again on every path). So hundreds of candidates cost a few times
//! one `simulate`. A candidate that refuses more usage than allowed is dropped as soon as a
//! round shows it. Decisions depend on path numbers and exact sums only: the same seed gives
//! the same advice on any thread count.
//!
//! The finalists and the current setup then run as one ordinary simulation over all the
//! scenario's paths, whose statistics (savings with their confidence interval, probability
//! of saving, break-even months, prepaid utilisation, blocked usage) the advice reports.

use crate::analysis::breakeven;
use crate::analysis::montecarlo::{
    self, Comparison, Measure, PathError, PathResult, SimConfig, SimulateError, Summary,
};
use crate::analysis::worst_case::{self, Subject};
use crate::analysis::Case;
use crate::engine::ledger::{FlexSetting, Purchase};
use crate::engine::replay::replay;
use crate::engine::strategy::{Strategy, TopUp, Upgrade};
use crate::model::amounts::{Credits, Money, Rounding};
use crate::model::calendar::{add_days, add_months};
use crate::model::pricing::PlanId;
use crate::usage::synthetic::UsageModel;

/// What the advice minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Mean,
    /// The 90th percentile: a bad year's cost.
    P90,
    /// The mean of the worst 5% of years.
    Cvar95,
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::Mean => "mean",
            Objective::P90 => "p90",
            Objective::Cvar95 => "cvar95",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Goal {
    pub objective: Objective,
    pub measure: Measure,
}

/// What a recommendation may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Constraints {
    /// The share of demanded credits a candidate may refuse, in millionths; `None`: no more
    /// than the current setup refuses on the same paths.
    pub max_blocked_ppm: Option<u32>,
    /// The most a candidate may charge on its first day (plan fee and purchases at start).
    pub max_upfront: Option<Money>,
}

/// A candidate setup, as a customer would describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// The scenario's current setup (its baseline strategy), as written.
    Current,
    PayAsYouGo {
        plan: PlanId,
    },
    AtStart {
        plan: PlanId,
        purchase: Purchase,
        count: u64,
    },
    TopUp {
        plan: PlanId,
        below: Credits,
        purchase: Purchase,
    },
    /// On the usage alert, buy the smallest bundle covering last cycle's flex usage.
    VendorRule {
        plan: PlanId,
    },
    Upgrade {
        from: PlanId,
        to: PlanId,
        flex_spend_over: Money,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub setup: Setup,
    pub strategy: Strategy,
    /// Charged on the first day: the first cycle's fee and the purchases at start.
    pub upfront: Money,
}

/// Why a candidate left the race.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// Worse than the best with paired confidence after `paths` paths.
    Worse { paths: u32 },
    /// In the worse half after `paths` paths (successive halving).
    Halved { paths: u32 },
    /// Refused more usage than allowed after `paths` paths.
    Blocks { paths: u32 },
    /// Charged more on its first day than allowed.
    Upfront,
    /// Could pass an amount limit (when loaded) or passed one (on a path).
    Limit(String),
    /// Cost exactly what candidate `of` cost on every path both ran (another rule that
    /// never acted differently here): one of them is enough among the finalists.
    Twin { of: usize },
}

/// One round of the race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Paths every candidate in the round has run after it.
    pub paths: u32,
    pub candidates: usize,
    pub left: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Race {
    pub rounds: Vec<Round>,
    /// Candidates still in the race at its end, best first by the objective.
    pub standing: Vec<usize>,
    /// Candidates the race outran (worse with confidence, or halved), best first by their
    /// last estimate per path: the runners-up when fewer than the finalists asked for are
    /// left standing.
    pub outrun: Vec<usize>,
    pub dropped: Vec<(usize, Dropped)>,
    /// Replays run (one candidate on one path), the race's cost.
    pub replays: u64,
}

#[derive(Debug, Clone)]
pub struct Advice {
    pub goal: Goal,
    pub constraints: Constraints,
    pub candidates: Vec<Candidate>,
    pub race: Race,
    /// The candidates measured on every path, in the order of `summary.strategies[1..]`.
    pub finalists: Vec<usize>,
    /// The current setup (strategy 0, the baseline) and the finalists over every path.
    pub summary: Summary,
    /// The finalist recommended (an index into `candidates`; 0 is the current setup).
    pub recommended: usize,
    /// Whether it refuses no more usage than allowed (when nothing measured does, the
    /// current setup is named, and this is `false`).
    pub within_limits: bool,
    /// Paths the candidates were drawn from for the usage quantiles (the first ones).
    pub pilot_paths: u32,
}

/// The candidate measured as row `k` of the final summary: the current setup (row 0),
/// then the finalists in order.
fn candidate_of_row(finalists: &[usize], k: usize) -> usize {
    if k == 0 {
        0
    } else {
        finalists[k - 1]
    }
}

impl Advice {
    /// The candidate behind row `k` of `summary.strategies`.
    pub fn candidate_of_row(&self, k: usize) -> usize {
        candidate_of_row(&self.finalists, k)
    }

    /// The row of `summary.strategies` the recommendation was measured in.
    pub fn recommended_row(&self) -> usize {
        (0..self.summary.strategies.len())
            .find(|&k| self.candidate_of_row(k) == self.recommended)
            .expect("the recommendation is the current setup or a finalist")
    }
}

/// How the race runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RaceConfig {
    /// Every path the race may use and the final measurement uses (the scenario's paths).
    pub sim: SimConfig,
    pub first_paths: u32,
    /// Finalists, the current setup not counted.
    pub finalists: usize,
    /// Standard errors a paired difference must clear for a candidate to be dropped.
    pub z: f64,
}

impl RaceConfig {
    pub fn new(sim: SimConfig, finalists: usize) -> RaceConfig {
        RaceConfig {
            sim,
            first_paths: 64,
            finalists,
            z: 3.0,
        }
    }
}

// ---------------------------------------------------------------- candidates

/// The quantiles of the usage the counts bought at start are sized for.
const SIZING_PERCENTILES: [u32; 9] = [10, 20, 30, 40, 50, 60, 70, 80, 90]; // [4]: the median
/// Most bundles one candidate buys at start: beyond it a bigger bundle is the candidate.
const BUNDLES_AT_START_MAX: u64 = 20;

/// Every candidate for `case`'s workspace, the current setup first. `demands` are the
/// credits demanded over the horizon on the pilot paths (any order).
pub fn candidates(case: &Case, current: &Strategy, demands: &[Credits]) -> Vec<Candidate> {
    let mut sorted: Vec<i64> = demands.iter().map(|d| d.micros()).collect();
    sorted.sort_unstable();
    let quantiles: Vec<i64> = SIZING_PERCENTILES
        .iter()
        .map(|q| sorted[(sorted.len() * *q as usize).div_ceil(100).max(1) - 1])
        .collect();
    let mean_demand =
        sorted.iter().map(|d| i128::from(*d)).sum::<i128>() / sorted.len().max(1) as i128;
    let mean_daily = mean_demand / i128::from(case.days().max(1));
    let mut out = vec![Candidate {
        setup: Setup::Current,
        strategy: current.clone(),
        upfront: upfront(case, current),
    }];
    let mut add = |setup: Setup| {
        let strategy = strategy_for(case, current.flex, setup);
        if out.iter().all(|c| c.strategy.name != strategy.name) {
            let upfront = upfront(case, &strategy);
            out.push(Candidate {
                setup,
                strategy,
                upfront,
            });
        }
    };
    for p in 0..case.book.plans.len() {
        let plan = PlanId(p);
        add(Setup::PayAsYouGo { plan });
        for (purchase, count) in at_start(case, plan, &quantiles) {
            add(Setup::AtStart {
                plan,
                purchase,
                count,
            });
        }
        for setup in top_ups(case, plan, quantiles[4], mean_daily) {
            add(setup);
        }
        if !case.cohort().bundles.is_empty() || case.cohort().open_amount.is_some() {
            add(Setup::VendorRule { plan });
        }
    }
    for setup in upgrades(case, current, mean_demand) {
        add(setup);
    }
    out
}

/// Included credits `plan` grants over the horizon: one grant per cycle starting in it.
fn included_over_horizon(case: &Case, plan: PlanId) -> i128 {
    let p = &case.book.plans[plan.0];
    let each = p
        .included_for(case.workspace.seats)
        .map_or(0, |c| c.micros());
    let months = p.cycle.months();
    let anchor = case.workspace.anchor;
    let cycles = (0..)
        .take_while(|k| add_months(anchor, k * months) < case.horizon.end)
        .count();
    i128::from(each) * cycles as i128
}

/// Purchases at start on `plan`: for each bundle, the counts that cover the usage above the
/// plan's included credits at each sizing quantile; for an open amount, those amounts.
fn at_start(case: &Case, plan: PlanId, quantiles: &[i64]) -> Vec<(Purchase, u64)> {
    let included = included_over_horizon(case, plan);
    let overages: Vec<i128> = quantiles
        .iter()
        .map(|q| i128::from(*q) - included)
        .filter(|o| *o > 0)
        .collect();
    let cohort = case.cohort();
    let mut out = Vec::new();
    for (b, bundle) in cohort.bundles.iter().enumerate() {
        for count in bundle_counts(&overages, i128::from(bundle.credits.micros()).max(1)) {
            out.push((Purchase::Bundle(b), count));
        }
    }
    if let Some(open) = &cohort.open_amount {
        let price = cohort.prepaid_base_price;
        for overage in &overages {
            let credits = Credits::from_micros(i64::try_from(*overage).unwrap_or(i64::MAX));
            let exact = crate::model::amounts::ExactMoney::of(credits, price);
            let Ok(money) = exact.round_to_minor(case.book.minor_digits, Rounding::HalfUp, "")
            else {
                continue;
            };
            let money = money.max(open.min).min(open.max);
            let entry = (Purchase::OpenAmount(money), 1);
            if !out.contains(&entry) {
                out.push(entry);
            }
        }
    }
    out
}

/// Counts of a bundle of `each` micro-credits worth buying at start for these usages above
/// the included credits: whole bundles just under and just over each, when they fit it
/// (prepaid the usage cannot use up within the horizon is not advice: at most 25% over);
/// and every count in between when there are few, so a best amount is not missed between
/// two quantiles (a newsvendor's optimum is a count, not a quantile of the grid).
fn bundle_counts(overages: &[i128], each: i128) -> Vec<u64> {
    let fits = |count: i128, overage: i128| count >= 1 && count * each * 4 <= overage * 5;
    let mut counts: Vec<i128> = Vec::new();
    for &overage in overages {
        for count in [overage / each, (overage + each - 1) / each] {
            if fits(count, overage) && !counts.contains(&count) {
                counts.push(count);
            }
        }
    }
    counts.sort_unstable();
    if let (Some(&low), Some(&high)) = (counts.first(), counts.last()) {
        if high - low <= BUNDLES_AT_START_MAX as i128 {
            counts = (low..=high).collect();
        }
    }
    counts
        .into_iter()
        .filter_map(|c| u64::try_from(c).ok())
        .filter(|c| *c <= BUNDLES_AT_START_MAX)
        .collect()
}

/// Top-up rules on `plan`: each bundle no bigger than the median usage above the plan's
/// included credits (a rule that buys once a horizon, and leaves most of it, is a purchase
/// at start in disguise), bought when less than a credit is left, and when less than about
/// a week of the mean usage is left.
fn top_ups(case: &Case, plan: PlanId, median: i64, mean_daily_micros: i128) -> Vec<Setup> {
    let overage = i128::from(median) - included_over_horizon(case, plan);
    const ONE: i64 = Credits::from_units(1).micros();
    let week = u64::try_from(mean_daily_micros * 7).unwrap_or(0);
    // Whole credits, so the rule reads as a customer would set it.
    let whole = week.div_ceil(ONE as u64).saturating_mul(ONE as u64);
    let week = Credits::from_micros(i64::try_from(whole).unwrap_or(i64::MAX));
    let mut thresholds = vec![Credits::from_units(1)];
    if week > thresholds[0] {
        thresholds.push(week);
    }
    let mut out = Vec::new();
    let mut purchases: Vec<Purchase> = (case.cohort().bundles.iter().enumerate())
        .filter(|(_, bundle)| i128::from(bundle.credits.micros()) <= overage)
        .map(|(b, _)| Purchase::Bundle(b))
        .collect();
    if overage > 0 {
        purchases.extend(open_top_up(case, mean_daily_micros));
    }
    for purchase in purchases {
        for &below in &thresholds {
            out.push(Setup::TopUp {
                plan,
                below,
                purchase,
            });
        }
    }
    out
}

/// A wallet's recharge: an open amount worth about a month of usage (whole units of the
/// currency, within the cohort's minimum and maximum), as a customer would set it.
fn open_top_up(case: &Case, mean_daily_micros: i128) -> Option<Purchase> {
    let cohort = case.cohort();
    let open = cohort.open_amount.as_ref()?;
    let month = i64::try_from(mean_daily_micros * 30_436_875 / 1_000_000).ok()?;
    let exact = crate::model::amounts::ExactMoney::of(
        Credits::from_micros(month),
        cohort.prepaid_base_price,
    );
    let money = exact.round_to_minor(0, Rounding::HalfUp, "").ok()?;
    Some(Purchase::OpenAmount(money.max(open.min).min(open.max)))
}

/// Upgrade rules from the current plan to each plan of the same cycle with a higher fee, at
/// the level `creditsim breakeven` finds: under steady usage the bigger plan is cheaper in
/// cash from u* credits a month, where a cycle on the current plan spends
/// `flex price x (u* x cycle months - included)` on flex; the rule moves once a cycle's
/// flex spend passes that. A plan that never becomes cheaper within the sweep's range gets
/// no rule. `mean_demand_micros`: the usage over the horizon, for the sweep's range.
fn upgrades(case: &Case, current: &Strategy, mean_demand_micros: i128) -> Vec<Setup> {
    let seats = case.workspace.seats;
    let from = current.start_plan.unwrap_or(case.workspace.plan);
    let plans = &case.book.plans;
    let Ok(from_fee) = plans[from.0].fee_for(seats) else {
        return Vec::new();
    };
    let plan_choices = breakeven::choices(case);
    let plan_choice = |p: PlanId| {
        plan_choices
            .iter()
            .find(|c| c.origin == breakeven::Origin::Plan(p))
            .cloned()
    };
    let mut out = Vec::new();
    for t in (0..plans.len()).map(PlanId) {
        let bigger = plans[t.0].cycle == plans[from.0].cycle
            && plans[t.0].fee_for(seats).is_ok_and(|fee| fee > from_fee);
        let (Some(a), Some(b)) = (plan_choice(from), plan_choice(t)) else {
            continue;
        };
        if !bigger {
            continue;
        }
        let Ok(sweep) =
            breakeven::default_sweep(case, breakeven::Unit::Credits, mean_demand_micros)
        else {
            continue;
        };
        let Ok(swept) = breakeven::breakeven_among(case, vec![a, b], sweep) else {
            continue;
        };
        let crossing = swept
            .envelope(Measure::Cash)
            .crossings
            .iter()
            .find(|c| c.to == 1);
        if let Some(spend) = crossing.and_then(|c| flex_spend_at(case, from, c.level_micros)) {
            out.push(Setup::Upgrade {
                from,
                to: t,
                flex_spend_over: spend,
            });
        }
    }
    out
}

/// What a cycle of `plan` spends on flex at a steady `level_micros` credits a month, rounded
/// once to the minor unit.
fn flex_spend_at(case: &Case, plan: PlanId, level_micros: i64) -> Option<Money> {
    let p = &case.book.plans[plan.0];
    let included = i128::from(p.included_for(case.workspace.seats).ok()?.micros());
    let used = i128::from(level_micros) * i128::from(p.cycle.months());
    let flex = i64::try_from((used - included).max(0)).ok()?;
    let price = case.cohort().flex_price(plan);
    crate::model::amounts::ExactMoney::of(Credits::from_micros(flex), price)
        .round_to_minor(case.book.minor_digits, case.book.rounding, "")
        .ok()
}

/// The strategy a setup is, named as a customer would say it.
fn strategy_for(case: &Case, flex: FlexSetting, setup: Setup) -> Strategy {
    let plan_id = |p: PlanId| case.book.plans[p.0].id.as_str();
    let item = |p: Purchase| purchase_name(case, p);
    let mut s = Strategy::pay_as_you_go("", flex);
    s.name = match setup {
        Setup::Current => unreachable!("the current setup is the scenario's own strategy"),
        Setup::PayAsYouGo { plan } => {
            s.start_plan = Some(plan);
            format!("{}, pay as you go", plan_id(plan))
        }
        Setup::AtStart {
            plan,
            purchase,
            count,
        } => {
            s.start_plan = Some(plan);
            s.buy_at_start = vec![purchase; count as usize];
            format!("{} + {count} x {} at start", plan_id(plan), item(purchase))
        }
        Setup::TopUp {
            plan,
            below,
            purchase,
        } => {
            s.start_plan = Some(plan);
            s.top_up = Some(TopUp {
                below_credits: below,
                purchase,
            });
            let below = below.to_decimal().normalize();
            format!("{}, top up {} below {below}", plan_id(plan), item(purchase))
        }
        Setup::VendorRule { plan } => {
            s.start_plan = Some(plan);
            s.buy_on_alert = true;
            format!("{}, buy on the usage alert", plan_id(plan))
        }
        Setup::Upgrade {
            from,
            to,
            flex_spend_over,
        } => {
            s.start_plan = Some(from);
            s.upgrade = Some(Upgrade {
                to,
                flex_spend_over,
            });
            let over = flex_spend_over.to_decimal().normalize();
            format!(
                "{}, upgrade to {} over {over} flex",
                plan_id(from),
                plan_id(to)
            )
        }
    };
    s
}

/// A purchase as the book names it: a bundle's id, or an open amount of money.
pub fn purchase_name(case: &Case, purchase: Purchase) -> String {
    match purchase {
        Purchase::Bundle(b) => case.cohort().bundles[b].id.clone(),
        Purchase::OpenAmount(money) => {
            format!("{} {}", money.to_decimal().normalize(), case.book.currency)
        }
    }
}

/// What `strategy` charges on its first day: the first cycle's fee, what it buys at start
/// and what its rules buy before any usage (a top-up rule with an empty balance buys at
/// once), replayed on the ledger over that day with no usage. `Money::MAX` when that
/// passes a limit (such a candidate is dropped by the worst case anyway).
pub fn upfront(case: &Case, strategy: &Strategy) -> Money {
    let first_day = add_days(case.workspace.anchor, 1).min(case.horizon.end);
    replay(&case.book, case.workspace, first_day, &[], strategy)
        .map_or(Money::MAX, |o| o.totals.cash())
}

// ---------------------------------------------------------------- the race

/// What the race knows of each candidate: its cost in the goal's measure on every path run
/// so far, and the credits it refused over them.
struct Standings {
    values: Vec<Vec<i64>>,
    blocked: Vec<i128>,
    /// Credits demanded over the paths run (the same for every candidate: same usage).
    demanded: i128,
}

/// Races `candidates` (the current setup first) over the scenario's paths; see the module
/// documentation.
pub fn race(
    case: &Case,
    model: &UsageModel,
    candidates: &[Candidate],
    goal: Goal,
    constraints: Constraints,
    config: RaceConfig,
) -> Race {
    let total = config.sim.paths;
    let mut race = Race {
        rounds: Vec::new(),
        standing: Vec::new(),
        outrun: Vec::new(),
        dropped: Vec::new(),
        replays: 0,
    };
    let mut alive = admitted(case, candidates, constraints, &mut race.dropped);
    let mut standings = Standings {
        values: vec![Vec::new(); candidates.len()],
        blocked: vec![0; candidates.len()],
        demanded: 0,
    };
    let mut paths = 0;
    while paths < total && alive.len() > 1 {
        let next = if paths == 0 {
            config.first_paths
        } else {
            paths.saturating_mul(2)
        }
        .min(total);
        let range = u64::from(paths)..u64::from(next);
        let results = run_round(
            case, model, candidates, &mut alive, &mut race, config, range,
        );
        record(&results, goal.measure, &alive, &mut standings);
        race.replays += alive.len() as u64 * u64::from(next - paths);
        paths = next;
        let before = alive.len();
        cut(
            &mut alive,
            &standings,
            goal,
            constraints,
            config,
            paths,
            &mut race,
        );
        race.rounds.push(Round {
            paths,
            candidates: before,
            left: alive.len(),
        });
        if alive.len() <= config.finalists + 1 {
            break;
        }
    }
    rank(&mut race, alive, &standings, candidates, goal.objective);
    race
}

/// The race's result: those left standing best first (ties to the smaller outlay on the
/// first day), and those outrun best first by their last estimate.
fn rank(
    race: &mut Race,
    mut alive: Vec<usize>,
    standings: &Standings,
    candidates: &[Candidate],
    objective: Objective,
) {
    alive.sort_by_key(|&c| {
        let value = estimate(&standings.values[c], objective);
        // Less usage refused first (like with like), then cost; the current setup first
        // among equals, then the smaller outlay on the first day.
        (
            standings.blocked[c],
            value,
            c != 0,
            candidates[c].upfront,
            c,
        )
    });
    let mut outrun: Vec<usize> = race
        .dropped
        .iter()
        .filter(|(_, why)| matches!(why, Dropped::Worse { .. } | Dropped::Halved { .. }))
        .map(|(c, _)| *c)
        .collect();
    outrun.sort_by_key(|&c| (per_path(&standings.values[c], objective), c));
    race.standing = without_twins(alive, standings, &mut race.dropped);
    race.outrun = without_twins(outrun, standings, &mut race.dropped)
        .into_iter()
        .filter(|c| !race.standing.iter().any(|&s| twins(standings, s, *c)))
        .collect();
}

/// Whether `a` and `b` cost the same on every path both ran.
fn twins(standings: &Standings, a: usize, b: usize) -> bool {
    let (x, y) = (&standings.values[a], &standings.values[b]);
    let n = x.len().min(y.len());
    n > 0 && x[..n] == y[..n]
}

/// `ranked` without those that cost what a better-ranked one cost on every path.
fn without_twins(
    ranked: Vec<usize>,
    standings: &Standings,
    dropped: &mut Vec<(usize, Dropped)>,
) -> Vec<usize> {
    let mut kept: Vec<usize> = Vec::with_capacity(ranked.len());
    for c in ranked {
        match kept.iter().find(|&&k| twins(standings, k, c)) {
            Some(&of) if c != 0 => dropped.push((c, Dropped::Twin { of })),
            _ => kept.push(c),
        }
    }
    kept
}

/// [`estimate`] per path (the mean, not the sum; the tail's mean), so candidates dropped
/// after different numbers of paths compare.
fn per_path(values: &[i64], objective: Objective) -> i128 {
    let n = values.len().max(1);
    let sum = estimate(values, objective);
    match objective {
        Objective::Mean => sum / n as i128,
        Objective::P90 => sum,
        Objective::Cvar95 => sum / n.div_ceil(20) as i128,
    }
}

/// The candidates allowed to start: within the upfront limit and unable to pass an amount
/// limit (the current setup always starts: it is what the others are measured against).
fn admitted(
    case: &Case,
    candidates: &[Candidate],
    constraints: Constraints,
    dropped: &mut Vec<(usize, Dropped)>,
) -> Vec<usize> {
    let mut alive = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let subject = Subject {
            strategies: std::slice::from_ref(&c.strategy),
            ..Subject::of(case)
        };
        let breach = worst_case::check(subject, None).err().filter(|_| i > 0);
        if let Some(breach) = breach {
            dropped.push((i, Dropped::Limit(breach.message)));
        } else if i > 0 && constraints.max_upfront.is_some_and(|max| c.upfront > max) {
            dropped.push((i, Dropped::Upfront));
        } else {
            alive.push(i);
        }
    }
    alive
}

/// Runs the `alive` candidates on `range`; a candidate whose replay passes an amount limit
/// leaves the race and the round runs again without it.
fn run_round(
    case: &Case,
    model: &UsageModel,
    candidates: &[Candidate],
    alive: &mut Vec<usize>,
    race: &mut Race,
    config: RaceConfig,
    range: std::ops::Range<u64>,
) -> Vec<PathResult> {
    loop {
        let round = Case {
            strategies: alive
                .iter()
                .map(|&c| candidates[c].strategy.clone())
                .collect(),
            ..case.clone()
        };
        match montecarlo::simulate_paths(&round, model, config.sim, range.clone()) {
            Ok(results) => return results,
            Err(PathError { error, .. }) => {
                let k = alive
                    .iter()
                    .position(|&c| candidates[c].strategy.name == error.strategy)
                    .expect("the failing strategy is a candidate");
                race.dropped
                    .push((alive[k], Dropped::Limit(error.to_string())));
                alive.remove(k);
            }
        }
    }
}

fn record(results: &[PathResult], measure: Measure, alive: &[usize], standings: &mut Standings) {
    for path in results {
        standings.demanded += i128::from(path.demanded.micros());
        for (k, &c) in alive.iter().enumerate() {
            let s = &path.strategies[k];
            standings.values[c].push(measure.of(s).micros());
            standings.blocked[c] += i128::from(s.blocked.micros());
        }
    }
}

/// The goal's statistic of a candidate's costs on the paths run, in micro-units (a sum for
/// the mean: every candidate has run the same paths, so sums compare as means do).
fn estimate(values: &[i64], objective: Objective) -> i128 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match objective {
        Objective::Mean => sorted.iter().map(|v| i128::from(*v)).sum(),
        Objective::P90 => i128::from(sorted[(n * 90).div_ceil(100).max(1) - 1]),
        Objective::Cvar95 => {
            let tail = n.div_ceil(20).max(1);
            // The tail's sum; every candidate's tail has the same length.
            sorted[n - tail..].iter().map(|v| i128::from(*v)).sum()
        }
    }
}

/// Whether `values` are worse than `best`'s on the same paths with paired confidence: the
/// mean difference more than `z` standard errors above zero. Floating point only decides
/// whom to keep racing; every reported number is exact.
fn worse_with_confidence(values: &[i64], best: &[i64], z: f64) -> bool {
    let n = values.len() as f64;
    let differences = values.iter().zip(best).map(|(v, b)| (*v - *b) as f64);
    let mean = differences.clone().sum::<f64>() / n;
    if mean <= 0.0 {
        return false;
    }
    let variance = differences.map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    mean > z * (variance / n).sqrt()
}

/// After a round: drops the candidates that refuse too much, then (for the mean) those worse
/// than the best with confidence, then the worse half while more than twice the finalists
/// are left. The current setup (candidate 0) stays: it is the reference.
fn cut(
    alive: &mut Vec<usize>,
    standings: &Standings,
    goal: Goal,
    constraints: Constraints,
    config: RaceConfig,
    paths: u32,
    race: &mut Race,
) {
    let mut drop = |alive: &mut Vec<usize>, why: &dyn Fn(usize) -> Option<Dropped>| {
        alive.retain(|&c| match why(c).filter(|_| c != 0) {
            Some(reason) => {
                race.dropped.push((c, reason));
                false
            }
            None => true,
        })
    };
    let blocked_max = |c: usize| match constraints.max_blocked_ppm {
        Some(ppm) => standings.blocked[c] * 1_000_000 > i128::from(ppm) * standings.demanded,
        None => standings.blocked[c] > standings.blocked[0],
    };
    drop(alive, &|c| {
        blocked_max(c).then_some(Dropped::Blocks { paths })
    });
    // Like with like (`analysis::ranking`): serving more usage comes first, then cost; a
    // candidate is never dropped for costing more than one that refuses more.
    let blocked = |c: usize| standings.blocked[c];
    let score = |c: usize| {
        (
            blocked(c),
            estimate(&standings.values[c], goal.objective),
            c,
        )
    };
    let Some(&best) = alive.iter().min_by_key(|&&c| score(c)) else {
        return;
    };
    if goal.objective == Objective::Mean {
        let best_values = &standings.values[best];
        drop(alive, &|c| {
            (blocked(c) >= blocked(best)
                && worse_with_confidence(&standings.values[c], best_values, config.z))
            .then_some(Dropped::Worse { paths })
        });
    }
    let keep = (config.finalists + 1).max(alive.len().div_ceil(2));
    if alive.len() > 2 * (config.finalists + 1) {
        let mut ranked = alive.clone();
        ranked.sort_by_key(|&c| score(c));
        let halved: Vec<usize> = ranked[keep..].to_vec();
        drop(alive, &|c| {
            halved.contains(&c).then_some(Dropped::Halved { paths })
        });
    }
}

// ---------------------------------------------------------------- advice

/// Costs within 1 / NEGLIGIBLE_PER of the best's are a tie for the recommendation.
const NEGLIGIBLE_PER: i64 = 1000;

/// Paths drawn (not replayed) to size the candidates: the usage's quantiles.
const PILOT_PATHS_MAX: u32 = 1024;

/// Advises `case`'s workspace whose current setup is strategy `current` of the case: the
/// candidates, their race, and the finalists measured on every path against the current
/// setup. Fails when a finalist or the current setup passes an amount limit on a path.
pub fn advise(
    case: &Case,
    model: &UsageModel,
    current: usize,
    goal: Goal,
    constraints: Constraints,
    config: RaceConfig,
) -> Result<Advice, SimulateError> {
    let pilot = SimConfig {
        paths: config.sim.paths.min(PILOT_PATHS_MAX),
        ..config.sim
    };
    let demands = montecarlo::demands(case, model, pilot);
    let candidates = candidates(case, &case.strategies[current], &demands);
    let race = race(case, model, &candidates, goal, constraints, config);
    // Those left standing, then the best of those outrun: runners-up to compare with.
    let finalists: Vec<usize> = race
        .standing
        .iter()
        .chain(&race.outrun)
        .copied()
        .filter(|&c| c != 0)
        .take(config.finalists)
        .collect();
    let measured = Case {
        strategies: std::iter::once(0)
            .chain(finalists.iter().copied())
            .map(|c| candidates[c].strategy.clone())
            .collect(),
        ..case.clone()
    };
    let paths = montecarlo::simulate(&measured, model, config.sim, &|_| {})?;
    let summary = montecarlo::summarise(&measured, config.sim, Comparison::exact(0), &paths);
    let measured_on = (&summary, paths.paths.as_slice());
    let (recommended, within_limits) =
        recommend(measured_on, goal, constraints, (&candidates, &finalists));
    Ok(Advice {
        goal,
        constraints,
        candidates,
        race,
        finalists,
        summary,
        recommended,
        within_limits,
        pilot_paths: pilot.paths,
    })
}

/// The best of the current setup and the finalists on every path by the goal, among those
/// within the blocked-usage limit (by default the current setup's own, which it meets) that
/// refuse the least usage (like with like: serving usage the current setup refuses is worth
/// what it costs);
/// with none within it, the current setup and `false`. For the mean, the finalists whose
/// paired difference from the best is within two standard errors of zero, and for any
/// objective those within a thousandth of the best's cost (no customer chooses on that), are
/// a tie, and a
/// tie goes to the lower mean of the other measure (equal economic cost, less cash: the
/// customer's outlay), then to the smaller outlay on the first day; the current setup wins
/// ties it is part of.
fn recommend(
    measured: (&Summary, &[PathResult]),
    goal: Goal,
    constraints: Constraints,
    candidates: (&[Candidate], &[usize]),
) -> (usize, bool) {
    let (summary, paths) = measured;
    let (candidates, finalists) = candidates;
    let candidate = |k: usize| candidate_of_row(finalists, k);
    let value = |k: usize| {
        let cost = &summary.strategies[k].measure(goal.measure).cost;
        match goal.objective {
            Objective::Mean => cost.mean,
            Objective::P90 => cost.p90.to_decimal(),
            Objective::Cvar95 => cost.cvar95,
        }
    };
    let mut allowed: Vec<usize> = (0..summary.strategies.len())
        .filter(|&k| within_blocked_limit(summary, constraints, k))
        .collect();
    // Like with like: only those refusing the least usage compete on cost.
    let least = allowed
        .iter()
        .map(|&k| summary.strategies[k].blocked_mean)
        .min();
    allowed.retain(|&k| Some(summary.strategies[k].blocked_mean) == least);
    let Some(&best) = allowed.iter().min_by_key(|&&k| (value(k), k)) else {
        return (0, false);
    };
    let other = match goal.measure {
        Measure::Economic => Measure::Cash,
        Measure::Cash => Measure::Economic,
    };
    let of = |m: Measure, k: usize| -> Vec<i64> {
        paths
            .iter()
            .map(|p| m.of(&p.strategies[k]).micros())
            .collect()
    };
    let negligible = value(best).abs() / rust_decimal::Decimal::from(NEGLIGIBLE_PER);
    let tied = |k: usize| {
        k == best
            || value(k) - value(best) <= negligible
            || (goal.objective == Objective::Mean
                && !worse_with_confidence(&of(goal.measure, k), &of(goal.measure, best), 2.0))
    };
    let chosen = allowed
        .iter()
        .copied()
        .filter(|&k| tied(k))
        .min_by_key(|&k| {
            let outlay = summary.strategies[k].measure(other).cost.mean;
            (k != 0, outlay, candidates[candidate(k)].upfront, k)
        })
        .unwrap_or(best);
    (candidate(chosen), true)
}

/// Whether measured setup `k` refuses no more usage than allowed on every path together.
fn within_blocked_limit(summary: &Summary, constraints: Constraints, k: usize) -> bool {
    let blocked = summary.strategies[k].blocked_mean;
    match constraints.max_blocked_ppm {
        Some(ppm) => {
            blocked * rust_decimal::Decimal::from(1_000_000)
                <= rust_decimal::Decimal::from(ppm) * summary.demanded_mean
        }
        None => blocked <= summary.strategies[0].blocked_mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: i128 = 1_000_000;

    #[test]
    fn bundle_counts_fit_the_usage_and_fill_the_gaps() {
        // Usage above the included credits of 150 and 230 credits, bundles of 40: 150 / 40
        // = 3.75 -> 3 (120) and 4 (160, 7% over: fits); 230 / 40 = 5.75 -> 5 and 6 (240:
        // fits). 3..=6 is a span of 3 <= 20, so every count between: 3, 4, 5, 6.
        assert_eq!(
            bundle_counts(&[150 * ONE, 230 * ONE], 40 * ONE),
            vec![3, 4, 5, 6]
        );
        // A bundle of 1,000 for 200 credits: 0 buys nothing and 1 is 5 times the usage,
        // over the 25% allowed: no count.
        assert!(bundle_counts(&[200 * ONE], 1000 * ONE).is_empty());
        // 100 credits, bundles of 80: 1 (80) fits, 2 (160) is 60% over and does not.
        assert_eq!(bundle_counts(&[100 * ONE], 80 * ONE), vec![1]);
    }

    #[test]
    fn estimates_are_the_goals_statistics() {
        // Costs 1..=20 (micro-units): the sum 210 stands for the mean; P90 is the 18th
        // value (rank ceil(0.9 x 20) = 18); CVaR95 sums the worst ceil(20 / 20) = 1: 20.
        let values: Vec<i64> = (1..=20).rev().collect();
        assert_eq!(estimate(&values, Objective::Mean), 210);
        assert_eq!(estimate(&values, Objective::P90), 18);
        assert_eq!(estimate(&values, Objective::Cvar95), 20);
    }

    #[test]
    fn paired_confidence_needs_the_difference_to_clear_its_noise() {
        // Differences 1, 1, 1, 1: mean 1, sd 0 -> worse with any confidence.
        assert!(worse_with_confidence(&[2, 3, 4, 5], &[1, 2, 3, 4], 3.0));
        // Differences +2, -2, +2, -2 and one +1: mean 0.2, sd about 2.05, se 0.92: not
        // 3 se clear of zero.
        assert!(!worse_with_confidence(
            &[3, 0, 3, 0, 2],
            &[1, 2, 1, 2, 1],
            3.0
        ));
        // Better on average: never worse.
        assert!(!worse_with_confidence(&[0, 0], &[1, 1], 0.0));
    }
}

//! The `advise` report: the recommended setup and its runners-up against the current one,
//! each with what it saves and how sure that is, and a plain-language "why".

use super::doc::{Block, Doc, Table};
use crate::analysis::advise::{Advice, Dropped, Objective, Setup};
use crate::analysis::breakeven::months;
use crate::analysis::montecarlo::{Measure, StrategyStats};
use crate::engine::ledger::Purchase;
use crate::input::scenario::Scenario;
use crate::model::amounts::Money;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// z for a two-sided 95% confidence interval of a mean saving.
const Z95: Decimal = Decimal::from_parts(196, 0, 0, false, 2);

pub(super) fn measure_label(m: Measure) -> &'static str {
    match m {
        Measure::Economic => "economic cost",
        Measure::Cash => "cash",
    }
}

fn goal_text(advice: &Advice) -> String {
    let what = match advice.goal.objective {
        Objective::Mean => "mean",
        Objective::P90 => "90th percentile (a bad year)",
        Objective::Cvar95 => "mean of the worst 5% of years (CVaR95)",
    };
    format!("{what} {}", measure_label(advice.goal.measure))
}

/// A decimal rounded half away from zero to the book's minor unit, for people.
pub(super) fn amount(d: Decimal, digits: u32) -> String {
    let r = d.round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{r:.*}", digits as usize)
}

fn percent(share: Decimal) -> String {
    format!("{}%", (share * Decimal::from(100)).round_dp(1).normalize())
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn horizon_words(months: u32) -> String {
    match months {
        12 => "a year".to_string(),
        1 => "over the month".to_string(),
        n => format!("over the {n} months"),
    }
}

/// The saving of row `k` against the current setup (row 0) in the goal's measure: mean and
/// its 95% interval.
fn saving(stats: &StrategyStats, m: Measure, digits: u32) -> (String, String, String) {
    let s = &stats.measure(m).savings;
    let half = s.stderr * Z95;
    (
        amount(s.mean, digits),
        amount(s.mean - half, digits),
        amount(s.mean + half, digits),
    )
}

/// Why a customer would take the recommendation, in one paragraph of numbers they can check
/// in the table.
fn why(scenario: &Scenario, advice: &Advice) -> String {
    let case = &scenario.case;
    let (d, currency) = (case.book.minor_digits, &case.book.currency);
    let summary = &advice.summary;
    let current = &summary.strategies[0].name;
    let m = advice.goal.measure;
    let period = horizon_words(months(case));
    let row = advice.recommended_row();
    if row == 0 {
        return keep_current(advice, m, (d, currency), &period);
    }
    let stats = &summary.strategies[row];
    let (mean, low, high) = saving(stats, m, d);
    let p = percent(stats.measure(m).savings.p_positive);
    let month = |x: Measure| stats.measure(x).break_even_month;
    // Cash first: what the customer pays out is what an upfront purchase is judged on.
    let payback = match (month(Measure::Cash), month(Measure::Economic)) {
        (Some(c), Some(e)) => {
            format!("it pays back in cash from month {c} (economic cost: month {e})")
        }
        (None, Some(e)) => format!(
            "in cash it does not pay back within the horizon (economic cost: from month {e})"
        ),
        (Some(c), None) => format!("it pays back in cash from month {c}"),
        (None, None) => "it does not pay back within the horizon".to_string(),
    };
    let refused_now = summary.strategies[0].p_blocked;
    let mut text = match mean.strip_prefix('-') {
        // It costs more because it serves what the current setup refuses (like with like).
        Some(more) => format!(
            "{}: serves the usage \"{current}\" refuses on {} of the simulated paths, for \
             {more} {currency} more {period} in {} (95% CI of the saving {low} to {high}); \
             {payback}.",
            describe(scenario, advice, advice.recommended),
            percent(refused_now),
            measure_label(m),
        ),
        None => format!(
            "{}: saves {mean} {currency} {period} in {} (95% CI {low} to {high}) against \
             \"{current}\", and costs less on {p} of the simulated paths; {payback}.",
            describe(scenario, advice, advice.recommended),
            measure_label(m),
        ),
    };
    text.push_str(&cycle_warning(scenario, advice));
    if let Some(u) = stats.prepaid_utilisation {
        text.push_str(&format!(
            " It uses {} of the prepaid credits it buys.",
            percent(u)
        ));
    }
    if stats.p_blocked.is_zero() {
        text.push_str(" It refuses no usage.");
    } else {
        text.push_str(&format!(
            " It refuses usage on {} of the paths (the current setup on {}): the flex cap \
             is the current setup's.",
            percent(stats.p_blocked),
            percent(summary.strategies[0].p_blocked)
        ));
    }
    text
}

/// A warning when the recommended plan bills for longer than the horizon: economic cost then
/// counts only the horizon's share of the fee, but the customer pays for the whole cycle.
fn cycle_warning(scenario: &Scenario, advice: &Advice) -> String {
    let case = &scenario.case;
    let strategy = &advice.candidates[advice.recommended].strategy;
    let plan = &case.book.plans[strategy.start_plan.unwrap_or(case.workspace.plan).0];
    let (cycle, horizon) = (plan.cycle.months(), months(case));
    if cycle <= horizon {
        return String::new();
    }
    format!(
        " Mind the commitment: {} is billed {cycle} months at a time, longer than the \
         {horizon}-month horizon; economic cost counts only the horizon's share of its fee, \
         while the customer pays for the whole cycle.",
        plan.name
    )
}

/// The why when the current setup stays: nothing beat it, or nothing kept within the limit.
fn keep_current(advice: &Advice, m: Measure, (d, currency): (u32, &str), period: &str) -> String {
    let summary = &advice.summary;
    let current = &summary.strategies[0].name;
    let runner = summary.strategies.get(1).map_or(String::new(), |s| {
        let (mean, low, high) = saving(s, m, d);
        let verb = match mean.strip_prefix('-') {
            Some(more) => format!("costs {more} {currency} more {period}"),
            None => format!("saves {mean} {currency} {period}"),
        };
        format!(
            " The closest, \"{}\", {verb} (95% CI of the saving {low} to {high}).",
            s.name
        )
    });
    if !advice.within_limits {
        return format!(
            "No setup measured, the current \"{current}\" included, keeps refused usage within \
             the limit asked for; the current setup is shown as the reference.{runner}"
        );
    }
    format!(
        "Keep the current setup \"{current}\": none of the {} candidates has a lower {} on the \
         same simulated usage.{runner}",
        advice.candidates.len() - 1,
        goal_text(advice)
    )
}

/// A candidate as a sentence's subject.
fn describe(scenario: &Scenario, advice: &Advice, c: usize) -> String {
    let case = &scenario.case;
    let plan = |p: crate::model::pricing::PlanId| case.book.plans[p.0].name.clone();
    let item = |p| crate::analysis::advise::purchase_name(case, p);
    match advice.candidates[c].setup {
        Setup::Current => format!("Keep \"{}\"", advice.candidates[c].strategy.name),
        Setup::PayAsYouGo { plan: p } => format!("Take {} and pay as you go", plan(p)),
        Setup::AtStart {
            plan: p,
            purchase,
            count,
        } => match purchase {
            Purchase::Bundle(_) => {
                format!(
                    "Take {} and buy {count} x {} at the start",
                    plan(p),
                    item(purchase)
                )
            }
            Purchase::OpenAmount(_) => format!(
                "Take {} and buy {} of credits at the start",
                plan(p),
                item(purchase)
            ),
        },
        Setup::TopUp {
            plan: p,
            below,
            purchase,
        } => {
            let left = match below.to_decimal().normalize() {
                one if one == rust_decimal::Decimal::ONE => "less than 1 prepaid credit is".into(),
                n => format!("fewer than {n} prepaid credits are"),
            };
            format!(
                "Take {} and buy {} whenever {left} left",
                plan(p),
                item(purchase)
            )
        }
        Setup::VendorRule { plan: p } => format!(
            "Take {} and, on the usage alert, buy the smallest bundle covering last cycle's flex",
            plan(p)
        ),
        Setup::Upgrade {
            from,
            to,
            flex_spend_over,
        } => format!(
            "Start on {} and move to {} once a cycle's flex passes {} {}",
            plan(from),
            plan(to),
            flex_spend_over.to_decimal().normalize(),
            case.book.currency
        ),
    }
}

fn month_cell(month: Option<u32>) -> String {
    month.map_or("-".to_string(), |k| k.to_string())
}

/// The current setup and the finalists over every path.
fn finalists_table(scenario: &Scenario, advice: &Advice) -> Table {
    let case = &scenario.case;
    let d = case.book.minor_digits;
    let m = advice.goal.measure;
    let rows = advice
        .summary
        .strategies
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let c = advice.candidate_of_row(k);
            let (mean, low, high) = saving(s, m, d);
            let chosen = if c == advice.recommended { "*" } else { "" };
            vec![
                format!("{chosen}{}", s.name),
                amount(s.measure(m).cost.mean, d),
                amount(s.measure(m).cost.p90.to_decimal(), d),
                if k == 0 { "-".into() } else { mean },
                if k == 0 {
                    "-".into()
                } else {
                    format!("{low} to {high}")
                },
                if k == 0 {
                    "-".into()
                } else {
                    percent(s.measure(m).savings.p_positive)
                },
                month_cell(s.economic.break_even_month),
                month_cell(s.cash.break_even_month),
                s.prepaid_utilisation.map_or("-".into(), percent),
                percent(s.p_blocked),
                advice.candidates[c].upfront.to_decimal_minor(d).to_string(),
            ]
        })
        .collect();
    Table {
        title: format!(
            "The current setup and the finalists over {} paths ({}, {}; * recommended)",
            advice.summary.paths,
            case.book.currency,
            measure_label(m)
        ),
        header: [
            "setup",
            "mean",
            "P90",
            "saving",
            "saving, 95% CI",
            "P(saves)",
            "pays back (economic)",
            "pays back (cash)",
            "prepaid used",
            "P(refuses usage)",
            "upfront",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        key_columns: 1,
    }
}

fn rounds_table(advice: &Advice) -> Table {
    Table {
        title: "The race, round by round".to_string(),
        header: ["paths", "candidates", "left"].map(String::from).to_vec(),
        rows: advice
            .race
            .rounds
            .iter()
            .map(|r| {
                vec![
                    r.paths.to_string(),
                    r.candidates.to_string(),
                    r.left.to_string(),
                ]
            })
            .collect(),
        key_columns: 1,
    }
}

/// How many candidates left the race for each reason.
fn dropped_note(advice: &Advice) -> String {
    let count =
        |f: &dyn Fn(&Dropped) -> bool| advice.race.dropped.iter().filter(|d| f(&d.1)).count();
    format!(
        "Left the race: {} worse than the best with paired confidence (z = 3), {} in the worse \
         half of a round (successive halving), {} refusing more usage than allowed, {} over the \
         upfront limit, {} at an amount limit, {} costing exactly what a better-placed one cost \
         on every path.",
        count(&|d| matches!(d, Dropped::Worse { .. })),
        count(&|d| matches!(d, Dropped::Halved { .. })),
        count(&|d| matches!(d, Dropped::Blocks { .. })),
        count(&|d| matches!(d, Dropped::Upfront)),
        count(&|d| matches!(d, Dropped::Limit(_))),
        count(&|d| matches!(d, Dropped::Twin { .. })),
    )
}

pub fn advise_doc(scenario: &Scenario, advice: &Advice) -> Doc {
    let mut doc = Doc::new(format!("Scenario: {}", scenario.name));
    doc.subtitle = Some(format!("Advice for {}", scenario.path.display()));
    let s = &advice.summary;
    let replays_final = u64::from(s.paths) * s.strategies.len() as u64;
    doc.push(Block::Paragraph(format!(
        "Goal: the lowest {}. {} candidates from the pricing book (every plan paid as it goes; \
         bundles or open amounts bought at start, sized on the usage's deciles over {} paths; \
         top-up rules; the vendor's buy-on-alert rule; upgrades at the break-even level) raced \
         on the same simulated usage: {} replays in {}, then the current setup and {} over \
         all {} paths ({} replays; seed {}).",
        goal_text(advice),
        advice.candidates.len(),
        advice.pilot_paths,
        advice.race.replays,
        plural(advice.race.rounds.len(), "round"),
        plural(advice.finalists.len(), "finalist"),
        s.paths,
        replays_final,
        s.seed,
    )));
    doc.push(Block::Paragraph(why(scenario, advice)));
    doc.push(Block::Table(finalists_table(scenario, advice)));
    doc.push(Block::Table(rounds_table(advice)));
    doc.push(Block::Note(dropped_note(advice)));
    doc.data = advice_json(scenario, advice);
    doc.tidy = Some(finalists_table(scenario, advice));
    doc
}

fn money_json(m: Money, digits: u32) -> Value {
    json!(m.to_decimal_minor(digits).to_string())
}

fn advice_json(scenario: &Scenario, advice: &Advice) -> Value {
    let d = scenario.case.book.minor_digits;
    let m = advice.goal.measure;
    let rows: Vec<Value> = advice
        .summary
        .strategies
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let c = advice.candidate_of_row(k);
            let savings = &s.measure(m).savings;
            json!({
                "setup": s.name,
                "recommended": c == advice.recommended,
                "current": c == 0,
                "mean": s.measure(m).cost.mean.to_string(),
                "p90": money_json(s.measure(m).cost.p90, d),
                "cvar95": s.measure(m).cost.cvar95.to_string(),
                "saving_mean": savings.mean.to_string(),
                "saving_stderr": savings.stderr.to_string(),
                "p_saves": savings.p_positive.to_string(),
                "break_even_month_economic": s.economic.break_even_month,
                "break_even_month_cash": s.cash.break_even_month,
                "prepaid_utilisation": s.prepaid_utilisation.map(|u| u.to_string()),
                "p_blocked": s.p_blocked.to_string(),
                "blocked_mean": s.blocked_mean.to_string(),
                "upfront": money_json(advice.candidates[c].upfront, d),
            })
        })
        .collect();
    json!({
        "objective": advice.goal.objective.name(),
        "measure": m.name(),
        "recommended": advice.candidates[advice.recommended].strategy.name,
        "why": why(scenario, advice),
        "candidates": advice.candidates.len(),
        "replays": advice.race.replays,
        "rounds": advice.race.rounds.iter().map(|r| json!({
            "paths": r.paths, "candidates": r.candidates, "left": r.left
        })).collect::<Vec<_>>(),
        "paths": advice.summary.paths,
        "seed": advice.summary.seed,
        "setups": rows,
    })
}

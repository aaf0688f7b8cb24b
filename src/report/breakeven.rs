//! The `breakeven` report: what every choice costs under steady usage, and the levels where
//! the cheapest one changes, in economic cost and in cash.

use super::advise::measure_label;
use super::doc::{Block, Chart, Doc, Table};
use crate::analysis::breakeven::{level_number, level_text, unit_name, Breakeven, Origin};
use crate::analysis::montecarlo::Measure;
use crate::input::scenario::Scenario;
use crate::model::amounts::Money;
use crate::model::calendar::display;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Columns of the table of costs at a few levels, besides crossings: the grid's quarters.
const QUARTERS: i64 = 4;
/// Most levels in that table: past it, the crossings are left to their own tables.
const SHOWN_LEVELS_MAX: usize = 10;

fn money_cell(m: Money, digits: u32) -> String {
    m.to_decimal_minor(digits).to_string()
}

/// A horizon total per month, rounded half-up to the minor unit: for people only, every
/// comparison is made on the exact totals.
pub fn per_month(total: Money, months: u32, digits: u32) -> String {
    let d = (total.to_decimal() / Decimal::from(months.max(1)))
        .round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{d:.*}", digits as usize)
}

/// "growth-monthly pays off from 64 credits a month (cash; was core-monthly)", and the
/// cheapest choice at the range's start first.
fn plain_lines(scenario: &Scenario, b: &Breakeven, m: Measure) -> Vec<String> {
    let case = &scenario.case;
    let unit = b.sweep.unit;
    let e = b.envelope(m);
    let mut lines = vec![format!(
        "At {} a month, {} is the cheapest ({}).",
        level_text(case, unit, b.sweep.from_micros),
        b.choices[e.first].name,
        measure_label(m)
    )];
    lines.extend(e.crossings.iter().map(|c| {
        format!(
            "{} pays off from {} a month ({}; was {}).",
            b.choices[c.to].name,
            level_text(case, unit, c.level_micros),
            measure_label(m),
            b.choices[c.from].name
        )
    }));
    if e.crossings.is_empty() {
        lines.push(format!(
            "It stays the cheapest up to {} a month.",
            level_text(case, unit, b.sweep.to_micros)
        ));
    }
    lines
}

fn crossings_table(scenario: &Scenario, b: &Breakeven, m: Measure) -> Table {
    let book = &scenario.case.book;
    let d = book.minor_digits;
    let unit = unit_name(&scenario.case, b.sweep.unit);
    let step = level_number(b.sweep.step_micros);
    let header = vec![
        format!("{unit} a month"),
        "cheapest from here".to_string(),
        "was".to_string(),
        format!("was, at -{step}"),
        format!("new, at -{step}"),
        "was, at level".to_string(),
        "new, at level".to_string(),
        "new, per month".to_string(),
    ];
    let rows = b
        .envelope(m)
        .crossings
        .iter()
        .map(|c| {
            vec![
                level_number(c.level_micros),
                b.choices[c.to].name.clone(),
                b.choices[c.from].name.clone(),
                money_cell(c.below.0, d),
                money_cell(c.below.1, d),
                money_cell(c.at.0, d),
                money_cell(c.at.1, d),
                per_month(c.at.1, b.months, d),
            ]
        })
        .collect();
    Table {
        title: format!(
            "Crossings in {} ({}, totals over the {} months of the horizon)",
            measure_label(m),
            book.currency,
            b.months
        ),
        header,
        rows,
        key_columns: 1,
    }
}

/// The levels shown in the table of every choice's cost: the range's quarters (on the grid,
/// so evaluated) and every crossing, ascending.
fn shown_levels(b: &Breakeven) -> Vec<i64> {
    let grid = crate::analysis::breakeven::grid(&b.sweep);
    let last = grid.len() as i64 - 1;
    let quarters: Vec<i64> = (0..=QUARTERS)
        .map(|q| grid[(last * q / QUARTERS) as usize])
        .collect();
    let mut levels: Vec<i64> = quarters
        .iter()
        .copied()
        .chain(
            b.envelopes
                .iter()
                .flat_map(|e| e.crossings.iter().map(|c| c.level_micros)),
        )
        .collect();
    levels.sort_unstable();
    levels.dedup();
    if levels.len() > SHOWN_LEVELS_MAX {
        // Too many crossings for one table: the quarters alone (the crossings' own costs
        // are in the crossings tables).
        levels.retain(|l| quarters.contains(l));
    }
    levels
}

fn costs_table(scenario: &Scenario, b: &Breakeven, m: Measure) -> Table {
    let book = &scenario.case.book;
    let d = book.minor_digits;
    let levels = shown_levels(b);
    let mut header = vec![format!(
        "{} a month",
        unit_name(&scenario.case, b.sweep.unit)
    )];
    header.extend(levels.iter().map(|l| level_number(*l)));
    let costs: Vec<&[_]> = levels
        .iter()
        .map(|l| b.costs_at(*l).expect("shown levels were evaluated"))
        .collect();
    let mut rows: Vec<Vec<String>> = b
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut row = vec![c.name.clone()];
            // In brackets where the choice refuses usage: its cost is for less work.
            row.extend(costs.iter().map(|k| {
                let cell = per_month(k[i].of(m), b.months, d);
                if k[i].refused.is_zero() {
                    cell
                } else {
                    format!("[{cell}]")
                }
            }));
            row
        })
        .collect();
    let mut cheapest = vec!["cheapest".to_string()];
    let e = b.envelope(m);
    cheapest.extend(
        levels
            .iter()
            .map(|l| b.choices[e.cheapest_at(*l)].name.clone()),
    );
    rows.push(cheapest);
    Table {
        title: format!(
            "{} per month ({}: the horizon's total / {} months) at a few levels; [in brackets]: \
             refuses usage there",
            measure_label(m),
            book.currency,
            b.months
        ),
        header,
        rows,
        key_columns: 1,
    }
}

/// How each kind of choice was built, in one paragraph.
fn choices_paragraph(scenario: &Scenario, b: &Breakeven) -> String {
    let case = &scenario.case;
    let plan = &case.book.plans[case.workspace.plan.0].id;
    let top_ups = b
        .choices
        .iter()
        .any(|c| matches!(c.origin, Origin::TopUp(_)));
    let mut text = format!(
        "Choices: the scenario's {} strategies as written; every plan of the book from the \
         start, flex on and uncapped (so none refuses usage), no bundles",
        case.strategies.len()
    );
    if top_ups {
        text.push_str(&format!(
            "; and, on {plan} with flex uncapped, topping up with each bundle of cohort \"{}\" \
             when the prepaid balance cannot cover the next day (the top-up threshold is the \
             largest day's usage, so the first bundle is bought at the start even while \
             included credits last; economic cost credits back what is left unused)",
            case.cohort().id
        ));
    }
    text.push_str(
        ". A tie is not a change: the cheapest choice stays cheapest while it ties, and among \
         choices newly tied the one listed first wins.",
    );
    text
}

/// One note naming every choice that refused usage at some level evaluated: like with like.
fn refusal_note(scenario: &Scenario, b: &Breakeven) -> Option<String> {
    let case = &scenario.case;
    let refusing: Vec<String> = (0..b.choices.len())
        .filter_map(|i| {
            let (level, _) = b
                .evaluated
                .iter()
                .find(|(_, costs)| !costs[i].refused.is_zero())?;
            Some(format!(
                "\"{}\" from {}",
                b.choices[i].name,
                level_text(case, b.sweep.unit, *level)
            ))
        })
        .collect();
    if refusing.is_empty() {
        return None;
    }
    Some(format!(
        "Refusing usage (a flex cap or flex switched off), at the lowest level evaluated where \
         it does: {}. Refused work costs nothing, so a choice refusing more usage than another \
         is set apart there and never called cheaper: only the choices refusing the least usage \
         compete.",
        refusing.join("; ")
    ))
}

/// The `breakeven` report, with the chart when given (HTML shows it inline).
pub fn breakeven_doc(scenario: &Scenario, b: &Breakeven, charts: Vec<Chart>) -> Doc {
    let case = &scenario.case;
    let unit = b.sweep.unit;
    let mut doc = Doc::new(format!("Scenario: {}", scenario.name));
    doc.subtitle = Some(format!("Break-even of {}", scenario.path.display()));
    doc.push(Block::Paragraph(format!(
        "Steady usage from {} to {} a month: every billing month of [{}, {}) ({} months from \
         the anchor) gets the level, spread evenly over its days, one event a day. Each \
         choice's cost is its exact total over the horizon; per month is that total / {}. \
         Crossings are found by bisection on the ledger to a step of {} (in {}), never read \
         off the grid.",
        level_number(b.sweep.from_micros),
        level_text(case, unit, b.sweep.to_micros),
        display(case.workspace.anchor),
        display(case.horizon.end),
        b.months,
        b.months,
        level_number(b.sweep.step_micros),
        unit_name(case, unit),
    )));
    doc.push(Block::Paragraph(choices_paragraph(scenario, b)));
    for m in [Measure::Economic, Measure::Cash] {
        doc.push(Block::Lines(plain_lines(scenario, b, m)));
    }
    for m in [Measure::Economic, Measure::Cash] {
        doc.push(Block::Table(crossings_table(scenario, b, m)));
    }
    for m in [Measure::Economic, Measure::Cash] {
        doc.push(Block::Table(costs_table(scenario, b, m)));
    }
    if let Some(note) = refusal_note(scenario, b) {
        doc.push(Block::Note(note));
    }
    for chart in charts {
        doc.push(Block::Chart(chart));
    }
    doc.data = breakeven_json(scenario, b);
    doc.tidy = Some(crossings_tidy(scenario, b));
    doc
}

/// One row per crossing: the CSV on stdout and `summary.csv`.
fn crossings_tidy(scenario: &Scenario, b: &Breakeven) -> Table {
    let d = scenario.case.book.minor_digits;
    let unit = unit_name(&scenario.case, b.sweep.unit);
    let mut rows = Vec::new();
    for e in &b.envelopes {
        for c in &e.crossings {
            rows.push(vec![
                e.measure.name().to_string(),
                level_number(c.level_micros).replace(',', ""),
                unit.clone(),
                b.choices[c.from].name.clone(),
                b.choices[c.to].name.clone(),
                money_cell(c.below.0, d),
                money_cell(c.below.1, d),
                money_cell(c.at.0, d),
                money_cell(c.at.1, d),
            ]);
        }
    }
    Table {
        title: "Crossings".to_string(),
        header: [
            "measure",
            "level",
            "unit",
            "from",
            "to",
            "from_cost_below",
            "to_cost_below",
            "from_cost_at",
            "to_cost_at",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        key_columns: 2,
    }
}

/// Every level evaluated and every choice's cost there (`--out`'s `costs.csv`).
pub fn costs_tidy(scenario: &Scenario, b: &Breakeven) -> Table {
    let d = scenario.case.book.minor_digits;
    let mut rows = Vec::new();
    for (level, costs) in &b.evaluated {
        for (i, c) in costs.iter().enumerate() {
            rows.push(vec![
                level_number(*level).replace(',', ""),
                b.choices[i].name.clone(),
                money_cell(c.cash, d),
                money_cell(c.economic, d),
                c.refused.to_decimal().normalize().to_string(),
            ]);
        }
    }
    Table {
        title: "Cost of every choice at every level evaluated".to_string(),
        header: [
            "level",
            "choice",
            "cash",
            "economic_cost",
            "refused_credits",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        key_columns: 2,
    }
}

pub fn breakeven_json(scenario: &Scenario, b: &Breakeven) -> Value {
    let case = &scenario.case;
    let d = case.book.minor_digits;
    let m = |v: Money| Value::from(money_cell(v, d));
    let level = |l: i64| Value::from(Decimal::new(l, 6).normalize().to_string());
    let choices: Vec<Value> = b
        .choices
        .iter()
        .map(|c| {
            let kind = match c.origin {
                Origin::Scenario(_) => "scenario strategy",
                Origin::Plan(_) => "plan",
                Origin::TopUp(_) => "top-up",
            };
            json!({ "name": c.name, "kind": kind })
        })
        .collect();
    let envelopes: Vec<Value> = b
        .envelopes
        .iter()
        .map(|e| {
            let crossings: Vec<Value> = e
                .crossings
                .iter()
                .map(|c| {
                    json!({
                        "level": level(c.level_micros),
                        "from": b.choices[c.from].name, "to": b.choices[c.to].name,
                        "from_cost_below": m(c.below.0), "to_cost_below": m(c.below.1),
                        "from_cost_at": m(c.at.0), "to_cost_at": m(c.at.1),
                    })
                })
                .collect();
            json!({
                "measure": e.measure.name(),
                "cheapest_at_from": b.choices[e.first].name,
                "crossings": crossings,
            })
        })
        .collect();
    let costs: Vec<Value> = b
        .evaluated
        .iter()
        .map(|(l, costs)| {
            json!({
                "level": level(*l),
                "cash": costs.iter().map(|c| m(c.cash)).collect::<Vec<_>>(),
                "economic_cost": costs.iter().map(|c| m(c.economic)).collect::<Vec<_>>(),
                "refused_credits": costs.iter().map(|c| c.refused.to_decimal().normalize().to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "scenario": scenario.name,
        "file": scenario.path.display().to_string(),
        "currency": case.book.currency,
        "horizon": { "start": display(case.workspace.anchor), "end": display(case.horizon.end) },
        "months": b.months,
        "unit": unit_name(case, b.sweep.unit),
        "from": level(b.sweep.from_micros),
        "to": level(b.sweep.to_micros),
        "step": level(b.sweep.step_micros),
        "grid_points": b.sweep.grid_points,
        "choices": choices,
        "envelopes": envelopes,
        "costs": costs,
    })
}

//! The `sensitivity` report: which assumption moves the recommended setup's cost most (a
//! tornado), how the gap to the runner-up moves, and where the recommendation changes.

use super::advise::{amount, measure_label};
use super::charts::{colour, render, Draw, DrawResult, Rendered, FONT};
use super::doc::{Block, Doc, Table};
use crate::analysis::sensitivity::{ParameterResult, Sensitivity, FLIP_RESOLUTION};
use crate::input::scenario::Scenario;
use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// A change with its sign, at most 2 decimals, rounded away from zero (a flip is reported
/// on its far side, where the other setup is already the cheapest).
fn signed(d: Decimal, unit: &str) -> String {
    let d = d
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::AwayFromZero)
        .normalize();
    if d > Decimal::ZERO {
        format!("+{d}{unit}")
    } else {
        format!("{d}{unit}")
    }
}

/// How far the parameter moves the recommended setup's mean, low end and high end.
fn effects(s: &Sensitivity, r: &ParameterResult) -> (Decimal, Decimal) {
    let base = s.base.means[s.recommended];
    (
        r.low.means[s.recommended] - base,
        r.high.means[s.recommended] - base,
    )
}

fn swing(s: &Sensitivity, r: &ParameterResult) -> Decimal {
    let (lo, hi) = effects(s, r);
    (hi - lo).abs()
}

/// One line per parameter: where the recommendation changes, or that it does not.
fn flip_lines(scenario: &Scenario, s: &Sensitivity) -> Vec<String> {
    let names = |i: usize| scenario.case.strategies[i].name.clone();
    s.parameters
        .iter()
        .map(|r| {
            let p = r.parameter;
            if r.flips.is_empty() {
                return format!(
                    "{}: the recommendation does not change between {} and {}.",
                    p.name(),
                    signed(r.low.change, p.unit()),
                    signed(r.high.change, p.unit())
                );
            }
            let flips: Vec<String> = (r.flips.iter())
                .map(|f| {
                    format!(
                        "\"{}\" is cheapest from {} (to within {}{})",
                        names(f.to),
                        signed(f.change, p.unit()),
                        FLIP_RESOLUTION.normalize(),
                        p.unit()
                    )
                })
                .collect();
            format!("{}: {}.", p.name(), flips.join("; "))
        })
        .collect()
}

fn table(scenario: &Scenario, s: &Sensitivity) -> Table {
    let d = scenario.case.book.minor_digits;
    let mut order: Vec<&ParameterResult> = s.parameters.iter().collect();
    order.sort_by_key(|r| std::cmp::Reverse(swing(s, r)));
    let gap = |means: &[Decimal]| amount(means[s.recommended] - means[s.runner_up], d);
    let rows = order
        .iter()
        .map(|r| {
            let unit = r.parameter.unit();
            let (lo, hi) = effects(s, r);
            vec![
                r.parameter.name().to_string(),
                format!(
                    "{} / {}",
                    signed(r.low.change, unit),
                    signed(r.high.change, unit)
                ),
                amount(r.low.means[s.recommended], d),
                amount(r.high.means[s.recommended], d),
                format!("{} / {}", amount(lo, d), amount(hi, d)),
                gap(&r.low.means),
                gap(&r.high.means),
                match r.flips.len() {
                    0 => "stays".to_string(),
                    _ => (r.flips.iter())
                        .map(|f| signed(f.change, unit))
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            ]
        })
        .collect();
    Table {
        title: format!(
            "\"{}\" (recommended) and the gap to \"{}\" (runner-up), mean {} in {}, biggest swing first",
            scenario.case.strategies[s.recommended].name,
            scenario.case.strategies[s.runner_up].name,
            measure_label(s.measure),
            scenario.case.book.currency
        ),
        header: [
            "parameter", "low / high", "cost at low", "cost at high", "effect low / high",
            "minus runner-up, low", "minus runner-up, high", "changes at",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        key_columns: 1,
    }
}

struct Tornado {
    title: String,
    /// (parameter, effect at low, effect at high), biggest swing first.
    bars: Vec<(String, f64, f64)>,
    extent: f64,
}

impl Draw for Tornado {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 16))?;
        let n = self.bars.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(34)
            .y_label_area_size(130)
            .build_cartesian_2d(-self.extent..self.extent, 0.0..n)?;
        let names: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        chart
            .configure_mesh()
            .y_labels(self.bars.len() * 2 + 1)
            .y_label_formatter(&|y| {
                let k = (n - y - 0.5).round();
                if (n - y - 0.5 - k).abs() < 0.01 && k >= 0.0 && (k as usize) < names.len() {
                    names[k as usize].clone()
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|x| format!("{x:+.0}"))
            .label_style((FONT, 13))
            .light_line_style(WHITE)
            .draw()?;
        for (k, (_, lo, hi)) in self.bars.iter().enumerate() {
            let y = n - k as f64;
            for (v, c) in [(*lo, 0), (*hi, 3)] {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.8), (v, y - 0.2)],
                    colour(c).mix(0.8).filled(),
                )))?;
            }
        }
        Ok(())
    }
}

fn tornado(scenario: &Scenario, s: &Sensitivity) -> Result<Rendered, String> {
    let f = |d: Decimal| rust_decimal::prelude::ToPrimitive::to_f64(&d).unwrap_or(0.0);
    let bars: Vec<(String, f64, f64)> = (s.parameters.iter())
        .map(|r| {
            let (lo, hi) = effects(s, r);
            (r.parameter.name().to_string(), f(lo), f(hi))
        })
        .collect();
    let title = format!(
        "{}: change in the recommended setup's mean {} ({}; blue: low end, red: high end)",
        scenario.name,
        measure_label(s.measure),
        scenario.case.book.currency
    );
    tornado_chart("tornado", title, bars)
}

/// A tornado of (parameter, effect at the low end, effect at the high end), biggest swing on
/// top, its axis symmetric around no change.
pub(super) fn tornado_chart(
    name: &'static str,
    title: String,
    mut bars: Vec<(String, f64, f64)>,
) -> Result<Rendered, String> {
    bars.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()));
    let extent = (bars.iter())
        .map(|b| b.1.abs().max(b.2.abs()))
        .fold(1.0, f64::max)
        * 1.1;
    let height = 80 + 44 * bars.len() as u32;
    let chart = Tornado {
        title: title.clone(),
        bars,
        extent,
    };
    render(name, &title, (900, height), &chart)
}

pub fn sensitivity_doc(
    scenario: &Scenario,
    s: &Sensitivity,
) -> Result<(Doc, Vec<Rendered>), String> {
    let d = scenario.case.book.minor_digits;
    let name = |i: usize| &scenario.case.strategies[i].name;
    let mut doc = Doc::new(format!("Sensitivity of {}", scenario.name));
    doc.subtitle = Some(format!(
        "One parameter at a time, for {}",
        scenario.path.display()
    ));
    doc.push(Block::Paragraph(format!(
        "At the base, \"{}\" is the cheapest by mean {} ({} {}), \"{}\" next ({}). Each parameter \
         is moved to its low and high end alone, on the same simulated usage; where another setup \
         becomes the cheapest, the change at which it does is found by bisection.",
        name(s.recommended),
        measure_label(s.measure),
        amount(s.base.means[s.recommended], d),
        scenario.case.book.currency,
        name(s.runner_up),
        amount(s.base.means[s.runner_up], d),
    )));
    doc.push(Block::Lines(flip_lines(scenario, s)));
    doc.push(Block::Table(table(scenario, s)));
    let chart = tornado(scenario, s)?;
    doc.push(Block::Chart(chart.inline()));
    doc.data = sensitivity_json(scenario, s);
    Ok((doc, vec![chart]))
}

fn sensitivity_json(scenario: &Scenario, s: &Sensitivity) -> Value {
    let names = |i: usize| scenario.case.strategies[i].name.clone();
    let means = |m: &[Decimal]| m.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    json!({
        "measure": s.measure.name(),
        "recommended": names(s.recommended),
        "runner_up": names(s.runner_up),
        "strategies": scenario.case.strategies.iter().map(|x| x.name.clone()).collect::<Vec<_>>(),
        "base_means": means(&s.base.means),
        "parameters": s.parameters.iter().map(|r| json!({
            "parameter": r.parameter.name(),
            "unit": r.parameter.unit(),
            "low": r.low.change.to_string(),
            "high": r.high.change.to_string(),
            "means_at_low": means(&r.low.means),
            "means_at_high": means(&r.high.means),
            "cheapest_at_low": names(r.low.cheapest),
            "cheapest_at_high": names(r.high.cheapest),
            "flips": r.flips.iter().map(|f| json!({
                "change": f.change.to_string(), "to": names(f.to)
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

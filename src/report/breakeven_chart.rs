//! The `breakeven` chart (plotters): cost per month against usage per month, one line per
//! choice, the cheapest choice's line (the lower envelope) drawn thick beneath them, and each
//! crossing marked with its level; economic cost and cash side by side.
//!
//! Floats appear only here, for pixel positions: every point is an exact horizon total from
//! the sweep, divided by the months for the y axis.

use super::charts::{colour, render, whole_units, Draw, DrawResult, Rendered, FONT};
use crate::analysis::breakeven::{level_number, unit_name, Breakeven, Origin, UNIT_MICROS};
use crate::analysis::montecarlo::Measure;
use crate::input::scenario::Scenario;
use crate::model::amounts::Money;
use plotters::coord::Shift;
use plotters::prelude::*;

const WIDTH_PX: u32 = 1400;
const PANELS_HEIGHT_PX: u32 = 600;
/// Rows of the legend under the panels, four names a row.
const LEGEND_COLUMNS: usize = 4;
const LEGEND_ROW_PX: u32 = 22;

struct Panel {
    caption: String,
    /// Per choice, (level, cost per month) at every level evaluated.
    lines: Vec<Vec<(f64, f64)>>,
    envelope: Vec<(f64, f64)>,
    /// (level, cost per month of the new cheapest, label).
    crossings: Vec<(f64, f64, String)>,
}

struct CostCurves {
    title: String,
    x_label: String,
    y_label: String,
    names: Vec<String>,
    /// Top-ups are dashed: more choices than colours stay told apart.
    dashed: Vec<bool>,
    x_range: (f64, f64),
    y_max: f64,
    panels: Vec<Panel>,
}

fn per_month(m: Money, months: u32) -> f64 {
    m.micros() as f64 / 1e6 / f64::from(months.max(1))
}

pub(super) fn level(l: i64) -> f64 {
    l as f64 / UNIT_MICROS as f64
}

fn panel(b: &Breakeven, m: Measure) -> Panel {
    let months = b.months;
    let e = b.envelope(m);
    let lines = (0..b.choices.len())
        .map(|i| {
            // A choice's line stops where it starts refusing usage: its cost there is for
            // less work, and it no longer competes.
            b.evaluated
                .iter()
                .take_while(|(_, costs)| costs[i].refused.is_zero())
                .map(|(l, costs)| (level(*l), per_month(costs[i].of(m), months)))
                .collect()
        })
        .collect();
    let envelope = b
        .evaluated
        .iter()
        .map(|(l, costs)| (level(*l), per_month(costs[e.cheapest_at(*l)].of(m), months)))
        .collect();
    let crossings = e
        .crossings
        .iter()
        .map(|c| {
            (
                level(c.level_micros),
                per_month(c.at.1, months),
                level_number(c.level_micros),
            )
        })
        .collect();
    let caption = match m {
        Measure::Economic => "economic cost per month",
        Measure::Cash => "cash per month",
    };
    Panel {
        caption: caption.to_string(),
        lines,
        envelope,
        crossings,
    }
}

impl CostCurves {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        p: &Panel,
    ) -> DrawResult<DB> {
        let (x0, x1) = self.x_range;
        let mut chart = ChartBuilder::on(area)
            .margin(15)
            .caption(&p.caption, (FONT, 18))
            .x_label_area_size(45)
            .y_label_area_size(75)
            .build_cartesian_2d(x0..x1, 0.0..self.y_max)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&whole_units)
            .y_label_formatter(&whole_units)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .light_line_style(WHITE)
            .draw()?;
        // The envelope first, thick and pale, so the choices' lines stay readable on it.
        chart.draw_series(LineSeries::new(
            p.envelope.iter().copied(),
            BLACK.mix(0.35).stroke_width(9),
        ))?;
        for (i, line) in p.lines.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            if self.dashed[i] {
                chart.draw_series(DashedLineSeries::new(line.iter().copied(), 7, 4, style))?;
            } else {
                chart.draw_series(LineSeries::new(line.iter().copied(), style))?;
            }
        }
        for (x, y, label) in &p.crossings {
            chart.draw_series(DashedLineSeries::new(
                vec![(*x, 0.0), (*x, *y)],
                4,
                4,
                BLACK.stroke_width(1),
            ))?;
            chart.draw_series(std::iter::once(Circle::new((*x, *y), 6, BLACK.filled())))?;
            // The level above and left of its dot, clear of the lines running up to the right.
            chart.draw_series(std::iter::once(
                EmptyElement::at((*x, *y))
                    + Text::new(
                        label.clone(),
                        (-10, -24),
                        (FONT, 14).into_font().color(&BLACK),
                    ),
            ))?;
        }
        Ok(())
    }

    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let column_px = (WIDTH_PX as usize / LEGEND_COLUMNS) as i32;
        for (i, name) in self.names.iter().enumerate() {
            let x = 30 + (i % LEGEND_COLUMNS) as i32 * column_px;
            let y = 12 + (i / LEGEND_COLUMNS) as i32 * LEGEND_ROW_PX as i32;
            let style = colour(i).stroke_width(3);
            if self.dashed[i] {
                area.draw(&PathElement::new(vec![(x, y), (x + 8, y)], style))?;
                area.draw(&PathElement::new(vec![(x + 14, y), (x + 24, y)], style))?;
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + 24, y)], style))?;
            }
            area.draw(&Text::new(name.clone(), (x + 32, y - 8), (FONT, 14)))?;
        }
        let y = 12 + self.names.len().div_ceil(LEGEND_COLUMNS) as i32 * LEGEND_ROW_PX as i32;
        area.draw(&PathElement::new(
            vec![(30, y), (54, y)],
            BLACK.mix(0.35).stroke_width(9),
        ))?;
        area.draw(&Text::new(
            "the cheapest choice (dots: where it changes, with the level); a line stops where its choice starts refusing usage",
            (62, y - 8),
            (FONT, 14),
        ))?;
        Ok(())
    }
}

impl Draw for CostCurves {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 22))?;
        let (top, bottom) = root.split_vertically(PANELS_HEIGHT_PX);
        for (area, p) in top.split_evenly((1, 2)).iter().zip(&self.panels) {
            self.draw_panel(area, p)?;
        }
        self.draw_legend(&bottom)?;
        root.present()
    }
}

/// The chart of a sweep, as PNG and SVG.
pub fn breakeven_chart(scenario: &Scenario, b: &Breakeven) -> Result<Rendered, String> {
    let panels: Vec<Panel> = [Measure::Economic, Measure::Cash]
        .into_iter()
        .map(|m| panel(b, m))
        .collect();
    let y_max = panels
        .iter()
        .flat_map(|p| p.lines.iter().flatten().map(|(_, y)| *y))
        .fold(1.0, f64::max)
        * 1.05;
    let unit = unit_name(&scenario.case, b.sweep.unit);
    let (from, to) = (level(b.sweep.from_micros), level(b.sweep.to_micros));
    let chart = CostCurves {
        title: format!("{}: cost against steady usage", scenario.name),
        x_label: format!("{unit} a month"),
        y_label: format!(
            "{} a month (total over {} months / {})",
            scenario.case.book.currency, b.months, b.months
        ),
        names: b.choices.iter().map(|c| c.name.clone()).collect(),
        dashed: b
            .choices
            .iter()
            .map(|c| matches!(c.origin, Origin::TopUp(_)))
            .collect(),
        x_range: (from, if to > from { to } else { from + 1.0 }),
        y_max,
        panels,
    };
    let legend_rows = b.choices.len().div_ceil(LEGEND_COLUMNS) as u32 + 1;
    let height = 50 + PANELS_HEIGHT_PX + legend_rows * LEGEND_ROW_PX + 20;
    render("breakeven", &chart.title, (WIDTH_PX, height), &chart)
}

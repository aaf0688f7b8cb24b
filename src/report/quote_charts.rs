//! The quote's two small charts (plotters): what the customer will have paid by each month's
//! end, and the cost curves against steady usage with their own range shaded. Setups are
//! marked by letter (A is the recommendation) and every word is in the page's caption, so a
//! chart reads the same in any language.
//!
//! Floats appear only here, for pixel positions: every point is an exact amount of the
//! simulation's statistics or the sweep.

use super::breakeven_chart::level;
use super::charts::{colour, render, units, whole_units, Draw, DrawResult, Rendered, FONT};
use crate::analysis::montecarlo::{Measure, MeasureStats};
use crate::analysis::quote::Quote;
use plotters::coord::Shift;
use plotters::prelude::*;

const SIZE_PX: (u32, u32) = (620, 340);
/// Most crossings dotted on the cost curves.
const CROSSINGS_SHOWN_MAX: usize = 12;

/// The letter of setup `i` in the table and the charts.
pub fn letter(i: usize) -> char {
    (b'A' + (i % 26) as u8) as char
}

/// One setup's line.
struct Line {
    setup: usize,
    points: Vec<(f64, f64)>,
}

struct Paid {
    months: u32,
    /// (month, P10, P90) of the recommendation, from month 0.
    band: Vec<(f64, f64, f64)>,
    lines: Vec<Line>,
    y_max: f64,
}

/// The mean cumulative cost at each month end, from 0 at the start.
fn mean_path(stats: &MeasureStats, paths: u32) -> Vec<(f64, f64)> {
    std::iter::once((0.0, 0.0))
        .chain(
            stats
                .cumulative_sums_micros
                .iter()
                .enumerate()
                .map(|(k, s)| ((k + 1) as f64, *s as f64 / 1e6 / f64::from(paths.max(1)))),
        )
        .collect()
}

impl Draw for Paid {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(62)
            .build_cartesian_2d(0.0..f64::from(self.months) + 0.6, 0.0..self.y_max)?;
        chart
            .configure_mesh()
            .x_labels(self.months.min(12) as usize + 1)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&whole_units)
            .label_style((FONT, 13))
            .light_line_style(WHITE)
            .draw()?;
        let band = colour(0).mix(0.18);
        chart.draw_series(AreaSeries::new(
            self.band.iter().map(|(x, _, hi)| (*x, *hi)),
            0.0,
            band,
        ))?;
        chart.draw_series(AreaSeries::new(
            self.band.iter().map(|(x, lo, _)| (*x, *lo)),
            0.0,
            WHITE,
        ))?;
        for line in self.lines.iter().rev() {
            draw_labelled(&mut chart, line)?;
        }
        Ok(())
    }
}

fn draw_labelled<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    line: &Line,
) -> DrawResult<DB> {
    let style = colour(line.setup).stroke_width(if line.setup == 0 { 3 } else { 2 });
    chart.draw_series(LineSeries::new(line.points.iter().copied(), style))?;
    if let Some(&(x, y)) = line.points.last() {
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, y))
                + Text::new(
                    letter(line.setup).to_string(),
                    (4, -8),
                    (FONT, 15).into_font().color(&colour(line.setup)),
                ),
        ))?;
    }
    Ok(())
}

/// What the recommendation (P10-P90 band and mean) and the setups in `others` will have cost
/// by each month's end, in `m`.
pub fn paid_chart(q: &Quote, m: Measure, others: &[usize]) -> Result<Rendered, String> {
    let paths = q.summary.paths;
    let row = |i: usize| &q.summary.strategies[q.setups[i].row];
    let rec = row(0).measure(m);
    let band: Vec<(f64, f64, f64)> = std::iter::once((0.0, 0.0, 0.0))
        .chain(
            rec.fan
                .iter()
                .enumerate()
                .map(|(k, [p10, _, p90])| ((k + 1) as f64, units(*p10), units(*p90))),
        )
        .collect();
    let lines: Vec<Line> = std::iter::once(0)
        .chain(others.iter().copied())
        .map(|i| Line {
            setup: i,
            points: mean_path(row(i).measure(m), paths),
        })
        .collect();
    let y_max = (lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)))
        .chain(band.iter().map(|b| b.2))
        .fold(1.0, f64::max)
        * 1.08;
    let chart = Paid {
        months: rec.fan.len() as u32,
        band,
        lines,
        y_max,
    };
    render("quote-paid", "paid by month", SIZE_PX, &chart)
}

struct Curves {
    x_max: f64,
    y_max: f64,
    /// The customer's low and high end, and what they expect.
    range: (f64, f64),
    expected: f64,
    lines: Vec<Line>,
    /// Where the cheapest setup changes, (level, cost).
    crossings: Vec<(f64, f64)>,
}

impl Draw for Curves {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(62)
            .build_cartesian_2d(0.0..self.x_max * 1.04, 0.0..self.y_max)?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(self.range.0, 0.0), (self.range.1, self.y_max)],
            RGBColor(255, 213, 79).mix(0.3).filled(),
        )))?;
        chart
            .configure_mesh()
            .x_label_formatter(&whole_units)
            .y_label_formatter(&whole_units)
            .label_style((FONT, 13))
            .light_line_style(WHITE)
            .draw()?;
        chart.draw_series(DashedLineSeries::new(
            vec![(self.expected, 0.0), (self.expected, self.y_max)],
            5,
            4,
            RGBColor(191, 144, 0).stroke_width(1),
        ))?;
        for line in self.lines.iter().rev() {
            draw_labelled(&mut chart, line)?;
        }
        chart.draw_series(
            self.crossings
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 4, BLACK.filled())),
        )?;
        Ok(())
    }
}

/// Each setup's cost over the horizon in `m` against steady usage a month (credits), up to
/// where it starts refusing usage; the customer's range shaded, the crossings dotted (when
/// there are few enough to read: the second value says whether they are).
pub fn curves_chart(q: &Quote, m: Measure) -> Result<(Rendered, bool), String> {
    let b = &q.curves;
    // The grid and both sides of every crossing: the bisection's thousands of levels would
    // add nothing a page of this size can show.
    let mut levels = crate::analysis::breakeven::grid(&b.sweep);
    for c in b.envelope(m).crossings.iter().take(CROSSINGS_SHOWN_MAX + 1) {
        levels.extend([c.level_micros - b.sweep.step_micros, c.level_micros]);
    }
    levels.sort_unstable();
    levels.dedup();
    let lines: Vec<Line> = (0..q.setups.len())
        .map(|i| {
            let choice = q.setups[i].row;
            Line {
                setup: i,
                points: (levels.iter())
                    .filter_map(|l| b.costs_at(*l).map(|costs| (*l, costs)))
                    .take_while(|(_, costs)| costs[choice].refused.is_zero())
                    .map(|(l, costs)| (level(l), units(costs[choice].of(m))))
                    .collect(),
            }
        })
        .collect();
    let shown: Vec<usize> = q.setups.iter().map(|s| s.row).collect();
    let mut crossings: Vec<(f64, f64)> = (b.envelope(m).crossings.iter())
        .filter(|c| shown.contains(&c.from) && shown.contains(&c.to))
        .map(|c| (level(c.level_micros), units(c.at.1)))
        .collect();
    // Options that cost within cents of each other trade places at thousands of levels:
    // exact, but a cloud of dots says nothing.
    if crossings.len() > CROSSINGS_SHOWN_MAX {
        crossings.clear();
    }
    let dots = !crossings.is_empty();
    let y_max =
        (lines.iter().flat_map(|l| l.points.iter().map(|p| p.1))).fold(1.0, f64::max) * 1.05;
    let chart = Curves {
        x_max: level(b.sweep.to_micros).max(1.0),
        y_max,
        range: (level(q.levels.low_micros), level(q.levels.high_micros)),
        expected: level(q.levels.expected_micros),
        lines,
        crossings,
    };
    Ok((
        render("quote-curves", "cost against usage", SIZE_PX, &chart)?,
        dots,
    ))
}

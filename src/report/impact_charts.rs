//! `impact`'s charts (plotters): for each candidate book, a revenue waterfall by kind from
//! today to after the change, and a histogram of the change in what each customer pays; one
//! panel per view.
//!
//! Floats appear only here, for pixel positions; every value drawn is an exact sum or an
//! exact change from `analysis::impact`.

use super::charts::{colour, render, whole_units, Draw, DrawResult, Rendered, FONT};
use crate::analysis::impact::{
    change, revenue, CustomerImpact, ImpactInput, Revenue, Which, KINDS, VIEWS,
};
use plotters::coord::Shift;
use plotters::prelude::*;

const PANEL_WIDTH_PX: u32 = 560;
const HEIGHT_PX: u32 = 400;
const HISTOGRAM_BINS: usize = 30;

fn units(micros: i128) -> f64 {
    micros as f64 / 1e6
}

/// One waterfall: today's total, the change of each kind, the total after.
struct Waterfall {
    title: String,
    /// (label, from, to): a total runs from 0.
    bars: Vec<(String, f64, f64)>,
}

fn waterfall(today: &Revenue, after: &Revenue, title: String) -> Waterfall {
    let mut bars = vec![("today".to_string(), 0.0, units(today.cash()))];
    let mut level = units(today.cash());
    for (k, kind) in KINDS.iter().enumerate() {
        let next = level + units(after.total[k] - today.total[k]);
        bars.push((kind.to_string(), level, next));
        level = next;
    }
    bars.push(("after".to_string(), 0.0, units(after.cash())));
    Waterfall { title, bars }
}

struct Panels<T> {
    title: String,
    panels: Vec<T>,
}

impl Draw for Panels<Waterfall> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 16))?;
        let top = (self.panels.iter())
            .flat_map(|p| p.bars.iter().map(|b| b.1.max(b.2)))
            .fold(1.0, f64::max)
            * 1.12;
        let areas = root.split_evenly((1, self.panels.len()));
        for (area, panel) in areas.iter().zip(&self.panels) {
            draw_waterfall(area, panel, top)?;
        }
        Ok(())
    }
}

fn draw_waterfall<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Waterfall,
    top: f64,
) -> DrawResult<DB> {
    let n = panel.bars.len();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 14))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..n as f64, 0.0..top)?;
    let labels: Vec<String> = panel.bars.iter().map(|b| b.0.clone()).collect();
    // Labels only at bar centres (k + 0.5): the mesh is asked for 2n + 1 evenly spaced.
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(2 * n + 1)
        .x_label_formatter(&|x| {
            let k = (x - 0.5).round();
            let centre = (x - 0.5 - k).abs() < 0.01 && k >= 0.0;
            (centre.then(|| labels.get(k as usize).cloned()).flatten()).unwrap_or_default()
        })
        .y_label_formatter(&|y| whole_units(y))
        .label_style((FONT, 12))
        .draw()?;
    for (k, (_, from, to)) in panel.bars.iter().enumerate() {
        let total = k == 0 || k == n - 1;
        let fill = match (total, to >= from) {
            (true, _) => colour(0),
            (false, true) => colour(2),
            (false, false) => colour(3),
        };
        let x = k as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.12, from.min(*to)), (x + 0.88, from.max(*to))],
            fill.mix(0.85).filled(),
        )))?;
        let shown = if total { *to } else { to - from };
        let sign = if !total && shown > 0.0 { "+" } else { "" };
        chart.draw_series(std::iter::once(Text::new(
            format!("{sign}{}", whole_units(&shown)),
            (x + 0.2, from.max(*to) + top * 0.015),
            (FONT, 12).into_font().color(&BLACK),
        )))?;
    }
    Ok(())
}

/// The waterfall of candidate book `book` (0-based among the candidates).
pub fn waterfall_chart(
    input: &ImpactInput,
    results: &[CustomerImpact],
    book: usize,
    currency: &str,
) -> Result<Rendered, String> {
    let today = revenue(input, results, Which::Today);
    let panels = VIEWS
        .iter()
        .enumerate()
        .map(|(view, words)| {
            let after = revenue(input, results, Which::After { book, view });
            waterfall(&today, &after, format!("customers {}", view_words(words)))
        })
        .collect();
    let book_name = &input.candidates[book].name;
    let title = format!("Revenue today and under {book_name}, by kind ({currency})");
    let chart = Panels {
        title: title.clone(),
        panels,
    };
    render(
        chart_name("waterfall", book),
        &title,
        (PANEL_WIDTH_PX * 2, HEIGHT_PX),
        &chart,
    )
}

fn view_words(view: &str) -> &'static str {
    match view {
        "same behaviour" => "keep their setups",
        _ => "move to their cheapest setup",
    }
}

/// Chart file names per candidate book: the first two are named, more share a pattern.
fn chart_name(kind: &str, book: usize) -> &'static str {
    // `Rendered::name` is static; a run compares few books, and names past the table are
    // refused by the command before any chart is drawn.
    const WATERFALLS: [&str; 8] = [
        "waterfall-1",
        "waterfall-2",
        "waterfall-3",
        "waterfall-4",
        "waterfall-5",
        "waterfall-6",
        "waterfall-7",
        "waterfall-8",
    ];
    const HISTOGRAMS: [&str; 8] = [
        "cost-change-1",
        "cost-change-2",
        "cost-change-3",
        "cost-change-4",
        "cost-change-5",
        "cost-change-6",
        "cost-change-7",
        "cost-change-8",
    ];
    if kind == "waterfall" {
        WATERFALLS[book]
    } else {
        HISTOGRAMS[book]
    }
}

/// Most candidate books one run compares (each gets its charts).
pub const CANDIDATE_BOOKS_MAX: usize = 8;

/// Customers per bin of the change in what they pay, over the panel's own range (a view
/// where bills barely move would be one bar on the other view's scale).
struct Histogram {
    title: String,
    lo: f64,
    bin_width: f64,
    counts: Vec<u32>,
}

impl Histogram {
    fn of(title: String, changes: &[f64]) -> Histogram {
        let (lo, hi) = (changes.iter()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(*x), b.max(*x))
        });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 0.0) };
        let bin_width = ((hi - lo) / HISTOGRAM_BINS as f64).max(0.01);
        let mut counts = vec![0u32; HISTOGRAM_BINS];
        for x in changes {
            let bin = (((x - lo) / bin_width).floor().max(0.0) as usize).min(HISTOGRAM_BINS - 1);
            counts[bin] += 1;
        }
        Histogram {
            title,
            lo,
            bin_width,
            counts,
        }
    }
}

struct Histograms {
    title: String,
    x_label: String,
    panels: Vec<Histogram>,
}

impl Draw for Histograms {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 16))?;
        let areas = root.split_evenly((1, self.panels.len()));
        for (area, panel) in areas.iter().zip(&self.panels) {
            draw_histogram(area, panel, &self.x_label)?;
        }
        Ok(())
    }
}

fn draw_histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Histogram,
    x_label: &str,
) -> DrawResult<DB> {
    let hi = panel.lo + panel.bin_width * HISTOGRAM_BINS as f64;
    let top = f64::from(panel.counts.iter().copied().max().unwrap_or(1).max(1)) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 14))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(50)
        .build_cartesian_2d(panel.lo..hi, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("customers")
        .x_labels(6)
        .x_label_formatter(&|x| {
            let sign = if *x > 0.0 { "+" } else { "" };
            format!("{sign}{}", whole_units(x))
        })
        // Whole customers only: with few customers the mesh's steps fall between them.
        .y_label_formatter(&|y| {
            if (y - y.round()).abs() < 1e-6 {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .label_style((FONT, 12))
        .draw()?;
    chart.draw_series(panel.counts.iter().enumerate().map(|(k, c)| {
        let x0 = panel.lo + panel.bin_width * k as f64;
        Rectangle::new(
            [(x0, 0.0), (x0 + panel.bin_width, f64::from(*c))],
            colour(0).mix(0.8).filled(),
        )
    }))?;
    if panel.lo < 0.0 && hi > 0.0 {
        chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (0.0, top)],
            BLACK.stroke_width(1),
        ))?;
    }
    Ok(())
}

/// The histogram of the change in each customer's cash under candidate book `book`.
pub fn cost_change_chart(
    results: &[CustomerImpact],
    book: usize,
    book_name: &str,
    currency: &str,
) -> Result<Rendered, String> {
    let panels = VIEWS
        .iter()
        .enumerate()
        .map(|(v, view)| {
            let changes: Vec<f64> = (results.iter())
                .map(|r| units(i128::from(change(r, book, v))))
                .collect();
            Histogram::of(format!("customers {}", view_words(view)), &changes)
        })
        .collect();
    let title = format!("Change in what each customer pays under {book_name}");
    let chart = Histograms {
        title: title.clone(),
        x_label: format!("change over the horizon ({currency})"),
        panels,
    };
    render(
        chart_name("cost-change", book),
        &title,
        (PANEL_WIDTH_PX * 2, HEIGHT_PX),
        &chart,
    )
}

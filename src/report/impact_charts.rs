//! `impact`'s charts (plotters): for each candidate book, a revenue waterfall by kind from
//! today to after the change, and a histogram of the change in what each customer pays; one
//! panel per view.
//!
//! Floats appear only here, for pixel positions; every value drawn is an exact sum or an
//! exact change from `analysis::impact`.

use super::charts::{colour, render, Draw, DrawResult, Rendered, FONT};
use crate::analysis::impact::{change, revenue, CustomerImpact, Revenue, KINDS, VIEWS};
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
        for (area, panel) in root
            .split_evenly((1, self.panels.len()))
            .iter()
            .zip(&self.panels)
        {
            let n = panel.bars.len();
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, (FONT, 14))
                .margin(12)
                .x_label_area_size(30)
                .y_label_area_size(70)
                .build_cartesian_2d((0..n).into_segmented(), 0.0..top)?;
            let labels: Vec<String> = panel.bars.iter().map(|b| b.0.clone()).collect();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n)
                .x_label_formatter(&|x| match x {
                    SegmentValue::CenterOf(k) => labels.get(*k).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .y_label_formatter(&|y| format!("{y:.0}"))
                .label_style((FONT, 12))
                .draw()?;
            for (k, (_, from, to)) in panel.bars.iter().enumerate() {
                let total = k == 0 || k == n - 1;
                let fill = if total {
                    colour(0)
                } else if to >= from {
                    colour(2)
                } else {
                    colour(3)
                };
                chart.draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(k), from.min(*to)),
                        (SegmentValue::Exact(k + 1), from.max(*to)),
                    ],
                    fill.mix(0.85).filled(),
                )))?;
                let shown = if total { *to } else { to - from };
                let label = if total {
                    format!("{shown:.0}")
                } else {
                    format!("{shown:+.0}")
                };
                chart.draw_series(std::iter::once(Text::new(
                    label,
                    (SegmentValue::CenterOf(k), from.max(*to) + top * 0.02),
                    (FONT, 12).into_font().color(&BLACK),
                )))?;
            }
        }
        Ok(())
    }
}

/// The waterfall of candidate book `book` (0-based among the candidates).
pub fn waterfall_chart(
    results: &[CustomerImpact],
    book: usize,
    book_name: &str,
    currency: &str,
    months: usize,
) -> Result<Rendered, String> {
    let today = revenue(results.iter().map(|r| &r.today), months);
    let panels = VIEWS
        .iter()
        .enumerate()
        .map(|(v, view)| {
            let after = revenue(results.iter().map(|r| &r.after[book][v]), months);
            waterfall(&today, &after, format!("customers {}", view_words(view)))
        })
        .collect();
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

/// Customers per bin of the change in what they pay.
struct Histogram {
    title: String,
    counts: Vec<u32>,
}

struct Histograms {
    title: String,
    x_label: String,
    lo: f64,
    bin_width: f64,
    panels: Vec<Histogram>,
}

impl Draw for Histograms {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 16))?;
        let hi = self.lo + self.bin_width * HISTOGRAM_BINS as f64;
        let top = (self.panels.iter())
            .flat_map(|p| p.counts.iter().copied())
            .max()
            .unwrap_or(1)
            .max(1) as f64
            * 1.1;
        for (area, panel) in root
            .split_evenly((1, self.panels.len()))
            .iter()
            .zip(&self.panels)
        {
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, (FONT, 14))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(50)
                .build_cartesian_2d(self.lo..hi, 0.0..top)?;
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .y_desc("customers")
                .x_labels(6)
                .x_label_formatter(&|x| format!("{x:+.0}"))
                .y_label_formatter(&|y| format!("{y:.0}"))
                .label_style((FONT, 12))
                .draw()?;
            chart.draw_series(panel.counts.iter().enumerate().map(|(k, c)| {
                let x0 = self.lo + self.bin_width * k as f64;
                Rectangle::new(
                    [(x0, 0.0), (x0 + self.bin_width, f64::from(*c))],
                    colour(0).mix(0.8).filled(),
                )
            }))?;
            if self.lo < 0.0 && hi > 0.0 {
                chart.draw_series(LineSeries::new(
                    [(0.0, 0.0), (0.0, top)],
                    BLACK.stroke_width(1),
                ))?;
            }
        }
        Ok(())
    }
}

/// The histogram of the change in each customer's cash under candidate book `book`.
pub fn cost_change_chart(
    results: &[CustomerImpact],
    book: usize,
    book_name: &str,
    currency: &str,
) -> Result<Rendered, String> {
    let deltas: Vec<Vec<f64>> = (0..VIEWS.len())
        .map(|v| {
            results
                .iter()
                .map(|r| units(i128::from(change(r, book, v))))
                .collect()
        })
        .collect();
    let (lo, hi) =
        (deltas.iter().flatten()).fold((0.0f64, 0.0f64), |(a, b), x| (a.min(*x), b.max(*x)));
    let bin_width = ((hi - lo) / HISTOGRAM_BINS as f64).max(0.01);
    let panels = VIEWS
        .iter()
        .zip(&deltas)
        .map(|(view, d)| {
            let mut counts = vec![0u32; HISTOGRAM_BINS];
            for x in d {
                let bin =
                    (((x - lo) / bin_width).floor().max(0.0) as usize).min(HISTOGRAM_BINS - 1);
                counts[bin] += 1;
            }
            Histogram {
                title: format!("customers {}", view_words(view)),
                counts,
            }
        })
        .collect();
    let title = format!("Change in what each customer pays under {book_name}");
    let chart = Histograms {
        title: title.clone(),
        x_label: format!("change over the horizon ({currency})"),
        lo,
        bin_width,
        panels,
    };
    render(
        chart_name("cost-change", book),
        &title,
        (PANEL_WIDTH_PX * 2, HEIGHT_PX),
        &chart,
    )
}

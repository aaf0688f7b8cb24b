//! Charts of a Monte Carlo run (plotters): the distribution of economic cost per strategy,
//! and a fan of cumulative economic cost over the horizon. Each is drawn once per backend,
//! PNG and SVG, from the same code.
//!
//! Floats appear only here, for pixel positions; every value drawn comes from the exact
//! per-path totals or the exact order statistics of `sim::summarise`.

use crate::analysis::montecarlo::{month_ends, Measure, PathResult, Summary};
use crate::input::scenario::Scenario;
use crate::model::amounts::Money;
use crate::model::calendar::display;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The text font, bundled so a chart renders the same on a machine with no fonts installed.
static FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(super) const FONT: &str = "sans-serif";

/// Bars in each cost histogram.
const HISTOGRAM_BINS: usize = 40;
const WIDTH_PX: u32 = 1100;
const PANEL_HEIGHT_PX: u32 = 190;

/// Tableau's ten colours: distinguishable, and printable in grey.
const COLOURS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(super) fn colour(strategy: usize) -> RGBColor {
    COLOURS[strategy % COLOURS.len()]
}

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let registered = plotters::style::register_font(FONT, FontStyle::Normal, FONT_TTF).is_ok();
        assert!(registered, "the bundled font parses");
    });
}

pub(super) fn units(m: Money) -> f64 {
    m.micros() as f64 / 1e6
}

/// A rendered chart in both formats.
pub struct Rendered {
    /// File name without extension.
    pub name: &'static str,
    pub title: String,
    pub png: Vec<u8>,
    pub svg: String,
}

impl Rendered {
    /// The chart as a page shows it inline (the SVG; the PNG is for files).
    pub fn inline(&self) -> super::doc::Chart {
        super::doc::Chart {
            title: self.title.clone(),
            svg: self.svg.clone(),
        }
    }
}

pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A chart drawn the same way on any backend.
pub(super) trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

pub(super) fn render(
    name: &'static str,
    title: &str,
    size: (u32, u32),
    chart: &impl Draw,
) -> Result<Rendered, String> {
    register_font();
    let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        chart.draw(root).map_err(|e| format!("{name}.png: {e}"))?;
    }
    let image = image::RgbImage::from_raw(size.0, size.1, rgb).expect("buffer sized to the image");
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageOutputFormat::Png)
        .map_err(|e| format!("{name}.png: {e}"))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart.draw(root).map_err(|e| format!("{name}.svg: {e}"))?;
    }
    Ok(Rendered {
        name,
        title: title.to_string(),
        png: png.into_inner(),
        svg,
    })
}

/// One strategy's histogram, in shares of paths per bin.
struct Histogram {
    name: String,
    shares_percent: Vec<f64>,
    mean: f64,
    p5: f64,
    p95: f64,
}

struct Distribution {
    title: String,
    x_label: String,
    lo: f64,
    bin_width: f64,
    /// Values above the top bin were counted in it: the top is each strategy's P99 at most.
    clipped_top: bool,
    histograms: Vec<Histogram>,
}

fn distribution(scenario: &Scenario, summary: &Summary, paths: &[PathResult]) -> Distribution {
    let m = Measure::Economic;
    let (lo, max) = paths
        .iter()
        .flat_map(|p| p.strategies.iter().map(|s| units(s.economic)))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    let p99 = summary
        .strategies
        .iter()
        .map(|s| units(s.measure(m).cost.p99))
        .fold(f64::NEG_INFINITY, f64::max);
    // A long tail would squeeze every bar into a few pixels: the axis ends at the largest
    // P99, and the top bin holds whatever lies beyond it.
    let hi = if max > p99 * 1.05 { p99 } else { max };
    let bin_width = ((hi - lo) / HISTOGRAM_BINS as f64).max(0.01);
    let n = paths.len() as f64;
    let histograms = summary
        .strategies
        .iter()
        .enumerate()
        .map(|(s, stats)| {
            let mut counts = [0u32; HISTOGRAM_BINS];
            for p in paths {
                let x = units(p.strategies[s].economic);
                let bin =
                    (((x - lo) / bin_width).floor().max(0.0) as usize).min(HISTOGRAM_BINS - 1);
                counts[bin] += 1;
            }
            let c = &stats.measure(m).cost;
            Histogram {
                name: stats.name.clone(),
                shares_percent: counts.iter().map(|k| f64::from(*k) * 100.0 / n).collect(),
                mean: c.mean.try_into().unwrap_or(0.0),
                p5: units(c.p5),
                p95: units(c.p95),
            }
        })
        .collect();
    Distribution {
        title: format!(
            "{}: economic cost over {} paths (seed {})",
            scenario.name,
            whole_units(&f64::from(summary.paths)),
            summary.seed
        ),
        x_label: format!(
            "economic cost from {} to {} ({}; cash minus unused prepaid value and unexpired plan fee)",
            display(scenario.case.horizon.start),
            display(scenario.case.horizon.end),
            scenario.case.book.currency
        ),
        lo,
        bin_width,
        clipped_top: hi < max,
        histograms,
    }
}

/// Currency with thousands separators and cents: "2,312.19".
fn amount_label(v: f64) -> String {
    let cents = (v * 100.0).round() as i64;
    let whole = whole_units(&((cents / 100) as f64));
    let sign = if cents < 0 && cents / 100 == 0 {
        "-"
    } else {
        ""
    };
    format!("{sign}{whole}.{:02}", (cents % 100).abs())
}

impl Distribution {
    /// Strategy `s`'s histogram in `panel`, with its mean and P5/P95 marked; the legend in
    /// the first panel, the x axis's description under the last.
    fn draw_histogram<DB: DrawingBackend>(
        &self,
        panel: &DrawingArea<DB, Shift>,
        s: usize,
        h: &Histogram,
    ) -> DrawResult<DB> {
        let colour = colour(s);
        let last = s + 1 == self.histograms.len();
        let hi = self.lo + self.bin_width * HISTOGRAM_BINS as f64;
        // Each panel has its own height scale: a near-fixed cost would otherwise flatten
        // every other histogram.
        let y_max = h.shares_percent.iter().copied().fold(1.0, f64::max) * 1.15;
        let caption = format!(
            "{}: mean {}, P5 {}, P95 {}",
            h.name,
            amount_label(h.mean),
            amount_label(h.p5),
            amount_label(h.p95)
        );
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, (FONT, 16).into_font().color(&colour))
            .margin_left(10)
            .margin_right(25)
            .x_label_area_size(if last { 45 } else { 22 })
            .y_label_area_size(60)
            .build_cartesian_2d(self.lo..hi, 0.0..y_max)?;
        let mut mesh = chart.configure_mesh();
        mesh.y_desc("% of paths")
            .x_labels(12)
            .x_label_formatter(&whole_units)
            .y_labels(4)
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE);
        if last {
            let x_label = if self.clipped_top {
                format!("{} (the last bar holds the top 1%)", self.x_label)
            } else {
                self.x_label.clone()
            };
            mesh.x_desc(x_label);
        }
        mesh.draw()?;
        chart
            .draw_series(h.shares_percent.iter().enumerate().map(|(k, share)| {
                let x0 = self.lo + self.bin_width * k as f64;
                Rectangle::new(
                    [(x0, 0.0), (x0 + self.bin_width, *share)],
                    colour.mix(0.7).filled(),
                )
            }))?
            .label("paths in each cost range")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
        draw_markers(&mut chart, h, y_max)?;
        if s == 0 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()?;
        }
        Ok(())
    }
}

/// The mean (solid) and P5/P95 (dashed) of a histogram, with their legend entries.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    h: &Histogram,
    y_max: f64,
) -> DrawResult<DB> {
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(h.mean, 0.0), (h.mean, y_max)],
            BLACK.stroke_width(2),
        )))?
        .label("mean")
        .legend(|(x, y)| {
            PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], BLACK.stroke_width(2))
        });
    for (k, p) in [h.p5, h.p95].into_iter().enumerate() {
        let series = chart.draw_series(DashedLineSeries::new(
            vec![(p, 0.0), (p, y_max)],
            5,
            4,
            BLACK.stroke_width(1),
        ))?;
        if k == 0 {
            series.label("P5 and P95").legend(|(x, y)| {
                PathElement::new(vec![(x + 4, y - 6), (x + 4, y + 6)], BLACK.stroke_width(1))
            });
        }
    }
    Ok(())
}

impl Draw for Distribution {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 22))?;
        let panels = root.split_evenly((self.histograms.len(), 1));
        for (s, (panel, h)) in panels.iter().zip(&self.histograms).enumerate() {
            self.draw_histogram(panel, s, h)?;
        }
        root.present()
    }
}

/// Cumulative-cost fan of one strategy.
struct Fan {
    name: String,
    /// Per month: P10, P50, P90 of cumulative economic cost.
    points: Vec<[f64; 3]>,
    /// Per month: the baseline's mean cumulative cost minus this strategy's (exact sums
    /// over the paths, drawn as floats). It crosses zero for the last time at the economic
    /// break-even month.
    mean_savings: Vec<f64>,
    /// The same in cash, drawn dashed beside it: the cash break-even month.
    cash_savings: Vec<f64>,
}

struct FanChart {
    title: String,
    x_label: String,
    y_label: String,
    savings_label: String,
    fans: Vec<Fan>,
    baseline: usize,
    /// The x axis's names: the month each point ends, "Apr '26" (index 0: the start).
    month_names: Vec<String>,
}

/// Height of one strategy's fan panel, and of the savings panel under them.
const FAN_PANEL_HEIGHT_PX: u32 = 270;
const SAVINGS_HEIGHT_PX: u32 = 330;

impl FanChart {
    fn height_px(strategies: usize) -> u32 {
        let rows = strategies.div_ceil(2) as u32;
        50 + rows * FAN_PANEL_HEIGHT_PX + SAVINGS_HEIGHT_PX
    }
}

/// Whole currency units with thousands separators: "12,500".
pub(super) fn whole_units(v: &f64) -> String {
    let rounded = v.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `points` with the origin (month 0, nothing spent) in front.
fn from_origin(points: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    std::iter::once((0.0, 0.0))
        .chain(points.enumerate().map(|(k, y)| (k as f64 + 1.0, y)))
        .collect()
}

/// Axes of a fan-chart panel: months across, named by `month_names` (at most `labels` of
/// them shown), whole currency units up.
fn draw_month_axes<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    month_names: &[String],
    labels: usize,
    y_desc: &str,
    x_desc: Option<&str>,
) -> DrawResult<DB> {
    let name = |x: &f64| {
        let k = x.round();
        if (x - k).abs() > 0.01 || k < 0.0 {
            return String::new();
        }
        month_names.get(k as usize).cloned().unwrap_or_default()
    };
    let mut mesh = chart.configure_mesh();
    mesh.y_desc(y_desc)
        .x_labels(labels)
        .x_label_formatter(&name)
        .y_label_formatter(&whole_units)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .light_line_style(WHITE);
    if let Some(x_desc) = x_desc {
        mesh.x_desc(x_desc);
    }
    mesh.draw()
}

impl FanChart {
    /// One strategy's panel: its P10-P90 band and median in its colour, with the baseline's
    /// median dashed in grey for reference.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        s: usize,
        y_max: f64,
    ) -> DrawResult<DB> {
        let fan = &self.fans[s];
        let months = fan.points.len();
        let colour = colour(s);
        let caption = if s == self.baseline {
            format!("{} (baseline): median, P10 to P90", fan.name)
        } else {
            let baseline = &self.fans[self.baseline].name;
            format!("{}: median, P10 to P90 (dashed: {baseline})", fan.name)
        };
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .caption(caption, (FONT, 16).into_font().color(&colour))
            .x_label_area_size(28)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..months as f64 + 0.2, 0.0..y_max)?;
        draw_month_axes(&mut chart, &self.month_names, 7, &self.y_label, None)?;
        let mut band = from_origin(fan.points.iter().map(|p| p[2]));
        band.extend(
            from_origin(fan.points.iter().map(|p| p[0]))
                .into_iter()
                .rev(),
        );
        chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.25))))?;
        if s != self.baseline {
            let baseline = &self.fans[self.baseline];
            chart.draw_series(DashedLineSeries::new(
                from_origin(baseline.points.iter().map(|p| p[1])),
                6,
                4,
                RGBColor(90, 90, 90).stroke_width(2),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            from_origin(fan.points.iter().map(|p| p[1])),
            colour.stroke_width(3),
        ))?;
        Ok(())
    }

    /// Mean savings against the baseline per strategy, in economic cost (solid) and in cash
    /// (dashed); a line crosses zero for the last time at its break-even month.
    fn draw_savings<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let months = self.fans[0].points.len();
        let (lo, hi) = self
            .fans
            .iter()
            .flat_map(|f| f.mean_savings.iter().chain(&f.cash_savings).copied())
            .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = ((hi - lo) * 0.1).max(1.0);
        let mut chart = ChartBuilder::on(area)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..months as f64 + 0.2, (lo - pad)..(hi + pad))?;
        let labels = (months + 1).min(13);
        draw_month_axes(
            &mut chart,
            &self.month_names,
            labels,
            &self.savings_label,
            Some(&self.x_label),
        )?;
        for (s, fan) in self.fans.iter().enumerate() {
            let colour = colour(s);
            // The baseline saves nothing against itself: its line is the zero line.
            let points = if s == self.baseline {
                vec![(0.0, 0.0), (months as f64 + 0.2, 0.0)]
            } else {
                from_origin(fan.mean_savings.iter().copied())
            };
            if s != self.baseline {
                chart.draw_series(DashedLineSeries::new(
                    from_origin(fan.cash_savings.iter().copied()),
                    6,
                    4,
                    colour.stroke_width(2),
                ))?;
            }
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(3)))?
                .label(fan.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
    }
}

impl Draw for FanChart {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.titled(&self.title, (FONT, 22))?;
        let rows = self.fans.len().div_ceil(2);
        let panels_height = rows as u32 * FAN_PANEL_HEIGHT_PX;
        let (top, bottom) = root.split_vertically(panels_height);
        let y_max = self
            .fans
            .iter()
            .flat_map(|f| f.points.iter().map(|p| p[2]))
            .fold(1.0, f64::max)
            * 1.05;
        // Small multiples on one scale: each band stays readable, and panels compare.
        for (s, area) in top.split_evenly((rows, 2)).iter().enumerate() {
            if s < self.fans.len() {
                self.draw_panel(area, s, y_max)?;
            }
        }
        self.draw_savings(&bottom)?;
        root.present()
    }
}

/// Each strategy's fan of cumulative economic cost, with its mean savings against the
/// baseline in both measures.
fn fans(summary: &Summary, paths: usize) -> Vec<Fan> {
    let n = paths as f64;
    let baseline = &summary.strategies[summary.baseline];
    let savings = |s: &crate::analysis::montecarlo::StrategyStats, m: Measure| {
        let own = &s.measure(m).cumulative_sums_micros;
        let base = &baseline.measure(m).cumulative_sums_micros;
        base.iter()
            .zip(own)
            .map(|(base, own)| (base - own) as f64 / n / 1e6)
            .collect()
    };
    summary
        .strategies
        .iter()
        .map(|s| Fan {
            name: s.name.clone(),
            points: s
                .measure(Measure::Economic)
                .fan
                .iter()
                .map(|q| q.map(units))
                .collect(),
            mean_savings: savings(s, Measure::Economic),
            cash_savings: savings(s, Measure::Cash),
        })
        .collect()
}

/// Both charts of a run, each as PNG and SVG.
pub fn charts(
    scenario: &Scenario,
    summary: &Summary,
    paths: &[PathResult],
) -> Result<Vec<Rendered>, String> {
    assert!(!paths.is_empty() && !summary.strategies.is_empty());
    let d = distribution(scenario, summary, paths);
    let height = PANEL_HEIGHT_PX * d.histograms.len() as u32 + 60;
    let distribution = render("cost-distribution", &d.title, (WIDTH_PX, height), &d)?;

    let fans = fans(summary, paths.len());
    let title = format!(
        "{}: cumulative economic cost, {} paths (seed {})",
        scenario.name,
        whole_units(&f64::from(summary.paths)),
        summary.seed
    );
    let x_label = format!(
        "month's end, from the start on {}",
        display(scenario.case.workspace.anchor)
    );
    let start = scenario.case.workspace.anchor;
    let month_names = std::iter::once(start)
        .chain(month_ends(start, scenario.case.horizon.end))
        .map(|t| t.format("%b '%y").to_string())
        .collect();
    let y_label = format!("cumulative economic cost ({})", scenario.case.book.currency);
    let savings_label = format!(
        "mean savings vs {} ({}; solid: economic, dashed: cash)",
        summary.strategies[summary.baseline].name, scenario.case.book.currency
    );
    let fan_chart = FanChart {
        title,
        x_label,
        y_label,
        savings_label,
        fans,
        baseline: summary.baseline,
        month_names,
    };
    let fan = render(
        "cost-fan",
        &fan_chart.title,
        (WIDTH_PX, FanChart::height_px(summary.strategies.len())),
        &fan_chart,
    )?;
    Ok(vec![distribution, fan])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_group_thousands() {
        assert_eq!(whole_units(&1_234_567.4), "1,234,567");
        assert_eq!(whole_units(&-2_500.0), "-2,500");
        assert_eq!(amount_label(2312.19), "2,312.19");
        assert_eq!(amount_label(-0.5), "-0.50");
        assert_eq!(amount_label(-1234.5), "-1,234.50");
    }
}

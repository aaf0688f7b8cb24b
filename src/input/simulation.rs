//! The `[simulation]` section (usage models, paths, seed, baseline) and `[[expect_stat]]`
//! blocks, validated into a [`SimulationSpec`].

use super::raw::{RawModel, RawSimulation, RawStatExpect};
use super::values::{count, seed};
use crate::analysis::montecarlo::{Comparison, Measure, PATHS_MAX};
use crate::engine::strategy::Strategy;
use crate::model::amounts::Money;
use crate::model::calendar::{add_days, display, Instant};
use crate::model::diag::{InputError, Source};
use crate::model::pricing::{MetricId, PricingBook};
use crate::usage::synthetic::{Activity, Bursts, MetricModel, Regimes, Spread, UsageModel};
use rust_decimal::Decimal;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub const PATHS_DEFAULT: u32 = 1_000;
pub const SEED_DEFAULT: u64 = 1;
/// Metrics one model may draw.
const MODELS_MAX: usize = 64;
const REGIMES_MAX: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSpec {
    pub model: UsageModel,
    pub paths: u32,
    pub seed: u64,
    /// Index of the baseline strategy for savings and break-even.
    pub baseline: usize,
    /// Costs this close count as a tie (P(cheapest), P(saves)); zero: exact.
    pub tie_within: Money,
    pub expectations: Vec<StatExpectation>,
}

impl SimulationSpec {
    pub fn comparison(&self) -> Comparison {
        Comparison {
            baseline: self.baseline,
            tie_within: self.tie_within,
        }
    }
}

/// A statistic a simulated scenario pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    Mean,
    P5,
    P50,
    P90,
    P95,
    P99,
    Cvar95,
    PCheapest,
    SavingsMean,
    SavingsPPositive,
    BreakEvenMonth,
    PBlocked,
    BlockedMean,
    PrepaidUtilisation,
}

impl Statistic {
    pub const ALL: &'static [(&'static str, Statistic)] = &[
        ("mean", Statistic::Mean),
        ("p5", Statistic::P5),
        ("p50", Statistic::P50),
        ("p90", Statistic::P90),
        ("p95", Statistic::P95),
        ("p99", Statistic::P99),
        ("cvar95", Statistic::Cvar95),
        ("p_cheapest", Statistic::PCheapest),
        ("savings_mean", Statistic::SavingsMean),
        ("savings_p_positive", Statistic::SavingsPPositive),
        ("break_even_month", Statistic::BreakEvenMonth),
        ("p_blocked", Statistic::PBlocked),
        ("blocked_mean", Statistic::BlockedMean),
        ("prepaid_utilisation", Statistic::PrepaidUtilisation),
    ];

    pub fn name(self) -> &'static str {
        Statistic::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// Statistics that have a standard error, so `tolerance_se` applies.
    pub fn has_stderr(self) -> bool {
        matches!(self, Statistic::Mean | Statistic::SavingsMean)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    Exact,
    Absolute(Decimal),
    StandardErrors(Decimal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatExpectation {
    /// Position among the file's `[[expect_stat]]` blocks, for `--update`.
    pub block: usize,
    pub line: usize,
    pub strategy: usize,
    pub statistic: Statistic,
    pub measure: Measure,
    pub value: Decimal,
    pub tolerance: Tolerance,
}

fn finite(source: &Source, v: &Spanned<f64>, what: &str, min: f64) -> Result<f64, InputError> {
    let x = *v.get_ref();
    if !x.is_finite() || x < min {
        return Err(source.error(v.span(), format!("{what} must be a number >= {min}")));
    }
    Ok(x)
}

/// What validating a `[simulation]` needs besides the section itself.
struct SimulationContext<'a> {
    source: &'a Source,
    book: &'a PricingBook,
    strategies: &'a [Strategy],
    usage_start: Instant,
    end: Instant,
}

impl SimulationContext<'_> {
    fn strategy_index(&self, name: &Spanned<String>) -> Result<usize, InputError> {
        super::names::strategy_index(self.source, self.strategies, name.get_ref(), name.span())
    }
}

pub(super) fn build(
    source: &Source,
    raw: &RawSimulation,
    stats: &[Spanned<RawStatExpect>],
    book: &PricingBook,
    strategies: &[Strategy],
    usage_start: Instant,
    end: Instant,
) -> Result<SimulationSpec, InputError> {
    let cx = SimulationContext {
        source,
        book,
        strategies,
        usage_start,
        end,
    };
    let paths = path_count(source, raw)?;
    let baseline = match &raw.baseline {
        Some(b) => cx.strategy_index(b)?,
        None => 0,
    };
    let tie_within = tie_margin(source, raw)?;
    let activity = activity_model(source, raw)?;
    let regimes = regime_model(source, raw)?;
    let model = match &raw.bootstrap {
        Some(b) => UsageModel {
            metrics: Vec::new(),
            regimes: None,
            activity: None,
            bootstrap: Some(resampled_history(&cx, raw, b)?),
        },
        None => UsageModel {
            metrics: metric_models(&cx, &raw.model)?,
            regimes,
            activity,
            bootstrap: None,
        },
    };
    Ok(SimulationSpec {
        model,
        paths,
        seed: (raw.seed.as_ref().map(|s| seed(source, s)).transpose()?).unwrap_or(SEED_DEFAULT),
        baseline,
        tie_within,
        expectations: stat_expectations(&cx, stats)?,
    })
}

fn path_count(source: &Source, raw: &RawSimulation) -> Result<u32, InputError> {
    match &raw.paths {
        Some(p) => count(source, "paths", p, 1..=PATHS_MAX),
        None => Ok(PATHS_DEFAULT),
    }
}

fn tie_margin(source: &Source, raw: &RawSimulation) -> Result<Money, InputError> {
    match &raw.tie_within {
        None => Ok(Money::ZERO),
        Some(v) => Money::from_decimal(v.get_ref().0)
            .ok()
            .filter(|m| *m >= Money::ZERO)
            .ok_or_else(|| {
                source.error(
                    v.span(),
                    "tie_within must be a non-negative amount of money (e.g. \"0.50\")",
                )
            }),
    }
}

fn activity_model(source: &Source, raw: &RawSimulation) -> Result<Option<Activity>, InputError> {
    let Some(a) = &raw.activity else {
        return Ok(None);
    };
    let r = a.get_ref();
    if !(r.sigma.is_finite() && r.sigma >= 0.0 && r.sigma <= 5.0) {
        return Err(source.error(a.span(), "activity.sigma must be 0-5"));
    }
    if !(r.persistence.is_finite() && (0.0..1.0).contains(&r.persistence)) {
        return Err(source.error(
            a.span(),
            "activity.persistence must be at least 0 and below 1",
        ));
    }
    Ok(Some(Activity {
        sigma: r.sigma,
        persistence: r.persistence,
    }))
}

fn regime_model(source: &Source, raw: &RawSimulation) -> Result<Option<Regimes>, InputError> {
    let Some(rs) = &raw.regimes else {
        return Ok(None);
    };
    let r = rs.get_ref();
    let n = r.states.len();
    if n == 0 || n > REGIMES_MAX || r.factors.len() != n || r.transitions.len() != n {
        return Err(source.error(
            rs.span(),
            format!("regimes need 1-{REGIMES_MAX} states, one factor per state and one transition row per state"),
        ));
    }
    for (i, row) in r.transitions.iter().enumerate() {
        let ok = row.len() == n && row.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p));
        let sum: f64 = row.iter().sum();
        if !ok || (sum - 1.0).abs() > 1e-9 {
            return Err(source.error(
                rs.span(),
                format!(
                    "transition row {} (from \"{}\") must have {n} probabilities summing to 1",
                    i + 1,
                    r.states[i]
                ),
            ));
        }
    }
    if r.factors.iter().any(|f| !f.is_finite() || *f < 0.0) {
        return Err(source.error(rs.span(), "regime factors must be numbers >= 0"));
    }
    let initial = r
        .states
        .iter()
        .position(|s| s == r.initial.get_ref())
        .ok_or_else(|| {
            source.error(
                r.initial.span(),
                format!(
                    "unknown state \"{}\" (states: {})",
                    r.initial.get_ref(),
                    r.states.join(", ")
                ),
            )
        })?;
    Ok(Some(Regimes {
        names: r.states.clone(),
        factors: r.factors.clone(),
        transitions: r.transitions.clone(),
        initial,
    }))
}

/// The bootstrap of `[simulation.bootstrap]`, refusing models, activity and regimes beside
/// it: they would be silently ignored.
fn resampled_history(
    cx: &SimulationContext<'_>,
    raw: &RawSimulation,
    b: &Spanned<super::raw::RawBootstrap>,
) -> Result<crate::usage::synthetic::Bootstrap, InputError> {
    let extra = raw
        .model
        .first()
        .map(|m| m.span())
        .or(raw.activity.as_ref().map(|a| a.span()))
        .or(raw.regimes.as_ref().map(|r| r.span()));
    if let Some(span) = extra {
        return Err(cx.source.error(
            span,
            "[simulation.bootstrap] resamples the history as it is: models, activity and regimes do not apply",
        ));
    }
    bootstrap(cx, b)
}

fn metric_models(
    cx: &SimulationContext<'_>,
    models: &[Spanned<RawModel>],
) -> Result<Vec<MetricModel>, InputError> {
    if models.is_empty() {
        return Err(InputError::whole_file(
            &cx.source.path,
            "[simulation] has no [[simulation.model]] or [simulation.bootstrap]: nothing to draw",
        ));
    }
    if models.len() > MODELS_MAX {
        return Err(InputError::whole_file(
            &cx.source.path,
            format!("more than {MODELS_MAX} models"),
        ));
    }
    let mut metrics = Vec::new();
    for (index, m) in models.iter().enumerate() {
        let model = metric_model(cx, index, m.get_ref(), &metrics)?;
        metrics.push(model);
    }
    Ok(metrics)
}

/// The `index`th `[[simulation.model]]`; `earlier` are the models before it.
fn metric_model(
    cx: &SimulationContext<'_>,
    index: usize,
    r: &RawModel,
    earlier: &[MetricModel],
) -> Result<MetricModel, InputError> {
    let source = cx.source;
    let metric = modelled_metric(cx, r, earlier)?;
    let daily = finite(source, &r.daily, "daily", 0.0)?;
    let spread = spread(source, index, r)?;
    let weekly = weekly_factors(source, r)?;
    let trend = monthly_trend(source, r)?;
    let unit = draw_unit(source, r)?;
    let activity_weight = match &r.activity_weight {
        None => 1.0,
        Some(w) => finite(source, w, "activity_weight", 0.0)?,
    };
    let bursts = burst_model(source, r)?;
    Ok(MetricModel::new(
        metric,
        daily,
        spread,
        weekly,
        trend,
        bursts,
        activity_weight,
        unit,
        &cx.book.rates,
    ))
}

/// The metric a model draws: priced on every simulated day, and modelled once.
fn modelled_metric(
    cx: &SimulationContext<'_>,
    r: &RawModel,
    earlier: &[MetricModel],
) -> Result<MetricId, InputError> {
    let rates = &cx.book.rates;
    let name = r.metric.get_ref();
    let span = r.metric.span();
    let metric = rates
        .metric(name)
        .ok_or_else(|| cx.source.error(span.clone(), rates.unknown_metric(name)))?;
    if earlier.iter().any(|x| x.metric == metric) {
        return Err(cx
            .source
            .error(span, format!("metric \"{name}\" has two models")));
    }
    if let Some(day) = first_day_without_rate(cx.book, metric, cx.usage_start, cx.end) {
        return Err(cx.source.error(
            span,
            format!(
                "metric \"{name}\" has no rate in force on {} (inside the horizon)",
                display(day)
            ),
        ));
    }
    Ok(metric)
}

/// The distributions a model can draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Distribution {
    Fixed,
    Poisson,
    NegativeBinomial,
    LogNormal,
    Gamma,
}

impl Distribution {
    /// In the order error messages list them.
    const ALL: [Distribution; 5] = [
        Distribution::Fixed,
        Distribution::Poisson,
        Distribution::NegativeBinomial,
        Distribution::LogNormal,
        Distribution::Gamma,
    ];

    fn name(self) -> &'static str {
        match self {
            Distribution::Fixed => "fixed",
            Distribution::Poisson => "poisson",
            Distribution::NegativeBinomial => "negative_binomial",
            Distribution::LogNormal => "lognormal",
            Distribution::Gamma => "gamma",
        }
    }

    /// The model keys this distribution reads; a model setting any other parameter is an
    /// error, since it would be silently ignored.
    fn parameters(self) -> &'static [&'static str] {
        match self {
            Distribution::Fixed | Distribution::Poisson => &[],
            Distribution::NegativeBinomial => &["dispersion"],
            Distribution::LogNormal => &["sigma"],
            Distribution::Gamma => &["shape"],
        }
    }
}

/// The distribution parameters a model sets, by key.
fn parameters_set(r: &RawModel) -> impl Iterator<Item = (&'static str, &Spanned<f64>)> {
    [
        ("dispersion", r.dispersion.as_ref()),
        ("sigma", r.sigma.as_ref()),
        ("shape", r.shape.as_ref()),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key, value?)))
}

/// How the `index`th model spreads its daily draws around the mean.
fn spread(source: &Source, index: usize, r: &RawModel) -> Result<Spread, InputError> {
    let distribution = match &r.distribution {
        None => Distribution::Poisson,
        Some(d) => Distribution::ALL
            .into_iter()
            .find(|x| x.name() == d.get_ref())
            .ok_or_else(|| {
                let known: Vec<&str> = Distribution::ALL.iter().map(|x| x.name()).collect();
                source.error(
                    d.span(),
                    format!(
                        "unknown distribution \"{}\" (known: {})",
                        d.get_ref(),
                        known.join(", ")
                    ),
                )
            })?,
    };
    refuse_unused_parameters(source, index, r, distribution)?;
    let positive = |v: &Option<Spanned<f64>>, name: &str, default: f64| match v {
        Some(v) => {
            let x = finite(source, v, name, 0.0)?;
            if x <= 0.0 {
                return Err(source.error(v.span(), format!("{name} must be more than 0")));
            }
            Ok(x)
        }
        None => Ok(default),
    };
    Ok(match distribution {
        Distribution::Poisson => Spread::Poisson,
        Distribution::Fixed => Spread::Fixed,
        Distribution::NegativeBinomial => Spread::NegativeBinomial {
            dispersion: positive(&r.dispersion, "dispersion", 1.0)?,
        },
        Distribution::LogNormal => Spread::LogNormal {
            sigma: positive(&r.sigma, "sigma", 0.5)?,
        },
        Distribution::Gamma => Spread::Gamma {
            shape: positive(&r.shape, "shape", 2.0)?,
        },
    })
}

/// An error at the first parameter (in the file) that `distribution` does not read.
fn refuse_unused_parameters(
    source: &Source,
    index: usize,
    r: &RawModel,
    distribution: Distribution,
) -> Result<(), InputError> {
    let unused = parameters_set(r)
        .filter(|(key, _)| !distribution.parameters().contains(key))
        .min_by_key(|(_, value)| value.span().start);
    let Some((key, value)) = unused else {
        return Ok(());
    };
    let name = distribution.name();
    let chosen = if r.distribution.is_some() {
        format!("distribution \"{name}\"")
    } else {
        format!("distribution \"{name}\", the default when none is given")
    };
    let takes = match distribution.parameters() {
        [] => "it takes none".to_string(),
        keys => format!("it takes: {}", keys.join(", ")),
    };
    let owner = Distribution::ALL
        .into_iter()
        .find(|d| d.parameters().contains(&key))
        .map_or("?", |d| d.name());
    let span = model_key_span(&source.text, index, key).unwrap_or(value.span());
    Err(source.error(
        span,
        format!("{key} is not a parameter of {chosen} ({takes}; {key} is for \"{owner}\")"),
    ))
}

/// The span of `key` in the `index`th `[[simulation.model]]`. Serde keeps the spans of values
/// only, and an error about a key that should not be there reads best at the key, where
/// serde's own unknown-field errors point too.
fn model_key_span(text: &str, index: usize, key: &str) -> Option<Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let DeValue::Table(simulation) = doc.get_ref().get("simulation")?.get_ref() else {
        return None;
    };
    let DeValue::Array(models) = simulation.get("model")?.get_ref() else {
        return None;
    };
    let DeValue::Table(model) = models.get(index)?.get_ref() else {
        return None;
    };
    model.get_key_value(key).map(|(k, _)| k.span())
}

fn weekly_factors(source: &Source, r: &RawModel) -> Result<[f64; 7], InputError> {
    let Some(w) = &r.weekly else {
        return Ok([1.0; 7]);
    };
    let v = w.get_ref();
    if v.len() != 7 || v.iter().any(|f| !f.is_finite() || *f < 0.0) {
        return Err(source.error(w.span(), "weekly needs 7 factors >= 0, Monday first"));
    }
    Ok([v[0], v[1], v[2], v[3], v[4], v[5], v[6]])
}

/// `trend_percent_per_month` as a fraction.
fn monthly_trend(source: &Source, r: &RawModel) -> Result<f64, InputError> {
    let Some(t) = &r.trend_percent_per_month else {
        return Ok(0.0);
    };
    let x = *t.get_ref();
    if !x.is_finite() || x <= -100.0 || x > 1000.0 {
        return Err(source.error(
            t.span(),
            "trend_percent_per_month must be above -100 and at most 1000",
        ));
    }
    Ok(x / 100.0)
}

fn draw_unit(source: &Source, r: &RawModel) -> Result<Decimal, InputError> {
    match &r.unit {
        None => Ok(Decimal::ONE),
        Some(u) if u.get_ref().0 <= Decimal::ZERO => {
            Err(source.error(u.span(), "unit must be more than 0"))
        }
        Some(u) => Ok(u.get_ref().0),
    }
}

fn burst_model(source: &Source, r: &RawModel) -> Result<Option<Bursts>, InputError> {
    let Some(b) = &r.bursts else {
        return Ok(None);
    };
    let x = b.get_ref();
    // Each field's range, so the message names the one that is out and its value.
    let checks = [
        (
            "per_month",
            x.per_month,
            (0.0..=1000.0).contains(&x.per_month),
            "0-1000",
        ),
        (
            "mean_size",
            x.mean_size,
            x.mean_size > 0.0 && x.mean_size.is_finite(),
            "above 0",
        ),
        ("sigma", x.sigma, (0.0..=5.0).contains(&x.sigma), "0-5"),
    ];
    if let Some((field, value, _, range)) = checks.iter().find(|c| !c.2) {
        let message = format!("bursts {field} {value} is outside {range}");
        return Err(source.error(b.span(), message));
    }
    let days = (x.days.number()).and_then(|d| u32::try_from(d).ok());
    let Some(days) = days.filter(|d| (1..=366).contains(d)) else {
        let message = super::values::out_of_range("bursts days", &x.days, "1-366");
        return Err(source.error(b.span(), message));
    };
    Ok(Some(Bursts {
        per_month: x.per_month,
        mean_size: x.mean_size,
        sigma: x.sigma,
        days,
    }))
}

/// Longest block of a bootstrap: a year.
const BLOCK_DAYS_MAX: u32 = 366;

fn bootstrap(
    cx: &SimulationContext<'_>,
    raw: &Spanned<super::raw::RawBootstrap>,
) -> Result<crate::usage::synthetic::Bootstrap, InputError> {
    let (source, book) = (cx.source, cx.book);
    let r = raw.get_ref();
    let block_days = match &r.block_days {
        Some(b) => count(source, "block_days", b, 1..=BLOCK_DAYS_MAX)?,
        None => 7,
    };
    let spec = history_trace(source, r)?;
    let only = r.workspace.as_ref().map(|w| w.get_ref().as_str());
    let history = crate::usage::trace::history(book, &spec, only)?;
    if history.days.len() < block_days as usize {
        return Err(source.error(
            raw.span(),
            format!(
                "the history covers {} days, fewer than one block of {block_days}",
                history.days.len()
            ),
        ));
    }
    for &m in &history.metrics {
        if let Some(day) = first_day_without_rate(book, m, cx.usage_start, cx.end) {
            return Err(source.error(
                raw.span(),
                format!(
                    "metric \"{}\" of the history has no rate in force on {} (inside the horizon)",
                    book.rates.metrics[m.0].name,
                    display(day)
                ),
            ));
        }
    }
    Ok(crate::usage::synthetic::Bootstrap::new(
        history.metrics,
        history.days,
        history.first_day,
        block_days,
        book.rates.clone(),
    ))
}

/// How to read the bootstrap's history: the trace's columns, timestamps and zone.
fn history_trace(
    source: &Source,
    r: &super::raw::RawBootstrap,
) -> Result<crate::usage::trace::TraceSpec, InputError> {
    use crate::usage::trace::parse::{TimestampFormat, Zone};
    let path = source.relative(r.trace.get_ref());
    if !path.exists() {
        return Err(source.error(
            r.trace.span(),
            format!("history trace {} not found", path.display()),
        ));
    }
    let mut spec = crate::usage::trace::TraceSpec::new(path);
    if let Some(v) = &r.timestamp {
        spec.columns.timestamp = v.clone();
    }
    if let Some(v) = &r.metric {
        spec.columns.metric = v.clone();
    }
    if let Some(v) = &r.quantity {
        spec.columns.quantity = v.clone();
    }
    if let Some(v) = &r.timestamp_format {
        spec.timestamp_format = TimestampFormat::parse(v);
    }
    if let Some(z) = &r.timezone {
        spec.zone = Zone::parse(z.get_ref()).map_err(|m| source.error(z.span(), m))?;
    }
    Ok(spec)
}

fn stat_expectations(
    cx: &SimulationContext<'_>,
    stats: &[Spanned<RawStatExpect>],
) -> Result<Vec<StatExpectation>, InputError> {
    stats
        .iter()
        .enumerate()
        .map(|(block, e)| stat_expectation(cx, block, e))
        .collect()
}

/// The `block`th `[[expect_stat]]`.
fn stat_expectation(
    cx: &SimulationContext<'_>,
    block: usize,
    e: &Spanned<RawStatExpect>,
) -> Result<StatExpectation, InputError> {
    let source = cx.source;
    let r = e.get_ref();
    let line = source.line_column(e.span().start).0;
    let strategy = match &r.strategy {
        Some(s) => cx.strategy_index(s)?,
        None if cx.strategies.len() == 1 => 0,
        None => {
            return Err(source.error(
                e.span(),
                format!(
                    "this [[expect_stat]] must name its strategy (known: {})",
                    super::names::known_strategies(cx.strategies)
                ),
            ))
        }
    };
    let statistic = statistic(source, r)?;
    let measure = measure(source, r)?;
    let tolerance = tolerance(source, r, statistic)?;
    Ok(StatExpectation {
        block,
        line,
        strategy,
        statistic,
        measure,
        value: r.value.get_ref().0,
        tolerance,
    })
}

fn statistic(source: &Source, r: &RawStatExpect) -> Result<Statistic, InputError> {
    Statistic::ALL
        .iter()
        .find(|(n, _)| *n == r.statistic.get_ref())
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            let known: Vec<&str> = Statistic::ALL.iter().map(|(n, _)| *n).collect();
            source.error(
                r.statistic.span(),
                format!(
                    "unknown statistic \"{}\" (known: {})",
                    r.statistic.get_ref(),
                    known.join(", ")
                ),
            )
        })
}

fn measure(source: &Source, r: &RawStatExpect) -> Result<Measure, InputError> {
    match r.measure.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
        None | Some(("economic_cost", _)) => Ok(Measure::Economic),
        Some(("cash", _)) => Ok(Measure::Cash),
        Some((other, span)) => Err(source.error(
            span,
            format!("unknown measure \"{other}\" (known: economic_cost, cash)"),
        )),
    }
}

fn tolerance(
    source: &Source,
    r: &RawStatExpect,
    statistic: Statistic,
) -> Result<Tolerance, InputError> {
    match (&r.tolerance, &r.tolerance_se) {
        (None, None) => Ok(Tolerance::Exact),
        (Some(t), None) => Ok(Tolerance::Absolute(t.get_ref().0.abs())),
        (None, Some(t)) => {
            if !statistic.has_stderr() {
                return Err(source.error(
                    t.span(),
                    format!("{} has no standard error: use tolerance", statistic.name()),
                ));
            }
            Ok(Tolerance::StandardErrors(t.get_ref().0.abs()))
        }
        (Some(t), Some(_)) => {
            Err(source.error(t.span(), "give tolerance or tolerance_se, not both"))
        }
    }
}

/// The first simulated day (`usage_start` + whole days, before `end`) on which `metric` has
/// no rate in force: every day drawn must be priced.
pub(super) fn first_day_without_rate(
    book: &PricingBook,
    metric: MetricId,
    usage_start: Instant,
    end: Instant,
) -> Option<Instant> {
    let versions = &book.rates.metrics[metric.0].versions;
    (0..)
        .map(|k| add_days(usage_start, k))
        .take_while(|day| *day < end)
        .find(|day| !versions.iter().any(|v| v.in_force(*day)))
}

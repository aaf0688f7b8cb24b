//! The `[simulation]` section (usage models, paths, seed, baseline) and `[[expect_stat]]`
//! blocks, validated into a [`SimulationSpec`].

use super::raw::{RawSimulation, RawStatExpect};
use crate::analysis::montecarlo::{Comparison, PATHS_MAX};
use crate::engine::strategy::Strategy;
use crate::model::amounts::Money;
use crate::model::calendar::{add_days, display, Instant};
use crate::model::diag::{InputError, Source};
use crate::model::pricing::PricingBook;
use crate::usage::synthetic::{Activity, Bursts, MetricModel, Regimes, Spread, UsageModel};
use rust_decimal::Decimal;
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
    pub measure: crate::analysis::montecarlo::Measure,
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

pub(super) fn build(
    source: &Source,
    raw: &RawSimulation,
    stats: &[Spanned<RawStatExpect>],
    book: &PricingBook,
    strategies: &[Strategy],
    usage_start: Instant,
    end: Instant,
) -> Result<SimulationSpec, InputError> {
    let paths = match &raw.paths {
        Some(p) if *p.get_ref() == 0 || *p.get_ref() > PATHS_MAX => {
            return Err(source.error(p.span(), format!("paths must be 1-{PATHS_MAX}")));
        }
        Some(p) => *p.get_ref(),
        None => PATHS_DEFAULT,
    };
    let strategy_index = |name: &Spanned<String>| {
        super::scenario::strategy_index(source, strategies, name.get_ref(), name.span())
    };
    let baseline = match &raw.baseline {
        Some(b) => strategy_index(b)?,
        None => 0,
    };
    let tie_within = match &raw.tie_within {
        None => Money::ZERO,
        Some(v) => Money::from_decimal(v.get_ref().0)
            .ok()
            .filter(|m| *m >= Money::ZERO)
            .ok_or_else(|| {
                source.error(
                    v.span(),
                    "tie_within must be a non-negative amount of money (e.g. \"0.50\")",
                )
            })?,
    };
    let activity = match &raw.activity {
        None => None,
        Some(a) => {
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
            Some(Activity {
                sigma: r.sigma,
                persistence: r.persistence,
            })
        }
    };
    let regimes = match &raw.regimes {
        None => None,
        Some(rs) => {
            let r = rs.get_ref();
            let n = r.states.len();
            if n == 0 || n > REGIMES_MAX || r.factors.len() != n || r.transitions.len() != n {
                return Err(source.error(
                    rs.span(),
                    format!("regimes need 1-{REGIMES_MAX} states, one factor per state and one transition row per state"),
                ));
            }
            for (i, row) in r.transitions.iter().enumerate() {
                let ok =
                    row.len() == n && row.iter().all(|p| p.is_finite() && (0.0..=1.0).contains(p));
                let sum: f64 = row.iter().sum();
                if !ok || (sum - 1.0).abs() > 1e-9 {
                    return Err(source.error(
                        rs.span(),
                        format!("transition row {} (from \"{}\") must have {n} probabilities summing to 1", i + 1, r.states[i]),
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
            Some(Regimes {
                names: r.states.clone(),
                factors: r.factors.clone(),
                transitions: r.transitions.clone(),
                initial,
            })
        }
    };
    if let Some(b) = &raw.bootstrap {
        let extra = raw
            .model
            .first()
            .map(|m| m.span())
            .or(raw.activity.as_ref().map(|a| a.span()))
            .or(raw.regimes.as_ref().map(|r| r.span()));
        if let Some(span) = extra {
            return Err(source.error(
                span,
                "[simulation.bootstrap] resamples the history as it is: models, activity and regimes do not apply",
            ));
        }
        let bootstrap = bootstrap(source, b, book, usage_start, end)?;
        return Ok(SimulationSpec {
            model: UsageModel {
                metrics: Vec::new(),
                regimes: None,
                activity: None,
                bootstrap: Some(bootstrap),
            },
            paths,
            seed: raw.seed.unwrap_or(SEED_DEFAULT),
            baseline,
            tie_within,
            expectations: stat_expectations(source, stats, strategies)?,
        });
    }
    if raw.model.is_empty() {
        return Err(InputError::whole_file(
            &source.path,
            "[simulation] has no [[simulation.model]] or [simulation.bootstrap]: nothing to draw",
        ));
    }
    if raw.model.len() > MODELS_MAX {
        return Err(InputError::whole_file(
            &source.path,
            format!("more than {MODELS_MAX} models"),
        ));
    }
    let mut metrics = Vec::new();
    for m in &raw.model {
        let r = m.get_ref();
        let metric = book.rates.metric(r.metric.get_ref()).ok_or_else(|| {
            source.error(
                r.metric.span(),
                book.rates.unknown_metric(r.metric.get_ref()),
            )
        })?;
        if metrics.iter().any(|x: &MetricModel| x.metric == metric) {
            return Err(source.error(
                r.metric.span(),
                format!("metric \"{}\" has two models", r.metric.get_ref()),
            ));
        }
        if let Some(day) = first_day_without_rate(book, metric, usage_start, end) {
            return Err(source.error(
                r.metric.span(),
                format!(
                    "metric \"{}\" has no rate in force on {} (inside the horizon)",
                    r.metric.get_ref(),
                    display(day)
                ),
            ));
        }
        let daily = finite(source, &r.daily, "daily", 0.0)?;
        let param = |v: &Option<Spanned<f64>>,
                     name: &str,
                     default: f64|
         -> Result<f64, InputError> {
            match v {
                Some(v) => {
                    let x = finite(source, v, name, 0.0)?;
                    if x <= 0.0 {
                        return Err(source.error(v.span(), format!("{name} must be more than 0")));
                    }
                    Ok(x)
                }
                None => Ok(default),
            }
        };
        let spread = match r.distribution.as_ref().map(|d| (d.get_ref().as_str(), d.span())) {
            None | Some(("poisson", _)) => Spread::Poisson,
            Some(("fixed", _)) => Spread::Fixed,
            Some(("negative_binomial", _)) => Spread::NegativeBinomial { dispersion: param(&r.dispersion, "dispersion", 1.0)? },
            Some(("lognormal", _)) => Spread::LogNormal { sigma: param(&r.sigma, "sigma", 0.5)? },
            Some(("gamma", _)) => Spread::Gamma { shape: param(&r.shape, "shape", 2.0)? },
            Some((other, span)) => {
                return Err(source.error(
                    span,
                    format!("unknown distribution \"{other}\" (known: fixed, poisson, negative_binomial, lognormal, gamma)"),
                ))
            }
        };
        let weekly = match &r.weekly {
            None => [1.0; 7],
            Some(w) => {
                let v = w.get_ref();
                if v.len() != 7 || v.iter().any(|f| !f.is_finite() || *f < 0.0) {
                    return Err(source.error(w.span(), "weekly needs 7 factors >= 0, Monday first"));
                }
                [v[0], v[1], v[2], v[3], v[4], v[5], v[6]]
            }
        };
        let trend = match &r.trend_percent_per_month {
            None => 0.0,
            Some(t) => {
                let x = *t.get_ref();
                if !x.is_finite() || x <= -100.0 || x > 1000.0 {
                    return Err(source.error(
                        t.span(),
                        "trend_percent_per_month must be above -100 and at most 1000",
                    ));
                }
                x / 100.0
            }
        };
        let unit = match &r.unit {
            None => Decimal::ONE,
            Some(u) if u.get_ref().0 <= Decimal::ZERO => {
                return Err(source.error(u.span(), "unit must be more than 0"))
            }
            Some(u) => u.get_ref().0,
        };
        let activity_weight = match &r.activity_weight {
            None => 1.0,
            Some(w) => finite(source, w, "activity_weight", 0.0)?,
        };
        let bursts = match &r.bursts {
            None => None,
            Some(b) => {
                let x = b.get_ref();
                let ok = x.per_month.is_finite()
                    && x.per_month >= 0.0
                    && x.per_month <= 1000.0
                    && x.mean_size.is_finite()
                    && x.mean_size > 0.0
                    && x.sigma.is_finite()
                    && x.sigma >= 0.0
                    && x.sigma <= 5.0
                    && x.days >= 1
                    && x.days <= 366;
                if !ok {
                    return Err(source.error(
                        b.span(),
                        "bursts need per_month 0-1000, mean_size > 0, sigma 0-5 and days 1-366",
                    ));
                }
                Some(Bursts {
                    per_month: x.per_month,
                    mean_size: x.mean_size,
                    sigma: x.sigma,
                    days: x.days,
                })
            }
        };
        metrics.push(MetricModel::new(
            metric,
            daily,
            spread,
            weekly,
            trend,
            bursts,
            activity_weight,
            unit,
            &book.rates,
        ));
    }

    let expectations = stat_expectations(source, stats, strategies)?;
    Ok(SimulationSpec {
        model: UsageModel {
            metrics,
            regimes,
            activity,
            bootstrap: None,
        },
        paths,
        seed: raw.seed.unwrap_or(SEED_DEFAULT),
        baseline,
        tie_within,
        expectations,
    })
}

/// Longest block of a bootstrap: a year.
const BLOCK_DAYS_MAX: u32 = 366;

fn bootstrap(
    source: &Source,
    raw: &Spanned<super::raw::RawBootstrap>,
    book: &PricingBook,
    usage_start: Instant,
    end: Instant,
) -> Result<crate::usage::synthetic::Bootstrap, InputError> {
    use crate::usage::trace::parse::{TimestampFormat, Zone};
    let r = raw.get_ref();
    let block_days = match &r.block_days {
        Some(b) if *b.get_ref() == 0 || *b.get_ref() > BLOCK_DAYS_MAX => {
            return Err(source.error(b.span(), format!("block_days must be 1-{BLOCK_DAYS_MAX}")))
        }
        Some(b) => *b.get_ref(),
        None => 7,
    };
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
        if let Some(day) = first_day_without_rate(book, m, usage_start, end) {
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

fn stat_expectations(
    source: &Source,
    stats: &[Spanned<RawStatExpect>],
    strategies: &[Strategy],
) -> Result<Vec<StatExpectation>, InputError> {
    let strategy_index = |name: &Spanned<String>| {
        super::scenario::strategy_index(source, strategies, name.get_ref(), name.span())
    };
    let mut expectations = Vec::new();
    for (block, e) in stats.iter().enumerate() {
        let r = e.get_ref();
        let line = crate::model::diag::line_column(&source.text, e.span().start).0;
        let strategy = match &r.strategy {
            Some(s) => strategy_index(s)?,
            None if strategies.len() == 1 => 0,
            None => {
                return Err(source.error(
                    e.span(),
                    format!(
                        "this [[expect_stat]] must name its strategy (known: {})",
                        super::scenario::known_strategies(strategies)
                    ),
                ))
            }
        };
        let statistic = Statistic::ALL
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
            })?;
        let measure = match r.measure.as_ref().map(|m| (m.get_ref().as_str(), m.span())) {
            None | Some(("economic_cost", _)) => crate::analysis::montecarlo::Measure::Economic,
            Some(("cash", _)) => crate::analysis::montecarlo::Measure::Cash,
            Some((other, span)) => {
                return Err(source.error(
                    span,
                    format!("unknown measure \"{other}\" (known: economic_cost, cash)"),
                ))
            }
        };
        let tolerance = match (&r.tolerance, &r.tolerance_se) {
            (None, None) => Tolerance::Exact,
            (Some(t), None) => Tolerance::Absolute(t.get_ref().0.abs()),
            (None, Some(t)) => {
                if !statistic.has_stderr() {
                    return Err(source.error(
                        t.span(),
                        format!("{} has no standard error: use tolerance", statistic.name()),
                    ));
                }
                Tolerance::StandardErrors(t.get_ref().0.abs())
            }
            (Some(t), Some(_)) => {
                return Err(source.error(t.span(), "give tolerance or tolerance_se, not both"))
            }
        };
        expectations.push(StatExpectation {
            block,
            line,
            strategy,
            statistic,
            measure,
            value: r.value.get_ref().0,
            tolerance,
        });
    }
    Ok(expectations)
}

/// The first simulated day (`usage_start` + whole days, before `end`) on which `metric` has
/// no rate in force: every day drawn must be priced.
fn first_day_without_rate(
    book: &PricingBook,
    metric: crate::model::pricing::MetricId,
    usage_start: Instant,
    end: Instant,
) -> Option<Instant> {
    let versions = &book.rates.metrics[metric.0].versions;
    (0..)
        .map(|k| add_days(usage_start, k))
        .take_while(|day| *day < end)
        .find(|day| !versions.iter().any(|v| v.in_force(*day)))
}

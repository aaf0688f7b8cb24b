//! The file formats, as serde sees them. Nothing here is validated beyond its shape; every
//! struct denies unknown keys so a typo is an error, not a silently ignored setting.

use super::values::{Count, Dec, TomlDate, TomlInstant, Whole};
use serde::Deserialize;
use toml::Spanned;

// ---------------------------------------------------------------- pricing book

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBook {
    pub book: RawBookHeader,
    #[serde(default)]
    pub plans: Vec<RawPlan>,
    #[serde(default)]
    pub cohorts: Vec<RawCohort>,
    #[serde(default)]
    pub rates: Vec<RawRate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBookHeader {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub currency: Spanned<String>,
    pub currency_minor_digits: Option<Count>,
    #[serde(default)]
    pub rounding: crate::model::amounts::Rounding,
    #[serde(default = "yes")]
    pub flex_enabled: bool,
    pub alert_threshold_percent: Option<Count>,
    pub lot_order: Option<Spanned<String>>,
    pub prepaid_expires_after_days: Option<Count>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlan {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub cycle: Spanned<String>,
    pub fee: Spanned<Dec>,
    pub seat_fee: Option<Spanned<Dec>>,
    pub included_credits: Spanned<Dec>,
    pub included_credits_per_seat: Option<Spanned<Dec>>,
    /// An amount, or "none" for uncapped. Absent: uncapped.
    pub flex_cap: Option<Spanned<CapValue>>,
    pub cap_period: Option<Spanned<String>>,
}

/// A cap: an amount, or the word "none".
#[derive(Debug, Clone, Copy)]
pub enum CapValue {
    None,
    Amount(Dec),
}

impl<'de> Deserialize<'de> for CapValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CapValue, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = CapValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an amount of money or \"none\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CapValue, E> {
                if v == "none" {
                    return Ok(CapValue::None);
                }
                super::values::parse_decimal(v)
                    .map(|d| CapValue::Amount(Dec(d)))
                    .map_err(|e| E::custom(format!("{e}; a cap is an amount or \"none\"")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<CapValue, E> {
                Ok(CapValue::Amount(Dec(v.into())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<CapValue, E> {
                Ok(CapValue::Amount(Dec(v.into())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<CapValue, E> {
                use serde::de::IntoDeserializer;
                let d: Result<Dec, E> = Dec::deserialize(v.into_deserializer());
                d.map(CapValue::Amount)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    pub id: Spanned<String>,
    pub created_from: Option<Spanned<TomlDate>>,
    pub created_until: Option<Spanned<TomlDate>>,
    pub prepaid_base_price: Spanned<Dec>,
    pub flex_price: Spanned<Dec>,
    #[serde(default)]
    pub flex_price_by_plan: std::collections::BTreeMap<Spanned<String>, Spanned<Dec>>,
    #[serde(default)]
    pub bundles: Vec<RawBundle>,
    pub open_amount: Option<RawOpenAmount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBundle {
    pub id: Spanned<String>,
    pub credits: Spanned<Dec>,
    pub price: Option<Spanned<Dec>>,
    pub discount_percent: Option<Spanned<Dec>>,
    pub expires_after_days: Option<Count>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenAmount {
    pub min: Spanned<Dec>,
    pub max: Spanned<Dec>,
    pub expires_after_days: Option<Count>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRate {
    pub metric: Spanned<String>,
    pub unit: Option<String>,
    pub credits: Spanned<Dec>,
    pub per: Option<Spanned<Dec>>,
    pub effective_from: Option<Spanned<TomlInstant>>,
    pub effective_until: Option<Spanned<TomlInstant>>,
}

// ---------------------------------------------------------------- scenario

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub scenario: RawScenarioHeader,
    /// An inline pricing book, with the same keys as a book file.
    pub pricing: Option<RawBook>,
    pub workspace: RawWorkspace,
    pub horizon: Spanned<RawHorizon>,
    #[serde(default)]
    pub usage: RawUsage,
    #[serde(default)]
    pub strategy: Vec<RawStrategy>,
    pub simulation: Option<RawSimulation>,
    #[serde(default)]
    pub expect_stat: Vec<Spanned<RawStatExpect>>,
    #[serde(default)]
    pub expect_breakeven: Vec<Spanned<RawBreakevenExpect>>,
    #[serde(default)]
    pub expect_advice: Vec<Spanned<RawAdviceExpect>>,
    /// `[sensitivity]`: parameter = [low, high] changes `creditsim sensitivity` sweeps.
    pub sensitivity: Option<std::collections::BTreeMap<Spanned<String>, Spanned<Vec<Dec>>>>,
    /// Read separately (with spans per key) by `scenario::expect`.
    #[serde(default)]
    pub expect: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenarioHeader {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Path of a pricing book, relative to the scenario file.
    pub pricing_book: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkspace {
    pub created: Spanned<TomlDate>,
    pub plan: Spanned<String>,
    pub seats: Option<Count>,
    pub anchor: Option<Spanned<TomlInstant>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHorizon {
    pub start: Spanned<TomlInstant>,
    pub end: Option<Spanned<TomlInstant>>,
    pub months: Option<Count>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUsage {
    /// CSV with a header `timestamp,metric,quantity`, relative to the scenario file.
    pub file: Option<Spanned<String>>,
    /// The inline events when `toml` reads them; when `inline_events` reads them apart,
    /// an empty array standing in for them (its span tells where they are).
    #[serde(default)]
    pub events: Option<Spanned<Vec<Spanned<RawEvent>>>>,
    /// How many inline events `inline_events` read apart (none when `toml` read them).
    #[serde(skip)]
    pub events_read_apart: usize,
    /// An event log imported by `trace::import` (CSV or Parquet, relative to the scenario).
    pub trace: Option<Spanned<RawTrace>>,
}

impl RawUsage {
    /// Inline events, however they were read.
    pub fn has_events(&self) -> bool {
        self.events_read_apart > 0
            || self
                .events
                .as_ref()
                .is_some_and(|e| !e.get_ref().is_empty())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    pub file: Spanned<String>,
    /// Column names, when they are not timestamp, metric, quantity (and workspace).
    pub timestamp: Option<String>,
    pub metric: Option<String>,
    pub quantity: Option<String>,
    pub workspace: Option<String>,
    /// "iso" (default), "unix", "unix_ms", or a chrono strftime pattern.
    pub timestamp_format: Option<String>,
    /// Zone of timestamps without an offset: "UTC" (default), "+09:00", "Asia/Tokyo".
    pub timezone: Option<Spanned<String>>,
    /// "event" (default) or "day".
    pub resolution: Option<Spanned<String>>,
    /// One character; default ",".
    pub delimiter: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub at: Spanned<TomlInstant>,
    pub metric: Spanned<String>,
    pub quantity: Spanned<Dec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPurchase {
    pub bundle: Option<Spanned<String>>,
    pub amount: Option<Spanned<Dec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub name: Spanned<String>,
    pub start_plan: Option<Spanned<String>>,
    pub flex: Option<bool>,
    pub flex_cap: Option<Spanned<CapValue>>,
    #[serde(default)]
    pub buy_at_start: Vec<Spanned<RawPurchase>>,
    #[serde(default)]
    pub schedule: Vec<Spanned<RawScheduled>>,
    pub top_up: Option<Spanned<RawTopUp>>,
    #[serde(default)]
    pub buy_on_alert: bool,
    pub upgrade: Option<Spanned<RawUpgrade>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduled {
    pub at: Spanned<TomlInstant>,
    pub buy: Option<Spanned<RawPurchase>>,
    pub change_plan: Option<Spanned<String>>,
    pub flex: Option<bool>,
    pub flex_cap: Option<Spanned<CapValue>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopUp {
    pub below: Spanned<Dec>,
    pub buy: Spanned<RawPurchase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpgrade {
    pub to: Spanned<String>,
    pub when_cycle_flex_spend_exceeds: Spanned<Dec>,
}

// ---------------------------------------------------------------- simulation

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub paths: Option<Count>,
    pub seed: Option<Count>,
    pub baseline: Option<Spanned<String>>,
    pub tie_within: Option<Spanned<Dec>>,
    pub activity: Option<Spanned<RawActivity>>,
    pub regimes: Option<Spanned<RawRegimes>>,
    #[serde(default)]
    pub model: Vec<Spanned<RawModel>>,
    /// Resample an imported history instead of drawing from models.
    pub bootstrap: Option<Spanned<RawBootstrap>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBootstrap {
    /// The history: a trace file (CSV or Parquet), relative to the scenario.
    pub trace: Spanned<String>,
    /// Days per resampled block; default 7 (whole weeks keep the weekly pattern).
    pub block_days: Option<Count>,
    /// The workspace of a trace with several.
    pub workspace: Option<Spanned<String>>,
    pub timestamp: Option<String>,
    pub metric: Option<String>,
    pub quantity: Option<String>,
    pub timestamp_format: Option<String>,
    pub timezone: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActivity {
    pub sigma: f64,
    #[serde(default)]
    pub persistence: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegimes {
    pub states: Vec<String>,
    pub factors: Vec<f64>,
    pub initial: Spanned<String>,
    pub transitions: Vec<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub metric: Spanned<String>,
    pub daily: Spanned<f64>,
    pub distribution: Option<Spanned<String>>,
    pub dispersion: Option<Spanned<f64>>,
    pub sigma: Option<Spanned<f64>>,
    pub shape: Option<Spanned<f64>>,
    pub weekly: Option<Spanned<Vec<f64>>>,
    pub trend_percent_per_month: Option<Spanned<f64>>,
    pub unit: Option<Spanned<Dec>>,
    pub activity_weight: Option<Spanned<f64>>,
    pub bursts: Option<Spanned<RawBursts>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBursts {
    pub per_month: f64,
    pub mean_size: f64,
    #[serde(default = "half")]
    pub sigma: f64,
    #[serde(default = "one")]
    pub days: Whole,
}

fn half() -> f64 {
    0.5
}

fn one() -> Whole {
    Whole::Number(1)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatExpect {
    pub strategy: Option<Spanned<String>>,
    pub statistic: Spanned<String>,
    #[serde(rename = "of")]
    pub measure: Option<Spanned<String>>,
    pub value: Spanned<Dec>,
    pub tolerance: Option<Spanned<Dec>>,
    pub tolerance_se: Option<Spanned<Dec>>,
}

/// `[[expect_breakeven]]`: a crossing of `creditsim breakeven` (see `input::expect_breakeven`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreakevenExpect {
    pub measure: Spanned<String>,
    pub level: Spanned<Dec>,
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    pub metric: Option<Spanned<String>>,
}

/// `[[expect_advice]]`: what `creditsim advise` recommends (see `input::expect_advice`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdviceExpect {
    pub recommended: Option<Spanned<String>>,
    pub saving_at_least: Option<Spanned<Dec>>,
    pub objective: Option<Spanned<String>>,
    pub measure: Option<Spanned<String>>,
    pub current: Option<Spanned<String>>,
    pub paths: Option<Count>,
    pub seed: Option<Count>,
}

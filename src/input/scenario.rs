//! Scenario files: TOML in, validated domain types out.
//!
//! Everything that can be wrong with an input is found here, with its file and line and
//! column (TOML) or row and column (CSV). What leaves this module is consistent: the ledger
//! and the strategies can assume every id resolves and every amount is within limits.

use super::expect::Expectation;
use super::inline_events::{self, EventsArray, Part};
use super::names::{known_strategies, strategy_index};
use super::raw::{
    RawBook, RawEvent, RawHorizon, RawPurchase, RawScenario, RawScheduled, RawStrategy, RawTopUp,
    RawUpgrade, RawWorkspace,
};
use super::simulation::SimulationSpec;
pub use super::trace_spec::TraceOverrides;
use super::usage_csv::credits_for;
pub use super::usage_csv::UsageEvent;
use super::values::{count, Count, TomlDate, TomlInstant};
use crate::analysis::portfolio::Member;
use crate::analysis::sensitivity::{check_range, Parameter, PARAMETERS};
use crate::analysis::worst_case::{self, Breach, Culprit, Subject};
use crate::analysis::Case;
use crate::engine::ledger::{CapSetting, FlexSetting, Purchase, Workspace};
use crate::engine::replay::CreditUsage;
use crate::engine::strategy::{Action, Scheduled, Strategy, TopUp, Upgrade};
use crate::input::files::sha256_hex;
use crate::model::amounts::{Credits, CREDITS_MAX, SCALE_DIGITS};
use crate::model::calendar::{add_months, display, midnight, Instant, Period};
use crate::model::diag::{InputError, Source};
use crate::model::pricing::{CohortId, PricingBook};
use crate::model::text::grouped;
use crate::usage::packed::{PackedUsage, Usage};
use crate::usage::synthetic::UsageModel;
use crate::usage::trace::{ImportReport, Workspaces};
use crate::usage::window::UsageWindow;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// Longest horizon accepted: 20 years of monthly statements.
pub const HORIZON_MONTHS_MAX: u32 = 240;
/// Most seats a workspace may have.
pub const SEATS_MAX: u32 = 1_000_000;
/// Most strategies in one scenario.
pub const STRATEGIES_MAX: usize = 64;
/// Most usage events in one scenario (inline and CSV together); larger traces are issue #4's
/// streaming import.
pub const USAGE_EVENTS_MAX: usize = 5_000_000;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: String,
    pub description: Option<String>,
    /// The book, workspace, horizon and strategies: what the analyses run on.
    pub case: Case,
    /// When usage may happen (creation, subscription start, horizon end).
    pub window: UsageWindow,
    /// Credits demanded, in time order: inline events, the usage CSV, or an imported trace
    /// (kept packed).
    pub usage: Usage,
    /// What the trace import read and skipped, when usage came from a trace.
    pub import: Option<crate::usage::trace::ImportReport>,
    pub expectations: Vec<ResolvedExpectation>,
    /// `[[expect_breakeven]]`: crossings `check` verifies on the default sweep.
    pub breakeven_expectations: Vec<super::expect_breakeven::BreakevenExpectation>,
    /// `[[expect_advice]]`: recommendations `check` verifies with one `advise` run each.
    pub advice_expectations: Vec<super::expect_advice::AdviceExpectation>,
    /// `[sensitivity]`: the parameters `creditsim sensitivity` sweeps, with their low and
    /// high change (empty: the command's defaults).
    pub sensitivity: Vec<(Parameter, Decimal, Decimal)>,
    /// The files read (scenario, pricing book), for provenance.
    pub inputs: Vec<InputFile>,
    /// The `[simulation]` section, when the scenario can be simulated.
    pub simulation: Option<super::simulation::SimulationSpec>,
}

/// An expectation whose strategy is resolved.
#[derive(Debug, Clone)]
pub struct ResolvedExpectation {
    pub strategy: usize,
    pub inner: Expectation,
}

/// Paths and seed of the bootstrap of a scenario's own usage, when it has no `[simulation]`.
pub const OWN_USAGE_PATHS: u32 = 2000;
pub const OWN_USAGE_SEED: u64 = 1;
/// Finalists `advise` measures against the current setup on every path unless told
/// otherwise; `check` uses the same, since the recommendation is chosen among them.
pub const ADVICE_FINALISTS: usize = 3;

/// The usage advice races on, and the run's defaults: see [`Scenario::advice_model`].
#[derive(Debug, Clone)]
pub struct AdviceModel<'s> {
    pub model: std::borrow::Cow<'s, UsageModel>,
    pub paths: u32,
    pub seed: u64,
    /// The current setup unless told otherwise: `[simulation] baseline`, else the first
    /// strategy.
    pub baseline: usize,
}

impl Scenario {
    /// No `[[expect]]`, `[[expect_stat]]`, `[[expect_breakeven]]` or `[[expect_advice]]`:
    /// `check` has nothing to compare.
    pub fn pins_nothing(&self) -> bool {
        self.expectations.is_empty()
            && self.breakeven_expectations.is_empty()
            && self.advice_expectations.is_empty()
            && self
                .simulation
                .as_ref()
                .is_none_or(|m| m.expectations.is_empty())
    }

    /// The usage `advise` races on: the `[simulation]` model with its paths, seed and
    /// baseline; without one, a weekly block bootstrap of the scenario's own usage
    /// (`OWN_USAGE_PATHS`, `OWN_USAGE_SEED`, the first strategy), so a recorded quarter is
    /// advised on other mixes of its own weeks. One place, so `advise` and `check` agree.
    /// `None` when the horizon has no whole day to resample.
    pub fn advice_model(&self) -> Option<AdviceModel<'_>> {
        if let Some(spec) = &self.simulation {
            return Some(AdviceModel {
                model: std::borrow::Cow::Borrowed(&spec.model),
                paths: spec.paths,
                seed: spec.seed,
                baseline: spec.baseline,
            });
        }
        let own = UsageModel::bootstrap_of_credits(
            self.usage.iter(),
            self.case.workspace.anchor,
            self.case.horizon.end,
        )?;
        Some(AdviceModel {
            model: std::borrow::Cow::Owned(own),
            paths: OWN_USAGE_PATHS,
            seed: OWN_USAGE_SEED,
            baseline: 0,
        })
    }
}

pub(super) fn parse_toml<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, InputError> {
    toml::from_str(&source.text)
        .map_err(|e| source.error(e.span().unwrap_or(0..0), toml_message(e.message())))
}

/// A TOML parser's message as a located error shows it.
pub(super) fn toml_message(message: &str) -> String {
    match message.trim() {
        // The parsers' words for an integer past TOML's 64 bits: say where the limit is.
        "integer number overflowed" => format!(
            "integer number overflowed: TOML integers run from {} to {}",
            crate::model::text::grouped(i64::MIN.into()),
            crate::model::text::grouped(i64::MAX.into())
        ),
        other => other.to_string(),
    }
}

/// Loads and validates a pricing book file.
pub fn load_book(path: &Path) -> Result<PricingBook, InputError> {
    book_from(&Source::read(path)?)
}

pub(super) fn book_from(source: &Source) -> Result<PricingBook, InputError> {
    let raw: RawBook = parse_toml(source)?;
    super::book::build_book(&raw, source)
}

/// An input file as it was read: what it is to the scenario, its path, its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub role: String,
    pub path: PathBuf,
    pub sha256: String,
}

impl InputFile {
    pub(super) fn of(role: &str, source: &Source) -> InputFile {
        InputFile {
            role: role.to_string(),
            path: source.path.clone(),
            sha256: sha256_hex(source.text.as_bytes()),
        }
    }
}

/// Loads and validates a scenario file (and the pricing book and CSV it names).
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    load_with(path, &TraceOverrides::default())
}

/// Loads a scenario, its usage imported from a trace when the scenario or `overrides` names one.
pub fn load_with(path: &Path, overrides: &TraceOverrides) -> Result<Scenario, InputError> {
    with_loader(path, true, |loader, raw| {
        loader.build(&raw, Some(overrides))
    })
}

/// A portfolio: the scenario's book, horizon and strategies, and one member per workspace,
/// with its usage from the trace.
#[derive(Debug, Clone)]
pub struct Portfolio {
    pub scenario: Scenario,
    pub members: Vec<Member>,
    pub import: crate::usage::trace::ImportReport,
}

/// Loads one workspace of a trace set up from the accounts table (its creation date, hence
/// cohort, its plan and seats), as a scenario: what `replay --workspace ID --accounts FILE`
/// replays. The whole trace is imported and checked as a portfolio's would be.
pub fn load_workspace(
    path: &Path,
    overrides: &TraceOverrides,
    accounts: &Path,
    id: &str,
) -> Result<Scenario, InputError> {
    let all = TraceOverrides {
        only_workspace: None,
        ..overrides.clone()
    };
    let mut portfolio = load_portfolio(path, &all, Some(accounts))?;
    let Some(k) = portfolio.members.iter().position(|m| m.id == id) else {
        return Err(InputError::whole_file(
            &portfolio.import.path,
            format!(
                "no rows for workspace \"{id}\" (the trace has {})",
                portfolio.members.len()
            ),
        ));
    };
    let member = portfolio.members.swap_remove(k);
    let mut scenario = portfolio.scenario;
    scenario.case.workspace = member.workspace;
    scenario.case.strategies = member.strategies;
    scenario.usage = Usage::Packed(member.usage);
    scenario.import = Some(portfolio.import);
    Ok(scenario)
}

/// Loads a portfolio: the trace (`overrides.file` or `[usage.trace]`) split by workspace,
/// each workspace set up from `accounts` (its creation date, plan and seats) or, without an
/// accounts table, like the scenario's `[workspace]`.
pub fn load_portfolio(
    path: &Path,
    overrides: &TraceOverrides,
    accounts: Option<&Path>,
) -> Result<Portfolio, InputError> {
    load_portfolio_on(path, overrides, accounts, None)
}

/// [`load_portfolio`] priced by `book` (a pricing book file) instead of the scenario's own.
pub fn load_portfolio_on(
    path: &Path,
    overrides: &TraceOverrides,
    accounts: Option<&Path>,
    book: Option<&Path>,
) -> Result<Portfolio, InputError> {
    let accounts = accounts.map(super::accounts::read).transpose()?;
    let read = read_scenario(path, true)?;
    with_read_on(read, book, |loader, raw| {
        loader.portfolio(raw, overrides, accounts.as_deref())
    })
}

/// [`load_portfolio`] of a scenario given as text: `source.path` is what errors name and
/// what paths written in it are relative to (the Python package's batches).
pub fn load_portfolio_text(
    source: Source,
    overrides: &TraceOverrides,
    accounts: Option<&Path>,
) -> Result<Portfolio, InputError> {
    let accounts = accounts.map(super::accounts::read).transpose()?;
    let read = read_text(source)?;
    with_read(read, |loader, raw| {
        loader.portfolio(raw, overrides, accounts.as_deref())
    })
}

/// The scenario file as read: the text the TOML parsers see, its raw form, its inline events
/// when they are read apart, and the SHA-256 of its bytes.
struct ReadScenario {
    source: Source,
    raw: RawScenario,
    events: Option<EventsArray>,
    sha256: String,
}

/// Reads a scenario file, its inline events apart from the TOML parsers when
/// `inline_events` reads their form (see there which forms it does) and `apart` (false only
/// in tests, to compare with the general path), else the whole text through `toml`.
fn read_scenario(path: &Path, apart: bool) -> Result<ReadScenario, InputError> {
    if let Some(scanned) = apart
        .then(|| inline_events::scan(path))
        .transpose()?
        .flatten()
    {
        let source = Source {
            path: path.to_path_buf(),
            text: scanned.text,
            cut: scanned.events.as_ref().map(|e| e.cut),
        };
        // The text differs from the file only inside the events array, whose lines `cut`
        // accounts for, so an error here is at the line and column the file has.
        let mut raw: RawScenario = parse_toml(&source)?;
        // The scanner's array must be what TOML reads as `usage.events`, exactly where the
        // stand-in is; anything else (a scanner misled) takes the general path.
        let stands_in = scanned.events.as_ref().is_none_or(|e| {
            (raw.usage.events.as_ref())
                .is_some_and(|v| v.get_ref().is_empty() && v.span() == e.placeholder)
        });
        if stands_in {
            raw.usage.events_read_apart = scanned.events.as_ref().map_or(0, |e| e.count);
            return Ok(ReadScenario {
                source,
                raw,
                events: scanned.events,
                sha256: scanned.sha256,
            });
        }
    }
    read_text(Source::read(path)?)
}

/// A scenario's text through the TOML parser, whole.
fn read_text(source: Source) -> Result<ReadScenario, InputError> {
    let raw = parse_toml(&source)?;
    Ok(from_source(source, raw))
}

/// A scenario read whole: its raw form and the SHA-256 of its text.
fn from_source(source: Source, raw: RawScenario) -> ReadScenario {
    let sha256 = sha256_hex(source.text.as_bytes());
    ReadScenario {
        source,
        raw,
        events: None,
        sha256,
    }
}

fn with_loader<T>(
    path: &Path,
    apart: bool,
    f: impl FnOnce(&Loader<'_>, RawScenario) -> Result<T, InputError>,
) -> Result<T, InputError> {
    with_read(read_scenario(path, apart)?, f)
}

/// A scenario built from `raw`, a scenario in raw form whose spans are in `source` (another
/// file format read into it, as `input::profile` does): errors are located in `source`.
pub(super) fn from_raw(source: Source, raw: RawScenario) -> Result<Scenario, InputError> {
    let read = from_source(source, raw);
    let overrides = TraceOverrides::default();
    with_read(read, |loader, raw| loader.build(&raw, Some(&overrides)))
}

fn with_read<T>(
    read: ReadScenario,
    f: impl FnOnce(&Loader<'_>, RawScenario) -> Result<T, InputError>,
) -> Result<T, InputError> {
    with_read_on(read, None, f)
}

/// [`with_read`] with the pricing book file `book_override`, when given, in place of the one
/// the scenario names or holds.
fn with_read_on<T>(
    read: ReadScenario,
    book_override: Option<&Path>,
    f: impl FnOnce(&Loader<'_>, RawScenario) -> Result<T, InputError>,
) -> Result<T, InputError> {
    let ReadScenario {
        source,
        raw,
        events,
        sha256,
    } = read;
    let mut inputs = vec![InputFile {
        role: "scenario".to_string(),
        path: source.path.clone(),
        sha256,
    }];
    let book = scenario_book(&source, &raw, book_override, &mut inputs)?;
    let loader = Loader {
        cx: super::book::BookContext {
            source: &source,
            minor_digits: book.minor_digits,
            rounding: book.rounding,
        },
        book: &Arc::new(book),
        inputs,
        events,
    };
    f(&loader, raw)
}

/// The book a scenario is priced by: `book_override` when given, else the file it names or
/// the [pricing] table it holds. A book file read is added to `inputs`.
fn scenario_book(
    source: &Source,
    raw: &RawScenario,
    book_override: Option<&Path>,
    inputs: &mut Vec<InputFile>,
) -> Result<PricingBook, InputError> {
    let path = source.path.as_path();
    if let Some(book_path) = book_override {
        let book_source = Source::read(book_path)?;
        inputs.push(InputFile::of("pricing book", &book_source));
        book_from(&book_source)
    } else {
        match (&raw.scenario.pricing_book, &raw.pricing) {
            (Some(p), None) => {
                let book_path = source.relative(p.get_ref());
                if !book_path.is_file() {
                    return Err(source.error(
                        p.span(),
                        format!("pricing book {} not found", book_path.display()),
                    ));
                }
                let book_source = Source::read(&book_path)?;
                inputs.push(InputFile::of("pricing book", &book_source));
                book_from(&book_source)
            }
            (None, Some(inline)) => super::book::build_book(inline, source),
            (Some(p), Some(_)) => Err(source.error(
                p.span(),
                "give either scenario.pricing_book or a [pricing] table, not both",
            )),
            (None, None) => Err(InputError::whole_file(
                path,
                "no pricing book: set scenario.pricing_book = \"path\" or add a [pricing] table",
            )),
        }
    }
}

struct Loader<'a> {
    /// Located conversions of amounts, shared with the pricing-book loader.
    cx: super::book::BookContext<'a>,
    book: &'a Arc<PricingBook>,
    /// The scenario file and its pricing book file, as read.
    inputs: Vec<InputFile>,
    /// The inline events, when they are read apart from the TOML parsers.
    events: Option<EventsArray>,
}

impl Loader<'_> {
    /// The scenario; its usage imported from the trace unless `overrides` is `None` (a
    /// portfolio imports the trace itself).
    fn build(
        &self,
        raw: &RawScenario,
        overrides: Option<&TraceOverrides>,
    ) -> Result<Scenario, InputError> {
        let (workspace, horizon, window) = self.subscription(raw)?;
        let (usage, import) = self.usage(raw, overrides, window)?;
        let strategies = self.strategies(raw, &workspace, &window)?;
        let expectations = super::expect::read_expectations(self.cx.source)?
            .into_iter()
            .map(|e| self.resolve_expectation(e, &strategies))
            .collect::<Result<Vec<_>, _>>()?;
        let simulation = self.simulation(raw, &strategies, &window)?;
        let case = Case {
            book: Arc::clone(self.book),
            workspace,
            horizon,
            strategies,
        };
        // Within the credit limit: `usage` refused more.
        let usage_total = Credits::from_micros(usage.total_micros() as i64);
        worst_case::check(Subject::of(&case), Some(usage_total))
            .map_err(|b| self.breach(raw, b))?;
        let breakeven_expectations =
            super::expect_breakeven::build(self.cx.source, &raw.expect_breakeven, &case)?;
        let advice_expectations = super::expect_advice::build(
            &self.cx,
            &raw.expect_advice,
            &case.strategies,
            simulation.is_some() || !usage.is_empty(),
        )?;
        let sensitivity = self.sensitivity(raw)?;
        Ok(Scenario {
            path: self.cx.source.path.clone(),
            name: self.scenario_name(raw),
            description: raw.scenario.description.clone(),
            case,
            window,
            usage,
            import,
            expectations,
            breakeven_expectations,
            advice_expectations,
            sensitivity,
            inputs: self.inputs.clone(),
            simulation,
        })
    }

    /// `[sensitivity]` read and checked: known parameters, two changes each, a range around
    /// the base.
    fn sensitivity(
        &self,
        raw: &RawScenario,
    ) -> Result<Vec<(Parameter, Decimal, Decimal)>, InputError> {
        let Some(table) = &raw.sensitivity else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (name, range) in table {
            let p = Parameter::from_name(name.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = PARAMETERS.iter().map(|p| p.name()).collect();
                self.cx.source.error(
                    name.span(),
                    format!(
                        "unknown parameter \"{}\" (known: {})",
                        name.get_ref(),
                        known.join(", ")
                    ),
                )
            })?;
            let [low, high] = range.get_ref().as_slice() else {
                return self
                    .cx
                    .err(range.span(), "a range is [low, high]: two changes");
            };
            check_range(p, low.0, high.0).map_err(|why| self.cx.source.error(range.span(), why))?;
            out.push((p, low.0, high.0));
        }
        Ok(out)
    }

    /// A worst case past a limit, located at the input to blame.
    fn breach(&self, raw: &RawScenario, breach: Breach) -> InputError {
        let ws = &raw.workspace;
        let h = raw.horizon.get_ref();
        let usage = &raw.usage;
        let span = match breach.culprit {
            Culprit::Seats => Some(ws.seats.as_ref().map_or(ws.plan.span(), |s| s.span())),
            Culprit::Horizon => Some(h.months.as_ref().map_or(raw.horizon.span(), |m| m.span())),
            Culprit::Usage => (usage.trace.as_ref().map(|t| t.span()))
                .or(usage.file.as_ref().map(|f| f.span()))
                .or(usage
                    .events
                    .as_ref()
                    .and_then(|e| e.get_ref().first())
                    .map(|e| e.span())),
            Culprit::Strategy(i) => raw.strategy.get(i).map(|s| s.name.span()),
        };
        // Events read apart are not in the parsed text: the first one's place was kept.
        let first_read_apart = match breach.culprit {
            Culprit::Usage => self.events.as_ref().and_then(|e| e.first_site.clone()),
            _ => None,
        };
        match (span, first_read_apart) {
            (Some(span), _) => self.cx.source.error(span, breach.message),
            (None, Some(site)) => site.with_message(breach.message),
            (None, None) => InputError::whole_file(&self.cx.source.path, breach.message),
        }
    }

    /// The scenario's `[workspace]` and `[horizon]`: the workspace, the horizon, and the
    /// window its usage must fall in.
    fn subscription(
        &self,
        raw: &RawScenario,
    ) -> Result<(Workspace, Period, UsageWindow), InputError> {
        let ws = &raw.workspace;
        let cohort = self.cohort(&ws.created)?;
        let plan = self.plan(&ws.plan)?;
        let seats = self.seats(ws.seats.as_ref())?;
        let horizon = self.horizon(&raw.horizon)?;
        let anchor = self.anchor(ws, horizon)?;
        let workspace = Workspace {
            cohort,
            seats,
            plan,
            anchor,
        };
        let window = UsageWindow {
            created: ws.created.get_ref().0,
            anchor,
            end: horizon.end,
        };
        Ok((workspace, horizon, window))
    }

    fn cohort(&self, created: &Spanned<TomlDate>) -> Result<CohortId, InputError> {
        let book = self.book;
        let day = created.get_ref().0;
        let Some(cohort) = book.cohort_for(day) else {
            let ids: Vec<&str> = book.cohorts.iter().map(|c| c.id.as_str()).collect();
            return self.cx.err(
                created.span(),
                format!(
                    "no cohort of the pricing book admits a workspace created {day} (cohorts: {})",
                    ids.join(", ")
                ),
            );
        };
        Ok(cohort)
    }

    fn seats(&self, seats: Option<&Count>) -> Result<u32, InputError> {
        match seats {
            Some(s) => count(self.cx.source, "seats", s, 1..=SEATS_MAX),
            None => Ok(1),
        }
    }

    fn horizon(&self, horizon: &Spanned<RawHorizon>) -> Result<Period, InputError> {
        let h = horizon.get_ref();
        let start = h.start.get_ref().0;
        let end = match (&h.end, &h.months) {
            (Some(e), None) => e.get_ref().0,
            (None, Some(m)) => add_months(
                start,
                count(self.cx.source, "horizon months", m, 1..=HORIZON_MONTHS_MAX)?,
            ),
            _ => {
                return self.cx.err(
                    horizon.span(),
                    "the horizon needs exactly one of end or months",
                )
            }
        };
        if end <= start {
            return self
                .cx
                .err(horizon.span(), "the horizon ends before it starts");
        }
        if end > add_months(start, HORIZON_MONTHS_MAX) {
            return self.cx.err(
                horizon.span(),
                format!("the horizon is longer than {HORIZON_MONTHS_MAX} months"),
            );
        }
        Ok(Period::new(start, end))
    }

    /// When the subscription starts: `workspace.anchor`, else the horizon's start. Either way
    /// the workspace must exist by then.
    fn anchor(&self, ws: &RawWorkspace, horizon: Period) -> Result<Instant, InputError> {
        let created = ws.created.get_ref().0;
        let Some(a) = &ws.anchor else {
            if horizon.start < midnight(created) {
                return self.cx.err(
                    ws.created.span(),
                    format!("the horizon starts {} before the workspace is created: set workspace.anchor", display(horizon.start)),
                );
            }
            return Ok(horizon.start);
        };
        let t = a.get_ref().0;
        if !horizon.contains(t) {
            return self.cx.err(
                a.span(),
                format!(
                    "anchor {} is outside the horizon [{}, {})",
                    display(t),
                    display(horizon.start),
                    display(horizon.end)
                ),
            );
        }
        if t < midnight(created) {
            return self.cx.err(
                a.span(),
                format!(
                    "anchor {} is before the workspace was created ({created})",
                    display(t)
                ),
            );
        }
        Ok(t)
    }

    /// Credits demanded: the trace's when there is one to import, else the scenario's own
    /// usage. The scenario's own usage is read (and must be valid) either way.
    fn usage(
        &self,
        raw: &RawScenario,
        overrides: Option<&TraceOverrides>,
        window: UsageWindow,
    ) -> Result<(Usage, Option<ImportReport>), InputError> {
        let own = self.own_usage(raw, &window)?;
        let (usage, import) = match self.imported_usage(raw, overrides, window)? {
            Some((usage, report)) => (Usage::Packed(usage), Some(report)),
            None => (Usage::Events(own), None),
        };
        // The event limit is for the scenario's own usage: larger traces are what the trace
        // import is for (see USAGE_EVENTS_MAX).
        if usage.len() > USAGE_EVENTS_MAX && import.is_none() {
            return Err(InputError::whole_file(
                &self.cx.source.path,
                format!(
                    "{} usage events, above the limit of {}",
                    grouped(usage.len().into()),
                    grouped(USAGE_EVENTS_MAX.into())
                ),
            ));
        }
        let total = usage.total_micros();
        if total > i128::from(CREDITS_MAX.micros()) {
            let message = format!(
                "usage totals {} credits, above the limit of {} credits",
                grouped(rust_decimal::Decimal::from_i128_with_scale(
                    total,
                    SCALE_DIGITS
                )),
                grouped(CREDITS_MAX.to_decimal())
            );
            let culprit = Culprit::Usage;
            return Err(self.breach(raw, Breach { culprit, message }));
        }
        Ok((usage, import))
    }

    /// The scenario's own usage: its inline events merged with its usage file's.
    fn own_usage(
        &self,
        raw: &RawScenario,
        window: &UsageWindow,
    ) -> Result<Vec<CreditUsage>, InputError> {
        let inline = match (&self.events, &raw.usage.events) {
            (Some(array), _) => self.usage_read_apart(array, window)?,
            (None, Some(events)) => self.inline_usage(events.get_ref(), window)?,
            (None, None) => Vec::new(),
        };
        let Some(file) = &raw.usage.file else {
            return Ok(inline);
        };
        let csv_path = self.cx.source.relative(file.get_ref());
        if !csv_path.is_file() {
            return self.cx.err(
                file.span(),
                format!("usage file {} not found", csv_path.display()),
            );
        }
        let from_csv = super::usage_csv::read(&csv_path, self.book, window)?
            .into_iter()
            .map(|u| CreditUsage {
                at: u.at,
                credits: u.credits,
            })
            .collect();
        // Inline events and the file are each in time order; merge them, inline first on ties.
        Ok(merge_by_time(inline, from_csv))
    }

    /// Inline events as `toml` read them, in credits.
    fn inline_usage(
        &self,
        events: &[Spanned<RawEvent>],
        window: &UsageWindow,
    ) -> Result<Vec<CreditUsage>, InputError> {
        let mut usage: Vec<CreditUsage> = Vec::with_capacity(events.len());
        for ev in events {
            let e = ev.get_ref();
            let error = |part: Part, message: String| {
                let span = match part {
                    Part::At => e.at.span(),
                    Part::Metric => e.metric.span(),
                    Part::Quantity => e.quantity.span(),
                };
                self.cx.source.error(span, message)
            };
            let previous = usage.last().map(|u| u.at);
            let (at, quantity) = (e.at.get_ref().0, e.quantity.get_ref().0);
            let event = self.event_credits(window, previous, at, e.metric.get_ref(), quantity);
            usage.push(event.map_err(|(part, m)| error(part, m))?);
        }
        Ok(usage)
    }

    /// Inline events read apart from the TOML parsers (`inline_events`), in credits, checked
    /// and worded exactly as `inline_usage` does.
    fn usage_read_apart(
        &self,
        array: &EventsArray,
        window: &UsageWindow,
    ) -> Result<Vec<CreditUsage>, InputError> {
        let mut usage: Vec<CreditUsage> = Vec::with_capacity(array.count.min(USAGE_EVENTS_MAX + 1));
        inline_events::read(&self.cx.source.path, array, |e| {
            let previous = usage.last().map(|u| u.at);
            let event = self.event_credits(window, previous, e.at, e.metric, e.quantity);
            usage.push(event.map_err(|(part, m)| e.error(part, m))?);
            Ok(())
        })?;
        Ok(usage)
    }

    /// One inline event in credits: inside the window, not before the `previous` one, of a
    /// known metric, a quantity the rate card converts. An error names the part to blame.
    fn event_credits(
        &self,
        window: &UsageWindow,
        previous: Option<Instant>,
        at: Instant,
        metric: &str,
        quantity: Decimal,
    ) -> Result<CreditUsage, (Part, String)> {
        if let Some(message) = window.refuse(at) {
            return Err((Part::At, message));
        }
        if let Some(prev) = previous.filter(|&p| at < p) {
            let message = format!(
                "usage out of time order: {} comes after {}",
                display(at),
                display(prev)
            );
            return Err((Part::At, message));
        }
        let Some(id) = self.book.rates.metric(metric) else {
            return Err((Part::Metric, self.book.rates.unknown_metric(metric)));
        };
        let credits = credits_for(self.book, id, at, quantity).map_err(|m| (Part::Quantity, m))?;
        Ok(CreditUsage { at, credits })
    }

    /// The usage of the trace the scenario or `overrides` names, and what its import read;
    /// `None` when there is no trace, or `overrides` is `None`.
    fn imported_usage(
        &self,
        raw: &RawScenario,
        overrides: Option<&TraceOverrides>,
        window: UsageWindow,
    ) -> Result<Option<(PackedUsage, ImportReport)>, InputError> {
        let Some(o) = overrides else {
            return Ok(None);
        };
        let Some(spec) = super::trace_spec::resolve(self.cx.source, raw, o)? else {
            return Ok(None);
        };
        let imported = crate::usage::trace::import(self.book, &spec, Workspaces::open(window))?;
        let k = super::trace_spec::pick_workspace(&spec.path, &imported, o)?;
        let mut imported = imported;
        let usage = match k < imported.usage.len() {
            true => imported.usage.swap_remove(k),
            false => PackedUsage::new(),
        };
        Ok(Some((usage, imported.report)))
    }

    /// The `[simulation]` section; `[[expect_stat]]` without one is an error.
    fn simulation(
        &self,
        raw: &RawScenario,
        strategies: &[Strategy],
        window: &UsageWindow,
    ) -> Result<Option<SimulationSpec>, InputError> {
        let Some(sim) = &raw.simulation else {
            if let Some(e) = raw.expect_stat.first() {
                return self
                    .cx
                    .err(e.span(), "[[expect_stat]] needs a [simulation] section");
            }
            return Ok(None);
        };
        let spec = super::simulation::build(
            self.cx.source,
            sim,
            &raw.expect_stat,
            self.book,
            strategies,
            window.anchor,
            window.end,
        )?;
        Ok(Some(spec))
    }

    /// `scenario.name`, else the file's name without its extension.
    fn scenario_name(&self, raw: &RawScenario) -> String {
        raw.scenario.name.clone().unwrap_or_else(|| {
            self.cx
                .source
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }

    fn portfolio(
        &self,
        raw: RawScenario,
        overrides: &TraceOverrides,
        accounts: Option<&[super::accounts::Account]>,
    ) -> Result<Portfolio, InputError> {
        let scenario = self.build(&raw, None)?;
        let Some(spec) = super::trace_spec::resolve(self.cx.source, &raw, overrides)? else {
            return Err(InputError::whole_file(
                &self.cx.source.path,
                "a portfolio needs a trace: --trace FILE or [usage.trace] in the scenario",
            ));
        };
        // Per listed workspace: its setup and strategies, in the accounts table's order.
        let mut setups: Vec<(Workspace, Vec<Strategy>)> = Vec::new();
        let workspaces = match accounts {
            None => Workspaces::open(scenario.window),
            Some(list) => {
                let mut listed = Vec::new();
                for a in list {
                    let (workspace, window) = self.account_workspace(&scenario, a)?;
                    let strategies = self
                        .strategies(&raw, &workspace, &window)
                        .map_err(|e| a.error(format!("its strategies: {e}")))?;
                    let subject = Subject {
                        workspace,
                        strategies: &strategies,
                        ..Subject::of(&scenario.case)
                    };
                    worst_case::check(subject, None).map_err(|b| a.error(b.message))?;
                    setups.push((workspace, strategies));
                    listed.push((a.id.clone(), window));
                }
                Workspaces::listed(listed)
            }
        };
        let imported = crate::usage::trace::import(self.book, &spec, workspaces)?;
        let mut members = Vec::with_capacity(imported.ids.len());
        for (k, (id, usage)) in imported.ids.into_iter().zip(imported.usage).enumerate() {
            let (workspace, strategies) = setups
                .get(k)
                .cloned()
                .unwrap_or_else(|| (scenario.case.workspace, scenario.case.strategies.clone()));
            let member = Member {
                id,
                workspace,
                strategies,
                usage,
            };
            self.member_worst_case(&scenario, &member, &imported.report.path)?;
            members.push(member);
        }
        Ok(Portfolio {
            scenario,
            members,
            import: imported.report,
        })
    }

    /// A member's worst case with its usage, blamed on the trace that holds the usage.
    fn member_worst_case(
        &self,
        scenario: &Scenario,
        member: &Member,
        trace: &Path,
    ) -> Result<(), InputError> {
        let subject = Subject {
            workspace: member.workspace,
            strategies: &member.strategies,
            ..Subject::of(&scenario.case)
        };
        // The import refused a workspace totalling more than the credits limit.
        let total = Credits::from_micros(
            i64::try_from(member.usage.total_micros()).unwrap_or(CREDITS_MAX.micros()),
        );
        worst_case::check(subject, Some(total)).map_err(|b| {
            InputError::whole_file(trace, format!("workspace \"{}\": {}", member.id, b.message))
        })
    }

    /// An account's workspace: the cohort of its creation date, its plan and seats (else the
    /// scenario's), its subscription from its creation or the horizon's start, whichever is
    /// later.
    fn account_workspace(
        &self,
        scenario: &Scenario,
        a: &super::accounts::Account,
    ) -> Result<(Workspace, UsageWindow), InputError> {
        let book = self.book;
        let cohort = book.cohort_for(a.created).ok_or_else(|| {
            let ids: Vec<&str> = book.cohorts.iter().map(|c| c.id.as_str()).collect();
            a.error_at(
                "created",
                format!(
                    "no cohort of the pricing book admits a workspace created {} (cohorts: {})",
                    a.created,
                    ids.join(", ")
                ),
            )
        })?;
        let plan = match &a.plan {
            Some(p) => book.plan(p).ok_or_else(|| {
                a.error_at(
                    "plan",
                    format!(
                        "unknown plan \"{p}\" (known: {})",
                        book.plan_ids().join(", ")
                    ),
                )
            })?,
            None => scenario.case.workspace.plan,
        };
        let anchor = midnight(a.created).max(scenario.case.horizon.start);
        if anchor >= scenario.case.horizon.end {
            return Err(a.error_at(
                "created",
                format!(
                    "created {}, at or after the horizon's end ({})",
                    a.created,
                    display(scenario.case.horizon.end)
                ),
            ));
        }
        let workspace = Workspace {
            cohort,
            seats: a.seats.unwrap_or(scenario.case.workspace.seats),
            plan,
            anchor,
        };
        let window = UsageWindow {
            created: a.created,
            anchor,
            end: scenario.case.horizon.end,
        };
        Ok((workspace, window))
    }

    /// The scenario's strategies for one workspace (bundles and plans are the workspace
    /// cohort's; schedules must fall inside its window).
    fn strategies(
        &self,
        raw: &RawScenario,
        workspace: &Workspace,
        window: &UsageWindow,
    ) -> Result<Vec<Strategy>, InputError> {
        if raw.strategy.len() > STRATEGIES_MAX {
            return Err(InputError::whole_file(
                &self.cx.source.path,
                format!(
                    "{} strategies, above the limit of {STRATEGIES_MAX}",
                    raw.strategy.len()
                ),
            ));
        }
        let mut strategies: Vec<Strategy> = Vec::new();
        for rs in &raw.strategy {
            let s = self.strategy(rs, workspace, window)?;
            if strategies.iter().any(|o| o.name == s.name) {
                return self.cx.err(
                    rs.name.span(),
                    format!("duplicate strategy name \"{}\"", s.name),
                );
            }
            strategies.push(s);
        }
        if strategies.is_empty() {
            let flex = FlexSetting {
                enabled: self.book.flex_enabled_default,
                cap: CapSetting::PlanDefault,
            };
            strategies.push(Strategy::pay_as_you_go("as-is", flex));
        }
        Ok(strategies)
    }

    fn plan(&self, id: &Spanned<String>) -> Result<crate::model::pricing::PlanId, InputError> {
        self.book.plan(id.get_ref()).ok_or_else(|| {
            self.cx.source.error(
                id.span(),
                format!(
                    "unknown plan \"{}\" (known: {})",
                    id.get_ref(),
                    self.book.plan_ids().join(", ")
                ),
            )
        })
    }

    fn purchase(
        &self,
        p: &Spanned<RawPurchase>,
        workspace: &Workspace,
    ) -> Result<Purchase, InputError> {
        let cohort = &self.book.cohorts[workspace.cohort.0];
        let raw = p.get_ref();
        match (&raw.bundle, &raw.amount) {
            (Some(b), None) => cohort
                .bundle(b.get_ref())
                .map(Purchase::Bundle)
                .ok_or_else(|| {
                    let ids: Vec<&str> = cohort.bundles.iter().map(|b| b.id.as_str()).collect();
                    self.cx.source.error(
                        b.span(),
                        format!(
                            "unknown bundle \"{}\" in cohort \"{}\" (known: {})",
                            b.get_ref(),
                            cohort.id,
                            if ids.is_empty() {
                                "none".to_string()
                            } else {
                                ids.join(", ")
                            }
                        ),
                    )
                }),
            (None, Some(a)) => {
                let Some(open) = &cohort.open_amount else {
                    return self.cx.err(
                        a.span(),
                        format!("cohort \"{}\" sells no open amounts", cohort.id),
                    );
                };
                let money = self.cx.charged_money(a, "amount")?;
                let cur = &self.book.currency;
                let digits = self.book.minor_digits;
                if money < open.min {
                    return self.cx.err(
                        a.span(),
                        format!(
                            "purchase of {} {cur} is below the minimum of {} {cur}",
                            money.to_decimal_minor(digits),
                            open.min.to_decimal_minor(digits)
                        ),
                    );
                }
                if money > open.max {
                    return self.cx.err(
                        a.span(),
                        format!(
                            "purchase of {} {cur} is above the maximum of {} {cur}",
                            money.to_decimal_minor(digits),
                            open.max.to_decimal_minor(digits)
                        ),
                    );
                }
                Ok(Purchase::OpenAmount(money))
            }
            _ => self.cx.err(
                p.span(),
                "a purchase is { bundle = \"id\" } or { amount = \"money\" }",
            ),
        }
    }

    fn flex_setting(
        &self,
        base: FlexSetting,
        enabled: Option<bool>,
        cap: &Option<Spanned<super::raw::CapValue>>,
    ) -> Result<FlexSetting, InputError> {
        let mut flex = base;
        if let Some(e) = enabled {
            flex.enabled = e;
        }
        if let Some(c) = cap {
            flex.cap = match self.cx.cap(c)? {
                None => CapSetting::Uncapped,
                Some(m) => CapSetting::Amount(m),
            };
        }
        Ok(flex)
    }

    fn strategy(
        &self,
        rs: &RawStrategy,
        workspace: &Workspace,
        window: &UsageWindow,
    ) -> Result<Strategy, InputError> {
        let name = rs.name.get_ref().trim().to_string();
        if name.is_empty() {
            return self.cx.err(rs.name.span(), "strategy name is empty");
        }
        let default = FlexSetting {
            enabled: self.book.flex_enabled_default,
            cap: CapSetting::PlanDefault,
        };
        let flex = self.flex_setting(default, rs.flex, &rs.flex_cap)?;
        let buy_at_start = rs
            .buy_at_start
            .iter()
            .map(|p| self.purchase(p, workspace))
            .collect::<Result<Vec<_>, _>>()?;
        let scheduled = self.schedule(&rs.schedule, flex, workspace, window)?;
        let top_up = rs
            .top_up
            .as_ref()
            .map(|t| self.top_up(t.get_ref(), workspace))
            .transpose()?;
        let upgrade = rs
            .upgrade
            .as_ref()
            .map(|u| self.upgrade(u.get_ref()))
            .transpose()?;
        let start_plan = match &rs.start_plan {
            Some(p) => Some(self.plan(p)?),
            None => None,
        };
        Ok(Strategy {
            name,
            start_plan,
            flex,
            scheduled,
            buy_at_start,
            top_up,
            buy_on_alert: rs.buy_on_alert,
            upgrade,
        })
    }

    /// A strategy's schedule, in time order.
    fn schedule(
        &self,
        entries: &[Spanned<RawScheduled>],
        flex_at_start: FlexSetting,
        workspace: &Workspace,
        window: &UsageWindow,
    ) -> Result<Vec<Scheduled>, InputError> {
        let mut scheduled = Vec::new();
        for entry in entries {
            let at = self.schedule_time(&entry.get_ref().at, window)?;
            let action = self.scheduled_action(entry, flex_at_start, workspace)?;
            scheduled.push(Scheduled { at, action });
        }
        scheduled.sort_by_key(|s| s.at);
        Ok(scheduled)
    }

    fn schedule_time(
        &self,
        at: &Spanned<TomlInstant>,
        window: &UsageWindow,
    ) -> Result<Instant, InputError> {
        let t = at.get_ref().0;
        if t < window.anchor || t >= window.end {
            return self.cx.err(
                at.span(),
                format!(
                    "{} is outside the subscription's span [{}, {})",
                    display(t),
                    display(window.anchor),
                    display(window.end)
                ),
            );
        }
        Ok(t)
    }

    fn scheduled_action(
        &self,
        entry: &Spanned<RawScheduled>,
        flex_at_start: FlexSetting,
        workspace: &Workspace,
    ) -> Result<Action, InputError> {
        let e = entry.get_ref();
        let flex_change = e.flex.is_some() || e.flex_cap.is_some();
        let kinds = usize::from(e.buy.is_some())
            + usize::from(e.change_plan.is_some())
            + usize::from(flex_change);
        if kinds != 1 {
            return self.cx.err(
                entry.span(),
                "a schedule entry does one thing: buy, change_plan, or flex/flex_cap",
            );
        }
        Ok(if let Some(b) = &e.buy {
            Action::buy_one(self.purchase(b, workspace)?)
        } else if let Some(p) = &e.change_plan {
            Action::ChangePlan(self.plan(p)?)
        } else {
            // A flex change keeps what it does not mention from the strategy's setting
            // as it stood at the start.
            Action::SetFlex(self.flex_setting(flex_at_start, e.flex, &e.flex_cap)?)
        })
    }

    fn top_up(&self, t: &RawTopUp, workspace: &Workspace) -> Result<TopUp, InputError> {
        let below = Credits::from_decimal(t.below.get_ref().0)
            .map_err(|e| self.cx.source.error(t.below.span(), format!("below: {e}")))?;
        if below.is_zero() {
            return self
                .cx
                .err(t.below.span(), "top_up.below must be more than zero");
        }
        Ok(TopUp {
            below_credits: below,
            purchase: self.purchase(&t.buy, workspace)?,
        })
    }

    fn upgrade(&self, u: &RawUpgrade) -> Result<Upgrade, InputError> {
        Ok(Upgrade {
            to: self.plan(&u.to)?,
            flex_spend_over: self.cx.money(
                &u.when_cycle_flex_spend_exceeds,
                "when_cycle_flex_spend_exceeds",
            )?,
        })
    }

    fn resolve_expectation(
        &self,
        e: Expectation,
        strategies: &[Strategy],
    ) -> Result<ResolvedExpectation, InputError> {
        let strategy = match &e.strategy {
            Some((name, span)) => strategy_index(self.cx.source, strategies, name, span.clone())?,
            None if strategies.len() == 1 => 0,
            None => {
                return Err(InputError::at_line(
                    &self.cx.source.path,
                    e.line,
                    1,
                    format!(
                        "this [[expect]] must name its strategy (known: {})",
                        known_strategies(strategies)
                    ),
                ))
            }
        };
        Ok(ResolvedExpectation { strategy, inner: e })
    }
}

fn merge_by_time(a: Vec<CreditUsage>, b: Vec<CreditUsage>) -> Vec<CreditUsage> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(x), Some(y)) => x.at <= y.at,
        };
        out.extend(if take_a { a.next() } else { b.next() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Loads a scenario with its inline events read apart (`apart`) or through `toml`.
    fn load_events(path: &Path, apart: bool) -> Result<Scenario, InputError> {
        let overrides = TraceOverrides::default();
        with_loader(path, apart, |loader, raw| {
            loader.build(&raw, Some(&overrides))
        })
    }

    /// What two loads must agree on: everything built from the file, errors as shown.
    fn outcome(loaded: Result<Scenario, InputError>) -> Result<String, String> {
        loaded
            .map(|s| {
                // Expectations without the strategy name's byte span: the text the TOML
                // parsers see is shorter when events are read apart (its lines and columns
                // are the same).
                let expectations: Vec<_> = (s.expectations.iter())
                    .map(|e| {
                        let name = e.inner.strategy.as_ref().map(|(n, _)| n);
                        let i = &e.inner;
                        (e.strategy, name, i.block, i.line, i.statement, &i.fields)
                    })
                    .collect();
                format!(
                    "{:?}\n{:?}\n{expectations:?}\n{:?}",
                    s.usage, s.case, s.inputs
                )
            })
            .map_err(|e| e.render())
    }

    #[test]
    fn events_read_apart_load_as_through_toml_on_the_regression_scenarios() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/regression");
        let mut compared = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let read = read_scenario(&path, true).unwrap();
            if read.events.is_none() {
                assert!(!read.raw.usage.has_events(), "{}", path.display());
                continue;
            }
            compared += 1;
            let apart = outcome(load_events(&path, true));
            assert!(apart.is_ok(), "{}: {apart:?}", path.display());
            assert_eq!(
                apart,
                outcome(load_events(&path, false)),
                "{}",
                path.display()
            );
        }
        assert!(
            compared >= 10,
            "only {compared} scenarios read their events apart"
        );
    }

    const HEAD: &str = r#"[scenario]
name = "events"

[pricing.book]
name = "b"
currency = "USD"

[[pricing.plans]]
id = "p"
cycle = "monthly"
fee = "10.00"
included_credits = 10

[[pricing.cohorts]]
id = "all"
prepaid_base_price = "2.00"
flex_price = "3.00"

[[pricing.rates]]
metric = "credits"
credits = 1

[[pricing.rates]]
metric = "gpu"
credits = 3
per = 7

[workspace]
created = 2026-04-01
plan = "p"

[horizon]
start = 2026-04-01
months = 3

[usage] # inline events
"#;

    /// One event as written: when (seconds after the horizon's start, and nanoseconds), how
    /// `at` is written, metric, quantity and how it is written, key order, spacing.
    type Written = (u32, u32, u8, u8, (i64, u32), u8, u8, u8);

    fn event_text(w: &Written) -> String {
        let &(secs, nanos, at_form, metric, (units, scale), q_form, order, space) = w;
        // Fractions of a second only where they are written.
        let nanos = if matches!(at_form % 7, 3 | 4) {
            nanos % 1_000_000_000
        } else {
            0
        };
        let t = midnight(chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap())
            + chrono::Duration::seconds(i64::from(secs))
            + chrono::Duration::nanoseconds(i64::from(nanos));
        let at = match at_form % 7 {
            0 => t.format("%Y-%m-%d").to_string(),
            1 => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            2 => t.format("%Y-%m-%dt%H:%M:%Sz").to_string(),
            3 => (t + chrono::Duration::hours(2))
                .format("%Y-%m-%dT%H:%M:%S%.f+02:00")
                .to_string(),
            4 => t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string(),
            5 => format!("\"{}\"", t.format("%Y-%m-%d %H:%M:%S")),
            _ => format!("'{}'", t.format("%Y-%m-%dT%H:%M:%SZ")),
        };
        let metric =
            ["\"credits\"", "'credits'", "\"gpu\"", "'gpu'", "\"nope\""][usize::from(metric % 5)];
        let q = Decimal::new(units, scale % 4);
        let quantity = match q_form % 5 {
            0 => format!("{}", q.trunc()),
            1 => format!("{q}"),
            2 => format!("\"{q}\""),
            3 => format!("'{q}'"),
            _ if q.is_sign_negative() => format!("{q}"),
            _ => format!("+{q}"),
        };
        let sp = [" ", "", "\t", "  "][usize::from(space % 4)];
        let mut pairs = [
            ("at", at),
            ("metric", metric.to_string()),
            ("quantity", quantity),
        ];
        pairs.rotate_left(usize::from(order % 3));
        if order % 2 == 1 {
            pairs.swap(0, 1);
        }
        let inner: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}{sp}={sp}{v}"))
            .collect();
        format!("{{{sp}{}{sp}}}", inner.join(&format!(",{sp}")))
    }

    fn scenario_text(events: &[Written], separators: &[u8], trailing: bool) -> String {
        let mut text = format!("{HEAD}events = [");
        for (k, e) in events.iter().enumerate() {
            if k > 0 {
                text.push(',');
            }
            text.push_str(
                [
                    " ",
                    "\n  ",
                    "\n  # a comment, [not] an event\n\n  ",
                    "\r\n\t",
                    "",
                ][usize::from(separators.get(k).copied().unwrap_or(0) % 5)],
            );
            text.push_str(&event_text(e));
        }
        if trailing {
            text.push(',');
        }
        text.push_str("\n]  # end of events\n\n[[strategy]]\nname = \"flex only\"\n");
        text
    }

    fn written() -> impl proptest::strategy::Strategy<Value = Written> {
        (
            0u32..7_000_000,
            any::<u32>(),
            any::<u8>(),
            prop_oneof![9 => 0u8..4, 1 => Just(4u8)],
            (prop_oneof![9 => 0i64..2_000_000, 1 => -500i64..0], 0u32..4),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Event arrays in the forms read apart (comments, blank lines, key orders, string
        /// and number forms, CRLF): the same usage as through `toml`, or the same error
        /// (out of time order, an unknown metric, a negative quantity).
        #[test]
        fn events_read_apart_load_as_through_toml(
            mut events in prop::collection::vec(written(), 0..40),
            sorted in prop_oneof![4 => Just(true), 1 => Just(false)],
            separators in prop::collection::vec(any::<u8>(), 40),
            trailing in any::<bool>(),
        ) {
            if sorted {
                events.sort_by_key(|e| e.0);
            }
            let text = scenario_text(&events, &separators, trailing && !events.is_empty());
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), &text).unwrap();
            let read = read_scenario(file.path(), true).unwrap();
            prop_assert!(read.events.is_some(), "not read apart:\n{}", text);
            let apart = outcome(load_events(file.path(), true));
            prop_assert_eq!(apart, outcome(load_events(file.path(), false)), "{}", text);
        }
    }
}

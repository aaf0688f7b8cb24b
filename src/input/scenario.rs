//! Scenario files: TOML in, validated domain types out.
//!
//! Everything that can be wrong with an input is found here, with its file and line and
//! column (TOML) or row and column (CSV). What leaves this module is consistent: the ledger
//! and the strategies can assume every id resolves and every amount is within limits.

use super::expect::Expectation;
use super::names::{known_strategies, strategy_index};
use super::raw::{
    RawBook, RawEvent, RawHorizon, RawPurchase, RawScenario, RawScheduled, RawStrategy, RawTopUp,
    RawUpgrade, RawWorkspace,
};
use super::simulation::SimulationSpec;
pub use super::trace_spec::TraceOverrides;
use super::usage_csv::credits_for;
pub use super::usage_csv::UsageEvent;
use super::values::{TomlDate, TomlInstant};
use crate::analysis::portfolio::Member;
use crate::analysis::worst_case::{self, Breach, Culprit, Subject};
use crate::analysis::Case;
use crate::engine::ledger::{CapSetting, FlexSetting, Purchase, Workspace};
use crate::engine::replay::CreditUsage;
use crate::engine::strategy::{Action, Scheduled, Strategy, TopUp, Upgrade};
use crate::input::files::sha256_hex;
use crate::model::amounts::{Credits, CREDITS_MAX, SCALE_DIGITS};
use crate::model::calendar::{add_months, display, midnight, Instant, Period};
use crate::model::diag::{InputError, Source};
use crate::model::pricing::{CohortId, MetricId, PricingBook};
use crate::model::text::grouped;
use crate::usage::packed::PackedUsage;
use crate::usage::trace::{ImportReport, Workspaces};
use crate::usage::window::UsageWindow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// Longest horizon accepted: 20 years of monthly statements.
pub const HORIZON_MONTHS_MAX: u32 = 240;
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
    /// Credits demanded, in time order: inline events, the usage CSV, or an imported trace.
    pub usage: Vec<CreditUsage>,
    /// What the trace import read and skipped, when usage came from a trace.
    pub import: Option<crate::usage::trace::ImportReport>,
    pub expectations: Vec<ResolvedExpectation>,
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

impl Scenario {
    /// No `[[expect]]` and no `[[expect_stat]]`: `check` has nothing to compare.
    pub fn pins_nothing(&self) -> bool {
        self.expectations.is_empty()
            && self
                .simulation
                .as_ref()
                .is_none_or(|m| m.expectations.is_empty())
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, InputError> {
    toml::from_str(&source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        source.error(span, e.message().trim().to_string())
    })
}

/// Loads and validates a pricing book file.
pub fn load_book(path: &Path) -> Result<PricingBook, InputError> {
    book_from(&Source::read(path)?)
}

fn book_from(source: &Source) -> Result<PricingBook, InputError> {
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
    fn of(role: &str, source: &Source) -> InputFile {
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
    with_loader(path, |loader, raw| loader.build(&raw, Some(overrides)))
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
    scenario.usage = member.usage.expand();
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
    let accounts = match accounts {
        Some(a) => Some(super::accounts::read(a)?),
        None => None,
    };
    with_loader(path, |loader, raw| {
        loader.portfolio(raw, overrides, accounts.as_deref())
    })
}

fn with_loader<T>(
    path: &Path,
    f: impl FnOnce(&Loader<'_>, RawScenario) -> Result<T, InputError>,
) -> Result<T, InputError> {
    let source = Source::read(path)?;
    let raw: RawScenario = parse_toml(&source)?;
    let mut inputs = vec![InputFile::of("scenario", &source)];
    let book =
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
                book_from(&book_source)?
            }
            (None, Some(inline)) => super::book::build_book(inline, &source)?,
            (Some(p), Some(_)) => {
                return Err(source.error(
                    p.span(),
                    "give either scenario.pricing_book or a [pricing] table, not both",
                ))
            }
            (None, None) => return Err(InputError::whole_file(
                path,
                "no pricing book: set scenario.pricing_book = \"path\" or add a [pricing] table",
            )),
        };
    let loader = Loader {
        cx: super::book::BookContext {
            source: &source,
            minor_digits: book.minor_digits,
            rounding: book.rounding,
        },
        book: &Arc::new(book),
        inputs,
    };
    f(&loader, raw)
}

struct Loader<'a> {
    /// Located conversions of amounts, shared with the pricing-book loader.
    cx: super::book::BookContext<'a>,
    book: &'a Arc<PricingBook>,
    /// The scenario file and its pricing book file, as read.
    inputs: Vec<InputFile>,
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
        let usage_total = usage.iter().map(|u| u.credits).sum();
        worst_case::check(Subject::of(&case), Some(usage_total))
            .map_err(|b| self.breach(raw, b))?;
        Ok(Scenario {
            path: self.cx.source.path.clone(),
            name: self.scenario_name(raw),
            description: raw.scenario.description.clone(),
            case,
            window,
            usage,
            import,
            expectations,
            inputs: self.inputs.clone(),
            simulation,
        })
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
                .or(usage.events.first().map(|e| e.span())),
            Culprit::Strategy(i) => raw.strategy.get(i).map(|s| s.name.span()),
        };
        match span {
            Some(span) => self.cx.source.error(span, breach.message),
            None => InputError::whole_file(&self.cx.source.path, breach.message),
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

    fn seats(&self, seats: Option<&Spanned<u32>>) -> Result<u32, InputError> {
        match seats {
            Some(s) if *s.get_ref() == 0 || *s.get_ref() > 1_000_000 => {
                self.cx.err(s.span(), "seats must be 1-1000000")
            }
            Some(s) => Ok(*s.get_ref()),
            None => Ok(1),
        }
    }

    fn horizon(&self, horizon: &Spanned<RawHorizon>) -> Result<Period, InputError> {
        let h = horizon.get_ref();
        let start = h.start.get_ref().0;
        let end = match (&h.end, &h.months) {
            (Some(e), None) => e.get_ref().0,
            (None, Some(m)) => {
                if *m.get_ref() == 0 || *m.get_ref() > HORIZON_MONTHS_MAX {
                    return self.cx.err(
                        m.span(),
                        format!("horizon months must be 1-{HORIZON_MONTHS_MAX}"),
                    );
                }
                add_months(start, *m.get_ref())
            }
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
    ) -> Result<(Vec<CreditUsage>, Option<ImportReport>), InputError> {
        let own = self.own_usage(raw, &window)?;
        let (usage, import) = match self.imported_usage(raw, overrides, window)? {
            Some((usage, report)) => (usage, Some(report)),
            None => {
                let usage = own
                    .into_iter()
                    .map(|u| CreditUsage {
                        at: u.at,
                        credits: u.credits,
                    })
                    .collect();
                (usage, None)
            }
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
        let total: i128 = usage.iter().map(|u| i128::from(u.credits.micros())).sum();
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
    ) -> Result<Vec<UsageEvent>, InputError> {
        let inline = self.inline_usage(&raw.usage.events, window)?;
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
        let from_csv = super::usage_csv::read(&csv_path, self.book, window)?;
        // Inline events and the file are each in time order; merge them, inline first on ties.
        Ok(merge_by_time(inline, from_csv))
    }

    fn inline_usage(
        &self,
        events: &[Spanned<RawEvent>],
        window: &UsageWindow,
    ) -> Result<Vec<UsageEvent>, InputError> {
        let mut usage: Vec<UsageEvent> = Vec::new();
        for ev in events {
            let e = ev.get_ref();
            let at = e.at.get_ref().0;
            if let Some(message) = window.refuse(at) {
                return self.cx.err(e.at.span(), message);
            }
            if let Some(prev) = usage.last().map(|u| u.at) {
                if at < prev {
                    return self.cx.err(
                        e.at.span(),
                        format!(
                            "usage out of time order: {} comes after {}",
                            display(at),
                            display(prev)
                        ),
                    );
                }
            }
            let metric = self.metric(&e.metric)?;
            let quantity = e.quantity.get_ref().0;
            let credits = credits_for(self.book, metric, at, quantity)
                .map_err(|m| self.cx.source.error(e.quantity.span(), m))?;
            usage.push(UsageEvent {
                at,
                metric,
                quantity,
                credits,
            });
        }
        Ok(usage)
    }

    /// The usage of the trace the scenario or `overrides` names, and what its import read;
    /// `None` when there is no trace, or `overrides` is `None`.
    fn imported_usage(
        &self,
        raw: &RawScenario,
        overrides: Option<&TraceOverrides>,
        window: UsageWindow,
    ) -> Result<Option<(Vec<CreditUsage>, ImportReport)>, InputError> {
        let Some(o) = overrides else {
            return Ok(None);
        };
        let Some(spec) = super::trace_spec::resolve(self.cx.source, raw, o)? else {
            return Ok(None);
        };
        let imported = crate::usage::trace::import(self.book, &spec, Workspaces::open(window))?;
        let k = super::trace_spec::pick_workspace(&spec.path, &imported, o)?;
        let usage = imported
            .usage
            .get(k)
            .map(PackedUsage::expand)
            .unwrap_or_default();
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
                format!("more than {STRATEGIES_MAX} strategies"),
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

    fn metric(&self, name: &Spanned<String>) -> Result<MetricId, InputError> {
        self.book.rates.metric(name.get_ref()).ok_or_else(|| {
            self.cx
                .source
                .error(name.span(), self.book.rates.unknown_metric(name.get_ref()))
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

fn merge_by_time(a: Vec<UsageEvent>, b: Vec<UsageEvent>) -> Vec<UsageEvent> {
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

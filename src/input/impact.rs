//! The inputs of `creditsim impact`: the portfolio under its current book, the candidate
//! books, and the migration tables that say where each plan, cohort and bundle of the
//! current book goes in a candidate (by default: the item of the same name). An item with no
//! counterpart is an error that lists every such item, never a silent default.

use super::scenario::{book_from, load_portfolio_on, parse_toml, InputFile};
use super::trace_spec::TraceOverrides;
use crate::analysis::impact::{CandidateBook, Customer, ImpactInput, Migration};
use crate::analysis::worst_case::{self, Subject};
use crate::model::diag::{InputError, Source};
use crate::model::pricing::{CohortId, PlanId, PricingBook};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

/// A migration table as written: `[plans]`, `[cohorts]` and `[bundles]`, each mapping a name
/// in the current book to a name in the candidate book. Bundles are renamed in every cohort.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMigration {
    #[serde(default)]
    plans: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    cohorts: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    bundles: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// What `impact` was asked to compare.
#[derive(Debug, Clone)]
pub struct ImpactFiles<'a> {
    pub scenario: &'a Path,
    pub overrides: &'a TraceOverrides,
    pub accounts: Option<&'a Path>,
    /// The current book (default: the scenario's).
    pub current_book: Option<&'a Path>,
    pub candidate_books: &'a [PathBuf],
    /// None, one for every candidate book, or one per candidate book in order.
    pub migrations: &'a [PathBuf],
    /// The strategy of the scenario that is each customer's current setup (default: the
    /// first).
    pub current_strategy: Option<&'a str>,
    pub search_max: usize,
}

/// A loaded impact run: the customers as they are today, what to compare, and the files read.
#[derive(Debug, Clone)]
pub struct LoadedImpact {
    /// The scenario's or the segments' name.
    pub title: String,
    pub input: ImpactInput,
    /// Every file read (scenario or segments and profiles, books, migration tables), for
    /// provenance; today's book has the role "pricing book".
    pub inputs: Vec<InputFile>,
    /// What the trace import read (a trace portfolio).
    pub import: Option<crate::usage::trace::ImportReport>,
    /// Each customer's current setup, in words.
    pub current_setup: String,
    /// Segments (name, customers it stands for), and each customer's segment; empty for a
    /// trace.
    pub segments: Vec<(String, u64)>,
    pub segment_of: Vec<usize>,
}

/// Today's side of an impact run, before the candidate books.
struct Today {
    loaded: LoadedImpact,
    horizon_end: crate::model::calendar::Instant,
}

pub fn load_impact(files: &ImpactFiles<'_>) -> Result<LoadedImpact, InputError> {
    if files.migrations.len() > 1 && files.migrations.len() != files.candidate_books.len() {
        return Err(InputError::whole_file(
            &files.migrations[1],
            format!(
                "{} migration tables for {} candidate books: give one for all, or one per book in the order of --after",
                files.migrations.len(),
                files.candidate_books.len()
            ),
        ));
    }
    let Today {
        mut loaded,
        horizon_end,
    } = match super::files::kind_of(files.scenario) {
        super::files::FileKind::Segments => from_segments(files)?,
        _ => from_trace(files)?,
    };
    let current_book = Arc::clone(&loaded.input.current_book);
    for (k, path) in files.candidate_books.iter().enumerate() {
        let migration_file = files.migrations.get(k).or(files.migrations.first());
        let (candidate, read) =
            candidate_book(&current_book, path, migration_file.map(PathBuf::as_path))?;
        loaded.inputs.extend(read);
        let carried = carry_over(horizon_end, &loaded.input.customers, candidate, path)?;
        loaded.input.candidates.push(carried);
    }
    Ok(loaded)
}

/// Today from a scenario's trace portfolio: each workspace on its current strategy.
fn from_trace(files: &ImpactFiles<'_>) -> Result<Today, InputError> {
    let portfolio = load_portfolio_on(
        files.scenario,
        files.overrides,
        files.accounts,
        files.current_book,
    )?;
    let strategies = &portfolio.scenario.case.strategies;
    let current = match files.current_strategy {
        None => 0,
        Some(name) => strategies
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = strategies.iter().map(|s| s.name.as_str()).collect();
                InputError::whole_file(
                    files.scenario,
                    format!(
                        "no strategy \"{name}\" (the scenario's: {})",
                        names.join(", ")
                    ),
                )
            })?,
    };
    let customers: Vec<Customer> = (portfolio.members.iter())
        .map(|m| Customer {
            id: m.id.clone(),
            weight: 1,
            workspace: m.workspace,
            current: m.strategies[current].clone(),
            usage: m.usage.clone(),
        })
        .collect();
    let s = &portfolio.scenario;
    Ok(Today {
        horizon_end: s.case.horizon.end,
        loaded: LoadedImpact {
            title: s.name.clone(),
            input: ImpactInput {
                horizon: s.case.horizon,
                current_book: Arc::clone(&s.case.book),
                customers,
                candidates: Vec::new(),
                search_max: files.search_max,
                weight_per: 1,
            },
            inputs: s.inputs.clone(),
            import: Some(portfolio.import.clone()),
            current_setup: format!(
                "the scenario's strategy \"{}\" on their own plan and seats",
                strategies[current].name
            ),
            segments: Vec::new(),
            segment_of: Vec::new(),
        },
    })
}

/// Today from customer segments: `paths` simulated customers per segment, each on its
/// profile's current setup (the plan asked about, paid as they go).
fn from_segments(files: &ImpactFiles<'_>) -> Result<Today, InputError> {
    let only_for_traces = [
        (files.accounts.is_some(), "--accounts"),
        (files.overrides.file.is_some(), "--trace"),
        (
            files.current_book.is_some(),
            "--before (the profiles name today's book)",
        ),
        (
            files.current_strategy.is_some(),
            "--current (each profile's setup is current)",
        ),
    ];
    if let Some((_, flag)) = only_for_traces.iter().find(|(given, _)| *given) {
        return Err(InputError::whole_file(
            files.scenario,
            format!("a segments file takes no {flag}"),
        ));
    }
    let segs = super::segments::load(files.scenario)?;
    let mut inputs = vec![InputFile::of("segments", &segs.source)];
    let (mut customers, mut segment_of) = (Vec::new(), Vec::new());
    for (i, seg) in segs.segments.iter().enumerate() {
        let read: Vec<InputFile> = (seg.profile.scenario.inputs.iter())
            .filter(|x| !inputs.contains(x))
            .cloned()
            .collect();
        inputs.extend(read);
        let simulated = simulated_customers(seg, segs.paths);
        segment_of.extend(std::iter::repeat_n(i, simulated.len()));
        customers.extend(simulated);
    }
    let first = &segs.segments[0].profile.scenario;
    let current_book = Arc::clone(&first.case.book);
    let horizon = first.case.horizon;
    check_today(&current_book, horizon.end, &customers, &segs.source.path)?;
    Ok(Today {
        horizon_end: horizon.end,
        loaded: LoadedImpact {
            title: segs.name.clone(),
            input: ImpactInput {
                horizon,
                current_book,
                customers,
                candidates: Vec::new(),
                search_max: files.search_max,
                weight_per: u64::from(segs.paths),
            },
            inputs,
            import: None,
            current_setup: "their profile's plan, paid as they go".to_string(),
            segments: (segs.segments.iter())
                .map(|s| (s.name.clone(), s.customers))
                .collect(),
            segment_of,
        },
    })
}

/// A segment's `paths` simulated customers: customer k's usage is path k of `simulate` on
/// the segment's profile (its seed), on the profile's current setup.
fn simulated_customers(seg: &super::segments::Segment, paths: u32) -> Vec<Customer> {
    let sc = &seg.profile.scenario;
    let spec = sc.simulation.as_ref().expect("segments::load checked it");
    let config = crate::analysis::montecarlo::SimConfig {
        paths,
        seed: spec.seed,
        threads: None,
    };
    let drawn = crate::analysis::montecarlo::draw_usage(&sc.case, &spec.model, config);
    (drawn.into_iter().enumerate())
        .map(|(k, events)| {
            let mut usage = crate::usage::packed::PackedUsage::new();
            events.into_iter().for_each(|e| usage.push(e));
            Customer {
                id: format!("{} #{}", seg.name, k + 1),
                weight: seg.customers,
                workspace: sc.case.workspace,
                current: sc.case.strategies[0].clone(),
                usage,
            }
        })
        .collect()
}

/// Every simulated customer's setup and usage within the limits of today's book.
fn check_today(
    book: &PricingBook,
    horizon_end: crate::model::calendar::Instant,
    customers: &[Customer],
    path: &Path,
) -> Result<(), InputError> {
    for c in customers {
        let subject = Subject {
            book,
            workspace: c.workspace,
            horizon_end,
            strategies: std::slice::from_ref(&c.current),
        };
        worst_case::check(subject, Some(c.usage_total())).map_err(|b| {
            InputError::whole_file(path, format!("customer \"{}\": {}", c.id, b.message))
        })?;
    }
    Ok(())
}

/// A candidate book and its migration from `current`, checked to price the same credits in
/// the same currency.
fn candidate_book(
    current: &PricingBook,
    path: &Path,
    migration: Option<&Path>,
) -> Result<((PricingBook, Migration), Vec<InputFile>), InputError> {
    let book_source = Source::read(path)?;
    let book = book_from(&book_source)?;
    let mut read = vec![InputFile::of("candidate pricing book", &book_source)];
    if book.currency != current.currency {
        return Err(InputError::whole_file(
            path,
            format!(
                "prices in {}, the current book in {}: impact compares books in one currency",
                book.currency, current.currency
            ),
        ));
    }
    if let Some(metric) = rates_differ(current, &book) {
        return Err(InputError::whole_file(
            path,
            format!(
                "metric \"{metric}\" converts to credits differently from the current book: impact \
                 replays the same credits under every book, so a candidate may change prices, \
                 plans and bundles but not the rate card"
            ),
        ));
    }
    let (raw, source) = match migration {
        Some(m) => {
            let source = Source::read(m)?;
            read.push(InputFile::of("migration table", &source));
            (parse_toml::<RawMigration>(&source)?, Some(source))
        }
        None => (RawMigration::default(), None),
    };
    let migration = resolve(current, &book, path, &raw, source.as_ref())?;
    Ok(((book, migration), read))
}

/// The first metric whose rates differ between the books (or that one lacks).
fn rates_differ(a: &PricingBook, b: &PricingBook) -> Option<String> {
    let names = (a.rates.metrics.iter().chain(&b.rates.metrics)).map(|m| &m.name);
    for name in names {
        let find =
            |book: &PricingBook| book.rates.metrics.iter().find(|m| &m.name == name).cloned();
        if find(a) != find(b) {
            return Some(name.clone());
        }
    }
    None
}

/// `raw`'s renamings applied to every item of `current`, each found in `book`.
fn resolve(
    current: &PricingBook,
    book: &PricingBook,
    book_path: &Path,
    raw: &RawMigration,
    source: Option<&Source>,
) -> Result<Migration, InputError> {
    if let Some(source) = source {
        check_names(current, book, book_path, raw, source)?;
    }
    let renamed = |table: &BTreeMap<Spanned<String>, Spanned<String>>, id: &str| {
        let to = table.iter().find(|(from, _)| from.get_ref() == id);
        to.map_or(id.to_string(), |(_, to)| to.get_ref().clone())
    };
    let mut unmapped = Vec::new();
    let mut plans = Vec::new();
    for p in &current.plans {
        let to = book.plan(&renamed(&raw.plans, &p.id));
        if to.is_none() {
            unmapped.push(format!("plan \"{}\"", p.id));
        }
        plans.push(to.unwrap_or(PlanId(0)));
    }
    let (mut cohorts, mut bundles) = (Vec::new(), Vec::new());
    for c in &current.cohorts {
        let to_name = renamed(&raw.cohorts, &c.id);
        let Some(to) = book.cohorts.iter().position(|x| x.id == to_name) else {
            unmapped.push(format!("cohort \"{}\"", c.id));
            cohorts.push(CohortId(0));
            bundles.push(Vec::new());
            continue;
        };
        let target = &book.cohorts[to];
        let mut map = Vec::new();
        for b in &c.bundles {
            let found = target.bundle(&renamed(&raw.bundles, &b.id));
            if found.is_none() {
                unmapped.push(format!("bundle \"{}\" of cohort \"{}\"", b.id, c.id));
            }
            map.push(found.unwrap_or(0));
        }
        if c.open_amount.is_some() && target.open_amount.is_none() {
            unmapped.push(format!("the open amounts of cohort \"{}\"", c.id));
        }
        cohorts.push(CohortId(to));
        bundles.push(map);
    }
    if !unmapped.is_empty() {
        let at = source.map_or(book_path, |s| s.path.as_path());
        return Err(InputError::whole_file(
            at,
            format!(
                "{} of the current book ha{} no counterpart in {}: {}. Name where each goes in a \
                 migration table (--migration FILE with [plans], [cohorts] or [bundles], \"old\" = \"new\")",
                if unmapped.len() == 1 { "one item".to_string() } else { format!("{} items", unmapped.len()) },
                if unmapped.len() == 1 { "s" } else { "ve" },
                book_path.display(),
                unmapped.join(", ")
            ),
        ));
    }
    Ok(Migration {
        plans,
        cohorts,
        bundles,
    })
}

/// Every name in a migration table is an item of the book it is read against: its keys of
/// the current book, its values of the candidate.
fn check_names(
    current: &PricingBook,
    book: &PricingBook,
    book_path: &Path,
    raw: &RawMigration,
    source: &Source,
) -> Result<(), InputError> {
    let plan_ids = |b: &PricingBook| b.plans.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    let cohort_ids = |b: &PricingBook| b.cohorts.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let bundle_ids = |b: &PricingBook| {
        let mut ids: Vec<String> = (b.cohorts.iter())
            .flat_map(|c| c.bundles.iter().map(|x| x.id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let candidate = book_path.display().to_string();
    for (kind, table, from, to) in [
        ("plan", &raw.plans, plan_ids(current), plan_ids(book)),
        (
            "cohort",
            &raw.cohorts,
            cohort_ids(current),
            cohort_ids(book),
        ),
        (
            "bundle",
            &raw.bundles,
            bundle_ids(current),
            bundle_ids(book),
        ),
    ] {
        for (old, new) in table {
            for (name, known, whose) in [
                (old, &from, "the current book"),
                (new, &to, candidate.as_str()),
            ] {
                if !known.contains(name.get_ref()) {
                    return Err(source.error(
                        name.span(),
                        format!(
                            "no {kind} \"{}\" in {whose} (its {kind}s: {})",
                            name.get_ref(),
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Each customer's current setup carried over to a candidate book, checked against the
/// limits there as a scenario's is when loaded.
fn carry_over(
    horizon_end: crate::model::calendar::Instant,
    customers: &[Customer],
    (book, migration): (PricingBook, Migration),
    path: &Path,
) -> Result<CandidateBook, InputError> {
    let book = Arc::new(book);
    let mut setups = Vec::with_capacity(customers.len());
    for c in customers {
        let workspace = migration.workspace(c.workspace);
        let strategy = migration.strategy(&c.current, c.workspace.cohort);
        let subject = Subject {
            book: &book,
            workspace,
            horizon_end,
            strategies: std::slice::from_ref(&strategy),
        };
        worst_case::check(subject, Some(c.usage_total())).map_err(|b| {
            InputError::whole_file(path, format!("customer \"{}\": {}", c.id, b.message))
        })?;
        setups.push((workspace, strategy));
    }
    Ok(CandidateBook {
        name: book.name.clone(),
        book,
        setups,
    })
}

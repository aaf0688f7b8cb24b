//! Runs scenarios and compares their `[[expect]]` blocks with what the ledger computes.
//!
//! Values come from the metrics registry ([`crate::analysis::metrics`]): `check` compares
//! with the same extractor the reports print with, so a field means the same thing
//! everywhere.

use crate::analysis::advise::{advise, Advice, Constraints, RaceConfig};
use crate::analysis::breakeven::{breakeven, default_sweep, level_text, Breakeven, Unit};
use crate::analysis::montecarlo::{simulate, summarise, Measure, SimConfig, Summary};
use crate::engine::ledger::Outcome;
use crate::engine::replay::{replay_stream, ReplayError};
use crate::input::expect::{Expected, Field, FieldKind, Written};
use crate::input::expect_advice::AdviceExpectation;
use crate::input::scenario::{Scenario, ADVICE_FINALISTS};
use crate::input::simulation::{SimulationSpec, Statistic, Tolerance};
use crate::model::amounts::Money;
use crate::model::calendar::display;
use crate::model::pricing::PricingBook;
use rust_decimal::Decimal;
use std::path::PathBuf;

use crate::analysis::metrics::{actual, Actual};

/// Whether a computed value is the expected one, exactly.
fn matches(actual: &Actual, expected: &Expected) -> bool {
    match (actual, expected) {
        (Actual::Money(m), Expected::Decimal(d)) => m.to_decimal() == *d,
        (Actual::Credits(c), Expected::Decimal(d)) => c.to_decimal() == *d,
        (Actual::Ratio(Some(r)), Expected::Decimal(d)) => r == d,
        (Actual::Count(n), Expected::Count(e)) => n == e,
        (Actual::Text(t), Expected::Text(e)) => t == e,
        (Actual::Instant(t), Expected::Instant(e)) => t == e,
        _ => false,
    }
}

/// Replays every strategy of a scenario on its usage.
pub fn run(scenario: &Scenario) -> Result<Vec<Outcome>, ReplayError> {
    scenario
        .case
        .strategies
        .iter()
        .map(|s| {
            replay_stream(
                &scenario.case.book,
                scenario.case.workspace,
                scenario.case.horizon.end,
                scenario.usage.iter(),
                s,
            )
        })
        .collect()
}

/// One expected value that did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub line: usize,
    pub strategy: String,
    pub statement: Option<u32>,
    pub field: String,
    pub expected: String,
    pub got: String,
    /// What `--update` writes; `None` when the value cannot be written (the statement does
    /// not exist) or must not be: an `[[expect_stat]]` value pins a statistic with its
    /// tolerance, and replacing it with one sample of that statistic would hide a change.
    pub update: Option<Update>,
}

/// An `[[expect]]` value `--update` writes back: block, field, how it was written, the
/// computed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update(usize, Field, Written, Actual);

/// The tag `check --update` puts in the comment beside each value it changed: that comment
/// usually holds the value's hand calculation, now stale. `check` fails while one is left.
pub const STALE_TAG: &str = "STALE HAND CALCULATION";

/// The result of one `[[expect]]` block.
#[derive(Debug, Clone)]
pub struct BlockResult {
    pub line: usize,
    pub strategy: String,
    pub statement: Option<u32>,
    /// The fields compared, in the block's order (each one test in JUnit).
    pub fields: Vec<String>,
    pub mismatches: Vec<Mismatch>,
}

#[derive(Debug, Clone)]
pub struct ScenarioCheck {
    pub path: PathBuf,
    pub name: String,
    pub blocks: Vec<BlockResult>,
}

impl ScenarioCheck {
    pub fn passed(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| b.fields.len() - b.mismatches.len())
            .sum()
    }

    pub fn failed(&self) -> usize {
        self.blocks.iter().map(|b| b.mismatches.len()).sum()
    }
}

fn written_text(expected: &Expected) -> String {
    match expected {
        Expected::Decimal(d) => d.to_string(),
        Expected::Count(n) => n.to_string(),
        Expected::Text(t) => t.clone(),
        Expected::Instant(Some(t)) => display(*t),
        Expected::Instant(None) => "none".to_string(),
    }
}

/// Evaluates every expectation of `scenario`; the error says why a replay or a simulated
/// path stopped at a limit.
pub fn check_scenario(scenario: &Scenario) -> Result<ScenarioCheck, String> {
    let outcomes = run(scenario).map_err(|e| e.to_string())?;
    let book = &scenario.case.book;
    let mut blocks = Vec::new();
    for resolved in &scenario.expectations {
        let e = &resolved.inner;
        let outcome = &outcomes[resolved.strategy];
        let strategy = scenario.case.strategies[resolved.strategy].name.clone();
        let statement = e.statement.map(|n| outcome.statements.get(n as usize - 1));
        let mut mismatches = Vec::new();
        for f in &e.fields {
            let line = f.line;
            let (got, update) = match statement {
                Some(None) => (
                    format!(
                        "no statement {} (the run has {})",
                        e.statement.unwrap_or(0),
                        outcome.statements.len()
                    ),
                    None,
                ),
                // The totals (None) or an existing statement.
                found => {
                    let a = actual(f.field, book, outcome, found.flatten());
                    if matches(&a, &f.expected) {
                        continue;
                    }
                    (a.render(book), Some(Update(e.block, f.field, f.written, a)))
                }
            };
            mismatches.push(Mismatch {
                line,
                strategy: strategy.clone(),
                statement: e.statement,
                field: f.field.name().to_string(),
                expected: written_text(&f.expected),
                got,
                update,
            });
        }
        blocks.push(BlockResult {
            line: e.line,
            strategy,
            statement: e.statement,
            fields: e
                .fields
                .iter()
                .map(|f| f.field.name().to_string())
                .collect(),
            mismatches,
        });
    }
    if let Some(spec) = scenario
        .simulation
        .as_ref()
        .filter(|s| !s.expectations.is_empty())
    {
        blocks.extend(check_statistics(scenario, spec)?);
    }
    blocks.extend(check_breakeven(scenario)?);
    blocks.extend(check_advice(scenario)?);
    Ok(ScenarioCheck {
        path: scenario.path.clone(),
        name: scenario.name.clone(),
        blocks,
    })
}

/// A statistic's value and, where it has one, its standard error.
pub fn statistic(
    summary: &Summary,
    strategy: usize,
    statistic: Statistic,
    measure: Measure,
) -> (Option<Decimal>, Option<Decimal>) {
    let st = &summary.strategies[strategy];
    let m = st.measure(measure);
    let money = |v: Money| Some(v.to_decimal());
    match statistic {
        Statistic::Mean => (Some(m.cost.mean), Some(m.cost.stderr)),
        Statistic::P5 => (money(m.cost.p5), None),
        Statistic::P50 => (money(m.cost.p50), None),
        Statistic::P90 => (money(m.cost.p90), None),
        Statistic::P95 => (money(m.cost.p95), None),
        Statistic::P99 => (money(m.cost.p99), None),
        Statistic::Cvar95 => (Some(m.cost.cvar95), None),
        Statistic::PCheapest => (Some(m.p_cheapest), None),
        Statistic::SavingsMean => (Some(m.savings.mean), Some(m.savings.stderr)),
        Statistic::SavingsPPositive => (Some(m.savings.p_positive), None),
        // 0: the strategy never breaks even within the horizon.
        Statistic::BreakEvenMonth => (Some(Decimal::from(m.break_even_month.unwrap_or(0))), None),
        Statistic::PBlocked => (Some(st.p_blocked), None),
        Statistic::BlockedMean => (Some(st.blocked_mean), None),
        Statistic::PrepaidUtilisation => (st.prepaid_utilisation, None),
    }
}

/// Runs the scenario's simulation (its own paths and seed) and compares `[[expect_stat]]`.
fn check_statistics(
    scenario: &Scenario,
    spec: &SimulationSpec,
) -> Result<Vec<BlockResult>, String> {
    let config = SimConfig {
        paths: spec.paths,
        seed: spec.seed,
        threads: None,
    };
    let paths =
        simulate(&scenario.case, &spec.model, config, &|_| {}).map_err(|e| e.to_string())?;
    let summary = summarise(&scenario.case, config, spec.comparison(), &paths);
    let blocks = spec
        .expectations
        .iter()
        .map(|e| {
            let strategy = scenario.case.strategies[e.strategy].name.clone();
            let field = format!("{}.{}", e.measure.name(), e.statistic.name());
            let (got, stderr) = statistic(&summary, e.strategy, e.statistic, e.measure);
            let within = match (got, e.tolerance) {
                (None, _) => false,
                (Some(g), Tolerance::Exact) => g == e.value,
                (Some(g), Tolerance::Absolute(t)) => (g - e.value).abs() <= t,
                (Some(g), Tolerance::StandardErrors(k)) => {
                    (g - e.value).abs() <= k * stderr.unwrap_or_default()
                }
            };
            let mismatches = if within {
                Vec::new()
            } else {
                let tolerance = match e.tolerance {
                    Tolerance::Exact => String::new(),
                    Tolerance::Absolute(t) => format!(" +/- {t}"),
                    Tolerance::StandardErrors(k) => format!(
                        " +/- {k} standard errors ({})",
                        (k * stderr.unwrap_or_default()).round_dp(4)
                    ),
                };
                vec![Mismatch {
                    line: e.line,
                    strategy: strategy.clone(),
                    statement: None,
                    field: field.clone(),
                    expected: format!("{}{tolerance}", e.value),
                    got: got.map_or("n/a".to_string(), |g| g.to_string()),
                    update: None,
                }]
            };
            BlockResult {
                line: e.line,
                strategy,
                statement: None,
                fields: vec![field],
                mismatches,
            }
        })
        .collect::<Vec<_>>();
    Ok(blocks)
}

/// A scenario file's text before and after `check --update`, how many values changed, and
/// which of them had a comment beside them (now tagged stale).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub before: String,
    pub after: String,
    pub changed: usize,
    /// `[[expect]]` field names whose comment was tagged, in file order.
    pub stale_comments: Vec<String>,
}

/// The scenario file with its mismatched expected values replaced by what was computed,
/// keeping comments and layout; `None` when nothing can be updated. Nothing is written here.
pub fn rewrite(check: &ScenarioCheck, book: &PricingBook) -> Result<Option<Rewrite>, String> {
    let updates: Vec<Update> = check
        .blocks
        .iter()
        .flat_map(|b| &b.mismatches)
        .filter_map(|m| m.update.clone())
        .collect();
    if updates.is_empty() {
        return Ok(None);
    }
    let path = check.path.display();
    let text =
        std::fs::read_to_string(&check.path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{path}: {e}"))?;
    let mut stale_comments = Vec::new();
    for Update(block, field, written, actual) in &updates {
        let item = field_item(&mut doc, "expect", *block, field.name())?;
        let old = item.as_value().ok_or("expected a value")?;
        let mut decor = old.decor().clone();
        let mut bare = old.clone();
        bare.decor_mut().clear();
        let was = bare.to_string();
        let mut new = new_field_value(*written, actual, *field, book);
        if let Some(tagged) = tag_stale(&decor, was.trim(), &new.to_string()) {
            decor.set_suffix(tagged);
            stale_comments.push(field.name().to_string());
        }
        *new.decor_mut() = decor;
        *item = toml_edit::Item::Value(new);
    }
    Ok(Some(Rewrite {
        after: doc.to_string(),
        before: text,
        changed: updates.len(),
        stale_comments,
    }))
}

/// The comment after a changed value with the stale tag in front (`None` without a
/// comment): `# STALE HAND CALCULATION (check --update: "6.00" -> "6.50"): 3 x 2.00`.
fn tag_stale(decor: &toml_edit::Decor, was: &str, now: &str) -> Option<String> {
    let suffix = decor.suffix()?.as_str()?;
    let hash = suffix.find('#')?;
    let (space, comment) = suffix.split_at(hash);
    let comment = comment.trim_start_matches('#').trim_start();
    Some(format!(
        "{space}# {STALE_TAG} (check --update: {was} -> {}): {comment}",
        now.trim()
    ))
}

/// Lines (1-based) of `text` that carry the stale tag.
pub fn stale_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(STALE_TAG))
        .map(|(i, _)| i + 1)
        .collect()
}

/// The item at `table[block].dotted.key` of an array of tables.
fn field_item<'d>(
    doc: &'d mut toml_edit::DocumentMut,
    table: &str,
    block: usize,
    dotted: &str,
) -> Result<&'d mut toml_edit::Item, String> {
    let vanished = || format!("{table} block {} has no {dotted} any more", block + 1);
    let blocks = doc
        .get_mut(table)
        .and_then(|i| i.as_array_of_tables_mut())
        .ok_or_else(vanished)?;
    let t = blocks.get_mut(block).ok_or_else(vanished)?;
    let mut keys = dotted.split('.');
    let first = keys.next().ok_or_else(vanished)?;
    let mut item = t.get_mut(first).ok_or_else(vanished)?;
    for key in keys {
        item = item.get_mut(key).ok_or_else(vanished)?;
    }
    Ok(item)
}

/// The computed value, written the way the old one was (a string stays a string).
fn new_field_value(
    written: Written,
    actual: &Actual,
    field: Field,
    book: &PricingBook,
) -> toml_edit::Value {
    let rendered = actual.render(book);
    match (written, actual) {
        (Written::Integer, Actual::Count(n)) => toml_edit::Value::from(*n as i64),
        (Written::Integer, _) if field.kind() != FieldKind::Instant => {
            match rendered.parse::<i64>() {
                Ok(i) => toml_edit::Value::from(i),
                Err(_) => toml_edit::Value::from(rendered),
            }
        }
        (Written::Datetime, Actual::Instant(Some(_))) => rendered
            .parse::<toml_edit::Datetime>()
            .map(toml_edit::Value::from)
            .unwrap_or_else(|_| toml_edit::Value::from(rendered.clone())),
        _ => toml_edit::Value::from(rendered),
    }
}

/// Runs the default sweep once per unit the scenario's `[[expect_breakeven]]` blocks use and
/// checks that each pinned crossing is one of those found: same measure, level, from and to.
fn check_breakeven(scenario: &Scenario) -> Result<Vec<BlockResult>, String> {
    let case = &scenario.case;
    let mut sweeps: Vec<(Unit, Breakeven)> = Vec::new();
    let mut blocks = Vec::new();
    for e in &scenario.breakeven_expectations {
        if !sweeps.iter().any(|(u, _)| *u == e.unit) {
            let sweep = default_sweep(case, e.unit, scenario.usage.total_micros())
                .map_err(|err| err.to_string())?;
            let found = breakeven(case, sweep).map_err(|err| err.to_string())?;
            sweeps.push((e.unit, found));
        }
        let (_, b) = sweeps
            .iter()
            .find(|(u, _)| *u == e.unit)
            .expect("swept above");
        let envelope = b.envelope(e.measure);
        let field = format!("breakeven.{}", e.measure.name());
        let name = |i: usize| b.choices[i].name.clone();
        let crossing = |level: i64, from: usize, to: usize| {
            format!(
                "from {} a month: {} (was {})",
                level_text(case, e.unit, level),
                name(to),
                name(from)
            )
        };
        let hit = envelope
            .crossings
            .iter()
            .any(|c| (c.level_micros, c.from, c.to) == (e.level_micros, e.from, e.to));
        let mismatches = if hit {
            Vec::new()
        } else {
            let got: Vec<String> = envelope
                .crossings
                .iter()
                .map(|c| crossing(c.level_micros, c.from, c.to))
                .collect();
            vec![Mismatch {
                line: e.line,
                strategy: name(e.to),
                statement: None,
                field: field.clone(),
                expected: crossing(e.level_micros, e.from, e.to),
                got: if got.is_empty() {
                    format!(
                        "no crossing (the cheapest throughout: {})",
                        name(envelope.first)
                    )
                } else {
                    got.join("; ")
                },
                update: None,
            }]
        };
        blocks.push(BlockResult {
            line: e.line,
            strategy: name(e.to),
            statement: None,
            fields: vec![field],
            mismatches,
        });
    }
    Ok(blocks)
}

/// The recommendation's mean saving against the current setup in the goal's measure: zero
/// when the advice is to keep the current setup.
fn recommended_saving(advice: &Advice) -> Decimal {
    match advice.recommended_row() {
        0 => Decimal::ZERO, // the current setup saves nothing against itself
        row => {
            advice.summary.strategies[row]
                .measure(advice.goal.measure)
                .savings
                .mean
        }
    }
}

/// Runs `advise` once per `[[expect_advice]]` block, as `creditsim advise` would with the
/// block's goal, current setup, paths and seed (and its default constraints and finalists),
/// and compares the recommended setup's name and its mean saving. A mismatch names both
/// the expected and the advised setup and saving, so the line says what changed.
fn check_advice(scenario: &Scenario) -> Result<Vec<BlockResult>, String> {
    if scenario.advice_expectations.is_empty() {
        return Ok(Vec::new());
    }
    let usage = scenario
        .advice_model()
        .ok_or("[[expect_advice]]: the horizon has no whole day to resample")?;
    let mut blocks = Vec::new();
    for e in &scenario.advice_expectations {
        let sim = SimConfig {
            paths: e.paths.unwrap_or(usage.paths),
            seed: e.seed.unwrap_or(usage.seed),
            threads: None,
        };
        let current = e.current.unwrap_or(usage.baseline);
        let constraints = Constraints {
            max_blocked_ppm: None,
            max_upfront: None,
        };
        let config = RaceConfig::new(sim, ADVICE_FINALISTS);
        let advice = advise(
            &scenario.case,
            &usage.model,
            current,
            e.goal,
            constraints,
            config,
        )
        .map_err(|err| err.to_string())?;
        blocks.push(advice_block(scenario, e, &advice));
    }
    Ok(blocks)
}

/// One `[[expect_advice]]` block's fields against one advice.
fn advice_block(scenario: &Scenario, e: &AdviceExpectation, advice: &Advice) -> BlockResult {
    let book = &scenario.case.book;
    let current = advice.candidates[0].strategy.name.clone();
    let chosen = &advice.candidates[advice.recommended].strategy.name;
    let saving = recommended_saving(advice);
    let shown = format!(
        "\"{chosen}\", saving {} {} on average ({} {} against \"{current}\", {} paths, seed {})",
        saving.round_dp(book.minor_digits),
        book.currency,
        advice.goal.objective.name(),
        advice.goal.measure.name().replace('_', " "),
        advice.summary.paths,
        advice.summary.seed,
    );
    let mut fields = Vec::new();
    let mut mismatches = Vec::new();
    let mut field = |name: &str, pass: bool, expected: String| {
        fields.push(name.to_string());
        if !pass {
            mismatches.push(Mismatch {
                line: e.line,
                strategy: current.clone(),
                statement: None,
                field: name.to_string(),
                expected,
                got: shown.clone(),
                update: None,
            });
        }
    };
    if let Some(name) = &e.recommended {
        field("advice.recommended", name == chosen, format!("\"{name}\""));
    }
    if let Some(least) = e.saving_at_least {
        field(
            "advice.saving_at_least",
            saving >= least.to_decimal(),
            format!(
                "a saving of at least {} {}",
                least.to_decimal_minor(book.minor_digits),
                book.currency
            ),
        );
    }
    BlockResult {
        line: e.line,
        strategy: current,
        statement: None,
        fields,
        mismatches,
    }
}

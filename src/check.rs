//! Runs scenarios and compares their `[[expect]]` blocks with what the ledger computes.
//!
//! [`actual`] is the one place a named field becomes a number: `check` compares with it and
//! the reports print with it, so a field means the same thing everywhere.

use crate::amounts::{Credits, Money};
use crate::calendar::{display, Instant};
use crate::ledger::{Outcome, Statement};
use crate::pricing::PricingBook;
use crate::replay::replay;
use crate::scenario::expect::{Expected, Field, FieldKind, Written};
use crate::scenario::Scenario;
use rust_decimal::Decimal;
use std::path::{Path, PathBuf};

/// Decimals of the effective price per credit.
pub const EFFECTIVE_PRICE_DIGITS: u32 = 4;

/// A field's computed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actual {
    Money(Money),
    Credits(Credits),
    Ratio(Option<Decimal>),
    Count(u64),
    Text(String),
    Instant(Option<Instant>),
}

impl Actual {
    /// As a person reads it: money with the currency's minor digits.
    pub fn render(&self, book: &PricingBook) -> String {
        match self {
            Actual::Money(m) => m.to_decimal_minor(book.minor_digits).to_string(),
            Actual::Credits(c) => c.to_decimal().to_string(),
            Actual::Ratio(Some(d)) => d.to_string(),
            Actual::Ratio(None) => "n/a".to_string(),
            Actual::Count(n) => n.to_string(),
            Actual::Text(t) => t.clone(),
            Actual::Instant(Some(t)) => display(*t),
            Actual::Instant(None) => "none".to_string(),
        }
    }

    fn matches(&self, expected: &Expected) -> bool {
        match (self, expected) {
            (Actual::Money(m), Expected::Decimal(d)) => m.to_decimal() == *d,
            (Actual::Credits(c), Expected::Decimal(d)) => c.to_decimal() == *d,
            (Actual::Ratio(Some(r)), Expected::Decimal(d)) => r == d,
            (Actual::Count(n), Expected::Count(e)) => n == e,
            (Actual::Text(t), Expected::Text(e)) => t == e,
            (Actual::Instant(t), Expected::Instant(e)) => t == e,
            _ => false,
        }
    }
}

/// The value of `field` for a whole outcome (`statement` None) or one statement.
pub fn actual(
    field: Field,
    book: &PricingBook,
    outcome: &Outcome,
    statement: Option<&Statement>,
) -> Actual {
    let t = &outcome.totals;
    let (money, credits, alerts, first_blocked) = match statement {
        Some(s) => (s.money(), s.credits, s.alerts, s.first_blocked_at),
        None => (t.money, t.credits, t.alerts, t.first_blocked_at),
    };
    let plan_name = |p: crate::pricing::PlanId| book.plans[p.0].id.clone();
    match field {
        Field::Cash => Actual::Money(money.cash()),
        Field::EconomicCost => Actual::Money(t.economic_cost()),
        Field::MoneyPlanFees => Actual::Money(money.plan_fees),
        Field::MoneyPrepaid => Actual::Money(money.prepaid),
        Field::MoneyFlex => Actual::Money(money.flex),
        Field::UnusedPrepaidValue => Actual::Money(t.unused_prepaid_value),
        Field::EffectivePrice => Actual::Ratio(
            t.economic_cost()
                .per_credit(t.credits.consumed(), EFFECTIVE_PRICE_DIGITS),
        ),
        Field::CreditsDemanded => Actual::Credits(credits.demanded),
        Field::CreditsIncluded => Actual::Credits(credits.included),
        Field::CreditsPrepaid => Actual::Credits(credits.prepaid),
        Field::CreditsFlex => Actual::Credits(credits.flex),
        Field::CreditsBlocked => Actual::Credits(credits.blocked),
        Field::CreditsGrantedIncluded => Actual::Credits(credits.granted_included),
        Field::CreditsExpiredIncluded => Actual::Credits(credits.expired_included),
        Field::CreditsPurchasedPrepaid => Actual::Credits(credits.purchased_prepaid),
        Field::CreditsExpiredPrepaid => Actual::Credits(credits.expired_prepaid),
        Field::CreditsRemainingIncluded => Actual::Credits(t.remaining_included),
        Field::CreditsUnusedPrepaid => Actual::Credits(t.unused_prepaid),
        Field::Alerts => Actual::Count(u64::from(alerts)),
        Field::Purchases => Actual::Count(u64::from(t.purchases)),
        Field::PlanChanges => Actual::Count(u64::from(t.plan_changes)),
        Field::FinalPlan => Actual::Text(plan_name(t.final_plan)),
        Field::FirstBlockedAt => Actual::Instant(first_blocked),
        Field::Plan => Actual::Text(statement.map(|s| plan_name(s.plan)).unwrap_or_default()),
        Field::Start => Actual::Instant(statement.map(|s| s.period.start)),
        Field::End => Actual::Instant(statement.map(|s| s.period.end)),
    }
}

/// Replays every strategy of a scenario on its usage.
pub fn run(scenario: &Scenario) -> Vec<Outcome> {
    let usage = scenario.credit_usage();
    scenario
        .strategies
        .iter()
        .map(|s| {
            replay(
                &scenario.book,
                scenario.workspace,
                scenario.horizon.end,
                &usage,
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
    pub field: &'static str,
    pub expected: String,
    pub got: String,
    /// Where to write `got` for `--update`: block index and field; `None` when the value
    /// cannot be written (the statement does not exist).
    pub update: Option<(usize, Field, Written, Actual)>,
}

/// The result of one `[[expect]]` block.
#[derive(Debug, Clone)]
pub struct BlockResult {
    pub line: usize,
    pub strategy: String,
    pub statement: Option<u32>,
    pub checked: usize,
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
            .map(|b| b.checked - b.mismatches.len())
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

/// Evaluates every expectation of `scenario`.
pub fn check_scenario(scenario: &Scenario) -> ScenarioCheck {
    let outcomes = run(scenario);
    let book = &scenario.book;
    let mut blocks = Vec::new();
    for resolved in &scenario.expectations {
        let e = &resolved.inner;
        let outcome = &outcomes[resolved.strategy];
        let strategy = scenario.strategies[resolved.strategy].name.clone();
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
                Some(Some(s)) => {
                    let a = actual(f.field, book, outcome, Some(s));
                    if a.matches(&f.expected) {
                        continue;
                    }
                    (a.render(book), Some((e.block, f.field, f.written, a)))
                }
                None => {
                    let a = actual(f.field, book, outcome, None);
                    if a.matches(&f.expected) {
                        continue;
                    }
                    (a.render(book), Some((e.block, f.field, f.written, a)))
                }
            };
            mismatches.push(Mismatch {
                line,
                strategy: strategy.clone(),
                statement: e.statement,
                field: f.field.name(),
                expected: written_text(&f.expected),
                got,
                update,
            });
        }
        blocks.push(BlockResult {
            line: e.line,
            strategy,
            statement: e.statement,
            checked: e.fields.len(),
            mismatches,
        });
    }
    ScenarioCheck {
        path: scenario.path.clone(),
        name: scenario.name.clone(),
        blocks,
    }
}

/// Rewrites the mismatched expected values of one scenario file with what was computed,
/// keeping comments and layout. Returns how many values changed.
pub fn update_file(check: &ScenarioCheck, book: &PricingBook) -> Result<usize, String> {
    let updates: Vec<_> = check
        .blocks
        .iter()
        .flat_map(|b| &b.mismatches)
        .filter_map(|m| m.update.clone())
        .collect();
    if updates.is_empty() {
        return Ok(0);
    }
    let text = std::fs::read_to_string(&check.path)
        .map_err(|e| format!("{}: cannot read: {e}", check.path.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", check.path.display()))?;
    let blocks = doc
        .get_mut("expect")
        .and_then(|i| i.as_array_of_tables_mut())
        .ok_or_else(|| format!("{}: no [[expect]] blocks to update", check.path.display()))?;
    for (block, field, written, actual) in &updates {
        let table = blocks.get_mut(*block).ok_or("expectation block vanished")?;
        let vanished = || format!("field {} vanished", field.name());
        let mut keys = field.name().split('.');
        let first = keys.next().ok_or_else(vanished)?;
        let mut item: &mut toml_edit::Item = table.get_mut(first).ok_or_else(vanished)?;
        for key in keys {
            item = item.get_mut(key).ok_or_else(vanished)?;
        }
        let rendered = actual.render(book);
        let old = item.as_value().ok_or("expected a value")?;
        let decor = old.decor().clone();
        let mut new = match (written, actual, field.kind()) {
            (Written::Integer, Actual::Count(n), _) => toml_edit::Value::from(*n as i64),
            (
                Written::Integer | Written::Float,
                _,
                FieldKind::Money | FieldKind::Credits | FieldKind::Ratio,
            ) if rendered.parse::<i64>().is_ok() && *written == Written::Integer => {
                toml_edit::Value::from(rendered.parse::<i64>().unwrap_or_default())
            }
            (Written::Datetime, Actual::Instant(Some(_)), _) => rendered
                .parse::<toml_edit::Datetime>()
                .map(toml_edit::Value::from)
                .unwrap_or_else(|_| toml_edit::Value::from(rendered.clone())),
            _ => toml_edit::Value::from(rendered.clone()),
        };
        *new.decor_mut() = decor;
        *item = toml_edit::Item::Value(new);
    }
    write_atomically(&check.path, doc.to_string().as_bytes())?;
    Ok(updates.len())
}

/// Writes to a temporary file beside `path`, then renames it over `path`: readers never see
/// a half-written file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: cannot write: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: cannot replace: {e}", path.display())
    })
}

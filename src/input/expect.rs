//! `[[expect]]` blocks: which numbers a scenario pins, read with toml_edit so that every key
//! and value keeps its span (for errors) and its place (for `check --update`).

use super::values::{parse_decimal, parse_instant};
use crate::model::calendar::Instant;
use crate::model::diag::{InputError, Source};
use rust_decimal::Decimal;
use std::ops::Range;

pub use crate::analysis::metrics::{Field, FieldKind, FieldScope};

/// An expected value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Decimal(Decimal),
    Count(u64),
    Text(String),
    Instant(Option<Instant>),
}

/// How the value was written, so `--update` writes the new one the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    String,
    Integer,
    Float,
    Datetime,
}

#[derive(Debug, Clone)]
pub struct ExpectedField {
    pub field: Field,
    pub expected: Expected,
    pub written: Written,
    /// 1-based line of the value.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Expectation {
    /// Position among the file's `[[expect]]` blocks (0-based), for `--update`.
    pub block: usize,
    /// 1-based line of the block.
    pub line: usize,
    /// Strategy name as written (resolved by the scenario loader).
    pub strategy: Option<(String, Range<usize>)>,
    pub statement: Option<u32>,
    pub fields: Vec<ExpectedField>,
}

fn known_fields(statement: bool) -> String {
    Field::ALL
        .iter()
        .filter(|f| f.allowed_in(statement))
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the `[[expect]]` blocks of a scenario's text.
pub fn read_expectations(source: &Source) -> Result<Vec<Expectation>, InputError> {
    let doc = toml_edit::Document::parse(source.text.clone()).map_err(|e| {
        let message = super::scenario::toml_message(e.message());
        source.error(e.span().unwrap_or(0..0), message)
    })?;
    let Some(item) = doc.as_table().get("expect") else {
        return Ok(Vec::new());
    };
    let Some(blocks) = item.as_array_of_tables() else {
        return Err(source.error(
            item.span().unwrap_or(0..0),
            "expect must be written as [[expect]] blocks",
        ));
    };
    blocks
        .iter()
        .enumerate()
        .map(|(block, table)| read_block(source, block, table))
        .collect()
}

/// The `block`th `[[expect]]`.
fn read_block(
    source: &Source,
    block: usize,
    table: &toml_edit::Table,
) -> Result<Expectation, InputError> {
    let span = table.span().unwrap_or(0..0);
    let line = source.line_column(span.start).0;
    let mut flat = Vec::new();
    flatten(source, "", None, table, &mut flat)?;
    let mut exp = Expectation {
        block,
        line,
        strategy: None,
        // It decides which fields are allowed, so it is read before them.
        statement: statement(source, &flat)?,
        fields: Vec::new(),
    };
    for (key, key_span, value) in &flat {
        let vspan = value.span().unwrap_or(0..0);
        match key.as_str() {
            "statement" => {}
            "strategy" => {
                let Some(name) = value.as_str() else {
                    return Err(source.error(vspan, "strategy is a strategy's name"));
                };
                exp.strategy = Some((name.to_string(), vspan));
            }
            name => {
                let in_statement = exp.statement.is_some();
                let field = field_named(source, name, key_span, in_statement)?;
                let (expected, written) = parse_expected(field, value)
                    .map_err(|m| source.error(vspan.clone(), format!("{name}: {m}")))?;
                let line = source.line_column(vspan.start).0;
                exp.fields.push(ExpectedField {
                    field,
                    expected,
                    written,
                    line,
                });
            }
        }
    }
    if exp.fields.is_empty() {
        return Err(source.error(span, "this [[expect]] block names no field to check"));
    }
    Ok(exp)
}

/// The block's `statement = N`, if it has one.
fn statement(source: &Source, flat: &[FlatEntry<'_>]) -> Result<Option<u32>, InputError> {
    let mut statement = None;
    for (key, _, value) in flat {
        if key == "statement" {
            let n = value
                .as_integer()
                .filter(|n| *n >= 1 && *n <= i64::from(u32::MAX));
            let Some(n) = n else {
                return Err(
                    source.error(value.span().unwrap_or(0..0), "statement is a number from 1")
                );
            };
            statement = Some(n as u32);
        }
    }
    Ok(statement)
}

/// The field a key names, if it can be asked where it stands: in a statement's block or in
/// the totals'.
fn field_named(
    source: &Source,
    name: &str,
    key_span: &Range<usize>,
    in_statement: bool,
) -> Result<Field, InputError> {
    match Field::by_name(name) {
        Some(f) if f.allowed_in(in_statement) => Ok(f),
        Some(f) => {
            let (only, here, list) = if f.scope() == FieldScope::Totals {
                ("the totals", "a statement", "statement")
            } else {
                ("a statement (set statement = N)", "the totals", "totals")
            };
            Err(source.error(
                key_span.clone(),
                format!(
                    "field \"{name}\" is for {only} only, not for {here} ({list} fields: {})",
                    known_fields(in_statement)
                ),
            ))
        }
        None => {
            let scope = if in_statement {
                "a statement"
            } else {
                "the totals"
            };
            Err(source.error(
                key_span.clone(),
                format!(
                    "unknown field \"{name}\" for {scope} (known: {})",
                    known_fields(in_statement)
                ),
            ))
        }
    }
}

/// A key path (dotted), the key's span and its value.
type FlatEntry<'a> = (String, Range<usize>, &'a toml_edit::Value);

/// Flattens nested tables into dotted key paths. `dotted_start` is the span of the first
/// segment when `table` is the implicit table of a dotted key (`money.flex = ...`), so an
/// error points at the start of the whole key, not at its last segment.
fn flatten<'a>(
    source: &Source,
    prefix: &str,
    dotted_start: Option<Range<usize>>,
    table: &'a dyn toml_edit::TableLike,
    out: &mut Vec<FlatEntry<'a>>,
) -> Result<(), InputError> {
    for (key, item) in table.iter() {
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        let own_span = table
            .get_key_value(key)
            .and_then(|(k, _)| k.span())
            .or_else(|| item.span())
            .unwrap_or(0..0);
        let key_span = dotted_start.clone().unwrap_or(own_span);
        match item {
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => {
                flatten(source, &path, None, t, out)?
            }
            toml_edit::Item::Value(v) => out.push((path, key_span, v)),
            toml_edit::Item::Table(t) => {
                let start = t.is_dotted().then(|| key_span.clone());
                flatten(source, &path, start, t, out)?
            }
            _ => return Err(source.error(key_span, format!("{path}: expected a value"))),
        }
    }
    Ok(())
}

fn parse_expected(field: Field, value: &toml_edit::Value) -> Result<(Expected, Written), String> {
    use toml_edit::Value as V;
    let written = match value {
        V::String(_) => Written::String,
        V::Integer(_) => Written::Integer,
        V::Float(_) => Written::Float,
        V::Datetime(_) => Written::Datetime,
        _ => return Err("expected a number, a string or a date".to_string()),
    };
    let text = match value {
        V::String(s) => s.value().clone(),
        V::Integer(i) => i.value().to_string(),
        // The float's source text, exactly as written.
        V::Float(f) => f.display_repr().to_string(),
        V::Datetime(d) => d.value().to_string(),
        _ => unreachable!("matched above"),
    };
    let expected = match field.kind() {
        FieldKind::Money | FieldKind::Credits | FieldKind::Ratio => {
            Expected::Decimal(parse_decimal(&text.replace('_', ""))?)
        }
        FieldKind::Count => Expected::Count(
            text.parse::<u64>()
                .map_err(|_| format!("\"{text}\" is not a whole number"))?,
        ),
        FieldKind::Plan => Expected::Text(text),
        FieldKind::Instant => {
            if text == "none" {
                Expected::Instant(None)
            } else {
                Expected::Instant(Some(parse_instant(&text)?))
            }
        }
    };
    Ok((expected, written))
}

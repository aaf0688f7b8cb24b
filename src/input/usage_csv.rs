//! The usage CSV a scenario names in `usage.file`: one usage event a row.

use super::files::open_csv;
use super::values::{parse_decimal, parse_instant};
use crate::model::amounts::Credits;
use crate::model::calendar::{display, Instant};
use crate::model::diag::{shown_bytes, InputError};
use crate::model::pricing::{MetricId, PricingBook};
use crate::usage::window::UsageWindow;
use csv::StringRecord;
use rust_decimal::Decimal;
use std::path::Path;

/// A metric quantity at an instant, and what it costs in credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEvent {
    pub at: Instant,
    pub metric: MetricId,
    pub quantity: Decimal,
    pub credits: Credits,
}

/// Credits for `quantity` of `metric` at `at`; a negative quantity is an error.
pub(super) fn credits_for(
    book: &PricingBook,
    metric: MetricId,
    at: Instant,
    quantity: Decimal,
) -> Result<Credits, String> {
    if quantity.is_sign_negative() && !quantity.is_zero() {
        return Err(format!("quantity {quantity} is negative"));
    }
    book.rates
        .credits(metric, at, quantity, book.rounding)
        .map_err(|e| e.to_string())
}

/// Reads a usage CSV with a header naming `timestamp`, `metric` and `quantity` (any order,
/// other columns refused so nothing is silently ignored). Rows must be in time order.
pub(super) fn read(
    path: &Path,
    book: &PricingBook,
    window: &UsageWindow,
) -> Result<Vec<UsageEvent>, InputError> {
    let (mut reader, headers) = open_csv(path, true)?;
    let rows = Rows {
        path,
        columns: Columns::find(path, &headers)?,
        headers: &headers,
        book,
        window,
    };
    let mut out: Vec<UsageEvent> = Vec::new();
    // Read as bytes, so that a cell that is not UTF-8 is named by its column and value
    // rather than by the csv crate's byte offsets.
    for (i, record) in reader.byte_records().enumerate() {
        let row = i + 1;
        let record = record
            .map_err(|e| InputError::at_row(path, row, "-", format!("malformed row: {e}")))?;
        let record = StringRecord::from_byte_record(record).map_err(|e| {
            let field = e.utf8_error().field();
            let value = shown_bytes(e.into_byte_record().get(field).unwrap_or_default());
            let column = headers.get(field).unwrap_or("-");
            InputError::at_row(path, row, column, format!("not valid UTF-8: \"{value}\""))
        })?;
        let event = rows.event(row, &record, out.last())?;
        out.push(event);
    }
    Ok(out)
}

/// Where each column is in the header.
struct Columns {
    timestamp: usize,
    metric: usize,
    quantity: usize,
}

impl Columns {
    fn find(path: &Path, headers: &StringRecord) -> Result<Columns, InputError> {
        let column = |name: &str| {
            headers.iter().position(|h| h == name).ok_or_else(|| {
                InputError::at_row(
                    path,
                    0,
                    name,
                    format!(
                        "missing column (the header has: {})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        };
        let columns = Columns {
            timestamp: column("timestamp")?,
            metric: column("metric")?,
            quantity: column("quantity")?,
        };
        if let Some(extra) = headers
            .iter()
            .find(|h| !["timestamp", "metric", "quantity"].contains(h))
        {
            return Err(InputError::at_row(
                path,
                0,
                extra,
                "unknown column (expected timestamp, metric, quantity)",
            ));
        }
        Ok(columns)
    }
}

/// What reading a row needs: the file (for errors), its header and columns, the book that
/// prices the usage and the window it must fall in.
struct Rows<'a> {
    path: &'a Path,
    headers: &'a StringRecord,
    columns: Columns,
    book: &'a PricingBook,
    window: &'a UsageWindow,
}

impl Rows<'_> {
    fn error(&self, row: usize, column: &str, message: impl Into<String>) -> InputError {
        InputError::at_row(self.path, row, column, message)
    }

    /// Row `row` as a usage event; it must not come before `previous`.
    fn event(
        &self,
        row: usize,
        record: &StringRecord,
        previous: Option<&UsageEvent>,
    ) -> Result<UsageEvent, InputError> {
        self.check_width(row, record)?;
        let field = |c: usize| record.get(c).unwrap_or("");
        let at = self.timestamp(row, field(self.columns.timestamp), previous)?;
        let metric_name = field(self.columns.metric);
        let metric = self.book.rates.metric(metric_name).ok_or_else(|| {
            self.error(row, "metric", self.book.rates.unknown_metric(metric_name))
        })?;
        let quantity = parse_decimal(field(self.columns.quantity))
            .map_err(|m| self.error(row, "quantity", m))?;
        // No rate in force is about when the row is, not its quantity.
        self.book
            .rates
            .version(metric, at)
            .map_err(|e| self.error(row, "timestamp", e.to_string()))?;
        let credits = credits_for(self.book, metric, at, quantity)
            .map_err(|m| self.error(row, "quantity", m))?;
        Ok(UsageEvent {
            at,
            metric,
            quantity,
            credits,
        })
    }

    /// Every row has a value for every column of the header, and no more.
    fn check_width(&self, row: usize, record: &StringRecord) -> Result<(), InputError> {
        let headers = self.headers;
        if record.len() == headers.len() {
            return Ok(());
        }
        let (column, what) = if record.len() < headers.len() {
            (headers.get(record.len()).unwrap_or("-"), "missing value")
        } else {
            ("-", "extra value")
        };
        Err(self.error(
            row,
            column,
            format!(
                "{what} (the row has {} fields, the header has {})",
                record.len(),
                headers.len()
            ),
        ))
    }

    fn timestamp(
        &self,
        row: usize,
        text: &str,
        previous: Option<&UsageEvent>,
    ) -> Result<Instant, InputError> {
        let at = parse_instant(text).map_err(|m| self.error(row, "timestamp", m))?;
        if let Some(m) = self.window.refuse(at) {
            return Err(self.error(row, "timestamp", m));
        }
        if let Some(prev) = previous {
            if at < prev.at {
                return Err(self.error(
                    row,
                    "timestamp",
                    format!(
                        "usage out of time order: {} comes after {}",
                        display(at),
                        display(prev.at)
                    ),
                ));
            }
        }
        Ok(at)
    }
}

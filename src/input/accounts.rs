//! The accounts table of a portfolio: one row per workspace with its creation date and,
//! optionally, its plan and seats (else the scenario's). A small CSV read with the `csv`
//! crate; every problem names its row and column.

use crate::model::diag::{shown, InputError};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

/// Most accounts in one table.
pub const ACCOUNTS_MAX: usize = 1_000_000;

const COLUMNS: [&str; 4] = ["workspace", "created", "plan", "seats"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub created: NaiveDate,
    pub plan: Option<String>,
    pub seats: Option<u32>,
    file: PathBuf,
    row: usize,
}

impl Account {
    /// An error about this account as a whole, at its row.
    pub fn error(&self, message: impl Into<String>) -> InputError {
        self.error_at(
            "workspace",
            format!("workspace \"{}\": {}", self.id, message.into()),
        )
    }

    pub fn error_at(&self, column: &str, message: impl Into<String>) -> InputError {
        InputError::at_row(&self.file, self.row, column, message)
    }
}

/// Reads an accounts table: columns `workspace` and `created` (YYYY-MM-DD), optionally
/// `plan` and `seats` (an empty cell takes the scenario's). Other columns are refused so
/// nothing is silently ignored; a workspace listed twice is an error.
pub fn read(path: &Path) -> Result<Vec<Account>, InputError> {
    let (mut reader, headers) = super::files::open_csv(path, false)?;
    let columns = Columns::of(path, &headers)?;
    let mut out: Vec<Account> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = record
            .map_err(|e| InputError::at_row(path, row, "-", format!("malformed row: {e}")))?;
        let cells = Cells {
            path,
            row,
            record: &record,
            columns: &columns,
        };
        let id = cells.required("workspace", columns.workspace)?.to_string();
        if let Some(first) = seen.insert(id.clone(), row) {
            return Err(InputError::at_row(
                path,
                row,
                "workspace",
                format!("workspace \"{id}\" is listed twice (first at row {first})"),
            ));
        }
        out.push(Account {
            id,
            created: cells.created()?,
            plan: cells.get(columns.plan).map(str::to_string),
            seats: cells.seats()?,
            file: path.to_path_buf(),
            row,
        });
        if out.len() > ACCOUNTS_MAX {
            return Err(InputError::at_row(
                path,
                row,
                "-",
                format!("more than {ACCOUNTS_MAX} accounts"),
            ));
        }
    }
    Ok(out)
}

/// Where the table's columns are; `plan` and `seats` may be absent.
struct Columns {
    workspace: usize,
    created: usize,
    plan: Option<usize>,
    seats: Option<usize>,
}

impl Columns {
    fn of(path: &Path, headers: &csv::StringRecord) -> Result<Columns, InputError> {
        if let Some(extra) = headers.iter().find(|h| !COLUMNS.contains(h)) {
            return Err(InputError::at_row(
                path,
                0,
                extra,
                format!("unknown column (expected {})", COLUMNS.join(", ")),
            ));
        }
        let position = |name: &str| headers.iter().position(|h| h == name);
        let (Some(workspace), Some(created)) = (position("workspace"), position("created")) else {
            let missing = if position("workspace").is_none() {
                "workspace"
            } else {
                "created"
            };
            return Err(InputError::at_row(
                path,
                0,
                missing,
                format!(
                    "missing column (the header has: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        Ok(Columns {
            workspace,
            created,
            plan: position("plan"),
            seats: position("seats"),
        })
    }
}

/// One data row, with what its errors must name.
struct Cells<'a> {
    path: &'a Path,
    row: usize,
    record: &'a csv::StringRecord,
    columns: &'a Columns,
}

impl<'a> Cells<'a> {
    /// The cell in `column`; an empty one counts as absent.
    fn get(&self, column: Option<usize>) -> Option<&'a str> {
        column
            .and_then(|c| self.record.get(c))
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str, column: usize) -> Result<&'a str, InputError> {
        self.get(Some(column))
            .ok_or_else(|| InputError::at_row(self.path, self.row, name, "missing value"))
    }

    fn created(&self) -> Result<NaiveDate, InputError> {
        let text = self.required("created", self.columns.created)?;
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            InputError::at_row(
                self.path,
                self.row,
                "created",
                format!("\"{}\" is not a date like 2026-04-01", shown(text)),
            )
        })
    }

    fn seats(&self) -> Result<Option<u32>, InputError> {
        let Some(text) = self.get(self.columns.seats) else {
            return Ok(None);
        };
        match text.parse::<u32>() {
            Ok(n) if (1..=super::scenario::SEATS_MAX).contains(&n) => Ok(Some(n)),
            _ => Err(InputError::at_row(
                self.path,
                self.row,
                "seats",
                format!(
                    "\"{}\" is not a seat count 1-{}",
                    shown(text),
                    crate::model::text::grouped(super::scenario::SEATS_MAX.into())
                ),
            )),
        }
    }
}

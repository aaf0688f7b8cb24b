//! Imported usage traces: CSV or Parquet event logs (timestamp, metric, quantity, optionally
//! a workspace) turned into the credit usage the replay takes, one stream per workspace.
//!
//! ```text
//! file ──read (polars, bounded batches)──▶ cells ──parse+validate (rayon, per row)──▶
//!      (workspace, instant, credits) ──sink: sort (event) or day buckets (day)──▶ usage per workspace
//! ```
//!
//! Every row is converted to credits exactly as an inline usage event is (the rate in force
//! at its instant, rounded once), so aggregation only adds integers and never changes a
//! total. A bad row is never dropped silently: the import fails with the first errors, or
//! (`skip_invalid`) skips it and counts it in the [`ImportReport`] with its row and column.

pub mod parse;
pub mod read;

use crate::engine::replay::CreditUsage;
use crate::model::amounts::{Credits, CREDITS_MAX};
use crate::model::calendar::{add_days, Instant};
use crate::model::diag::InputError;
use crate::model::pricing::{MetricId, PricingBook};
use crate::usage::packed::PackedUsage;
use crate::usage::window::UsageWindow;
use parse::{TimestampFormat, Zone};
use polars::prelude::{Column, DataType, TimeUnit};
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Errors shown when an import fails, and skipped rows listed by `--skip-invalid`.
pub const ERRORS_SHOWN: usize = 10;
/// Events kept at event resolution (packed, about 6 bytes each); beyond this, aggregate by
/// day.
pub const EVENTS_MAX: usize = 100_000_000;
/// Rows one parallel task parses.
const ROWS_PER_TASK: usize = 16 * 1024;

/// The trace's column names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNames {
    pub timestamp: String,
    pub metric: String,
    pub quantity: String,
    /// `None`: the column called `workspace` if the file has one.
    pub workspace: Option<String>,
}

impl Default for ColumnNames {
    fn default() -> ColumnNames {
        ColumnNames {
            timestamp: "timestamp".into(),
            metric: "metric".into(),
            quantity: "quantity".into(),
            workspace: None,
        }
    }
}

/// The instants usage is replayed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Every row is one usage event at its own instant, exactly like inline usage; rows at
    /// one instant keep their file order.
    Event,
    /// A workspace's rows are summed per day, the days starting at the time of day of its
    /// subscription anchor (so a day never straddles a billing boundary), each day one event
    /// at its start. Memory no longer grows with the rows.
    Day,
}

impl Resolution {
    pub fn parse(text: &str) -> Result<Resolution, String> {
        match text {
            "event" => Ok(Resolution::Event),
            "day" => Ok(Resolution::Day),
            other => Err(format!(
                "unknown resolution \"{other}\" (known: event, day)"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Resolution::Event => "event",
            Resolution::Day => "day",
        }
    }
}

/// How to read one trace file.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    pub path: PathBuf,
    pub columns: ColumnNames,
    pub timestamp_format: TimestampFormat,
    pub zone: Zone,
    pub resolution: Resolution,
    pub delimiter: u8,
    pub skip_invalid: bool,
}

impl TraceSpec {
    pub fn new(path: PathBuf) -> TraceSpec {
        TraceSpec {
            path,
            columns: ColumnNames::default(),
            timestamp_format: TimestampFormat::Iso,
            zone: Zone::Utc,
            resolution: Resolution::Event,
            delimiter: b',',
            skip_invalid: false,
        }
    }
}

/// The workspaces rows may belong to, and when each may have usage.
#[derive(Debug, Clone)]
pub struct Workspaces {
    ids: Vec<String>,
    index: HashMap<String, u32>,
    windows: Vec<UsageWindow>,
    /// The window of an id not listed; `None` makes such a row invalid.
    open: Option<UsageWindow>,
}

impl Workspaces {
    /// Any workspace id, each with the same window (a scenario without an accounts table).
    pub fn open(window: UsageWindow) -> Workspaces {
        Workspaces {
            ids: Vec::new(),
            index: HashMap::new(),
            windows: Vec::new(),
            open: Some(window),
        }
    }

    /// Only these ids, each with its own window (an accounts table).
    pub fn listed(accounts: Vec<(String, UsageWindow)>) -> Workspaces {
        let mut w = Workspaces {
            ids: Vec::new(),
            index: HashMap::new(),
            windows: Vec::new(),
            open: None,
        };
        for (id, window) in accounts {
            w.insert(id, window);
        }
        w
    }

    fn insert(&mut self, id: String, window: UsageWindow) -> u32 {
        let k = self.ids.len() as u32;
        self.index.insert(id.clone(), k);
        self.ids.push(id);
        self.windows.push(window);
        k
    }

    /// The index of `id`, adding it when ids are open; `None` when it is not allowed.
    fn resolve(&mut self, id: &str) -> Option<u32> {
        if let Some(&k) = self.index.get(id) {
            return Some(k);
        }
        let window = self.open?;
        Some(self.insert(id.to_string(), window))
    }
}

/// What an import read, used, skipped and sorted.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub path: PathBuf,
    pub rows: u64,
    pub skipped: u64,
    /// The first [`ERRORS_SHOWN`] skipped rows, with why.
    pub skipped_shown: Vec<InputError>,
    /// Skipped rows per column the error was in (file order of columns).
    pub skipped_by_column: Vec<(String, u64)>,
    /// Rows earlier than the row before them in the same workspace; they were sorted.
    pub out_of_order: u64,
    /// Millionths of credits over the rows used (may exceed one workspace's limit).
    pub credits_micros: i128,
    pub resolution: Resolution,
    /// Usage events after aggregation, over all workspaces.
    pub events: u64,
}

impl ImportReport {
    pub fn rows_used(&self) -> u64 {
        self.rows - self.skipped
    }

    /// Lines for stderr: what was read and, when rows were skipped, which.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{}: {} rows read, {} used, {} skipped; {} usage events at {} resolution",
            self.path.display(),
            self.rows,
            self.rows_used(),
            self.skipped,
            self.events,
            self.resolution.name()
        )];
        if self.out_of_order > 0 {
            out.push(format!(
                "  {} row(s) earlier than the row before them in their workspace: rows were sorted by time",
                self.out_of_order
            ));
        }
        if self.skipped > 0 {
            let by: Vec<String> = self
                .skipped_by_column
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(c, n)| format!("{n} in {c}"))
                .collect();
            out.push(format!(
                "  skipped {} invalid rows ({}):",
                self.skipped,
                by.join(", ")
            ));
            out.extend(self.skipped_shown.iter().map(|e| format!("    {e}")));
            if self.skipped > self.skipped_shown.len() as u64 {
                out.push(format!(
                    "    ... and {} more",
                    self.skipped - self.skipped_shown.len() as u64
                ));
            }
        }
        out
    }
}

/// The usage of every workspace a trace names, in the order ids were first listed or seen,
/// sorted by instant and packed (expanded when a workspace is replayed).
#[derive(Debug, Clone)]
pub struct Imported {
    pub ids: Vec<String>,
    pub usage: Vec<PackedUsage>,
    pub report: ImportReport,
}

/// One row, parsed and converted.
#[derive(Debug, Clone, Copy)]
struct Parsed {
    workspace: u32,
    at: Instant,
    credits: Credits,
}

/// A row's problem: which column and why.
#[derive(Debug, Clone)]
struct RowError {
    row: usize,
    column: usize,
    message: String,
}

/// The columns a trace is read by, as positions in [`ROLES`] order.
const TIMESTAMP: usize = 0;
const METRIC: usize = 1;
const QUANTITY: usize = 2;
const WORKSPACE: usize = 3;

/// Imports `spec`'s file for `workspaces`, in bounded memory at day resolution.
pub fn import(
    book: &PricingBook,
    spec: &TraceSpec,
    workspaces: Workspaces,
) -> Result<Imported, InputError> {
    import_with(book, spec, workspaces, Sink::new(spec.resolution)).map(|(imported, _)| imported)
}

/// A history for [`crate::usage::synthetic::Bootstrap`]: one workspace's quantity per metric and UTC day,
/// every day from the first row's date to the last's (days without rows are zero).
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub metrics: Vec<MetricId>,
    pub first_day: chrono::NaiveDate,
    pub days: Vec<Vec<Decimal>>,
}

/// Imports `spec` as a history: any time is allowed; one workspace (`only` among several).
pub fn history(
    book: &PricingBook,
    spec: &TraceSpec,
    only: Option<&str>,
) -> Result<History, InputError> {
    use crate::model::text::{YEAR_MAX, YEAR_MIN};
    let new_year = |y| chrono::NaiveDate::from_ymd_opt(y, 1, 1).expect("a valid date");
    // Any instant a timestamp may have.
    let always = UsageWindow {
        created: new_year(YEAR_MIN),
        anchor: crate::model::calendar::midnight(new_year(YEAR_MIN)),
        end: crate::model::calendar::midnight(new_year(YEAR_MAX + 1)),
    };
    let sink = Sink {
        kept: Kept::Quantities(DailyQuantities::new()),
        latest: Vec::new(),
        disordered: Vec::new(),
        days: DayIndex::default(),
    };
    let (imported, quantities) = import_with(book, spec, Workspaces::open(always), sink)?;
    let k = history_workspace(&spec.path, &imported.ids, only)?;
    let own: Vec<(chrono::NaiveDate, Vec<Decimal>)> = quantities
        .unwrap_or_default()
        .into_iter()
        .filter(|((w, _), _)| *w as usize == k)
        .map(|((_, d), q)| (d, q))
        .collect();
    History::of_dates(&spec.path, own)
}

/// The index among `ids` of the workspace a history is of: `only`, or the trace's one.
fn history_workspace(path: &Path, ids: &[String], only: Option<&str>) -> Result<usize, InputError> {
    match only {
        Some(id) => ids.iter().position(|w| w == id).ok_or_else(|| {
            InputError::whole_file(
                path,
                format!(
                    "no rows for workspace \"{id}\" (the trace has {})",
                    ids.join(", ")
                ),
            )
        }),
        None if ids.len() == 1 => Ok(0),
        None if ids.is_empty() => Err(InputError::whole_file(path, "the history has no rows")),
        None => Err(InputError::whole_file(
            path,
            format!(
                "the history has {} workspaces: choose one with workspace = \"ID\"",
                ids.len()
            ),
        )),
    }
}

impl History {
    /// The history of quantities per metric on dates in increasing order, every day from
    /// the first to the last; only the metrics it uses, in the book's order.
    fn of_dates(
        path: &Path,
        own: Vec<(chrono::NaiveDate, Vec<Decimal>)>,
    ) -> Result<History, InputError> {
        let (Some(first), Some(last)) = (own.first().map(|x| x.0), own.last().map(|x| x.0)) else {
            return Err(InputError::whole_file(path, "the history has no rows"));
        };
        let mut used: Vec<usize> = own
            .iter()
            .flat_map(|(_, q)| {
                q.iter()
                    .enumerate()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(m, _)| m)
            })
            .collect();
        used.sort_unstable();
        used.dedup();
        let span = (last - first).num_days() as usize + 1;
        let mut days = vec![vec![Decimal::ZERO; used.len()]; span];
        for (date, q) in own {
            let row = &mut days[(date - first).num_days() as usize];
            for (slot, m) in used.iter().enumerate() {
                row[slot] = q.get(*m).copied().unwrap_or(Decimal::ZERO);
            }
        }
        Ok(History {
            metrics: used.into_iter().map(MetricId).collect(),
            first_day: first,
            days,
        })
    }
}

fn import_with(
    book: &PricingBook,
    spec: &TraceSpec,
    mut workspaces: Workspaces,
    mut sink: Sink,
) -> Result<(Imported, Option<DailyQuantities>), InputError> {
    let files = trace_files(&spec.path)?;
    let mut report = ImportReport {
        path: spec.path.clone(),
        rows: 0,
        skipped: 0,
        skipped_shown: Vec::new(),
        skipped_by_column: ROLES.iter().map(|r| (r.to_string(), 0)).collect(),
        out_of_order: 0,
        credits_micros: 0,
        resolution: spec.resolution,
        events: 0,
    };
    for (path, default_id) in &files {
        let mut file = FileImport {
            book,
            spec,
            path,
            default_id,
            workspaces: &mut workspaces,
            sink: &mut sink,
            report: &mut report,
        };
        file.run()?;
    }
    let keeps_credits = !matches!(sink.kept, Kept::Quantities(_));
    let (usage, quantities) = sink.finish(&workspaces.windows);
    for (k, u) in usage.iter().enumerate() {
        let total = u.total_micros();
        if total > i128::from(CREDITS_MAX.micros()) {
            let id = &workspaces.ids[k];
            // A trace without workspace ids is one workspace, its id empty.
            let whose = if id.is_empty() {
                "the trace's usage".to_string()
            } else {
                format!("workspace \"{}\"", crate::model::diag::shown(id))
            };
            return Err(InputError::whole_file(
                &spec.path,
                format!(
                    "{whose} totals {} credits, more than the limit of {CREDITS_MAX} credits per workspace",
                    rust_decimal::Decimal::from_i128_with_scale(total, 6).normalize()
                ),
            ));
        }
    }
    // Aggregation only adds integers: the events carry exactly the rows' credits.
    let events_micros: i128 = usage.iter().map(PackedUsage::total_micros).sum();
    assert!(
        !keeps_credits || events_micros == report.credits_micros,
        "aggregation keeps the credits total"
    );
    report.events = usage.iter().map(|u| u.len() as u64).sum();
    let imported = Imported {
        ids: workspaces.ids,
        usage,
        report,
    };
    Ok((imported, quantities))
}

/// The roles of a trace's columns, in the order they are read.
const ROLES: [&str; 5] = ["timestamp", "metric", "quantity", "workspace", "fields"];
/// Errors about a row as a whole (its fields), in [`ROLES`] order.
const WHOLE_ROW: usize = 4;

/// The files of a trace: the file itself, or every `.csv` and `.parquet` file of a folder
/// (sorted by name), each file's rows belonging to the workspace named like the file unless
/// it has a workspace column.
fn trace_files(path: &Path) -> Result<Vec<(PathBuf, String)>, InputError> {
    if path.is_file() {
        return Ok(vec![(path.to_path_buf(), String::new())]);
    }
    if !path.is_dir() {
        return Err(InputError::whole_file(
            path,
            "trace file or folder not found",
        ));
    }
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(path)
        .map_err(|e| InputError::whole_file(path, format!("cannot list folder: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && read::FileType::of(p).is_ok())
        .map(|p| {
            let id = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (p, id)
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(InputError::whole_file(
            path,
            "the folder has no .csv or .parquet trace",
        ));
    }
    Ok(files)
}

/// One file of a trace being imported into the shared sink and report.
struct FileImport<'a> {
    book: &'a PricingBook,
    spec: &'a TraceSpec,
    path: &'a Path,
    /// The workspace of rows in a file without a workspace column.
    default_id: &'a str,
    workspaces: &'a mut Workspaces,
    sink: &'a mut Sink,
    report: &'a mut ImportReport,
}

impl FileImport<'_> {
    fn run(&mut self) -> Result<(), InputError> {
        let (spec, path) = (self.spec, self.path);
        let header = read::header(path, spec.delimiter)?;
        let names = column_names(path, &spec.columns, &header)?;
        if read::FileType::of(path)? == read::FileType::Parquet {
            check_parquet_types(path, &names)?;
        }
        if names.len() <= WORKSPACE {
            self.check_default_workspace()?;
        }
        let quantity = Some(names[QUANTITY].as_str());
        read::for_each_batch(path, spec.delimiter, &names, quantity, &mut |batch| {
            self.import_batch(&names, batch)
        })
    }

    /// Refuses a file without a workspace column whose rows' workspace (named like the file)
    /// the accounts table does not list.
    fn check_default_workspace(&mut self) -> Result<(), InputError> {
        let default_id = self.default_id;
        if self.workspaces.resolve(default_id).is_some() {
            return Ok(());
        }
        let whose = if default_id.is_empty() {
            "the trace has no workspace column".to_string()
        } else {
            format!("the file has no workspace column, so its rows are workspace \"{default_id}\" (its name)")
        };
        Err(InputError::whole_file(
            self.path,
            format!("{whose}, which the accounts table does not list"),
        ))
    }

    /// Parses a batch's rows in parallel tasks and adds them, in row order, to the sink and
    /// the report; an error when rows are invalid (and not skipped) or there are too many.
    fn import_batch(&mut self, names: &[String], mut batch: read::Batch) -> Result<(), InputError> {
        let path = self.path;
        let rows = batch.frame.height();
        // Every column cut at the same rows, so a task reads one chunk of each.
        batch.frame.align_chunks();
        let columns: Vec<polars::prelude::Series> = names
            .iter()
            .map(|n| {
                let column = batch.frame.column(n).map_err(|e| {
                    InputError::whole_file(path, format!("cannot read column \"{n}\": {e}"))
                })?;
                canonical(path, n, column)
            })
            .collect::<Result<_, _>>()?;
        let chunks: Vec<Vec<Cells<'_>>> = (0..columns[0].n_chunks())
            .map(|c| columns.iter().map(|s| Cells::of(s, c)).collect())
            .collect();
        let workspace_of = resolve_workspaces(self.workspaces, &chunks, rows, self.default_id);
        let by_day = matches!(self.sink.kept, Kept::Days(_));
        let in_runs = !matches!(self.sink.kept, Kept::Quantities(_));
        let batch_rows = BatchRows {
            book: self.book,
            spec: self.spec,
            windows: &self.workspaces.windows,
            chunks: &chunks,
            workspace_of: &workspace_of,
            first_row: batch.first_row,
            malformed: &batch.malformed,
            keep_quantities: matches!(self.sink.kept, Kept::Quantities(_)),
            by_day,
            in_runs,
        };
        let parts: Vec<TaskResult> = tasks(&chunks)
            .into_par_iter()
            .map(|task| batch_rows.parse(task))
            .collect();
        self.report.rows += rows as u64;
        let failures = self.add_parts(names, parts, in_runs);
        if !failures.is_empty() {
            // Stop at the first batch with errors; rows are ordered within it.
            return Err(combine(failures, self.report.skipped));
        }
        if matches!(&self.sink.kept, Kept::Events(e) if e.iter().map(PackedUsage::len).sum::<usize>() > EVENTS_MAX)
        {
            return Err(InputError::whole_file(
                path,
                format!("more than {EVENTS_MAX} usage events at event resolution: use resolution \"day\""),
            ));
        }
        Ok(())
    }

    /// Adds a batch's tasks, in order, to the sink and the report; the errors that fail the
    /// import (the first [`ERRORS_SHOWN`]), when invalid rows are not skipped.
    fn add_parts(
        &mut self,
        names: &[String],
        parts: Vec<TaskResult>,
        in_runs: bool,
    ) -> Vec<InputError> {
        let (path, skip_invalid) = (self.path, self.spec.skip_invalid);
        let (sink, report) = (&mut *self.sink, &mut *self.report);
        let windows = &self.workspaces.windows;
        let mut failures = Vec::new();
        for (ok, quantities, runs, bad, credits_micros) in parts {
            report.credits_micros += credits_micros;
            for e in bad {
                report.skipped += 1;
                report.skipped_by_column[e.column].1 += 1;
                let column = names.get(e.column).map_or("-", String::as_str);
                let error = InputError::at_row(path, e.row, column, e.message);
                if skip_invalid {
                    if report.skipped_shown.len() < ERRORS_SHOWN {
                        report.skipped_shown.push(error);
                    }
                } else if failures.len() < ERRORS_SHOWN {
                    failures.push(error);
                }
            }
            if in_runs {
                for run in runs {
                    report.out_of_order += sink.add_run(run, &ok, windows);
                }
            } else {
                for (i, p) in ok.into_iter().enumerate() {
                    let quantity = quantities.get(i).copied();
                    report.out_of_order += sink.add(p, quantity, windows) as u64;
                }
            }
        }
        failures
    }
}

/// Rows `start..end` of chunk `chunk` of a batch, the first of them row `first` of the batch:
/// what one parallel task parses.
#[derive(Debug, Clone, Copy)]
struct Task {
    chunk: usize,
    start: usize,
    end: usize,
    first: usize,
}

/// A batch's rows cut into tasks of at most [`ROWS_PER_TASK`] rows of one chunk.
fn tasks(chunks: &[Vec<Cells<'_>>]) -> Vec<Task> {
    let mut tasks = Vec::new();
    let mut offset = 0;
    for (chunk, cells) in chunks.iter().enumerate() {
        let len = cells[0].len();
        for start in (0..len).step_by(ROWS_PER_TASK) {
            tasks.push(Task {
                chunk,
                start,
                end: (start + ROWS_PER_TASK).min(len),
                first: offset + start,
            });
        }
        offset += len;
    }
    tasks
}

/// One batch's rows as its parallel tasks read them.
struct BatchRows<'a> {
    book: &'a PricingBook,
    spec: &'a TraceSpec,
    windows: &'a [UsageWindow],
    /// Per chunk, its columns in [`ROLES`] order.
    chunks: &'a [Vec<Cells<'a>>],
    /// The workspace index of each row of the batch.
    workspace_of: &'a [u32],
    /// The data row number of the batch's first row.
    first_row: usize,
    /// Rows that could not be read into fields, and why (by index in the batch).
    malformed: &'a [read::Malformed],
    keep_quantities: bool,
    by_day: bool,
    /// Rows go to the sink in runs ([`Run`]): at either resolution, not for a history.
    in_runs: bool,
}

impl BatchRows<'_> {
    /// Parses a task's rows: the common row by the fast path, any other by the general one.
    fn parse(&self, task: Task) -> TaskResult {
        let Task {
            chunk: c,
            start,
            end,
            first,
        } = task;
        let (book, spec, windows) = (self.book, self.spec, self.windows);
        let (malformed, workspace_of) = (self.malformed, self.workspace_of);
        let mut rows = RowParser {
            book,
            spec,
            windows,
            cells: &self.chunks[c],
            timestamps: parse::TimestampParser::new(&spec.timestamp_format, spec.zone),
            keep_quantities: self.keep_quantities,
        };
        let mut ok = Vec::with_capacity(end - start);
        let mut quantities = Vec::new();
        let mut bad = Vec::new();
        let mut credits_micros = 0i128;
        let common = if self.keep_quantities || !malformed.is_empty() {
            None
        } else {
            CommonRows::of(&self.chunks[c], book, windows)
        };
        for j in start..end {
            let i = first + (j - start);
            if let Some(p) = common
                .as_ref()
                .and_then(|c| c.parse(&mut rows.timestamps, j, workspace_of[i]))
            {
                credits_micros += i128::from(p.credits.micros());
                ok.push(p);
                continue;
            }
            let row = self.first_row + i;
            if !malformed.is_empty() {
                if let Ok(k) = malformed.binary_search_by_key(&i, |m| m.row) {
                    bad.push(RowError {
                        row,
                        column: malformed[k].column.unwrap_or(WHOLE_ROW),
                        message: malformed[k].message.clone(),
                    });
                    continue;
                }
            }
            match rows.parse(j, workspace_of[i]) {
                Ok((parsed, quantity)) => {
                    credits_micros += i128::from(parsed.credits.micros());
                    ok.push(parsed);
                    if let Some(q) = quantity {
                        quantities.push(q);
                    }
                }
                Err((column, message)) => bad.push(RowError {
                    row,
                    column,
                    message,
                }),
            }
        }
        let runs = if self.in_runs {
            runs(&ok, windows, self.by_day)
        } else {
            Vec::new()
        };
        (ok, quantities, runs, bad, credits_micros)
    }
}

/// One error per row, the first ones first, as one located error: the first row's location,
/// the others on following lines.
fn combine(mut errors: Vec<InputError>, total: u64) -> InputError {
    errors.sort_by_key(|e| match &e.location {
        crate::model::diag::Location::RowColumn { row, .. } => *row,
        _ => 0,
    });
    let mut first = errors.remove(0);
    for e in &errors {
        first.message.push_str(&format!("\n{e}"));
    }
    let shown = errors.len() as u64 + 1;
    if total > shown {
        first.message.push_str(&format!(
            "\n... and {} more invalid rows in the same batch",
            total - shown
        ));
    }
    first
        .message
        .push_str("\n(nothing was replayed; --skip-invalid skips invalid rows and lists them)");
    first
}

/// The delimiter a header read as one field was probably written with.
fn other_delimiter(header: &[String]) -> Option<char> {
    match header {
        [only] => [';', '\t', '|'].into_iter().find(|d| only.contains(*d)),
        _ => None,
    }
}

/// The file's names for timestamp, metric, quantity and (when present) workspace, in that
/// order; an error names a missing column and lists the header.
fn column_names(
    path: &Path,
    columns: &ColumnNames,
    header: &[String],
) -> Result<Vec<String>, InputError> {
    let has = |n: &str| header.iter().any(|h| h == n);
    // A second column of the same name would be silently ignored: refuse it.
    for (k, name) in header.iter().enumerate() {
        if header.iter().take(k).any(|h| h == name) {
            return Err(InputError::at_row(
                path,
                0,
                name,
                "the header names this column twice",
            ));
        }
    }
    let mut names = Vec::new();
    for (role, name) in [
        ("timestamp", &columns.timestamp),
        ("metric", &columns.metric),
        ("quantity", &columns.quantity),
    ] {
        if !has(name) {
            let hint = match other_delimiter(header) {
                Some(d) => format!(
                    "the header looks {d:?}-separated: read it with --delimiter '{d}' or [usage.trace] delimiter = \"{d}\""
                ),
                None => format!(
                    "map it with --column {role}=NAME or [usage.trace] {role} = \"NAME\""
                ),
            };
            return Err(InputError::at_row(
                path,
                0,
                name,
                format!(
                    "missing {role} column \"{name}\" (the header has: {}; {hint})",
                    header.join(", ")
                ),
            ));
        }
        names.push(name.clone());
    }
    match &columns.workspace {
        Some(name) if !has(name) => {
            return Err(InputError::at_row(
                path,
                0,
                name,
                format!(
                    "missing workspace column \"{name}\" (the header has: {})",
                    header.join(", ")
                ),
            ))
        }
        Some(name) => names.push(name.clone()),
        None if has("workspace") => names.push("workspace".into()),
        None => {}
    }
    Ok(names)
}

/// The Parquet types each role's column may have, in [`ROLES`] order, as a message lists them.
const ACCEPTED: [&str; 4] = [
    "string, dictionary of string, timestamp, date",
    "string, dictionary of string",
    "int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, decimal, string, dictionary of string",
    "string, dictionary of string, int8, int16, int32, int64, uint8, uint16, uint32, uint64",
];

/// Refuses a Parquet column whose type its role cannot read, naming the column, its type as
/// the file has it and the types accepted: before any row is read, and once per file rather
/// than once per row.
fn check_parquet_types(path: &Path, names: &[String]) -> Result<(), InputError> {
    use polars::prelude::ArrowDataType as A;
    let text = |t: &A| match t {
        A::Utf8 | A::LargeUtf8 | A::Utf8View => true,
        A::Dictionary(_, values, _) => {
            matches!(**values, A::Utf8 | A::LargeUtf8 | A::Utf8View)
        }
        _ => false,
    };
    let integer = |t: &A| {
        matches!(
            t,
            A::Int8 | A::Int16 | A::Int32 | A::Int64 | A::UInt8 | A::UInt16 | A::UInt32 | A::UInt64
        )
    };
    for (role, (name, t)) in names
        .iter()
        .zip(read::parquet_types(path, names)?)
        .enumerate()
    {
        let ok = text(&t)
            || match role {
                TIMESTAMP => matches!(t, A::Timestamp(..) | A::Date32 | A::Date64),
                QUANTITY => {
                    integer(&t)
                        || matches!(
                            t,
                            A::Float32
                                | A::Float64
                                | A::Decimal(..)
                                | A::Decimal32(..)
                                | A::Decimal64(..)
                        )
                }
                WORKSPACE => integer(&t),
                _ => false,
            };
        if !ok {
            return Err(InputError::whole_file(
                path,
                format!(
                    "column \"{}\" has type {}; accepted: {}",
                    crate::model::diag::shown(name),
                    read::type_name(&t),
                    ACCEPTED[role]
                ),
            ));
        }
    }
    Ok(())
}

/// Workspace indices per row of a batch; `u32::MAX` for a missing or unknown id (reported
/// by [`RowParser::parse`]). Without a workspace column every row is `default_id`'s.
fn resolve_workspaces(
    workspaces: &mut Workspaces,
    chunks: &[Vec<Cells<'_>>],
    rows: usize,
    default_id: &str,
) -> Vec<u32> {
    if chunks.first().is_none_or(|cells| cells.len() <= WORKSPACE) {
        let k = workspaces.resolve(default_id).unwrap_or(u32::MAX);
        return vec![k; rows];
    }
    let mut out = Vec::with_capacity(rows);
    // Rows of one workspace usually come together: the previous id is checked first, and
    // an id is only copied when it is new.
    let mut last: Option<(&str, u32)> = None;
    for cells in chunks {
        let column = &cells[WORKSPACE];
        for i in 0..column.len() {
            let number;
            let id: &str = match column.get(i) {
                Cell::Text(s) => parse::trimmed(s),
                Cell::Int(v) => {
                    number = v.to_string();
                    &number
                }
                _ => {
                    out.push(u32::MAX);
                    continue;
                }
            };
            if let Some((prev, k)) = last {
                if parse::same_text(prev.as_bytes(), id.as_bytes()) {
                    out.push(k);
                    continue;
                }
            }
            let k = if id.is_empty() {
                None
            } else {
                workspaces.resolve(id)
            };
            let k = k.unwrap_or(u32::MAX);
            out.push(k);
            if let Cell::Text(s) = column.get(i) {
                last = Some((parse::trimmed(s), k));
            }
        }
    }
    out
}

/// A row's credits, and its metric and quantity when they are kept; or the column at fault
/// and why.
type RowResult = Result<(Parsed, Option<(MetricId, Decimal)>), (usize, String)>;

/// The common row, parsed without the general path's checks per cell type: text timestamp
/// and metric, an integer quantity (what polars gives for a CSV with whole quantities), a
/// known workspace, and nothing wrong. Anything else is `None`, and [`RowParser::parse`]
/// decides it and words any error; for a row it parses, the result is the same.
struct CommonRows<'a> {
    timestamps: &'a TextArray,
    metrics: &'a TextArray,
    quantities: &'a Int64Array,
    book: &'a PricingBook,
    windows: &'a [UsageWindow],
}

impl<'a> CommonRows<'a> {
    /// `None` unless the chunk's columns have the common types.
    fn of(
        cells: &[Cells<'a>],
        book: &'a PricingBook,
        windows: &'a [UsageWindow],
    ) -> Option<CommonRows<'a>> {
        match (&cells[TIMESTAMP], &cells[METRIC], &cells[QUANTITY]) {
            (Cells::Text(timestamps), Cells::Text(metrics), Cells::Int(quantities)) => {
                Some(CommonRows {
                    timestamps,
                    metrics,
                    quantities,
                    book,
                    windows,
                })
            }
            _ => None,
        }
    }

    #[inline]
    fn parse(
        &self,
        timestamps: &mut parse::TimestampParser<'_>,
        i: usize,
        workspace: u32,
    ) -> Option<Parsed> {
        let window = self.windows.get(workspace as usize)?;
        let at = timestamps.parse_common(self.timestamps.get(i)?)?;
        if !window.allows(at) {
            return None;
        }
        let name = parse::trimmed(self.metrics.get(i)?);
        let rates = &self.book.rates;
        let metric = rates
            .metrics
            .iter()
            .position(|m| parse::same_text(m.name.as_bytes(), name.as_bytes()))?;
        if !self.quantities.validity().is_none_or(|v| v.get_bit(i)) {
            return None;
        }
        let units = u64::try_from(self.quantities.value(i)).ok()?;
        let version = rates.version(MetricId(metric), at).ok()?;
        let credits = version
            .ratio
            .credits_of_units(units, self.book.rounding)
            .ok()?;
        Some(Parsed {
            workspace,
            at,
            credits,
        })
    }
}

/// Parses the rows of one chunk of a batch.
struct RowParser<'a> {
    book: &'a PricingBook,
    spec: &'a TraceSpec,
    windows: &'a [UsageWindow],
    /// The chunk's columns, in [`ROLES`] order.
    cells: &'a [Cells<'a>],
    timestamps: parse::TimestampParser<'a>,
    /// Whether rows give their metric and quantity (a bootstrap history keeps them).
    keep_quantities: bool,
}

impl RowParser<'_> {
    /// Row `i` of the chunk, of the workspace at index `workspace`.
    fn parse(&mut self, i: usize, workspace: u32) -> RowResult {
        let (book, cells) = (self.book, self.cells);
        if workspace == u32::MAX {
            let message = match cells[WORKSPACE].get(i) {
                Cell::Null => "missing value".to_string(),
                Cell::Text(s) if s.trim().is_empty() => "missing value".to_string(),
                Cell::Text(s) => format!(
                    "unknown workspace \"{}\" (not in the accounts table)",
                    crate::model::diag::shown(s.trim())
                ),
                Cell::Int(v) => format!("unknown workspace \"{v}\" (not in the accounts table)"),
                _ => "a workspace id must be text or an integer".to_string(),
            };
            return Err((WORKSPACE, message));
        }
        let at = self.instant(i).map_err(|m| (TIMESTAMP, m))?;
        if let Some(m) = self.windows[workspace as usize].refuse(at) {
            return Err((TIMESTAMP, m));
        }
        let metric = match cells[METRIC].get(i) {
            Cell::Text(name) => {
                let name = parse::trimmed(name);
                book.rates
                    .metric(name)
                    .ok_or_else(|| (METRIC, book.rates.unknown_metric(name)))?
            }
            Cell::Null => return Err((METRIC, "missing value".into())),
            _ => return Err((METRIC, "a metric must be text".into())),
        };
        // No rate in force is about when the row is; anything else, about its quantity.
        let rate_error = |e: crate::model::pricing::RateError| match e {
            crate::model::pricing::RateError::NoRateInForce { .. } => (TIMESTAMP, e.to_string()),
            _ => (QUANTITY, e.to_string()),
        };
        let (credits, quantity) = match cells[QUANTITY].get(i) {
            // Whole units, the common quantity, are converted without a decimal.
            Cell::Int(units) => {
                if units < 0 {
                    return Err((QUANTITY, format!("quantity {units} is negative")));
                }
                let version = book.rates.version(metric, at).map_err(rate_error)?;
                let credits = version
                    .ratio
                    .credits_of_units(units.unsigned_abs(), book.rounding)
                    .map_err(|e| {
                        let q = Decimal::from(units);
                        rate_error(book.rates.amount_error(metric, version, q, e))
                    })?;
                (credits, self.keep_quantities.then(|| Decimal::from(units)))
            }
            cell => {
                let quantity = quantity(cell).map_err(|m| (QUANTITY, m))?;
                if quantity.is_sign_negative() && !quantity.is_zero() {
                    return Err((QUANTITY, format!("quantity {quantity} is negative")));
                }
                let credits = book
                    .rates
                    .credits(metric, at, quantity, book.rounding)
                    .map_err(rate_error)?;
                (credits, self.keep_quantities.then_some(quantity))
            }
        };
        let parsed = Parsed {
            workspace,
            at,
            credits,
        };
        Ok((parsed, quantity.map(|q| (metric, q))))
    }

    fn instant(&mut self, i: usize) -> Result<Instant, String> {
        let zone = self.spec.zone;
        match self.cells[TIMESTAMP].get(i) {
            Cell::Text(s) if !parse::trimmed(s).is_empty() => self.timestamps.parse(s),
            Cell::Null | Cell::Text(_) => Err("missing value".into()),
            Cell::Nanos(n, zoned) => {
                let t = chrono::DateTime::from_timestamp_nanos(n).naive_utc();
                // A Parquet timestamp without a zone is a local time.
                parse::in_years(if zoned { t } else { zone.to_utc(t)? })
            }
            Cell::Date(days) => {
                let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date")
                    + chrono::Duration::days(i64::from(days));
                parse::in_years(zone.to_utc(crate::model::calendar::midnight(date))?)
            }
            _ => Err("a timestamp must be text, a date or a datetime".into()),
        }
    }
}

fn quantity(cell: Cell<'_>) -> Result<Decimal, String> {
    match cell {
        Cell::Text(s) if !parse::trimmed(s).is_empty() => parse::parse_quantity(s),
        Cell::Null | Cell::Text(_) => Err("missing value".into()),
        Cell::Int(v) => Ok(Decimal::from(v)),
        Cell::Decimal(v, scale) => Decimal::try_from_i128_with_scale(v, scale).map_err(|_| {
            format!("{v}e-{scale} does not fit a decimal of at most 28 digits after the point and 96 bits")
        }),
        // A float column is accepted when each value is a short decimal, as TOML floats are.
        Cell::Float(f) => crate::usage::exact::exact_decimal_of_float(f).ok_or_else(|| {
            format!(
                "{f} is not an exact decimal of at most {} significant digits (the column is a float; write quantities as decimals)",
                crate::usage::exact::FLOAT_DIGITS_EXACT_MAX
            )
        }),
        _ => Err("a quantity must be a number or text".into()),
    }
}

/// A batch's column in the type its cells are read as: text, 64-bit integers and floats,
/// decimals, datetimes and dates; any other type is an error naming the column.
fn canonical(
    path: &Path,
    name: &str,
    column: &Column,
) -> Result<polars::prelude::Series, InputError> {
    let series = column.as_materialized_series();
    let cast = |to: &DataType| {
        series.cast(to).map_err(|e| {
            InputError::whole_file(path, format!("cannot read column \"{name}\": {e}"))
        })
    };
    match series.dtype() {
        DataType::String
        | DataType::Int64
        | DataType::Float64
        | DataType::Decimal(..)
        | DataType::Datetime(..)
        | DataType::Date => Ok(series.clone()),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => cast(&DataType::Int64),
        // Exact as 64-bit integers while every value fits; otherwise as text, so that a
        // value past i64 is still its own number (refused by the credits it converts to)
        // rather than the null a lossy cast would make of it.
        DataType::UInt64 => series
            .strict_cast(&DataType::Int64)
            .or_else(|_| cast(&DataType::String)),
        DataType::Float32 => cast(&DataType::Float64),
        // Dictionary-encoded strings (pandas categoricals, Spark exports) are their strings.
        DataType::Categorical(..) | DataType::Enum(..) => cast(&DataType::String),
        // `check_parquet_types` refuses any other type before a batch is read.
        other => Err(InputError::whole_file(
            path,
            format!(
                "column \"{}\" has type {other}, which cannot be read",
                crate::model::diag::shown(name)
            ),
        )),
    }
}

type TextArray = <polars::prelude::StringType as polars::prelude::PolarsDataType>::Array;
type Int64Array = <polars::prelude::Int64Type as polars::prelude::PolarsDataType>::Array;
type Int32Array = <polars::prelude::Int32Type as polars::prelude::PolarsDataType>::Array;
type Int128Array = <polars::prelude::Int128Type as polars::prelude::PolarsDataType>::Array;
type Float64Array = <polars::prelude::Float64Type as polars::prelude::PolarsDataType>::Array;

/// One chunk of one column, read cell by cell in place (no copy of the batch).
enum Cells<'a> {
    Text(&'a TextArray),
    Int(&'a Int64Array),
    Float(&'a Float64Array),
    Decimal(&'a Int128Array, u32),
    /// Counts of `nanos_per` nanoseconds since 1970; `true` when the column has a time zone
    /// (the values are UTC).
    Nanos(&'a Int64Array, i64, bool),
    /// Days since 1970.
    Date(&'a Int32Array),
}

#[derive(Debug, Clone, Copy)]
enum Cell<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    Float(f64),
    Decimal(i128, u32),
    /// Nanoseconds since 1970, and whether the column has a zone.
    Nanos(i64, bool),
    Date(i32),
}

impl<'a> Cells<'a> {
    /// Chunk `chunk` of a column in a [`canonical`] type.
    fn of(series: &'a polars::prelude::Series, chunk: usize) -> Cells<'a> {
        let typed = "canonical columns have the type of their data type";
        let exists = "columns are aligned: every one has the chunk";
        match series.dtype() {
            DataType::String => Cells::Text(
                series
                    .str()
                    .expect(typed)
                    .downcast_get(chunk)
                    .expect(exists),
            ),
            DataType::Int64 => Cells::Int(
                series
                    .i64()
                    .expect(typed)
                    .downcast_get(chunk)
                    .expect(exists),
            ),
            DataType::Float64 => Cells::Float(
                series
                    .f64()
                    .expect(typed)
                    .downcast_get(chunk)
                    .expect(exists),
            ),
            DataType::Decimal(_, scale) => Cells::Decimal(
                series
                    .decimal()
                    .expect(typed)
                    .physical()
                    .downcast_get(chunk)
                    .expect(exists),
                *scale as u32,
            ),
            DataType::Datetime(unit, zone) => {
                let nanos_per = match unit {
                    TimeUnit::Nanoseconds => 1,
                    TimeUnit::Microseconds => 1_000,
                    TimeUnit::Milliseconds => 1_000_000,
                };
                let values = series
                    .datetime()
                    .expect(typed)
                    .physical()
                    .downcast_get(chunk)
                    .expect(exists);
                Cells::Nanos(values, nanos_per, zone.is_some())
            }
            DataType::Date => Cells::Date(
                series
                    .date()
                    .expect(typed)
                    .physical()
                    .downcast_get(chunk)
                    .expect(exists),
            ),
            other => unreachable!("{other} is not a canonical column type"),
        }
    }

    fn len(&self) -> usize {
        match self {
            Cells::Text(a) => a.len(),
            Cells::Int(a) | Cells::Nanos(a, ..) => a.len(),
            Cells::Float(a) => a.len(),
            Cells::Decimal(a, _) => a.len(),
            Cells::Date(a) => a.len(),
        }
    }

    #[inline(always)]
    fn get(&self, i: usize) -> Cell<'a> {
        // Primitive arrays: a value is there when no validity bitmap says otherwise.
        macro_rules! primitive {
            ($array:expr, $cell:expr) => {
                if $array.validity().is_none_or(|v| v.get_bit(i)) {
                    $cell($array.value(i))
                } else {
                    Cell::Null
                }
            };
        }
        match self {
            Cells::Text(a) => a.get(i).map_or(Cell::Null, Cell::Text),
            Cells::Int(a) => primitive!(a, Cell::Int),
            Cells::Float(a) => primitive!(a, Cell::Float),
            Cells::Decimal(a, scale) => primitive!(a, |v| Cell::Decimal(v, *scale)),
            Cells::Nanos(a, per, zoned) => {
                primitive!(a, |v: i64| v
                    .checked_mul(*per)
                    .map_or(Cell::Null, |n| Cell::Nanos(n, *zoned)))
            }
            Cells::Date(a) => primitive!(a, Cell::Date),
        }
    }
}

/// What one parallel task returns: rows parsed, their metric and quantity (when the sink
/// keeps quantities), their day runs (at day resolution), rows refused, and the parsed rows'
/// credits in millionths.
type TaskResult = (
    Vec<Parsed>,
    Vec<(MetricId, Decimal)>,
    Vec<Run>,
    Vec<RowError>,
    i128,
);

/// Per workspace and UTC date, the quantity per metric (a bootstrap's history).
type DailyQuantities = std::collections::BTreeMap<(u32, chrono::NaiveDate), Vec<Decimal>>;

/// What a sink keeps of the rows.
enum Kept {
    /// Per workspace, every row in file order, sorted at the end (event resolution).
    Events(Vec<PackedUsage>),
    /// Per workspace, millionths of credits per day since its anchor (day resolution).
    Days(Vec<Vec<i64>>),
    /// Per workspace and UTC date, the quantity per metric (a bootstrap's history).
    Quantities(DailyQuantities),
}

/// Where parsed rows go.
struct Sink {
    kept: Kept,
    /// Per workspace, the latest instant seen, to count rows out of order.
    latest: Vec<Option<Instant>>,
    /// Per workspace, whether a row came earlier than one before it (it is sorted at the end).
    disordered: Vec<bool>,
    days: DayIndex,
}

/// Adds `micros` to day `day` of a workspace's day buckets.
fn add_to_day(days: &mut Vec<i64>, day: usize, micros: i64) {
    if days.len() <= day {
        days.resize(day + 1, 0);
    }
    // Saturates far above the per-workspace limit, which `import` checks.
    days[day] = days[day].saturating_add(micros);
}

/// The day of a row since its workspace's anchor, days starting at the anchor's time of day
/// (so no billing boundary falls inside a day). Rows mostly come in time order, so the
/// previous row's workspace and date usually give the day without date arithmetic.
#[derive(Debug, Clone, Copy, Default)]
struct DayIndex {
    /// The last row's workspace and date, and the days from its anchor's date to that date.
    last: Option<(u32, chrono::NaiveDate, i64)>,
}

impl DayIndex {
    fn of(&mut self, workspace: u32, at: Instant, windows: &[UsageWindow]) -> usize {
        let anchor = windows[workspace as usize].anchor;
        let date = at.date();
        let since_anchor = match self.last {
            Some((w, d, n)) if w == workspace && d == date => n,
            _ => {
                let n = (date - anchor.date()).num_days();
                self.last = Some((workspace, date, n));
                n
            }
        };
        let day = since_anchor - i64::from(at.time() < anchor.time());
        usize::try_from(day).expect("rows before the anchor are refused")
    }
}

/// Consecutive rows of one workspace (at day resolution, on one of its days), summed (day)
/// or packed (event) by a parallel task, so that the single-threaded sink adds one number or
/// copies packed bytes instead of handling every row.
#[derive(Debug, Clone)]
struct Run {
    workspace: u32,
    /// The day since the workspace's anchor (day resolution; 0 at event resolution).
    day: usize,
    /// The rows, as indices into the task's parsed rows.
    rows: std::ops::Range<usize>,
    first_at: Instant,
    /// The latest instant among the rows.
    latest_at: Instant,
    /// Rows earlier than a row before them in the run.
    earlier: u64,
    micros: i64,
    /// At event resolution, the rows packed in file order, for a run of at least
    /// [`PACKED_RUN_MIN`] rows (a shorter one is pushed row by row).
    packed: Option<PackedUsage>,
}

/// Rows a run needs before a task packs it: in a file whose workspaces interleave, runs are
/// a row or two, and packing each into its own buffer would cost more than it saves.
const PACKED_RUN_MIN: usize = 8;

/// Cuts a task's parsed rows into [`Run`]s: of one workspace and day (`by_day`), else of one
/// workspace, packed.
fn runs(rows: &[Parsed], windows: &[UsageWindow], by_day: bool) -> Vec<Run> {
    let mut days = DayIndex::default();
    let mut runs: Vec<Run> = Vec::new();
    for (i, p) in rows.iter().enumerate() {
        let day = if by_day {
            days.of(p.workspace, p.at, windows)
        } else {
            0
        };
        match runs.last_mut() {
            Some(run) if run.workspace == p.workspace && run.day == day => {
                run.rows.end = i + 1;
                if p.at < run.latest_at {
                    run.earlier += 1;
                } else {
                    run.latest_at = p.at;
                }
                run.micros = run.micros.saturating_add(p.credits.micros());
            }
            _ => runs.push(Run {
                workspace: p.workspace,
                day,
                rows: i..i + 1,
                first_at: p.at,
                latest_at: p.at,
                earlier: 0,
                micros: p.credits.micros(),
                packed: None,
            }),
        }
    }
    if !by_day {
        for run in runs.iter_mut().filter(|r| r.rows.len() >= PACKED_RUN_MIN) {
            run.packed = Some(rows[run.rows.clone()].iter().map(Parsed::usage).collect());
        }
    }
    runs
}

impl Parsed {
    fn usage(&self) -> CreditUsage {
        CreditUsage {
            at: self.at,
            credits: self.credits,
        }
    }
}

impl Sink {
    fn new(resolution: Resolution) -> Sink {
        Sink {
            kept: match resolution {
                Resolution::Event => Kept::Events(Vec::new()),
                Resolution::Day => Kept::Days(Vec::new()),
            },
            latest: Vec::new(),
            disordered: Vec::new(),
            days: DayIndex::default(),
        }
    }

    /// Adds a row (with its metric and quantity when the sink keeps quantities); true when it
    /// is earlier than the previous row of its workspace.
    fn add(
        &mut self,
        p: Parsed,
        quantity: Option<(MetricId, Decimal)>,
        windows: &[UsageWindow],
    ) -> bool {
        let k = p.workspace as usize;
        self.grow(k, windows);
        let earlier = self.latest[k].is_some_and(|t| p.at < t);
        if earlier {
            self.disordered[k] = true;
        } else {
            self.latest[k] = Some(p.at);
        }
        match &mut self.kept {
            Kept::Events(per_workspace) => {
                if per_workspace.len() <= k {
                    per_workspace.resize_with(windows.len().max(k + 1), PackedUsage::new);
                }
                per_workspace[k].push(p.usage());
            }
            Kept::Days(per_workspace) => {
                if per_workspace.len() <= k {
                    per_workspace.resize_with(windows.len().max(k + 1), Vec::new);
                }
                let day = self.days.of(p.workspace, p.at, windows);
                add_to_day(&mut per_workspace[k], day, p.credits.micros());
            }
            Kept::Quantities(q) => {
                let (metric, quantity) = quantity.expect("rows carry quantities for this sink");
                let day = q.entry((p.workspace, p.at.date())).or_default();
                if day.len() <= metric.0 {
                    day.resize(metric.0 + 1, Decimal::ZERO);
                }
                day[metric.0] += quantity;
            }
        }
        earlier
    }

    /// Makes room for workspace `k` in the per-workspace state.
    fn grow(&mut self, k: usize, windows: &[UsageWindow]) {
        if self.latest.len() <= k {
            let n = windows.len().max(k + 1);
            self.latest.resize(n, None);
            self.disordered.resize(n, false);
        }
    }

    /// Adds a run of a task's `rows`; how many of its rows are earlier than the row before
    /// them in their workspace.
    fn add_run(&mut self, run: Run, rows: &[Parsed], windows: &[UsageWindow]) -> u64 {
        let k = run.workspace as usize;
        self.grow(k, windows);
        // When the run starts no earlier than its workspace's latest row, no row of it is
        // earlier than a row before the run: only its own order counts. Otherwise (rows out
        // of order across runs) each row is added as itself.
        if self.latest[k].is_some_and(|latest| latest > run.first_at) {
            return rows[run.rows.clone()]
                .iter()
                .map(|p| u64::from(self.add(*p, None, windows)))
                .sum();
        }
        self.latest[k] = Some(run.latest_at);
        self.disordered[k] |= run.earlier > 0;
        match &mut self.kept {
            Kept::Days(per_workspace) => {
                if per_workspace.len() <= k {
                    per_workspace.resize_with(windows.len().max(k + 1), Vec::new);
                }
                add_to_day(&mut per_workspace[k], run.day, run.micros);
            }
            Kept::Events(per_workspace) => {
                if per_workspace.len() <= k {
                    per_workspace.resize_with(windows.len().max(k + 1), PackedUsage::new);
                }
                let events = &mut per_workspace[k];
                match &run.packed {
                    Some(packed) => events.append(packed),
                    None => rows[run.rows.clone()]
                        .iter()
                        .for_each(|p| events.push(p.usage())),
                }
            }
            Kept::Quantities(_) => unreachable!("a history's rows are added one by one"),
        }
        run.earlier
    }

    /// The usage per workspace (none when the sink keeps quantities), and the quantities.
    fn finish(self, windows: &[UsageWindow]) -> (Vec<PackedUsage>, Option<DailyQuantities>) {
        let mut out: Vec<PackedUsage> = vec![PackedUsage::new(); windows.len()];
        match self.kept {
            Kept::Events(per_workspace) => {
                let disordered = &self.disordered;
                let sorted: Vec<PackedUsage> = per_workspace
                    .into_par_iter()
                    .enumerate()
                    .map(|(k, mut events)| {
                        if disordered.get(k).copied().unwrap_or(false) {
                            // Stable: rows at one instant keep their file order, as inline
                            // usage does. One workspace at a time per thread is expanded.
                            events = events.sorted();
                        }
                        events.shrink_to_fit();
                        events
                    })
                    .collect();
                for (k, events) in sorted.into_iter().enumerate() {
                    out[k] = events;
                }
            }
            Kept::Days(per_workspace) => {
                for (k, days) in per_workspace.into_iter().enumerate() {
                    for (day, micros) in days.into_iter().enumerate() {
                        if micros > 0 {
                            out[k].push(CreditUsage {
                                at: add_days(windows[k].anchor, day as u32),
                                credits: Credits::from_micros(micros.min(CREDITS_MAX.micros() + 1)),
                            });
                        }
                    }
                }
            }
            Kept::Quantities(q) => return (out, Some(q)),
        }
        (out, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_read_as_one_field_names_its_delimiter() {
        let one = |h: &str| vec![h.to_string()];
        assert_eq!(
            other_delimiter(&one("timestamp;metric;quantity")),
            Some(';')
        );
        assert_eq!(other_delimiter(&one("timestamp\tmetric")), Some('\t'));
        assert_eq!(other_delimiter(&one("timestamp")), None);
        let split = ["timestamp".to_string(), "metric;x".to_string()];
        assert_eq!(
            other_delimiter(&split),
            None,
            "a header with fields was split"
        );
    }
    use proptest::prelude::*;

    fn window(anchor: &str) -> UsageWindow {
        let anchor = crate::model::text::parse_instant(anchor).unwrap();
        UsageWindow {
            created: anchor.date(),
            anchor,
            end: add_days(anchor, 30),
        }
    }

    proptest! {
        /// Summing (day) or packing (event) runs in tasks gives the usage and out-of-order
        /// count of adding every row in file order (the reference), however rows are ordered
        /// and cut into tasks; at event resolution, each workspace's rows stably sorted.
        #[test]
        fn runs_add_like_rows_one_by_one(
            rows in proptest::collection::vec((0u32..3, 0i64..5 * 86_400, 0i64..2_000_000), 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..6),
            order in 0u8..3,
            by_day in any::<bool>(),
        ) {
            // Anchors at different times of day, so days do not start at midnight.
            let windows = [window("2026-04-01T00:00:00"), window("2026-04-01T09:30:00"), window("2026-04-02T23:59:59")];
            let mut parsed: Vec<Parsed> = rows
                .iter()
                .map(|&(workspace, seconds, micros)| Parsed {
                    workspace,
                    at: windows[workspace as usize].anchor + chrono::Duration::seconds(seconds),
                    credits: Credits::from_micros(micros),
                })
                .collect();
            // As drawn (short runs), grouped by workspace (long runs, out of order), or
            // grouped and in time order (long runs, as most exports are).
            match order {
                1 => parsed.sort_by_key(|p| p.workspace),
                2 => parsed.sort_by_key(|p| (p.workspace, p.at)),
                _ => {}
            }
            let resolution = if by_day { Resolution::Day } else { Resolution::Event };
            let mut one_by_one = Sink::new(resolution);
            let earlier: u64 = parsed.iter().map(|p| u64::from(one_by_one.add(*p, None, &windows))).sum();
            let mut bounds: Vec<usize> = cuts.into_iter().filter(|c| *c < parsed.len()).collect();
            bounds.extend([0, parsed.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            let mut by_runs = Sink::new(resolution);
            let mut earlier_by_runs = 0;
            for task in bounds.windows(2) {
                let rows = &parsed[task[0]..task[1]];
                for run in runs(rows, &windows, by_day) {
                    earlier_by_runs += by_runs.add_run(run, rows, &windows);
                }
            }
            prop_assert_eq!(earlier_by_runs, earlier);
            let (want, _) = one_by_one.finish(&windows);
            let (got, _) = by_runs.finish(&windows);
            prop_assert_eq!(&got, &want);
            if !by_day {
                for (k, events) in got.iter().enumerate() {
                    let mut own: Vec<CreditUsage> = parsed
                        .iter()
                        .filter(|p| p.workspace as usize == k)
                        .map(Parsed::usage)
                        .collect();
                    own.sort_by_key(|e| e.at);
                    prop_assert_eq!(events.expand(), own);
                }
            }
        }
    }
}

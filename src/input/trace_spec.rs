//! The trace a scenario replays: its `[usage.trace]` with the command line's values over it,
//! and the one workspace a single replay takes from it.

use super::raw::{RawScenario, RawTrace, RawUsage};
use crate::model::diag::{InputError, Source};
use crate::usage::trace::parse::{TimestampFormat, Zone};
use crate::usage::trace::{Imported, Resolution, TraceSpec};
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Trace settings given on the command line; each replaces the scenario's `[usage.trace]`
/// value, and `file` replaces the scenario's usage altogether.
#[derive(Debug, Clone, Default)]
pub struct TraceOverrides {
    pub file: Option<PathBuf>,
    pub timestamp: Option<String>,
    pub metric: Option<String>,
    pub quantity: Option<String>,
    pub workspace: Option<String>,
    pub timestamp_format: Option<String>,
    pub timezone: Option<String>,
    pub resolution: Option<String>,
    pub delimiter: Option<char>,
    pub skip_invalid: bool,
    /// Replay only this workspace of a trace with several.
    pub only_workspace: Option<String>,
}

/// The trace to import: the scenario's `[usage.trace]` with the command line's values
/// over it, or the command line's `--trace` alone.
pub(super) fn resolve(
    source: &Source,
    raw: &RawScenario,
    o: &TraceOverrides,
) -> Result<Option<TraceSpec>, InputError> {
    let settings = Settings {
        source,
        cli: o,
        file: raw.usage.trace.as_ref().map(Spanned::get_ref),
    };
    let Some(path) = settings.path(&raw.usage)? else {
        return Ok(None);
    };
    let mut spec = TraceSpec::new(path);
    spec.skip_invalid = o.skip_invalid;
    settings.take_as_written(&mut spec);
    settings.parse_checked(&mut spec)?;
    Ok(Some(spec))
}

/// The trace settings of the command line and of the scenario's `[usage.trace]`, if it has
/// one; the command line's value wins.
struct Settings<'a> {
    source: &'a Source,
    cli: &'a TraceOverrides,
    file: Option<&'a RawTrace>,
}

impl Settings<'_> {
    /// The trace file: `--trace`, else `[usage.trace]`'s (when the scenario gives no other
    /// usage).
    fn path(&self, usage: &RawUsage) -> Result<Option<PathBuf>, InputError> {
        match (&self.cli.file, self.file) {
            (Some(f), _) => Ok(Some(f.clone())),
            (None, Some(t)) => {
                if usage.has_events() || usage.file.is_some() {
                    return Err(self.source.error(
                        t.file.span(),
                        "[usage.trace] replaces the usage events and file: give one or the other",
                    ));
                }
                Ok(Some(self.source.relative(t.file.get_ref())))
            }
            (None, None) => Ok(None),
        }
    }

    /// The column names and the timestamp format, taken as written: the import finds out
    /// whether they fit the trace.
    fn take_as_written(&self, spec: &mut TraceSpec) {
        let cli = self.cli;
        let columns = &mut spec.columns;
        if let Some(v) = self.text(&cli.timestamp, |t| &t.timestamp) {
            columns.timestamp = v;
        }
        if let Some(v) = self.text(&cli.metric, |t| &t.metric) {
            columns.metric = v;
        }
        if let Some(v) = self.text(&cli.quantity, |t| &t.quantity) {
            columns.quantity = v;
        }
        columns.workspace = self.text(&cli.workspace, |t| &t.workspace);
        if let Some(v) = self.text(&cli.timestamp_format, |t| &t.timestamp_format) {
            spec.timestamp_format = TimestampFormat::parse(&v);
        }
    }

    /// The time zone, resolution and delimiter, each refused here when it is not one.
    fn parse_checked(&self, spec: &mut TraceSpec) -> Result<(), InputError> {
        let cli = self.cli;
        if let Some(zone) = self.parsed(
            "timezone",
            cli.timezone.as_deref(),
            |t| t.timezone.as_ref(),
            Zone::parse,
        )? {
            spec.zone = zone;
        }
        if let Some(resolution) = self.parsed(
            "resolution",
            cli.resolution.as_deref(),
            |t| t.resolution.as_ref(),
            Resolution::parse,
        )? {
            spec.resolution = resolution;
        }
        let delimiter = cli.delimiter.map(String::from);
        if let Some(byte) = self.parsed(
            "delimiter",
            delimiter.as_deref(),
            |t| t.delimiter.as_ref(),
            delimiter_byte,
        )? {
            spec.delimiter = byte;
        }
        Ok(())
    }

    fn text(
        &self,
        cli: &Option<String>,
        written: impl Fn(&RawTrace) -> &Option<String>,
    ) -> Option<String> {
        cli.clone()
            .or_else(|| self.file.and_then(|t| written(t).clone()))
    }

    /// A setting parsed from the command line's value (errors name the flag), else from the
    /// file's (errors name its line and column); `None` when neither gives one.
    fn parsed<T>(
        &self,
        flag: &str,
        cli: Option<&str>,
        written: impl Fn(&RawTrace) -> Option<&Spanned<String>>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, InputError> {
        match (cli, self.file.and_then(written)) {
            (Some(v), _) => parse(v)
                .map(Some)
                .map_err(|m| InputError::whole_file(&self.source.path, format!("--{flag}: {m}"))),
            (None, Some(v)) => parse(v.get_ref())
                .map(Some)
                .map_err(|m| self.source.error(v.span(), m)),
            (None, None) => Ok(None),
        }
    }
}

fn delimiter_byte(c: &str) -> Result<u8, String> {
    match c.as_bytes() {
        [b] if b.is_ascii() && *b != b'"' && *b != b'\n' => Ok(*b),
        _ => Err(format!(
            "the delimiter must be one ASCII character, not \"{c}\""
        )),
    }
}

/// The one workspace a single replay takes from a trace: the only one, or `--workspace`'s.
pub(super) fn pick_workspace(
    trace: &Path,
    imported: &Imported,
    overrides: &TraceOverrides,
) -> Result<usize, InputError> {
    let ids = &imported.ids;
    match &overrides.only_workspace {
        Some(id) => ids.iter().position(|w| w == id).ok_or_else(|| {
            InputError::whole_file(
                trace,
                format!("no rows for workspace \"{id}\" (the trace has {})", some_ids(ids)),
            )
        }),
        None if ids.len() <= 1 => Ok(0),
        None => Err(InputError::whole_file(
            trace,
            format!(
                "the trace has {} workspaces ({}): replay one with --workspace ID, or all with `creditsim portfolio`",
                ids.len(),
                some_ids(ids)
            ),
        )),
    }
}

fn some_ids(ids: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut shown: Vec<&str> = ids.iter().take(SHOWN).map(String::as_str).collect();
    if ids.len() > SHOWN {
        shown.push("...");
    }
    if shown.is_empty() {
        "no rows".to_string()
    } else {
        shown.join(", ")
    }
}

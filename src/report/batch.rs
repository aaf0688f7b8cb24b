//! One batch of a portfolio, in memory: what the Python package calls from inside Spark or
//! Dask. Usage rows of whole workspaces (Parquet bytes) and a scenario (TOML text) in; the
//! portfolio table (`workspaces.parquet`'s columns and values, as Parquet bytes) out. The
//! files the loaders read are written to a private temporary folder, and every error names
//! the batch's parts ("<usage>", "<accounts>", "<scenario>") instead of that folder.

use crate::analysis::portfolio::run;
use crate::input::scenario::{load_portfolio_text, TraceOverrides};
use crate::model::diag::{InputError, Source};
use crate::report::portfolio_out::frame;
use crate::report::provenance::Provenance;
use crate::report::tables::to_parquet;
use std::path::{Path, PathBuf};

/// A batch to replay.
pub struct Batch<'a> {
    /// The usage rows (timestamp, workspace, metric, quantity), a Parquet file's bytes.
    pub usage_parquet: &'a [u8],
    /// The scenario's TOML text; paths written in it are relative to `base_dir`.
    pub scenario_toml: &'a str,
    pub base_dir: &'a Path,
    /// The accounts table's CSV text (the batch's workspaces), if any.
    pub accounts_csv: Option<&'a str>,
    /// Worker threads for the replays (the caller's worker has its own parallelism).
    pub threads: usize,
}

/// Why a batch failed: an input error (located as the CLI locates it), or a replay that
/// stopped at a limit.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    Input(InputError),
    #[error("{0}")]
    Replay(String),
    #[error("cannot use a temporary folder: {0}")]
    Io(String),
}

pub fn portfolio_batch(batch: &Batch<'_>) -> Result<Vec<u8>, BatchError> {
    let dir = tempfile::tempdir().map_err(|e| BatchError::Io(e.to_string()))?;
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, BatchError> {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).map_err(|e| BatchError::Io(e.to_string()))?;
        Ok(path)
    };
    let usage = write("usage.parquet", batch.usage_parquet)?;
    let accounts = match batch.accounts_csv {
        Some(text) => Some(write("accounts.csv", text.as_bytes())?),
        None => None,
    };
    let scenario_path = batch.base_dir.join("<scenario>");
    let mut names = vec![
        (usage.clone(), "<usage>"),
        (scenario_path.clone(), "<scenario>"),
    ];
    if let Some(a) = &accounts {
        names.push((a.clone(), "<accounts>"));
    }
    let renamed = |mut e: InputError| {
        for (path, name) in &names {
            if e.file == *path {
                e.file = PathBuf::from(name);
            }
            e.message = e.message.replace(&path.display().to_string(), name);
        }
        BatchError::Input(e)
    };
    let source = Source {
        path: scenario_path,
        text: batch.scenario_toml.to_string(),
        cut: None,
    };
    let overrides = TraceOverrides {
        file: Some(usage),
        ..TraceOverrides::default()
    };
    let portfolio =
        load_portfolio_text(source, &overrides, accounts.as_deref()).map_err(renamed)?;
    let case = &portfolio.scenario.case;
    let results = run(
        &case.book,
        case.horizon.end,
        &portfolio.members,
        Some(batch.threads.max(1)),
    )
    .map_err(|e| BatchError::Replay(e.to_string()))?;
    let mut provenance = Provenance::new("creditsim python: portfolio_batch");
    for input in portfolio.scenario.inputs.iter().skip(1) {
        provenance.input(&input.role, &input.path, &input.sha256);
    }
    Ok(to_parquet(frame(&portfolio, &results), &provenance))
}

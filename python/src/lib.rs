//! The Python package's native module: one call, a portfolio batch in memory
//! (`creditsim::report::batch`), with the GIL released while it runs. Nothing runs at import:
//! no thread is started until a batch is replayed, so the module is safe to import before a
//! fork (Spark's and Dask's workers fork).

use creditsim::model::diag::Location;
use creditsim::report::batch::{portfolio_batch, Batch, BatchError};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::Path;

create_exception!(_creditsim, CreditsimError, PyValueError);

/// Replays the whole workspaces of `usage_parquet` (a Parquet file's bytes: timestamp,
/// workspace, metric, quantity) under the scenario's strategies; returns the portfolio table
/// as Parquet bytes. An input error raises `CreditsimError(message, file, line, column, row)`
/// with the CLI's message and location.
#[pyfunction]
#[pyo3(signature = (usage_parquet, scenario_toml, base_dir, accounts_csv=None, threads=1))]
fn portfolio_batch_parquet<'py>(
    py: Python<'py>,
    usage_parquet: &[u8],
    scenario_toml: &str,
    base_dir: &str,
    accounts_csv: Option<&str>,
    threads: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let batch = Batch {
        usage_parquet,
        scenario_toml,
        base_dir: Path::new(base_dir),
        accounts_csv,
        threads,
    };
    let result = py.detach(|| portfolio_batch(&batch));
    match result {
        Ok(bytes) => Ok(PyBytes::new(py, &bytes)),
        Err(BatchError::Input(e)) => {
            let (line, column, row) = match &e.location {
                Location::LineColumn { line, column } => {
                    (Some(*line), Some(column.to_string()), None)
                }
                Location::RowColumn { row, column } => (None, Some(column.clone()), Some(*row)),
                Location::File => (None, None, None),
            };
            let file = e.file.display().to_string();
            Err(CreditsimError::new_err((
                e.to_string(),
                file,
                line,
                column,
                row,
            )))
        }
        Err(other) => Err(CreditsimError::new_err((
            other.to_string(),
            None::<String>,
            None::<usize>,
            None::<String>,
            None::<usize>,
        ))),
    }
}

#[pymodule]
fn _creditsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(portfolio_batch_parquet, m)?)?;
    m.add("CreditsimError", m.py().get_type::<CreditsimError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

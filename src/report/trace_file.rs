//! Writing traces (`creditsim trace generate`) as CSV or Parquet, in the format `import`
//! reads with its default column names, streamed in batches so that a ten-million-row trace
//! never sits in memory. The file appears atomically when it is complete.

use super::provenance::Provenance;
use crate::model::calendar::Instant;
use crate::usage::trace::read::FileType;
use polars::prelude::*;
use rust_decimal::Decimal;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Rows buffered before a Parquet row group is written.
const PARQUET_GROUP_ROWS: usize = 1 << 20;

/// One usage row of a trace.
#[derive(Debug, Clone, Copy)]
pub struct TraceRow<'a> {
    pub at: Instant,
    pub workspace: Option<&'a str>,
    pub metric: &'a str,
    pub quantity: Decimal,
}

enum Sink {
    Csv(BufWriter<File>),
    Parquet {
        writer: Box<polars::io::parquet::write::BatchedWriter<File>>,
        buffer: Columns,
    },
}

#[derive(Default)]
struct Columns {
    at_micros: Vec<i64>,
    workspace: Vec<String>,
    metric: Vec<String>,
    quantity: Vec<i128>,
}

/// Writes a trace to a temporary file beside `path` and renames it on [`finish`](Self::finish).
pub struct TraceWriter {
    path: PathBuf,
    /// Removed when dropped: an unfinished trace (an error on the way) leaves nothing behind.
    tmp: tempfile::TempPath,
    with_workspace: bool,
    /// Decimal places of the Parquet quantity column; every quantity must fit it.
    scale: u32,
    sink: Sink,
    rows: u64,
}

impl TraceWriter {
    /// `scale`: decimal places of the quantities (Parquet stores them as `decimal(38, scale)`).
    /// `provenance` goes into a Parquet file's key-value metadata (a CSV has nowhere for it).
    pub fn create(
        path: &Path,
        with_workspace: bool,
        scale: u32,
        provenance: &Provenance,
    ) -> Result<TraceWriter, String> {
        let kind = FileType::of(path).map_err(|e| e.to_string())?;
        let (file, tmp) = super::output::create_beside(path)?.into_parts();
        let sink = match kind {
            FileType::Csv => {
                let mut w = BufWriter::with_capacity(1 << 20, file);
                let header = if with_workspace {
                    "timestamp,workspace,metric,quantity\n"
                } else {
                    "timestamp,metric,quantity\n"
                };
                w.write_all(header.as_bytes())
                    .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
                Sink::Csv(w)
            }
            FileType::Parquet => {
                let schema = schema(with_workspace, scale);
                let metadata = super::tables::parquet_metadata(&schema, provenance);
                let writer = ParquetWriter::new(file)
                    .with_key_value_metadata(Some(metadata))
                    .batched(&schema)
                    .map_err(|e| format!("{}: cannot write Parquet: {e}", path.display()))?;
                Sink::Parquet {
                    writer: Box::new(writer),
                    buffer: Columns::default(),
                }
            }
        };
        Ok(TraceWriter {
            path: path.to_path_buf(),
            tmp,
            with_workspace,
            scale,
            sink,
            rows: 0,
        })
    }

    pub fn push(&mut self, row: TraceRow<'_>) -> Result<(), String> {
        assert_eq!(
            row.workspace.is_some(),
            self.with_workspace,
            "one shape per trace"
        );
        assert!(
            row.quantity.scale() <= self.scale,
            "the scale covers every quantity"
        );
        self.rows += 1;
        match &mut self.sink {
            Sink::Csv(w) => {
                let ts = row.at.format("%Y-%m-%dT%H:%M:%S%.fZ");
                let result = match row.workspace {
                    Some(ws) => writeln!(w, "{ts},{ws},{},{}", row.metric, row.quantity),
                    None => writeln!(w, "{ts},{},{}", row.metric, row.quantity),
                };
                result.map_err(|e| format!("{}: cannot write: {e}", self.path.display()))
            }
            Sink::Parquet { writer, buffer } => {
                buffer.at_micros.push(row.at.and_utc().timestamp_micros());
                if let Some(ws) = row.workspace {
                    buffer.workspace.push(ws.to_string());
                }
                buffer.metric.push(row.metric.to_string());
                let mut q = row.quantity;
                q.rescale(self.scale);
                buffer.quantity.push(q.mantissa());
                if buffer.metric.len() >= PARQUET_GROUP_ROWS {
                    flush(writer, buffer, self.with_workspace, self.scale, &self.path)?;
                }
                Ok(())
            }
        }
    }

    /// Completes the file and moves it into place; returns the rows written.
    pub fn finish(mut self) -> Result<u64, String> {
        let path = &self.path;
        match &mut self.sink {
            Sink::Csv(w) => w
                .flush()
                .map_err(|e| format!("{}: cannot write: {e}", path.display()))?,
            Sink::Parquet { writer, buffer } => {
                flush(writer, buffer, self.with_workspace, self.scale, path)?;
                writer
                    .finish()
                    .map_err(|e| format!("{}: cannot write Parquet: {e}", path.display()))?;
            }
        };
        drop(self.sink);
        self.tmp
            .persist(path)
            .map_err(|e| format!("{}: cannot write: {}", path.display(), e.error))?;
        Ok(self.rows)
    }
}

fn schema(with_workspace: bool, scale: u32) -> Schema {
    let mut fields = vec![Field::new(
        "timestamp".into(),
        DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
    )];
    if with_workspace {
        fields.push(Field::new("workspace".into(), DataType::String));
    }
    fields.push(Field::new("metric".into(), DataType::String));
    fields.push(Field::new(
        "quantity".into(),
        DataType::Decimal(38, scale as usize),
    ));
    fields.into_iter().collect()
}

fn flush(
    writer: &mut polars::io::parquet::write::BatchedWriter<File>,
    buffer: &mut Columns,
    with_workspace: bool,
    scale: u32,
    path: &Path,
) -> Result<(), String> {
    if buffer.metric.is_empty() {
        return Ok(());
    }
    let b = std::mem::take(buffer);
    let mut columns = vec![Int64Chunked::from_vec("timestamp".into(), b.at_micros)
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_series()
        .into_column()];
    if with_workspace {
        columns.push(Column::new("workspace".into(), b.workspace));
    }
    columns.push(Column::new("metric".into(), b.metric));
    columns.push(
        Int128Chunked::from_vec("quantity".into(), b.quantity)
            .into_decimal(38, scale as usize)
            .map_err(|e| format!("{}: cannot write Parquet: {e}", path.display()))?
            .into_series()
            .into_column(),
    );
    let frame = DataFrame::new_infer_height(columns).expect("columns of equal length");
    writer
        .write_batch(&frame)
        .map_err(|e| format!("{}: cannot write Parquet: {e}", path.display()))
}

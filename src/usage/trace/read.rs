//! Reading a trace file in bounded batches with polars.
//!
//! polars is built without `lazy` (it doubles a cold build on the CI machine), so streaming
//! is done here: a CSV file is cut into blocks of whole rows (quote-aware) and each block is
//! parsed by polars' CSV reader; a Parquet file is read a slice of rows at a time with its
//! metadata parsed once. Memory is bounded by the block size, whatever the file's length.
//!
//! CSV cells are read as text so that every cell is parsed by `trace::parse` and any bad one
//! is reported with its row and column; polars does the tokenising, which is the costly part.

use crate::model::diag::InputError;
use polars::prelude::*;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

/// Bytes of CSV handed to polars at once.
pub const CSV_BLOCK_BYTES: usize = 8 << 20;
/// Rows of Parquet read at once.
pub const PARQUET_BATCH_ROWS: usize = 1 << 20;

/// The file type, from the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Csv,
    Parquet,
}

impl FileType {
    pub fn of(path: &Path) -> Result<FileType, InputError> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") | Some("txt") | Some("tsv") => Ok(FileType::Csv),
            Some("parquet") | Some("pq") => Ok(FileType::Parquet),
            _ => Err(InputError::whole_file(
                path,
                "a trace must be a .csv or .parquet file",
            )),
        }
    }
}

/// One batch of rows: `first_row` is the 1-based data row of the frame's first row.
pub struct Batch {
    pub first_row: usize,
    pub frame: DataFrame,
    /// Rows that could not be read into the header's fields, in row order; their cells are
    /// null.
    pub malformed: Vec<Malformed>,
}

/// A row that could not be read into the header's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The row's index in the batch's frame.
    pub row: usize,
    /// The read column at fault, as a position in the columns asked for; `None` for the
    /// row as a whole (a field too many).
    pub column: Option<usize>,
    pub message: String,
}

/// The header of a trace: its column names, in file order.
pub fn header(path: &Path, delimiter: u8) -> Result<Vec<String>, InputError> {
    match FileType::of(path)? {
        FileType::Csv => {
            let mut file = open(path)?;
            let mut head = Vec::new();
            (&mut file)
                .take(1 << 20)
                .read_to_end(&mut head)
                .map_err(|e| InputError::whole_file(path, format!("cannot read: {e}")))?;
            Ok(csv_header(path, &head, delimiter)?.0)
        }
        FileType::Parquet => {
            let mut reader = ParquetReader::new(open(path)?);
            let schema = reader
                .schema()
                .map_err(|e| InputError::whole_file(path, format!("not a Parquet file: {e}")))?;
            Ok(schema.iter_names().map(|n| n.to_string()).collect())
        }
    }
}

fn open(path: &Path) -> Result<File, InputError> {
    File::open(path).map_err(|e| InputError::whole_file(path, format!("cannot open: {e}")))
}

/// The header's names (a UTF-8 byte-order mark removed) and the byte offset where data starts.
fn csv_header(path: &Path, head: &[u8], delimiter: u8) -> Result<(Vec<String>, usize), InputError> {
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(&head[bom..]);
    let mut record = csv::ByteRecord::new();
    let found = reader
        .read_byte_record(&mut record)
        .map_err(|e| InputError::whole_file(path, format!("cannot read the header: {e}")))?;
    if !found || record.iter().all(|f| f.is_empty()) {
        return Err(InputError::whole_file(
            path,
            "the file is empty (expected a header row)",
        ));
    }
    let names = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect();
    let mut data_start = bom + reader.position().byte() as usize;
    // The csv crate ends a record at the "\r" of a CRLF line end and leaves its "\n" for the
    // next record: left there, polars would read it as an empty first row (a phantom row 1
    // that shifts every row number in errors by one).
    if head.get(data_start.wrapping_sub(1)) == Some(&b'\r') && head.get(data_start) == Some(&b'\n')
    {
        data_start += 1;
    }
    Ok((names, data_start))
}

/// Calls `each` with every batch of `path`, in file order, reading only `columns` (names
/// from the header). Parquet columns keep their types. CSV columns are text, except
/// `integer_column`, which is read as 64-bit integers while every value of a block is one
/// (an integer is the common quantity, and polars parses it faster than it copies text);
/// from the first block where it is not, it is read as text too.
pub fn for_each_batch(
    path: &Path,
    delimiter: u8,
    columns: &[String],
    integer_column: Option<&str>,
    each: &mut dyn FnMut(Batch) -> Result<(), InputError>,
) -> Result<(), InputError> {
    match FileType::of(path)? {
        FileType::Csv => csv_batches(
            path,
            delimiter,
            columns,
            integer_column,
            CSV_BLOCK_BYTES,
            each,
        ),
        FileType::Parquet => parquet_batches(path, columns, each),
    }
}

fn csv_batches(
    path: &Path,
    delimiter: u8,
    columns: &[String],
    integer_column: Option<&str>,
    block_bytes: usize,
    each: &mut dyn FnMut(Batch) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let mut blocks = CsvBlocks {
        path,
        file: open(path)?,
        pending: Vec::with_capacity(block_bytes + (1 << 20)),
        block_bytes,
        at_end: false,
    };
    // The header is read from the first MiB at least, whatever the block size.
    blocks.read(block_bytes.max(1 << 20) as u64)?;
    let (names, data_start) = csv_header(path, &blocks.pending, delimiter)?;
    blocks.pending.drain(..data_start);
    let mut parser = BlockParser::new(names, columns, integer_column, delimiter);
    // A reader thread cuts and parses the next block while the caller works on this one.
    let (send, receive) = std::sync::mpsc::sync_channel::<Batch>(1);
    let produce = move || -> Result<(), InputError> {
        let mut first_row = 1;
        while let Some(block) = blocks.next_block()? {
            let (frame, malformed) = parser.parse(&block);
            let rows = frame.height();
            let batch = Batch {
                first_row,
                frame,
                malformed,
            };
            if send.send(batch).is_err() {
                return Ok(()); // the caller stopped (an error of its own)
            }
            first_row += rows;
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let reader = scope.spawn(produce);
        // Owned here, so an early return drops it before the scope waits for the reader.
        let receive = receive;
        for batch in receive.iter() {
            // Returning drops the receiver, which stops the reader at its next block.
            each(batch)?;
        }
        reader
            .join()
            .expect("the trace reader thread does not panic")
    })
}

/// A CSV file's data cut into blocks of whole rows, about `block_bytes` each.
struct CsvBlocks<'a> {
    path: &'a Path,
    file: File,
    /// Bytes read and not yet handed out as a block.
    pending: Vec<u8>,
    block_bytes: usize,
    at_end: bool,
}

/// Whole CSV rows, and whether they have a quote anywhere.
struct Block {
    bytes: Vec<u8>,
    quoted: bool,
}

impl CsvBlocks<'_> {
    /// Appends up to `want` more bytes of the file to `pending`.
    fn read(&mut self, want: u64) -> Result<(), InputError> {
        let got = (&mut self.file)
            .take(want)
            .read_to_end(&mut self.pending)
            .map_err(|e| InputError::whole_file(self.path, format!("cannot read: {e}")))?;
        self.at_end = got == 0;
        Ok(())
    }

    /// The next block of rows that is not all whitespace; `None` after the last.
    fn next_block(&mut self) -> Result<Option<Block>, InputError> {
        let block_bytes = self.block_bytes;
        while !self.at_end || !self.pending.is_empty() {
            if !self.at_end && self.pending.len() < block_bytes {
                self.read((block_bytes - self.pending.len()) as u64)?;
                if !self.at_end {
                    continue;
                }
            }
            let pending = &self.pending;
            // Most event logs quote nothing; a block without a quote is parsed without
            // quote handling, which saves polars a comparison per byte.
            let quoted = memchr::memchr(b'"', pending).is_some();
            // The last row end within a block's bytes; beyond them only for a row longer than
            // a block; at the end of the file, the last row needs no newline.
            let window = pending.len().min(block_bytes);
            let cut = match last_row_end(&pending[..window], quoted) {
                Some(cut) => cut,
                None if self.at_end && window == pending.len() => pending.len(),
                None => match last_row_end(pending, quoted) {
                    Some(cut) => cut,
                    None if self.at_end => pending.len(),
                    None => {
                        self.read(block_bytes as u64)?;
                        continue;
                    }
                },
            };
            // The rows up to the cut leave as the block; the partial row after it starts the
            // next buffer (copying it, not the block).
            let mut next = Vec::with_capacity(block_bytes + (1 << 20));
            next.extend_from_slice(&self.pending[cut..]);
            self.pending.truncate(cut);
            let bytes = std::mem::replace(&mut self.pending, next);
            if !bytes.iter().all(|b| b.is_ascii_whitespace()) {
                return Ok(Some(Block { bytes, quoted }));
            }
        }
        Ok(None)
    }
}

/// Every column of a CSV header as text, or `integer` as 64-bit integers.
fn csv_schema(names: &[String], integer: Option<&str>) -> Arc<Schema> {
    let schema: Schema = names
        .iter()
        .map(|n| {
            let dtype = if Some(n.as_str()) == integer {
                DataType::Int64
            } else {
                DataType::String
            };
            Field::new(n.as_str().into(), dtype)
        })
        .collect();
    Arc::new(schema)
}

/// Parses CSV blocks into frames of the projected columns.
struct BlockParser {
    /// The header's names.
    names: Vec<String>,
    /// The read columns, as positions in the header.
    projection: Vec<usize>,
    delimiter: u8,
    text_schema: Arc<Schema>,
    /// `None` once a block's integer column was not all integers.
    integer_schema: Option<Arc<Schema>>,
}

impl BlockParser {
    fn new(
        names: Vec<String>,
        columns: &[String],
        integer_column: Option<&str>,
        delimiter: u8,
    ) -> BlockParser {
        let projection = columns
            .iter()
            .map(|c| {
                names
                    .iter()
                    .position(|n| n == c)
                    .expect("columns come from the header")
            })
            .collect();
        BlockParser {
            text_schema: csv_schema(&names, None),
            integer_schema: integer_column.map(|column| csv_schema(&names, Some(column))),
            names,
            projection,
            delimiter,
        }
    }

    /// The block's frame, and its rows that do not split into the header's fields.
    fn parse(&mut self, block: &Block) -> (DataFrame, Vec<Malformed>) {
        let typed = self
            .integer_schema
            .as_ref()
            .map(|schema| self.polars_read(schema, block));
        match typed {
            Some(Ok(frame)) => (frame, Vec::new()),
            _ => match self.polars_read(&self.text_schema, block) {
                Ok(frame) => {
                    // Text where integers failed: the column is not all integers.
                    self.integer_schema = None;
                    (frame, Vec::new())
                }
                // polars refuses a whole block for one ragged or non-UTF-8 row without
                // saying which; the `csv` crate re-reads the block row by row to name them.
                Err(_) => {
                    rows_one_by_one(&block.bytes, &self.names, &self.projection, self.delimiter)
                }
            },
        }
    }

    fn polars_read(&self, schema: &Arc<Schema>, block: &Block) -> PolarsResult<DataFrame> {
        CsvReadOptions::default()
            .with_has_header(false)
            .with_schema(Some(Arc::clone(schema)))
            .with_projection(Some(Arc::new(self.projection.clone())))
            .with_rechunk(false)
            .map_parse_options(|o| {
                o.with_separator(self.delimiter)
                    .with_quote_char(block.quoted.then_some(b'"'))
                    .with_truncate_ragged_lines(false)
            })
            .into_reader_with_file_handle(Cursor::new(block.bytes.as_slice()))
            .finish()
    }
}

/// The end (after the newline) of the last complete row in `block`: the last newline outside
/// quotes. Rows have no quotes in most event logs (`quoted` false: the block has none), which
/// makes this a reverse search.
fn last_row_end(block: &[u8], quoted: bool) -> Option<usize> {
    if !quoted {
        return memchr::memrchr(b'\n', block).map(|i| i + 1);
    }
    let mut quoted = false;
    let mut last = None;
    for (i, &b) in block.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => last = Some(i + 1),
            _ => {}
        }
    }
    last
}

/// A block read by the `csv` crate: the projected columns as text, with null cells for rows
/// that do not split into the header's fields or have a read cell that is not UTF-8 (listed
/// with why). A row with fewer fields has nulls for the missing ones, as in polars. Columns
/// that are not read may hold anything, as they do when polars reads the block.
fn rows_one_by_one(
    block: &[u8],
    names: &[String],
    projection: &[usize],
    delimiter: u8,
) -> (DataFrame, Vec<Malformed>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(block);
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); projection.len()];
    let mut malformed = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut row = 0;
    loop {
        let problem = match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) if record.len() > names.len() => Some((
                None,
                format!(
                    "extra value (the row has {} fields, the header has {})",
                    record.len(),
                    names.len()
                ),
            )),
            Ok(true) => not_utf8(&record, projection),
            Err(e) => Some((None, format!("malformed row: {e}"))),
        };
        for (column, &field) in columns.iter_mut().zip(projection) {
            let cell = match &problem {
                Some(_) => None,
                None => record
                    .get(field)
                    .filter(|f| !f.is_empty())
                    .map(|f| String::from_utf8_lossy(f).into_owned()),
            };
            column.push(cell);
        }
        if let Some((column, message)) = problem {
            malformed.push(Malformed {
                row,
                column,
                message,
            });
        }
        row += 1;
    }
    let frame = DataFrame::new_infer_height(
        columns
            .into_iter()
            .zip(projection)
            .map(|(values, &field)| Column::new(names[field].as_str().into(), values))
            .collect(),
    )
    .expect("columns of equal length");
    (frame, malformed)
}

/// The first read cell of `record` that is not UTF-8 (its position among the read columns)
/// and the message naming its value.
fn not_utf8(record: &csv::ByteRecord, projection: &[usize]) -> Option<(Option<usize>, String)> {
    projection.iter().enumerate().find_map(|(k, &field)| {
        let cell = record.get(field)?;
        std::str::from_utf8(cell).is_err().then(|| {
            let value = crate::model::diag::shown_bytes(cell);
            (Some(k), format!("not valid UTF-8: \"{value}\""))
        })
    })
}

/// The Arrow type, as the file has it, of each of `columns` (names from the header) of a
/// Parquet file.
pub fn parquet_types(path: &Path, columns: &[String]) -> Result<Vec<ArrowDataType>, InputError> {
    let schema = ParquetReader::new(open(path)?)
        .schema()
        .map_err(|e| InputError::whole_file(path, format!("not a Parquet file: {e}")))?;
    Ok(columns
        .iter()
        .map(|c| {
            schema
                .get(c.as_str())
                .map_or(ArrowDataType::Null, |f| f.dtype().clone())
        })
        .collect())
}

/// An Arrow type as a person reading a Parquet schema (pyarrow, Spark) names it.
pub fn type_name(dtype: &ArrowDataType) -> String {
    use ArrowDataType as A;
    match dtype {
        A::Int8 => "int8".into(),
        A::Int16 => "int16".into(),
        A::Int32 => "int32".into(),
        A::Int64 => "int64".into(),
        A::UInt8 => "uint8".into(),
        A::UInt16 => "uint16".into(),
        A::UInt32 => "uint32".into(),
        A::UInt64 => "uint64".into(),
        A::Float16 => "float16".into(),
        A::Float32 => "float32".into(),
        A::Float64 => "float64".into(),
        A::Decimal(p, s) | A::Decimal32(p, s) | A::Decimal64(p, s) | A::Decimal256(p, s) => {
            format!("decimal({p}, {s})")
        }
        A::Utf8 | A::LargeUtf8 | A::Utf8View => "string".into(),
        A::Dictionary(_, values, _) => format!("dictionary of {}", type_name(values)),
        A::Boolean => "boolean".into(),
        A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_) => "binary".into(),
        A::Date32 | A::Date64 => "date".into(),
        A::Timestamp(..) => "timestamp".into(),
        A::Time32(_) | A::Time64(_) => "time of day".into(),
        A::Duration(_) => "duration".into(),
        A::List(_) | A::LargeList(_) | A::FixedSizeList(..) => "list".into(),
        A::Struct(_) => "struct".into(),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}

/// `metadata` with the Arrow schema's 8- and 16-bit integer columns read as 32-bit ones.
/// polars is built without those types (each is a feature of its own) and fails the whole
/// read on them; Parquet stores them as 32-bit integers anyway, so this reads the same
/// numbers.
fn with_small_integers_widened(
    path: &Path,
    metadata: Arc<polars_parquet::read::FileMetadata>,
) -> Result<Arc<polars_parquet::read::FileMetadata>, InputError> {
    use polars_parquet::read::infer_schema;
    let small = |t: &ArrowDataType| {
        matches!(
            t,
            ArrowDataType::Int8
                | ArrowDataType::Int16
                | ArrowDataType::UInt8
                | ArrowDataType::UInt16
        )
    };
    let mut schema = infer_schema(&metadata)
        .map_err(|e| InputError::whole_file(path, format!("cannot read Parquet: {e}")))?;
    if !schema.iter_values().any(|f| small(f.dtype())) {
        return Ok(metadata);
    }
    for (_, field) in schema.iter_mut() {
        if small(field.dtype()) {
            field.dtype = ArrowDataType::Int32;
        }
    }
    let key = polars_parquet::write::schema_to_metadata_key(&schema);
    let mut widened = (*metadata).clone();
    let pairs = widened.key_value_metadata.get_or_insert_with(Vec::new);
    pairs.retain(|kv| kv.key != key.key);
    pairs.push(key);
    Ok(Arc::new(widened))
}

fn parquet_batches(
    path: &Path,
    columns: &[String],
    each: &mut dyn FnMut(Batch) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let not_parquet =
        |e: PolarsError| InputError::whole_file(path, format!("cannot read Parquet: {e}"));
    let mut probe = ParquetReader::new(open(path)?);
    let rows = probe.num_rows().map_err(not_parquet)?;
    let metadata = probe.get_metadata().map_err(not_parquet)?.clone();
    let metadata = with_small_integers_widened(path, metadata)?;
    let mut offset = 0;
    while offset < rows {
        let len = PARQUET_BATCH_ROWS.min(rows - offset);
        let mut reader = ParquetReader::new(open(path)?);
        reader.set_metadata(metadata.clone());
        let frame = reader
            .with_columns(Some(columns.to_vec()))
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(not_parquet)?;
        each(Batch {
            first_row: offset + 1,
            frame,
            malformed: Vec::new(),
        })?;
        offset += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every batch of `text` read in blocks of `block_bytes`: each batch's first row and the
    /// type polars gave the quantity column, and the cells as text.
    fn batches(text: &str, block_bytes: usize) -> Vec<(usize, DataType, Vec<String>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let columns = ["metric".to_string(), "quantity".to_string()];
        let mut out = Vec::new();
        csv_batches(
            &path,
            b',',
            &columns,
            Some("quantity"),
            block_bytes,
            &mut |b| {
                assert!(b.malformed.is_empty());
                let quantity = b.frame.column("quantity").unwrap();
                let text = quantity.cast(&DataType::String).unwrap();
                let metric = b.frame.column("metric").unwrap();
                let cells = (0..b.frame.height())
                    .map(|i| {
                        let m = metric.str().unwrap().get(i).unwrap();
                        format!("{m}={}", text.str().unwrap().get(i).unwrap_or("null"))
                    })
                    .collect();
                out.push((b.first_row, quantity.dtype().clone(), cells));
                Ok(())
            },
        )
        .unwrap();
        out
    }

    #[test]
    fn quantities_are_integers_until_a_block_is_not() {
        // 16-byte blocks: "a,1\nb,2\nc,3\nd,4\n" is 16 bytes, so each block ends on a row.
        let text = "metric,quantity\na,1\nb,2\nc,3\nd,4\ne,0.5\nf,6\ng,7\nh,8\ni,9\n";
        let got = batches(text, 16);
        let types: Vec<&DataType> = got.iter().map(|b| &b.1).collect();
        // Integers first; text from the block with 0.5 on, even where integers would do.
        assert_eq!(types[0], &DataType::Int64);
        assert!(
            types[1..].iter().all(|t| **t == DataType::String),
            "{types:?}"
        );
        let cells: Vec<String> = got.iter().flat_map(|b| b.2.clone()).collect();
        assert_eq!(
            cells,
            ["a=1", "b=2", "c=3", "d=4", "e=0.5", "f=6", "g=7", "h=8", "i=9"]
        );
        // Rows are numbered across blocks.
        let mut expected_first = 1;
        for (first, _, cells) in &got {
            assert_eq!(*first, expected_first);
            expected_first += cells.len();
        }
    }

    #[test]
    fn a_block_with_quotes_is_parsed_with_them() {
        // The second block quotes a metric with a comma and a newline; the first quotes nothing.
        let text = "metric,quantity\na,1\nb,2\n\"x,\ny\",3\nc,4\n";
        let cells: Vec<String> = batches(text, 8).into_iter().flat_map(|b| b.2).collect();
        assert_eq!(cells, ["a=1", "b=2", "x,\ny=3", "c=4"]);
    }

    #[test]
    fn a_row_ends_at_the_last_newline_outside_quotes() {
        assert_eq!(last_row_end(b"a,1\nb,2\nc,", false), Some(8));
        assert_eq!(last_row_end(b"a,\"x\ny\"\nb,\"p\nq", true), Some(8));
        assert_eq!(last_row_end(b"a,\"x\ny", true), None);
        assert_eq!(last_row_end(b"no newline", false), None);
    }
}

//! Every Monte Carlo path's cumulative cost at every month end, per strategy and measure: what
//! the fan's exact percentiles are selected from, kept apart from the paths' totals so that
//! memory stays flat in the horizon.
//!
//! Paths run in blocks. A block's month-end costs are laid out column by column (one column
//! per strategy, measure and month end, a value per path), so that a statistic reads one
//! column of a block as one slice. While every path's costs fit in
//! [`IN_MEMORY_BYTES_MAX`] the blocks stay in memory; past it they are written to an
//! unnamed temporary file as they are finished, and a column is read back from each block
//! when it is summarised. Resident memory then holds one block and one column, whatever
//! the horizon; the file (in the temporary directory, `TMPDIR`, removed when the run ends
//! or dies) holds paths x strategies x 2 x months x 8 bytes.

use rayon::prelude::*;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;

/// Most bytes of month-end costs held in memory; a run needing more keeps them in a file.
pub const IN_MEMORY_BYTES_MAX: usize = 32 << 20;

/// Most bytes of one block of month-end costs (as filled by the paths, and once more as
/// laid out by column).
const BLOCK_BYTES_MAX: usize = 2 << 20;

/// Cash and economic cost: the two measures whose month ends are kept.
pub const MEASURES: usize = 2;

/// The shape of a run's month-end costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub strategies: usize,
    pub months: usize,
}

impl Shape {
    /// Values one path leaves: strategies x measures x months.
    pub fn per_path(self) -> usize {
        self.strategies * MEASURES * self.months
    }

    /// Where strategy `s`'s `measure` (0 cash, 1 economic) at month end `k` sits among a
    /// path's values.
    pub fn column(self, s: usize, measure: usize, k: usize) -> usize {
        debug_assert!(s < self.strategies && measure < MEASURES && k < self.months);
        (s * MEASURES + measure) * self.months + k
    }

    /// How many paths one block holds: as many as fit in [`BLOCK_BYTES_MAX`] and in
    /// `bytes_max` (the memory bound of the run), at least one.
    pub fn block_paths(self, bytes_max: usize) -> usize {
        (BLOCK_BYTES_MAX.min(bytes_max) / (self.per_path().max(1) * 8)).max(1)
    }
}

/// Where a finished block's columns are.
#[derive(Debug)]
enum Stored {
    Memory(Vec<i64>),
    /// At this byte offset of the spill file.
    File(u64),
}

#[derive(Debug)]
struct Block {
    paths: usize,
    stored: Stored,
}

/// The month-end costs of a run's paths, in path order.
#[derive(Debug)]
pub struct MonthCosts {
    shape: Shape,
    blocks: Vec<Block>,
    /// The unnamed temporary file the blocks go to when they do not fit in memory.
    spill: Option<File>,
    spill_len: u64,
    paths: usize,
}

impl MonthCosts {
    /// An empty store for `paths` paths of `shape`; it spills to a temporary file when they
    /// need more than `bytes_max` ([`IN_MEMORY_BYTES_MAX`] in a run).
    pub fn new(shape: Shape, paths: usize, bytes_max: usize) -> std::io::Result<MonthCosts> {
        let bytes = paths.saturating_mul(shape.per_path()).saturating_mul(8);
        let spill = if bytes > bytes_max {
            Some(tempfile::tempfile()?)
        } else {
            None
        };
        Ok(MonthCosts {
            shape,
            blocks: Vec::new(),
            spill,
            spill_len: 0,
            paths: 0,
        })
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Paths pushed so far.
    pub fn paths(&self) -> usize {
        self.paths
    }

    /// Whether the costs are kept in a temporary file rather than in memory.
    pub fn spills(&self) -> bool {
        self.spill.is_some()
    }

    /// Appends the next block of paths: `rows` holds each path's values one after the other
    /// (laid out by [`Shape::column`]).
    pub fn push_block(&mut self, rows: &[i64]) -> std::io::Result<()> {
        let width = self.shape.per_path();
        assert!(width > 0 && rows.len() % width == 0, "whole paths");
        let paths = rows.len() / width;
        // Laid out on every thread: the next block's paths wait for this.
        let stored = match &mut self.spill {
            None => {
                let mut columns = vec![0; rows.len()];
                transpose(rows, width, &mut columns, |value, slot| *slot = value);
                Stored::Memory(columns)
            }
            Some(file) => {
                let mut bytes = vec![[0u8; 8]; rows.len()];
                transpose(rows, width, &mut bytes, |value, slot| {
                    *slot = value.to_ne_bytes(); // read back by this process only
                });
                file.write_all(bytes.as_flattened())?;
                let offset = self.spill_len;
                self.spill_len += (rows.len() * 8) as u64;
                Stored::File(offset)
            }
        };
        self.blocks.push(Block { paths, stored });
        self.paths += paths;
        Ok(())
    }

    /// Column `column` (see [`Shape::column`]) over every path, in path order, into `out`.
    pub fn read_column(&self, column: usize, out: &mut Vec<i64>) -> std::io::Result<()> {
        assert!(column < self.shape.per_path());
        out.clear();
        out.reserve(self.paths);
        let mut bytes = Vec::new();
        for block in &self.blocks {
            let from = column * block.paths;
            match &block.stored {
                Stored::Memory(values) => out.extend_from_slice(&values[from..from + block.paths]),
                Stored::File(offset) => {
                    let file = self.spill.as_ref().expect("a spilled block has a file");
                    bytes.resize(block.paths * 8, 0);
                    file.read_exact_at(&mut bytes, offset + (from * 8) as u64)?;
                    let values = bytes.chunks_exact(8);
                    out.extend(values.map(|b| i64::from_ne_bytes(b.try_into().expect("8 bytes"))));
                }
            }
        }
        Ok(())
    }
}

/// Lays `rows` (one path's `width` values after another) out column by column into `out`,
/// each value put in its slot by `put`, the columns on every thread.
fn transpose<T: Send>(rows: &[i64], width: usize, out: &mut [T], put: impl Fn(i64, &mut T) + Sync) {
    let paths = rows.len() / width;
    out.par_chunks_mut(paths)
        .enumerate()
        .for_each(|(c, column)| {
            for (p, slot) in column.iter_mut().enumerate() {
                put(rows[p * width + c], slot);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Path p's value in column c: distinct for every (p, c), negative for odd paths.
    fn value(p: usize, c: usize) -> i64 {
        let v = (p * 1_000 + c) as i64;
        if p % 2 == 1 {
            -v
        } else {
            v
        }
    }

    fn rows(shape: Shape, paths: std::ops::Range<usize>) -> Vec<i64> {
        paths
            .flat_map(|p| (0..shape.per_path()).map(move |c| value(p, c)))
            .collect()
    }

    #[test]
    fn a_column_reads_back_every_path_in_order_in_memory_or_spilled() {
        // 2 strategies x 2 measures x 3 months = 12 values a path; 10 paths in blocks of 4,
        // 4 and 2.
        let shape = Shape {
            strategies: 2,
            months: 3,
        };
        for bytes_max in [usize::MAX, 0] {
            let mut costs = MonthCosts::new(shape, 10, bytes_max).unwrap();
            assert_eq!(costs.spills(), bytes_max == 0);
            for block in [0..4, 4..8, 8..10] {
                costs.push_block(&rows(shape, block)).unwrap();
            }
            assert_eq!(costs.paths(), 10);
            let mut column = Vec::new();
            for c in 0..shape.per_path() {
                costs.read_column(c, &mut column).unwrap();
                let expected: Vec<i64> = (0..10).map(|p| value(p, c)).collect();
                assert_eq!(column, expected, "column {c}, bytes_max {bytes_max}");
            }
        }
    }

    #[test]
    fn columns_are_strategy_then_measure_then_month() {
        let shape = Shape {
            strategies: 3,
            months: 12,
        };
        // Strategy 1's economic cost (measure 1) at month end 4: (1 x 2 + 1) x 12 + 4 = 40.
        assert_eq!(shape.column(1, 1, 4), 40);
        assert_eq!(shape.column(2, 1, 11), shape.per_path() - 1);
    }

    #[test]
    fn a_block_holds_at_most_its_bytes_and_at_least_one_path() {
        let year = Shape {
            strategies: 4,
            months: 12,
        };
        // 96 values = 768 bytes a path: 2 MiB / 768 = 2,730 paths.
        assert_eq!(year.block_paths(IN_MEMORY_BYTES_MAX), 2_730);
        // Within a smaller memory bound: 7,680 / 768 = 10 paths.
        assert_eq!(year.block_paths(7_680), 10);
        let huge = Shape {
            strategies: 64,
            months: 10_000,
        };
        assert_eq!(huge.block_paths(IN_MEMORY_BYTES_MAX), 1);
        assert_eq!(year.block_paths(0), 1);
    }
}

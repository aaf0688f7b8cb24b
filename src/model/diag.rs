//! Errors about input files, located to a line and column (TOML) or row and column (CSV).

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where in a file something is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column of a text file.
    LineColumn { line: usize, column: usize },
    /// 1-based data row (the header is row 0) and the column's name.
    RowColumn { row: usize, column: String },
    /// The file as a whole (it could not be read, or is empty).
    File,
}

/// One problem with one input file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    pub file: PathBuf,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.location {
            Location::LineColumn { line, column } => {
                write!(f, "{file}:{line}:{column}: {}", self.message)
            }
            Location::RowColumn { row, column } => {
                write!(
                    f,
                    "{file}: row {row}, column \"{column}\": {}",
                    self.message
                )
            }
            Location::File => write!(f, "{file}: {}", self.message),
        }
    }
}

impl InputError {
    pub fn whole_file(file: &Path, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_path_buf(),
            location: Location::File,
            message: message.into(),
        }
    }

    pub fn at_row(file: &Path, row: usize, column: &str, message: impl Into<String>) -> InputError {
        InputError {
            file: file.to_path_buf(),
            location: Location::RowColumn {
                row,
                column: column.to_string(),
            },
            message: message.into(),
        }
    }
}

/// A source text with its path, to turn byte spans into line and column.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    pub fn read(path: &Path) -> Result<Source, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::whole_file(path, format!("cannot read: {e}")))?;
        Ok(Source {
            path: path.to_path_buf(),
            text,
        })
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> InputError {
        let (line, column) = line_column(&self.text, span.start);
        InputError {
            file: self.path.clone(),
            location: Location::LineColumn { line, column },
            message: message.into(),
        }
    }

    /// Resolves a path written in this file relative to the file's folder.
    pub fn relative(&self, written: &str) -> PathBuf {
        let written = Path::new(written);
        if written.is_absolute() {
            return written.to_path_buf();
        }
        self.path.parent().unwrap_or(Path::new(".")).join(written)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // "bé = " is 6 bytes but 5 characters: the value starts at column 6.
        assert_eq!(line_column(text, 12), (2, 6));
    }
}

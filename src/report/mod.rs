//! Results rendered for people and machines. Every command builds a [`doc::Doc`] (headings,
//! paragraphs, tables, notes, charts, and the data behind them) and one renderer turns it
//! into text fitted to the terminal, Markdown, self-contained HTML, JSON or tidy CSV.
//! Parquet tables, charts, traces and JUnit are written here too, with provenance.

pub mod advise;
pub mod batch;
pub mod breakeven;
pub mod breakeven_chart;
pub mod charts;
pub mod check;
pub mod doc;
pub mod html;
pub mod impact;
pub mod impact_charts;
pub mod impact_out;
pub mod output;
pub mod pdf;
pub mod portfolio_out;
pub mod provenance;
pub mod quote;
pub mod quote_charts;
pub mod quote_words;
pub mod replay;
pub mod revenue_sensitivity;
pub mod sensitivity;
pub mod simulate;
pub mod tables;
pub mod text;
pub mod trace_file;
pub mod trace_generate;

pub use doc::{Doc, Format};

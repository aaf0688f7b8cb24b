//! The vocabulary: exact amounts, the calendar, the validated pricing book, usage events and
//! located input errors. Pure data and exact arithmetic: no files read, no randomness, no
//! threads.

pub mod amounts;
pub mod calendar;
pub mod diag;
pub mod pricing;
pub mod text;

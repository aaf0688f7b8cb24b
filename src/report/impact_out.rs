//! `impact`'s tables for notebooks (columns documented in notebooks-data/README.md):
//! `customers.parquet`, one row per customer and book and view, and `revenue.parquet`, one
//! row per book, view and calendar month. Amounts are `Decimal(19, 6)` as everywhere.

use super::tables::{days_since_epoch, decimal_column};
use crate::analysis::impact::{change, month_starts, revenue, Bill, CustomerImpact, Which};
use crate::input::impact::LoadedImpact;
use crate::model::pricing::PricingBook;
use polars::prelude::*;

/// The books of a run: (index, name, file), the current book first as index 0.
pub fn books(loaded: &LoadedImpact, files: &[String]) -> Vec<(u32, String, String)> {
    let mut out = vec![(0, loaded.input.current_book.name.clone(), files[0].clone())];
    for (k, c) in loaded.input.candidates.iter().enumerate() {
        out.push((k as u32 + 1, c.name.clone(), files[k + 1].clone()));
    }
    out
}

/// Every bill of the run, customer by customer: today's, then each candidate book's views.
fn every_bill(results: &[CustomerImpact]) -> impl Iterator<Item = (usize, Which, &Bill)> {
    results
        .iter()
        .enumerate()
        .flat_map(|(k, r)| Which::every(r.after.len()).map(move |which| (k, which, which.of(r))))
}

fn book_of(loaded: &LoadedImpact, which: Which) -> &PricingBook {
    match which {
        Which::Today => &loaded.input.current_book,
        Which::After { book, .. } => &loaded.input.candidates[book].book,
    }
}

/// The amount columns of customers.parquet, in order: see [`bill_amounts`].
const BILL_COLUMNS: [&str; 9] = [
    "cash",
    "plan_fees",
    "prepaid_purchases",
    "flex_charges",
    "economic_cost",
    "credits_demanded",
    "credits_blocked",
    "cash_today",
    "cash_change",
];

/// One bill's `BILL_COLUMNS`, in millionths: customer `k`'s `which` bill.
fn bill_amounts(results: &[CustomerImpact], k: usize, which: Which) -> [i64; 9] {
    let bill = which.of(&results[k]);
    [
        bill.cash().micros(),
        bill.money[0].micros(),
        bill.money[1].micros(),
        bill.money[2].micros(),
        bill.economic.micros(),
        bill.demanded.micros(),
        bill.blocked.micros(),
        results[k].today.cash().micros(),
        match which {
            Which::Today => 0,
            Which::After { book, view } => change(&results[k], book, view),
        },
    ]
}

/// One row per customer, book and view: the bill, and its change from today's.
pub fn customers_frame(
    loaded: &LoadedImpact,
    results: &[CustomerImpact],
    files: &[String],
) -> DataFrame {
    let books = books(loaded, files);
    let current = &loaded.input.current_book;
    let (mut workspace, mut cohort, mut seats, mut book, mut book_index) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut view, mut setup, mut final_plan) = (Vec::new(), Vec::new(), Vec::new());
    let (mut segment, mut weight) = (Vec::<Option<&str>>::new(), Vec::new());
    let per = i128::from(loaded.input.weight_per.max(1));
    let mut amounts: [Vec<i64>; 9] = Default::default();
    for (k, which, bill) in every_bill(results) {
        let c = &loaded.input.customers[k];
        workspace.push(c.id.as_str());
        segment.push((loaded.segment_of.get(k)).map(|&i| loaded.segments[i].0.as_str()));
        // At most a billion customers over at least one path: within i64 millionths.
        weight.push(((i128::from(c.weight) * 1_000_000 + per / 2) / per) as i64);
        cohort.push(current.cohorts[c.workspace.cohort.0].id.as_str());
        seats.push(c.workspace.seats);
        book_index.push(which.book_index());
        book.push(books[which.book_index() as usize].1.as_str());
        view.push(which.view_key());
        setup.push(bill.setup.as_str());
        final_plan.push(book_of(loaded, which).plans[bill.plan.0].id.as_str());
        let values = bill_amounts(results, k, which);
        for (column, value) in amounts.iter_mut().zip(values) {
            column.push(value);
        }
    }
    let mut columns = vec![
        Column::new("workspace".into(), workspace),
        Column::new("cohort".into(), cohort),
        Column::new("seats".into(), seats),
        Column::new("segment".into(), segment),
        decimal_column("weight", weight),
        Column::new("book_index".into(), book_index),
        Column::new("book".into(), book),
        Column::new("view".into(), view),
        Column::new("setup".into(), setup),
        Column::new("final_plan".into(), final_plan),
    ];
    for (name, values) in BILL_COLUMNS.iter().zip(amounts) {
        columns.push(decimal_column(name, values));
    }
    DataFrame::new_infer_height(columns).expect("columns of equal length")
}

/// One row per book, view and calendar month: revenue by kind.
/// A sum too large for a column (more than 9.2 million million units in one month) is an
/// error, never a wrong number.
pub fn revenue_frame(
    loaded: &LoadedImpact,
    results: &[CustomerImpact],
    files: &[String],
) -> Result<DataFrame, String> {
    let starts = month_starts(loaded.input.horizon);
    let books = books(loaded, files);
    // The same weighted sums as the summary's (a segment's simulated customer stands for
    // customers / paths), month by month.
    let sums: Vec<(u32, &'static str, Vec<[i128; 3]>)> =
        Which::every(loaded.input.candidates.len())
            .map(|which| {
                let r = revenue(&loaded.input, results, which);
                (which.book_index(), which.view_key(), r.months)
            })
            .collect();
    let (mut book_index, mut book, mut book_file, mut view, mut month) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut amounts: [Vec<i64>; 4] = Default::default();
    for (b, v, months) in &sums {
        for (start, m) in starts.iter().zip(months) {
            book_index.push(*b);
            book.push(books[*b as usize].1.as_str());
            book_file.push(books[*b as usize].2.as_str());
            view.push(*v);
            month.push(days_since_epoch(*start));
            for (column, value) in amounts
                .iter_mut()
                .zip([m[0], m[1], m[2], m[0] + m[1] + m[2]])
            {
                let fits = i64::try_from(value).map_err(|_| {
                    format!(
                        "revenue.parquet: the revenue of the month from {} is more than a \
                         Decimal(19, 6) column holds",
                        crate::model::calendar::display(*start)
                    )
                })?;
                column.push(fits);
            }
        }
    }
    let mut columns = vec![
        Column::new("book_index".into(), book_index),
        Column::new("book".into(), book),
        Column::new("book_file".into(), book_file),
        Column::new("view".into(), view),
        Int32Chunked::from_vec("month".into(), month)
            .into_date()
            .into_series()
            .into_column(),
    ];
    for (name, values) in ["plan_fees", "prepaid_purchases", "flex_charges", "cash"]
        .iter()
        .zip(amounts)
    {
        columns.push(decimal_column(name, values));
    }
    Ok(DataFrame::new_infer_height(columns).expect("columns of equal length"))
}

//! `sensitivity --portfolio`: which assumption moves a portfolio's total revenue most, in
//! both of `impact`'s views (a table and a tornado each).

use super::charts::Rendered;
use super::doc::{Block, Doc, Table};
use super::sensitivity::tornado_chart;
use crate::analysis::revenue_sensitivity::{RevenueParameter, RevenueSensitivity};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const VIEWS: [&str; 2] = [
    "customers keep their setups",
    "customers move to their cheapest",
];

fn money(micros: i128, digits: u32) -> Decimal {
    Decimal::from_i128_with_scale(micros, crate::model::amounts::SCALE_DIGITS)
        .round_dp_with_strategy(digits, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

fn signed(d: Decimal) -> String {
    if d > Decimal::ZERO {
        format!("+{d}")
    } else {
        d.to_string()
    }
}

/// What a portfolio's revenue sensitivity is about.
pub struct Subject<'a> {
    pub title: &'a str,
    pub currency: &'a str,
    pub digits: u32,
    pub customers: String,
}

fn swing(r: &RevenueParameter, view: usize) -> i128 {
    (r.high.revenue[view] - r.low.revenue[view]).abs()
}

pub fn revenue_sensitivity_doc(
    subject: &Subject<'_>,
    rs: &RevenueSensitivity,
) -> Result<(Doc, Vec<Rendered>), String> {
    let d = subject.digits;
    let mut doc = Doc::new(format!("Revenue sensitivity of {}", subject.title));
    doc.subtitle = Some(format!(
        "{} customers, one parameter at a time",
        subject.customers
    ));
    doc.push(Block::Paragraph(format!(
        "Revenue at the base: {} {} today; {} if every customer moved to their cheapest setup. \
         Each parameter of today's book (and the usage) is moved alone to its low and its high \
         end, on the same usage, and the revenue found again in both views.",
        money(rs.base.revenue[0], d),
        subject.currency,
        money(rs.base.revenue[1], d)
    )));
    doc.push(Block::Table(table(subject, rs)));
    let mut charts = Vec::new();
    for (view, words) in VIEWS.iter().enumerate() {
        let chart = tornado(subject, rs, view, words)?;
        doc.push(Block::Chart(chart.inline()));
        charts.push(chart);
    }
    doc.data = json_of(subject, rs);
    Ok((doc, charts))
}

fn table(subject: &Subject<'_>, rs: &RevenueSensitivity) -> Table {
    let d = subject.digits;
    let mut order: Vec<&RevenueParameter> = rs.parameters.iter().collect();
    order.sort_by_key(|r| std::cmp::Reverse(swing(r, 0)));
    let change = |at: i128, view: usize| signed(money(at - rs.base.revenue[view], d));
    let rows = order
        .iter()
        .map(|r| {
            let p = r.parameter;
            vec![
                p.name().to_string(),
                format!("{}{}", signed(r.low.change.normalize()), p.unit()),
                format!("{}{}", signed(r.high.change.normalize()), p.unit()),
                change(r.low.revenue[0], 0),
                change(r.high.revenue[0], 0),
                change(r.low.revenue[1], 1),
                change(r.high.revenue[1], 1),
            ]
        })
        .collect();
    Table {
        title: format!(
            "Change in total revenue ({}), by swing when customers keep their setups",
            subject.currency
        ),
        header: [
            "parameter",
            "low",
            "high",
            "keep: at low",
            "keep: at high",
            "move: at low",
            "move: at high",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        key_columns: 1,
    }
}

fn tornado(
    subject: &Subject<'_>,
    rs: &RevenueSensitivity,
    view: usize,
    words: &str,
) -> Result<Rendered, String> {
    let units = |micros: i128| micros as f64 / 1e6;
    let base = rs.base.revenue[view];
    let bars = (rs.parameters.iter())
        .map(|r| {
            (
                r.parameter.name().to_string(),
                units(r.low.revenue[view] - base),
                units(r.high.revenue[view] - base),
            )
        })
        .collect();
    let title = format!(
        "{}: change in total revenue, {words} ({}; blue: low end, red: high end)",
        subject.title, subject.currency
    );
    let name = if view == 0 {
        "tornado-keep"
    } else {
        "tornado-move"
    };
    tornado_chart(name, title, bars)
}

fn json_of(subject: &Subject<'_>, rs: &RevenueSensitivity) -> Value {
    let d = subject.digits;
    let point = |revenue: &[i128; 2]| {
        json!({
            "keep": money(revenue[0], d).to_string(),
            "move": money(revenue[1], d).to_string(),
        })
    };
    json!({
        "title": subject.title,
        "currency": subject.currency,
        "base": point(&rs.base.revenue),
        "parameters": rs.parameters.iter().map(|r| json!({
            "parameter": r.parameter.name(),
            "unit": r.parameter.unit(),
            "low": r.low.change.to_string(),
            "high": r.high.change.to_string(),
            "revenue_at_low": point(&r.low.revenue),
            "revenue_at_high": point(&r.high.revenue),
        })).collect::<Vec<_>>(),
    })
}

//! `impact`'s summary: per candidate book, revenue by kind today and after the change in
//! both views, how customers' bills move (quantiles, share paying more, largest movers),
//! refused usage, revenue by month, and the charts.

use super::charts::Rendered;
use super::doc::{Block, Doc, Table};
use super::impact_charts::{cost_change_chart, waterfall_chart};
use crate::analysis::impact::{
    change, changes, month_starts, revenue, revenue_of, Changes, CustomerImpact, Revenue, Which,
    CHANGE_PERCENTILES, KINDS, VIEWS,
};
use crate::input::impact::LoadedImpact;
use crate::model::calendar::display;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// Millionths shown in whole minor units, with thousands separators.
fn amount(v: i128, digits: u32) -> String {
    let d = Decimal::from_i128_with_scale(v, crate::model::amounts::SCALE_DIGITS).round_dp(digits);
    crate::model::text::grouped_text(&format!("{d:.*}", digits as usize))
}

fn signed(v: i128, digits: u32) -> String {
    if v > 0 {
        format!("+{}", amount(v, digits))
    } else {
        amount(v, digits)
    }
}

/// `after` against `before` in percent with one decimal, or "n/a" from nothing.
fn percent(before: i128, after: i128) -> String {
    if before == 0 {
        return "n/a".to_string();
    }
    let p = Decimal::from_i128_with_scale((after - before) * 1000 / before, 1);
    if p > Decimal::ZERO {
        format!("+{p}%")
    } else {
        format!("{p}%")
    }
}

/// Credits to two decimals, as a reader compares them (the Parquet has every digit).
fn credits(v: i128) -> String {
    amount(v, 2)
}

struct Context<'a> {
    loaded: &'a LoadedImpact,
    results: &'a [CustomerImpact],
    digits: u32,
    currency: &'a str,
}

pub fn impact_doc(
    loaded: &LoadedImpact,
    results: &[CustomerImpact],
) -> Result<(Doc, Vec<Rendered>), String> {
    let book = &loaded.input.current_book;
    let cx = Context {
        loaded,
        results,
        digits: book.minor_digits,
        currency: &book.currency,
    };
    let horizon = loaded.input.horizon;
    let mut doc = Doc::new(format!("Impact of pricing changes on {}", loaded.title));
    doc.subtitle = Some(format!(
        "{} customers on {} today, horizon {} to {}",
        count(customers_weight(loaded), loaded.input.weight_per),
        book.name,
        display(horizon.start),
        display(horizon.end)
    ));
    if let Some(import) = &loaded.import {
        doc.push(Block::Paragraph(super::portfolio_out::import_line(
            &super::portfolio_out::TraceInfo::of(import),
        )));
    }
    if !loaded.segments.is_empty() {
        doc.push(Block::Paragraph(segments_words(loaded)));
    }
    doc.push(Block::Paragraph(format!(
        "Each customer's usage is replayed under today's book on their current setup ({}), \
         then under each candidate book twice: \
         keeping that setup (plans, cohorts and bundles carried over by name or by the migration \
         table), and moving to the cheapest of at most {} setups advise proposes, judged on \
         their own usage. Revenue is what customers are charged ({}), by the month of the charge.",
        loaded.current_setup, loaded.input.search_max, cx.currency
    )));
    let today = revenue(&loaded.input, results, Which::Today);
    let mut charts = Vec::new();
    for (b, candidate) in loaded.input.candidates.iter().enumerate() {
        let after: Vec<Revenue> = (0..VIEWS.len())
            .map(|view| revenue(&loaded.input, results, Which::After { book: b, view }))
            .collect();
        let moves: Vec<Changes> = (0..VIEWS.len())
            .map(|v| changes(&loaded.input, results, b, v))
            .collect();
        doc.push(Block::Heading(format!("Under {}", candidate.name)));
        doc.push(Block::Paragraph(lead(&cx, &today, &after, &moves)));
        doc.push(Block::Table(revenue_table(&cx, &today, &after)));
        doc.push(Block::Table(customers_table(&cx, &moves)));
        for (v, m) in moves.iter().enumerate() {
            doc.push(Block::Table(movers_table(&cx, b, v, m)));
        }
        doc.push(Block::Table(months_table(&cx, &today, &after)));
        if !loaded.segments.is_empty() {
            doc.push(Block::Table(segments_table(&cx, b)));
        }
        let waterfall = waterfall_chart(&loaded.input, results, b, cx.currency)?;
        let histogram = cost_change_chart(results, b, &candidate.name, cx.currency)?;
        doc.push(Block::Chart(waterfall.inline()));
        doc.push(Block::Chart(histogram.inline()));
        charts.extend([waterfall, histogram]);
    }
    doc.data = impact_json(&cx, &today);
    doc.tidy = Some(tidy(&cx, &today));
    Ok((doc, charts))
}

fn lead(cx: &Context<'_>, today: &Revenue, after: &[Revenue], moves: &[Changes]) -> String {
    let d = cx.digits;
    let (m, per) = (&moves[0], moves[0].per);
    let n = count(m.customers, per);
    format!(
        "Revenue {} {} today. If customers keep their setups: {} ({}); {} of {n} pay more, {} \
         less. If each moves to its cheapest setup: {} ({}); {} of {n} move, {} pay more, {} less. \
         Usage refused (credits): {} today, {} and {} after.",
        amount(today.cash(), d),
        cx.currency,
        amount(after[0].cash(), d),
        percent(today.cash(), after[0].cash()),
        count(moves[0].paying_more, per),
        count(moves[0].paying_less, per),
        amount(after[1].cash(), d),
        percent(today.cash(), after[1].cash()),
        count(moves[1].moved, per),
        count(moves[1].paying_more, per),
        count(moves[1].paying_less, per),
        credits(moves[0].blocked_today_micros),
        credits(moves[0].blocked_after_micros),
        credits(moves[1].blocked_after_micros),
    )
}

/// Customers a weight stands for: whole, or to one decimal (a segment's simulated
/// customers stand for fractions).
fn count(weight: u128, per: u64) -> String {
    let per = u128::from(per.max(1));
    if weight % per == 0 {
        return (weight / per).to_string();
    }
    let tenths = (weight * 10 + per / 2) / per;
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn json_count(weight: u128, per: u64) -> Value {
    let per = u128::from(per.max(1));
    if weight % per == 0 {
        json!((weight / per) as u64)
    } else {
        json!(
            Decimal::from_i128_with_scale((weight * 1_000_000 / per) as i128, 6)
                .normalize()
                .to_string()
        )
    }
}

fn customers_weight(loaded: &LoadedImpact) -> u128 {
    loaded
        .input
        .customers
        .iter()
        .map(|c| u128::from(c.weight))
        .sum()
}

fn segments_words(loaded: &LoadedImpact) -> String {
    let list: Vec<String> = (loaded.segments.iter())
        .map(|(name, customers)| format!("{name} ({customers} customers)"))
        .collect();
    format!(
        "Segments: {}. Each is {} customers simulated from its profile (customer k is path k of \
         `simulate` on the profile, with its seed), each standing for the segment's customers / {}.",
        list.join(", "),
        loaded.input.weight_per,
        loaded.input.weight_per
    )
}

fn revenue_table(cx: &Context<'_>, today: &Revenue, after: &[Revenue]) -> Table {
    let d = cx.digits;
    let mut header = vec!["kind".to_string(), format!("today ({})", cx.currency)];
    for view in VIEWS {
        header.extend([view.to_string(), "change".to_string(), "%".to_string()]);
    }
    let row = |name: &str, t: i128, a: Vec<i128>| {
        let mut cells = vec![name.to_string(), amount(t, d)];
        for x in a {
            cells.extend([amount(x, d), signed(x - t, d), percent(t, x)]);
        }
        cells
    };
    let mut rows: Vec<Vec<String>> = (0..KINDS.len())
        .map(|k| {
            row(
                KINDS[k],
                today.total[k],
                after.iter().map(|a| a.total[k]).collect(),
            )
        })
        .collect();
    rows.push(row(
        "total",
        today.cash(),
        after.iter().map(Revenue::cash).collect(),
    ));
    Table {
        title: "Revenue by kind over the horizon".to_string(),
        header,
        rows,
        key_columns: 1,
    }
}

fn customers_table(cx: &Context<'_>, moves: &[Changes]) -> Table {
    let d = cx.digits;
    let mut header: Vec<String> = ["view", "pay more", "pay less", "mean change"]
        .map(String::from)
        .to_vec();
    header.extend(CHANGE_PERCENTILES.iter().map(|p| match p {
        0 => "least".to_string(),
        100 => "most".to_string(),
        p => format!("P{p}"),
    }));
    header.extend(["refused usage (customers)", "credits refused", "moved"].map(String::from));
    let rows = VIEWS
        .iter()
        .zip(moves)
        .map(|(view, m)| {
            let mut cells = vec![
                view.to_string(),
                share(m.paying_more, m),
                share(m.paying_less, m),
                signed(m.mean_micros, d),
            ];
            cells.extend(
                m.percentiles_micros
                    .iter()
                    .map(|p| signed(i128::from(*p), d)),
            );
            cells.extend([
                format!(
                    "{} -> {}",
                    count(m.blocking_today, m.per),
                    count(m.blocking_after, m.per)
                ),
                format!(
                    "{} -> {}",
                    credits(m.blocked_today_micros),
                    credits(m.blocked_after_micros)
                ),
                count(m.moved, m.per),
            ]);
            cells
        })
        .collect();
    Table {
        title: format!(
            "Change in what each customer pays ({}; today -> after)",
            cx.currency
        ),
        header,
        rows,
        key_columns: 1,
    }
}

/// Customers and their share of all, "13 (65.0%)".
fn share(k: u128, m: &Changes) -> String {
    let n = m.customers.max(1) as i128;
    format!(
        "{} ({})",
        count(k, m.per),
        percent(n, n + k as i128).trim_start_matches('+')
    )
}

fn movers_table(cx: &Context<'_>, book: usize, view: usize, m: &Changes) -> Table {
    let d = cx.digits;
    let current = &cx.loaded.input.current_book;
    let rows = (m.up.iter().map(|k| ("up", *k)))
        .chain(m.down.iter().map(|k| ("down", *k)))
        .map(|(way, k)| {
            let r = &cx.results[k];
            let c = &cx.loaded.input.customers[k];
            let after = &r.after[book][view];
            vec![
                way.to_string(),
                c.id.clone(),
                current.plans[c.workspace.plan.0].id.clone(),
                credits(i128::from(r.today.demanded.micros())),
                amount(i128::from(r.today.cash().micros()), d),
                amount(i128::from(after.cash().micros()), d),
                signed(i128::from(change(r, book, view)), d),
                after.setup.clone(),
            ]
        })
        .collect();
    Table {
        title: format!("Largest movers, customers {}", VIEWS[view]),
        header: [
            "way",
            "workspace",
            "plan today",
            "credits used",
            "today",
            "after",
            "change",
            "setup after",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        key_columns: 2,
    }
}

fn months_table(cx: &Context<'_>, today: &Revenue, after: &[Revenue]) -> Table {
    let d = cx.digits;
    let starts = month_starts(cx.loaded.input.horizon);
    let cash = |m: &[i128; 3]| m.iter().sum::<i128>();
    let rows = starts
        .iter()
        .enumerate()
        .map(|(k, start)| {
            let mut cells = vec![
                start.format("%Y-%m").to_string(),
                amount(cash(&today.months[k]), d),
            ];
            cells.extend(after.iter().map(|a| amount(cash(&a.months[k]), d)));
            cells
        })
        .collect();
    let mut header = vec!["month".to_string(), format!("today ({})", cx.currency)];
    header.extend(VIEWS.map(String::from));
    Table {
        title: "Revenue by month".to_string(),
        header,
        rows,
        key_columns: 1,
    }
}

/// Revenue by segment: today and in both views.
fn segments_table(cx: &Context<'_>, book: usize) -> Table {
    let (input, d) = (&cx.loaded.input, cx.digits);
    let rows = (cx.loaded.segments.iter().enumerate())
        .map(|(i, (name, customers))| {
            let keep = |k: usize| cx.loaded.segment_of[k] == i;
            let today = revenue_of(input, cx.results, Which::Today, &keep).cash();
            let mut cells = vec![name.clone(), customers.to_string(), amount(today, d)];
            for view in 0..VIEWS.len() {
                let after =
                    revenue_of(input, cx.results, Which::After { book, view }, &keep).cash();
                cells.extend([amount(after, d), percent(today, after)]);
            }
            cells
        })
        .collect();
    let mut header = vec![
        "segment".to_string(),
        "customers".to_string(),
        format!("today ({})", cx.currency),
    ];
    for view in VIEWS {
        header.extend([view.to_string(), "%".to_string()]);
    }
    Table {
        title: "Revenue by segment".to_string(),
        header,
        rows,
        key_columns: 1,
    }
}

fn impact_json(cx: &Context<'_>, today: &Revenue) -> Value {
    let d = cx.digits;
    let kinds = |r: &Revenue| {
        json!({
            "plan_fees": amount(r.total[0], d).replace(',', ""),
            "prepaid": amount(r.total[1], d).replace(',', ""),
            "flex": amount(r.total[2], d).replace(',', ""),
            "cash": amount(r.cash(), d).replace(',', ""),
        })
    };
    let books: Vec<Value> = (cx.loaded.input.candidates.iter().enumerate())
        .map(|(b, c)| {
            let views: Vec<Value> = (0..VIEWS.len())
                .map(|v| {
                    let m = changes(&cx.loaded.input, cx.results, b, v);
                    json!({
                        "view": Which::After { book: b, view: v }.view_key(),
                        "revenue": kinds(&revenue(&cx.loaded.input, cx.results, Which::After { book: b, view: v })),
                        "customers_paying_more": json_count(m.paying_more, m.per),
                        "customers_paying_less": json_count(m.paying_less, m.per),
                        "customers_moved": json_count(m.moved, m.per),
                        "change_percentiles": CHANGE_PERCENTILES.iter().zip(&m.percentiles_micros)
                            .map(|(p, x)| json!({"percentile": p, "change": amount(i128::from(*x), d).replace(',', "")}))
                            .collect::<Vec<_>>(),
                        "customers_refused_usage": json_count(m.blocking_after, m.per),
                        "credits_refused": credits(m.blocked_after_micros),
                    })
                })
                .collect();
            json!({ "book": c.name, "views": views })
        })
        .collect();
    json!({
        "title": cx.loaded.title,
        "currency": cx.currency,
        "customers": json_count(customers_weight(cx.loaded), cx.loaded.input.weight_per),
        "current_setup": cx.loaded.current_setup,
        "search_max": cx.loaded.input.search_max,
        "today": kinds(today),
        "candidates": books,
    })
}

/// One row per book and view: revenue by kind (today is book 0).
fn tidy(cx: &Context<'_>, today: &Revenue) -> Table {
    let d = cx.digits;
    let plain = |v: i128| amount(v, d).replace(',', "");
    let row = |book: &str, view: &str, r: &Revenue| {
        vec![
            book.to_string(),
            view.to_string(),
            plain(r.total[0]),
            plain(r.total[1]),
            plain(r.total[2]),
            plain(r.cash()),
        ]
    };
    let mut rows = vec![row(&cx.loaded.input.current_book.name, "today", today)];
    for (b, c) in cx.loaded.input.candidates.iter().enumerate() {
        for v in 0..VIEWS.len() {
            let r = revenue(
                &cx.loaded.input,
                cx.results,
                Which::After { book: b, view: v },
            );
            rows.push(row(
                &c.name,
                Which::After { book: b, view: v }.view_key(),
                &r,
            ));
        }
    }
    Table {
        title: "Revenue by book and view".to_string(),
        header: [
            "book",
            "view",
            "plan_fees",
            "prepaid_purchases",
            "flex_charges",
            "cash",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        key_columns: 2,
    }
}

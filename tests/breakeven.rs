//! Break-even crossings on the credits book (scenarios/pricing/credits-book.toml), cohort
//! from-2026-03-28, against hand calculations written beside each expected level.
//!
//! The book's figures used below: core-monthly 99.00 with 30 credits included a month;
//! growth-monthly 299.00 with 100; core-annual 948.00 with 360 for the year; growth-annual
//! 2,988.00 with 1,200 for the year. Flex 6.00 a credit on monthly plans, 5.00 on annual ones.
//! Plan choices are uncapped. A steady level u gives every month exactly u credits, so each
//! month's flex on a monthly plan is exactly max(0, u - included) credits: whole credits at
//! a whole-cent price, no rounding.

use chrono::NaiveDate;
use creditsim::analysis::breakeven::{
    breakeven, breakeven_among, choices, default_sweep, Breakeven, Choice, Sweep, Unit,
    GRID_POINTS_DEFAULT, UNIT_MICROS,
};
use creditsim::analysis::in_pool;
use creditsim::analysis::montecarlo::Measure;
use creditsim::analysis::Case;
use creditsim::engine::ledger::{FlexSetting, Workspace};
use creditsim::engine::strategy::Strategy;
use creditsim::input::scenario::{load, load_book};
use creditsim::model::amounts::Money;
use creditsim::model::calendar::{add_months, midnight, Period};
use std::path::Path;
use std::sync::Arc;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A workspace created and subscribed on 2026-04-01 (cohort from-2026-03-28) on
/// core-monthly, over `months` months.
fn case(months: u32) -> Case {
    let book = load_book(&root().join("scenarios/pricing/credits-book.toml")).unwrap();
    let created = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    let anchor = midnight(created);
    let workspace = Workspace {
        cohort: book.cohort_for(created).unwrap(),
        seats: 1,
        plan: book.plan("core-monthly").unwrap(),
        anchor,
    };
    let flex = FlexSetting {
        enabled: true,
        cap: creditsim::engine::ledger::CapSetting::PlanDefault,
    };
    Case {
        book: Arc::new(book),
        workspace,
        horizon: Period::new(anchor, add_months(anchor, months)),
        strategies: vec![Strategy::pay_as_you_go("flex only", flex)],
    }
}

/// The book's choices named in `names`, in the book's order.
fn only(case: &Case, names: &[&str]) -> Vec<Choice> {
    choices(case)
        .into_iter()
        .filter(|c| names.contains(&c.name.as_str()))
        .collect()
}

fn credits_sweep(to: i64) -> Sweep {
    Sweep {
        unit: Unit::Credits,
        from_micros: 0,
        to_micros: to * UNIT_MICROS,
        step_micros: UNIT_MICROS,
        grid_points: GRID_POINTS_DEFAULT,
    }
}

/// (level in whole units, from, to) of every crossing in `m`.
fn crossings(b: &Breakeven, m: Measure) -> Vec<(i64, String, String)> {
    b.envelope(m)
        .crossings
        .iter()
        .map(|c| {
            assert_eq!(c.level_micros % UNIT_MICROS, 0);
            (
                c.level_micros / UNIT_MICROS,
                b.choices[c.from].name.clone(),
                b.choices[c.to].name.clone(),
            )
        })
        .collect()
}

fn first(b: &Breakeven, m: Measure) -> &str {
    &b.choices[b.envelope(m).first].name
}

fn x(level: i64, from: &str, to: &str) -> (i64, String, String) {
    (level, from.to_string(), to.to_string())
}

fn usd(units: i64, cents: i64) -> Money {
    Money::from_micros(units * 1_000_000 + cents * 10_000)
}

#[test]
fn growth_monthly_pays_off_from_64_credits_a_month() {
    // Per month: core = 99 + 6 max(0, u - 30), growth = 299 + 6 max(0, u - 100). For
    // 30 < u <= 100 growth is cheaper when 99 + 6(u - 30) > 299, u > 63.33: at 63 core is
    // 297 < 299, at 64 core is 303 > 299. Twelve monthly cycles end exactly at the horizon's
    // end, so no fee is unexpired and economic cost = cash. Above 100 both grow by 6 a
    // credit: growth stays cheaper (by 6 x 70 - 200 = 220 a month).
    let c = case(12);
    let b = breakeven_among(
        &c,
        only(&c, &["core-monthly", "growth-monthly"]),
        credits_sweep(400),
    )
    .unwrap();
    for m in [Measure::Cash, Measure::Economic] {
        assert_eq!(first(&b, m), "core-monthly");
        assert_eq!(
            crossings(&b, m),
            vec![x(64, "core-monthly", "growth-monthly")]
        );
        let k = b.envelope(m).crossings[0];
        // Over 12 months: at 63, core 12 x 297 = 3,564, growth 12 x 299 = 3,588; at 64,
        // core 12 x 303 = 3,636.
        assert_eq!(k.below, (usd(3564, 0), usd(3588, 0)));
        assert_eq!(k.at, (usd(3636, 0), usd(3588, 0)));
    }
}

#[test]
fn over_a_year_core_annual_holds_its_tie_at_64_and_growth_annual_pays_off_from_65() {
    // All four plans over 12 months (cash = economic: every cycle ends at the horizon's end).
    // core-annual = 948 + 5 max(0, 12u - 360); growth-annual = 2,988 + 5 max(0, 12u - 1,200).
    // At 0: core-annual 948 < core-monthly 1,188 < growth-annual 2,988 < growth-monthly 3,588.
    // core-annual vs growth-annual (30 <= u <= 100): 60u - 852 > 2,988 when u > 64; at exactly
    // 64 both are 2,988: a tie is not a change, so core-annual stays; at 65 it is 3,048.
    // core-monthly (72u - 972 above 30) is never below core-annual (60u - 852 above 30;
    // 948 below); growth-monthly is 600 a year above growth-annual up to 100 and grows faster
    // after: neither is ever the cheapest.
    let c = case(12);
    let plans = [
        "core-monthly",
        "core-annual",
        "growth-monthly",
        "growth-annual",
    ];
    let b = breakeven_among(&c, only(&c, &plans), credits_sweep(400)).unwrap();
    for m in [Measure::Cash, Measure::Economic] {
        assert_eq!(first(&b, m), "core-annual");
        assert_eq!(
            crossings(&b, m),
            vec![x(65, "core-annual", "growth-annual")]
        );
        let k = b.envelope(m).crossings[0];
        assert_eq!(k.below, (usd(2988, 0), usd(2988, 0)));
        assert_eq!(k.at, (usd(3048, 0), usd(2988, 0)));
    }
}

#[test]
fn over_a_quarter_cash_and_economic_cost_part_ways_on_the_annual_plans() {
    // Three months. Cash: core-monthly 3(99 + 6 max(0, u - 30)) = 297 + 18(u - 30);
    // growth-monthly 897 + 18 max(0, u - 100); core-annual 948 + 5 max(0, 3u - 360);
    // growth-annual 2,988 + 5 max(0, 3u - 1,200).
    // - core-monthly > growth-monthly when 18(u - 30) > 600, u > 63.33: from 64.
    // - growth-monthly > core-annual (948) when 18(u - 100) > 51, u > 102.83: from 103
    //   (at 102: 933 < 948; at 103: 951).
    // - core-annual > growth-annual when 15(u - 120) > 2,040, u > 256: a tie at 256 (2,988
    //   both), so growth-annual from 257.
    // Economic cost credits the unexpired part of the annual fees: the cycle runs from
    // 2026-04-01 to 2027-04-01 (365 days) and 274 days are left on 2026-07-01, so core-annual
    // is credited 948 x 274 / 365 = 711.649... -> 711.65 (economic 236.35) and growth-annual
    // 2,988 x 274 / 365 = 2,243.046... -> 2,243.05 (economic 744.95). core-annual is then the
    // cheapest from 0 (236.35 < 297) until 236.35 + 15(u - 120) > 744.95, u > 153.9: from
    // 154 (at 153: 731.35; at 154: 746.35) growth-annual. The monthly plans never win.
    let c = case(3);
    let plans = [
        "core-monthly",
        "core-annual",
        "growth-monthly",
        "growth-annual",
    ];
    let b = breakeven_among(&c, only(&c, &plans), credits_sweep(400)).unwrap();
    assert_eq!(first(&b, Measure::Cash), "core-monthly");
    assert_eq!(
        crossings(&b, Measure::Cash),
        vec![
            x(64, "core-monthly", "growth-monthly"),
            x(103, "growth-monthly", "core-annual"),
            x(257, "core-annual", "growth-annual"),
        ]
    );
    assert_eq!(first(&b, Measure::Economic), "core-annual");
    assert_eq!(
        crossings(&b, Measure::Economic),
        vec![x(154, "core-annual", "growth-annual")]
    );
    let k = b.envelope(Measure::Economic).crossings[0];
    assert_eq!(k.below, (usd(731, 35), usd(744, 95)));
    assert_eq!(k.at, (usd(746, 35), usd(744, 95)));
}

#[test]
fn a_metric_level_is_converted_as_usage_rows_are() {
    // GPU training at 1 credit per 30 minutes. Core vs growth (monthly) cross at 63.33
    // credits = 1,900 minutes a month. At 1,900 each month's credits are 63.3333 give or
    // take a few millionths (each day's minutes are rounded to the credit resolution once),
    // so core's flex is 6 x 33.3333.. = 200.00 after rounding to the cent: 299.00, a tie with
    // growth, and core stays. At 1,901 (63.3667 credits) core is 99 + 200.20 = 299.20.
    let c = case(12);
    let metric = c.book.rates.metric("gpu_training_minutes").unwrap();
    let sweep = Sweep {
        unit: Unit::Metric(metric),
        to_micros: 4_000 * UNIT_MICROS,
        ..credits_sweep(0)
    };
    let b = breakeven_among(&c, only(&c, &["core-monthly", "growth-monthly"]), sweep).unwrap();
    assert_eq!(
        crossings(&b, Measure::Cash),
        vec![x(1901, "core-monthly", "growth-monthly")]
    );
    let k = b.envelope(Measure::Cash).crossings[0];
    assert_eq!(k.below, (usd(3588, 0), usd(3588, 0)));
    assert_eq!(k.at, (usd(3590, 40), usd(3588, 0)));
}

#[test]
fn results_do_not_depend_on_the_thread_count_or_the_grid() {
    let s = load(&root().join("scenarios/examples/inference-quarter.toml")).unwrap();
    let sweep = default_sweep(&s.case, Unit::Credits, s.usage.total_micros()).unwrap();
    let one = in_pool(Some(1), || breakeven(&s.case, sweep)).unwrap();
    let three = in_pool(Some(3), || breakeven(&s.case, sweep)).unwrap();
    assert_eq!(one.envelopes, three.envelopes);
    assert_eq!(one.evaluated, three.evaluated);
    // A coarser grid evaluates other levels but must find the same crossings, unless two
    // changes hide between two of its points (the module's doc): not so on this example.
    let coarse = breakeven(
        &s.case,
        Sweep {
            grid_points: 33,
            ..sweep
        },
    )
    .unwrap();
    assert_eq!(one.envelopes, coarse.envelopes);
}

#[test]
fn a_range_past_the_limits_is_refused_before_anything_runs() {
    // 10^11 credits a month over 12 months is 1.2 x 10^12 credits: above the 10^12 limit.
    let c = case(12);
    let e = breakeven(&c, credits_sweep(100_000_000_000)).unwrap_err();
    assert!(
        e.to_string()
            .contains("above the limit of 1,000,000,000,000 credits"),
        "{e}"
    );
    // 5 x 10^10 credits a month is 6 x 10^11 credits, within the credit limit, but as flex
    // at 6.00 it could cost 3.6 x 10^12, above the 10^12 money limit: the worst case
    // (analysis::worst_case) refuses it.
    let e = breakeven(&c, credits_sweep(50_000_000_000)).unwrap_err();
    assert!(e.to_string().contains("above the limit of"), "{e}");
    let e = breakeven(
        &c,
        Sweep {
            from_micros: 5 * UNIT_MICROS,
            to_micros: 4 * UNIT_MICROS,
            ..credits_sweep(0)
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("must go up"), "{e}");
}

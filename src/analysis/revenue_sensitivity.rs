//! Which assumption matters most for a portfolio's revenue: one parameter at a time (flex
//! price, bundle discounts, included credits, plan fees, usage) moved to a low and a high
//! change, and the portfolio's total revenue under today's book so changed, in `impact`'s two
//! views: customers keeping their setups, and customers moving to their cheapest. Every
//! setting replays the same usage (a trace's, or the segments' simulated customers').

use crate::analysis::impact::{impact, revenue, CandidateBook, ImpactInput, Which};
use crate::analysis::portfolio::MemberError;
use crate::analysis::sensitivity::{changed_book, Parameter};
use crate::engine::replay::CreditUsage;
use crate::model::amounts::Credits;
use crate::usage::packed::PackedUsage;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Parameters a portfolio's revenue can be swept over: growth and spreads belong to a usage
/// model, which a trace does not have.
pub const PORTFOLIO_PARAMETERS: [Parameter; 5] = [
    Parameter::FlexPrice,
    Parameter::BundleDiscount,
    Parameter::IncludedCredits,
    Parameter::PlanFees,
    Parameter::Usage,
];

/// Total revenue at one setting, millionths: [customers keep their setups, customers move].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenuePoint {
    pub change: Decimal,
    pub revenue: [i128; 2],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueParameter {
    pub parameter: Parameter,
    pub low: RevenuePoint,
    pub high: RevenuePoint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueSensitivity {
    /// At the base: today's revenue, and with every customer on its cheapest setup.
    pub base: RevenuePoint,
    pub parameters: Vec<RevenueParameter>,
}

#[derive(Debug, thiserror::Error)]
pub enum RevenueError {
    #[error("{} at {change}{}: {message}", parameter.name(), parameter.unit())]
    Setting {
        parameter: Parameter,
        change: Decimal,
        message: String,
    },
    #[error("{}: {error}", match parameter { Some(p) => format!("{} changed", p.name()), None => "at the base".to_string() })]
    Replay {
        parameter: Option<Parameter>,
        error: MemberError,
    },
}

/// The portfolio's revenue at the base and at each end of each range. `input` holds today's
/// customers; its candidate books are replaced, one setting at a time, and its customers'
/// usage is scaled in place for the usage parameter and put back.
pub fn revenue_sensitivity(
    input: &mut ImpactInput,
    ranges: &[(Parameter, Decimal, Decimal)],
    threads: Option<usize>,
) -> Result<RevenueSensitivity, RevenueError> {
    let base = revenue_at(input, None, threads)?;
    let mut parameters = Vec::with_capacity(ranges.len());
    for &(parameter, low, high) in ranges {
        parameters.push(RevenueParameter {
            parameter,
            low: revenue_at(input, Some((parameter, low)), threads)?,
            high: revenue_at(input, Some((parameter, high)), threads)?,
        });
    }
    Ok(RevenueSensitivity { base, parameters })
}

/// Revenue with today's book changed by `setting` (or not), in both views: the changed book
/// is the one candidate, each customer's setup carried over unchanged (the same items).
fn revenue_at(
    input: &mut ImpactInput,
    setting: Option<(Parameter, Decimal)>,
    threads: Option<usize>,
) -> Result<RevenuePoint, RevenueError> {
    let mut book = (*input.current_book).clone();
    let mut today_usage = None;
    if let Some((parameter, change)) = setting {
        let fail = |message: String| RevenueError::Setting {
            parameter,
            change,
            message,
        };
        if let Some(changed) = changed_book(&book, parameter, change).map_err(fail)? {
            book = changed;
        } else if parameter == Parameter::Usage {
            let scaled_usage = (input.customers.iter())
                .map(|c| scaled(&c.usage, change))
                .collect::<Result<Vec<_>, _>>()
                .map_err(fail)?;
            today_usage = Some(swap_usage(input, scaled_usage));
        }
    }
    input.candidates = vec![CandidateBook {
        name: book.name.clone(),
        book: Arc::new(book),
        setups: (input.customers.iter())
            .map(|c| (c.workspace, c.current.clone()))
            .collect(),
    }];
    let results = impact(input, threads);
    if let Some(usage) = today_usage {
        swap_usage(input, usage);
    }
    let results = results.map_err(|error| RevenueError::Replay {
        parameter: setting.map(|s| s.0),
        error,
    })?;
    let at = |view| revenue(input, &results, Which::After { book: 0, view }).cash();
    Ok(RevenuePoint {
        change: setting.map_or(Decimal::ZERO, |s| s.1),
        revenue: [at(0), at(1)],
    })
}

/// Puts `usage` in place of the customers' usage (in order); returns what was there.
fn swap_usage(input: &mut ImpactInput, usage: Vec<PackedUsage>) -> Vec<PackedUsage> {
    (input.customers.iter_mut())
        .zip(usage)
        .map(|(c, u)| std::mem::replace(&mut c.usage, u))
        .collect()
}

/// Usage with every event's credits changed by `change` percent, rounded to millionths.
fn scaled(usage: &PackedUsage, change: Decimal) -> Result<PackedUsage, String> {
    let factor = Decimal::ONE + change / Decimal::from(100);
    let mut out = PackedUsage::new();
    for e in usage.iter() {
        let credits = (e.credits.to_decimal() * factor).round_dp(6);
        let credits = Credits::from_decimal(credits).map_err(|e| e.to_string())?;
        out.push(CreditUsage { at: e.at, credits });
    }
    Ok(out)
}

//! Pricing book validation: `RawBook` (as written) to `PricingBook` (consistent).

use super::raw::{
    CapValue, RawBook, RawBookHeader, RawBundle, RawCohort, RawOpenAmount, RawPlan, RawRate,
};
use super::values::{count, Count, Dec};
use crate::model::amounts::{discounted_price, Credits, Money, Price, SCALE_DIGITS};
use crate::model::diag::{InputError, Source};
use crate::model::pricing::{
    Bundle, CapPeriod, Cohort, CycleKind, LotOrder, Metric, OpenAmount, Plan, PricingBook,
    RateCard, RateVersion,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use toml::Spanned;

/// Most decimals accepted in a discount percentage (12.5% and 8.75% are fine).
const DISCOUNT_DIGITS_MAX: u32 = 4;
/// Limits on list sizes: a book is written by people, so these are generous.
const PLANS_MAX: usize = 1_000;
const BUNDLES_MAX: usize = 1_000;
const EXPIRY_DAYS_MAX: u32 = 36_600;

/// Minor-unit digits of common currencies; others must give `currency_minor_digits`.
fn known_minor_digits(currency: &str) -> Option<u32> {
    match currency {
        "USD" | "EUR" | "GBP" | "CHF" | "CAD" | "AUD" | "NZD" | "SGD" | "HKD" | "SEK" | "NOK"
        | "DKK" | "INR" | "CNY" | "BRL" | "MXN" | "PLN" => Some(2),
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" => Some(0),
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => Some(3),
        _ => None,
    }
}

pub(super) struct BookContext<'s> {
    pub source: &'s Source,
    pub minor_digits: u32,
    pub rounding: crate::model::amounts::Rounding,
}

impl BookContext<'_> {
    pub fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Result<T, InputError> {
        Err(self.source.error(span, message))
    }

    pub fn credits(&self, v: &Spanned<Dec>) -> Result<Credits, InputError> {
        Credits::from_decimal(v.get_ref().0)
            .map_err(|e| self.source.error(v.span(), format!("credits: {e}")))
    }

    pub fn price(&self, v: &Spanned<Dec>, what: &str) -> Result<Price, InputError> {
        let p = Price::from_decimal(v.get_ref().0)
            .map_err(|e| self.source.error(v.span(), format!("{what}: {e}")))?;
        if p.is_zero() {
            return self.err(v.span(), format!("{what} must be more than zero"));
        }
        Ok(p)
    }

    /// Money that is charged as it stands: it must be whole minor units.
    pub fn charged_money(&self, v: &Spanned<Dec>, what: &str) -> Result<Money, InputError> {
        let m = self.money(v, what)?;
        if !m.is_whole_minor(self.minor_digits) {
            return self.err(
                v.span(),
                format!(
                    "{what} {} has more decimals than the currency's minor unit ({} digits)",
                    v.get_ref().0,
                    self.minor_digits
                ),
            );
        }
        Ok(m)
    }

    pub fn money(&self, v: &Spanned<Dec>, what: &str) -> Result<Money, InputError> {
        Money::from_decimal(v.get_ref().0)
            .map_err(|e| self.source.error(v.span(), format!("{what}: {e}")))
    }

    pub fn cap(&self, v: &Spanned<CapValue>) -> Result<Option<Money>, InputError> {
        match *v.get_ref() {
            CapValue::None => Ok(None),
            CapValue::Amount(d) => {
                let spanned = Spanned::new(v.span(), d);
                self.money(&spanned, "flex cap").map(Some)
            }
        }
    }
}

fn check_unique<'a>(
    source: &Source,
    ids: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
) -> Result<(), InputError> {
    let mut seen: Vec<&str> = Vec::new();
    for id in ids {
        if id.get_ref().trim().is_empty() {
            return Err(source.error(id.span(), format!("{what} id is empty")));
        }
        if seen.contains(&id.get_ref().as_str()) {
            return Err(source.error(
                id.span(),
                format!("duplicate {what} id \"{}\"", id.get_ref()),
            ));
        }
        seen.push(id.get_ref());
    }
    Ok(())
}

pub(super) fn build_book(raw: &RawBook, source: &Source) -> Result<PricingBook, InputError> {
    let header = &raw.book;
    let currency = header.currency.get_ref().trim().to_string();
    let minor_digits = minor_digits(source, header, &currency)?;
    let cx = BookContext {
        source,
        minor_digits,
        rounding: header.rounding,
    };
    let alert_threshold_percent = alert_threshold_percent(&cx, header)?;
    let lot_order = lot_order(&cx, header)?;
    let default_expiry = match &header.prepaid_expires_after_days {
        Some(d) => Some(expiry_days(&cx, "prepaid_expires_after_days", d)?),
        None => None,
    };
    let plans = build_plans(&cx, &raw.plans)?;
    let cohorts = build_cohorts(&cx, &raw.cohorts, &plans, default_expiry)?;
    let rates = build_rates(&cx, &raw.rates)?;
    Ok(PricingBook {
        name: header.name.clone(),
        currency,
        minor_digits,
        rounding: header.rounding,
        plans,
        cohorts,
        rates,
        flex_enabled_default: header.flex_enabled,
        alert_threshold_percent,
        lot_order,
    })
}

fn minor_digits(
    source: &Source,
    header: &RawBookHeader,
    currency: &str,
) -> Result<u32, InputError> {
    match &header.currency_minor_digits {
        Some(d) => count(source, "currency_minor_digits", d, 0..=SCALE_DIGITS),
        None => known_minor_digits(currency).ok_or_else(|| {
            source.error(
                header.currency.span(),
                format!("unknown currency \"{currency}\": give currency_minor_digits too"),
            )
        }),
    }
}

fn alert_threshold_percent(
    cx: &BookContext<'_>,
    header: &RawBookHeader,
) -> Result<u32, InputError> {
    match &header.alert_threshold_percent {
        Some(p) => count(cx.source, "alert_threshold_percent", p, 1..=100),
        None => Ok(80),
    }
}

fn lot_order(cx: &BookContext<'_>, header: &RawBookHeader) -> Result<LotOrder, InputError> {
    let Some(o) = &header.lot_order else {
        return Ok(LotOrder::default());
    };
    match o.get_ref().as_str() {
        "expiry_then_purchase" => Ok(LotOrder::ExpiryThenPurchase),
        "purchase_order" => Ok(LotOrder::PurchaseOrder),
        other => cx.err(
            o.span(),
            format!("unknown lot_order \"{other}\" (known: expiry_then_purchase, purchase_order)"),
        ),
    }
}

fn build_plans(cx: &BookContext<'_>, raw: &[RawPlan]) -> Result<Vec<Plan>, InputError> {
    if raw.is_empty() {
        return Err(InputError::whole_file(
            &cx.source.path,
            "the pricing book has no [[plans]]",
        ));
    }
    if raw.len() > PLANS_MAX {
        return Err(InputError::whole_file(
            &cx.source.path,
            format!("{} plans, above the limit of {PLANS_MAX}", raw.len()),
        ));
    }
    check_unique(cx.source, raw.iter().map(|p| &p.id), "plan")?;
    raw.iter().map(|p| build_plan(cx, p)).collect()
}

fn build_cohorts(
    cx: &BookContext<'_>,
    raw: &[RawCohort],
    plans: &[Plan],
    default_expiry: Option<u32>,
) -> Result<Vec<Cohort>, InputError> {
    if raw.is_empty() {
        return Err(InputError::whole_file(
            &cx.source.path,
            "the pricing book has no [[cohorts]]",
        ));
    }
    check_unique(cx.source, raw.iter().map(|c| &c.id), "cohort")?;
    let mut cohorts = Vec::new();
    for rc in raw {
        let cohort = build_cohort(cx, rc, plans, default_expiry)?;
        for (other, other_raw) in cohorts.iter().zip(raw) {
            if cohorts_overlap(&cohort, other) {
                return cx.err(
                    rc.id.span(),
                    format!(
                        "cohort \"{}\" overlaps cohort \"{}\": a creation date may belong to one cohort only",
                        rc.id.get_ref(),
                        other_raw.id.get_ref()
                    ),
                );
            }
        }
        cohorts.push(cohort);
    }
    Ok(cohorts)
}

fn expiry_days(cx: &BookContext<'_>, field: &str, d: &Count) -> Result<u32, InputError> {
    count(cx.source, field, d, 1..=EXPIRY_DAYS_MAX)
}

fn build_plan(cx: &BookContext<'_>, p: &RawPlan) -> Result<Plan, InputError> {
    let cycle = match p.cycle.get_ref().as_str() {
        "monthly" => CycleKind::Monthly,
        "annual" => CycleKind::Annual,
        other => {
            return cx.err(
                p.cycle.span(),
                format!("unknown cycle \"{other}\" (known: monthly, annual)"),
            )
        }
    };
    let cap_period = match p
        .cap_period
        .as_ref()
        .map(|c| (c.get_ref().as_str(), c.span()))
    {
        None | Some(("cycle", _)) => CapPeriod::Cycle,
        Some(("flex_period", _)) => CapPeriod::FlexPeriod,
        Some((other, span)) => {
            return cx.err(
                span,
                format!("unknown cap_period \"{other}\" (known: cycle, flex_period)"),
            )
        }
    };
    let zero =
        |v: &Option<Spanned<Dec>>, f: &dyn Fn(&Spanned<Dec>) -> Result<_, InputError>, z| match v {
            Some(v) => f(v),
            None => Ok(z),
        };
    Ok(Plan {
        id: p.id.get_ref().clone(),
        name: p.name.clone().unwrap_or_else(|| p.id.get_ref().clone()),
        cycle,
        fee: cx.charged_money(&p.fee, "fee")?,
        seat_fee: zero(
            &p.seat_fee,
            &|v| cx.charged_money(v, "seat_fee"),
            Money::ZERO,
        )?,
        included: cx.credits(&p.included_credits)?,
        included_per_seat: match &p.included_credits_per_seat {
            Some(v) => cx.credits(v)?,
            None => Credits::ZERO,
        },
        flex_cap: match &p.flex_cap {
            Some(c) => cx.cap(c)?,
            None => None,
        },
        cap_period,
    })
}

fn build_cohort(
    cx: &BookContext<'_>,
    c: &RawCohort,
    plans: &[Plan],
    default_expiry: Option<u32>,
) -> Result<Cohort, InputError> {
    let (created_from, created_until) = creation_dates(cx, c)?;
    let prepaid_base_price = cx.price(&c.prepaid_base_price, "prepaid_base_price")?;
    let flex_price_by_plan = flex_prices_by_plan(cx, c, plans)?;
    if c.bundles.len() > BUNDLES_MAX {
        return cx.err(
            c.id.span(),
            format!(
                "{} bundles, above the limit of {BUNDLES_MAX}",
                c.bundles.len()
            ),
        );
    }
    check_unique(cx.source, c.bundles.iter().map(|b| &b.id), "bundle")?;
    let bundles = c
        .bundles
        .iter()
        .map(|b| build_bundle(cx, b, prepaid_base_price, default_expiry))
        .collect::<Result<Vec<_>, _>>()?;
    let open_amount = match &c.open_amount {
        None => None,
        Some(o) => Some(build_open_amount(
            cx,
            o,
            prepaid_base_price,
            default_expiry,
        )?),
    };
    Ok(Cohort {
        id: c.id.get_ref().clone(),
        created_from,
        created_until,
        prepaid_base_price,
        flex_price_by_plan,
        bundles,
        open_amount,
    })
}

/// The cohort's `[created_from, created_until)`, either end open.
fn creation_dates(
    cx: &BookContext<'_>,
    c: &RawCohort,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), InputError> {
    let created_from = c.created_from.as_ref().map(|d| d.get_ref().0);
    let created_until = c.created_until.as_ref().map(|d| d.get_ref().0);
    if let (Some(from), Some(until), Some(span)) =
        (created_from, created_until, c.created_until.as_ref())
    {
        if until <= from {
            return cx.err(
                span.span(),
                format!("created_until {until} is not after created_from {from}"),
            );
        }
    }
    Ok((created_from, created_until))
}

/// The cohort's flex price for each plan, in the order of `plans`: `flex_price` unless
/// `flex_price_by_plan` names the plan.
fn flex_prices_by_plan(
    cx: &BookContext<'_>,
    c: &RawCohort,
    plans: &[Plan],
) -> Result<Vec<Price>, InputError> {
    let default_flex = cx.price(&c.flex_price, "flex_price")?;
    let mut flex_price_by_plan = vec![default_flex; plans.len()];
    for (plan_id, price) in &c.flex_price_by_plan {
        let Some(i) = plans.iter().position(|p| &p.id == plan_id.get_ref()) else {
            let known: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
            return cx.err(
                plan_id.span(),
                format!(
                    "flex_price_by_plan names unknown plan \"{}\" (known: {})",
                    plan_id.get_ref(),
                    known.join(", ")
                ),
            );
        };
        flex_price_by_plan[i] =
            cx.price(price, &format!("flex price of \"{}\"", plan_id.get_ref()))?;
    }
    Ok(flex_price_by_plan)
}

fn build_open_amount(
    cx: &BookContext<'_>,
    o: &RawOpenAmount,
    base: Price,
    default_expiry: Option<u32>,
) -> Result<OpenAmount, InputError> {
    let min = cx.charged_money(&o.min, "open_amount.min")?;
    let max = cx.charged_money(&o.max, "open_amount.max")?;
    if let Err(e) = base.credits_for(max) {
        return cx.err(
            o.max.span(),
            format!("open_amount.max {max} at the prepaid base price {base}: {e}"),
        );
    }
    if min.is_zero() {
        return cx.err(o.min.span(), "open_amount.min must be more than zero");
    }
    if max < min {
        return cx.err(
            o.max.span(),
            format!("open_amount.max {max} is below min {min}"),
        );
    }
    let expires_after_days = match &o.expires_after_days {
        Some(d) => Some(expiry_days(cx, "expires_after_days", d)?),
        None => default_expiry,
    };
    Ok(OpenAmount {
        min,
        max,
        expires_after_days,
    })
}

fn build_bundle(
    cx: &BookContext<'_>,
    b: &RawBundle,
    base: Price,
    default_expiry: Option<u32>,
) -> Result<Bundle, InputError> {
    let credits = cx.credits(&b.credits)?;
    if credits.is_zero() {
        return cx.err(
            b.credits.span(),
            format!("bundle \"{}\" has zero credits", b.id.get_ref()),
        );
    }
    let price = match (&b.price, &b.discount_percent) {
        (Some(p), None) => cx.charged_money(p, "bundle price")?,
        (None, Some(d)) => {
            let pct: Decimal = d.get_ref().0;
            if pct < Decimal::ZERO || pct > Decimal::ONE_HUNDRED {
                return cx.err(d.span(), format!("discount_percent {pct} is outside 0-100"));
            }
            if pct.normalize().scale() > DISCOUNT_DIGITS_MAX {
                return cx.err(
                    d.span(),
                    format!("discount_percent {pct} has more than {DISCOUNT_DIGITS_MAX} decimals"),
                );
            }
            match discounted_price(credits, base, pct, cx.minor_digits, cx.rounding) {
                Ok(price) => price,
                Err(e) => {
                    return cx.err(
                        b.credits.span(),
                        format!(
                            "bundle \"{}\": {} credits at {base} less {pct}%: {e}",
                            b.id.get_ref(),
                            credits
                        ),
                    )
                }
            }
        }
        (Some(p), Some(_)) => {
            return cx.err(
                p.span(),
                format!(
                    "bundle \"{}\" has both price and discount_percent: give one",
                    b.id.get_ref()
                ),
            )
        }
        (None, None) => {
            return cx.err(
                b.id.span(),
                format!(
                    "bundle \"{}\" has no price: give price or discount_percent",
                    b.id.get_ref()
                ),
            )
        }
    };
    let expires_after_days = match &b.expires_after_days {
        Some(d) => Some(expiry_days(cx, "expires_after_days", d)?),
        None => default_expiry,
    };
    Ok(Bundle {
        id: b.id.get_ref().clone(),
        credits,
        price,
        expires_after_days,
    })
}

fn cohorts_overlap(a: &Cohort, b: &Cohort) -> bool {
    // Half-open date ranges [from, until) with open ends overlap unless one ends before the
    // other starts.
    let a_before_b = matches!((a.created_until, b.created_from), (Some(u), Some(f)) if u <= f);
    let b_before_a = matches!((b.created_until, a.created_from), (Some(u), Some(f)) if u <= f);
    !(a_before_b || b_before_a)
}

fn build_rates(cx: &BookContext<'_>, raw: &[RawRate]) -> Result<RateCard, InputError> {
    let mut card = RateCard::default();
    for r in raw {
        let name = r.metric.get_ref().trim();
        if name.is_empty() {
            return cx.err(r.metric.span(), "metric name is empty");
        }
        // Validated as an amount of credits; the rate keeps the exact decimal.
        cx.credits(&r.credits)?;
        let credits = r.credits.get_ref().0;
        let per = match &r.per {
            Some(p) if p.get_ref().0 <= Decimal::ZERO => {
                return cx.err(p.span(), "per must be more than zero");
            }
            Some(p) => p.get_ref().0,
            None => Decimal::ONE,
        };
        let from = r.effective_from.as_ref().map(|t| t.get_ref().0);
        let until = r.effective_until.as_ref().map(|t| t.get_ref().0);
        if let (Some(f), Some(u), Some(s)) = (from, until, r.effective_until.as_ref()) {
            if u <= f {
                return cx.err(s.span(), "effective_until is not after effective_from");
            }
        }
        let Some(version) = RateVersion::new(from, until, credits, per) else {
            let span = r.per.as_ref().map_or(r.credits.span(), |p| p.span());
            return cx.err(span, "credits / per is too large to convert quantities exactly (more than 10^31 credits per unit)");
        };
        let unit = r.unit.clone().unwrap_or_else(|| "unit".to_string());
        match card.metrics.iter_mut().find(|m| m.name == name) {
            None => card.metrics.push(Metric {
                name: name.to_string(),
                unit,
                versions: vec![version],
            }),
            Some(m) => {
                let overlapping = m.versions.iter().any(|v| {
                    let v_before = matches!((v.until, version.from), (Some(u), Some(f)) if u <= f);
                    let new_before =
                        matches!((version.until, v.from), (Some(u), Some(f)) if u <= f);
                    !(v_before || new_before)
                });
                if overlapping {
                    let span = r
                        .effective_from
                        .as_ref()
                        .map_or(r.metric.span(), |s| s.span());
                    return cx.err(
                        span,
                        format!("rate versions of metric \"{name}\" overlap: each instant may have one rate"),
                    );
                }
                if r.unit.is_some() && m.unit != unit {
                    return cx.err(
                        r.metric.span(),
                        format!(
                            "metric \"{name}\" changes unit from \"{}\" to \"{unit}\"",
                            m.unit
                        ),
                    );
                }
                m.versions.push(version);
                m.versions.sort_by_key(|v| v.from);
            }
        }
    }
    Ok(card)
}

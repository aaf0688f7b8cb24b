//! The quote's words in English and Japanese, and numbers, money and dates as each locale
//! writes them. Amounts arrive exact (decimals rounded once to the book's minor unit); this
//! module only chooses how they read.

use crate::analysis::advise::Setup;
use crate::analysis::Case;
use crate::engine::ledger::Purchase;
use crate::model::pricing::PlanId;
use crate::model::text::grouped;
use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    /// The page's `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// `en` or `ja` text, whichever this is.
    pub fn pick<'a>(self, en: &'a str, ja: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }
}

/// How a locale writes a currency: a symbol before the number, or a word after it.
fn symbol(lang: Lang, currency: &str) -> (Option<&'static str>, Option<&'static str>) {
    match (lang, currency) {
        (_, "USD") => (Some("$"), None),
        (_, "EUR") => (Some("€"), None),
        (_, "GBP") => (Some("£"), None),
        (Lang::En, "JPY") => (Some("¥"), None),
        (Lang::Ja, "JPY") => (None, Some("円")),
        _ => (None, None),
    }
}

/// Money as the locale writes it, rounded half away from zero to `digits`: "$1,234.50",
/// "-$12.00", "12,345円", "1,234.50 CHF".
pub fn money(lang: Lang, currency: &str, digits: u32, amount: Decimal) -> String {
    let r = amount.round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero);
    let number = fixed(r.abs(), digits);
    let sign = if r.is_sign_negative() && !r.is_zero() {
        "-"
    } else {
        ""
    };
    match symbol(lang, currency) {
        (Some(s), _) => format!("{sign}{s}{number}"),
        (None, Some(word)) => format!("{sign}{number}{word}"),
        (None, None) => format!("{sign}{number} {currency}"),
    }
}

/// A non-negative decimal grouped in thousands with exactly `digits` decimals.
fn fixed(value: Decimal, digits: u32) -> String {
    let text = format!("{value:.*}", digits as usize);
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole = grouped(whole.parse::<Decimal>().unwrap_or_default());
    if fraction.is_empty() {
        whole
    } else {
        format!("{whole}.{fraction}")
    }
}

/// A quantity for people: grouped, at most `digits` decimals, no trailing zeros.
pub fn number(value: Decimal, digits: u32) -> String {
    grouped(
        value
            .round_dp_with_strategy(digits, RoundingStrategy::MidpointAwayFromZero)
            .normalize(),
    )
}

/// A share as a whole percent ("83%"), or "<1%" for a share above zero that rounds to none.
pub fn percent(share: Decimal) -> String {
    let p = (share * Decimal::from(100))
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    if p.is_zero() && !share.is_zero() {
        "<1%".to_string()
    } else {
        format!("{p}%")
    }
}

pub fn date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::En => d.format("%-d %B %Y").to_string(),
        Lang::Ja => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
    }
}

/// "month 5" / "5か月目".
pub fn month(lang: Lang, k: u32) -> String {
    match lang {
        Lang::En => format!("month {k}"),
        Lang::Ja => format!("{k}か月目"),
    }
}

/// "over the 12 months" / "12か月で".
pub fn over_months(lang: Lang, months: u32) -> String {
    match lang {
        Lang::En => format!("over the {months} months"),
        Lang::Ja => format!("{months}か月で"),
    }
}

fn plan_name(case: &Case, p: PlanId) -> String {
    case.book.plans[p.0].name.clone()
}

/// A purchase as a customer reads it: "b1000 (1,000 credits)", "$12 of credits".
fn item(lang: Lang, case: &Case, purchase: Purchase) -> String {
    match purchase {
        Purchase::Bundle(b) => {
            let bundle = &case.cohort().bundles[b];
            let credits = number(bundle.credits.to_decimal(), 6);
            match lang {
                Lang::En => format!("{} ({credits} credits)", bundle.id),
                Lang::Ja => format!("{}（{credits}クレジット）", bundle.id),
            }
        }
        Purchase::OpenAmount(m) => {
            let amount = money(
                lang,
                &case.book.currency,
                case.book.minor_digits,
                m.to_decimal(),
            );
            match lang {
                Lang::En => format!("{amount} of credits"),
                Lang::Ja => format!("{amount}分のクレジット"),
            }
        }
    }
}

/// A setup in the customer's words. `flex_on`: whether usage beyond the credits is served
/// (and billed) rather than refused.
pub fn setup(lang: Lang, case: &Case, setup: Setup, flex_on: bool) -> String {
    match lang {
        Lang::En => setup_en(case, setup, flex_on),
        Lang::Ja => setup_ja(case, setup, flex_on),
    }
}

fn setup_en(case: &Case, setup: Setup, flex_on: bool) -> String {
    let plan = |p| plan_name(case, p);
    let item = |p| item(Lang::En, case, p);
    let amount = |m: crate::model::amounts::Money| {
        money(
            Lang::En,
            &case.book.currency,
            case.book.minor_digits,
            m.to_decimal(),
        )
    };
    match setup {
        Setup::Current => unreachable!("the caller describes the current setup as its plan"),
        Setup::PayAsYouGo { plan: p } if flex_on => format!("{}, paying as you go", plan(p)),
        Setup::PayAsYouGo { plan: p } => {
            format!(
                "{}, no credits bought (usage stops when they run out)",
                plan(p)
            )
        }
        Setup::AtStart {
            plan: p,
            purchase,
            count,
        } => match purchase {
            Purchase::Bundle(_) => {
                format!(
                    "{} + {count} x {} bought at the start",
                    plan(p),
                    item(purchase)
                )
            }
            Purchase::OpenAmount(_) => {
                format!("{} + {} bought at the start", plan(p), item(purchase))
            }
        },
        Setup::TopUp {
            plan: p,
            below,
            purchase,
        } => {
            let left = match number(below.to_decimal(), 6).as_str() {
                "1" => "less than 1 prepaid credit is".to_string(),
                n => format!("fewer than {n} prepaid credits are"),
            };
            format!(
                "{}, buying {} whenever {left} left",
                plan(p),
                item(purchase)
            )
        }
        Setup::VendorRule { plan: p } => format!(
            "{}, buying at each usage alert the bundle that covers last month's extra usage",
            plan(p)
        ),
        Setup::Upgrade {
            from,
            to,
            flex_spend_over,
        } => format!(
            "{}, moving to {} once a month's extra usage costs more than {}",
            plan(from),
            plan(to),
            amount(flex_spend_over)
        ),
    }
}

fn setup_ja(case: &Case, setup: Setup, flex_on: bool) -> String {
    let plan = |p| plan_name(case, p);
    let item = |p| item(Lang::Ja, case, p);
    let amount = |m: crate::model::amounts::Money| {
        money(
            Lang::Ja,
            &case.book.currency,
            case.book.minor_digits,
            m.to_decimal(),
        )
    };
    match setup {
        Setup::Current => unreachable!("the caller describes the current setup as its plan"),
        Setup::PayAsYouGo { plan: p } if flex_on => format!("{}（従量課金）", plan(p)),
        Setup::PayAsYouGo { plan: p } => {
            format!("{}（クレジット購入なし：使い切ると利用停止）", plan(p))
        }
        Setup::AtStart {
            plan: p,
            purchase,
            count,
        } => match purchase {
            Purchase::Bundle(_) => {
                format!("{} ＋ 開始時に{}を{count}個購入", plan(p), item(purchase))
            }
            Purchase::OpenAmount(_) => format!("{} ＋ 開始時に{}を購入", plan(p), item(purchase)),
        },
        Setup::TopUp {
            plan: p,
            below,
            purchase,
        } => format!(
            "{}、前払いクレジットの残りが{}未満になるたびに{}を購入",
            plan(p),
            number(below.to_decimal(), 6),
            item(purchase)
        ),
        Setup::VendorRule { plan: p } => {
            format!(
                "{}、利用アラートのたびに前月の超過分をまかなうバンドルを購入",
                plan(p)
            )
        }
        Setup::Upgrade {
            from,
            to,
            flex_spend_over,
        } => format!(
            "{}で開始し、月の超過利用料が{}を超えたら{}へ移行",
            plan(from),
            amount(flex_spend_over),
            plan(to)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_each_locale_writes_it() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(money(Lang::En, "USD", 2, d("15254.565")), "$15,254.57");
        assert_eq!(money(Lang::Ja, "USD", 2, d("-8707.35")), "-$8,707.35");
        assert_eq!(money(Lang::Ja, "JPY", 0, d("123456.5")), "123,457円");
        assert_eq!(money(Lang::En, "JPY", 0, d("999")), "¥999");
        assert_eq!(money(Lang::En, "CHF", 2, d("0.004")), "0.00 CHF");
        assert_eq!(percent(d("0.004")), "<1%");
        assert_eq!(percent(d("0.837")), "84%");
        let day = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(date(Lang::En, day), "1 April 2026");
        assert_eq!(date(Lang::Ja, day), "2026年4月1日");
    }
}

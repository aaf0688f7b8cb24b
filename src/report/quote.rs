//! The customer quote (`creditsim quote`): one page a salesperson can send as it is. The
//! recommendation in a sentence with its expected cost and range, what it saves against
//! paying as you go and against the plan the customer asked about, three to five options
//! with a one-line why, two charts, payback, the low and high ends, and the assumptions in
//! plain words; in English or Japanese. Every number is the advice's or the engine's, only
//! worded here.

use super::doc::{Block, Doc, Explorer, ExplorerPoint, Table};
use super::quote_charts::{curves_chart, letter, paid_chart};
use super::quote_words::{self as words, Lang};
use crate::analysis::advise::{Objective, Setup};
use crate::analysis::breakeven::{self, months, Cost};
use crate::analysis::montecarlo::{Measure, StrategyStats, Summary};
use crate::analysis::quote::{Quote, QuoteSetup};
use crate::input::profile::Profile;
use crate::model::amounts::Money;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// What a quote page is made from.
pub struct QuotePage<'a> {
    pub profile: &'a Profile,
    pub quote: &'a Quote,
    pub lang: Lang,
    /// The day the quote is dated.
    pub prepared: NaiveDate,
    /// Whether the HTML page gets the usage slider.
    pub interactive: bool,
}

impl QuotePage<'_> {
    fn case(&self) -> &crate::analysis::Case {
        &self.profile.scenario.case
    }

    fn money(&self, d: Decimal) -> String {
        let book = &self.case().book;
        words::money(self.lang, &book.currency, book.minor_digits, d)
    }

    fn m(&self, m: Money) -> String {
        self.money(m.to_decimal())
    }

    fn measure(&self) -> Measure {
        self.quote.advice.goal.measure
    }

    fn stats(&self, i: usize) -> &StrategyStats {
        &self.quote.summary.strategies[self.quote.setups[i].row]
    }

    fn months(&self) -> u32 {
        months(self.case())
    }

    fn t<'s>(&self, en: &'s str, ja: &'s str) -> &'s str {
        self.lang.pick(en, ja)
    }

    /// Setup `i` in the customer's words.
    fn setup_text(&self, i: usize) -> String {
        let s: &QuoteSetup = &self.quote.setups[i];
        let setup = match s.candidate.map(|c| self.quote.advice.candidates[c].setup) {
            Some(Setup::Current) | None => Setup::PayAsYouGo {
                plan: s.strategy.start_plan.unwrap_or(self.case().workspace.plan),
            },
            Some(other) => other,
        };
        words::setup(self.lang, self.case(), setup, s.strategy.flex.enabled)
    }

    /// P10 and P90 of setup `i`'s total cost in the goal's measure.
    fn range(&self, i: usize) -> (Money, Money) {
        let fan = &self.stats(i).measure(self.measure()).fan;
        let [p10, _, p90] = *fan.last().expect("a horizon has a month");
        (p10, p90)
    }

    fn mean(&self, i: usize) -> Decimal {
        self.stats(i).measure(self.measure()).cost.mean
    }
}

/// The quote as a document.
pub fn quote_doc(page: &QuotePage) -> Result<Doc, String> {
    let case = page.case();
    let mut doc = Doc::new(match page.lang {
        Lang::En => format!("Cost estimate for {}", page.profile.customer),
        Lang::Ja => format!("{} 様 ご利用料金のお見積り", page.profile.customer),
    });
    doc.lang = page.lang.code().to_string();
    doc.one_page = true;
    let start = case.horizon.start.date();
    doc.subtitle = Some(match page.lang {
        Lang::En => format!(
            "Prepared on {} · {} pricing · {} months from {}",
            words::date(page.lang, page.prepared),
            case.book.name,
            page.months(),
            words::date(page.lang, start)
        ),
        Lang::Ja => format!(
            "作成日 {} · 料金表 {} · {}から{}か月",
            words::date(page.lang, page.prepared),
            case.book.name,
            words::date(page.lang, start),
            page.months()
        ),
    });
    doc.push(Block::Paragraph(lead(page)));
    doc.push(Block::Paragraph(savings(page)));
    if !page.quote.advice.within_limits {
        doc.push(Block::Note(
            page.t(
                "No option measured keeps refused usage within the limit asked for; the plan you asked about is shown as it is.",
                "ご指定の上限内に利用停止を抑えられる選択肢がありませんでした。ご検討のプランをそのまま示しています。",
            )
            .to_string(),
        ));
    }
    doc.push(Block::Table(options_table(page)));
    doc.push(Block::Figures(figures(page)?));
    doc.push(Block::Heading(
        page.t(
            "Payback, and if usage comes in lower or higher",
            "回収時期と、利用量が少ない・多い場合",
        )
        .to_string(),
    ));
    doc.push(Block::Paragraph(payback(page)));
    doc.push(Block::Paragraph(ends(page)));
    doc.push(Block::Heading(
        page.t("Assumptions", "前提条件").to_string(),
    ));
    for p in assumptions(page) {
        doc.push(Block::Paragraph(p));
    }
    if page.interactive {
        doc.push(Block::Explorer(explorer(page)));
    }
    doc.data = quote_json(page);
    Ok(doc)
}

/// "We recommend X. Expected cost: ... a month, ... over the 12 months; 8 times in 10
/// between P10 and P90."
fn lead(page: &QuotePage) -> String {
    let months = page.months();
    let mean = page.mean(0);
    let per_month = page.money(mean / Decimal::from(months));
    let (p10, p90) = page.range(0);
    match page.lang {
        Lang::En => format!(
            "We recommend: {}. Expected cost: {per_month} a month, {} {}; 8 times in 10 between {} and {}.",
            page.setup_text(0),
            page.money(mean),
            words::over_months(page.lang, months),
            page.m(p10),
            page.m(p90)
        ),
        Lang::Ja => format!(
            "おすすめ：{}。想定費用は月あたり{per_month}、{}{}です（10回中8回は{}〜{}に収まります）。",
            page.setup_text(0),
            words::over_months(page.lang, months),
            page.money(mean),
            page.m(p10),
            page.m(p90)
        ),
    }
}

/// The rows of the setups with a role: the asked plan and paying as you go.
fn role_of(page: &QuotePage, pick: fn(&QuoteSetup) -> bool) -> Option<usize> {
    page.quote.setups.iter().position(pick)
}

/// One comparison: the recommendation against setup `i` (labelled `label`), from the
/// savings of the summary whose baseline is `i`'s row.
fn against(page: &QuotePage, i: usize, label: &str, summary: &Summary) -> String {
    let rec = &summary.strategies[page.quote.setups[0].row];
    let s = &rec.measure(page.measure()).savings;
    let other = page.stats(i);
    let saving = s.mean;
    let share = words::percent(s.p_positive);
    let months = words::over_months(page.lang, page.months());
    let opening = &capitalised(page.lang, label);
    if rounds_to_zero(page, saving) && other.p_blocked.is_zero() {
        return match page.lang {
            Lang::En => format!("It costs the same as {label} on average {months}, to the cent."),
            Lang::Ja => format!("{label}と{months}の平均費用は同じです。"),
        };
    }
    match (page.lang, saving > Decimal::ZERO, other.p_blocked.is_zero()) {
        (Lang::En, true, _) => format!(
            "That is {} less {months} than {label}, and cheaper in {share} of the simulated outcomes.",
            page.money(saving)
        ),
        (Lang::Ja, true, _) => format!(
            "{label}と比べて{months}{}安く、シミュレーション結果の{share}で割安です。",
            page.money(saving)
        ),
        (Lang::En, false, false) => format!(
            "{opening} would cost {} less {months}, but stops your usage in {} of the simulated outcomes; the recommendation serves all of it.",
            page.money(-saving),
            words::percent(other.p_blocked)
        ),
        (Lang::Ja, false, false) => format!(
            "{label}は{months}{}安くなりますが、シミュレーション結果の{}で利用が止まります。おすすめの構成ではすべての利用をまかなえます。",
            page.money(-saving),
            words::percent(other.p_blocked)
        ),
        (Lang::En, false, true) => format!(
            "{opening} would cost {} less {months} on average; the recommendation is chosen for {}.",
            page.money(-saving),
            goal_words(page)
        ),
        (Lang::Ja, false, true) => format!(
            "{label}は平均で{months}{}安くなりますが、おすすめは{}を基準に選んでいます。",
            page.money(-saving),
            goal_words(page)
        ),
    }
}

fn goal_words(page: &QuotePage) -> &'static str {
    match page.quote.advice.goal.objective {
        Objective::Mean => page.lang.pick("the lowest expected cost", "期待費用の低さ"),
        Objective::P90 => page
            .lang
            .pick("the lowest cost in a bad year", "利用が多い年の費用の低さ"),
        Objective::Cvar95 => page
            .lang
            .pick("the lowest cost in the worst years", "最悪の年の費用の低さ"),
    }
}

/// The plan of setup `i`, by name.
fn plan_of(page: &QuotePage, i: usize) -> String {
    let case = page.case();
    let plan = page.quote.setups[i]
        .strategy
        .start_plan
        .unwrap_or(case.workspace.plan);
    case.book.plans[plan.0].name.clone()
}

/// Paying as you go (setup `i`) as a comparison's subject.
fn payg_label(page: &QuotePage, i: usize) -> String {
    match page.lang {
        Lang::En => format!("paying as you go on {}", plan_of(page, i)),
        Lang::Ja => format!("{}の従量課金のみ", plan_of(page, i)),
    }
}

/// The plan the customer asked about (setup `i`) as a comparison's subject.
fn asked_label(page: &QuotePage, i: usize) -> String {
    let flex = page.quote.setups[i].strategy.flex.enabled;
    match (page.lang, flex) {
        (Lang::En, true) => format!(
            "{}, the plan you asked about, paid as you go",
            plan_of(page, i)
        ),
        (Lang::En, false) => format!(
            "{}, the plan you asked about, with no credits bought",
            plan_of(page, i)
        ),
        (Lang::Ja, true) => format!("ご検討の{}（従量課金）", plan_of(page, i)),
        (Lang::Ja, false) => format!("ご検討の{}（クレジット購入なし）", plan_of(page, i)),
    }
}

/// What the recommendation saves against paying as you go and against the asked plan.
fn savings(page: &QuotePage) -> String {
    let q = page.quote;
    let asked = role_of(page, |s| s.roles.asked).expect("the asked plan is always shown");
    let payg = role_of(page, |s| s.roles.pay_as_you_go);
    let mut out = Vec::new();
    if let (Some(p), Some(summary)) = (payg.filter(|&p| p != 0 && p != asked), &q.vs_pay_as_you_go)
    {
        out.push(against(page, p, &payg_label(page, p), summary));
    }
    if asked != 0 {
        out.push(against(page, asked, &asked_label(page, asked), &q.summary));
    }
    if out.is_empty() {
        out.push(
            page.t(
                "It is the plan you asked about, paid as you go: nothing in the pricing book does better on your usage.",
                "ご検討のプランの従量課金がそのまま最適です。料金表のどの組み合わせもこれを下回りません。",
            )
            .to_string(),
        );
    }
    out.join(page.t(" ", ""))
}

/// `text` with its first letter capitalised, to open an English sentence.
fn capitalised(lang: Lang, text: &str) -> String {
    let mut chars = text.chars();
    match (lang, chars.next()) {
        (Lang::En, Some(c)) => c.to_uppercase().chain(chars).collect(),
        _ => text.to_string(),
    }
}

/// Whether `amount` shows as zero at the book's minor unit.
fn rounds_to_zero(page: &QuotePage, amount: Decimal) -> bool {
    let d = page.case().book.minor_digits;
    amount
        .round_dp_with_strategy(d, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .is_zero()
}

/// When a setup that refuses no usage has a lower mean than the recommendation (the advice
/// called the two a tie, within the simulation's precision, and took the one paying less
/// cash), the recommendation's why says so.
fn tie_words(page: &QuotePage) -> Option<String> {
    let n = page.quote.setups.len();
    let lower = (1..n).any(|i| {
        page.stats(i).p_blocked.is_zero()
            && page.mean(i) < page.mean(0)
            && !rounds_to_zero(page, page.mean(0) - page.mean(i))
    });
    if !lower {
        return None;
    }
    let cash = |i: usize| page.stats(i).cash.cost.mean;
    let least_cash = (1..n).all(|i| !page.stats(i).p_blocked.is_zero() || cash(0) <= cash(i));
    Some(match (page.lang, least_cash) {
        (Lang::En, true) => "Ties for the lowest expected cost (within the simulation's precision), and pays the least cash".into(),
        (Lang::En, false) => "Ties for the lowest expected cost (within the simulation's precision)".into(),
        (Lang::Ja, true) => "期待費用は最安と同等（シミュレーションの誤差の範囲）で、現金支出が最少".into(),
        (Lang::Ja, false) => "期待費用は最安と同等（シミュレーションの誤差の範囲）".into(),
    })
}

/// Setup `i`'s one-line why.
fn why(page: &QuotePage, i: usize) -> String {
    if i == 0 && page.quote.advice.goal.objective == Objective::Mean {
        if let Some(tie) = tie_words(page) {
            return tie;
        }
    }
    if i == 0 {
        let mut w = goal_words(page).to_string();
        if page.lang == Lang::En {
            w = w[..1].to_uppercase() + &w[1..];
        }
        return w;
    }
    let s = &page.quote.setups[i];
    let mut parts: Vec<String> = Vec::new();
    if s.roles.asked {
        parts.push(page.t("the plan you asked about", "ご検討のプラン").into());
    }
    if s.roles.pay_as_you_go {
        parts.push(page.t("no commitment", "前払いなし").into());
    }
    let diff = page.mean(i) - page.mean(0);
    parts.push(match (page.lang, diff >= Decimal::ZERO) {
        _ if rounds_to_zero(page, diff) => page.t("the same on average", "平均費用は同じ").into(),
        (Lang::En, true) => format!("{} more", page.money(diff)),
        (Lang::En, false) => format!("{} less on average", page.money(-diff)),
        (Lang::Ja, true) => format!("{}高い", page.money(diff)),
        (Lang::Ja, false) => format!("平均で{}安い", page.money(-diff)),
    });
    if !page.stats(i).p_blocked.is_zero() {
        let p = words::percent(page.stats(i).p_blocked);
        parts.push(match page.lang {
            Lang::En => format!("usage stops in {p} of outcomes"),
            Lang::Ja => format!("{p}の結果で利用停止"),
        });
        return parts.join(page.t("; ", "、"));
    }
    if s.upfront < page.quote.setups[0].upfront && !s.roles.pay_as_you_go {
        parts.push(
            page.t("less paid on day one", "初日の支払いが少ない")
                .into(),
        );
    }
    if page.range(i).1 < page.range(0).1 {
        parts.push(page.t("lower in a busy year", "利用が多い年は割安").into());
    }
    parts.join(page.t("; ", "、"))
}

fn options_table(page: &QuotePage) -> Table {
    let months = page.months();
    let header = match page.lang {
        Lang::En => vec![
            String::new(),
            "option".into(),
            format!("expected, {months} months"),
            "8 times in 10".into(),
            "paid on day one".into(),
            "why".into(),
        ],
        Lang::Ja => vec![
            String::new(),
            "構成".into(),
            format!("想定費用（{months}か月）"),
            "10回中8回の範囲".into(),
            "初日のお支払い".into(),
            "ポイント".into(),
        ],
    };
    let rows = (0..page.quote.setups.len())
        .map(|i| {
            let (p10, p90) = page.range(i);
            vec![
                letter(i).to_string(),
                page.setup_text(i),
                page.money(page.mean(i)),
                format!("{} - {}", page.m(p10), page.m(p90)),
                page.m(page.quote.setups[i].upfront),
                why(page, i),
            ]
        })
        .collect();
    Table {
        title: page
            .t(
                "Your options (A is the recommendation)",
                "選択肢（A がおすすめ）",
            )
            .to_string(),
        header,
        rows,
        key_columns: 1,
    }
}

fn figures(page: &QuotePage) -> Result<Vec<(crate::report::doc::Chart, String)>, String> {
    let others: Vec<usize> = (1..page.quote.setups.len())
        .filter(|&i| {
            let r = page.quote.setups[i].roles;
            r.asked || r.pay_as_you_go
        })
        .collect();
    let paid = paid_chart(page.quote, Measure::Cash, &others)?;
    let (curves, dots) = curves_chart(page.quote, page.measure())?;
    let names = |ids: &[usize]| {
        ids.iter()
            .map(|i| letter(*i).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let currency = &page.case().book.currency;
    let levels = page.quote.levels;
    let credits = |l: i64| words::number(Decimal::new(l, 6), 2);
    let paid_caption = match page.lang {
        Lang::En => format!(
            "Paid by the end of each month ({currency}). A: the recommendation, its mean and, shaded, 8 outcomes in 10; {}: the mean of each.",
            names(&others)
        ),
        Lang::Ja => format!(
            "各月末までのお支払い累計（{currency}）。A：おすすめの平均と、網掛けは10回中8回の範囲。{}：各平均。",
            names(&others)
        ),
    };
    let curves_caption = match page.lang {
        Lang::En => format!(
            "Cost over {} months ({currency}) against steady usage a month (credits), A-{}. Shaded: your range, {} to {} credits a month; dashed: what you expect, {}{}",
            page.months(),
            letter(page.quote.setups.len() - 1),
            credits(levels.low_micros),
            credits(levels.high_micros),
            credits(levels.expected_micros),
            if dots { "; dots: where the cheapest option changes." } else { "." }
        ),
        Lang::Ja => format!(
            "月あたりの利用量（クレジット、毎月一定）ごとの{}か月の費用（{currency}）、A〜{}。網掛け：想定範囲 月{}〜{}クレジット、破線：想定値 {}{}",
            page.months(),
            letter(page.quote.setups.len() - 1),
            credits(levels.low_micros),
            credits(levels.high_micros),
            credits(levels.expected_micros),
            if dots { "、点：最安の選択肢が入れ替わる利用量。" } else { "。" }
        ),
    };
    Ok(vec![
        (paid.inline(), paid_caption),
        (curves.inline(), curves_caption),
    ])
}

/// Day-one charge and the month from which the recommendation has cost less in cash.
fn payback(page: &QuotePage) -> String {
    let q = page.quote;
    let rec = &q.setups[0];
    let mut out = match page.lang {
        Lang::En => format!(
            "On day one the recommendation charges {}.",
            page.m(rec.upfront)
        ),
        Lang::Ja => format!(
            "おすすめの構成では初日に{}をお支払いいただきます。",
            page.m(rec.upfront)
        ),
    };
    let asked = role_of(page, |s| s.roles.asked).expect("shown");
    let payg = role_of(page, |s| s.roles.pay_as_you_go);
    let mut compare = |summary: &Summary, label: &str| {
        let month = summary.strategies[rec.row].cash.break_even_month;
        out.push_str(page.t(" ", ""));
        out.push_str(&match (page.lang, month) {
            (Lang::En, Some(k)) => format!(
                "Against {label}, the cash paid so far is lower from {} on.",
                words::month(page.lang, k)
            ),
            (Lang::Ja, Some(k)) => format!(
                "{label}と比べ、{}以降は支払い累計が下回ります。",
                words::month(page.lang, k)
            ),
            (Lang::En, None) => format!(
                "Against {label}, the cash paid does not come out lower within the {} months.",
                page.months()
            ),
            (Lang::Ja, None) => format!(
                "{label}と比べると、{}か月の間に支払い累計は下回りません。",
                page.months()
            ),
        });
    };
    if asked != 0 {
        compare(&q.summary, &asked_label(page, asked));
    }
    if let (Some(p), Some(summary)) = (payg.filter(|&p| p != 0 && p != asked), &q.vs_pay_as_you_go)
    {
        compare(summary, &payg_label(page, p));
    }
    out
}

/// The customer's low or high end in their own units: "1,500 gpu_training_minutes and
/// 12,000 ai_labels".
fn end_usage(page: &QuotePage, high: bool) -> Option<String> {
    if page.profile.usage.is_empty() {
        return None;
    }
    let parts: Vec<String> = (page.profile.usage.iter())
        .map(|u| {
            let q = if high { u.high } else { u.low };
            format!("{} {}", words::number(q, 6), u.metric)
        })
        .collect();
    Some(parts.join(page.t(" and ", "、")))
}

/// The cheapest shown setup in `costs` (by row), by the one ranking.
fn cheapest_shown(page: &QuotePage, costs: &[Cost]) -> usize {
    let shown: Vec<Cost> = page.quote.setups.iter().map(|s| costs[s.row]).collect();
    breakeven::cheapest(&shown, page.measure())
}

fn ends(page: &QuotePage) -> String {
    let q = page.quote;
    let one = |high: bool, costs: &[Cost], level: i64| {
        let best = cheapest_shown(page, costs);
        let a = page.m(costs[q.setups[0].row].of(page.measure()));
        let b = page.m(costs[q.setups[best].row].of(page.measure()));
        let credits = words::number(Decimal::new(level, 6), 2);
        let usage = match (end_usage(page, high), page.lang) {
            (Some(u), Lang::En) => format!("{u} a month, {credits} credits"),
            (Some(u), Lang::Ja) => format!("月{u}、{credits}クレジット"),
            (None, Lang::En) => format!("{credits} credits a month"),
            (None, Lang::Ja) => format!("月{credits}クレジット"),
        };
        let (en_end, ja_end) = if high {
            ("high", "多い")
        } else {
            ("low", "少ない")
        };
        match (page.lang, best == 0) {
            (Lang::En, true) => format!(
                "At the {en_end} end ({usage}, steady all year) A would cost {a} and stays the cheapest."
            ),
            (Lang::En, false) => format!(
                "At the {en_end} end ({usage}, steady all year) A would cost {a}; {} would be cheapest at {b}.",
                letter(best)
            ),
            (Lang::Ja, true) => format!(
                "利用が{ja_end}場合（{usage}で年間一定）、Aは{a}で、引き続き最安です。"
            ),
            (Lang::Ja, false) => format!(
                "利用が{ja_end}場合（{usage}で年間一定）、Aは{a}、最安は{}の{b}です。",
                letter(best)
            ),
        }
    };
    format!(
        "{}{}{}",
        one(false, &q.at_low, q.levels.low_micros),
        page.t(" ", ""),
        one(true, &q.at_high, q.levels.high_micros)
    )
}

/// A metric's stated range in plain words.
fn usage_words(page: &QuotePage, u: &crate::input::profile::UsageReading) -> String {
    let n = |d: Decimal| words::number(d, 6);
    match page.lang {
        Lang::En => u.sentence(),
        Lang::Ja => {
            let mut s = format!(
                "{}：月あたり約{}（10か月に1か月は{}未満、1か月は{}超）",
                u.metric,
                n(u.per_month),
                n(u.low),
                n(u.high)
            );
            if u.asymmetric {
                s.push_str(
                    "。範囲が想定値に対して偏っているため、広い側に合わせて読み取っています",
                );
            }
            s.push('。');
            s
        }
    }
}

/// The prices the quote rests on, and the book's file.
fn prices_words(page: &QuotePage) -> String {
    let case = page.case();
    let (book, cohort) = (&case.book, case.cohort());
    let price = |p: crate::model::amounts::Price| page.money(p.to_decimal());
    let plan = case.workspace.plan;
    let file = (page.profile.scenario.inputs.iter())
        .find(|i| i.role == "pricing book")
        .map(|i| {
            format!(
                "{} (SHA-256 {})",
                i.path.display(),
                &i.sha256[..12.min(i.sha256.len())]
            )
        })
        .unwrap_or_default();
    match page.lang {
        Lang::En => format!(
            "{}, price group \"{}\" (by the workspace's creation date): pay as you go {} a credit on {}, prepaid {} a credit before bundle discounts. Book: {file}.",
            book.name, cohort.id, price(cohort.flex_price(plan)), book.plans[plan.0].name, price(cohort.prepaid_base_price)
        ),
        Lang::Ja => format!(
            "{}、価格グループ「{}」（ワークスペース作成日による）：{}の従量課金は1クレジット{}、前払いは1クレジット{}（バンドル割引前）。料金表：{file}。",
            book.name, cohort.id, book.plans[plan.0].name, price(cohort.flex_price(plan)), price(cohort.prepaid_base_price)
        ),
    }
}

/// The stated usage, how it was read, and its growth.
fn usage_paragraph(page: &QuotePage) -> String {
    if page.profile.usage.is_empty() {
        let l = page.quote.levels;
        let credits = |x: i64| words::number(Decimal::new(x, 6), 2);
        return match page.lang {
            Lang::En => page.profile.reading.clone(),
            Lang::Ja => format!(
                "お客様ご自身の利用履歴を1週間単位で再標本化して予測：期間平均で月約{}クレジット（予測の10回に1回は{}未満、1回は{}超）。",
                credits(l.expected_micros),
                credits(l.low_micros),
                credits(l.high_micros)
            ),
        };
    }
    let usage: Vec<String> = page
        .profile
        .usage
        .iter()
        .map(|u| usage_words(page, u))
        .collect();
    let mut s = usage.join(page.t(" ", ""));
    let growth = page.profile.growth_percent_per_month;
    if growth != 0.0 {
        let g = words::number(Decimal::from_f64_retain(growth).unwrap_or_default(), 2);
        s.push_str(&match page.lang {
            Lang::En => format!(" Growing {g}% a month."),
            Lang::Ja => format!("毎月{g}%増加。"),
        });
    }
    s
}

/// The assumptions, one short paragraph each: "Prices: ...".
fn assumptions(page: &QuotePage) -> Vec<String> {
    let case = page.case();
    let sim = &page.quote.summary;
    let seats = case.workspace.seats;
    let months = page.months();
    let start = words::date(page.lang, case.horizon.start.date());
    let paths = words::number(Decimal::from(sim.paths), 0);
    let rows: Vec<(&str, &str, String)> = vec![
        ("Prices", "料金", prices_words(page)),
        ("Workspace", "ワークスペース", match page.lang {
            Lang::En => format!("Created {start}, {seats} seat{}, {months} months.", if seats == 1 { "" } else { "s" }),
            Lang::Ja => format!("{start}作成、{seats}席、{months}か月。"),
        }),
        ("Usage", "利用量", usage_paragraph(page)),
        ("Cost", "費用", match (page.lang, page.measure()) {
            (Lang::En, Measure::Economic) => format!("What you pay over the {months} months, less the value of prepaid credits and plan time paid for and not used by the end (they stay yours)."),
            (Lang::Ja, Measure::Economic) => format!("{months}か月間のお支払いから、期間末に未使用の前払いクレジットと契約期間の残り（お客様に残る価値）を差し引いた額。"),
            (Lang::En, Measure::Cash) => format!("What you pay over the {months} months."),
            (Lang::Ja, Measure::Cash) => format!("{months}か月間のお支払い額。"),
        }),
        ("Spending limit", "利用上限", match (page.lang, case.strategies[0].flex.enabled) {
            (Lang::En, true) => "None: usage beyond the credits is billed as you go, never stopped.".to_string(),
            (Lang::Ja, true) => "なし：クレジットを超えた利用は従量課金となり、停止しません。".to_string(),
            (Lang::En, false) => "Pay as you go is off by default in this pricing book: usage stops when the credits run out, unless more are bought.".to_string(),
            (Lang::Ja, false) => "この料金表では従量課金が既定で無効です：クレジットを使い切ると、追加購入しない限り利用が止まります。".to_string(),
        }),
        ("Method", "計算方法", match page.lang {
            Lang::En => format!("{paths} simulated outcomes of your usage (seed {}), billed by the pricing book's rules; the same inputs give the same numbers.", sim.seed),
            Lang::Ja => format!("ご利用量を{paths}通りシミュレーション（シード{}）し、料金表のルールで計算しています。同じ入力からは同じ結果が得られます。", sim.seed),
        }),
    ];
    rows.into_iter()
        .map(|(en, ja, text)| format!("{}{}{text}", page.t(en, ja), page.t(": ", "：")))
        .collect()
}

/// The slider: every level of the cost curves, with each setup's exact cost there.
fn explorer(page: &QuotePage) -> Explorer {
    let q = page.quote;
    let m = page.measure();
    let levels = breakeven::grid(&q.curves.sweep);
    let expected = q.levels.expected_micros;
    let start = (levels.iter().enumerate())
        .min_by_key(|(_, l)| (**l - expected).unsigned_abs())
        .map_or(0, |(k, _)| k);
    let points = levels
        .iter()
        .map(|&level| {
            let costs = q.curves.costs_at(level).expect("grid levels are evaluated");
            explorer_point(page, m, level, costs)
        })
        .collect();
    let months = page.months();
    Explorer {
        title: page
            .t("Try another usage level", "利用量を変えて試す")
            .to_string(),
        fallback: page
            .t(
                "(The interactive page, --interactive, has a usage slider.)",
                "（--interactive のページでは利用量をスライダーで変えられます。）",
            )
            .to_string(),
        label: page
            .t(
                "Usage a month, steady all year",
                "月あたりの利用量（年間一定）",
            )
            .to_string(),
        header: match page.lang {
            Lang::En => vec![
                "option".into(),
                format!("cost over {months} months"),
                "a month".into(),
                "usage refused".into(),
            ],
            Lang::Ja => vec![
                "構成".into(),
                format!("{months}か月の費用"),
                "月あたり".into(),
                "停止した利用".into(),
            ],
        },
        row_names: (0..q.setups.len())
            .map(|i| format!("{} {}", letter(i), page.setup_text(i)))
            .collect(),
        points,
        start,
    }
}

fn explorer_point(page: &QuotePage, m: Measure, level: i64, costs: &[Cost]) -> ExplorerPoint {
    let q = page.quote;
    let months = Decimal::from(page.months());
    let credits = words::number(Decimal::new(level, 6), 2);
    let share = if q.levels.expected_micros > 0 {
        words::percent(Decimal::from(level) / Decimal::from(q.levels.expected_micros))
    } else {
        "-".to_string()
    };
    let best = cheapest_shown(page, costs);
    let cost = |i: usize| costs[q.setups[i].row].of(m);
    let at = match page.lang {
        Lang::En => format!("{credits} credits a month ({share} of what you expect)"),
        Lang::Ja => format!("月{credits}クレジット（想定の{share}）"),
    };
    let sentence = match page.lang {
        Lang::En => format!(
            "Cheapest here: {} {}, {}.",
            letter(best),
            page.setup_text(best),
            page.m(cost(best))
        ),
        Lang::Ja => format!(
            "この利用量での最安：{} {}（{}）。",
            letter(best),
            page.setup_text(best),
            page.m(cost(best))
        ),
    };
    let cells = (0..q.setups.len())
        .map(|i| {
            let c = costs[q.setups[i].row];
            vec![
                page.m(cost(i)),
                page.money(cost(i).to_decimal() / months),
                words::number(c.refused.to_decimal(), 2),
            ]
        })
        .collect();
    ExplorerPoint {
        at,
        sentence,
        cells,
        best,
    }
}

fn quote_json(page: &QuotePage) -> Value {
    let q = page.quote;
    let d = page.case().book.minor_digits;
    let money = |m: Money| json!(m.to_decimal_minor(d).to_string());
    let micros = |l: i64| json!(Decimal::new(l, 6).normalize().to_string());
    let setups: Vec<Value> = (0..q.setups.len())
        .map(|i| {
            let s = &q.setups[i];
            let st = page.stats(i).measure(page.measure());
            let (p10, p90) = page.range(i);
            json!({
                "letter": letter(i).to_string(),
                "setup": s.strategy.name,
                "described": page.setup_text(i),
                "recommended": s.roles.recommended,
                "asked": s.roles.asked,
                "pay_as_you_go": s.roles.pay_as_you_go,
                "mean": st.cost.mean.to_string(),
                "p10": money(p10),
                "p90": money(p90),
                "upfront": money(s.upfront),
                "saving_vs_asked": st.savings.mean.to_string(),
                "break_even_month_cash_vs_asked": page.stats(i).cash.break_even_month,
                "p_blocked": page.stats(i).p_blocked.to_string(),
                "cost_at_low": money(q.at_low[s.row].of(page.measure())),
                "cost_at_high": money(q.at_high[s.row].of(page.measure())),
            })
        })
        .collect();
    json!({
        "customer": page.profile.customer,
        "lang": page.lang.code(),
        "objective": q.advice.goal.objective.name(),
        "measure": page.measure().name(),
        "paths": q.summary.paths,
        "seed": q.summary.seed,
        "usage_credits_a_month": {
            "low": micros(q.levels.low_micros),
            "expected": micros(q.levels.expected_micros),
            "high": micros(q.levels.high_micros),
        },
        "setups": setups,
        "lead": lead(page),
        "savings": savings(page),
    })
}

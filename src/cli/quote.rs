//! `creditsim quote`: a one-page cost estimate for a customer profile
//! (`analysis::quote`, `report::quote`), as text, Markdown, HTML or a PDF printed by
//! headless Chromium.

use super::advise::AdviceFlags;
use super::{bad, provenance_of, Failure};
use creditsim::analysis::quote::quote;
use creditsim::input::files::{kind_of, FileKind};
use creditsim::input::profile;
use creditsim::report::output::write_file;
use creditsim::report::pdf::{self, Paper};
use creditsim::report::quote::{quote_doc, QuotePage};
use creditsim::report::quote_words::Lang;
use creditsim::report::text::terminal_width;
use creditsim::report::Format;
use std::path::PathBuf;
use std::process::Command;

#[derive(Clone, Copy, clap::ValueEnum)]
enum QuoteFormat {
    Table,
    Markdown,
    /// One self-contained page, to send or open in a browser.
    Html,
    /// The page printed on one sheet by headless Chromium (needs --output).
    Pdf,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LangArg {
    En,
    Ja,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PaperArg {
    A4,
    Letter,
}

#[derive(clap::Args)]
#[command(
    after_help = "The profile's plan is the plan the customer asked about; the quote \
compares the recommendation with it and with paying as you go on the cheapest monthly plan. \
Every number is the engine's: the same profile and seed give the same quote.

Examples:
  creditsim quote scenarios/profiles/acme-vision.toml
  creditsim quote scenarios/profiles/acme-vision.toml --format html --interactive --output quote.html
  creditsim quote scenarios/profiles/wallet-shop.toml --lang ja --format pdf --output quote.pdf"
)]
pub struct Args {
    /// Customer profile (scenarios/README.md, "Customer profile"); or give it as flags
    /// (--customer, --book, --created, --plan, --usage or --usage-trace).
    profile: Option<PathBuf>,
    #[command(flatten)]
    inline: ProfileFlags,
    #[arg(long, value_enum, default_value = "table")]
    format: QuoteFormat,
    /// Write here instead of stdout (the file appears whole or not at all).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The quote's language: English, or Japanese (numbers, dates and money as Japan writes
    /// them).
    #[arg(long, value_enum, default_value = "en")]
    lang: LangArg,
    /// HTML: add a usage slider that moves along the engine's exact cost curves.
    #[arg(long)]
    interactive: bool,
    /// The date the quote is dated (default: today), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// PDF paper size (default: A4).
    #[arg(long, value_enum)]
    paper: Option<PaperArg>,
    /// The Chromium that prints PDFs (default: $CREDITSIM_CHROMIUM, else chromium,
    /// chromium-browser or google-chrome on the PATH).
    #[arg(long, value_name = "PATH")]
    chromium: Option<PathBuf>,
    #[command(flatten)]
    advice: AdviceFlags,
    /// Worker threads (default: one per core). Results never depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// A profile as flags, for a quote without a file: each flag is the profile key of its name.
#[derive(clap::Args)]
struct ProfileFlags {
    /// The customer's name.
    #[arg(long, value_name = "NAME")]
    customer: Option<String>,
    /// The pricing book file.
    #[arg(long, value_name = "FILE")]
    book: Option<String>,
    /// Workspace creation date (the horizon's start), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    created: Option<String>,
    /// The plan the customer asked about.
    #[arg(long, value_name = "PLAN")]
    plan: Option<String>,
    #[arg(long, value_name = "N")]
    seats: Option<u32>,
    #[arg(long, value_name = "N")]
    months: Option<u32>,
    /// Usage growth a month, in percent (compounding).
    #[arg(long, value_name = "PERCENT")]
    growth: Option<f64>,
    /// A metric's usage a month: METRIC=ABOUT,LOW,HIGH in its own unit (repeatable).
    #[arg(long, value_name = "METRIC=ABOUT,LOW,HIGH")]
    usage: Vec<String>,
    /// The customer's own usage history (CSV or Parquet) instead of --usage.
    #[arg(long, value_name = "FILE")]
    usage_trace: Option<String>,
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
}

/// What errors about a profile given as flags name as its file.
const FLAGS_SOURCE: &str = "(quote flags)";

/// The profile the flags describe, as the TOML a profile file would hold (every value
/// quoted by the TOML writer), read by the same loader.
fn profile_of_flags(f: &ProfileFlags) -> Result<profile::Profile, Failure> {
    let missing: Vec<&str> = [
        ("--customer", f.customer.is_none()),
        ("--book", f.book.is_none()),
        ("--created", f.created.is_none()),
        ("--plan", f.plan.is_none()),
    ]
    .iter()
    .filter(|(_, m)| *m)
    .map(|(n, _)| *n)
    .collect();
    if !missing.is_empty() {
        return Err(bad(format_args!(
            "give a profile file, or the profile as flags: missing {}",
            missing.join(", ")
        )));
    }
    let q = |v: &str| toml::Value::String(v.to_string()).to_string();
    let mut text = format!(
        "[profile]\ncustomer = {}\npricing_book = {}\ncreated = {}\nplan = {}\n",
        q(f.customer.as_deref().unwrap_or_default()),
        q(f.book.as_deref().unwrap_or_default()),
        f.created.as_deref().unwrap_or_default().trim(),
        q(f.plan.as_deref().unwrap_or_default()),
    );
    for (key, value) in [("seats", f.seats), ("months", f.months)] {
        if let Some(v) = value {
            text.push_str(&format!("{key} = {v}\n"));
        }
    }
    if let Some(g) = f.growth {
        text.push_str(&format!("growth_percent_per_month = {g:?}\n"));
    }
    for (key, value) in [("usage_trace", &f.usage_trace), ("currency", &f.currency)] {
        if let Some(v) = value {
            text.push_str(&format!("{key} = {}\n", q(v)));
        }
    }
    for u in &f.usage {
        let wrong = || {
            bad(format_args!(
                "--usage {u:?}: expected METRIC=ABOUT,LOW,HIGH"
            ))
        };
        let (metric, values) = u.split_once('=').ok_or_else(wrong)?;
        let [about, low, high] = values.split(',').collect::<Vec<_>>()[..] else {
            return Err(wrong());
        };
        text.push_str(&format!(
            "[[usage]]\nmetric = {}\nper_month = {}\nlow = {}\nhigh = {}\n",
            q(metric.trim()),
            q(about.trim()),
            q(low.trim()),
            q(high.trim())
        ));
    }
    let source = creditsim::model::diag::Source {
        path: PathBuf::from(FLAGS_SOURCE),
        text,
        cut: None,
    };
    Ok(profile::load_source(source)?)
}

/// The profile: the file's, or the flags'.
fn profile_of(args: &Args) -> Result<profile::Profile, Failure> {
    let f = &args.inline;
    let flags = f.customer.is_some()
        || f.book.is_some()
        || f.created.is_some()
        || f.plan.is_some()
        || f.seats.is_some()
        || f.months.is_some()
        || f.growth.is_some()
        || !f.usage.is_empty()
        || f.usage_trace.is_some()
        || f.currency.is_some();
    match (&args.profile, flags) {
        (Some(_), true) => Err(bad("give a profile file or the profile as flags, not both")),
        (None, _) => profile_of_flags(f),
        (Some(path), false) => {
            if kind_of(path) != FileKind::Profile {
                return Err(bad(format_args!(
                    "{}: quote takes a customer profile (a [profile] table); for a scenario, use advise",
                    path.display()
                )));
            }
            Ok(profile::load(path)?)
        }
    }
}

fn prepared(date: &Option<String>) -> Result<chrono::NaiveDate, Failure> {
    match date {
        Some(text) => chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| bad(format_args!("--date {text:?}: not a date like 2026-12-03"))),
        None => {
            // Only the date printed on the quote; --date fixes it, and no number uses it.
            let now = std::time::SystemTime::now() // det-ok: the quote's printed date
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let days = i64::try_from(now / 86_400).unwrap_or(0);
            Ok(chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date")
                + chrono::Duration::days(days))
        }
    }
}

fn find_chromium(given: &Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    if let Some(p) = std::env::var_os("CREDITSIM_CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(PathBuf::from)
        .ok_or_else(|| {
            bad(
                "--format pdf prints with headless Chromium, and none was found: install it \
                 (apt-get install chromium) or give --chromium PATH",
            )
        })
}

/// The quote in the format asked for.
fn rendered(doc: &creditsim::report::Doc, args: &Args) -> Result<Vec<u8>, Failure> {
    Ok(match args.format {
        QuoteFormat::Table => doc.render(Format::Table, terminal_width()).into_bytes(),
        QuoteFormat::Markdown => doc.render(Format::Markdown, 0).into_bytes(),
        QuoteFormat::Html => doc.render(Format::Html, 0).into_bytes(),
        QuoteFormat::Json => doc.render(Format::Json, 0).into_bytes(),
        QuoteFormat::Pdf => {
            let paper = match args.paper {
                None | Some(PaperArg::A4) => Paper::A4,
                Some(PaperArg::Letter) => Paper::Letter,
            };
            pdf::print(
                &doc.render(Format::Html, 0),
                &find_chromium(&args.chromium)?,
                paper,
            )
            .map_err(bad)?
        }
    })
}

/// Flags that only mean something in one format are refused in the others, never ignored.
fn check_flags(args: &Args) -> Result<(), Failure> {
    let pdf = matches!(args.format, QuoteFormat::Pdf);
    if pdf && args.output.is_none() {
        return Err(bad("--format pdf needs --output FILE"));
    }
    if args.interactive && !matches!(args.format, QuoteFormat::Html) {
        return Err(bad(
            "--interactive is for --format html (a page with a slider)",
        ));
    }
    if !pdf && (args.paper.is_some() || args.chromium.is_some()) {
        return Err(bad("--paper and --chromium are for --format pdf"));
    }
    Ok(())
}

pub fn run(args: Args) -> Result<(), Failure> {
    check_flags(&args)?;
    if args.threads == Some(0) {
        return Err(bad("--threads must be at least 1"));
    }
    let prepared = prepared(&args.date)?;
    let profile = profile_of(&args)?;
    let scenario = &profile.scenario;
    let usage = scenario
        .advice_model()
        .ok_or_else(|| bad("the horizon has no whole day to simulate"))?;
    let (goal, constraints, config) = args.advice.race(&usage, args.threads)?;
    let q = quote(
        &scenario.case,
        &usage.model,
        usage.baseline,
        (goal, constraints),
        config,
        profile.levels,
    )
    .map_err(|e| bad(format_args!("{}: {e}", profile.scenario.path.display())))?;
    let lang = match args.lang {
        LangArg::En => Lang::En,
        LangArg::Ja => Lang::Ja,
    };
    let page = QuotePage {
        profile: &profile,
        quote: &q,
        lang,
        prepared,
        interactive: args.interactive,
    };
    let mut doc = quote_doc(&page).map_err(bad)?;
    let mut provenance = provenance_of(scenario);
    provenance.push("seed", config.sim.seed.to_string());
    provenance.push("paths", config.sim.paths.to_string());
    doc.set_provenance(&provenance);
    let bytes = rendered(&doc, &args)?;
    match &args.output {
        Some(path) => write_file(path, &bytes).map_err(bad),
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(|e| bad(format_args!("stdout: {e}")))
        }
    }
}

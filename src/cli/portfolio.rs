//! `creditsim portfolio`: every workspace of a trace under every strategy; `--shard K/N` runs
//! the K-th of N workspace-hash shards, and `portfolio merge` joins the shards' outputs into
//! the files one run writes.

use super::trace::TraceArgs;
use super::{bad, provenance_of, Failure, ReportArgs};
use creditsim::analysis::portfolio::{run as replay_members, shard_of, summarise};
use creditsim::input::scenario::load_portfolio;
use creditsim::report::portfolio_out as output;
use creditsim::report::tables::to_parquet;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Most shards a portfolio is split into.
const SHARDS_MAX: u32 = 100_000;

#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:
  creditsim portfolio scenarios/examples/portfolio.toml --trace notebooks-data/traces/portfolio.parquet --accounts notebooks-data/accounts.csv
  creditsim portfolio scenarios/examples/portfolio.toml --trace exports/ --out /tmp/portfolio --format json
  creditsim portfolio scenarios/examples/portfolio.toml --trace T.parquet --shard 2/8 --out /tmp/shard-2
  creditsim portfolio merge /tmp/shard-1 /tmp/shard-2 ... /tmp/shard-8 --out /tmp/portfolio"
)]
pub struct Args {
    #[command(subcommand)]
    merge: Option<Merge>,
    /// Scenario file: pricing book, horizon, strategies, and the default workspace.
    #[arg(required = true)]
    scenario: Option<PathBuf>,
    #[command(flatten)]
    trace: TraceArgs,
    /// Accounts table (CSV: workspace, created, and optionally plan, seats); without it
    /// every workspace is set up like the scenario's [workspace].
    #[arg(long)]
    accounts: Option<PathBuf>,
    /// Replay only the K-th of N shards (1-based): the workspaces whose id's SHA-256, first 8
    /// bytes big-endian, is K-1 modulo N. With --out, the folder also gets shard.json, which
    /// `portfolio merge` reads.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// With --out: the folder also gets workspaces.parquet and workspaces.csv, one row per
    /// workspace and strategy.
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(clap::Subcommand)]
enum Merge {
    /// Join the --out folders of `portfolio --shard K/N` (every K of one N) into the files
    /// one run writes: workspaces.parquet and .csv in the portfolio's order, and the summary.
    Merge {
        /// The shards' --out folders, in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
}

/// `K/N` as (K-1, N).
fn parse_shard(text: &str) -> Result<(u32, u32), Failure> {
    let wrong = || {
        bad(format_args!(
            "--shard {text:?}: expected K/N with 1 <= K <= N <= {SHARDS_MAX}, like 2/8"
        ))
    };
    let (k, n) = text.split_once('/').ok_or_else(wrong)?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| wrong())?,
        n.trim().parse().map_err(|_| wrong())?,
    );
    if k == 0 || k > n || n > SHARDS_MAX {
        return Err(wrong());
    }
    Ok((k - 1, n))
}

pub fn run(args: Args) -> Result<(), Failure> {
    if let Some(Merge::Merge { shards, report }) = args.merge {
        return merge(&shards, &report);
    }
    let scenario = args
        .scenario
        .as_deref()
        .expect("clap requires it without merge");
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let overrides = args.trace.overrides(None)?;
    let mut portfolio = load_portfolio(scenario, &overrides, args.accounts.as_deref())?;
    for line in portfolio.import.lines() {
        eprintln!("{line}");
    }
    let every_id: Vec<String> = portfolio.members.iter().map(|m| m.id.clone()).collect();
    if let Some((k, n)) = shard {
        portfolio.members.retain(|m| shard_of(&m.id, n) == k);
    }
    let case = &portfolio.scenario.case;
    let results = replay_members(
        &case.book,
        case.horizon.end,
        &portfolio.members,
        args.report.threads(),
    )
    .map_err(|e| bad(format_args!("{}: {e}", scenario.display())))?;
    let summary = summarise(&results, case.strategies.len());
    let mut provenance = provenance_of(&portfolio.scenario);
    provenance.push("trace", portfolio.import.path.display().to_string());
    if let Some(a) = &args.accounts {
        provenance.push("accounts", a.display().to_string());
    }
    let mut doc = output::summary_doc(&output::SummaryInfo::of(&portfolio), &summary);
    doc.set_provenance(&provenance);
    let mut files = Vec::new();
    if args.report.out.is_some() {
        let frame = output::frame(&portfolio, &results);
        files.push(("workspaces.csv".to_string(), output::to_csv(frame.clone())));
        files.push((
            "workspaces.parquet".to_string(),
            to_parquet(frame, &provenance),
        ));
        if let Some((k, n)) = shard {
            let manifest = json!({ "shard": k + 1, "of": n, "workspaces": every_id });
            files.push(("shard.json".to_string(), manifest.to_string().into_bytes()));
        }
    }
    args.report.emit(&doc, files)
}

/// One shard's --out folder as read.
struct Shard {
    k: u64,
    n: u64,
    workspaces: Vec<String>,
    summary: Value,
    frame: polars::prelude::DataFrame,
}

fn read_shard(dir: &Path) -> Result<Shard, Failure> {
    let fail = |what: &str, e: String| bad(format_args!("{}: {what}: {e}", dir.display()));
    let json = |name: &str| -> Result<Value, Failure> {
        let text =
            std::fs::read_to_string(dir.join(name)).map_err(|e| fail(name, e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| fail(name, e.to_string()))
    };
    let manifest = json("shard.json")?;
    let file = std::fs::File::open(dir.join("workspaces.parquet"))
        .map_err(|e| fail("workspaces.parquet", e.to_string()))?;
    use polars::prelude::SerReader;
    let frame = polars::prelude::ParquetReader::new(file)
        .finish()
        .map_err(|e| fail("workspaces.parquet", e.to_string()))?;
    let ids = manifest["workspaces"].as_array().map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    });
    match (manifest["shard"].as_u64(), manifest["of"].as_u64(), ids) {
        (Some(k), Some(n), Some(workspaces)) => Ok(Shard {
            k,
            n,
            workspaces,
            summary: json("summary.json")?,
            frame,
        }),
        _ => Err(fail(
            "shard.json",
            "expected {\"shard\": K, \"of\": N, \"workspaces\": [...]}".into(),
        )),
    }
}

/// Every shard of one split, once: the same N, the same portfolio, K = 1..N.
fn check_shards(shards: &[Shard], dirs: &[PathBuf]) -> Result<(), Failure> {
    let n = shards[0].n;
    let mut seen = vec![false; usize::try_from(n).unwrap_or(0)];
    for (s, dir) in shards.iter().zip(dirs) {
        let same = s.n == n && s.workspaces == shards[0].workspaces;
        let info = output::SummaryInfo::from_json(&s.summary);
        let first = output::SummaryInfo::from_json(&shards[0].summary);
        let same_run = matches!((&info, &first), (Some(a), Some(b)) if a.scenario == b.scenario && a.strategies == b.strategies && a.trace == b.trace);
        if !same
            || !same_run
            || s.k == 0
            || s.k > n
            || std::mem::replace(&mut seen[s.k as usize - 1], true)
        {
            return Err(bad(format_args!(
                "{}: shard {}/{} does not belong with {}'s shard {}/{} (every shard of one split, once)",
                dir.display(), s.k, s.n, dirs[0].display(), shards[0].k, n
            )));
        }
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(bad(format_args!("shard {}/{n} is missing", missing + 1)));
    }
    Ok(())
}

fn merge(dirs: &[PathBuf], report: &ReportArgs) -> Result<(), Failure> {
    let shards = dirs
        .iter()
        .map(|d| read_shard(d))
        .collect::<Result<Vec<_>, _>>()?;
    check_shards(&shards, dirs)?;
    let mut info =
        output::SummaryInfo::from_json(&shards[0].summary).expect("check_shards read it");
    let order = shards[0].workspaces.clone();
    info.workspaces = order.len();
    let mut provenance = creditsim::report::provenance::Provenance::new(&super::command_line());
    if let Some(first) = shards[0].summary["provenance"].as_object() {
        for (key, value) in first
            .iter()
            .filter(|(k, _)| *k != "creditsim" && *k != "command")
        {
            provenance.push(key, value.as_str().unwrap_or_default());
        }
    }
    let frames = shards.into_iter().map(|s| s.frame).collect();
    let frame = output::merge_frames(frames, &order).map_err(bad)?;
    let summary = output::summary_from_frame(&frame, &info.strategies).map_err(bad)?;
    let mut doc = output::summary_doc(&info, &summary);
    doc.set_provenance(&provenance);
    let mut files = Vec::new();
    if report.out.is_some() {
        files.push(("workspaces.csv".to_string(), output::to_csv(frame.clone())));
        files.push((
            "workspaces.parquet".to_string(),
            to_parquet(frame, &provenance),
        ));
    }
    report.emit(&doc, files)
}

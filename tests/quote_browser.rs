//! The quote in a real headless Chromium (Debian's `chromium`, which `.ci/run` installs with
//! a Japanese font): for each example profile in English and Japanese, the page renders
//! without console messages and is saved as a screenshot under
//! `target/tmp/quote-screenshots/` for a person to look at; the PDF is one page on A4 and on
//! Letter; and moving the interactive page's slider shows, for that usage, the costs the
//! engine gives when each option is replayed on it.
//!
//! Without Chromium the test says so and passes, unless `CREDITSIM_REQUIRE_TOOLS` is set
//! (`.ci/run` sets it).

mod common;
use common::{chromium, harness_result, root, screenshot_clean, tool_or_skip};
use creditsim::analysis::advise::{Constraints, Goal, Objective, RaceConfig};
use creditsim::analysis::breakeven::{grid, steady_usage, Unit};
use creditsim::analysis::montecarlo::{Measure, SimConfig};
use creditsim::analysis::quote::{curve_sweep, quote};
use creditsim::engine::replay::replay;
use creditsim::input::profile;
use creditsim::report::pdf::{self, Paper};
use creditsim::report::quote_words::{money, Lang};
use std::path::Path;
use std::process::Command;

const PATHS: &str = "300";

fn quote_file(profile: &str, extra: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args([
            "quote",
            profile,
            "--paths",
            PATHS,
            "--date",
            "2026-12-03",
            "--output",
        ])
        .arg(out)
        .args(extra)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{profile} {extra:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Pages of a PDF, counted as its `/Type /Page` objects.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let compact = text.replace("/Type /Page", "/Type/Page");
    compact.matches("/Type/Page").count() - compact.matches("/Type/Pages").count()
}

/// A page that loads the quote in a frame, moves its slider to point `index` as a user's
/// drag would (the value, then an input event) and writes what the page then shows.
fn slider_harness(page: &str, index: usize) -> String {
    format!(
        r##"<!DOCTYPE html><html><body><pre id="out">pending</pre><script>
const f = document.createElement("iframe");
f.style.width = "1280px"; f.style.height = "900px";
f.onload = () => {{
  const d = f.contentDocument;
  const s = d.getElementById("explorer-usage");
  const before = d.querySelector("#explorer-table tbody tr td").textContent;
  s.value = "{index}";
  s.dispatchEvent(new Event("input", {{bubbles: true}}));
  const rows = [...d.querySelectorAll("#explorer-table tbody tr")].map(r =>
    ({{best: r.className === "best", cells: [...r.querySelectorAll("td")].map(c => c.textContent)}}));
  document.getElementById("out").textContent = "RESULT " + JSON.stringify({{
    before, at: d.getElementById("explorer-at").textContent, rows}});
}};
f.src = "{page}";
document.body.appendChild(f);
</script></body></html>"##
    )
}

/// Each option's cost at slider point `index`, replayed by the engine on that steady usage.
fn engine_costs(profile_path: &str, index: usize) -> (String, Vec<String>) {
    let p = profile::load(&root().join(profile_path)).unwrap();
    let s = &p.scenario;
    let spec = s.simulation.as_ref().unwrap();
    let sim = SimConfig {
        paths: PATHS.parse().unwrap(),
        seed: spec.seed,
        threads: None,
    };
    let goal = Goal {
        objective: Objective::Mean,
        measure: Measure::Economic,
    };
    let no_limits = Constraints {
        max_blocked_ppm: None,
        max_upfront: None,
    };
    let config = RaceConfig::new(sim, creditsim::input::scenario::ADVICE_FINALISTS);
    let q = quote(&s.case, &spec.model, 0, (goal, no_limits), config, p.levels).unwrap();
    let level = grid(&curve_sweep(p.levels))[index];
    let usage = steady_usage(&s.case, Unit::Credits, level).unwrap();
    let book = &s.case.book;
    let costs = (q.setups.iter())
        .map(|setup| {
            let o = replay(
                book,
                s.case.workspace,
                s.case.horizon.end,
                &usage,
                &setup.strategy,
            )
            .unwrap();
            money(
                Lang::En,
                &book.currency,
                book.minor_digits,
                o.totals.economic_cost().to_decimal(),
            )
        })
        .collect();
    let credits = rust_decimal::Decimal::new(level, 6).normalize().to_string();
    (credits, costs)
}

fn slider_moves_to_engine_numbers(exe: &Path, dir: &Path, profile: &str) {
    // The English interactive page the caller wrote.
    // A point a third of the way along: not where the slider starts (what they expect).
    let index = 80;
    std::fs::write(dir.join("slider.html"), slider_harness("en.html", index)).unwrap();
    let shown = harness_result(
        exe,
        &dir.join("profile-slider"),
        &dir.join("slider.html"),
        10_000,
    );
    let (credits, costs) = engine_costs(profile, index);
    let at = shown["at"].as_str().unwrap();
    let level_shown = at.split(' ').next().unwrap().replace(',', "");
    let expected: rust_decimal::Decimal = credits.parse().unwrap();
    let got: rust_decimal::Decimal = level_shown.parse().unwrap();
    assert_eq!(
        got,
        expected.round_dp(2),
        "{profile}: the slider's usage, {at}"
    );
    let rows = shown["rows"].as_array().unwrap();
    assert_eq!(rows.len(), costs.len());
    for (row, cost) in rows.iter().zip(&costs) {
        assert_eq!(row["cells"][0].as_str().unwrap(), cost, "{profile}: {row}");
    }
    assert_ne!(
        shown["before"].as_str().unwrap(),
        costs[0],
        "{profile}: the slider moved the numbers"
    );
    assert_eq!(
        rows.iter().filter(|r| r["best"] == true).count(),
        1,
        "one cheapest row"
    );
}

#[test]
fn quotes_print_on_one_page_render_cleanly_and_their_slider_shows_engine_numbers() {
    let Some(exe) = tool_or_skip(chromium(), "Chromium (apt-get install chromium)") else {
        return;
    };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("quote-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for profile in [
        "scenarios/profiles/acme-vision.toml",
        "scenarios/profiles/wallet-shop.toml",
        "scenarios/profiles/prospect-history.toml",
    ] {
        let name = Path::new(profile)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let dir = tempfile::tempdir().unwrap();
        for lang in ["en", "ja"] {
            let html = dir.path().join(format!("{lang}.html"));
            quote_file(
                profile,
                &["--format", "html", "--interactive", "--lang", lang],
                &html,
            );
            let shot = shots.join(format!("{name}-{lang}.png"));
            let label = format!("{name} {lang}");
            let profile_dir = dir.path().join(format!("profile-{lang}"));
            screenshot_clean(&exe, &profile_dir, &html, &shot, &label);
            // The page printed as `--format pdf` prints it (the slider is screen-only), on
            // both papers.
            let text = std::fs::read_to_string(&html).unwrap();
            for (paper, size) in [("a4", Paper::A4), ("letter", Paper::Letter)] {
                let bytes = pdf::print(&text, &exe, size).unwrap();
                assert_eq!(pdf_pages(&bytes), 1, "{name} {lang} on {paper}: one page");
                std::fs::write(shots.join(format!("{name}-{lang}-{paper}.pdf")), bytes).unwrap();
            }
        }
        // And once through the command itself.
        let pdf = dir.path().join("quote.pdf");
        quote_file(
            profile,
            &["--format", "pdf", "--lang", "ja", "--paper", "letter"],
            &pdf,
        );
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF"));
        assert_eq!(
            pdf_pages(&bytes),
            1,
            "{name}: the command's PDF is one page"
        );
        slider_moves_to_engine_numbers(&exe, dir.path(), profile);
    }
}

//! The HTML reports in a real headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs): every command's page renders with no console message, is never wider than the
//! window (a phone's and a laptop's), and is saved as a screenshot under
//! `target/tmp/html-screenshots/` for a person to look at.
//!
//! Without Chromium the test says so and passes, unless `CREDITSIM_REQUIRE_TOOLS` is set
//! (`.ci/run` sets it): CI never skips it.

mod common;
use common::{chromium, harness_result, root, screenshot_clean, tool_or_skip};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `creditsim ARGS --format html` to `out`.
fn page(args: &[&str], out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .args(["--format", "html"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(out, &o.stdout).unwrap();
}

/// A page that loads each report in a frame of each width and writes the document's scroll
/// width against its client width into itself (read back with --dump-dom).
fn harness(pages: &[PathBuf], widths: &[u32]) -> String {
    let names: Vec<String> = pages
        .iter()
        .map(|p| format!("\"{}\"", p.file_name().unwrap().to_string_lossy()))
        .collect();
    format!(
        r#"<!DOCTYPE html><html><body><pre id="out">pending</pre><script>
const pages = [{}], widths = [{}];
function measure(page, width) {{
  return new Promise(done => {{
    const f = document.createElement("iframe");
    f.style.width = width + "px"; f.style.height = "900px"; f.style.border = "0";
    f.onload = () => {{
      const d = f.contentDocument.documentElement;
      done({{page, width, scroll: d.scrollWidth, client: d.clientWidth}});
      f.remove();
    }};
    f.src = page;
    document.body.appendChild(f);
  }});
}}
(async () => {{
  const results = [];
  for (const p of pages) for (const w of widths) results.push(await measure(p, w));
  document.getElementById("out").textContent = "RESULT " + JSON.stringify(results);
}})();
</script></body></html>"#,
        names.join(","),
        widths
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
}

#[test]
fn every_report_renders_in_chromium_without_errors_and_fits_the_window() {
    let Some(exe) = tool_or_skip(chromium(), "Chromium (apt-get install chromium)") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pages = [
        (
            "replay",
            vec!["replay", "scenarios/examples/inference-quarter.toml"],
        ),
        (
            "simulate",
            vec![
                "simulate",
                "scenarios/examples/steady-inference.toml",
                "--paths",
                "200",
            ],
        ),
        (
            "breakeven",
            vec!["breakeven", "scenarios/examples/inference-quarter.toml"],
        ),
        (
            "advise",
            vec![
                "advise",
                "scenarios/examples/steady-inference.toml",
                "--paths",
                "300",
            ],
        ),
        (
            "sensitivity",
            vec![
                "sensitivity",
                "scenarios/examples/steady-inference.toml",
                "--paths",
                "200",
            ],
        ),
        (
            "portfolio",
            vec![
                "portfolio",
                "tests/data/portfolio.toml",
                "--accounts",
                "tests/data/portfolio-accounts.csv",
            ],
        ),
        (
            "sensitivity-portfolio",
            vec![
                "sensitivity",
                "tests/data/portfolio.toml",
                "--portfolio",
                "--accounts",
                "tests/data/portfolio-accounts.csv",
            ],
        ),
        (
            "impact",
            vec![
                "impact",
                "scenarios/examples/portfolio.toml",
                "--trace",
                "notebooks-data/traces/portfolio.parquet",
                "--accounts",
                "notebooks-data/accounts.csv",
                "--after",
                "scenarios/pricing/credits-book-2027.toml",
            ],
        ),
    ];
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let mut files = Vec::new();
    for (name, args) in &pages {
        let file = dir.path().join(format!("{name}.html"));
        page(args, &file);
        // A screenshot at a laptop's width, with Chromium's console on stderr.
        let shot = shots.join(format!("{name}.png"));
        screenshot_clean(
            &exe,
            &dir.path().join(format!("profile-{name}")),
            &file,
            &shot,
            name,
        );
        files.push(file);
    }
    // A control page that is too wide: the measurement must see it.
    let control = dir.path().join("too-wide.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><div style=\"width:3000px\">x</div>",
    )
    .unwrap();
    files.push(control);
    let widths = [390, 1280];
    std::fs::write(dir.path().join("harness.html"), harness(&files, &widths)).unwrap();
    let results = harness_result(
        &exe,
        &dir.path().join("profile-harness"),
        &dir.path().join("harness.html"),
        20_000,
    );
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), files.len() * widths.len());
    for r in results {
        let fits = r["scroll"].as_u64().unwrap() <= r["client"].as_u64().unwrap();
        let control = r["page"] == "too-wide.html";
        assert!(fits != control, "a page wider than its window: {r}");
    }
}

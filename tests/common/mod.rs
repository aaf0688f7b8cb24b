//! What several integration tests share: the crate's root and running the built binary.

use std::path::Path;
use std::process::Command;

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `creditsim ARGS` from the crate's root and asserts it succeeded.
#[allow(dead_code)]
pub fn creditsim_ok(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_creditsim"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `found`, or `None` once the test has said it is skipped for want of `tool`; a failure
/// instead when `CREDITSIM_REQUIRE_TOOLS` is set (`.ci/run` sets it), so CI never skips.
#[allow(dead_code)]
pub fn tool_or_skip<T>(found: Option<T>, tool: &str) -> Option<T> {
    if found.is_none() {
        assert!(
            std::env::var_os("CREDITSIM_REQUIRE_TOOLS").is_none(),
            "{tool} is required; .ci/run installs it"
        );
        eprintln!("skipped: no {tool}; .ci/run installs it");
    }
    found
}

/// The Python of `CREDITSIM_PYTHON` (else `python3`), if it imports every one of `modules`
/// (comma-separated, as in an `import` line).
#[allow(dead_code)]
pub fn python_importing(modules: &str) -> Option<std::path::PathBuf> {
    let exe = std::env::var_os("CREDITSIM_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("python3"));
    let ok = Command::new(&exe)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(exe)
}

/// Debian's Chromium (or `$CREDITSIM_CHROMIUM`), if this machine has one.
#[allow(dead_code)]
pub fn chromium() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("CREDITSIM_CHROMIUM") {
        return Some(std::path::PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(std::path::PathBuf::from)
}

/// Headless Chromium with the flags a sandboxed, offline machine needs, its profile in
/// `profile`.
#[allow(dead_code)]
pub fn browser(exe: &Path, profile: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(exe);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// A screenshot of `page` at a laptop's width into `shot`, asserting Chromium's console said
/// nothing and a PNG was written; `label` names the page in a failure.
#[allow(dead_code)]
pub fn screenshot_clean(exe: &Path, profile: &Path, page: &Path, shot: &Path, label: &str) {
    let out = browser(exe, profile)
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "{label}: console messages:\n{console:#?}"
    );
    let png = std::fs::read(shot).unwrap_or_else(|e| panic!("{label}: no screenshot: {e}\n{log}"));
    assert!(png.starts_with(b"\x89PNG"), "{label}: a PNG screenshot");
}

/// Loads the harness page `page` (which writes `RESULT <json>` into a `<pre>`), lets its
/// frames and scripts run for up to `budget_ms` of virtual time, and returns that JSON.
#[allow(dead_code)]
pub fn harness_result(
    exe: &Path,
    profile: &Path,
    page: &Path,
    budget_ms: u32,
) -> serde_json::Value {
    let out = browser(exe, profile)
        .arg("--allow-file-access-from-files")
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let json = (dom.split("RESULT ").nth(1))
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or_else(|| {
            let err = String::from_utf8_lossy(&out.stderr);
            panic!("the harness did not finish:\n{dom}\n{err}")
        });
    let text = (json.replace("&quot;", "\""))
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap()
}

//! The Python package (python/): its own tests (python/tests) run by pytest in the Python of
//! `CREDITSIM_PYTHON`, where `.ci/run` installed it with `pip install ./python`, beside
//! pyspark (local mode, Java 17) and dask.distributed (a LocalCluster of two worker
//! processes). They compare every path with this build's `creditsim portfolio`.
//!
//! Without a Python that has the package installed the test says so and passes, unless
//! `CREDITSIM_REQUIRE_TOOLS` is set (`.ci/run` sets it): CI never skips it.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::root;

fn python_with_the_package() -> Option<PathBuf> {
    let exe = std::env::var_os("CREDITSIM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"));
    let ok = Command::new(&exe)
        .args(["-c", "import creditsim, pytest"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(exe)
}

#[test]
fn the_python_package_passes_its_tests_under_pytest_spark_and_dask() {
    let Some(py) = python_with_the_package() else {
        assert!(
            std::env::var_os("CREDITSIM_REQUIRE_TOOLS").is_none(),
            "a Python with the creditsim package and pytest is required (CREDITSIM_PYTHON; .ci/run installs it)"
        );
        eprintln!("skipped: no Python with the creditsim package; .ci/run installs it");
        return;
    };
    let out = Command::new(&py)
        .current_dir(root())
        .args([
            "-m",
            "pytest",
            "python/tests",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .env("CREDITSIM_BIN", env!("CARGO_BIN_EXE_creditsim"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every test ran: none skipped for a missing tool in CI.
    if std::env::var_os("CREDITSIM_REQUIRE_TOOLS").is_some() {
        assert!(!stdout.contains("skipped"), "{stdout}");
    }
}

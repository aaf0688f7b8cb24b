//! The Python package (python/): its own tests (python/tests) run by pytest in the Python of
//! `CREDITSIM_PYTHON`, where `.ci/run` installed it with `pip install ./python`, beside
//! pyspark (local mode, Java 17) and dask.distributed (a LocalCluster of two worker
//! processes). They compare every path with this build's `creditsim portfolio`.
//!
//! Without a Python that has the package installed the test says so and passes, unless
//! `CREDITSIM_REQUIRE_TOOLS` is set (`.ci/run` sets it): CI never skips it.

use std::process::Command;

mod common;
use common::{python_importing, root, tool_or_skip};

#[test]
fn the_python_package_passes_its_tests_under_pytest_spark_and_dask() {
    let Some(py) = tool_or_skip(
        python_importing("creditsim, pytest"),
        "Python with the creditsim package and pytest (CREDITSIM_PYTHON)",
    ) else {
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

"""Shared fixtures: the repository's bundled portfolio, and what the CLI makes of it.

The reference is the single-process `creditsim portfolio --out` table, written by the CLI
binary in CREDITSIM_BIN (the Rust test harness sets it; tests/python_package.rs)."""

import os
import pathlib
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios/examples/portfolio.toml"
TRACE = ROOT / "notebooks-data/traces/portfolio.parquet"
ACCOUNTS = ROOT / "notebooks-data/accounts.csv"


def require(module):
    """The module, or a skip when it is missing, unless CI requires every tool."""
    if os.environ.get("CREDITSIM_REQUIRE_TOOLS"):
        return __import__(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def cli_table(tmp_path_factory):
    binary = os.environ.get("CREDITSIM_BIN")
    if not binary:
        pytest.skip("CREDITSIM_BIN is not set (cargo test sets it: tests/python_package.rs)")
    out = tmp_path_factory.mktemp("cli") / "portfolio"
    subprocess.run(
        [binary, "portfolio", str(SCENARIO), "--trace", str(TRACE), "--accounts", str(ACCOUNTS), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return pq.read_table(out / "workspaces.parquet")


@pytest.fixture(scope="session")
def usage():
    return pq.read_table(TRACE)


def rows(table):
    """Every row as a tuple, sorted by workspace then strategy; integers as Python ints and
    decimals as Decimals, whatever the engine's Arrow types (Spark has no unsigned ints)."""
    records = table.to_pylist()
    columns = table.column_names
    out = [tuple(r[c] for c in columns) for r in records]
    w, s = columns.index("workspace"), columns.index("strategy")
    return sorted(out, key=lambda r: (r[w], r[s]))


def as_table(frame_rows, columns):
    return pa.table({c: [r[i] for r in frame_rows] for i, c in enumerate(columns)})

"""creditsim as a library: a portfolio batch over Arrow, for Spark, Dask or plain Python.

``portfolio(usage, scenario)`` replays the whole workspaces in ``usage`` (a pyarrow Table or
RecordBatch, or Arrow IPC stream bytes, with the trace columns timestamp, workspace, metric,
quantity) under the scenario's strategies and returns the same table ``creditsim portfolio
--out`` writes as workspaces.parquet: one row per workspace and strategy, the same columns
and values.

Importing starts no thread (safe before a fork); a call uses ``threads`` worker threads, one
by default, because Spark and Dask already run one task per core.
"""

import io
import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# Read by the native module's Parquet reader when it first runs, not at import.
os.environ.setdefault("POLARS_MAX_THREADS", "1")

from ._creditsim import CreditsimError, __version__, portfolio_batch_parquet  # noqa: E402

__all__ = ["portfolio", "CreditsimError", "__version__", "scenario_text"]


def _table(data):
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, (bytes, bytearray, memoryview)):
        return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    raise TypeError(f"usage must be a pyarrow Table, RecordBatch or IPC stream bytes, not {type(data).__name__}")


def _parquet_bytes(table):
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _read_accounts(path):
    """An accounts CSV as a table of strings (the native reader checks every cell)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    types = {name.strip(): pa.string() for name in header}
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False))


def _accounts_table(accounts):
    """An accounts table given as a table or a CSV path, as a table (None stays None)."""
    if accounts is None or isinstance(accounts, pa.Table):
        return accounts
    return _read_accounts(accounts)


def _accounts_csv(accounts, workspaces):
    """The accounts rows of these workspaces, as CSV text (a portfolio lists every account
    it is given, so a batch gets only its own)."""
    accounts = _accounts_table(accounts)
    if accounts is None:
        return None
    mine = accounts.filter(pc.is_in(accounts["workspace"].cast(pa.string()), value_set=pa.array(sorted(workspaces), pa.string())))
    sink = io.BytesIO()
    pacsv.write_csv(mine, sink)
    return sink.getvalue().decode("utf-8")


def scenario_text(path):
    """A scenario file's text and the folder its relative paths are read from."""
    with open(path, encoding="utf-8") as f:
        return f.read(), os.path.dirname(os.path.abspath(path))


def _scenario(scenario, base_dir):
    """(TOML text, base folder) of a scenario given as a path (a one-line name ending in
    .toml, or a PathLike) or as its text."""
    if isinstance(scenario, os.PathLike) or (
        isinstance(scenario, str) and "\n" not in scenario and scenario.endswith(".toml")
    ):
        text, found_dir = scenario_text(scenario)
        return text, base_dir or found_dir
    return scenario, base_dir


def _empty_usage():
    """A usage table with no rows: what the result's schema is read from."""
    return pa.table(
        {
            "timestamp": pa.array([], pa.timestamp("us", tz="UTC")),
            "workspace": pa.array([], pa.string()),
            "metric": pa.array([], pa.string()),
            "quantity": pa.array([], pa.float64()),
        }
    )


def portfolio(usage, scenario, *, base_dir=None, accounts=None, threads=1):
    """The portfolio table of the whole workspaces in ``usage``.

    ``scenario`` is the scenario's TOML text (``base_dir``: where the paths written in it are
    relative to, default the current folder), or a path to a scenario file. ``accounts`` is
    the accounts table (a pyarrow Table or a CSV path); only the rows of the batch's
    workspaces are used. Raises ``CreditsimError`` with the CLI's message; its ``args`` are
    (message, file, line, column, row).
    """
    scenario, base_dir = _scenario(scenario, base_dir)
    table = _table(usage)
    workspaces = set(table.column("workspace").to_pylist()) if "workspace" in table.column_names else set()
    result = portfolio_batch_parquet(
        _parquet_bytes(table),
        scenario,
        os.path.abspath(base_dir or "."),
        _accounts_csv(accounts, workspaces),
        int(threads),
    )
    # Read from an Arrow buffer without pre-buffering: a pre-buffering reader releases the
    # bytes on a background thread, which needs the GIL and aborts at interpreter exit.
    return pq.read_table(pa.BufferReader(result), pre_buffer=False, use_threads=False)

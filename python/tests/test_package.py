"""The package's one call against the CLI, on any split of the workspaces; its errors; no
threads at import; the GIL released while it works."""

import os
import random
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import creditsim
from conftest import ACCOUNTS, SCENARIO, rows


def test_the_batch_is_the_cli_table(usage, cli_table):
    result = creditsim.portfolio(usage, str(SCENARIO), accounts=str(ACCOUNTS))
    assert result.schema == cli_table.schema
    assert result.equals(cli_table)


def test_any_split_of_the_workspaces_gives_the_same_rows(usage, cli_table):
    workspaces = sorted(set(usage.column("workspace").to_pylist()))
    random.Random(16).shuffle(workspaces)
    # Three uneven batches, in a shuffled order; each batch holds its workspaces whole.
    batches = [workspaces[:3], workspaces[3:11], workspaces[11:]]
    parts = []
    for batch in batches:
        mine = usage.filter(pc.is_in(usage.column("workspace"), value_set=pa.array(batch)))
        parts.append(creditsim.portfolio(mine, str(SCENARIO), accounts=str(ACCOUNTS)))
    assert rows(pa.concat_tables(parts)) == rows(cli_table)


def test_ipc_stream_bytes_are_accepted(usage, cli_table):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, usage.schema) as writer:
        writer.write_table(usage)
    result = creditsim.portfolio(sink.getvalue().to_pybytes(), str(SCENARIO), accounts=str(ACCOUNTS))
    assert result.equals(cli_table)


def test_a_scenario_error_carries_the_line_and_column(usage):
    with pytest.raises(creditsim.CreditsimError) as caught:
        creditsim.portfolio(usage, "[scenario]\nname = 1\n")
    message, file, line, column, row = caught.value.args
    assert message == "<scenario>:2:8: invalid type: integer `1`, expected a string"
    assert (file, line, column, row) == ("<scenario>", 2, "8", None)


def test_a_usage_error_carries_the_row_and_column(usage):
    negative = pa.array([1.0] + [-1.0] * (usage.num_rows - 1))
    bad = usage.set_column(usage.column_names.index("quantity"), "quantity", negative)
    with pytest.raises(creditsim.CreditsimError) as caught:
        creditsim.portfolio(bad, str(SCENARIO))
    message, file, line, column, row = caught.value.args
    assert message.startswith('<usage>: row 2, column "quantity": quantity -1 is negative')
    assert (file, line, column, row) == ("<usage>", None, "quantity", 2)


def test_importing_starts_no_thread():
    # pyarrow starts its own threads when imported: counted before, they are not ours.
    code = (
        "import os, pyarrow, pyarrow.parquet, pyarrow.csv, pyarrow.compute; "
        "before = len(os.listdir('/proc/self/task')); import creditsim; "
        "print(before, len(os.listdir('/proc/self/task')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    before, after = out.stdout.split()
    assert before == after


def timed_call_with_ticker(batch):
    """Runs one batch while another thread ticks every millisecond: (start, end, ticks)."""
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    # The native call alone: pyarrow releases the GIL itself while it writes and reads the
    # Parquet bytes around it, which would let the ticker run whatever the call does.
    usage_bytes = creditsim._parquet_bytes(batch)
    scenario, base_dir = creditsim.scenario_text(str(SCENARIO))
    try:
        start = time.perf_counter()
        creditsim.portfolio_batch_parquet(usage_bytes, scenario, base_dir, None, 1)
        end = time.perf_counter()
    finally:
        stop.set()
        ticker.join()
    return start, end, ticks


def test_the_gil_is_released_while_a_batch_runs(usage):
    # The same workspaces with more and more rows, until a call lasts long enough to tell
    # (a release build replays the bundled portfolio in a few tens of milliseconds).
    for copies in (4, 16, 64, 256):
        start, end, ticks = timed_call_with_ticker(pa.concat_tables([usage] * copies))
        if end - start > 0.2:
            break
    assert end - start > 0.2, "the batch is too quick to tell"
    inside = [t for t in ticks if start + 0.02 < t < end - 0.02]
    # Held, the GIL would keep the ticker still for the whole call.
    assert len(inside) > 10, f"{len(inside)} ticks in a {end - start:.3f} s call"


def test_one_thread_by_default():
    assert os.environ.get("POLARS_MAX_THREADS") == "1"

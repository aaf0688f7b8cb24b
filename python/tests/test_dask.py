"""The Dask adapter on a LocalCluster of two worker processes against the CLI's table, and a
negative control: without the shuffle, a workspace split over partitions is replayed in
parts, and the comparison fails."""

import pyarrow as pa
import pytest

from conftest import ACCOUNTS, SCENARIO, require, rows


@pytest.fixture(scope="module")
def client():
    require("dask")
    require("distributed")
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def usage_ddf(usage):
    import dask.dataframe as dd

    # In time order, 4 partitions: every workspace's rows are spread over several.
    frame = usage.sort_by("timestamp").to_pandas()
    return dd.from_pandas(frame, npartitions=4, sort=False)


def table_of(frame, like):
    return pa.Table.from_pandas(frame, schema=like.schema, preserve_index=False)


def test_dask_gives_the_cli_table(client, usage_ddf, cli_table):
    import creditsim.dask

    result = creditsim.dask.portfolio(usage_ddf, str(SCENARIO), accounts=str(ACCOUNTS)).compute()
    assert rows(table_of(result, cli_table)) == rows(cli_table)


def test_without_the_shuffle_the_comparison_fails(client, usage_ddf, cli_table):
    import creditsim.dask

    split = creditsim.dask.portfolio(usage_ddf, str(SCENARIO), accounts=str(ACCOUNTS), shuffle=False).compute()
    assert usage_ddf.npartitions > 1
    assert rows(table_of(split, cli_table)) != rows(cli_table)

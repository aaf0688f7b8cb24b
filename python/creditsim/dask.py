"""Dask adapter: a portfolio over a Dask DataFrame of usage rows.

    from creditsim.dask import portfolio
    result = portfolio(usage_ddf, "scenarios/examples/portfolio.toml", accounts="accounts.csv").compute()

The rows are shuffled on ``workspace`` first, so every workspace's rows are in one partition,
then each partition's workspaces are replayed together (``map_partitions``). Replaying without
that shuffle (``shuffle=False``) gives wrong results whenever a workspace's rows are spread
over partitions: each part is replayed as if it were the whole workspace.
"""

import pyarrow as pa

import creditsim


def _replay_partition(frame, scenario, base_dir, accounts):
    if len(frame) == 0:
        return _empty_result(scenario, base_dir)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return creditsim.portfolio(table, scenario, base_dir=base_dir, accounts=accounts).to_pandas()


def _empty_result(scenario, base_dir):
    return creditsim.portfolio(creditsim._empty_usage(), scenario, base_dir=base_dir).to_pandas()


def portfolio(usage, scenario, *, base_dir=None, accounts=None, shuffle=True):
    """The portfolio table of every workspace in the Dask DataFrame ``usage`` (lazy)."""
    scenario, base_dir = creditsim._scenario(scenario, base_dir)
    accounts = creditsim._accounts_table(accounts)
    if shuffle:
        usage = usage.shuffle("workspace")
    meta = _empty_result(scenario, base_dir)
    return usage.map_partitions(_replay_partition, scenario, base_dir, accounts, meta=meta)


__all__ = ["portfolio"]

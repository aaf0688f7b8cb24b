"""Spark adapter: a portfolio over a DataFrame of usage rows, one group per workspace.

    from creditsim.spark import portfolio
    result = portfolio(usage_df, "scenarios/examples/portfolio.toml", accounts="accounts.csv")

Each workspace's rows reach one Python worker whole (``groupBy("workspace").applyInArrow``,
Spark 4.0 and later); on older Spark, ``portfolio(..., method="mapInArrow")`` repartitions by
workspace and replays each partition's workspaces together. Either way a workspace is never
split, and its result does not depend on which other workspaces share its worker: there is no
random stream in a trace's replay.

Spark has no unsigned integers: ``seats`` and ``usage_events`` come back as ``long``.
"""

import pyarrow as pa

import creditsim

_SPARK_TYPES = {
    pa.string(): "string",
    pa.large_string(): "string",
    pa.bool_(): "boolean",
    pa.uint32(): "long",
    pa.int64(): "long",
}


def _ddl(schema):
    parts = []
    for field in schema:
        if pa.types.is_decimal(field.type):
            kind = f"decimal({field.type.precision},{field.type.scale})"
        else:
            kind = _SPARK_TYPES[field.type]
        parts.append(f"`{field.name}` {kind}")
    return ", ".join(parts)


def _spark_ready(table):
    """uint32 columns as int64 (Spark's long), strings as plain strings."""
    columns = []
    for field, column in zip(table.schema, table.columns):
        if field.type == pa.uint32():
            column = column.cast(pa.int64())
        elif field.type == pa.large_string():
            column = column.cast(pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def result_schema(scenario, base_dir=None):
    """The result's Spark schema (DDL): the portfolio table's columns, run on no usage."""
    return _ddl(_spark_ready(creditsim.portfolio(creditsim._empty_usage(), scenario, base_dir=base_dir)).schema)


def portfolio(usage, scenario, *, base_dir=None, accounts=None, method="applyInArrow"):
    """The portfolio table of every workspace in the Spark DataFrame ``usage``."""
    scenario, base_dir = creditsim._scenario(scenario, base_dir)
    accounts = creditsim._accounts_table(accounts)
    schema = result_schema(scenario, base_dir)

    def replay(table):
        return _spark_ready(creditsim.portfolio(table, scenario, base_dir=base_dir, accounts=accounts))

    if method == "applyInArrow":
        return usage.groupBy("workspace").applyInArrow(replay, schema)
    if method == "mapInArrow":
        partitioned = usage.repartition("workspace").sortWithinPartitions("workspace")

        def each_partition(batches):
            batches = list(batches)
            if batches and sum(b.num_rows for b in batches) > 0:
                yield from replay(pa.Table.from_batches(batches)).to_batches()

        return partitioned.mapInArrow(each_partition, schema)
    raise ValueError(f"method must be applyInArrow or mapInArrow, not {method!r}")

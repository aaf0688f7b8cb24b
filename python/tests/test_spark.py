"""The Spark adapter in local mode (pyspark and a Java 17) against the CLI's table."""

import os
import sys

import pyarrow as pa
import pytest

from conftest import ACCOUNTS, ROOT, SCENARIO, TRACE, require, rows


@pytest.fixture(scope="module")
def spark():
    require("pyspark")
    from pyspark.sql import SparkSession

    # The workers run this interpreter, which has creditsim and pyarrow.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("creditsim-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    yield session
    session.stop()


def as_engine_types(table, like):
    """Spark's longs back as the engine's uint32 columns, to compare value by value."""
    return pa.table([c.cast(f.type) for c, f in zip(table.columns, like.schema)], names=like.column_names)


@pytest.mark.parametrize("method", ["applyInArrow", "mapInArrow"])
def test_spark_gives_the_cli_table(spark, cli_table, method):
    import creditsim.spark

    usage = spark.read.parquet(str(TRACE)).repartition(3)  # rows of a workspace scattered
    result = creditsim.spark.portfolio(usage, str(SCENARIO), accounts=str(ACCOUNTS), method=method)
    table = as_engine_types(result.toArrow(), cli_table)
    assert table.num_rows == cli_table.num_rows
    assert rows(table) == rows(cli_table)


def test_the_example_job_writes_the_cli_table(spark, cli_table, tmp_path):
    sys.path.insert(0, str(ROOT / "python/examples"))
    import spark_portfolio

    written = spark_portfolio.run(spark, str(TRACE), str(SCENARIO), str(ACCOUNTS), str(tmp_path / "out.parquet"))
    table = as_engine_types(written.toArrow(), cli_table)
    assert rows(table) == rows(cli_table)

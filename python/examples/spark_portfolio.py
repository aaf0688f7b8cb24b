"""Example Spark job: a portfolio over a lakehouse table of usage rows.

    PYSPARK_PYTHON=$(which python) spark-submit python/examples/spark_portfolio.py \
        notebooks-data/traces/portfolio.parquet scenarios/examples/portfolio.toml \
        notebooks-data/accounts.csv /tmp/portfolio-spark.parquet

Reads the usage rows (timestamp, workspace, metric, quantity), replays every workspace under
the scenario's strategies on the executors (one group per workspace), and writes the
portfolio table, one row per workspace and strategy, as `creditsim portfolio` would.
"""

import sys

import creditsim.spark


def run(spark, usage_path, scenario, accounts, out):
    usage = spark.read.parquet(usage_path)
    result = creditsim.spark.portfolio(usage, scenario, accounts=accounts)
    result.orderBy("workspace", "strategy").write.mode("overwrite").parquet(out)
    return spark.read.parquet(out)


if __name__ == "__main__":
    from pyspark.sql import SparkSession

    usage_path, scenario, accounts, out = sys.argv[1:5]
    session = SparkSession.builder.appName("creditsim portfolio").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    written = run(session, usage_path, scenario, accounts, out)
    print(f"{written.count()} rows written to {out}")
    session.stop()

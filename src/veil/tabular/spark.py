"""Spark backend (``veil[spark]``): the same policy, classification and operators on a Spark DataFrame.

The driver classifies the columns on a sample (``limit(n)``) and plans one action per column exactly as the
polars path does; each transformed column then runs as a pandas UDF whose executor-side code calls the same
operator (``Operator.apply_series``) or the same text anonymizer. So a Spark run and a polars run of one policy
over one input give the same output, pseudonyms included when they share the vault.

Executors open the vault themselves, by URL, with the master key from *their* environment (``VEIL_MASTER_KEY``
or ``VEIL_KEY_FILE``, e.g. through ``spark.executorEnv.*``): the key is never shipped inside a task. On a cluster
the vault is PostgreSQL; the embedded SQLite vault only suits ``local[N]``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from veil.anonymizer import Anonymizer
from veil.detect.columns import ColumnClassifier, ColumnProfile
from veil.extras import require
from veil.tabular.plan import ColumnAction, plan_columns
from veil.tabular.workers import AnonymizerSpec, worker_anonymizer

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession


def _require() -> None:
    require("spark", "pyspark", "pandas", "pyarrow")


def _run_action(spec: AnonymizerSpec, action: ColumnAction, purpose: str | None, values: pd.Series) -> pd.Series:
    import polars as pl

    from veil.tabular.pipeline import TablePipeline

    anonymizer = worker_anonymizer(spec)
    converted = pl.from_pandas(values.astype(object).where(values.notna(), None))
    assert isinstance(converted, pl.Series)
    series = converted.cast(pl.Utf8).alias(action.column)
    frame = pl.DataFrame([series])
    out = TablePipeline(anonymizer, [action], purpose).apply(frame)[action.column]
    result: pd.Series = out.to_pandas(use_pyarrow_extension_array=False)
    result.index = values.index
    return result


def _udf(spec: AnonymizerSpec, action: ColumnAction, purpose: str | None) -> Any:
    import pandas
    from pyspark.sql.pandas.functions import pandas_udf

    def run(values: pd.Series) -> pd.Series:
        return _run_action(spec, action, purpose, values)

    run.__annotations__ = {"values": pandas.Series, "return": pandas.Series}  # Spark reads the real types
    return pandas_udf(run, "string")  # type: ignore[call-overload]


def classify_spark(df: DataFrame, anonymizer: Anonymizer, sample_rows: int | None = None) -> list[ColumnProfile]:
    import polars as pl

    from veil.tabular.pipeline import profile_frame

    _require()
    n = sample_rows or anonymizer.policy.tables.sample_rows
    sample = pl.from_pandas(df.limit(n).toPandas())
    return profile_frame(sample, ColumnClassifier(anonymizer.detector))


def anonymize_spark(
    df: DataFrame, anonymizer: Anonymizer, *, purpose: str | None = None, table: str | None = None
) -> tuple[DataFrame, list[ColumnAction]]:
    """The anonymized DataFrame (lazy, as Spark is) and the action taken on each column."""
    from pyspark.sql import functions as F

    _require()
    policy = anonymizer.policy
    if purpose is not None:
        policy.purpose(purpose)
    profiles = classify_spark(df, anonymizer)
    actions = plan_columns(policy, profiles, purpose, table)
    spec = AnonymizerSpec.of(anonymizer, with_keys=False)
    columns = []
    for action in actions:
        if action.kind == "drop":
            continue
        col = F.col(f"`{action.column}`")
        columns.append(col if action.kind == "keep" else _udf(spec, action, purpose)(col).alias(action.column))
    return df.select(*columns), actions


@contextmanager
def local_session(cores: int = 2, app: str = "veil") -> Iterator[SparkSession]:
    """A ``local[cores]`` Spark session bound to loopback, its Python workers on this interpreter; stopped after."""
    _require()
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()

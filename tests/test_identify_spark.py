"""The Spark backend, for registers beyond one machine: a model trained on DuckDB scores the same on Spark.

Runs Splink on a real local SparkSession (pyspark is a development dependency; Java 17). One
session serves the whole test run; training happens on DuckDB (EM on Spark takes minutes of small
jobs), scoring and linking on Spark.
"""

import json

import pandas as pd
import pytest
from identify_fixture import make_fixture

from crm_models.identify import CustomerResolver
from crm_models.identify.link import translate_model


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    session = (
        SparkSession.builder.master("local[1]")
        .appName("crm_models tests")
        .config("spark.jars", similarity_jar_location())  # Splink's Jaro-Winkler and friends
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(tmp_path_factory.mktemp("spark_checkpoints")))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def records():
    return make_fixture(n_people=40, random_state=8)[0]


@pytest.fixture(scope="module")
def on_duckdb(records):
    resolver = CustomerResolver(default_region="GB", random_state=1).fit(records)
    return resolver, resolver.resolve(records)


def test_a_duckdb_model_resolves_the_same_on_spark(spark, records, on_duckdb, tmp_path):
    resolver, expected = on_duckdb
    on_spark = CustomerResolver.load(resolver.save(tmp_path / "model.json")).set_params(backend="spark")
    result = on_spark.resolve(records, spark=spark)
    pd.testing.assert_frame_equal(result.crosswalk, expected.crosswalk)
    both = expected.pairs.merge(result.pairs, on=["record_id_l", "record_id_r"], suffixes=("_duckdb", "_spark"))
    assert len(both) == len(expected.pairs) == len(result.pairs)
    assert (both["match_weight_duckdb"] - both["match_weight_spark"]).abs().max() < 1e-9
    # saved with the Spark backend, the model is written in Spark SQL and loads back as it was
    saved = on_spark.save(tmp_path / "spark_model.json")
    rule = json.loads(saved.read_text())["fitted"]["model"]["blocking_rules_to_generate_predictions"][0]
    assert rule["sql_dialect"] == "spark" and "`" in rule["blocking_rule"]
    assert translate_model(CustomerResolver.load(saved).model_, "duckdb") == resolver.model_


def test_spark_needs_a_session(records, on_duckdb):
    resolver, _ = on_duckdb
    copy = CustomerResolver.from_dict(resolver.to_dict()).set_params(backend="spark")
    with pytest.raises(ValueError, match="needs a SparkSession"):
        copy.resolve(records)

"""Time the Spark path against the DuckDB path on the same Parquet log: summary, fit, scores.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_spark.py                 # 1,000,000 transactions (~3 min)
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_spark.py --rows 10000000

Both sides read the same Parquet log (made by ``bench_out_of_core.make_log``) and give the same
answer (checked before the times are printed):

- summary: ``rfm_summary(spark.read.parquet(log))`` (aggregated in Spark, collected) against
  ``rfm_summary(log)`` (DuckDB);
- fit: ``crm_models.spark.fit_scorer`` (compressed summary collected from Spark) against
  ``CustomerScorer().fit_summary`` on the DuckDB summary compressed in pandas;
- scores: ``score_spark`` written by Spark to Parquet (``mapInPandas`` on the executors) against
  ``write_rfm_summary`` + ``write_scores`` (DuckDB, chunks).

Spark runs in local mode with ``--cores`` cores (the JVM start-up is not timed); on a cluster the
same calls spread over the executors.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
warnings.filterwarnings("ignore", message="The copy keyword is deprecated")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from bench_out_of_core import END, make_log  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="transactions in the log (1,000,000)")
    parser.add_argument("--cores", type=int, default=2, help="Spark local cores and DuckDB threads (2)")
    parser.add_argument("--memory", default="4g", help="Spark driver memory (4g)")
    args = parser.parse_args()

    from pyspark.sql import SparkSession

    from crm_models import rfm_summary
    from crm_models.pipeline import CustomerScorer
    from crm_models.scale import write_scores
    from crm_models.spark import fit_scorer, score_spark
    from crm_models.transactions import write_rfm_summary

    folder = Path(tempfile.mkdtemp(prefix="crm_spark_"))
    log = str(folder / "log.parquet")
    made = make_log(log, args.rows)
    config = {"threads": args.cores, "memory_limit": "2GB", "temp_directory": str(folder / "spill")}
    spark = (SparkSession.builder.master(f"local[{args.cores}]").appName("crm_models bench")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", args.memory)
             .config("spark.sql.shuffle.partitions", str(4 * args.cores))
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()  # start the JVM and the executors before timing
    print(f"Spark {spark.version} local[{args.cores}] against DuckDB ({args.cores} threads): {made}")
    source = spark.read.parquet(log)

    rows = []
    t_duck, duck = timed(lambda: rfm_summary(log, observation_period_end=END, duckdb_config=config))
    t_spark, got = timed(lambda: rfm_summary(source, observation_period_end=END))
    pd.testing.assert_frame_equal(got, duck, check_index_type=False, check_dtype=False, rtol=1e-12)
    rows.append(("rfm_summary (collected)", t_spark, t_duck))

    def duck_fit():
        counted = duck.value_counts().rename("n_customers").reset_index()
        return CustomerScorer().fit_summary(counted, observation_period_end=END, weights_col="n_customers")

    t_duck, reference = timed(duck_fit)
    t_spark, scorer = timed(lambda: fit_scorer(source, observation_period_end=END))
    np.testing.assert_allclose(scorer.transaction_model_.params_, reference.transaction_model_.params_, rtol=1e-6)
    rows.append(("fit on the compressed summary", t_spark, t_duck))

    def duck_scores():
        summary = write_rfm_summary(log, folder / "summary.parquet", observation_period_end=END, duckdb_config=config)
        return write_scores(reference, summary, folder / "duck_scores.parquet")

    t_duck, duck_path = timed(duck_scores)
    spark_path = folder / "spark_scores"
    t_spark, _ = timed(lambda: score_spark(scorer, source).write.mode("overwrite").parquet(str(spark_path)))
    a = pd.read_parquet(duck_path).set_index("customer_id").sort_index()
    b = pd.read_parquet(spark_path).set_index("customer_id").sort_index()
    np.testing.assert_allclose(a["clv"], b["clv"], rtol=1e-6)
    rows.append(("score every customer -> Parquet", t_spark, t_duck))

    print(f"{'step':34s} {'Spark s':>9s} {'DuckDB s':>9s} {'Spark/DuckDB':>13s}")
    for label, ts, td in rows:
        print(f"{label:34s} {ts:9.1f} {td:9.1f} {ts / td:12.1f}x")
    spark.stop()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

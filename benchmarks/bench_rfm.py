"""Time rfm_summary against lifetimes' summary_data_from_transaction_data on a large log.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_rfm.py            # 1,000,000 customers, ~2.4M rows
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_rfm.py --customers 100000

Both sides get the same DataFrame and the published convention (purchases de-duplicated per
calendar day, durations in weeks: lifetimes' freq="D", freq_multiplier=7). Our side is timed from
the DataFrame (DuckDB engine) and from a Parquet file; the results are checked equal before the
ratios are printed. Targets: >= 2.5x with integer ids, >= 5x with string ids.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from lifetimes.utils import summary_data_from_transaction_data  # noqa: E402

from crm_models import rfm_summary  # noqa: E402
from _timing import best_of  # noqa: E402

TARGETS = {"int": 2.5, "str": 5.0}


def make_log(n_customers: int, seed: int = 42) -> pd.DataFrame:
    """A year of purchases: 1 + Poisson(1.4) lines per customer, uniform days in 2024."""
    rng = np.random.default_rng(seed)
    lines = 1 + rng.poisson(1.4, n_customers)
    ids = np.repeat(np.arange(n_customers), lines)
    first = rng.integers(0, 180, n_customers)
    day = np.repeat(first, lines) + rng.integers(0, 186, len(ids)) * (
        np.arange(len(ids)) != np.repeat(np.cumsum(lines) - lines, lines)
    )
    return pd.DataFrame({
        "customer_id": ids,
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D"),
        "amount": rng.gamma(2.0, 20.0, len(ids)).round(2),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    base = make_log(args.customers)
    end = "2024-12-31"
    print(f"log: {len(base):,} rows, {args.customers:,} customers")
    rows = []
    for kind in ["int", "str"]:
        log = base if kind == "int" else base.assign(customer_id="C" + base["customer_id"].astype(str))
        t_lt, theirs = best_of(lambda: summary_data_from_transaction_data(
            log, "customer_id", "timestamp", "amount", observation_period_end=end, freq="D", freq_multiplier=7))
        t_df, ours = best_of(lambda: rfm_summary(log, "customer_id", "timestamp", "amount", observation_period_end=end,
                                               engine="duckdb"), repeat=2)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "log.parquet"
            log.to_parquet(path)
            t_pq, ours_pq = best_of(lambda: rfm_summary(path, "customer_id", "timestamp", "amount",
                                                      observation_period_end=end), repeat=2)
        t_pd, ours_pd = best_of(lambda: rfm_summary(log, "customer_id", "timestamp", "amount", observation_period_end=end,
                                                  engine="pandas"))
        for got in (ours, ours_pq, ours_pd):
            assert got.index.equals(theirs.index.astype(got.index.dtype)) or list(got.index) == list(theirs.index)
            np.testing.assert_allclose(got[theirs.columns].to_numpy(float), theirs.to_numpy(float), rtol=1e-9)
        rows.append({
            "ids": kind,
            "lifetimes_s": t_lt,
            "duckdb_frame_s": t_df,
            "duckdb_parquet_s": t_pq,
            "pandas_engine_s": t_pd,
            "ratio_frame": t_lt / t_df,
            "ratio_parquet": t_lt / t_pq,
            "target": TARGETS[kind],
        })
    table = pd.DataFrame(rows).set_index("ids")
    table["meets_target"] = table["ratio_frame"] >= table["target"]
    with pd.option_context("display.float_format", "{:.2f}".format, "display.width", 160, "display.max_columns", None):
        print(table)
    for kind, r in table.iterrows():
        print(f"{kind} ids: rfm_summary (DuckDB, from the DataFrame) is {r.ratio_frame:.1f}x faster than lifetimes "
              f"(target {r.target}x); from Parquet {r.ratio_parquet:.1f}x")


if __name__ == "__main__":
    main()

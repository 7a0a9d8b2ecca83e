"""Time and peak memory of the out-of-core path: a Parquet log to summaries and scores, on one machine.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_out_of_core.py          # 2,000,000 transactions (~3 min)
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_out_of_core.py --full   # 100,000,000 transactions of
                                                                           # about 7 million customers
    python benchmarks/bench_out_of_core.py --rows 20000000 --memory-limit 1GB --folder /scratch/ooc

Each step runs in a fresh process, so its peak resident memory (the operating system's
``ru_maxrss``) is its own. The steps:

1. make the log: BG/NBD customers simulated by crm_models (``PARAMS``, first purchases over two
   and a half years, observed to 2024-12-31) with a gamma spend each, written chunk by chunk to
   a Parquet file until it holds ``rows`` purchases (deterministic);
2. ``rfm_summary(log.parquet, duckdb_config={"memory_limit": ...})``: the summary, returned as a
   DataFrame (so its memory includes one row per customer);
3. ``calibration_holdout_split`` on the same file, with the same limit;
4. ``write_rfm_summary``: the summary written to Parquet, never in memory;
5. fit a ``CustomerScorer`` on the compressed summary (unique rows with counts);
6. ``write_scores``: every customer scored in chunks into a Parquet file.

At the default size the in-memory path (the log read into pandas, the pandas engine, one
``transform`` of every customer) runs too, as the reference: the ratios compare peak memory.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

END, CALIBRATION_END = "2024-12-31", "2024-06-30"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


#: The simulated company behind the log: BG/NBD in days (about 14 purchases per customer over three
#: years) and a gamma spend per customer.
PARAMS = {"r": 1.0, "alpha": 15.0, "a": 1.0, "b": 9.0}


def make_log(path: str, rows: int, customers_per_chunk: int = 250_000) -> str:
    """Simulate BG/NBD customers (crm_models' own simulator) chunk by chunk into a Parquet file
    until it holds ``rows`` purchases (deterministic; memory bounded by the chunk)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crm_models.clv import simulate_beta_geo_log

    writer, written, offset, chunk = None, 0, 0, 0
    while written < rows:
        log = simulate_beta_geo_log(customers_per_chunk, PARAMS, "2022-01-01", "2024-06-30", END,
                                    random_state=chunk, time_unit="D")
        rng = np.random.default_rng(10_000 + chunk)
        mean = rng.gamma(4.0, 10.0, customers_per_chunk)[log["customer_id"].to_numpy()]
        log["amount"] = np.maximum(0.01, (mean * rng.gamma(6.0, 1 / 6.0, len(log))).round(2))
        log["customer_id"] = log["customer_id"].to_numpy() + offset
        log["timestamp"] = log["timestamp"].astype("datetime64[us]")  # what Spark and DuckDB both read
        log = log.iloc[: rows - written]
        table = pa.Table.from_pandas(log, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=1_000_000)
        written += len(log)
        offset += customers_per_chunk
        chunk += 1
    writer.close()
    return f"{written:,} rows of {log['customer_id'].iloc[-1] + 1:,} customers, {Path(path).stat().st_size / 1e6:,.0f} MB"


def step_summary(log: str, config: dict) -> str:
    from crm_models import rfm_summary

    summary = rfm_summary(log, observation_period_end=END, duckdb_config=config)
    return f"{len(summary):,} customers"


def step_split(log: str, config: dict) -> str:
    from crm_models import calibration_holdout_split

    split = calibration_holdout_split(log, calibration_period_end=CALIBRATION_END, observation_period_end=END,
                                      duckdb_config=config)
    return f"{len(split):,} customers"


def step_write_summary(log: str, config: dict, out: str) -> str:
    from crm_models.transactions import write_rfm_summary

    write_rfm_summary(log, out, observation_period_end=END, duckdb_config=config, overwrite=True)
    return f"{Path(out).stat().st_size / 1e6:,.0f} MB file"


def step_fit(summary: str, config: dict, model: str) -> str:
    from crm_models.pipeline import CustomerScorer
    from crm_models.scale import compress_parquet_summary

    counted = compress_parquet_summary(summary, duckdb_config=config)
    scorer = CustomerScorer().fit_summary(counted, observation_period_end=END, weights_col="n_customers")
    scorer.save(model, overwrite=True)
    return f"{len(counted):,} unique rows for {scorer.n_customers_:,} customers"


def step_score(summary: str, model: str, out: str, chunk_size: int) -> str:
    from crm_models.pipeline import CustomerScorer
    from crm_models.scale import write_scores

    write_scores(CustomerScorer.load(model), summary, out, chunk_size=chunk_size, overwrite=True)
    return f"{Path(out).stat().st_size / 1e6:,.0f} MB file"


def reference_in_memory(log: str, model: str) -> str:
    import pandas as pd

    from crm_models import rfm_summary
    from crm_models.pipeline import CustomerScorer

    frame = pd.read_parquet(log)
    summary = rfm_summary(frame, observation_period_end=END, engine="pandas")
    scores = CustomerScorer.load(model).score_summary(summary)
    return f"{len(scores):,} customers scored at once"


def _child(queue, fn, args):
    t0 = time.perf_counter()
    note = fn(*args)
    queue.put((time.perf_counter() - t0, _peak_mb(), note))


def measure(fn, *args) -> tuple[float, float, str]:
    """(seconds, peak resident MB, note) of ``fn(*args)`` run in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, fn, args))
    proc.start()
    while True:  # a child that dies sends nothing: do not wait for it forever
        try:
            result = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty
            if not proc.is_alive():
                raise RuntimeError(f"{fn.__name__} failed (exit code {proc.exitcode})") from None
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="100,000,000 transactions (about 7 million customers)")
    parser.add_argument("--rows", type=int, default=2_000_000, help="transactions in the log (2,000,000)")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (2GB)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (2)")
    parser.add_argument("--chunk-size", type=int, default=500_000, help="customers per scoring chunk")
    parser.add_argument("--folder", default=None, help="where the files go (a temporary folder by default)")
    args = parser.parse_args()
    if args.full:
        args.rows = 100_000_000
    folder = Path(args.folder or tempfile.mkdtemp(prefix="crm_ooc_"))
    folder.mkdir(parents=True, exist_ok=True)
    log, summary, model, scores = (str(folder / n) for n in ("log.parquet", "summary.parquet", "scorer.json",
                                                             "scores.parquet"))
    config = {"memory_limit": args.memory_limit, "threads": args.threads, "temp_directory": str(folder / "spill")}
    print(f"out of core: {args.rows:,} transactions; DuckDB memory_limit "
          f"{args.memory_limit}, {args.threads} threads; scoring chunks of {args.chunk_size:,}; files in {folder}")
    steps = [
        ("make the Parquet log (simulated)", make_log, (log, args.rows)),
        ("rfm_summary -> DataFrame", step_summary, (log, config)),
        ("calibration_holdout_split", step_split, (log, config)),
        ("write_rfm_summary -> Parquet", step_write_summary, (log, config, summary)),
        ("fit on the compressed summary", step_fit, (summary, config, model)),
        ("write_scores in chunks", step_score, (summary, model, scores, args.chunk_size)),
    ]
    results = {}
    print(f"{'step':34s} {'seconds':>9s} {'peak MB':>9s}  note")
    for label, fn, fn_args in steps:
        seconds, peak, note = measure(fn, *fn_args)
        results[label] = (seconds, peak)
        print(f"{label:34s} {seconds:9.1f} {peak:9.0f}  {note}", flush=True)
    if not args.full and args.rows <= 20_000_000:
        seconds, peak, note = measure(reference_in_memory, log, model)
        print(f"{'reference: all in memory (pandas)':34s} {seconds:9.1f} {peak:9.0f}  {note}")
        ours = max(results["rfm_summary -> DataFrame"][1], results["write_scores in chunks"][1])
        print(f"peak memory, in memory / out of core: {peak / ours:.1f}x")
    if args.folder is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

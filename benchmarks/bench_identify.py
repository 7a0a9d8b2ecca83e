"""Benchmark: resolve a 100,000-record simulated world end to end, against an exact-key baseline.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_identify.py [--customers 50000] [--seed 7]

The world (about two records per person, so 50,000 people give about 100,000 records) is generated
once and saved to a temporary Parquet file; each method then runs in a fresh Python process that
loads the records, resolves them and grades the result against the truth. For the deterministic
baseline (same e-mail or same phone), Splink (Fellegi-Sunter on DuckDB: ``resolve_customers``, which
fits a ``CustomerResolver`` and resolves with it) and the saved model (``CustomerResolver.load`` of
the model the Splink run saved, resolving the same records without retraining) it prints the
resolution's wall time and CPU time (user + system, all threads), the process's peak resident memory
(Python, pandas and DuckDB together, records included) and accuracy. Targets for Splink: under 60 s
and 2 GB, pairwise F1 >= 0.95, B-cubed F1 >= 0.97.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def child(method: str, folder: Path) -> None:
    import pandas as pd

    from crm_models.identify import CustomerResolver, evaluate, resolve_customers, resolve_exact

    records = pd.read_parquet(folder / "records.parquet")
    truth = pd.read_parquet(folder / "truth.parquet").set_index("record_id")["person_id"]
    model_path = folder / "resolver.json"
    func = {
        "splink": resolve_customers,
        "exact": resolve_exact,
        "saved": lambda r: CustomerResolver.load(model_path).resolve(r),
    }[method]
    t = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = func(records)
    seconds = time.perf_counter() - t
    if method == "splink":
        result.resolver.save(model_path)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m = evaluate(result, truth)["value"]
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_mb, "customers": result.n_customers,
                      **{k: float(m[k]) for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1",
                                                   "bcubed_f1")}}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000, help="people in the world (about 2 records each)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    from crm_models.datasets import make_crm_world

    t = time.perf_counter()
    world = make_crm_world(n_customers=args.customers, random_state=args.seed)
    truth = world.record_truth[["record_id", "person_id"]]
    print(f"world: {len(world.records):,} records of {truth['person_id'].nunique():,} people "
          f"(generated in {time.perf_counter() - t:.1f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        world.records.to_parquet(Path(tmp) / "records.parquet")
        truth.to_parquet(Path(tmp) / "truth.parquet")
        rows = {}
        for method in ("exact", "splink", "saved"):
            out = subprocess.run([sys.executable, __file__, "--child", method, tmp], check=True, capture_output=True,
                                 text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
            rows[method] = json.loads(out.stdout.strip().splitlines()[-1])
    names = {"exact": "exact e-mail or phone", "splink": "splink (fit + resolve)", "saved": "saved model (resolve)"}
    load = os.getloadavg()[0]
    print(f"{'method':25s} {'seconds':>8s} {'cpu s':>6s} {'peak MB':>8s} {'customers':>9s} {'pw prec':>8s} {'pw rec':>8s} "
          f"{'pw F1':>7s} {'B3 F1':>7s}")
    for method, r in rows.items():
        print(f"{names[method]:25s} {r['seconds']:8.1f} {r['cpu_seconds']:6.1f} {r['peak_mb']:8.0f} {r['customers']:9,d} "
              f"{r['pairwise_precision']:8.4f} {r['pairwise_recall']:8.4f} {r['pairwise_f1']:7.4f} {r['bcubed_f1']:7.4f}")
    print(f"machine load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores; wall time grows with it")
    print(f"true people: {truth['person_id'].nunique():,}; "
          f"splink time / baseline time: {rows['splink']['seconds'] / rows['exact']['seconds']:.1f}x")


if __name__ == "__main__":
    main()

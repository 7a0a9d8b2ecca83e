"""Benchmark: a customer register of a million records, then an incremental batch of 10,000.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_register.py [--customers 50000] [--batch 10000]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_register.py --customers 500000 --no-reference   # ~1M records

A simulated company (``make_crm_world``, about two records per person) is generated in its own
process and saved to Parquet; its ``--batch`` most recent records are held back. Each step then
runs in a fresh Python process, so its peak resident memory (Python, pandas and DuckDB together,
records included) is its own:

* ``register``: ``CustomerRegister.add`` of every record but the held-back batch into a new
  DuckDB file (standardise, train the model, score, link, golden records, audit);
* ``increment``: reopen the file and ``add`` the held-back batch with the saved model (no
  retraining): candidates from the register, scoring, linking, golden records of the customers
  touched;
* ``rerun``: ``add`` the same batch again (a no-op);
* ``reference``: ``resolve_customers`` on all records at once in memory (no register), the
  pipeline the register builds on (skip it with ``--no-reference`` at sizes where it needs more
  memory than the machine has).

Printed per step: wall and CPU time, peak memory, customers and pairwise/B-cubed accuracy against
the simulated truth (for ``increment`` over all records in the register). Targets: 1,000,000
records into a register in under 5 minutes with peak memory under 6 GB at no loss of accuracy;
an incremental batch of 10,000 in under 20 s.
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


def _measure(func):
    t = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = func()
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    return out, seconds, cpu, after.ru_maxrss / 1024


def child(step: str, folder: Path, customers: int, seed: int, batch: int) -> None:
    import pandas as pd

    if step == "generate":
        from crm_models.datasets import make_crm_world

        world = make_crm_world(n_customers=customers, random_state=seed)
        records = world.records.sort_values(["created_at", "record_id"], kind="mergesort")
        records.iloc[: len(records) - batch].to_parquet(folder / "base.parquet")
        records.iloc[len(records) - batch:].to_parquet(folder / "batch.parquet")
        world.record_truth[["record_id", "person_id"]].to_parquet(folder / "truth.parquet")
        print(json.dumps({"records": len(records), "people": int(world.record_truth["person_id"].nunique())}))
        return

    from crm_models.identify import CustomerRegister, evaluate, resolve_customers

    truth = pd.read_parquet(folder / "truth.parquet").set_index("record_id")["person_id"]
    path = folder / "customers.duckdb"
    if step == "register":
        records = pd.read_parquet(folder / "base.parquet")

        def run():
            with CustomerRegister(path) as register:
                return register.add(records, label="base")
    elif step in ("increment", "rerun"):
        records = pd.read_parquet(folder / "batch.parquet")

        def run():
            with CustomerRegister(path) as register:
                return register.add(records, label=step)
    else:
        records = pd.concat([pd.read_parquet(folder / "base.parquet"), pd.read_parquet(folder / "batch.parquet")],
                            ignore_index=True)

        def run():
            return resolve_customers(records).crosswalk["customer_id"]

    out, seconds, cpu, peak = _measure(run)  # timed: opening the file, adding the batch, closing it
    extra = {}
    if step != "reference":
        extra = {"new": out.n_new, "joined": out.n_joined}
        with CustomerRegister(path, read_only=True) as register:
            out = register.crosswalk()["customer_id"]
    m = evaluate(out, truth.loc[out.index])["value"]
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak, "records": len(out),
                      "customers": int(out.nunique()), **extra,
                      **{k: float(m[k]) for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1")}}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000, help="people in the world (about 2 records each)")
    parser.add_argument("--batch", type=int, default=10_000, help="records held back for the incremental batch")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-reference", action="store_true", help="skip resolve_customers on all records at once")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.customers, args.seed, args.batch)
        return

    def run(step, tmp):
        out = subprocess.run([sys.executable, __file__, "--child", step, tmp, "--customers", str(args.customers),
                              "--seed", str(args.seed), "--batch", str(args.batch)], check=True, capture_output=True,
                             text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        return json.loads(out.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        world = run("generate", tmp)
        print(f"world: {world['records']:,} records of {world['people']:,} people (generated in "
              f"{time.perf_counter() - t:.1f} s); incremental batch: the {args.batch:,} most recent records")
        steps = ["register", "increment", "rerun"] + ([] if args.no_reference else ["reference"])
        rows = {step: run(step, tmp) for step in steps}
        size_mb = (Path(tmp) / "customers.duckdb").stat().st_size / 2**20
    names = {"register": f"register: add {world['records'] - args.batch:,}",
             "increment": f"increment: add {args.batch:,}", "rerun": "re-run the same batch",
             "reference": "resolve_customers (all)"}
    print(f"{'step':30s} {'seconds':>8s} {'cpu s':>7s} {'peak MB':>8s} {'records':>10s} {'customers':>10s} "
          f"{'pw prec':>8s} {'pw rec':>7s} {'pw F1':>7s} {'B3 F1':>7s}")
    for step, r in rows.items():
        print(f"{names[step]:30s} {r['seconds']:8.1f} {r['cpu_seconds']:7.1f} {r['peak_mb']:8.0f} {r['records']:10,d} "
              f"{r['customers']:10,d} {r['pairwise_precision']:8.4f} {r['pairwise_recall']:7.4f} "
              f"{r['pairwise_f1']:7.4f} {r['bcubed_f1']:7.4f}")
    inc = rows["increment"]
    print(f"increment: {inc['new']:,} new records, {inc['joined']:,} joined existing customers; register file "
          f"{size_mb:,.0f} MB")
    print(f"targets: register {rows['register']['seconds']:.0f} s (< 300 s for 1,000,000 records), peak "
          f"{rows['register']['peak_mb'] / 1024:.2f} GB (< 6 GB); increment {inc['seconds']:.1f} s (< 20 s)")
    if "reference" in rows:
        ref = rows["reference"]
        print(f"register / resolve_customers: time {rows['register']['seconds'] / ref['seconds']:.2f}x, peak memory "
              f"{rows['register']['peak_mb'] / ref['peak_mb']:.2f}x, pairwise F1 after the increment "
              f"{inc['pairwise_f1']:.4f} vs {ref['pairwise_f1']:.4f} all at once")
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          "wall time grows with it")


if __name__ == "__main__":
    main()

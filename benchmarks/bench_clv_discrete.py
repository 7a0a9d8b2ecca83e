"""Time the BG/BB fit against lifetimes' BetaGeoBetaBinomFitter on simulated customers.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_clv_discrete.py
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_clv_discrete.py --customers 100000

Two settings, each simulated from the donation study's parameters (FHS 2010):
* "annual": 6 opportunities (the donation data's shape), ``--customers`` customers (default 100,000;
  lifetimes needs minutes per million rows);
* "weekly": 52 opportunities, a tenth as many customers (many more distinct patterns).

Each side gets one row per customer (ours compresses identical rows itself; timing includes
compression and standard errors) and, separately, lifetimes is also given the compressed
pattern table with ``weights=``. Estimates are checked equal before a ratio is printed; a
lifetimes fit that stops with its "did not converge" error is reported as such.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from lifetimes import BetaGeoBetaBinomFitter  # noqa: E402
from lifetimes.utils import ConvergenceError as LifetimesConvergenceError  # noqa: E402

from crm_models.clv import BetaGeoBetaBinom, simulate_beta_geo_beta_binom  # noqa: E402

PARAMS = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run(label: str, n: int, n_opp: int, random_state: int) -> None:
    data = simulate_beta_geo_beta_binom(n, PARAMS, n_opp, random_state=random_state)
    patterns = data.groupby(["frequency", "recency", "n_opportunities"]).size().rename("n").reset_index()
    ours, t_ours = timed(lambda: BetaGeoBetaBinom().fit(data))
    print(f"{label}: {n:,} customers, {n_opp} opportunities, {len(patterns):,} distinct patterns")
    print(f"  crm_models BetaGeoBetaBinom.fit (rows, compressed inside): {t_ours:8.2f} s")
    print(f"    estimates {ours.params_.round(3).to_dict()} (simulated from {PARAMS})")
    sides = {
        "lifetimes fit on the pattern table with weights=:": lambda: BetaGeoBetaBinomFitter().fit(
            patterns["frequency"], patterns["recency"], patterns["n_opportunities"], weights=patterns["n"]
        ),
        "lifetimes fit on one row per customer:": lambda: BetaGeoBetaBinomFitter().fit(
            data["frequency"], data["recency"], data["n_opportunities"]
        ),
    }
    for name, fn in sides.items():
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                other = fn()
        except LifetimesConvergenceError:
            print(f"  {name:<58}{time.perf_counter() - t0:8.2f} s  lifetimes: 'The model did not converge'")
            continue
        t = time.perf_counter() - t0
        np.testing.assert_allclose(ours.params_.to_numpy(), other.params_.to_numpy(), rtol=2e-3)
        print(f"  {name:<58}{t:8.2f} s  ratio {t / t_ours:6.1f}x (same estimates)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    args = ap.parse_args()
    run("annual", args.customers, 6, random_state=1)
    run("weekly", max(1000, args.customers // 10), 52, random_state=2)


if __name__ == "__main__":
    main()

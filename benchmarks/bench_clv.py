"""Benchmark crm_models.clv against lifetimes on a simulated customer base in daily units.

Run:  python benchmarks/bench_clv.py                    (1,000,000 customers; several minutes)
      python benchmarks/bench_clv.py --quick            (100,000 customers)
      python benchmarks/bench_clv.py --customers 5000   (a smoke test)

The summary (frequency, recency, T in whole days) is simulated directly from BG/NBD with
CDNOW-like parameters (alpha in days), customers acquired over a year and observed for 6 to
18 months, with Gamma-Gamma spend. Both libraries get the same summary, on its native daily
grid (no coarsening of time). Our timings include validation, compression of identical rows
and standard errors; lifetimes also computes its Hessian in ``fit``. Printed: seconds and
ratios (lifetimes / ours), and the peak memory of our BG/NBD fit above the data.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from crm_models.clv import (  # noqa: E402
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    customer_lifetime_value,
    simulate_beta_geo,
    simulate_gamma_gamma,
)
from _timing import best_of  # noqa: E402

BG_DAYS = {"r": 0.243, "alpha": 4.414 * 7, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def simulate(n: int, random_state: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(random_state)
    T = rng.integers(182, 548, n).astype(float)  # days since first purchase
    data = simulate_beta_geo(n, BG_DAYS, T, rng, time_grid=1.0)
    data["monetary_value"] = simulate_gamma_gamma(data["frequency"], GG, rng)
    return data


def row(label: str, ours: float, theirs: float, target: float, note: str = "") -> None:
    ratio = theirs / ours
    status = "meets" if ratio >= target else "BELOW"
    print(f"{label:<44} ours {ours:8.2f} s  lifetimes {theirs:8.2f} s  ratio {ratio:7.1f}x  "
          f"(target >= {target:g}x: {status}){'  ' + note if note else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 customers instead of 1,000,000")
    parser.add_argument("--customers", type=int, default=None, help="number of customers (overrides --quick)")
    args = parser.parse_args()
    import lifetimes

    warnings.simplefilter("ignore")
    n = args.customers or (100_000 if args.quick else 1_000_000)
    n_pareto = min(n, 20_000 if args.quick or args.customers else 100_000)

    data = simulate(n)
    n_tx = int(len(data) + data["frequency"].sum())
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    print(f"simulated {n:,} customers in days, {n_tx:,} transactions (first + repeat purchases), "
          f"{data.groupby(['frequency', 'recency', 'T']).ngroups:,} distinct (frequency, recency, T) rows")
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; machine shared with other jobs, "
          "so absolute times are noisy\n")

    # ---------------------------------------------------------------- BG/NBD
    t_ours, bg = best_of(lambda: BetaGeo().fit(data))
    print("ours BG/NBD:", bg.params_.round(4).to_dict(), f"LL {bg.log_likelihood_:.1f}")
    t_lt_full, lbg = best_of(lambda: lifetimes.BetaGeoFitter().fit(x, t_x, T))
    print("lifetimes BG/NBD (full rows):", lbg.params_.round(4).to_dict())
    t_group, grouped = best_of(
        lambda: data.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    )
    t_lt_w, lbgw = best_of(
        lambda: lifetimes.BetaGeoFitter().fit(
            grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["weights"]
        )
    )
    row("BG/NBD fit vs BetaGeoFitter.fit (full rows)", t_ours, t_lt_full, 20)
    row("BG/NBD fit vs BetaGeoFitter.fit(weights=)", t_ours, t_lt_w, 3,
        f"(lifetimes time excludes its {t_group:.2f} s pandas groupby)")

    # ---------------------------------------------------------------- Pareto/NBD
    sub = data.iloc[:n_pareto]
    t_p_sub, pn_sub = best_of(lambda: ParetoNBD().fit(sub))
    t_p_full, pn = best_of(lambda: ParetoNBD().fit(data))
    print("ours Pareto/NBD:", pn.params_.round(4).to_dict(), f"LL {pn.log_likelihood_:.1f}",
          f"finite: {np.isfinite(pn.log_likelihood_)}")
    t_lt_p, lpn = best_of(lambda: lifetimes.ParetoNBDFitter().fit(sub["frequency"], sub["recency"], sub["T"]))
    print(f"lifetimes Pareto/NBD on the first {n_pareto:,} customers:", lpn.params_.round(4).to_dict())
    sub_arrays = pn_sub._make_arrays(*(sub[c].to_numpy(float) for c in ("frequency", "recency", "T")))
    ll_lt = -pn_sub._neg_log_likelihood(np.log(lpn.params_.to_numpy()), sub_arrays, np.ones(len(sub)))[0]
    print(f"ours Pareto/NBD on the same {n_pareto:,}:", pn_sub.params_.round(4).to_dict(),
          f"LL {pn_sub.log_likelihood_:.2f}; LL at lifetimes' estimates {ll_lt:.2f}")
    row(f"Pareto/NBD fit, both on {n_pareto:,} customers", t_p_sub, t_lt_p, 60)
    print(f"{'':<44} ours on all {n:,} customers: {t_p_full:.2f} s "
          f"(lifetimes extrapolated linearly: {t_lt_p * n / n_pareto:.0f} s, ratio {t_lt_p * n / n_pareto / t_p_full:.0f}x)")

    # ---------------------------------------------------------------- 12-month CLV
    gg = GammaGamma().fit(data)
    rep = data[data["frequency"] > 0]
    lgg = lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    lgg.params_ = pd.Series(gg.params_.to_numpy(), index=lgg.params_.index)
    lbg.params_ = pd.Series(bg.params_.to_numpy(), index=lbg.params_.index)
    t_clv, clv = best_of(
        lambda: customer_lifetime_value(
            bg, gg, data, horizon=(12, "M"), time_unit="D", discount_rate=(0.01, "M")
        )
    )
    t_lt_clv, lclv = best_of(
        lambda: lgg.customer_lifetime_value(
            lbg, x, t_x, T, data["monetary_value"], time=12, discount_rate=0.01, freq="D"
        )
    )
    print(f"12-month CLV: ours total {clv.sum():,.0f}, lifetimes (30-day months) total {lclv.sum():,.0f}")
    row("12-month CLV for all customers", t_clv, t_lt_clv, 7)

    # ---------------------------------------------------------------- memory
    data_mb = data[["frequency", "recency", "T"]].memory_usage(deep=True).sum() / 2**20
    tracemalloc.start()
    BetaGeo().fit(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"\npeak memory of BetaGeo().fit above the data: {peak / 2**20:.1f} MB "
          f"(data {data_mb:.1f} MB; target < 150 MB: {'meets' if peak / 2**20 < 150 else 'ABOVE'})")


if __name__ == "__main__":
    main()

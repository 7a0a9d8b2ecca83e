"""Benchmark the ``crm-models score`` pipeline against the same steps done with lifetimes.

Run:  python benchmarks/bench_score.py             (CDNOW master copied 4x: 94,280 customers)
      python benchmarks/bench_score.py --copies 1  (CDNOW master: 23,570 customers)

Both sides start from the same transaction log (customer id, date, amount) and produce, per
customer: the RFM summary in weeks, BG/NBD P(alive) and expected purchases over 12 months
(ours with ``transaction_model="BG/NBD"``, like for like; the default ``"auto"`` backtest is timed
after),
Gamma-Gamma expected spend and a 12-month discounted CLV. Ours is one call to
:func:`crm_models.pipeline.score_customers` (which also scores RFM segments and a next best
action); lifetimes' is ``summary_data_from_transaction_data``, ``BetaGeoFitter.fit``,
``GammaGammaFitter.fit``, its predictions and ``customer_lifetime_value`` (30-day months, a
monthly rate), with the summary in days / 7 (``freq="D", freq_multiplier=7``) as ours. Both
sides are warmed up on the CDNOW sample first, so imports are not timed. Copies of the master log get new customer ids, so the fits see more customers
with the same behaviour. Printed: seconds per side and the ratio lifetimes / ours.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import pandas as pd  # noqa: E402

from crm_models.datasets import load_cdnow  # noqa: E402
from crm_models.pipeline import score_customers  # noqa: E402


def log(copies: int) -> pd.DataFrame:
    base = load_cdnow(sample=False)[["customer_id", "timestamp", "amount"]]
    step = int(base["customer_id"].max()) + 1
    return pd.concat([base.assign(customer_id=base["customer_id"] + k * step) for k in range(copies)], ignore_index=True)


def ours(tx: pd.DataFrame, transaction_model: str = "BG/NBD") -> pd.DataFrame:
    return score_customers(tx, horizon=(12, "M"), discount_rate=(0.10, "Y"), transaction_model=transaction_model)


def theirs(tx: pd.DataFrame) -> pd.DataFrame:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # days / 7, the published convention our rfm_summary follows (freq="W" would bucket weeks)
        s = summary_data_from_transaction_data(tx, "customer_id", "timestamp", "amount", freq="D", freq_multiplier=7)
        bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        rep = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
        ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
        out = pd.DataFrame(index=s.index)
        out["p_alive"] = bgf.conditional_probability_alive(s["frequency"], s["recency"], s["T"])
        out["expected_purchases"] = bgf.conditional_expected_number_of_purchases_up_to_time(
            52.18, s["frequency"], s["recency"], s["T"]
        )
        out["expected_spend"] = ggf.conditional_expected_average_profit(s["frequency"], s["monetary_value"])
        out["clv"] = ggf.customer_lifetime_value(
            bgf, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=12, discount_rate=0.10 / 12, freq="W"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="copies of the CDNOW master log (4)")
    args = parser.parse_args()
    tx = log(args.copies)
    warm = load_cdnow(sample=True)[["customer_id", "timestamp", "amount"]]
    ours(warm), theirs(warm)  # imports and first-call set-up out of the timings
    print(f"log: {len(tx):,} transactions, {tx['customer_id'].nunique():,} customers; load {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    a = ours(tx)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = theirs(tx)
    t_theirs = time.perf_counter() - t0
    b = b.reindex(a.index)
    print(f"crm_models score_customers: {t_ours:7.2f} s")
    print(f"lifetimes, same steps:      {t_theirs:7.2f} s")
    print(f"ratio lifetimes / ours:     {t_theirs / t_ours:7.2f}x")
    t0 = time.perf_counter()
    ours(tx, "auto")
    print(f"crm_models with the default transaction_model='auto' (backtest of 3 models x 4 cut-offs and the "
          f"baselines, then the chosen model): {time.perf_counter() - t0:7.2f} s")
    print(
        "max |difference| P(alive) {:.2e}, expected purchases {:.2e}; total CLV ours {:,.0f} vs lifetimes {:,.0f} "
        "(lifetimes uses 30-day months and a monthly rate)".format(
            (a["p_alive"] - b["p_alive"]).abs().max(),
            (a["expected_purchases"] - b["expected_purchases"]).abs().max(),
            a["clv"].sum(),
            b["clv"].sum(),
        )
    )


if __name__ == "__main__":
    main()

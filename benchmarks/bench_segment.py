"""Time RFM scoring and segment naming against the common pandas recipe, and needs clustering.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_segment.py                  # 1,000,000 customers
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_segment.py --customers 200000

The pandas baseline is the recipe found in most RFM tutorials: ``rank(method="first")`` then
``pd.qcut`` into 5 groups per score (ties split arbitrarily by row order) and segment names from a
regex map over the "RF" string. It answers a slightly different question (it splits ties), so the
script also reports how many customers with *equal* values the baseline puts in different
groups; ours puts none. Timed: fit + transform of RFMScorer (edges, scores, 11 named segments)
on an ``rfm_summary``-shaped frame; then NeedsSegmenter (k-means, k chosen by silhouette over
2..8) on 20 behaviour-like features for 20,000 customers, and its own numpy assignment of
customers to segments against scikit-learn's ``KMeans.predict`` on the same centres (the labels
must agree exactly).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from crm_models.segment import NeedsSegmenter, RFMScorer  # noqa: E402
from _timing import best_of  # noqa: E402

SEG_MAP = {  # the usual tutorial map over R and F scores
    r"[1-2][1-2]": "Hibernating", r"[1-2][3-4]": "At Risk", r"[1-2]5": "Can't Lose Them",
    r"3[1-2]": "About to Sleep", r"33": "Need Attention", r"[3-4][4-5]": "Loyal Customers",
    r"41": "Promising", r"51": "New Customers", r"[4-5][2-3]": "Potential Loyalists", r"5[4-5]": "Champions",
}


def make_summary(n: int, seed: int = 42) -> pd.DataFrame:
    """BTYD summary in weeks: many ties in frequency (Poisson, 40% zeros), uniform ages."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(1, 104, n).round(2)
    f = rng.poisson(rng.gamma(0.6, 3.0, n)).astype(float)
    rec = np.where(f > 0, (T * rng.uniform(0, 1, n)).round(2), 0.0)
    m = np.where(f > 0, rng.gamma(3, 12, n).round(2), 0.0)
    return pd.DataFrame({"frequency": f, "recency": rec, "T": T, "monetary_value": m},
                        index=pd.Index(np.arange(n), name="customer_id"))


def baseline(summary: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=summary.index)
    out["recency"] = summary["T"] - summary["recency"]
    out["frequency"] = summary["frequency"]
    out["monetary"] = summary["frequency"] * summary["monetary_value"]
    out["r"] = pd.qcut(out["recency"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype(int)
    out["f"] = pd.qcut(out["frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    out["m"] = pd.qcut(out["monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    rf = out["r"].astype(str) + out["f"].astype(str)
    out["segment"] = rf.replace(SEG_MAP, regex=True)
    return out


def split_ties(scores: pd.DataFrame, value: str, score: str) -> int:
    """Customers whose value is shared with someone in a different score group."""
    n_scores = scores.groupby(value)[score].nunique()
    return int(scores[value].map(n_scores).gt(1).sum())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--needs-customers", type=int, default=20_000)
    args = ap.parse_args()
    s = make_summary(args.customers)
    RFMScorer().fit_transform(s.head(1000))  # warm-up
    t_ours, ours = best_of(lambda: RFMScorer().fit_transform(s), args.repeat)
    t_base, base = best_of(lambda: baseline(s), args.repeat)
    print(f"RFM scoring + 11 named segments, {args.customers:,} customers (best of {args.repeat}):")
    print(f"  crm_models RFMScorer.fit_transform  {t_ours:7.2f} s")
    print(f"  pandas rank/qcut/regex recipe       {t_base:7.2f} s")
    print(f"  ratio (pandas / ours)               {t_base / t_ours:7.2f}x")
    for v, sc in (("frequency", "f"), ("monetary", "m"), ("recency", "r")):
        print(f"  customers whose tie is split, {v:9s}: ours {split_ties(ours, v, sc):>9,}   "
              f"pandas {split_ties(base, v, sc):>9,}")

    rng = np.random.default_rng(0)
    n = args.needs_customers
    centres = rng.normal(0, 2, (5, 20))
    X = pd.DataFrame(centres[rng.integers(0, 5, n)] + rng.normal(0, 1.5, (n, 20)),
                     columns=[f"x{i}" for i in range(20)])
    t = time.perf_counter()
    seg = NeedsSegmenter(k_range=range(2, 9), log_columns=[]).fit(X)
    t_needs = time.perf_counter() - t
    print(f"NeedsSegmenter: {n:,} customers x 20 features, k = 2..8 by silhouette: {t_needs:.2f} s, "
          f"chose k = {seg.n_segments_} (true 5)")

    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    Z = (X.to_numpy() - seg.feature_means_) / seg.feature_scales_
    with threadpool_limits(limits=1):
        km = KMeans(n_clusters=seg.n_segments_, n_init=10, random_state=0).fit(Z)
        t_own, own = best_of(lambda: seg.predict(X), args.repeat)
        t_skl, skl = best_of(lambda: km.predict(Z), args.repeat)
    same = np.array_equal(own.to_numpy(), np.array(seg.segments_)[seg.relabel_[skl]])
    print(f"  predict, {n:,} customers (best of {args.repeat}): ours {t_own * 1e3:.1f} ms (with input checks), "
          f"scikit-learn KMeans.predict {t_skl * 1e3:.1f} ms, ratio {t_skl / t_own:.2f}x; same labels: {same}")

if __name__ == "__main__":
    main()

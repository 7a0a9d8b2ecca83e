"""Benchmark crm_models.clv.backtest against the same rolling-origin loop written with lifetimes.

Run:  python benchmarks/bench_backtest.py            (the CDNOW master log, 23,570 customers)
      python benchmarks/bench_backtest.py --sample   (the CDNOW sample, a smoke test)

The task: BG/NBD, MBG/NBD and Pareto/NBD backtested at 4 calibration cut-offs (the automatic
ones of ``backtest``: 1997-09-30, 1997-11-16, 1998-01-01, 1998-02-17, each followed by a
19-week holdout). With lifetimes, per cut-off: ``calibration_and_holdout_data`` (days /
7 = weeks, as ours), ``fit`` of each model, ``conditional_expected_number_of_purchases_up_to_time``
for the holdout and the mean absolute error. Ours: one ``backtest`` call, which also scores
P(buys again), spend, AUC, Brier, calibration and gains. Printed: seconds, the ratio
(lifetimes / ours), and the checks that both loops see identical holdout tables (frequency,
recency and T in calibration, holdout purchases and duration: equal value for value) and
agree on every per-customer prediction and holdout error.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from crm_models import calibration_holdout_split  # noqa: E402
from crm_models.clv import BetaGeo, ModifiedBetaGeo, ParetoNBD, backtest, select_model  # noqa: E402
from crm_models.datasets import load_cdnow  # noqa: E402
from _timing import best_of  # noqa: E402

MODELS = ["BG/NBD", "MBG/NBD", "Pareto/NBD"]
COLUMNS = ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]


def lifetimes_loop(log: pd.DataFrame, cutoffs, holdout_days: int) -> tuple[pd.DataFrame, dict]:
    """The rolling-origin backtest as one would write it with lifetimes."""
    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
    from lifetimes.utils import calibration_and_holdout_data

    fitters = {"BG/NBD": BetaGeoFitter, "MBG/NBD": ModifiedBetaGeoFitter, "Pareto/NBD": ParetoNBDFitter}
    rows, tables = [], {}
    for cut in cutoffs:
        end = cut + pd.Timedelta(days=holdout_days)
        ch = calibration_and_holdout_data(log[log["timestamp"] <= end], "customer_id", "timestamp",
                                          calibration_period_end=cut, observation_period_end=end,
                                          freq="D", freq_multiplier=7, monetary_value_col="amount")
        tables[cut] = ch
        t = float(ch["duration_holdout"].iloc[0])
        for name in MODELS:
            m = fitters[name]().fit(ch["frequency_cal"], ch["recency_cal"], ch["T_cal"])
            pred = m.conditional_expected_number_of_purchases_up_to_time(t, ch["frequency_cal"], ch["recency_cal"],
                                                                         ch["T_cal"])
            err = np.abs(np.asarray(pred, dtype=float) - ch["frequency_holdout"].to_numpy(dtype=float))
            rows.append({"cutoff": cut, "model": name, "mae_purchases": float(err.mean()),
                         "prediction": np.asarray(pred, dtype=float)})
    return pd.DataFrame(rows), tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="the CDNOW sample instead of the master log")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    log = load_cdnow(sample=args.sample)
    print(f"CDNOW {'sample' if args.sample else 'master'} log: {len(log):,} lines, "
          f"{log['customer_id'].nunique():,} customers")
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; machine shared with other jobs, "
          "so absolute times are noisy\n")

    t_ours, result = best_of(lambda: backtest(log, models=MODELS, baselines=[]))
    cutoffs, hdays = result.cutoffs, int(result.holdout.days)
    print(f"cut-offs {[str(c.date()) for c in cutoffs]}, holdout {result.holdout}")
    t_full, full = best_of(lambda: backtest(log))
    t_theirs, (theirs, tables) = best_of(lambda: lifetimes_loop(log, cutoffs, hdays))

    # identical holdout tables: the split the backtest reads vs lifetimes', value for value
    worst_table = 0.0
    for cut in cutoffs:
        ours = calibration_holdout_split(log, calibration_period_end=cut,
                                         observation_period_end=cut + pd.Timedelta(days=hdays), after_end="drop")
        lt = tables[cut]
        assert ours.index.equals(lt.index), "different customers"
        worst_table = max(worst_table, float((ours[COLUMNS].astype(float) - lt[COLUMNS].astype(float)).abs().max().max()))
    # the same models give the same per-customer predictions and errors
    worst_pred, worst_mae = 0.0, 0.0
    classes = {"BG/NBD": BetaGeo, "MBG/NBD": ModifiedBetaGeo, "Pareto/NBD": ParetoNBD}
    for cut in cutoffs:
        ch = calibration_holdout_split(log, calibration_period_end=cut,
                                       observation_period_end=cut + pd.Timedelta(days=hdays), after_end="drop")
        cal = ch.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
        t = float(ch["duration_holdout"].iloc[0])
        for name in MODELS:
            e = classes[name]().fit(cal[["frequency", "recency", "T"]]).expected_purchases(cal, t).to_numpy()
            ref = theirs[(theirs["cutoff"] == cut) & (theirs["model"] == name)].iloc[0]
            worst_pred = max(worst_pred, float(np.nanmax(np.abs(e - ref["prediction"]) / np.maximum(1.0, e))))
            ours_mae = result.at(cut).loc[name, "mae_purchases"]
            worst_mae = max(worst_mae, abs(ours_mae - ref["mae_purchases"]))

    print(f"\n{'rolling-origin backtest, 3 models x 4 cut-offs':<52} ours {t_ours:7.2f} s  lifetimes {t_theirs:7.2f} s  "
          f"ratio {t_theirs / t_ours:6.1f}x  (target >= 10x: {'meets' if t_theirs / t_ours >= 10 else 'BELOW'})")
    print(f"{'  the same with the 3 naive baselines and all metrics':<52} ours {t_full:7.2f} s  "
          f"ratio {t_theirs / t_full:6.1f}x")
    print(f"holdout tables (frequency, recency, T, holdout purchases and duration): largest difference "
          f"{worst_table:.3g} ({'identical' if worst_table == 0 else 'DIFFERENT'})")
    print(f"per-customer expected holdout purchases: largest difference {worst_pred:.2e} (relative, per customer); "
          f"mean absolute errors: largest difference {worst_mae:.2e}")
    table = theirs.pivot(index="cutoff", columns="model", values="mae_purchases")
    print("\nmean absolute error of holdout purchases (lifetimes loop):")
    print(table.round(4).to_string())
    print("\nours, with the baselines (means over the cut-offs):")
    print(full.aggregate().xs("mae_purchases", level="metric")[["mean", "lower", "upper"]].round(4).to_string())
    print("\n" + select_model(full).reason)


if __name__ == "__main__":
    main()

"""Benchmark covariate fits: BG/NBD and Pareto/NBD with 3 static covariates on 1,000,000 customers,
against PyMC-Marketing's MAP fit of the covariate BG/NBD, and the simulated company's attribute effects.

Run:  python benchmarks/bench_covariates.py                     (1,000,000 customers; a few minutes)
      python benchmarks/bench_covariates.py --customers 100000  (quicker)
      python benchmarks/bench_covariates.py --pymc-customers 0 --world 0   (ours only)

Customers are simulated from each model's story with three 0/1 covariates (promo, female,
online) acting on both processes through known coefficients (crm_models.clv.simulate_with_covariates),
in days (T 182-547 days, recency on the daily grid). Our fit times include validation, the data
checks of the covariates, compression of identical rows and the standard errors (observed
information); the memory is the peak traced by tracemalloc during a second, identical fit, above
the data, and the process's peak resident memory is printed after these fits.

PyMC-Marketing (if installed) fits its BetaGeoModel with the same covariate columns by MAP
(fit_method="map": a point estimate under its default priors, no standard errors; note its
parameterisation gives the dropout covariates separate coefficients on a and on b, where ours,
CLVTools', uses one for both), on --pymc-customers customers, and ours on the same customers.

The simulated company: a world of --world people (default 200,000), fitted segment by segment
with the three attribute indicators, prints each fitted coefficient against truth_effects.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from crm_models.clv import BetaGeo, GammaGamma, ParetoNBD, simulate_with_covariates  # noqa: E402

COLS = ["promo", "female", "online"]
COEFS = {"purchase.promo": -0.3, "purchase.female": 0.2, "purchase.online": 0.1,
         "dropout.promo": 0.7, "dropout.female": -0.2, "dropout.online": 0.3}
BG_DAYS = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.5}
PNBD_DAYS = {"r": 0.55, "alpha": 74.0, "s": 0.6, "beta": 82.0}


def simulate(model, params, n: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cov = pd.DataFrame({c: rng.integers(0, 2, n) for c in COLS}, index=pd.RangeIndex(n, name="customer_id"))
    T = rng.integers(182, 548, n).astype(float)
    return simulate_with_covariates(model, cov, params, COEFS, random_state=rng, T=T, time_grid=1.0)


def timed_fit(model, data, memory: bool = True):
    """Seconds of ``model.fit(data)``, and the peak memory traced by tracemalloc in a second, identical fit
    (tracing slows numpy down, so it is kept out of the timed one)."""
    t0 = time.perf_counter()
    model.fit(data)
    seconds = time.perf_counter() - t0
    if not memory:
        return seconds, float("nan")
    tracemalloc.start()
    type(model)(**model.get_params()).fit(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def ours(n: int) -> None:
    print(f"== ours: 3 static covariates on both processes, {n:,} simulated customers (days) ==")
    for cls, params in ((BetaGeo, BG_DAYS), (ParetoNBD, PNBD_DAYS)):
        model = cls(purchase_covariates=COLS, dropout_covariates=COLS)
        data = simulate(model, params, n)
        rows = data.groupby(["frequency", "recency", "T", *COLS]).ngroups
        seconds, peak = timed_fit(model, data)
        z = (model.coefficients_ - pd.Series(COEFS)) / model.standard_errors_[model.coefficients_.index]
        print(f"{cls.__name__:<10} fit with standard errors {seconds:6.2f} s (target < 20 s: "
              f"{'meets' if seconds < 20 else 'ABOVE'}), peak memory {peak:6.0f} MB (target < 1024 MB: "
              f"{'meets' if peak < 1024 else 'ABOVE'}); {rows:,} distinct rows; "
              f"{model.optimizer_result_['function_calls']} likelihood evaluations")
        print(f"{'':<10} (estimate - truth) / std. error: {z.round(2).to_dict()}")


def pymc(n: int) -> None:
    print(f"\n== PyMC-Marketing BetaGeoModel, MAP, same covariates, {n:,} customers ==")
    try:
        import pymc as pm_lib
        import pymc_marketing
        from pymc_marketing.clv import BetaGeoModel
    except ImportError as exc:
        print(f"PyMC-Marketing is not installed ({exc}); pip install pymc-marketing to compare")
        return
    print(f"pymc-marketing {pymc_marketing.__version__}, pymc {pm_lib.__version__}")
    model = BetaGeo(purchase_covariates=COLS, dropout_covariates=COLS)
    data = simulate(model, BG_DAYS, n)
    t_ours, _ = timed_fit(model, data, memory=False)
    frame = data.reset_index()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        theirs = BetaGeoModel(frame, model_config={"purchase_covariate_cols": COLS, "dropout_covariate_cols": COLS})
        theirs.fit(fit_method="map", progressbar=False)
        t_theirs = time.perf_counter() - t0
    est = theirs.fit_summary()
    coef = {f"purchase.{c}": float(est[f"purchase_coefficient_alpha[{c}]"]) for c in COLS}
    print(f"ours (with standard errors) {t_ours:6.2f} s   PyMC-Marketing MAP (point estimate, includes model "
          f"compilation) {t_theirs:6.2f} s   ratio {t_theirs / t_ours:6.1f}x")
    print("purchase coefficients, ours:", model.coefficients_[list(coef)].round(3).to_dict())
    print("purchase coefficients, PyMC-Marketing MAP:", {k: round(v, 3) for k, v in coef.items()})


def world(n: int) -> None:
    from crm_models import rfm_summary
    from crm_models.datasets import make_crm_world

    print(f"\n== the simulated company: {n:,} people, per-segment fits against truth_effects ==")
    t0 = time.perf_counter()
    w = make_crm_world(n, random_state=3)
    print(f"generated in {time.perf_counter() - t0:.1f} s")
    induced = set(w.campaign.induced_transaction_id.dropna())
    tx = w.transactions_by_person()
    tx = tx[~tx.transaction_id.isin(induced)]
    rfm = rfm_summary(tx, "person_id", "timestamp", "amount", observation_period_end=w.config["observation_period_end"])
    rfm = rfm[rfm["T"] > 0]
    people = w.people.set_index("person_id").reindex(rfm.index)
    attrs = list(w.truth_effects.index)
    rfm = rfm.assign(acquired_on_promotion=people.acquired_on_promotion.astype(int),
                     age_under_35=(people.age_band == "under_35").astype(int),
                     age_55_plus=(people.age_band == "55_plus").astype(int))
    rows = []
    for segment in w.truth_params.index:
        d = rfm[people.needs_segment == segment]
        bg = BetaGeo(purchase_covariates=attrs, dropout_covariates=attrs).fit(d)
        gg = GammaGamma(spend_covariates=attrs).fit(d)
        for model, process in ((bg, "purchase"), (bg, "dropout"), (gg, "spend")):
            for a in attrs:
                key = f"{process}.{a}"
                rows.append({"segment": segment, "coefficient": key, "truth": w.truth_effects.loc[a, process],
                             "estimate": model.coefficients_[key], "std_err": model.standard_errors_[key]})
    table = pd.DataFrame(rows)
    table["z"] = (table.estimate - table.truth) / table.std_err
    with pd.option_context("display.width", 160, "display.max_rows", 100):
        print(table.round(3).to_string(index=False))
    share = (table.z.abs() < 1.96).mean()
    print(f"max |z| {table.z.abs().max():.2f}; share within 1.96 standard errors {share:.0%} (about 95% expected)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pymc-customers", type=int, default=100_000, help="0 skips PyMC-Marketing")
    parser.add_argument("--world", type=int, default=200_000, help="people in the simulated company (0 skips)")
    args = parser.parse_args()
    print(f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; machine shared with other jobs, so absolute "
          "times are noisy\n")
    ours(args.customers)
    print(f"process peak resident memory so far (simulations and fits above) "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MB")
    if args.pymc_customers:
        pymc(args.pymc_customers)
    if args.world:
        world(args.world)
    print(f"\nprocess peak resident memory (everything above) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MB")


if __name__ == "__main__":
    main()

"""Covariates for the lifetime-value models: joining them, testing them, simulating with them.

Every model of :mod:`crm_models.clv` takes covariates as hyper-parameters (``purchase_covariates``,
``dropout_covariates``, ``shared_covariates`` for BG/NBD, MBG/NBD, Pareto/NBD and BG/BB;
``spend_covariates`` for Gamma-Gamma; ``dropout_covariates`` for sBG; ``covariate_penalizer``
for an L2 penalty on the coefficients) and reads the columns from the data it is fitted to and
predicts for. This module holds what goes around those fits:

* :func:`join_covariates`: add a per-customer covariate table to a customer summary, refusing
  customers without a covariate row;
* :func:`likelihood_ratio_test`: test a model against a larger one (with covariates, or with
  separate instead of shared coefficients);
* :func:`simulate_with_covariates`: customers whose covariates shift their parameters by known
  coefficients, for checking a fit against the truth.

The parameterisation (which parameter each process moves, with which sign) is stated in each
model's docstring; for BG/NBD, MBG/NBD and Pareto/NBD it is CLVTools'. Fader, P. S. and Hardie,
B. G. S. (2007), "Incorporating Time-Invariant Covariates into the Pareto/NBD and BG/NBD
Models" (http://brucehardie.com/notes/019/).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from crm_models._validation import fail_rows
from crm_models.base import Summary, as_generator
from crm_models.errors import DataError

__all__ = ["join_covariates", "likelihood_ratio_test", "simulate_with_covariates", "dynamic_covariates",
           "DynamicCovariates"]


def join_covariates(
    summary: pd.DataFrame,
    covariates: pd.DataFrame,
    customer_id_col: str = "customer_id",
) -> pd.DataFrame:
    """Add per-customer covariate columns to a customer summary, refusing customers without a covariate row.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per customer, indexed by customer id (as :func:`crm_models.rfm_summary` makes it).
    covariates : pandas.DataFrame
        One row per customer with the column ``customer_id_col`` (or indexed by customer id)
        and the covariate columns.
    customer_id_col : str
        The customer id column of ``covariates``.

    Returns
    -------
    pandas.DataFrame
        ``summary`` with the covariate columns added, in the order of ``summary``.

    Examples
    --------
    >>> summary = pd.DataFrame({"frequency": [2, 0]}, index=pd.Index([1, 2], name="customer_id"))
    >>> cov = pd.DataFrame({"customer_id": [2, 1], "female": [1, 0]})
    >>> join_covariates(summary, cov)["female"].tolist()
    [0, 1]
    >>> join_covariates(summary, cov.head(1))
    Traceback (most recent call last):
    ...
    crm_models.errors.DataError: summary: column 'customer_id' has 1 customer(s) without a row in the covariates; ...
    """
    if not isinstance(summary, pd.DataFrame) or not isinstance(covariates, pd.DataFrame):
        raise TypeError("summary and covariates must be pandas DataFrames")
    cov = covariates
    if customer_id_col in cov.columns:
        fail_rows(cov, cov[customer_id_col].isna(), customer_id_col, "must not be missing", what="covariates")
        cov = cov.set_index(customer_id_col)
    elif cov.index.name != customer_id_col:
        raise DataError(customer_id_col, "is missing", what="covariates",
                        message=f"covariates have no column '{customer_id_col}' and are not indexed by it; "
                                f"the columns present are {list(map(str, covariates.columns))}.")
    dup = cov.index.duplicated(keep=False)
    if dup.any():
        raise DataError(customer_id_col, "must be unique (one covariate row per customer)",
                        rows=cov[dup].head(), n_rows=int(dup.sum()), n_total=len(cov), what="covariates")
    clash = sorted(set(cov.columns) & set(summary.columns))
    if clash:
        raise ValueError(f"covariates and summary share the column(s) {clash}; rename them before joining")
    absent = ~summary.index.isin(cov.index)
    if absent.any():
        raise DataError(customer_id_col, f"has {int(absent.sum())} customer(s) without a row in the covariates",
                        rows=summary[absent].head(), n_rows=int(absent.sum()), n_total=len(summary),
                        what="summary",
                        hint="Every customer of the summary needs covariate values (drop the customers, or add "
                             "their rows).")
    joined = cov.reindex(summary.index)
    return pd.concat([summary, joined], axis=1)


# ---------------------------------------------------------------------------------------------
# inference between models
# ---------------------------------------------------------------------------------------------


def _uses_covariates(model) -> bool:
    return bool(getattr(model, "_uses_covariates", lambda: False)())


def _effects(model) -> set[tuple[str, str]]:
    """(process, column) pairs a fitted model lets a covariate act on (a shared column on both)."""
    if not _uses_covariates(model):
        return set()
    out = set()
    for process, col in model._covariate_spec_.pairs:
        if process == "shared":
            out |= {("purchase", col), ("dropout", col)}
        else:
            out.add((process, col))
    return out


def likelihood_ratio_test(restricted, full) -> Summary:
    """Likelihood-ratio test of a model against a larger model it is nested in (e.g. without covariates).

    The statistic ``2 (log L_full - log L_restricted)`` is compared with a chi-square
    distribution whose degrees of freedom are the difference in the number of free parameters
    (base parameters and coefficients); a small p-value says the extra covariates (or the
    freedom to differ between processes) improve the fit by more than chance. Both models must
    be of the same class, fitted without penalties to the same customers, and ``restricted``
    must be a special case of ``full``: each covariate it uses acts in ``full`` on at least the
    same processes (a shared coefficient is the special case of separate ones).

    Parameters
    ----------
    restricted : BaseModel
        The smaller fitted model (for example the model without covariates).
    full : BaseModel
        The larger fitted model of the same class.

    Returns
    -------
    crm_models.base.Summary
        One row per model (``n_params``, ``log_likelihood``) and the test (``df``, ``statistic``,
        ``p_value`` on the row of ``full``); the statistics repeat them.

    Examples
    --------
    >>> from crm_models.clv import BetaGeo, simulate_beta_geo
    >>> d = simulate_beta_geo(3000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
    >>> d["noise"] = np.random.default_rng(0).normal(size=len(d))
    >>> test = likelihood_ratio_test(BetaGeo().fit(d), BetaGeo(purchase_covariates=["noise"]).fit(d))
    >>> test.stats["Degrees of freedom"], bool(test.stats["p-value"] > 0.01)
    (1, True)
    """
    from crm_models.clv.base import BaseModel

    for name, m in (("restricted", restricted), ("full", full)):
        if not isinstance(m, BaseModel):
            raise TypeError(f"{name} must be a fitted lifetime-value model of crm_models.clv, got {type(m).__name__}")
        m._check_fitted()
    if type(restricted) is not type(full):
        raise ValueError(f"the models must be of the same class, got {type(restricted).__name__} and "
                         f"{type(full).__name__}")
    for name, m in (("restricted", restricted), ("full", full)):
        pen = getattr(m, "_covariate_spec_", None)
        if float(m.penalizer) or (pen is not None and any(pen.penalty.values())):
            raise ValueError(f"{name} was fitted with a penalty: a likelihood-ratio test needs plain maximum "
                             "likelihood (penalizer=0, covariate_penalizer=0)")
    if restricted.n_obs_ != full.n_obs_:
        raise ValueError(f"the models were fitted to different numbers of customers ({restricted.n_obs_} and "
                         f"{full.n_obs_}); fit both to the same data")
    k_r = restricted._n_free() if hasattr(restricted, "_n_free") else len(restricted.params_)
    k_f = full._n_free() if hasattr(full, "_n_free") else len(full.params_)
    df = k_f - k_r
    if df < 1:
        raise ValueError(f"full must have more free parameters than restricted ({k_f} vs {k_r}): swap the models?")
    e_r, e_f = _effects(restricted), _effects(full)
    if not e_r <= e_f:
        extra = sorted(f"{p}.{c}" for p, c in e_r - e_f)
        raise ValueError(f"restricted is not nested in full: its covariate effect(s) {extra} are not in full")
    statistic = 2.0 * (full.log_likelihood_ - restricted.log_likelihood_)
    if statistic < -1e-6 * max(1.0, abs(full.log_likelihood_)):
        raise ValueError(
            f"the larger model fits worse (log-likelihood {full.log_likelihood_:.4f} < "
            f"{restricted.log_likelihood_:.4f}): it did not reach its maximum; refit it (e.g. with initial_params "
            "from the smaller model)"
        )
    statistic = max(statistic, 0.0)
    p_value = float(stats.chi2.sf(statistic, df))
    table = pd.DataFrame(
        {
            "n_params": [k_r, k_f],
            "log_likelihood": [restricted.log_likelihood_, full.log_likelihood_],
            "df": [np.nan, float(df)],
            "statistic": [np.nan, statistic],
            "p_value": [np.nan, p_value],
        },
        index=pd.Index(["restricted", "full"], name="model"),
    )
    stats_ = {"Model": type(full).__name__, "No. observations": full.n_obs_, "Statistic": statistic,
              "Degrees of freedom": int(df), "p-value": p_value}
    describe = lambda m: ", ".join(m.coefficients_.index) if _uses_covariates(m) else "no covariates"  # noqa: E731
    notes = [
        f"restricted: {describe(restricted)}; full: {describe(full)}.",
        "statistic = 2 (log L_full - log L_restricted), chi-square with df = difference in free parameters under "
        "the hypothesis that the restricted model is true.",
    ]
    return Summary("Likelihood-ratio test", table, stats_, notes)


def simulate_with_covariates(
    model,
    covariates: pd.DataFrame,
    params: Mapping[str, float],
    coefficients: Mapping[str, float],
    random_state=0,
    **simulator_args,
) -> pd.DataFrame:
    """Customers (or, for sBG, cohorts) whose covariates shift the model's parameters by known coefficients.

    Each row of ``covariates`` gets the model's parameters moved by its covariates exactly as
    the model's covariate parameterisation says (``model`` names the covariate columns of each
    process, as for fitting), and is then simulated from the model's story, as the matching
    simulator of :mod:`crm_models.clv.simulate` does with one set of parameters, so a fit of
    ``model`` to the result recovers ``params`` and ``coefficients`` within sampling error.

    Parameters
    ----------
    model : BaseModel
        An (unfitted) model of :mod:`crm_models.clv` with its ``*_covariates`` set, e.g.
        ``BetaGeo(purchase_covariates=["female"])``.
    covariates : pandas.DataFrame
        One row per customer (per cohort for :class:`~crm_models.clv.ShiftedBetaGeo`) with the
        covariate columns.
    params : mapping
        The paper's parameters of a customer whose covariates are all 0.
    coefficients : mapping
        One value per coefficient of ``model``, keyed ``process.column`` (``purchase.female``).
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    **simulator_args
        What the story needs besides the parameters: ``T`` (one value or one per row) and
        optionally ``time_grid`` for BG/NBD, MBG/NBD and Pareto/NBD (as their simulators);
        ``n_opportunities`` for BG/BB; ``frequency`` (one per row) for Gamma-Gamma;
        ``n_customers`` (per cohort, one value or one per row) and ``n_periods`` for sBG.

    Returns
    -------
    pandas.DataFrame
        The simulator's columns (``frequency``, ``recency``, ``T`` or ``n_opportunities``;
        ``frequency`` and ``monetary_value`` for Gamma-Gamma) plus the covariate columns, one
        row per row of ``covariates`` and indexed like it (sBG: the stacked cohorts,
        ``period`` and ``survivors``, with their covariates).

    Examples
    --------
    >>> from crm_models.clv import BetaGeo
    >>> z = pd.DataFrame({"promo": np.random.default_rng(1).integers(0, 2, 4000)})
    >>> model = BetaGeo(dropout_covariates=["promo"])
    >>> data = simulate_with_covariates(model, z, {"r": 0.5, "alpha": 4.0, "a": 0.8, "b": 2.5},
    ...                                 {"dropout.promo": 1.0}, T=52.0)
    >>> list(data.columns)
    ['frequency', 'recency', 'T', 'promo']
    """
    from crm_models.clv import simulate as sim
    from crm_models.clv._covariates import CovariateSpec, covariate_matrix, offsets, process_matrices
    from crm_models.clv.base import BaseModel

    if not isinstance(model, BaseModel) or not hasattr(model, "_covariate_family"):
        raise TypeError(f"model must be a covariate-capable model of crm_models.clv, got {type(model).__name__}")
    if not isinstance(covariates, pd.DataFrame) or len(covariates) == 0:
        raise ValueError("covariates must be a non-empty DataFrame (one row per customer or cohort)")
    spec = CovariateSpec.from_model(model)
    if not spec.active:
        raise ValueError(f"{type(model).__name__} names no covariates: set its *_covariates hyper-parameters")
    names = list(model._param_names)
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; expected {names}")
    if set(coefficients) != set(spec.names):
        raise ValueError(f"coefficients must give exactly {spec.names}, got {sorted(coefficients)}")
    Z = covariate_matrix(covariates, spec.all_columns, "covariates")
    coef = np.array([float(coefficients[k]) for k in spec.names])
    off = offsets(model._covariate_family, spec, coef, process_matrices(spec, Z))
    n = len(covariates)
    per_row = {k: float(params[k]) * np.exp(off[k]) if k in off else np.full(n, float(params[k])) for k in names}
    rng = as_generator(random_state)
    name = type(model).__name__
    arg = {k: v for k, v in simulator_args.items()}
    idx = covariates.index
    if name in ("BetaGeo", "ModifiedBetaGeo", "ParetoNBD"):
        T = _per_row(arg.pop("T", None), n, "T")
        time_grid = arg.pop("time_grid", None)
        _no_more(arg, name)
        if name == "ParetoNBD":
            lam = rng.gamma(per_row["r"], 1.0 / per_row["alpha"])
            mu = rng.gamma(per_row["s"], 1.0 / per_row["beta"])
            life = rng.exponential(1.0 / mu)
            window = np.minimum(life, T)
            x = rng.poisson(lam * window)
            rec = sim._order_stat(rng, x, x, window)
        else:  # the story of simulate_beta_geo / simulate_modified_beta_geo, per customer
            lam = rng.gamma(per_row["r"], 1.0 / per_row["alpha"])
            pr = rng.beta(per_row["a"], per_row["b"])
            K = rng.geometric(pr)
            N = rng.poisson(lam * T)
            x = np.minimum(N, K - (1 if name == "ModifiedBetaGeo" else 0))
            rec = sim._order_stat(rng, x, N, T)
        out = sim._finish(x, rec, T, time_grid, {})
    elif name == "GammaGamma":
        x = _per_row(arg.pop("frequency", None), n, "frequency")
        _no_more(arg, name)
        if np.any(x < 0) or np.any(x != np.floor(x)):
            raise ValueError("frequency must hold whole numbers >= 0")
        nu = rng.gamma(per_row["q"], 1.0 / per_row["gamma"])
        xs = np.maximum(x, 1)
        mean = rng.gamma(per_row["p"] * xs, 1.0 / (nu * xs))
        out = pd.DataFrame({"frequency": x.astype(np.int64), "monetary_value": np.where(x > 0, mean, 0.0)})
    elif name == "BetaGeoBetaBinom":
        n_opp = sim._whole_count(arg.pop("n_opportunities", None), "n_opportunities")
        _no_more(arg, name)
        pr = rng.beta(per_row["alpha"], per_row["beta"])
        theta = rng.beta(per_row["gamma"], per_row["delta"])
        death = rng.geometric(theta)
        frequency = np.zeros(n, dtype=np.int64)
        recency = np.zeros(n, dtype=np.int64)
        for t in range(1, n_opp + 1):
            buys = (t < death) & (rng.random(n) < pr)
            frequency += buys
            recency[buys] = t
        out = pd.DataFrame({"frequency": frequency, "recency": recency,
                            "n_opportunities": np.full(n, n_opp, dtype=np.int64)})
    elif name == "ShiftedBetaGeo":
        sizes = _per_row(arg.pop("n_customers", 1000), n, "n_customers").astype(np.int64)
        n_periods = sim._whole_count(arg.pop("n_periods", None), "n_periods")
        _no_more(arg, name)
        cohorts = []
        for i in range(n):
            c = sim.simulate_shifted_beta_geo(int(sizes[i]), {k: float(per_row[k][i]) for k in names}, n_periods, rng)
            cohorts.append(c.assign(**{col: covariates[col].iloc[i] for col in spec.all_columns}))
        return pd.concat(cohorts, ignore_index=True)
    else:
        raise TypeError(f"no simulator for {name}")
    out.index = idx
    return pd.concat([out, covariates[spec.all_columns]], axis=1)


def _per_row(value, n: int, name: str) -> np.ndarray:
    if value is None:
        raise ValueError(f"pass {name} (one value, or one per row of covariates)")
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy() if np.ndim(value) == 0 else np.asarray(
        value, dtype=float)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be one finite value or one per row of covariates")
    return arr


def _no_more(args: dict, name: str) -> None:
    if args:
        raise ValueError(f"unexpected simulator argument(s) {sorted(args)} for {name}")


# ---------------------------------------------------------------------------------------------
# time-varying covariates
# ---------------------------------------------------------------------------------------------


class DynamicCovariates:
    """Purchases and per-period covariates of customers, for Pareto/NBD with time-varying covariates.

    Made by :func:`dynamic_covariates`, which checks that each customer's periods cover their
    observation window; :class:`~crm_models.clv.ParetoNBD` with ``*_covariates`` naming columns
    of ``periods`` fits it (``fit(dynamic)``) and predicts for it (``probability_alive(dynamic)``,
    ``expected_purchases(dynamic, t)`` when the periods reach ``t`` beyond the end).

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per customer, indexed by customer id: ``frequency``, ``recency``, ``T`` (in
        ``time_unit``), as :func:`crm_models.rfm_summary` makes them.
    first_purchase : pandas.Series
        Day of each customer's first purchase, indexed like ``summary``.
    repeat_purchases : pandas.DataFrame
        ``customer_id_col`` and ``day`` of every repeat purchase (one per customer and day).
    periods : pandas.DataFrame
        ``customer_id_col``, ``period_start`` (the day a period starts) and the covariate
        columns, one row per customer and period, sorted.
    period_length : pandas.Timedelta
        Length of every period (whole days).
    customer_id_col : str
        Name of the customer id column of ``repeat_purchases`` and ``periods``.
    time_unit : str
        Unit of recency and T, a code of :data:`crm_models.units.TIME_UNITS`.
    observation_period_end : pandas.Timestamp
        Last day observed.
    period_start_col : str
        Name of the period start column in the covariate table given to
        :func:`dynamic_covariates` (``periods`` calls it ``period_start``), for messages.

    Examples
    --------
    >>> from crm_models.datasets import load_apparel
    >>> tx = load_apparel()
    >>> dyn = dynamic_covariates(tx[tx.timestamp <= "2005-12-31"], load_apparel("dynamic_covariates"),
    ...                          observation_period_end="2005-12-31")
    >>> type(dyn).__name__, len(dyn.summary), dyn.period_length.days
    ('DynamicCovariates', 600, 7)
    """

    def __init__(self, summary, first_purchase, repeat_purchases, periods, period_length, customer_id_col, time_unit,
                 observation_period_end, period_start_col="period_start"):
        from crm_models.units import TIME_UNITS

        self.summary = summary
        self.first_purchase = first_purchase
        self.repeat_purchases = repeat_purchases
        self.periods = periods
        self.period_length = period_length
        self.customer_id_col = customer_id_col
        self.time_unit = time_unit
        self.observation_period_end = observation_period_end
        self.period_start_col = period_start_col
        self._unit_days = TIME_UNITS[time_unit]
        self._position = pd.Index(summary.index)

    def __repr__(self) -> str:
        return (f"DynamicCovariates({len(self.summary):,} customers, {len(self.periods):,} customer-periods of "
                f"{self.period_length.days} days, time unit {self.time_unit!r}, observed to "
                f"{self.observation_period_end.date()})")

    def _customer_position(self, ids) -> np.ndarray:
        pos = self._position.get_indexer(pd.Index(ids))
        return pos

    def _period_row_of(self, rows: pd.DataFrame) -> np.ndarray:
        """Row of ``periods`` holding each (customer, day) of ``rows`` (periods start on their day)."""
        per = self.periods.reset_index(drop=True)
        left = pd.DataFrame({"k": self._customer_position(rows[self.customer_id_col]), "day": rows["day"].to_numpy(),
                             "i": np.arange(len(rows))}).sort_values("day", kind="stable")
        right = pd.DataFrame({"k": self._customer_position(per[self.customer_id_col]),
                              "day": per["period_start"].to_numpy(), "row": np.arange(len(per))}).sort_values(
            "day", kind="stable")
        got = pd.merge_asof(left, right, on="day", by="k", direction="backward")
        return got.sort_values("i")["row"].to_numpy().astype(np.int64)

    def _check_coverage(self, stop, period: str, what: str = "covariates") -> None:
        """Every customer's periods must run from its first purchase to ``stop`` (customer time)."""
        per = self.periods
        g = per.groupby(self.customer_id_col, sort=False)["period_start"]
        first, last = g.min(), g.max() + self.period_length
        ids = self.summary.index
        absent = ~ids.isin(first.index)
        if absent.any():
            raise DataError(self.customer_id_col, f"has {int(absent.sum())} customer(s) without covariate periods",
                            rows=self.summary[absent].head(), n_rows=int(absent.sum()), n_total=len(ids), what=what,
                            hint="Every customer needs a covariate row for each period from the first purchase on.")
        start_day = self.first_purchase.to_numpy()
        need = start_day + pd.to_timedelta(np.asarray(stop, dtype=float) * self._unit_days, unit="D").to_numpy()
        lo, hi = first.reindex(ids).to_numpy(), last.reindex(ids).to_numpy()
        bad = (lo > start_day) | (hi < need)
        if bad.any():
            rows = pd.DataFrame({"first_purchase": start_day, "covered_until_needed": need, "first_period_start": lo,
                                 "last_period_end": hi}, index=ids)[bad]
            raise DataError(
                self.period_start_col, f"does not cover each customer's {period} (from the first purchase)",
                rows=rows.head(), n_rows=int(bad.sum()), n_total=len(ids), what=what,
                hint="Give covariate rows for every period from each customer's first purchase to the end "
                     "(and beyond it for predictions).")


def dynamic_covariates(
    transactions: pd.DataFrame,
    covariates: pd.DataFrame,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    period_start_col: str = "period_start",
    observation_period_end=None,
    time_unit: str = "W",
    datetime_format: str | None = None,
) -> DynamicCovariates:
    """Prepare a transaction log and a per-customer, per-period covariate table for time-varying covariates.

    Purchases are counted per customer and calendar day (as :func:`crm_models.rfm_summary`
    does); covariates hold one row per customer and period, periods of equal length in whole
    days (weeks, say) that start on the given day and follow one another without gaps. Each
    customer's periods must cover the observation window, from the day of the first purchase to
    ``observation_period_end``; a purchase on the first day of a period belongs to that period.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase with ``customer_id_col`` and ``datetime_col``.
    covariates : pandas.DataFrame
        One row per customer and period with ``customer_id_col``, ``period_start_col`` (the
        day the period starts) and the covariate columns (numbers).
    customer_id_col, datetime_col, period_start_col : str
        Column names.
    observation_period_end : date-like, optional
        Last day observed; defaults to the last purchase. Purchases after it are refused.
    time_unit : str
        Unit of recency and T (and of the model's rates), a code of
        :data:`crm_models.units.TIME_UNITS` of a day or longer (``"W"`` by default).
    datetime_format : str, optional
        ``strptime`` format of the date columns when they are text.

    Returns
    -------
    DynamicCovariates

    Raises
    ------
    crm_models.errors.DataError
        Missing columns or dates, repeated or irregular periods, customers without covariate
        rows, periods that do not cover a customer's window.

    Examples
    --------
    >>> from crm_models.datasets import load_apparel
    >>> tx = load_apparel()
    >>> dyn = dynamic_covariates(tx[tx.timestamp <= "2006-12-31"], load_apparel("dynamic_covariates"),
    ...                          observation_period_end="2006-12-31")
    >>> dyn.summary[["frequency", "T"]].sum().round(1).tolist()
    [1266.0, 62400.0]
    >>> short = load_apparel("dynamic_covariates").query("period_start < '2006-06-01'")
    >>> dynamic_covariates(tx[tx.timestamp <= "2006-12-31"], short, observation_period_end="2006-12-31")
    Traceback (most recent call last):
    ...
    crm_models.errors.DataError: covariates: column 'period_start' does not cover each customer's observation ...
    """
    from crm_models import rfm_summary
    from crm_models._validation import parse_datetimes, parse_timestamp, require_columns
    from crm_models.clv._dynamic_covariates import check_periods
    from crm_models.units import TIME_UNITS, check_time_unit

    check_time_unit(time_unit)
    if TIME_UNITS[time_unit] < 1:
        raise ValueError(f"time_unit must be a day or longer for day-level periods, got {time_unit!r}")
    for name, col in (("customer_id_col", customer_id_col), ("datetime_col", datetime_col),
                      ("period_start_col", period_start_col)):
        if not isinstance(col, str) or not col:
            raise ValueError(f"{name} must be a column name, got {col!r}")
    require_columns(transactions, [customer_id_col, datetime_col], what="transactions")
    require_columns(covariates, [customer_id_col, period_start_col], what="covariates")
    summary = rfm_summary(transactions, customer_id_col, datetime_col, None, observation_period_end, time_unit,
                          datetime_format=datetime_format, engine="pandas")
    end = (pd.Timestamp(parse_timestamp(observation_period_end, "observation_period_end", fmt=datetime_format))
           .normalize() if observation_period_end is not None else None)
    when = parse_datetimes(transactions, datetime_col, fmt=datetime_format, what="transactions").dt.normalize()
    days = pd.DataFrame({customer_id_col: transactions[customer_id_col].to_numpy(), "day": when.to_numpy()})
    days = days.drop_duplicates().sort_values([customer_id_col, "day"], kind="stable")
    if end is None:
        end = days["day"].max()
    first = days.groupby(customer_id_col, sort=True)["day"].min().reindex(summary.index)
    repeat = days[days["day"].to_numpy() > first.reindex(days[customer_id_col]).to_numpy()].reset_index(drop=True)
    what = "covariates"
    per = covariates.copy()
    fail_rows(per, per[customer_id_col].isna(), customer_id_col, "must not be missing", what=what)
    start = parse_datetimes(per, period_start_col, fmt=datetime_format, what=what)
    fail_rows(per, (start != start.dt.normalize()).to_numpy(), period_start_col,
              "must be a day (periods start at midnight)", what=what)
    per = per.drop(columns=[period_start_col]).assign(period_start=start)
    per = per.sort_values([customer_id_col, "period_start"], kind="stable")
    known = per[customer_id_col].isin(summary.index)
    per = per[known.to_numpy()].reset_index(drop=True)
    if per.empty:
        raise DataError(customer_id_col, "has no covariate rows for the customers of the transactions", what=what)
    length = check_periods(per, customer_id_col, what, period_start_col)
    dyn = DynamicCovariates(summary, first, repeat, per, length, customer_id_col, time_unit, end, period_start_col)
    dyn._check_coverage(summary["T"].to_numpy(float), "observation window", what)
    return dyn

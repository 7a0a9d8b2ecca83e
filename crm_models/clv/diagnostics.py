"""The numbers behind the lifetime-value diagnostics, without plotting.

Each function returns a DataFrame (or a small result object) that
:mod:`crm_models.clv.plotting` draws, so a notebook can print exactly what a figure shows:

* :func:`repeat_purchase_histogram`: actual vs model number of customers by repeat frequency,
  with a chi-square statistic (FHL 2005, Figure 1; FHS 2010, Figure 3);
* :func:`tracking_data`: repeat transactions per week (incremental and cumulative), actual vs
  model, through the calibration and holdout periods, from a transaction log (FHL 2005, Figure 2);
* :func:`conditional_expectations`: mean holdout purchases by calibration frequency, actual vs
  model (FHL 2005, Figure 4);
* :func:`probability_alive_matrix`, :func:`expected_purchases_matrix`: predictions over a
  frequency x recency grid;
* :func:`retention_table`: a contract cohort's survival and retention, actual vs sBG, fitted
  and projected periods;
* :func:`compare_models`: log-likelihood, parameters, AIC, BIC and holdout error side by side.

They use only the models' public API (``expected_purchases``, ``probability_alive``,
``expected_purchases_new_customer``, ``probability_of_n_purchases``, ``params_``,
``log_likelihood_``, ``n_obs_``, column-name hyper-parameters), so they work with every
frequency/recency model of :mod:`crm_models.clv` and with BG/BB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crm_models._validation import fail_rows, parse_datetimes, parse_timestamp, require_columns
from crm_models.clv.base import validate_frequency_recency
from crm_models.clv.beta_geo_beta_binom import validate_discrete_patterns
from crm_models.clv.value import unit_days

__all__ = [
    "HistogramCheck",
    "repeat_purchase_histogram",
    "tracking_data",
    "conditional_expectations",
    "probability_alive_matrix",
    "expected_purchases_matrix",
    "retention_table",
    "compare_models",
]


def _columns(model) -> tuple[str, str, str]:
    """The model's (frequency, recency, length-of-observation) column names."""
    if not hasattr(model, "frequency_col"):
        raise TypeError(f"{type(model).__name__} is not a frequency/recency model (no frequency_col)")
    length = getattr(model, "n_opportunities_col", None) or model.T_col
    return model.frequency_col, model.recency_col, length


def _check_fitted(model) -> None:
    check = getattr(model, "_check_fitted", None)
    if check is not None:
        check()
    elif not hasattr(model, "params_"):
        raise ValueError(f"{type(model).__name__} is not fitted yet: call .fit(data) first")


# ------------------------------------------------------------------------- histogram
@dataclass
class HistogramCheck:
    """Actual vs expected number of customers by repeat frequency, and Pearson's chi-square.

    ``table`` has one row per frequency bucket (``0, 1, ..., max_frequency-1`` and
    ``"{max_frequency}+"``) with columns ``actual`` and ``model``; ``chi_square`` sums
    (actual - model)^2 / model over the buckets, with ``dof`` = buckets - 1 - parameters and
    ``p_value`` its upper tail probability.
    """

    table: pd.DataFrame
    chi_square: float
    dof: int
    p_value: float

    def __repr__(self) -> str:
        return (
            f"{self.table.round(1).to_string()}\n"
            f"chi-square = {self.chi_square:.2f} on {self.dof} df, p = {self.p_value:.3g}"
        )


def repeat_purchase_histogram(
    model,
    data: pd.DataFrame,
    *,
    max_frequency: int = 7,
    weights_col: str | None = None,
) -> HistogramCheck:
    """How many customers made 0, 1, 2, ... repeat purchases, actual vs the fitted model.

    The model's count for bucket x is sum_i P(X(T_i) = x): each customer contributes the
    population probability of x repeat purchases over their own observation length T_i (in
    the data's time unit; opportunities for BG/BB). The last bucket pools ``max_frequency`` and
    more. ``weights_col`` counts customers per row (e.g. ``"n_donors"`` for a repeat-pattern
    table).
    """
    _check_fitted(model)
    fcol, rcol, lcol = _columns(model)
    if int(max_frequency) != max_frequency or max_frequency < 1:
        raise ValueError(f"max_frequency must be a whole number >= 1, got {max_frequency!r}")
    if hasattr(model, "n_opportunities_col"):
        x, _, T = validate_discrete_patterns(data, fcol, rcol, lcol)
    else:
        x, _, T = validate_frequency_recency(data, fcol, rcol, lcol)
    w = np.ones(len(data)) if weights_col is None else _weights(data, weights_col)
    k = int(max_frequency)
    actual = np.bincount(np.minimum(x, k).astype(np.int64), weights=w, minlength=k + 1)[: k + 1]
    expected = np.zeros(k + 1)
    Tu, inv = np.unique(T, return_inverse=True)
    wT = np.bincount(inv, weights=w, minlength=len(Tu))
    for t, n_t in zip(Tu, wT):
        p = model.probability_of_n_purchases(t, np.arange(k)).to_numpy()
        expected[:k] += n_t * p
        expected[k] += n_t * max(0.0, 1.0 - p.sum())
    labels = [str(i) for i in range(k)] + [f"{k}+"]
    table = pd.DataFrame({"actual": actual, "model": expected}, index=pd.Index(labels, name=fcol))
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = float(np.sum(np.where(expected > 0, (actual - expected) ** 2 / expected, 0.0)))
    dof = max(1, (k + 1) - 1 - len(model.params_))
    return HistogramCheck(table, chi, dof, float(stats.chi2.sf(chi, dof)))


def _weights(data: pd.DataFrame, col: str) -> np.ndarray:
    require_columns(data, [col])
    w = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
    fail_rows(data, ~np.isfinite(w) | (w < 0), col, "must hold non-negative customer counts")
    return w


# -------------------------------------------------------------------------- tracking
def tracking_data(
    model,
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    calibration_period_end,
    observation_period_end,
    *,
    time_unit: str | float = "W",
    period_days: int = 7,
    datetime_format: str | None = None,
) -> pd.DataFrame:
    """Repeat transactions per period, actual vs model, across calibration and holdout.

    The cohort is every customer whose first purchase is on or before
    ``calibration_period_end`` (the customers the model was fitted on). Purchases are
    de-duplicated per calendar day, as :func:`crm_models.rfm_summary` does by default; every
    purchase day after a customer's first is a repeat transaction. Periods of ``period_days``
    days start at the cohort's first purchase date and run to ``observation_period_end``.

    The model's cumulative count at the last day ``e`` of a period is
    sum_i E[X((e - first_i) / unit)] over the cohort, with E[X(t)] the expected repeat
    purchases of a new customer (``expected_purchases_new_customer``) and ``unit`` the model's
    time unit in days (``time_unit``: "W" = 7, "D" = 1, any unit of
    :func:`crm_models.clv.unit_days`, or a number of days).

    Returns a DataFrame indexed by ``period`` (1, 2, ...) with ``start`` and ``end`` (first and
    last day), ``phase`` ("calibration" when the period ends on or before the calibration end,
    else "holdout"), ``actual``, ``model``, ``actual_cumulative``, ``model_cumulative``.
    """
    _check_fitted(model)
    if isinstance(time_unit, str):
        unit = unit_days(time_unit, "time_unit")
    else:
        unit = float(time_unit)
        if not np.isfinite(unit) or unit <= 0:
            raise ValueError(f"time_unit must be a unit such as 'D' or 'W', or a positive number of days, got {time_unit!r}")
    if int(period_days) != period_days or period_days < 1:
        raise ValueError(f"period_days must be a whole number of days >= 1, got {period_days!r}")
    require_columns(transactions, [customer_id_col, datetime_col], what="transactions")
    fail_rows(transactions, transactions[customer_id_col].isna(), customer_id_col, "must not be missing",
              what="transactions")
    days = parse_datetimes(transactions, datetime_col, fmt=datetime_format, what="transactions").dt.floor("D")
    cal_end = parse_timestamp(calibration_period_end, "calibration_period_end").floor("D")
    obs_end = parse_timestamp(observation_period_end, "observation_period_end").floor("D")
    if obs_end < cal_end:
        raise ValueError(
            f"observation_period_end ({obs_end.date()}) is before calibration_period_end ({cal_end.date()})"
        )
    log = pd.DataFrame({"cid": transactions[customer_id_col].to_numpy(), "day": days.to_numpy()})
    log = log.drop_duplicates()
    first = log.groupby("cid")["day"].transform("min")
    cohort = first <= cal_end
    if not cohort.any():
        raise ValueError(f"transactions: no customer made a first purchase on or before {cal_end.date()}")
    log, first = log[cohort], first[cohort]
    start = first.min()
    repeat_days = log.loc[(log["day"] > first) & (log["day"] <= obs_end), "day"]

    n_periods = int(np.ceil(((obs_end - start).days + 1) / period_days))
    starts = start + pd.to_timedelta(np.arange(n_periods) * period_days, unit="D")
    ends = (starts + pd.Timedelta(days=period_days - 1)).where(
        starts + pd.Timedelta(days=period_days - 1) <= obs_end, obs_end
    )
    k = ((repeat_days - start).dt.days // period_days).to_numpy()
    actual = np.bincount(k, minlength=n_periods)[:n_periods].astype(float)

    first_by_customer = log.assign(first=first).groupby("cid")["first"].first()
    f_days = (first_by_customer - start).dt.days.to_numpy()
    fu, fcount = np.unique(f_days, return_counts=True)
    end_days = (ends - start).days.to_numpy()
    grid = np.arange(int(end_days.max()) + 1)
    e_new = np.asarray(model.expected_purchases_new_customer(grid / unit), dtype=float)
    elapsed = np.clip(end_days[:, None] - fu[None, :], 0, None)
    model_cum = (e_new[elapsed] * fcount[None, :]).sum(axis=1)

    out = pd.DataFrame(
        {
            "start": starts,
            "end": ends,
            "phase": np.where(ends <= cal_end, "calibration", "holdout"),
            "actual": actual,
            "model": np.diff(np.concatenate([[0.0], model_cum])),
            "actual_cumulative": np.cumsum(actual),
            "model_cumulative": model_cum,
        },
        index=pd.RangeIndex(1, n_periods + 1, name="period"),
    )
    out.attrs.update({"n_customers": int(fcount.sum()), "calibration_period_end": cal_end, "period_days": int(period_days)})
    return out


# --------------------------------------------------------- conditional expectations
def _model_frame(model, data, frequency_col, recency_col, T_col) -> pd.DataFrame:
    fcol, rcol, lcol = _columns(model)
    require_columns(data, [frequency_col, recency_col, T_col])
    return pd.DataFrame(
        {fcol: data[frequency_col].to_numpy(), rcol: data[recency_col].to_numpy(), lcol: data[T_col].to_numpy()},
        index=data.index,
    )


def _holdout_predictions(model, data, frequency_col, recency_col, T_col, duration_col) -> pd.Series:
    frame = _model_frame(model, data, frequency_col, recency_col, T_col)
    require_columns(data, [duration_col])
    duration = pd.to_numeric(data[duration_col], errors="coerce").to_numpy(dtype=float)
    fail_rows(data, ~np.isfinite(duration) | (duration < 0), duration_col, "must be a non-negative duration")
    pred = np.empty(len(data))
    for d in np.unique(duration):
        sel = duration == d
        pred[sel] = model.expected_purchases(frame[sel], float(d)).to_numpy()
    return pd.Series(pred, index=data.index, name="expected_purchases")


def conditional_expectations(
    model,
    calibration_holdout: pd.DataFrame,
    *,
    max_frequency: int = 7,
    frequency_col: str = "frequency_cal",
    recency_col: str = "recency_cal",
    T_col: str = "T_cal",
    holdout_col: str = "frequency_holdout",
    duration_col: str = "duration_holdout",
) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency, actual vs model.

    ``calibration_holdout`` is the output of :func:`crm_models.calibration_holdout_split`
    (column names configurable). For each customer the model predicts
    ``expected_purchases(calibration summary, duration_holdout)``; customers are grouped by
    calibration frequency (the last group pools ``max_frequency`` and more). Returns a
    DataFrame indexed by the frequency group with ``n_customers``, ``actual`` and ``model``
    (means per customer).
    """
    _check_fitted(model)
    require_columns(calibration_holdout, [holdout_col])
    pred = _holdout_predictions(model, calibration_holdout, frequency_col, recency_col, T_col, duration_col)
    x = calibration_holdout[frequency_col].to_numpy(dtype=float)
    k = int(max_frequency)
    group = np.minimum(x, k).astype(np.int64)
    labels = [str(i) for i in range(k)] + [f"{k}+"]
    df = pd.DataFrame(
        {"group": group, "actual": calibration_holdout[holdout_col].to_numpy(dtype=float), "model": pred.to_numpy()}
    )
    out = df.groupby("group").agg(n_customers=("actual", "size"), actual=("actual", "mean"), model=("model", "mean"))
    out = out.reindex(range(k + 1))
    out["n_customers"] = out["n_customers"].fillna(0).astype(np.int64)
    out.index = pd.Index(labels, name=frequency_col)
    return out


# -------------------------------------------------------------------------- matrices
def _grid(model, T: float, max_frequency: int | None, recency: Sequence[float] | None) -> pd.DataFrame:
    fcol, rcol, lcol = _columns(model)
    T = float(T)
    if not np.isfinite(T) or T <= 0:
        raise ValueError(f"T must be a positive length of observation, got {T!r}")
    rec = np.arange(0, int(np.floor(T)) + 1, dtype=float) if recency is None else np.asarray(recency, float)
    if np.any(rec < 0) or np.any(rec > T):
        raise ValueError("recency values must lie in [0, T]")
    discrete = hasattr(model, "n_opportunities_col")
    mf = int(max_frequency) if max_frequency is not None else (int(T) if discrete else int(np.ceil(T)))
    freq = np.arange(mf + 1, dtype=float)
    F, R = np.meshgrid(freq, rec, indexing="ij")
    valid = ~((F == 0) & (R != 0))
    if discrete:
        valid &= F <= R
    return pd.DataFrame({fcol: F[valid], rcol: R[valid], lcol: T}), freq, rec, valid


def _to_matrix(values, freq, rec, valid, fcol, rcol) -> pd.DataFrame:
    M = np.full(valid.shape, np.nan)
    M[valid] = values
    return pd.DataFrame(M, index=pd.Index(freq.astype(np.int64), name=fcol), columns=pd.Index(rec, name=rcol))


def probability_alive_matrix(
    model, T: float, *, max_frequency: int | None = None, recency: Sequence[float] | None = None
) -> pd.DataFrame:
    """P(alive) for a customer observed for ``T`` periods, over frequency (rows) x recency (columns).

    Rows are frequencies 0..``max_frequency`` (default: T), columns recencies (default 0, 1,
    ..., T); impossible combinations (frequency 0 with recency > 0; for BG/BB also frequency >
    recency) are NaN.
    """
    _check_fitted(model)
    frame, freq, rec, valid = _grid(model, T, max_frequency, recency)
    fcol, rcol, _ = _columns(model)
    return _to_matrix(model.probability_alive(frame).to_numpy(), freq, rec, valid, fcol, rcol)


def expected_purchases_matrix(
    model, T: float, t: float, *, max_frequency: int | None = None, recency: Sequence[float] | None = None
) -> pd.DataFrame:
    """Expected purchases in the next ``t`` periods over frequency (rows) x recency (columns),
    for customers observed for ``T`` periods (layout as :func:`probability_alive_matrix`)."""
    _check_fitted(model)
    frame, freq, rec, valid = _grid(model, T, max_frequency, recency)
    fcol, rcol, _ = _columns(model)
    return _to_matrix(model.expected_purchases(frame, t).to_numpy(), freq, rec, valid, fcol, rcol)


# ------------------------------------------------------------------------- retention
def retention_table(model, data: pd.DataFrame | pd.Series, *, horizon: int | None = None, unit: str = "count",
                    ) -> pd.DataFrame:
    """A contract cohort's survival and retention, actual vs a fitted :class:`ShiftedBetaGeo`.

    ``data`` holds the cohort's survivors by period (as for ``ShiftedBetaGeo.fit``; it may
    include periods beyond those fitted, which then count as holdout). ``unit`` says whether
    survivors are counts or percentages. Returns a DataFrame indexed by period (named like the
    model's ``period_col``; 0..max(last period, ``horizon``)) with ``actual_survival`` and ``model_survival`` (shares
    of the starting cohort), ``actual_retention`` and ``model_retention`` (S(t)/S(t-1)) and
    ``phase`` ("fitted" up to the model's ``n_periods_``, else "projected").
    """
    _check_fitted(model)
    if isinstance(data, pd.Series):
        data = pd.DataFrame({model.period_col: data.index.to_numpy(), model.survivors_col: data.to_numpy()})
    s = model._validate(data, unit, 100.0 if unit == "percent" else None)
    share = s / s[0]
    last = len(s) - 1
    h = max(last, int(horizon) if horizon is not None else last)
    periods = np.arange(h + 1)
    model_s = model.survival(periods).to_numpy()
    actual = np.full(h + 1, np.nan)
    actual[: last + 1] = share
    with np.errstate(divide="ignore", invalid="ignore"):
        actual_r = np.concatenate([[np.nan], actual[1:] / actual[:-1]])
    model_r = np.concatenate([[np.nan], model_s[1:] / model_s[:-1]])
    return pd.DataFrame(
        {
            "actual_survival": actual,
            "model_survival": model_s,
            "actual_retention": actual_r,
            "model_retention": model_r,
            "phase": np.where(periods <= model.n_periods_, "fitted", "projected"),
        },
        index=pd.Index(periods, name=model.period_col),
    )


# ------------------------------------------------------------------------ comparison
def compare_models(
    models: Mapping[str, object] | Sequence[object],
    calibration_holdout: pd.DataFrame | None = None,
    *,
    frequency_col: str = "frequency_cal",
    recency_col: str = "recency_cal",
    T_col: str = "T_cal",
    holdout_col: str = "frequency_holdout",
    duration_col: str = "duration_holdout",
) -> pd.DataFrame:
    """Fitted models side by side: fit statistics and, with holdout data, prediction error.

    Columns: ``n_params``, ``n_obs``, ``log_likelihood``, ``aic`` (2k - 2 LL), ``bic``
    (k ln n - 2 LL) and, when ``calibration_holdout`` (from
    :func:`crm_models.calibration_holdout_split`) is given, ``holdout_mae`` and
    ``holdout_rmse`` (per-customer error of expected vs actual holdout purchases),
    ``holdout_predicted`` and ``holdout_actual`` (totals) and ``holdout_total_error_pct``.
    Log-likelihood, AIC and BIC are comparable only between models fitted to the same data
    (same ``n_obs``). Lower AIC, BIC and errors are better.
    """
    if not isinstance(models, Mapping):
        models = {type(m).__name__: m for m in models}
    if not models:
        raise ValueError("compare_models needs at least one fitted model")
    rows = {}
    for name, m in models.items():
        _check_fitted(m)
        k = len(m.params_)
        ll = float(m.log_likelihood_)
        n = float(m.n_obs_)
        row = {
            "n_params": k,
            "n_obs": m.n_obs_,
            "log_likelihood": ll,
            "aic": 2 * k - 2 * ll,
            "bic": k * np.log(n) - 2 * ll,
        }
        if calibration_holdout is not None:
            require_columns(calibration_holdout, [holdout_col])
            pred = _holdout_predictions(m, calibration_holdout, frequency_col, recency_col, T_col, duration_col)
            actual = calibration_holdout[holdout_col].to_numpy(dtype=float)
            err = pred.to_numpy() - actual
            row.update(
                {
                    "holdout_mae": float(np.mean(np.abs(err))),
                    "holdout_rmse": float(np.sqrt(np.mean(err**2))),
                    "holdout_predicted": float(pred.sum()),
                    "holdout_actual": float(actual.sum()),
                    "holdout_total_error_pct": float(100 * (pred.sum() - actual.sum()) / actual.sum())
                    if actual.sum() > 0
                    else np.nan,
                }
            )
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")

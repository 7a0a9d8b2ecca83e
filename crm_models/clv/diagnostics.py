"""The numbers behind the lifetime-value diagnostics, without plotting.

Each function returns a DataFrame (or a small result object) that
:mod:`crm_models.clv.plotting` draws, so a notebook can print exactly what a figure shows:

* :func:`repeat_purchase_histogram`: actual vs model number of customers by repeat frequency,
  with a chi-square statistic (FHL 2005, Figure 1; FHS 2010, Figure 3);
* :func:`tracking_data`: repeat transactions per period (incremental and cumulative), actual
  vs model, through the calibration and holdout periods, from a transaction log (FHL 2005,
  Figure 2);
* :func:`conditional_expectations`: mean holdout purchases by calibration frequency, actual vs
  model (FHL 2005, Figure 4);
* :func:`probability_alive_matrix`, :func:`expected_purchases_matrix`: predictions over a
  frequency x recency grid;
* :func:`retention_table`: a contract cohort's survival and retention, actual vs sBG, fitted
  and projected periods;
* :func:`compare_models`: log-likelihood, parameters, AIC, BIC and holdout error side by side.

The repeat-purchase diagnostics work with any
:class:`~crm_models.clv.base.RepeatPurchaseModel` (BG/NBD, MBG/NBD, Pareto/NBD and BG/BB)
through its public contract: ``frequency_col``, ``recency_col``, ``length_col``,
``validate_data`` and the four predictions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crm_models._validation import check_ids, fail_rows, parse_datetimes, parse_timestamp, require_columns
from crm_models.clv.base import BaseModel, DiscreteTimeModel, RepeatPurchaseModel
from crm_models.clv.shifted_beta_geo import ShiftedBetaGeo
from crm_models.units import TIME_UNITS, as_duration, check_time_unit

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


def _fitted(model, kind: type = BaseModel, what: str = "a lifetime-value model of crm_models.clv"):
    """``model`` if it is a fitted ``kind``, else a clear TypeError or NotFittedError."""
    if not isinstance(model, kind):
        raise TypeError(f"model must be {what}, got {type(model).__name__}")
    model._check_fitted()
    return model


def _repeat_model(model) -> RepeatPurchaseModel:
    return _fitted(model, RepeatPurchaseModel,
                   "a repeat-purchase model (BetaGeo, ModifiedBetaGeo, ParetoNBD or BetaGeoBetaBinom)")


# ------------------------------------------------------------------------- histogram
@dataclass
class HistogramCheck:
    """Actual vs expected number of customers by repeat frequency, and Pearson's chi-square.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per frequency bucket (``0, 1, ..., max_frequency-1`` and ``"{max_frequency}+"``)
        with columns ``actual`` and ``model`` (numbers of customers).
    chi_square : float
        Sum over the buckets of (actual - model)^2 / model.
    dof : int
        Degrees of freedom: buckets - 1 - parameters (at least 1).
    p_value : float
        Upper tail probability of ``chi_square``.

    Examples
    --------
    >>> check = HistogramCheck(pd.DataFrame({"actual": [5.0], "model": [4.0]}), 0.25, 1, 0.62)
    >>> check.dof
    1
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


def _max_frequency(max_frequency) -> int:
    if isinstance(max_frequency, bool) or not isinstance(max_frequency, (int, np.integer, float, np.floating)) \
            or not (np.isfinite(max_frequency) and int(max_frequency) == max_frequency and max_frequency >= 1):
        raise ValueError(f"max_frequency must be a whole number >= 1, got {max_frequency!r}")
    return int(max_frequency)


def _weights(data: pd.DataFrame, col: str) -> np.ndarray:
    require_columns(data, [col])
    w = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
    fail_rows(data, ~np.isfinite(w) | (w < 0), col, "must hold non-negative customer counts")
    return w


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
    more.

    Parameters
    ----------
    model : RepeatPurchaseModel
        A fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.
    data : pandas.DataFrame
        The summary the model was fitted on (its column names).
    max_frequency : int
        First pooled bucket.
    weights_col : str, optional
        Customers per row (e.g. ``"n_donors"`` for a repeat-pattern table).

    Returns
    -------
    HistogramCheck

    Examples
    --------
    >>> from crm_models.clv import BetaGeoBetaBinom
    >>> from crm_models.datasets import load_donations
    >>> d = load_donations()
    >>> m = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
    >>> check = repeat_purchase_histogram(m, d, weights_col="n_donors", max_frequency=6)
    >>> check.table["actual"].tolist()
    [3464.0, 1823.0, 1430.0, 1085.0, 1036.0, 1063.0, 1203.0]
    """
    model = _repeat_model(model)
    k = _max_frequency(max_frequency)
    x, _, T = model.validate_data(data)
    w = np.ones(len(data)) if weights_col is None else _weights(data, weights_col)
    actual = np.bincount(np.minimum(x, k).astype(np.int64), weights=w, minlength=k + 1)[: k + 1]
    expected = np.zeros(k + 1)
    Tu, inv = np.unique(T, return_inverse=True)
    wT = np.bincount(inv, weights=w, minlength=len(Tu))
    for t, n_t in zip(Tu, wT):
        p = model.probability_of_n_purchases(t, np.arange(k)).to_numpy()
        expected[:k] += n_t * p
        expected[k] += n_t * max(0.0, 1.0 - p.sum())
    labels = [str(i) for i in range(k)] + [f"{k}+"]
    table = pd.DataFrame({"actual": actual, "model": expected}, index=pd.Index(labels, name=model.frequency_col))
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = float(np.sum(np.where(expected > 0, (actual - expected) ** 2 / expected, 0.0)))
    dof = max(1, (k + 1) - 1 - len(model.params_))
    return HistogramCheck(table, chi, dof, float(stats.chi2.sf(chi, dof)))


# -------------------------------------------------------------------------- tracking
def tracking_data(
    model,
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    calibration_period_end=None,
    observation_period_end=None,
    *,
    time_unit: str = "W",
    period=(7, "D"),
    datetime_format: str | None = None,
) -> pd.DataFrame:
    """Repeat transactions per period, actual vs model, across calibration and holdout.

    The cohort is every customer whose first purchase is on or before
    ``calibration_period_end`` (the customers the model was fitted on). Purchases are
    de-duplicated per calendar day, as :func:`crm_models.rfm_summary` does by default; every
    purchase day after a customer's first is a repeat transaction. Periods of length ``period``
    start at the cohort's first purchase date and run to ``observation_period_end``.

    Purchases on the last day ``e`` of a period count in that period, so the model's exposure
    runs to the end of that day: the model's cumulative count is
    sum_i E[X((e + 1 day - first_i) / unit)] over the cohort members whose first purchase is on
    or before ``e``, with E[X(t)] the expected repeat purchases of a new customer
    (``expected_purchases_new_customer``) and ``unit`` the model's time unit. This is how
    lifetimes' ``expected_cumulative_transactions`` and BTYD's ``ExpectedCumulativeTransactions``
    count (on the CDNOW sample, Pareto/NBD: 1309, 1385, 1460, 1533, 1604, 1674 expected
    cumulative repeat purchases at weeks 20-25, as in the BTYD walkthrough).

    Parameters
    ----------
    model : ContinuousTimeModel
        A fitted BG/NBD, MBG/NBD or Pareto/NBD model.
    transactions : pandas.DataFrame
        The transaction log, one row per transaction.
    customer_id_col, datetime_col : str
        Columns of the customer id and of the time of each transaction.
    calibration_period_end : str or datetime-like
        Last date of the calibration period (required).
    observation_period_end : str or datetime-like, optional
        End of the holdout; default the last date in the log.
    time_unit : str
        The model's time unit (that of the summary it was fitted on), a code of
        :data:`crm_models.units.TIME_UNITS`.
    period : tuple of (float, str)
        Length of the table's periods, a whole number of days (default one week).
    datetime_format : str, optional
        strptime format of ``datetime_col`` when it is text.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period`` (1, 2, ...) with ``start`` and ``end`` (first and last day),
        ``phase`` ("calibration" when the period ends on or before the calibration end, else
        "holdout"), ``actual``, ``model``, ``actual_cumulative``, ``model_cumulative``.

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import BetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> log = load_cdnow()
    >>> model = BetaGeo().fit(rfm_summary(log, observation_period_end="1997-09-30", after_end="drop"))
    >>> tr = tracking_data(model, log, calibration_period_end="1997-09-30", observation_period_end="1998-06-30")
    >>> len(tr), int(tr.loc[39, "actual_cumulative"])
    (78, 2457)
    """
    model = _fitted(model, RepeatPurchaseModel, "a continuous-time model (BetaGeo, ModifiedBetaGeo or ParetoNBD)")
    if isinstance(model, DiscreteTimeModel):
        raise TypeError(
            f"tracking_data needs a continuous-time model; a {type(model).__name__} counts discrete opportunities, "
            "not days: compare its expected_pattern_counts with the data instead"
        )
    unit = TIME_UNITS[check_time_unit(time_unit)]
    period = as_duration(period, "period")
    period_days = period.days
    if period_days != np.floor(period_days):
        raise ValueError(f"period must be a whole number of days (the log is counted by day), got {period}")
    period_days = int(period_days)
    if calibration_period_end is None:
        raise ValueError("calibration_period_end is required (the last date of the calibration period)")
    require_columns(transactions, [customer_id_col, datetime_col], what="transactions")
    check_ids(transactions, customer_id_col, what="transactions")
    days = parse_datetimes(transactions, datetime_col, fmt=datetime_format, what="transactions").dt.floor("D")
    cal_end = parse_timestamp(calibration_period_end, "calibration_period_end", fmt=datetime_format).floor("D")
    if observation_period_end is None:
        obs_end = days.max()
    else:
        obs_end = parse_timestamp(observation_period_end, "observation_period_end", fmt=datetime_format).floor("D")
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
    # exposure from the first purchase day to the end of the period's last day (a purchase on
    # that day counts); customers whose first purchase comes later contribute nothing yet
    grid = np.arange(int(end_days.max()) + 2)
    e_new = model.expected_purchases_new_customer(grid / unit).to_numpy()
    elapsed = end_days[:, None] + 1 - fu[None, :]
    elapsed = np.where(elapsed >= 1, elapsed, 0)
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
    out.attrs.update({"n_customers": int(fcount.sum()), "calibration_period_end": cal_end, "period_days": period_days})
    return out


# --------------------------------------------------------- conditional expectations
def _model_frame(model, data, frequency_col, recency_col, T_col) -> pd.DataFrame:
    require_columns(data, [frequency_col, recency_col, T_col])
    return pd.DataFrame(
        {
            model.frequency_col: data[frequency_col].to_numpy(),
            model.recency_col: data[recency_col].to_numpy(),
            model.length_col: data[T_col].to_numpy(),
        },
        index=data.index,
    )


def _holdout_predictions(model, data, frequency_col, recency_col, T_col, duration_holdout_col) -> pd.Series:
    frame = _model_frame(model, data, frequency_col, recency_col, T_col)
    require_columns(data, [duration_holdout_col])
    duration = pd.to_numeric(data[duration_holdout_col], errors="coerce").to_numpy(dtype=float)
    fail_rows(data, ~np.isfinite(duration) | (duration < 0), duration_holdout_col, "must be a non-negative duration")
    pred = np.empty(len(data))
    for d in np.unique(duration):
        sel = duration == d
        pred[sel] = model.expected_purchases(frame[sel], float(d)).to_numpy()
    return pd.Series(pred, index=data.index, name="expected_purchases")


def _holdout_actual(data, frequency_holdout_col) -> np.ndarray:
    require_columns(data, [frequency_holdout_col])
    actual = pd.to_numeric(data[frequency_holdout_col], errors="coerce").to_numpy(dtype=float)
    fail_rows(data, ~np.isfinite(actual) | (actual < 0), frequency_holdout_col,
              "must hold non-negative numbers of repeat purchases")
    return actual


def conditional_expectations(
    model,
    calibration_holdout: pd.DataFrame,
    *,
    max_frequency: int = 7,
    frequency_col: str = "frequency_cal",
    recency_col: str = "recency_cal",
    T_col: str = "T_cal",
    frequency_holdout_col: str = "frequency_holdout",
    duration_holdout_col: str = "duration_holdout",
) -> pd.DataFrame:
    """Mean holdout purchases by calibration frequency, actual vs model.

    For each customer the model predicts ``expected_purchases(calibration summary,
    duration_holdout)``; customers are grouped by calibration frequency (the last group pools
    ``max_frequency`` and more).

    Parameters
    ----------
    model : RepeatPurchaseModel
        A model fitted on the calibration summary.
    calibration_holdout : pandas.DataFrame
        The output of :func:`crm_models.calibration_holdout_split`.
    max_frequency : int
        First pooled group.
    frequency_col, recency_col, T_col : str
        Calibration-period columns.
    frequency_holdout_col : str
        Repeat purchases in the holdout period.
    duration_holdout_col : str
        Length of the holdout period, in the model's time unit.

    Returns
    -------
    pandas.DataFrame
        Indexed by the frequency group with ``n_customers``, ``actual`` and ``model`` (means
        per customer).

    Examples
    --------
    >>> from crm_models import calibration_holdout_split
    >>> from crm_models.clv import BetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> ch = calibration_holdout_split(load_cdnow(), calibration_period_end="1997-09-30",
    ...                                observation_period_end="1998-06-30")
    >>> cal = ch.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    >>> ce = conditional_expectations(BetaGeo().fit(cal), ch)
    >>> ce["n_customers"].tolist()
    [1411, 439, 214, 100, 62, 38, 29, 64]
    """
    model = _repeat_model(model)
    k = _max_frequency(max_frequency)
    actual = _holdout_actual(calibration_holdout, frequency_holdout_col)
    pred = _holdout_predictions(model, calibration_holdout, frequency_col, recency_col, T_col, duration_holdout_col)
    x = calibration_holdout[frequency_col].to_numpy(dtype=float)
    group = np.minimum(x, k).astype(np.int64)
    labels = [str(i) for i in range(k)] + [f"{k}+"]
    df = pd.DataFrame({"group": group, "actual": actual, "model": pred.to_numpy()})
    out = df.groupby("group").agg(n_customers=("actual", "size"), actual=("actual", "mean"), model=("model", "mean"))
    out = out.reindex(range(k + 1))
    out["n_customers"] = out["n_customers"].fillna(0).astype(np.int64)
    out.index = pd.Index(labels, name=frequency_col)
    return out


# -------------------------------------------------------------------------- matrices
def _grid(model: RepeatPurchaseModel, T: float, max_frequency: int | None, recency: Sequence[float] | None):
    if isinstance(T, bool) or not isinstance(T, (int, float, np.integer, np.floating)) or not (np.isfinite(T) and T > 0):
        raise ValueError(f"T must be a positive length of observation, got {T!r}")
    T = float(T)
    discrete = isinstance(model, DiscreteTimeModel)
    if discrete:
        T = float(model._check_time(T, "T"))
    rec = np.arange(0, int(np.floor(T)) + 1, dtype=float) if recency is None else np.asarray(recency, float)
    if rec.ndim != 1 or np.any(~np.isfinite(rec)) or np.any(rec < 0) or np.any(rec > T):
        raise ValueError("recency values must lie in [0, T]")
    mf = _max_frequency(max_frequency) if max_frequency is not None else (int(T) if discrete else int(np.ceil(T)))
    freq = np.arange(mf + 1, dtype=float)
    F, R = np.meshgrid(freq, rec, indexing="ij")
    valid = ~((F == 0) & (R != 0))
    if discrete:
        valid &= F <= R
    frame = pd.DataFrame({model.frequency_col: F[valid], model.recency_col: R[valid], model.length_col: T})
    return frame, freq, rec, valid


def _to_matrix(values, freq, rec, valid, fcol, rcol) -> pd.DataFrame:
    M = np.full(valid.shape, np.nan)
    M[valid] = values
    return pd.DataFrame(M, index=pd.Index(freq.astype(np.int64), name=fcol), columns=pd.Index(rec, name=rcol))


def probability_alive_matrix(
    model, T: float, *, max_frequency: int | None = None, recency: Sequence[float] | None = None
) -> pd.DataFrame:
    """P(alive) for a customer observed for ``T`` periods, over frequency (rows) x recency (columns).

    Parameters
    ----------
    model : RepeatPurchaseModel
        A fitted model.
    T : float
        Length of observation, in the model's time unit (opportunities for BG/BB).
    max_frequency : int, optional
        Last row (default: T).
    recency : sequence of float, optional
        Columns (default 0, 1, ..., T).

    Returns
    -------
    pandas.DataFrame
        P(alive) (0-1); impossible combinations (frequency 0 with recency > 0; for BG/BB also
        frequency > recency) are NaN.

    Examples
    --------
    >>> from crm_models.clv import BetaGeoBetaBinom
    >>> from crm_models.datasets import load_donations
    >>> m = BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors")
    >>> probability_alive_matrix(m, 6).shape
    (7, 7)
    """
    model = _repeat_model(model)
    frame, freq, rec, valid = _grid(model, T, max_frequency, recency)
    values = model.probability_alive(frame).to_numpy()
    return _to_matrix(values, freq, rec, valid, model.frequency_col, model.recency_col)


def expected_purchases_matrix(
    model, T: float, t: float, *, max_frequency: int | None = None, recency: Sequence[float] | None = None
) -> pd.DataFrame:
    """Expected purchases in the next ``t`` periods over frequency (rows) x recency (columns).

    Parameters
    ----------
    model : RepeatPurchaseModel
        A fitted model.
    T : float
        Length of observation of the customers, in the model's time unit.
    t : float
        Length of the future period, in the model's time unit.
    max_frequency : int, optional
        Last row (default: T).
    recency : sequence of float, optional
        Columns (default 0, 1, ..., T).

    Returns
    -------
    pandas.DataFrame
        Expected purchases, laid out as :func:`probability_alive_matrix`.

    Examples
    --------
    >>> from crm_models.clv import BetaGeoBetaBinom
    >>> from crm_models.datasets import load_donations
    >>> m = BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors")
    >>> float(expected_purchases_matrix(m, 6, 5).loc[6, 6.0].round(3))
    3.753
    """
    model = _repeat_model(model)
    frame, freq, rec, valid = _grid(model, T, max_frequency, recency)
    values = model.expected_purchases(frame, t).to_numpy()
    return _to_matrix(values, freq, rec, valid, model.frequency_col, model.recency_col)


# ------------------------------------------------------------------------- retention
def retention_table(
    model, data: pd.DataFrame | pd.Series, *, n_periods: int | None = None, unit: str = "count"
) -> pd.DataFrame:
    """A contract cohort's survival and retention, actual vs a fitted :class:`~crm_models.clv.ShiftedBetaGeo`.

    Parameters
    ----------
    model : ShiftedBetaGeo
        The fitted model.
    data : pandas.DataFrame or pandas.Series
        The cohort's survivors by period (as for ``ShiftedBetaGeo.fit``); periods beyond those
        fitted count as holdout.
    n_periods : int, optional
        Last period shown (default: the last in ``data``); later periods are projections.
    unit : {"count", "percent"}
        Whether survivors are counts or percentages of the starting cohort.

    Returns
    -------
    pandas.DataFrame
        Indexed by period (named like the model's ``period_col``) with ``actual_survival`` and
        ``model_survival`` (shares of the starting cohort), ``actual_retention`` and
        ``model_retention`` (S(t)/S(t-1)) and ``phase`` ("fitted" up to the model's
        ``n_periods_``, else "projected").

    Examples
    --------
    >>> from crm_models.clv import ShiftedBetaGeo
    >>> from crm_models.datasets import load_retention_cohorts
    >>> c = load_retention_cohorts()
    >>> m = ShiftedBetaGeo(period_col="year", survivors_col="regular")
    >>> m = m.fit(c[c.year <= 7], unit="percent", cohort_size=1000)
    >>> tab = retention_table(m, c[["year", "regular"]], unit="percent")
    >>> tab["phase"].value_counts().to_dict()
    {'fitted': 8, 'projected': 5}
    """
    model = _fitted(model, ShiftedBetaGeo, "a ShiftedBetaGeo")
    if isinstance(data, pd.Series):
        data = pd.DataFrame({model.period_col: data.index.to_numpy(), model.survivors_col: data.to_numpy()})
    s = model._survivors(data, unit, 100.0 if unit == "percent" else None)
    share = s / s[0]
    last = len(s) - 1
    h = last if n_periods is None else max(last, model._check_time(n_periods, "n_periods"))
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
    frequency_holdout_col: str = "frequency_holdout",
    duration_holdout_col: str = "duration_holdout",
) -> pd.DataFrame:
    """Fitted models side by side: fit statistics and, with holdout data, prediction error.

    Log-likelihood, AIC and BIC are comparable only between models fitted to the same data
    (same ``n_obs``). Lower AIC, BIC and errors are better.

    Parameters
    ----------
    models : mapping of str to model, or sequence of models
        Fitted models of :mod:`crm_models.clv` (a sequence is labelled by class name).
    calibration_holdout : pandas.DataFrame, optional
        The output of :func:`crm_models.calibration_holdout_split`; needs repeat-purchase
        models.
    frequency_col, recency_col, T_col : str
        Calibration-period columns.
    frequency_holdout_col : str
        Repeat purchases in the holdout period.
    duration_holdout_col : str
        Length of the holdout period, in the models' time unit.

    Returns
    -------
    pandas.DataFrame
        One row per model with ``n_params``, ``n_obs``, ``log_likelihood``, ``aic``
        (2k - 2 LL), ``bic`` (k ln n - 2 LL) and, with holdout data, ``holdout_mae`` and
        ``holdout_rmse`` (per-customer error of expected vs actual holdout purchases),
        ``holdout_predicted`` and ``holdout_actual`` (totals) and ``holdout_total_error_pct``.

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import BetaGeo, ModifiedBetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> table = compare_models({"BG/NBD": BetaGeo().fit(rfm), "MBG/NBD": ModifiedBetaGeo().fit(rfm)})
    >>> table["log_likelihood"].round(1).tolist()
    [-9582.4, -9582.1]
    """
    if not isinstance(models, Mapping):
        models = {type(m).__name__: m for m in models}
    if not models:
        raise ValueError("compare_models needs at least one fitted model")
    actual = None
    if calibration_holdout is not None:
        actual = _holdout_actual(calibration_holdout, frequency_holdout_col)
    rows = {}
    for name, m in models.items():
        _fitted(m)
        # a model that also chose a discrete k counts it; covariate coefficients are parameters too
        k = int(getattr(m, "n_params_", len(m.params_))) + len(getattr(m, "coefficients_", ()))
        ll = float(m.log_likelihood_)
        row = {
            "n_params": k,
            "n_obs": m.n_obs_,
            "log_likelihood": ll,
            "aic": m.aic_,
            "bic": m.bic_,
        }
        if actual is not None:
            _repeat_model(m)
            pred = _holdout_predictions(m, calibration_holdout, frequency_col, recency_col, T_col,
                                        duration_holdout_col)
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

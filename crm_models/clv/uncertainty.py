"""How sure are the numbers? Intervals on every per-customer number, and a check that they hold.

Two kinds of uncertainty, kept apart because they answer different questions:

* **Parameter uncertainty** ("is the model estimated precisely enough?"): the fitted
  parameters are estimates; redrawing them from their asymptotic distribution and recomputing a
  prediction gives an interval for the *expected* value. Every model has
  ``model.interval(quantity, ...)`` for its own predictions (P(alive), expected purchases,
  expected spend...); :func:`clv_interval` does it for CLV, which needs two models.
* **Predictive uncertainty** ("what will this customer actually do?"): even with known
  parameters a customer's future purchases are random. The continuous-time models give each
  customer's exact distribution of purchases and its interval
  (``model.predictive_interval(data, t)``); :func:`spend_predictive_interval` adds the spend of
  those purchases by simulating each customer's future.

:func:`interval_coverage` checks intervals against what happened: the share of customers whose
actual outcome fell inside, with its sampling error, next to the probability the model gave the
intervals. On data whose truth is known (:func:`crm_models.truth.predictive_coverage`) this is
the test that an 80% interval really covers 80% of the time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crm_models.base import as_generator
from crm_models.clv._forward import _PurchaseTable, _check_alpha
from crm_models.clv.base import ContinuousTimeModel
from crm_models.clv.gamma_gamma import GammaGamma
from crm_models.clv.value import customer_lifetime_value
from crm_models.units import TIME_UNITS, as_duration, check_time_unit

__all__ = ["spend_predictive_interval", "clv_interval", "interval_coverage", "pit_coverage"]

#: Most simulated futures held in memory at once (customers x draws), about 40 MB per array.
_MAX_CELLS = 5_000_000


def _check_draws(n_draws) -> int:
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive whole number, got {n_draws!r}")
    return int(n_draws)


def _continuous(model) -> ContinuousTimeModel:
    if not isinstance(model, ContinuousTimeModel):
        raise TypeError(f"transaction_model must be a fitted BetaGeo, ModifiedBetaGeo or ParetoNBD, got "
                        f"{type(model).__name__}")
    model._check_fitted()
    return model


def _spend_model(model) -> GammaGamma:
    if not isinstance(model, GammaGamma):
        raise TypeError(f"spend_model must be a fitted GammaGamma, got {type(model).__name__}")
    model._check_fitted()
    return model


def spend_predictive_interval(
    transaction_model: ContinuousTimeModel,
    spend_model: GammaGamma,
    data: pd.DataFrame,
    *,
    horizon,
    time_unit: str,
    alpha: float = 0.2,
    n_draws: int = 1000,
    random_state=0,
) -> pd.DataFrame:
    """Predictive interval of each customer's total spend over ``horizon``, by simulating futures.

    Each of ``n_draws`` futures per customer draws the number of purchases k from the
    customer's exact distribution (``transaction_model.conditional_probability_of_n_purchases``)
    and, for k > 0, the spend of those k purchases from the Gamma-Gamma story: the customer's
    spend rate nu from its posterior gamma(q + p x, gamma + x m_x) and the total of k
    purchases as gamma(k p, nu) (Fader, Hardie & Lee 2005; Fader & Hardie 2013). ``lower`` and
    ``upper`` are the alpha/2 and 1 - alpha/2 quantiles of the simulated totals. Customers are
    simulated in chunks with whole-array operations (no loop over customers), so memory stays
    bounded whatever their number.

    Parameters
    ----------
    transaction_model : BetaGeo, ModifiedBetaGeo or ParetoNBD
        A fitted continuous-time model.
    spend_model : GammaGamma
        A fitted spend model.
    data : pandas.DataFrame
        The customers' summary with the columns of both models (e.g. ``frequency``,
        ``recency``, ``T``, ``monetary_value`` from :func:`crm_models.rfm_summary`).
    horizon : tuple of (float, str)
        Length of the future period, e.g. ``(26, "W")``.
    time_unit : str
        Unit of the data's recency and T, a code of :data:`crm_models.units.TIME_UNITS`.
    alpha : float
        1 - the coverage (0.2 gives 80% intervals).
    n_draws : int
        Simulated futures per customer.
    random_state : None, int or numpy.random.Generator
        Seed or generator of the futures.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``estimate`` (expected spend: expected purchases x expected spend
        per purchase), ``lower`` and ``upper`` (money over the horizon) and ``probability`` (the
        share of simulated futures inside the interval: at least 1 - alpha, more when a customer
        is likely to spend nothing, since the interval then holds all of that point mass).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import GammaGamma, ModifiedBetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> mbg, gg = ModifiedBetaGeo().fit(rfm), GammaGamma().fit(rfm)
    >>> spend_predictive_interval(mbg, gg, rfm.head(3), horizon=(26, "W"), time_unit="W").round(1)
                 estimate  lower  upper
    customer_id
    4                22.0    0.0   68.2
    18                3.8    0.0    0.0
    21                2.5    0.0    0.0
    """
    model = _continuous(transaction_model)
    spend = _spend_model(spend_model)
    alpha = _check_alpha(alpha)
    n_draws = _check_draws(n_draws)
    t = as_duration(horizon, "horizon").days / TIME_UNITS[check_time_unit(time_unit)]
    rng = as_generator(random_state)
    params = model.params_.to_dict()
    pdata = model._prediction_data(data)
    x_spend, m = spend._validate(data)
    m = np.where(x_spend > 0, m, 0.0)
    pp, q, g = (float(spend.params_[k]) for k in ("p", "q", "gamma"))
    if (x_spend == 0).any() and q <= 1:
        raise ValueError(f"spend_model has q = {q:.3f} <= 1: the population's mean spend is infinite, so customers "
                         "without repeat purchases have no finite spend")
    shape_nu, rate_nu = q + pp * x_spend, g + x_spend * m
    expected = model._expected(params, pdata, t) * spend._spend(spend.params_, x_spend, m)

    table = _PurchaseTable(model, params, pdata, t)
    n = len(pdata.x)
    lower, upper, prob = np.zeros(n), np.zeros(n), np.zeros(n)
    chunk = max(1, _MAX_CELLS // n_draws)
    for lo in range(0, n, chunk):
        rows = np.arange(lo, min(n, lo + chunk))
        k = _draw_purchases(table, rows, n_draws, rng)
        total = np.zeros(k.shape)
        buy = k > 0
        if buy.any():
            cust = np.broadcast_to(rows[:, None], k.shape)[buy]
            nu = rng.gamma(shape_nu[cust], 1.0 / rate_nu[cust])
            total[buy] = rng.standard_gamma(pp * k[buy]) / nu
        lo_q, hi_q = np.quantile(total, [alpha / 2, 1 - alpha / 2], axis=1)
        lower[rows], upper[rows] = lo_q, hi_q
        prob[rows] = ((total >= lo_q[:, None]) & (total <= hi_q[:, None])).mean(axis=1)
    return pd.DataFrame({"estimate": expected, "lower": lower, "upper": upper, "probability": prob},
                        index=pdata.index)


def _draw_purchases(table: _PurchaseTable, rows: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """(len(rows), n_draws) numbers of purchases, each drawn from the customer's distribution:
    multinomial counts over k (one draw per customer and k), laid out row by row."""
    g = table.group[rows]
    K = table.K[g]
    kmax = int(K.max(initial=0))
    ks = np.arange(kmax + 1)
    pa = table.p_alive[rows][:, None]
    inside = ks[None, :] <= K[:, None]
    pos = table.start[g][:, None] + np.minimum(ks[None, :], K[:, None])
    alive_cdf = np.where(inside, table.cdf[pos], 1.0)
    cdf = (1 - pa) + pa * alive_cdf
    pmf = np.diff(np.concatenate([np.zeros((len(rows), 1)), cdf], axis=1), axis=1)
    pmf = np.clip(pmf, 0.0, None)
    pmf[:, -1] += np.clip(1.0 - pmf.sum(axis=1), 0.0, None)  # the tail beyond the table (< 1e-10)
    pmf /= pmf.sum(axis=1, keepdims=True)
    counts = rng.multinomial(n_draws, pmf)
    return np.repeat(np.broadcast_to(ks[None, :], counts.shape).ravel(), counts.ravel()).reshape(len(rows), n_draws)


def clv_interval(
    transaction_model: ContinuousTimeModel,
    spend_model: GammaGamma,
    data: pd.DataFrame,
    *,
    horizon,
    time_unit: str,
    discount_rate,
    margin: float = 1.0,
    step=None,
    alpha: float = 0.1,
    n_draws: int = 200,
    random_state=0,
) -> pd.DataFrame:
    """Parameter-uncertainty interval of each customer's CLV.

    :func:`~crm_models.clv.customer_lifetime_value` is evaluated at the fitted parameters
    (``estimate``) and at ``n_draws`` joint draws of both models' parameters
    (``sample_params``: log-parameters normal around the estimates with the inverse observed
    information as covariance; the two models are fitted separately, so their draws are
    independent). ``lower`` and ``upper`` are the alpha/2 and 1 - alpha/2 quantiles. The interval
    says how precisely the *expected* value is known, not how much a customer may actually spend
    (for that see :func:`spend_predictive_interval`).

    Parameters
    ----------
    transaction_model : BetaGeo, ModifiedBetaGeo or ParetoNBD
        A fitted continuous-time model.
    spend_model : GammaGamma
        A fitted spend model.
    data : pandas.DataFrame
        The customers' summary with the columns of both models.
    horizon, time_unit, discount_rate, margin, step
        As in :func:`~crm_models.clv.customer_lifetime_value`.
    alpha : float
        1 - the coverage (0.1 gives 90% intervals).
    n_draws : int
        Parameter draws.
    random_state : None, int or numpy.random.Generator
        Seed or generator of the draws.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``estimate``, ``lower``, ``upper`` (currency units, present value).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import GammaGamma, ModifiedBetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> mbg, gg = ModifiedBetaGeo().fit(rfm), GammaGamma().fit(rfm)
    >>> ci = clv_interval(mbg, gg, rfm.head(3), horizon=(12, "M"), time_unit="W", discount_rate=(0.1, "Y"),
    ...                   n_draws=50)
    >>> bool(((ci["lower"] <= ci["estimate"]) & (ci["estimate"] <= ci["upper"])).all())
    True
    """
    model = _continuous(transaction_model)
    spend = _spend_model(spend_model)
    alpha = _check_alpha(alpha)
    n_draws = _check_draws(n_draws)
    kwargs = {"horizon": horizon, "time_unit": time_unit, "discount_rate": discount_rate, "margin": margin,
              "step": step}
    estimate = customer_lifetime_value(model, spend, data, **kwargs)
    rng = as_generator(random_state)
    t_draws = model.sample_params(n_draws, rng)
    s_draws = spend.sample_params(n_draws, rng)
    t_twin, s_twin = _twin(model), _twin(spend)
    values = np.empty((n_draws, len(data)))
    for i in range(n_draws):  # a loop over parameter draws; each evaluates every customer at once
        t_twin.params_ = pd.Series(t_draws.iloc[i].to_numpy(), index=model.params_.index, name="estimate")
        s_twin.params_ = pd.Series(s_draws.iloc[i].to_numpy(), index=spend.params_.index, name="estimate")
        values[i] = customer_lifetime_value(t_twin, s_twin, data, **kwargs).to_numpy()
    lower, upper = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=0)
    return pd.DataFrame({"estimate": estimate.to_numpy(), "lower": lower, "upper": upper}, index=data.index)


def _twin(model):
    twin = object.__new__(type(model))
    twin.__dict__.update(model.__dict__)
    return twin


def interval_coverage(intervals: pd.DataFrame, actual: pd.Series, *, alpha: float | None = None) -> pd.Series:
    """How often intervals held what actually happened, with the sampling error of that share.

    Parameters
    ----------
    intervals : pandas.DataFrame
        ``lower`` and ``upper`` per customer (and optionally ``probability``, the model's
        probability that the outcome falls inside, as
        ``model.predictive_interval`` gives), indexed by customer id.
    actual : pandas.Series
        The outcome per customer (same index; customers missing from ``actual`` are an error).
    alpha : float, optional
        1 - the nominal coverage, reported as ``nominal``.

    Returns
    -------
    pandas.Series
        ``n_customers``, ``covered`` (share with lower <= actual <= upper), ``stated`` (mean
        of ``probability``: the coverage the model promises; NaN without that column),
        ``std_error`` (of ``covered`` if the promise holds: sqrt(sum p_i (1 - p_i)) / n, or the
        binomial error at ``covered``), ``z`` ((covered - stated) / std_error) and ``nominal``.

    Examples
    --------
    >>> iv = pd.DataFrame({"lower": [0, 0, 1, 2], "upper": [1, 0, 3, 2], "probability": [0.9, 0.8, 0.85, 0.8]})
    >>> interval_coverage(iv, pd.Series([1, 0, 4, 2]), alpha=0.2).round(3).to_dict()
    {'n_customers': 4.0, 'covered': 0.75, 'stated': 0.838, 'std_error': 0.183, 'z': -0.477, 'nominal': 0.8}
    """
    if not isinstance(intervals, pd.DataFrame) or not {"lower", "upper"} <= set(intervals.columns):
        raise ValueError("intervals must be a DataFrame with columns 'lower' and 'upper'")
    if not isinstance(actual, pd.Series):
        raise ValueError("actual must be a pandas Series indexed like intervals")
    missing = intervals.index.difference(actual.index)
    if len(missing):
        raise ValueError(f"actual lacks {len(missing)} customer(s) of intervals, e.g. {list(missing[:3])}")
    y = pd.to_numeric(actual.reindex(intervals.index), errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise ValueError("actual must hold a finite number for every customer")
    inside = (intervals["lower"].to_numpy() <= y) & (y <= intervals["upper"].to_numpy())
    n = len(y)
    covered = float(inside.mean()) if n else float("nan")
    if "probability" in intervals:
        prob = intervals["probability"].to_numpy(dtype=float)
        stated = float(prob.mean())
        se = math.sqrt(float((prob * (1 - prob)).sum())) / n
    else:
        stated = float("nan")
        se = math.sqrt(covered * (1 - covered) / n) if n else float("nan")
    z = (covered - stated) / se if se > 0 and np.isfinite(stated) else float("nan")
    return pd.Series({"n_customers": float(n), "covered": covered, "stated": stated, "std_error": se, "z": z,
                      "nominal": 1 - _check_alpha(alpha) if alpha is not None else float("nan")},
                     name="coverage")


def pit_coverage(pit: pd.Series, alpha: float) -> pd.Series:
    """Share of randomised PIT values inside the central 1 - alpha: the coverage of an exact interval.

    Parameters
    ----------
    pit : pandas.Series
        Values in (0, 1) from ``model.probability_integral_transform``.
    alpha : float
        1 - the nominal coverage.

    Returns
    -------
    pandas.Series
        ``n_customers``, ``covered`` (share with alpha/2 < u < 1 - alpha/2), ``nominal``,
        ``std_error`` (binomial, at the nominal rate) and ``z``.

    Examples
    --------
    >>> u = pd.Series(np.linspace(0.005, 0.995, 100))
    >>> pit_coverage(u, 0.2).round(3).to_dict()
    {'n_customers': 100.0, 'covered': 0.8, 'nominal': 0.8, 'std_error': 0.04, 'z': 0.0}
    """
    alpha = _check_alpha(alpha)
    u = pd.to_numeric(pit, errors="coerce").to_numpy(dtype=float)
    n = len(u)
    covered = float(((u > alpha / 2) & (u < 1 - alpha / 2)).mean())
    se = math.sqrt(alpha * (1 - alpha) / n)
    return pd.Series({"n_customers": float(n), "covered": covered, "nominal": 1 - alpha, "std_error": se,
                      "z": (covered - (1 - alpha)) / se}, name="pit_coverage")


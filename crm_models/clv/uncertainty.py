"""How sure are the numbers? Intervals on every per-customer number, and a check that they hold.

Two kinds of uncertainty, kept apart because they answer different questions:

* **Parameter uncertainty** ("is the model estimated precisely enough?"): the fitted
  parameters are estimates; redrawing them from their asymptotic distribution and recomputing a
  prediction gives an interval for the *expected* value. Every model has
  ``model.interval(quantity, ...)`` for its own predictions (P(alive), expected purchases,
  expected spend...); :func:`clv_interval` does it for CLV, which needs two models, and
  :func:`clv_draws` keeps every draw's P(alive) and CLV, so that a decision built on them (a
  tier, a next best action) can be made again at each draw.
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
from crm_models.clv._forward import _CELLS, _PurchaseTable, _check_alpha
from crm_models.clv.base import ContinuousTimeModel
from crm_models.clv.gamma_gamma import GammaGamma
from crm_models.clv.value import customer_lifetime_value
from crm_models.units import TIME_UNITS, as_duration, check_time_unit

__all__ = ["spend_predictive_interval", "clv_interval", "clv_draws", "interval_coverage", "pit_coverage"]

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
    method: str = "exact",
    n_draws: int = 1000,
    random_state=0,
) -> pd.DataFrame:
    """Predictive interval of each customer's total spend over ``horizon``.

    The story (Fader, Hardie & Lee 2005; Fader & Hardie 2013): the customer makes k purchases,
    k drawn from their exact distribution
    (``transaction_model.conditional_probability_of_n_purchases``); each costs gamma(p, nu), so
    k purchases total gamma(k p, nu), with the customer's spend rate nu ~ gamma(q', g') its
    posterior, q' = q + p x and g' = gamma + x m_x. Integrating nu out, S / g' given k is a
    beta-prime variable, so

        P(S <= s) = P(X = 0) + sum_{k >= 1} P(X = k) I_{s / (s + g')}(k p, q').

    ``method="exact"`` (default) solves P(S <= s) = alpha/2 and 1 - alpha/2 from that
    formula: the regularised incomplete betas are tabulated once per (frequency, k) on a grid of
    2,048 points in log(s / g') and interpolated (bounds accurate to about 0.1%), with no random
    numbers. ``method="simulate"`` draws ``n_draws`` futures per customer (k from the
    distribution, nu from its posterior, the total from gamma(k p, nu)) and takes the empirical
    quantiles; customers are simulated in chunks with whole-array operations (no loop over
    customers), so memory stays bounded. ``lower`` is 0 when the customer spends nothing with
    probability alpha/2 or more.

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
    method : {"exact", "simulate"}
        From the distribution function above, or from simulated futures.
    n_draws : int
        Simulated futures per customer (``method="simulate"``).
    random_state : None, int or numpy.random.Generator
        Seed or generator of the futures (``method="simulate"``).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``: ``estimate`` (expected spend: expected purchases x expected spend
        per purchase), ``lower`` and ``upper`` (money over the horizon) and ``probability`` (the
        interval's probability, or share of simulated futures: at least 1 - alpha, more when a
        customer is likely to spend nothing, since the interval then holds all of that mass).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import GammaGamma, ModifiedBetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> mbg, gg = ModifiedBetaGeo().fit(rfm), GammaGamma().fit(rfm)
    >>> spend_predictive_interval(mbg, gg, rfm.head(3), horizon=(26, "W"), time_unit="W").round(2)
                 estimate  lower  upper  probability
    customer_id
    4               22.01    0.0  65.07         0.90
    18               3.81    0.0   0.00         0.92
    21               2.51    0.0   0.00         0.91
    """
    model = _continuous(transaction_model)
    spend = _spend_model(spend_model)
    alpha = _check_alpha(alpha)
    if method not in ("exact", "simulate"):
        raise ValueError(f"method must be 'exact' or 'simulate', got {method!r}")
    n_draws = _check_draws(n_draws)
    t = as_duration(horizon, "horizon").days / TIME_UNITS[check_time_unit(time_unit)]
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
    if method == "exact":
        lower, upper, prob = _exact_spend(table, x_spend, pp, shape_nu, rate_nu, alpha)
    else:
        lower, upper, prob = _simulated_spend(table, pp, shape_nu, rate_nu, alpha, n_draws, as_generator(random_state))
    return pd.DataFrame({"estimate": expected, "lower": lower, "upper": upper, "probability": prob},
                        index=pdata.index)


#: log(s / g') grid of the exact spend distribution: 2,048 points, spacing 0.03.
_SPEND_GRID = np.linspace(-30.0, 31.4, 2048)


def _exact_spend(table: _PurchaseTable, x_spend, pp, shape_nu, rate_nu, alpha):
    """Quantiles of P(S <= s) = P0 + sum_k P_k I_{s/(s+g')}(k p, q') per customer (see the caller)."""
    from scipy.special import betainc, betaincinv, expit, logit

    n = len(x_spend)
    z = expit(_SPEND_GRID)  # s / (s + g') on the grid
    # one table of I_z(k p, q') per distinct frequency x, for k = 1 .. the largest K of its customers;
    # evaluated only where it is neither ~0 nor ~1 (1e-12), in single precision
    xs, xinv = np.unique(x_spend, return_inverse=True)
    kcap = np.zeros(len(xs), dtype=np.int64)
    np.maximum.at(kcap, xinv, table.K[table.group])
    kcap = np.maximum(kcap, 1)
    offset = np.concatenate([[0], np.cumsum(kcap)])
    tab = np.empty((int(offset[-1]), len(z)), dtype=np.float32)
    columns = np.arange(len(z))
    for i, (x, kx) in enumerate(zip(xs, kcap)):  # a loop over distinct frequencies, not customers
        a = np.arange(1, kx + 1, dtype=float) * pp
        b = float(shape_nu[np.argmax(xinv == i)])
        with np.errstate(divide="ignore"):
            lo = np.searchsorted(_SPEND_GRID, logit(betaincinv(a, b, 1e-12)))
            hi = np.maximum(lo, np.searchsorted(_SPEND_GRID, logit(betaincinv(a, b, 1 - 1e-12))) + 1)
        hi = np.minimum(hi, len(z))
        block = (columns[None, :] >= hi[:, None]).astype(np.float32)
        length = hi - lo
        row = np.repeat(np.arange(kx), length)
        col = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length - lo, length)
        block[row, col] = betainc(a[row], b, z[col])
        tab[offset[i] : offset[i + 1]] = block
    lower, upper, prob = np.zeros(n), np.zeros(n), np.zeros(n)
    for rows in _chunks_by_K(table, _CELLS):
        pmf, ks = _mixture_pmf(table, rows)
        p0 = pmf[:, 0]
        w = pmf[:, 1:]  # P(X = k), k = 1..kmax
        kk = np.minimum(ks[1:][None, :], kcap[xinv[rows]][:, None])  # beyond a frequency's table: weight ~0
        base = offset[xinv[rows]][:, None] + kk - 1

        def cdf(j):  # P(S <= s_j) for each row at grid index j (an array)
            return p0 + (w * tab[base, j[:, None]]).sum(axis=1)

        out = {}
        for level in (alpha / 2, 1 - alpha / 2):
            a = np.zeros(len(rows), dtype=np.int64)  # cdf(a) < level <= cdf(b): bisection on the grid
            b = np.full(len(rows), len(z) - 1, dtype=np.int64)
            for _ in range(12):
                mid = (a + b) // 2
                below = cdf(mid) < level
                a = np.where(below, mid, a)
                b = np.where(below, b, mid)
            fa, fb = cdf(a), cdf(b)
            frac = np.clip((level - fa) / np.where(fb > fa, fb - fa, 1.0), 0.0, 1.0)
            log_r = _SPEND_GRID[a] + frac * (_SPEND_GRID[b] - _SPEND_GRID[a])
            out[level] = np.where(p0 >= level, 0.0, rate_nu[rows] * np.exp(log_r))
        lower[rows], upper[rows] = out[alpha / 2], out[1 - alpha / 2]
        top = np.where(upper[rows] > 0, np.maximum(p0, 1 - alpha / 2), p0)
        prob[rows] = top - np.where(lower[rows] > 0, alpha / 2, 0.0)
    return lower, upper, prob


def _chunks_by_K(table: _PurchaseTable, cells: int):
    """Customers in chunks of similar K (their purchase table's length), each chunk at most about
    ``cells`` customers x (K + 1): arrays padded to a chunk's largest K stay small."""
    K = table.K[table.group]
    order = np.argsort(K, kind="stable")
    width = K[order] + 1
    lo = 0
    while lo < len(order):
        ahead = width[lo : lo + cells]  # sorted, so a chunk's padded size is its length x its last width
        size = (np.arange(len(ahead)) + 1) * ahead
        hi = lo + max(1, int(np.searchsorted(size, cells, side="right")))
        yield order[lo:hi]
        lo = hi


def _mixture_pmf(table: _PurchaseTable, rows: np.ndarray):
    """P(X = k) per customer of ``rows`` (dead at T or not), k = 0..the rows' largest K; the tail
    beyond a customer's table (< 1e-10) goes to its last k."""
    g = table.group[rows]
    K = table.K[g]
    ks = np.arange(int(K.max(initial=0)) + 1)
    pa = table.p_alive[rows][:, None]
    inside = ks[None, :] <= K[:, None]
    pos = table.start[g][:, None] + np.minimum(ks[None, :], K[:, None])
    cdf = (1 - pa) + pa * np.where(inside, table.cdf[pos], 1.0)
    pmf = np.clip(np.diff(np.concatenate([np.zeros((len(rows), 1)), cdf], axis=1), axis=1), 0.0, None)
    pmf[np.arange(len(rows)), K] += np.clip(1.0 - pmf.sum(axis=1), 0.0, None)
    return pmf / pmf.sum(axis=1, keepdims=True), ks


def _simulated_spend(table: _PurchaseTable, pp, shape_nu, rate_nu, alpha, n_draws, rng):
    n = len(table.group)
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
    return lower, upper, prob


def _draw_purchases(table: _PurchaseTable, rows: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """(len(rows), n_draws) numbers of purchases, each drawn from the customer's distribution:
    multinomial counts over k (one draw per customer and k), laid out row by row."""
    pmf, ks = _mixture_pmf(table, rows)
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


def clv_draws(
    transaction_model: ContinuousTimeModel,
    spend_model: GammaGamma,
    data: pd.DataFrame,
    *,
    horizon,
    time_unit: str,
    discount_rate,
    margin: float = 1.0,
    step=None,
    n_draws: int = 100,
    random_state=0,
) -> pd.DataFrame:
    """Each customer's P(alive) and CLV at joint draws of both models' parameters.

    The draws are those of :func:`clv_interval` (the same ``random_state`` and ``n_draws`` give
    the same draws, so the quantiles of ``clv`` over draws are its ``lower`` and ``upper``), kept
    one by one: any decision computed from P(alive) and CLV (a value tier, a next best action)
    can be made again at every draw to see how much of it the estimation error leaves
    undecided (:func:`crm_models.customize.decision_stability`). Only the parameters vary; the
    customers' histories are held fixed.

    Parameters
    ----------
    transaction_model : BetaGeo, ModifiedBetaGeo or ParetoNBD
        A fitted continuous-time model.
    spend_model : GammaGamma
        A fitted spend model.
    data : pandas.DataFrame
        The customers' summary with the columns of both models, indexed by customer id.
    horizon, time_unit, discount_rate, margin, step
        As in :func:`~crm_models.clv.customer_lifetime_value`.
    n_draws : int
        Parameter draws.
    random_state : None, int or numpy.random.Generator
        Seed or generator of the draws.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``draw``, customer id), draws numbered from 0: ``p_alive`` (0-1) and ``clv``
        (currency units, present value).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import GammaGamma, ModifiedBetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> mbg, gg = ModifiedBetaGeo().fit(rfm), GammaGamma().fit(rfm)
    >>> draws = clv_draws(mbg, gg, rfm.head(3), horizon=(12, "M"), time_unit="W", discount_rate=(0.1, "Y"),
    ...                   n_draws=50)
    >>> draws.shape, list(draws.index.names)
    ((150, 2), ['draw', 'customer_id'])
    >>> ci = clv_interval(mbg, gg, rfm.head(3), horizon=(12, "M"), time_unit="W", discount_rate=(0.1, "Y"),
    ...                   n_draws=50)
    >>> bool(np.allclose(draws["clv"].groupby(level="customer_id").quantile(0.05), ci["lower"]))
    True
    """
    model = _continuous(transaction_model)
    spend = _spend_model(spend_model)
    n_draws = _check_draws(n_draws)
    kwargs = {"horizon": horizon, "time_unit": time_unit, "discount_rate": discount_rate, "margin": margin,
              "step": step}
    customer_lifetime_value(model, spend, data, **kwargs)  # validates the data and the units before the loop
    rng = as_generator(random_state)
    t_draws = model.sample_params(n_draws, rng)
    s_draws = spend.sample_params(n_draws, rng)
    t_twin, s_twin = _twin(model), _twin(spend)
    clv = np.empty((n_draws, len(data)))
    alive = np.empty((n_draws, len(data)))
    for i in range(n_draws):  # a loop over parameter draws; each evaluates every customer at once
        t_twin.params_ = pd.Series(t_draws.iloc[i].to_numpy(), index=model.params_.index, name="estimate")
        s_twin.params_ = pd.Series(s_draws.iloc[i].to_numpy(), index=spend.params_.index, name="estimate")
        clv[i] = customer_lifetime_value(t_twin, s_twin, data, **kwargs).to_numpy()
        alive[i] = t_twin.probability_alive(data).to_numpy()
    index = pd.MultiIndex.from_product([range(n_draws), data.index],
                                       names=["draw", data.index.name or "customer_id"])
    return pd.DataFrame({"p_alive": alive.ravel(), "clv": clv.ravel()}, index=index)


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


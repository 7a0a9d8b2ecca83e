"""Simulate customers from the models' own stories, with known parameters.

Summaries (one row per customer, drawn directly, no transaction log built):
:func:`simulate_beta_geo`, :func:`simulate_modified_beta_geo`, :func:`simulate_pareto_nbd`,
:func:`simulate_gamma_gompertz_nbd` (``frequency``, ``recency``, ``T``),
:func:`simulate_beta_geo_cnbd` (the same plus ``log_interpurchase``: regular buyers),
:func:`simulate_gamma_gamma` (mean spend),
:func:`simulate_beta_geo_beta_binom` (discrete opportunities) and
:func:`simulate_shifted_beta_geo` (a contract cohort's survivors), :func:`simulate_contracts` (one row per contract
customer of several cohorts, sBG or beta-discrete-Weibull). Fitting a model to its
simulator's output recovers ``params`` within sampling error. Times are in whatever unit
``params`` are in (``alpha`` and ``beta`` share the unit of ``T``); pass ``time_grid`` (e.g. 1
for whole days) to round recency up to the grid the way dated transactions would be.

Dated purchase logs: :func:`simulate_beta_geo_log` and :func:`simulate_beta_geo_cnbd_log`, for lessons that need the raw log (what
bucketing purchases into calendar weeks does, tracking plots on data whose truth is known).
Its purchases, and those of the simulated company (:mod:`crm_models.datasets`), come from one
definition of the BG/NBD purchase process, :func:`beta_geo_purchase_times`.

Every simulator takes ``random_state`` (default 0: the same call gives the same customers).
With ``latent=True`` the summaries also hold the true traits and ``alive``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from crm_models._validation import parse_timestamp
from crm_models.base import as_generator
from crm_models.units import TIME_UNITS, check_time_unit

__all__ = [
    "simulate_beta_geo",
    "simulate_modified_beta_geo",
    "simulate_pareto_nbd",
    "simulate_gamma_gamma",
    "simulate_beta_geo_beta_binom",
    "simulate_shifted_beta_geo",
    "simulate_beta_geo_log",
    "simulate_beta_geo_cnbd",
    "simulate_beta_geo_cnbd_log",
    "simulate_gamma_gompertz_nbd",
    "simulate_contracts",
    "beta_geo_purchase_times",
    "PurchaseTimes",
]


def _check_inputs(n, params: Mapping[str, float], names: tuple[str, ...], random_state):
    """Validate a simulator's ``n`` and ``params`` (all positive, named as in the paper) and make
    its random generator: returns ``(n, [param values in names order], rng)``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer, float, np.floating)) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive whole number, got {n!r}")
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping with keys {list(names)}, got {params!r}")
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; expected {list(names)}")
    try:
        vals = [float(params[k]) for k in names]
    except (TypeError, ValueError):
        raise ValueError(f"params must be positive numbers, got {dict(params)}") from None
    if not all(np.isfinite(v) and v > 0 for v in vals):
        raise ValueError(f"params must be positive numbers, got {dict(params)}")
    return int(n), vals, as_generator(random_state)


def _whole_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)) or int(value) != value \
            or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _setup(n, params, names, T, random_state):
    n, vals, rng = _check_inputs(n, params, names, random_state)
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("T must be positive (one value, or one per customer)")
    return n, vals, T, rng


def _order_stat(rng, k, N, window):
    """Time of the k-th of N uniform events on (0, window] (0 where k == 0)."""
    kk = np.maximum(k, 1)
    frac = rng.beta(kk, np.maximum(N - kk + 1, 1))
    return np.where(k > 0, window * frac, 0.0)


def _finish(x, rec, T, time_grid, extra):
    if time_grid is not None:
        rec = np.where(x > 0, np.minimum(np.ceil(rec / time_grid) * time_grid, T), 0.0)
    df = pd.DataFrame({"frequency": x.astype(np.int64), "recency": rec, "T": T, **extra})
    df.index.name = "customer_id"
    return df


def _simulate_bg_family(n, params, T, random_state, time_grid, latent, shift):
    n, (r, alpha, a, b), T, rng = _setup(n, params, ("r", "alpha", "a", "b"), T, random_state)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    K = rng.geometric(p)  # death comes at the K-th coin flip
    N = rng.poisson(lam * T)  # purchases the Poisson process would make in (0, T]
    cap = K - shift  # BG/NBD: flips after each repeat purchase; MBG/NBD: also one at time 0
    x = np.minimum(N, cap)
    rec = _order_stat(rng, x, N, T)
    extra = {"lambda": lam, "p": p, "alive": N < cap} if latent else {}
    return _finish(x, rec, T, time_grid, extra)


def simulate_beta_geo(
    n: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    random_state=0,
    *,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the BG/NBD story (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``r``, ``alpha``, ``a``, ``b`` (``alpha`` in the unit of ``T``).
    T : float or array_like
        Observation length per customer since the first purchase (one value or one per
        customer), in the unit of ``alpha``.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    time_grid : float, optional
        Round recency up to multiples of this (e.g. 1 for whole days).
    latent : bool
        Add the true ``lambda``, ``p`` and ``alive`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (0..n-1) with ``frequency``, ``recency``, ``T``.

    Examples
    --------
    >>> sim = simulate_beta_geo(1000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
    >>> list(sim.columns), bool((sim["recency"] <= sim["T"]).all())
    (['frequency', 'recency', 'T'], True)
    """
    return _simulate_bg_family(n, params, T, random_state, time_grid, latent, shift=0)


def simulate_modified_beta_geo(
    n: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    random_state=0,
    *,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the MBG/NBD story (Batislam et al. 2007): BG/NBD plus a drop-out chance at the first purchase.

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``r``, ``alpha``, ``a``, ``b`` (``alpha`` in the unit of ``T``).
    T : float or array_like
        Observation length per customer since the first purchase, in the unit of ``alpha``.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    time_grid : float, optional
        Round recency up to multiples of this.
    latent : bool
        Add the true ``lambda``, ``p`` and ``alive`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` with ``frequency``, ``recency``, ``T``.

    Examples
    --------
    >>> sim = simulate_modified_beta_geo(1000, {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}, T=39.0, latent=True)
    >>> bool((~sim["alive"] | (sim["frequency"] >= 0)).all())
    True
    """
    return _simulate_bg_family(n, params, T, random_state, time_grid, latent, shift=1)


def simulate_pareto_nbd(
    n: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    random_state=0,
    *,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the Pareto/NBD story (Schmittlein, Morrison & Colombo 1987).

    Lifetimes are exponential(mu) with mu ~ gamma(s, beta); purchases while alive are
    Poisson(lambda) with lambda ~ gamma(r, alpha).

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha`` and ``beta`` in the unit of ``T``).
    T : float or array_like
        Observation length per customer since the first purchase.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    time_grid : float, optional
        Round recency up to multiples of this.
    latent : bool
        Add the true ``lambda``, ``mu`` and ``alive`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` with ``frequency``, ``recency``, ``T``.

    Examples
    --------
    >>> sim = simulate_pareto_nbd(500, {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}, T=39.0, time_grid=1)
    >>> bool((sim["recency"] == sim["recency"].round()).all())
    True
    """
    n, (r, alpha, s, beta), T, rng = _setup(n, params, ("r", "alpha", "s", "beta"), T, random_state)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    life = rng.exponential(1.0 / mu)
    window = np.minimum(life, T)
    x = rng.poisson(lam * window)
    rec = _order_stat(rng, x, x, window)
    extra = {"lambda": lam, "mu": mu, "alive": life > T} if latent else {}
    return _finish(x, rec, T, time_grid, extra)


def simulate_gamma_gamma(frequency, params: Mapping[str, float], random_state=0) -> pd.Series:
    """Mean spend per repeat purchase from the Gamma-Gamma story (Fader & Hardie 2013).

    Each customer's rate nu ~ gamma(q, gamma); the mean of x transaction values is
    gamma(p x, nu x). Customers with no repeat purchase get 0, as in
    :func:`crm_models.rfm_summary`.

    Parameters
    ----------
    frequency : array_like or pandas.Series
        Repeat-purchase counts (whole numbers >= 0).
    params : mapping
        ``p``, ``q``, ``gamma`` (``gamma`` in currency units).
    random_state : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    pandas.Series
        ``monetary_value`` (currency units), indexed like ``frequency`` when it is a Series.

    Examples
    --------
    >>> simulate_gamma_gamma([0, 3], {"p": 6.0, "q": 4.0, "gamma": 15.0}).round(2).tolist()
    [0.0, 23.57]
    """
    index = frequency.index if isinstance(frequency, pd.Series) else None
    x = np.asarray(frequency, dtype=float)
    if x.ndim != 1 or np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must hold whole numbers >= 0")
    n, (p, q, g), _, rng = _setup(len(x), params, ("p", "q", "gamma"), 1.0, random_state)
    nu = rng.gamma(q, 1.0 / g, size=n)
    xs = np.maximum(x, 1)
    mean = rng.gamma(p * xs, 1.0 / (nu * xs))
    return pd.Series(np.where(x > 0, mean, 0.0), index=index, name="monetary_value")


def simulate_beta_geo_beta_binom(
    n: int,
    params: Mapping[str, float],
    n_opportunities: int,
    random_state=0,
    *,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the BG/BB story (Fader, Hardie & Shang 2010), one row per customer.

    Each customer draws p ~ Beta(alpha, beta) and theta ~ Beta(gamma, delta); at the start of
    each of the ``n_opportunities`` opportunities a living customer becomes inactive with
    probability theta, otherwise transacts with probability p.

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``alpha``, ``beta``, ``gamma``, ``delta``.
    n_opportunities : int
        Opportunities after the first transaction.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    latent : bool
        Add the true ``p``, ``theta`` and ``alive`` (active at the last opportunity).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (0..n-1) with ``frequency``, ``recency`` (opportunity of
        the last repeat transaction, 0 if none) and ``n_opportunities``.

    Examples
    --------
    >>> sim = simulate_beta_geo_beta_binom(1000, {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}, 6)
    >>> bool((sim["frequency"] <= sim["recency"]).all()), int(sim["n_opportunities"].max())
    (True, 6)
    """
    n, (alpha, beta, gamma, delta), rng = _check_inputs(
        n, params, ("alpha", "beta", "gamma", "delta"), random_state
    )
    n_opp = _whole_count(n_opportunities, "n_opportunities")
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(gamma, delta, n)
    death = rng.geometric(theta)  # first opportunity at which the customer is inactive (>= 1)
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n, dtype=np.int64)
    for t in range(1, n_opp + 1):
        buys = (t < death) & (rng.random(n) < p)
        frequency += buys
        recency[buys] = t
    out = pd.DataFrame(
        {"frequency": frequency, "recency": recency, "n_opportunities": np.full(n, n_opp, dtype=np.int64)},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    if latent:
        out["p"], out["theta"], out["alive"] = p, theta, death > n_opp
    return out


def simulate_shifted_beta_geo(n: int, params: Mapping[str, float], n_periods: int, random_state=0) -> pd.DataFrame:
    """One contract cohort of ``n`` customers from the sBG story (Fader & Hardie 2007).

    Each customer draws theta ~ Beta(alpha, beta) and churns in period T ~ Geometric(theta)
    (T >= 1).

    Parameters
    ----------
    n : int
        Customers in the cohort.
    params : mapping
        ``alpha``, ``beta``.
    n_periods : int
        Periods after period 0.
    random_state : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        ``period`` (0..n_periods) and ``survivors`` (customers with T > period), ready for
        ``ShiftedBetaGeo().fit``.

    Examples
    --------
    >>> simulate_shifted_beta_geo(1000, {"alpha": 0.7, "beta": 1.2}, 3)["survivors"].tolist()
    [1000, 664, 512, 417]
    """
    n, (alpha, beta), rng = _check_inputs(n, params, ("alpha", "beta"), random_state)
    n_periods = _whole_count(n_periods, "n_periods")
    theta = rng.beta(alpha, beta, n)
    lifetime = rng.geometric(theta)
    periods = np.arange(n_periods + 1)
    survivors = (lifetime[None, :] > periods[:, None]).sum(axis=1)
    return pd.DataFrame({"period": periods, "survivors": survivors.astype(np.int64)})


def simulate_beta_geo_log(
    n: int,
    params: Mapping[str, float],
    start,
    acquisition_end,
    observation_period_end,
    random_state=0,
    *,
    time_unit: str = "D",
) -> pd.DataFrame:
    """A dated purchase log of ``n`` customers following BG/NBD (Fader, Hardie & Lee 2005).

    Customer i makes a first purchase at a time uniform between ``start`` and
    ``acquisition_end``; then repeat purchases follow a Poisson process with rate
    lambda_i ~ gamma(r, alpha) per ``time_unit``, and after each repeat purchase the customer
    drops out with probability p_i ~ beta(a, b). Purchases are recorded at their exact time of
    day until ``observation_period_end``.

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``r``, ``alpha``, ``a``, ``b``; ``alpha`` in ``time_unit``.
    start, acquisition_end, observation_period_end : str or datetime-like
        First possible first purchase, last possible first purchase, end of the log.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    time_unit : str
        Unit of the rate parameters, a code of :data:`crm_models.units.TIME_UNITS`.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (0..n-1) and ``timestamp``, sorted by customer and time, one row per
        purchase (first purchases included).

    Examples
    --------
    >>> log = simulate_beta_geo_log(200, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5},
    ...                             "2020-01-01", "2020-03-31", "2020-12-31", time_unit="W")
    >>> list(log.columns), log["customer_id"].nunique()
    (['customer_id', 'timestamp'], 200)
    """
    n, (r, alpha, a, b), rng = _check_inputs(n, params, ("r", "alpha", "a", "b"), random_state)
    unit = TIME_UNITS[check_time_unit(time_unit)]
    t0 = parse_timestamp(start, "start")
    acq = parse_timestamp(acquisition_end, "acquisition_end")
    end = parse_timestamp(observation_period_end, "observation_period_end")
    if not (t0 <= acq <= end):
        raise ValueError(
            f"need start <= acquisition_end <= observation_period_end, got {t0.date()}, {acq.date()}, {end.date()}"
        )
    day = pd.Timedelta(days=1)
    first = rng.uniform(0.0, (acq - t0) / day, n)  # days after start
    window = ((end - t0) / day - first) / unit  # observation window after the first purchase, in units
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    draws = beta_geo_purchase_times(lam, p, window, rng)
    ids = np.concatenate([np.arange(n), draws.owner])
    days = np.concatenate([first, first[draws.owner] + draws.time * unit])
    log = pd.DataFrame({"customer_id": ids, "timestamp": t0 + pd.to_timedelta(days, unit="D")})
    return log.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# the BG/NBD purchase process in continuous time, shared by every dated simulation


class PurchaseTimes(NamedTuple):
    """Repeat purchases of a BG/NBD population in a window after each first purchase.

    Attributes
    ----------
    owner : numpy.ndarray of int64
        For each repeat purchase, the position (0 .. n-1) of the customer who made it.
    time : numpy.ndarray of float
        For each repeat purchase, its time after the customer's first purchase, in the unit of
        the purchase rate; sorted by ``owner``, then by ``time``.
    dropout_time : numpy.ndarray of float
        Per customer: the time of the repeat purchase right after which they dropped out, or
        ``inf`` for a customer still active at the end of their window.

    Examples
    --------
    >>> draws = beta_geo_purchase_times([1.0], [0.5], [4.0], np.random.default_rng(1))
    >>> isinstance(draws, PurchaseTimes), bool(draws.dropped[0]) == bool(np.isfinite(draws.dropout_time[0]))
    (True, True)
    """

    owner: np.ndarray
    time: np.ndarray
    dropout_time: np.ndarray

    @property
    def dropped(self) -> np.ndarray:
        """Per customer: whether they dropped out within their window (bool)."""
        return np.isfinite(self.dropout_time)


def beta_geo_purchase_times(lam, p, window, rng: np.random.Generator) -> PurchaseTimes:
    """Draw the BG/NBD repeat purchases of each customer within a window after the first purchase.

    Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
    Pareto/NBD model", Marketing Science 24(2), section 2: while active, a customer buys at the
    times of a Poisson process with rate ``lambda``; after each repeat purchase they drop out for
    good with probability ``p``, so the number of repeat purchases before dropping out is
    geometric, ``J ~ Geometric(p)`` on 1, 2, ...
    
    Given ``N`` Poisson events in a window of length ``w``, their times are ``N`` sorted uniform
    draws on ``[0, w)``. The process in the window is therefore drawn in three vectorised steps:
    ``N ~ Poisson(lambda w)``, ``J ~ Geometric(p)``, ``N`` uniform times; the customer keeps the
    first ``min(N, J)`` of them and has dropped out (right after the last one kept) when
    ``J <= N``. Every dated BG/NBD simulation of the package (the transaction-log simulator and the
    simulated company) draws its purchases here, so both follow one definition of the story.

    The random draws, in this order: ``rng.poisson(lam * window)`` (purchases the Poisson
    process would make in the window), ``rng.geometric(p)`` (the repeat purchase after which the
    customer drops out), then one ``rng.random`` per Poisson event (its time as a fraction of
    the window). Callers that draw these themselves in the same order get identical purchases.

    Parameters
    ----------
    lam : array_like of float
        Purchase rate of each customer while active, per unit of time (> 0).
    p : array_like of float
        Probability of each customer dropping out after each repeat purchase (in (0, 1]).
    window : array_like of float
        Length of each customer's window after their first purchase, in the unit of ``lam``
        (>= 0), e.g. from the first purchase to the end of observation.
    rng : numpy.random.Generator
        The source of every draw.

    Returns
    -------
    PurchaseTimes
        ``owner`` and ``time`` of every repeat purchase (first purchases are not included; they
        are at time 0), and each customer's ``dropout_time`` (``inf`` if still active).

    Examples
    --------
    Two customers buying about every other week for 10 weeks; the first always leaves after
    a repeat purchase (p = 1), the second practically never:

    >>> rng = np.random.default_rng(0)
    >>> draws = beta_geo_purchase_times([0.5, 0.5], [1.0, 1e-9], [10.0, 10.0], rng)
    >>> np.bincount(draws.owner).tolist(), draws.dropped.tolist()
    ([1, 7], [True, False])
    >>> bool(draws.dropout_time[0] == draws.time[0]), bool((draws.time < 10.0).all())
    (True, True)
    """
    lam, p, window = (np.asarray(x, dtype=float) for x in (lam, p, window))
    if not lam.ndim == 1 or lam.shape != p.shape or lam.shape != window.shape:
        raise ValueError(f"lam, p and window must be 1-d arrays of one length, got shapes "
                         f"{lam.shape}, {p.shape}, {window.shape}")
    n = lam.size
    n_poisson = rng.poisson(lam * window)  # repeat purchases in the window if the customer never left
    n_before_dropout = rng.geometric(p)  # dropout right after this repeat purchase
    n_kept = np.minimum(n_poisson, n_before_dropout)
    owner = np.repeat(np.arange(n), n_poisson)
    time = rng.random(owner.size) * window[owner]
    order = np.lexsort((time, owner))
    owner, time = owner[order], time[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(n_poisson) - n_poisson, n_poisson)
    keep = rank < n_kept[owner]
    dropped = n_before_dropout <= n_poisson
    last = keep & (rank == n_kept[owner] - 1) & dropped[owner]
    dropout_time = np.full(n, np.inf)
    dropout_time[owner[last]] = time[last]
    return PurchaseTimes(owner[keep], time[keep], dropout_time)


# ----------------------------------------------------------------------------------------------
# regular buyers: (M)BG/CNBD-k


def _cnbd_purchase_times(lam, p, window, k: int, m: int, rng: np.random.Generator):
    """Repeat purchases of (M)BG/CNBD-k customers in a window after the first purchase.

    Every k-th event of a Poisson process with rate ``lam`` is a purchase (Erlang-k
    inter-purchase times); the customer drops out right after the J-th repeat purchase,
    J ~ Geometric(p) on 1, 2, ... (BG, ``m = 0``), or one flip earlier, also possibly at the
    first purchase (MBG, ``m = 1``). Returns ``owner``, ``time`` (sorted by owner, then time)
    and per customer whether they dropped out within the window.
    """
    n = lam.size
    n_events = rng.poisson(lam * window)
    n_before_dropout = rng.geometric(p) - m  # repeat purchases made before leaving
    owner = np.repeat(np.arange(n), n_events)
    time = rng.random(owner.size) * window[owner]
    order = np.lexsort((time, owner))
    owner, time = owner[order], time[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(n_events) - n_events, n_events) + 1
    purchase = (rank % k == 0) & (rank // k <= n_before_dropout[owner])
    dropped = n_before_dropout <= n_events // k
    return owner[purchase], time[purchase], dropped


def _cnbd_summary(owner, time, window, n, time_grid=None):
    if time_grid is not None:  # purchases recorded on a grid (e.g. days): round up, one purchase per slot
        time = np.minimum(np.ceil(time / time_grid) * time_grid, window[owner])
        keep = np.concatenate([[True], (owner[1:] != owner[:-1]) | (time[1:] != time[:-1])]) & (time > 0)
        owner, time = owner[keep], time[keep]
    x = np.bincount(owner, minlength=n)
    t_x = np.zeros(n)
    t_x[owner] = time  # sorted by time within owner: the last write is the last purchase
    prev = np.concatenate([[0.0], time[:-1]])
    first = np.concatenate([[True], owner[1:] != owner[:-1]])
    gaps = np.where(first, time, time - prev)
    litt = np.bincount(owner, weights=np.log(gaps), minlength=n)
    return x, t_x, litt


def _check_k_param(params) -> int:
    k = params.get("k") if isinstance(params, Mapping) else None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer, float, np.floating)) or int(k) != k or k < 1:
        raise ValueError(f"params['k'] must be a whole number >= 1 (the Erlang order), got {k!r}")
    return int(k)


def simulate_beta_geo_cnbd(
    n: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    random_state=0,
    *,
    modified: bool = False,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Regular buyers from the (M)BG/CNBD-k story (Platzer & Reutterer 2016).

    While alive a customer's inter-purchase times are Erlang-k with rate lambda (every k-th
    event of a Poisson process with rate lambda is a purchase), lambda ~ gamma(r, alpha); after
    each repeat purchase (and, with ``modified=True``, also right after the first purchase) the
    customer drops out with probability p ~ beta(a, b). Times are continuous.

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``k`` (whole number >= 1), ``r``, ``alpha``, ``a``, ``b`` (``alpha`` in the unit of ``T``).
    T : float or array_like
        Observation length per customer since the first purchase.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    modified : bool
        MBG/CNBD-k (drop-out possible at the first purchase) instead of BG/CNBD-k.
    time_grid : float, optional
        Record purchases on a grid (e.g. 1 for whole days when ``T`` is in days): each time is
        rounded up to the grid and purchases in the same slot (or in the first purchase's) count
        once, as :func:`crm_models.rfm_summary` de-duplicates a dated log.
    latent : bool
        Add the true ``lambda``, ``p`` and ``alive`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` with ``frequency``, ``recency``, ``T`` and
        ``log_interpurchase`` (the sum of the logs of the inter-purchase times).

    Examples
    --------
    >>> sim = simulate_beta_geo_cnbd(1000, {"k": 2, "r": 0.9, "alpha": 5.0, "a": 0.8, "b": 2.5}, T=52.0)
    >>> list(sim.columns)
    ['frequency', 'recency', 'T', 'log_interpurchase']
    """
    k = _check_k_param(params)
    n, (r, alpha, a, b), T, rng = _setup(n, params, ("r", "alpha", "a", "b"), T, random_state)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    owner, time, dropped = _cnbd_purchase_times(lam, p, T, k, int(bool(modified)), rng)
    x, t_x, litt = _cnbd_summary(owner, time, T, n, time_grid)
    extra = {"log_interpurchase": litt}
    if latent:
        extra.update({"lambda": lam, "p": p, "alive": ~dropped})
    return _finish(x, t_x, T, None, extra)


def simulate_beta_geo_cnbd_log(
    n: int,
    params: Mapping[str, float],
    start,
    acquisition_end,
    observation_period_end,
    random_state=0,
    *,
    time_unit: str = "W",
    modified: bool = False,
) -> pd.DataFrame:
    """A dated purchase log of ``n`` regular buyers following (M)BG/CNBD-k.

    First purchases fall uniformly between ``start`` and ``acquisition_end``; then the story
    of :func:`simulate_beta_geo_cnbd` runs until ``observation_period_end``, with the rate
    parameters in ``time_unit``.

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``k``, ``r``, ``alpha``, ``a``, ``b``; ``alpha`` in ``time_unit``.
    start, acquisition_end, observation_period_end : str or datetime-like
        First possible first purchase, last possible first purchase, end of the log.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    time_unit : str
        Unit of the rate parameters, a code of :data:`crm_models.units.TIME_UNITS`.
    modified : bool
        MBG/CNBD-k instead of BG/CNBD-k.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` and ``timestamp``, sorted by customer and time, one row per purchase
        (first purchases included).

    Examples
    --------
    >>> log = simulate_beta_geo_cnbd_log(100, {"k": 3, "r": 2.0, "alpha": 4.0, "a": 0.5, "b": 5.0},
    ...                                  "2024-01-01", "2024-03-31", "2024-12-31")
    >>> list(log.columns), log["customer_id"].nunique()
    (['customer_id', 'timestamp'], 100)
    """
    k = _check_k_param(params)
    n, (r, alpha, a, b), rng = _check_inputs(n, params, ("r", "alpha", "a", "b"), random_state)
    unit = TIME_UNITS[check_time_unit(time_unit)]
    t0 = parse_timestamp(start, "start")
    acq = parse_timestamp(acquisition_end, "acquisition_end")
    end = parse_timestamp(observation_period_end, "observation_period_end")
    if not (t0 <= acq <= end):
        raise ValueError(
            f"need start <= acquisition_end <= observation_period_end, got {t0.date()}, {acq.date()}, {end.date()}"
        )
    day = pd.Timedelta(days=1)
    first = rng.uniform(0.0, (acq - t0) / day, n)
    window = ((end - t0) / day - first) / unit
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    owner, time, _ = _cnbd_purchase_times(lam, p, window, k, int(bool(modified)), rng)
    ids = np.concatenate([np.arange(n), owner])
    days = np.concatenate([first, first[owner] + time * unit])
    log = pd.DataFrame({"customer_id": ids, "timestamp": t0 + pd.to_timedelta(days, unit="D")})
    return log.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# GGom/NBD: gamma-Gompertz lifetimes


def simulate_gamma_gompertz_nbd(
    n: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    random_state=0,
    *,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the GGom/NBD story (Bemmaor & Glady 2012).

    Purchases follow a Poisson process with rate lambda ~ gamma(r, alpha) while alive; the
    lifetime is Gompertz, P(tau > t | eta) = exp(-eta (e^(b t) - 1)), eta ~ gamma(s, beta).

    Parameters
    ----------
    n : int
        Number of customers.
    params : mapping
        ``r``, ``alpha``, ``b``, ``s``, ``beta`` (``alpha`` in the unit of ``T``, ``b`` per unit).
    T : float or array_like
        Observation length per customer since the first purchase.
    random_state : None, int or numpy.random.Generator
        Seed or generator.
    time_grid : float, optional
        Round recency up to multiples of this (e.g. 1 for whole days).
    latent : bool
        Add the true ``lambda``, ``lifetime`` and ``alive`` columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` with ``frequency``, ``recency``, ``T``.

    Examples
    --------
    >>> sim = simulate_gamma_gompertz_nbd(1000, {"r": 0.5, "alpha": 5.0, "b": 0.1, "s": 1.0, "beta": 2.0}, T=52.0)
    >>> list(sim.columns), bool((sim["recency"] <= sim["T"]).all())
    (['frequency', 'recency', 'T'], True)
    """
    n, (r, alpha, b, s, beta), T, rng = _setup(n, params, ("r", "alpha", "b", "s", "beta"), T, random_state)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    eta = rng.gamma(s, 1.0 / beta, size=n)
    # Gompertz: eta (e^(b tau) - 1) ~ Exponential(1)
    lifetime = np.log1p(rng.exponential(size=n) / eta) / b
    window = np.minimum(lifetime, T)
    x = rng.poisson(lam * window)
    rec = _order_stat(rng, x, x, window)
    extra = {"lambda": lam, "lifetime": lifetime, "alive": lifetime > T} if latent else {}
    return _finish(x, rec, T, time_grid, extra)


# ----------------------------------------------------------------------------------------------
# contracts: per-customer rows over several cohorts (sBG, BdW)


def simulate_contracts(n, params, n_periods, random_state=0) -> pd.DataFrame:
    """Contract customers of one or several cohorts from the sBG or beta-discrete-Weibull story.

    Each customer draws theta ~ Beta(alpha, beta) and churns in period T, the first t with
    (1 - theta)^(t^c) < U for a uniform U (a discrete Weibull; c = 1 or no ``c`` is the sBG's
    geometric T). A cohort observed for ``n_periods`` periods shows tenure min(T, n_periods) and
    churned = T <= n_periods.

    Parameters
    ----------
    n : int or mapping of cohort to int
        Customers (per cohort).
    params : mapping
        ``alpha``, ``beta`` and optionally ``c`` for every cohort, or a mapping of cohort to
        such a mapping.
    n_periods : int or mapping of cohort to int
        Periods each cohort has been observed (older cohorts longer).
    random_state : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``cohort`` (``"all"`` for a single unnamed cohort), ``tenure``
        (int) and ``churned`` (bool), ready for ``ShiftedBetaGeoContracts().fit`` or
        ``BetaDiscreteWeibull().fit``.

    Examples
    --------
    >>> sim = simulate_contracts({"2023": 3, "2024": 2}, {"alpha": 0.7, "beta": 1.2}, {"2023": 2, "2024": 1})
    >>> sim.to_dict("list")
    {'cohort': ['2023', '2023', '2023', '2024', '2024'], 'tenure': [1, 2, 1, 1, 1], 'churned': [True, False, True, False, True]}
    """
    rng = as_generator(random_state)
    if isinstance(n, Mapping):
        cohorts = list(n)
    elif isinstance(n_periods, Mapping):
        cohorts = list(n_periods)
    elif isinstance(params, Mapping) and params and all(isinstance(v, Mapping) for v in params.values()):
        cohorts = list(params)
    else:
        cohorts = ["all"]
    frames = []
    for cohort in cohorts:
        n_c = n[cohort] if isinstance(n, Mapping) else n
        p_c = params[cohort] if isinstance(params, Mapping) and cohort in params and isinstance(
            params[cohort], Mapping) else params
        T_c = n_periods[cohort] if isinstance(n_periods, Mapping) else n_periods
        names = ("alpha", "beta", "c") if isinstance(p_c, Mapping) and "c" in p_c else ("alpha", "beta")
        n_c, vals, _ = _check_inputs(n_c, p_c, names, 0)
        T_c = _whole_count(T_c, "n_periods")
        a, b = vals[0], vals[1]
        c = vals[2] if len(vals) == 3 else 1.0
        theta = rng.beta(a, b, n_c)
        u = rng.random(n_c)
        with np.errstate(divide="ignore"):
            # smallest t >= 1 with t^c > log(U) / log(1 - theta)
            x = np.log(u) / np.log1p(-np.minimum(theta, 1 - 1e-16))
            lifetime = np.maximum(np.ceil(np.power(x, 1.0 / c) - 1e-12), 1.0)
        frames.append(pd.DataFrame({
            "cohort": str(cohort),
            "tenure": np.minimum(lifetime, T_c).astype(np.int64),
            "churned": lifetime <= T_c,
        }))
    return pd.concat(frames, ignore_index=True)

"""Simulate customer summaries from the models' own stories, with known parameters.

Each simulator draws the latent traits of ``n`` customers and then their summary
``(frequency, recency, T)`` directly (no transaction log is built), exactly as the model
assumes, so fitting the model to the output should recover ``params`` within sampling
error. Times are in whatever unit ``params`` are in (``alpha`` and ``beta`` share the unit
of ``T``). Pass ``time_grid`` (e.g. 1 for whole days) to round recency up to the grid the
way dated transactions would be, so that identical rows appear as in real data.

With ``latent=True`` the output also holds the true traits (``lambda``, ``p`` or ``mu``) and
``alive`` (whether the customer is still active at T), for teaching and for checks.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def check_simulation_inputs(n, params: Mapping[str, float], names: tuple[str, ...], seed):
    """Validate a simulator's ``n`` and ``params`` (all positive, named as in the paper) and make
    its random generator: returns ``(n, [param values in names order], rng)``."""
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive whole number, got {n!r}")
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; expected {list(names)}")
    vals = [float(params[k]) for k in names]
    if not all(np.isfinite(v) and v > 0 for v in vals):
        raise ValueError(f"params must be positive numbers, got {dict(params)}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return int(n), vals, rng


def _setup(n, params, names, T, seed):
    n, vals, rng = check_simulation_inputs(n, params, names, seed)
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


def _simulate_bg_family(n, params, T, seed, time_grid, latent, shift):
    n, (r, alpha, a, b), T, rng = _setup(n, params, ("r", "alpha", "a", "b"), T, seed)
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
    seed: int | np.random.Generator | None = None,
    *,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the BG/NBD story (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    n : number of customers.
    params : mapping with ``r``, ``alpha``, ``a``, ``b``.
    T : observation length per customer since the first purchase (scalar or array of n),
        in the unit of ``alpha``.
    seed : seed or ``numpy.random.Generator``.
    time_grid : round recency up to multiples of this (e.g. 1 for whole days).
    latent : add the true ``lambda``, ``p`` and ``alive`` columns.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (0..n-1) with ``frequency``, ``recency``, ``T``.
    """
    return _simulate_bg_family(n, params, T, seed, time_grid, latent, shift=0)


def simulate_modified_beta_geo(
    n: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    seed: int | np.random.Generator | None = None,
    *,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the MBG/NBD story (Batislam et al. 2007): as BG/NBD, plus a drop-out
    chance right after the first purchase. Arguments as :func:`simulate_beta_geo`."""
    return _simulate_bg_family(n, params, T, seed, time_grid, latent, shift=1)


def simulate_pareto_nbd(
    n: int,
    params: Mapping[str, float],
    T: float | np.ndarray,
    seed: int | np.random.Generator | None = None,
    *,
    time_grid: float | None = None,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the Pareto/NBD story (Schmittlein, Morrison & Colombo 1987).

    ``params`` holds ``r``, ``alpha``, ``s``, ``beta``; lifetimes are exponential(mu) with
    mu ~ gamma(s, beta). Other arguments as :func:`simulate_beta_geo` (``latent`` adds
    ``lambda``, ``mu`` and ``alive``).
    """
    n, (r, alpha, s, beta), T, rng = _setup(n, params, ("r", "alpha", "s", "beta"), T, seed)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    mu = rng.gamma(s, 1.0 / beta, size=n)
    life = rng.exponential(1.0 / mu)
    window = np.minimum(life, T)
    x = rng.poisson(lam * window)
    rec = _order_stat(rng, x, x, window)
    extra = {"lambda": lam, "mu": mu, "alive": life > T} if latent else {}
    return _finish(x, rec, T, time_grid, extra)


def simulate_gamma_gamma(
    frequency,
    params: Mapping[str, float],
    seed: int | np.random.Generator | None = None,
) -> pd.Series:
    """Mean spend per repeat purchase from the Gamma-Gamma story (Fader & Hardie 2013).

    ``frequency`` is an array or Series of repeat-purchase counts; ``params`` holds ``p``,
    ``q``, ``gamma``. Each customer's rate nu ~ gamma(q, gamma); the mean of x transaction
    values ~ gamma(p x, nu x). Customers with no repeat purchase get 0, as in
    ``rfm_summary``. Returns a Series ``monetary_value`` (indexed like ``frequency`` when it
    is a Series).
    """
    index = frequency.index if isinstance(frequency, pd.Series) else None
    x = np.asarray(frequency, dtype=float)
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("frequency must hold whole numbers >= 0")
    n, (p, q, g), _, rng = _setup(len(x), params, ("p", "q", "gamma"), 1.0, seed)
    nu = rng.gamma(q, 1.0 / g, size=n)
    xs = np.maximum(x, 1)
    mean = rng.gamma(p * xs, 1.0 / (nu * xs))
    return pd.Series(np.where(x > 0, mean, 0.0), index=index, name="monetary_value")

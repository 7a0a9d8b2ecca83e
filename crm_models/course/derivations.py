"""The BG/NBD written from scratch, formula by formula, to set beside the package's fitted model.

Fader, Hardie & Lee (2005), "Counting your customers the easy way", and Fader & Hardie's note
"Computing P(alive) using the BG/NBD model" (2008). Each function is the paper's equation in a
few lines of numpy and scipy; the tests hold them to :class:`crm_models.clv.BetaGeo` within
1e-8. The course's explorer (:class:`crm_models.course.explorers.BetaGeoExplorer`) uses them to
evaluate the model at any parameters, not only the fitted ones.

Notation: ``x`` repeat purchases, ``t_x`` the time of the last one, ``T`` the length of
observation (all in the data's time unit); parameters ``r``, ``alpha`` (the gamma of purchase
rates, ``alpha`` in the time unit), ``a``, ``b`` (the beta of dropout probabilities).

Examples
--------
>>> params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
>>> round(float(bgnbd_p_alive(params, 2, 30.43, 38.86)[0]), 4)
0.7266
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import betaln, gammaln

__all__ = ["bgnbd_log_likelihood", "bgnbd_p_alive", "bgnbd_probability_of_n_purchases"]


def _params(params: Mapping[str, float]) -> tuple[float, float, float, float]:
    try:
        r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))
    except (KeyError, TypeError):
        raise ValueError(f"params must map 'r', 'alpha', 'a' and 'b' to numbers, got {params!r}") from None
    if not all(np.isfinite(v) and v > 0 for v in (r, alpha, a, b)):
        raise ValueError(f"BG/NBD parameters must be finite and positive, got r={r}, alpha={alpha}, a={a}, b={b}")
    return r, alpha, a, b


def _arrays(x, t_x, T):
    x, t_x, T = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, t_x, T))
    x, t_x, T = np.broadcast_arrays(x, t_x, T)
    if np.any(~np.isfinite(x) | (x < 0) | (x != np.floor(x))):
        raise ValueError("frequency x must hold whole numbers >= 0")
    if np.any(~np.isfinite(t_x) | (t_x < 0) | (t_x > T)) or np.any(~np.isfinite(T) | (T <= 0)):
        raise ValueError("recency t_x and T must satisfy 0 <= t_x <= T and T > 0")
    return x, t_x, T


def bgnbd_log_likelihood(params: Mapping[str, float], x, t_x, T) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6).

    ``L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))``,
    computed as the log of the first term plus ``log(1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``.

    Parameters
    ----------
    params : mapping
        ``r``, ``alpha``, ``a``, ``b`` (positive).
    x, t_x, T : array_like
        Repeat purchases, time of the last one and length of observation (broadcast together).

    Returns
    -------
    numpy.ndarray
        One log-likelihood per customer; their sum is the model's log-likelihood.

    Examples
    --------
    >>> params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> bgnbd_log_likelihood(params, [0, 2], [0.0, 30.43], [38.86, 38.86]).round(4).tolist()
    [-0.5547, -9.4586]
    """
    r, alpha, a, b = _params(params)
    x, t_x, T = _arrays(x, t_x, T)
    first = (betaln(a, b + x) - betaln(a, b) + gammaln(r + x) - gammaln(r) + r * np.log(alpha)
             - (r + x) * np.log(alpha + T))
    with np.errstate(divide="ignore"):
        log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return first + np.where(x > 0, np.logaddexp(0.0, log_ratio), 0.0)


def bgnbd_p_alive(params: Mapping[str, float], x, t_x, T) -> np.ndarray:
    """Probability each customer is still alive at ``T`` (Fader, Hardie & Lee 2008 note, eq. 2).

    ``P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``.

    Parameters
    ----------
    params : mapping
        ``r``, ``alpha``, ``a``, ``b`` (positive).
    x, t_x, T : array_like
        Repeat purchases, time of the last one and length of observation.

    Returns
    -------
    numpy.ndarray
        P(alive) (0-1) per customer; 1 for customers without a repeat purchase.

    Examples
    --------
    >>> params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> bgnbd_p_alive(params, [0, 5, 5], [0.0, 35.0, 15.0], 38.86).round(3).tolist()
    [1.0, 0.832, 0.108]
    """
    r, alpha, a, b = _params(params)
    x, t_x, T = _arrays(x, t_x, T)
    with np.errstate(divide="ignore"):
        log_odds_dead = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_odds_dead, 700.0))), 1.0)


def bgnbd_probability_of_n_purchases(params: Mapping[str, float], t: float, n) -> np.ndarray:
    """P(X(t) = n): the chance a new customer makes ``n`` purchases in ``t`` (Fader, Hardie & Lee 2005, eq. 8).

    ``P(X(t)=n) = B(a, b+n)/B(a, b) * Gamma(r+n)/(Gamma(r) n!) (alpha/(alpha+t))^r (t/(alpha+t))^n
    + [n > 0] B(a+1, b+n-1)/B(a, b) * (1 - (alpha/(alpha+t))^r sum_{j<n} Gamma(r+j)/(Gamma(r) j!) (t/(alpha+t))^j)``.

    Parameters
    ----------
    params : mapping
        ``r``, ``alpha``, ``a``, ``b`` (positive).
    t : float
        Length of time (> 0), in the data's time unit.
    n : array_like of int
        Numbers of purchases (>= 0).

    Returns
    -------
    numpy.ndarray
        Probabilities (0-1), one per ``n``.

    Examples
    --------
    >>> params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> p = bgnbd_probability_of_n_purchases(params, 38.86, range(200))
    >>> round(float(p[0]), 4), round(float(p.sum()), 6)
    (0.5742, 1.0)
    """
    r, alpha, a, b = _params(params)
    n = np.atleast_1d(np.asarray(n, dtype=float))
    if np.any(~np.isfinite(n) | (n < 0) | (n != np.floor(n))):
        raise ValueError("n must hold whole numbers >= 0")
    t = float(t)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"t must be a positive length of time, got {t!r}")
    log_q, log_p = np.log(alpha / (alpha + t)), np.log(t / (alpha + t))
    log_nbd = lambda k: gammaln(r + k) - gammaln(r) - gammaln(k + 1) + r * log_q + k * log_p  # noqa: E731
    first = np.exp(betaln(a, b + n) - betaln(a, b) + log_nbd(n))
    top = int(n.max()) if n.size else 0
    cdf_below = np.concatenate([[0.0], np.cumsum(np.exp(log_nbd(np.arange(top))))])  # P(NBD < k), k = 0..top
    with np.errstate(invalid="ignore"):
        second = np.exp(betaln(a + 1, np.maximum(b + n - 1, 1e-300)) - betaln(a, b)) * (1.0 - cdf_below[n.astype(int)])
    return first + np.where(n > 0, second, 0.0)

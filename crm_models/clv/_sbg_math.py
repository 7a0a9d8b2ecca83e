"""sBG formulas (Fader & Hardie 2007, "How to project customer retention"), vectorised.

Each customer renews at the end of every period with probability 1 - theta until the first
non-renewal; theta ~ Beta(alpha, beta) across customers. T is the period in which a customer
churns (T = 1, 2, ...). Equation numbers refer to Fader & Hardie (2007), Journal of Interactive
Marketing 21(1), 76-90, and, for the discounted lifetimes, Fader & Hardie (2010), Marketing
Science 29(1), 85-93.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, hyp2f1


def log_pmf(params, t):
    """log P(T = t | alpha, beta) = log B(alpha+1, beta+t-1) - log B(alpha, beta), eq. (5)."""
    a, b = params
    t = np.asarray(t, dtype=float)
    return betaln(a + 1.0, b + t - 1.0) - betaln(a, b)


def log_survival(params, t):
    """log S(t | alpha, beta) = log B(alpha, beta+t) - log B(alpha, beta), eq. (6); S(0) = 1."""
    a, b = params
    t = np.asarray(t, dtype=float)
    return betaln(a, b + t) - betaln(a, b)


def retention_rate(params, t):
    """r_t = S(t)/S(t-1) = (beta + t - 1)/(alpha + beta + t - 1), eq. (8); rises with t."""
    a, b = params
    t = np.asarray(t, dtype=float)
    return (b + t - 1.0) / (a + b + t - 1.0)


def neg_loglik(log_params, lost, survivors_end):
    """Negative log-likelihood of a cohort and its gradient in log parameters, eq. (7).

    ``lost[t-1]`` customers churned in period t = 1..T (contribute log P(T = t)) and
    ``survivors_end`` are still active after T periods (contribute log S(T)).
    """
    a, b = np.exp(log_params)
    lost = np.asarray(lost, dtype=float)
    T = len(lost)
    t = np.arange(1, T + 1, dtype=float)
    dab = digamma(a + b)
    da0, db0 = digamma(a) - dab, digamma(b) - dab
    ll = np.dot(lost, log_pmf((a, b), t)) + survivors_end * float(log_survival((a, b), T))
    # d log P(T=t): psi(a+1) - psi(a+b+t) - [psi(a) - psi(a+b)], psi(b+t-1) - psi(a+b+t) - [...]
    s = digamma(a + b + t)
    ga = np.dot(lost, digamma(a + 1.0) - s - da0)
    gb = np.dot(lost, digamma(b + t - 1.0) - s - db0)
    sT = digamma(a + b + T)
    ga += survivors_end * (digamma(a) - sT - da0)
    gb += survivors_end * (digamma(b + T) - sT - db0)
    return -float(ll), -np.array([ga * a, gb * b])


def _hyp2f1_1(b, c, z):
    """2F1(1, b; c; z) for 0 < b < c and 0 < z < 1, elementwise.

    scipy's ``hyp2f1`` is used where it is finite; where it gives up (large b and c with z
    near 1, e.g. thousands of renewals at a small discount rate) the defining series
    sum_k prod_{j<k} (b+j)/(c+j) z^k is summed directly: its terms fall at least as fast as
    z^k, so K terms leave a remainder below z^K / (1 - z).
    """
    b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b, c, z)))
    out = np.array(hyp2f1(1.0, b, c, z), dtype=float, ndmin=1)
    flat_b, flat_c, flat_z = b.ravel(), c.ravel(), z.ravel()
    flat = out.ravel()
    for i in np.flatnonzero(~np.isfinite(flat)):
        flat[i] = _series(flat_b[i], flat_c[i], flat_z[i])
    return flat.reshape(b.shape) if b.ndim else float(flat[0])


def _series(b: float, c: float, z: float, chunk: int = 1_000_000) -> float:
    lz = np.log(z)
    n_terms = int(np.ceil((np.log(1e-16) + np.log1p(-z)) / lz)) + 10
    if n_terms > 100_000_000:
        raise ValueError(
            f"discount rate {1 / z - 1:.2g} per period is too small to sum the residual lifetime accurately; "
            "use a rate of at least 1e-6 per period"
        )
    total, log_term, start = 0.0, 0.0, 0
    while start < n_terms:
        k = np.arange(start, min(n_terms, start + chunk), dtype=float)
        lr = np.log(b + k) - np.log(c + k) + lz  # log(term_{k+1} / term_k)
        logs = log_term + np.concatenate([[0.0], np.cumsum(lr[:-1])])
        total += float(np.exp(logs).sum())
        log_term = logs[-1] + lr[-1]
        start += chunk
    return total


def discounted_expected_lifetime(params, discount_rate):
    """E[DEL] of a just-acquired customer, in payments, first payment undiscounted.

    sum_{t>=0} S(t) / (1+d)^t = 2F1(1, beta; alpha+beta; 1/(1+d)) (Fader & Hardie 2010, eq. 5).
    """
    a, b = params
    return _hyp2f1_1(b, a + b, 1.0 / (1.0 + np.asarray(discount_rate, dtype=float)))


def discounted_expected_residual_lifetime(params, discount_rate, n_renewals):
    """DERL of a customer who has made ``n_renewals`` renewals (active for n = n_renewals + 1 periods).

    Counts the payments still to come (the next one undiscounted):
    (beta+n-1)/(alpha+beta+n-1) * 2F1(1, beta+n; alpha+beta+n; 1/(1+d)) (Fader & Hardie 2010, eq. 6).
    """
    a, b = params
    n = np.asarray(n_renewals, dtype=float) + 1.0
    z = 1.0 / (1.0 + np.asarray(discount_rate, dtype=float))
    return (b + n - 1.0) / (a + b + n - 1.0) * _hyp2f1_1(b + n, a + b + n, z)

"""What a customer who is alive at the end of observation does next: the continuous-time formulas.

Every forward-looking quantity of BG/NBD, MBG/NBD and Pareto/NBD has the same structure. Given
a customer's history ``(x, t_x, T)``, either the customer has already dropped out (probability
1 - P(alive at T)) and makes no purchase again, or the customer is alive at T and, from then on,
behaves like a customer of the same model whose parameters are the *posterior* given the
history and being alive at T:

* BG/NBD and MBG/NBD (Fader, Hardie & Lee 2005; Batislam et al. 2007): being alive at T means
  having survived every repeat purchase (and, for MBG/NBD, the first one too), so
  lambda ~ gamma(r + x, alpha + T) and p ~ beta(a, b + x + m) with m = 0 (BG/NBD) or 1 (MBG/NBD);
  from T on, a purchase happens at rate lambda and each purchase is followed by a drop-out with
  probability p.
* Pareto/NBD (Schmittlein, Morrison & Colombo 1987): lambda ~ gamma(r + x, alpha + T) and, by
  the memorylessness of the exponential lifetime, mu ~ gamma(s, beta + T).

The functions below take these posterior parameters (arrays that broadcast) and a horizon ``t``
(in the model's time unit) and give the distribution of X(t), the number of purchases in
(T, T + t], for a customer alive at T. Notation: N(t) is the number of purchases of a customer
who never drops out (gamma-mixed Poisson: a negative binomial, NBD),

    P(N(t) = k) = G(r+k) / (G(r) k!) (alpha/(alpha+t))^r (t/(alpha+t))^k,
    P(N(t) >= k) = I_z(k, r),  z = t / (alpha + t)   (regularised incomplete beta, k >= 1).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, gammaln, hyp2f1

#: Gauss-Legendre nodes and weights on [0, 1] for the Pareto/NBD integrals over the lifetime.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
_GL_NODES = (_GL_NODES + 1) / 2
_GL_WEIGHTS = _GL_WEIGHTS / 2


def nbd_log_pmf(k, r, alpha, t):
    """log P(N(t) = k) for the gamma(r, alpha)-mixed Poisson process (arrays broadcast; t >= 0)."""
    k, r, alpha, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (k, r, alpha, t)))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (gammaln(r + k) - gammaln(r) - gammaln(k + 1) - r * np.log1p(t / alpha)
               + k * (np.log(t) - np.log(alpha + t)))
    # at t = 0 nothing has happened: P(N = 0) = 1
    return np.where(t > 0, out, np.where(k == 0, 0.0, -np.inf))


def nbd_tail(k, r, alpha, t):
    """P(N(t) >= k) = I_{t/(alpha+t)}(k, r) for k >= 1, and 1 for k <= 0."""
    k, r, alpha, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (k, r, alpha, t)))
    z = t / (alpha + t)
    with np.errstate(invalid="ignore"):
        out = betainc(np.maximum(k, 1.0), r, z)
    return np.where(k <= 0, 1.0, np.where(t > 0, out, 0.0))


def nbd_quantile_bound(r, alpha, t, tol: float):
    """Per row, a whole number K with P(N(t) > K) <= tol (N never exceeds X's bound: X(t) <= N(t))."""
    r, alpha, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (r, alpha, t)))
    hi = np.maximum(np.ceil(r * t / alpha), 1.0)
    # double until the tail is below tol, then bisect between hi/2 and hi
    for _ in range(64):
        bad = nbd_tail(hi + 1, r, alpha, t) > tol
        if not bad.any():
            break
        hi = np.where(bad, 2 * hi, hi)
    lo = np.zeros_like(hi)
    for _ in range(64):
        if np.all(hi - lo <= 1):
            break
        mid = np.floor((lo + hi) / 2)
        ok = nbd_tail(mid + 1, r, alpha, t) <= tol
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    return hi.astype(np.int64)


# ---------------------------------------------------------------------------------- BG family
def bg_still_alive(t, r, alpha, a, b):
    """P(alive at T + t | alive at T) for the BG family with posterior (r, alpha, a, b).

    E[exp(-lambda p t)] over lambda ~ gamma(r, alpha), p ~ beta(a, b): a drop-out can only follow
    a purchase, and purchases come at rate lambda, so drop-outs come at rate lambda p. The
    expectation over lambda is (1 + p t/alpha)^-r; over p it is Euler's integral
    2F1(r, a; a + b; -t/alpha), evaluated after Pfaff's transformation at z = t/(alpha + t) in
    [0, 1): (1 - z)^r 2F1(r, b; a + b; z) when a > r, else (1 - z)^a 2F1(a, a + b - r; a + b; z)
    (the form whose series converges at z = 1).
    """
    from crm_models.clv.beta_geo import _hyp2f1

    t, r, alpha, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, r, alpha, a, b)))
    z = t / (alpha + t)
    log1mz = -np.log1p(t / alpha)
    first = a > r
    out = np.empty(t.shape)
    if first.any():
        out[first] = np.exp(r[first] * log1mz[first]) * _hyp2f1(r[first], b[first], a[first] + b[first], z[first])
    if (~first).any():
        s = ~first
        out[s] = np.exp(a[s] * log1mz[s]) * _hyp2f1(a[s], a[s] + b[s] - r[s], a[s] + b[s], z[s])
    return np.clip(np.where(t > 0, out, 1.0), 0.0, 1.0)


def bg_alive_tail(k, t, r, alpha, a, b):
    """P(X(t) >= k | alive at 0) for the BG family with posterior (r, alpha, a, b).

    At least k purchases happen and the first k - 1 are not followed by a drop-out:
    B(a, b + k - 1) / B(a, b) * I_z(k, r) for k >= 1 (1 for k = 0).
    """
    k, t, r, alpha, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (k, t, r, alpha, a, b)))
    kk = np.maximum(k, 1.0)
    survive = np.exp(betaln(a, b + kk - 1) - betaln(a, b))
    return np.where(k <= 0, 1.0, survive * nbd_tail(kk, r, alpha, t))


def bg_alive_pmf(k, t, r, alpha, a, b):
    """P(X(t) = k | alive at 0) for the BG family (FHL 2005 eq. 8 with the posterior parameters).

    B(a, b + k)/B(a, b) P(N(t) = k) + [k > 0] B(a + 1, b + k - 1)/B(a, b) P(N(t) >= k): either
    exactly k purchases, all survived, or a drop-out right after the k-th purchase.
    """
    k, t, r, alpha, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (k, t, r, alpha, a, b)))
    lb = betaln(a, b)
    nbd = np.exp(nbd_log_pmf(k, r, alpha, t))
    first = np.exp(betaln(a, b + k) - lb) * nbd
    kk = np.maximum(k, 1.0)
    if k.ndim == 2 and k.shape[1] > 1 and np.array_equal(k[0], np.arange(k.shape[1])) and (k == k[0]).all():
        # k = 0, 1, ..., K along each row: P(N >= k) = 1 - sum_{j<k} P(N = j), exact to ~1e-16 absolute
        tail = np.clip(1.0 - np.concatenate([np.zeros((k.shape[0], 1)), np.cumsum(nbd, axis=1)[:, :-1]], axis=1),
                       0.0, 1.0)
    else:
        tail = nbd_tail(kk, r, alpha, t)
    second = np.exp(betaln(a + 1, b + kk - 1) - lb) * tail
    return first + np.where(k > 0, second, 0.0)


# ---------------------------------------------------------------------------------- Pareto/NBD
def pareto_still_alive(t, s, beta):
    """P(alive at T + t | alive at T) = (beta / (beta + t))^s, mu ~ gamma(s, beta) the posterior."""
    t, s, beta = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, s, beta)))
    return np.exp(-s * np.log1p(t / beta))


def _pareto_nodes(t, s, beta, n_panels: int):
    """Lifetimes tau_j in (0, t) and weights w_j such that sum_j w_j f(tau_j) approximates
    int_0^t f(tau) dF(tau), F the lifetime distribution (Lomax: F(tau) = 1 - (beta/(beta+tau))^s).

    The integral is taken in q = (beta/(beta+tau))^s, uniform on (0, 1) for the lifetime, over
    [q(t), 1] by Gauss-Legendre on ``n_panels`` panels of 16 nodes. Shapes: (rows, nodes)."""
    q_t = pareto_still_alive(t, s, beta)[:, None]
    u = ((np.arange(n_panels)[:, None] + _GL_NODES[None, :]) / n_panels).ravel()[None, :]
    w = np.tile(_GL_WEIGHTS / n_panels, n_panels)[None, :]
    q = q_t + (1 - q_t) * u
    tau = beta[:, None] * np.expm1(-np.log(q) / s[:, None])
    return tau, w * (1 - q_t)


def pareto_alive_pmf(ks, t, r, alpha, s, beta, *, n_panels: int | None = None):
    """P(X(t) = k | alive at 0) for Pareto/NBD with posterior (r, alpha, s, beta), per row and k.

    (beta/(beta+t))^s P(N(t) = k) + int_0^t P(N(tau) = k) dF(tau): alive throughout (T, T+t], or
    dead at T + tau. The integral is numerical (see :func:`_pareto_nodes`); its resolution grows
    with the expected number of purchases so that neighbouring nodes' negative binomials overlap.

    ``r, alpha, s, beta`` are 1-d arrays of rows, ``t`` a scalar, ``ks`` a 1-d array of whole
    numbers; returns an array (rows, len(ks)).
    """
    r, alpha, s, beta = (np.asarray(v, dtype=float) for v in (r, alpha, s, beta))
    ks = np.asarray(ks, dtype=float)
    if t <= 0:
        return np.broadcast_to((ks == 0).astype(float), (len(r), len(ks))).copy()
    if n_panels is None:
        mean_max = float(np.max(r * t / alpha, initial=0.0))
        n_panels = int(np.clip(np.ceil(np.sqrt(mean_max) / 2), 4, 64))
    rc, ac, k = r[:, None], alpha[:, None], ks[None, :]
    const = gammaln(rc + k) - gammaln(rc) - gammaln(k + 1)  # the part of log P(N(tau) = k) free of tau

    def nbd(tau):  # P(N(tau) = k), rows x ks, for one lifetime per row (tau > 0)
        return np.exp(const - rc * np.log1p(tau / ac) + k * (np.log(tau) - np.log(ac + tau)))

    out = pareto_still_alive(t, s, beta)[:, None] * nbd(np.full((len(r), 1), float(t)))
    tau, w = _pareto_nodes(np.full(len(r), float(t)), s, beta, n_panels)
    for j in range(tau.shape[1]):  # a loop over quadrature nodes; each covers every row and k at once
        out += w[:, j, None] * nbd(tau[:, j, None])
    return out

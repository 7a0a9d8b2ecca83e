"""BG/BB formulas (Fader, Hardie & Shang 2010), vectorised over customers.

Notation of the paper: a customer has ``n`` transaction opportunities after the first one, made
``x`` repeat transactions, the last at opportunity ``t_x`` (``t_x = 0`` when ``x = 0``).
p ~ Beta(alpha, beta) is the probability of transacting while alive; theta ~ Beta(gamma, delta)
the probability of becoming inactive at the start of each opportunity.

Equation numbers refer to Fader, Hardie & Shang (2010), Marketing Science 29(6), 1086-1108.
All functions take plain numpy arrays; the model class does validation and pandas.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, hyp2f1, logsumexp

#: Maximum number of matrix cells built at once when summing over opportunities.
_BLOCK_CELLS = 2_000_000


def _dlbeta(a, b):
    """Partial derivatives of log B(a, b) with respect to a and b."""
    dab = digamma(a + b)
    return digamma(a) - dab, digamma(b) - dab


def loglik_terms(params, x, t_x, n, *, grad: bool = False):
    """Per-customer log-likelihood log L(alpha, beta, gamma, delta | x, t_x, n), eq. (5).

    L = B(a+x, b+n-x)/B(a,b) * B(g, d+n)/B(g,d)
        + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)/B(a,b) * B(g+1, d+t_x+i)/B(g,d).

    The first term is "alive through all n opportunities", term i is "alive through t_x + i
    opportunities, inactive from the next one". Terms are combined with log-sum-exp, so the
    result stays finite for any n. With ``grad=True`` also returns the (len(x), 4) matrix of
    derivatives with respect to (alpha, beta, gamma, delta).
    """
    a, b, g, d = (float(v) for v in params)
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    n = np.asarray(n, dtype=float)
    base = -betaln(a, b) - betaln(g, d)
    # term "alive throughout"
    head = betaln(a + x, b + n - x) + betaln(g, d + n) + base
    width = (n - t_x).astype(np.int64)  # number of "died after t_x + i" terms
    wmax = int(width.max(initial=0))

    # streaming log-sum-exp over blocks of i, so that huge n never builds a huge matrix
    m = head.copy()
    s = np.ones_like(head)
    if grad:
        da0, db0 = _dlbeta(a, b)
        dg0, dd0 = _dlbeta(g, d)
        ha, hb = _dlbeta(a + x, b + n - x)
        hg, hd = _dlbeta(g, d + n)
        acc = np.column_stack([ha - da0, hb - db0, hg - dg0, hd - dd0])  # weighted by exp(term - m)
    rows = max(len(x), 1)
    step = max(1, _BLOCK_CELLS // rows)
    for start in range(0, wmax, step):
        i = np.arange(start, min(wmax, start + step), dtype=float)[None, :]
        valid = i < width[:, None]
        bb = b + t_x[:, None] - x[:, None] + i
        dd = d + t_x[:, None] + i
        lt = betaln(a + x[:, None], bb) + betaln(g + 1.0, dd) + base
        lt = np.where(valid, lt, -np.inf)
        bm = lt.max(axis=1)
        new_m = np.maximum(m, bm)
        scale = np.exp(m - new_m)
        e = np.exp(lt - new_m[:, None])  # 0 where invalid
        s = s * scale + e.sum(axis=1)
        if grad:
            ta, tb = _dlbeta(a + x[:, None], bb)
            tg, td = _dlbeta(g + 1.0, dd)
            parts = [
                (e * (ta - da0)).sum(axis=1),
                (e * np.where(valid, tb, 0.0)).sum(axis=1) - e.sum(axis=1) * db0,
                (e * (tg - dg0)).sum(axis=1),
                (e * np.where(valid, td, 0.0)).sum(axis=1) - e.sum(axis=1) * dd0,
            ]
            acc = acc * scale[:, None] + np.column_stack(parts)
        m = new_m
    ll = m + np.log(s)
    if grad:
        return ll, acc / s[:, None]
    return ll


def neg_loglik(log_params, x, t_x, n, w):
    """Weighted negative log-likelihood and its gradient with respect to log parameters."""
    params = np.exp(log_params)
    ll, g = loglik_terms(params, x, t_x, n, grad=True)
    value = -float(np.dot(w, ll))
    gradient = -(w @ g) * params  # chain rule d/dlog(p) = p d/dp
    return value, gradient


def log_p_alive(params, x, t_x, n, m: float = 1.0):
    """log P(alive at opportunity n + m | x, t_x, n); m = 1 is eq. (11) of the paper.

    P = B(a+x, b+n-x)/B(a,b) * B(g, d+n+m)/B(g,d) / L. m = 0 gives "alive at n" (lifetimes' default).
    """
    a, b, g, d = params
    num = betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n + m) - betaln(g, d)
    return np.minimum(num - loglik_terms(params, x, t_x, n), 0.0)


def _gamma_ratio_diff(g, d, lo, hi):
    """(1/(g-1)) * Gamma(g+d)/Gamma(1+d) * [h(lo) - h(hi)], h(m) = Gamma(1+d+m)/Gamma(g+d+m).

    The bracket in eqs. (8) and (13). Written with expm1 so g near 1 stays accurate; at g = 1
    exactly the limit psi(1+d+hi) - psi(1+d+lo) is used.
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    c = gammaln(g + d) - gammaln(1.0 + d)
    log_h_lo = gammaln(1.0 + d + lo) - gammaln(g + d + lo)
    log_h_hi = gammaln(1.0 + d + hi) - gammaln(g + d + hi)
    if abs(g - 1.0) < 1e-8:
        return digamma(1.0 + d + hi) - digamma(1.0 + d + lo)
    return -np.exp(c + log_h_lo) * np.expm1(log_h_hi - log_h_lo) / (g - 1.0)


def expected_new(params, n):
    """E[X(n)] for a randomly chosen new customer over n opportunities, eq. (8).

    E[X(n)] = a/(a+b) * d/(g-1) * Gamma(g+d)/Gamma(1+d) * [1 - Gamma(1+d+n)/Gamma(g+d+n) * Gamma(g+d)/Gamma(1+d)]
    """
    a, b, g, d = params
    return a / (a + b) * d * _gamma_ratio_diff(g, d, 0.0, n)


def expected_conditional(params, x, t_x, n, n_star):
    """E[X(n, n+n*) | x, t_x, n]: expected transactions in the next n* opportunities, eq. (13)."""
    a, b, g, d = params
    # 1/L * B(a+x+1, b+n-x)/B(a,b) * d/(g-1) * Gamma(g+d)/Gamma(1+d) * [h(n) - h(n+n*)]
    log_front = betaln(a + x + 1.0, b + n - x) - betaln(a, b) - loglik_terms(params, x, t_x, n)
    return np.exp(log_front) * d * _gamma_ratio_diff(g, d, n, n + np.asarray(n_star, float))


def log_pmf_new(params, x, n):
    """log P(X(n) = x) for a new customer, eq. (7).

    P = C(n,x) B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
        + sum_{i=x}^{n-1} C(i,x) B(a+x, b+i-x)/B(a,b) B(g+1, d+i)/B(g,d).
    ``x`` and ``n`` broadcast; n must be an integer number of opportunities.
    """
    a, b, g, d = params
    x, n = np.broadcast_arrays(np.asarray(x, float), np.asarray(n, float))
    x = x.ravel()
    n = n.ravel()

    def lchoose(nn, kk):
        return gammaln(nn + 1) - gammaln(kk + 1) - gammaln(nn - kk + 1)

    base = -betaln(a, b) - betaln(g, d)
    head = lchoose(n, x) + betaln(a + x, b + n - x) + betaln(g, d + n) + base
    out = np.full(x.shape, -np.inf)
    ok = (x >= 0) & (x <= n)
    width = np.where(ok, n - x, 0).astype(np.int64)
    total = head.copy()
    # rows in blocks so that the (rows x terms) matrix stays below _BLOCK_CELLS cells
    order = np.argsort(width, kind="stable")
    start = 0
    while start < len(order):
        # widths ascend along `order`: size the block by the width at its tentative last row
        tentative = start + max(1, _BLOCK_CELLS // max(int(width[order[start]]), 1)) - 1
        size = max(1, _BLOCK_CELLS // max(int(width[order[min(len(order) - 1, tentative)]]), 1))
        rows = order[start : start + size]
        wmax = int(width[rows].max(initial=0))
        if wmax > 0:
            xr, nr = x[rows][:, None], n[rows][:, None]
            i = xr + np.arange(wmax, dtype=float)[None, :]
            valid = i < nr
            ii = np.where(valid, i, xr)
            lt = lchoose(ii, xr) + betaln(a + xr, b + ii - xr) + betaln(g + 1.0, d + ii) + base
            lt = np.where(valid, lt, -np.inf)
            total[rows] = logsumexp(np.concatenate([head[rows][:, None], lt], axis=1), axis=1)
        start += len(rows)
    out[ok] = total[ok]
    return out


def log_dert(params, x, t_x, n, d):
    """log DERT(d | x, t_x, n): discounted expected residual transactions, eq. (14).

    DERT = B(a+x+1, b+n-x)/B(a,b) * B(g, d'+n+1)/(B(g,d') (1+d)) * 2F1(1, d'+n+1; g+d'+n+1; 1/(1+d)) / L,

    with d' the model's delta and d > 0 the discount rate per opportunity: the expected number of
    transactions at opportunities n+1, n+2, ..., each discounted by (1+d)^-k.
    """
    a, b, g, dl = params
    x, t_x, n = (np.asarray(v, dtype=float) for v in (x, t_x, n))
    z = 1.0 / (1.0 + d)
    return (betaln(a + x + 1.0, b + n - x) - betaln(a, b) + betaln(g, dl + n + 1.0) - betaln(g, dl)
            - np.log1p(d) + np.log(hyp2f1(1.0, dl + n + 1.0, g + dl + n + 1.0, z))
            - loglik_terms(params, x, t_x, n))


"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), with a likelihood that never goes NaN.

Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987), "Counting Your Customers: Who
Are They and What Will They Do Next?", *Management Science* 33(1), 1-24; the likelihood as
derived in Fader, P. S. and Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD
Model and Related Expressions" (http://brucehardie.com/notes/009/), referred to as FH05.

Story, for one customer: while alive, purchases follow a Poisson process with rate lambda,
lambda ~ gamma(r, alpha); the unobserved lifetime is exponential with rate mu,
mu ~ gamma(s, beta). Data: ``x`` repeat purchases, the last at ``t_x``, observed until ``T``.

The likelihood (FH05 eq. 3, integrated over lambda and mu) is

    L = G(r+x) alpha^r beta^s / G(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s I ],
    I = int_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau,

because a customer either is alive at T (first term) or dies at some tau in (t_x, T]. FH05
writes I with a Gauss hypergeometric function (their eq. 4-6), which is where lifetimes
overflows to NaN for heavy buyers (x >= 132 with t_x = T = 200). Here the integral is
evaluated directly and stably: with ``base`` the smaller of alpha and beta and the
substitution ``base + tau = (base + t_x) e^y``,

    I = (base+t_x)^-k int_0^Y exp(g(y)) dy,   k = r+x+s,   Y = log((base+T)/(base+t_x)),
    g(y) = -k y - e log(1 + c e^-y),

with (e, c) = (r+x, (alpha-beta)/(beta+t_x)) when alpha >= beta and (s+1, (beta-alpha)/(alpha+t_x))
otherwise, so c >= 0 and g is concave and smooth. The integral is computed in log space by
32-point Gauss-Legendre quadrature on [0, Y*], where Y* <= Y cuts the range where exp(g) has
fallen below exp(-40) of its start (Newton steps on a concave function). Everything is
combined with log-sum-exp, and the gradient is the exact derivative of this quadrature.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import digamma, gammaln

from crm_models.clv.base import FrequencyRecencyModel

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(32)
_XI = (_NODES + 1) / 2  # nodes on [0, 1]
_LOGW = np.log(_WEIGHTS / 2)
_CUT = 40.0  # truncate where the integrand is below exp(-40) of its value at y = 0
_CHUNK = 16384


def _log_integral_terms(r, alpha, s, beta, x, t_x, T, want_grad):
    """Per row: log(s I) - log(...) pieces. Returns (logB, dB) with B = -k log(base+t_x) + log J.

    dB is a (4, n) array of derivatives of B with respect to (r, alpha, s, beta), or None.
    Rows with t_x == T have I = 0 and B = -inf.
    """
    n = len(x)
    logB = np.empty(n)
    dB = np.zeros((4, n)) if want_grad else None
    beta_branch = alpha >= beta
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(n, lo + _CHUNK))
        xs, txs, Ts = x[sl], t_x[sl], T[sl]
        if beta_branch:
            base, other = beta, alpha
            e = r + xs
        else:
            base, other = alpha, beta
            e = np.full(len(xs), s + 1.0)
        k = r + xs + s
        bt = base + txs
        Lb = np.log(bt)
        c = (other - base) / bt
        Y = np.log(base + Ts) - Lb
        g0 = -e * np.log1p(c)
        rate0 = k - e * c / (1 + c)
        # truncation point: Newton on phi(y) = g(y) - g(0) + CUT, from the right of the root
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = np.where(rate0 > 0, np.minimum(_CUT / rate0, Y), Y)
            phiY = -k * Y - e * np.log1p(c * np.exp(-Y)) - g0 + _CUT
            need = (rate0 > 0) & (phiY < 0)
            for _ in range(4):
                ey = c * np.exp(-y)
                phi = -k * y - e * np.log1p(ey) - g0 + _CUT
                dphi = -k + e * ey / (1 + ey)
                y = np.where(need, y - phi / dphi, y)
        Ymax = np.where(need, np.minimum(y, Y), Y)
        pos = Ymax > 0
        Ym = np.where(pos, Ymax, 1.0)
        yj = Ym[:, None] * _XI[None, :]
        cej = c[:, None] * np.exp(-yj)
        l1p = np.log1p(cej)
        G = -k[:, None] * yj - e[:, None] * l1p + _LOGW[None, :]
        Gmax = G.max(axis=1)
        P = np.exp(G - Gmax[:, None])
        S = P.sum(axis=1)
        logJ = np.log(Ym) + Gmax + np.log(S)
        logB[sl] = np.where(pos, -k * Lb + logJ, -np.inf)
        if not want_grad:
            continue
        P /= S[:, None]
        E_k = -(P * yj).sum(axis=1)
        E_e = -(P * l1p).sum(axis=1)
        frac = np.exp(-yj) / (1 + cej)
        E_c = -e * (P * frac).sum(axis=1)
        gprime = -k[:, None] + e[:, None] * c[:, None] * frac
        E_Y = np.where(need, 0.0, 1.0 / Ym + (P * gprime * _XI[None, :]).sum(axis=1))
        if beta_branch:
            d_r = -Lb + E_k + E_e
            d_s = -Lb + E_k
            d_alpha = E_c / bt
            d_beta = E_c * (-(alpha + txs) / bt**2) + E_Y * (1 / (beta + Ts) - 1 / bt) - k / bt
        else:
            d_r = -Lb + E_k
            d_s = -Lb + E_k + E_e
            d_beta = E_c / bt
            d_alpha = E_c * (-(beta + txs) / bt**2) + E_Y * (1 / (alpha + Ts) - 1 / bt) - k / bt
        for i, d in enumerate((d_r, d_alpha, d_s, d_beta)):
            dB[i, sl] = np.where(pos, d, 0.0)
    return logB, dB


def _pareto_core(r, alpha, s, beta, x, t_x, T, want_grad=False):
    """log of the bracket [ (alpha+T)^-(r+x) (beta+T)^-s + s I ], P(alive) and the gradient."""
    A = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    logB, dB = _log_integral_terms(r, alpha, s, beta, x, t_x, T, want_grad)
    lse = np.logaddexp(A, np.log(s) + logB)
    pA = np.exp(A - lse)  # = P(alive at T | x, t_x, T)
    if not want_grad:
        return lse, pA, None
    pB = 1.0 - pA
    d = np.empty((4, len(x)))
    d[0] = pA * -np.log(alpha + T) + pB * dB[0]
    d[1] = pA * -(r + x) / (alpha + T) + pB * dB[1]
    d[2] = pA * -np.log(beta + T) + pB * (1 / s + dB[2])
    d[3] = pA * -s / (beta + T) + pB * dB[3]
    return lse, pA, d


class ParetoNBD(FrequencyRecencyModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987) with a stable likelihood.

    Parameters (``params_``): ``r``, ``alpha`` (gamma heterogeneity in the purchase rate) and
    ``s``, ``beta`` (gamma heterogeneity in the drop-out rate); ``alpha`` and ``beta`` are in
    the data's time unit. On the CDNOW sample in weeks FH05 report r = 0.553,
    alpha = 10.578, s = 0.606, beta = 11.669, log-likelihood -9595.0.
    """

    _title = "Pareto/NBD (Schmittlein, Morrison & Colombo 1987)"
    _param_names = ("r", "alpha", "s", "beta")

    def _initial_params(self, arrays, weights):
        x, T = arrays["x"], arrays["T"]
        rate = float((weights * x).sum() / (weights * T).sum()) or 0.1
        tbar = float((weights * T).sum() / weights.sum())
        return np.array([1.0, 1.0 / rate, 1.0, tbar])

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-sum w log L (FH05 eq. 3 with the integral above) and its exact gradient."""
        r, alpha, s, beta = np.exp(log_params)
        x, t_x, T, xu, xinv = arrays["x"], arrays["t_x"], arrays["T"], arrays["xu"], arrays["xinv"]
        wu = np.bincount(xinv, weights=weights, minlength=len(xu))
        W = weights.sum()
        lse, _, d = _pareto_core(r, alpha, s, beta, x, t_x, T, want_grad=True)
        ll = (
            (wu * (gammaln(r + xu) - gammaln(r))).sum()
            + W * (r * np.log(alpha) + s * np.log(beta))
            + (weights * lse).sum()
        )
        g = (d * weights).sum(axis=1)
        g[0] += (wu * (digamma(r + xu) - digamma(r))).sum() + W * np.log(alpha)
        g[1] += W * r / alpha
        g[2] += W * np.log(beta)
        g[3] += W * s / beta
        return -ll, -g * np.array([r, alpha, s, beta])

    def _p_alive(self, p, pdata):
        """P(alive at T | x, t_x, T) (FH05 eq. 11): the share of the likelihood's first term."""
        return _pareto_core(p["r"], p["alpha"], p["s"], p["beta"], pdata.x, pdata.t_x, pdata.T)[1]

    @staticmethod
    def _growth(s, beta_T, t):
        """[1 - (beta_T/(beta_T+t))^(s-1)] / (s-1), with its limit log(1 + t/beta_T) at s = 1."""
        lq = -np.log1p(t / beta_T)
        if abs(s - 1) < 1e-10:
            return -lq
        return -np.expm1((s - 1) * lq) / (s - 1)

    def _expected(self, p, pdata, t):
        """E[Y(t) | x, t_x, T] (SMC 1987 eq. 22; FH05 eq. 12):

            (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive).
        """
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        x, T = pdata.x, pdata.T
        if t == 0:
            return np.zeros(len(x))
        return (r + x) / (alpha + T) * (beta + T) * self._growth(s, beta + T, t) * self._p_alive(p, pdata)

    def _expected_new(self, p, ts):
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)] (SMC 1987 eq. 17)."""
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        return r / alpha * beta * self._growth(s, beta, np.asarray(ts, dtype=float))

    def _p_n(self, p, t, ns):
        """P(X(t) = n) = (beta/(beta+t))^s NBD_n(t) + int_0^t s beta^s (beta+tau)^-(s+1) NBD_n(tau) d tau,

        NBD_n(tau) = G(r+n)/(G(r) n!) (alpha/(alpha+tau))^r (tau/(alpha+tau))^n: the customer is
        alive throughout (0, t] or dies at tau (FH 2006 note on P(X(t) = x), integral form).
        """
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]

        def log_nbd(n, tau):
            with np.errstate(divide="ignore"):
                return (
                    gammaln(r + n) - gammaln(r) - gammaln(n + 1)
                    + r * np.log(alpha / (alpha + tau)) + n * np.log(tau / (alpha + tau))
                )

        out = np.empty(len(ns))
        for i, n in enumerate(ns):
            alive = np.exp(s * np.log(beta / (beta + t)) + log_nbd(n, t)) if t > 0 else float(n == 0)
            if t > 0:
                died, _ = integrate.quad(
                    lambda tau, n=n: np.exp(np.log(s) + s * np.log(beta) - (s + 1) * np.log(beta + tau) + log_nbd(n, tau)),
                    0.0, t, limit=200, epsabs=1e-13, epsrel=1e-10,
                )
            else:
                died = 0.0
            out[i] = alive + died
        return out

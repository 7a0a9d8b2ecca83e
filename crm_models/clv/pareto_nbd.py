"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), with a likelihood that never goes NaN.

Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987), "Counting Your Customers: Who
Are They and What Will They Do Next?", *Management Science* 33(1), 1-24; the likelihood as
derived in Fader, P. S. and Hardie, B. G. S. (2005), "A Note on Deriving the Pareto/NBD
Model and Related Expressions" (http://brucehardie.com/notes/009/), referred to as FH05.

Story, for one customer: while alive, purchases follow a Poisson process with rate lambda,
lambda ~ gamma(r, alpha); the unobserved lifetime is exponential with rate mu,
mu ~ gamma(s, beta). Data: ``x`` repeat purchases, the last at ``t_x``, observed until ``T``.

The likelihood (FH05 eq. 18, the individual likelihood integrated over lambda and mu) is

    L = G(r+x) alpha^r beta^s / G(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s I ],
    I = int_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau,

because a customer either is alive at T (first term) or dies at some tau in (t_x, T]. FH05
writes s I with a Gauss hypergeometric function (A_0, their eqs. 19-20), which is where lifetimes
overflows to NaN for heavy buyers (x >= 132 with t_x = T = 200). Here I = F(t_x) - F(T) with
the tail integral F(u) = int_u^inf (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau evaluated
directly and stably: with ``base`` the smaller of alpha and beta and the substitution
``base + tau = (base + u) e^y``,

    F(u) = (base+u)^-k int_0^inf exp(g(y)) dy,   k = r+x+s,   g(y) = -k y - e log(1 + c e^-y),

with (e, c) = (r+x, (alpha-beta)/(beta+u)) when alpha >= beta and (s+1, (beta-alpha)/(alpha+u))
otherwise, so c >= 0 and g is concave and smooth. The integral is computed in log space by
Gauss-Legendre quadrature (24 points on each of three panels split at the peak of g and at
the kink y = log c) between the points where exp(g) has fallen exp(-40) below its peak
(Newton steps on a concave function), and log I = log F(t_x) + log(1 - F(T)/F(t_x)). F
depends only on (x, u), so it is evaluated once per distinct pair: cheap on a time grid.
Everything is combined with log-sum-exp; the gradient is the exact derivative of the
quadrature (up to the exp(-40) tail).

Where it is stable and fast, the same integral is taken in closed form instead. With
v = e^-y, int_0^inf exp(g(y)) dy = 2F1(e, k; k+1; -c) / k = (1+c)^-e 2F1(e, 1; k+1; z) / k
(Pfaff's transformation), z = c / (1 + c), so

    log F(u) = -(r+x) log(alpha+u) - s log(beta+u) - log k + log S        (alpha >= beta)
    log F(u) = -(r+x-1) log(alpha+u) - (s+1) log(beta+u) - log k + log S   (alpha < beta)

with S = 2F1(e, 1; k+1; z) = sum_n prod_{j<n} (e+j)/(k+1+j) z^n: every term is positive and
the ratio of successive terms stays below z, so the sum has no cancellation and its error
after n terms is below the last term / (1 - z). That is the hypergeometric form of FH05 (eqs.
19-20) rearranged so that it cannot overflow; it is summed (with its exact derivatives) for
the pairs with z <= 0.8, at most ~170 terms, and the quadrature takes the pairs with z closer
to 1, where the series would converge slowly.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy.special import digamma, gammaln

from crm_models.clv import _forward_math as fm
from crm_models.clv._covariate_models import ParetoNBDCovariates
from crm_models.clv._covariates import RepeatPurchaseCovariateMixin
from crm_models.clv.base import ContinuousTimeModel, compress

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(24)
_XI = (_NODES + 1) / 2  # nodes on [0, 1]
_LOGW = np.log(_WEIGHTS / 2)
_CUT = 40.0  # the quadrature stops where the integrand is below exp(-40) of its peak
_CHUNK = 65536
_Z_SERIES = 0.8  # pairs with z <= this use the hypergeometric series, the others the quadrature
_SERIES_EPS = 1e-17  # a series stops when its last term is below this share of its sum


def _log_series(e, kp1, z, want_grad):
    """log S, S = 2F1(e, 1; k+1; z) = sum_n prod_{j<n} (e+j)/(k+1+j) z^n (0 <= z < 1), and
    d log S / d(e, k, z) as three arrays (or None).

    All terms are positive. Rows whose last term has fallen below ``_SERIES_EPS`` of their sum
    leave the loop, so the cost follows each row's own rate of convergence.
    """
    n = len(z)
    S = np.empty(n)
    dS = np.empty((3, n)) if want_grad else None
    idx = np.arange(n)
    ee, kk, zz = e, kp1, z
    term, total = np.ones(n), np.ones(n)
    if want_grad:
        ae, ak = np.zeros(n), np.zeros(n)  # running sums of 1/(e+j) and 1/(k+1+j)
        se, sk, sz = np.zeros(n), np.zeros(n), np.zeros(n)
    j = 0
    while True:
        for _ in range(6):
            ej, kj = ee + j, kk + j
            tz = term * (ej / kj)  # term_{j+1} / z
            if want_grad:
                ae = ae + 1.0 / ej
                ak = ak + 1.0 / kj
            j += 1
            term = tz * zz
            total += term
            if want_grad:
                se += term * ae  # d term / d e = term * sum_{i<j} 1/(e+i)
                sk += term * ak  # d term / d k = -term * sum_{i<j} 1/(k+1+i)
                sz += j * tz  # d term / d z = j term / z
        done = term <= _SERIES_EPS * total
        if done.any():
            ids = idx[done]
            S[ids] = total[done]
            if want_grad:
                dS[0, ids], dS[1, ids], dS[2, ids] = se[done], sk[done], sz[done]
            keep = ~done
            if not keep.any():
                break
            idx, ee, kk, zz, term, total = idx[keep], ee[keep], kk[keep], zz[keep], term[keep], total[keep]
            if want_grad:
                ae, ak, se, sk, sz = ae[keep], ak[keep], se[keep], sk[keep], sz[keep]
    if want_grad:
        dS /= S
        dS[1] *= -1.0
    return np.log(S), dS


def _log_tail_series(r, alpha, s, beta, x, u, z, want_grad):
    """log F(u) and its gradient in (r, alpha, s, beta) by the hypergeometric series (module docstring)."""
    k = r + x + s
    la, lb = np.log(alpha + u), np.log(beta + u)
    if alpha >= beta:
        e = r + x
        logF = -e * la - s * lb - np.log(k)
    else:
        e = np.full(len(x), s + 1.0)
        logF = -(r + x - 1.0) * la - (s + 1.0) * lb - np.log(k)
    lS, dS = _log_series(e, k + 1.0, z, want_grad)
    logF += lS
    if not want_grad:
        return logF, None
    dSe, dSk, dSz = dS
    dF = np.empty((4, len(x)))
    dF[0] = -la - 1.0 / k + dSk
    dF[2] = -lb - 1.0 / k + dSk
    if alpha >= beta:  # e = r + x, z = (alpha - beta) / (alpha + u)
        dF[0] += dSe
        dF[1] = -(r + x) / (alpha + u) + dSz * (beta + u) / (alpha + u) ** 2
        dF[3] = -s / (beta + u) - dSz / (alpha + u)
    else:  # e = s + 1, z = (beta - alpha) / (beta + u)
        dF[2] += dSe
        dF[1] = -(r + x - 1.0) / (alpha + u) - dSz / (beta + u)
        dF[3] = -(s + 1.0) / (beta + u) + dSz * (alpha + u) / (beta + u) ** 2
    return logF, dF


def _log_tail(r, alpha, s, beta, x, u, want_grad):
    """log F(u) and its gradient: the series where z <= _Z_SERIES, the quadrature elsewhere."""
    z = (alpha - beta) / (alpha + u) if alpha >= beta else (beta - alpha) / (beta + u)
    series = z <= _Z_SERIES
    if series.all():
        return _log_tail_series(r, alpha, s, beta, x, u, z, want_grad)
    if not series.any():
        return _log_tail_quadrature(r, alpha, s, beta, x, u, want_grad)
    logF = np.empty(len(x))
    dF = np.empty((4, len(x))) if want_grad else None
    for sel, values in (
        (series, _log_tail_series(r, alpha, s, beta, x[series], u[series], z[series], want_grad)),
        (~series, _log_tail_quadrature(r, alpha, s, beta, x[~series], u[~series], want_grad)),
    ):
        logF[sel] = values[0]
        if want_grad:
            dF[:, sel] = values[1]
    return logF, dF


def _log_tail_quadrature(r, alpha, s, beta, x, u, want_grad):
    """log F(u) = log int_u^inf (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau, and its gradient.

    With base = min(alpha, beta) and base + tau = (base + u) e^y,
    F(u) = (base+u)^-k int_0^inf exp(g(y)) dy, g(y) = -k y - e log(1 + c e^-y), k = r+x+s,
    (e, c) = (r+x, (alpha-beta)/(beta+u)) if alpha >= beta else (s+1, (beta-alpha)/(alpha+u)).
    c >= 0, so g is concave: it peaks at y_p (0 unless g'(0) > 0) and the range is cut where g
    has fallen CUT below its peak (Newton steps). Returns logF (n,) and d logF / d(r, alpha,
    s, beta) as a (4, n) array (or None).
    """
    n = len(x)
    logF = np.empty(n)
    dF = np.zeros((4, n)) if want_grad else None
    beta_branch = alpha >= beta
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(n, lo + _CHUNK))
        xs, us = x[sl], u[sl]
        if beta_branch:
            base, other = beta, alpha
            e = r + xs
        else:
            base, other = alpha, beta
            e = np.full(len(xs), s + 1.0)
        k = r + xs + s
        bu = base + us
        Lb = np.log(bu)
        c = (other - base) / bu

        def g(y):
            return -k * y - e * np.log1p(c * np.exp(-y))

        def dg(y):
            ey = c * np.exp(-y)
            return -k + e * ey / (1 + ey)

        rate0 = k - e * c / (1 + c)
        with np.errstate(divide="ignore", invalid="ignore"):
            yp = np.where(rate0 < 0, np.log(c * (e - k) / k), 0.0)
        yp = np.where(np.isfinite(yp) & (yp > 0), yp, 0.0)
        gmax = g(yp)
        # right end: Newton on phi(y) = g(y) - gmax + CUT (concave, decreasing right of y_p)
        yR = yp + _CUT / k
        for _ in range(5):
            yR = np.maximum(yR - (g(yR) - gmax + _CUT) / dg(yR), yp + 1e-3 / k)
        # left end: 0, or where g rises through gmax - CUT (Newton from the left, increasing side)
        yL = np.zeros_like(yp)
        cut_left = g(yL) < gmax - _CUT
        if cut_left.any():
            for _ in range(5):
                with np.errstate(divide="ignore", invalid="ignore"):
                    step = (g(yL) - gmax + _CUT) / dg(yL)
                yL = np.where(cut_left, np.clip(yL - np.nan_to_num(step), 0.0, yp), yL)
        # three panels split at the peak and at the kink log(c) of log(1 + c e^-y)
        with np.errstate(divide="ignore"):
            yK = np.clip(np.log(c), yL, yR)
        b1, b2 = np.minimum(yK, yp), np.maximum(yK, yp)
        edges = np.stack([yL, b1, b2, yR], axis=1)
        lengths = np.diff(edges, axis=1)  # (n, 3)
        # evaluate only the non-empty panels ("segments"); a pair's segments are contiguous
        seg_pair, seg_panel = np.nonzero(lengths > 0)
        first = np.flatnonzero(np.r_[True, seg_pair[1:] != seg_pair[:-1]])
        seg_len = lengths[seg_pair, seg_panel]
        yj = edges[seg_pair, seg_panel][:, None] + seg_len[:, None] * _XI[None, :]
        kk, ee, cc = k[seg_pair], e[seg_pair], c[seg_pair]
        emy = np.exp(-yj)
        cej = cc[:, None] * emy
        l1p = np.log1p(cej)
        G = -kk[:, None] * yj - ee[:, None] * l1p + _LOGW[None, :]
        Gs = G.max(axis=1)
        P = np.exp(G - Gs[:, None])
        Gs += np.log(seg_len)  # segment integral = exp(Gs) * sum(P)
        Gmax = np.maximum.reduceat(Gs, first)
        rel = np.exp(Gs - Gmax[seg_pair])
        S = np.add.reduceat(rel * P.sum(axis=1), first)
        logF[sl] = -k * Lb + Gmax + np.log(S)
        if not want_grad:
            continue
        P *= (rel / S[seg_pair])[:, None]  # normalised quadrature weights of the integrand
        E_k = -Lb - np.add.reduceat((P * yj).sum(axis=1), first)
        E_e = -np.add.reduceat((P * l1p).sum(axis=1), first)
        E_c = -e * np.add.reduceat((P * (emy / (1 + cej))).sum(axis=1), first)
        if beta_branch:
            dF[0, sl] = E_k + E_e
            dF[2, sl] = E_k
            dF[1, sl] = E_c / bu
            dF[3, sl] = -E_c * (alpha + us) / bu**2 - k / bu
        else:
            dF[0, sl] = E_k
            dF[2, sl] = E_k + E_e
            dF[3, sl] = E_c / bu
            dF[1, sl] = -E_c * (beta + us) / bu**2 - k / bu
    return logF, dF


def _pair_index(x, t_x, T):
    """Distinct (x, u) pairs over u in t_x and T, with the positions of each row's two pairs."""
    n = len(x)
    unique, _, inv = compress({"x": np.concatenate([x, x]), "u": np.concatenate([t_x, T])})
    return unique["x"], unique["u"], inv[:n], inv[n:]


def _pareto_core(r, alpha, s, beta, x, t_x, T, weights=None, pairs=None):
    """log of the bracket [(alpha+T)^-(r+x) (beta+T)^-s + s I], P(alive), and (with
    ``weights``) the weighted sum of the bracket's gradient in (r, alpha, s, beta).

    I = F(t_x) - F(T) is evaluated as F(t_x) (1 - F(T)/F(t_x)) in log space; F is computed
    once per distinct (x, u) pair, so data on a time grid cost little however many rows.
    """
    px, pu, i_tx, i_T = pairs if pairs is not None else _pair_index(x, t_x, T)
    want_grad = weights is not None
    logF, dF = _log_tail(r, alpha, s, beta, px, pu, want_grad)
    # functions of (x, u) once per distinct pair; a row reads its (x, t_x) and (x, T) pairs
    la_p, lb_p = np.log(alpha + pu), np.log(beta + pu)
    A = (-(r + px) * la_p - s * lb_p)[i_T]  # log of the first term, (alpha+T)^-(r+x) (beta+T)^-s
    lF_tx = logF[i_tx]
    delta = np.minimum(logF[i_T] - lF_tx, 0.0)  # log rho, rho = F(T) / F(t_x) <= 1
    B0 = np.log(s) + lF_tx - A
    with np.errstate(divide="ignore"):
        d = B0 + np.log(-np.expm1(delta))  # log(s I / first term); -inf where T == t_x (I = 0)
    sp = np.logaddexp(0.0, d)
    lse = A + sp
    pA = np.exp(-sp)  # = P(alive at T | x, t_x, T)
    if not want_grad:
        return lse, pA, None
    # d log I = (dF(t_x) - rho dF(T)) / (1 - rho); the weight of a row's second term over
    # (1 - rho) is w (1 - pA) / (1 - rho) = w exp(B0 - sp), finite even where rho = 1 (there the
    # two bincounts below cancel exactly, as both read the same pair)
    c1 = weights * np.exp(B0 - sp)
    c2 = c1 * np.exp(delta)
    npair = len(px)
    coef = np.bincount(i_tx, weights=c1, minlength=npair) - np.bincount(i_T, weights=c2, minlength=npair)
    wA = weights * pA
    wA_p = np.bincount(i_T, weights=wA, minlength=npair)
    grad = dF @ coef
    grad[0] -= wA_p @ la_p
    grad[1] -= wA_p @ ((r + px) / (alpha + pu))
    grad[2] += -(wA_p @ lb_p) + (weights.sum() - wA.sum()) / s
    grad[3] -= s * (wA_p @ (1.0 / (beta + pu)))
    return lse, pA, grad


class ParetoNBD(RepeatPurchaseCovariateMixin, ContinuousTimeModel):
    """Pareto/NBD model (Schmittlein, Morrison & Colombo 1987) with a stable likelihood.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col, recency_col, T_col : str
        Column names of the customer summary (times in the data's time unit, e.g. weeks).
    purchase_covariates : list of str, optional
        Columns of per-customer covariates z that act on the purchase process:
        ``alpha_i = alpha exp(-g' z_i)``, so the mean purchase rate ``r / alpha_i`` is
        multiplied by ``exp(g' z_i)`` (a positive coefficient: more purchases).
    dropout_covariates : list of str, optional
        Columns z that act on the dropout process: ``beta_i = beta exp(-g' z_i)``, so the mean
        dropout rate ``s / beta_i`` is multiplied by ``exp(g' z_i)`` (a positive coefficient:
        more dropout, shorter lifetimes).
    shared_covariates : list of str, optional
        Columns with one coefficient acting on both processes as above (CLVTools' equality
        constraint ``names.cov.constr``); a column listed here is not listed in the other two.
    covariate_penalizer : float or dict
        L2 penalty on the coefficients, per customer as ``penalizer`` (CLVTools'
        ``reg.lambdas``): one number for all, or ``{"purchase": ..., "dropout": ...}``; a shared
        coefficient is penalised with the sum of the two.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha`` (gamma heterogeneity in the purchase rate) and ``s``, ``beta`` (gamma
        heterogeneity in the drop-out rate); ``alpha`` and ``beta`` are in the data's time unit.
        With covariates, those of a customer whose covariates are all 0.
    coefficients_ : pandas.Series
        Only with covariates: one coefficient per ``process.column`` (``purchase.z``,
        ``dropout.z``, ``shared.z``).

    Notes
    -----
    On the CDNOW sample in weeks FH05 report r = 0.553, alpha = 10.578, s = 0.606,
    beta = 11.669 and log-likelihood -9595.0.

    Covariates follow CLVTools' Pareto/NBD with static covariates (Fader & Hardie 2007,
    http://brucehardie.com/notes/019/; CLVTools' ``trans.*`` coefficients are ``purchase.*``
    here and its ``life.*`` are ``dropout.*``, with the same values): ``fit`` reads the
    covariate columns from the data, every per-customer prediction uses each customer's
    covariates, and the new-customer predictions take the new customer's ``covariates``.

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> model = ParetoNBD().fit(rfm)
    >>> model.params_.round(3).to_dict(), round(model.log_likelihood_, 1)
    ({'r': 0.553, 'alpha': 10.578, 's': 0.606, 'beta': 11.669}, -9595.0)

    CLVTools' Pareto/NBD with static covariates on its apparel data (log-likelihood -5821.0627):

    >>> from crm_models.clv import join_covariates
    >>> from crm_models.datasets import load_apparel
    >>> apparel = rfm_summary(load_apparel(), observation_period_end="2006-12-31", after_end="drop")
    >>> apparel = join_covariates(apparel, load_apparel("static_covariates"))
    >>> cov = ParetoNBD(purchase_covariates=["gender", "channel"], dropout_covariates=["gender", "channel"])
    >>> cov = cov.fit(apparel)
    >>> round(cov.log_likelihood_, 4), cov.coefficients_.round(2).to_dict()
    (-5821.0627, {'purchase.gender': 0.29, 'purchase.channel': 0.62, 'dropout.gender': -0.64, 'dropout.channel': 0.79})
    >>> cov.expected_purchases_new_customer(52, covariates={"gender": 1, "channel": 0}).round(3).tolist()
    [1.194]
    """

    _title = "Pareto/NBD (Schmittlein, Morrison & Colombo 1987)"
    _param_names = ("r", "alpha", "s", "beta")
    _covariate_family = ParetoNBDCovariates()

    def __init__(
        self,
        penalizer: float = 0.0,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        purchase_covariates: list[str] | None = None,
        dropout_covariates: list[str] | None = None,
        shared_covariates: list[str] | None = None,
        covariate_penalizer: float = 0.0,
    ):
        super().__init__(penalizer, frequency_col, recency_col, T_col)
        self.purchase_covariates = purchase_covariates
        self.dropout_covariates = dropout_covariates
        self.shared_covariates = shared_covariates
        self.covariate_penalizer = covariate_penalizer

    def _initial_params(self, arrays, weights):
        x, T = arrays["x"], arrays["T"]
        rate = float((weights * x).sum() / (weights * T).sum()) or 0.1
        tbar = float((weights * T).sum() / weights.sum())
        return np.array([1.0, 1.0 / rate, 1.0, tbar])

    def _make_arrays(self, x, t_x, T):
        arrays = super()._make_arrays(x, t_x, T)
        arrays["pairs"] = _pair_index(x, t_x, T)
        return arrays

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-sum w log L (FH05 eq. 18 with the integral above) and its exact gradient."""
        r, alpha, s, beta = np.exp(log_params)
        x, t_x, T, xu, xinv = arrays["x"], arrays["t_x"], arrays["T"], arrays["xu"], arrays["xinv"]
        wu = np.bincount(xinv, weights=weights, minlength=len(xu))
        W = weights.sum()
        lse, _, g = _pareto_core(r, alpha, s, beta, x, t_x, T, weights=weights, pairs=arrays["pairs"])
        ll = (
            (wu * (gammaln(r + xu) - gammaln(r))).sum()
            + W * (r * np.log(alpha) + s * np.log(beta))
            + (weights * lse).sum()
        )
        g[0] += (wu * (digamma(r + xu) - digamma(r))).sum() + W * np.log(alpha)
        g[1] += W * r / alpha
        g[2] += W * np.log(beta)
        g[3] += W * s / beta
        return -ll, -g * np.array([r, alpha, s, beta])

    def _p_alive(self, p, pdata):
        """P(alive at T | x, t_x, T) (FH05 section 5.1, eqs. 36-37): the share of the likelihood's first term."""
        if self._uses_covariates():  # per-customer alpha, beta (or covariate periods)
            return self._covariate_p_alive(p, pdata)
        key = ("p_alive", p["r"], p["alpha"], p["s"], p["beta"])
        if key not in pdata.cache:
            pdata.cache.clear()
            pdata.cache[key] = _pareto_core(p["r"], p["alpha"], p["s"], p["beta"], pdata.x, pdata.t_x, pdata.T)[1]
        return pdata.cache[key]

    @staticmethod
    def _growth(s, beta_T, t):
        """[1 - (beta_T/(beta_T+t))^(s-1)] / (s-1), with its limit log(1 + t/beta_T) at s = 1."""
        lq = -np.log1p(t / beta_T)
        if abs(s - 1) < 1e-10:
            return -lq
        return -np.expm1((s - 1) * lq) / (s - 1)

    def _expected(self, p, pdata, t):
        """E[Y(t) | x, t_x, T] (FH05 eq. 41):

            (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive).
        """
        if self._uses_covariates():  # per-customer alpha, beta (or covariate periods)
            return self._covariate_expected(p, pdata, t)
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        x, T = pdata.x, pdata.T
        if t == 0:
            return np.zeros(len(x))
        return (r + x) / (alpha + T) * (beta + T) * self._growth(s, beta + T, t) * self._p_alive(p, pdata)

    def _expected_new(self, p, ts):
        """E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)] (FH05 eq. 27)."""
        r, alpha, s, beta = p["r"], p["alpha"], p["s"], p["beta"]
        return r / alpha * beta * self._growth(s, beta, np.asarray(ts, dtype=float))

    def _p_n(self, p, t, ns):
        """P(X(t) = n) = (beta/(beta+t))^s NBD_n(t) + int_0^t s beta^s (beta+tau)^-(s+1) NBD_n(tau) d tau,

        NBD_n(tau) = G(r+n)/(G(r) n!) (alpha/(alpha+tau))^r (tau/(alpha+tau))^n: the customer is
        alive throughout (0, t] or dies at tau; integrated numerically (population pmf of the model's story).
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

    # ------------------------------------------------- after T (crm_models.clv._forward)
    def _alive_posterior(self, p, x, T):
        """lambda ~ gamma(r + x, alpha + T), mu ~ gamma(s, beta + T) for a customer alive at T."""
        x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
        return {"r": p["r"] + x, "alpha": p["alpha"] + T, "s": np.full(x.shape, p["s"]), "beta": p["beta"] + T}

    def _still_alive(self, post, t):
        return fm.pareto_still_alive(t, post["s"], post["beta"])

    def _alive_pmf(self, post, t, ks):
        return fm.pareto_alive_pmf(ks, t, post["r"], post["alpha"], post["s"], post["beta"])

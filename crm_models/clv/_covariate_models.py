"""Likelihoods (with exact gradients) and predictions of each model with per-customer parameters.

Each class here is a :class:`~crm_models.clv._covariates.CovariateFamily`: the links of its
model (which parameters a covariate moves, and how) and the model's formulas evaluated with
parameters that differ between customers. In the likelihoods the linked parameters come per
covariate *pattern* (distinct covariate rows, ``gid`` of each data row), so functions of a
pattern and one data column are evaluated once per distinct pair; gradients are returned per
pattern and the generic layer turns them into gradients of the log-parameters and the
coefficients.

The formulas are the papers' (the same equations as the models without covariates, cited
there); only the bookkeeping differs. With every covariate equal to 0 each likelihood equals
the model's likelihood without covariates (tested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, gammaln

from crm_models._validation import fail_rows, require_columns
from crm_models.clv._covariates import (
    CovariateFamily,
    check_identifiable,
    covariate_matrix,
    fit_covariates,
    patterns,
)
from crm_models.clv.base import _as_float_array, compress
from crm_models.errors import DataError

__all__: list[str] = []


def _keyed(values: np.ndarray, gid: np.ndarray):
    """Distinct (value, pattern) pairs: (values, patterns, inverse of each row)."""
    u, _, inv = compress({"v": values, "g": gid})
    return u["v"].astype(float), u["g"].astype(np.int64), inv


def _by_pattern(gid, values, G):
    return np.bincount(gid, weights=values, minlength=G)


# ---------------------------------------------------------------------------------------------
# BG/NBD and MBG/NBD
# ---------------------------------------------------------------------------------------------


class BetaGeoCovariates(CovariateFamily):
    """BG/NBD (m = 0) and MBG/NBD (m = 1) with covariates, CLVTools' parameterisation.

    alpha_i = alpha exp(-g_purchase' z_i) (the purchase rate lambda ~ gamma(r, alpha_i), so
    E[lambda] = r / alpha_i is multiplied by exp(g_purchase' z_i)); a_i = a exp(g_dropout' z_i)
    and b_i = b exp(g_dropout' z_i) (the dropout probability p ~ beta(a_i, b_i): the mean
    a/(a+b) is unchanged and p concentrates around it as g_dropout' z_i grows, so fewer customers
    have a dropout probability near 0 and the expected number of purchases before dropping out,
    E[1/p] = (a_i + b_i - 1)/(a_i - 1), falls).
    """

    processes = ("purchase", "dropout", "shared")
    links = {"purchase": (("alpha", -1),), "dropout": (("a", 1), ("b", 1))}

    def __init__(self, m: int):
        self.m = m

    def make_arrays(self, x, t_x, T, gid) -> dict:
        return {"x": x, "t_x": t_x, "T": T, "gid": gid, "G": int(gid.max()) + 1 if len(gid) else 1,
                "xk": _keyed(x, gid), "Tk": _keyed(T, gid), "txk": _keyed(t_x, gid)}

    def neg_log_likelihood(self, pg, arrays, weights):
        """-sum w log L (FHL 2005 eq. 6; Batislam et al. 2007 for m = 1) with per-pattern alpha, a, b."""
        r = float(pg["r"])
        alpha_g, a_g, b_g = (np.asarray(pg[k], dtype=float) for k in ("alpha", "a", "b"))
        m, G = self.m, arrays["G"]
        x, gid = arrays["x"], arrays["gid"]
        xu, xg, xinv = arrays["xk"]
        wu = np.bincount(xinv, weights=weights, minlength=len(xu))
        a, b = a_g[xg], b_g[xg]
        cu = gammaln(r + xu) - gammaln(r) + gammaln(b + xu + m) - gammaln(a + b + xu + m) - gammaln(b) + gammaln(a + b)
        dr_u = digamma(r + xu) - digamma(r)
        da_u = digamma(a + b) - digamma(a + b + xu + m)
        db_u = digamma(b + xu + m) - digamma(b) + da_u
        has2 = (xu > 0) if m == 0 else np.ones(len(xu), dtype=bool)
        bx = np.where(has2, b + xu + m - 1, 1.0)
        with np.errstate(divide="ignore"):
            lr_u = np.where(has2, np.log(a) - np.log(bx), -np.inf)
        inv_bx_u = np.where(has2, 1.0 / bx, 0.0)

        Tu, Tg, Tinv = arrays["Tk"]
        txu, txg, txinv = arrays["txk"]
        aT = alpha_g[Tg] + Tu
        atx = alpha_g[txg] + txu
        lT, iT = np.log(aT)[Tinv], (1.0 / aT)[Tinv]
        ltx, itx = np.log(atx)[txinv], (1.0 / atx)[txinv]
        alpha_row = alpha_g[gid]
        la_row = np.log(alpha_row)
        rx = r + x
        dl = ltx - lT
        u1 = -rx * lT
        d = lr_u[xinv] - rx * dl
        ed = np.exp(np.minimum(d, 700.0))
        p2 = ed / (1.0 + ed)
        softplus = np.log1p(ed)
        big = d > 700.0
        if big.any():
            softplus[big] = d[big]
        ll = float((wu * cu).sum() + (weights * (r * la_row + u1 + softplus)).sum())
        wp2 = weights * p2
        g_r = (wu * dr_u).sum() + (weights * (la_row - lT)).sum() - (wp2 * dl).sum()
        g_alpha = _by_pattern(gid, weights * r / alpha_row - weights * rx * (iT + p2 * (itx - iT)), G)
        g_a = _by_pattern(xg, wu * da_u, G) + _by_pattern(gid, wp2, G) / a_g
        g_b = _by_pattern(xg, wu * db_u, G) - _by_pattern(gid, wp2 * inv_bx_u[xinv], G)
        return -ll, {"r": -g_r, "alpha": -g_alpha, "a": -g_a, "b": -g_b}

    # -- predictions with per-customer parameters (arrays over the customers) -----------------
    def p_alive(self, p, pdata, key=None):
        """P(alive | x, t_x, T) = 1 / (1 + a/(b+x+m-1) ((alpha+T)/(alpha+t_x))^(r+x))."""
        r, alpha, a, b, m = p["r"], p["alpha"], p["a"], p["b"], self.m
        x, t_x, T = pdata.x, pdata.t_x, pdata.T
        with np.errstate(divide="ignore", invalid="ignore"):
            logd = np.log(a) - np.log(b + x + m - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        if m == 0:
            logd = np.where(x > 0, logd, -np.inf)
        return expit(-logd)

    def expected(self, p, pdata, t, key=None):
        """E[Y(t) | x, t_x, T], FHL 2005 eq. (10), with the Euler-transformed 2F1 of the model without covariates."""
        from crm_models.clv.beta_geo import _hyp2f1

        r, m = p["r"], self.m
        n = len(pdata.x)
        if t == 0:
            return np.zeros(n)
        alpha = np.broadcast_to(p["alpha"], (n,))
        a = np.broadcast_to(p["a"], (n,)).astype(float)
        b = np.broadcast_to(p["b"], (n,)).astype(float)
        a = np.where(np.abs(a - 1) < 1e-7, 1 + 1e-7, a)  # removable singularities, as without covariates
        b = np.where(np.abs(a + b + m - 1) < 1e-7, 1 - m - a + 1e-7, b)
        u, _, inv = compress({"x": pdata.x, "T": pdata.T, "alpha": alpha, "a": a, "b": b})
        xu, Tu, au, bu, alu = u["x"], u["T"], u["a"], u["b"], u["alpha"]
        zu = t / (alu + Tu + t)
        Gu = np.exp((au - 1) * np.log1p(-zu)) * _hyp2f1(au + bu + m - 1 - r, au - 1, au + bu + xu + m - 1, zu)
        num = ((au + bu + xu + m - 1) / (au - 1) * (1 - Gu))[inv]
        return np.maximum(num * self.p_alive({**p, "a": a, "b": b}, pdata), 0.0)


# ---------------------------------------------------------------------------------------------
# Pareto/NBD
# ---------------------------------------------------------------------------------------------

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(24)
_XI = (_NODES + 1) / 2
_LOGW = np.log(_WEIGHTS / 2)
_CUT = 40.0
_CHUNK = 65536


def log_tail(r, s, alpha, beta, x, u, want_grad=True):
    """log F(u) = log int_u^inf (alpha+tau)^-(r+x) (beta+tau)^-(s+1) d tau with alpha, beta per element.

    The method of :mod:`crm_models.clv.pareto_nbd` (substitution base + tau = (base + u) e^y with
    base = min(alpha, beta), Gauss-Legendre on up to three panels split at the peak and the kink
    of the concave log-integrand, cut where it is exp(-40) below its peak), with the branch
    (alpha >= beta or not) chosen element by element. Returns logF and the (4, n) gradient with
    respect to (r, alpha, s, beta) of each element (or None).
    """
    n = len(x)
    logF = np.empty(n)
    dF = np.zeros((4, n)) if want_grad else None
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), (n,))
    beta = np.broadcast_to(np.asarray(beta, dtype=float), (n,))
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(n, lo + _CHUNK))
        xs, us, al, be = x[sl], u[sl], alpha[sl], beta[sl]
        bb = al >= be  # "beta branch": base = beta
        base = np.where(bb, be, al)
        other = np.where(bb, al, be)
        e = np.where(bb, r + xs, s + 1.0)
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
        yR = yp + _CUT / k
        for _ in range(5):
            yR = np.maximum(yR - (g(yR) - gmax + _CUT) / dg(yR), yp + 1e-3 / k)
        yL = np.zeros_like(yp)
        cut_left = g(yL) < gmax - _CUT
        if cut_left.any():
            for _ in range(5):
                with np.errstate(divide="ignore", invalid="ignore"):
                    step = (g(yL) - gmax + _CUT) / dg(yL)
                yL = np.where(cut_left, np.clip(yL - np.nan_to_num(step), 0.0, yp), yL)
        with np.errstate(divide="ignore"):
            yK = np.clip(np.log(c), yL, yR)
        b1, b2 = np.minimum(yK, yp), np.maximum(yK, yp)
        edges = np.stack([yL, b1, b2, yR], axis=1)
        lengths = np.diff(edges, axis=1)
        seg_pair, seg_panel = np.nonzero(lengths > 0)
        first = np.flatnonzero(np.r_[True, seg_pair[1:] != seg_pair[:-1]])
        seg_len = lengths[seg_pair, seg_panel]
        yj = edges[seg_pair, seg_panel][:, None] + seg_len[:, None] * _XI[None, :]
        kk, ee, cc = k[seg_pair], e[seg_pair], c[seg_pair]
        emy = np.exp(-yj)
        cej = cc[:, None] * emy
        l1p = np.log1p(cej)
        Gq = -kk[:, None] * yj - ee[:, None] * l1p + _LOGW[None, :]
        Gs = Gq.max(axis=1)
        P = np.exp(Gq - Gs[:, None])
        Gs += np.log(seg_len)
        Gmax = np.maximum.reduceat(Gs, first)
        rel = np.exp(Gs - Gmax[seg_pair])
        S = np.add.reduceat(rel * P.sum(axis=1), first)
        logF[sl] = -k * Lb + Gmax + np.log(S)
        if not want_grad:
            continue
        P *= (rel / S[seg_pair])[:, None]
        E_k = -Lb - np.add.reduceat((P * yj).sum(axis=1), first)
        E_e = -np.add.reduceat((P * l1p).sum(axis=1), first)
        E_c = -e * np.add.reduceat((P * (emy / (1 + cej))).sum(axis=1), first)
        d_base = -E_c * (other + us) / bu**2 - k / bu  # derivative through base (c and bu move)
        d_other = E_c / bu
        dF[0, sl] = np.where(bb, E_k + E_e, E_k)
        dF[2, sl] = np.where(bb, E_k, E_k + E_e)
        dF[1, sl] = np.where(bb, d_other, d_base)
        dF[3, sl] = np.where(bb, d_base, d_other)
    return logF, dF


class ParetoNBDCovariates(CovariateFamily):
    """Pareto/NBD with covariates, CLVTools' parameterisation (Fader & Hardie 2007, note 019).

    alpha_i = alpha exp(-g_purchase' z_i) (lambda ~ gamma(r, alpha_i): the mean purchase rate
    r / alpha_i is multiplied by exp(g_purchase' z_i)) and beta_i = beta exp(-g_dropout' z_i)
    (mu ~ gamma(s, beta_i): the mean dropout rate s / beta_i is multiplied by
    exp(g_dropout' z_i), and the mean lifetime beta_i / (s - 1) divided by it).
    """

    processes = ("purchase", "dropout", "shared")
    links = {"purchase": (("alpha", -1),), "dropout": (("beta", -1),)}
    dynamic = True  # also fits time-varying covariates (crm_models.clv._dynamic_covariates)

    def make_arrays(self, x, t_x, T, gid) -> dict:
        n = len(x)
        unique, _, inv = compress({"x": np.concatenate([x, x]), "u": np.concatenate([t_x, T]),
                                   "g": np.concatenate([gid, gid])})
        xu, xg, xinv = _keyed(x, gid)
        return {"x": x, "t_x": t_x, "T": T, "gid": gid, "G": int(gid.max()) + 1 if n else 1,
                "pairs": (unique["x"].astype(float), unique["u"].astype(float), unique["g"].astype(np.int64),
                          inv[:n], inv[n:]),
                "xk": (xu, xg, xinv)}

    @staticmethod
    def core(r, s, alpha_row, beta_row, x, t_x, T, pairs, alpha_pair, beta_pair, weights=None):
        """log of the bracket [(alpha+T)^-(r+x) (beta+T)^-s + s I] per row, P(alive), and (with weights)
        the gradient pieces: d/dr and d/ds summed, d/dalpha and d/dbeta per pair (from log I) and per row."""
        px, pu, _, i_tx, i_T = pairs
        want = weights is not None
        logF, dF = log_tail(r, s, alpha_pair, beta_pair, px, pu, want)
        lF_tx = logF[i_tx]
        delta = np.minimum(logF[i_T] - lF_tx, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            om1 = -np.expm1(delta)
            pos = (T > t_x) & (om1 > 0)
            om = np.where(pos, om1, 1.0)
            logI = np.where(pos, lF_tx + np.log(om), -np.inf)
        lT_a = np.log(alpha_row + T)
        lT_b = np.log(beta_row + T)
        A = -(r + x) * lT_a - s * lT_b
        lse = np.logaddexp(A, np.log(s) + logI)
        pA = np.exp(A - lse)
        if not want:
            return lse, pA, None
        wA = weights * pA
        wB = weights - wA
        c1 = np.where(pos, wB / om, 0.0)
        c2 = c1 * np.exp(delta)
        npair = len(px)
        coef = np.bincount(i_tx, weights=c1, minlength=npair) - np.bincount(i_T, weights=c2, minlength=npair)
        pieces = {
            "r": float((dF[0] * coef).sum() - (wA * lT_a).sum()),
            "s": float((dF[2] * coef).sum() - (wA * lT_b).sum() + wB.sum() / s),
            "alpha_pair": dF[1] * coef,
            "beta_pair": dF[3] * coef,
            "alpha_row": -wA * (r + x) / (alpha_row + T),
            "beta_row": -wA * s / (beta_row + T),
        }
        return lse, pA, pieces

    def neg_log_likelihood(self, pg, arrays, weights):
        """-sum w log L (FH05 eq. 18, the integral evaluated as in the model without covariates)."""
        r, s = float(pg["r"]), float(pg["s"])
        alpha_g, beta_g = np.asarray(pg["alpha"], dtype=float), np.asarray(pg["beta"], dtype=float)
        x, t_x, T, gid, G = arrays["x"], arrays["t_x"], arrays["T"], arrays["gid"], arrays["G"]
        pairs = arrays["pairs"]
        pgid = pairs[2]
        alpha_row, beta_row = alpha_g[gid], beta_g[gid]
        lse, _, pc = self.core(r, s, alpha_row, beta_row, x, t_x, T, pairs, alpha_g[pgid], beta_g[pgid], weights)
        xu, _, xinv = arrays["xk"]
        wu = np.bincount(xinv, weights=weights, minlength=len(xu))
        la, lb = np.log(alpha_row), np.log(beta_row)
        ll = float((wu * (gammaln(r + xu) - gammaln(r))).sum() + (weights * (r * la + s * lb + lse)).sum())
        g_r = pc["r"] + (wu * (digamma(r + xu) - digamma(r))).sum() + (weights * la).sum()
        g_s = pc["s"] + (weights * lb).sum()
        g_alpha = (_by_pattern(pgid, pc["alpha_pair"], G)
                   + _by_pattern(gid, pc["alpha_row"] + weights * r / alpha_row, G))
        g_beta = (_by_pattern(pgid, pc["beta_pair"], G)
                  + _by_pattern(gid, pc["beta_row"] + weights * s / beta_row, G))
        return -ll, {"r": -g_r, "s": -g_s, "alpha": -g_alpha, "beta": -g_beta}

    # -- predictions --------------------------------------------------------------------------
    def p_alive(self, p, pdata, key=None):
        """P(alive at T | x, t_x, T): the share of the likelihood's first term (FH05 eqs. 36-37)."""
        if key is not None and key in pdata.cache:
            return pdata.cache[key]
        n = len(pdata.x)
        alpha = np.broadcast_to(np.asarray(p["alpha"], dtype=float), (n,))
        beta = np.broadcast_to(np.asarray(p["beta"], dtype=float), (n,))
        u, _, inv = compress({"a": alpha, "b": beta})
        gid = inv
        pairs_u, _, pinv = compress({"x": np.concatenate([pdata.x, pdata.x]), "u": np.concatenate([pdata.t_x, pdata.T]),
                                     "g": np.concatenate([gid, gid])})
        pairs = (pairs_u["x"].astype(float), pairs_u["u"].astype(float), pairs_u["g"].astype(np.int64),
                 pinv[:n], pinv[n:])
        pg = pairs[2]
        out = self.core(p["r"], p["s"], alpha, beta, pdata.x, pdata.t_x, pdata.T, pairs, u["a"][pg], u["b"][pg])[1]
        if key is not None:
            pdata.cache.clear()
            pdata.cache[key] = out
        return out

    @staticmethod
    def growth(s, beta_T, t):
        """[1 - (beta_T/(beta_T+t))^(s-1)] / (s-1), with its limit log(1 + t/beta_T) at s = 1."""
        lq = -np.log1p(t / beta_T)
        if abs(s - 1) < 1e-10:
            return -lq
        return -np.expm1((s - 1) * lq) / (s - 1)

    def expected(self, p, pdata, t, key=None):
        """E[Y(t) | x, t_x, T] = (r+x)(beta_i+T) / ((alpha_i+T)(s-1)) [1 - ((beta_i+T)/(beta_i+T+t))^(s-1)] P(alive)."""
        r, s = p["r"], p["s"]
        x, T = pdata.x, pdata.T
        if t == 0:
            return np.zeros(len(x))
        return (r + x) / (p["alpha"] + T) * (p["beta"] + T) * self.growth(s, p["beta"] + T, t) * self.p_alive(
            p, pdata, key)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------------------------


class GammaGammaCovariates(CovariateFamily):
    """Gamma-Gamma spend with covariates on the spend scale.

    gamma_i = gamma exp(g_spend' z_i): the rate nu of a customer's transaction values is
    gamma(q, gamma_i), so the population mean spend p gamma_i / (q - 1) (FH13 eq. 4) and the
    spend of every customer scale with exp(g_spend' z_i).
    """

    processes = ("spend",)
    links = {"spend": (("gamma", 1),)}

    def make_arrays(self, x, m, gid) -> dict:
        return {"x": x, "m": m, "gid": gid, "G": int(gid.max()) + 1 if len(gid) else 1}

    def fit(self, model, data, initial_params):
        """Fit ``model`` (a GammaGamma with spend covariates) to the customers with repeat purchases."""
        spec = model._covariate_spec_
        x, m = model._validate(data)
        rep = x > 0
        if not rep.any():
            raise DataError(
                model.frequency_col, "has no customer with a value > 0: the spend model needs repeat purchases",
                message=f"data has no customer with '{model.frequency_col}' > 0: the spend model needs repeat "
                        "purchases",
            )
        Z = covariate_matrix(data, spec.all_columns)
        check_identifiable(data, spec, Z, rep)
        Zr = Z[rep]
        unique, counts, _ = compress({"x": x[rep], "m": m[rep], **{f"z{j}": Zr[:, j] for j in range(Z.shape[1])}})
        Zu = np.column_stack([unique[f"z{j}"] for j in range(Z.shape[1])])
        Zg, gid = patterns(Zu)
        arrays = self.make_arrays(unique["x"], unique["m"], gid)
        return fit_covariates(model, arrays, counts, float(counts.sum()), Zg, Zu, initial_params)

    def neg_log_likelihood(self, pg, arrays, weights):
        """-sum w log f(m_x | p, q, gamma_i, x), FH13 eq. (1a)."""
        p, q = float(pg["p"]), float(pg["q"])
        gamma_g = np.asarray(pg["gamma"], dtype=float)
        x, m, gid, G = arrays["x"], arrays["m"], arrays["gid"], arrays["G"]
        g = gamma_g[gid]
        px = p * x
        lxm = np.log(x * m + g)
        lm, lx, lg = np.log(m), np.log(x), np.log(g)
        ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * lg + (px - 1) * lm + px * lx - (px + q) * lxm
        dpq = digamma(px + q)
        d_p = x * (dpq - digamma(px) + lm + lx - lxm)
        d_q = dpq - digamma(q) + lg - lxm
        d_g = q / g - (px + q) / (x * m + g)
        return -float((weights * ll).sum()), {"p": -float((weights * d_p).sum()), "q": -float((weights * d_q).sum()),
                                              "gamma": -_by_pattern(gid, weights * d_g, G)}


# ---------------------------------------------------------------------------------------------
# BG/BB
# ---------------------------------------------------------------------------------------------


def _dlbeta(a, b):
    dab = digamma(a + b)
    return digamma(a) - dab, digamma(b) - dab


def bgbb_loglik_rows(a, b, g, d, x, t_x, n, *, grad: bool = False, block_cells: int = 2_000_000):
    """BG/BB log-likelihood per customer, FHS 2010 eq. (5), with (alpha, beta, gamma, delta) per customer.

    L = B(a+x, b+n-x)/B(a,b) B(g, d+n)/B(g,d)
        + sum_{i=0}^{n-t_x-1} B(a+x, b+t_x-x+i)/B(a,b) B(g+1, d+t_x+i)/B(g,d),

    the terms combined by a streaming log-sum-exp over blocks of i (as in
    :mod:`crm_models.clv._bgbb_math`, which takes one set of parameters). With ``grad=True``
    also the (n, 4) derivatives with respect to (alpha, beta, gamma, delta).
    """
    from scipy.special import betaln

    m_ = len(x)
    a, b, g, d = (np.broadcast_to(np.asarray(v, dtype=float), (m_,)) for v in (a, b, g, d))
    base = -betaln(a, b) - betaln(g, d)
    head = betaln(a + x, b + n - x) + betaln(g, d + n) + base
    width = (n - t_x).astype(np.int64)
    wmax = int(width.max(initial=0))
    mx = head.copy()
    ssum = np.ones_like(head)
    if grad:
        da0, db0 = _dlbeta(a, b)
        dg0, dd0 = _dlbeta(g, d)
        ha, hb = _dlbeta(a + x, b + n - x)
        hg, hd = _dlbeta(g, d + n)
        acc = np.column_stack([ha - da0, hb - db0, hg - dg0, hd - dd0])
    step = max(1, block_cells // max(m_, 1))
    for start in range(0, wmax, step):
        i = np.arange(start, min(wmax, start + step), dtype=float)[None, :]
        valid = i < width[:, None]
        bb = b[:, None] + t_x[:, None] - x[:, None] + i
        dd = d[:, None] + t_x[:, None] + i
        lt = betaln(a[:, None] + x[:, None], bb) + betaln(g[:, None] + 1.0, dd) + base[:, None]
        lt = np.where(valid, lt, -np.inf)
        new_m = np.maximum(mx, lt.max(axis=1))
        scale = np.exp(mx - new_m)
        e = np.exp(lt - new_m[:, None])
        ssum = ssum * scale + e.sum(axis=1)
        if grad:
            ta, tb = _dlbeta(a[:, None] + x[:, None], bb)
            tg, td = _dlbeta(g[:, None] + 1.0, dd)
            esum = e.sum(axis=1)
            parts = [
                (e * np.where(valid, ta, 0.0)).sum(axis=1) - esum * da0,
                (e * np.where(valid, tb, 0.0)).sum(axis=1) - esum * db0,
                (e * np.where(valid, tg, 0.0)).sum(axis=1) - esum * dg0,
                (e * np.where(valid, td, 0.0)).sum(axis=1) - esum * dd0,
            ]
            acc = acc * scale[:, None] + np.column_stack(parts)
        mx = new_m
    ll = mx + np.log(ssum)
    if grad:
        return ll, acc / ssum[:, None]
    return ll


class BetaGeoBetaBinomCovariates(CovariateFamily):
    """BG/BB with covariates on the transaction and dropout propensities.

    alpha_i = alpha exp(g_purchase' z_i): p ~ beta(alpha_i, beta), so the odds of the mean
    transaction propensity alpha_i / beta are multiplied by exp(g_purchase' z_i);
    gamma_i = gamma exp(g_dropout' z_i): theta ~ beta(gamma_i, delta), the odds of the mean
    dropout probability per opportunity gamma_i / delta are multiplied by exp(g_dropout' z_i).
    """

    processes = ("purchase", "dropout", "shared")
    links = {"purchase": (("alpha", 1),), "dropout": (("gamma", 1),)}

    def make_arrays(self, x, t_x, n, gid) -> dict:
        return {"x": x, "t_x": t_x, "n": n, "gid": gid, "G": int(gid.max()) + 1 if len(gid) else 1}

    def neg_log_likelihood(self, pg, arrays, weights):
        """-sum w log L, FHS 2010 eq. (5), with per-customer alpha and gamma."""
        gid, G = arrays["gid"], arrays["G"]
        alpha = np.asarray(pg["alpha"], dtype=float)[gid]
        gamma = np.asarray(pg["gamma"], dtype=float)[gid]
        ll, gr = bgbb_loglik_rows(alpha, pg["beta"], gamma, pg["delta"], arrays["x"], arrays["t_x"], arrays["n"],
                                  grad=True)
        wg = weights[:, None] * gr
        return -float(weights @ ll), {"alpha": -_by_pattern(gid, wg[:, 0], G), "beta": -float(wg[:, 1].sum()),
                                      "gamma": -_by_pattern(gid, wg[:, 2], G), "delta": -float(wg[:, 3].sum())}

    # -- predictions with per-customer alpha and gamma ----------------------------------------
    @staticmethod
    def log_p_alive(p, x, t_x, n, ahead):
        """log P(alive at opportunity n + ahead | x, t_x, n): B(a+x, b+n-x)/B(a,b) B(g, d+n+ahead)/B(g,d) / L."""
        from scipy.special import betaln

        a, b, g, d = p["alpha"], p["beta"], p["gamma"], p["delta"]
        num = betaln(a + x, b + n - x) - betaln(a, b) + betaln(g, d + n + ahead) - betaln(g, d)
        return np.minimum(num - bgbb_loglik_rows(a, b, g, d, x, t_x, n), 0.0)

    @staticmethod
    def expected(p, x, t_x, n, n_star):
        """E[X(n, n+n*) | x, t_x, n], FHS 2010 eq. (13)."""
        from scipy.special import betaln

        a, b, g, d = (np.broadcast_to(np.asarray(p[k], dtype=float), np.shape(x)) for k in
                      ("alpha", "beta", "gamma", "delta"))
        log_front = betaln(a + x + 1.0, b + n - x) - betaln(a, b) - bgbb_loglik_rows(a, b, g, d, x, t_x, n)
        lo, hi = n, n + float(n_star)
        c = gammaln(g + d) - gammaln(1.0 + d)
        log_h_lo = gammaln(1.0 + d + lo) - gammaln(g + d + lo)
        log_h_hi = gammaln(1.0 + d + hi) - gammaln(g + d + hi)
        near1 = np.abs(g - 1.0) < 1e-8
        with np.errstate(divide="ignore", invalid="ignore"):
            bracket = np.where(near1, digamma(1.0 + d + hi) - digamma(1.0 + d + lo),
                               -np.exp(c + log_h_lo) * np.expm1(log_h_hi - log_h_lo) / (g - 1.0))
        return np.exp(log_front) * d * bracket


# ---------------------------------------------------------------------------------------------
# sBG
# ---------------------------------------------------------------------------------------------


class ShiftedBetaGeoCovariates(CovariateFamily):
    """sBG with covariates on churn: alpha_i = alpha exp(g_dropout' z_i).

    theta ~ beta(alpha_i, beta), so the odds of the mean churn probability per period
    alpha_i / beta are multiplied by exp(g_dropout' z_i) (a positive coefficient: more churn).
    The data are several cohorts, each with its own covariates.
    """

    processes = ("dropout",)
    links = {"dropout": (("alpha", 1),)}

    def fit(self, model, data, unit, cohort_size, initial_params):
        """Fit ``model`` (a ShiftedBetaGeo with covariates) to stacked cohorts.

        ``data`` holds several cohorts one after the other, each starting at period 0 and running
        0, 1, 2, ... without gaps, with survivor counts and the cohort's covariates (the same in
        every row of a cohort).
        """
        spec = model._covariate_spec_
        what = "cohort data"
        if not isinstance(data, pd.DataFrame):
            raise TypeError("with covariates, data must be a DataFrame of stacked cohorts (period, survivors and the "
                            "covariate columns)")
        if unit != "count":
            raise ValueError("with covariates, survivors must be counts (unit='count'): each cohort's size sets its "
                             "weight in the likelihood")
        if cohort_size is not None:
            raise ValueError("cohort_size does not apply with covariates: each cohort's size is its survivors at "
                             "period 0")
        pcol, scol = model.period_col, model.survivors_col
        require_columns(data, [pcol, scol], what=what)
        if len(data) == 0:
            raise DataError(None, "is empty: a model needs at least one cohort", what=what)
        t = _as_float_array(data, pcol, what)
        sv = _as_float_array(data, scol, what)
        Z = covariate_matrix(data, spec.all_columns, what)
        fail_rows(data, t != np.floor(t), pcol, "must hold whole periods", what=what)
        start = np.flatnonzero(t == 0)
        if len(start) == 0 or start[0] != 0:
            fail_rows(data, np.arange(len(t)) == 0, pcol,
                      "must start each cohort at period 0 (cohorts are stacked one after the other)", what=what)
        cohort = np.cumsum(t == 0) - 1
        expected = np.arange(len(t)) - start[cohort]
        fail_rows(data, t != expected, pcol,
                  "must run 0, 1, 2, ... within each cohort, without gaps or repeats (a new cohort starts at 0)",
                  what=what)
        fail_rows(data, sv < 0, scol, "must not be negative", what=what)
        first = t == 0
        fail_rows(data, first & (sv <= 0), scol, "must be positive at period 0 (the cohort size)", what=what)
        increase = np.r_[False, (np.diff(sv) > 0) & ~first[1:]]
        fail_rows(data, increase, scol, "must not increase from one period to the next (a cohort can only shrink)",
                  what=what)
        for j, col in enumerate(spec.all_columns):
            differs = np.r_[False, (np.diff(Z[:, j]) != 0) & ~first[1:]]
            fail_rows(data, differs, col, "must be the same in every row of a cohort (a cohort's covariates)",
                      what=what)
        n_cohorts = len(start)
        stops = np.r_[start[1:], len(t)]
        single = np.zeros(len(t), dtype=bool)
        single[start[(stops - start) < 2]] = True
        fail_rows(data, single, pcol, "must continue after period 0 in every cohort (a cohort needs at least one "
                  "later period)", what=what)
        lost = [-np.diff(sv[a:b]) for a, b in zip(start, stops)]
        ends = [float(sv[b - 1]) for b in stops]
        sizes = sv[start]
        Zc = Z[start]
        check_identifiable(data.iloc[start], spec, Zc, np.ones(n_cohorts, dtype=bool), what)
        Zg, gid = patterns(Zc)
        arrays = {"lost": lost, "survivors_end": ends, "gid": gid}
        fit_covariates(model, arrays, sizes.astype(float), float(sizes.sum()), Zg, Zc, initial_params)
        model.n_periods_ = int((stops - start).max() - 1)
        return model

    def neg_log_likelihood(self, pg, arrays, weights):
        """-sum over cohorts of [sum_t lost_t log P(T=t) + survivors_T log S(T)], Fader & Hardie 2007 eq. (7)."""
        from crm_models.clv import _sbg_math as sbg

        beta = float(pg["beta"])
        alpha_g = np.asarray(pg["alpha"], dtype=float)
        g_alpha = np.zeros(len(alpha_g))
        g_beta = total = 0.0
        for k, (lost, end) in enumerate(zip(arrays["lost"], arrays["survivors_end"])):
            a = alpha_g[arrays["gid"][k]]
            value, grad = sbg.neg_loglik(np.log([a, beta]), lost, end)
            total += value
            g_alpha[arrays["gid"][k]] += grad[0] / a
            g_beta += grad[1] / beta
        return total, {"alpha": g_alpha, "beta": g_beta}

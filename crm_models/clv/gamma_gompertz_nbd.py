"""GGom/NBD: the gamma-Gompertz/NBD model of Bemmaor & Glady (2012), as CLVTools fits it.

Bemmaor, A. C. and Glady, N. (2012), "Modeling purchasing behavior with sudden 'death': a
flexible customer lifetime model", *Management Science* 58(5), 1012-1021. Reference
implementation: the R package CLVTools (``ggomnbd``), parameters in its order
(r, alpha, b, s, beta); its conditional expectation follows Adler's (2022) erratum.

Story, for one customer: while alive, purchases follow a Poisson process with rate lambda,
lambda ~ gamma(r, alpha); the lifetime tau is Gompertz, P(tau > t | eta) = exp(-eta (e^(b t) - 1)),
with eta ~ gamma(s, beta) across customers, so the population survival is

    S(t) = (beta / (beta - 1 + e^(b t)))^s,   density f(t) = b s beta^s e^(b t) (beta - 1 + e^(b t))^-(s+1).

b > 0 makes the drop-out hazard of a customer rise (b large) or stay nearly flat with age; as
b -> 0 with beta / b fixed the model becomes the Pareto/NBD (S(t) -> (beta_P/(beta_P + t))^s,
beta_P = beta / b). Data: ``x`` repeat purchases, the last at ``t_x``, observed until ``T``.

Likelihood (the paper's eq. for L(r, alpha, b, s, beta | x, t_x, T), as in CLVTools):

    L = G(r+x) alpha^r / G(r) [ (alpha+T)^-(r+x) S(T) + int_{t_x}^{T} (alpha+y)^-(r+x) f(y) dy ],

alive at T, or died at some y in (t_x, T]. The integral is G(t_x) - G(T) with the tail
G(u) = int_u^inf (alpha+y)^-(r+x) f(y) dy, computed once per distinct (x, u) pair by Gauss-Legendre
quadrature in w = log((alpha+y)/(alpha+u)) on panels whose ends are placed where the two
factors change: at w = 1/(r+x), 4/(r+x), 16/(r+x) (the power's decay) and where the remaining
survival S(y)/S(u) has fallen to 1/2, 1/10, ..., 1e-32 (the lifetime's spread, whatever b);
all in log space. P(alive) = (first term) / (bracket). The conditional expectation is

    E[X(T, T+t) | x, t_x, T] = P(alive) (r+x)/(alpha+T) int_0^t ((beta-1+e^(bT)) / (beta-1+e^(b(T+v))))^s dv

(lambda and the remaining lifetime are independent given alive; CLVTools after Adler 2022), and
E[X(t)] of a new customer is r/alpha int_0^t S(v) dv; both integrals by quadrature on panels at
the remaining lifetime's quantiles.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, optimize
from scipy.special import digamma, gammaln

from crm_models.clv.base import ContinuousTimeModel
from crm_models.clv.pareto_nbd import ParetoNBD, _pair_index
from crm_models.errors import ConvergenceError

__all__ = ["GammaGompertzNBD"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(12)
_XI = (_NODES + 1) / 2
_W = _WEIGHTS / 2
#: remaining-survival levels S(y)/S(u) at which the quadrature panels end
_LEVELS = np.log(np.array([0.7, 0.5, 0.3, 0.1, 0.03, 1e-2, 3e-3, 1e-3, 1e-4, 1e-6, 1e-8, 1e-12, 1e-16, 1e-24, 1e-32]))
#: and where the power (alpha+y)^-(r+x) has decayed by exp(-_POWER)
_POWER = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
_SUBSAMPLE = 20_000  # distinct rows above which the search starts on a subsample of them
_CHUNK = 256  # pairs per block: small blocks stay in cache (3-4x faster than large ones)


def _log_E(b, beta, y):
    """log(beta - 1 + e^(b y)), accurate for small and large b y (beta - 1 + e^(by) >= beta > 0)."""
    by = b * y
    with np.errstate(over="ignore", invalid="ignore"):
        small = np.log(beta + np.expm1(np.minimum(by, 1.0)))
        large = by + np.log1p((beta - 1.0) * np.exp(-np.maximum(by, 1.0)))
    return np.where(by <= 1.0, small, large)


def _y_at_level(b, beta, s, logE_u, level):
    """y where S(y)/S(u) = exp(level): log E(y) = log E(u) - level / s, then b y = log(E(y) + 1 - beta)."""
    logE = logE_u - level / s
    if beta >= 1.0:  # e^(by) = E - (beta - 1) = 1 + beta expm1(log E - log beta), accurate near E = beta too
        d = logE - np.log(beta)
        with np.errstate(over="ignore"):
            near = np.log1p(beta * np.expm1(np.minimum(d, 1.0)))
        far = logE + np.log1p(-(beta - 1.0) * np.exp(-np.maximum(logE, np.log(beta) + 1.0)))
        by = np.where(d < 1.0, near, far)
    else:
        by = np.logaddexp(logE, np.log1p(-beta))
    return by / b


def _log_tail(r, alpha, b, s, beta, x, u, want_grad):
    """log G(u) = log int_u^inf (alpha+y)^-(r+x) f(y) dy per (x, u) pair, and d log G / d(r, alpha, b, s, beta).

    The variable of integration is w = log((alpha+y)/(alpha+u)) when beta >= 1 and
    zeta = log(beta - 1 + e^(by)) when beta < 1: then f(y) dy = s beta^s e^(-s zeta) d zeta, which
    removes the near-singularity of f at y = log(1-beta)/b just below 0.
    """
    n = len(x)
    logG = np.empty(n)
    dG = np.zeros((5, n)) if want_grad else None
    in_zeta = beta < 1.0
    for lo in range(0, n, _CHUNK):
        sl = slice(lo, min(n, lo + _CHUNK))
        xs, us = x[sl], u[sl]
        m = len(xs)
        c = r + xs
        au = alpha + us
        logE_u = _log_E(b, beta, us)
        # panel ends in y: where the power has decayed by e^-1, e^-4, e^-16, and the lifetime levels
        y_pow = us[:, None] + au[:, None] * np.expm1(_POWER[None, :] / c[:, None])
        if in_zeta:
            v_lev = logE_u[:, None] - _LEVELS[None, :] / s
            v_pow = _log_E(b, beta, y_pow)
            v0 = logE_u[:, None]
        else:
            y_lev = _y_at_level(b, beta, s, logE_u[:, None], _LEVELS[None, :])
            v_lev = np.log1p(np.maximum(y_lev - us[:, None], 0.0) / au[:, None])
            v_pow = _POWER[None, :] / c[:, None]
            v0 = np.zeros((m, 1))
        v_end = v_lev[:, -1:]
        edges = np.sort(np.concatenate([v0, np.minimum(v_pow, v_end), v_lev], axis=1), axis=1)
        lengths = np.diff(edges, axis=1)
        vj = edges[:, :-1, None] + lengths[:, :, None] * _XI[None, None, :]  # (m, P, N)
        if in_zeta:  # lE = zeta; b y = log(e^zeta + 1 - beta), both terms accurate (no cancellation)
            lE = vj
            by = np.logaddexp(vj, np.log1p(-beta))
            y = by / b
            ay = alpha + y
            la = np.log(ay)
            G = -c[:, None, None] * la - s * vj - np.log(b)  # by - (s+1) lE + log(dy/dzeta) = -s zeta - log b
            inv_E = np.exp(-vj)
            ratio = np.exp(by - vj)  # e^(by) / (beta - 1 + e^(by))
        else:  # alpha + y = (alpha + u) e^w; lE = b y + log1p((beta - 1) e^-by) (beta >= 1)
            la = np.log(au)[:, None, None] + vj
            ay = np.exp(la)
            y = ay - alpha
            by = b * y
            q = np.exp(-by)
            bq = 1.0 + (beta - 1.0) * q
            lE = by + np.log(bq)
            G = (1.0 - c[:, None, None]) * la + by - (s + 1.0) * lE
            ratio = 1.0 / bq
            inv_E = q * ratio
        with np.errstate(divide="ignore"):
            G += (np.log(lengths)[:, :, None] + np.log(_W)[None, None, :])
        Gm = G.reshape(m, -1)
        Gmax = Gm.max(axis=1)
        P = np.exp(Gm - Gmax[:, None])
        S = P.sum(axis=1)
        logG[sl] = Gmax + np.log(S) + np.log(b) + np.log(s) + s * np.log(beta)
        if not want_grad:
            continue
        P /= S[:, None]
        yf, laf, lEf = y.reshape(m, -1), la.reshape(m, -1), lE.reshape(m, -1)
        dG[0, sl] = -(P * laf).sum(axis=1)
        dG[1, sl] = -c * (P / ay.reshape(m, -1)).sum(axis=1)
        dG[2, sl] = 1.0 / b + (P * yf * (1.0 - (s + 1.0) * ratio.reshape(m, -1))).sum(axis=1)
        dG[3, sl] = 1.0 / s + np.log(beta) - (P * lEf).sum(axis=1)
        dG[4, sl] = s / beta - (s + 1.0) * (P * inv_E.reshape(m, -1)).sum(axis=1)
    return logG, dG


def _remaining_time(b, beta, s, T, t):
    """int_0^t ((beta-1+e^(bT)) / (beta-1+e^(b(T+v))))^s dv per T: expected alive time in (T, T+t]
    of a customer alive at T (Gauss-Legendre on panels at the remaining lifetime's quantiles)."""
    T = np.asarray(T, dtype=float)
    logE_T = _log_E(b, beta, T)
    v_lev = _y_at_level(b, beta, s, logE_T[:, None], _LEVELS[None, :]) - T[:, None]
    edges = np.sort(np.concatenate([np.zeros((len(T), 1)), np.clip(v_lev, 0.0, t), np.full((len(T), 1), t)],
                                   axis=1), axis=1)
    lengths = np.diff(edges, axis=1)
    v = edges[:, :-1, None] + lengths[:, :, None] * _XI[None, None, :]
    ratio = np.exp(-s * (_log_E(b, beta, T[:, None, None] + v) - logE_T[:, None, None]))
    return (ratio * lengths[:, :, None] * _W[None, None, :]).sum(axis=(1, 2))


class GammaGompertzNBD(ContinuousTimeModel):
    """GGom/NBD model (Bemmaor & Glady 2012): NBD purchasing, gamma-Gompertz lifetimes.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col, recency_col, T_col : str
        Column names of the customer summary (times in the data's time unit, e.g. weeks).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha`` (gamma heterogeneity in the purchase rate; ``alpha`` in the data's time
        unit), ``b`` (the Gompertz scale: how fast a customer's drop-out hazard rises with age,
        per time unit), ``s``, ``beta`` (gamma heterogeneity in the lifetime's level), in
        CLVTools' order.
    pareto_limit_ : bool
        True when b ran to the Pareto/NBD limit, where only beta / b is identified (see Notes).

    Notes
    -----
    On the CDNOW sample in weeks Bemmaor & Glady (2012, Table 2) report r = 0.553,
    alpha = 10.578, b = 0.0002, s = 0.603, beta = 0.0026 and log-likelihood -9594.98 (CLVTools:
    r = 0.55313, alpha = 10.5758, b = 0.0000011, s = 0.60682, beta = 0.000013, -9594.9762): the
    data prefer the Pareto/NBD limit b -> 0, where only beta / b (11.7 weeks, the Pareto/NBD's
    beta) is identified and b and beta themselves are not. The fit then stops at a small b
    whose exact value carries no information; the standard errors of b and beta are not
    meaningful there (compare the likelihood with the Pareto/NBD's instead).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> model = GammaGompertzNBD().fit(rfm)
    >>> round(model.log_likelihood_, 2), model.params_[["r", "alpha", "s"]].round(3).tolist()
    (-9594.98, [0.553, 10.578, 0.606])
    """

    _title = "GGom/NBD (Bemmaor & Glady 2012)"
    _param_names = ("r", "alpha", "b", "s", "beta")
    _predictions = ContinuousTimeModel._predictions

    def _initial_params(self, arrays, weights):
        """Start from the Pareto/NBD it nests (a fast fit): b with b T_max = 0.1, beta = b beta_P."""
        pnbd = ParetoNBD()
        try:
            pnbd._fit_prepared(arrays, weights, float(weights.sum()))
            r, alpha, s, beta_p = pnbd.params_.to_numpy()
        except ConvergenceError:
            x, T = arrays["x"], arrays["T"]
            rate = float((weights * x).sum() / (weights * T).sum()) or 0.1
            r, alpha, s, beta_p = 1.0, 1.0 / rate, 1.0, float((weights * T).sum() / weights.sum())
        # a Pareto/NBD at its own edge (s -> infinity: no heterogeneity in drop-out) is a poor start: keep
        # s moderate at the same mean drop-out rate s / beta_P
        s0 = float(np.clip(s, 0.1, 10.0))
        s, beta_p = s0, beta_p * s0 / s
        T_max = max(float(np.max(arrays["T"])), 1e-12)
        # two starts, b T_max = 0.1 (near the Pareto/NBD) and 3 (a Gompertz hazard that rises over the data),
        # searched on a fixed random subsample of the distinct rows when there are many (weights rescaled so
        # the likelihood keeps its scale); the full search continues from the better one
        sub, w_sub = arrays, weights
        if len(weights) > _SUBSAMPLE:
            pick = np.sort(np.random.default_rng(0).choice(len(weights), _SUBSAMPLE, replace=False))
            sub = self._make_arrays(arrays["x"][pick], arrays["t_x"][pick], arrays["T"][pick])
            w_sub = weights[pick] * (weights.sum() / weights[pick].sum())
        best, best_value = None, np.inf
        for bT in (0.1, 3.0):  # a rough search from each start, then a tight one from the better
            v, value = self._ridge_search(sub, w_sub, np.log([r, alpha, bT / T_max, s, beta_p]), arrays, tight=False)
            if value < best_value:
                best, best_value = v, value
        v, value = self._ridge_search(arrays, weights, best, arrays)
        lo_b = self._log_bounds(arrays)[2][0]
        if v[2] < np.log(0.01 / T_max):
            # near the Pareto/NBD limit the likelihood rises so slowly as b falls that the search stops
            # early; try the limit itself (b at its bound, beta/b kept) and keep the better
            snapped = v.copy()
            snapped[2] = lo_b
            v2, value2 = self._ridge_search(arrays, weights, snapped, arrays)
            if value2 <= value:
                v = v2
        return self._natural(v, arrays)

    def _natural(self, v, arrays):
        lo, hi = np.array(self._log_bounds(arrays)).T
        return np.exp(np.clip(np.array([v[0], v[1], v[2], v[3], v[2] + v[4]]), lo, hi))

    def _ridge_search(self, arrays, weights, v0, full_arrays, tight: bool = True):
        """Maximise the likelihood in (log r, log alpha, log b, log s, log beta/b) from ``v0``: (v, objective).

        Near the Pareto/NBD limit the likelihood runs along a ridge of constant beta / b; in these
        coordinates the ridge is one axis (log b), which the search can leave alone.
        """
        lo, hi = np.array(self._log_bounds(full_arrays)).T
        scale = float(weights.sum())

        def natural(v):
            return np.clip(np.array([v[0], v[1], v[2], v[3], v[2] + v[4]]), lo, hi)

        def objective(v):
            value, grad = self._neg_log_likelihood(natural(v), arrays, weights)
            if not np.isfinite(value):
                return 1e100, np.zeros_like(v)
            g = grad.copy()
            g[2] += grad[4]  # d/d log b at fixed beta/b
            return value / scale, g / scale

        bounds = [(lo[0], hi[0]), (lo[1], hi[1]), (lo[2], hi[2]), (lo[3], hi[3]), (-25.0, 50.0)]
        with np.errstate(all="ignore"):
            res = optimize.minimize(objective, v0, jac=True, method="L-BFGS-B", bounds=bounds,
                                    options={"maxiter": 2000, "ftol": 1e-13 if tight else 1e-9,
                                             "gtol": 1e-8 if tight else 1e-5, "maxcor": 20})
        if not np.all(np.isfinite(res.x)):
            return np.asarray(v0, dtype=float), np.inf
        return res.x, float(res.fun)

    def _make_arrays(self, x, t_x, T):
        arrays = super()._make_arrays(x, t_x, T)
        arrays["pairs"] = _pair_index(x, t_x, T)
        return arrays

    def _core(self, p, x, t_x, T, weights=None, pairs=None):
        """log of the bracket, P(alive) and (with weights) the weighted gradient of the bracket's log."""
        r, alpha, b, s, beta = p
        px, pu, i_tx, i_T = pairs if pairs is not None else _pair_index(x, t_x, T)
        want = weights is not None
        logG, dG = _log_tail(r, alpha, b, s, beta, px, pu, want)
        la_p = np.log(alpha + pu)
        lE_p = _log_E(b, beta, pu)
        A_p = -(r + px) * la_p + s * (np.log(beta) - lE_p)  # log[(alpha+T)^-(r+x) S(T)] at the (x, T) pairs
        A = A_p[i_T]
        lG_tx = logG[i_tx]
        delta = np.minimum(logG[i_T] - lG_tx, 0.0)
        B0 = lG_tx - A
        with np.errstate(divide="ignore"):
            d = B0 + np.log(-np.expm1(delta))
        sp = np.logaddexp(0.0, d)
        lse = A + sp
        pA = np.exp(-sp)
        if not want:
            return lse, pA, None
        c1 = weights * np.exp(B0 - sp)
        c2 = c1 * np.exp(delta)
        npair = len(px)
        coef = np.bincount(i_tx, weights=c1, minlength=npair) - np.bincount(i_T, weights=c2, minlength=npair)
        wA = weights * pA
        wA_p = np.bincount(i_T, weights=wA, minlength=npair)
        grad = dG @ coef
        ratio_p = np.exp(b * pu - lE_p)  # e^(bT) / (beta - 1 + e^(bT))
        grad[0] -= wA_p @ la_p
        grad[1] -= wA_p @ ((r + px) / (alpha + pu))
        grad[2] -= s * (wA_p @ (pu * ratio_p))
        grad[3] += wA_p @ (np.log(beta) - lE_p)
        grad[4] += wA_p @ (s / beta - s * np.exp(-lE_p))
        return lse, pA, grad

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-sum w log L (module docstring) and its gradient in log-parameters."""
        p = np.exp(log_params)
        r, alpha = p[0], p[1]
        xu, xinv = arrays["xu"], arrays["xinv"]
        wu = np.bincount(xinv, weights=weights, minlength=len(xu))
        W = weights.sum()
        lse, _, g = self._core(p, arrays["x"], arrays["t_x"], arrays["T"], weights, arrays["pairs"])
        ll = (wu * (gammaln(r + xu) - gammaln(r))).sum() + W * r * np.log(alpha) + (weights * lse).sum()
        g[0] += (wu * (digamma(r + xu) - digamma(r))).sum() + W * np.log(alpha)
        g[1] += W * r / alpha
        return -ll, -g * p

    # ------------------------------------------------------------------ predictions
    def _log_bounds(self, arrays):
        """b >= 1e-7 / T_max: below it the model is the Pareto/NBD to 1e-7, so the search stops there."""
        bounds = super()._log_bounds(arrays)
        bounds[2] = (np.log(1e-7 / max(float(np.max(arrays["T"])), 1e-12)), bounds[2][1])
        return bounds

    def _invert_information(self, H):
        """Covariance of the log-parameters; at the Pareto/NBD limit, the flat direction's variance is floored.

        When b -> 0 (b T < 1e-3 for every T) the likelihood depends on b and beta only through
        beta / b, so the observed information has a (nearly) zero eigenvalue. The other directions
        are identified and keep their variances; the flat one's variance is capped at 9 (a standard
        deviation of 3 on the log scale, a factor of 20 either way): a bound, not an estimate.
        """
        self.pareto_limit_ = bool(getattr(self, "_near_limit", False))
        if self.pareto_limit_:
            vals, vecs = np.linalg.eigh(0.5 * (H + H.T))
            flat = vals < 1.0 / 9.0
            if np.isfinite(vals).all() and flat.sum() == 1 and vals[~flat].min() > 0:
                cov = (vecs / np.where(flat, 1.0 / 9.0, vals)) @ vecs.T
                return 0.5 * (cov + cov.T)
        return super()._invert_information(H)

    def _hessian_log(self, z, arrays, *args):
        # b (T_max) below 1e-3: S(t) equals the Pareto/NBD's (beta/b / (beta/b + t))^s to that order
        self._near_limit = bool(np.exp(z[2]) * float(np.max(arrays["T"])) < 1e-3)
        return super()._hessian_log(z, arrays, *args)

    def summary(self, alpha: float = 0.05):
        """Estimates with standard errors and fit statistics; at the Pareto/NBD limit, a note says so.

        Parameters
        ----------
        alpha : float
            1 - the coverage of the intervals (0.05 gives 95% intervals).

        Returns
        -------
        crm_models.base.Summary
            As :meth:`crm_models.clv.base.BaseModel.summary`.

        Examples
        --------
        >>> from crm_models.clv import simulate_gamma_gompertz_nbd
        >>> truth = {"r": 0.5, "alpha": 5.0, "b": 0.1, "s": 1.0, "beta": 2.0}
        >>> model = GammaGompertzNBD().fit(simulate_gamma_gompertz_nbd(1000, truth, T=52.0, time_grid=1 / 7))
        >>> list(model.summary().to_frame().index)
        ['r', 'alpha', 'b', 's', 'beta']
        """
        out = super().summary(alpha)
        out.stats["beta / b"] = float(self.params_["beta"] / self.params_["b"])
        if self.pareto_limit_:
            out.notes.append(
                "b ran to the Pareto/NBD limit (b -> 0): the likelihood depends on b and beta only through beta/b "
                f"({out.stats['beta / b']:.4g}, the Pareto/NBD's beta); b and beta are not identified and their "
                "standard errors are capped (log-scale sd 3), not estimates. Compare with ParetoNBD."
            )
        return out

    def _fitted_state(self):
        return {**super()._fitted_state(), "pareto_limit": bool(self.pareto_limit_)}

    def _restore(self, fitted):
        super()._restore(fitted)
        flag = fitted.raw("pareto_limit")
        if not isinstance(flag, bool):
            fitted.fail("pareto_limit", f"must be true or false, got {flag!r}")
        self.pareto_limit_ = flag

    def _pvec(self, p):
        return np.array([p["r"], p["alpha"], p["b"], p["s"], p["beta"]])

    def _p_alive(self, p, pdata):
        """P(alive at T | x, t_x, T): the share of the likelihood's first term."""
        key = ("p_alive", *self._pvec(p))
        if key not in pdata.cache:
            pdata.cache.clear()
            pdata.cache[key] = self._core(self._pvec(p), pdata.x, pdata.t_x, pdata.T)[1]
        return pdata.cache[key]

    def _expected(self, p, pdata, t):
        """E[X(T, T+t) | x, t_x, T] = P(alive) (r+x)/(alpha+T) int_0^t S(T+v)/S(T) dv (CLVTools, Adler 2022)."""
        if t == 0:
            return np.zeros(len(pdata.x))
        Tu, Tinv = np.unique(pdata.T, return_inverse=True)
        D = _remaining_time(p["b"], p["beta"], p["s"], Tu, float(t))[Tinv]
        return (p["r"] + pdata.x) / (p["alpha"] + pdata.T) * D * self._p_alive(p, pdata)

    def _expected_new(self, p, ts):
        """E[X(t)] = r/alpha int_0^t S(v) dv (a new customer is alive at 0)."""
        return np.array([p["r"] / p["alpha"] * _remaining_time(p["b"], p["beta"], p["s"], np.zeros(1), float(t))[0]
                         if t > 0 else 0.0 for t in np.atleast_1d(ts)])

    def _p_n(self, p, t, ns):
        """P(X(t) = n) = S(t) NBD_n(t) + int_0^t f(tau) NBD_n(tau) d tau (alive throughout, or died at tau),

        NBD_n(tau) = G(r+n)/(G(r) n!) (alpha/(alpha+tau))^r (tau/(alpha+tau))^n; the integral numerically.
        """
        r, alpha, b, s, beta = self._pvec(p)

        def log_nbd(n, tau):
            with np.errstate(divide="ignore"):
                return gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + tau)) \
                    + n * np.log(tau / (alpha + tau))

        def log_f(tau):
            return np.log(b) + np.log(s) + s * np.log(beta) + b * tau - (s + 1.0) * _log_E(b, beta, tau)

        out = np.empty(len(ns))
        for i, n in enumerate(ns):
            if t == 0:
                out[i] = float(n == 0)
                continue
            alive = np.exp(s * (np.log(beta) - _log_E(b, beta, t)) + log_nbd(n, t))
            died, _ = integrate.quad(lambda tau, n=n: np.exp(log_f(tau) + log_nbd(n, tau)), 0.0, t, limit=200,
                                     epsabs=1e-13, epsrel=1e-10)
            out[i] = alive + died
        return out


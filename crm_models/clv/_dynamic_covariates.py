"""Pareto/NBD with time-varying covariates: CLVTools' "dynamic covariates" (Bachmann, Meierer & Näf 2021).

Bachmann, P., Meierer, M. and Näf, J. (2021), "The Role of Time-Varying Contextual Factors in
Latent Attrition Models for Customer Base Analysis", *Marketing Science* 40(4), 783-809.

Covariates are constant within periods (weeks, say) and may change from one period to the next.
While alive, a customer buys at the rate ``lambda a(t)`` and drops out at the rate ``mu c(t)``,
``a(t) = exp(g_purchase' z(t))`` and ``c(t) = exp(g_dropout' z(t))``, with
``lambda ~ gamma(r, alpha)`` and ``mu ~ gamma(s, beta)`` across customers. With ``A(t)`` and
``C(t)`` the integrals of ``a`` and ``c`` from the first purchase to ``t`` (piecewise linear),
and repeat purchases at ``t_1 <= ... <= t_x = t_x`` observed until ``T``, integrating lambda and
mu out gives

    L = G(r+x)/G(r) alpha^r beta^s prod_j a(t_j)
        [ (alpha + A(T))^-(r+x) (beta + C(T))^-s
          + s int_{t_x}^T c(tau) (alpha + A(tau))^-(r+x) (beta + C(tau))^-(s+1) d tau ],

the customer being alive at T (first term) or dropping out at some tau in (t_x, T]. With
covariates constant in time it is the Pareto/NBD with static covariates (``alpha_i = alpha /
a``, ``beta_i = beta / c``), and with all coefficients 0 the Pareto/NBD (both tested). The
integral runs over the periods between t_x and T, where A and C are linear; each piece is
evaluated by 16-point Gauss-Legendre quadrature (the integrand is smooth on a piece) and the
gradient is the exact derivative of that sum. The conditional expectation of purchases in
(T, T + t] needs the covariates of those future periods:

    E = P(alive) (r + x)/(alpha + A(T)) int_T^{T+t} a(u) ((beta + C(T))/(beta + C(u)))^s du,

in closed form on each period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from crm_models._validation import fail_rows
from crm_models.clv._covariates import CovariateSpec, covariate_matrix
from crm_models.errors import DataError

__all__: list[str] = []

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(16)
_XI = (_NODES + 1) / 2
_LOGW = np.log(_WEIGHTS / 2)


def design_columns(spec: CovariateSpec) -> tuple[list[str], list[str]]:
    """The columns acting on purchase and on dropout (each process's own, then the shared ones)."""
    shared = list(spec.columns.get("shared", ()))
    return list(spec.columns.get("purchase", ())) + shared, list(spec.columns.get("dropout", ())) + shared


def segments(dyn, start_days: np.ndarray, stop: np.ndarray, split: np.ndarray | None = None):
    """Pieces of constant covariates of each customer over (start, stop], in customer time.

    ``start_days`` and ``stop`` are per customer (in the data's time unit since the first
    purchase); ``split`` (optional, per customer) cuts the piece holding it in two. Returns a
    DataFrame ``customer`` (position), ``lo``, ``hi`` (customer time) and ``row`` (the covariate
    row of ``dyn.periods``), sorted by customer and time.
    """
    per = dyn.periods
    unit = dyn._unit_days
    pos = dyn._customer_position(per[dyn.customer_id_col])
    days = (per["period_start"] - dyn.first_purchase.to_numpy()[pos]).dt.days.to_numpy() / unit
    length = dyn.period_length.days / unit
    lo = np.maximum(days, start_days[pos])
    hi = np.minimum(days + length, stop[pos])
    keep = hi > lo
    seg = pd.DataFrame({"customer": pos[keep], "lo": lo[keep], "hi": hi[keep], "row": np.flatnonzero(keep)})
    if split is not None:
        cut = split[seg["customer"].to_numpy()]
        inside = (seg["lo"].to_numpy() < cut) & (cut < seg["hi"].to_numpy())
        if inside.any():
            left = seg[inside].assign(hi=cut[inside])
            right = seg[inside].assign(lo=cut[inside])
            seg = pd.concat([seg[~inside], left, right], ignore_index=True)
    return seg.sort_values(["customer", "lo"], kind="stable").reset_index(drop=True)


class DynamicArrays:
    """Everything the likelihood needs from a DynamicCovariates and the model's covariate columns."""

    def __init__(self, dyn, spec: CovariateSpec, what: str = "covariates"):
        cols_p, cols_d = design_columns(spec)
        per = dyn.periods
        self.ZP_rows = covariate_matrix(per, cols_p, what) if cols_p else np.zeros((len(per), 0))
        self.ZL_rows = covariate_matrix(per, cols_d, what) if cols_d else np.zeros((len(per), 0))
        s = dyn.summary
        self.x = s["frequency"].to_numpy(float)
        self.t_x = s["recency"].to_numpy(float)
        self.T = s["T"].to_numpy(float)
        self.n = len(s)
        seg = segments(dyn, np.zeros(self.n), self.T, self.t_x)
        self.c = seg["customer"].to_numpy()
        self.h = (seg["hi"] - seg["lo"]).to_numpy()
        self.row = seg["row"].to_numpy()
        self.ZP = self.ZP_rows[self.row]
        self.ZL = self.ZL_rows[self.row]
        self.integral = seg["lo"].to_numpy() >= self.t_x[self.c] - 1e-12
        self.first = _first_index(self.c, self.n)
        # the covariates at each repeat purchase, summed per customer
        self.SP = np.zeros((self.n, self.ZP.shape[1]))
        rp = dyn.repeat_purchases
        if len(rp) and self.ZP.shape[1]:
            rows = dyn._period_row_of(rp)
            np.add.at(self.SP, dyn._customer_position(rp[dyn.customer_id_col]), self.ZP_rows[rows])
        self.kp, self.kd = len(spec.columns.get("purchase", ())), len(spec.columns.get("dropout", ()))
        self.ks = len(spec.columns.get("shared", ()))

    def coefficient_vectors(self, coef: np.ndarray):
        gp, gd, gs = coef[: self.kp], coef[self.kp: self.kp + self.kd], coef[self.kp + self.kd:]
        return np.concatenate([gp, gs]), np.concatenate([gd, gs])

    def fold(self, grad_p: np.ndarray, grad_d: np.ndarray) -> np.ndarray:
        """Gradients over the purchase and dropout design columns -> gradient over the coefficients."""
        return np.concatenate([grad_p[: self.kp], grad_d[: self.kd], grad_p[self.kp:] + grad_d[self.kd:]])


def _first_index(c: np.ndarray, n: int) -> np.ndarray:
    """Index of each customer's first piece (len(c) for a customer without pieces)."""
    first = np.full(n, len(c), dtype=np.int64)
    if len(c):
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        first[c[starts]] = starts
    return first


def _exclusive_cumsum(values: np.ndarray, c: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the earlier pieces of the same customer (rows of a 1- or 2-d array)."""
    cs = np.cumsum(values, axis=0)
    before = cs - values
    base = before[np.minimum(first, len(values) - 1)] if len(values) else before
    return before - base[c]


def _per_customer(values: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    if values.ndim == 1:
        return np.bincount(c, weights=values, minlength=n)
    out = np.zeros((n, values.shape[1]))
    np.add.at(out, c, values)
    return out


def log_likelihood(arr: DynamicArrays, params, coef: np.ndarray, *, grad: bool = False):
    """Per-customer log-likelihood, P(alive at T) and (with ``grad``) the gradient of the total.

    ``params`` = (r, alpha, s, beta); ``coef`` the coefficients in the spec's order. The gradient
    is with respect to (r, alpha, s, beta) (natural scale) and the coefficients.
    """
    r, alpha, s, beta = params
    gp, gd = arr.coefficient_vectors(coef)
    a = np.exp(arr.ZP @ gp)
    cc = np.exp(arr.ZL @ gd)
    ad, cd = a * arr.h, cc * arr.h
    n, ci, first = arr.n, arr.c, arr.first
    A0 = _exclusive_cumsum(ad, ci, first)
    C0 = _exclusive_cumsum(cd, ci, first)
    AT = _per_customer(ad, ci, n)
    CT = _per_customer(cd, ci, n)
    x = arr.x
    lt1 = -(r + x) * np.log(alpha + AT) - s * np.log(beta + CT)
    ii = np.flatnonzero(arr.integral)
    cust = ci[ii]
    v = arr.h[ii, None] * _XI[None, :]
    Pv = alpha + A0[ii, None] + a[ii, None] * v
    Qv = beta + C0[ii, None] + cc[ii, None] * v
    rx = (r + x[cust])[:, None]
    lf = (np.log(cc[ii]) + np.log(arr.h[ii]))[:, None] + _LOGW[None, :] - rx * np.log(Pv) - (s + 1) * np.log(Qv)
    logI = np.full(n, -np.inf)
    if len(ii):
        starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
        owners = cust[starts]
        segmax = lf.max(axis=1)
        cmax = np.maximum.reduceat(segmax, starts)
        per_seg_max = np.repeat(cmax, np.diff(np.r_[starts, len(ii)]))
        E = np.exp(lf - per_seg_max[:, None])
        total = np.add.reduceat(E.sum(axis=1), starts)
        logI[owners] = cmax + np.log(total)
    lse = np.logaddexp(lt1, np.log(s) + logI)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + arr.SP @ gp + lse
    p_alive = np.exp(lt1 - lse)
    if not grad:
        return ll, p_alive, None
    w1 = p_alive
    w2 = 1.0 - w1
    g = np.zeros(4)
    g[0] = (digamma(r + x) - digamma(r) + np.log(alpha) - w1 * np.log(alpha + AT)).sum()
    g[1] = (r / alpha - w1 * (r + x) / (alpha + AT)).sum()
    g[2] = (np.log(beta) - w1 * np.log(beta + CT) + w2 / s).sum()
    g[3] = (s / beta - w1 * s / (beta + CT)).sum()
    gP = arr.SP.sum(axis=0) - ((w1 * (r + x) / (alpha + AT))[:, None] * _per_customer(ad[:, None] * arr.ZP, ci, n)
                               ).sum(axis=0)
    gL = -((w1 * s / (beta + CT))[:, None] * _per_customer(cd[:, None] * arr.ZL, ci, n)).sum(axis=0)
    if len(ii):
        norm = np.exp(logI[cust] - per_seg_max)  # total weight of the customer, relative to its max
        omega = (w2[cust] / norm)[:, None] * E  # node weights: w2 times the normalised integrand
        dP = -rx / Pv
        dQ = -(s + 1) / Qv
        g[0] += (omega * -np.log(Pv)).sum()
        g[1] += (omega * dP).sum()
        g[2] += (omega * -np.log(Qv)).sum()
        g[3] += (omega * dQ).sum()
        om_dP = (omega * dP).sum(axis=1)
        om_dP_v = (omega * dP * v).sum(axis=1)
        om = omega.sum(axis=1)
        om_dQ = (omega * dQ).sum(axis=1)
        om_dQ_v = (omega * dQ * v).sum(axis=1)
        AZ0 = _exclusive_cumsum(ad[:, None] * arr.ZP, ci, first)[ii]
        CZ0 = _exclusive_cumsum(cd[:, None] * arr.ZL, ci, first)[ii]
        gP += (AZ0 * om_dP[:, None] + arr.ZP[ii] * (a[ii] * om_dP_v)[:, None]).sum(axis=0)
        gL += (arr.ZL[ii] * om[:, None] + CZ0 * om_dQ[:, None]
               + arr.ZL[ii] * (cc[ii] * om_dQ_v)[:, None]).sum(axis=0)
    return ll, p_alive, np.concatenate([g, arr.fold(gP, gL)])


class DynamicProblem:
    """The objective of a Pareto/NBD fit with time-varying covariates (interface of ``_covariates._Problem``)."""

    def __init__(self, model, spec: CovariateSpec, arr: DynamicArrays):
        self.spec, self.arr = spec, arr
        self.names0 = list(model._param_names)
        self.k0 = len(self.names0)
        self.K = self.k0 + len(spec.names)
        self.scale = float(arr.n)
        self.pen0 = float(model.penalizer)
        self.pen_cov = spec.penalty_vector()

    def nll(self, theta):
        params = np.exp(theta[: self.k0])
        ll, _, g = log_likelihood(self.arr, params, theta[self.k0:], grad=True)
        g = g.copy()
        g[: self.k0] *= params  # d/dlog theta
        return -float(ll.sum()), -g

    def objective(self, theta):
        value, grad = self.nll(theta)
        lp, cf = theta[: self.k0], theta[self.k0:]
        value = value / self.scale + self.pen0 * float(lp @ lp) + float(self.pen_cov @ (cf * cf))
        grad = grad / self.scale
        grad[: self.k0] += 2.0 * self.pen0 * lp
        grad[self.k0:] += 2.0 * self.pen_cov * cf
        return value, grad


def expected(arr: DynamicArrays, dyn, spec: CovariateSpec, params, coef: np.ndarray, t: float,
             what: str = "covariates") -> np.ndarray:
    """E[purchases in (T, T + t] | history] with the covariates of the future periods (closed form per period)."""
    r, alpha, s, beta = params
    ll, p_alive, _ = log_likelihood(arr, params, coef)
    if t == 0:
        return np.zeros(arr.n)
    gp, gd = arr.coefficient_vectors(coef)
    ad = np.exp(arr.ZP @ gp) * arr.h
    cd = np.exp(arr.ZL @ gd) * arr.h
    AT = _per_customer(ad, arr.c, arr.n)
    CT = _per_customer(cd, arr.c, arr.n)
    dyn._check_coverage(arr.T + t, "the prediction period", what)
    seg = segments(dyn, arr.T, arr.T + t)
    fc = seg["customer"].to_numpy()
    h = (seg["hi"] - seg["lo"]).to_numpy()
    a = np.exp(arr.ZP_rows[seg["row"].to_numpy()] @ gp)
    c = np.exp(arr.ZL_rows[seg["row"].to_numpy()] @ gd)
    Q0 = beta + CT[fc] + _exclusive_cumsum(c * h, fc, _first_index(fc, arr.n))
    QT = beta + CT[fc]
    ratio = np.log1p(c * h / Q0)
    if abs(s - 1) < 1e-10:
        piece = a * QT * ratio / c
    else:
        piece = a * Q0 * np.exp(s * np.log(QT / Q0)) * (-np.expm1((1 - s) * ratio)) / (c * (s - 1))
    total = np.bincount(fc, weights=piece, minlength=arr.n)
    return p_alive * (r + arr.x) / (alpha + AT) * total


def check_periods(per: pd.DataFrame, customer_id_col: str, what: str, column: str = "period_start") -> pd.Timedelta:
    """Periods of equal length, without gaps or repeats within a customer: return the length.

    ``per`` holds the periods' first days in ``period_start``; ``column`` is their name in the
    caller's table, for messages.
    """
    d = per.groupby(customer_id_col, sort=False)["period_start"].diff()
    steps = d.dropna()
    if steps.empty:
        raise DataError(column, "needs at least two periods for some customer, to know the period length", what=what)
    length = steps.mode().iloc[0]
    shown = per.rename(columns={"period_start": column})
    fail_rows(shown, (d == pd.Timedelta(0)).to_numpy(), column,
              "must not repeat within a customer (one row per customer and period)", what=what)
    fail_rows(shown, (d.notna() & (d != length)).to_numpy(), column,
              f"must advance by one period ({length.days} days, the most common step) without gaps within a customer",
              what=what)
    if length <= pd.Timedelta(0) or length != length.floor("D"):
        raise DataError(column, f"must be whole days apart, got a step of {length}", what=what)
    return length


def fit(model, dyn, spec: CovariateSpec, initial_params):
    """Fit ``model`` (a ParetoNBD with covariates) to a DynamicCovariates by maximum likelihood."""
    from crm_models.clv._covariates import check_identifiable, maximise, preconditioner, process_matrices

    arr = DynamicArrays(dyn, spec)
    Z = covariate_matrix(dyn.periods, spec.all_columns, "covariates")
    check_identifiable(dyn.periods, spec, Z, np.ones(len(Z), dtype=bool), "covariates")
    problem = DynamicProblem(model, spec, arr)
    A = preconditioner(model._covariate_family, spec, problem.names0, process_matrices(spec, Z), np.ones(len(Z)))

    def initial():
        rate = float(arr.x.sum() / max(arr.T.sum(), 1e-12)) or 0.1
        return np.array([1.0, 1.0 / rate, 1.0, float(arr.T.mean()) or 1.0])

    maximise(model, problem, A, initial_params, n_unique=arr.n, n_obs=float(arr.n), initial=initial)
    model._time_varying_ = True
    return model

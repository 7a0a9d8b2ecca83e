"""BG/CNBD-k and MBG/CNBD-k: BG/NBD and MBG/NBD with Erlang-k (regular) inter-purchase times.

Platzer, M. and Reutterer, T. (2016), "(M)BG/CNBD-k: leveraging purchase regularity",
working paper; published as Reutterer, T., Platzer, M. and Schroeder, N. (2021), "Leveraging
purchase regularity for predicting customer behavior the easy way", *International Journal of
Research in Marketing* 38(1), 194-215. Reference implementation: the R package BTYDplus
(``xbgcnbd.LL``, ``xbgcnbd.PAlive``, ``xbgcnbd_pmf_cpp``), whose printed test values the tests
reproduce.

Story, for one customer (the paper's notation):

* while alive, the times between purchases are Erlang-k with rate lambda: every k-th event of
  a Poisson process with rate lambda is a purchase, so k = 1 is Poisson purchasing (BG/NBD,
  MBG/NBD) and a larger k means more regular purchasing (the coefficient of variation of the
  inter-purchase times is 1/sqrt(k)); lambda ~ gamma(r, alpha) across customers;
* after each repeat purchase the customer drops out with probability p (BG/CNBD-k); the
  MBG/CNBD-k also allows a drop-out right after the first purchase; p ~ beta(a, b).

Data per customer: ``x`` repeat purchases, the last at ``t_x``, observed until ``T`` (times
since the first purchase), and ``litt``, the sum of the logs of the ``x`` inter-purchase times
(``log_interpurchase`` in :func:`crm_models.rfm_summary`). With m = 1 for MBG and 0 for BG,
and (c)_j = c (c+1) ... (c+j-1), the likelihood is

    L = exp((k-1) litt) / ((k-1)!)^x  B(a, b+x+m)/B(a, b)  G(r+kx) alpha^r / (G(r) (alpha+T)^(r+kx))
        * [ [m = 1 or x > 0] a/(b+x+m-1) ((alpha+T)/(alpha+t_x))^(r+kx)
            + sum_{j=0}^{k-1} (r+kx)_j (T-t_x)^j / (j! (alpha+T)^j) ]

(the customer dropped out right after the last purchase, or is alive and the next Erlang
inter-purchase time exceeds T - t_x: j Poisson events have happened since the last purchase).
``litt`` enters as a constant: it does not move the estimates for a given k, only the
likelihood that compares one k with another. k is chosen by likelihood over 1, 2, ... as
BTYDplus does (the search stops once the likelihood has fallen twice in a row).

P(alive) = 1 / (1 + S1 / S2) with S1, S2 the two parts of the bracket. The conditional
expectation is computed exactly (BTYDplus approximates it with the BG/NBD formula and a
cohort-level bias correction): given alive with j Poisson events since the last purchase,
lambda ~ gamma(r+kx+j, alpha+T), the chance of staying alive for n further purchases is
B(a, b+x+m+n-1)/B(a, b+x+m), and the n-th future purchase falls in (T, T+t] when the
Poisson process has k n - j events in t, an event of negative-binomial probability
I_{t/(alpha+T+t)}(kn-j, r+kx+j) (a regularized incomplete beta function). So

    E[X(T, T+t) | x, t_x, T] = sum_j pi_j sum_{n>=1} B(a, b+x+m+n-1)/B(a, b+x+m) I_q(kn-j, r+kx+j),

with pi_j the posterior probability of being alive in phase j (the share of the j-th term in
the likelihood's bracket). At k = 1 this is the BG/NBD (MBG/NBD) expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, gammaln, logsumexp

from crm_models._validation import fail_rows, require_columns
from crm_models.base import FieldReader
from crm_models.clv.base import ContinuousTimeModel, _as_float_array, compress
from crm_models.errors import ConvergenceError, DataError

__all__ = ["BetaGeoCNBD", "ModifiedBetaGeoCNBD"]

#: The Erlang orders searched when k is chosen by likelihood (BTYDplus searches 1..12).
MAX_K = 12
_TAIL_EPS = 1e-13  # the expectation's series stops when a term is below this share of its sum


def _check_k(k, name: str = "k", allow_none: bool = True):
    if k is None and allow_none:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer, float, np.floating)) or not (
        np.isfinite(k) and k == int(k) and 1 <= k <= 100
    ):
        raise ValueError(f"{name} must be a whole number from 1 to 100 (the Erlang order) or None, got {k!r}")
    return int(k)


class _CNBDFamily(ContinuousTimeModel):
    """Likelihood, k search and predictions shared by BG/CNBD-k (m = 0) and MBG/CNBD-k (m = 1)."""

    _param_names = ("r", "alpha", "a", "b")
    _m: ClassVar[int] = 0

    def __init__(
        self,
        k: int | None = None,
        penalizer: float = 0.0,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        log_interpurchase_col: str = "log_interpurchase",
        max_k: int = MAX_K,
    ):
        self.k = k
        self.penalizer = penalizer
        self.frequency_col = frequency_col
        self.recency_col = recency_col
        self.T_col = T_col
        self.log_interpurchase_col = log_interpurchase_col
        self.max_k = max_k

    def _check_params(self) -> None:
        super()._check_params()
        _check_k(self.k)
        _check_k(self.max_k, "max_k", allow_none=False)

    # ------------------------------------------------------------------------- data
    def _litt(self, data: pd.DataFrame, x: np.ndarray, t_x: np.ndarray) -> np.ndarray:
        col = self.log_interpurchase_col
        require_columns(data, [col], what="data")
        litt = _as_float_array(data, col, "data")
        fail_rows(data, (x == 0) & (litt != 0), col,
                  f"must be 0 when '{self.frequency_col}' is 0 (no inter-purchase time to take the log of)")
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.where(x > 0, x * np.log(t_x / np.where(x > 0, x, 1.0)), 0.0)
        fail_rows(
            data, litt > bound + 1e-9 * np.maximum(1.0, np.abs(bound)), col,
            f"must not exceed {self.frequency_col} * log({self.recency_col} / {self.frequency_col}) (inter-purchase "
            f"times that add up to the recency cannot have a larger sum of logs)",
            hint="Was it computed in another time unit than recency? Build both with "
            "rfm_summary(..., include_log_interpurchase=True).",
        )
        return litt

    def fit(
        self,
        data: pd.DataFrame,
        *,
        weights_col: str | None = None,
        initial_params: Mapping[str, float] | None = None,
    ):
        """Fit r, alpha, a, b by maximum likelihood for each Erlang order k and keep the best k.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency_col``, ``recency_col``, ``T_col`` and ``log_interpurchase_col``
            (the sum of log inter-purchase times, from
            ``rfm_summary(..., include_log_interpurchase=True)``); the last may be left out
            only with ``k=1``.
        weights_col : str, optional
            Column with the number of customers each row stands for.
        initial_params : mapping, optional
            Starting values (natural scale) keyed by r, alpha, a, b, for the first k tried.

        Returns
        -------
        self

        Examples
        --------
        >>> from crm_models.clv import simulate_beta_geo_cnbd
        >>> sim = simulate_beta_geo_cnbd(3000, {"k": 2, "r": 0.9, "alpha": 5.0, "a": 0.8, "b": 2.5}, T=52.0)
        >>> model = BetaGeoCNBD().fit(sim)
        >>> model.k_, sorted(model.log_likelihoods_by_k_.index.tolist())
        (2, [1, 2, 3, 4])
        """
        self._check_params()
        x, t_x, T = self._validate(data)
        if self.k == 1 and self.log_interpurchase_col not in data.columns:
            litt = np.zeros(len(x))
        else:
            if self.log_interpurchase_col not in data.columns:
                raise DataError(
                    self.log_interpurchase_col, "is missing", what="data",
                    message=f"data is missing column '{self.log_interpurchase_col}': the sum of each customer's log "
                    "inter-purchase times, which the likelihood needs to compare one Erlang order k with another.",
                    hint="Build the summary with rfm_summary(..., include_log_interpurchase=True) (or "
                    "calibration_holdout_split(..., include_log_interpurchase=True)), or fit with k=1 (Poisson "
                    "purchasing, the plain BG/NBD or MBG/NBD).",
                )
            litt = self._litt(data, x, t_x)
        weights = np.ones(len(x))
        if weights_col is not None:
            require_columns(data, [weights_col])
            weights = _as_float_array(data, weights_col, "data")
            fail_rows(data, weights < 0, weights_col, "must not be negative (customer counts)")
            if weights.sum() <= 0:
                raise DataError(weights_col, "sums to 0: there is nothing to fit")
        unique, counts, _ = compress({"x": x, "t_x": t_x, "T": T}, weights)
        keep = counts > 0
        arrays = self._make_arrays(unique["x"][keep], unique["t_x"][keep], unique["T"][keep])
        w = counts[keep]
        sum_litt = float((weights * litt).sum())
        sum_x = float((weights * x).sum())
        ks = [self.k] if self.k is not None else list(range(1, int(self.max_k) + 1))
        fits, lls = {}, {}
        start = initial_params
        for k in ks:
            arrays["k"] = k
            arrays["const"] = (k - 1) * sum_litt - sum_x * gammaln(k)  # (k-1) litt - x log((k-1)!)
            try:
                self._fit_prepared(arrays, w, float(weights.sum()), start)
            except ConvergenceError:
                if self.k is not None or not lls:
                    raise
                break  # as BTYDplus: stop the search where a k can no longer be estimated
            fits[k] = self._snapshot()
            lls[k] = self.log_likelihood_
            start = {"r": self.params_["r"], "alpha": self.params_["alpha"] * k / (k + 1), "a": self.params_["a"],
                     "b": self.params_["b"]}
            if len(lls) >= 3 and lls[k] < lls[k - 1] < lls[k - 2]:
                break  # the likelihood fell twice in a row
        best = max(lls, key=lls.get)
        self.__dict__.update(fits[best])
        self.k_ = int(best)
        self.log_likelihoods_by_k_ = pd.Series(lls, name="log_likelihood", dtype=float).rename_axis("k")
        return self

    def _snapshot(self) -> dict:
        names = ("params_", "log_likelihood_", "covariance_", "covariance_log_", "standard_errors_", "n_obs_",
                 "n_unique_", "optimizer_result_")
        return {n: getattr(self, n) for n in names}

    # ------------------------------------------------------------------- likelihood
    def _initial_params(self, arrays, weights):
        x, T = arrays["x"], arrays["T"]
        rate = float((weights * x).sum() / (weights * T).sum()) or 0.1
        return np.array([1.0, 1.0 / rate, 1.0, 3.0])

    def _make_arrays(self, x, t_x, T) -> dict:
        arrays = super()._make_arrays(x, t_x, T)
        d = T - t_x
        with np.errstate(divide="ignore"):
            arrays["log_gap"] = np.log(d)  # -inf where T == t_x: no Poisson event can have happened since
        return arrays

    def _terms(self, r, alpha, a, b, k, arrays, want_grad):
        """Per row: C (the factor outside the bracket, without litt) and the bracket's terms U
        ((k+1, n): the drop-out term, then the alive terms j = 0..k-1), with their derivatives."""
        m = self._m
        x, xu, xinv = arrays["x"], arrays["xu"], arrays["xinv"]
        Tinv, txinv = arrays["Tinv"], arrays["txinv"]
        rk_u = r + k * xu
        lT = np.log(alpha + arrays["Tu"])[Tinv]
        ltx = np.log(alpha + arrays["txu"])[txinv]
        rk = rk_u[xinv]
        C_u = gammaln(rk_u) - gammaln(r) + betaln(a, b + xu + m) - betaln(a, b)
        C = C_u[xinv] + r * np.log(alpha) - rk * lT
        has0 = (xu > 0) if m == 0 else np.ones(len(xu), dtype=bool)
        bx_u = np.where(has0, b + xu + m - 1.0, 1.0)
        U = np.empty((k + 1, len(x)))
        with np.errstate(divide="ignore"):
            U[0] = np.where(has0, np.log(a) - np.log(bx_u), -np.inf)[xinv] + rk * (lT - ltx)
        j = np.arange(k)
        G_u = gammaln(rk_u[None, :] + j[:, None]) - gammaln(rk_u)[None, :] - gammaln(j + 1.0)[:, None]
        with np.errstate(invalid="ignore"):
            U[1:] = G_u[:, xinv] + j[:, None] * (arrays["log_gap"] - lT)[None, :]
        U[1] = G_u[0, xinv]  # j = 0: the term is 1 even where T == t_x (0 * -inf)
        if not want_grad:
            return C, U, None
        extra = {"rk_u": rk_u, "lT": lT, "ltx": ltx, "has0": has0, "bx_u": bx_u, "j": j}
        return C, U, extra

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-sum w log L (module docstring) and its exact gradient in log-parameters."""
        r, alpha, a, b = np.exp(log_params)
        k, m = arrays["k"], self._m
        C, U, e = self._terms(r, alpha, a, b, k, arrays, True)
        lse = logsumexp(U, axis=0)
        P = np.exp(U - lse[None, :])  # posterior shares of the bracket's terms
        ll = (weights * (C + lse)).sum() + arrays["const"]
        xu, xinv = arrays["xu"], arrays["xinv"]
        wu = np.bincount(xinv, weights=weights, minlength=len(xu))
        rk_u, lT, ltx, j = e["rk_u"], e["lT"], e["ltx"], e["j"]
        rk = rk_u[xinv]
        W = weights.sum()
        wP = weights[None, :] * P
        # r: C and the drop-out and phase terms
        dig = digamma(rk_u[None, :] + j[:, None]) - digamma(rk_u)[None, :]  # (k, nx)
        g_r = (wu * (digamma(rk_u) - digamma(r))).sum() + W * np.log(alpha) - (weights * lT).sum()
        g_r += (wP[0] * (lT - ltx)).sum()
        g_r += sum(np.bincount(xinv, weights=wP[1 + jj], minlength=len(xu)) @ dig[jj] for jj in range(1, k))
        iT = 1.0 / (alpha + arrays["Tu"])[arrays["Tinv"]]
        itx = 1.0 / (alpha + arrays["txu"])[arrays["txinv"]]
        g_alpha = W * r / alpha - (weights * rk * iT).sum() + (wP[0] * rk * (iT - itx)).sum()
        g_alpha -= (j[:, None] * wP[1:] * iT[None, :]).sum()
        # a, b: the beta functions and the drop-out term
        d_ab = digamma(a + b) - digamma(a + b + xu + m)
        g_a = (wu * d_ab).sum() + wP[0].sum() / a
        g_b = (wu * (digamma(b + xu + m) - digamma(b) + d_ab)).sum() \
            - (wP[0] * np.where(e["has0"], 1.0 / e["bx_u"], 0.0)[xinv]).sum()
        grad = np.array([g_r, g_alpha, g_a, g_b]) * np.array([r, alpha, a, b])
        return -ll, -grad

    # ------------------------------------------------------------------- statistics
    @property
    def n_params_(self) -> int:
        """Number of estimated parameters: r, alpha, a, b, and k when it was chosen by likelihood."""
        self._check_fitted()
        return 4 + (1 if self.k is None else 0)

    @property
    def aic_(self) -> float:
        """Akaike information criterion, ``2 n_params_ - 2 log L`` (float; lower is better)."""
        return 2 * self.n_params_ - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        """Bayesian information criterion, ``n_params_ log n - 2 log L`` (float; lower is better)."""
        return self.n_params_ * np.log(self.n_obs_) - 2 * self.log_likelihood_

    def summary(self, alpha: float = 0.05):
        """Estimates of r, alpha, a, b (at the chosen k) with standard errors, and fit statistics.

        Parameters
        ----------
        alpha : float
            1 - the coverage of the intervals (0.05 gives 95% intervals).

        Returns
        -------
        crm_models.base.Summary
            As :meth:`crm_models.clv.base.BaseModel.summary`, with the Erlang order ``k`` and
            how it was set in the statistics.

        Examples
        --------
        >>> from crm_models.clv import simulate_beta_geo_cnbd
        >>> sim = simulate_beta_geo_cnbd(2000, {"k": 2, "r": 0.9, "alpha": 5.0, "a": 0.8, "b": 2.5}, T=52.0)
        >>> BetaGeoCNBD(k=2).fit(sim).summary().stats["Erlang order k"]
        2
        """
        out = super().summary(alpha)
        out.stats["Erlang order k"] = self.k_
        out.stats["k chosen"] = "by likelihood" if self.k is None else "fixed"
        out.stats["AIC"], out.stats["BIC"] = self.aic_, self.bic_
        return out

    # ------------------------------------------------------------------ persistence
    def _fitted_state(self):
        return {**super()._fitted_state(), "k": int(self.k_), "log_likelihoods_by_k": self.log_likelihoods_by_k_}

    def _restore(self, fitted: FieldReader) -> None:
        super()._restore(fitted)
        k = fitted.number("k", integer=True, low=1)
        lls = fitted.series("log_likelihoods_by_k")
        if int(k) not in [int(i) for i in lls.index]:
            fitted.fail("log_likelihoods_by_k", f"must hold the chosen k = {int(k)}")
        if self.k is not None and int(k) != int(self.k):
            fitted.fail("k", f"must equal the hyper-parameter k = {self.k}, got {int(k)}")
        self.k_ = int(k)
        self.log_likelihoods_by_k_ = pd.Series(lls.to_numpy(float), index=pd.Index(
            [int(i) for i in lls.index], name="k"), name="log_likelihood")

    # ------------------------------------------------------------------ predictions
    def _posterior(self, p, x, t_x, T):
        """log of the bracket's terms per row: (k+1, n), drop-out term first."""
        arrays = ContinuousTimeModel._make_arrays(self, x, t_x, T)
        with np.errstate(divide="ignore"):
            arrays["log_gap"] = np.log(T - t_x)
        _, U, _ = self._terms(p["r"], p["alpha"], p["a"], p["b"], self.k_, arrays, False)
        return U

    def _p_alive(self, p, pdata):
        """P(alive | x, t_x, T) = 1 / (1 + S1 / S2) (BTYDplus ``xbgcnbd.PAlive``)."""
        U = self._posterior(p, pdata.x, pdata.t_x, pdata.T)
        alive = logsumexp(U[1:], axis=0)
        return 1.0 / (1.0 + np.exp(np.minimum(U[0] - alive, 700.0)))

    def _rows(self, pdata):
        key = ("rows",)
        if key not in pdata.cache:
            unique, _, inv = compress({"x": pdata.x, "t_x": pdata.t_x, "T": pdata.T})
            pdata.cache[key] = (unique["x"], unique["t_x"], unique["T"], inv)
        return pdata.cache[key]

    def _expected(self, p, pdata, t):
        """E[X(T, T+t) | x, t_x, T], the exact expectation of the module docstring."""
        x, t_x, T, inv = self._rows(pdata)
        if t == 0:
            return np.zeros(len(pdata.x))
        key = ("expected", t, p["r"], p["alpha"], p["a"], p["b"])
        if key not in pdata.cache:
            U = self._posterior(p, x, t_x, T)
            pi = np.exp(U - logsumexp(U, axis=0)[None, :])[1:]  # alive in phase j
            pdata.cache[key] = _future_purchases(p, self.k_, self._m, x, T, t, pi)[inv]
        return pdata.cache[key]

    def _expected_new(self, p, ts):
        """E[X(t)] of a new customer: the conditional expectation at x = t_x = T = 0."""
        zero = np.zeros(1)
        U = self._posterior(p, zero, zero, zero)
        pi = np.exp(U - logsumexp(U, axis=0)[None, :])[1:]
        return np.array([_future_purchases(p, self.k_, self._m, zero, zero, float(t), pi)[0] if t > 0 else 0.0
                         for t in np.atleast_1d(ts)])

    def _p_n(self, p, t, ns):
        """P(X(t) = n) for a new customer (BTYDplus ``xbgcnbd_pmf_cpp``):

            B(a, b+n+m)/B(a, b) [sum_{i=kn}^{kn+k-1} NB_i(t) + [m = 1 or n > 0] a/(b+n+m-1) P(NB(t) >= kn)],

        NB_i(t) = G(r+i)/(G(r) i!) (alpha/(alpha+t))^r (t/(alpha+t))^i.
        """
        r, alpha, a, b, k, m = p["r"], p["alpha"], p["a"], p["b"], self.k_, self._m
        if t == 0:
            return (ns == 0).astype(float)
        q = t / (alpha + t)
        ns = np.asarray(ns, dtype=float)
        i = k * ns[:, None] + np.arange(k)[None, :]
        log_nb = gammaln(r + i) - gammaln(r) - gammaln(i + 1) + r * np.log1p(-q) + i * np.log(q)
        first = np.exp(betaln(a, b + ns + m) - betaln(a, b) + logsumexp(log_nb, axis=1))
        has2 = (ns > 0) if m == 0 else np.ones(len(ns), dtype=bool)
        tail = np.where(ns > 0, betainc(np.maximum(k * ns, 1.0), r, q), 1.0)
        c = np.where(has2, ns + m - 1.0, 0.0)  # drop-out flips survived before leaving (unused where ~has2)
        second = np.where(has2, np.exp(betaln(a + 1, b + c) - betaln(a, b)) * tail, 0.0)
        return first + second


def _future_purchases(p, k, m, x, T, t, pi):
    """sum_j pi_j sum_{n>=1} B(a, b+x+m+n-1)/B(a, b+x+m) I_q(kn-j, r+kx+j), q = t/(alpha+T+t),
    per row; n runs in chunks until a row's terms are negligible."""
    r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
    total = np.zeros(len(x))
    q = t / (alpha + T + t)
    shape = r + k * x
    bb = b + x + m
    idx = np.arange(len(x))
    n0, chunk = 1, 32
    while idx.size:
        n = np.arange(n0, n0 + chunk, dtype=float)[None, :]
        surv = np.exp(betaln(a, bb[idx, None] + n - 1.0) - betaln(a, bb[idx, None]))
        term = np.zeros((idx.size, chunk))
        for j in range(k):
            term += pi[j, idx, None] * betainc(k * n - j, shape[idx, None] + j, q[idx, None])
        term *= surv
        total[idx] += term.sum(axis=1)
        going = term[:, -1] > _TAIL_EPS * np.maximum(total[idx], 1e-300)
        idx = idx[going]
        n0 += chunk
        chunk = min(4 * chunk, 4096)
    return total


class BetaGeoCNBD(_CNBDFamily):
    """BG/CNBD-k (Platzer & Reutterer 2016): BG/NBD with Erlang-k inter-purchase times.

    Parameters
    ----------
    k : int or None
        The Erlang order of the inter-purchase times (1 = Poisson purchasing, the BG/NBD).
        ``None`` (default) chooses it by likelihood over 1, 2, ..., ``max_k``.
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col, recency_col, T_col : str
        Column names of the customer summary (times in the data's time unit, e.g. weeks).
    log_interpurchase_col : str
        Column of each customer's sum of log inter-purchase times (needed to fit unless k=1).
    max_k : int
        The largest k tried when ``k`` is None (BTYDplus: 12).

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha`` (gamma heterogeneity in lambda, the rate of the Poisson events of which
        every k-th is a purchase; ``alpha`` in the data's time unit) and ``a``, ``b`` (beta
        heterogeneity in the drop-out probability), at ``k_``.
    k_ : int
        The Erlang order used.
    log_likelihoods_by_k_ : pandas.Series
        The maximised log-likelihood of each k tried (the likelihood includes the
        inter-purchase times' constant, so values for different k compare).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop",
    ...                   include_log_interpurchase=True)
    >>> model = BetaGeoCNBD().fit(rfm)
    >>> model.k_, model.params_.round(3).to_dict()     # CDNOW buyers are not regular: BG/NBD
    (1, {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426})
    """

    _title = "BG/CNBD-k (Platzer & Reutterer 2016)"
    _m = 0


class ModifiedBetaGeoCNBD(_CNBDFamily):
    """MBG/CNBD-k (Platzer & Reutterer 2016): MBG/NBD with Erlang-k inter-purchase times.

    As :class:`BetaGeoCNBD`, except that a customer may also drop out right after the first
    purchase, so a customer without repeat purchases is not certainly alive.

    Parameters
    ----------
    k : int or None
        The Erlang order (1 = MBG/NBD); ``None`` chooses it by likelihood.
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col, recency_col, T_col : str
        Column names of the customer summary (times in the data's time unit, e.g. weeks).
    log_interpurchase_col : str
        Column of each customer's sum of log inter-purchase times (needed to fit unless k=1).
    max_k : int
        The largest k tried when ``k`` is None.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b`` as in :class:`BetaGeoCNBD`.
    k_ : int
        The Erlang order used.
    log_likelihoods_by_k_ : pandas.Series
        The maximised log-likelihood of each k tried.

    Examples
    --------
    >>> from crm_models.clv import simulate_beta_geo_cnbd
    >>> truth = {"k": 3, "r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42}    # BTYDplus's test values
    >>> sim = simulate_beta_geo_cnbd(4000, truth, T=52.0, modified=True)
    >>> model = ModifiedBetaGeoCNBD().fit(sim)
    >>> model.k_
    3
    >>> model.probability_alive(sim.head(2)).round(3).tolist()
    [0.0, 0.291]
    """

    _title = "MBG/CNBD-k (Platzer & Reutterer 2016)"
    _m = 1

"""BG/NBD: the beta-geometric / negative binomial model of Fader, Hardie & Lee (2005).

Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your Customers' the Easy
Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.

Story (section 3 of the paper), for one customer:

* while active, purchases follow a Poisson process with rate lambda; lambda ~ gamma(r, alpha)
  across customers (shape r, rate alpha);
* after each *repeat* purchase the customer becomes inactive with probability p;
  p ~ beta(a, b) across customers.

Data per customer: ``x`` repeat purchases, the last at ``t_x``, observed until ``T`` (both
measured from the first purchase, in the data's time unit). Equation numbers below are the
paper's. The MBG/NBD (:mod:`crm_models.clv.modified_beta_geo`) differs only in allowing the
drop-out also right after the first purchase; both share :class:`_BetaGeoFamily`, whose
``_m`` is 0 for BG/NBD and 1 for MBG/NBD (the beta function arguments shift by ``m``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from crm_models.clv import _forward_math as fm
from crm_models.clv._covariate_models import BetaGeoCovariates
from crm_models.clv._covariates import RepeatPurchaseCovariateMixin
from crm_models.clv.base import ContinuousTimeModel


def _hyp2f1(A, B, C, z):
    """scipy's hyp2f1, nudging A by a relative 1e-9 where SciPy is unreliable.

    SciPy fails near z = 1 when C - A - B is exactly an integer (here x + r - a + 1, e.g.
    r == a, or r == a - 1): it returns NaN, or finite values that are wrong by 10-20% and jump
    between neighbouring z (r = 0.05, a = 1.05, b = 3 at t = 1215 and 1216 weeks gave E[X(t)] 9.35
    then 8.46). The function is continuous in A, so the nudge changes the value by ~1e-9 relative.
    """
    out = hyp2f1(A, B, C, z)
    gap = np.asarray(C) - np.asarray(A) - np.asarray(B)
    bad = ~np.isfinite(out) | ((np.abs(gap - np.rint(gap)) < 1e-9) & (np.asarray(z) > 0.5))
    if np.any(bad):
        A2 = np.broadcast_to(A, np.shape(out))[bad] if np.ndim(A) else A
        B2 = np.broadcast_to(B, np.shape(out))[bad] if np.ndim(B) else B
        C2 = np.broadcast_to(C, np.shape(out))[bad] if np.ndim(C) else C
        z2 = np.broadcast_to(z, np.shape(out))[bad]
        out = np.array(out, dtype=float, copy=True)
        out[bad] = hyp2f1(A2 * (1 + 1e-9) + 1e-12, B2, C2, z2)
    return out


class _BetaGeoFamily(RepeatPurchaseCovariateMixin, ContinuousTimeModel):
    """Shared likelihood and predictions of BG/NBD (m = 0) and MBG/NBD (m = 1)."""

    _param_names = ("r", "alpha", "a", "b")
    _m = 0
    _covariate_family = BetaGeoCovariates(m=0)

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
        return np.array([1.0, 1.0 / rate, 1.0, 2.0])

    # --------------------------------------------------------------------- likelihood
    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-sum_i w_i log L_i and its gradient in log-parameters.

        BG/NBD, eq. (6):
            L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
                + delta_{x>0} B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))
        written as log L = C + logsumexp(u1, u2), with
            C  = log G(r+x) - log G(r) + r log alpha + log B(a, b+x+m) - log B(a, b)
            u1 = -(r+x) log(alpha+T)
            u2 = log a - log(b+x+m-1) - (r+x) log(alpha+t_x)  (only when x > 0 for BG/NBD),
        since B(a+1, b+x+m-1) / B(a, b+x+m) = a / (b+x+m-1). MBG/NBD (m = 1) is the likelihood of
        Batislam et al. (2007).
        """
        r, alpha, a, b = np.exp(log_params)
        m = self._m
        x, xu, xinv = arrays["x"], arrays["xu"], arrays["xinv"]
        wu = np.bincount(xinv, weights=weights, minlength=len(xu))
        # terms depending on x only, evaluated once per distinct frequency
        cu = (
            gammaln(r + xu)
            - gammaln(r)
            + gammaln(b + xu + m)
            - gammaln(a + b + xu + m)
            - gammaln(b)
            + gammaln(a + b)
        )
        dr_u = digamma(r + xu) - digamma(r)
        da_u = digamma(a + b) - digamma(a + b + xu + m)
        db_u = digamma(b + xu + m) - digamma(b) + da_u
        has2 = (xu > 0) if m == 0 else np.ones(len(xu), dtype=bool)
        bx = np.where(has2, b + xu + m - 1, 1.0)
        lr_u = np.where(has2, np.log(a) - np.log(bx), -np.inf)
        inv_bx_u = np.where(has2, 1.0 / bx, 0.0)

        rx = r + x
        Tinv, txinv = arrays["Tinv"], arrays["txinv"]
        aT, atx = alpha + arrays["Tu"], alpha + arrays["txu"]
        lT = np.log(aT)[Tinv]  # functions of T and t_x once per distinct value
        ltx = np.log(atx)[txinv]
        dl = ltx - lT
        u1 = -rx * lT
        d = lr_u[xinv] - rx * dl  # u2 - u1; -inf where there is no second term
        ed = np.exp(np.minimum(d, 700.0))
        p2 = ed / (1.0 + ed)  # share of the second term
        softplus = np.log1p(ed)  # log(1 + e^d), so that lse = logsumexp(u1, u2) = u1 + softplus
        big = d > 700.0
        if big.any():
            softplus[big] = d[big]
        iT = (1 / aT)[Tinv]

        W = weights.sum()
        ll = (wu * cu).sum() + W * r * np.log(alpha) + (weights * (u1 + softplus)).sum()
        wp2 = weights * p2
        g_r = (wu * dr_u).sum() + W * np.log(alpha) - (weights * lT).sum() - (wp2 * dl).sum()
        g_alpha = W * r / alpha - (weights * rx * (iT + p2 * ((1 / atx)[txinv] - iT))).sum()
        g_a = (wu * da_u).sum() + wp2.sum() / a
        g_b = (wu * db_u).sum() - (wp2 * inv_bx_u[xinv]).sum()
        grad = np.array([g_r, g_alpha, g_a, g_b]) * np.array([r, alpha, a, b])
        return -ll, -grad

    # -------------------------------------------------------------------- predictions
    def _off_singular(self, a, b):
        """Step 1e-7 away from the removable singularities of eqs. (9)-(10): a = 1, and for
        BG/NBD a + b = 1 (where 2F1's third argument is 0 for customers with x = 0)."""
        if abs(a - 1) < 1e-7:
            a = 1 + 1e-7
        if abs(a + b + self._m - 1) < 1e-7:
            b = 1 - self._m - a + 1e-7
        return a, b

    def _log_odds_dead(self, p, x, t_x, T):
        """log of D in P(alive) = 1 / (1 + D); D = a/(b+x+m-1) ((alpha+T)/(alpha+t_x))^(r+x)."""
        r, alpha, a, b, m = p["r"], p["alpha"], p["a"], p["b"], self._m
        with np.errstate(divide="ignore", invalid="ignore"):
            logd = np.log(a) - np.log(b + x + m - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        if m == 0:
            logd = np.where(x > 0, logd, -np.inf)
        return logd

    def _p_alive(self, p, pdata):
        """P(alive | x, t_x, T) = 1 / (1 + D) (Fader, Hardie & Lee, "Computing P(alive) using the BG/NBD model",
        http://brucehardie.com/notes/021/)."""
        if self._uses_covariates():  # per-customer alpha, a, b
            return self._covariate_p_alive(p, pdata)
        return expit(-self._log_odds_dead(p, pdata.x, pdata.t_x, pdata.T))

    def _expected(self, p, pdata, t):
        """E[Y(t) | x, t_x, T], eq. (10):

            (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)] / (1 + D),
            z = t / (alpha+T+t).

        Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the
        bracket into 1 - (1-z)^(a-1) 2F1(a+b+m-1-r, a-1; a+b+x+m-1; z), whose parameters stay
        small for heavy buyers (no overflow for x in the thousands). The hypergeometric term
        depends on (x, T) only and is evaluated once per distinct pair.
        """
        if self._uses_covariates():  # per-customer alpha, a, b
            return self._covariate_expected(p, pdata, t)
        r, alpha, a, b, m = p["r"], p["alpha"], p["a"], p["b"], self._m
        if t == 0:
            return np.zeros(len(pdata.x))
        a, b = self._off_singular(a, b)
        xu, Tu, inv = pdata.xT
        zu = t / (alpha + Tu + t)
        G = np.exp((a - 1) * np.log1p(-zu)) * _hyp2f1(a + b + m - 1 - r, a - 1, a + b + xu + m - 1, zu)
        num = ((a + b + xu + m - 1) / (a - 1) * (1 - G))[inv]
        out = num * self._p_alive(p, pdata)
        return np.maximum(out, 0.0)

    def _expected_new(self, p, ts):
        """E[X(t)] for a new customer, eq. (9) (the conditional formula at x = t_x = T = 0)."""
        r, alpha, a, b, m = p["r"], p["alpha"], p["a"], p["b"], self._m
        a, b = self._off_singular(a, b)
        z = ts / (alpha + ts)
        G = np.exp((a - 1) * np.log1p(-z)) * _hyp2f1(a + b + m - 1 - r, a - 1, a + b + m - 1, z)
        # BG/NBD: (a+b-1)/(a-1) [...]; MBG/NBD: P(alive after the first purchase) = b/(a+b) times (a+b)/(a-1) [...]
        lead = (a + b - 1) / (a - 1) if m == 0 else b / (a - 1)
        return np.maximum(lead * (1 - G), 0.0)

    def _p_n(self, p, t, ns):
        """P(X(t) = n), eq. (8):

            B(a, b+n+m)/B(a, b) NBD_n(t) + [n>0 or m=1] B(a+1, b+n+m-1)/B(a, b) [1 - sum_{j<n} NBD_j(t)],
            NBD_j(t) = G(r+j)/(G(r) j!) (alpha/(alpha+t))^r (t/(alpha+t))^j.
        """
        r, alpha, a, b, m = p["r"], p["alpha"], p["a"], p["b"], self._m
        if t == 0:  # nothing can happen in no time
            return (ns == 0).astype(float)
        nmax = int(ns.max())
        j = np.arange(nmax + 1)
        with np.errstate(divide="ignore"):
            log_nbd = (
                gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * np.log(alpha / (alpha + t)) + j * np.log(t / (alpha + t))
            )
        # 1 - sum_{j<n} NBD_j = sum_{j>=n} NBD_j, computed as a tail to avoid cancellation
        cdf_below = np.concatenate([[0.0], np.cumsum(np.exp(log_nbd))[:-1]])
        tail = np.clip(1.0 - cdf_below, 0.0, 1.0)
        lbab = gammaln(a) + gammaln(b) - gammaln(a + b)
        first = np.exp(gammaln(a) + gammaln(b + ns + m) - gammaln(a + b + ns + m) - lbab + log_nbd[ns])
        has2 = (ns > 0) if m == 0 else np.ones(len(ns), dtype=bool)
        bb = np.where(has2, b + ns + m - 1, 1.0)
        second = np.where(
            has2, np.exp(gammaln(a + 1) + gammaln(bb) - gammaln(a + bb + 1) - lbab) * tail[ns], 0.0
        )
        return first + second

    # ------------------------------------------------- after T (crm_models.clv._forward)
    def _alive_posterior(self, p, x, T):
        """lambda ~ gamma(r + x, alpha + T), p ~ beta(a, b + x + m) for a customer alive at T."""
        x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
        return {"r": p["r"] + x, "alpha": p["alpha"] + T, "a": np.full(x.shape, p["a"]), "b": p["b"] + x + self._m}

    def _still_alive(self, post, t):
        return fm.bg_still_alive(t, post["r"], post["alpha"], post["a"], post["b"])

    def _alive_pmf(self, post, t, ks):
        col = {k: np.asarray(v)[:, None] for k, v in post.items()}
        return fm.bg_alive_pmf(np.asarray(ks, dtype=float)[None, :], t, col["r"], col["alpha"], col["a"], col["b"])


class BetaGeo(_BetaGeoFamily):
    """BG/NBD model (Fader, Hardie & Lee 2005) of repeat purchasing and drop-out.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col, recency_col, T_col : str
        Column names of the customer summary: repeat purchases, time of the last repeat
        purchase and time since the first purchase (both in the data's time unit, e.g. weeks).
    purchase_covariates : list of str, optional
        Columns of per-customer covariates z that act on the purchase process:
        ``alpha_i = alpha exp(-g' z_i)``, so the mean purchase rate ``r / alpha_i`` is
        multiplied by ``exp(g' z_i)`` (a positive coefficient: more purchases).
    dropout_covariates : list of str, optional
        Columns z that act on the dropout process: ``a_i = a exp(g' z_i)`` and
        ``b_i = b exp(g' z_i)``. The mean dropout probability ``a / (a + b)`` stays the same
        while p concentrates around it as ``g' z_i`` grows, so fewer customers have a dropout
        probability near 0 and the expected number of purchases before dropping out,
        ``(a_i + b_i - 1) / (a_i - 1)``, falls (a positive coefficient: more dropout).
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
        ``r``, ``alpha`` (gamma heterogeneity in the purchase rate; ``alpha`` in the data's time
        unit) and ``a``, ``b`` (beta heterogeneity in the drop-out probability); with
        covariates, those of a customer whose covariates are all 0.
    coefficients_ : pandas.Series
        Only with covariates: one coefficient per ``process.column`` (``purchase.z``,
        ``dropout.z``, ``shared.z``).

    Notes
    -----
    On the CDNOW sample in weeks the paper reports r = 0.243, alpha = 4.414, a = 0.793,
    b = 2.426 and log-likelihood -9582.4.

    Covariates follow CLVTools' BG/NBD with static covariates (Fader & Hardie 2007,
    http://brucehardie.com/notes/019/): ``fit`` reads the covariate columns from the data,
    every per-customer prediction uses each customer's covariates (the same columns of the
    data it is given), and the new-customer predictions take the new customer's
    ``covariates``. Rows sharing frequency, recency, T and covariates are evaluated once; the
    gradient is exact; standard errors of the coefficients come from the same observed
    information; :func:`crm_models.clv.likelihood_ratio_test` tests them.

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> model = BetaGeo().fit(rfm)
    >>> model.params_.round(3).to_dict()
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(model.log_likelihood_, 2)
    -9582.43
    >>> model.expected_purchases(rfm.head(2), 39).round(3).tolist()   # next 39 weeks
    [1.226, 0.197]
    >>> model.probability_of_n_purchases(39, [0, 1]).round(3).tolist()
    [0.574, 0.199]

    With a covariate (here customers whose first purchase was large):

    >>> rfm["big_first"] = (load_cdnow().groupby("customer_id")["amount"].first() > 30).astype(int)
    >>> cov = BetaGeo(purchase_covariates=["big_first"], dropout_covariates=["big_first"]).fit(rfm)
    >>> cov.coefficients_.round(3).to_dict()
    {'purchase.big_first': 0.647, 'dropout.big_first': 0.18}
    >>> cov.expected_purchases_new_customer(39, covariates={"big_first": 1}).round(3).tolist()
    [1.53]
    """

    _title = "BG/NBD (Fader, Hardie & Lee 2005)"
    _m = 0

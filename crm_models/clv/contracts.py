"""Contract survival from per-customer data: the sBG and the beta-discrete-Weibull, over several cohorts.

Fader, P. S. and Hardie, B. G. S. (2007), "How to Project Customer Retention", *Journal of
Interactive Marketing* 21(1), 76-90 (the sBG); Fader, P. S., Hardie, B. G. S., Liu, Y., Davin,
J. and Steenburgh, T. (2018), "'How to Project Customer Retention' Revisited: The Role of
Duration Dependence", *Journal of Interactive Marketing* 43, 1-16 (the BdW); discounted
residual lifetimes: Fader, P. S. and Hardie, B. G. S. (2010), "Customer-Base Valuation in a
Contractual Setting: The Perils of Ignoring Heterogeneity", *Marketing Science* 29(1), 85-93.

Story. Each customer of a cohort renews at the end of every period until the first
non-renewal; T, the period in which the customer churns, is 1, 2, ... . In the sBG a
customer's churn probability theta is the same every period, so T is geometric; in the BdW
it changes with tenure: P(T > t | theta, c) = (1 - theta)^(t^c), a discrete Weibull (c < 1:
the individual churn probability falls with tenure; c > 1: it rises; c = 1: the sBG). Across
customers theta ~ beta(alpha, beta), so the cohort's survival is

    S(t) = B(alpha, beta + t^c) / B(alpha, beta),      P(T = t) = S(t-1) - S(t)

(FHLDS 2018; with c = 1 it is FH 2007's eq. 6, S(t) = B(alpha, beta+t)/B(alpha, beta)).
The cohort's retention rate r_t = S(t)/S(t-1) rises with tenure because the worst risks
leave first; the BdW separates that sorting from a change in each customer's own propensity.

Data: one row per customer (or per group of identical customers, with a weight): the cohort,
the ``tenure`` (periods observed since acquisition, a whole number) and whether the customer
``churned`` in that last period. A churned customer contributes P(T = tenure) and an active
one S(tenure) (FH 2007 eq. 7, per customer). Cohorts acquired at different times are
observed for different numbers of periods; they share one (alpha, beta[, c]) or each has its
own (``cohort_params``). A cohort table of survivors by period converts with
:func:`contracts_from_survivors`.

For an active customer who has renewed ``k`` times (tenure k), the discounted expected
residual lifetime counts the payments still to come, the next one undiscounted (FH 2010 eq. 6):

    DERL(d | k) = sum_{i>=0} S(k+1+i) / S(k) / (1+d)^i,

in closed form for the sBG, (beta+k)/(alpha+beta+k) 2F1(1, beta+k+1; alpha+beta+k+1; 1/(1+d)),
and summed term by term for the BdW. Residual value = DERL x the value of one period's payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma

from crm_models._validation import fail_rows, require_columns
from crm_models.base import FieldReader
from crm_models.clv import _sbg_math as sbg
from crm_models.clv.base import DiscreteTimeModel, _as_float_array, compress
from crm_models.errors import DataError
from crm_models.units import TIME_UNITS, as_discount_rate, check_time_unit

__all__ = ["ShiftedBetaGeoContracts", "BetaDiscreteWeibull", "contracts_from_survivors"]

_COHORT_PARAMS = ("shared", "separate")
_DERL_EPS = 1e-13


def contracts_from_survivors(
    data: pd.DataFrame,
    *,
    period_col: str = "period",
    survivors_col: str = "survivors",
    cohort_col: str | None = None,
) -> pd.DataFrame:
    """Turn cohort tables of survivors by period into per-customer contract rows with weights.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``period_col`` (0, 1, ..., T per cohort; 0 is the whole cohort) and
        ``survivors_col`` (customers still active, whole numbers); with ``cohort_col``,
        several cohorts stacked.
    period_col, survivors_col : str
        Column names.
    cohort_col : str, optional
        Column naming each row's cohort (default: one cohort called ``"all"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``cohort``, ``tenure``, ``churned`` and ``n_customers``: for each period t >= 1
        the customers lost in t (churned, tenure t), and the survivors of the last period
        (active, tenure T); ready for ``fit(..., weights_col="n_customers")``.

    Examples
    --------
    >>> table = pd.DataFrame({"period": [0, 1, 2], "survivors": [1000, 631, 468]})
    >>> contracts_from_survivors(table).to_dict("list")
    {'cohort': ['all', 'all', 'all'], 'tenure': [1, 2, 2], 'churned': [True, True, False], 'n_customers': [369, 163, 468]}
    """
    cols = [period_col, survivors_col] + ([cohort_col] if cohort_col else [])
    require_columns(data, cols, what="cohort data")
    rows = []
    groups = data.groupby(cohort_col, sort=False) if cohort_col else [("all", data)]
    for cohort, g in groups:
        t = _as_float_array(g, period_col, "cohort data")
        s = _as_float_array(g, survivors_col, "cohort data")
        order = np.argsort(t, kind="stable")
        g, t, s = g.iloc[order], t[order], s[order]
        fail_rows(g, t != np.arange(len(t)), period_col,
                  "must run 0, 1, 2, ... within each cohort (period 0 is the whole cohort)", what="cohort data")
        fail_rows(g, (s < 0) | (s != np.floor(s)), survivors_col, "must hold whole numbers of customers >= 0",
                  what="cohort data")
        fail_rows(g, np.concatenate([[False], np.diff(s) > 0]), survivors_col,
                  "must not increase from one period to the next", what="cohort data")
        if len(t) < 2:
            raise DataError(period_col, "needs period 0 and at least one later period per cohort", what="cohort data")
        lost = -np.diff(s)
        for i, n in enumerate(lost, start=1):
            rows.append((cohort, i, True, int(n)))
        rows.append((cohort, len(t) - 1, False, int(s[-1])))
    out = pd.DataFrame(rows, columns=["cohort", "tenure", "churned", "n_customers"])
    return out[out["n_customers"] > 0].reset_index(drop=True)


def _log_derivs(alpha, beta, c, t):
    """log S(t) and d log S(t) / d(alpha, beta, c) for S(t) = B(alpha, beta + t^c)/B(alpha, beta)."""
    t = np.asarray(t, dtype=float)
    with np.errstate(divide="ignore"):
        tc = np.where(t > 0, np.exp(c * np.log(np.where(t > 0, t, 1.0))), 0.0)
        logt = np.where(t > 0, np.log(np.where(t > 0, t, 1.0)), 0.0)
    logS = betaln(alpha, beta + tc) - betaln(alpha, beta)
    dab = digamma(alpha + beta)
    dtot = digamma(alpha + beta + tc)
    d_alpha = dab - dtot
    d_beta = digamma(beta + tc) - dtot - digamma(beta) + dab
    d_c = (digamma(beta + tc) - dtot) * tc * logt
    return logS, np.array([d_alpha, d_beta, d_c])


class _ContractModel(DiscreteTimeModel):
    """Per-customer contract survival over cohorts; subclasses fix whether c is estimated."""

    _base_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    _predictions = ("discounted_expected_residual_lifetime", "residual_value")

    def __init__(
        self,
        cohort_params: str = "shared",
        penalizer: float = 0.0,
        cohort_col: str = "cohort",
        tenure_col: str = "tenure",
        churned_col: str = "churned",
        time_unit: str = "Y",
    ):
        self.cohort_params = cohort_params
        self.penalizer = penalizer
        self.cohort_col = cohort_col
        self.tenure_col = tenure_col
        self.churned_col = churned_col
        self.time_unit = time_unit

    def _check_params(self) -> None:
        super()._check_params()
        if self.cohort_params not in _COHORT_PARAMS:
            raise ValueError(f"cohort_params must be one of {list(_COHORT_PARAMS)}, got {self.cohort_params!r}")
        check_time_unit(self.time_unit)

    # ------------------------------------------------------------------------- data
    def _validate_contracts(self, data: pd.DataFrame, what: str = "data", *, need_churned: bool = True):
        cols = [self.cohort_col, self.tenure_col] + ([self.churned_col] if need_churned else [])
        require_columns(data, cols, what=what)
        if len(data) == 0:
            raise DataError(None, "is empty: a model needs at least one customer row", what=what)
        fail_rows(data, data[self.cohort_col].isna(), self.cohort_col, "must name each customer's cohort", what=what)
        tenure = _as_float_array(data, self.tenure_col, what)
        fail_rows(data, (tenure < 0) | (tenure != np.floor(tenure)), self.tenure_col,
                  "must be a whole number of periods >= 0 (periods observed since acquisition)", what=what)
        cohorts = data[self.cohort_col].astype(str).to_numpy()
        if not need_churned:
            return cohorts, tenure, None
        raw = data[self.churned_col]
        if pd.api.types.is_bool_dtype(raw):
            churned = raw.to_numpy(dtype=bool)
        else:
            values = pd.to_numeric(raw, errors="coerce")
            fail_rows(data, ~values.isin([0, 1]), self.churned_col,
                      "must be True/False or 1/0 (did the customer leave in their last observed period?)", what=what)
            churned = values.to_numpy() == 1
        fail_rows(data, churned & (tenure == 0), self.tenure_col,
                  "must be >= 1 for a churned customer (churn happens at a renewal, in period 1 or later)", what=what)
        return cohorts, tenure, churned

    def _cohort_index(self, data, cohorts, what="data"):
        """Position of each row's cohort in ``cohorts_`` (0 for all when the parameters are shared)."""
        if self.cohort_params == "shared":
            return np.zeros(len(cohorts), dtype=np.int64)
        known = {c: i for i, c in enumerate(self.cohorts_)}
        idx = np.array([known.get(c, -1) for c in cohorts], dtype=np.int64)
        fail_rows(data, idx < 0, self.cohort_col,
                  f"must be one of the fitted cohorts {self.cohorts_} (each cohort has its own parameters)", what=what)
        return idx

    def fit(
        self,
        data: pd.DataFrame,
        *,
        weights_col: str | None = None,
        initial_params: Mapping[str, float] | None = None,
    ):
        """Fit by maximum likelihood to one row per customer: cohort, tenure, churned.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``cohort_col``, ``tenure_col`` (whole periods observed since acquisition)
            and ``churned_col`` (True if the customer left in that last period).
        weights_col : str, optional
            Column with the number of customers each row stands for.
        initial_params : mapping, optional
            Starting values keyed by the parameter names (``alpha``, ``beta``[, ``c``], or
            ``alpha[cohort]``... with separate cohorts).

        Returns
        -------
        self

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> data = simulate_contracts({"2021": 2000, "2022": 2000}, {"alpha": 0.7, "beta": 1.2}, {"2021": 4, "2022": 3})
        >>> ShiftedBetaGeoContracts().fit(data).params_.round(2).tolist()
        [0.67, 1.15]
        """
        self._check_params()
        cohorts, tenure, churned = self._validate_contracts(data)
        w = np.ones(len(tenure))
        if weights_col is not None:
            require_columns(data, [weights_col])
            w = _as_float_array(data, weights_col, "data")
            fail_rows(data, w < 0, weights_col, "must not be negative (customer counts)")
            if w.sum() <= 0:
                raise DataError(weights_col, "sums to 0: there is nothing to fit")
        labels = list(dict.fromkeys(cohorts))
        self.cohorts_ = labels
        self._set_names()
        if self.cohort_params == "shared":
            g = np.zeros(len(tenure), dtype=np.int64)
        else:
            pos = {c: i for i, c in enumerate(labels)}
            g = np.array([pos[c] for c in cohorts], dtype=np.int64)
        unique, counts, _ = compress({"g": g, "t": tenure, "d": churned.astype(np.int8)}, w)
        keep = counts > 0
        arrays = {"g": unique["g"][keep], "t": unique["t"][keep], "d": unique["d"][keep].astype(bool)}
        n_groups = 1 if self.cohort_params == "shared" else len(labels)
        for i in range(n_groups):
            sel = arrays["g"] == i
            if not (arrays["d"][sel]).any() or not (~arrays["d"][sel] | (arrays["t"][sel] > 1)).any():
                name = labels[i] if self.cohort_params == "separate" else "all cohorts"
                raise DataError(self.churned_col, f"needs churned and surviving customers in {name}", what="data",
                                message=f"data has no churn, or nothing but churn in period 1, in {name}: the "
                                "parameters are not identified. Pool cohorts (cohort_params='shared') or add data.")
        self._fit_prepared(arrays, counts[keep], float(w.sum()), initial_params)
        self.n_customers_ = pd.Series(
            pd.Series(w).groupby(cohorts).sum().reindex(labels).to_numpy(), index=pd.Index(labels, name="cohort"),
            name="n_customers")
        return self

    def _set_names(self):
        base = self._base_names
        if self.cohort_params == "shared":
            self._param_names = tuple(base)
        else:
            self._param_names = tuple(f"{n}[{c}]" for c in self.cohorts_ for n in base)

    def _initial_params(self, arrays, weights):
        k = len(self._base_names)
        start = [1.0, 1.0, 1.0][:k]
        return np.tile(start, len(self._param_names) // k)

    def _theta(self, z):
        """(alpha, beta, c) per parameter group from the log-parameter vector."""
        k = len(self._base_names)
        v = np.exp(np.asarray(z, dtype=float)).reshape(-1, k)
        c = v[:, 2] if k == 3 else np.ones(len(v))
        return v[:, 0], v[:, 1], c

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-[sum over churned w log P(T = t) + sum over active w log S(t)] and its gradient."""
        k = len(self._base_names)
        A, B, C = self._theta(log_params)
        g, t, d = arrays["g"], arrays["t"], arrays["d"]
        a, b, c = A[g], B[g], C[g]
        lS, dS = _log_derivs(a, b, c, t)
        ll_rows = np.where(d, 0.0, lS)
        grad_rows = np.where(d[None, :], 0.0, dS)
        if d.any():
            lS0, dS0 = _log_derivs(a[d], b[d], c[d], t[d] - 1.0)
            delta = np.minimum(lS[d] - lS0, 0.0)
            om = -np.expm1(delta)  # 1 - S(t)/S(t-1), > 0 for t >= 1
            ll_rows[d] = lS0 + np.log(om)
            rho = np.exp(delta)
            grad_rows[:, d] = (dS0 - rho * dS[:, d]) / om
        ll = float((weights * ll_rows).sum())
        G = np.zeros((len(A), 3))
        for j in range(3):
            G[:, j] = np.bincount(g, weights=weights * grad_rows[j], minlength=len(A))
        grad = G[:, :k] * np.exp(np.asarray(log_params).reshape(-1, k))
        return -ll, -grad.ravel()

    # ------------------------------------------------------------------ persistence
    def _fitted_state(self):
        return {**super()._fitted_state(), "cohorts": list(self.cohorts_), "n_customers": self.n_customers_}

    def _restore(self, fitted: FieldReader) -> None:
        cohorts = fitted.strings("cohorts", unique=True)
        if not cohorts:
            fitted.fail("cohorts", "must name at least one cohort")
        self.cohorts_ = cohorts
        self._set_names()
        super()._restore(fitted)
        n = fitted.series("n_customers", low=0)
        if [str(i) for i in n.index] != cohorts:
            fitted.fail("n_customers", f"must be indexed by the cohorts {cohorts}")
        self.n_customers_ = pd.Series(n.to_numpy(float), index=pd.Index(cohorts, name="cohort"), name="n_customers")

    # ------------------------------------------------------------------ predictions
    def _cohort_theta(self, cohort):
        self._check_fitted()
        A, B, C = self._theta(np.log(self.params_.to_numpy()))
        if self.cohort_params == "shared":
            return A[0], B[0], C[0]
        if cohort is None:
            if len(self.cohorts_) == 1:
                return A[0], B[0], C[0]
            raise ValueError(f"cohort must name one of the fitted cohorts {self.cohorts_} (each has its own parameters)")
        key = str(cohort)
        if key not in self.cohorts_:
            raise ValueError(f"cohort must name one of the fitted cohorts {self.cohorts_}, got {cohort!r}")
        i = self.cohorts_.index(key)
        return A[i], B[i], C[i]

    def _by_period(self, values, t, name):
        return pd.Series(np.asarray(values, dtype=float), index=pd.Index(t.astype(np.int64), name="period"), name=name)

    def survival(self, periods, cohort=None) -> pd.Series:
        """S(t): share of a cohort still active after ``t`` periods.

        Parameters
        ----------
        periods : int or array_like of int
            Whole numbers of periods >= 0.
        cohort : optional
            The cohort (needed when each cohort has its own parameters).

        Returns
        -------
        pandas.Series
            ``survival`` (0-1) indexed by ``period``.

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> m = ShiftedBetaGeoContracts().fit(simulate_contracts(3000, {"alpha": 0.7, "beta": 1.2}, 5))
        >>> m.survival([0, 1]).round(3).tolist()
        [1.0, 0.636]
        """
        from crm_models.clv.shifted_beta_geo import _periods

        a, b, c = self._cohort_theta(cohort)
        t = _periods(periods)
        return self._by_period(np.exp(_log_derivs(a, b, c, t)[0]), t, "survival")

    def retention_rate(self, periods, cohort=None) -> pd.Series:
        """r_t = S(t) / S(t-1), the share of period t-1's survivors who renew at t (t >= 1).

        Parameters
        ----------
        periods : int or array_like of int
            Whole numbers of periods >= 1.
        cohort : optional
            The cohort (needed when each cohort has its own parameters).

        Returns
        -------
        pandas.Series
            ``retention_rate`` (0-1) indexed by ``period``.

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> m = ShiftedBetaGeoContracts().fit(simulate_contracts(3000, {"alpha": 0.7, "beta": 1.2}, 5))
        >>> bool(m.retention_rate([1, 2, 10]).is_monotonic_increasing)
        True
        """
        from crm_models.clv.shifted_beta_geo import _periods

        a, b, c = self._cohort_theta(cohort)
        t = _periods(periods)
        if np.any(t < 1):
            raise ValueError("retention rates are defined for periods t >= 1 (renewal at the end of period t)")
        lS, lS0 = _log_derivs(a, b, c, t)[0], _log_derivs(a, b, c, t - 1)[0]
        return self._by_period(np.exp(lS - lS0), t, "retention_rate")

    def churn_probability(self, periods, cohort=None) -> pd.Series:
        """P(T = t): share of a new cohort lost in period t (t >= 1).

        Parameters
        ----------
        periods : int or array_like of int
            Whole numbers of periods >= 1.
        cohort : optional
            The cohort (needed when each cohort has its own parameters).

        Returns
        -------
        pandas.Series
            ``churn_probability`` (0-1) indexed by ``period``.

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> m = ShiftedBetaGeoContracts().fit(simulate_contracts(3000, {"alpha": 0.7, "beta": 1.2}, 5))
        >>> round(float(m.churn_probability([1]).iloc[0] + m.survival([1]).iloc[0]), 12)
        1.0
        """
        from crm_models.clv.shifted_beta_geo import _periods

        a, b, c = self._cohort_theta(cohort)
        t = _periods(periods)
        if np.any(t < 1):
            raise ValueError("churn happens in periods t >= 1")
        lS, lS0 = _log_derivs(a, b, c, t)[0], _log_derivs(a, b, c, t - 1)[0]
        return self._by_period(np.exp(lS0) * -np.expm1(np.minimum(lS - lS0, 0.0)), t, "churn_probability")

    def _rate_per_period(self, discount_rate) -> float:
        rate = as_discount_rate(discount_rate)
        if rate.rate <= 0:
            raise ValueError(f"discount_rate must be positive for a lifetime without end, got {discount_rate!r}")
        return float((1.0 + rate.rate) ** (TIME_UNITS[check_time_unit(self.time_unit)] / TIME_UNITS[rate.unit]) - 1.0)

    def _derl(self, a, b, c, d, k):
        """sum_{i>=0} S(k+1+i)/S(k) (1+d)^-i for each distinct tenure k (summed until negligible)."""
        ks = np.asarray(k, dtype=float)
        out = np.zeros(len(ks))
        lSk = _log_derivs(a, b, c, ks)[0]
        ld = np.log1p(d)
        idx = np.arange(len(ks))
        i, chunk = 0, 256
        while idx.size:
            steps = np.arange(i, i + chunk, dtype=float)
            lS = _log_derivs(a, b, c, ks[idx, None] + 1.0 + steps[None, :])[0]
            terms = np.exp(lS - lSk[idx, None] - steps[None, :] * ld)
            out[idx] += terms.sum(axis=1)
            going = terms[:, -1] > _DERL_EPS * out[idx]
            idx = idx[going]
            i += chunk
        return out

    def discounted_expected_residual_lifetime(self, data: pd.DataFrame, discount_rate) -> pd.Series:
        """DERL per customer: discounted expected number of payments still to come (FH 2010 eq. 6).

        An active customer with tenure k has renewed k times and is about to decide on the next
        renewal, whose payment is not discounted; a churned customer has none left (0).

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer: ``cohort_col``, ``tenure_col`` and ``churned_col`` (rows
            without ``churned_col`` are taken as active).
        discount_rate : tuple of (float, str)
            A ``(rate, unit)`` pair, e.g. ``(0.10, "Y")``, converted to the rate per period of
            ``time_unit``; must be positive.

        Returns
        -------
        pandas.Series
            ``DERL`` (payments) indexed like ``data``.

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> m = ShiftedBetaGeoContracts().fit(simulate_contracts(3000, {"alpha": 0.7, "beta": 1.2}, 5))
        >>> new = pd.DataFrame({"cohort": ["all", "all"], "tenure": [0, 4], "churned": [False, False]})
        >>> m.discounted_expected_residual_lifetime(new, (0.10, "Y")).round(3).tolist()
        [3.053, 5.955]
        """
        self._check_fitted()
        d = self._rate_per_period(discount_rate)
        cohorts, tenure, churned = self._validate_contracts(
            data, need_churned=self.churned_col in data.columns)
        churned = np.zeros(len(tenure), dtype=bool) if churned is None else churned
        idx = self._cohort_index(data, cohorts)
        out = np.zeros(len(tenure))
        A, B, C = self._theta(np.log(self.params_.to_numpy()))
        for gi in np.unique(idx):
            sel = (idx == gi) & ~churned
            if not sel.any():
                continue
            ku, inv = np.unique(tenure[sel], return_inverse=True)
            out[sel] = self._derl(A[gi], B[gi], C[gi], d, ku)[inv]
        return pd.Series(out, index=data.index, name="DERL")

    def residual_value(self, data: pd.DataFrame, discount_rate, value_per_period) -> pd.Series:
        """Residual value per customer: DERL x the value of one period's payment (money).

        Parameters
        ----------
        data : pandas.DataFrame
            As for :meth:`discounted_expected_residual_lifetime`.
        discount_rate : tuple of (float, str)
            A ``(rate, unit)`` pair; must be positive.
        value_per_period : float or pandas.Series
            Margin of one period's payment (money), one number or a Series indexed like ``data``.

        Returns
        -------
        pandas.Series
            ``residual_value`` (money) indexed like ``data``.

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> m = ShiftedBetaGeoContracts().fit(simulate_contracts(3000, {"alpha": 0.7, "beta": 1.2}, 5))
        >>> new = pd.DataFrame({"cohort": ["all"], "tenure": [4], "churned": [False]})
        >>> m.residual_value(new, (0.10, "Y"), 100.0).round(1).tolist()
        [595.5]
        """
        derl = self.discounted_expected_residual_lifetime(data, discount_rate)
        if isinstance(value_per_period, pd.Series):
            if not value_per_period.index.equals(data.index):
                raise DataError(None, "value_per_period must be indexed like data (one value per customer row)")
            value = value_per_period.to_numpy(dtype=float)
            if not np.all(np.isfinite(value)) or np.any(value < 0):
                raise DataError(None, "value_per_period must hold finite amounts >= 0")
        elif isinstance(value_per_period, (int, float, np.integer, np.floating)) and not isinstance(
                value_per_period, bool) and np.isfinite(value_per_period) and value_per_period >= 0:
            value = float(value_per_period)
        else:
            raise ValueError(f"value_per_period must be a finite amount >= 0 or a Series, got {value_per_period!r}")
        return (derl * value).rename("residual_value")

    def residual_value_by_cohort(self, data: pd.DataFrame, discount_rate, value_per_period) -> pd.DataFrame:
        """Residual value summed by cohort, with the active customers and their mean DERL.

        Parameters
        ----------
        data : pandas.DataFrame
            As for :meth:`discounted_expected_residual_lifetime`.
        discount_rate : tuple of (float, str)
            A ``(rate, unit)`` pair; must be positive.
        value_per_period : float or pandas.Series
            As for :meth:`residual_value`.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``cohort``: ``n_active``, ``mean_DERL`` (over active customers) and
            ``residual_value`` (total money).

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> data = simulate_contracts({"2021": 500, "2022": 500}, {"alpha": 0.7, "beta": 1.2}, {"2021": 4, "2022": 3})
        >>> m = ShiftedBetaGeoContracts().fit(data)
        >>> list(m.residual_value_by_cohort(data, (0.10, "Y"), 100.0).columns)
        ['n_active', 'mean_DERL', 'residual_value']
        """
        derl = self.discounted_expected_residual_lifetime(data, discount_rate)
        value = self.residual_value(data, discount_rate, value_per_period)
        active = ~data[self.churned_col].astype(bool) if self.churned_col in data.columns else pd.Series(
            True, index=data.index)
        cohort = data[self.cohort_col].astype(str)
        frame = pd.DataFrame({"cohort": cohort, "active": active.to_numpy(), "DERL": derl, "value": value})
        g = frame.groupby("cohort", sort=False)
        out = pd.DataFrame({
            "n_active": g["active"].sum().astype(np.int64),
            "mean_DERL": frame[frame["active"]].groupby("cohort", sort=False)["DERL"].mean(),
            "residual_value": g["value"].sum(),
        })
        return out.fillna({"mean_DERL": 0.0})


    def retention_table(self, data: pd.DataFrame, *, n_periods: int | None = None) -> pd.DataFrame:
        """Each cohort's survival and retention, actual (Kaplan-Meier) vs model, by period.

        The actual survival at t is the product over u <= t of (1 - churned at u / at risk at u),
        the customers at risk at u being those observed for at least u periods; so cohorts, and
        customers within a cohort, may be observed for different lengths.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer (``cohort_col``, ``tenure_col``, ``churned_col``); a
            ``weights_col`` is not taken: expand aggregated rows first.
        n_periods : int, optional
            Last period shown (default: the longest tenure); later periods have no actual value.

        Returns
        -------
        pandas.DataFrame
            Indexed by (``cohort``, ``period``) with ``at_risk``, ``churned``,
            ``actual_survival``, ``model_survival``, ``actual_retention``, ``model_retention``.

        Examples
        --------
        >>> from crm_models.clv import simulate_contracts
        >>> data = simulate_contracts({"2021": 800, "2022": 800}, {"alpha": 0.7, "beta": 1.2}, {"2021": 4, "2022": 3})
        >>> tab = ShiftedBetaGeoContracts().fit(data).retention_table(data)
        >>> tab.loc["2022"]["actual_survival"].isna().tolist()
        [False, False, False, False, True]
        """
        self._check_fitted()
        cohorts, tenure, churned = self._validate_contracts(data)
        self._cohort_index(data, cohorts)  # refuses cohorts without parameters of their own
        last = int(tenure.max()) if n_periods is None else max(int(tenure.max()), self._check_time(n_periods, "n_periods"))
        periods = np.arange(last + 1)
        frames = []
        for label in dict.fromkeys(cohorts):
            sel = cohorts == label
            t, d = tenure[sel], churned[sel]
            at_risk = np.array([(t >= u).sum() for u in periods], dtype=float)
            lost = np.array([((t == u) & d).sum() for u in periods], dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                hazard = np.where(at_risk > 0, lost / at_risk, np.nan)
            hazard[0] = 0.0
            actual = np.cumprod(1.0 - hazard)
            observed = periods <= t.max()
            actual = np.where(observed, actual, np.nan)
            cohort_arg = label if self.cohort_params == "separate" else None
            model_s = self.survival(periods, cohort_arg).to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                actual_r = np.concatenate([[np.nan], actual[1:] / actual[:-1]])
            frames.append(pd.DataFrame({
                "cohort": label, "period": periods, "at_risk": at_risk, "churned": lost,
                "actual_survival": actual, "model_survival": model_s,
                "actual_retention": actual_r, "model_retention": np.concatenate([[np.nan], model_s[1:] / model_s[:-1]]),
            }))
        return pd.concat(frames, ignore_index=True).set_index(["cohort", "period"])


class ShiftedBetaGeoContracts(_ContractModel):
    """sBG (Fader & Hardie 2007) fitted to per-customer contract data over several cohorts.

    Parameters
    ----------
    cohort_params : {"shared", "separate"}
        One (alpha, beta) for every cohort, or one per cohort (named ``alpha[cohort]``...).
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    cohort_col, tenure_col, churned_col : str
        Columns: the cohort, the whole periods observed since acquisition, and whether the
        customer churned in that last period.
    time_unit : str
        Length of one period, a code of :data:`crm_models.units.TIME_UNITS` (for discounting).

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta`` (or one pair per cohort): the beta distribution of the per-period
        churn probability.
    cohorts_ : list of str
        The cohorts fitted, in order of appearance.
    n_customers_ : pandas.Series
        Customers per cohort in the fit.

    Examples
    --------
    >>> from crm_models.datasets import load_retention_cohorts
    >>> c = load_retention_cohorts()
    >>> table = c[c.year <= 7].melt(id_vars="year", var_name="cohort", value_name="percent")
    >>> table["survivors"] = (table["percent"] * 10).round()       # % of 1,000 customers
    >>> rows = contracts_from_survivors(table, period_col="year", cohort_col="cohort")
    >>> m = ShiftedBetaGeoContracts(cohort_params="separate").fit(rows, weights_col="n_customers")
    >>> m.params_.round(3).to_dict()                               # Fader & Hardie (2007), Table 1
    {'alpha[regular]': 0.704, 'beta[regular]': 1.182, 'alpha[high_end]': 0.668, 'beta[high_end]': 3.806}
    >>> round(m.log_likelihood_, 2)
    -3291.42
    """

    _title = "sBG over cohorts (Fader & Hardie 2007)"
    _base_names = ("alpha", "beta")

    def _derl(self, a, b, c, d, k):
        return sbg.discounted_expected_residual_lifetime((a, b), d, np.asarray(k, dtype=float))


class BetaDiscreteWeibull(_ContractModel):
    """Beta-discrete-Weibull (Fader, Hardie, Liu, Davin & Steenburgh 2018) over cohorts.

    The sBG plus duration dependence: a customer's churn probability changes with tenure,
    P(T > t | theta, c) = (1 - theta)^(t^c); c < 1 means it falls, c > 1 that it rises, c = 1 is
    the sBG. See :mod:`crm_models.clv.contracts`.

    Parameters
    ----------
    cohort_params : {"shared", "separate"}
        One (alpha, beta, c) for every cohort, or one per cohort.
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    cohort_col, tenure_col, churned_col : str
        Columns: the cohort, the whole periods observed, whether the customer churned then.
    time_unit : str
        Length of one period, a code of :data:`crm_models.units.TIME_UNITS` (for discounting).

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta``, ``c`` (or one triple per cohort).
    cohorts_ : list of str
        The cohorts fitted.
    n_customers_ : pandas.Series
        Customers per cohort in the fit.

    Examples
    --------
    >>> from crm_models.clv import simulate_contracts
    >>> truth = {"alpha": 1.2, "beta": 2.0, "c": 1.6}                 # churn propensity rising with tenure
    >>> data = simulate_contracts({"2019": 4000, "2020": 4000, "2021": 4000}, truth, {"2019": 6, "2020": 5, "2021": 4})
    >>> m = BetaDiscreteWeibull().fit(data)
    >>> m.params_.round(1).to_dict()
    {'alpha': 1.1, 'beta': 1.8, 'c': 1.7}
    """

    _title = "Beta-discrete-Weibull over cohorts (Fader, Hardie, Liu, Davin & Steenburgh 2018)"
    _base_names = ("alpha", "beta", "c")

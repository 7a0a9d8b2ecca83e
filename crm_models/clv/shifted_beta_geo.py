"""sBG: the shifted-beta-geometric model of contract retention (Fader & Hardie 2007).

Fader, P. S. and Hardie, B. G. S. (2007), "How to Project Customer Retention", *Journal of
Interactive Marketing* 21(1), 76-90. Discounted lifetimes: Fader, P. S. and Hardie, B. G. S.
(2010), "Customer-Base Valuation in a Contractual Setting: The Perils of Ignoring
Heterogeneity", *Marketing Science* 29(1), 85-93.

Story (section 3 of the 2007 paper). In a contractual setting we *see* customers leave. At the
end of each period a customer renews with probability 1 - theta, so a customer's lifetime is
geometric; theta ~ beta(alpha, beta) across customers. Because the worst risks leave first,
the cohort's retention rate r_t = (beta + t - 1) / (alpha + beta + t - 1) rises with tenure,
even though no single customer's churn probability changes.

Data: one cohort's survivors at periods 0, 1, ..., T (period 0 is the whole cohort), as counts
or as percentages of the starting cohort (``load_retention_cohorts()``). The length of a period
is the model's ``time_unit`` (a year by default); it converts a discount rate stated per any
time unit into the rate per period. Formulas are in
:mod:`crm_models.clv._sbg_math`, with the papers' equation numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.base import FieldReader
from crm_models.clv import _sbg_math as sbg
from crm_models.clv._covariate_models import ShiftedBetaGeoCovariates
from crm_models.clv._covariates import CovariateMixin
from crm_models.clv.base import DiscreteTimeModel, _as_float_array
from crm_models.errors import DataError
from crm_models.units import TIME_UNITS, as_discount_rate, check_time_unit

__all__ = ["ShiftedBetaGeo"]


def _periods(periods, name: str = "periods") -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(periods, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be whole numbers of periods >= 0, got {periods!r}") from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must be whole numbers of periods >= 0, got {periods!r}")
    return arr


class ShiftedBetaGeo(CovariateMixin, DiscreteTimeModel):
    """sBG model (Fader & Hardie 2007) of one contract cohort's survival.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    period_col : str
        Column of the period number (0, 1, ..., T; 0 is the whole cohort).
    survivors_col : str
        Column of the customers still active at that period (counts or percentages).
    time_unit : str
        Length of one period, a code of :data:`crm_models.units.TIME_UNITS` (``"Y"`` for
        yearly contracts, ``"M"`` for monthly ones); used to convert discount rates.
    dropout_covariates : list of str, optional
        Columns of cohort covariates z that move churn: ``alpha_i = alpha exp(g' z_i)``, so the
        odds of the mean churn probability ``alpha_i / beta`` are multiplied by ``exp(g' z_i)``
        (a positive coefficient: more churn). The data then stack several cohorts (each from
        period 0, survivor counts) with their covariates, and every prediction takes a
        cohort's ``covariates``.
    covariate_penalizer : float
        L2 penalty on the coefficients (per customer, as ``penalizer``; 0 = none).

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta`` of the beta distribution of the per-period churn probability theta
        across customers (mean churn alpha/(alpha+beta)).
    n_periods_ : int
        Number of periods after period 0 in the fitted data.

    Examples
    --------
    >>> from crm_models.datasets import load_retention_cohorts
    >>> cohorts = load_retention_cohorts()
    >>> m = ShiftedBetaGeo(period_col="year", survivors_col="regular")
    >>> m = m.fit(cohorts[cohorts.year <= 7], unit="percent", cohort_size=1000)
    >>> m.params_.round(3).tolist()
    [0.704, 1.182]
    >>> (100 * m.survival([8, 12])).round(1).tolist()    # % of the cohort, projected
    [22.0, 17.0]
    """

    _param_names = ("alpha", "beta")
    _title = "sBG (Fader & Hardie 2007)"
    _covariate_family = ShiftedBetaGeoCovariates()
    _predictions = (
        "survival",
        "retention_rate",
        "churn_probability",
        "discounted_expected_lifetime",
        "discounted_expected_residual_lifetime",
    )

    def __init__(
        self,
        penalizer: float = 0.0,
        period_col: str = "period",
        survivors_col: str = "survivors",
        time_unit: str = "Y",
        dropout_covariates: list[str] | None = None,
        covariate_penalizer: float = 0.0,
    ):
        self.penalizer = penalizer
        self.period_col = period_col
        self.survivors_col = survivors_col
        self.time_unit = time_unit
        self.dropout_covariates = dropout_covariates
        self.covariate_penalizer = covariate_penalizer

    def _check_params(self) -> None:
        super()._check_params()
        check_time_unit(self.time_unit)

    # ------------------------------------------------------------------------ data
    def _survivors(self, data, unit: str, cohort_size: float | None) -> np.ndarray:
        """Survivor counts at periods 0..T as floats, after checking the series."""
        if isinstance(data, pd.Series):
            data = pd.DataFrame({self.period_col: data.index.to_numpy(), self.survivors_col: data.to_numpy()})
        what = "cohort data"
        require_columns(data, [self.period_col, self.survivors_col], what=what)
        if unit not in ("count", "percent"):
            raise ValueError(f"unit must be 'count' or 'percent', got {unit!r}")
        if len(data) < 3:
            raise DataError(
                self.period_col,
                "needs period 0 and at least two later periods",
                what=what,
                message=f"{what} has {len(data)} row(s); the sBG needs the cohort at period 0 and at least two later "
                "periods to identify alpha and beta.",
            )
        t = _as_float_array(data, self.period_col, what)
        s = _as_float_array(data, self.survivors_col, what)
        order = np.argsort(t, kind="stable")
        data, t, s = data.iloc[order], t[order], s[order]
        fail_rows(data, t != np.floor(t), self.period_col, "must hold whole periods", what=what)
        expected = np.arange(len(t), dtype=float)
        fail_rows(
            data, t != expected, self.period_col,
            "must run 0, 1, 2, ... without gaps or repeats (period 0 is the whole cohort)", what=what,
        )
        fail_rows(data, s < 0, self.survivors_col, "must not be negative", what=what)
        increase = np.concatenate([[False], np.diff(s) > 0])
        fail_rows(
            data, increase, self.survivors_col,
            "must not increase from one period to the next (a cohort can only shrink)", what=what,
        )
        first = np.arange(len(s)) == 0
        if s[0] <= 0:
            fail_rows(data, first, self.survivors_col, "must be positive at period 0 (the cohort size)", what=what)
        if unit == "percent":
            if not np.isclose(s[0], 100.0):
                fail_rows(data, first, self.survivors_col, "must be 100 at period 0 with unit='percent'", what=what)
            if cohort_size is None:
                raise ValueError(
                    "percentages carry no sample size: pass cohort_size (the number of customers the cohort "
                    "started with; Fader & Hardie's examples have 1,000), or give counts with unit='count'. "
                    "The estimates do not depend on it; the log-likelihood and standard errors do."
                )
            if isinstance(cohort_size, bool) or not isinstance(cohort_size, (int, float, np.integer, np.floating)) \
                    or not (np.isfinite(cohort_size) and cohort_size > 0):
                raise ValueError(f"cohort_size must be a positive number, got {cohort_size!r}")
            s = s / 100.0 * float(cohort_size)
        elif cohort_size is not None and not np.isclose(cohort_size, s[0]):
            raise ValueError(f"cohort_size={cohort_size!r} disagrees with the {s[0]:g} customers at period 0")
        return s

    def fit(
        self,
        data: pd.DataFrame | pd.Series,
        *,
        unit: str = "count",
        cohort_size: float | None = None,
        initial_params: Mapping[str, float] | None = None,
    ) -> ShiftedBetaGeo:
        """Fit alpha and beta by maximum likelihood to a cohort's survival series, eq. (7).

        Parameters
        ----------
        data : pandas.DataFrame or pandas.Series
            Columns ``period_col`` (0, 1, ..., T) and ``survivors_col``; or a Series of
            survivors indexed by period.
        unit : {"count", "percent"}
            Whether survivors are numbers of customers or percentages of the starting cohort.
        cohort_size : float, optional
            Customers at period 0; required with ``unit="percent"`` (it sets the
            log-likelihood and standard errors, not the estimates).
        initial_params : mapping, optional
            Starting values keyed by alpha, beta.

        Returns
        -------
        self

        Examples
        --------
        >>> from crm_models.clv import simulate_shifted_beta_geo
        >>> cohort = simulate_shifted_beta_geo(5000, {"alpha": 0.7, "beta": 1.2}, 7)
        >>> m = ShiftedBetaGeo().fit(cohort)
        >>> m.params_.round(2).tolist(), m.n_periods_
        ([0.71, 1.21], 7)
        """
        if self._start_covariate_fit() is not None:  # stacked cohorts with their covariates
            return self._covariate_family.fit(self, data, unit, cohort_size, initial_params)
        s = self._survivors(data, unit, cohort_size)
        lost = -np.diff(s)
        arrays = {"lost": lost, "survivors_end": float(s[-1]), "n_periods": len(lost)}
        self._fit_prepared(arrays, np.ones(1), float(s[0]), initial_params)
        self.n_periods_ = len(lost)
        return self

    def _initial_params(self, arrays, weights):
        return np.array([1.0, 1.0])

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-[sum_t lost_t log P(T=t) + survivors_T log S(T)], eq. (7), and its gradient."""
        return sbg.neg_loglik(log_params, arrays["lost"], arrays["survivors_end"])

    def _fitted_state(self):
        return {**super()._fitted_state(), "n_periods": int(self.n_periods_)}

    def _restore(self, fitted: FieldReader) -> None:
        super()._restore(fitted)
        self.n_periods_ = fitted.number("n_periods", integer=True, low=2)

    # ----------------------------------------------------------------- predictions
    def _pv(self, covariates=None):
        if self._uses_covariates():  # the cohort's alpha
            p = self._profile_params(covariates)
            return (p["alpha"], p["beta"])
        self._no_profile(covariates)
        return (self.params_["alpha"], self.params_["beta"])

    def _by_period(self, values, t, name: str) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float), index=pd.Index(t.astype(np.int64), name="period"), name=name)

    def survival(self, periods, covariates=None) -> pd.Series:
        """S(t): share of the cohort still active after ``t`` periods, eq. (6).

        Parameters
        ----------
        periods : int or array_like of int
            Whole numbers of periods >= 0; periods beyond the fitted data are projections.
        covariates : mapping, optional
            The cohort's value of every covariate (required when the model was fitted with
            covariates).

        Returns
        -------
        pandas.Series
            ``survival`` (0-1) indexed by ``period``.

        Examples
        --------
        >>> from crm_models.clv import simulate_shifted_beta_geo
        >>> m = ShiftedBetaGeo().fit(simulate_shifted_beta_geo(1000, {"alpha": 0.7, "beta": 1.2}, 6))
        >>> m.survival([0, 1]).round(3).tolist()
        [1.0, 0.663]
        """
        self._check_fitted()
        t = _periods(periods)
        return self._by_period(np.exp(sbg.log_survival(self._pv(covariates), t)), t, "survival")

    def retention_rate(self, periods, covariates=None) -> pd.Series:
        """r_t = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1), eq. (8), for periods t >= 1.

        Parameters
        ----------
        periods : int or array_like of int
            Whole numbers of periods >= 1.
        covariates : mapping, optional
            The cohort's value of every covariate (required when the model was fitted with
            covariates).

        Returns
        -------
        pandas.Series
            ``retention_rate`` (0-1) indexed by ``period``.

        Examples
        --------
        >>> from crm_models.clv import simulate_shifted_beta_geo
        >>> m = ShiftedBetaGeo().fit(simulate_shifted_beta_geo(1000, {"alpha": 0.7, "beta": 1.2}, 6))
        >>> bool(m.retention_rate([1, 10]).is_monotonic_increasing)
        True
        """
        self._check_fitted()
        t = _periods(periods)
        if np.any(t < 1):
            raise ValueError("retention rates are defined for periods t >= 1 (renewal at the end of period t)")
        return self._by_period(sbg.retention_rate(self._pv(covariates), t), t, "retention_rate")

    def churn_probability(self, periods, covariates=None) -> pd.Series:
        """P(T = t): share of a new cohort lost in period t (t >= 1), eq. (5).

        Parameters
        ----------
        periods : int or array_like of int
            Whole numbers of periods >= 1.
        covariates : mapping, optional
            The cohort's value of every covariate (required when the model was fitted with
            covariates).

        Returns
        -------
        pandas.Series
            ``churn_probability`` (0-1) indexed by ``period``.

        Examples
        --------
        >>> from crm_models.clv import simulate_shifted_beta_geo
        >>> m = ShiftedBetaGeo().fit(simulate_shifted_beta_geo(1000, {"alpha": 0.7, "beta": 1.2}, 6))
        >>> float(m.churn_probability([1]).iloc[0] + m.survival([1]).iloc[0])
        1.0
        """
        self._check_fitted()
        t = _periods(periods)
        if np.any(t < 1):
            raise ValueError("churn happens in periods t >= 1")
        return self._by_period(np.exp(sbg.log_pmf(self._pv(covariates), t)), t, "churn_probability")

    def _rate_per_period(self, discount_rate) -> float:
        """The rate per period of ``time_unit`` equivalent to a ``(rate, unit)`` pair (> 0 required)."""
        rate = as_discount_rate(discount_rate)
        if rate.rate <= 0:
            raise ValueError(
                f"discount_rate must be positive for a lifetime without end (the undiscounted sum may diverge), "
                f"got {discount_rate!r}"
            )
        period_days = TIME_UNITS[check_time_unit(self.time_unit)]
        return float((1.0 + rate.rate) ** (period_days / TIME_UNITS[rate.unit]) - 1.0)

    def discounted_expected_lifetime(self, discount_rate, covariates=None) -> float:
        """E[DEL]: discounted expected number of payments of a customer just acquired.

        The first payment (now) is not discounted: sum_{t>=0} S(t) / (1 + d)^t = 2F1(1, beta;
        alpha+beta; 1/(1+d)) (Fader & Hardie 2010, eq. 5), with ``d`` the rate per period.
        Multiply by the margin per period for the expected CLV.

        Parameters
        ----------
        discount_rate : tuple of (float, str)
            A ``(rate, unit)`` pair, e.g. ``(0.10, "Y")``; converted exactly to the rate per
            period of ``time_unit``. The rate must be positive.
        covariates : mapping, optional
            The cohort's value of every covariate (required when the model was fitted with
            covariates).

        Returns
        -------
        float
            Discounted expected payments (periods).

        Examples
        --------
        >>> from crm_models.datasets import load_retention_cohorts
        >>> c = load_retention_cohorts()
        >>> m = ShiftedBetaGeo(period_col="year", survivors_col="regular", time_unit="Y")
        >>> m = m.fit(c[c.year <= 7], unit="percent", cohort_size=1000)
        >>> round(m.discounted_expected_lifetime((0.10, "Y")), 3)
        3.695
        """
        self._check_fitted()
        d = self._rate_per_period(discount_rate)
        return float(np.squeeze(sbg.discounted_expected_lifetime(self._pv(covariates), d)))

    def discounted_expected_residual_lifetime(
        self, discount_rate, n_renewals, covariates=None
    ) -> pd.Series:
        """DERL: discounted expected number of future payments of a customer who has renewed ``n_renewals`` times.

        The customer is about to decide on the next renewal, whose payment is not discounted
        (Fader & Hardie 2010, eq. 6). Multiply by the margin per period for residual value.

        Parameters
        ----------
        discount_rate : tuple of (float, str)
            A ``(rate, unit)`` pair, e.g. ``(0.10, "Y")``; the rate must be positive.
        n_renewals : int or array_like of int
            Renewals made so far (whole numbers >= 0).
        covariates : mapping, optional
            The cohort's value of every covariate (required when the model was fitted with
            covariates).

        Returns
        -------
        pandas.Series
            ``DERL`` (payments) indexed by ``n_renewals``.

        Examples
        --------
        >>> from crm_models.datasets import load_retention_cohorts
        >>> c = load_retention_cohorts()
        >>> m = ShiftedBetaGeo(period_col="year", survivors_col="regular", time_unit="Y")
        >>> m = m.fit(c[c.year <= 7], unit="percent", cohort_size=1000)
        >>> m.discounted_expected_residual_lifetime((0.10, "Y"), [0, 4]).round(3).tolist()
        [2.964, 5.894]
        """
        self._check_fitted()
        d = self._rate_per_period(discount_rate)
        k = _periods(n_renewals, "n_renewals")
        values = sbg.discounted_expected_residual_lifetime(self._pv(covariates), d, k)
        return pd.Series(np.atleast_1d(np.asarray(values, dtype=float)),
                         index=pd.Index(k.astype(np.int64), name="n_renewals"), name="DERL")

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
or as percentages of the starting cohort (``load_retention_cohorts()``). Formulas are in
:mod:`crm_models.clv._sbg_math`, with the papers' equation numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.clv import _sbg_math as sbg
from crm_models.clv.simulate import check_simulation_inputs
from crm_models.clv.base import BaseModel, _as_float_array

__all__ = ["ShiftedBetaGeo", "simulate_shifted_beta_geo"]


def _periods(periods, name: str = "periods") -> np.ndarray:
    arr = np.atleast_1d(np.asarray(periods, dtype=float))
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError(f"{name} must be whole numbers of periods >= 0, got {periods!r}")
    return arr


class ShiftedBetaGeo(BaseModel):
    """sBG model (Fader & Hardie 2007) of one contract cohort's survival.

    Parameters (``params_``): ``alpha``, ``beta`` of the beta distribution of the per-period
    churn probability theta across customers (mean churn alpha/(alpha+beta)).

    Hyper-parameters: ``penalizer`` and the column names ``period_col`` (0, 1, ..., T, in the
    data's period, e.g. years) and ``survivors_col`` (customers still active at that period).

    Examples
    --------
    >>> from crm_models.datasets import load_retention_cohorts
    >>> cohorts = load_retention_cohorts()
    >>> m = ShiftedBetaGeo(period_col="year", survivors_col="regular")
    >>> m = m.fit(cohorts[cohorts.year <= 7], unit="percent", cohort_size=1000)
    >>> m.params_.round(3).tolist()
    [0.704, 1.182]
    """

    _param_names = ("alpha", "beta")
    _hyper_names = ("penalizer", "period_col", "survivors_col")
    _title = "sBG (Fader & Hardie 2007)"

    def __init__(self, penalizer: float = 0.0, period_col: str = "period", survivors_col: str = "survivors"):
        self.penalizer = penalizer
        self.period_col = period_col
        self.survivors_col = survivors_col

    # ------------------------------------------------------------------------ data
    def _validate(self, data, unit: str, cohort_size: float | None) -> np.ndarray:
        """Survivor counts at periods 0..T as floats, after checking the series."""
        if isinstance(data, pd.Series):
            data = pd.DataFrame({self.period_col: data.index.to_numpy(), self.survivors_col: data.to_numpy()})
        what = "cohort data"
        require_columns(data, [self.period_col, self.survivors_col], what=what)
        if unit not in ("count", "percent"):
            raise ValueError(f"unit must be 'count' or 'percent', got {unit!r}")
        if len(data) < 3:
            raise ValueError(
                f"{what} has {len(data)} row(s); the sBG needs the cohort at period 0 and at least two later "
                "periods to identify alpha and beta."
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
        if s[0] <= 0:
            raise ValueError(f"{what}: column '{self.survivors_col}' must be positive at period 0 (the cohort size)")
        if unit == "percent":
            if not np.isclose(s[0], 100.0):
                raise ValueError(
                    f"{what}: with unit='percent' column '{self.survivors_col}' must be 100 at period 0, got {s[0]!r}"
                )
            if cohort_size is None:
                raise ValueError(
                    "percentages carry no sample size: pass cohort_size (the number of customers the cohort "
                    "started with; Fader & Hardie's examples have 1,000), or give counts with unit='count'. "
                    "The estimates do not depend on it; the log-likelihood and standard errors do."
                )
            if not (np.isfinite(cohort_size) and cohort_size > 0):
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
        data : DataFrame or Series
            Columns ``period_col`` (0, 1, ..., T) and ``survivors_col``; or a Series of survivors
            indexed by period.
        unit : {"count", "percent"}
            Whether survivors are numbers of customers or percentages of the starting cohort.
        cohort_size : float, optional
            Customers at period 0; required with ``unit="percent"`` (it sets the log-likelihood
            and standard errors, not the estimates).
        initial_params : mapping, optional
            Starting values keyed by alpha, beta.

        Returns
        -------
        self
        """
        s = self._validate(data, unit, cohort_size)
        lost = -np.diff(s)
        arrays = {"lost": lost, "survivors_end": float(s[-1]), "n_periods": len(lost)}
        fitted = self._fit_prepared(arrays, np.ones(1), float(s[0]), initial_params)
        fitted.n_periods_ = len(lost)
        return fitted

    def _initial_params(self, arrays, weights):
        return np.array([1.0, 1.0])

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-[sum_t lost_t log P(T=t) + survivors_T log S(T)], eq. (7), and its gradient."""
        return sbg.neg_loglik(log_params, arrays["lost"], arrays["survivors_end"])

    def to_dict(self):
        doc = super().to_dict()
        doc["n_periods"] = int(self.n_periods_)
        return doc

    @classmethod
    def from_dict(cls, doc):
        model = super().from_dict(doc)
        n_periods = doc.get("n_periods")
        if not isinstance(n_periods, int) or n_periods < 2:
            raise ValueError(f"n_periods must be a whole number >= 2, got {n_periods!r}")
        model.n_periods_ = n_periods
        return model

    # ----------------------------------------------------------------- predictions
    @staticmethod
    def _pv(p):
        return (p["alpha"], p["beta"])

    def survival(self, periods, *, interval: float | None = None, n_samples: int = 200, seed: int | None = 0):
        """S(t): share of the cohort still active after ``t`` periods, eq. (6); a Series indexed by period.

        Periods beyond the fitted data are projections. With ``interval``, a DataFrame with
        ``estimate``, ``lower``, ``upper`` from parameter draws.
        """
        t = _periods(periods)
        index = pd.Index(t.astype(np.int64), name="period")
        return self._predict(lambda p: np.exp(sbg.log_survival(self._pv(p), t)), index, "survival", interval, n_samples, seed)

    def retention_rate(self, periods, *, interval: float | None = None, n_samples: int = 200, seed: int | None = 0):
        """r_t = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1), eq. (8), for periods t >= 1."""
        t = _periods(periods)
        if np.any(t < 1):
            raise ValueError("retention rates are defined for periods t >= 1 (renewal at the end of period t)")
        index = pd.Index(t.astype(np.int64), name="period")
        return self._predict(lambda p: sbg.retention_rate(self._pv(p), t), index, "retention_rate", interval, n_samples, seed)

    def churn_probability(self, periods, *, interval: float | None = None, n_samples: int = 200, seed: int | None = 0):
        """P(T = t): share of a new cohort lost in period t (t >= 1), eq. (5)."""
        t = _periods(periods)
        if np.any(t < 1):
            raise ValueError("churn happens in periods t >= 1")
        index = pd.Index(t.astype(np.int64), name="period")
        return self._predict(lambda p: np.exp(sbg.log_pmf(self._pv(p), t)), index, "churn_probability", interval, n_samples, seed)

    def discounted_expected_lifetime(self, discount_rate: float, *, interval=None, n_samples=200, seed=0):
        """E[DEL]: discounted expected number of payments of a customer just acquired, the first
        payment (now) undiscounted. ``discount_rate`` is per period of the data (e.g. 0.1 per
        year for yearly contracts). Multiply by the margin per period for the expected CLV."""
        d = _rate(discount_rate)
        out = self._predict(
            lambda p: np.atleast_1d(sbg.discounted_expected_lifetime(self._pv(p), d)),
            pd.Index([d], name="discount_rate"), "DEL", interval, n_samples, seed,
        )
        return float(out.iloc[0]) if isinstance(out, pd.Series) else out.iloc[0].rename(None)

    def discounted_expected_residual_lifetime(
        self, discount_rate: float, n_renewals, *, interval=None, n_samples=200, seed=0
    ):
        """DERL: discounted expected number of future payments of a customer who has renewed
        ``n_renewals`` times and is about to decide on the next renewal (whose payment is not
        discounted). ``discount_rate`` per period. ``n_renewals`` a whole number or an array
        (returns a Series indexed by it). Multiply by the margin per period for residual value."""
        d = _rate(discount_rate)
        scalar = np.ndim(n_renewals) == 0
        k = _periods(n_renewals, "n_renewals")
        out = self._predict(
            lambda p: sbg.discounted_expected_residual_lifetime(self._pv(p), d, k),
            pd.Index(k.astype(np.int64), name="n_renewals"), "DERL", interval, n_samples, seed,
        )
        if not scalar:
            return out
        return float(out.iloc[0]) if isinstance(out, pd.Series) else out.iloc[0].rename(None)


def _rate(d) -> float:
    try:
        v = float(d)
    except (TypeError, ValueError):
        raise ValueError(f"discount_rate must be a number per period (e.g. 0.1), got {d!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"discount_rate must be positive (per period, e.g. 0.1 for 10%), got {d!r}")
    return v


def simulate_shifted_beta_geo(
    n: int,
    params: Mapping[str, float],
    n_periods: int,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """One contract cohort of ``n`` customers from the sBG story (Fader & Hardie 2007).

    Each customer draws theta ~ Beta(alpha, beta) (``params``) and churns in period
    T ~ Geometric(theta) (T >= 1). Returns a DataFrame with ``period`` (0..n_periods) and
    ``survivors`` (customers with T > period), ready for ``ShiftedBetaGeo().fit``.
    """
    n, (alpha, beta), rng = check_simulation_inputs(n, params, ("alpha", "beta"), seed)
    if int(n_periods) != n_periods or n_periods < 1:
        raise ValueError(f"n_periods must be a positive whole number, got {n_periods!r}")
    theta = rng.beta(alpha, beta, n)
    lifetime = rng.geometric(theta)
    periods = np.arange(int(n_periods) + 1)
    survivors = (lifetime[None, :] > periods[:, None]).sum(axis=1)
    return pd.DataFrame({"period": periods, "survivors": survivors.astype(np.int64)})

"""BG/BB: the beta-geometric / beta-Bernoulli model of Fader, Hardie & Shang (2010).

Fader, P. S., Hardie, B. G. S. and Shang, J. (2010), "Customer-Base Analysis in a Discrete-Time
Noncontractual Setting", *Marketing Science* 29(6), 1086-1108.

Story (section 3 of the paper). Transactions can only happen at discrete opportunities (an
annual fund drive, a yearly conference, a weekly show). After the first transaction, for one
customer:

* while alive, the customer transacts at each opportunity with probability p;
  p ~ beta(alpha, beta) across customers;
* at the start of each opportunity a living customer becomes inactive for good with
  probability theta; theta ~ beta(gamma, delta) across customers.

Data per customer: ``x`` repeat transactions in ``n`` opportunities after the first one, the
last at opportunity ``t_x`` (``t_x = 0`` when ``x = 0``); so ``x <= t_x <= n``. Customers with
the same ``(x, t_x, n)`` are exchangeable, so the data are usually a "repeat-pattern table"
with a count per pattern (``load_donations()``); ``fit(..., weights_col=...)`` takes it as is.
The formulas are in :mod:`crm_models.clv._bgbb_math`, with the paper's equation numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.clv import _bgbb_math as bgbb
from crm_models.clv._covariate_models import BetaGeoBetaBinomCovariates
from crm_models.clv._covariates import RepeatPurchaseCovariateMixin
from crm_models.clv.base import DiscreteTimeModel, RepeatPurchaseModel, _as_float_array, _require_rows, _whole

__all__ = ["BetaGeoBetaBinom", "validate_discrete_patterns"]


def validate_discrete_patterns(
    data: pd.DataFrame,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    n_opportunities_col: str = "n_opportunities",
    *,
    what: str = "data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check BG/BB data and return ``(x, t_x, n)`` as float arrays.

    Rules (each :class:`~crm_models.errors.DataError` names the column and rule and shows
    offending rows): the columns exist; the data are not empty; values are numeric, not NaN,
    and whole numbers (counts of opportunities); ``n >= 1``; ``0 <= x``; ``recency <= n`` (the
    last transaction lies inside the observed opportunities); ``x <= recency`` (at most one
    transaction per opportunity, all of them at or before the last one); ``recency == 0`` when
    ``x == 0``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer (or per repeat pattern).
    frequency_col, recency_col, n_opportunities_col : str
        Names of the repeat transactions x, the opportunity of the last one t_x and the number
        of opportunities after the first transaction n.
    what : str
        Name of the input, for messages.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, t_x, n)`` as float arrays.

    Examples
    --------
    >>> d = pd.DataFrame({"frequency": [1, 3], "recency": [2, 2], "n_opportunities": [6, 6]})
    >>> validate_discrete_patterns(d)
    Traceback (most recent call last):
    ...
    crm_models.errors.DataError: data: column 'frequency' must not exceed 'recency' (at most one transaction per opportunity, the last at opportunity 'recency'); 1 of 2 rows break this rule, for example:
       frequency  recency  n_opportunities
    1          3        2                6
    """
    require_columns(data, [frequency_col, recency_col, n_opportunities_col], what=what)
    _require_rows(data, what)
    x = _as_float_array(data, frequency_col, what)
    t_x = _as_float_array(data, recency_col, what)
    n = _as_float_array(data, n_opportunities_col, what)
    for col, v in ((frequency_col, x), (recency_col, t_x), (n_opportunities_col, n)):
        fail_rows(data, v != np.floor(v), col, "must hold whole numbers (opportunities are discrete)", what=what)
    fail_rows(data, n < 1, n_opportunities_col, "must be at least 1 (opportunities after the first transaction)", what=what)
    fail_rows(data, x < 0, frequency_col, "must not be negative (it counts repeat transactions)", what=what)
    fail_rows(data, t_x < 0, recency_col, "must not be negative", what=what)
    fail_rows(
        data, t_x > n, recency_col,
        f"must not exceed '{n_opportunities_col}' (the last transaction lies after the last opportunity)", what=what,
    )
    fail_rows(
        data, (x == 0) & (t_x != 0), recency_col,
        f"must be 0 when '{frequency_col}' is 0 (no repeat transaction, so no time of the last one)", what=what,
    )
    fail_rows(
        data, x > t_x, frequency_col,
        f"must not exceed '{recency_col}' (at most one transaction per opportunity, the last at opportunity "
        f"'{recency_col}')", what=what,
    )
    return x, t_x, n


class BetaGeoBetaBinom(RepeatPurchaseCovariateMixin, DiscreteTimeModel, RepeatPurchaseModel):
    """BG/BB model (Fader, Hardie & Shang 2010) for transactions at discrete opportunities.

    Time is counted in opportunities: every ``t`` below is a whole number of them.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col : str
        Column of repeat transactions x.
    recency_col : str
        Column of the opportunity of the last repeat transaction, t_x (0 when x = 0).
    n_opportunities_col : str
        Column of the number of opportunities after the first transaction, n.
    purchase_covariates : list of str, optional
        Columns of per-customer covariates z that act on the transaction propensity:
        ``alpha_i = alpha exp(g' z_i)``, so ``p ~ beta(alpha_i, beta)`` and the odds of the mean
        propensity ``alpha_i / beta`` are multiplied by ``exp(g' z_i)`` (a positive coefficient:
        more transactions).
    dropout_covariates : list of str, optional
        Columns z that act on the dropout propensity: ``gamma_i = gamma exp(g' z_i)``, so
        ``theta ~ beta(gamma_i, delta)`` and the odds of the mean dropout probability per
        opportunity ``gamma_i / delta`` are multiplied by ``exp(g' z_i)`` (a positive
        coefficient: more dropout).
    shared_covariates : list of str, optional
        Columns with one coefficient acting on both propensities as above; a column listed
        here is not listed in the other two.
    covariate_penalizer : float or dict
        L2 penalty on the coefficients, per customer as ``penalizer``: one number for all, or
        ``{"purchase": ..., "dropout": ...}``; a shared coefficient gets the sum.

    Attributes
    ----------
    params_ : pandas.Series
        ``alpha``, ``beta`` (beta heterogeneity in the transaction probability p; mean
        alpha/(alpha+beta)) and ``gamma``, ``delta`` (beta heterogeneity in the drop-out
        probability theta; mean gamma/(gamma+delta)); with covariates, those of a customer
        whose covariates are all 0.
    coefficients_ : pandas.Series
        Only with covariates: one coefficient per ``process.column``.

    Notes
    -----
    Predictions: :meth:`expected_purchases` eq. (13), :meth:`probability_alive` (eq. (11) one
    opportunity ahead), :meth:`expected_purchases_new_customer` eq. (8),
    :meth:`probability_of_n_purchases` eq. (7). On the donation data FHS (2010) report
    alpha = 1.204, beta = 0.750, gamma = 0.657, delta = 2.783 and log-likelihood -33,225.6.

    Examples
    --------
    >>> from crm_models.datasets import load_donations
    >>> m = BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors")
    >>> m.params_.round(3).tolist(), round(m.log_likelihood_, 1)
    ([1.204, 0.75, 0.657, 2.783], -33225.6)
    >>> m.expected_purchases_new_customer([1, 6]).round(3).tolist()   # opportunities
    [0.499, 2.22]
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _title = "BG/BB (Fader, Hardie & Shang 2010)"
    _predictions = RepeatPurchaseModel._predictions + (
        "expected_pattern_counts",
        "discounted_expected_residual_transactions",
    )
    _step_name = "opportunities"
    _covariate_family = BetaGeoBetaBinomCovariates()

    def __init__(
        self,
        penalizer: float = 0.0,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        n_opportunities_col: str = "n_opportunities",
        purchase_covariates: list[str] | None = None,
        dropout_covariates: list[str] | None = None,
        shared_covariates: list[str] | None = None,
        covariate_penalizer: float = 0.0,
    ):
        self.penalizer = penalizer
        self.frequency_col = frequency_col
        self.recency_col = recency_col
        self.n_opportunities_col = n_opportunities_col
        self.purchase_covariates = purchase_covariates
        self.dropout_covariates = dropout_covariates
        self.shared_covariates = shared_covariates
        self.covariate_penalizer = covariate_penalizer

    @property
    def length_col(self) -> str:
        """``n_opportunities_col``: the column of opportunities after each customer's first transaction."""
        return self.n_opportunities_col

    def _validate(self, data: pd.DataFrame, what: str = "data"):
        return validate_discrete_patterns(
            data, self.frequency_col, self.recency_col, self.n_opportunities_col, what=what
        )

    def fit(
        self,
        data: pd.DataFrame,
        *,
        weights_col: str | None = None,
        initial_params: Mapping[str, float] | None = None,
    ) -> BetaGeoBetaBinom:
        """Fit by maximum likelihood, eq. (5), to one row per customer or per repeat pattern.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency_col`` (x), ``recency_col`` (t_x) and ``n_opportunities_col``
            (n), all whole numbers of opportunities.
        weights_col : str, optional
            Number of customers each row stands for (e.g. ``"n_donors"``).
        initial_params : mapping, optional
            Starting values keyed by alpha, beta, gamma, delta.

        Returns
        -------
        self

        Examples
        --------
        >>> from crm_models.clv import simulate_beta_geo_beta_binom
        >>> sim = simulate_beta_geo_beta_binom(5000, {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}, 6)
        >>> BetaGeoBetaBinom().fit(sim).params_.round(2).tolist()
        [1.27, 0.78, 0.64, 2.58]
        """
        return super().fit(data, weights_col=weights_col, initial_params=initial_params)

    # ------------------------------------------------------------------ likelihood
    def _make_arrays(self, x, t_x, T):
        return {"x": x, "t_x": t_x, "n": T}

    def _initial_params(self, arrays, weights):
        return np.array([1.0, 1.0, 1.0, 1.0])

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-sum_i w_i log L(alpha, beta, gamma, delta | x_i, t_x_i, n_i), eq. (5), with its gradient."""
        return bgbb.neg_loglik(log_params, arrays["x"], arrays["t_x"], arrays["n"], weights)

    # ----------------------------------------------------------------- predictions
    @staticmethod
    def _pv(p):
        return np.array([p["alpha"], p["beta"], p["gamma"], p["delta"]], dtype=float)

    def _expected(self, p, pdata, t):
        """E[X(n, n+t) | x, t_x, n], eq. (13); ``t`` future opportunities."""
        if t == 0:
            return np.zeros(len(pdata.x))
        if self._uses_covariates():  # per-customer alpha, gamma
            return self._covariate_family.expected(self._row_params(p, pdata.Z), pdata.x, pdata.t_x, pdata.T, t)
        return bgbb.expected_conditional(self._pv(p), pdata.x, pdata.t_x, pdata.T, t)

    def _p_alive(self, p, pdata, ahead: int = 0):
        if self._uses_covariates():  # per-customer alpha, gamma
            return np.exp(self._covariate_family.log_p_alive(self._row_params(p, pdata.Z), pdata.x, pdata.t_x,
                                                             pdata.T, ahead))
        return np.exp(bgbb.log_p_alive(self._pv(p), pdata.x, pdata.t_x, pdata.T, ahead))

    def _expected_new(self, p, ts):
        return bgbb.expected_new(self._pv(p), ts)

    def _p_n(self, p, t, ns):
        return np.exp(bgbb.log_pmf_new(self._pv(p), ns, t))

    def expected_purchases(self, data: pd.DataFrame, t) -> pd.Series:
        """Expected repeat transactions in the next ``t`` opportunities, per customer, eq. (13).

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' patterns (columns as for ``fit``).
        t : int
            Future opportunities (a whole number).

        Returns
        -------
        pandas.Series
            ``expected_purchases`` indexed like ``data``.

        Examples
        --------
        >>> from crm_models.datasets import load_donations
        >>> d = load_donations()
        >>> m = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
        >>> m.expected_purchases(d.head(2), 5).round(3).tolist()
        [0.073, 0.086]
        """
        return super().expected_purchases(data, t)

    def probability_alive(self, data: pd.DataFrame, *, opportunities_ahead: int = 0) -> pd.Series:
        """P(alive at opportunity n + ``opportunities_ahead`` | x, t_x, n), per customer.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' patterns (columns as for ``fit``).
        opportunities_ahead : int
            0 (default) is "alive at the last observed opportunity" (as the other models'
            P(alive) at T, and lifetimes' default); 1 is the paper's eq. (11), "alive at the next
            opportunity": B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n+1)/B(gamma, delta) / L.

        Returns
        -------
        pandas.Series
            ``p_alive`` (0-1) indexed like ``data``.

        Examples
        --------
        >>> from crm_models.datasets import load_donations
        >>> d = load_donations()
        >>> m = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
        >>> m.probability_alive(d.head(2), opportunities_ahead=1).round(3).tolist()
        [0.108, 0.069]
        """
        self._check_fitted()
        ahead = _whole(opportunities_ahead, "opportunities_ahead")
        pdata = self._prediction_data(data)
        return self._series(self._p_alive(self.params_.to_dict(), pdata, ahead), pdata.index, "p_alive")

    def expected_pattern_counts(self, n_opportunities: int, n_customers: float, covariates=None) -> pd.Series:
        """Expected number of customers with each repeat frequency 0..n in ``n_opportunities``.

        ``n_customers * P(X(n) = x)`` (the paper's Figure 3; lifetimes'
        ``expected_number_of_transactions_in_first_n_periods``).

        Parameters
        ----------
        n_opportunities : int
            Opportunities after the first transaction.
        n_customers : float
            Size of the cohort.
        covariates : mapping, optional
            The cohort's value of every covariate (required when the model was fitted with
            covariates).

        Returns
        -------
        pandas.Series
            ``expected_customers`` indexed by ``frequency`` (0..n_opportunities).

        Examples
        --------
        >>> from crm_models.datasets import load_donations
        >>> m = BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors")
        >>> m.expected_pattern_counts(6, 11104).round(0).tolist()
        [3455.0, 1889.0, 1349.0, 1113.0, 1018.0, 1027.0, 1253.0]
        """
        n = _whole(n_opportunities, "n_opportunities")
        out = self.probability_of_n_purchases(n, np.arange(n + 1), covariates=covariates) * float(n_customers)
        return out.rename("expected_customers").rename_axis("frequency")

    def discounted_expected_residual_transactions(self, data: pd.DataFrame, discount_rate, *,
                                                  opportunity=(1, "Y")) -> pd.Series:
        """DERT: each customer's expected transactions at all future opportunities, discounted, eq. (14).

        sum over k >= 1 of P(transacts at opportunity n + k | x, t_x, n) / (1 + d)^k, in closed form
        (Fader, Hardie & Shang 2010, eq. 14), with d the discount rate per opportunity. Times a
        value per transaction it is the customer's residual lifetime value.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' patterns (columns as for ``fit``).
        discount_rate : tuple of (float, str)
            Rate per stated period, e.g. ``(0.10, "Y")``; must be positive (without discounting
            the sum may be infinite).
        opportunity : tuple of (float, str)
            The calendar length of one opportunity (default a year: one annual drive), which
            turns the stated rate into the rate per opportunity exactly.

        Returns
        -------
        pandas.Series
            ``dert`` (transactions, discounted to the last observed opportunity) indexed like
            ``data``.

        Examples
        --------
        >>> from crm_models.datasets import load_donations
        >>> d = load_donations()
        >>> m = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
        >>> m.discounted_expected_residual_transactions(d.head(3), (0.10, "Y")).round(3).tolist()
        [0.115, 0.135, 0.495]
        """
        from crm_models.units import as_discount_rate, as_duration

        self._check_fitted()
        rate = as_discount_rate(discount_rate)
        if rate.rate <= 0:
            raise ValueError(f"discount_rate must be positive for DERT (the undiscounted sum may be infinite), "
                             f"got {rate}")
        step = as_duration(opportunity, "opportunity")
        d = 1.0 / float(rate.factor(step.days)) - 1.0
        pdata = self._prediction_data(data)
        values = np.exp(bgbb.log_dert(self._pv(self.params_.to_dict()), pdata.x, pdata.t_x, pdata.T, d))
        return self._series(values, pdata.index, "dert")


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
from crm_models.clv.simulate import check_simulation_inputs
from crm_models.clv.base import FrequencyRecencyModel, _as_float_array

__all__ = ["BetaGeoBetaBinom", "validate_discrete_patterns", "simulate_beta_geo_beta_binom"]


def validate_discrete_patterns(
    data: pd.DataFrame,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    n_opportunities_col: str = "n_opportunities",
    *,
    what: str = "data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check BG/BB data and return ``(x, t_x, n)`` as float arrays.

    Rules (each error names the column and rule and shows offending rows): the columns exist;
    the data are not empty; values are numeric, not NaN, and whole numbers (counts of
    opportunities); ``n >= 1``; ``0 <= x``; ``recency <= n`` (the last transaction lies inside
    the observed opportunities); ``x <= recency`` (at most one transaction per opportunity, all
    of them at or before the last one); ``recency == 0`` when ``x == 0``.
    """
    require_columns(data, [frequency_col, recency_col, n_opportunities_col], what=what)
    if len(data) == 0:
        raise ValueError(f"{what} is empty: a model needs at least one customer row.")
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


def _whole(value, name: str) -> int:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number of opportunities, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or v != np.floor(v):
        raise ValueError(f"{name} must be a whole number of opportunities >= 0, got {value!r}")
    return int(v)


class BetaGeoBetaBinom(FrequencyRecencyModel):
    """BG/BB model (Fader, Hardie & Shang 2010) for transactions at discrete opportunities.

    Parameters (``params_``): ``alpha``, ``beta`` (beta heterogeneity in the transaction
    probability p) and ``gamma``, ``delta`` (beta heterogeneity in the drop-out probability
    theta). Mean p is alpha/(alpha+beta); mean theta is gamma/(gamma+delta).

    Hyper-parameters: ``penalizer`` (L2 penalty on the log-parameters) and the column names
    ``frequency_col`` (repeat transactions x), ``recency_col`` (opportunity of the last one,
    t_x) and ``n_opportunities_col`` (opportunities after the first transaction, n).

    ``fit(data, weights_col=None)``; predictions (indexed like ``data``; time in opportunities):
    ``expected_purchases(data, t)`` eq. (13), ``probability_alive(data, opportunities_ahead=0)``
    (1 is eq. (11)), ``expected_purchases_new_customer(n)`` eq. (8),
    ``probability_of_n_purchases(n, x)`` eq. (7).

    Examples
    --------
    >>> from crm_models.datasets import load_donations
    >>> m = BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors")
    >>> m.params_.round(3).tolist(), round(m.log_likelihood_, 1)
    ([1.204, 0.75, 0.657, 2.783], -33225.6)
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _hyper_names = ("penalizer", "frequency_col", "recency_col", "n_opportunities_col")
    _title = "BG/BB (Fader, Hardie & Shang 2010)"

    def __init__(
        self,
        penalizer: float = 0.0,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        n_opportunities_col: str = "n_opportunities",
    ):
        self.penalizer = penalizer
        self.frequency_col = frequency_col
        self.recency_col = recency_col
        self.n_opportunities_col = n_opportunities_col

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
        data : DataFrame
            Columns ``frequency`` (x), ``recency`` (t_x) and ``n_opportunities`` (n), all whole
            numbers of opportunities (names set in ``__init__``).
        weights_col : str, optional
            Number of customers each row stands for (e.g. ``"n_donors"``).
        initial_params : mapping, optional
            Starting values keyed by alpha, beta, gamma, delta.

        Returns
        -------
        self
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
        t = _whole(t, "t")
        if t == 0:
            return np.zeros(len(pdata.x))
        return bgbb.expected_conditional(self._pv(p), pdata.x, pdata.t_x, pdata.T, t)

    def _p_alive(self, p, pdata, ahead: int = 0):
        return np.exp(bgbb.log_p_alive(self._pv(p), pdata.x, pdata.t_x, pdata.T, ahead))

    def _expected_new(self, p, ts):
        return bgbb.expected_new(self._pv(p), ts)

    def _p_n(self, p, t, ns):
        return np.exp(bgbb.log_pmf_new(self._pv(p), ns, _whole(t, "n_opportunities")))

    def expected_purchases(self, data, t, *, interval=None, n_samples=200, seed=0):
        """Expected repeat transactions in the next ``t`` opportunities, per customer, eq. (13).

        ``t`` is a whole number of opportunities. Returns a Series indexed like ``data`` (with
        ``interval``, a DataFrame with ``estimate``, ``lower``, ``upper``).
        """
        _whole(t, "t")
        return super().expected_purchases(data, t, interval=interval, n_samples=n_samples, seed=seed)

    def probability_alive(
        self,
        data: pd.DataFrame,
        *,
        opportunities_ahead: int = 0,
        interval: float | None = None,
        n_samples: int = 200,
        seed: int | None = 0,
    ):
        """P(alive at opportunity n + ``opportunities_ahead`` | x, t_x, n), per customer.

        0 (default) is "alive at the last observed opportunity" (as the other models' P(alive) at
        T and lifetimes' default); 1 is the paper's eq. (11), "alive at the next opportunity":
        B(alpha+x, beta+n-x)/B(alpha, beta) * B(gamma, delta+n+1)/B(gamma, delta) / L.
        """
        self._check_fitted()
        ahead = _whole(opportunities_ahead, "opportunities_ahead")
        pdata = self._prediction_data(data)
        return self._predict(
            lambda p: self._p_alive(p, pdata, ahead), pdata.index, "probability_alive", interval, n_samples, seed
        )

    def expected_purchases_new_customer(self, t, *, interval=None, n_samples=200, seed=0):
        """E[X(n)]: expected repeat transactions of a new customer in ``t`` opportunities, eq. (8).

        ``t`` a whole number (returns a float) or an array (returns a Series indexed by ``t``).
        """
        for v in np.atleast_1d(t):
            _whole(v, "t")
        return super().expected_purchases_new_customer(t, interval=interval, n_samples=n_samples, seed=seed)

    def probability_of_n_purchases(self, t, n, *, interval=None, n_samples=200, seed=0):
        """P(X(t) = n): probability that a new customer makes ``n`` repeat transactions in ``t``
        opportunities, eq. (7). ``n`` whole number(s) (array gives a Series indexed by n)."""
        _whole(t, "t")
        return super().probability_of_n_purchases(t, n, interval=interval, n_samples=n_samples, seed=seed)

    def expected_pattern_counts(self, n_opportunities: int, n_customers: float) -> pd.Series:
        """Expected number of customers with each repeat frequency 0..n in ``n_opportunities``:
        ``n_customers * P(X(n) = x)`` (the paper's Figure 3 / lifetimes'
        ``expected_number_of_transactions_in_first_n_periods``)."""
        n = _whole(n_opportunities, "n_opportunities")
        out = self.probability_of_n_purchases(n, np.arange(n + 1)) * float(n_customers)
        return out.rename("expected_customers").rename_axis("frequency")


def simulate_beta_geo_beta_binom(
    n: int,
    params: Mapping[str, float],
    n_opportunities: int,
    seed: int | np.random.Generator | None = None,
    *,
    latent: bool = False,
) -> pd.DataFrame:
    """Customers from the BG/BB story (Fader, Hardie & Shang 2010), one row per customer.

    Each customer draws p ~ Beta(alpha, beta) and theta ~ Beta(gamma, delta); at the start of
    each of the ``n_opportunities`` opportunities a living customer becomes inactive with
    probability theta, otherwise transacts with probability p.

    Parameters
    ----------
    n : number of customers.
    params : mapping with ``alpha``, ``beta``, ``gamma``, ``delta``.
    n_opportunities : opportunities after the first transaction (a whole number).
    seed : seed or ``numpy.random.Generator``.
    latent : add the true ``p``, ``theta`` and ``alive`` (active at the last opportunity).

    Returns
    -------
    DataFrame indexed by ``customer_id`` (0..n-1) with ``frequency``, ``recency``
    (opportunity of the last repeat transaction, 0 if none) and ``n_opportunities``.
    """
    n, (alpha, beta, gamma, delta), rng = check_simulation_inputs(n, params, ("alpha", "beta", "gamma", "delta"), seed)
    n_opp = _whole(n_opportunities, "n_opportunities")
    p = rng.beta(alpha, beta, n)
    theta = rng.beta(gamma, delta, n)
    death = rng.geometric(theta)  # first opportunity at which the customer is inactive (>= 1)
    frequency = np.zeros(n, dtype=np.int64)
    recency = np.zeros(n, dtype=np.int64)
    for t in range(1, n_opp + 1):
        buys = (t < death) & (rng.random(n) < p)
        frequency += buys
        recency[buys] = t
    out = pd.DataFrame(
        {"frequency": frequency, "recency": recency, "n_opportunities": np.full(n, n_opp, dtype=np.int64)},
        index=pd.RangeIndex(n, name="customer_id"),
    )
    if latent:
        out["p"], out["theta"], out["alive"] = p, theta, death > n_opp
    return out

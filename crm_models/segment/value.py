"""Value tiers after Peppers & Rogers, and value concentration curves.

Peppers & Rogers (*Managing Customer Relationships*, ch. "Differentiating customers by their
value") rank customers by

- **actual value**: the customer's expected future contribution if nothing changes, here the
  predicted customer lifetime value (CLV) from the lifetime-value models in ``crm_models.clv``
  (or any CLV you pass in, in money over a stated horizon);
- **potential value**: what the customer could be worth if the company grew its share of the
  customer's wallet. We estimate it as an upper quantile (default the 90th percentile) of the
  actual value of *similar* customers: those in the same group (for example the same needs
  segment or RFM cell), learned at ``fit``. A customer's potential is never below their
  actual value. Groups with fewer than ``min_group_size`` customers at fit use the quantile
  over all customers.

and sort them into tiers that call for different strategies:

========================  ==================================================================
Most Valuable (MVC)       top ``top_share`` by net value: *retain* (recognise, protect, reward)
Most Growable (MGC)       of the rest, the ``growable_share`` with the largest headroom
                          (potential - actual): *grow* (cross-sell, up-sell, share of wallet)
Low Maintenance           everyone else with positive net value: *maintain* at low cost
Below Zero (BZ)           CLV below the cost to serve: *convert or cut cost* (cheaper channels,
                          price for the cost, stop spending to keep them)
========================  ==================================================================

Net value is ``clv - cost_to_serve``; both in the same currency over the same horizon. The cost
is data, passed to ``fit`` and ``transform`` (a number for everyone or a per-customer Series);
left out, it is 0 (no cost to serve).

Examples
--------
>>> clv = pd.Series([100.0, 90, 10, 12, 8, 60, 5, 3, 1, 0.5], index=[f"c{i}" for i in range(10)])
>>> tiers = ValueTiers(top_share=0.2, growable_share=0.2).fit_transform(clv, cost_to_serve=2.0)
>>> tiers["tier"].value_counts().sort_index().to_dict()
{'Most Valuable': 2, 'Most Growable': 2, 'Low Maintenance': 4, 'Below Zero': 2}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.base import CRMEstimator, FieldReader, Summary
from crm_models.errors import DataError
from crm_models.segment._base import align, as_series, numeric_series

__all__ = ["ValueTiers", "TIER_STRATEGIES", "concentration_curve", "concentration_table"]

#: The tiers in display order and the strategy each calls for.
TIER_STRATEGIES: dict[str, str] = {
    "Most Valuable": "Retain: recognise and protect them; service level and loyalty rewards.",
    "Most Growable": "Grow: cross-sell and up-sell toward their potential; raise share of wallet.",
    "Low Maintenance": "Maintain: serve efficiently through low-cost, self-service channels.",
    "Below Zero": "Convert or cut cost: move to cheaper channels, price for the cost to serve, or let go.",
}

#: Key of the overall potential value in ``ValueTiers.potential_`` (used by groups too small at fit).
ALL = "__all__"


def _real(v) -> bool:
    number = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
    return number and bool(np.isfinite(v))


class ValueTiers(CRMEstimator):
    """Actual and potential value, and the Peppers & Rogers tiers, learned on one period.

    Parameters
    ----------
    top_share : float
        Share of customers (0-1, by net value, at fit) who are Most Valuable (default 0.2).
    growable_share : float
        Share of all customers (0-1, at fit) who are Most Growable: taken from those neither
        Most Valuable nor Below Zero, largest headroom first (default 0.2).
    potential_quantile : float
        Quantile (0-1] of actual value among similar customers that defines potential
        (default 0.9).
    min_group_size : int
        Groups with fewer customers at fit use the overall quantile (default 20).

    Attributes
    ----------
    potential_ : pandas.Series
        Potential value (money) by group; ``"__all__"`` holds the overall quantile.
    mvc_threshold_ : float
        Lowest net value (money) counted Most Valuable (``inf`` when ``top_share`` is 0).
    growth_threshold_ : float
        Lowest headroom (money) counted Most Growable (``inf`` when nobody is).
    n_customers_ : int
        Customers seen at fit.

    Examples
    --------
    >>> ids = [f"c{i:02d}" for i in range(10)]
    >>> clv = pd.Series([100.0, 90, 10, 12, 8, 60, 5, 3, 1, 0.5], index=ids)
    >>> group = pd.Series(["a"] * 5 + ["b"] * 5, index=ids)
    >>> vt = ValueTiers(potential_quantile=1.0, min_group_size=2).fit(clv, group, cost_to_serve=2.0)
    >>> vt.potential_.to_dict()
    {'a': 100.0, 'b': 60.0, '__all__': 100.0}
    >>> out = vt.transform(clv, group, cost_to_serve=2.0)
    >>> out.loc[["c00", "c04", "c09"], ["net_value", "headroom", "tier"]]
         net_value  headroom           tier
    c00       98.0       0.0  Most Valuable
    c04        6.0      92.0  Most Growable
    c09       -1.5      59.5     Below Zero
    """

    _fitted_attribute = "potential_"

    def __init__(
        self,
        top_share: float = 0.2,
        growable_share: float = 0.2,
        potential_quantile: float = 0.9,
        min_group_size: int = 20,
    ) -> None:
        self.top_share = top_share
        self.growable_share = growable_share
        self.potential_quantile = potential_quantile
        self.min_group_size = min_group_size

    # -- parameters ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("top_share", "growable_share"):
            v = getattr(self, name)
            if not _real(v) or not 0 <= v <= 1:
                raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
        q = self.potential_quantile
        if not _real(q) or not 0 < q <= 1:
            raise ValueError(f"potential_quantile must be a number in (0, 1], got {q!r}")
        if self.top_share + self.growable_share > 1:
            raise ValueError(
                f"top_share + growable_share must not exceed 1, got {self.top_share} + {self.growable_share}"
            )
        m = self.min_group_size
        if not isinstance(m, (int, np.integer)) or isinstance(m, bool) or m < 1:
            raise ValueError(f"min_group_size must be an integer >= 1, got {m!r}")

    # -- data ---------------------------------------------------------------------------------
    def _inputs(self, clv, groups, cost_to_serve):
        what = "ValueTiers"
        clv = numeric_series(clv, name="clv", what=what)
        if groups is None:
            groups = pd.Series(ALL, index=clv.index, name="group")
        else:
            groups = as_series(groups, name="groups", what=what)
            groups = align(groups, clv.index, name="groups", of="clv", what=what).astype(str)
        if isinstance(cost_to_serve, pd.Series):
            cost = numeric_series(cost_to_serve, name="cost_to_serve", what=what)
            cost = align(cost, clv.index, name="cost_to_serve", of="clv", what=what)
        elif _real(cost_to_serve):
            cost = pd.Series(float(cost_to_serve), index=clv.index)
        else:
            raise DataError(
                "cost_to_serve",
                f"must be a finite number or a Series of numbers by customer id, got {cost_to_serve!r}",
                what=what,
            )
        return clv, groups, cost

    # -- learning -----------------------------------------------------------------------------
    def fit(
        self, clv: pd.Series, groups: pd.Series | None = None, cost_to_serve: float | pd.Series = 0.0
    ) -> ValueTiers:
        """Learn potential value per group and the tier thresholds.

        Parameters
        ----------
        clv : pandas.Series
            Actual value (predicted CLV, money over the model's horizon) by customer id.
        groups : pandas.Series, optional
            Group of similar customers (needs segment, RFM cell, ...) by customer id; ``None``
            compares every customer with everyone.
        cost_to_serve : float or pandas.Series
            Cost of serving a customer over the CLV's horizon, in the CLV's currency: one number
            for everyone or a Series by customer id (default 0).

        Returns
        -------
        ValueTiers
            ``self``, fitted.

        Examples
        --------
        >>> clv = pd.Series(np.arange(10) * 10.0, index=[f"c{i}" for i in range(10)])
        >>> ValueTiers(top_share=0.3, growable_share=0.0).fit(clv).mvc_threshold_
        70.0
        """
        self._check_params()
        clv, groups, cost = self._inputs(clv, groups, cost_to_serve)
        if len(clv) < 2:
            raise DataError("clv", f"must hold at least 2 customers, got {len(clv)}", what="ValueTiers")
        q = self.potential_quantile
        pot = clv.groupby(groups).quantile(q)
        size = groups.value_counts()
        pot = pot[size.reindex(pot.index) >= self.min_group_size]
        pot[ALL] = clv.quantile(q)
        self.potential_ = pot.rename("potential_value").astype("float64")
        net = clv - cost
        n = len(clv)
        n_top = int(round(self.top_share * n))
        ranked = np.sort(net.to_numpy())[::-1]
        self.mvc_threshold_ = float(ranked[n_top - 1]) if n_top > 0 else float("inf")
        headroom = self._potential(clv, groups) - clv
        rest = (net < self.mvc_threshold_) & (net >= 0)
        n_grow = min(int(round(self.growable_share * n)), int(rest.sum()))
        hr = np.sort(headroom[rest].to_numpy())[::-1]
        self.growth_threshold_ = float(hr[n_grow - 1]) if n_grow > 0 else float("inf")
        self.n_customers_ = n
        return self

    def _potential(self, clv: pd.Series, groups: pd.Series) -> pd.Series:
        known = groups.map(self.potential_.drop(ALL))
        pot = known.fillna(self.potential_[ALL]).astype("float64")
        return np.maximum(pot, clv)

    # -- applying -----------------------------------------------------------------------------
    def transform(
        self, clv: pd.Series, groups: pd.Series | None = None, cost_to_serve: float | pd.Series = 0.0
    ) -> pd.DataFrame:
        """Value and tier of every customer with the potential and thresholds learned at ``fit``.

        Parameters
        ----------
        clv : pandas.Series
            Actual value (money over the model's horizon) by customer id.
        groups : pandas.Series, optional
            Group of similar customers by customer id (groups unknown at fit use the overall
            potential).
        cost_to_serve : float or pandas.Series
            Cost of serving a customer over the same horizon, in the same currency: a number or
            a Series by customer id (default 0).

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id: ``actual_value`` (the CLV), ``cost_to_serve``, ``net_value``,
            ``potential_value``, ``headroom`` (potential - actual), all money; ``tier``
            (categorical, in the order of :data:`TIER_STRATEGIES`) and ``strategy`` (text).

        Examples
        --------
        >>> ids = [f"c{i}" for i in range(10)]
        >>> clv = pd.Series(np.arange(10) * 10.0, index=ids)
        >>> vt = ValueTiers(top_share=0.3, growable_share=0.0).fit(clv)
        >>> cost = pd.Series([5.0] * 9 + [200.0], index=ids)
        >>> vt.transform(clv, cost_to_serve=cost).loc["c9", ["net_value", "tier"]].to_dict()
        {'net_value': -110.0, 'tier': 'Below Zero'}
        """
        self._check_fitted()
        clv, groups, cost = self._inputs(clv, groups, cost_to_serve)
        net = clv - cost
        pot = self._potential(clv, groups)
        headroom = pot - clv
        tier = np.where(net < 0, "Below Zero",
                        np.where(net >= self.mvc_threshold_, "Most Valuable",
                                 np.where(headroom >= self.growth_threshold_, "Most Growable", "Low Maintenance")))
        out = pd.DataFrame({
            "actual_value": clv, "cost_to_serve": cost, "net_value": net, "potential_value": pot,
            "headroom": headroom, "tier": pd.Categorical(tier, categories=list(TIER_STRATEGIES)),
        }, index=clv.index)
        out["strategy"] = out["tier"].map(TIER_STRATEGIES).astype(str)
        return out

    def fit_transform(
        self, clv: pd.Series, groups: pd.Series | None = None, cost_to_serve: float | pd.Series = 0.0
    ) -> pd.DataFrame:
        """``fit(...)`` then ``transform(...)`` on the same customers.

        Parameters
        ----------
        clv, groups, cost_to_serve
            As in :meth:`fit`.

        Returns
        -------
        pandas.DataFrame
            As :meth:`transform`.

        Examples
        --------
        >>> clv = pd.Series([50.0, 40, 30, 20, 10], index=list("abcde"))
        >>> ValueTiers(top_share=0.4, growable_share=0.0).fit_transform(clv)["tier"].tolist()
        ['Most Valuable', 'Most Valuable', 'Low Maintenance', 'Low Maintenance', 'Low Maintenance']
        """
        return self.fit(clv, groups, cost_to_serve).transform(clv, groups, cost_to_serve)

    def summary(self, tiers: pd.DataFrame) -> Summary:
        """Customers and shares of value and headroom per tier.

        Parameters
        ----------
        tiers : pandas.DataFrame
            The output of :meth:`transform`.

        Returns
        -------
        crm_models.base.Summary
            One row per tier: ``customers``, ``share_of_customers`` (0-1),
            ``mean_actual_value`` (money), ``share_of_value`` (share of the total non-negative
            actual value, 0-1), ``share_of_headroom`` (0-1) and ``strategy``.

        Examples
        --------
        >>> clv = pd.Series([50.0, 40, 30, 20, 10], index=list("abcde"))
        >>> vt = ValueTiers(top_share=0.4, growable_share=0.0)
        >>> table = vt.summary(vt.fit_transform(clv)).to_frame()
        >>> table["customers"].tolist(), table["share_of_value"].round(2).tolist()
        ([2, 0, 3, 0], [0.6, 0.0, 0.4, 0.0])
        """
        self._check_fitted()
        require_columns(tiers, ["tier", "actual_value", "headroom"], what="tiers")
        g = tiers.groupby("tier", observed=False)
        tot_v, tot_h = tiers["actual_value"].clip(lower=0).sum(), tiers["headroom"].sum()
        table = pd.DataFrame({
            "customers": g.size(),
            "share_of_customers": g.size() / len(tiers),
            "mean_actual_value": g["actual_value"].mean(),
            "share_of_value": g["actual_value"].apply(lambda v: v.clip(lower=0).sum()) / tot_v if tot_v > 0 else np.nan,
            "share_of_headroom": g["headroom"].sum() / tot_h if tot_h > 0 else np.nan,
        })
        table["strategy"] = [TIER_STRATEGIES[t] for t in table.index]
        stats = {
            "customers": len(tiers),
            "customers at fit": self.n_customers_,
            "MVC threshold": self.mvc_threshold_,
            "growth threshold": self.growth_threshold_,
        }
        notes = [
            "Values are money over the CLV's horizon; net value = actual value - cost to serve.",
            "share_of_value: share of the total actual value counting negative values as 0.",
            f"Potential value: the {self.potential_quantile:g} quantile of actual value in the customer's group "
            "at fit.",
        ]
        return Summary("Value tiers", table, stats, notes)

    # -- persistence --------------------------------------------------------------------------
    def _fitted_state(self) -> dict:
        return {
            "groups": [str(k) for k in self.potential_.index],
            "potential": self.potential_.to_numpy(dtype=float),
            "mvc_threshold": float(self.mvc_threshold_),
            "growth_threshold": float(self.growth_threshold_),
            "n_customers": int(self.n_customers_),
        }

    def _restore(self, fitted: FieldReader) -> None:
        groups = fitted.strings("groups", unique=True)
        if ALL not in groups:
            fitted.fail("groups", f"must include {ALL!r} (the overall potential value)")
        potential = fitted.array("potential", shape=(len(groups),))
        mvc = fitted.number("mvc_threshold", allow_inf=True)
        growth = fitted.number("growth_threshold", low=0, allow_inf=True)
        if mvc == -np.inf:
            fitted.fail("mvc_threshold", "must be a number or inf (nobody Most Valuable), got -inf")
        self.potential_ = pd.Series(potential, index=pd.Index(groups), name="potential_value")
        self.mvc_threshold_ = float(mvc)
        self.growth_threshold_ = float(growth)
        self.n_customers_ = fitted.number("n_customers", integer=True, low=2)


def _values(values, what: str) -> np.ndarray:
    s = numeric_series(values, name="values", what=what)
    if len(s) == 0:
        raise DataError("values", "holds no customer", what=what)
    fail_rows(s.to_frame("values"), s.to_numpy() < 0, "values",
              "must not be negative: a share of the total is only defined for non-negative values",
              what=what, hint="Pass CLV, not net value, or clip at 0 explicitly.")
    v = s.to_numpy()
    if v.sum() <= 0:
        raise DataError("values", "sum to zero: there is no value to share out", what=what)
    return v


def concentration_curve(values: pd.Series) -> pd.DataFrame:
    """The concentration (Lorenz-type) curve of value across customers.

    Parameters
    ----------
    values : pandas.Series
        Non-negative value (money) by customer id, e.g. CLV.

    Returns
    -------
    pandas.DataFrame
        One row per customer (highest value first) plus a starting row at 0: ``top_share``
        (share of customers, 0-1) and ``value_share`` (share of the total value they hold, 0-1).

    Examples
    --------
    >>> concentration_curve(pd.Series([1.0, 3.0], index=["a", "b"]))
       top_share  value_share
    0        0.0         0.00
    1        0.5         0.75
    2        1.0         1.00
    """
    v = np.sort(_values(values, "concentration_curve"))[::-1]
    n = v.size
    return pd.DataFrame({
        "top_share": np.arange(n + 1) / n,
        "value_share": np.concatenate([[0.0], np.cumsum(v) / v.sum()]),
    })


def concentration_table(values: pd.Series, shares=(0.01, 0.05, 0.1, 0.2, 0.5)) -> pd.DataFrame:
    """Share of total value held by the top ``x`` of customers, for each ``x`` in ``shares``.

    Parameters
    ----------
    values : pandas.Series
        Non-negative value (money) by customer id.
    shares : sequence of float
        Top shares of customers, each in (0, 1]. The top ``x`` are the ``ceil(x * n)``
        customers with the highest value.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``top_share``: ``customers`` and ``value_share`` (0-1). The Gini coefficient
        of the values (0 = everyone equal, near 1 = one customer holds everything) is in
        ``DataFrame.attrs["gini"]``.

    Examples
    --------
    >>> v = pd.Series([50.0, 20, 10, 5, 5, 4, 3, 2, 1, 0], index=[f"c{i}" for i in range(10)])
    >>> t = concentration_table(v, shares=(0.1, 0.5))
    >>> t  # doctest: +NORMALIZE_WHITESPACE
               customers  value_share
    top_share
    0.1                1          0.5
    0.5                5          0.9
    >>> round(t.attrs["gini"], 3)
    0.63
    """
    v = np.sort(_values(values, "concentration_table"))[::-1]
    n = v.size
    cum = np.cumsum(v) / v.sum()
    rows = []
    for x in shares:
        if not _real(x) or not 0 < x <= 1:
            raise ValueError(f"shares must lie in (0, 1], got {x!r}")
        k = int(np.ceil(x * n - 1e-9))
        rows.append({"top_share": x, "customers": k, "value_share": float(cum[k - 1])})
    table = pd.DataFrame(rows).set_index("top_share")
    asc = v[::-1]
    table.attrs["gini"] = float(1 - 2 * np.sum(np.cumsum(asc) / asc.sum()) / n + 1 / n)
    return table

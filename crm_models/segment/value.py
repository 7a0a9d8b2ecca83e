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

Net value is ``clv - cost_to_serve``; both in the same currency over the same horizon, the cost
is an input (a number or a per-customer Series), never assumed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from crm_models.segment._base import as_series, check_fitted

__all__ = ["ValueTiers", "TIER_STRATEGIES", "concentration_curve", "concentration_table"]

#: The tiers in display order and the strategy each calls for.
TIER_STRATEGIES: dict[str, str] = {
    "Most Valuable": "Retain: recognise and protect them; service level and loyalty rewards.",
    "Most Growable": "Grow: cross-sell and up-sell toward their potential; raise share of wallet.",
    "Low Maintenance": "Maintain: serve efficiently through low-cost, self-service channels.",
    "Below Zero": "Convert or cut cost: move to cheaper channels, price for the cost to serve, or let go.",
}


class ValueTiers:
    """Actual and potential value, and the Peppers & Rogers tiers, learned on one period.

    Parameters
    ----------
    top_share
        Share of customers (by net value, at fit) who are Most Valuable (default 0.2).
    growable_share
        Share of all customers (at fit) who are Most Growable: taken from those neither Most
        Valuable nor Below Zero, largest headroom first (default 0.2).
    potential_quantile
        Quantile of actual value among similar customers that defines potential (default 0.9).
    min_group_size
        Groups smaller than this at fit use the overall quantile (default 20).
    cost_to_serve
        Cost of serving a customer over the CLV horizon, in the CLV's currency; a number, or
        a Series by customer id passed to ``fit``/``transform`` instead (default 0.0).

    Attributes (after ``fit``)
    --------------------------
    potential_ : pandas.Series
        Potential value by group (``"__all__"`` holds the overall quantile).
    mvc_threshold_ : float
        Lowest net value counted Most Valuable.
    growth_threshold_ : float
        Lowest headroom counted Most Growable.
    """

    def __init__(
        self,
        top_share: float = 0.2,
        growable_share: float = 0.2,
        potential_quantile: float = 0.9,
        min_group_size: int = 20,
        cost_to_serve: float = 0.0,
    ) -> None:
        self.top_share = top_share
        self.growable_share = growable_share
        self.potential_quantile = potential_quantile
        self.min_group_size = min_group_size
        self.cost_to_serve = cost_to_serve

    # -- helpers ------------------------------------------------------------------------------
    def _inputs(self, clv, groups, cost_to_serve):
        what = "ValueTiers"
        clv = as_series(clv, name="clv", what=what).astype("float64")
        if not np.isfinite(clv.to_numpy()).all():
            raise ValueError(f"{what}: clv must be finite; {int((~np.isfinite(clv)).sum())} values are not")
        if groups is None:
            groups = pd.Series("__all__", index=clv.index, name="group")
        else:
            groups = as_series(groups, name="groups", what=what).astype(str)
            missing = clv.index.difference(groups.index)
            if len(missing):
                raise ValueError(f"{what}: groups has no value for {len(missing):,} customer(s) of clv, for example "
                                 f"{sorted(map(str, missing[:5]))}")
            groups = groups.reindex(clv.index)
        cost = self.cost_to_serve if cost_to_serve is None else cost_to_serve
        if isinstance(cost, pd.Series):
            cost = as_series(cost, name="cost_to_serve", what=what).astype("float64")
            missing = clv.index.difference(cost.index)
            if len(missing):
                raise ValueError(f"{what}: cost_to_serve has no value for {len(missing):,} customer(s), for example "
                                 f"{sorted(map(str, missing[:5]))}")
            cost = cost.reindex(clv.index)
        else:
            if not np.isfinite(float(cost)):
                raise ValueError(f"{what}: cost_to_serve must be a finite number, got {cost!r}")
            cost = pd.Series(float(cost), index=clv.index)
        return clv, groups, cost

    def _check_params(self) -> None:
        for name in ("top_share", "growable_share"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValueError(f"{name} must lie in [0, 1], got {v!r}")
        if not 0 < self.potential_quantile <= 1:
            raise ValueError(f"potential_quantile must lie in (0, 1], got {self.potential_quantile!r}")
        if self.top_share + self.growable_share > 1:
            raise ValueError("top_share + growable_share must not exceed 1")

    # -- learning -----------------------------------------------------------------------------
    def fit(self, clv: pd.Series, groups: pd.Series | None = None, cost_to_serve=None) -> ValueTiers:
        """Learn potential value per group and the tier thresholds.

        Parameters
        ----------
        clv
            Actual value (predicted CLV, money over the model's horizon) by customer id.
        groups
            Group of similar customers (needs segment, RFM cell, ...) by customer id; ``None``
            compares every customer with everyone.
        cost_to_serve
            Overrides the constructor's cost (number or Series by customer id).
        """
        self._check_params()
        clv, groups, cost = self._inputs(clv, groups, cost_to_serve)
        if len(clv) < 2:
            raise ValueError(f"ValueTiers needs at least 2 customers, got {len(clv)}")
        q = self.potential_quantile
        pot = clv.groupby(groups).quantile(q)
        size = groups.value_counts()
        pot = pot[size.reindex(pot.index) >= self.min_group_size]
        pot["__all__"] = clv.quantile(q)
        self.potential_ = pot.rename("potential_value")
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
        known = groups.map(self.potential_.drop("__all__"))
        pot = known.fillna(self.potential_["__all__"]).astype("float64")
        return np.maximum(pot, clv)

    # -- applying -----------------------------------------------------------------------------
    def transform(self, clv: pd.Series, groups: pd.Series | None = None, cost_to_serve=None) -> pd.DataFrame:
        """Value and tier of every customer with the thresholds learned at ``fit``.

        Returns a DataFrame indexed by customer id: ``actual_value`` (the CLV), ``cost_to_serve``,
        ``net_value``, ``potential_value``, ``headroom`` (potential - actual), ``tier`` and
        ``strategy``.
        """
        check_fitted(self, "potential_")
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

    def fit_transform(self, clv: pd.Series, groups: pd.Series | None = None, cost_to_serve=None) -> pd.DataFrame:
        """``fit(...).transform(...)`` on the same customers."""
        return self.fit(clv, groups, cost_to_serve).transform(clv, groups, cost_to_serve)

    def to_dict(self) -> dict:
        """The fitted tiers as plain JSON-ready data (potential per group and thresholds)."""
        check_fitted(self, "potential_")
        return {
            "model": "ValueTiers", "version": 1,
            "params": {"top_share": self.top_share, "growable_share": self.growable_share,
                       "potential_quantile": self.potential_quantile, "min_group_size": self.min_group_size,
                       "cost_to_serve": None if isinstance(self.cost_to_serve, pd.Series) else float(self.cost_to_serve)},
            "potential": {str(k): float(v) for k, v in self.potential_.items()},
            "mvc_threshold": _num(self.mvc_threshold_), "growth_threshold": _num(self.growth_threshold_),
            "n_customers": int(self.n_customers_),
        }

    def save(self, path) -> None:
        """Write the fitted tiers as JSON (no pickle)."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path) -> ValueTiers:
        """Read tiers written by :meth:`save` (plain JSON; no code runs)."""
        d = json.loads(Path(path).read_text())
        if d.get("model") != "ValueTiers":
            raise ValueError(f"{path} does not hold ValueTiers")
        params = dict(d["params"])
        params["cost_to_serve"] = params["cost_to_serve"] if params["cost_to_serve"] is not None else 0.0
        obj = cls(**params)
        obj.potential_ = pd.Series(d["potential"], name="potential_value", dtype="float64")
        obj.mvc_threshold_ = float("inf") if d["mvc_threshold"] is None else d["mvc_threshold"]
        obj.growth_threshold_ = float("inf") if d["growth_threshold"] is None else d["growth_threshold"]
        obj.n_customers_ = d["n_customers"]
        return obj

    def summary(self, tiers: pd.DataFrame) -> pd.DataFrame:
        """Customers, share of customers, share of (non-negative) actual value and of headroom per tier."""
        check_fitted(self, "potential_")
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
        return table


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _values(values, what: str) -> np.ndarray:
    v = as_series(values, name="values", what=what).to_numpy(dtype="float64")
    if v.size == 0:
        raise ValueError(f"{what}: no customers")
    if not np.isfinite(v).all():
        raise ValueError(f"{what}: values must be finite")
    if (v < 0).any():
        raise ValueError(f"{what}: {int((v < 0).sum())} value(s) are negative; a share of the total is only "
                         "defined for non-negative values (pass CLV, not net value, or clip at 0 explicitly)")
    if v.sum() <= 0:
        raise ValueError(f"{what}: the values sum to zero; there is no value to share out")
    return v


def concentration_curve(values: pd.Series) -> pd.DataFrame:
    """The concentration (Lorenz-type) curve of value across customers.

    Customers are sorted by value, highest first. Returns a DataFrame with one row per customer
    plus a starting row at 0: ``top_share`` (share of customers, 0..1) and ``value_share``
    (share of total value they hold, 0..1). Values must be non-negative.
    """
    v = np.sort(_values(values, "concentration_curve"))[::-1]
    n = v.size
    return pd.DataFrame({
        "top_share": np.arange(n + 1) / n,
        "value_share": np.concatenate([[0.0], np.cumsum(v) / v.sum()]),
    })


def concentration_table(values: pd.Series, shares=(0.01, 0.05, 0.1, 0.2, 0.5)) -> pd.DataFrame:
    """Share of total value held by the top ``x`` of customers, for each ``x`` in ``shares``.

    The top ``x`` are the ``ceil(x * n)`` customers with the highest value. Also returns the Gini
    coefficient of the values (0 = everyone equal, near 1 = one customer holds everything) in
    ``DataFrame.attrs["gini"]``.
    """
    v = np.sort(_values(values, "concentration_table"))[::-1]
    n = v.size
    cum = np.cumsum(v) / v.sum()
    rows = []
    for x in shares:
        if not 0 < x <= 1:
            raise ValueError(f"shares must lie in (0, 1], got {x!r}")
        k = int(np.ceil(x * n - 1e-9))
        rows.append({"top_share": x, "customers": k, "value_share": float(cum[k - 1])})
    table = pd.DataFrame(rows).set_index("top_share")
    asc = v[::-1]
    table.attrs["gini"] = float(1 - 2 * np.sum(np.cumsum(asc) / asc.sum()) / n + 1 / n)
    return table

"""Retention targeting within a budget: whom to contact, and what it should bring.

Within a budget, :func:`target_retention` contacts the customers with the highest expected
incremental value per dollar, where the incremental value of a retention contact is uplift x
the value at stake (by default the value at risk, CLV x (1 - P(alive)), of
:func:`~crm_models.customize.value_at_risk`). The result, a :class:`RetentionPlan`, lists the
targeted customers and summarises the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_models._validation import check_number, fail_rows, parse_amounts, require_columns
from crm_models.base import Summary
from crm_models.customize.actions import value_at_risk, warn_surely_alive_one_time_buyers

__all__ = ["RetentionPlan", "target_retention"]


@dataclass
class RetentionPlan:
    """Result of :func:`target_retention`: who to contact within the budget, and what it should bring.

    Parameters
    ----------
    targeted : pandas.DataFrame
        The chosen customers, indexed by customer id in selection order, with ``uplift`` (0-1),
        ``value_at_stake``, ``expected_incremental_value``, ``cost`` (USD), ``value_per_cost``
        (USD per USD) and ``cumulative_cost`` (USD).
    budget : float
        Money available (USD).
    spent : float
        Money the targeted contacts cost (USD, at most ``budget``).
    expected_incremental_value : float
        Sum of the targeted customers' expected incremental value (USD).
    n_candidates : int
        Customers who could have been chosen (with ``require_profit``: those expected to pay back).
    rule : str
        The targeting rule in words.
    candidates : pandas.DataFrame
        Every candidate, with the columns of ``targeted`` but ``cumulative_cost``.

    Examples
    --------
    >>> scores = pd.DataFrame({"clv": [100.0, 300.0], "p_alive": [0.5, 0.5]}, index=["a", "b"])
    >>> plan = target_retention(scores, budget=2.0, uplift=0.2, cost=2.0)
    >>> plan.n_targeted, plan.expected_net_value
    (1, 28.0)
    """

    targeted: pd.DataFrame
    budget: float
    spent: float
    expected_incremental_value: float
    n_candidates: int
    rule: str
    candidates: pd.DataFrame = field(repr=False)

    @property
    def expected_net_value(self) -> float:
        """Expected incremental value minus the money spent (USD)."""
        return self.expected_incremental_value - self.spent

    @property
    def n_targeted(self) -> int:
        """Number of customers targeted."""
        return len(self.targeted)

    def summary(self) -> Summary:
        """The plan's key numbers.

        Returns
        -------
        crm_models.base.Summary
            ``stats``: ``customers targeted`` and ``candidates``; table (column ``value``):
            ``budget (USD)``, ``spent (USD)``, ``expected incremental value (USD)``,
            ``expected net value (USD)`` and ``return per dollar`` (expected incremental value
            per USD spent; NaN when nothing is spent); the rule as a note.

        Examples
        --------
        >>> scores = pd.DataFrame({"clv": [100.0, 300.0], "p_alive": [0.5, 0.5]}, index=["a", "b"])
        >>> s = target_retention(scores, budget=4.0, uplift=0.2, cost=2.0).summary()
        >>> s.stats["customers targeted"], float(s.to_frame().loc["return per dollar", "value"])
        (2, 10.0)
        """
        table = pd.DataFrame({"value": {
            "budget (USD)": self.budget,
            "spent (USD)": self.spent,
            "expected incremental value (USD)": self.expected_incremental_value,
            "expected net value (USD)": self.expected_net_value,
            "return per dollar": self.expected_incremental_value / self.spent if self.spent else np.nan,
        }})
        table.index.name = "quantity"
        stats = {"customers targeted": self.n_targeted, "candidates": self.n_candidates}
        return Summary("Retention plan", table, stats, [self.rule], digits=2)

    def __repr__(self) -> str:
        return repr(self.summary())

    def _repr_html_(self) -> str:
        return (self.summary()._repr_html_()
                + "<p><b>First targeted customers</b></p>"
                + self.targeted.head(5).to_html(float_format=lambda x: f"{x:,.2f}"))


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def target_retention(
    scores: pd.DataFrame,
    budget: float,
    *,
    uplift: float | str = 0.15,
    cost: float | str = 2.0,
    value: str | None = None,
    clv_col: str = "clv",
    p_alive_col: str = "p_alive",
    require_profit: bool = True,
) -> RetentionPlan:
    """Choose whom to contact with a retention offer within a budget (greedy by value per cost).

    Each customer's expected incremental value of a contact is ``uplift x value at stake`` (USD),
    the value at stake being by default the value at risk ``CLV x (1 - P(alive))`` of
    :func:`~crm_models.customize.value_at_risk`, or any column you name. Customers are taken in
    decreasing order of expected incremental value per dollar of cost; a customer whose cost no
    longer fits the remaining budget is skipped and cheaper ones after them may still be taken, so
    the money spent never exceeds the budget. With ``require_profit`` only contacts expected to
    return more than they cost are candidates.

    Parameters
    ----------
    scores : pandas.DataFrame
        Per-customer scores indexed by customer id with ``clv_col`` (USD) and ``p_alive_col`` (0-1).
    budget : float
        Money available for contacts (USD, >= 0).
    uplift : float or str
        Probability a contact keeps a customer who would otherwise be lost (0-1): a number, or a
        column of ``scores`` (for example the uplift your campaign test measured in the
        customer's segment).
    cost : float or str
        Cost of one contact (USD, > 0): a number or a column of ``scores``.
    value : str, optional
        Column of ``scores`` holding the value at stake (USD); default the value at risk from
        ``clv_col`` and ``p_alive_col``.
    clv_col, p_alive_col : str
        Columns of ``scores`` holding CLV (USD) and P(alive) (0-1).
    require_profit : bool
        Only target customers whose expected incremental value exceeds their cost.

    Returns
    -------
    RetentionPlan

    Raises
    ------
    ValueError
        If ``budget``, ``uplift`` or ``cost`` is not a valid number.
    crm_models.errors.DataError
        If ``scores`` repeats a customer id or a column breaks its rule (uplift outside [0, 1],
        cost not positive, P(alive) outside [0, 1]).

    Examples
    --------
    >>> scores = pd.DataFrame({"clv": [100.0, 300.0, 50.0, 80.0], "p_alive": [0.5, 0.5, 0.5, 1.0]},
    ...                       index=["a", "b", "c", "d"])
    >>> plan = target_retention(scores, budget=4.0, uplift=0.2, cost=2.0)
    >>> plan.targeted[["value_at_stake", "expected_incremental_value", "cumulative_cost"]]
       value_at_stake  expected_incremental_value  cumulative_cost
    b           150.0                        30.0              2.0
    a            50.0                        10.0              4.0
    """
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
    fail_rows(scores, scores.index.duplicated(keep=False), "index", "must hold each customer id once",
              what="scores")
    warn_surely_alive_one_time_buyers(scores, p_alive_col=p_alive_col)
    budget = check_number(budget, "target_retention: budget", low=0, unit="USD")

    def column_or_number(v, name, unit, **limits):
        if isinstance(v, str) and v in scores.columns:
            return parse_amounts(scores, v, what="scores").to_numpy()
        if isinstance(v, str) and not _is_number_text(v):
            require_columns(scores, [v], what="scores")
        return np.full(len(scores), check_number(v, f"target_retention: {name}", unit=f"{unit}, or a column name",
                                                 **limits))

    up = column_or_number(uplift, "uplift", "a probability", low=0, high=1)
    if (up > 1).any():
        fail_rows(scores.assign(uplift=up), up > 1, uplift if isinstance(uplift, str) else "uplift",
                  "must be a probability in [0, 1]", what="scores")
    c = column_or_number(cost, "cost", "USD per contact", low=0, low_open=True)
    if (c <= 0).any():
        if not isinstance(cost, str):
            raise ValueError(f"target_retention: cost must be > 0 (USD per contact), got {cost!r}")
        fail_rows(scores, c <= 0, cost, "must be > 0 (USD per contact)", what="scores")
    if value is None:
        stake = value_at_risk(scores, clv_col=clv_col, p_alive_col=p_alive_col)["value_at_risk"].to_numpy()
    else:
        require_columns(scores, [value], what="scores")
        stake = parse_amounts(scores, value, what="scores", allow_negative=True).to_numpy()
    gain = up * stake
    cand = pd.DataFrame({"uplift": up, "value_at_stake": stake, "expected_incremental_value": gain, "cost": c,
                         "value_per_cost": gain / c}, index=scores.index)
    if require_profit:
        cand = cand[cand["expected_incremental_value"] > cand["cost"]]
    cand = cand.sort_values("value_per_cost", ascending=False, kind="stable")
    take = np.zeros(len(cand), dtype=bool)
    costs = cand["cost"].to_numpy()
    cum = np.cumsum(costs)
    k = int(np.searchsorted(cum, budget + 1e-9, side="right"))  # the first k fit as a block
    take[:k] = True
    left = budget - (cum[k - 1] if k else 0.0)
    for j in range(k, len(cand)):  # then skip what does not fit and keep filling
        if costs[j] <= left + 1e-9:
            take[j] = True
            left -= costs[j]
    targeted = cand[take].copy()
    targeted["cumulative_cost"] = targeted["cost"].cumsum()
    stake_text = f"value at risk = {clv_col} x (1 - {p_alive_col})" if value is None else f"value at stake = {value}"
    rule = (f"greedy by uplift x value at stake per dollar; {stake_text}; "
            f"uplift {uplift if isinstance(uplift, str) else f'{uplift:g}'}, cost "
            f"{cost if isinstance(cost, str) else f'${cost:g}'} per contact"
            + ("; only contacts expected to pay back" if require_profit else ""))
    return RetentionPlan(targeted=targeted, budget=budget, spent=float(targeted["cost"].sum()),
                         expected_incremental_value=float(targeted["expected_incremental_value"].sum()),
                         n_candidates=len(cand), rule=rule, candidates=cand)

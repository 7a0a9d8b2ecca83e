"""Customize: next best action, retention targeting within a budget, and campaign evaluation.

Treatment should adapt to each customer's value and needs. Three tools:

- **Next best action** (:func:`score_actions`, :func:`next_best_action`): every candidate action
  (retain, grow by cross-sell, win back, serve at lower cost, do nothing) is scored per customer by

      expected value = P(effect) x value at stake - cost        (USD)

  from a readable action table (:func:`default_action_table`) whose rows are plain expressions
  over the customer's scores, so an analyst can read, change or replace every assumption. Each
  customer gets the action with the highest expected value, and the reason in words.
- **Retention targeting** (:func:`target_retention`): within a budget, contact the customers with
  the highest expected incremental value per dollar, where the incremental value of a retention
  contact is uplift x the value at risk, CLV x (1 - P(alive)).
- **Campaign evaluation** (:func:`evaluate_campaign`): response (or revenue) and uplift of a
  randomised test, overall and by segment, with normal-approximation or seeded bootstrap
  confidence intervals; :func:`uplift_capture` grades targeting policies against the true
  effects on the simulated company.

All functions take plain DataFrames indexed by customer id (scores from :mod:`crm_models.clv`,
:mod:`crm_models.segment` or anywhere else).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from crm_models._validation import fail_rows, parse_amounts, require_columns

__all__ = [
    "ACTION_TABLE_COLUMNS",
    "default_action_table",
    "score_actions",
    "next_best_action",
    "value_at_risk",
    "RetentionPlan",
    "target_retention",
    "evaluate_campaign",
    "uplift_capture",
]

#: Columns an action table must have (index: action name).
ACTION_TABLE_COLUMNS = ["description", "eligible", "p_effect", "value_at_stake", "cost"]


# ----------------------------------------------------------------------------------------------
# next best action


def default_action_table(
    *,
    cost_to_serve: float = 10.0,
    retain_cost: float = 2.0,
    retain_effect: float = 0.15,
    cross_sell_cost: float = 1.0,
    cross_sell_effect: float = 0.10,
    cross_sell_share: float = 0.25,
    win_back_cost: float = 4.0,
    win_back_effect: float = 0.05,
    serve_saving: float = 0.5,
) -> pd.DataFrame:
    """The shipped action table: five candidate actions and their stated assumptions.

    Every cell of ``eligible``, ``p_effect``, ``value_at_stake`` and ``cost`` is a number or a
    :meth:`pandas.DataFrame.eval` expression over the customer's scores (columns ``clv`` in USD
    and ``p_alive`` in 0-1 here; any column of the scores may be used, plus the derived
    ``value_if_active`` and ``value_at_risk`` of :func:`value_at_risk`). The defaults are
    illustrative assumptions, not estimates: replace ``p_effect`` with what your own campaign
    tests measured (see :func:`evaluate_campaign`).

    ===================  =======================================================================
    action               idea
    ===================  =======================================================================
    do_nothing           the baseline: expected value 0
    retain               a likely-active but wavering customer (0.3 <= P(alive) < 0.8); the
                         stake is the value at risk, CLV x (1 - P(alive))
    cross_sell           a surely-active customer (P(alive) >= 0.8); the stake is a share of CLV
    win_back             a probably lapsed customer (P(alive) < 0.3); the stake is the value
                         if re-activated, CLV / P(alive) (P(alive) floored at 0.01)
    serve_at_lower_cost  a customer worth less than their cost to serve; moving them to a cheaper
                         channel saves a share of that cost
    ===================  =======================================================================

    Parameters
    ----------
    cost_to_serve
        Cost of serving one customer over the CLV horizon through the current channels (USD).
    retain_cost, cross_sell_cost, win_back_cost
        Cost of one contact of each action (USD).
    retain_effect, cross_sell_effect, win_back_effect
        Probability the action has its effect.
    cross_sell_share
        Share of CLV a successful cross-sell adds.
    serve_saving
        Share of ``cost_to_serve`` saved by moving a customer to a cheaper channel; also the
        probability the customer accepts the move is taken as 0.5.
    """
    rows = [
        ("do_nothing", "no contact: the baseline every action must beat", "True", 0.0, "0", 0.0),
        ("retain", "retention offer to a wavering customer: saves the value at risk",
         "p_alive >= 0.3 and p_alive < 0.8", retain_effect, "value_at_risk", retain_cost),
        ("cross_sell", "cross-sell to an active customer: adds a share of their value",
         "p_alive >= 0.8", cross_sell_effect, f"{cross_sell_share:g} * clv", cross_sell_cost),
        ("win_back", "win-back offer to a probably lapsed customer: restores their value if active",
         "p_alive < 0.3", win_back_effect, "value_if_active", win_back_cost),
        ("serve_at_lower_cost", "move to self-service: saves part of the cost to serve",
         f"clv < {cost_to_serve:g}", 0.5, f"{serve_saving * cost_to_serve:g}", 0.0),
    ]
    table = pd.DataFrame(rows, columns=["action", *ACTION_TABLE_COLUMNS]).set_index("action")
    table["p_effect"] = table["p_effect"].astype(object)
    table["cost"] = table["cost"].astype(object)
    return table


def _check_table(actions: pd.DataFrame) -> None:
    if not isinstance(actions, pd.DataFrame):
        raise TypeError(f"actions must be a pandas DataFrame (an action table), got {type(actions).__name__}")
    require_columns(actions, ACTION_TABLE_COLUMNS, what="action table")
    if len(actions) == 0:
        raise ValueError("action table is empty; give at least one action (e.g. do_nothing)")
    if actions.index.has_duplicates:
        raise ValueError(f"action table: action names (the index) must be unique; repeated: "
                         f"{actions.index[actions.index.duplicated()].unique().tolist()}")


def _evaluate(expr, scores: pd.DataFrame, action, column: str) -> np.ndarray:
    """A cell of the action table, a number or an expression, evaluated for every customer."""
    if isinstance(expr, (bool, np.bool_)):
        return np.full(len(scores), bool(expr))
    if isinstance(expr, (int, float, np.integer, np.floating)):
        return np.full(len(scores), float(expr))
    if not isinstance(expr, str):
        raise ValueError(f"action table: action '{action}' column '{column}' must be a number or an expression, "
                         f"got {expr!r}")
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = scores.eval(expr, engine="python", local_dict={}, global_dict={})
    except Exception as exc:  # pandas raises many kinds (UndefinedVariableError, SyntaxError, ...)
        raise ValueError(f"action table: action '{action}' column '{column}' = {expr!r} cannot be evaluated on the "
                         f"scores ({type(exc).__name__}: {exc}); the scores have columns {list(scores.columns)}") from None
    value = np.broadcast_to(np.asarray(value), (len(scores),)).copy()
    return value


def score_actions(scores: pd.DataFrame, actions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Expected value of every action for every customer (USD).

    ``expected value = p_effect x value_at_stake - cost`` for customers the action is eligible
    for, NaN for the others.

    Parameters
    ----------
    scores
        One row per customer, indexed by customer id, with the columns the table's expressions
        use (the default table: ``clv`` in USD and ``p_alive`` in 0-1).
    actions
        An action table (see :func:`default_action_table`); default: the shipped one.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``, one column per action, in the table's order.
    """
    ev, _ = _score(scores, default_action_table() if actions is None else actions)
    return ev


def _score(scores: pd.DataFrame, actions: pd.DataFrame):
    _check_table(actions)
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
    if scores.index.has_duplicates:
        raise ValueError(f"scores: the index must hold each customer id once; repeated: "
                         f"{scores.index[scores.index.duplicated()].unique()[:5].tolist()}")
    scores = _with_derived(scores)
    parts, ev = {}, {}
    for action, row in actions.iterrows():
        eligible = _evaluate(row["eligible"], scores, action, "eligible")
        if eligible.dtype != bool:
            raise ValueError(f"action table: action '{action}' column 'eligible' = {row['eligible']!r} must give "
                             f"True/False, got {eligible.dtype}")
        p = _evaluate(row["p_effect"], scores, action, "p_effect").astype(float)
        stake = _evaluate(row["value_at_stake"], scores, action, "value_at_stake").astype(float)
        cost = _evaluate(row["cost"], scores, action, "cost").astype(float)
        for name, v, lo, hi in (("p_effect", p, 0, 1), ("cost", cost, 0, np.inf)):
            bad = eligible & ~((v >= lo) & (v <= hi))
            if bad.any():
                frame = scores.assign(**{f"{action}.{name}": v})
                fail_rows(frame, bad, f"{action}.{name}", f"must lie in [{lo}, {hi}] for eligible customers",
                          what="action table")
        bad = eligible & ~np.isfinite(stake)
        if bad.any():
            fail_rows(scores.assign(**{f"{action}.value_at_stake": stake}), bad, f"{action}.value_at_stake",
                      "must be finite for eligible customers (check for division by zero, e.g. p_alive = 0)",
                      what="action table")
        value = np.where(eligible, p * stake - cost, np.nan)
        ev[action] = value
        parts[action] = (eligible, p, stake, cost)
    return pd.DataFrame(ev, index=scores.index), parts


def next_best_action(scores: pd.DataFrame, actions: pd.DataFrame | None = None, *, reasons: bool = True) -> pd.DataFrame:
    """One action per customer: the eligible action with the highest expected value, and why.

    Ties go to the action listed first in the table (the shipped table lists ``do_nothing``
    first, so an action must promise a strictly positive expected value to be chosen).

    Parameters
    ----------
    scores, actions
        As in :func:`score_actions`.
    reasons
        Write the ``reason`` column (formatting it is most of the time on millions of customers;
        ``False`` leaves it out).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``: ``action``, ``expected_value``, ``p_effect``, ``value_at_stake``,
        ``cost`` (USD) of the chosen action, ``runner_up`` and its expected value, and (with
        ``reasons``) ``reason`` in words.
    """
    actions = default_action_table() if actions is None else actions
    ev, parts = _score(scores, actions)
    values = ev.to_numpy()
    if len(ev) and np.isnan(values).all(axis=1).any():
        fail_rows(scores, np.isnan(values).all(axis=1), "eligible",
                  "must make at least one action eligible for every customer (add a do_nothing row with eligible True)",
                  what="action table")
    filled = np.where(np.isnan(values), -np.inf, values)
    best = filled.argmax(axis=1) if len(ev) else np.array([], dtype=int)
    second = np.full(len(ev), -1)
    if values.shape[1] > 1 and len(ev):
        masked = filled.copy()
        masked[np.arange(len(ev)), best] = -np.inf
        second = masked.argmax(axis=1)
        second = np.where(np.isfinite(masked[np.arange(len(ev)), second]), second, -1)
    names = np.asarray(actions.index, dtype=object)
    idx = np.arange(len(ev))
    pick = lambda k: np.stack([parts[a][k] for a in actions.index], axis=1)[idx, best] if len(ev) else np.array([])
    out = pd.DataFrame({
        "action": names[best] if len(ev) else np.array([], dtype=object),
        "expected_value": filled[idx, best] if len(ev) else np.array([]),
        "p_effect": pick(1),
        "value_at_stake": pick(2),
        "cost": pick(3),
        "runner_up": np.where(second >= 0, names[np.maximum(second, 0)], None) if len(ev) else np.array([], dtype=object),
        "runner_up_value": np.where(second >= 0, filled[idx, np.maximum(second, 0)], np.nan) if len(ev) else np.array([]),
    }, index=scores.index)
    if not reasons:
        out.attrs["actions"] = actions.copy()
        return out
    # plain Python lists: formatting numpy scalars or iterating Arrow strings is several times slower
    cols = [out[c].to_numpy(dtype=object).tolist() if c in ("action", "runner_up") else out[c].to_numpy().tolist()
            for c in ("action", "expected_value", "p_effect", "value_at_stake", "cost", "runner_up", "runner_up_value")]
    out["reason"] = [_reason(*row) for row in zip(*cols)]
    out.attrs["actions"] = actions.copy()
    return out


def _reason(action, value, p, stake, cost, runner, runner_value) -> str:
    if p * stake == 0 and cost == 0:  # the baseline
        text = f"{action}: no other eligible action promises a positive expected value"
        return text + (f" (best {runner}: EV ${runner_value:,.2f})" if runner is not None else "")
    text = f"{action}: EV ${value:,.2f} = {p:.2f} x ${stake:,.2f} at stake - ${cost:,.2f} cost"
    if runner is not None:
        text += f"; next best {runner} (EV ${runner_value:,.2f})"
    return text


# ----------------------------------------------------------------------------------------------
# retention targeting within a budget


def value_at_risk(scores: pd.DataFrame, *, clv_col: str = "clv", alive_col: str = "p_alive",
                  min_alive: float = 0.01) -> pd.DataFrame:
    """What a customer is worth if active, and the part of it a retention contact can save (USD).

    - ``value_if_active = CLV / P(alive)``: a BG/NBD CLV is P(alive) x the value given the
      customer is active; P(alive) is floored at ``min_alive`` so it stays finite. The stake of a
      win-back.
    - ``value_at_risk = CLV x (1 - P(alive))`` = value_if_active x P(alive) x (1 - P(alive)): a
      contact only reaches a customer who is still active (P(alive)), and it only matters if they
      are at risk of leaving (1 - P(alive) as churn risk). It vanishes for sure-active customers
      (nothing to save) and for surely lapsed ones (nobody left to save): the stake of a retention
      offer.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``, columns ``value_if_active`` and ``value_at_risk``.
    """
    require_columns(scores, [clv_col, alive_col], what="scores")
    clv = parse_amounts(scores, clv_col, what="scores", allow_negative=True)
    alive = parse_amounts(scores, alive_col, what="scores")
    fail_rows(scores, (alive > 1).to_numpy(), alive_col, "must be a probability in [0, 1]", what="scores")
    return pd.DataFrame({"value_if_active": clv / alive.clip(lower=min_alive), "value_at_risk": clv * (1 - alive)},
                        index=scores.index)


def _with_derived(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` plus ``value_if_active`` / ``value_at_risk`` when it has clv and p_alive and lacks them."""
    if {"clv", "p_alive"} <= set(scores.columns):
        missing = [c for c in ("value_if_active", "value_at_risk") if c not in scores.columns]
        if missing:
            return scores.assign(**{c: value_at_risk(scores)[c] for c in missing})
    return scores


@dataclass
class RetentionPlan:
    """Result of :func:`target_retention`: who to contact within the budget, and what it should bring.

    ``targeted`` (indexed by customer id, in selection order) has ``uplift``, ``value_at_stake``,
    ``expected_incremental_value``, ``cost``, ``value_per_cost`` and ``cumulative_cost`` (USD).
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
        return len(self.targeted)

    def summary(self) -> pd.Series:
        """The plan's key numbers as a Series."""
        return pd.Series({
            "budget (USD)": self.budget,
            "customers targeted": self.n_targeted,
            "candidates": self.n_candidates,
            "spent (USD)": self.spent,
            "expected incremental value (USD)": self.expected_incremental_value,
            "expected net value (USD)": self.expected_net_value,
            "return per dollar": self.expected_incremental_value / self.spent if self.spent else np.nan,
        }, name="retention plan")

    def __repr__(self) -> str:
        body = "\n".join(f"  {k:<34} {_num(k, v)}" for k, v in self.summary().items())
        return f"RetentionPlan ({self.rule})\n{body}"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{_num(k, v)}</td></tr>"
                       for k, v in self.summary().items())
        return (f"<div><b>Retention plan</b><table>{rows}</table><p style='font-size:smaller'>"
                f"{html.escape(self.rule)}</p>{self.targeted.head(5).to_html(float_format=lambda x: f'{x:,.2f}')}</div>")


def _num(label: str, v: float) -> str:
    """A summary number as text: counts without decimals, money and ratios with two."""
    return f"{int(v):,}" if label in ("customers targeted", "candidates") else f"{v:,.2f}"


def target_retention(
    scores: pd.DataFrame,
    budget: float,
    *,
    uplift: float | str = 0.15,
    cost: float | str = 2.0,
    value: str | None = None,
    clv_col: str = "clv",
    alive_col: str = "p_alive",
    require_profit: bool = True,
) -> RetentionPlan:
    """Choose whom to contact with a retention offer within a budget (greedy by value per cost).

    Each customer's expected incremental value of a contact is ``uplift x value at stake`` (USD),
    the value at stake being by default the value at risk ``CLV x (1 - P(alive))`` of
    :func:`value_at_risk`, or any column you name. Customers are taken in decreasing order of
    expected incremental value per dollar of cost; a customer whose cost no longer fits the
    remaining budget is skipped and cheaper ones after them may still be taken, so the money spent
    never exceeds the budget. With ``require_profit`` only contacts expected to return more than
    they cost are candidates.

    Parameters
    ----------
    scores
        Per-customer scores indexed by customer id with ``clv_col`` (USD) and ``alive_col`` (0-1).
    budget
        Money available for contacts (USD, >= 0).
    uplift
        Probability a contact keeps a customer who would otherwise be lost: a number, or a column
        of ``scores`` (for example the uplift your campaign test measured in the customer's segment).
    cost
        Cost of one contact (USD): a number or a column of ``scores``; must be > 0.
    value
        Column of ``scores`` holding the value at stake (USD); default the value at risk from
        ``clv_col`` and ``alive_col``.
    require_profit
        Only target customers whose expected incremental value exceeds their cost.

    Returns
    -------
    RetentionPlan
    """
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
    if scores.index.has_duplicates:
        raise ValueError(f"scores: the index must hold each customer id once; repeated: "
                         f"{scores.index[scores.index.duplicated()].unique()[:5].tolist()}")
    try:
        budget = float(budget)
    except (TypeError, ValueError):
        raise ValueError(f"target_retention: budget must be a number of USD, got {budget!r}") from None
    if not np.isfinite(budget) or budget < 0:
        raise ValueError(f"target_retention: budget must be a finite number >= 0 (USD), got {budget!r}")

    def column_or_number(v, name):
        if isinstance(v, str):
            require_columns(scores, [v], what="scores")
            return parse_amounts(scores, v, what="scores").to_numpy()
        if not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) or v < 0:
            raise ValueError(f"target_retention: {name} must be a finite number >= 0 or a column name, got {v!r}")
        return np.full(len(scores), float(v))

    up = column_or_number(uplift, "uplift")
    if (up > 1).any():
        frame = scores.assign(uplift=up)
        fail_rows(frame, up > 1, "uplift", "must be a probability in [0, 1]", what="scores")
    c = column_or_number(cost, "cost")
    if (c <= 0).any():
        fail_rows(scores.assign(cost=c), c <= 0, "cost", "must be > 0 (USD per contact)", what="scores")
    if value is None:
        stake = value_at_risk(scores, clv_col=clv_col, alive_col=alive_col)["value_at_risk"].to_numpy()
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
    left = budget
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
    stake_text = f"value at risk = {clv_col} x (1 - {alive_col})" if value is None else f"value at stake = {value}"
    rule = (f"greedy by uplift x value at stake per dollar; {stake_text}; "
            f"uplift {uplift if isinstance(uplift, str) else f'{uplift:g}'}, cost "
            f"{cost if isinstance(cost, str) else f'${cost:g}'} per contact"
            + ("; only contacts expected to pay back" if require_profit else ""))
    return RetentionPlan(targeted=targeted, budget=budget, spent=float(targeted["cost"].sum()),
                         expected_incremental_value=float(targeted["expected_incremental_value"].sum()),
                         n_candidates=len(cand), rule=rule, candidates=cand)


# ----------------------------------------------------------------------------------------------
# campaign evaluation from a randomised test


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0.0, 1.0)).all())


def evaluate_campaign(
    campaign: pd.DataFrame,
    *,
    outcome_col: str = "responded",
    group_col: str = "group",
    segment_col: str | None = None,
    treatment: str = "treatment",
    control: str = "control",
    method: str = "normal",
    confidence: float = 0.95,
    n_boot: int = 2000,
    seed: int = 42,
) -> pd.DataFrame:
    """Response (or mean outcome) and uplift of a randomised test, overall and by segment.

    Uplift is the difference treatment - control of the mean outcome: of proportions for a
    binary outcome (response), of means for a numeric one (revenue, USD). Intervals are either
    the normal approximation (standard error sqrt(p1 (1-p1)/n1 + p0 (1-p0)/n0) for proportions,
    sqrt(s1^2/n1 + s0^2/n0) for means) or a seeded percentile bootstrap that resamples each
    group within each segment.

    Parameters
    ----------
    campaign
        One row per randomised customer with ``group_col`` and ``outcome_col`` (bool/0-1 or numeric).
    segment_col
        Optional column to break results down by (e.g. needs segment, value tier).
    treatment, control
        The labels of the two groups in ``group_col``.
    method
        ``"normal"`` or ``"bootstrap"``.
    confidence
        Confidence level of the intervals (0-1).
    n_boot, seed
        Bootstrap replicates and the seed of its ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        Indexed by segment (and ``all`` last): ``n_treatment``, ``n_control``, ``mean_treatment``,
        ``mean_control``, ``uplift``, ``se``, ``ci_low``, ``ci_high``, ``p_value`` (two-sided,
        normal approximation). ``.attrs`` states outcome, method and confidence.
    """
    require_columns(campaign, [group_col, outcome_col] + ([segment_col] if segment_col else []), what="campaign")
    if method not in ("normal", "bootstrap"):
        raise ValueError(f"evaluate_campaign: method must be 'normal' or 'bootstrap', got {method!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"evaluate_campaign: confidence must lie strictly between 0 and 1, got {confidence!r}")
    if int(n_boot) != n_boot or n_boot < 100:
        raise ValueError(f"evaluate_campaign: n_boot must be an integer >= 100, got {n_boot!r}")
    groups = campaign[group_col]
    fail_rows(campaign, ~groups.isin([treatment, control]).to_numpy(), group_col,
              f"must be {treatment!r} or {control!r}", what="campaign",
              hint="Pass treatment= and control= to name your groups.")
    y = parse_amounts(campaign, outcome_col, what="campaign", allow_negative=True).to_numpy()
    binary = _is_binary(y)
    is_t = (groups == treatment).to_numpy()
    seg = campaign[segment_col].to_numpy() if segment_col else None
    if seg is not None:
        fail_rows(campaign, pd.isna(seg), segment_col, "must name a segment for every row", what="campaign")
    z = stats.norm.ppf(0.5 + confidence / 2)
    alpha = 1 - confidence
    rng = np.random.default_rng(seed)
    labels = (sorted(pd.unique(seg), key=str) if seg is not None else []) + ["all"]
    rows = {}
    for label in labels:
        mask = np.ones(len(y), dtype=bool) if label == "all" else (seg == label)
        yt, yc = y[mask & is_t], y[mask & ~is_t]
        if len(yt) < 2 or len(yc) < 2:
            raise ValueError(f"evaluate_campaign: segment {label!r} has {len(yt)} treated and {len(yc)} control "
                             "customers; each group needs at least 2 to estimate an uplift. Merge small segments.")
        mt, mc = yt.mean(), yc.mean()
        ddof = 0 if binary else 1
        se = float(np.sqrt(yt.var(ddof=ddof) / len(yt) + yc.var(ddof=ddof) / len(yc)))
        diff = mt - mc
        if method == "normal":
            lo, hi = diff - z * se, diff + z * se
        else:
            boots = _bootstrap_diff(yt, yc, int(n_boot), rng, binary)
            lo, hi = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
        rows[label] = dict(n_treatment=len(yt), n_control=len(yc), mean_treatment=mt, mean_control=mc,
                           uplift=diff, se=se, ci_low=float(lo), ci_high=float(hi), p_value=p)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = segment_col or "segment"
    out.attrs.update(outcome=outcome_col, kind="proportion" if binary else "mean", method=method,
                     confidence=confidence)
    return out


def _bootstrap_diff(yt: np.ndarray, yc: np.ndarray, n_boot: int, rng: np.random.Generator, binary: bool) -> np.ndarray:
    """Bootstrap replicates of mean(yt) - mean(yc), resampling each group with replacement."""
    if binary:  # resampling 0/1 outcomes = binomial draws of the count of ones
        bt = rng.binomial(len(yt), yt.mean(), n_boot) / len(yt)
        bc = rng.binomial(len(yc), yc.mean(), n_boot) / len(yc)
        return bt - bc
    out = np.empty(n_boot)
    chunk = max(1, 2_000_000 // max(len(yt), len(yc)))
    for s in range(0, n_boot, chunk):
        k = min(chunk, n_boot - s)
        bt = yt[rng.integers(0, len(yt), (k, len(yt)))].mean(axis=1)
        bc = yc[rng.integers(0, len(yc), (k, len(yc)))].mean(axis=1)
        out[s:s + k] = bt - bc
    return out


def uplift_capture(
    policies: dict[str, pd.Index | list],
    true_uplift: pd.Series,
    *,
    value: pd.Series | None = None,
) -> pd.DataFrame:
    """Grade targeting policies against the true effects (simulated company only).

    Parameters
    ----------
    policies
        Policy name -> the customer ids it targets.
    true_uplift
        True per-customer effect of treatment on the response probability, indexed by customer id
        (the world's ``campaign.true_uplift``).
    value
        Optional true per-customer incremental value (USD) of treatment, e.g. ``true_revenue_uplift``.

    Returns
    -------
    pandas.DataFrame
        One row per policy: ``n_targeted``, ``true_extra_responses`` (sum of true uplift),
        ``mean_true_uplift``, ``share_of_best`` (extra responses / those of the best possible
        targeting of the same size, from the truth) and, with ``value``, ``true_extra_value``.
    """
    if not isinstance(true_uplift, pd.Series):
        raise TypeError(f"true_uplift must be a pandas Series indexed by customer id, got {type(true_uplift).__name__}")
    if true_uplift.index.has_duplicates:
        raise ValueError("true_uplift: the index must hold each customer id once")
    if value is not None and not value.index.equals(true_uplift.index):
        value = value.reindex(true_uplift.index)
    best = np.sort(true_uplift.to_numpy())[::-1]
    best_cum = np.concatenate([[0.0], np.cumsum(best)])
    rows = {}
    for name, ids in policies.items():
        ids = pd.Index(ids)
        if ids.has_duplicates:
            raise ValueError(f"uplift_capture: policy {name!r} targets some customers twice")
        unknown = ids.difference(true_uplift.index)
        if len(unknown):
            raise ValueError(f"uplift_capture: policy {name!r} targets {len(unknown)} customers without a true uplift, "
                             f"for example {sorted(map(str, unknown))[:5]}")
        u = true_uplift.loc[ids]
        row = dict(n_targeted=len(ids), true_extra_responses=float(u.sum()),
                   mean_true_uplift=float(u.mean()) if len(ids) else np.nan,
                   share_of_best=float(u.sum() / best_cum[len(ids)]) if len(ids) and best_cum[len(ids)] > 0 else np.nan)
        if value is not None:
            row["true_extra_value"] = float(value.loc[ids].sum())
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "policy"
    return out

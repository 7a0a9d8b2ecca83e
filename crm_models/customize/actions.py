"""Next best action: every candidate action scored per customer, the best one chosen, with the reason.

Every candidate action (retain, grow by cross-sell, win back, serve at lower cost, do nothing) is
scored per customer by

    expected value = P(effect) x value at stake - cost        (USD)

from a readable action table (:func:`default_action_table`) whose rows are plain expressions
over the customer's scores, so an analyst can read, change or replace every assumption
(:func:`score_actions`). Each customer gets the action with the highest expected value, and the
reason in words (:func:`next_best_action`). :func:`value_at_risk` gives the two stakes the
shipped table uses.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crm_models._validation import check_number, fail_rows, parse_amounts, require_columns

__all__ = [
    "ACTION_TABLE_COLUMNS",
    "default_action_table",
    "score_actions",
    "next_best_action",
    "value_at_risk",
    "warn_surely_alive_one_time_buyers",
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
    low_value_quantile: float | None = None,
) -> pd.DataFrame:
    """The shipped action table: five candidate actions and their stated assumptions.

    Every cell of ``eligible``, ``p_effect``, ``value_at_stake`` and ``cost`` is a number or a
    :meth:`pandas.DataFrame.eval` expression over the customer's scores (columns ``clv`` in USD
    and ``p_alive`` in 0-1 here; any column of the scores may be used, plus the derived
    ``value_if_active`` and ``value_at_risk`` of :func:`value_at_risk`). The defaults are
    illustrative assumptions, not estimates: replace ``p_effect`` with what your own campaign
    tests measured (see :func:`crm_models.measure.evaluate_campaign`). The rules trust P(alive):
    take it from a model that does not count one-time buyers as surely alive (MBG/NBD or
    Pareto/NBD, as :class:`crm_models.pipeline.CustomerScorer` chooses by default); with BG/NBD
    every one-time buyer would be "surely active" and offered a cross-sell (a warning says so).

    ===================  =======================================================================
    action               idea
    ===================  =======================================================================
    do_nothing           the baseline: expected value 0
    retain               a likely-active but wavering customer (0.3 <= P(alive) < 0.8); the
                         stake is the value at risk, CLV x (1 - P(alive))
    cross_sell           a surely-active customer (P(alive) >= 0.8); the stake is a share of CLV
    win_back             a probably lapsed customer (P(alive) < 0.3); the stake is the value
                         if re-activated, CLV / P(alive) (P(alive) floored at 0.01)
    serve_at_lower_cost  a customer worth less than their cost to serve (``clv < cost_to_serve``,
                         USD), or, with ``low_value_quantile``, a customer in the bottom share of
                         the base by CLV (``clv_quantile < low_value_quantile``); moving them to a
                         cheaper channel saves a share of the cost to serve
    ===================  =======================================================================

    Thresholds relative to the customer base: the scores gain a derived column
    ``clv_quantile``, the customer's position in the base by CLV (the share of the customers
    passed whose CLV is lower, plus half the share with the same CLV; 0-1), so a rule such as
    ``clv_quantile < 0.2`` picks the bottom fifth whatever the CLV's horizon, margin and
    currency. ``low_value_quantile`` uses it for ``serve_at_lower_cost``; the default (None)
    keeps the rule in dollars, ``clv < cost_to_serve``, which only makes sense for one CLV
    definition (``cost_to_serve`` over the CLV's horizon). The base is the scores passed to
    :func:`score_actions`: a table of one customer puts that customer at 0.5.

    Parameters
    ----------
    cost_to_serve : float
        Cost of serving one customer over the CLV horizon through the current channels (USD).
    retain_cost, cross_sell_cost, win_back_cost : float
        Cost of one contact of each action (USD).
    retain_effect, cross_sell_effect, win_back_effect : float
        Probability the action has its effect (0-1).
    cross_sell_share : float
        Share of CLV a successful cross-sell adds (0-1).
    serve_saving : float
        Share of ``cost_to_serve`` saved by moving a customer to a cheaper channel (0-1); the
        probability the customer accepts the move is taken as 0.5.
    low_value_quantile : float, optional
        Make ``serve_at_lower_cost`` eligible for the customers in this bottom share of the base
        by CLV (0-1, e.g. 0.2), instead of those whose CLV is below ``cost_to_serve``.

    Returns
    -------
    pandas.DataFrame
        Indexed by action name, with :data:`ACTION_TABLE_COLUMNS`.

    Examples
    --------
    >>> table = default_action_table(cost_to_serve=10.0)
    >>> table.loc["retain", ["eligible", "value_at_stake"]].tolist()
    ['p_alive >= 0.3 and p_alive < 0.8', 'value_at_risk']
    >>> default_action_table(low_value_quantile=0.2).loc["serve_at_lower_cost", "eligible"]
    'clv_quantile < 0.2'
    """
    for name, value, unit in (("cost_to_serve", cost_to_serve, "USD"), ("retain_cost", retain_cost, "USD"),
                              ("cross_sell_cost", cross_sell_cost, "USD"), ("win_back_cost", win_back_cost, "USD")):
        check_number(value, name, low=0, unit=unit)
    for name, value, unit in (("retain_effect", retain_effect, "a probability"),
                              ("cross_sell_effect", cross_sell_effect, "a probability"),
                              ("win_back_effect", win_back_effect, "a probability"),
                              ("cross_sell_share", cross_sell_share, "a share of CLV"),
                              ("serve_saving", serve_saving, "a share of the cost to serve")):
        check_number(value, name, low=0, high=1, unit=unit)
    if low_value_quantile is None:
        low_value_rule = f"clv < {cost_to_serve:g}"
    elif (isinstance(low_value_quantile, bool) or not isinstance(low_value_quantile, (int, float, np.integer, np.floating))
          or not 0 < low_value_quantile < 1):
        raise ValueError(f"low_value_quantile must be a share strictly between 0 and 1 (e.g. 0.2), "
                         f"got {low_value_quantile!r}")
    else:
        low_value_rule = f"clv_quantile < {float(low_value_quantile):g}"
    rows = [
        ("do_nothing", "no contact: the baseline every action must beat", "True", 0.0, "0", 0.0),
        ("retain", "retention offer to a wavering customer: saves the value at risk",
         "p_alive >= 0.3 and p_alive < 0.8", retain_effect, "value_at_risk", retain_cost),
        ("cross_sell", "cross-sell to an active customer: adds a share of their value",
         "p_alive >= 0.8", cross_sell_effect, f"{cross_sell_share:g} * clv", cross_sell_cost),
        ("win_back", "win-back offer to a probably lapsed customer: restores their value if active",
         "p_alive < 0.3", win_back_effect, "value_if_active", win_back_cost),
        ("serve_at_lower_cost", "move to self-service: saves part of the cost to serve",
         low_value_rule, 0.5, f"{serve_saving * cost_to_serve:g}", 0.0),
    ]
    table = pd.DataFrame(rows, columns=["action", *ACTION_TABLE_COLUMNS]).set_index("action")
    table["p_effect"] = table["p_effect"].astype(object)
    table["cost"] = table["cost"].astype(object)
    return table


def _check_scores(scores) -> None:
    """``scores`` is a DataFrame with one row per customer id."""
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
    fail_rows(scores, scores.index.duplicated(keep=False), "index", "must hold each customer id once",
              what="scores")
    warn_surely_alive_one_time_buyers(scores)


def warn_surely_alive_one_time_buyers(scores: pd.DataFrame, *, p_alive_col: str = "p_alive") -> int:
    """Warn when one-time buyers observed for a while have P(alive) = 1: BG/NBD's assumption, not evidence.

    BG/NBD lets a customer drop out only right after a *repeat* purchase, so it reports every
    customer without one as surely alive, however long ago they bought. Decisions built on that
    (cross-selling to "surely active" customers, never trying to win them back) treat long-lapsed
    one-time buyers as the best customers. MBG/NBD and Pareto/NBD do not make that assumption;
    :class:`crm_models.pipeline.CustomerScorer` chooses between the models by a backtest.

    The check needs the scores' ``frequency`` (repeat purchases) and ``T`` (time since the first
    purchase) columns, as the pipeline writes them; without them it does nothing.

    Parameters
    ----------
    scores : pandas.DataFrame
        Per-customer scores.
    p_alive_col : str
        Column of P(alive) (0-1).

    Returns
    -------
    int
        The number of one-time buyers (frequency 0, T > 0) with P(alive) = 1 (a ``UserWarning``
        says so when it is not 0).

    Examples
    --------
    >>> scores = pd.DataFrame({"frequency": [0, 0, 2], "T": [30.0, 0.0, 30.0], "p_alive": [1.0, 1.0, 0.7]})
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     n = warn_surely_alive_one_time_buyers(scores)
    >>> n, "BG/NBD" in str(caught[0].message)
    (1, True)
    """
    if not {"frequency", "T", p_alive_col} <= set(scores.columns):
        return 0
    f = pd.to_numeric(scores["frequency"], errors="coerce")
    t = pd.to_numeric(scores["T"], errors="coerce")
    pa = pd.to_numeric(scores[p_alive_col], errors="coerce")
    n = int(((f == 0) & (t > 0) & (pa >= 1 - 1e-12)).sum())
    if n:
        warnings.warn(
            f"{n:,} one-time buyers observed for some time have P(alive) = 1: that is BG/NBD's assumption (a "
            "customer can drop out only right after a repeat purchase), not evidence that they are active. Score "
            "with MBG/NBD or Pareto/NBD (CustomerScorer(transaction_model='auto') picks one by backtest) before "
            "deciding whom to cross-sell or win back.",
            UserWarning,
            stacklevel=3,
        )
    return n


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
    for, NaN for the others (an ineligible action has no expected value).

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per customer, indexed by customer id, with the columns the table's expressions
        use (the default table: ``clv`` in USD and ``p_alive`` in 0-1).
    actions : pandas.DataFrame, optional
        An action table (see :func:`default_action_table`); default: the shipped one.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``, one column per action (expected value in USD), in the table's order.

    Raises
    ------
    ValueError
        If the action table is malformed or an expression cannot be evaluated.
    crm_models.errors.DataError
        If ``scores`` repeats a customer id or a cell evaluates out of range for a customer.

    Examples
    --------
    >>> scores = pd.DataFrame({"clv": [200.0, 100.0], "p_alive": [0.95, 0.5]}, index=["loyal", "wavering"])
    >>> score_actions(scores).round(2)
              do_nothing  retain  cross_sell  win_back  serve_at_lower_cost
    loyal            0.0     NaN         4.0       NaN                  NaN
    wavering         0.0     5.5         NaN       NaN                  NaN
    """
    ev, _ = _score(scores, default_action_table() if actions is None else actions)
    return ev


def _score(scores: pd.DataFrame, actions: pd.DataFrame):
    _check_table(actions)
    _check_scores(scores)
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
    scores : pandas.DataFrame
        As in :func:`score_actions`.
    actions : pandas.DataFrame, optional
        As in :func:`score_actions`.
    reasons : bool
        Write the ``reason`` column (formatting it is most of the time on millions of customers;
        ``False`` leaves it out).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``: ``action``, ``expected_value`` (USD), ``p_effect`` (0-1),
        ``value_at_stake`` and ``cost`` (USD) of the chosen action, ``runner_up`` and its
        ``runner_up_value`` (USD), and (with ``reasons``) ``reason`` in words. ``.attrs["actions"]``
        holds the action table used.

    Raises
    ------
    crm_models.errors.DataError
        As :func:`score_actions`, and if no action is eligible for some customer.

    Examples
    --------
    >>> scores = pd.DataFrame({"clv": [200.0, 100.0], "p_alive": [0.95, 0.5]}, index=["loyal", "wavering"])
    >>> nba = next_best_action(scores)
    >>> nba["action"].tolist()
    ['cross_sell', 'retain']
    >>> nba.loc["wavering", "reason"]
    'retain: EV $5.50 = 0.15 x $50.00 at stake - $2.00 cost; next best do_nothing (EV $0.00)'
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


def value_at_risk(scores: pd.DataFrame, *, clv_col: str = "clv", p_alive_col: str = "p_alive",
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

    Parameters
    ----------
    scores : pandas.DataFrame
        Per-customer scores indexed by customer id.
    clv_col, p_alive_col : str
        Columns of ``scores`` holding CLV (USD) and P(alive) (0-1).
    min_alive : float
        Floor of P(alive) in ``value_if_active`` (0-1).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``, columns ``value_if_active`` and ``value_at_risk`` (USD).

    Raises
    ------
    crm_models.errors.DataError
        If a column is missing, not numeric, or P(alive) lies outside [0, 1].

    Examples
    --------
    >>> scores = pd.DataFrame({"clv": [100.0, 40.0], "p_alive": [0.5, 0.1]}, index=["a", "b"])
    >>> value_at_risk(scores).round(2)
       value_if_active  value_at_risk
    a            200.0           50.0
    b            400.0           36.0
    """
    check_number(min_alive, "min_alive", low=0, high=1, low_open=True, unit="a probability")
    require_columns(scores, [clv_col, p_alive_col], what="scores")
    clv = parse_amounts(scores, clv_col, what="scores", allow_negative=True)
    alive = parse_amounts(scores, p_alive_col, what="scores")
    fail_rows(scores, (alive > 1).to_numpy(), p_alive_col, "must be a probability in [0, 1]", what="scores")
    return pd.DataFrame({"value_if_active": clv / alive.clip(lower=min_alive), "value_at_risk": clv * (1 - alive)},
                        index=scores.index)


def _with_derived(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` plus the derived columns it lacks: ``value_if_active`` / ``value_at_risk`` (with clv and
    p_alive) and ``clv_quantile`` (with clv), the mid-distribution position in the base by CLV (0-1)."""
    if {"clv", "p_alive"} <= set(scores.columns):
        missing = [c for c in ("value_if_active", "value_at_risk") if c not in scores.columns]
        if missing:
            scores = scores.assign(**{c: value_at_risk(scores)[c] for c in missing})
    if "clv" in scores.columns and "clv_quantile" not in scores.columns and len(scores):
        clv = parse_amounts(scores, "clv", what="scores", allow_negative=True)
        scores = scores.assign(clv_quantile=(clv.rank(method="average") - 0.5) / len(clv))
    return scores

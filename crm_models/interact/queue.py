"""Service-queue priority: a stated rule for the order in which waiting callers are served.

:class:`QueuePriority` states the rule (first come first served, by value, by value at risk, or
by strict tiers), :func:`prioritise_queue` applies it to the callers waiting now, and
:func:`simulate_queue` measures, with a seeded discrete-event simulation, what it does to each
tier's waiting time compared with first come, first served.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models._validation import check_number, fail_rows, parse_amounts, parse_datetimes, require_columns
from crm_models.base import as_generator
from crm_models.errors import DataError

__all__ = ["QueuePriority", "prioritise_queue", "simulate_queue"]


@dataclass(frozen=True)
class QueuePriority:
    """A stated rule for the order in which waiting callers are served.

    Each caller gets a priority score; the highest score is served first and ties go to the
    caller who arrived first. Rules:

    - ``"fifo"``: first come, first served (score = 0 for everyone).
    - ``"value"``: score = value (e.g. CLV in USD).
    - ``"value_at_risk"``: score = value x (1 + risk_weight x (1 - P(alive))): valuable customers
      first, and among equally valuable ones those the company is more likely to lose.
    - ``"tier"``: strict classes by ``tier_order`` (first tier first), then value at risk within a tier.

    Parameters
    ----------
    rule : str
        One of the rules above.
    value_col : str
        Column of the scores table holding the value (USD).
    p_alive_col : str
        Column holding P(alive) (0-1).
    risk_weight : float
        How much churn risk (1 - P(alive)) raises the score in ``value_at_risk`` and ``tier`` (>= 0).
    tier_col : str
        Column holding the value tier.
    tier_order : tuple
        Tier names from most to least important, for ``"tier"``.

    Raises
    ------
    ValueError
        If ``rule`` is unknown, ``risk_weight`` negative, or ``"tier"`` comes without ``tier_order``.

    Examples
    --------
    >>> rule = QueuePriority("value_at_risk")
    >>> rule.describe()
    'highest clv x (1 + 1 x (1 - p_alive)) first; ties go to the caller who arrived first'
    >>> scores = pd.DataFrame({"clv": [100.0, 100.0], "p_alive": [0.9, 0.3]}, index=["a", "b"])
    >>> rule.score(scores).round(2).tolist()
    [110.0, 170.0]
    """

    rule: str = "value_at_risk"
    value_col: str = "clv"
    p_alive_col: str = "p_alive"
    risk_weight: float = 1.0
    tier_col: str = "value_tier"
    tier_order: tuple = ()

    RULES = ("fifo", "value", "value_at_risk", "tier")

    def __post_init__(self):
        if self.rule not in self.RULES:
            raise ValueError(f"QueuePriority: rule must be one of {self.RULES}, got {self.rule!r}")
        check_number(self.risk_weight, "QueuePriority: risk_weight", low=0)
        if self.rule == "tier" and not self.tier_order:
            raise ValueError("QueuePriority: rule 'tier' needs tier_order, the tiers from most to least important")

    def describe(self) -> str:
        """The rule in words.

        Returns
        -------
        str

        Examples
        --------
        >>> QueuePriority("fifo").describe()
        'first come, first served'
        """
        ties = "; ties go to the caller who arrived first"
        var = f"{self.value_col} x (1 + {self.risk_weight:g} x (1 - {self.p_alive_col}))"
        return {
            "fifo": "first come, first served",
            "value": f"highest {self.value_col} first" + ties,
            "value_at_risk": f"highest {var} first" + ties,
            "tier": f"tiers in the order {list(self.tier_order)}, within a tier highest {var} first" + ties,
        }[self.rule]

    def needed_columns(self) -> list[str]:
        """The columns of the scores table this rule reads.

        Returns
        -------
        list of str

        Examples
        --------
        >>> QueuePriority("value").needed_columns()
        ['clv']
        """
        return {"fifo": [], "value": [self.value_col], "value_at_risk": [self.value_col, self.p_alive_col],
                "tier": [self.tier_col, self.value_col, self.p_alive_col]}[self.rule]

    def score(self, scores: pd.DataFrame) -> pd.Series:
        """Priority score of every customer (higher = served sooner).

        Parameters
        ----------
        scores : pandas.DataFrame
            One row per customer with :meth:`needed_columns`.

        Returns
        -------
        pandas.Series
            ``priority``, indexed like ``scores`` (in USD for the value rules; a rank-dominated
            score for ``"tier"``).

        Raises
        ------
        crm_models.errors.DataError
            If a needed column is missing, not numeric, P(alive) lies outside [0, 1] or a tier is
            not in ``tier_order``.

        Examples
        --------
        >>> scores = pd.DataFrame({"clv": [50.0, 10.0]}, index=["a", "b"])
        >>> QueuePriority("value").score(scores).tolist()
        [50.0, 10.0]
        """
        require_columns(scores, self.needed_columns(), what="scores")
        if self.rule == "fifo":
            return pd.Series(0.0, index=scores.index, name="priority")
        value = parse_amounts(scores, self.value_col, what="scores", allow_negative=True)
        if self.rule == "value":
            return value.rename("priority")
        alive = parse_amounts(scores, self.p_alive_col, what="scores")
        fail_rows(scores, (alive > 1).to_numpy(), self.p_alive_col, "must be a probability in [0, 1]", what="scores")
        var = value * (1 + self.risk_weight * (1 - alive))
        if self.rule == "value_at_risk":
            return var.rename("priority")
        tiers = scores[self.tier_col]
        fail_rows(scores, ~tiers.isin(list(self.tier_order)).to_numpy(), self.tier_col,
                  f"must be one of tier_order {list(self.tier_order)}", what="scores")
        rank = tiers.map({t: len(self.tier_order) - i for i, t in enumerate(self.tier_order)}).astype(float)
        # strict classes: the tier rank dominates any value-at-risk difference
        span = float(var.max() - var.min()) + 1.0
        return (rank * span + (var - var.min())).rename("priority")

    def __repr__(self) -> str:
        return f"QueuePriority({self.rule!r}: {self.describe()})"


def _as_rule(rule) -> QueuePriority:
    if isinstance(rule, QueuePriority):
        return rule
    if isinstance(rule, str):
        return QueuePriority(rule)
    raise TypeError(f"rule must be a QueuePriority or a rule name {QueuePriority.RULES}, got {type(rule).__name__}")


def _check_scores(scores) -> None:
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
    fail_rows(scores, scores.index.duplicated(keep=False), "index", "must hold each customer id once",
              what="scores")


def _lookup_scores(ids: pd.Series, scores: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    _check_scores(scores)
    require_columns(scores, columns, what="scores")
    known = ids.isin(scores.index)
    fail_rows(ids.to_frame(), ~known.to_numpy(), ids.name, "must be a customer id in the scores index", what=what)
    return scores.loc[ids.to_numpy(), columns].reset_index(drop=True)


def prioritise_queue(
    waiting: pd.DataFrame,
    scores: pd.DataFrame,
    rule: QueuePriority | str = "value_at_risk",
    *,
    customer_id_col: str = "customer_id",
    arrival_col: str = "arrival",
) -> pd.DataFrame:
    """Order the callers waiting right now by a stated :class:`QueuePriority` rule.

    Parameters
    ----------
    waiting : pandas.DataFrame
        One row per waiting caller: ``customer_id_col`` and ``arrival_col`` (a timestamp or a
        number, e.g. minutes; earlier = arrived first).
    scores : pandas.DataFrame
        Per-customer scores indexed by customer id with the columns the rule needs.
    rule : QueuePriority or str
        A :class:`QueuePriority` or a rule name.
    customer_id_col, arrival_col : str
        Column names in ``waiting``.

    Returns
    -------
    pandas.DataFrame
        The waiting callers in service order, with ``position`` (1 = next), ``priority`` and the
        scores the rule used; ``.attrs["rule"]`` states the rule.

    Raises
    ------
    crm_models.errors.DataError
        If a caller is not in ``scores``, an arrival time is missing or ``scores`` repeats a
        customer id.

    Examples
    --------
    >>> scores = pd.DataFrame({"clv": [100.0, 100.0, 500.0], "p_alive": [0.9, 0.3, 0.95]}, index=["a", "b", "c"])
    >>> waiting = pd.DataFrame({"customer_id": ["a", "b", "c"], "arrival": [1.0, 2.0, 3.0]})
    >>> prioritise_queue(waiting, scores)[["position", "customer_id", "priority"]]
       position customer_id  priority
    0         1           c     525.0
    1         2           b     170.0
    2         3           a     110.0
    """
    rule = _as_rule(rule)
    require_columns(waiting, [customer_id_col, arrival_col], what="waiting")
    fail_rows(waiting, waiting[customer_id_col].isna().to_numpy(), customer_id_col, "must name a customer",
              what="waiting")
    arrival = waiting[arrival_col]
    if not (pd.api.types.is_numeric_dtype(arrival) and not pd.api.types.is_bool_dtype(arrival)):
        arrival = parse_datetimes(waiting, arrival_col, what="waiting")
    fail_rows(waiting, arrival.isna().to_numpy(), arrival_col, "must hold an arrival time", what="waiting")
    cols = rule.needed_columns()
    looked = _lookup_scores(waiting[customer_id_col].reset_index(drop=True), scores, cols, "waiting")
    out = waiting.reset_index(drop=True).copy()
    for c in cols:
        out[c] = looked[c].to_numpy()
    out["priority"] = rule.score(looked).to_numpy()
    out["_arr"] = arrival.to_numpy()
    out = out.sort_values(["priority", "_arr"], ascending=[False, True], kind="stable").drop(columns="_arr")
    out.insert(0, "position", np.arange(1, len(out) + 1))
    out = out.reset_index(drop=True)
    out.attrs["rule"] = rule.describe()
    return out


def _serve(arrival: np.ndarray, service: np.ndarray, key: np.ndarray, n_agents: int) -> np.ndarray:
    """Waiting times of a non-preemptive c-server queue that serves the smallest ``key`` first."""
    n = arrival.size
    wait = np.empty(n)
    free = [0.0] * n_agents  # times at which each agent becomes free
    heapq.heapify(free)
    queue: list[tuple[float, int]] = []
    i = 0
    arr, srv, k = arrival.tolist(), service.tolist(), key.tolist()
    for _ in range(n):
        f = heapq.heappop(free)
        while i < n and arr[i] <= f:
            heapq.heappush(queue, (k[i], i))
            i += 1
        if not queue:  # the agent idles until the next caller (and any arriving at that instant)
            f = arr[i]
            while i < n and arr[i] <= f:
                heapq.heappush(queue, (k[i], i))
                i += 1
        _, j = heapq.heappop(queue)
        start = max(f, arr[j])
        wait[j] = start - arr[j]
        heapq.heappush(free, start + srv[j])
    return wait


def simulate_queue(
    scores: pd.DataFrame,
    rule: QueuePriority | str = "value_at_risk",
    *,
    tier_col: str = "value_tier",
    calls_per_hour: float = 50.0,
    mean_service_minutes: float = 6.0,
    n_agents: int = 6,
    n_calls: int = 20_000,
    call_weights: str | None = None,
    random_state=0,
) -> pd.DataFrame:
    """Each tier's waiting time under first come, first served and under a priority rule.

    A seeded discrete-event simulation of a call centre (M/M/c, non-preemptive): callers arrive as
    a Poisson process, each is a customer drawn from ``scores`` (uniformly, or in proportion to
    ``call_weights``), service times are exponential, and ``n_agents`` agents serve. The same
    callers, arrival times and service times are replayed under both disciplines (common random
    numbers), so the difference is the rule's alone. Priority does not add capacity: it moves
    waiting from some callers to others, and the mean over all callers stays about the same.

    Parameters
    ----------
    scores : pandas.DataFrame
        Per-customer scores indexed by customer id with ``tier_col`` and the rule's columns.
    rule : QueuePriority or str
        The priority rule compared with FIFO.
    tier_col : str
        Column of ``scores`` holding the tier results are broken down by.
    calls_per_hour : float
        Arrival rate (calls per hour, > 0).
    mean_service_minutes : float
        Mean handling time (minutes, > 0).
    n_agents : int
        Number of agents; the load ``calls_per_hour * mean_service_minutes / 60 / n_agents`` must
        be below 1.
    n_calls : int
        Number of simulated calls.
    call_weights : str, optional
        Column of ``scores`` with each customer's relative call propensity (>= 0).
    random_state : None, int or numpy.random.Generator
        Seed of the simulation (see :func:`crm_models.base.as_generator`).

    Returns
    -------
    pandas.DataFrame
        Indexed by tier (in ``tier_order`` for the ``tier`` rule, else in the order of a
        categorical ``tier_col``, else sorted; and a final ``all`` row): ``calls``,
        ``fifo_mean_wait`` and ``priority_mean_wait`` (minutes), their 90th percentiles
        ``fifo_p90_wait`` / ``priority_p90_wait`` (minutes), and ``change_mean_wait`` (priority -
        FIFO, minutes). ``.attrs`` records the rule, the load and the settings.

    Raises
    ------
    ValueError
        If the load is 1 or more, or an argument is out of range.
    crm_models.errors.DataError
        If ``scores`` is empty or breaks a rule of the priority.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> scores = pd.DataFrame({"clv": rng.lognormal(3.5, 1.0, 300), "p_alive": rng.uniform(0, 1, 300)})
    >>> scores["value_tier"] = pd.qcut(scores["clv"], [0, 0.8, 1], labels=["Standard", "Gold"])
    >>> res = simulate_queue(scores, "value", n_calls=3000, calls_per_hour=55)
    >>> list(res.index)
    ['Standard', 'Gold', 'all']
    >>> bool(res.loc["Gold", "priority_mean_wait"] < res.loc["Gold", "fifo_mean_wait"])
    True
    """
    rule = _as_rule(rule)
    _check_scores(scores)
    if len(scores) == 0:
        raise DataError(None, "is empty: there are no customers to call", what="scores")
    require_columns(scores, [tier_col, *rule.needed_columns()] + ([call_weights] if call_weights else []),
                    what="scores")
    check_number(calls_per_hour, "simulate_queue: calls_per_hour", low=0, low_open=True)
    check_number(mean_service_minutes, "simulate_queue: mean_service_minutes", low=0, low_open=True, unit="minutes")
    check_number(n_agents, "simulate_queue: n_agents", low=1, integer=True)
    check_number(n_calls, "simulate_queue: n_calls", low=1, integer=True)
    load = calls_per_hour * mean_service_minutes / 60.0 / n_agents
    if load >= 1:
        raise ValueError(f"simulate_queue: load = calls_per_hour x mean_service_minutes / 60 / n_agents = {load:.3f} "
                         "must be below 1, or the queue grows without end; add agents or lower the call rate.")
    fail_rows(scores, scores[tier_col].isna().to_numpy(), tier_col, "must name a tier for every customer", what="scores")
    prio = rule.score(scores).to_numpy()
    weights = None
    if call_weights:
        w = parse_amounts(scores, call_weights, what="scores").to_numpy()
        if w.sum() <= 0:
            raise DataError(call_weights, "must have a positive sum (some customer must call)", what="scores")
        weights = w / w.sum()
    rng = as_generator(random_state)
    who = rng.choice(len(scores), size=int(n_calls), p=weights)
    arrival = np.cumsum(rng.exponential(60.0 / calls_per_hour, int(n_calls)))
    service = rng.exponential(mean_service_minutes, int(n_calls))
    order = np.arange(int(n_calls), dtype=float)
    w_fifo = _serve(arrival, service, order, int(n_agents))
    # smaller key first: minus the priority; ties broken by arrival order (the heap's tuple)
    w_prio = _serve(arrival, service, -prio[who], int(n_agents))
    tier = scores[tier_col].to_numpy()[who]
    df = pd.DataFrame({"tier": tier, "fifo": w_fifo, "prio": w_prio})
    if rule.rule == "tier":
        levels = list(rule.tier_order)
    elif isinstance(scores[tier_col].dtype, pd.CategoricalDtype):
        levels = list(scores[tier_col].cat.categories)
    else:
        levels = sorted(pd.unique(scores[tier_col].astype(object)), key=str)
    rows = {}
    for t in [*levels, "all"]:
        g = df if t == "all" else df[df["tier"] == t]
        if not len(g):
            continue
        rows[t] = {
            "calls": len(g),
            "fifo_mean_wait": g["fifo"].mean(),
            "priority_mean_wait": g["prio"].mean(),
            "fifo_p90_wait": g["fifo"].quantile(0.9),
            "priority_p90_wait": g["prio"].quantile(0.9),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = tier_col
    out["change_mean_wait"] = out["priority_mean_wait"] - out["fifo_mean_wait"]
    out.attrs.update(rule=rule.describe(), load=load, calls_per_hour=calls_per_hour,
                     mean_service_minutes=mean_service_minutes, n_agents=int(n_agents), n_calls=int(n_calls),
                     random_state=random_state if isinstance(random_state, (int, type(None))) else repr(random_state))
    return out

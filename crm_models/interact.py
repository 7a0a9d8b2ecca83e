"""Interact: the single customer view, the agent's context card and service-queue priority.

"Each successive interaction with a customer should take place in the context of all previous
interactions" (Peppers & Rogers). Three tools make that concrete:

- :func:`customer_timeline` puts every transaction and touchpoint of one resolved customer, from
  all source systems, on one time-ordered table; :func:`plot_timeline` draws it.
- :func:`customer_context` is the card a call-centre agent sees when the customer calls: value
  tier, segment, P(alive), expected next purchase, last contact and its reason, open complaints,
  satisfaction trend. It renders as HTML in Jupyter.
- :class:`QueuePriority` states a rule for ordering waiting callers by value and risk,
  :func:`prioritise_queue` applies it, and :func:`simulate_queue` measures, with a seeded
  discrete-event simulation, what it does to each tier's waiting time compared with first come,
  first served.

Every function takes plain DataFrames: a crosswalk ``record_id -> customer_id`` (from
:func:`crm_models.identify.resolve_customers` or, on the simulated company, the truth), the
transaction and interaction logs keyed by ``record_id``, and a per-customer ``scores`` table
indexed by customer id (CLV, P(alive), tiers, segments: from :mod:`crm_models.clv` and
:mod:`crm_models.segment`, or from anywhere else).
"""

from __future__ import annotations

import heapq
import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_amounts, parse_datetimes, parse_timestamp, require_columns

__all__ = [
    "TIMELINE_COLUMNS",
    "attach_customer",
    "customer_timeline",
    "plot_timeline",
    "CustomerContext",
    "customer_context",
    "QueuePriority",
    "prioritise_queue",
    "simulate_queue",
]

#: Columns of :func:`customer_timeline`'s output, in order.
TIMELINE_COLUMNS = [
    "timestamp", "customer_id", "record_id", "source", "kind", "event", "event_id", "channel",
    "detail", "amount", "satisfaction", "nps",
]


# ----------------------------------------------------------------------------------------------
# crosswalk


def _crosswalk_series(crosswalk, record_col: str, customer_col: str) -> pd.Series:
    """The crosswalk as a Series ``record_id -> customer_id``, checked: one row per record, no gaps."""
    if hasattr(crosswalk, "crosswalk") and not isinstance(crosswalk, (pd.DataFrame, pd.Series)):
        crosswalk = crosswalk.crosswalk  # a crm_models.identify Resolution
    if isinstance(crosswalk, pd.Series):
        cw = crosswalk.rename_axis(record_col).rename(customer_col).reset_index()
    elif (isinstance(crosswalk, pd.DataFrame) and record_col not in crosswalk.columns
          and crosswalk.index.name == record_col):
        require_columns(crosswalk, [customer_col], what="crosswalk")
        cw = crosswalk[[customer_col]].reset_index()
    else:
        require_columns(crosswalk, [record_col, customer_col], what="crosswalk")
        cw = crosswalk[[record_col, customer_col]]
    fail_rows(cw, cw[record_col].isna().to_numpy(), record_col, "must name a record on every row", what="crosswalk")
    fail_rows(cw, cw[customer_col].isna().to_numpy(), customer_col, "must name a customer on every row",
              what="crosswalk")
    fail_rows(cw, cw[record_col].duplicated(keep=False).to_numpy(), record_col,
              "must list each record once (a record belongs to exactly one customer)", what="crosswalk")
    return pd.Series(cw[customer_col].to_numpy(), index=pd.Index(cw[record_col].to_numpy(), name=record_col),
                     name=customer_col)


def attach_customer(
    log: pd.DataFrame,
    crosswalk: Any,
    *,
    record_col: str = "record_id",
    customer_col: str = "customer_id",
    what: str = "log",
) -> pd.DataFrame:
    """``log`` with a ``customer_col`` column looked up from ``crosswalk`` by ``record_col``.

    Every row must find its record in the crosswalk (a record the crosswalk does not know is an
    error, never a silently dropped row).

    Parameters
    ----------
    log
        A transaction or interaction log with a ``record_col`` column.
    crosswalk
        ``record_id -> customer_id``, one row per record: a DataFrame with ``record_col`` and
        ``customer_col`` columns (or indexed by ``record_col``), a Series indexed by record id,
        or the :class:`~crm_models.identify.Resolution` of ``resolve_customers``.
    """
    cw = _crosswalk_series(crosswalk, record_col, customer_col)
    require_columns(log, [record_col], what=what)
    cust = log[record_col].map(cw)
    fail_rows(log, cust.isna().to_numpy(), record_col, "must be a record listed in the crosswalk", what=what,
              hint="Resolve these records first (crm_models.identify.resolve_customers) or add them to the crosswalk.")
    out = log.copy()
    out[customer_col] = cust.to_numpy()
    return out


# ----------------------------------------------------------------------------------------------
# timeline


def _records_source(records: pd.DataFrame | None, record_col: str, source_col: str) -> pd.Series | None:
    if records is None:
        return None
    require_columns(records, [record_col, source_col], what="records")
    fail_rows(records, records[record_col].duplicated(keep=False).to_numpy(), record_col,
              "must be unique (one row per record)", what="records")
    return pd.Series(records[source_col].to_numpy(), index=records[record_col].to_numpy())


def customer_timeline(
    customer_id: Any,
    crosswalk: Any,
    transactions: pd.DataFrame,
    interactions: pd.DataFrame | None = None,
    *,
    records: pd.DataFrame | None = None,
    record_col: str = "record_id",
    customer_col: str = "customer_id",
    time_col: str = "timestamp",
    amount_col: str = "amount",
    transaction_id_col: str = "transaction_id",
    interaction_id_col: str = "interaction_id",
    source_col: str = "source",
) -> pd.DataFrame:
    """Every transaction and touchpoint of one customer, from all source systems, in time order.

    The customer's records are looked up in the crosswalk; every transaction and interaction of
    any of those records appears exactly once.

    Parameters
    ----------
    customer_id
        The resolved customer's id, as in ``crosswalk[customer_col]``.
    crosswalk
        ``record_id -> customer_id``, as in :func:`attach_customer` (a DataFrame, a Series or a
        ``resolve_customers`` result).
    transactions
        Purchases with ``record_col``, ``time_col``, ``amount_col`` and optionally
        ``transaction_id_col``, ``channel`` and ``category``.
    interactions
        Touchpoints with ``record_col``, ``time_col``, ``type`` and optionally
        ``interaction_id_col``, ``reason``, ``channel``, ``satisfaction``, ``nps``.
    records
        The source systems' customer tables (``record_col``, ``source_col``), to name the system
        each event came from; without it ``source`` is missing (NA).

    Returns
    -------
    pandas.DataFrame
        One row per event with columns :data:`TIMELINE_COLUMNS`: ``kind`` is ``transaction`` or
        ``interaction``; ``event`` is ``purchase`` or the touchpoint type; ``detail`` the product
        category or the call reason; ``amount`` in the log's currency (NA for touchpoints).
        Sorted by timestamp (ties: transactions first, then by event id), index 0..n-1.
    """
    cw = _crosswalk_series(crosswalk, record_col, customer_col)
    mine = cw.index[(cw == customer_id).to_numpy()]
    if len(mine) == 0:
        shown = ", ".join(map(repr, pd.unique(cw.to_numpy())[:5]))
        raise ValueError(f"customer_timeline: customer {customer_id!r} is not in the crosswalk's '{customer_col}' "
                         f"column (for example {shown}).")
    source_of = _records_source(records, record_col, source_col)
    parts = []

    require_columns(transactions, [record_col, time_col, amount_col], what="transactions")
    tx = transactions[transactions[record_col].isin(mine)]
    if len(tx):
        ts = parse_datetimes(tx, time_col, what="transactions")
        amount = parse_amounts(tx, amount_col, what="transactions", allow_negative=True)
        parts.append(pd.DataFrame({
            "timestamp": ts.to_numpy(),
            "record_id": tx[record_col].to_numpy(),
            "kind": "transaction",
            "event": "purchase",
            "event_id": tx[transaction_id_col].to_numpy() if transaction_id_col in tx else pd.NA,
            "channel": tx["channel"].to_numpy() if "channel" in tx else pd.NA,
            "detail": tx["category"].to_numpy() if "category" in tx else pd.NA,
            "amount": amount.to_numpy(),
            "satisfaction": np.nan,
            "nps": np.nan,
        }))
    if interactions is not None:
        require_columns(interactions, [record_col, time_col, "type"], what="interactions")
        it = interactions[interactions[record_col].isin(mine)]
        if len(it):
            ts = parse_datetimes(it, time_col, what="interactions")
            parts.append(pd.DataFrame({
                "timestamp": ts.to_numpy(),
                "record_id": it[record_col].to_numpy(),
                "kind": "interaction",
                "event": it["type"].astype(str).to_numpy(),
                "event_id": it[interaction_id_col].to_numpy() if interaction_id_col in it else pd.NA,
                "channel": it["channel"].to_numpy() if "channel" in it else pd.NA,
                "detail": it["reason"].to_numpy() if "reason" in it else pd.NA,
                "amount": np.nan,
                "satisfaction": pd.to_numeric(it["satisfaction"], errors="coerce").astype("float64").to_numpy()
                if "satisfaction" in it else np.nan,
                "nps": pd.to_numeric(it["nps"], errors="coerce").astype("float64").to_numpy() if "nps" in it else np.nan,
            }))
    if parts:
        out = pd.concat(parts, ignore_index=True)
    else:
        out = pd.DataFrame({c: pd.Series([], dtype=object) for c in TIMELINE_COLUMNS})
        out["timestamp"] = pd.Series([], dtype="datetime64[ns]")
        for c in ("amount", "satisfaction", "nps"):
            out[c] = pd.Series([], dtype="float64")
    out["customer_id"] = customer_id
    if source_of is not None:
        out["source"] = out["record_id"].map(source_of)
        fail_rows(out, out["source"].isna().to_numpy(), "record_id", "must be a record listed in records "
                  "(with its source system)", what="customer_timeline")
    else:
        out["source"] = pd.NA
    out["_k"] = (out["kind"] == "interaction").astype(int)
    out["_id"] = out["event_id"].astype(str)
    out = out.sort_values(["timestamp", "_k", "_id", "record_id"], kind="stable").reset_index(drop=True)
    return out[TIMELINE_COLUMNS]


#: Row of each event on the timeline plot (top to bottom) and its marker.
_PLOT_ROWS = [
    ("purchase", "o"), ("call: complaint", "X"), ("call: inquiry", "D"), ("call: order", "s"),
    ("call", "s"), ("survey", "*"), ("email_open", "v"), ("mail_response", "^"), ("web_visit", "."),
]


def plot_timeline(timeline: pd.DataFrame, ax=None, *, title: str | None = None):
    """Draw a customer's timeline: one row per kind of event, coloured by source system.

    Purchases are drawn with marker area proportional to the amount; complaints stand out as
    red crosses; survey stars are annotated with the satisfaction score (1-5).

    Parameters
    ----------
    timeline
        Output of :func:`customer_timeline`.
    ax
        Matplotlib axes to draw on; a new figure (11 x 3.8 inches) if omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    require_columns(timeline, ["timestamp", "event", "detail", "amount", "source", "satisfaction"], what="timeline")
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 3.8))
    tl = timeline.copy()
    label = tl["event"].astype(str)
    is_call = label.eq("call") & tl["detail"].notna()
    label[is_call] = "call: " + tl.loc[is_call, "detail"].astype(str)
    tl["row"] = label
    rows = [r for r, _ in _PLOT_ROWS if (tl["row"] == r).any()]
    rows += sorted(set(tl["row"]) - set(rows))
    markers = dict(_PLOT_ROWS)
    sources = sorted(tl["source"].dropna().astype(str).unique())
    palette = [plt.cm.tab10(i) for i in (0, 1, 2, 4, 5, 6, 8, 9)]  # no red: red marks complaints
    colours = {s: palette[i % len(palette)] for i, s in enumerate(sources)}
    y_of = {r: len(rows) - 1 - i for i, r in enumerate(rows)}
    for (row, source), g in tl.groupby(["row", tl["source"].fillna("unknown").astype(str)], sort=True):
        size = 70.0 if row == "call: complaint" else 30.0
        if row == "purchase":
            size = 15 + 2.0 * g["amount"].fillna(0).clip(lower=0).to_numpy()
        colour = "crimson" if row == "call: complaint" else colours.get(source, "grey")
        ax.scatter(g["timestamp"], np.full(len(g), y_of[row]), s=size, marker=markers.get(row, "o"),
                   color=colour, alpha=0.75, edgecolors="none")
    for _, r in tl[tl["satisfaction"].notna()].iterrows():
        ax.annotate(f"{int(r['satisfaction'])}", (r["timestamp"], y_of[r["row"]]), textcoords="offset points",
                    xytext=(0, 7), ha="center", fontsize=8)
    for s in sources:
        ax.scatter([], [], color=colours[s], label=s)
    if sources:
        ax.legend(title="source system", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.set_yticks([y_of[r] for r in rows], rows)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="x", alpha=0.3)
    cust = tl["customer_id"].iloc[0] if "customer_id" in tl and len(tl) else ""
    ax.set_title(title or f"Single customer view: {cust} ({len(tl)} events)")
    ax.set_xlabel("time")
    return ax


# ----------------------------------------------------------------------------------------------
# the agent's context card


@dataclass
class CustomerContext:
    """What a call-centre agent sees when a customer calls (built by :func:`customer_context`).

    ``fields`` is an ordered mapping of label -> value (None when unknown); ``complaints`` lists
    the open complaints; ``recent`` holds the last few events of the timeline.
    """

    customer_id: Any
    as_of: pd.Timestamp
    fields: dict[str, Any]
    complaints: pd.DataFrame = field(repr=False)
    recent: pd.DataFrame = field(repr=False)
    rules: dict[str, str] = field(repr=False, default_factory=dict)

    def to_series(self) -> pd.Series:
        """The fields as a Series (label -> value), e.g. to build a table of several customers."""
        return pd.Series(self.fields, name=self.customer_id, dtype=object)

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    @staticmethod
    def _fmt(value: Any) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "-"
        if isinstance(value, pd.Timestamp):
            return str(value.date())
        if isinstance(value, (float, np.floating)):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.2f}"
        return str(value)

    def __str__(self) -> str:
        width = max(len(k) for k in self.fields)
        lines = [f"Customer {self.customer_id} (as of {self.as_of.date()})"]
        lines += [f"  {k:<{width}}  {self._fmt(v)}" for k, v in self.fields.items()]
        if self.rules:
            lines += ["", *[f"  * {k}: {v}" for k, v in self.rules.items()]]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        alert = self.fields.get("open complaints") or 0
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(self._fmt(v))}</td></tr>"
            for k, v in self.fields.items()
        )
        banner = (f"<div style='color:#b00020;font-weight:bold'>{alert} open complaint(s): handle first</div>"
                  if alert else "")
        recent = self.recent.copy()
        if len(recent):
            recent["timestamp"] = recent["timestamp"].dt.strftime("%Y-%m-%d")
            recent_html = recent.to_html(index=False, na_rep="", float_format=lambda x: f"{x:,.2f}")
        else:
            recent_html = "<p>no events</p>"
        notes = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in self.rules.items())
        return (
            f"<div style='border:1px solid #ccc;padding:0.6em;display:inline-block'>"
            f"<h4 style='margin:0'>Customer {html.escape(str(self.customer_id))}"
            f" <span style='font-weight:normal'>(as of {self.as_of.date()})</span></h4>{banner}"
            f"<table>{rows}</table><p style='margin:0.4em 0 0 0'><b>Last events</b></p>{recent_html}"
            f"<ul style='font-size:smaller'>{notes}</ul></div>"
        )


def customer_context(
    customer_id: Any,
    timeline: pd.DataFrame,
    scores: pd.DataFrame | None = None,
    *,
    as_of: str | pd.Timestamp | None = None,
    horizon_days: float = 90.0,
    complaint_open_days: float = 30.0,
    n_recent: int = 5,
    contact_types: tuple[str, ...] = ("call", "mail_response", "survey"),
    tier_col: str = "value_tier",
    segment_col: str = "segment",
    alive_col: str = "p_alive",
    expected_col: str = "expected_purchases",
    clv_col: str = "clv",
) -> CustomerContext:
    """The context card an agent sees when ``customer_id`` calls.

    Parameters
    ----------
    customer_id
        The customer's id (index of ``scores``).
    timeline
        The customer's :func:`customer_timeline`.
    scores
        Per-customer scores indexed by customer id; any of ``tier_col`` (value tier),
        ``segment_col``, ``alive_col`` (P(alive), 0-1), ``expected_col`` (expected purchases in
        the next ``horizon_days`` days) and ``clv_col`` (USD). Missing columns show as unknown.
    as_of
        The moment of the call; events after it are ignored. Default: the last event.
    horizon_days
        The horizon of ``expected_col``, in days. The expected next purchase is
        ``as_of + horizon_days / expected_purchases`` (the mean wait at that rate), shown only when
        it falls within a year.
    complaint_open_days
        The systems record no resolution of a complaint, so the rule is stated: a complaint call is
        *open* until the customer buys again or ``complaint_open_days`` days pass.
    n_recent
        How many of the last events to list.
    contact_types
        Interaction types that count as a contact (two-way touchpoints); web visits and email
        opens are passive and do not.

    Returns
    -------
    CustomerContext
        Renders as a card in Jupyter; ``.fields`` holds the values, ``.to_series()`` a Series.
    """
    require_columns(timeline, ["timestamp", "customer_id", "kind", "event", "detail", "amount", "satisfaction"],
                    what="timeline")
    if len(timeline) and not (timeline["customer_id"] == customer_id).all():
        others = sorted(map(str, set(timeline["customer_id"]) - {customer_id}))[:5]
        raise ValueError(f"customer_context: the timeline holds other customers ({others}) than {customer_id!r}; "
                         "pass customer_timeline(customer_id, ...).")
    if horizon_days <= 0 or complaint_open_days < 0:
        raise ValueError("customer_context: horizon_days must be > 0 and complaint_open_days >= 0 (days)")
    if as_of is None:
        if not len(timeline):
            raise ValueError("customer_context: the timeline is empty; pass as_of to state the moment of the call.")
        as_of = timeline["timestamp"].max()
    as_of = parse_timestamp(as_of, "as_of")
    tl = timeline[timeline["timestamp"] <= as_of]

    row: pd.Series | None = None
    if scores is not None:
        if not isinstance(scores, pd.DataFrame):
            raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
        if customer_id in scores.index:
            row = scores.loc[customer_id]
            if isinstance(row, pd.DataFrame):
                raise ValueError(f"scores: customer id {customer_id!r} appears {len(row)} times in the index; "
                                 "scores must hold one row per customer.")

    def score(col):
        if row is None or col not in row.index or pd.isna(row[col]):
            return None
        v = row[col]
        return float(v) if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) else v

    p_alive = score(alive_col)
    if p_alive is not None and not 0 <= p_alive <= 1:
        raise ValueError(f"scores: column '{alive_col}' must be a probability in [0, 1], got {p_alive} for "
                         f"customer {customer_id!r}")
    expected = score(expected_col)
    next_purchase = None
    if expected is not None and expected > 0:
        wait = horizon_days / expected
        if wait <= 365:
            next_purchase = (as_of + pd.Timedelta(days=wait)).normalize()

    purchases = tl[tl["kind"] == "transaction"]
    contacts = tl[(tl["kind"] == "interaction") & tl["event"].isin(list(contact_types))]
    last_contact = contacts.iloc[-1] if len(contacts) else None
    complaints = contacts[(contacts["event"] == "call") & (contacts["detail"] == "complaint")]
    last_buy = purchases["timestamp"].max() if len(purchases) else pd.NaT
    open_mask = (complaints["timestamp"] >= as_of - pd.Timedelta(days=complaint_open_days))
    if pd.notna(last_buy):
        open_mask &= complaints["timestamp"] > last_buy
    open_complaints = complaints[open_mask]

    sat = tl.loc[tl["satisfaction"].notna(), ["timestamp", "satisfaction"]]
    trend, sat_last, sat_mean = "no surveys", None, None
    if len(sat):
        sat_last, sat_mean = float(sat["satisfaction"].iloc[-1]), float(sat["satisfaction"].mean())
        if len(sat) == 1:
            trend = "one survey"
        else:
            delta = sat_last - float(sat["satisfaction"].iloc[:-1].mean())
            word = "rising" if delta >= 0.5 else "falling" if delta <= -0.5 else "steady"
            trend = f"{word} ({delta:+.1f} vs earlier mean, {len(sat)} surveys)"

    fields = {
        "value tier": score(tier_col),
        "segment": score(segment_col),
        "CLV (USD)": score(clv_col),
        "P(alive)": p_alive,
        f"expected purchases next {horizon_days:g} days": expected,
        "expected next purchase": next_purchase,
        "purchases to date": int(len(purchases)),
        "spend to date (USD)": float(purchases["amount"].sum()) if len(purchases) else 0.0,
        "last purchase": last_buy.normalize() if pd.notna(last_buy) else None,
        "last contact": last_contact["timestamp"].normalize() if last_contact is not None else None,
        "last contact type": last_contact["event"] if last_contact is not None else None,
        "last contact reason": (last_contact["detail"] if last_contact is not None and pd.notna(last_contact["detail"])
                                else None),
        "open complaints": int(len(open_complaints)),
        "complaints to date": int(len(complaints)),
        "last satisfaction (1-5)": sat_last,
        "mean satisfaction (1-5)": sat_mean,
        "satisfaction trend": trend,
        "source systems": ", ".join(sorted(tl["source"].dropna().astype(str).unique())) if "source" in tl else None,
    }
    rules = {
        "contact": "an interaction of type " + ", ".join(contact_types),
        "open complaint": f"a complaint call with no purchase since, within the last {complaint_open_days:g} days",
        "expected next purchase": f"as_of + {horizon_days:g} days / expected purchases in that horizon",
        "satisfaction trend": "last survey minus the mean of earlier ones; rising/falling at +/-0.5 points",
    }
    recent = tl[["timestamp", "event", "detail", "amount", "source"]].tail(n_recent).iloc[::-1].reset_index(drop=True)
    return CustomerContext(customer_id=customer_id, as_of=as_of, fields=fields, complaints=open_complaints.reset_index(drop=True),
                           recent=recent, rules=rules)


# ----------------------------------------------------------------------------------------------
# service queue priority


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
    rule
        One of the rules above.
    value_col, alive_col, tier_col
        Columns of the scores table: value (USD), P(alive) (0-1), value tier.
    risk_weight
        How much churn risk (1 - P(alive)) raises the score in ``value_at_risk`` and ``tier``.
    tier_order
        Tier names from most to least important, for ``"tier"``.
    """

    rule: str = "value_at_risk"
    value_col: str = "clv"
    alive_col: str = "p_alive"
    risk_weight: float = 1.0
    tier_col: str = "value_tier"
    tier_order: tuple = ()

    RULES = ("fifo", "value", "value_at_risk", "tier")

    def __post_init__(self):
        if self.rule not in self.RULES:
            raise ValueError(f"QueuePriority: rule must be one of {self.RULES}, got {self.rule!r}")
        if not np.isfinite(self.risk_weight) or self.risk_weight < 0:
            raise ValueError(f"QueuePriority: risk_weight must be a finite number >= 0, got {self.risk_weight!r}")
        if self.rule == "tier" and not self.tier_order:
            raise ValueError("QueuePriority: rule 'tier' needs tier_order, the tiers from most to least important")

    def describe(self) -> str:
        """The rule in words."""
        ties = "; ties go to the caller who arrived first"
        var = f"{self.value_col} x (1 + {self.risk_weight:g} x (1 - {self.alive_col}))"
        return {
            "fifo": "first come, first served",
            "value": f"highest {self.value_col} first" + ties,
            "value_at_risk": f"highest {var} first" + ties,
            "tier": f"tiers in the order {list(self.tier_order)}, within a tier highest {var} first" + ties,
        }[self.rule]

    def needed_columns(self) -> list[str]:
        return {"fifo": [], "value": [self.value_col], "value_at_risk": [self.value_col, self.alive_col],
                "tier": [self.tier_col, self.value_col, self.alive_col]}[self.rule]

    def score(self, scores: pd.DataFrame) -> pd.Series:
        """Priority score per row of ``scores`` (higher = served sooner)."""
        require_columns(scores, self.needed_columns(), what="scores")
        if self.rule == "fifo":
            return pd.Series(0.0, index=scores.index, name="priority")
        value = parse_amounts(scores, self.value_col, what="scores", allow_negative=True)
        if self.rule == "value":
            return value.rename("priority")
        alive = parse_amounts(scores, self.alive_col, what="scores")
        fail_rows(scores, (alive > 1).to_numpy(), self.alive_col, "must be a probability in [0, 1]", what="scores")
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


def _lookup_scores(ids: pd.Series, scores: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
    if scores.index.has_duplicates:
        dup = scores.index[scores.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"scores: the index must hold each customer id once; repeated: {dup}")
    require_columns(scores, columns, what="scores")
    known = ids.isin(scores.index)
    frame = ids.to_frame()
    fail_rows(frame, ~known.to_numpy(), ids.name, "must be a customer id in the scores index", what=what)
    return scores.loc[ids.to_numpy(), columns].reset_index(drop=True)


def prioritise_queue(
    waiting: pd.DataFrame,
    scores: pd.DataFrame,
    rule: QueuePriority | str = "value_at_risk",
    *,
    customer_col: str = "customer_id",
    arrival_col: str = "arrival",
) -> pd.DataFrame:
    """Order the callers waiting right now by a stated :class:`QueuePriority` rule.

    Parameters
    ----------
    waiting
        One row per waiting caller: ``customer_col`` and ``arrival_col`` (a timestamp or a number,
        e.g. minutes; earlier = arrived first).
    scores
        Per-customer scores indexed by customer id with the columns the rule needs.
    rule
        A :class:`QueuePriority` or a rule name.

    Returns
    -------
    pandas.DataFrame
        The waiting callers in service order, with ``position`` (1 = next), ``priority`` and the
        scores the rule used; ``.attrs["rule"]`` states the rule.
    """
    rule = _as_rule(rule)
    require_columns(waiting, [customer_col, arrival_col], what="waiting")
    fail_rows(waiting, waiting[customer_col].isna().to_numpy(), customer_col, "must name a customer", what="waiting")
    arrival = waiting[arrival_col]
    if not (pd.api.types.is_numeric_dtype(arrival) and not pd.api.types.is_bool_dtype(arrival)):
        arrival = parse_datetimes(waiting, arrival_col, what="waiting")
    fail_rows(waiting, arrival.isna().to_numpy(), arrival_col, "must hold an arrival time", what="waiting")
    cols = rule.needed_columns()
    looked = _lookup_scores(waiting[customer_col].reset_index(drop=True), scores, cols, "waiting")
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
    seed: int = 42,
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
    scores
        Per-customer scores indexed by customer id with ``tier_col`` and the rule's columns.
    rule
        The priority rule compared with FIFO.
    calls_per_hour, mean_service_minutes, n_agents
        Arrival rate (calls per hour), mean handling time (minutes) and number of agents; their
        load ``calls_per_hour * mean_service_minutes / 60 / n_agents`` must be below 1.
    n_calls
        Number of simulated calls.
    call_weights
        Optional column of ``scores`` with each customer's relative call propensity (>= 0).
    seed
        Seed of the simulation's ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        Indexed by tier (in ``tier_order`` for the ``tier`` rule, else in the order of a
        categorical ``tier_col``, else sorted; and a final ``all`` row): ``calls``, ``fifo_mean_wait`` and
        ``priority_mean_wait`` (minutes), their 90th percentiles ``fifo_p90_wait`` /
        ``priority_p90_wait``, and ``change_mean_wait`` (priority - FIFO, minutes).
        ``.attrs`` records the rule, the load and the settings.
    """
    rule = _as_rule(rule)
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
    if len(scores) == 0:
        raise ValueError("simulate_queue: scores is empty; there are no customers to call")
    require_columns(scores, [tier_col, *rule.needed_columns()] + ([call_weights] if call_weights else []),
                    what="scores")
    for name, v in (("calls_per_hour", calls_per_hour), ("mean_service_minutes", mean_service_minutes)):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"simulate_queue: {name} must be a positive number, got {v!r}")
    if int(n_agents) != n_agents or n_agents < 1 or int(n_calls) != n_calls or n_calls < 1:
        raise ValueError(f"simulate_queue: n_agents and n_calls must be positive integers, got {n_agents!r}, {n_calls!r}")
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
            raise ValueError(f"scores: column '{call_weights}' must have a positive sum")
        weights = w / w.sum()
    rng = np.random.default_rng(seed)
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
                     mean_service_minutes=mean_service_minutes, n_agents=int(n_agents), n_calls=int(n_calls), seed=seed)
    return out

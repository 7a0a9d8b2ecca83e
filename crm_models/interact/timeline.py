"""The single customer view: every transaction and touchpoint of one resolved customer, in time order.

A crosswalk ``record_id -> customer_id`` (from :func:`crm_models.identify.resolve_customers`)
joins the source systems' logs to the resolved customer: :func:`attach_customer` adds the
customer id to a whole log, :func:`customer_timeline` collects one customer's events from all
systems and :func:`plot_timeline` draws them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_amounts, parse_datetimes, require_columns

__all__ = ["TIMELINE_COLUMNS", "attach_customer", "customer_timeline", "plot_timeline"]

#: Columns of :func:`customer_timeline`'s output, in order.
TIMELINE_COLUMNS = [
    "timestamp", "customer_id", "record_id", "source", "kind", "event", "event_id", "channel",
    "detail", "amount", "satisfaction", "nps",
]


def _crosswalk_series(crosswalk, record_id_col: str, customer_id_col: str) -> pd.Series:
    """The crosswalk as a Series ``record_id -> customer_id``, checked: one row per record, no gaps."""
    if hasattr(crosswalk, "crosswalk") and not isinstance(crosswalk, (pd.DataFrame, pd.Series)):
        crosswalk = crosswalk.crosswalk  # a crm_models.identify Resolution
    if isinstance(crosswalk, pd.Series):
        cw = crosswalk.rename_axis(record_id_col).rename(customer_id_col).reset_index()
    elif (isinstance(crosswalk, pd.DataFrame) and record_id_col not in crosswalk.columns
          and crosswalk.index.name == record_id_col):
        require_columns(crosswalk, [customer_id_col], what="crosswalk")
        cw = crosswalk[[customer_id_col]].reset_index()
    else:
        require_columns(crosswalk, [record_id_col, customer_id_col], what="crosswalk")
        cw = crosswalk[[record_id_col, customer_id_col]]
    fail_rows(cw, cw[record_id_col].isna().to_numpy(), record_id_col, "must name a record on every row",
              what="crosswalk")
    fail_rows(cw, cw[customer_id_col].isna().to_numpy(), customer_id_col, "must name a customer on every row",
              what="crosswalk")
    fail_rows(cw, cw[record_id_col].duplicated(keep=False).to_numpy(), record_id_col,
              "must list each record once (a record belongs to exactly one customer)", what="crosswalk")
    return pd.Series(cw[customer_id_col].to_numpy(), index=pd.Index(cw[record_id_col].to_numpy(), name=record_id_col),
                     name=customer_id_col)


def attach_customer(
    log: pd.DataFrame,
    crosswalk: Any,
    *,
    record_id_col: str = "record_id",
    customer_id_col: str = "customer_id",
    what: str = "log",
) -> pd.DataFrame:
    """A log with the resolved customer id of each row, looked up in the crosswalk.

    Every row must find its record in the crosswalk: a record the crosswalk does not know is an
    error, never a silently dropped row.

    Parameters
    ----------
    log : pandas.DataFrame
        A transaction or interaction log with a ``record_id_col`` column.
    crosswalk : pandas.DataFrame, pandas.Series or Resolution
        ``record_id -> customer_id``, one row per record: a DataFrame with ``record_id_col`` and
        ``customer_id_col`` columns (or indexed by ``record_id_col``), a Series indexed by record
        id, or the ``Resolution`` returned by :func:`crm_models.identify.resolve_customers`.
    record_id_col, customer_id_col : str
        Column names of the record id (in ``log`` and ``crosswalk``) and of the customer id.
    what : str
        Name of ``log`` in error messages (``"transactions"``, ``"interactions"``...).

    Returns
    -------
    pandas.DataFrame
        A copy of ``log`` with a ``customer_id_col`` column, rows and index unchanged.

    Raises
    ------
    crm_models.errors.DataError
        If a record of ``log`` is not in the crosswalk, or the crosswalk lists a record twice.

    Examples
    --------
    >>> crosswalk = pd.DataFrame({"record_id": ["W1", "S1", "W2"], "customer_id": ["A", "A", "B"]})
    >>> log = pd.DataFrame({"record_id": ["S1", "W2", "W1"], "amount": [20.0, 5.0, 7.5]})
    >>> attach_customer(log, crosswalk)["customer_id"].tolist()
    ['A', 'B', 'A']
    """
    cw = _crosswalk_series(crosswalk, record_id_col, customer_id_col)
    require_columns(log, [record_id_col], what=what)
    cust = log[record_id_col].map(cw)
    fail_rows(log, cust.isna().to_numpy(), record_id_col, "must be a record listed in the crosswalk", what=what,
              hint="Resolve these records first (crm_models.identify.resolve_customers) or add them to the crosswalk.")
    out = log.copy()
    out[customer_id_col] = cust.to_numpy()
    return out


def _records_source(records: pd.DataFrame | None, record_id_col: str, source_col: str) -> pd.Series | None:
    if records is None:
        return None
    require_columns(records, [record_id_col, source_col], what="records")
    fail_rows(records, records[record_id_col].duplicated(keep=False).to_numpy(), record_id_col,
              "must be unique (one row per record)", what="records")
    return pd.Series(records[source_col].to_numpy(), index=records[record_id_col].to_numpy())


def customer_timeline(
    customer_id: Any,
    crosswalk: Any,
    transactions: pd.DataFrame,
    interactions: pd.DataFrame | None = None,
    *,
    records: pd.DataFrame | None = None,
    record_id_col: str = "record_id",
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str = "amount",
    transaction_id_col: str = "transaction_id",
    interaction_id_col: str = "interaction_id",
    source_col: str = "source",
) -> pd.DataFrame:
    """Every transaction and touchpoint of one customer, from all source systems, in time order.

    The customer's records are looked up in the crosswalk; every transaction and interaction of
    any of those records appears exactly once.

    Parameters
    ----------
    customer_id : hashable
        The resolved customer's id, as in the crosswalk's ``customer_id_col``.
    crosswalk : pandas.DataFrame, pandas.Series or Resolution
        ``record_id -> customer_id``, as in :func:`attach_customer`.
    transactions : pandas.DataFrame
        Purchases with ``record_id_col``, ``datetime_col``, ``monetary_value_col`` (USD) and
        optionally ``transaction_id_col``, ``channel`` and ``category``.
    interactions : pandas.DataFrame, optional
        Touchpoints with ``record_id_col``, ``datetime_col``, ``type`` and optionally
        ``interaction_id_col``, ``reason``, ``channel``, ``satisfaction`` (1-5) and ``nps`` (0-10).
    records : pandas.DataFrame, optional
        The source systems' customer tables (``record_id_col``, ``source_col``), to name the
        system each event came from; without it ``source`` is missing (NA).
    record_id_col, customer_id_col, datetime_col, monetary_value_col : str
        Column names of the record id, customer id, event time and transaction amount.
    transaction_id_col, interaction_id_col, source_col : str
        Column names of the transaction id, touchpoint id and source system.

    Returns
    -------
    pandas.DataFrame
        One row per event with columns :data:`TIMELINE_COLUMNS`: ``kind`` is ``transaction`` or
        ``interaction``; ``event`` is ``purchase`` or the touchpoint type; ``detail`` the product
        category or the call reason; ``amount`` in USD (NA for touchpoints). Sorted by timestamp
        (ties: transactions first, then by event id), index 0..n-1.

    Raises
    ------
    ValueError
        If ``customer_id`` is not in the crosswalk.
    crm_models.errors.DataError
        If a log misses a column or holds unparseable dates or amounts.

    Examples
    --------
    >>> crosswalk = pd.DataFrame({"record_id": ["W1", "S1", "W2"], "customer_id": ["A", "A", "B"]})
    >>> tx = pd.DataFrame({"record_id": ["S1", "W2", "W1"], "amount": [20.0, 5.0, 7.5],
    ...                    "timestamp": pd.to_datetime(["2024-03-01", "2024-02-01", "2024-01-15"])})
    >>> it = pd.DataFrame({"record_id": ["W1"], "type": ["call"], "reason": ["complaint"],
    ...                    "timestamp": pd.to_datetime(["2024-02-10"])})
    >>> customer_timeline("A", crosswalk, tx, it)[["timestamp", "record_id", "event", "detail", "amount"]]
       timestamp record_id     event     detail  amount
    0 2024-01-15        W1  purchase       <NA>     7.5
    1 2024-02-10        W1      call  complaint     NaN
    2 2024-03-01        S1  purchase       <NA>    20.0
    """
    cw = _crosswalk_series(crosswalk, record_id_col, customer_id_col)
    mine = cw.index[(cw == customer_id).to_numpy()]
    if len(mine) == 0:
        shown = ", ".join(map(repr, pd.unique(cw.to_numpy())[:5]))
        raise ValueError(f"customer_timeline: customer_id={customer_id!r} is not in the crosswalk's "
                         f"'{customer_id_col}' column (for example {shown}).")
    source_of = _records_source(records, record_id_col, source_col)
    parts = []

    require_columns(transactions, [record_id_col, datetime_col, monetary_value_col], what="transactions")
    tx = transactions[transactions[record_id_col].isin(mine)]
    if len(tx):
        ts = parse_datetimes(tx, datetime_col, what="transactions")
        amount = parse_amounts(tx, monetary_value_col, what="transactions", allow_negative=True)
        parts.append(pd.DataFrame({
            "timestamp": ts.to_numpy(),
            "record_id": tx[record_id_col].to_numpy(),
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
        require_columns(interactions, [record_id_col, datetime_col, "type"], what="interactions")
        it = interactions[interactions[record_id_col].isin(mine)]
        if len(it):
            ts = parse_datetimes(it, datetime_col, what="interactions")
            parts.append(pd.DataFrame({
                "timestamp": ts.to_numpy(),
                "record_id": it[record_id_col].to_numpy(),
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

    Purchases are drawn with marker area proportional to the amount (USD); complaints stand out
    as red crosses; survey stars are annotated with the satisfaction score (1-5).

    Parameters
    ----------
    timeline : pandas.DataFrame
        Output of :func:`customer_timeline`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure (11 x 3.8 inches) if omitted.
    title : str, optional
        Title of the axes; default names the customer and the number of events.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> crosswalk = pd.DataFrame({"record_id": ["W1"], "customer_id": ["A"]})
    >>> tx = pd.DataFrame({"record_id": ["W1"], "amount": [7.5], "timestamp": pd.to_datetime(["2024-01-15"])})
    >>> ax = plot_timeline(customer_timeline("A", crosswalk, tx))  # doctest: +SKIP
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

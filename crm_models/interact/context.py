"""The agent's context card: what a call-centre agent sees when a customer calls.

"Each successive interaction with a customer should take place in the context of all previous
interactions" (Peppers & Rogers). :func:`customer_context` reads the customer's timeline and
scores and returns a :class:`CustomerContext`: value tier, segment, P(alive), expected next
purchase, last contact and its reason, open complaints and the satisfaction trend, each by a
stated rule. It renders as a card in Jupyter.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_datetimes, parse_timestamp, require_columns
from crm_models.errors import DataError
from crm_models.units import Duration, as_duration

__all__ = ["CustomerContext", "customer_context"]

_UNIT_NAMES = {"h": "hour", "D": "day", "W": "week", "M": "month", "Q": "quarter", "Y": "year"}


def _in_words(duration: Duration) -> str:
    """``(91, "D")`` -> ``"91 days"``; ``(1, "M")`` -> ``"1 month"``."""
    name = _UNIT_NAMES[duration.unit]
    return f"{duration.length:g} {name}" + ("" if duration.length == 1 else "s")


@dataclass
class CustomerContext:
    """What a call-centre agent sees when a customer calls (built by :func:`customer_context`).

    Parameters
    ----------
    customer_id : hashable
        The customer.
    observation_period_end : pandas.Timestamp
        The moment of the call: the card shows what was known then.
    fields : dict
        Ordered mapping label -> value (``None`` when unknown); money in USD, P(alive) in 0-1,
        satisfaction on the survey's 1-5 scale.
    complaints : pandas.DataFrame
        The open complaints (rows of the timeline).
    recent : pandas.DataFrame
        The last few events of the timeline, newest first.
    rules : dict
        The rule behind each derived field, in words.

    Examples
    --------
    >>> card = CustomerContext("A", pd.Timestamp("2024-03-31"), {"open complaints": 0},
    ...                        pd.DataFrame(), pd.DataFrame())
    >>> card["open complaints"]
    0
    """

    customer_id: Any
    observation_period_end: pd.Timestamp
    fields: dict[str, Any]
    complaints: pd.DataFrame = field(repr=False)
    recent: pd.DataFrame = field(repr=False)
    rules: dict[str, str] = field(repr=False, default_factory=dict)

    def to_series(self) -> pd.Series:
        """The fields as a Series, e.g. to build a table of several customers.

        Returns
        -------
        pandas.Series
            Label -> value (object dtype), named by the customer id.

        Examples
        --------
        >>> card = CustomerContext("A", pd.Timestamp("2024-03-31"), {"purchases to date": 3},
        ...                        pd.DataFrame(), pd.DataFrame())
        >>> card.to_series().to_dict()
        {'purchases to date': 3}
        """
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
        width = max((len(k) for k in self.fields), default=0)
        lines = [f"Customer {self.customer_id} (as of {self.observation_period_end.date()})"]
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
            f" <span style='font-weight:normal'>(as of {self.observation_period_end.date()})</span></h4>{banner}"
            f"<table>{rows}</table><p style='margin:0.4em 0 0 0'><b>Last events</b></p>{recent_html}"
            f"<ul style='font-size:smaller'>{notes}</ul></div>"
        )


def customer_context(
    customer_id: Any,
    timeline: pd.DataFrame,
    scores: pd.DataFrame | None = None,
    *,
    observation_period_end: str | pd.Timestamp | None = None,
    horizon: tuple[float, str] = (91, "D"),
    complaint_open: tuple[float, str] = (30, "D"),
    n_recent: int = 5,
    contact_types: tuple[str, ...] = ("call", "mail_response", "survey"),
    tier_col: str = "value_tier",
    segment_col: str = "segment",
    p_alive_col: str = "p_alive",
    expected_purchases_col: str = "expected_purchases",
    clv_col: str = "clv",
    explanation=None,
) -> CustomerContext:
    """The context card an agent sees when ``customer_id`` calls.

    Parameters
    ----------
    customer_id : hashable
        The customer's id (index of ``scores``).
    timeline : pandas.DataFrame
        The customer's :func:`~crm_models.interact.customer_timeline`.
    scores : pandas.DataFrame, optional
        Per-customer scores indexed by customer id; any of ``tier_col`` (value tier),
        ``segment_col``, ``p_alive_col`` (P(alive), 0-1), ``expected_purchases_col`` (expected
        purchases over ``horizon``) and ``clv_col`` (USD). Missing columns show as unknown.
    observation_period_end : date, optional
        The moment of the call; events after it are ignored. Default: the last event.
    horizon : (length, unit) pair
        The horizon of ``expected_purchases_col``, e.g. ``(91, "D")`` or ``(3, "M")``. The
        expected next purchase is ``observation_period_end + horizon / expected purchases`` (the
        mean wait at that rate), shown only when it falls within a year.
    complaint_open : (length, unit) pair
        The systems record no resolution of a complaint, so the rule is stated: a complaint call
        is *open* until the customer buys again or ``complaint_open`` passes (a length of 0 keeps
        only a complaint made at the moment of the call open).
    n_recent : int
        How many of the last events to list.
    contact_types : tuple of str
        Interaction types that count as a contact (two-way touchpoints); web visits and email
        opens are passive and do not.
    tier_col, segment_col, p_alive_col, expected_purchases_col, clv_col : str
        Column names in ``scores``.
    explanation : str or crm_models.clv.CustomerExplanation, optional
        The customer's scores in plain words (:func:`crm_models.clv.explain_customer` or
        :meth:`crm_models.pipeline.CustomerScorer.explain`), shown as the field
        ``"scores in words"`` so the agent reads why P(alive) is what it is.

    Returns
    -------
    CustomerContext
        Renders as a card in Jupyter; ``.fields`` holds the values, ``.to_series()`` a Series.

    Raises
    ------
    crm_models.errors.DataError
        If the timeline holds other customers or ``scores`` breaks a rule (a repeated customer
        id, a P(alive) outside [0, 1]).

    Examples
    --------
    >>> from crm_models.interact import customer_timeline
    >>> crosswalk = pd.DataFrame({"record_id": ["W1", "S1"], "customer_id": ["A", "A"]})
    >>> tx = pd.DataFrame({"record_id": ["S1", "W1"], "amount": [20.0, 7.5],
    ...                    "timestamp": pd.to_datetime(["2024-03-01", "2024-01-15"])})
    >>> it = pd.DataFrame({"record_id": ["W1"], "type": ["call"], "reason": ["complaint"],
    ...                    "timestamp": pd.to_datetime(["2024-03-20"])})
    >>> timeline = customer_timeline("A", crosswalk, tx, it)
    >>> scores = pd.DataFrame({"clv": [120.0], "p_alive": [0.8], "expected_purchases": [2.0]}, index=["A"])
    >>> card = customer_context("A", timeline, scores, observation_period_end="2024-03-31")
    >>> card["open complaints"], card["spend to date (USD)"], card["expected next purchase"]
    (1, 27.5, Timestamp('2024-05-15 00:00:00'))
    """
    require_columns(timeline, ["timestamp", "customer_id", "kind", "event", "detail", "amount", "satisfaction"],
                    what="timeline")
    horizon = as_duration(horizon, "horizon")
    complaint_open = as_duration(complaint_open, "complaint_open", allow_zero=True)
    fail_rows(timeline, (timeline["customer_id"] != customer_id).to_numpy(), "customer_id",
              f"must be {customer_id!r} on every row (pass customer_timeline({customer_id!r}, ...))",
              what="timeline")
    times = parse_datetimes(timeline, "timestamp", what="timeline")
    if observation_period_end is None:
        if not len(timeline):
            raise DataError(None, "is empty; pass observation_period_end to state the moment of the call",
                            what="timeline")
        observation_period_end = times.max()
    end = parse_timestamp(observation_period_end, "observation_period_end")
    tl = timeline.assign(timestamp=times)[(times <= end).to_numpy()]

    row: pd.Series | None = None
    if scores is not None:
        if not isinstance(scores, pd.DataFrame):
            raise TypeError(f"scores must be a pandas DataFrame indexed by customer id, got {type(scores).__name__}")
        mine = (scores.index == customer_id)
        if mine.sum() > 1:
            fail_rows(scores, mine, "index", f"must hold customer id {customer_id!r} once (one row per customer)",
                      what="scores")
        if mine.any():
            row = scores.loc[customer_id]

    def score(col):
        if row is None or col not in row.index or pd.isna(row[col]):
            return None
        v = row[col]
        return float(v) if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) else v

    p_alive = score(p_alive_col)
    if p_alive is not None and not 0 <= p_alive <= 1:
        fail_rows(scores, scores.index == customer_id, p_alive_col, "must be a probability in [0, 1]", what="scores")
    expected = score(expected_purchases_col)
    next_purchase = None
    if expected is not None and expected > 0:
        wait = horizon.days / expected
        if wait <= 365:
            next_purchase = (end + pd.Timedelta(days=wait)).normalize()

    purchases = tl[tl["kind"] == "transaction"]
    contacts = tl[(tl["kind"] == "interaction") & tl["event"].isin(list(contact_types))]
    last_contact = contacts.iloc[-1] if len(contacts) else None
    complaints = contacts[(contacts["event"] == "call") & (contacts["detail"] == "complaint")]
    last_buy = purchases["timestamp"].max() if len(purchases) else pd.NaT
    open_mask = complaints["timestamp"] >= end - pd.Timedelta(days=complaint_open.days)
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
        f"expected purchases next {_in_words(horizon)}": expected,
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
    if explanation is not None:
        fields["scores in words"] = str(explanation)
    rules = {
        "contact": "an interaction of type " + ", ".join(contact_types),
        "open complaint": f"a complaint call with no purchase since, within the last {_in_words(complaint_open)}",
        "expected next purchase": f"the moment of the call + {_in_words(horizon)} / expected purchases in that horizon",
        "satisfaction trend": "last survey minus the mean of earlier ones; rising/falling at +/-0.5 points",
    }
    recent = tl[["timestamp", "event", "detail", "amount", "source"]].tail(n_recent).iloc[::-1].reset_index(drop=True)
    return CustomerContext(customer_id=customer_id, observation_period_end=end, fields=fields,
                           complaints=open_complaints.reset_index(drop=True), recent=recent, rules=rules)

"""Customer equity: the sum of customers' lifetime values, in total and per segment."""

from __future__ import annotations

import pandas as pd

from crm_models._validation import fail_rows
from crm_models.measure._common import nonempty, numeric, series_of

__all__ = ["customer_equity", "customer_equity_by_segment"]


def _clv_values(clv) -> pd.Series:
    values = numeric(series_of(clv, "clv", "clv"), "clv", "clv")
    nonempty(len(values), "clv", "is empty: customer equity needs at least one customer")
    return values


def customer_equity(clv: pd.Series) -> float:
    """Customer equity: the sum of customers' lifetime values (Blattberg & Deighton 1996).

    Parameters
    ----------
    clv : pandas.Series
        (Discounted) CLV per customer (USD), indexed by customer id, each id once.

    Returns
    -------
    float
        The sum (USD). Per segment: :func:`customer_equity_by_segment`.

    Raises
    ------
    crm_models.errors.DataError
        If ``clv`` is empty, repeats a customer id or holds a missing or non-finite value.

    Examples
    --------
    >>> customer_equity(pd.Series({"a": 10.0, "b": 30.0, "c": 60.0}))
    100.0
    """
    return float(_clv_values(clv).sum())


def customer_equity_by_segment(clv: pd.Series, segments: pd.Series) -> pd.DataFrame:
    """Customer equity per segment: customers, equity, share of equity and mean CLV.

    Parameters
    ----------
    clv : pandas.Series
        (Discounted) CLV per customer (USD), indexed by customer id, each id once.
    segments : pandas.Series
        Segment of every customer of ``clv``, indexed by customer id; its name names the
        output's index (default ``"segment"``).

    Returns
    -------
    pandas.DataFrame
        One row per segment, largest equity first: ``customers``, ``equity`` (USD),
        ``share_of_equity`` (0-1 of the total; 0 when the total is 0) and ``mean_clv`` (USD).

    Raises
    ------
    crm_models.errors.DataError
        As :func:`customer_equity`, and if a customer of ``clv`` has no segment.

    Examples
    --------
    >>> clv = pd.Series({"a": 10.0, "b": 30.0, "c": 60.0})
    >>> tiers = pd.Series({"a": "low", "b": "low", "c": "high"}, name="tier")
    >>> customer_equity_by_segment(clv, tiers)
          customers  equity  share_of_equity  mean_clv
    tier                                              
    high          1    60.0              0.6      60.0
    low           2    40.0              0.4      20.0
    """
    values = _clv_values(clv)
    segments = series_of(segments, "segments", "segments")
    seg = segments.reindex(values.index)
    frame = pd.DataFrame({"clv": values, "segment": seg})
    fail_rows(frame, seg.isna().to_numpy(), "segment", "must name a segment for every customer of clv",
              what="segments")
    g = values.groupby(seg.to_numpy(), observed=True)
    tab = pd.DataFrame({"customers": g.size(), "equity": g.sum(), "mean_clv": g.mean()})
    total = values.sum()
    tab["share_of_equity"] = tab["equity"] / total if total != 0 else 0.0
    tab.index.name = segments.name or "segment"
    return tab.sort_values("equity", ascending=False)[["customers", "equity", "share_of_equity", "mean_clv"]]

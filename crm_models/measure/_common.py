"""Input checks shared by the measure modules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import (
    check_ids,
    fail_rows,
    parse_amounts,
    parse_datetimes,
    parse_timestamp,
    require_columns,
)
from crm_models.errors import DataError


def period(value, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A ``(start, end)`` argument as two Timestamps with ``start < end``."""
    try:
        start, end = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (start, end) pair of dates, got {value!r}") from None
    start, end = parse_timestamp(start, f"{name} start"), parse_timestamp(end, f"{name} end")
    if not start < end:
        raise ValueError(f"{name} must start before it ends, got start={start.date()} end={end.date()}")
    return start, end


def transactions_frame(
    transactions: pd.DataFrame, customer_id_col: str, datetime_col: str, monetary_value_col: str | None, what: str
) -> pd.DataFrame:
    """``customer_id``, ``date`` and ``amount`` (0 without a money column) of a checked transaction log."""
    cols = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col is not None else [])
    require_columns(transactions, cols, what=what)
    check_ids(transactions, customer_id_col, what=what)
    out = pd.DataFrame(
        {
            "customer_id": transactions[customer_id_col].to_numpy(),
            "date": parse_datetimes(transactions, datetime_col, what=what).to_numpy(),
        }
    )
    out["amount"] = (
        parse_amounts(transactions, monetary_value_col, what=what).to_numpy() if monetary_value_col is not None else 0.0
    )
    return out


def numeric(values, name: str, what: str) -> pd.Series:
    """``values`` (a Series or a list) as finite floats; anything else raises :class:`DataError` with the rows."""
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object, name=name)
    num = pd.to_numeric(s, errors="coerce")
    bad = (num.isna() | ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))).to_numpy()
    fail_rows(s.to_frame(name), bad, name, "must hold finite numbers", what=what)
    return num.astype("float64")


def series_of(values, name: str, what: str) -> pd.Series:
    """``values`` if it is a Series indexed by customer id with each id once."""
    if not isinstance(values, pd.Series):
        raise TypeError(f"{name} must be a pandas Series indexed by customer id, got {type(values).__name__}")
    fail_rows(values.to_frame(name), values.index.duplicated(keep=False), "index",
              "must hold each customer id once", what=what)
    return values


def nonempty(n: int, what: str, rule: str) -> None:
    """Raise :class:`DataError` if ``n`` is 0."""
    if n == 0:
        raise DataError(None, rule, what=what)

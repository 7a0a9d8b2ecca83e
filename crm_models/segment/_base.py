"""Input checks shared by the segmenters: every failure is a DataError naming the column and rows."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.errors import N_SHOWN, DataError

__all__ = ["numeric_frame", "as_series", "numeric_series", "align", "unique_index"]


def unique_index(df: pd.DataFrame, *, what: str, column: str | None = None) -> None:
    """Raise :class:`DataError` if ``df`` has repeated index entries (customer ids), showing them."""
    if df.index.has_duplicates:
        dup = df.index.duplicated(keep=False)
        name = column or (str(df.index.name) if df.index.name is not None else "customer id (index)")
        raise DataError(
            name,
            "must identify each customer once (repeated customer ids in the index)",
            rows=df.loc[dup].head(N_SHOWN),
            n_rows=int(dup.sum()),
            n_total=len(df),
            what=what,
            hint="Aggregate to one row per customer first.",
        )


def numeric_frame(df: pd.DataFrame, columns: Iterable[str], *, what: str) -> pd.DataFrame:
    """``df[columns]`` as float; missing columns, repeated ids, non-numbers, NaN and infinities refused."""
    columns = list(columns)
    require_columns(df, columns, what=what)
    unique_index(df, what=what)
    out = {}
    for c in columns:
        raw = df[c]
        if pd.api.types.is_bool_dtype(raw):
            fail_rows(df, np.ones(len(df), dtype=bool), c, "must be numeric (true/false found)", what=what)
        values = pd.to_numeric(raw, errors="coerce")
        fail_rows(df, values.isna() & raw.notna(), c, "must be numeric", what=what)
        fail_rows(df, values.isna(), c, "must not be missing (NaN found)", what=what,
                  hint="Fill or drop these customers before segmenting; nothing is dropped silently.")
        values = values.astype("float64")
        fail_rows(df, ~np.isfinite(values.to_numpy()), c, "must be finite", what=what)
        out[c] = values
    return pd.DataFrame(out, index=df.index)


def as_series(values, *, name: str, what: str) -> pd.Series:
    """``values`` checked to be a pandas Series with a unique index (customer id) and no missing value.

    ``name`` is the argument's name, used as the column of any :class:`DataError`.
    """
    if not isinstance(values, pd.Series):
        raise DataError(
            name,
            f"must be a pandas Series indexed by customer id, got {type(values).__name__}",
            what=what,
        )
    frame = values.to_frame(name)
    unique_index(frame, what=what, column=name)
    fail_rows(frame, values.isna().to_numpy(), name, "must not be missing (NaN found)", what=what)
    return values


def numeric_series(values, *, name: str, what: str) -> pd.Series:
    """:func:`as_series` plus: numbers only, finite; returned as float64."""
    values = as_series(values, name=name, what=what)
    frame = values.to_frame(name)
    if pd.api.types.is_bool_dtype(values):
        fail_rows(frame, np.ones(len(values), dtype=bool), name, "must be numeric (true/false found)", what=what)
    num = pd.to_numeric(values, errors="coerce")
    fail_rows(frame, num.isna().to_numpy(), name, "must be numeric", what=what)
    num = num.astype("float64")
    fail_rows(frame, ~np.isfinite(num.to_numpy()), name, "must be finite", what=what)
    return num


def align(values: pd.Series, index: pd.Index, *, name: str, of: str, what: str) -> pd.Series:
    """``values`` reindexed on ``index``; a customer of ``index`` without a value is a :class:`DataError`.

    ``of`` names the argument ``index`` comes from (for the message), e.g. ``"clv"``.
    """
    missing = index.difference(values.index)
    if len(missing):
        rows = pd.DataFrame({name: np.nan}, index=missing[:N_SHOWN])
        raise DataError(
            name,
            f"has no value for {len(missing):,} customer(s) of {of}",
            rows=rows,
            n_rows=len(missing),
            n_total=len(index),
            what=what,
            hint=f"Give every customer of {of} a value (the rows shown are the customers without one).",
        )
    return values.reindex(index)

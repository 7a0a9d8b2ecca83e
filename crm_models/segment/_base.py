"""Shared plumbing of the segmenters: the fitted-state check and input checks."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.errors import NotFittedError  # one "not fitted" error across the package

__all__ = ["NotFittedError", "check_fitted", "numeric_frame", "as_series"]


def check_fitted(obj, attribute: str) -> None:
    """Raise one clear error if ``obj`` has not been fitted (``attribute`` missing)."""
    if not hasattr(obj, attribute):
        name = type(obj).__name__
        raise NotFittedError(f"This {name} is not fitted yet: call {name}(...).fit(data) before using it.")


def numeric_frame(df: pd.DataFrame, columns: Iterable[str], *, what: str) -> pd.DataFrame:
    """``df[columns]`` as float, with missing columns, non-numeric values, NaN and infinities refused."""
    columns = list(columns)
    require_columns(df, columns, what=what)
    if df.index.has_duplicates:
        dup = df.index.duplicated(keep=False)
        raise ValueError(
            f"{what}: the index (customer id) must be unique; {int(dup.sum()):,} rows share an id, for example "
            f"{sorted(map(str, df.index[dup].unique()[:5]))}"
        )
    out = {}
    for c in columns:
        values = pd.to_numeric(df[c], errors="coerce")
        fail_rows(df, values.isna() & df[c].notna(), c, "must be numeric", what=what)
        fail_rows(df, values.isna(), c, "must not be missing (NaN found)", what=what,
                  hint="Fill or drop these customers before segmenting; nothing is dropped silently.")
        values = values.astype("float64")
        fail_rows(df, ~np.isfinite(values.to_numpy()), c, "must be finite", what=what)
        out[c] = values
    return pd.DataFrame(out, index=df.index)


def as_series(values, *, name: str, what: str) -> pd.Series:
    """A pandas Series (indexed by customer id) with a unique index and no missing values."""
    if not isinstance(values, pd.Series):
        raise TypeError(f"{what}: {name} must be a pandas Series indexed by customer id, got {type(values).__name__}")
    if values.index.has_duplicates:
        raise ValueError(f"{what}: {name} has duplicate customer ids, for example "
                         f"{sorted(map(str, values.index[values.index.duplicated()].unique()[:5]))}")
    frame = values.to_frame(name)
    fail_rows(frame, values.isna(), name, "must not be missing (NaN found)", what=what)
    return values

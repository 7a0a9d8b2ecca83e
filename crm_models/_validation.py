"""Input checks that fail early with a message a person can act on.

Every error is a :class:`~crm_models.errors.DataError` naming the column and the rule that was
broken and carrying a few offending rows (``.rows``), so users never meet a deep numpy
traceback or a silent NaN instead, and programs (the CLI) read the structure, never the text.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crm_models.errors import N_SHOWN, DataError


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str = "data") -> None:
    """Raise :class:`DataError` if any of ``columns`` is missing from ``df``, listing what exists."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        present = list(map(str, df.columns))
        raise DataError(
            missing[0],
            "is missing",
            what=what,
            hint="Pass the right names through the *_col arguments.",
            message=f"{what} is missing column(s) {missing}; the columns present are {present}.",
        )


def show_rows(df: pd.DataFrame, mask: np.ndarray | pd.Series, n: int = N_SHOWN) -> str:
    """The first ``n`` rows of ``df`` where ``mask`` holds, as text for an error message."""
    return df.loc[np.asarray(mask, dtype=bool)].head(n).to_string()


def fail_rows(
    df: pd.DataFrame, mask: np.ndarray | pd.Series, column: str, rule: str, *, what: str = "data", hint: str = ""
) -> None:
    """Raise :class:`DataError` naming ``column`` and ``rule`` if ``mask`` flags any row of ``df``."""
    mask = np.asarray(mask, dtype=bool)
    k = int(mask.sum())
    if k:
        raise DataError(
            column, rule, rows=df.loc[mask].head(N_SHOWN), n_rows=k, n_total=len(df), what=what, hint=hint
        )


def parse_datetimes(
    df: pd.DataFrame, column: str, *, fmt: str | None = None, what: str = "data"
) -> pd.Series:
    """``df[column]`` as datetimes; missing or unparseable values raise a clear ``ValueError``."""
    raw = df[column]
    fail_rows(df, raw.isna(), column, "must hold a date for every row (missing dates found)", what=what)
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    if pd.api.types.is_numeric_dtype(raw) and fmt is None:
        raise DataError(
            column,
            f"holds numbers ({raw.dtype}), not dates",
            rows=df.head(N_SHOWN),
            n_rows=len(df),
            n_total=len(df),
            what=what,
            hint=f"Pass datetime_format (for example '%Y%m%d' for values like {raw.iloc[0]}) or convert the column first.",
        )
    if fmt is not None:
        parsed = pd.to_datetime(raw.astype(str), format=fmt, errors="coerce")
    else:
        parsed = pd.to_datetime(raw, format="ISO8601", errors="coerce")
        left = parsed.isna()
        if left.any():  # other spellings, element by element (slow, so only for the leftovers)
            parsed = parsed.astype("datetime64[ns]")
            parsed[left] = pd.to_datetime(raw[left], format="mixed", errors="coerce")
    fail_rows(
        df,
        parsed.isna(),
        column,
        "must hold parseable dates" + (f" in format {fmt!r}" if fmt else ""),
        what=what,
        hint="Pass datetime_format to state the format, or fix these rows.",
    )
    return parsed


def parse_amounts(df: pd.DataFrame, column: str, *, what: str = "data", allow_negative: bool = False) -> pd.Series:
    """``df[column]`` as float; missing, non-numeric or (by default) negative values raise ``ValueError``."""
    raw = df[column]
    fail_rows(df, raw.isna(), column, "must hold an amount for every row (missing values found)", what=what)
    if pd.api.types.is_bool_dtype(raw) or not pd.api.types.is_numeric_dtype(raw):
        values = pd.to_numeric(raw, errors="coerce")
        fail_rows(df, values.isna(), column, "must be numeric", what=what)
    else:
        values = raw
    values = values.astype("float64")
    fail_rows(df, ~np.isfinite(values.to_numpy()), column, "must be finite", what=what)
    if not allow_negative:
        fail_rows(
            df,
            values.to_numpy() < 0,
            column,
            "must not be negative",
            what=what,
            hint="Returns and refunds should be netted against their purchase or removed before this step.",
        )
    return values


def parse_timestamp(value, name: str, *, fmt: str | None = None) -> pd.Timestamp:
    """A single date argument (such as ``observation_period_end``) as a ``Timestamp``.

    ISO dates, ``datetime`` objects and Timestamps are accepted as they are; ``fmt`` (the data's
    ``datetime_format``) is tried as well for values written like the data.
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        ts, error = None, exc
        if fmt is not None:
            try:
                ts = pd.Timestamp(pd.to_datetime(str(value), format=fmt))
            except (ValueError, TypeError):
                pass
        if ts is None:
            raise ValueError(f"{name}={value!r} is not a date: {error}") from None
    if pd.isna(ts):
        raise ValueError(f"{name} must be a date, got {value!r}")
    return ts

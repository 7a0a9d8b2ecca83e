"""Input checks that fail early with a message a person can act on.

Every error is a :class:`~crm_models.errors.DataError` naming the column and the rule that was
broken and carrying a few offending rows (``.rows``), so users never meet a deep numpy
traceback or a silent NaN instead, and programs (the CLI) read the structure, never the text.

The rules every engine follows (pandas here; DuckDB and Spark apply the same rules in SQL):

ids
    A customer id column holds one kind of value: text, or numbers, as the caller gave them.
    A column mixing text and numbers (``1`` and ``"1"``) is refused, since one engine would
    merge them and another keep them apart. Missing ids are refused.
dates
    Text dates must be ISO 8601 (``YYYY-MM-DD``, optionally with a time ``HH:MM[:SS[.ffffff]]``
    after ``T`` or a space, and an optional zone ``Z`` or ``+HH:MM``), unless ``datetime_format``
    states one format for the whole column. Anything else is refused; when the values read
    under common day-first and month-first formats with different results (``01/02/2024``),
    the message says the column is ambiguous and which formats fit. Numbers are never read as
    dates without a format.
time zones
    Time-zone-aware timestamps are converted to UTC and the zone is dropped; naive timestamps
    are taken as they are. A column mixing aware and naive values is refused. A single date
    argument (``observation_period_end``) follows the same rule.
amounts
    Numeric, finite, at most :data:`MAX_AMOUNT` in absolute value (sums of larger amounts lose
    cents or overflow) and, unless allowed, not negative.
numeric arguments
    :func:`check_number` checks a number against its range and names the argument.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from crm_models.errors import N_SHOWN, DataError

#: Largest amount of money accepted in one row, in absolute value. No real purchase comes near
#: it, and sums of amounts beyond it lose cents (doubles hold 15-16 significant digits) or overflow.
MAX_AMOUNT = 1e15

#: ISO 8601 date with an optional time and zone: the one spelling read without a format, by every
#: engine (Python, RE2 in DuckDB and Java regular expressions read it alike).
ISO_DATETIME_PATTERN = (
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?"
)
#: An ISO timestamp that ends in a zone designator (an aware value), searched for in valid ISO text.
ISO_ZONE_PATTERN = r"[T ][0-9:.]+(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)$"
_ISO = re.compile(ISO_DATETIME_PATTERN)

#: Formats tried (on the values, never silently applied) to say what a non-ISO column looks like.
_CANDIDATE_FORMATS = [
    f"{d}{t}"
    for d in ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%m.%d.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y%m%d",
              "%d/%m/%y", "%m/%d/%y")
    for t in ("", " %H:%M", " %H:%M:%S")
]
#: Distinct values examined when looking for a fitting format.
_N_FORMAT_PROBE = 20_000


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


# ---------------------------------------------------------------------------------------------
# ids
# ---------------------------------------------------------------------------------------------

#: Rules of an id column, shared by every engine (so their errors read alike).
ID_MISSING = "must not be missing"
ID_MIXED = "mixes text and numbers (e.g. 1 and '1'), which would be one customer or two depending on the engine"
ID_MIXED_HINT = "Convert the column to one type first, e.g. df[col] = df[col].astype(str)."


def check_ids(df: pd.DataFrame, column: str, *, what: str = "data") -> pd.Series:
    """``df[column]`` checked as an id column: no missing value, one kind of value (text or numbers).

    Ids keep the caller's dtype; only a column mixing kinds (``1`` and ``"1"``) is refused.
    """
    ids = df[column]
    fail_rows(df, ids.isna(), column, ID_MISSING, what=what)
    if ids.dtype == object:
        kind = pd.api.types.infer_dtype(ids, skipna=True)
        if kind in ("mixed", "mixed-integer"):
            kinds = ids.map(_kind)
            fail_rows(df, (kinds != kinds.mode().iloc[0]).to_numpy(), column, ID_MIXED, what=what, hint=ID_MIXED_HINT)
    return ids


def _kind(value) -> str:
    if isinstance(value, (str, bytes)):
        return "text"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.number)):
        return "number"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------
# dates
# ---------------------------------------------------------------------------------------------

#: Rule of a column mixing time-zone-aware and naive values, shared by every engine.
TZ_MIXED = "mixes time-zone-aware and naive timestamps"
TZ_MIXED_HINT = (
    "Aware timestamps are converted to UTC; naive ones are taken as they are. State one convention for the "
    "whole column (add the zone to every value, or remove it from every value)."
)
DATE_MISSING = "must hold a date for every row (missing dates found)"


def _parseable_rule(fmt: str | None) -> str:
    return "must hold parseable dates" + (f" in format {fmt!r}" if fmt else "")


def not_iso_error(df: pd.DataFrame, column: str, values: Iterable[str], *, n_rows: int, n_total: int,
                  what: str = "data") -> DataError:
    """The error for a text date column that is not ISO 8601, saying which formats would fit.

    Parameters
    ----------
    df : pandas.DataFrame
        A few offending rows (shown in the message).
    column : str
        The date column.
    values : iterable of str
        Distinct non-ISO values of the column (a sample is enough), to look for a fitting format.
    n_rows, n_total : int
        How many rows are not ISO 8601, and how many rows were checked.
    what : str
        Name of the input.
    """
    values = sorted({str(v) for v in values})[:_N_FORMAT_PROBE]
    readings: dict[tuple, list[str]] = {}
    if values:
        probe = pd.Series(values, dtype=object)
        for fmt in _CANDIDATE_FORMATS:
            parsed = pd.to_datetime(probe, format=fmt, errors="coerce")
            if parsed.notna().all():
                readings.setdefault(tuple(parsed.astype("int64")), []).append(fmt)
    fits = [fmts[0] for fmts in readings.values()]
    iso = "ISO 8601 (YYYY-MM-DD, optionally with a time)"
    if len(fits) > 1:
        shown = " and ".join(repr(f) for f in fits[:3])
        rule = f"holds ambiguous dates: not {iso}, and they read as {shown} with different results"
        hint = f"Pass datetime_format to say which, e.g. datetime_format={fits[0]!r}."
    elif len(fits) == 1:
        rule = f"{_parseable_rule(None)}: {iso} unless datetime_format states another format"
        hint = f"Every value reads as {fits[0]!r}: pass datetime_format={fits[0]!r} if that is what they mean."
    else:
        rule = f"{_parseable_rule(None)}: {iso} unless datetime_format states another format"
        hint = "Pass datetime_format to state the format, or fix these rows."
    return DataError(column, rule, rows=df.head(N_SHOWN), n_rows=n_rows, n_total=n_total, what=what, hint=hint)


def numbers_not_dates(rows: pd.DataFrame, column: str, dtype: str, *, n_total: int, what: str = "data") -> DataError:
    """The error for a date column of numbers read without ``datetime_format`` (every row breaks it)."""
    first = rows[column].iloc[0] if len(rows) else ""
    return DataError(
        column,
        "holds numbers, not dates",
        rows=rows,
        n_rows=n_total,
        n_total=n_total,
        what=what,
        hint=f"Pass datetime_format (for example '%Y%m%d' for values like {first}) or convert the column "
        f"first (it holds {dtype} values).",
    )


def _naive_utc(parsed: pd.Series) -> pd.Series:
    """Aware datetimes converted to UTC with the zone dropped; naive ones unchanged."""
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def _is_aware(value) -> bool:
    return getattr(value, "tzinfo", None) is not None and value.tzinfo.utcoffset(value) is not None


def _date_kinds(raw: pd.Series) -> pd.Series:
    """``"text"``, ``"datetime"`` or ``"other"`` for each value of a non-numeric column."""
    if raw.dtype != object:  # a string dtype
        return pd.Series("text", index=raw.index)
    inferred = pd.api.types.infer_dtype(raw, skipna=True)
    if inferred == "string":
        return pd.Series("text", index=raw.index)
    if inferred in ("datetime", "datetime64", "date"):
        return pd.Series("datetime", index=raw.index)
    return raw.map(lambda v: "text" if isinstance(v, str) else "datetime"
                   if isinstance(v, (_dt.date, np.datetime64)) else "other")


def parse_datetimes(
    df: pd.DataFrame, column: str, *, fmt: str | None = None, what: str = "data"
) -> pd.Series:
    """``df[column]`` as naive datetimes, read by the rules of this module.

    ISO 8601 text (or ``fmt``, one format for the whole column), datetimes, and aware values
    converted to UTC; missing, unparseable, ambiguous or zone-mixing values raise
    :class:`DataError`.
    """
    raw = df[column]
    fail_rows(df, raw.isna(), column, DATE_MISSING, what=what)
    if pd.api.types.is_datetime64_any_dtype(raw):
        return _naive_utc(raw)
    if pd.api.types.is_numeric_dtype(raw) and fmt is None:
        raise numbers_not_dates(df.head(N_SHOWN), column, str(raw.dtype), n_total=len(df), what=what)
    if fmt is None and not pd.api.types.is_numeric_dtype(raw):
        kinds = _date_kinds(raw)
        if (kinds == "datetime").all():
            aware = raw.map(_is_aware).to_numpy(dtype=bool)
            if aware.any() and not aware.all():
                fail_rows(df, aware if aware.sum() <= (~aware).sum() else ~aware, column, TZ_MIXED, what=what,
                          hint=TZ_MIXED_HINT)
            return _naive_utc(pd.to_datetime(raw, utc=bool(aware.any())))
        fail_rows(df, (kinds != "text").to_numpy(), column,
                  "must hold dates written as text or as datetimes, not a mix of them or other values", what=what)
        text = raw.astype(str)
        iso = text.str.fullmatch(ISO_DATETIME_PATTERN).to_numpy(dtype=bool)
        if not iso.all():
            raise not_iso_error(df.loc[~iso], column, pd.unique(text[~iso])[:_N_FORMAT_PROBE], n_rows=int((~iso).sum()),
                                n_total=len(df), what=what)
        aware = text.str.contains(ISO_ZONE_PATTERN, regex=True).to_numpy(dtype=bool)
        if aware.any() and not aware.all():
            fail_rows(df, aware if aware.sum() <= (~aware).sum() else ~aware, column, TZ_MIXED, what=what,
                      hint=TZ_MIXED_HINT)
        parsed = _naive_utc(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=bool(aware.any())))
    else:
        text = raw.astype(str)
        zoned = "%z" in fmt or "%Z" in fmt
        parsed = _naive_utc(pd.to_datetime(text, format=fmt, errors="coerce", utc=zoned))
    fail_rows(
        df,
        parsed.isna(),
        column,
        _parseable_rule(fmt),
        what=what,
        hint="Pass datetime_format to state the format, or fix these rows.",
    )
    return parsed


def parse_timestamp(value, name: str, *, fmt: str | None = None) -> pd.Timestamp:
    """A single date argument (such as ``observation_period_end``) as a naive ``Timestamp``.

    Datetimes and Timestamps are taken as they are, ISO 8601 text is read as such, and
    ``fmt`` (the data's ``datetime_format``) is tried first for text or numbers written like
    the data. Aware values are converted to UTC and the zone dropped, as in the data. Numbers
    (``20240129``) are refused unless ``fmt`` says how to read them.
    """
    ts = None
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a date, got {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        if fmt is None:
            looks = isinstance(value, (int, np.integer)) and 10_000_101 <= value <= 99_991_231
            hint = " or pass datetime_format='%Y%m%d'" if looks else ""
            raise ValueError(f"{name}={value!r} is a number, not a date: write it as an ISO date such as "
                             f"'2024-01-29'{hint}")
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        text = None
    if text is not None:
        if fmt is not None:
            try:
                ts = pd.Timestamp(pd.to_datetime(text, format=fmt))
            except (ValueError, TypeError):
                ts = None
        if ts is None:
            if not _ISO.fullmatch(text):
                formats = [f for f in _CANDIDATE_FORMATS if pd.notna(pd.to_datetime(text, format=f, errors="coerce"))]
                readings = {pd.to_datetime(text, format=f) for f in formats}
                extra = ""
                if len(readings) > 1:
                    extra = f"; it is ambiguous (it reads as {formats[0]!r} and as {formats[1]!r})"
                elif formats:
                    extra = f"; it reads as {formats[0]!r}: pass datetime_format={formats[0]!r} if that is meant"
                raise ValueError(f"{name}={value!r} is not a date: write it as an ISO date such as '2024-01-29'"
                                 + (f" or in format {fmt!r}" if fmt else "") + extra)
            try:
                ts = pd.Timestamp(text)
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{name}={value!r} is not a date: {exc}") from None
    else:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name}={value!r} is not a date: {exc}") from None
    if pd.isna(ts):
        raise ValueError(f"{name} must be a date, got {value!r}")
    if ts.tz is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


# ---------------------------------------------------------------------------------------------
# amounts
# ---------------------------------------------------------------------------------------------

AMOUNT_TOO_LARGE = f"must be at most {MAX_AMOUNT:.0e} in absolute value (sums of larger amounts lose cents or overflow)"


def parse_amounts(df: pd.DataFrame, column: str, *, what: str = "data", allow_negative: bool = False) -> pd.Series:
    """``df[column]`` as float; missing, non-numeric, huge or (by default) negative values raise ``DataError``."""
    raw = df[column]
    fail_rows(df, raw.isna(), column, "must hold an amount for every row (missing values found)", what=what)
    if pd.api.types.is_bool_dtype(raw) or not pd.api.types.is_numeric_dtype(raw):
        values = pd.to_numeric(raw, errors="coerce")
        fail_rows(df, values.isna(), column, "must be numeric", what=what)
    else:
        values = raw
    values = values.astype("float64")
    arr = values.to_numpy()
    fail_rows(df, ~np.isfinite(arr), column, "must be finite", what=what)
    fail_rows(df, np.abs(arr) > MAX_AMOUNT, column, AMOUNT_TOO_LARGE, what=what,
              hint="Check the unit (cents written as a number of dollars?) or the file's decimal separator.")
    if not allow_negative:
        fail_rows(
            df,
            arr < 0,
            column,
            "must not be negative",
            what=what,
            hint="Returns and refunds should be netted against their purchase or removed before this step.",
        )
    return values


# ---------------------------------------------------------------------------------------------
# numeric arguments
# ---------------------------------------------------------------------------------------------


def check_number(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    unit: str = "",
) -> float | int:
    """``value`` as a float (or int) if it is a finite number in its range, else a clear ``ValueError``.

    The one check behind every numeric argument of crm_models (margins, costs, thresholds,
    budgets, alphas, probabilities, counts): booleans, text and NaN are refused, and the message
    names the argument, its range and its unit.

    Parameters
    ----------
    value : object
        The argument as given.
    name : str
        The argument's name (as the caller spells it, e.g. ``"margin"``).
    low, high : float, optional
        Bounds of the range (None: unbounded on that side).
    low_open, high_open : bool
        Exclude the bound itself.
    integer : bool
        Require a whole number (returned as ``int``).
    unit : str
        What the number counts, for the message (``"USD"``, ``"share of spend"``).

    Returns
    -------
    float or int
        The value.
    """
    lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
    hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
    kind = "a whole number " if integer else ""
    if low is not None and high is not None:
        expect = f"{name} must be {kind or 'a number '}in {lo}, {hi}"
    elif low is not None:
        expect = f"{name} must be {kind}{'>' if low_open else '>='} {low:g}"
    elif high is not None:
        expect = f"{name} must be {kind}{'<' if high_open else '<='} {high:g}"
    else:
        expect = f"{name} must be {kind or 'a finite number'}".rstrip()
    expect += f" ({unit})" if unit else ""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{expect}, got {value!r} (true/false, not a number)")
    if isinstance(value, str):
        raise ValueError(f"{expect}, got {value!r} (text, not a number)")
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{expect}, got {value!r} ({type(value).__name__}, not a number)")
    v = float(value)
    ok = math.isfinite(v) and not (integer and v != math.floor(v))
    ok = ok and not (low is not None and (v < low or (low_open and v == low)))
    ok = ok and not (high is not None and (v > high or (high_open and v == high)))
    if not ok:
        raise ValueError(f"{expect}, got {value!r}")
    return int(v) if integer else v

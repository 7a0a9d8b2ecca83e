"""From a transaction log to the inputs of every buy-till-you-die (BTYD) model.

One row per customer with

* ``frequency``: the number of *repeat* purchase periods (periods with a purchase, minus the first);
* ``recency``: time from the first to the last purchase period, in ``time_unit``;
* ``T``: time from the first purchase period to the end of observation, in ``time_unit``;
* ``monetary_value`` (optional): mean spend per repeat purchase period;
* ``log_interpurchase`` (optional): the sum over repeat purchase periods of the log of the time
  since the previous purchase period, in ``time_unit`` (BTYDplus's ``litt``), which the
  regularity models (:class:`crm_models.clv.BetaGeoCNBD` and
  :class:`crm_models.clv.ModifiedBetaGeoCNBD`) need to compare Erlang-k orders.

Two separate choices are made explicit, because mixing them up biases every model fitted later:

``grain``
    the de-duplication grain: several purchases in the same grain period count as one purchase
    whose amount is their sum. ``"D"`` (calendar day, the default), ``"h"`` (clock hour) or
    ``"W"`` (calendar week starting Monday).
``time_unit``
    the unit in which recency and T are *expressed*: ``"h"``, ``"D"``, ``"W"`` (7 days),
    ``"M"`` (an average month, 365.25 / 12 days) or ``"Y"`` (365.25 days).

The published CDNOW figures (Fader, Hardie & Lee 2005) use ``grain="D"`` with ``time_unit="W"``:
purchases are de-duplicated per calendar day and durations are then divided by seven, hence
T = 272 / 7 = 38.86 weeks for a customer who started on 1997-01-01. That is the default.
Bucketing into calendar weeks (``grain="W"``) instead merges purchases a few days apart and
biases frequency downwards (929 instead of 946 repeat customers in the CDNOW sample).

Small logs are aggregated with pandas; large logs, Parquet/CSV files and DuckDB relations are
aggregated inside DuckDB (embedded, no server), which never materialises the log in pandas and,
with a memory limit (``duckdb_config={"memory_limit": "2GB"}``), spills to disk for logs larger
than memory; Spark DataFrames are aggregated inside Spark (:mod:`crm_models.spark`). Every
engine reads the log by the same rules (:mod:`crm_models._validation`) and gives the same result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from crm_models._validation import (
    AMOUNT_TOO_LARGE,
    DATE_MISSING,
    ID_MISSING,
    ISO_DATETIME_PATTERN,
    ISO_ZONE_PATTERN,
    MAX_AMOUNT,
    TZ_MIXED,
    TZ_MIXED_HINT,
    check_ids,
    fail_rows,
    not_iso_error,
    numbers_not_dates,
    parse_amounts,
    parse_datetimes,
    parse_timestamp,
    require_columns,
)
from crm_models.errors import N_SHOWN, DataError
from crm_models.units import TIME_UNITS, check_time_unit
#: De-duplication grains: pandas ``floor``/``to_period`` code and DuckDB ``date_trunc`` part.
GRAINS: dict[str, str] = {"h": "hour", "D": "day", "W": "week"}
#: DataFrames at least this long are aggregated in DuckDB when ``engine="auto"``.
DUCKDB_MIN_ROWS = 200_000

Engine = Literal["auto", "pandas", "duckdb", "spark"]
AfterEnd = Literal["raise", "drop"]


def _unit(time_unit: str) -> pd.Timedelta:
    """The length of ``time_unit`` (a code of :data:`crm_models.units.TIME_UNITS`) as a Timedelta."""
    return pd.Timedelta(days=TIME_UNITS[check_time_unit(time_unit)])


def _check_units(time_unit: str, grain: str | None) -> str:
    check_time_unit(time_unit)
    grain = grain or ("h" if time_unit == "h" else "D")
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {list(GRAINS)}, got {grain!r}")
    return grain


def _floor(ts, grain: str):
    """Start of the grain period holding ``ts`` (a Timestamp or a datetime Series)."""
    if grain == "W":
        return ts.to_period("W").start_time if isinstance(ts, pd.Timestamp) else ts.dt.to_period("W").dt.start_time
    return ts.floor(grain) if isinstance(ts, pd.Timestamp) else ts.dt.floor(grain)


def _is_duckdb_source(transactions) -> bool:
    if isinstance(transactions, (str, os.PathLike)):
        return True
    return type(transactions).__module__.startswith("duckdb")


# ---------------------------------------------------------------------------------------------
# pandas engine
# ---------------------------------------------------------------------------------------------


def _periods_pandas(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    grain: str,
    datetime_format: str | None,
) -> pd.DataFrame:
    """Validated log collapsed to one row per (customer, grain period): columns id, period, amount;
    and each input row's grain period (a Series indexed like ``transactions``)."""
    require_columns(transactions, [customer_id_col, datetime_col, monetary_value_col], what="transactions")
    what = "transactions"
    check_ids(transactions, customer_id_col, what=what)
    when = parse_datetimes(transactions, datetime_col, fmt=datetime_format, what=what)
    amount = (
        parse_amounts(transactions, monetary_value_col, what=what)
        if monetary_value_col
        else pd.Series(0.0, index=transactions.index)
    )
    period = _floor(when, grain)
    log = pd.DataFrame({"id": transactions[customer_id_col].to_numpy(), "period": period.to_numpy(),
                        "amount": amount.to_numpy()})
    return log.groupby(["id", "period"], sort=True, as_index=False)["amount"].sum(), period


def _check_end(periods_min, n_after: int, end, after_end: str, late_rows, datetime_col: str, n_total=None) -> None:
    """Refuse an end of observation before all purchases, and purchases after it unless dropped.

    ``late_rows()`` gives a few of the input rows after the end (a DataFrame)."""
    if after_end not in ("raise", "drop"):
        raise ValueError(f"after_end must be 'raise' or 'drop', got {after_end!r}")
    if periods_min is not None and end < periods_min:
        raise ValueError(
            f"observation_period_end={end.date()} is before the first purchase in the data ({periods_min.date()}); "
            "every customer would be unobserved."
        )
    if n_after and after_end == "raise":
        raise DataError(
            datetime_col,
            f"must not lie after observation_period_end={end.date()}",
            rows=late_rows(),
            n_rows=n_after,
            n_total=n_total,
            what="transactions",
            hint="Pass after_end='drop' to leave them out explicitly, or move the end of observation.",
        )


def _summarise(
    per: pd.DataFrame, end: pd.Timestamp, unit: pd.Timedelta, include_first: bool, monetary: bool
) -> pd.DataFrame:
    """Per-customer summary from a sorted (id, period, amount) table."""
    g = per.groupby("id", sort=True)
    first = g["period"].min()
    n = g.size()
    out = pd.DataFrame(index=first.index)
    out["frequency"] = (n - (0 if include_first else 1)).astype("int64")
    out["recency"] = (g["period"].max() - first) / unit
    out["T"] = (end - first) / unit
    if monetary:
        total = g["amount"].sum()
        if include_first:
            out["monetary_value"] = total / n
        else:
            repeat_total = total - g["amount"].first()
            out["monetary_value"] = np.where(n > 1, repeat_total / (n - 1).clip(lower=1), 0.0)
    return out


def _log_interpurchase(per: pd.DataFrame, unit: pd.Timedelta, index: pd.Index) -> np.ndarray:
    """Per customer of ``index``: the sum of log(time since the previous purchase period) in
    ``unit`` over the repeat purchase periods of a sorted (id, period) table; 0 without repeats."""
    repeat = per["id"].eq(per["id"].shift()).to_numpy()
    gaps = (per["period"].diff() / unit).to_numpy()[repeat]
    sums = pd.Series(np.log(gaps), index=per["id"].to_numpy()[repeat]).groupby(level=0, sort=False).sum()
    return sums.reindex(index, fill_value=0.0).to_numpy(dtype=float)


# ---------------------------------------------------------------------------------------------
# DuckDB engine
# ---------------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _duckdb_relation(transactions, con, columns):
    """A DuckDB relation over a DataFrame, a Parquet/CSV path or an existing relation."""
    if isinstance(transactions, (str, os.PathLike)):
        path = Path(transactions)
        if not path.exists() and not any(ch in str(path) for ch in "*?["):
            raise FileNotFoundError(f"transaction file {str(path)!r} does not exist")
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            return con.read_parquet(str(path))
        if suffix in (".csv", ".txt", ".gz", ".tsv"):
            return con.read_csv(str(path))
        raise ValueError(f"can only read .parquet or .csv files, got {str(path)!r}")
    if isinstance(transactions, pd.DataFrame):
        import pyarrow as pa

        try:  # Arrow scans (zero-copy for Arrow-backed strings) are faster than DataFrame scans
            return con.from_arrow(pa.Table.from_pandas(transactions[list(columns)], preserve_index=False))
        except (pa.ArrowException, TypeError, ValueError):  # mixed-type object columns: scan as they are
            return con.from_df(transactions)
    return transactions


def _period_sql(when: str, grain: str) -> str:
    """SQL of a row's grain period: a DATE for day and week grains (cheaper to group and to
    subtract than timestamps), a TIMESTAMP for the hour grain."""
    if grain == "D":
        return f"CAST({when} AS DATE)"
    if grain == "W":
        return f"CAST(date_trunc('week', {when}) AS DATE)"
    return f"date_trunc('hour', {when})"


def _time_literal(ts: pd.Timestamp, grain: str) -> str:
    """``ts`` as a SQL literal of the type :func:`_period_sql` gives for ``grain``."""
    return f"DATE '{ts.date().isoformat()}'" if grain in ("D", "W") else f"TIMESTAMP '{ts.isoformat(sep=' ')}'"


def _when_duckdb(dt: str, dtype: str, datetime_format: str | None, datetime_col: str):
    """SQL of a row's timestamp (naive, UTC for aware values) and the date checks, by the rules of
    :mod:`crm_models._validation`: ``(when, checks, special)`` where ``special`` holds the SQL
    conditions of the non-ISO and zone checks (None when they do not apply)."""
    dtype = dtype.upper()
    special = None
    if dtype.startswith("TIMESTAMP WITH TIME ZONE") or dtype == "TIMESTAMPTZ":
        when = f"timezone('UTC', {dt})"
    elif dtype.startswith("TIMESTAMP") or dtype == "DATE":
        when = f"CAST({dt} AS TIMESTAMP)"
    elif datetime_format:
        fmt = datetime_format.replace("'", "''")
        when = f"try_strptime(CAST({dt} AS VARCHAR), '{fmt}')"
        if "%z" in datetime_format or "%Z" in datetime_format:
            when = f"timezone('UTC', {when})"
    elif dtype == "VARCHAR":
        aware = f"regexp_matches({dt}, '{ISO_ZONE_PATTERN}')"
        when = (f"CASE WHEN {aware} THEN timezone('UTC', TRY_CAST({dt} AS TIMESTAMPTZ)) "
                f"ELSE TRY_CAST({dt} AS TIMESTAMP) END")
        special = {
            "not_iso": f"{dt} IS NOT NULL AND NOT regexp_full_match({dt}, '{ISO_DATETIME_PATTERN}')",
            "aware": f"{dt} IS NOT NULL AND {aware}",
            "naive": f"{dt} IS NOT NULL AND NOT {aware}",
        }
    elif any(dtype.startswith(t) for t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                                           "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL")):
        when = None  # numbers without a format: refused
    else:
        raise DataError(
            datetime_col,
            f"holds {dtype} values, not dates",
            what="transactions",
            hint="Pass datetime_format (for example '%Y%m%d') or convert the column first.",
        )
    return when, special


def _scan_duckdb(
    rel,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    grain: str,
    datetime_format: str | None,
    end: pd.Timestamp | None,
):
    """Validate the relation in one DuckDB scan, by the rules of :mod:`crm_models._validation`
    (the same rules, in the same order, as the pandas engine).

    Returns SQL over view ``src`` of its (id, period, amount) rows, the SQL expression of a row's
    period, the first and last period (None if empty) and the number of rows after ``end``.
    """
    columns = list(rel.columns)
    missing = [c for c in (customer_id_col, datetime_col, monetary_value_col) if c is not None and c not in columns]
    if missing:
        raise DataError(
            missing[0],
            "is missing",
            what="transactions",
            message=f"transactions is missing column(s) {missing}; the columns present are {columns}.",
            hint=_MISSING_HINT,
        )
    types = dict(zip(columns, (str(t) for t in rel.types)))
    cid, dt = _quote(customer_id_col), _quote(datetime_col)
    when, special = _when_duckdb(dt, types[datetime_col], datetime_format, datetime_col)

    def example(cond: str):
        return rel.query("src", f"SELECT * FROM src WHERE {cond} LIMIT {N_SHOWN}").df()

    parseable = "must hold parseable dates" + (f" in format {datetime_format!r}" if datetime_format else "")
    checks = [(customer_id_col, ID_MISSING, f"{cid} IS NULL"), (datetime_col, DATE_MISSING, f"{dt} IS NULL")]
    if when is not None:
        checks.append((datetime_col, parseable, f"{when} IS NULL"))
    if monetary_value_col:
        mv = _quote(monetary_value_col)
        amount = f"TRY_CAST({mv} AS DOUBLE)"
        # NaN in a numeric column is a missing amount, as pandas reads it
        nan = f" OR isnan({mv})" if types[monetary_value_col].upper() in ("DOUBLE", "FLOAT") else ""
        checks += [
            (monetary_value_col, "must hold an amount for every row (missing values found)", f"{mv} IS NULL{nan}"),
            (monetary_value_col, "must be numeric", f"{mv} IS NOT NULL AND {amount} IS NULL"),
            (monetary_value_col, "must be finite", f"NOT isfinite({amount})"),
            (monetary_value_col, AMOUNT_TOO_LARGE, f"abs({amount}) > {MAX_AMOUNT!r}"),
            (monetary_value_col, "must not be negative", f"{amount} < 0"),
        ]
    else:
        amount = "0.0"
    extra = [] if special is None else [special["not_iso"], special["aware"], special["naive"]]
    if when is not None:
        period = _period_sql(when, grain)
        after = f"{period} > {_time_literal(end, grain)}" if end is not None else "false"
        head = f"min({period}), max({period}), count(*) FILTER (WHERE {after})"
    else:
        period, head = None, "NULL, NULL, 0"
    counts_sql = ", ".join(f"count(*) FILTER (WHERE {c})" for c in [c for _, _, c in checks] + extra)
    total, lo, hi, n_after, *counts = rel.query(
        "src", f"SELECT count(*), {head}, {counts_sql} FROM src").fetchall()[0]
    found = dict(zip(range(len(checks)), counts[: len(checks)]))

    def raise_check(i: int) -> None:
        col, rule, cond = checks[i]
        if found[i]:
            hint = ("Pass datetime_format to state the format, or fix these rows." if rule == parseable else
                    "Returns and refunds should be netted against their purchase or removed before this step."
                    if rule == "must not be negative" else
                    "Check the unit (cents written as a number of dollars?) or the file's decimal separator."
                    if rule == AMOUNT_TOO_LARGE else "")
            raise DataError(col, rule, rows=example(cond), n_rows=found[i], n_total=total, what="transactions",
                            hint=hint)

    # the order of the pandas engine: ids, missing dates, how dates are written, then amounts
    raise_check(0)
    raise_check(1)
    if when is None:
        raise numbers_not_dates(example("true"), datetime_col, types[datetime_col], n_total=total, what="transactions")
    if special is not None:
        n_not_iso, n_aware, n_naive = counts[len(checks):]
        if n_not_iso:
            values = [v for (v,) in rel.query(
                "src", f"SELECT DISTINCT {dt} FROM src WHERE {special['not_iso']} LIMIT 20000").fetchall()]
            raise not_iso_error(example(special["not_iso"]), datetime_col, values, n_rows=n_not_iso, n_total=total,
                                what="transactions")
        if n_aware and n_naive:
            cond = special["aware"] if n_aware <= n_naive else special["naive"]
            raise DataError(datetime_col, TZ_MIXED, rows=example(cond), n_rows=min(n_aware, n_naive), n_total=total,
                            what="transactions", hint=TZ_MIXED_HINT)
    for i in range(2, len(checks)):
        raise_check(i)
    rows_sql = f"SELECT {cid} AS id, {period} AS period, {amount} AS amount FROM src"
    bounds = [None if b is None else pd.Timestamp(b) for b in (lo, hi)]
    return rows_sql, period, *bounds, n_after, total


def _read_duckdb(transactions, duckdb_config, customer_id_col, datetime_col, monetary_value_col, grain,
                 datetime_format, end, after_end, check_ends=None):
    """Open the log in DuckDB, scan it by the input rules and apply the end-of-observation rule.

    Returns the relation, the SQL of its validated rows, the observation end (the last purchase
    period when ``end`` is None) and the first purchase period. ``check_ends(end)`` runs before
    the end rule (the calibration/holdout split checks its two dates there)."""
    con = _duckdb_connect(duckdb_config)
    rel = _duckdb_input(transactions, con, customer_id_col, datetime_col, monetary_value_col, datetime_format)
    rows_sql, period, lo, hi, n_after, total = _scan_duckdb(
        rel, customer_id_col, datetime_col, monetary_value_col, grain, datetime_format, end
    )
    _empty_check(0 if lo is None else 1)
    end = hi if end is None else end
    if check_ends is not None:
        check_ends(end)
    _check_end(
        lo, n_after, end, after_end,
        lambda: rel.query(
            "src", f"SELECT * FROM src WHERE {period} > {_time_literal(end, grain)} LIMIT {N_SHOWN}"
        ).df(),
        datetime_col, total,
    )
    return rel, rows_sql, end, lo


def _summary_duckdb(
    rel, rows_sql: str, end: pd.Timestamp, unit: pd.Timedelta, grain: str, include_first: bool, monetary: bool,
    log_interpurchase: bool = False, *, path=None, customer_id_col: str = "id",
):
    """The summary as a DataFrame indexed by ``id``, or (with ``path``) written to that Parquet file
    without passing through pandas (the id column then named ``customer_id_col``)."""
    end_lit = _time_literal(end, grain)
    # periods are whole days for the day and week grains, so differences are counted in days
    part, per_unit = ("day", unit / pd.Timedelta(days=1)) if grain in ("D", "W") else ("second", unit.total_seconds())
    minus = 0 if include_first else 1
    if include_first:
        mv = "total / n"
    else:
        mv = "CASE WHEN n > 1 THEN (total - first_amount) / (n - 1) ELSE 0.0 END"
    litt_cte = litt_col = litt_join = ""
    if log_interpurchase:  # sum of log(time since the previous purchase period), in time_unit
        litt_cte = f""",
        gaps AS (SELECT id, date_diff('{part}', lag(period) OVER (PARTITION BY id ORDER BY period), period)
                            / {per_unit!r} AS gap FROM per),
        litt AS (SELECT id, sum(ln(gap)) AS log_interpurchase FROM gaps WHERE gap IS NOT NULL GROUP BY id)"""
        litt_col = ", coalesce(litt.log_interpurchase, 0.0) AS log_interpurchase"
        litt_join = " LEFT JOIN litt USING (id)"
    sql = f"""
        WITH rows AS ({rows_sql}),
        per AS (SELECT id, period, sum(amount) AS amount FROM rows WHERE period <= {end_lit} GROUP BY id, period),
        c AS (SELECT id, min(period) AS first_p, max(period) AS last_p, count(*) AS n,
                     sum(amount) AS total, arg_min(amount, period) AS first_amount
              FROM per GROUP BY id){litt_cte}
        SELECT id AS {_quote(customer_id_col)}, CAST(n - {minus} AS BIGINT) AS frequency,
               date_diff('{part}', first_p, last_p) / {per_unit!r} AS recency,
               date_diff('{part}', first_p, {end_lit}) / {per_unit!r} AS "T"
               {", " + mv + " AS monetary_value" if monetary else ""}{litt_col}
        FROM c{litt_join} ORDER BY id
    """
    if path is not None:
        rel.query("src", sql).write_parquet(str(path))
        return None
    # through Arrow: markedly faster than .df() for a million customers, string ids above all
    return rel.query("src", sql).to_arrow_table().to_pandas().set_index(customer_id_col)


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------


#: Appended to a missing-column error.
_MISSING_HINT = (
    "Pass the right names through customer_id_col, datetime_col and monetary_value_col "
    "(monetary_value_col=None for a log without amounts)."
)


def rfm_summary(
    transactions,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str | None = "amount",
    observation_period_end=None,
    time_unit: str = "W",
    include_first_transaction: bool = False,
    *,
    grain: str | None = None,
    datetime_format: str | None = None,
    after_end: AfterEnd = "raise",
    engine: Engine = "auto",
    include_log_interpurchase: bool = False,
    duckdb_config: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Frequency, recency, T (and monetary value) per customer, indexed by customer id.

    Parameters
    ----------
    transactions : DataFrame, str, os.PathLike, duckdb.DuckDBPyRelation or pyspark.sql.DataFrame
        One row per purchase: a DataFrame, a path to a Parquet or CSV file, a DuckDB
        relation or a Spark DataFrame. Files and relations are aggregated inside DuckDB, Spark
        DataFrames inside Spark (see :mod:`crm_models.spark`). Every engine reads the log by
        the same rules (:mod:`crm_models._validation`): ids keep their type and must not mix
        text and numbers; text dates are ISO 8601 unless ``datetime_format`` says otherwise,
        and ambiguous ones are refused; time-zone-aware timestamps are converted to UTC, and
        a column mixing aware and naive values is refused.
    customer_id_col, datetime_col, monetary_value_col : str
        Column names (defaults ``customer_id``, ``timestamp``, ``amount``, as in the shipped
        datasets). ``monetary_value_col=None`` summarises a log without amounts; amounts must be
        non-negative and at most 1e15 (money, any currency).
    observation_period_end : date-like, optional
        End of observation (a date, or text written like the data's dates; aware values are
        converted to UTC). Defaults to the last purchase in the data.
    time_unit : str
        Unit of ``recency`` and ``T``: a code of :data:`crm_models.units.TIME_UNITS` (``"W"``,
        weeks of 7 days, by default; ``"D"``, ``"M"`` = 365.25/12 days, ``"Y"``, ``"h"``...).
    include_first_transaction : bool
        Count the first purchase in ``frequency`` and ``monetary_value`` (BTYD models need False).
    grain : {"D", "h", "W"}, optional
        De-duplication grain: purchases in the same calendar day (``"D"``, default), hour
        (``"h"``, the default when ``time_unit="h"``) or Monday-start week (``"W"``) count once.
    datetime_format : str, optional
        ``strptime`` format of the date column when it is text or numbers (e.g. ``"%Y%m%d"``).
    after_end : {"raise", "drop"}
        Purchases after ``observation_period_end`` raise a :class:`~crm_models.errors.DataError`
        (default) or, with ``"drop"``, are left out.
    include_log_interpurchase : bool
        Add ``log_interpurchase``: the sum over repeat purchase periods of the log of the time
        since the previous purchase period, in ``time_unit`` (BTYDplus's ``litt``; 0 without
        repeat purchases). The regularity models need it to choose their Erlang order
        (pandas and DuckDB engines).
    engine : {"auto", "pandas", "duckdb", "spark"}
        ``"auto"`` uses Spark for Spark DataFrames, DuckDB for files, relations and logs of
        200,000 rows or more, pandas otherwise. Every engine gives the same result.
    duckdb_config : dict, optional
        Settings of the DuckDB connection made for files and DataFrames, e.g.
        ``{"memory_limit": "2GB", "threads": 2, "temp_directory": "/scratch"}``: DuckDB then
        spills to disk and summarises logs larger than memory. (A relation keeps its own
        connection's settings.)

    Returns
    -------
    DataFrame
        Indexed by customer id: ``frequency`` (int, repeat purchase periods), ``recency`` and
        ``T`` (float, in ``time_unit``) and, with a monetary column, ``monetary_value`` (mean
        spend per repeat period, 0 for customers without repeat purchases); with
        ``include_log_interpurchase``, ``log_interpurchase`` (float).

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                     "timestamp": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
    ...                     "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> rfm_summary(log, observation_period_end="2024-01-29")
                 frequency  recency    T  monetary_value
    customer_id
    1                    1      2.0  4.0            20.0
    2                    0      0.0  3.0             0.0
    >>> rfm_summary(log, observation_period_end="2024-01-29", monetary_value_col=None,
    ...             include_log_interpurchase=True)["log_interpurchase"].round(4).tolist()
    [0.6931, 0.0]
    """
    grain = _check_units(time_unit, grain)
    unit = _unit(time_unit)
    monetary = monetary_value_col is not None
    end = None if observation_period_end is None else _floor(
        parse_timestamp(observation_period_end, "observation_period_end", fmt=datetime_format), grain
    )
    kind = _engine_for(transactions, engine)
    if kind == "spark":
        if include_log_interpurchase:
            raise ValueError("include_log_interpurchase=True is computed by the pandas and DuckDB engines, not Spark; "
                             "summarise the log with engine='duckdb' (a Parquet export of the Spark log)")
        from crm_models.spark import _collect_summary

        return _collect_summary(
            transactions, customer_id_col, datetime_col, monetary_value_col, end, time_unit,
            include_first_transaction, grain, datetime_format, after_end,
        )
    if kind == "pandas":
        per, row_period = _periods_pandas(
            transactions, customer_id_col, datetime_col, monetary_value_col, grain, datetime_format
        )
        _empty_check(len(per))
        end = per["period"].max() if end is None else end
        late = per["period"] > end
        _check_end(
            per["period"].min(), int((row_period > end).sum()), end, after_end,
            lambda: transactions.loc[(row_period > end).to_numpy()].head(N_SHOWN), datetime_col, len(transactions),
        )
        out = _summarise(per.loc[~late], end, unit, include_first_transaction, monetary)
        if include_log_interpurchase:
            out["log_interpurchase"] = _log_interpurchase(per.loc[~late], unit, out.index)
        out.index.name = customer_id_col
        return out

    rel, rows_sql, end, _ = _read_duckdb(transactions, duckdb_config, customer_id_col, datetime_col,
                                         monetary_value_col, grain, datetime_format, end, after_end)
    out = _summary_duckdb(
        rel, rows_sql, end, unit, grain, include_first_transaction, monetary, include_log_interpurchase
    )
    out.index.name = customer_id_col
    return out


def write_rfm_summary(
    transactions,
    path,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str | None = "amount",
    observation_period_end=None,
    time_unit: str = "W",
    include_first_transaction: bool = False,
    *,
    grain: str | None = None,
    datetime_format: str | None = None,
    after_end: AfterEnd = "raise",
    duckdb_config: Mapping[str, object] | None = None,
    overwrite: bool = False,
) -> Path:
    """:func:`rfm_summary` written to a Parquet file by DuckDB, never held in memory.

    For logs of more customers than fit in memory: with ``duckdb_config={"memory_limit": "2GB"}``
    DuckDB validates the log (the rules of :func:`rfm_summary`), aggregates it and writes the
    summary, spilling to disk as needed. The file (sorted by customer id) is what
    :func:`crm_models.scale.write_scores` scores in chunks. Written atomically.

    Parameters
    ----------
    transactions : DataFrame, str, os.PathLike or duckdb.DuckDBPyRelation
        One row per purchase (a Parquet or CSV path keeps the log out of memory too).
    path : str or os.PathLike
        The Parquet file to write (its folder must exist).
    customer_id_col, datetime_col, monetary_value_col, observation_period_end, time_unit
        As in :func:`rfm_summary`.
    include_first_transaction, grain, datetime_format, after_end, duckdb_config
        As in :func:`rfm_summary`.
    overwrite : bool
        Replace an existing file (never the input).

    Returns
    -------
    pathlib.Path
        ``path``: columns ``customer_id_col``, ``frequency``, ``recency``, ``T`` (and
        ``monetary_value``), one row per customer.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": ["2024-01-01", "2024-01-15", "2024-01-08"],
    ...                     "amount": [10.0, 20.0, 7.0]})
    >>> out = write_rfm_summary(log, pathlib.Path(tempfile.mkdtemp()) / "summary.parquet")
    >>> pd.read_parquet(out)
       customer_id  frequency  recency    T  monetary_value
    0            1          1      2.0  2.0            20.0
    1            2          0      0.0  1.0             0.0
    """
    from crm_models._files import atomic_path, check_output

    inputs = [transactions] if isinstance(transactions, (str, os.PathLike)) else []
    path = check_output(path, overwrite=overwrite, inputs=inputs, what="summary")
    grain = _check_units(time_unit, grain)
    unit = _unit(time_unit)
    end = None if observation_period_end is None else _floor(
        parse_timestamp(observation_period_end, "observation_period_end", fmt=datetime_format), grain
    )
    if _engine_for(transactions, "duckdb") != "duckdb":  # pragma: no cover - _engine_for raises first
        raise TypeError("write_rfm_summary reads DataFrames, files and DuckDB relations")
    rel, rows_sql, end, _ = _read_duckdb(transactions, duckdb_config, customer_id_col, datetime_col,
                                         monetary_value_col, grain, datetime_format, end, after_end)
    with atomic_path(path) as tmp:
        _summary_duckdb(rel, rows_sql, end, unit, grain, include_first_transaction, monetary_value_col is not None,
                        path=tmp, customer_id_col=customer_id_col)
    return path


def _is_spark(transactions) -> bool:
    return type(transactions).__module__.startswith("pyspark.")


def _engine_for(transactions, engine: str) -> str:
    """The engine that aggregates ``transactions``: ``"pandas"``, ``"duckdb"`` or ``"spark"``."""
    if engine not in ("auto", "pandas", "duckdb", "spark"):
        raise ValueError(f"engine must be 'auto', 'pandas', 'duckdb' or 'spark', got {engine!r}")
    if _is_spark(transactions):
        if engine not in ("auto", "spark"):
            raise TypeError(f"engine={engine!r} cannot read a Spark DataFrame; use engine='spark' (or 'auto')")
        return "spark"
    if engine == "spark":
        raise TypeError(f"engine='spark' needs a pyspark DataFrame, got {type(transactions).__name__}")
    if engine == "pandas" or (engine == "auto" and isinstance(transactions, pd.DataFrame)
                              and len(transactions) < DUCKDB_MIN_ROWS):
        if not isinstance(transactions, pd.DataFrame):
            raise TypeError("engine='pandas' needs a DataFrame; use engine='duckdb' for files and relations")
        return "pandas"
    return "duckdb"


def _duckdb_connect(config=None):
    """A DuckDB connection (``config`` as for ``duckdb.connect``, e.g. ``{"memory_limit": "2GB"}``)."""
    import duckdb

    if config is not None and not isinstance(config, Mapping):
        raise TypeError(f"duckdb_config must be a dict of DuckDB settings, got {type(config).__name__}")
    con = duckdb.connect(config=dict(config or {}))
    con.execute("SET TimeZone = 'UTC'")  # only what DuckDB shows: aware values are converted to UTC explicitly
    return con


def _duckdb_input(transactions, con, customer_id_col, datetime_col, monetary_value_col, datetime_format):
    """A DuckDB relation over the log; a DataFrame first passes the checks that only pandas values
    can break (ids mixing text and numbers, dates mixing text and datetime objects)."""
    if isinstance(transactions, pd.DataFrame):
        require_columns(transactions, [customer_id_col, datetime_col, monetary_value_col], what="transactions")
        check_ids(transactions, customer_id_col, what="transactions")
        raw = transactions[datetime_col]
        if raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) != "string":
            fail_rows(transactions, raw.isna(), datetime_col, DATE_MISSING, what="transactions")
            transactions = transactions.assign(**{datetime_col: parse_datetimes(
                transactions, datetime_col, fmt=datetime_format, what="transactions")})
    used = [c for c in (customer_id_col, datetime_col, monetary_value_col) if c is not None]
    return _duckdb_relation(transactions, con, used)


def _empty_check(n: int) -> None:
    if n == 0:
        raise DataError(None, "is empty: there is no purchase to summarise", what="transactions")


def calibration_holdout_split(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    calibration_period_end=None,
    observation_period_end=None,
    monetary_value_col: str | None = "amount",
    time_unit: str = "W",
    include_first_transaction: bool = False,
    *,
    grain: str | None = None,
    datetime_format: str | None = None,
    after_end: AfterEnd = "raise",
    include_log_interpurchase: bool = False,
    engine: Engine = "auto",
    duckdb_config: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Calibration-period summary plus what each customer did in the holdout period.

    A purchase on the calibration end date belongs to the calibration period. Unlike lifetimes'
    ``calibration_and_holdout_data``, which averages raw transaction lines in the holdout, the
    holdout monetary value averages per-period totals, exactly as the calibration value does.

    Parameters
    ----------
    transactions : DataFrame, str, os.PathLike or duckdb.DuckDBPyRelation
        One row per purchase: a DataFrame, a path to a Parquet or CSV file, or a DuckDB
        relation (read by the rules of :func:`rfm_summary`).
    customer_id_col, datetime_col : str
        Column names (defaults ``customer_id``, ``timestamp``).
    calibration_period_end : date-like
        Last date of the calibration period (required).
    observation_period_end : date-like, optional
        Last date of the holdout period; default the last purchase in the data.
    monetary_value_col : str or None
        Amount column (default ``amount``); ``None`` for a log without amounts.
    time_unit : str
        Unit of recency, T and the holdout duration (a code of :data:`crm_models.units.TIME_UNITS`).
    include_first_transaction : bool
        As in :func:`rfm_summary`.
    grain, datetime_format, after_end
        As in :func:`rfm_summary`.
    include_log_interpurchase : bool
        Add ``log_interpurchase_cal`` (as in :func:`rfm_summary`, over the calibration period).
    engine : {"auto", "pandas", "duckdb"}
        As in :func:`rfm_summary` (both engines give the same result).
    duckdb_config : dict, optional
        Settings of the DuckDB connection, e.g. ``{"memory_limit": "2GB"}``.

    Returns
    -------
    DataFrame
        One row per customer who bought in the calibration period, indexed by customer id:
        ``frequency_cal``, ``recency_cal``, ``T_cal`` (and ``monetary_value_cal``,
        ``log_interpurchase_cal``) as in :func:`rfm_summary` over purchases up to
        ``calibration_period_end``;
        ``frequency_holdout`` (purchase periods after it, up to ``observation_period_end``),
        ``monetary_value_holdout`` (mean spend per holdout purchase period, 0 if none) and
        ``duration_holdout`` (length of the holdout in ``time_unit``). Customers first seen in
        the holdout are counted in ``result.attrs["new_in_holdout"]``.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2, 1, 3],
    ...                     "timestamp": ["2024-01-01", "2024-01-08", "2024-01-03", "2024-02-05", "2024-02-01"],
    ...                     "amount": [10.0, 12.0, 5.0, 20.0, 9.0]})
    >>> split = calibration_holdout_split(log, calibration_period_end="2024-01-31",
    ...                                   observation_period_end="2024-02-28")
    >>> split[["frequency_cal", "T_cal", "frequency_holdout", "duration_holdout"]]
                 frequency_cal     T_cal  frequency_holdout  duration_holdout
    customer_id
    1                        1  4.285714                  1               4.0
    2                        0  4.000000                  0               4.0
    >>> split.attrs["new_in_holdout"]
    1
    """
    if calibration_period_end is None:
        raise ValueError("calibration_period_end is required (the last date of the calibration period)")
    grain = _check_units(time_unit, grain)
    unit = _unit(time_unit)
    cal_end = _floor(parse_timestamp(calibration_period_end, "calibration_period_end", fmt=datetime_format), grain)
    obs_end = None if observation_period_end is None else _floor(
        parse_timestamp(observation_period_end, "observation_period_end", fmt=datetime_format), grain
    )
    monetary = monetary_value_col is not None
    kind = _engine_for(transactions, engine)
    if kind == "spark":
        raise TypeError("calibration_holdout_split reads DataFrames, files and DuckDB relations; summarise a Spark "
                        "log with rfm_summary (crm_models.spark)")
    if kind == "duckdb":
        out = _split_duckdb(transactions, customer_id_col, datetime_col, monetary_value_col, grain, datetime_format,
                            cal_end, obs_end, after_end, unit, include_first_transaction, duckdb_config,
                            include_log_interpurchase)
        out.index.name = customer_id_col
        return out
    per, row_period = _periods_pandas(
        transactions, customer_id_col, datetime_col, monetary_value_col, grain, datetime_format
    )
    _empty_check(len(per))
    obs_end = per["period"].max() if obs_end is None else obs_end
    _check_split_ends(cal_end, obs_end)
    late = per["period"] > obs_end
    _check_end(
        per["period"].min(), int((row_period > obs_end).sum()), obs_end, after_end,
        lambda: transactions.loc[(row_period > obs_end).to_numpy()].head(N_SHOWN), datetime_col, len(transactions),
    )
    _check_calibration_end(cal_end, per["period"].min())
    in_cal = per["period"] <= cal_end
    cal = _summarise(per.loc[in_cal], cal_end, unit, include_first_transaction, monetary)
    if include_log_interpurchase:
        cal["log_interpurchase"] = _log_interpurchase(per.loc[in_cal], unit, cal.index)
    cal = cal.add_suffix("_cal")
    hold = per.loc[~in_cal & ~late].groupby("id", sort=True)["amount"].agg(["size", "mean"])
    out = cal.join(hold, how="left")
    out["frequency_holdout"] = out.pop("size").fillna(0).astype("int64")
    mean = out.pop("mean")
    if monetary:
        out["monetary_value_holdout"] = mean.fillna(0.0)
    out["duration_holdout"] = (obs_end - cal_end) / unit
    out.index.name = customer_id_col
    out.attrs["new_in_holdout"] = int(len(hold.index.difference(cal.index)))
    return out


def _check_split_ends(cal_end: pd.Timestamp, obs_end: pd.Timestamp) -> None:
    if obs_end <= cal_end:
        raise ValueError(
            f"observation_period_end ({obs_end.date()}) must be after calibration_period_end ({cal_end.date()})"
        )


def _check_calibration_end(cal_end: pd.Timestamp, first: pd.Timestamp) -> None:
    if cal_end < first:
        raise ValueError(f"calibration_period_end={cal_end.date()} is before the first purchase ({first.date()})")


def _split_duckdb(transactions, customer_id_col, datetime_col, monetary_value_col, grain, datetime_format, cal_end,
                  obs_end, after_end, unit, include_first, duckdb_config, log_interpurchase=False) -> pd.DataFrame:
    """:func:`calibration_holdout_split` inside DuckDB: the log is read once to validate it and once
    to aggregate it, never materialised in pandas."""
    monetary = monetary_value_col is not None
    rel, rows_sql, obs_end, lo = _read_duckdb(
        transactions, duckdb_config, customer_id_col, datetime_col, monetary_value_col, grain, datetime_format,
        obs_end, after_end, check_ends=lambda end: _check_split_ends(cal_end, end))
    _check_calibration_end(cal_end, lo)
    cal_lit, obs_lit = _time_literal(cal_end, grain), _time_literal(obs_end, grain)
    part, per_unit = ("day", unit / pd.Timedelta(days=1)) if grain in ("D", "W") else ("second", unit.total_seconds())
    minus = 0 if include_first else 1
    mv = "total / n" if include_first else "CASE WHEN n > 1 THEN (total - first_amount) / (n - 1) ELSE 0.0 END"
    litt_cte = litt_col = litt_join = ""
    if log_interpurchase:  # as in _summary_duckdb, over the calibration period
        litt_cte = f""",
        gaps AS (SELECT id, date_diff('{part}', lag(period) OVER (PARTITION BY id ORDER BY period), period)
                            / {per_unit!r} AS gap FROM per WHERE period <= {cal_lit}),
        litt AS (SELECT id, sum(ln(gap)) AS litt FROM gaps WHERE gap IS NOT NULL GROUP BY id)"""
        litt_col = "coalesce(litt.litt, 0.0) AS log_interpurchase_cal, "
        litt_join = " LEFT JOIN litt ON c.id = litt.id"
    sql = f"""
        WITH rows AS ({rows_sql}),
        per AS (SELECT id, period, sum(amount) AS amount FROM rows WHERE period <= {obs_lit} GROUP BY id, period),
        c AS (SELECT id, min(period) AS first_p, max(period) AS last_p, count(*) AS n,
                     sum(amount) AS total, arg_min(amount, period) AS first_amount
              FROM per WHERE period <= {cal_lit} GROUP BY id),
        h AS (SELECT id, count(*) AS n_hold, avg(amount) AS mean_hold FROM per WHERE period > {cal_lit} GROUP BY id){litt_cte}
        SELECT c.id AS id, CAST(n - {minus} AS BIGINT) AS frequency_cal,
               date_diff('{part}', first_p, last_p) / {per_unit!r} AS recency_cal,
               date_diff('{part}', first_p, {cal_lit}) / {per_unit!r} AS "T_cal",
               {mv + " AS monetary_value_cal, " if monetary else ""}{litt_col}
               CAST(coalesce(n_hold, 0) AS BIGINT) AS frequency_holdout
               {", coalesce(mean_hold, 0.0) AS monetary_value_holdout" if monetary else ""}
        FROM c LEFT JOIN h ON c.id = h.id{litt_join} ORDER BY c.id
    """
    out = rel.query("src", sql).to_arrow_table().to_pandas().set_index("id")
    out["duration_holdout"] = (obs_end - cal_end) / unit
    new = rel.query("src", f"""
        WITH rows AS ({rows_sql})
        SELECT count(DISTINCT id) FILTER (WHERE first_p > {cal_lit}) FROM
            (SELECT id, min(period) AS first_p FROM rows WHERE period <= {obs_lit} GROUP BY id)""").fetchall()[0][0]
    out.attrs["new_in_holdout"] = int(new)
    return out

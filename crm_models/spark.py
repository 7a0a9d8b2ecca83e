"""Past one machine: the customer summary, the fit and the scores inside Apache Spark.

The same code runs on a laptop (``local[*]``) and on a cluster; only the ``SparkSession``
changes. The log never leaves Spark:

1. :func:`rfm_summary_spark` aggregates a Spark log into one row per customer (frequency,
   recency, T, monetary value) inside Spark, by the rules every engine follows
   (:mod:`crm_models._validation`: ids as given, ISO 8601 dates unless ``datetime_format``
   says otherwise, aware times in UTC, bounded amounts) and with the same result as DuckDB;
   :func:`crm_models.rfm_summary` calls it for a Spark DataFrame and collects the summary;
2. :func:`compress_summary` collects only the summary's unique rows with their counts, which
   is all a fit needs (a few hundred thousand rows for millions of customers);
   :func:`fit_scorer` fits a :class:`~crm_models.pipeline.CustomerScorer` on it on the driver;
3. :func:`score_spark` scores every customer inside Spark (``mapInPandas``, the fitted scorer
   shipped to the executors as its JSON document), without collecting the customer table.

Time zones: a Spark ``TIMESTAMP`` is an instant, read in UTC like every aware value (a
``TIMESTAMP_NTZ`` or a ``DATE`` is read as it is). If the session's time zone is not UTC, a
warning says so, since naive text Spark read into ``TIMESTAMP`` was read in that zone.

Examples
--------
>>> from pyspark.sql import SparkSession
>>> spark = SparkSession.builder.master("local[1]").config("spark.sql.session.timeZone", "UTC").getOrCreate()
>>> log = spark.createDataFrame(
...     pd.DataFrame({"customer_id": ["a", "a", "b"], "timestamp": ["2024-01-01", "2024-01-15", "2024-01-08"],
...                   "amount": [10.0, 20.0, 7.0]}))
>>> rfm_summary_spark(log, observation_period_end="2024-01-29").orderBy("customer_id").toPandas()
  customer_id  frequency  recency    T  monetary_value
0           a          1      2.0  4.0            20.0
1           b          0      0.0  3.0             0.0
"""

from __future__ import annotations

import warnings

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
    not_iso_error,
    numbers_not_dates,
    parse_timestamp,
)
from crm_models.errors import N_SHOWN, DataError

__all__ = ["rfm_summary_spark", "compress_summary", "fit_scorer", "score_spark"]

_EPOCH = pd.Timestamp("1970-01-01")
_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000


def _functions():
    try:
        from pyspark.sql import functions as F
    except ImportError:  # pragma: no cover - pyspark is an optional dependency
        raise ImportError("crm_models.spark needs pyspark: pip install pyspark (and Java 17)") from None
    return F


def _check_frame(transactions) -> None:
    if not type(transactions).__module__.startswith("pyspark."):
        raise TypeError(f"transactions must be a pyspark.sql.DataFrame, got {type(transactions).__name__}")


def _parse_udf(fmt: str | None):
    """A pandas UDF: text dates -> microseconds since 1970 of the naive UTC time (null if unparseable),
    read exactly as the pandas engine reads them (ISO 8601, or ``fmt`` for the whole column)."""
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("long")
    def parse(text: pd.Series) -> pd.Series:
        text = text.astype(object)
        if fmt is None:
            aware = text.str.contains(ISO_ZONE_PATTERN, regex=True, na=False)
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
            naive = pd.to_datetime(text.where(~aware), format="ISO8601", errors="coerce")
            parsed = parsed.dt.tz_localize(None).where(aware, naive)
        else:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc="%z" in fmt or "%Z" in fmt)
            if getattr(parsed.dt, "tz", None) is not None:
                parsed = parsed.dt.tz_localize(None)
        micros = (parsed - _EPOCH) // pd.Timedelta(microseconds=1)
        return micros.astype("Int64")

    return parse


def _micros(df, datetime_col: str, datetime_format: str | None):
    """``(micros, kind, special)``: a Spark column of each row's naive UTC time in microseconds
    since 1970, and the SQL conditions of the text checks (None when the column is not text)."""
    from pyspark.sql import types as T

    F = _functions()
    col = F.col(f"`{datetime_col}`")
    dtype = df.schema[datetime_col].dataType
    special = None
    if isinstance(dtype, T.TimestampType):  # an instant: UTC
        tz = df.sparkSession.conf.get("spark.sql.session.timeZone")
        if tz not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
            warnings.warn(
                f"Spark TIMESTAMP values are instants and crm_models reads them in UTC; this session's time zone is "
                f"{tz}, so times written without a zone were read in {tz} and are shifted. Set "
                "spark.sql.session.timeZone to UTC, or store naive times as TIMESTAMP_NTZ.",
                UserWarning,
                stacklevel=3,
            )
        return F.unix_micros(col), special
    if isinstance(dtype, (T.TimestampNTZType, T.DateType)):  # a wall clock: as it is
        wall = col.cast("timestamp_ntz")
        day = F.unix_date(F.to_date(wall)).cast("long")
        secs = F.hour(wall) * 3600 + F.minute(wall) * 60 + F.second(wall)
        return day * _DAY_US + secs.cast("long") * 1_000_000, special
    if isinstance(dtype, T.StringType) and datetime_format is None:
        special = {
            "not_iso": col.isNotNull() & ~col.rlike(f"^(?:{ISO_DATETIME_PATTERN})\\z"),
            "aware": col.isNotNull() & col.rlike(ISO_ZONE_PATTERN),
        }
        special["naive"] = col.isNotNull() & ~col.rlike(ISO_ZONE_PATTERN)
        return _parse_udf(None)(col), special
    if isinstance(dtype, T.NumericType) and datetime_format is None:
        return None, special
    if isinstance(dtype, (T.StringType, T.NumericType)):
        return _parse_udf(datetime_format)(col.cast("string")), special
    raise DataError(
        datetime_col,
        f"holds {dtype.simpleString().upper()} values, not dates",
        what="transactions",
        hint="Pass datetime_format (for example '%Y%m%d') or convert the column first.",
    )


def _periods(micros, grain: str):
    """Each row's grain period as a whole number: days, Monday-start weeks (as the day of their
    Monday) or hours since 1970."""
    F = _functions()
    if grain == "h":
        return F.floor(micros / _HOUR_US).cast("long")
    day = F.floor(micros / _DAY_US).cast("long")
    if grain == "W":  # 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays
        return day - F.pmod(day + 3, F.lit(7))
    return day


def _period_of(ts: pd.Timestamp, grain: str) -> int:
    from crm_models.transactions import _floor

    start = _floor(ts, grain)
    step = pd.Timedelta(hours=1) if grain == "h" else pd.Timedelta(days=1)
    return int((start - _EPOCH) // step)


def _timestamp_of(period: int, grain: str) -> pd.Timestamp:
    return _EPOCH + (pd.Timedelta(hours=int(period)) if grain == "h" else pd.Timedelta(days=int(period)))


def _summary_frame(transactions, customer_id_col, datetime_col, monetary_value_col, end, time_unit,
                   include_first_transaction, grain, datetime_format, after_end):
    """The validated summary as a Spark DataFrame, and the end of observation used."""
    from pyspark.sql import types as T

    from crm_models.transactions import _MISSING_HINT, _check_end, _check_units, _empty_check, _unit

    F = _functions()
    _check_frame(transactions)
    columns = list(transactions.columns)
    missing = [c for c in (customer_id_col, datetime_col, monetary_value_col) if c is not None and c not in columns]
    if missing:
        raise DataError(missing[0], "is missing", what="transactions", hint=_MISSING_HINT,
                        message=f"transactions is missing column(s) {missing}; the columns present are {columns}.")
    grain = _check_units(time_unit, grain)
    unit = _unit(time_unit)
    cid, dt = F.col(f"`{customer_id_col}`"), F.col(f"`{datetime_col}`")
    micros, special = _micros(transactions, datetime_col, datetime_format)
    parseable = "must hold parseable dates" + (f" in format {datetime_format!r}" if datetime_format else "")
    checks = [(customer_id_col, ID_MISSING, cid.isNull()), (datetime_col, DATE_MISSING, dt.isNull())]
    if micros is not None:
        checks.append((datetime_col, parseable, dt.isNotNull() & micros.isNull()))
    if monetary_value_col:
        mv = F.col(f"`{monetary_value_col}`")
        amount = F.expr(f"try_cast(`{monetary_value_col}` AS DOUBLE)")
        missing = mv.isNull()
        if isinstance(transactions.schema[monetary_value_col].dataType, (T.DoubleType, T.FloatType)):
            missing = missing | F.isnan(mv)  # NaN in a numeric column is a missing amount, as pandas reads it
        checks += [
            (monetary_value_col, "must hold an amount for every row (missing values found)", missing),
            (monetary_value_col, "must be numeric", mv.isNotNull() & amount.isNull()),
            (monetary_value_col, "must be finite", F.abs(amount) == float("inf")),
            (monetary_value_col, AMOUNT_TOO_LARGE, (F.abs(amount) > MAX_AMOUNT) & (F.abs(amount) != float("inf"))),
            (monetary_value_col, "must not be negative", amount < 0),
        ]
    else:
        amount = F.lit(0.0)
    extra = [] if special is None else [special["not_iso"], special["aware"], special["naive"]]
    period = _periods(micros, grain) if micros is not None else F.lit(None).cast("long")
    end_p = None if end is None else _period_of(end, grain)
    after = (period > F.lit(end_p)) if end_p is not None else F.lit(False)
    aggs = [F.count(F.lit(1)), F.min(period), F.max(period), F.sum(after.cast("long"))]
    aggs += [F.sum(F.coalesce(c, F.lit(False)).cast("long")) for c in [c for _, _, c in checks] + extra]
    total, lo, hi, n_after, *counts = transactions.agg(*aggs).collect()[0]
    counts = [int(c or 0) for c in counts]

    def example(cond):
        return transactions.filter(cond).limit(N_SHOWN).toPandas()

    def raise_check(i: int) -> None:
        col, rule, cond = checks[i]
        if counts[i]:
            hint = ("Pass datetime_format to state the format, or fix these rows." if rule == parseable else
                    "Returns and refunds should be netted against their purchase or removed before this step."
                    if rule == "must not be negative" else
                    "Check the unit (cents written as a number of dollars?) or the file's decimal separator."
                    if rule == AMOUNT_TOO_LARGE else "")
            raise DataError(col, rule, rows=example(cond), n_rows=counts[i], n_total=total, what="transactions",
                            hint=hint)

    raise_check(0)
    raise_check(1)
    if micros is None:
        raise numbers_not_dates(example(F.lit(True)), datetime_col, transactions.schema[datetime_col].dataType
                                .simpleString(), n_total=total, what="transactions")
    if special is not None:
        n_not_iso, n_aware, n_naive = counts[len(checks):]
        if n_not_iso:
            values = [r[0] for r in transactions.filter(special["not_iso"]).select(dt).distinct().limit(20_000).collect()]
            raise not_iso_error(example(special["not_iso"]), datetime_col, values, n_rows=n_not_iso, n_total=total,
                                what="transactions")
        if n_aware and n_naive:
            cond = special["aware"] if n_aware <= n_naive else special["naive"]
            raise DataError(datetime_col, TZ_MIXED, rows=example(cond), n_rows=min(n_aware, n_naive), n_total=total,
                            what="transactions", hint=TZ_MIXED_HINT)
    for i in range(2, len(checks)):
        raise_check(i)
    _empty_check(0 if lo is None else 1)
    end = _timestamp_of(hi, grain) if end is None else end
    end_p = _period_of(end, grain)
    _check_end(_timestamp_of(lo, grain), int(n_after or 0), end, after_end,
               lambda: example(period > F.lit(end_p)), datetime_col, total)

    # periods are whole days (or hours): differences in days (or seconds) over the unit's length,
    # exactly as the DuckDB engine computes them
    if grain == "h":
        scale, per_unit = 3600.0, unit.total_seconds()
    else:
        scale, per_unit = 1.0, unit / pd.Timedelta(days=1)
    rows = transactions.select(cid.alias("id"), period.alias("period"), amount.alias("amount"))
    per = rows.filter(F.col("period") <= F.lit(end_p)).groupBy("id", "period").agg(F.sum("amount").alias("amount"))
    c = per.groupBy("id").agg(
        F.min("period").alias("first_p"), F.max("period").alias("last_p"), F.count(F.lit(1)).alias("n"),
        F.sum("amount").alias("total"), F.min_by("amount", "period").alias("first_amount"),
    )
    minus = 0 if include_first_transaction else 1
    out = [
        F.col("id").alias(customer_id_col),
        (F.col("n") - minus).cast("long").alias("frequency"),
        ((F.col("last_p") - F.col("first_p")) * scale / per_unit).alias("recency"),
        ((F.lit(end_p) - F.col("first_p")) * scale / per_unit).alias("T"),
    ]
    if monetary_value_col:
        mean = (F.col("total") / F.col("n") if include_first_transaction else
                F.when(F.col("n") > 1, (F.col("total") - F.col("first_amount")) / (F.col("n") - 1)).otherwise(0.0))
        out.append(mean.alias("monetary_value"))
    return c.select(*out), end


def rfm_summary_spark(
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
    after_end: str = "raise",
):
    """:func:`crm_models.rfm_summary` inside Spark: one row per customer, as a Spark DataFrame.

    The log is validated in one Spark job (the same rules and messages as the pandas and DuckDB
    engines) and aggregated lazily; nothing is collected but a few offending rows when a rule
    is broken.

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per purchase.
    customer_id_col, datetime_col, monetary_value_col, observation_period_end, time_unit
        As in :func:`crm_models.rfm_summary`.
    include_first_transaction, grain, datetime_format, after_end
        As in :func:`crm_models.rfm_summary`.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``customer_id_col`` (as in the log), ``frequency`` (long), ``recency``, ``T``
        (double, in ``time_unit``) and, with a monetary column, ``monetary_value``; unordered.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> spark = SparkSession.builder.master("local[1]").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    >>> log = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": ["2024-01-01", "2024-01-15",
    ...                                           "2024-01-08"], "amount": [10.0, 20.0, 7.0]}))
    >>> summary = rfm_summary_spark(log, observation_period_end="2024-01-29", time_unit="D")
    >>> summary.orderBy("customer_id").select("customer_id", "frequency", "T").collect()
    [Row(customer_id=1, frequency=1, T=28.0), Row(customer_id=2, frequency=0, T=21.0)]
    """
    from crm_models.transactions import _check_units, _floor

    grain = _check_units(time_unit, grain)
    end = None if observation_period_end is None else _floor(
        parse_timestamp(observation_period_end, "observation_period_end", fmt=datetime_format), grain
    )
    return _summary_frame(transactions, customer_id_col, datetime_col, monetary_value_col, end, time_unit,
                          include_first_transaction, grain, datetime_format, after_end)[0]


def _collect_summary(transactions, customer_id_col, datetime_col, monetary_value_col, end, time_unit,
                     include_first_transaction, grain, datetime_format, after_end) -> pd.DataFrame:
    """The Spark summary collected as :func:`crm_models.rfm_summary` returns it (sorted by id)."""
    frame, _ = _summary_frame(transactions, customer_id_col, datetime_col, monetary_value_col, end, time_unit,
                              include_first_transaction, grain, datetime_format, after_end)
    out = frame.orderBy(customer_id_col).toPandas().set_index(customer_id_col)
    out["frequency"] = out["frequency"].astype("int64")
    return out


def compress_summary(summary) -> pd.DataFrame:
    """The unique rows of a Spark customer summary with how many customers each stands for.

    Everything a fit learns from a summary (BG/NBD, Gamma-Gamma, RFM edges) depends on the
    customers only through these rows and counts, so this small table, collected to the
    driver, replaces the customer table.

    Parameters
    ----------
    summary : pyspark.sql.DataFrame
        As from :func:`rfm_summary_spark` (the id column is left out).

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T`` (and ``monetary_value``) and ``n_customers``, the number
        of customers with that row (pass ``weights_col="n_customers"`` to ``fit_summary``), sorted.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> spark = SparkSession.builder.master("local[1]").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    >>> summary = spark.createDataFrame(pd.DataFrame({"customer_id": ["a", "b", "c"], "frequency": [0, 0, 2],
    ...                                               "recency": [0.0, 0.0, 3.0], "T": [5.0, 5.0, 6.0]}))
    >>> compress_summary(summary)
       frequency  recency    T  n_customers
    0          0      0.0  5.0            2
    1          2      3.0  6.0            1
    """
    _check_frame(summary)
    keys = [c for c in ("frequency", "recency", "T", "monetary_value") if c in summary.columns]
    if len(keys) < 3:
        raise DataError(None, "must have the columns frequency, recency and T", what="summary")
    out = summary.groupBy(*keys).count().withColumnRenamed("count", "n_customers").toPandas()
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out["frequency"] = out["frequency"].astype("int64")
    out["n_customers"] = out["n_customers"].astype("int64")
    return out


def fit_scorer(transactions, scorer=None, *, observation_period_end=None, after_end: str = "raise"):
    """Fit a :class:`~crm_models.pipeline.CustomerScorer` on a Spark log, collecting only the
    compressed summary (:func:`compress_summary`).

    Parameters
    ----------
    transactions : pyspark.sql.DataFrame
        One row per purchase, with the scorer's columns.
    scorer : CustomerScorer, optional
        The settings (horizon, margin, column names...); default ``CustomerScorer()``. It is
        cloned, never modified.
    observation_period_end : date-like, optional
        The scoring date; default the last purchase.
    after_end : {"raise", "drop"}
        As in :meth:`CustomerScorer.fit`.

    Returns
    -------
    CustomerScorer
        Fitted: the same models as ``CustomerScorer.fit`` on the same log.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> from crm_models.datasets import load_cdnow
    >>> spark = SparkSession.builder.master("local[1]").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    >>> scorer = fit_scorer(spark.createDataFrame(load_cdnow()))
    >>> scorer.n_customers_, str(scorer.observation_period_end_.date())
    (2357, '1998-06-30')
    """
    from sklearn.base import clone

    from crm_models.pipeline import CustomerScorer

    scorer = CustomerScorer() if scorer is None else clone(scorer)
    scorer._check_params()
    end = None if observation_period_end is None else parse_timestamp(
        observation_period_end, "observation_period_end", fmt=scorer.datetime_format).normalize()
    summary, end = _summary_frame(transactions, scorer.customer_id_col, scorer.datetime_col, scorer.monetary_value_col,
                                  end, "W", False, "D", scorer.datetime_format, after_end)
    counted = compress_summary(summary)
    return scorer.fit_summary(counted, observation_period_end=end, weights_col="n_customers")


def score_spark(scorer, transactions, *, after_end: str = "raise"):
    """Score every customer of a Spark log inside Spark, as ``scorer.transform`` scores a DataFrame.

    The summary is computed in Spark (:func:`rfm_summary_spark`, as of the scorer's
    ``observation_period_end_``) and scored partition by partition with ``mapInPandas``; the
    fitted scorer travels to the executors as its JSON document. The customer table is never
    collected to the driver.

    Parameters
    ----------
    scorer : CustomerScorer
        A fitted scorer.
    transactions : pyspark.sql.DataFrame
        One row per purchase, with the scorer's columns.
    after_end : {"raise", "drop"}
        As in :meth:`CustomerScorer.transform`.

    Returns
    -------
    pyspark.sql.DataFrame
        One row per customer: the id column and :data:`crm_models.pipeline.SCORE_COLUMNS`.

    Examples
    --------
    >>> from pyspark.sql import SparkSession
    >>> from crm_models.datasets import load_cdnow
    >>> spark = SparkSession.builder.master("local[1]").config("spark.sql.session.timeZone", "UTC").getOrCreate()
    >>> log = spark.createDataFrame(load_cdnow())
    >>> scores = score_spark(fit_scorer(log), log)
    >>> scores.count(), scores.columns[-2:]
    (2357, ['next_best_action', 'action_expected_value'])
    """
    from crm_models.pipeline import SCORE_COLUMNS

    scorer._check_fitted()
    id_col = scorer.customer_id_col
    summary, _ = _summary_frame(transactions, id_col, scorer.datetime_col, scorer.monetary_value_col,
                                scorer.observation_period_end_, "W", False, "D", scorer.datetime_format, after_end)
    id_type = summary.schema[id_col].dataType.simpleString()
    text = {"rfm_segment", "next_best_action"}
    whole = {"frequency", "r_score", "f_score", "m_score"}
    schema = ", ".join([f"`{id_col}` {id_type}"] + [
        f"`{c}` {'string' if c in text else 'bigint' if c in whole else 'double'}" for c in SCORE_COLUMNS])
    document = scorer.to_dict()

    def score_batches(batches):
        from crm_models.pipeline import CustomerScorer

        fitted = CustomerScorer.from_dict(document, source="scorer sent to a Spark executor")
        for batch in batches:
            if len(batch):
                yield fitted.score_summary(batch.set_index(id_col)).reset_index()

    return summary.mapInPandas(score_batches, schema)

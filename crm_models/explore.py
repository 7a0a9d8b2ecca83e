"""First looks at a transaction log: the tables behind the figures of a first analysis.

Each function returns a tidy pandas object, so a notebook can print the numbers behind a figure
and plot them in one line. Cohort tables are :func:`crm_models.measure.cohort_retention`.
"""

from __future__ import annotations

import pandas as pd

from crm_models._validation import check_number, parse_datetimes, require_columns


def repeat_purchase_counts(summary: pd.DataFrame, max_count: int = 7, frequency_col: str = "frequency") -> pd.Series:
    """Number of customers by repeat purchases, the last bin holding ``max_count`` or more ("7+").

    Parameters
    ----------
    summary : DataFrame
        One row per customer with a repeat-purchase count (from :func:`crm_models.rfm_summary`).
    max_count : int
        The last bin pools this many repeat purchases or more.
    frequency_col : str
        Column of repeat purchases.

    Returns
    -------
    Series
        Customers per bin ``"0"``, ``"1"``, ..., ``"<max_count>+"``, named ``customers``.

    Examples
    --------
    >>> summary = pd.DataFrame({"frequency": [0, 0, 1, 3, 9]})
    >>> repeat_purchase_counts(summary, max_count=3).to_dict()
    {'0': 2, '1': 1, '2': 0, '3+': 2}
    """
    require_columns(summary, [frequency_col], what="summary")
    max_count = check_number(max_count, "max_count", low=1, integer=True)
    f = summary[frequency_col].clip(upper=max_count)
    counts = f.value_counts().reindex(range(max_count + 1), fill_value=0)
    counts.index = [str(i) for i in range(max_count)] + [f"{max_count}+"]
    counts.index.name = "repeat purchases"
    return counts.rename("customers")


def weekly_purchases(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    start=None,
) -> pd.DataFrame:
    """Purchases per week since ``start`` (default: the first purchase), split into first and repeat.

    A purchase is a customer-day (several lines on one day count once), the convention of
    :func:`crm_models.rfm_summary`. Weeks are numbered from 1 and run for 7 days from ``start``.

    Parameters
    ----------
    transactions : DataFrame
        One row per purchase.
    customer_id_col, datetime_col : str
        Column names.
    start : date-like, optional
        First day of week 1 (default the first purchase day).

    Returns
    -------
    DataFrame
        Indexed by week (1, 2, ...): ``week_start`` (date), ``first``, ``repeat``, ``total``
        (purchases that week) and ``cumulative_repeat``.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2, 1],
    ...                     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-09"])})
    >>> weekly_purchases(log)[["first", "repeat", "cumulative_repeat"]]
          first  repeat  cumulative_repeat
    week
    1         2       0                  0
    2         0       1                  1
    """
    require_columns(transactions, [customer_id_col, datetime_col], what="transactions")
    day = parse_datetimes(transactions, datetime_col, what="transactions").dt.floor("D")
    days = pd.DataFrame({"id": transactions[customer_id_col].to_numpy(), "day": day.to_numpy()}).drop_duplicates()
    start = days["day"].min() if start is None else pd.Timestamp(start)
    first_day = days.groupby("id")["day"].transform("min")
    days["week"] = (days["day"] - start).dt.days // 7 + 1
    days["kind"] = (days["day"] == first_day).map({True: "first", False: "repeat"})
    table = days.pivot_table(index="week", columns="kind", values="id", aggfunc="size", fill_value=0)
    table = table.reindex(range(1, int(days["week"].max()) + 1), fill_value=0)
    table = table.reindex(columns=["first", "repeat"], fill_value=0)
    table["total"] = table["first"] + table["repeat"]
    table["cumulative_repeat"] = table["repeat"].cumsum()
    table.insert(0, "week_start", start + pd.to_timedelta((table.index - 1) * 7, unit="D"))
    table.columns.name = None
    return table

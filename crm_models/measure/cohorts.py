"""Cohort retention: the share of each first-purchase month's customers who buy k months later."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_timestamp, require_columns
from crm_models.errors import DataError
from crm_models.measure._common import nonempty, transactions_frame

__all__ = ["cohort_retention", "plot_cohort_heatmap"]


def cohort_retention(
    transactions: pd.DataFrame,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    observation_period_end=None,
    counts: bool = False,
) -> pd.DataFrame:
    """Cohort retention table by month of first purchase.

    Row = cohort (calendar month of a customer's first purchase, a ``Period``), column = months
    since that month (0, 1, 2, ...), value = share of the cohort with at least one purchase in
    that calendar month (month 0 is 1.0 by construction). Cells for months after
    ``observation_period_end`` were not observed and hold NaN; the month containing
    ``observation_period_end`` counts as observed even if it is partial. Column ``cohort_size``
    gives the number of customers in each cohort.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col, datetime_col : str
        Column names of the customer id and the transaction time.
    observation_period_end : date, optional
        End of observation; default the last transaction date. No transaction may lie after it.
    counts : bool
        Give numbers of active customers instead of shares (0-1).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cohort`` (monthly ``Period``): ``cohort_size`` then one column per month
        since the first purchase (``months_since_first_purchase``).

    Raises
    ------
    crm_models.errors.DataError
        If the log is empty, misses a column, holds unparseable dates or dates after
        ``observation_period_end``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-03-02", "2024-01-31", "2024-02-01",
    ...                                                 "2024-02-10"])})
    >>> cohort_retention(tx)
    months_since_first_purchase  cohort_size    0    1    2
    cohort                                                 
    2024-01                                2  1.0  0.5  0.5
    2024-02                                1  1.0  0.0  NaN
    """
    tx = transactions_frame(transactions, customer_id_col, datetime_col, None, "transactions")
    nonempty(len(tx), "transactions", "is empty: there are no cohorts to build")
    if observation_period_end is None:
        end = tx["date"].max()
    else:
        end = parse_timestamp(observation_period_end, "observation_period_end")
    fail_rows(
        transactions,
        (tx["date"] > end).to_numpy(),
        datetime_col,
        f"must not lie after observation_period_end={end.date()}",
        what="transactions",
        hint="Filter the transactions first or move observation_period_end.",
    )
    month = tx["date"].dt.to_period("M")
    first = month.groupby(tx["customer_id"]).transform("min")
    age = (month.astype("int64") - first.astype("int64")).to_numpy()
    active = (
        pd.DataFrame({"cohort": first.to_numpy(), "age": age, "customer_id": tx["customer_id"].to_numpy()})
        .drop_duplicates()
        .groupby(["cohort", "age"])
        .size()
        .unstack("age", fill_value=0)
    )
    size = active[0]
    n_months = int(end.to_period("M").ordinal - active.index.min().ordinal) + 1
    active = active.reindex(columns=range(n_months), fill_value=0)
    observed_months = end.to_period("M").ordinal - np.array([p.ordinal for p in active.index])
    mask = np.arange(n_months)[None, :] > observed_months[:, None]
    table = active.astype("float64")
    if not counts:
        table = table.div(size, axis=0)
    table = table.mask(mask)
    table.columns.name = "months_since_first_purchase"
    table.index.name = "cohort"
    table.insert(0, "cohort_size", size.astype("int64"))
    return table


def plot_cohort_heatmap(table: pd.DataFrame, ax=None, *, max_months: int | None = None, annotate: bool = True):
    """Heatmap of a :func:`cohort_retention` share table (cohorts down, months since first purchase across).

    Unobserved cells are grey; colours are scaled to the months after the first (month 0 is 100%
    by construction and saturates).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`cohort_retention` with ``counts=False`` (shares, 0-1).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure sized to the table if omitted.
    max_months : int, optional
        Show months 0..``max_months`` only.
    annotate : bool
        Write the percentage in each cell (tables of at most 400 cells).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    crm_models.errors.DataError
        If ``table`` is not a :func:`cohort_retention` share table.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": pd.to_datetime(["2024-01-05", "2024-02-02",
    ...                                                                         "2024-02-10"])})
    >>> ax = plot_cohort_heatmap(cohort_retention(tx))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    require_columns(table, ["cohort_size"], what="cohort table")
    shares = table.drop(columns="cohort_size")
    if max_months is not None:
        shares = shares.iloc[:, : max_months + 1]
    values = shares.to_numpy(dtype=float)
    if np.nanmax(values) > 1.0 + 1e-9:
        raise DataError(None, "holds counts; the heatmap expects shares: call cohort_retention(..., counts=False)",
                        what="cohort table")
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2 + 0.45 * values.shape[1], 14), 1.5 + 0.35 * values.shape[0]))
    # month 0 is 100% by construction: scale the colours to the later months so they show
    later = values[:, 1:][np.isfinite(values[:, 1:])] if values.shape[1] > 1 else np.array([])
    vmax = float(later.max()) if later.size and later.max() > 0 else 1.0
    ax.set_facecolor("#eeeeee")  # unobserved cells
    im = ax.imshow(np.ma.masked_invalid(values), cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in shares.columns])
    ax.set_yticks(range(values.shape[0]), [f"{p} (n={n})" for p, n in zip(shares.index, table["cohort_size"])])
    ax.set_xlabel("months since first purchase")
    ax.set_ylabel("first-purchase cohort")
    if annotate and values.size <= 400:
        for i, j in zip(*np.nonzero(np.isfinite(values))):
            v = values[i, j]
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7, color="white" if v > 0.6 * vmax else "black")
    ax.figure.colorbar(im, ax=ax, label="share of cohort active")
    ax.set_title("Cohort retention: share of each first-purchase cohort buying in month k")
    return ax

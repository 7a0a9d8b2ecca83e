"""The value x needs matrix: customers counted and valued in each cell."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models.errors import N_SHOWN, DataError
from crm_models.segment._base import align, as_series, numeric_series

__all__ = ["SegmentMatrix", "segment_matrix"]


@dataclass
class SegmentMatrix:
    """Cross-tabulation of two segmentations (rows x columns), with value.

    Every table has row and column totals in ``"All"``.

    Attributes
    ----------
    counts : pandas.DataFrame
        Customers per cell.
    value : pandas.DataFrame
        Total value per cell (money, or customers when no value was given).
    mean_value : pandas.DataFrame
        Value per customer (NaN for empty cells).
    value_share : pandas.DataFrame
        Share of all value (0-1; the cells without the totals sum to 1).

    Examples
    --------
    >>> m = segment_matrix(pd.Series(["hi", "lo"], index=["a", "b"]), pd.Series(["N1", "N1"], index=["a", "b"]))
    >>> m.counts  # doctest: +NORMALIZE_WHITESPACE
    col_0  N1  All
    row_0
    hi      1    1
    lo      1    1
    All     2    2
    """

    counts: pd.DataFrame
    value: pd.DataFrame
    mean_value: pd.DataFrame
    value_share: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """One long table: one row per cell.

        Returns
        -------
        pandas.DataFrame
            Indexed by (row segment, column segment), totals included: ``customers``, ``value``,
            ``mean_value`` and ``value_share``.

        Examples
        --------
        >>> rows = pd.Series(["hi", "lo", "lo"], index=list("abc"), name="tier")
        >>> cols = pd.Series(["N1", "N1", "N2"], index=list("abc"), name="needs")
        >>> segment_matrix(rows, cols).table().loc[("lo", "N1")].tolist()
        [1.0, 1.0, 1.0, 0.3333333333333333]
        """
        parts = {"customers": self.counts, "value": self.value, "mean_value": self.mean_value,
                 "value_share": self.value_share}
        long = pd.concat({k: v.stack(future_stack=True) for k, v in parts.items()}, axis=1)
        return long

    def _repr_html_(self) -> str:
        return ("<p><b>Customers</b></p>" + self.counts.to_html()
                + "<p><b>Share of value</b></p>" + self.value_share.round(3).to_html())

    def __repr__(self) -> str:
        return f"Customers\n{self.counts.to_string()}\n\nShare of value\n{self.value_share.round(3).to_string()}"


def segment_matrix(rows: pd.Series, columns: pd.Series, value: pd.Series | None = None) -> SegmentMatrix:
    """Count and value customers in each (row segment, column segment) cell.

    Parameters
    ----------
    rows, columns : pandas.Series
        Segment of every customer (e.g. value tier and needs segment), indexed by customer id
        and covering the same customers. Categorical Series keep their category order; the
        Series' names label the table's axes.
    value : pandas.Series, optional
        Value of every customer of ``rows`` (e.g. CLV, money); ``None`` counts only (every
        customer is worth 1).

    Returns
    -------
    SegmentMatrix

    Raises
    ------
    crm_models.errors.DataError
        If a customer appears in only one of ``rows`` and ``columns``, or lacks a finite value.

    Examples
    --------
    >>> tier = pd.Series(["hi", "hi", "lo", "lo", "lo"], index=list("abcde"), name="tier")
    >>> needs = pd.Series(["N1", "N2", "N1", "N1", "N2"], index=list("abcde"), name="needs")
    >>> value = pd.Series([10.0, 20, 1, 2, 3], index=list("abcde"))
    >>> m = segment_matrix(tier, needs, value)
    >>> m.value  # doctest: +NORMALIZE_WHITESPACE
    needs    N1    N2   All
    tier
    hi     10.0  20.0  30.0
    lo      3.0   3.0   6.0
    All    13.0  23.0  36.0
    """
    what = "segment_matrix"
    rows = as_series(rows, name="rows", what=what)
    columns = as_series(columns, name="columns", what=what)
    only = rows.index.symmetric_difference(columns.index)
    if len(only):
        where = pd.DataFrame({"rows": rows.reindex(only[:N_SHOWN]), "columns": columns.reindex(only[:N_SHOWN])})
        raise DataError(
            None,
            "must hold the same customers: these appear in only one of them",
            rows=where,
            n_rows=len(only),
            what="rows and columns",
            hint="Align the two segmentations on the same customers first.",
        )
    columns = columns.reindex(rows.index)
    if value is None:
        value = pd.Series(1.0, index=rows.index)
    else:
        value = numeric_series(value, name="value", what=what)
        value = align(value, rows.index, name="value", of="rows", what=what)
    counts = pd.crosstab(rows, columns, margins=True, margins_name="All", dropna=False)
    total = pd.crosstab(rows, columns, values=value, aggfunc="sum", margins=True, margins_name="All",
                        dropna=False).reindex_like(counts).fillna(0.0)
    mean = total / counts.where(counts > 0)
    share = total / value.sum() if value.sum() != 0 else total * np.nan
    return SegmentMatrix(counts=counts, value=total, mean_value=mean, value_share=share)

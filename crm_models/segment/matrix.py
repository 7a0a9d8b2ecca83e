"""The value x needs matrix: customers counted and valued in each cell."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models.segment._base import as_series

__all__ = ["SegmentMatrix", "segment_matrix"]


@dataclass
class SegmentMatrix:
    """Cross-tabulation of two segmentations (rows x columns), with value.

    ``counts``: customers per cell; ``value``: total value per cell; ``mean_value``: value per
    customer (NaN for empty cells); ``value_share``: share of all value (cells sum to 1).
    Every table has row and column totals in ``"All"``.
    """

    counts: pd.DataFrame
    value: pd.DataFrame
    mean_value: pd.DataFrame
    value_share: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """One long table: one row per cell with customers, value, mean value and value share."""
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
    rows, columns
        Segment of every customer (e.g. value tier and needs segment), Series indexed by
        customer id covering the same customers. Categorical Series keep their category order.
    value
        Value of every customer (e.g. CLV); ``None`` counts only (value = customers).
    """
    what = "segment_matrix"
    rows = as_series(rows, name=rows.name or "rows", what=what)
    columns = as_series(columns, name=columns.name or "columns", what=what)
    only = rows.index.symmetric_difference(columns.index)
    if len(only):
        raise ValueError(f"{what}: {len(only):,} customer(s) appear in only one of rows/columns, for example "
                         f"{sorted(map(str, only[:5]))}")
    columns = columns.reindex(rows.index)
    if value is None:
        value = pd.Series(1.0, index=rows.index)
    else:
        value = as_series(value, name="value", what=what).astype("float64")
        missing = rows.index.difference(value.index)
        if len(missing):
            raise ValueError(f"{what}: value is missing for {len(missing):,} customer(s), for example "
                             f"{sorted(map(str, missing[:5]))}")
        value = value.reindex(rows.index)
        if not np.isfinite(value.to_numpy()).all():
            raise ValueError(f"{what}: value must be finite")
    counts = pd.crosstab(rows, columns, margins=True, margins_name="All", dropna=False)
    total = pd.crosstab(rows, columns, values=value, aggfunc="sum", margins=True, margins_name="All",
                        dropna=False).reindex_like(counts).fillna(0.0)
    mean = total / counts.where(counts > 0)
    share = total / value.sum() if value.sum() != 0 else total * np.nan
    return SegmentMatrix(counts=counts, value=total, mean_value=mean, value_share=share)

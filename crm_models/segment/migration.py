"""Migration: how customers move between segments from one date to the next."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from crm_models.errors import N_SHOWN, DataError
from crm_models.segment._base import as_series

__all__ = ["Migration", "migration_matrix", "NEW", "GONE"]

#: Row label of customers present only at the second date, column label of those only at the first.
NEW, GONE = "(new)", "(gone)"


@dataclass
class Migration:
    """Transition between two segmentations of the same customers.

    Attributes
    ----------
    counts : pandas.DataFrame
        Customers in segment *i* at the first date (rows) and *j* at the second (columns).
    shares : pandas.DataFrame
        Each row divided by its total, so every non-empty row sums to 1: the share of a
        segment's customers that moved to each segment.
    stayed : float
        Share (0-1) of the customers present at both dates who kept their segment.

    Examples
    --------
    >>> mig = migration_matrix(pd.Series(["A", "B"], index=["x", "y"]), pd.Series(["A", "A"], index=["x", "y"]))
    >>> mig.stayed
    0.5
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    stayed: float

    def flows(self, top: int = 10) -> pd.DataFrame:
        """The largest moves between different segments.

        Parameters
        ----------
        top : int
            How many moves to list.

        Returns
        -------
        pandas.DataFrame
            Columns ``from``, ``to``, ``customers`` and ``share_of_origin`` (0-1), largest first.

        Examples
        --------
        >>> before = pd.Series(["A", "A", "B"], index=["x", "y", "z"])
        >>> migration_matrix(before, pd.Series(["B", "A", "B"], index=["x", "y", "z"])).flows()
          from to  customers  share_of_origin
        0    A  B          1              0.5
        """
        c = self.counts.stack(future_stack=True).rename("customers")
        s = self.shares.stack(future_stack=True).rename("share_of_origin")
        t = pd.concat([c, s], axis=1).rename_axis(["from", "to"]).reset_index()
        t = t[(t["from"] != t["to"]) & (t["customers"] > 0)]
        return t.sort_values(["customers", "from", "to"], ascending=[False, True, True]).head(top).reset_index(drop=True)

    def _repr_html_(self) -> str:
        return "<p><b>Row shares</b> (from rows to columns)</p>" + self.shares.round(3).to_html()


def migration_matrix(before: pd.Series, after: pd.Series, *, order: list[str] | None = None) -> Migration:
    """Transition matrix between segment membership at two dates.

    Parameters
    ----------
    before, after : pandas.Series
        Segment of each customer at the first and second date, indexed by customer id.
        Customers present only at the first date move to column ``"(gone)"``; those present
        only at the second come from row ``"(new)"``. Nobody is dropped.
    order : list of str, optional
        Segment order for rows and columns (default: categorical order if any, else sorted).

    Returns
    -------
    Migration

    Raises
    ------
    crm_models.errors.DataError
        If a segment of ``before`` or ``after`` is not in ``order`` (the rows show customers).

    Examples
    --------
    >>> before = pd.Series(["Champions", "Champions", "Lost"], index=["a", "b", "c"])
    >>> after = pd.Series(["Champions", "Lost", "Lost"], index=["a", "b", "d"])
    >>> migration_matrix(before, after, order=["Champions", "Lost"]).counts  # doctest: +NORMALIZE_WHITESPACE
    after      Champions  Lost  (gone)
    before
    Champions          1     1       0
    Lost               0     0       1
    (new)              0     1       0
    """
    what = "migration_matrix"
    before = as_series(before, name="before", what=what)
    after = as_series(after, name="after", what=what)
    if order is None:
        cats: list = []
        for s in (before, after):
            if isinstance(s.dtype, pd.CategoricalDtype):
                cats += [str(c) for c in s.cat.categories]
        order = list(dict.fromkeys(cats)) or sorted(set(map(str, before)) | set(map(str, after)))
    for name, s in (("before", before), ("after", after)):
        outside = ~s.astype(str).isin(set(order))
        if outside.any():
            raise DataError(
                name,
                f"holds segments {sorted(set(s[outside].astype(str)))[:N_SHOWN]} that are not in order={list(order)}",
                rows=s[outside].to_frame(name).head(N_SHOWN),
                n_rows=int(outside.sum()),
                n_total=len(s),
                what=what,
                hint="Add them to order, or leave order=None to take every segment found.",
            )
    idx = before.index.union(after.index)
    b = before.astype(str).reindex(idx).fillna(NEW)
    a = after.astype(str).reindex(idx).fillna(GONE)
    counts = pd.crosstab(b, a)
    rows = list(order) + ([NEW] if (b == NEW).any() else [])
    cols = list(order) + ([GONE] if (a == GONE).any() else [])
    counts = counts.reindex(index=rows, columns=cols, fill_value=0).rename_axis(index="before", columns="after")
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0), axis=0).fillna(0.0)
    both = (b != NEW) & (a != GONE)
    stayed = float((b[both] == a[both]).mean()) if both.any() else float("nan")
    return Migration(counts=counts, shares=shares, stayed=stayed)

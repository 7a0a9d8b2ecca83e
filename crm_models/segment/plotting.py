"""Pictures of segmentations (matplotlib). Every function returns the Axes it drew on.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> from crm_models.segment import concentration_curve
>>> ax = plot_concentration(concentration_curve(pd.Series([5.0, 3.0, 1.0, 1.0], index=list("abcd"))))
>>> ax.get_xlabel()
'top x% of customers (by value)'
>>> plt.close("all")
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import require_columns
from crm_models.segment._base import align, as_series, numeric_series

__all__ = [
    "plot_rfm_grid",
    "plot_segment_sizes",
    "plot_concentration",
    "plot_selection",
    "plot_profiles",
    "plot_heatmap",
    "plot_migration",
]


def _ax(ax, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_heatmap(table: pd.DataFrame, *, ax=None, fmt: str = "{:,.0f}", cmap: str = "Blues", title: str | None = None,
                 colorbar_label: str | None = None):
    """A table as a heatmap with each cell's number written in it (NaN cells left blank).

    Parameters
    ----------
    table : pandas.DataFrame
        Numbers to draw; the index and columns label the axes.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).
    fmt : str
        Format of the numbers written in the cells.
    cmap : str
        Matplotlib colour map.
    title, colorbar_label : str, optional
        Title of the axes and label of the colour bar.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> ax = plot_heatmap(pd.DataFrame({"N1": [3, 1], "N2": [0, 5]}, index=["hi", "lo"]), title="customers")
    >>> ax.get_title(), len(ax.texts)
    ('customers', 4)
    >>> plt.close("all")
    """
    ax = _ax(ax, figsize=(1.1 * table.shape[1] + 2.5, 0.5 * table.shape[0] + 1.5))
    data = table.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, aspect="auto")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=35, ha="right")
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    finite = data[np.isfinite(data)]
    mid = (finite.max() + finite.min()) / 2 if finite.size else 0
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if np.isfinite(data[i, j]):
                ax.text(j, i, fmt.format(data[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if data[i, j] > mid else "black")
    ax.set_xlabel(str(table.columns.name or ""))
    ax.set_ylabel(str(table.index.name or ""))
    cb = ax.figure.colorbar(im, ax=ax)
    if colorbar_label:
        cb.set_label(colorbar_label)
    if title:
        ax.set_title(title)
    return ax


def plot_rfm_grid(scores: pd.DataFrame, *, ax=None, n_groups: int = 5):
    """Customers on the R (rows) x FM (columns) grid, each cell labelled with its segment.

    Parameters
    ----------
    scores : pandas.DataFrame
        The output of :meth:`~crm_models.segment.RFMScorer.transform` (columns ``r``, ``fm`` and,
        when segments are named, ``segment``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).
    n_groups : int
        Number of groups per score of the scorer.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> scores = pd.DataFrame({"r": [5, 1, 5], "fm": [5, 1, 4], "segment": ["Champions", "Lost", "Champions"]})
    >>> plot_rfm_grid(scores).get_title()
    'RFM grid: customers per cell'
    >>> plt.close("all")
    """
    require_columns(scores, ["r", "fm"], what="scores")
    counts = pd.crosstab(scores["r"], scores["fm"]).reindex(index=range(n_groups, 0, -1),
                                                           columns=range(1, n_groups + 1), fill_value=0)
    ax = _ax(ax, figsize=(8, 5))
    im = ax.imshow(counts.to_numpy(), cmap="Greens", aspect="auto")
    seg = scores.groupby(["r", "fm"])["segment"].first() if "segment" in scores else None
    for i, r in enumerate(counts.index):
        for j, fm in enumerate(counts.columns):
            name = seg.get((r, fm), "") if seg is not None else ""
            ax.text(j, i, f"{name}\n{counts.loc[r, fm]:,}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(n_groups), [str(c) for c in counts.columns])
    ax.set_yticks(range(n_groups), [str(r) for r in counts.index])
    ax.set_xlabel(f"FM score (frequency & monetary, {n_groups} = best)")
    ax.set_ylabel(f"R score ({n_groups} = most recent)")
    ax.figure.colorbar(im, ax=ax, label="customers")
    ax.set_title("RFM grid: customers per cell")
    return ax


def plot_segment_sizes(labels: pd.Series, value: pd.Series | None = None, *, ax=None, order=None):
    """Horizontal bars: share of customers per segment and, if ``value`` is given, share of value.

    Parameters
    ----------
    labels : pandas.Series
        Segment of every customer, indexed by customer id.
    value : pandas.Series, optional
        Value of every customer of ``labels`` (money).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).
    order : list, optional
        Segments from bottom to top (default smallest share at the bottom).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> labels = pd.Series(["A", "A", "B"], index=["x", "y", "z"])
    >>> ax = plot_segment_sizes(labels, pd.Series([1.0, 1.0, 8.0], index=["x", "y", "z"]))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['share of customers', 'share of value']
    >>> plt.close("all")
    """
    what = "plot_segment_sizes"
    labels = as_series(labels, name="labels", what=what)
    if value is not None:
        value = align(numeric_series(value, name="value", what=what), labels.index, name="value", of="labels",
                      what=what)
    ax = _ax(ax, figsize=(7, 0.35 * labels.nunique() + 1.5))
    share = labels.value_counts(normalize=True)
    order = list(order) if order is not None else list(share.sort_values().index)
    share = share.reindex(order, fill_value=0)
    y = np.arange(len(order))
    h = 0.4 if value is not None else 0.8
    ax.barh(y + (h / 2 if value is not None else 0), share.to_numpy(), height=h, label="share of customers")
    if value is not None:
        v = value.groupby(labels).sum()
        vs = (v / v.sum()).reindex(order, fill_value=0)
        ax.barh(y - h / 2, vs.to_numpy(), height=h, label="share of value")
        ax.legend(loc="lower right")
    ax.set_yticks(y, [str(o) for o in order])
    ax.set_xlabel("share")
    return ax


def plot_concentration(curves: dict[str, pd.DataFrame] | pd.DataFrame, *, ax=None, marks=(0.2,)):
    """Concentration curves (share of value held by the top x% of customers) with the diagonal.

    Parameters
    ----------
    curves : pandas.DataFrame or dict of str to pandas.DataFrame
        One output of :func:`~crm_models.segment.concentration_curve`, or several by label.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).
    marks : sequence of float
        Top shares of customers (0-1) where dotted guides are drawn.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from crm_models.segment import concentration_curve
    >>> c = concentration_curve(pd.Series([5.0, 3.0, 1.0, 1.0], index=list("abcd")))
    >>> ax = plot_concentration({"CLV": c}, marks=(0.25,))
    >>> ax.get_ylabel()
    '% of total value they hold'
    >>> plt.close("all")
    """
    ax = _ax(ax, figsize=(5.5, 4.5))
    if isinstance(curves, pd.DataFrame):
        curves = {"value": curves}
    for label, c in curves.items():
        require_columns(c, ["top_share", "value_share"], what=f"curve {label!r}")
        ax.plot(100 * c["top_share"], 100 * c["value_share"], label=label)
        for x in marks:
            y = float(np.interp(x, c["top_share"], c["value_share"]))
            ax.plot([100 * x, 100 * x, 0], [0, 100 * y, 100 * y], ":", color="grey", lw=0.8)
    ax.plot([0, 100], [0, 100], "--", color="black", lw=0.8, label="everyone equal")
    ax.set_xlabel("top x% of customers (by value)")
    ax.set_ylabel("% of total value they hold")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right")
    return ax


def plot_selection(segmenter, *, ax=None):
    """The criterion for each candidate number of segments, the chosen one marked.

    Parameters
    ----------
    segmenter : NeedsSegmenter
        A fitted segmenter that chose its number of segments (``n_segments=None``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from crm_models.segment import NeedsSegmenter
    >>> from crm_models.segment.needs import _example_features
    >>> seg = NeedsSegmenter(k_range=[2, 3], n_init=2).fit(_example_features())
    >>> plot_selection(seg).get_legend().get_texts()[0].get_text()
    'chosen k = 3'
    >>> plt.close("all")
    """
    segmenter._check_fitted()
    if segmenter.selection_ is None:
        raise ValueError("The segmenter chose no number of segments (n_segments was given); nothing to plot.")
    sel = segmenter.selection_
    crit = segmenter.criterion_
    ax = _ax(ax, figsize=(5, 3.5))
    ax.plot(sel.index, sel[crit], "o-")
    k = segmenter.n_segments_
    ax.plot([k], [sel.loc[k, crit]], "o", ms=12, mfc="none", color="red", label=f"chosen k = {k}")
    ax.set_xlabel("number of segments k")
    ax.set_ylabel(crit + (" (higher is better)" if crit == "silhouette" else " (lower is better)"))
    ax.legend()
    return ax


def plot_profiles(segmenter, *, ax=None, clip: float = 2.0):
    """Segment centres in standard deviations from the average customer (features x segments).

    Parameters
    ----------
    segmenter : NeedsSegmenter
        A fitted segmenter.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).
    clip : float
        The colour scale stops at +-``clip`` standard deviations so one extreme feature does not
        wash out the others (the numbers are in ``segmenter.scaled_centers_``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from crm_models.segment import NeedsSegmenter
    >>> from crm_models.segment.needs import _example_features
    >>> seg = NeedsSegmenter(n_segments=3, n_init=2).fit(_example_features())
    >>> [t.get_text() for t in plot_profiles(seg).get_xticklabels()]
    ['N1', 'N2', 'N3']
    >>> plt.close("all")
    """
    segmenter._check_fitted()
    z = segmenter.scaled_centers_.T
    lim = min(float(np.nanmax(np.abs(z.to_numpy()))) or 1.0, clip)
    ax = _ax(ax, figsize=(1.0 * z.shape[1] + 3, 0.32 * z.shape[0] + 1.5))
    im = ax.imshow(z.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(z.shape[1]), [str(c) for c in z.columns])
    ax.set_yticks(range(z.shape[0]), [str(i) for i in z.index])
    ax.figure.colorbar(im, ax=ax, label=f"centre, standard deviations from average (colour capped at {lim:g})",
                       extend="both")
    ax.set_title("Needs segment profiles")
    return ax


def plot_migration(migration, *, ax=None, drop_empty: bool = False):
    """Row shares of a :class:`~crm_models.segment.Migration` as a heatmap (rows sum to 1).

    Parameters
    ----------
    migration : Migration
        The output of :func:`~crm_models.segment.migration_matrix`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (default a new figure).
    drop_empty : bool
        Leave out the segments nobody was in at the first date (rows) and nobody moved to
        (columns), and write each row's number of customers in its label, so the figure shows
        the moves that happened rather than a grid of zeros.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from crm_models.segment import migration_matrix
    >>> mig = migration_matrix(pd.Series(["A", "B"], index=["x", "y"]), pd.Series(["A", "A"], index=["x", "y"]))
    >>> plot_migration(mig).get_xlabel()
    'segment at the second date'
    >>> [t.get_text() for t in plot_migration(mig, drop_empty=True).get_yticklabels()]
    ['A (n=1)', 'B (n=1)']
    >>> plt.close("all")
    """
    shares = migration.shares
    if drop_empty:
        counts = migration.counts
        rows, cols = counts.sum(axis=1) > 0, counts.sum(axis=0) > 0
        shares = shares.loc[rows, cols]
        shares.index = pd.Index([f"{i} (n={int(n):,})" for i, n in counts.loc[rows].sum(axis=1).items()],
                                name=shares.index.name)
    ax = plot_heatmap(shares, ax=ax, fmt="{:.2f}", cmap="Purples",
                      colorbar_label="share of the row's customers")
    ax.set_xlabel("segment at the second date")
    ax.set_ylabel("segment at the first date")
    return ax

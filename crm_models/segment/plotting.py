"""Pictures of segmentations (matplotlib). Every function returns the Axes it drew on."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    """A table as a heatmap with each cell's number written in it (NaN cells left blank)."""
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
    """Customers on the R (rows) x FM (columns) grid, each cell labelled with its segment."""
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
    ax.set_xlabel("FM score (frequency & monetary, 5 = best)")
    ax.set_ylabel("R score (5 = most recent)")
    ax.figure.colorbar(im, ax=ax, label="customers")
    ax.set_title("RFM grid: customers per cell")
    return ax


def plot_segment_sizes(labels: pd.Series, value: pd.Series | None = None, *, ax=None, order=None):
    """Horizontal bars: share of customers per segment and, if ``value`` is given, share of value."""
    ax = _ax(ax, figsize=(7, 0.35 * labels.nunique() + 1.5))
    share = labels.value_counts(normalize=True)
    order = list(order) if order is not None else list(share.sort_values().index)
    share = share.reindex(order, fill_value=0)
    y = np.arange(len(order))
    h = 0.4 if value is not None else 0.8
    ax.barh(y + (h / 2 if value is not None else 0), share.to_numpy(), height=h, label="share of customers")
    if value is not None:
        v = value.reindex(labels.index).groupby(labels).sum()
        vs = (v / v.sum()).reindex(order, fill_value=0)
        ax.barh(y - h / 2, vs.to_numpy(), height=h, label="share of value")
        ax.legend(loc="lower right")
    ax.set_yticks(y, [str(o) for o in order])
    ax.set_xlabel("share")
    return ax


def plot_concentration(curves: dict[str, pd.DataFrame] | pd.DataFrame, *, ax=None, marks=(0.2,)):
    """Concentration curves (share of value held by the top x% of customers) with the diagonal.

    ``curves``: one output of :func:`~crm_models.segment.value.concentration_curve` or a dict of
    them by label. ``marks`` draws dotted guides at those top shares.
    """
    ax = _ax(ax, figsize=(5.5, 4.5))
    if isinstance(curves, pd.DataFrame):
        curves = {"value": curves}
    for label, c in curves.items():
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
    """The criterion for each candidate number of segments, the chosen one marked."""
    if getattr(segmenter, "selection_", None) is None:
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

    The colour scale stops at +-``clip`` standard deviations so one extreme feature does not wash
    out the others (the numbers are in ``segmenter.scaled_centers_``).
    """
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


def plot_migration(migration, *, ax=None):
    """Row shares of a :class:`~crm_models.segment.migration.Migration` as a heatmap (rows sum to 1)."""
    ax = plot_heatmap(migration.shares, ax=ax, fmt="{:.2f}", cmap="Purples",
                      colorbar_label="share of the row's customers")
    ax.set_xlabel("segment at the second date")
    ax.set_ylabel("segment at the first date")
    return ax

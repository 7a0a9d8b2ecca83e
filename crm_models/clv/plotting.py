"""Matplotlib diagnostics for the lifetime-value models.

Each function draws the table returned by a function of :mod:`crm_models.clv.diagnostics`
(so the numbers a figure shows can be printed next to it) on ``ax`` (a new figure when
``None``) and returns the Axes. Nothing here computes model quantities itself.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from crm_models.clv import BetaGeoBetaBinom, diagnostics
>>> from crm_models.datasets import load_donations
>>> d = load_donations()
>>> check = diagnostics.repeat_purchase_histogram(BetaGeoBetaBinom().fit(d, weights_col="n_donors"), d,
...                                               weights_col="n_donors", max_frequency=6)
>>> ax = plot_repeat_purchase_histogram(check)
>>> len(ax.patches)     # actual and model bars for 7 buckets
14
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crm_models.clv.diagnostics import HistogramCheck

__all__ = [
    "plot_repeat_purchase_histogram",
    "plot_tracking",
    "plot_conditional_expectations",
    "plot_matrix",
    "plot_retention",
    "plot_backtest",
    "plot_reliability",
    "plot_gains",
    "plot_pit",
]

ACTUAL_COLOR = "#222222"
MODEL_COLOR = "#d62728"


def _ax(ax, figsize=(7, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_repeat_purchase_histogram(check: HistogramCheck, *, ax=None, title: str | None = None):
    """Side-by-side bars of actual and model customers by repeat frequency, chi-square in the title.

    Parameters
    ----------
    check : HistogramCheck
        From :func:`crm_models.clv.diagnostics.repeat_purchase_histogram`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> check = HistogramCheck(pd.DataFrame({"actual": [5.0, 2.0], "model": [4.5, 2.5]}, index=["0", "1+"]),
    ...                        0.16, 1, 0.69)
    >>> plot_repeat_purchase_histogram(check).get_ylabel()
    'customers'
    """
    ax = _ax(ax)
    table = check.table
    pos = np.arange(len(table))
    ax.bar(pos - 0.2, table["actual"], width=0.4, color=ACTUAL_COLOR, label="actual")
    ax.bar(pos + 0.2, table["model"], width=0.4, color=MODEL_COLOR, label="model")
    ax.set_xticks(pos, table.index.tolist())
    ax.set_xlabel(f"repeat transactions ({table.index.name})")
    ax.set_ylabel("customers")
    ax.set_title(
        title
        or f"Repeat transactions: actual vs model (chi-square {check.chi_square:.1f}, {check.dof} df, p = {check.p_value:.2g})"
    )
    ax.legend()
    return ax


def plot_tracking(table: pd.DataFrame, *, cumulative: bool = True, ax=None, title: str | None = None):
    """Actual (solid) vs model (dashed) repeat transactions per period, with the calibration end marked.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`crm_models.clv.diagnostics.tracking_data`.
    cumulative : bool
        Cumulative counts (default) or counts per period.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"start": pd.to_datetime(["2020-01-01", "2020-01-08"]),
    ...                       "phase": ["calibration", "holdout"], "actual": [3.0, 4.0], "model": [3.5, 3.6],
    ...                       "actual_cumulative": [3.0, 7.0], "model_cumulative": [3.5, 7.1]},
    ...                      index=pd.Index([1, 2], name="period"))
    >>> plot_tracking(table).lines[0].get_ydata().tolist()
    [3.0, 7.0]
    """
    ax = _ax(ax, figsize=(8, 4))
    a, m = ("actual_cumulative", "model_cumulative") if cumulative else ("actual", "model")
    x = table.index.to_numpy()
    ax.plot(x, table[a].to_numpy(), color=ACTUAL_COLOR, label="actual")
    ax.plot(x, table[m].to_numpy(), color=MODEL_COLOR, linestyle="--", label="model")
    cal = table.index[table["phase"] == "calibration"]
    if len(cal) and len(cal) < len(table):
        ax.axvline(cal.max() + 0.5, color="grey", linestyle=":", label="end of calibration")
    days = table.attrs.get("period_days", 7)
    unit = "week" if days == 7 else f"period of {days} days"
    ax.set_xlabel(f"{unit} (from {pd.Timestamp(table['start'].iloc[0]).date()})")
    ax.set_ylabel("cumulative repeat transactions" if cumulative else "repeat transactions")
    ax.set_title(title or ("Cumulative" if cumulative else "Incremental") + " repeat transactions: actual vs model")
    ax.legend()
    return ax


def plot_conditional_expectations(table: pd.DataFrame, *, ax=None, title: str | None = None):
    """Mean holdout purchases by calibration frequency, actual (dots) vs model (squares).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`crm_models.clv.diagnostics.conditional_expectations`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"actual": [0.2, 1.1], "model": [0.25, 1.0]},
    ...                      index=pd.Index(["0", "1+"], name="frequency_cal"))
    >>> plot_conditional_expectations(table).lines[1].get_ydata().tolist()
    [0.25, 1.0]
    """
    ax = _ax(ax)
    pos = np.arange(len(table))
    ax.plot(pos, table["actual"].to_numpy(), color=ACTUAL_COLOR, marker="o", label="actual")
    ax.plot(pos, table["model"].to_numpy(), color=MODEL_COLOR, marker="s", linestyle="--", label="model")
    ax.set_xticks(pos, table.index.tolist())
    ax.set_xlabel(f"repeat purchases in calibration ({table.index.name})")
    ax.set_ylabel("mean purchases in holdout")
    ax.set_title(title or "Conditional expectations in the holdout period")
    ax.legend()
    return ax


def plot_matrix(
    matrix: pd.DataFrame,
    *,
    ax=None,
    title: str | None = None,
    cmap: str = "viridis",
    label: str = "",
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Heatmap of a frequency x recency matrix, frequency increasing upwards; NaN cells are left blank.

    Parameters
    ----------
    matrix : pandas.DataFrame
        From :func:`crm_models.clv.diagnostics.probability_alive_matrix` or
        :func:`crm_models.clv.diagnostics.expected_purchases_matrix`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Title of the plot.
    cmap : str
        Matplotlib colour map.
    label : str
        Label of the colour bar.
    vmin, vmax : float, optional
        Limits of the colour scale.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> m = pd.DataFrame([[1.0, np.nan], [0.4, 0.9]], index=pd.Index([0, 1], name="frequency"),
    ...                  columns=pd.Index([0.0, 1.0], name="recency"))
    >>> plot_matrix(m, label="P(alive)").get_xlabel()
    'recency'
    """
    ax = _ax(ax, figsize=(7, 5))
    values = np.ma.masked_invalid(matrix.to_numpy(dtype=float))
    rec = matrix.columns.to_numpy(dtype=float)
    freq = matrix.index.to_numpy(dtype=float)
    half = np.diff(rec).min() / 2 if len(rec) > 1 else 0.5
    extent = (rec.min() - half, rec.max() + half, freq.min() - 0.5, freq.max() + 0.5)
    im = ax.imshow(values, origin="lower", aspect="auto", cmap=cmap, extent=extent, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label=label)
    ax.set_xlabel(matrix.columns.name or "recency")
    ax.set_ylabel(matrix.index.name or "frequency")
    if title:
        ax.set_title(title)
    return ax


def plot_retention(table: pd.DataFrame, *, ax=None, title: str | None = None, percent: bool = True):
    """A cohort's survival, actual (dots) vs sBG (line), projected periods shaded.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`crm_models.clv.diagnostics.retention_table`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.
    percent : bool
        Show survival in % (default) or as a share.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"actual_survival": [1.0, 0.6, np.nan], "model_survival": [1.0, 0.62, 0.5],
    ...                       "phase": ["fitted", "fitted", "projected"]}, index=pd.Index([0, 1, 2], name="year"))
    >>> plot_retention(table).lines[0].get_ydata().tolist()
    [100.0, 62.0, 50.0]
    """
    ax = _ax(ax)
    scale = 100.0 if percent else 1.0
    x = table.index.to_numpy()
    ax.plot(x, scale * table["model_survival"].to_numpy(), color=MODEL_COLOR, label="sBG model")
    ax.plot(x, scale * table["actual_survival"].to_numpy(), "o", color=ACTUAL_COLOR, label="actual")
    proj = table.index[table["phase"] == "projected"]
    if len(proj):
        ax.axvspan(proj.min() - 0.5, proj.max() + 0.5, color="grey", alpha=0.15, label="projection")
    ax.set_xlabel(table.index.name)
    ax.set_ylabel("% of cohort surviving" if percent else "share of cohort surviving")
    ax.set_ylim(0, scale * 1.02)
    ax.set_title(title or "Survival: actual vs sBG")
    ax.legend()
    return ax


# ------------------------------------------------------------------------------ backtests
def _colors(names):
    palette = {"BG/NBD": "#d62728", "MBG/NBD": "#9467bd", "Pareto/NBD": "#2ca02c", "past rate": "#7f7f7f",
               "RFM segment mean": "#bcbd22", "same as last period": "#17becf"}
    return [palette.get(n, "#1f77b4") for n in names]


def plot_backtest(result, metric: str = "mae_purchases", *, alpha: float = 0.05, ax=None, title: str | None = None):
    """One metric of a backtest per model and baseline: each cut-off (dots), the mean and its interval (bar).

    Parameters
    ----------
    result : crm_models.clv.backtest.BacktestResult
        From :func:`crm_models.clv.backtest.backtest`.
    metric : str
        A metric of :data:`crm_models.clv.backtest.METRICS`.
    alpha : float
        1 - the coverage of the interval of the mean (as in ``result.aggregate``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from crm_models.clv.backtest import backtest
    >>> from crm_models.datasets import load_cdnow
    >>> ax = plot_backtest(backtest(load_cdnow(), n_cutoffs=2, models=["MBG/NBD"], baselines=["past rate"]))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['MBG/NBD', 'past rate']
    """
    from crm_models.clv.backtest import METRICS

    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
    ax = _ax(ax, figsize=(7, 0.5 + 0.45 * len(result.models)))
    agg = result.aggregate(alpha).xs(metric, level="metric").reindex(result.models)
    names = result.models
    pos = np.arange(len(names))[::-1]
    for y, name, color in zip(pos, names, _colors(names)):
        v = result.table.loc[result.table["model"] == name, metric].to_numpy(dtype=float)
        ax.scatter(v, np.full(len(v), y), color=color, alpha=0.5, s=18)
        a = agg.loc[name]
        if np.isfinite(a["lower"]):
            ax.plot([a["lower"], a["upper"]], [y, y], color=color, lw=2)
        ax.plot([a["mean"]], [y], marker="|", color=color, markersize=14, mew=2)
    ax.set_yticks(pos, names)
    better = "higher" if METRICS[metric][1] else "lower"
    ax.set_xlabel(f"{metric} ({better} is better)")
    ax.set_title(title or f"Backtest over {len(result.cutoffs)} cut-offs: {metric}")
    return ax


def plot_reliability(result, *, models=None, ax=None, title: str | None = None):
    """Calibration curves of "buys again in the holdout": predicted probability vs share who bought.

    Draws ``result.pooled_reliability()``: one line per model (dots sized by customers), and the
    diagonal a calibrated forecast follows.

    Parameters
    ----------
    result : crm_models.clv.backtest.BacktestResult
        From :func:`crm_models.clv.backtest.backtest`.
    models : sequence of str, optional
        Which models and baselines (default all).
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from crm_models.clv.backtest import backtest
    >>> from crm_models.datasets import load_cdnow
    >>> ax = plot_reliability(backtest(load_cdnow(), n_cutoffs=2, models=["MBG/NBD"], baselines=["past rate"]))
    >>> len(ax.lines)       # the diagonal and two curves
    3
    """
    ax = _ax(ax, figsize=(5.5, 5))
    pooled = result.pooled_reliability()
    names = list(models) if models is not None else result.models
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="calibrated")
    for name, color in zip(names, _colors(names)):
        r = pooled.xs(name, level="model")
        ax.plot(r["mean_predicted"], r["observed"], marker="o", color=color, label=name, ms=3)
        ax.scatter(r["mean_predicted"], r["observed"], s=10 + 300 * r["n_customers"] / r["n_customers"].sum(),
                   color=color, alpha=0.3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(buys again in the holdout)")
    ax.set_ylabel("share who bought again")
    ax.set_title(title or "Calibration (reliability) curve, pooled over cut-offs")
    ax.legend(fontsize="small")
    return ax


def plot_gains(result, *, models=None, ax=None, title: str | None = None):
    """Cumulative gains: share of actual holdout value captured by the top x% of predicted customers.

    Draws ``result.pooled_gains()`` (averaged over cut-offs), with the random-ranking diagonal.

    Parameters
    ----------
    result : crm_models.clv.backtest.BacktestResult
        From :func:`crm_models.clv.backtest.backtest`.
    models : sequence of str, optional
        Which models and baselines (default all).
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from crm_models.clv.backtest import backtest
    >>> from crm_models.datasets import load_cdnow
    >>> ax = plot_gains(backtest(load_cdnow(), n_cutoffs=2, models=["MBG/NBD"], baselines=["past rate"]))
    >>> ax.get_xlabel()
    'share of customers, highest predicted value first'
    """
    ax = _ax(ax, figsize=(5.5, 5))
    pooled = result.pooled_gains()
    names = list(models) if models is not None else result.models
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random order")
    for name, color in zip(names, _colors(names)):
        g = pooled.xs(name, level="model")
        ax.plot(np.r_[0, g["share_of_customers"]], np.r_[0, g["share_of_value"]], marker="o", ms=3, color=color,
                label=name)
    ax.set_xlabel("share of customers, highest predicted value first")
    ax.set_ylabel("share of actual holdout value")
    ax.set_title(title or "Cumulative gains, averaged over cut-offs")
    ax.legend(fontsize="small")
    return ax


def plot_pit(pit: pd.Series, *, n_bins: int = 10, ax=None, title: str | None = None):
    """Histogram of randomised PIT values: flat (within the band) when the model is right.

    Parameters
    ----------
    pit : pandas.Series
        Values in (0, 1) from ``model.probability_integral_transform``.
    n_bins : int
        Number of equal-width bins.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure when None).
    title : str, optional
        Replaces the default title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_pit(pd.Series((np.arange(200) + 0.5) / 200), n_bins=4)
    >>> [float(bar.get_height()) for bar in ax.containers[0]]
    [1.0, 1.0, 1.0, 1.0]
    """
    ax = _ax(ax, figsize=(6, 3.6))
    u = np.asarray(pit, dtype=float)
    counts, edges = np.histogram(u, bins=n_bins, range=(0, 1))
    density = counts / (len(u) / n_bins)
    ax.bar(edges[:-1], density, width=1 / n_bins, align="edge", color="#1f77b4", edgecolor="white")
    band = 2 * np.sqrt((1 / n_bins) * (1 - 1 / n_bins) / len(u)) * n_bins
    ax.axhspan(1 - band, 1 + band, color="grey", alpha=0.2, label="uniform +/- 2 s.e.")
    ax.axhline(1, color="black", lw=1)
    ax.set_xlabel("randomised PIT")
    ax.set_ylabel("density (1 = uniform)")
    ax.set_title(title or "Is each customer's predicted distribution right? (flat = yes)")
    ax.legend(fontsize="small")
    return ax


"""A self-contained HTML report of customer scores: key figures, tables and matplotlib figures.

The file carries everything inline (PNG images as base64, CSS in a ``<style>`` block, no
JavaScript), so it opens offline and can be mailed as one attachment.
"""

from __future__ import annotations

import base64
import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from crm_models.base import Summary
from crm_models.measure import customer_equity, plot_cohort_heatmap
from crm_models.segment import concentration_curve

__all__ = ["key_figures", "render_report", "write_report", "read_report", "example_customers", "lapsed_segments_alive"]

#: Segment names of the default RFM rule table that say "not buying lately".
LAPSED_SEGMENTS = ("Lost", "Hibernating", "About to Sleep", "At Risk", "Can't Lose Them")

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px;
       color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #2a6fb0; padding-bottom: .2em; }
h2 { color: #2a6fb0; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #eef3f9; }
td:first-child, th:first-child { text-align: left; }
.kpi { display: inline-block; margin: .4em 1.2em .4em 0; padding: .6em 1em; background: #eef3f9; border-radius: 6px; }
.kpi b { display: block; font-size: 1.4em; }
.note { color: #555; font-size: 0.9em; }
img { max-width: 100%; }
"""


def _subplots(*args, figsize=None, layout=None, **kwargs):
    """``plt.subplots`` outside pyplot: a report never switches the caller's backend or touches their figures.

    A report may be written from a notebook whose inline figures must keep working afterwards,
    so its figures are plain :class:`matplotlib.figure.Figure` objects, rendered by Agg in
    :func:`_png` and never registered with pyplot.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    return fig, fig.subplots(*args, **kwargs)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)  # figures use the constrained layout: one draw, no tight bbox pass
    return '<img alt="figure" src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode("ascii") + '">'


def _figures(scores: pd.DataFrame, cohorts: pd.DataFrame | None) -> list[tuple[str, str, str]]:
    """(title, image tag, caption) for each figure."""
    out = []
    seg = (
        scores.groupby("rfm_segment")
        .agg(customers=("clv", "size"), clv=("clv", "sum"))
        .sort_values("customers", ascending=True)
    )
    fig, axes = _subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
    axes[0].barh(seg.index, seg["customers"], color="#2a6fb0")
    axes[0].set_xlabel("customers")
    axes[1].barh(seg.index, seg["clv"], color="#e08a2c")
    axes[1].set_xlabel("customer equity (sum of CLV)")
    fig.suptitle("RFM segments: how many customers, how much future value")
    out.append(("RFM segments", _png(fig), "Segments from recency and frequency scores (5 = best)."))

    fig, ax = _subplots(figsize=(7, 3.6), layout="constrained")
    ax.hist(scores["p_alive"], bins=np.linspace(0, 1, 21), color="#2a6fb0", edgecolor="white")
    ax.set_xlabel("P(alive) at the end of the observation period")
    ax.set_ylabel("customers")
    ax.set_title("How many customers are probably still active?")
    out.append(("P(alive)", _png(fig), "The transaction model's probability that each customer has not dropped out."))

    if scores["clv"].sum() > 0:
        cc = concentration_curve(scores["clv"])
        fig, ax = _subplots(figsize=(5.5, 4.5), layout="constrained")
        ax.plot(cc["top_share"], cc["value_share"], color="#e08a2c", lw=2, label="CLV")
        ax.plot([0, 1], [0, 1], color="grey", ls="--", label="everyone equal")
        ax.set_xlabel("share of customers (highest CLV first)")
        ax.set_ylabel("share of customer equity")
        ax.legend()
        ax.set_title("Value concentration")
        out.append(("Value concentration", _png(fig), "What share of future value the top x% of customers hold."))

    if cohorts is not None:
        fig, ax = _subplots(
            figsize=(min(2 + 0.45 * (cohorts.shape[1] - 1), 14), 1.5 + 0.35 * len(cohorts)), layout="constrained"
        )
        plot_cohort_heatmap(cohorts, ax=ax, annotate=cohorts.size <= 300)
        out.append(("Cohort retention", _png(fig), "Share of each first-purchase month's cohort buying k months later."))

    nba = scores.groupby("next_best_action").agg(customers=("clv", "size"), clv=("clv", "sum"))
    fig, ax = _subplots(figsize=(7, 3.2), layout="constrained")
    ax.barh(nba.index, nba["customers"], color="#4c9a5b")
    ax.set_xlabel("customers")
    ax.set_title("Next best action")
    out.append(("Next best action", _png(fig), "How many customers each action is recommended for."))
    return out


def _table(df: pd.DataFrame, fmt: str = "{:,.2f}") -> str:
    def f(v):
        if isinstance(v, (float, np.floating)):
            return fmt.format(v)
        if isinstance(v, (int, np.integer)):
            return f"{v:,}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or ""] + list(df.columns))
    rows = "".join(
        "<tr>" + f"<td>{html.escape(str(i))}</td>" + "".join(f"<td>{f(v)}</td>" for v in row) + "</tr>"
        for i, row in zip(df.index, df.itertuples(index=False))
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def key_figures(scores: pd.DataFrame) -> dict[str, str]:
    """The headline numbers of a scores table, formatted for display.

    Parameters
    ----------
    scores : pandas.DataFrame
        A scores table (:func:`crm_models.pipeline.score_customers`).

    Returns
    -------
    dict of str to str
        Label -> formatted value: customers, repeat buyers, probably active customers, expected
        purchases, customer equity and the share of equity in the top 20%.

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> from crm_models.pipeline import score_customers
    >>> key_figures(score_customers(load_cdnow()))["customers who bought"]
    '2,357'
    """
    cc = concentration_curve(scores["clv"]) if scores["clv"].sum() > 0 else None
    top20 = float(np.interp(0.2, cc["top_share"], cc["value_share"])) if cc is not None else float("nan")
    return {
        "customers who bought": f"{len(scores):,}",
        "repeat buyers": f"{int((scores['frequency'] > 0).sum()):,}",
        "probably active (P(alive) >= 0.5)": f"{int((scores['p_alive'] >= 0.5).sum()):,}",
        "expected purchases (horizon)": f"{scores['expected_purchases'].sum():,.0f}",
        "customer equity (sum of CLV)": f"{customer_equity(scores['clv']):,.0f}",
        "share of equity in top 20%": f"{top20:.0%}",
    }


def example_customers(scores: pd.DataFrame) -> list:
    """Customers worth explaining in a report: the highest CLV, the lapsed segment's most alive, a one-time buyer.

    Parameters
    ----------
    scores : pandas.DataFrame
        A scores table (:func:`crm_models.pipeline.score_customers`).

    Returns
    -------
    list
        Up to three distinct customer ids: the customer with the highest CLV; among customers
        of the segments of :data:`LAPSED_SEGMENTS`, the one with the highest P(alive); the
        one-time buyer observed longest (ties: the first in the table).

    Examples
    --------
    >>> scores = pd.DataFrame({"clv": [5.0, 50.0, 1.0], "p_alive": [0.9, 0.8, 0.3], "frequency": [0, 4, 0],
    ...                        "T": [30.0, 40.0, 50.0], "rfm_segment": ["Lost", "Champions", "Lost"]},
    ...                       index=["a", "b", "c"])
    >>> example_customers(scores)
    ['b', 'a', 'c']
    """
    picks = [scores["clv"].idxmax()] if len(scores) else []
    lapsed = scores[scores["rfm_segment"].isin(LAPSED_SEGMENTS)]
    if len(lapsed):
        picks.append(lapsed["p_alive"].idxmax())
    once = scores[scores["frequency"] == 0]
    if len(once):
        picks.append(once["T"].idxmax())
    return list(dict.fromkeys(picks))


def lapsed_segments_alive(scores: pd.DataFrame, *, threshold: float = 0.5) -> pd.DataFrame:
    """Segments whose name says "lapsed" but whose mean P(alive) is high: what needs explaining.

    Parameters
    ----------
    scores : pandas.DataFrame
        A scores table (:func:`crm_models.pipeline.score_customers`).
    threshold : float
        Mean P(alive) (0-1) from which a lapsed segment is reported.

    Returns
    -------
    pandas.DataFrame
        Indexed by segment (those of :data:`LAPSED_SEGMENTS` with mean P(alive) >= threshold):
        ``customers``, ``mean_p_alive`` and ``share_one_time_buyers`` (0-1).

    Examples
    --------
    >>> scores = pd.DataFrame({"p_alive": [1.0, 1.0, 0.2], "frequency": [0, 0, 3],
    ...                        "rfm_segment": ["Lost", "Lost", "At Risk"]})
    >>> lapsed_segments_alive(scores)
                 customers  mean_p_alive  share_one_time_buyers
    rfm_segment
    Lost                 2           1.0                    1.0
    """
    lapsed = scores[scores["rfm_segment"].isin(LAPSED_SEGMENTS)]
    seg = lapsed.groupby("rfm_segment").agg(customers=("p_alive", "size"), mean_p_alive=("p_alive", "mean"),
                                            share_one_time_buyers=("frequency", lambda f: float((f == 0).mean())))
    return seg[seg["mean_p_alive"] >= threshold]


def _model_section(backtest, model_choice: str | None, model_name: str | None) -> list[str]:
    """The "Is the model right?" section: the choice in words, the backtest table and its figures."""
    parts = ["<h2>Is the model right? Backtest and model choice</h2>"]
    if model_choice:
        parts.append(f"<p>{html.escape(model_choice)}</p>")
    if backtest is None:
        parts.append("<p class='note'>No backtest was run (the model was named, or the log is too short).</p>")
        return parts
    metrics = ["mae_purchases", "rmse_purchases", "mae_spend", "total_error_pct", "auc", "brier", "spearman_value",
               "top_decile_lift"]
    summary = backtest.summary(metrics=metrics)
    table = summary.to_frame()[[m for m in metrics if m in summary.to_frame()]]
    table.index.name = "model or baseline"
    parts.append(_table(table, "{:,.3f}"))
    parts.append("<p class='note'>" + html.escape(
        f"Each model was fitted on the purchases up to each of {len(backtest.cutoffs)} cut-offs "
        f"({', '.join(str(c.date()) for c in backtest.cutoffs)}) and scored on the following {backtest.holdout}; "
        "means over the cut-offs. Errors (mae, rmse, brier, |total_error_pct|): lower is better; auc, "
        "spearman_value, top_decile_lift: higher is better. Baselines: each customer's past rate, the RFM "
        "segment's mean of the last period, and the customer's own last period.") + "</p>")
    from crm_models.clv.plotting import plot_backtest, plot_reliability

    fig, axes = _subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    plot_backtest(backtest, "mae_purchases", ax=axes[0])
    names = [m for m in backtest.models if m in ("BG/NBD", "MBG/NBD", "Pareto/NBD", model_name)]
    plot_reliability(backtest, models=names + ["past rate"], ax=axes[1])
    parts.append(_png(fig))
    parts.append("<p class='note'>Left: mean absolute error of each customer's holdout purchases at each cut-off "
                 "(dots) and its mean with a 95% interval. Right: of the customers given a probability p of buying "
                 "again in the holdout, the share who did (on the diagonal = calibrated).</p>")
    return parts


def _lapsed_note(scores: pd.DataFrame, model_name: str | None) -> str:
    alive = lapsed_segments_alive(scores)
    if alive.empty:
        return ""
    names = ", ".join(f"'{s}' (mean P(alive) {r.mean_p_alive:.2f}, {r.share_one_time_buyers:.0%} one-time buyers)"
                      for s, r in alive.iterrows())
    why = ("The transaction model is BG/NBD, which assumes a customer can drop out only right after a repeat "
           "purchase, so it counts every one-time buyer as surely alive however long ago they bought; a backtest "
           "(transaction_model='auto') picks MBG/NBD or Pareto/NBD, which do not." if model_name == "BG/NBD" else
           "RFM segment names rank customers by recency and frequency against each other, while P(alive) is the "
           "model's probability that a customer has not dropped out given their own rhythm: a customer who bought "
           "rarely, or only recently started, can rank low on recency and still be probably active.")
    return f"<p class='note'><b>Why do lapsed-sounding segments look alive?</b> {html.escape(names)}. {html.escape(why)}</p>"


def render_report(
    scores: pd.DataFrame,
    *,
    title: str = "Customer scores",
    source: str = "",
    models: Summary | None = None,
    cohorts: pd.DataFrame | None = None,
    notes: list[str] | None = None,
    backtest=None,
    model_choice: str | None = None,
    explanations: list | None = None,
) -> str:
    """The report as one self-contained HTML string (see :func:`write_report`).

    Parameters
    ----------
    scores : pandas.DataFrame
        A scores table (:func:`crm_models.pipeline.score_customers`).
    title : str
        The page title.
    source : str
        Where the data came from, shown under the title.
    models : Summary, optional
        The fitted models (:meth:`crm_models.pipeline.CustomerScorer.summary`), shown as a table.
    cohorts : pandas.DataFrame, optional
        A cohort table (:func:`crm_models.measure.cohort_retention`) to draw as a heatmap.
    notes : list of str, optional
        Definitions listed at the end.
    backtest : crm_models.clv.BacktestResult, optional
        The backtest behind the choice of the transaction model
        (:attr:`crm_models.pipeline.CustomerScorer.backtest_`), shown as a table and figures.
    model_choice : str, optional
        Which transaction model, and why (:attr:`crm_models.pipeline.CustomerScorer.model_choice_`).
    explanations : list, optional
        A few customers' scores in words (:meth:`crm_models.pipeline.CustomerScorer.explain`, e.g.
        for :func:`example_customers`).

    Returns
    -------
    str
        The HTML page. A segment named as lapsed (:data:`LAPSED_SEGMENTS`) whose mean P(alive) is
        0.5 or more always comes with a note saying why.

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> from crm_models.pipeline import score_customers
    >>> page = render_report(score_customers(load_cdnow()), title="CDNOW")
    >>> page.startswith("<!DOCTYPE html>"), "<script" in page
    (True, False)
    """
    kpis = "".join(f'<div class="kpi">{html.escape(k)}<b>{html.escape(v)}</b></div>' for k, v in key_figures(scores).items())
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"]
    parts.append(f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>")
    if source:
        parts.append(f"<p class='note'>{html.escape(source)}</p>")
    parts.append(f"<h2>Key figures</h2>{kpis}")
    seg = scores.groupby("rfm_segment").agg(
        customers=("clv", "size"),
        mean_p_alive=("p_alive", "mean"),
        expected_purchases=("expected_purchases", "sum"),
        customer_equity=("clv", "sum"),
        mean_clv=("clv", "mean"),
    )
    seg.index.name = "RFM segment"
    model_name = None
    if models is not None and "model" in (models.to_frame().index.names or []):
        found = [m for m in models.to_frame().index.get_level_values("model") if m in ("BG/NBD", "MBG/NBD", "Pareto/NBD")]
        model_name = found[0] if found else None
    parts.append("<h2>Segments</h2>" + _table(seg.sort_values("customer_equity", ascending=False))
                 + _lapsed_note(scores, model_name))
    if backtest is not None or model_choice:
        parts.extend(_model_section(backtest, model_choice, model_name))
    if explanations:
        parts.append("<h2>Customers explained</h2><ul>" + "".join(
            f"<li><b>{html.escape(str(getattr(e, 'customer_id', '')))}</b>: {html.escape(str(e))}</li>"
            for e in explanations) + "</ul>")
    nba = scores.groupby("next_best_action").agg(customers=("clv", "size"), customer_equity=("clv", "sum"))
    nba.index.name = "next best action"
    parts.append("<h2>Next best action</h2>" + _table(nba))
    if models is not None:
        ptab = models.to_frame().reset_index().set_index("model")
        parts.append("<h2>Fitted models</h2>" + _table(ptab, "{:,.4f}"))
    for name, img, caption in _figures(scores, cohorts):
        parts.append(f"<h2>{html.escape(name)}</h2>{img}<p class='note'>{html.escape(caption)}</p>")
    top = scores.sort_values("clv", ascending=False).head(20)
    parts.append("<h2>Top 20 customers by CLV</h2>" + _table(top.drop(columns=["recency", "T"])))
    if notes:
        parts.append("<h2>Definitions</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path, scores: pd.DataFrame, *, overwrite: bool = False, **kwargs) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) and return the path.

    The report is rendered first and written atomically (a temporary file renamed into place),
    so an interrupted run never leaves half a report.

    Parameters
    ----------
    path : str or pathlib.Path
        The HTML file to write (its folder must exist).
    scores : pandas.DataFrame
        A scores table.
    overwrite : bool
        Replace an existing file; by default an existing file is never overwritten.
    **kwargs
        Passed to :func:`render_report`.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from crm_models.datasets import load_cdnow
    >>> from crm_models.pipeline import score_customers
    >>> path = write_report(pathlib.Path(tempfile.mkdtemp()) / "r.html", score_customers(load_cdnow()))
    >>> path.stat().st_size > 10_000
    True
    """
    from crm_models._files import check_output, write_text_atomic

    path = check_output(path, overwrite=overwrite, what="report")
    return write_text_atomic(path, render_report(scores, **kwargs))


_NUMBER_TEXT = re.compile(r"^-?\d{1,3}(?:,\d{3})*(?:\.\d+)?$|^-?\d+(?:\.\d+)?$")


def _number(text: str):
    """``"4,442"`` -> 4442, ``"0.84"`` -> 0.84, ``"82%"`` -> 0.82; other text unchanged (stripped)."""
    text = text.strip()
    percent = text.endswith("%")
    core = text[:-1].strip() if percent else text
    if not _NUMBER_TEXT.match(core):
        return text
    value = float(core.replace(",", ""))
    if percent:
        return value / 100
    return int(value) if "." not in core else value


class _ReportParser(HTMLParser):
    """Collects the key figures and every table of a report, by the ``<h2>`` section they stand in."""

    def __init__(self) -> None:
        super().__init__()
        self.section = ""
        self.kpis: list[list[str]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._text: list[str] | None = None  # text of the element being read
        self._kpi: list[str] | None = None
        self._rows: list[list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._text = []
        elif tag == "div" and ("class", "kpi") in attrs:
            self._kpi, self._text = [], []
        elif tag == "b" and self._kpi is not None:
            self._kpi.append("".join(self._text))
            self._text = []
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._text = []

    def handle_endtag(self, tag):
        if tag == "h2" and self._text is not None:
            self.section, self._text = "".join(self._text).strip(), None
        elif tag == "div" and self._kpi is not None:
            self._kpi.append("".join(self._text or []))
            self.kpis.append([t.strip() for t in self._kpi])
            self._kpi, self._text = None, None
        elif tag in ("td", "th") and self._rows is not None and self._text is not None:
            self._rows[-1].append("".join(self._text).strip())
            self._text = None
        elif tag == "table" and self._rows is not None:
            self.tables.setdefault(self.section, self._rows)
            self._rows = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def read_report(path) -> dict[str, pd.DataFrame]:
    """The numbers of a report written by :func:`write_report`, read back as tables.

    A report is for people; this reads what it shows back into pandas, to check it or to
    criticise it, without an HTML library beyond Python's own.

    Parameters
    ----------
    path : str or pathlib.Path
        An HTML report written by :func:`write_report` (or ``crm-models score --report``).

    Returns
    -------
    dict of str to pandas.DataFrame
        One entry per section that shows numbers, keyed by the section's title:

        - ``"Key figures"``: indexed by ``figure``, columns ``text`` (as shown) and ``value``
          (the number: ``"23,570"`` is 23570.0, a percentage such as ``"82%"`` is the share 0.82);
        - every section with a table (``"Segments"``, ``"Is the model right? Backtest and model
          choice"``, ``"Next best action"``, ``"Fitted models"``, ``"Top 20 customers by CLV"``):
          the table, indexed by its first column, numbers parsed (thousands separators removed),
          text kept.

        Sections that show only figures or sentences are left out.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from crm_models.datasets import load_cdnow
    >>> from crm_models.pipeline import score_customers
    >>> scores = score_customers(load_cdnow(), transaction_model="MBG/NBD")
    >>> tables = read_report(write_report(pathlib.Path(tempfile.mkdtemp()) / "r.html", scores))
    >>> sorted(tables)
    ['Key figures', 'Next best action', 'Segments', 'Top 20 customers by CLV']
    >>> float(tables["Key figures"].loc["customers who bought", "value"])
    2357.0
    >>> int(tables["Segments"]["customers"].sum())
    2357
    """
    parser = _ReportParser()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    parser.close()
    out: dict[str, pd.DataFrame] = {}
    if parser.kpis:
        figures = pd.DataFrame([k[:2] for k in parser.kpis if len(k) >= 2], columns=["figure", "text"])
        values = [_number(t) for t in figures["text"]]
        figures["value"] = [float(v) if isinstance(v, (int, float)) else float("nan") for v in values]
        out["Key figures"] = figures.set_index("figure")
    for section, rows in parser.tables.items():
        if not rows or len(rows[0]) < 2:
            continue
        header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
        table = pd.DataFrame([[_number(v) for v in r] for r in body], columns=header)
        out[section] = table.set_index(header[0])
    return out

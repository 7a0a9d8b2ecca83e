"""read_report gives back the numbers a report shows: key figures, segments, backtest, actions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.datasets import load_cdnow
from crm_models.pipeline import CustomerScorer
from crm_models.report import key_figures, read_report, render_report, write_report

BACKTEST = "Is the model right? Backtest and model choice"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    log = load_cdnow()
    scorer = CustomerScorer(margin=0.3)
    scores = scorer.fit_transform(log)
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(path, scores, title="CDNOW", models=scorer.summary(), backtest=scorer.backtest_,
                 model_choice=scorer.model_choice_)
    return scorer, scores, path


def test_key_figures_read_back_as_numbers(written):
    _, scores, path = written
    figures = read_report(path)["Key figures"]
    shown = key_figures(scores)
    assert list(figures.index) == list(shown)
    assert figures["text"].tolist() == list(shown.values())
    assert figures.loc["customers who bought", "value"] == len(scores)
    assert figures.loc["repeat buyers", "value"] == int((scores["frequency"] > 0).sum())
    share = figures.loc["share of equity in top 20%", "value"]
    assert 0 < share <= 1 and f"{share:.0%}" == shown["share of equity in top 20%"]


def test_tables_read_back_to_the_precision_shown(written):
    scorer, scores, path = written
    tables = read_report(path)
    assert {"Segments", BACKTEST, "Next best action", "Fitted models", "Top 20 customers by CLV"} <= set(tables)
    seg = tables["Segments"]
    assert seg.index.name == "RFM segment" and seg["customers"].dtype.kind == "i"
    by_segment = scores.groupby("rfm_segment").agg(customers=("clv", "size"), mean_p_alive=("p_alive", "mean"))
    pd.testing.assert_series_equal(seg["customers"].sort_index(), by_segment["customers"].sort_index(),
                                   check_names=False, check_index_type=False)
    assert np.allclose(seg["mean_p_alive"].sort_index(), by_segment["mean_p_alive"].sort_index(), atol=0.005)
    # the backtest table: one row per model and baseline, the means of the scorer's backtest to 3 decimals
    bt = tables[BACKTEST]
    mae = scorer.backtest_.summary().to_frame()["mae_purchases"]
    assert list(bt.index) == list(mae.index)
    assert np.allclose(bt["mae_purchases"], mae, atol=0.0005)
    # text cells stay text; an apostrophe comes back unescaped
    top = tables["Top 20 customers by CLV"]
    assert top["rfm_segment"].map(type).eq(str).all() and top.index[0] == scores["clv"].idxmax()
    assert tables["Next best action"]["customers"].sum() == len(scores)


def test_a_report_without_models_or_backtest(tmp_path):
    scores = CustomerScorer(transaction_model="MBG/NBD").fit_transform(load_cdnow())
    tables = read_report(write_report(tmp_path / "r.html", scores))
    assert BACKTEST not in tables and "Fitted models" not in tables
    assert sorted(tables["Segments"].index) == sorted(scores["rfm_segment"].unique())  # names unescaped


def test_drawing_a_report_leaves_the_callers_matplotlib_alone(written):
    """A report written from a notebook must not switch its backend (inline figures stopped showing)."""
    import matplotlib
    import matplotlib.pyplot as plt

    scorer, scores, _ = written
    before = matplotlib.get_backend()
    plt.switch_backend("svg")  # any backend but Agg, as a notebook's inline one
    try:
        fig = plt.figure()
        open_before = plt.get_fignums()  # the caller's figures (earlier tests may have left some open)
        html = render_report(scores, backtest=scorer.backtest_, model_choice=scorer.model_choice_)
        assert fig.number in open_before
        assert matplotlib.get_backend() == "svg" and plt.get_fignums() == open_before
        assert html.count("data:image/png;base64,") >= 5
    finally:
        plt.close("all")
        plt.switch_backend(before)

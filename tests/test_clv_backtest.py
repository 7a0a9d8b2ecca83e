"""Backtests, metrics against hand-computed values, model choice, and the figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from crm_models import calibration_holdout_split  # noqa: E402
from crm_models.clv import GammaGamma, ModifiedBetaGeo, backtest, select_model  # noqa: E402
from crm_models.clv import plotting as pl  # noqa: E402
from crm_models.clv.backtest import (  # noqa: E402
    BASELINES,
    METRICS,
    MODELS,
    brier_score,
    gains_table,
    reliability_curve,
    roc_auc,
)
from crm_models.datasets import load_cdnow  # noqa: E402
from crm_models.errors import DataError  # noqa: E402


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


@pytest.fixture(scope="module")
def result(cdnow):
    return backtest(cdnow, n_cutoffs=3)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# ---------------------------------------------------------------------- metrics by hand
def test_auc_by_hand():
    # buyers score 0.9, 0.7, 0.2; non-buyers 0.8, 0.7: of the 6 (buyer, non-buyer) pairs the buyer
    # scores higher in 2 (0.9 > 0.8, 0.9 > 0.7) and ties in 1 (0.7 = 0.7): (2 + 0.5) / 6
    bought = [True, False, True, False, True]
    score = [0.9, 0.8, 0.7, 0.7, 0.2]
    assert roc_auc(bought, score) == pytest.approx(2.5 / 6)
    assert roc_auc(bought, score) == pytest.approx(roc_auc_score(bought, score))
    assert roc_auc([1, 1, 0], [0.1, 0.2, 0.9]) == 0.0 and roc_auc([1, 1, 0], [0.8, 0.9, 0.1]) == 1.0
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))


def test_brier_and_reliability_by_hand():
    p = np.array([0.05, 0.15, 0.12, 0.55, 0.95, 1.0])
    y = np.array([0, 0, 1, 1, 1, 0])
    assert brier_score(y, p) == pytest.approx((0.05**2 + 0.15**2 + 0.88**2 + 0.45**2 + 0.05**2 + 1.0) / 6)
    curve = reliability_curve(y, p, n_bins=4)
    # band [0, .25): 0.05, 0.15, 0.12 (one bought); [.25, .5) empty; [.5, .75): 0.55 (bought);
    # [.75, 1]: 0.95 (bought) and 1.0 (did not)
    assert curve.index.tolist() == [0, 2, 3]
    assert curve["n_customers"].tolist() == [3, 1, 2]
    np.testing.assert_allclose(curve["mean_predicted"], [0.32 / 3, 0.55, 0.975])
    np.testing.assert_allclose(curve["observed"], [1 / 3, 1.0, 0.5])
    np.testing.assert_allclose(curve[["lower", "upper"]].to_numpy(), [[0, 0.25], [0.5, 0.75], [0.75, 1.0]])
    with pytest.raises(ValueError, match="probability"):
        reliability_curve(y, p + 0.5)


def test_gains_by_hand():
    # ranked by prediction: values 10, 0 | 5, 5 -> the top half holds 10 of 20
    g = gains_table([5, 0, 10, 5], [1, 3, 4, 2], n_groups=2)
    np.testing.assert_allclose(g["share_of_value"], [0.5, 1.0])
    np.testing.assert_allclose(g["lift"], [1.0, 1.0])
    g = gains_table([0, 0, 0, 8], [1, 2, 3, 4], n_groups=4)
    np.testing.assert_allclose(g["lift"], [4.0, 0, 0, 0])
    np.testing.assert_allclose(g["share_of_customers"], [0.25, 0.5, 0.75, 1.0])


# ------------------------------------------------------------------------ the backtest
def test_backtest_table_is_tidy_and_reproducible(result, cdnow):
    assert len(result.cutoffs) == 3
    assert result.models == list(MODELS) + list(BASELINES)
    assert set(METRICS) <= set(result.table.columns)
    assert len(result.table) == 3 * 6
    for cut, table in result.tables.items():
        assert table.index.tolist() == result.models
        split = calibration_holdout_split(cdnow, calibration_period_end=cut,
                                          observation_period_end=cut + pd.Timedelta(days=result.holdout.days),
                                          after_end="drop")
        assert (table["n_customers"] == len(split)).all()
        assert (table["holdout_purchases"] == split["frequency_holdout"].sum()).all()
    # one model at one cut-off, recomputed by hand from the split
    cut = result.cutoffs[-1]
    split = calibration_holdout_split(cdnow, calibration_period_end=cut,
                                      observation_period_end=cut + pd.Timedelta(days=result.holdout.days),
                                      after_end="drop")
    cal = split.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T",
                                "monetary_value_cal": "monetary_value"})
    t = split["duration_holdout"].iloc[0]
    model = ModifiedBetaGeo().fit(cal[["frequency", "recency", "T"]])  # the backtest warm-starts: equal to ~1e-6
    e = model.expected_purchases(cal, t)
    y = split["frequency_holdout"]
    row = result.at(cut).loc["MBG/NBD"]
    assert row["mae_purchases"] == pytest.approx((e - y).abs().mean(), rel=1e-6)
    assert row["rmse_purchases"] == pytest.approx(np.sqrt(((e - y) ** 2).mean()), rel=1e-6)
    assert row["total_error_pct"] == pytest.approx(100 * (e.sum() - y.sum()) / y.sum(), abs=1e-4)
    p_buy = 1 - model.probability_no_purchase(cal, t)
    assert row["auc"] == pytest.approx(roc_auc_score(y > 0, p_buy), rel=1e-9)
    assert row["brier"] == pytest.approx(((p_buy - (y > 0)) ** 2).mean(), rel=1e-6)
    spend = GammaGamma().fit(cal[cal["frequency"] > 0]).expected_spend(cal)
    actual_spend = split["frequency_holdout"] * split["monetary_value_holdout"]
    assert row["mae_spend"] == pytest.approx((e * spend - actual_spend).abs().mean(), rel=1e-5)


def test_baselines_by_hand(result, cdnow):
    cut = result.cutoffs[-1]
    h = pd.Timedelta(days=result.holdout.days)
    split = calibration_holdout_split(cdnow, calibration_period_end=cut, observation_period_end=cut + h,
                                      after_end="drop")
    y = split["frequency_holdout"].to_numpy(float)
    # same as last period: purchase days in (cut - h, cut] after each customer's first day
    days = cdnow.assign(day=cdnow["timestamp"].dt.normalize())[["customer_id", "day"]].drop_duplicates()
    first = days.groupby("customer_id")["day"].transform("min")
    recent = days[(days["day"] > cut - h) & (days["day"] <= cut) & (days["day"] > first)]
    last = recent.groupby("customer_id").size().reindex(split.index, fill_value=0).to_numpy(float)
    row = result.at(cut).loc["same as last period"]
    assert row["mae_purchases"] == pytest.approx(np.abs(last - y).mean())
    assert row["auc"] == pytest.approx(roc_auc_score(y > 0, last > 0))
    # past rate: x / T times the holdout length
    x, T = split["frequency_cal"].to_numpy(float), split["T_cal"].to_numpy(float)
    rate = np.where(T > 0, x / np.where(T > 0, T, 1), 0) * split["duration_holdout"].iloc[0]
    assert result.at(cut).loc["past rate", "mae_purchases"] == pytest.approx(np.abs(rate - y).mean())


def test_automatic_and_chosen_cutoffs(cdnow):
    auto = backtest(cdnow, n_cutoffs=4, models=["MBG/NBD"], baselines=[])
    # a quarter of the span (545 days) in whole weeks; cut-offs from half-way to one holdout before the end
    assert auto.holdout.days == 19 * 7
    assert auto.cutoffs[0] == pd.Timestamp("1997-09-30") and auto.cutoffs[-1] == pd.Timestamp("1998-02-17")
    mine = backtest(cdnow, cutoffs=["1997-09-30", "1997-12-30"], holdout=(26, "W"), models=["BG/NBD"],
                    baselines=["past rate"])
    assert mine.cutoffs == [pd.Timestamp("1997-09-30"), pd.Timestamp("1997-12-30")]
    assert mine.models == ["BG/NBD", "past rate"]
    assert mine.params["parameter"].tolist()[:4] == ["r", "alpha", "a", "b"]


def test_summary_and_intervals(result):
    agg = result.aggregate()
    mae = agg.xs("mae_purchases", level="metric")
    per_cut = result.table.pivot(index="cutoff", columns="model", values="mae_purchases")
    np.testing.assert_allclose(mae["mean"].reindex(per_cut.columns), per_cut.mean())
    assert ((mae["lower"] <= mae["mean"]) & (mae["mean"] <= mae["upper"])).all()
    s = result.summary()
    assert s.to_frame().index.tolist() == result.models
    assert "interval" in " ".join(s.to_frame().columns)
    assert "Backtest" in repr(result) and "<table" in result._repr_html_()
    pooled = result.pooled_reliability()
    n = result.table.groupby("model")["n_customers"].sum()
    np.testing.assert_allclose(pooled.groupby(level="model")["n_customers"].sum().reindex(n.index), n)


def test_select_model_states_its_rule(result):
    choice = select_model(result)
    assert choice.model in MODELS and choice.criterion == "mae_purchases"
    assert choice.model != "BG/NBD"  # the default leads away from "every one-time buyer is alive"
    assert "mae_purchases" in choice.reason and "baseline" in choice.reason
    assert set(choice.table.index) == set(result.models)
    assert choice.table.loc[choice.model, "tied"]
    assert choice.summary().notes == [choice.reason]
    auc = select_model(result, "auc")
    assert "higher is better" in auc.reason
    with pytest.raises(ValueError, match="criterion"):
        select_model(result, "accuracy")
    with pytest.raises(TypeError, match="BacktestResult"):
        select_model(result.table)


def test_chosen_model_beats_every_baseline_on_the_cdnow_master_log():
    master = backtest(load_cdnow(sample=False))
    assert len(master.cutoffs) == 4
    choice = select_model(master)
    assert choice.beats_baselines and choice.model in ("MBG/NBD", "Pareto/NBD")
    mean = master.aggregate().xs("mae_purchases", level="metric")["mean"]
    assert all(mean[choice.model] < mean[b] for b in BASELINES)


def test_a_log_without_amounts(cdnow):
    r = backtest(cdnow.drop(columns="amount"), monetary_value_col=None, n_cutoffs=1, models=["MBG/NBD"])
    assert r.table["mae_spend"].isna().all() and r.table["spearman_value"].notna().all()


def test_errors(cdnow):
    with pytest.raises(ValueError, match="models must be among"):
        backtest(cdnow, models=["BG/BB"])
    with pytest.raises(ValueError, match="leaves no calibration"):
        backtest(cdnow, cutoffs=["1996-12-31"])
    with pytest.raises(ValueError, match="runs past the end"):
        backtest(cdnow, cutoffs=["1998-06-01"], holdout=(13, "W"))
    with pytest.raises(ValueError, match="whole number of days"):
        backtest(cdnow, holdout=(1.5, "D"))
    with pytest.raises(DataError) as info:
        backtest(cdnow.rename(columns={"timestamp": "date"}))
    assert info.value.column == "timestamp"
    bad = cdnow.astype({"timestamp": object})
    bad.loc[3, "timestamp"] = "not a date"
    with pytest.raises(DataError) as info:
        backtest(bad)
    assert info.value.column == "timestamp" and 3 in info.value.rows.index


def test_plots(result):
    ax = pl.plot_backtest(result, "brier")
    assert [t.get_text() for t in ax.get_yticklabels()] == result.models
    ax = pl.plot_reliability(result, models=["MBG/NBD"])
    pooled = result.pooled_reliability().xs("MBG/NBD", level="model")
    np.testing.assert_allclose(ax.lines[1].get_ydata(), pooled["observed"])
    ax = pl.plot_gains(result, models=["Pareto/NBD", "past rate"])
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="metric"):
        pl.plot_backtest(result, "accuracy")

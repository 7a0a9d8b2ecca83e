"""Diagnostics tables and their matplotlib plots (headless), on CDNOW, donations and cohorts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crm_models import calibration_holdout_split  # noqa: E402
from crm_models.clv import (  # noqa: E402
    BetaGeo,
    BetaGeoBetaBinom,
    GammaGamma,
    ModifiedBetaGeo,
    ShiftedBetaGeo,
    compare_models,
    simulate_beta_geo_log,
)
from crm_models.clv import diagnostics as dg  # noqa: E402
from crm_models.clv import plotting as pl  # noqa: E402
from crm_models.errors import DataError, NotFittedError  # noqa: E402
from crm_models.datasets import load_cdnow, load_donations, load_retention_cohorts  # noqa: E402

CAL_END, OBS_END = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


@pytest.fixture(scope="module")
def cal_holdout(cdnow):
    return calibration_holdout_split(cdnow, calibration_period_end=CAL_END, observation_period_end=OBS_END)


@pytest.fixture(scope="module")
def cal(cal_holdout):
    return cal_holdout.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})


@pytest.fixture(scope="module")
def bgnbd(cal):
    return BetaGeo().fit(cal)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_histogram_counts_and_chi_square(bgnbd, cal):
    check = dg.repeat_purchase_histogram(bgnbd, cal, max_frequency=7)
    t = check.table
    assert t.index.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert t["actual"].sum() == len(cal) == 2357
    assert t.loc["0", "actual"] == 1411  # 2357 customers, 946 repeaters
    assert t["model"].sum() == pytest.approx(2357, rel=1e-9)
    # the statistic is Pearson's chi-square of the table, dof = buckets - 1 - 4 parameters
    chi = ((t["actual"] - t["model"]) ** 2 / t["model"]).sum()
    assert check.chi_square == pytest.approx(chi) and check.dof == 3
    assert 0 < check.p_value < 1
    ax = pl.plot_repeat_purchase_histogram(check)
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, np.concatenate([t["actual"], t["model"]]))
    assert "chi-square" in ax.get_title()


def test_histogram_on_a_repeat_pattern_table():
    d = load_donations()
    m = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
    check = dg.repeat_purchase_histogram(m, d, weights_col="n_donors", max_frequency=6)
    assert check.table["actual"].tolist() == [3464, 1823, 1430, 1085, 1036, 1063, 1203]
    # FHS 2010, Figure 3: the model's expected counts
    np.testing.assert_allclose(check.table["model"], m.expected_pattern_counts(6, 11104), rtol=1e-9)


def test_tracking_reproduces_published_counts(bgnbd, cdnow):
    tr = dg.tracking_data(bgnbd, cdnow, calibration_period_end=CAL_END, observation_period_end=OBS_END)
    positional = dg.tracking_data(bgnbd, cdnow, "customer_id", "timestamp", CAL_END, OBS_END)
    pd.testing.assert_frame_equal(tr, positional)
    # the default end of observation is the last date in the log, here the holdout's end
    pd.testing.assert_frame_equal(dg.tracking_data(bgnbd, cdnow, calibration_period_end=CAL_END), tr)
    assert len(tr) == 78 and tr.attrs["n_customers"] == 2357
    assert (tr["phase"] == "calibration").sum() == 39
    assert tr.loc[39, "end"] == pd.Timestamp(CAL_END)
    # 2,457 repeat purchases in calibration (FHL 2005), the holdout total equals the split's
    assert tr.loc[39, "actual_cumulative"] == 2457
    assert tr["actual"].iloc[39:].sum() == 1882
    np.testing.assert_allclose(tr["model"].cumsum(), tr["model_cumulative"])
    # the model's cumulative count is the cohort's sum of E[X(t)] to the end of the period's last day
    first = cdnow.groupby("customer_id")["timestamp"].min()
    t_end = ((pd.Timestamp(OBS_END) - first).dt.days + 1) / 7
    expected = bgnbd.expected_purchases_new_customer(t_end.to_numpy()).sum()
    assert tr["model_cumulative"].iloc[-1] == pytest.approx(expected, rel=1e-9)
    # in calibration the model tracks within a few percent
    assert abs(tr.loc[39, "model_cumulative"] / 2457 - 1) < 0.05
    ax = pl.plot_tracking(tr, cumulative=True)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), tr["actual_cumulative"])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), tr["model_cumulative"])
    ax = pl.plot_tracking(tr, cumulative=False)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), tr["model"])


def test_tracking_matches_the_btyd_walkthrough(cdnow):
    """BTYD walkthrough (Pareto/NBD on the CDNOW sample, weeks 20-25), as lifetimes' own test:
    cumulative actual 1359 1414 1484 1517 1573 1672, expected 1309 1385 1460 1533 1604 1674;
    incremental expected 78.31 76.42 74.65 72.98 71.41 69.93."""
    from crm_models import rfm_summary
    from crm_models.clv import ParetoNBD

    model = ParetoNBD().fit(rfm_summary(cdnow, observation_period_end=CAL_END, after_end="drop"))
    tr = dg.tracking_data(model, cdnow, calibration_period_end=CAL_END, observation_period_end=OBS_END)
    weeks = tr.loc[20:25]
    assert weeks["actual_cumulative"].tolist() == [1359, 1414, 1484, 1517, 1573, 1672]
    assert weeks["model_cumulative"].round().tolist() == [1309, 1385, 1460, 1533, 1604, 1674]
    np.testing.assert_allclose(weeks["model"], [78.31, 76.42, 74.65, 72.98, 71.41, 69.93], atol=0.011)
    # a purchase on a period's last day counts, so the model's exposure runs to the end of that day
    first = cdnow.groupby("customer_id")["timestamp"].min()
    days = (tr.loc[1, "end"] - first[first <= tr.loc[1, "end"]]).dt.days.to_numpy() + 1
    expected = model.expected_purchases_new_customer(np.unique(days) / 7).to_numpy()
    counts = np.unique(days, return_counts=True)[1]
    assert tr.loc[1, "model_cumulative"] == pytest.approx((expected * counts).sum(), rel=1e-9)


def test_tracking_in_other_periods_and_units(bgnbd, cdnow, cal):
    weekly = dg.tracking_data(bgnbd, cdnow, calibration_period_end=CAL_END, observation_period_end=OBS_END)
    four_weeks = dg.tracking_data(bgnbd, cdnow, calibration_period_end=CAL_END, observation_period_end=OBS_END,
                                  period=(4, "W"))
    assert len(four_weeks) == 20 and four_weeks.attrs["period_days"] == 28
    assert four_weeks["actual_cumulative"].iloc[-1] == weekly["actual_cumulative"].iloc[-1]
    assert four_weeks["model_cumulative"].iloc[-1] == pytest.approx(weekly["model_cumulative"].iloc[-1])
    # a model fitted in days, told so, tracks the same
    days = cal.assign(recency=cal["recency"] * 7, T=cal["T"] * 7)
    in_days = dg.tracking_data(BetaGeo().fit(days), cdnow, calibration_period_end=CAL_END,
                               observation_period_end=OBS_END, time_unit="D")
    np.testing.assert_allclose(in_days["model_cumulative"], weekly["model_cumulative"], rtol=1e-4)


def test_tracking_errors(bgnbd, cdnow):
    kw = dict(calibration_period_end=CAL_END, observation_period_end=OBS_END)
    with pytest.raises(ValueError, match="before calibration_period_end"):
        dg.tracking_data(bgnbd, cdnow, calibration_period_end=OBS_END, observation_period_end=CAL_END)
    with pytest.raises(ValueError, match="calibration_period_end is required"):
        dg.tracking_data(bgnbd, cdnow)
    with pytest.raises(DataError, match="missing column"):
        dg.tracking_data(bgnbd, cdnow, "customer", **kw)
    with pytest.raises(ValueError, match="time_unit must be one of"):
        dg.tracking_data(bgnbd, cdnow, **kw, time_unit="fortnight")
    with pytest.raises(ValueError, match="time_unit must be one of"):
        dg.tracking_data(bgnbd, cdnow, **kw, time_unit=7)
    with pytest.raises(ValueError, match="period must be a whole number of days"):
        dg.tracking_data(bgnbd, cdnow, **kw, period=(1, "M"))
    with pytest.raises(ValueError, match=r"period must be a \(length, unit\) pair"):
        dg.tracking_data(bgnbd, cdnow, **kw, period=7)
    bgbb = BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors")
    with pytest.raises(TypeError, match="continuous-time model"):
        dg.tracking_data(bgbb, cdnow, **kw)


def test_conditional_expectations(bgnbd, cal_holdout):
    ce = dg.conditional_expectations(bgnbd, cal_holdout, max_frequency=7)
    assert ce["n_customers"].sum() == 2357
    assert ce.loc["0", "n_customers"] == 1411
    actual0 = cal_holdout.loc[cal_holdout["frequency_cal"] == 0, "frequency_holdout"].mean()
    assert ce.loc["0", "actual"] == pytest.approx(actual0)
    sel = cal_holdout["frequency_cal"] >= 7
    frame = cal_holdout.loc[sel].rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    assert ce.loc["7+", "model"] == pytest.approx(bgnbd.expected_purchases(frame, 39).mean())
    assert np.all(np.diff(ce["model"].to_numpy()) > 0)
    renamed = cal_holdout.rename(columns={"frequency_holdout": "fh", "duration_holdout": "dh"})
    pd.testing.assert_frame_equal(
        dg.conditional_expectations(bgnbd, renamed, frequency_holdout_col="fh", duration_holdout_col="dh"), ce)
    with pytest.raises(DataError, match="missing column"):
        dg.conditional_expectations(bgnbd, cal_holdout.drop(columns="frequency_holdout"))
    with pytest.raises(ValueError, match="max_frequency must be a whole number"):
        dg.conditional_expectations(bgnbd, cal_holdout, max_frequency=0)
    with pytest.raises(TypeError, match="repeat-purchase model"):
        dg.conditional_expectations(
            GammaGamma(frequency_col="frequency_cal", monetary_value_col="monetary_value_cal").fit(cal_holdout),
            cal_holdout)
    ax = pl.plot_conditional_expectations(ce)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ce["actual"])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), ce["model"])


def test_matrices(bgnbd):
    pa = dg.probability_alive_matrix(bgnbd, 38.86, max_frequency=10)
    assert pa.shape == (11, 39)
    assert pa.loc[0, 0.0] == 1.0 and np.isnan(pa.loc[0, 5.0])
    one = pd.DataFrame({"frequency": [3], "recency": [20.0], "T": [38.86]})
    assert pa.loc[3, 20.0] == pytest.approx(bgnbd.probability_alive(one).iloc[0])
    valid = pa.to_numpy()[np.isfinite(pa.to_numpy())]
    assert np.all((valid >= 0) & (valid <= 1))
    em = dg.expected_purchases_matrix(bgnbd, 38.86, 39, max_frequency=10)
    assert em.loc[3, 20.0] == pytest.approx(bgnbd.expected_purchases(one, 39).iloc[0])
    ax = pl.plot_matrix(pa, title="P(alive)", label="P(alive)", vmin=0, vmax=1)
    np.testing.assert_allclose(ax.images[0].get_array().filled(np.nan), pa.to_numpy(), equal_nan=True)


def test_matrix_for_bgbb_blanks_impossible_cells():
    d = load_donations()
    m = BetaGeoBetaBinom().fit(d, weights_col="n_donors")
    pa = dg.probability_alive_matrix(m, 6)
    assert pa.shape == (7, 7)
    assert np.isnan(pa.loc[3, 2.0]) and np.isfinite(pa.loc[2, 3.0])
    assert pa.loc[6, 6.0] == pytest.approx(1.0)


def test_retention_table_and_plot():
    c = load_retention_cohorts()
    m = ShiftedBetaGeo(period_col="year", survivors_col="regular").fit(c[c.year <= 7], unit="percent",
                                                                        cohort_size=1000)
    tab = dg.retention_table(m, c[["year", "regular"]], unit="percent")
    assert tab.index.tolist() == list(range(13))
    longer = dg.retention_table(m, c[["year", "regular"]], unit="percent", n_periods=20)
    assert longer.index.max() == 20 and longer["actual_survival"].iloc[13:].isna().all()
    with pytest.raises(TypeError, match="ShiftedBetaGeo"):
        dg.retention_table(BetaGeo(), c)
    assert (tab["phase"] == "fitted").sum() == 8
    np.testing.assert_allclose(tab["actual_survival"], c["regular"] / 100)
    np.testing.assert_allclose(tab["model_survival"], m.survival(range(13)))
    ax = pl.plot_retention(tab)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 100 * tab["model_survival"])


def test_compare_models(bgnbd, cal, cal_holdout):
    mbg = ModifiedBetaGeo().fit(cal)
    table = compare_models({"BG/NBD": bgnbd, "MBG/NBD": mbg}, cal_holdout)
    assert table.index.tolist() == ["BG/NBD", "MBG/NBD"]
    assert table.loc["BG/NBD", "log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    assert table.loc["BG/NBD", "aic"] == pytest.approx(2 * 4 + 2 * 9582.429, abs=0.01)
    assert table.loc["BG/NBD", "bic"] == pytest.approx(bgnbd.bic_)
    assert table.loc["BG/NBD", "holdout_actual"] == 1882
    pred = bgnbd.expected_purchases(cal, 39)
    err = pred.to_numpy() - cal_holdout["frequency_holdout"].to_numpy()
    assert table.loc["BG/NBD", "holdout_mae"] == pytest.approx(np.abs(err).mean())
    assert table.loc["BG/NBD", "holdout_rmse"] == pytest.approx(np.sqrt((err**2).mean()))
    only_fit = compare_models([bgnbd])
    assert "holdout_mae" not in only_fit.columns and only_fit.index.tolist() == ["BetaGeo"]
    with pytest.raises(NotFittedError, match="not fitted"):
        compare_models([BetaGeo()])
    with pytest.raises(ValueError, match="at least one fitted model"):
        compare_models({})
    renamed = cal_holdout.rename(columns={"frequency_holdout": "fh", "duration_holdout": "dh"})
    again = compare_models({"BG/NBD": bgnbd}, renamed, frequency_holdout_col="fh", duration_holdout_col="dh")
    assert again.loc["BG/NBD", "holdout_mae"] == table.loc["BG/NBD", "holdout_mae"]
    # a spend model has fit statistics but no holdout purchases to predict
    gg = GammaGamma(monetary_value_col="monetary_value_cal").fit(cal)
    assert compare_models([gg]).loc["GammaGamma", "n_params"] == 3
    with pytest.raises(TypeError, match="repeat-purchase model"):
        compare_models([gg], cal_holdout)


def test_simulated_log_recovers_truth_and_weekly_buckets_bias_alpha():
    from crm_models import rfm_summary

    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    log = simulate_beta_geo_log(20_000, truth, "2020-01-01", "2020-03-31", "2020-12-31", random_state=42,
                                time_unit="W")
    assert log.groupby("customer_id")["timestamp"].min().max() <= pd.Timestamp("2020-03-31")
    assert log["timestamp"].max() <= pd.Timestamp("2020-12-31")
    daily = rfm_summary(log, "customer_id", "timestamp", None, observation_period_end="2020-12-31", time_unit="W")
    weekly = rfm_summary(log, "customer_id", "timestamp", None, observation_period_end="2020-12-31", time_unit="W", grain="W")
    m_day, m_week = BetaGeo().fit(daily), BetaGeo().fit(weekly)
    z = (np.log(m_day.params_) - np.log(pd.Series(truth))) / np.sqrt(np.diag(m_day.covariance_log_))
    assert np.all(np.abs(z) < 4), z
    # bucketing purchases into calendar weeks merges some of them and inflates alpha by far more than its error
    assert m_week.params_["alpha"] / truth["alpha"] > 1.25
    assert weekly["frequency"].sum() < daily["frequency"].sum()


def test_diagnostics_refuse_models_outside_their_contract(bgnbd, cal):
    with pytest.raises(TypeError, match="repeat-purchase model"):
        dg.repeat_purchase_histogram(object(), cal)
    with pytest.raises(NotFittedError):
        dg.probability_alive_matrix(BetaGeo(), 10)
    with pytest.raises(ValueError, match="T must be a positive length"):
        dg.probability_alive_matrix(bgnbd, 0)
    with pytest.raises(ValueError, match="recency values must lie in"):
        dg.expected_purchases_matrix(bgnbd, 10, 5, recency=[11.0])
    bgbb = BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors")
    with pytest.raises(ValueError, match="whole number of opportunities"):
        dg.probability_alive_matrix(bgbb, 6.5)

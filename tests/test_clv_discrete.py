"""BG/BB and sBG: published tables, lifetimes agreement, recovery, validation, persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.clv import (
    BetaGeoBetaBinom,
    ShiftedBetaGeo,
    simulate_beta_geo_beta_binom,
    simulate_shifted_beta_geo,
)
from crm_models.datasets import load_donations, load_retention_cohorts
from crm_models.errors import DataError, ModelFileError, NotFittedError


@pytest.fixture(scope="module")
def donations():
    return load_donations()


@pytest.fixture(scope="module")
def bgbb(donations):
    return BetaGeoBetaBinom().fit(donations, weights_col="n_donors")


@pytest.fixture(scope="module")
def cohorts():
    return load_retention_cohorts()


# ----------------------------------------------------------------------------- BG/BB
def test_bgbb_reproduces_fader_hardie_shang_2010(bgbb):
    # FHS (2010), Table 2 / section 4: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6
    assert bgbb.params_.round(3).tolist() == [1.204, 0.750, 0.657, 2.783]
    assert round(bgbb.log_likelihood_, 1) == -33225.6
    assert bgbb.n_obs_ == 11104
    assert bgbb.n_unique_ == 22
    assert np.all(bgbb.standard_errors_ > 0) and np.all(np.isfinite(bgbb.standard_errors_))


def test_bgbb_agrees_with_lifetimes(bgbb, donations):
    from lifetimes import BetaGeoBetaBinomFitter

    lf = BetaGeoBetaBinomFitter().fit(
        donations["frequency"], donations["recency"], donations["n_opportunities"], weights=donations["n_donors"]
    )
    np.testing.assert_allclose(bgbb.params_.to_numpy(), lf.params_.to_numpy(), rtol=2e-4)
    # the formulas, evaluated at the same parameters
    lf.params_ = bgbb.params_.copy()
    x, tx, n = (donations[c] for c in ("frequency", "recency", "n_opportunities"))
    for m in (1, 5, 10):
        np.testing.assert_allclose(
            bgbb.expected_purchases(donations, m).to_numpy(),
            lf.conditional_expected_number_of_purchases_up_to_time(m, x, tx, n).to_numpy(),
            rtol=1e-9,
        )
    for ahead in (0, 1, 3):
        np.testing.assert_allclose(
            bgbb.probability_alive(donations, opportunities_ahead=ahead).to_numpy(),
            lf.conditional_probability_alive(ahead, x, tx, n).to_numpy(),
            rtol=1e-9,
        )
    np.testing.assert_allclose(
        bgbb.expected_pattern_counts(6, 11104).to_numpy(),
        lf.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy(),
        rtol=1e-9,
    )


def test_bgbb_weighted_equals_expanded_rows(bgbb, donations):
    expanded = donations.loc[donations.index.repeat(donations["n_donors"])].reset_index(drop=True)
    m = BetaGeoBetaBinom().fit(expanded)
    np.testing.assert_allclose(m.params_, bgbb.params_, rtol=1e-5)
    assert m.log_likelihood_ == pytest.approx(bgbb.log_likelihood_, rel=1e-9)


def test_bgbb_new_customer_identities(bgbb):
    n = 6
    pmf = bgbb.probability_of_n_purchases(n, np.arange(n + 1))
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert (pmf.index.to_numpy() * pmf.to_numpy()).sum() == pytest.approx(bgbb.expected_purchases_new_customer(n).iloc[0])
    # E[X(n)] of a new customer is the conditional expectation at x = t_x = n = 0 ... built up opportunity by opportunity
    e = bgbb.expected_purchases_new_customer(np.arange(0, 30))
    assert e.iloc[0] == 0 and np.all(np.diff(e.to_numpy()) > 0)


def test_bgbb_gamma_near_one_is_continuous():
    m = BetaGeoBetaBinom()
    m.params_ = pd.Series({"alpha": 1.2, "beta": 0.75, "gamma": 1.0, "delta": 2.8})
    at_one = m._expected_new(m.params_.to_dict(), np.array([6.0]))
    for g in (1 - 1e-6, 1 + 1e-6):
        p = {"alpha": 1.2, "beta": 0.75, "gamma": g, "delta": 2.8}
        np.testing.assert_allclose(m._expected_new(p, np.array([6.0])), at_one, rtol=1e-5)
    pmf = np.exp(__import__("crm_models.clv._bgbb_math", fromlist=["x"]).log_pmf_new(
        m.params_.to_numpy(), np.arange(7), 6))
    assert (np.arange(7) * pmf).sum() == pytest.approx(float(at_one[0]), rel=1e-9)


def test_bgbb_recovers_simulated_parameters():
    truth = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    sim = simulate_beta_geo_beta_binom(20_000, truth, 6, random_state=42, latent=True)
    m = BetaGeoBetaBinom().fit(sim)
    z = (np.log(m.params_) - np.log(pd.Series(truth))) / np.sqrt(np.diag(m.covariance_log_))
    assert np.all(np.abs(z) < 4), z
    # P(alive) is calibrated: among customers given P(alive) in a bin, the share truly alive matches
    pa = m.probability_alive(sim)
    assert abs(pa.mean() - sim["alive"].mean()) < 0.02


def test_bgbb_column_names_and_index(bgbb, donations):
    renamed = donations.rename(
        columns={"frequency": "x", "recency": "t_x", "n_opportunities": "n", "n_donors": "w"}
    ).set_index(pd.Index([f"pattern{i}" for i in range(len(donations))], name="pattern"))
    m = BetaGeoBetaBinom(frequency_col="x", recency_col="t_x", n_opportunities_col="n").fit(renamed, weights_col="w")
    np.testing.assert_allclose(m.params_, bgbb.params_, rtol=1e-6)
    pred = m.expected_purchases(renamed, 5)
    assert pred.index.equals(renamed.index)
    ci = m.interval("probability_alive", renamed, alpha=0.1, n_draws=50)
    assert list(ci.columns) == ["estimate", "lower", "upper"]
    assert np.all(ci["lower"] <= ci["estimate"]) and np.all(ci["estimate"] <= ci["upper"])


@pytest.mark.parametrize(
    "row, column, rule",
    [
        ({"frequency": 2, "recency": 7, "n_opportunities": 6}, "recency", "must not exceed 'n_opportunities'"),
        ({"frequency": 0, "recency": 3, "n_opportunities": 6}, "recency", "must be 0 when 'frequency' is 0"),
        ({"frequency": 4, "recency": 3, "n_opportunities": 6}, "frequency", "must not exceed 'recency'"),
        ({"frequency": 1.5, "recency": 3, "n_opportunities": 6}, "frequency", "whole numbers"),
        ({"frequency": 1, "recency": 2.5, "n_opportunities": 6}, "recency", "whole numbers"),
        ({"frequency": -1, "recency": 0, "n_opportunities": 6}, "frequency", "must not be negative"),
        ({"frequency": 0, "recency": 0, "n_opportunities": 0}, "n_opportunities", "at least 1"),
        ({"frequency": np.nan, "recency": 0, "n_opportunities": 6}, "frequency", "NaN"),
        ({"frequency": "two", "recency": 0, "n_opportunities": 6}, "frequency", "numeric"),
    ],
)
def test_bgbb_validation_names_column_rule_and_rows(row, column, rule):
    good = pd.DataFrame({"frequency": [1, 0], "recency": [3, 0], "n_opportunities": [6, 6]})
    bad = pd.concat([good, pd.DataFrame([row])], ignore_index=True)
    with pytest.raises(DataError) as err:
        BetaGeoBetaBinom().fit(bad)
    msg = str(err.value)
    assert f"'{column}'" in msg and rule in msg and "1 of 3 rows" in msg
    assert err.value.column == column and err.value.rows.index.tolist() == [2]


def test_bgbb_missing_column_empty_and_bad_horizon(bgbb, donations):
    with pytest.raises(DataError, match="missing column"):
        BetaGeoBetaBinom().fit(donations.drop(columns="recency"))
    with pytest.raises(DataError, match="empty"):
        BetaGeoBetaBinom().fit(donations.iloc[:0])
    with pytest.raises(ValueError, match="whole number of opportunities"):
        bgbb.expected_purchases(donations, 2.5)
    with pytest.raises(ValueError, match="whole number"):
        bgbb.probability_of_n_purchases(6.5, 1)
    with pytest.raises(ValueError, match="whole number of opportunities"):
        bgbb.expected_purchases_new_customer([1, 2.5])
    with pytest.raises(ValueError, match="opportunities_ahead must be a whole number"):
        bgbb.probability_alive(donations, opportunities_ahead=-1)


def test_bgbb_unfitted_raises_one_clear_error(donations):
    m = BetaGeoBetaBinom()
    for call in (lambda: m.expected_purchases(donations, 5), lambda: m.probability_alive(donations), m.summary):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call()


def test_bgbb_json_round_trip(bgbb, donations, tmp_path):
    path = bgbb.save(tmp_path / "bgbb.json")
    doc = json.loads(path.read_text())
    assert doc["class"] == "BetaGeoBetaBinom" and doc["hyper_parameters"]["n_opportunities_col"] == "n_opportunities"
    back = BetaGeoBetaBinom.load(path)
    pd.testing.assert_series_equal(back.params_, bgbb.params_)
    pd.testing.assert_series_equal(back.expected_purchases(donations, 5), bgbb.expected_purchases(donations, 5))
    assert "n_donors" not in path.read_text()  # the training data is not stored
    with pytest.raises(ModelFileError, match="not a ShiftedBetaGeo"):
        ShiftedBetaGeo.load(path)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 10_000),
    frac_t=st.floats(0, 1),
    frac_x=st.floats(0, 1),
    horizon=st.integers(1, 10_000),
)
def test_bgbb_predictions_finite_and_in_range(bgbb, n, frac_t, frac_x, horizon):
    t_x = int(round(frac_t * n))
    x = int(round(frac_x * t_x)) if t_x else 0
    if t_x and x == 0:
        t_x = 0
    data = pd.DataFrame({"frequency": [x], "recency": [t_x], "n_opportunities": [n]})
    pa = bgbb.probability_alive(data).iloc[0]
    assert 0 <= pa <= 1
    e1 = bgbb.expected_purchases(data, horizon).iloc[0]
    e2 = bgbb.expected_purchases(data, horizon + 7).iloc[0]
    assert np.isfinite(e1) and 0 <= e1 <= e2 <= horizon + 7


# ------------------------------------------------------------------------------- sBG
@pytest.mark.parametrize("cohort, expected", [("regular", [0.704, 1.182]), ("high_end", [0.668, 3.806])])
def test_sbg_reproduces_fader_hardie_2007(cohorts, cohort, expected):
    m = ShiftedBetaGeo(period_col="year", survivors_col=cohort).fit(
        cohorts[cohorts.year <= 7], unit="percent", cohort_size=1000
    )
    assert m.params_.round(3).tolist() == expected
    assert m.n_obs_ == 1000 and m.n_periods_ == 7
    # percent or counts: same fit
    counts = cohorts.loc[cohorts.year <= 7, ["year", cohort]].assign(**{cohort: lambda d: d[cohort] * 10})
    m2 = ShiftedBetaGeo(period_col="year", survivors_col=cohort).fit(counts)
    np.testing.assert_allclose(m2.params_, m.params_, rtol=1e-8)
    assert m2.log_likelihood_ == pytest.approx(m.log_likelihood_)


@pytest.mark.parametrize("cohort", ["regular", "high_end"])
def test_sbg_projects_years_8_to_12_close_to_actuals(cohorts, cohort):
    m = ShiftedBetaGeo(period_col="year", survivors_col=cohort).fit(
        cohorts[cohorts.year <= 7], unit="percent", cohort_size=1000
    )
    projected = 100 * m.survival(range(8, 13))
    actual = cohorts.set_index("year").loc[8:12, cohort]
    # Fader & Hardie's Figure 4: the sBG projection tracks the holdout years within ~2 points,
    # while it slightly under-projects survival (the projections are a bit pessimistic)
    assert np.all(np.abs(projected.to_numpy() - actual.to_numpy()) < 2.0)
    assert np.all(projected.to_numpy() < actual.to_numpy())


def test_sbg_retention_rises_and_formulas_agree(cohorts):
    m = ShiftedBetaGeo(period_col="year", survivors_col="regular").fit(
        cohorts[cohorts.year <= 7], unit="percent", cohort_size=1000
    )
    r = m.retention_rate(range(1, 13)).to_numpy()
    assert np.all(np.diff(r) > 0)
    s = m.survival(range(0, 13)).to_numpy()
    np.testing.assert_allclose(s[1:] / s[:-1], r, rtol=1e-12)
    np.testing.assert_allclose(m.churn_probability(range(1, 13)).to_numpy(), s[:-1] - s[1:], rtol=1e-10)
    # DEL and DERL against their defining sums
    d = 0.1
    t = np.arange(0, 4000)
    S = m.survival(t).to_numpy()
    assert m.discounted_expected_lifetime((d, "Y")) == pytest.approx((S / (1 + d) ** t).sum(), rel=1e-9)
    for k in (0, 4):
        direct = (S[k + 1 :] / S[k] / (1 + d) ** np.arange(len(S) - k - 1)).sum()
        derl = m.discounted_expected_residual_lifetime((d, "Y"), k)
        assert isinstance(derl, pd.Series) and derl.index.tolist() == [k]
        assert derl.iloc[0] == pytest.approx(direct, rel=1e-9)


def test_sbg_recovers_simulated_parameters():
    sim = simulate_shifted_beta_geo(20_000, {"alpha": 0.7, "beta": 1.2}, 8, random_state=42)
    assert sim["survivors"].iloc[0] == 20_000 and sim["survivors"].is_monotonic_decreasing
    m = ShiftedBetaGeo().fit(sim)
    z = (np.log(m.params_.to_numpy()) - np.log([0.7, 1.2])) / np.sqrt(np.diag(m.covariance_log_))
    assert np.all(np.abs(z) < 4), z


def test_sbg_accepts_a_series_and_round_trips(tmp_path):
    sim = simulate_shifted_beta_geo(2_000, {"alpha": 0.7, "beta": 1.2}, 6, random_state=1)
    m = ShiftedBetaGeo().fit(sim.set_index("period")["survivors"])
    back = ShiftedBetaGeo.load(m.save(tmp_path / "sbg.json"))
    pd.testing.assert_series_equal(back.survival(range(10)), m.survival(range(10)))
    assert back.n_periods_ == 6


@pytest.mark.parametrize(
    "frame, kwargs, match",
    [
        (pd.DataFrame({"period": [0, 1, 2], "survivors": [100, 80, 85]}), {}, "must not increase"),
        (pd.DataFrame({"period": [0, 1, 3], "survivors": [100, 80, 70]}), {}, "without gaps"),
        (pd.DataFrame({"period": [0, 1], "survivors": [100, 80]}), {}, "at least two later"),
        (pd.DataFrame({"period": [0, 1, 2], "survivors": [100, 80, -1]}), {}, "must not be negative"),
        (pd.DataFrame({"period": [0, 1, 2], "survivors": [100, np.nan, 70]}), {}, "NaN"),
        (pd.DataFrame({"period": [0, 1, 2], "survivors": [100.0, 80, 70]}), {"unit": "percent"}, "cohort_size"),
        (pd.DataFrame({"period": [0, 1, 2], "survivors": [90.0, 80, 70]}), {"unit": "percent", "cohort_size": 10},
         "must be 100 at period 0"),
        (pd.DataFrame({"period": [0, 1, 2], "survivors": [100, 80, 70]}), {"unit": "share"}, "unit must be"),
        (pd.DataFrame({"year": [0, 1, 2], "survivors": [100, 80, 70]}), {}, "missing column"),
    ],
)
def test_sbg_validation(frame, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ShiftedBetaGeo().fit(frame, **kwargs)


def test_sbg_unfitted_and_bad_arguments():
    m = ShiftedBetaGeo()
    with pytest.raises(NotFittedError):
        m.survival([1, 2])
    m.fit(simulate_shifted_beta_geo(500, {"alpha": 0.7, "beta": 1.2}, 5))
    with pytest.raises(ValueError, match="whole numbers"):
        m.survival([1.5])
    for bad, match in [(-0.1, r"\(rate, unit\) pair"), ((-0.1, "Y"), r"\[0, 1\)"), ((0.0, "Y"), "must be positive"),
                       ((10, "Y"), "write 10% as 0.10"), ((0.1, "year"), "unit must be one of")]:
        with pytest.raises(ValueError, match=match):
            m.discounted_expected_lifetime(bad)


def test_sbg_extreme_horizons_stay_finite():
    m = ShiftedBetaGeo().fit(simulate_shifted_beta_geo(1_000, {"alpha": 0.7, "beta": 1.2}, 6, random_state=3))
    s = m.survival([0, 1, 100, 10_000]).to_numpy()
    assert s[0] == 1 and np.all(np.diff(s) < 0) and np.all((s > 0) & (s <= 1))
    r = m.retention_rate([1, 10_000]).to_numpy()
    assert 0 < r[0] < r[1] < 1
    derl = m.discounted_expected_residual_lifetime((0.001, "Y"), [0, 10_000]).to_numpy()
    assert np.all(np.isfinite(derl)) and derl[1] > derl[0] > 0


def test_sbg_discount_rate_is_converted_to_the_period(cohorts):
    fit = cohorts[cohorts.year <= 7]
    yearly = ShiftedBetaGeo(period_col="year", survivors_col="regular", time_unit="Y").fit(
        fit, unit="percent", cohort_size=1000)
    # 10% a year stated per month gives the same value; a model of monthly periods discounts less per period
    assert yearly.discounted_expected_lifetime((1.1 ** (1 / 12) - 1, "M")) == pytest.approx(
        yearly.discounted_expected_lifetime((0.1, "Y")), rel=1e-12)
    monthly = ShiftedBetaGeo(period_col="year", survivors_col="regular", time_unit="M").fit(
        fit, unit="percent", cohort_size=1000)
    assert monthly.discounted_expected_lifetime((0.1, "Y")) > yearly.discounted_expected_lifetime((0.1, "Y"))
    pd.testing.assert_series_equal(monthly.survival(range(5)), yearly.survival(range(5)))


def test_bgbb_intervals_and_simulator_defaults(bgbb, donations):
    ci = bgbb.interval("expected_purchases", donations, 5, n_draws=40, random_state=2)
    assert ci.index.equals(donations.index) and (ci["lower"] <= ci["upper"]).all()
    counts = bgbb.interval("expected_pattern_counts", 6, 11104, n_draws=40)
    assert counts.index.name == "frequency" and len(counts) == 7
    params = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
    pd.testing.assert_frame_equal(simulate_beta_geo_beta_binom(50, params, 4), simulate_beta_geo_beta_binom(50, params, 4))
    with pytest.raises(ValueError, match="n_opportunities must be a positive whole number"):
        simulate_beta_geo_beta_binom(50, params, 0)
    with pytest.raises(ValueError, match="n_periods must be a positive whole number"):
        simulate_shifted_beta_geo(50, {"alpha": 1, "beta": 1}, 2.5)

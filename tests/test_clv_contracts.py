"""sBG and beta-discrete-Weibull on per-customer contract data: Fader & Hardie (2007), nesting, recovery, errors."""

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import (
    BetaDiscreteWeibull,
    ShiftedBetaGeo,
    ShiftedBetaGeoContracts,
    compare_models,
    contracts_from_survivors,
    simulate_contracts,
)
from crm_models.datasets import load_retention_cohorts
from crm_models.errors import DataError


@pytest.fixture(scope="module")
def fh2007():
    """Fader & Hardie (2007): 'regular' and 'high end' cohorts of 1,000, years 0-7 (the calibration)."""
    c = load_retention_cohorts()
    table = c[c.year <= 7].melt(id_vars="year", var_name="cohort", value_name="percent")
    table["survivors"] = (table["percent"] * 10).round()
    return contracts_from_survivors(table, period_col="year", cohort_col="cohort")


def test_reproduces_fader_hardie_2007_from_per_customer_rows(fh2007):
    """FH 2007: regular alpha = 0.704, beta = 1.182, LL = -1680.27; high end 0.668, 3.806, LL = -1611.16."""
    m = ShiftedBetaGeoContracts(cohort_params="separate").fit(fh2007, weights_col="n_customers")
    assert m.params_.round(3).to_dict() == {"alpha[regular]": 0.704, "beta[regular]": 1.182,
                                            "alpha[high_end]": 0.668, "beta[high_end]": 3.806}
    for cohort, ll in (("regular", -1680.27), ("high_end", -1611.16)):
        one = ShiftedBetaGeoContracts().fit(fh2007[fh2007["cohort"] == cohort], weights_col="n_customers")
        assert round(one.log_likelihood_, 2) == ll
    assert m.log_likelihood_ == pytest.approx(-1680.27 - 1611.16, abs=0.01)
    assert m.n_customers_.to_dict() == {"regular": 1000.0, "high_end": 1000.0}
    # the per-customer fit of one cohort is the cohort-table fit, to the last digit of its outputs
    c = load_retention_cohorts()
    table = ShiftedBetaGeo(period_col="year", survivors_col="regular").fit(c[c.year <= 7], unit="percent",
                                                                           cohort_size=1000)
    np.testing.assert_allclose(m.survival(range(13), "regular"), table.survival(range(13)), rtol=1e-6)
    np.testing.assert_allclose(m.retention_rate([1, 5, 12], "regular"), table.retention_rate([1, 5, 12]), rtol=1e-6)
    active = pd.DataFrame({"cohort": "regular", "tenure": [0, 4], "churned": False})
    np.testing.assert_allclose(m.discounted_expected_residual_lifetime(active, (0.10, "Y")),
                               table.discounted_expected_residual_lifetime((0.10, "Y"), [0, 4]), rtol=1e-6)
    assert round(table.discounted_expected_residual_lifetime((0.10, "Y"), [4]).iloc[0], 3) == 5.894


def test_shared_parameters_pool_the_cohorts(fh2007):
    shared = ShiftedBetaGeoContracts().fit(fh2007, weights_col="n_customers")
    separate = ShiftedBetaGeoContracts(cohort_params="separate").fit(fh2007, weights_col="n_customers")
    assert list(shared.params_.index) == ["alpha", "beta"]
    assert shared.log_likelihood_ < separate.log_likelihood_  # pooling two different cohorts costs fit
    table = compare_models({"shared": shared, "separate": separate})
    assert table["n_params"].tolist() == [2, 4]
    assert table["bic"].idxmin() == "separate"
    with pytest.raises(ValueError, match="cohort must name"):
        separate.survival([1])
    assert shared.survival([3]).equals(shared.survival([3], "anything"))


def test_bdw_nests_the_sbg(fh2007):
    """With c = 1 the BdW is the sBG: its likelihood is at least as high, and on sBG data c stays near 1."""
    sbg = ShiftedBetaGeoContracts(cohort_params="separate").fit(fh2007, weights_col="n_customers")
    bdw = BetaDiscreteWeibull(cohort_params="separate").fit(fh2007, weights_col="n_customers")
    assert bdw.log_likelihood_ >= sbg.log_likelihood_ - 1e-6
    data = simulate_contracts({"a": 6000, "b": 6000}, {"alpha": 0.7, "beta": 1.2}, {"a": 7, "b": 5}, random_state=4)
    fit = BetaDiscreteWeibull().fit(data)
    assert abs(fit.params_["c"] - 1.0) < 3 * fit.standard_errors_["c"]
    # at c = 1 the summed DERL equals the sBG's closed form
    at_one = BetaDiscreteWeibull()
    at_one.params_ = pd.Series({"alpha": 0.7, "beta": 1.2, "c": 1.0})
    at_one.cohorts_ = ["all"]
    closed = ShiftedBetaGeoContracts()
    closed.params_ = pd.Series({"alpha": 0.7, "beta": 1.2})
    closed.cohorts_ = ["all"]
    active = pd.DataFrame({"cohort": "all", "tenure": [0, 1, 7, 40], "churned": False})
    for rate in [(0.10, "Y"), (0.01, "Y")]:
        np.testing.assert_allclose(at_one.discounted_expected_residual_lifetime(active, rate),
                                   closed.discounted_expected_residual_lifetime(active, rate), rtol=1e-9)


@pytest.mark.parametrize("c", [0.6, 1.6])
def test_bdw_recovers_duration_dependence(c):
    truth = {"alpha": 1.2, "beta": 2.0, "c": c}
    data = simulate_contracts({"2019": 8000, "2020": 8000, "2021": 8000}, truth, {"2019": 7, "2020": 5, "2021": 3},
                              random_state=11)
    m = BetaDiscreteWeibull().fit(data)
    assert ((m.params_ - pd.Series(truth)).abs() < 3 * m.standard_errors_).all(), m.summary()
    sbg = ShiftedBetaGeoContracts().fit(data)
    assert m.log_likelihood_ > sbg.log_likelihood_ + 10  # duration dependence is detected
    table = m.retention_table(data)
    fitted = table.dropna()
    assert (fitted["actual_survival"] - fitted["model_survival"]).abs().max() < 0.02


def test_per_cohort_parameters_are_recovered():
    truth = {"new": {"alpha": 0.6, "beta": 1.0}, "old": {"alpha": 2.0, "beta": 6.0}}
    data = simulate_contracts({"new": 6000, "old": 6000}, truth, {"new": 4, "old": 8}, random_state=2)
    m = ShiftedBetaGeoContracts(cohort_params="separate").fit(data)
    for cohort, p in truth.items():
        for name, value in p.items():
            key = f"{name}[{cohort}]"
            assert abs(m.params_[key] - value) < 3 * m.standard_errors_[key], key


def test_residual_value_per_customer_and_cohort():
    data = simulate_contracts({"2021": 1000, "2022": 1000}, {"alpha": 0.7, "beta": 1.2}, {"2021": 4, "2022": 3})
    m = ShiftedBetaGeoContracts().fit(data)
    derl = m.discounted_expected_residual_lifetime(data, (0.10, "Y"))
    assert (derl[data["churned"]] == 0).all() and (derl[~data["churned"]] > 0).all()
    value = m.residual_value(data, (0.10, "Y"), 120.0)
    np.testing.assert_allclose(value, 120.0 * derl)
    by = m.residual_value_by_cohort(data, (0.10, "Y"), 120.0)
    assert by["residual_value"].sum() == pytest.approx(value.sum())
    assert by["n_active"].sum() == int((~data["churned"]).sum())
    monthly = ShiftedBetaGeoContracts(time_unit="M").fit(data)
    assert monthly.discounted_expected_residual_lifetime(data.head(3), (0.10, "Y")).gt(
        derl.head(3)).where(~data["churned"].head(3), True).all()  # a smaller rate per period: more value


def test_bad_contract_data_is_refused():
    good = pd.DataFrame({"cohort": ["a", "a", "a"], "tenure": [1, 2, 3], "churned": [True, False, True]})
    with pytest.raises(DataError, match="churn happens at a renewal") as err:
        ShiftedBetaGeoContracts().fit(good.assign(tenure=[0, 2, 3]))
    assert err.value.column == "tenure" and list(err.value.rows.index) == [0]
    with pytest.raises(DataError, match="True/False or 1/0"):
        ShiftedBetaGeoContracts().fit(good.assign(churned=["yes", "no", "no"]))
    with pytest.raises(DataError, match="whole number of periods"):
        ShiftedBetaGeoContracts().fit(good.assign(tenure=[1.5, 2, 3]))
    with pytest.raises(DataError, match="missing"):
        ShiftedBetaGeoContracts().fit(good.drop(columns="churned"))
    with pytest.raises(DataError, match="not identified"):
        ShiftedBetaGeoContracts().fit(good.assign(churned=False))
    m = ShiftedBetaGeoContracts(cohort_params="separate").fit(
        simulate_contracts({"a": 500, "b": 500}, {"alpha": 0.7, "beta": 1.2}, 4))
    with pytest.raises(DataError, match="fitted cohorts") as err:
        m.discounted_expected_residual_lifetime(good.assign(cohort="z"), (0.1, "Y"))
    assert err.value.column == "cohort"
    with pytest.raises(ValueError, match="cohort_params"):
        ShiftedBetaGeoContracts(cohort_params="pooled").fit(good)
    with pytest.raises(ValueError, match="discount_rate must be positive"):
        m.discounted_expected_residual_lifetime(good.assign(cohort="a"), (0.0, "Y"))

"""Uncertainty at decision time: parameter draws of CLV, decisions made again at every draw, shrunk uplifts."""

import numpy as np
import pandas as pd
import pytest

from crm_models import rfm_summary
from crm_models.clv import GammaGamma, ModifiedBetaGeo, clv_draws, clv_interval
from crm_models.customize import decision_stability, next_best_action
from crm_models.datasets import load_cdnow
from crm_models.errors import DataError
from crm_models.measure import evaluate_campaign, shrink_uplift

UNITS = {"horizon": (12, "M"), "time_unit": "W", "discount_rate": (0.10, "Y"), "margin": 0.3}


# ------------------------------------------------------------------------------------- shrink_uplift
def _table(uplift, se):
    index = pd.Index([f"s{i}" for i in range(len(uplift))], name="segment")
    return pd.DataFrame({"uplift": uplift, "se": se}, index=index)


def test_shrinkage_follows_the_normal_normal_model_by_hand():
    t = _table([0.02, 0.10, 0.06, 0.30], [0.02, 0.02, 0.02, 0.10])
    out = shrink_uplift(t)
    y, v = t["uplift"].to_numpy(), t["se"].to_numpy() ** 2
    w = 1 / v
    ybar = (w * y).sum() / w.sum()
    q = (w * (y - ybar) ** 2).sum()
    tau2 = (q - 3) / (w.sum() - (w**2).sum() / w.sum())
    ws = 1 / (v + tau2)
    mu = (ws * y).sum() / ws.sum()
    b = v / (v + tau2)
    assert out.attrs["prior_sd"] == pytest.approx(np.sqrt(tau2), rel=1e-12)
    assert out.attrs["prior_mean"] == pytest.approx(mu, rel=1e-12)
    np.testing.assert_allclose(out["shrinkage"], b, rtol=1e-12)
    np.testing.assert_allclose(out["shrunk_uplift"], mu + (1 - b) * (y - mu), rtol=1e-12)
    np.testing.assert_allclose(out["shrunk_se"], np.sqrt((1 - b) * v + b**2 / ws.sum()), rtol=1e-12)
    np.testing.assert_allclose(out["ci_high"] - out["ci_low"], 2 * 1.959963984540054 * out["shrunk_se"], rtol=1e-9)
    # the noisiest estimate moves most, and every estimate moves toward the mean
    assert out["shrinkage"].idxmax() == "s3"
    assert ((out["shrunk_uplift"] - mu).abs() <= (out["uplift"] - mu).abs() + 1e-15).all()


def test_no_spread_beyond_noise_gives_everyone_the_mean_and_a_large_spread_keeps_the_estimates():
    flat = shrink_uplift(_table([0.05, 0.051, 0.049, 0.05], [0.03] * 4))
    assert flat.attrs["prior_sd"] == 0 and (flat["shrinkage"] == 1).all()
    assert flat["shrunk_uplift"].nunique() == 1
    wide = shrink_uplift(_table([0.0, 0.5, 1.0, 1.5], [0.001] * 4))
    assert (wide["shrinkage"] < 1e-5).all()
    np.testing.assert_allclose(wide["shrunk_uplift"], wide["uplift"], atol=1e-5)


def test_shrinkage_lowers_the_error_against_the_truth_on_average():
    rng = np.random.default_rng(0)
    raw, shrunk = [], []
    for _ in range(200):
        truth = rng.normal(0.08, 0.03, 12)
        se = rng.uniform(0.02, 0.08, 12)
        t = _table(truth + rng.normal(0, se), se)
        out = shrink_uplift(t)
        raw.append(np.mean((t["uplift"] - truth) ** 2))
        shrunk.append(np.mean((out["shrunk_uplift"] - truth) ** 2))
    assert np.mean(shrunk) < 0.7 * np.mean(raw)


def test_shrink_uplift_reads_evaluate_campaign_and_leaves_out_the_pooled_row():
    rng = np.random.default_rng(1)
    n = 1200
    camp = pd.DataFrame({"group": np.where(rng.random(n) < 0.5, "treatment", "control"),
                         "segment": rng.choice(["a", "b", "c", "d"], n)})
    camp["responded"] = rng.random(n) < 0.2 + 0.1 * (camp["group"] == "treatment")
    results = evaluate_campaign(camp, segment_col="segment")
    out = shrink_uplift(results, alpha=0.1)
    assert list(out.index) == ["a", "b", "c", "d"] and out.index.name == "segment"
    assert out.attrs["alpha"] == 0.1
    assert ((out["ci_low"] < out["shrunk_uplift"]) & (out["shrunk_uplift"] < out["ci_high"])).all()


@pytest.mark.parametrize("table, error, match", [
    (_table([0.1, 0.2], [0.01, 0.01]), DataError, "at least 3"),
    (_table([0.1, 0.2, 0.3], [0.01, 0.0, 0.01]), DataError, "positive"),
    (_table([0.1, np.nan, 0.3], [0.01, 0.01, 0.01]), DataError, "finite"),
    (pd.DataFrame({"uplift": [0.1, 0.2, 0.3]}), DataError, "se"),
    ([0.1, 0.2, 0.3], TypeError, "DataFrame"),
])
def test_shrink_uplift_refuses_bad_input(table, error, match):
    with pytest.raises(error, match=match):
        shrink_uplift(table)


def test_shrink_uplift_checks_alpha():
    with pytest.raises(ValueError, match="alpha"):
        shrink_uplift(_table([0.1, 0.2, 0.3], [0.01] * 3), alpha=1.5)


# ---------------------------------------------------------------------------------------- clv_draws
@pytest.fixture(scope="module")
def fitted():
    rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    return ModifiedBetaGeo().fit(rfm), GammaGamma().fit(rfm), rfm.head(40)


def test_clv_draws_are_the_draws_of_clv_interval(fitted):
    mbg, gg, data = fitted
    draws = clv_draws(mbg, gg, data, n_draws=60, random_state=3, **UNITS)
    assert list(draws.columns) == ["p_alive", "clv"] and draws.index.names == ["draw", "customer_id"]
    assert len(draws) == 60 * len(data)
    ci = clv_interval(mbg, gg, data, n_draws=60, random_state=3, alpha=0.2, **UNITS)
    by_customer = draws["clv"].groupby(level="customer_id")
    np.testing.assert_allclose(by_customer.quantile(0.1).loc[data.index], ci["lower"], rtol=1e-10)
    np.testing.assert_allclose(by_customer.quantile(0.9).loc[data.index], ci["upper"], rtol=1e-10)
    assert draws["p_alive"].between(0, 1).all() and (draws["clv"] >= 0).all()
    # the draws vary around the estimate, and the same seed gives the same draws
    p_alive = draws["p_alive"].groupby(level="customer_id").mean().loc[data.index]
    np.testing.assert_allclose(p_alive, mbg.probability_alive(data), atol=0.02)
    pd.testing.assert_frame_equal(draws, clv_draws(mbg, gg, data, n_draws=60, random_state=3, **UNITS))


def test_clv_draws_refuses_bad_input(fitted):
    mbg, gg, data = fitted
    with pytest.raises(ValueError, match="n_draws"):
        clv_draws(mbg, gg, data, n_draws=0, **UNITS)
    with pytest.raises(TypeError, match="spend_model"):
        clv_draws(mbg, 35.0, data, **UNITS)
    with pytest.raises(TypeError, match="transaction_model"):
        clv_draws(gg, gg, data, **UNITS)


# ------------------------------------------------------------------------------- decision_stability
def test_decision_stability_counts_agreement_with_the_decision_at_the_estimates(fitted):
    mbg, gg, data = fitted
    draws = clv_draws(mbg, gg, data, n_draws=30, **UNITS)
    point = pd.DataFrame({"clv": draws["clv"].groupby(level="customer_id").median(),
                          "p_alive": mbg.probability_alive(data)}).loc[data.index]

    def action(s):
        return next_best_action(s, reasons=False)["action"]

    def top_half(s):
        return pd.Series(np.where(s["clv"].rank(pct=True) > 0.5, "top", "bottom"), index=s.index)

    out = decision_stability(draws, {"action": action, "half": top_half}, point)
    assert list(out.columns) == ["action", "action_agreement", "action_modal", "half", "half_agreement", "half_modal"]
    assert out.index.equals(point.index)
    assert out["action"].tolist() == action(point).tolist()
    by_hand = np.mean([action(draws.xs(d, level=0).loc[data.index]).to_numpy() == out["action"].to_numpy()
                       for d in range(30)], axis=0)
    np.testing.assert_allclose(out["action_agreement"], by_hand)
    assert out["half_agreement"].between(0, 1).all()
    # a customer whose decision agrees in more than half of the draws has it as the modal decision
    sure = out["action_agreement"] > 0.5
    assert (out.loc[sure, "action_modal"] == out.loc[sure, "action"]).all()


def test_decision_stability_modal_ties_go_to_the_first_label():
    point = pd.DataFrame({"x": [0.0]}, index=pd.Index(["a"], name="customer_id"))
    draws = pd.DataFrame({"x": [1.0, -1.0]}, index=pd.MultiIndex.from_product([[0, 1], ["a"]]))
    sign = {"sign": lambda s: pd.Series(np.where(s["x"] > 0, "up", "down"), index=s.index)}
    out = decision_stability(draws, sign, point)
    assert out.loc["a", "sign"] == "down" and out.loc["a", "sign_agreement"] == 0.5
    assert out.loc["a", "sign_modal"] == "down"


def test_decision_stability_refuses_bad_input():
    point = pd.DataFrame({"x": [1.0, 2.0]}, index=["a", "b"])
    draws = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.MultiIndex.from_tuples([(0, "a"), (0, "b"), (1, "a")]))
    ok = {"d": lambda s: pd.Series("k", index=s.index)}
    with pytest.raises(DataError, match="every customer"):
        decision_stability(draws, ok, point)
    with pytest.raises(DataError, match="two-level"):
        decision_stability(point, ok, point)
    with pytest.raises(TypeError, match="non-empty"):
        decision_stability(draws, {}, point)
    with pytest.raises(TypeError, match="Series"):
        decision_stability(draws.iloc[:2], {"d": lambda s: "k"}, point)
    with pytest.raises(DataError, match="no decision"):
        decision_stability(draws.iloc[:2], {"d": lambda s: pd.Series("k", index=s.index[:1])}, point)

"""The course's machinery: one CLV definition, BG/NBD from its equations, explorers and their callbacks."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from crm_models import rfm_summary  # noqa: E402
from crm_models.clv import BetaGeo, customer_lifetime_value, simulate_beta_geo  # noqa: E402
from crm_models.course import (  # noqa: E402
    COURSE_CLV,
    BetaGeoExplorer,
    CLVDefinition,
    LinkageExplorer,
    RetentionBudgetExplorer,
)
from crm_models.course import explorers as ex  # noqa: E402
from crm_models.course.derivations import (  # noqa: E402
    bgnbd_log_likelihood,
    bgnbd_p_alive,
    bgnbd_probability_of_n_purchases,
)
from crm_models.customize import default_action_table, next_best_action, score_actions  # noqa: E402
from crm_models.datasets import load_cdnow  # noqa: E402


@pytest.fixture(scope="module")
def cdnow():
    cal = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    return cal, BetaGeo().fit(cal)


# ------------------------------------------------------------------------------- derivations
def test_bgnbd_from_its_equations_matches_the_package_within_1e_8(cdnow):
    cal, bg = cdnow
    p = bg.params_.to_dict()
    x, t_x, T = cal["frequency"], cal["recency"], cal["T"]
    assert abs(bgnbd_log_likelihood(p, x, t_x, T).sum() - bg.log_likelihood_) < 1e-8
    assert np.max(np.abs(bgnbd_p_alive(p, x, t_x, T) - bg.probability_alive(cal).to_numpy())) < 1e-8
    for t in (1.0, 38.86, 78.0):
        ours = bgnbd_probability_of_n_purchases(p, t, np.arange(40))
        assert np.max(np.abs(ours - bg.probability_of_n_purchases(t, np.arange(40)).to_numpy())) < 1e-8


def test_bgnbd_reproduces_the_paper(cdnow):
    cal, _ = cdnow
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee (2005)
    ll = bgnbd_log_likelihood(published, cal["frequency"], cal["recency"], cal["T"]).sum()
    assert round(ll, 1) == -9582.4


def test_bgnbd_on_simulated_data_and_bad_input():
    params = {"r": 0.5, "alpha": 3.0, "a": 0.6, "b": 2.0}
    data = simulate_beta_geo(500, params, T=30.0, random_state=1)
    bg = BetaGeo().fit(data)
    assert abs(bgnbd_log_likelihood(bg.params_, data["frequency"], data["recency"], data["T"]).sum()
               - bg.log_likelihood_) < 1e-8
    assert bgnbd_probability_of_n_purchases(params, 30.0, range(300)).sum() == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="positive"):
        bgnbd_p_alive({**params, "r": -1}, 1, 1.0, 2.0)
    with pytest.raises(ValueError, match="map 'r'"):
        bgnbd_p_alive({"r": 1}, 1, 1.0, 2.0)
    with pytest.raises(ValueError, match="t_x <= T"):
        bgnbd_p_alive(params, 1, 3.0, 2.0)
    with pytest.raises(ValueError, match="whole numbers"):
        bgnbd_log_likelihood(params, 1.5, 1.0, 2.0)
    with pytest.raises(ValueError, match="positive length"):
        bgnbd_probability_of_n_purchases(params, 0.0, [1])


# ---------------------------------------------------------------------------- CLV definition
def test_course_clv_is_the_package_clv_with_the_stated_units(cdnow):
    cal, bg = cdnow
    ours = COURSE_CLV.customer_lifetime_value(bg, 30.0, cal)
    theirs = customer_lifetime_value(bg, 30.0, cal, horizon=(12, "M"), time_unit="W", discount_rate=(0.10, "Y"),
                                     margin=0.3, step=(1, "M"))
    pd.testing.assert_series_equal(ours, theirs)
    box = COURSE_CLV.units_box()
    assert "30% margin" in str(box) and "10% per Y" in str(box) and "<table>" in box._repr_html_()
    assert COURSE_CLV.scorer_arguments() == {"horizon": (12, "M"), "discount_rate": (0.10, "Y"), "margin": 0.3}
    assert COURSE_CLV.horizon_in("W") == pytest.approx(365.25 / 7)


@pytest.mark.parametrize("kwargs, match", [
    ({"margin": 0.0}, "margin"), ({"margin": 1.5}, "margin"), ({"horizon": (12, "months")}, "unit"),
    ({"discount_rate": (10, "Y")}, "rate"), ({"time_unit": "week"}, "time_unit"), ({"currency": ""}, "currency"),
])
def test_a_definition_is_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CLVDefinition(**kwargs)


def test_action_thresholds_relative_to_the_base():
    scores = pd.DataFrame({"clv": [1.0, 2.0, 3.0, 4.0, 100.0], "p_alive": [0.9] * 5}, index=list("abcde"))
    dollars = score_actions(scores, default_action_table(cost_to_serve=10.0))
    relative = score_actions(scores, default_action_table(cost_to_serve=10.0, low_value_quantile=0.2))
    assert dollars["serve_at_lower_cost"].notna().sum() == 4  # clv < 10 USD
    assert relative["serve_at_lower_cost"].notna().tolist() == [True, False, False, False, False]  # bottom fifth
    # the same customers in cents: the dollar rule changes its answer, the relative one does not
    cents = scores.assign(clv=scores["clv"] * 100)
    assert score_actions(cents, default_action_table(cost_to_serve=10.0))["serve_at_lower_cost"].notna().sum() == 0
    assert score_actions(cents, default_action_table(cost_to_serve=10.0, low_value_quantile=0.2))[
        "serve_at_lower_cost"].notna().sum() == 1
    assert next_best_action(scores, COURSE_CLV.action_table()).loc["a", "action"] == "serve_at_lower_cost"
    with pytest.raises(ValueError, match="low_value_quantile"):
        default_action_table(low_value_quantile=1.0)
    # a clv_quantile passed in (computed against a wider base) is used as given
    given = scores.assign(clv_quantile=[0.5, 0.5, 0.5, 0.5, 0.1])
    assert score_actions(given, default_action_table(low_value_quantile=0.2))["serve_at_lower_cost"].notna().tolist() \
        == [False, False, False, False, True]


# --------------------------------------------------------------------------------- explorers
def test_explorers_are_static_under_the_runners(monkeypatch):
    monkeypatch.setenv(ex.STATIC_ENV, "1")
    assert not ex.live_widgets()
    monkeypatch.setenv(ex.STATIC_ENV, "0")
    assert not ex.live_widgets()  # no Jupyter kernel in a test process


def test_beta_geo_explorer_callbacks(cdnow):
    cal, bg = cdnow
    explorer = BetaGeoExplorer(cal, bg.params_, max_frequency=7)
    start = explorer.numbers()
    assert start["log_likelihood"] == pytest.approx(bg.log_likelihood_, abs=1e-8)
    moved = explorer.numbers(alpha=bg.params_["alpha"] / 2)
    assert moved["log_likelihood"] < start["log_likelihood"] - 50  # the maximum is the maximum
    hist = explorer.histogram()
    assert hist["actual"].sum() == len(cal) and hist["model"].sum() == pytest.approx(len(cal))
    assert explorer.histogram(alpha=1.0).loc["0", "model"] < hist.loc["0", "model"]  # faster buyers, fewer zeros
    # the notebook's "things to try" hold: a larger a darkens the top left of the P(alive) map, and a larger r at
    # the same r / alpha thins the histogram's tail
    assert explorer.p_alive_matrix(a=2.0).loc[10].iloc[5] < explorer.p_alive_matrix().loc[10].iloc[5]
    p = bg.params_
    assert explorer.histogram(r=2 * p["r"], alpha=2 * p["alpha"]).loc["7+", "model"] < hist.loc["7+", "model"]
    matrix = explorer.p_alive_matrix(a=5.0)
    assert np.isnan(matrix.iloc[0, 1]) and matrix.iloc[0, 0] == 1.0
    fig, numbers = explorer.update(r=0.5)
    assert isinstance(fig, Figure) and numbers["r"] == 0.5 and len(fig.axes) == 3
    assert explorer.numbers(r=1e9)["r"] == pytest.approx(bg.params_["r"] * 10)  # clipped to the slider
    with pytest.raises(TypeError, match="unknown control"):
        explorer.numbers(beta=1.0)


def test_linkage_explorer_callbacks():
    sweep = pd.DataFrame({"linked_pairs": [10, 8, 5], "customers": [90, 92, 99], "pairwise_precision": [0.9, 0.97, 1.0],
                          "pairwise_recall": [1.0, 0.9, 0.6], "pairwise_f1": [0.95, 0.93, 0.75],
                          "bcubed_f1": [0.97, 0.95, 0.8]}, index=pd.Index([0.5, 0.9, 0.99], name="threshold"))
    explorer = LinkageExplorer(sweep, chosen=0.9, n_true=95)
    assert explorer.defaults() == {"threshold": 0.9}
    assert explorer.numbers(threshold=0.98)["threshold"] == 0.99  # the nearest threshold swept
    assert explorer.numbers()["true_customers"] == 95
    fig, numbers = explorer.update(threshold=0.5)
    assert numbers["pairwise_recall"] == 1.0 and isinstance(fig, Figure)
    with pytest.raises(Exception, match="pairwise_f1"):
        LinkageExplorer(sweep.drop(columns="pairwise_f1"))


def test_retention_budget_explorer_callbacks():
    rng = np.random.default_rng(0)
    scores = pd.DataFrame({"clv": rng.gamma(2.0, 50.0, 300), "p_alive": rng.uniform(0.1, 0.99, 300)},
                          index=[f"c{i}" for i in range(300)])
    scores["truth"] = 0.1 * scores["clv"] * (1 - scores["p_alive"])
    explorer = RetentionBudgetExplorer(scores, uplift=0.15, cost=2.0, true_value="truth")
    small, large = explorer.numbers(budget=20.0), explorer.numbers(budget=explorer.max_budget)
    assert small["spent"] <= 20.0 and large["contacts"] >= small["contacts"]
    assert large["expected_value_created"] >= small["expected_value_created"]
    assert small["true_net_value"] == pytest.approx(small["true_value_created"] - small["spent"])
    assert explorer.numbers(budget=-5.0)["contacts"] == 0  # clipped to the slider's range
    fig, _ = explorer.update(budget=50.0)
    assert isinstance(fig, Figure)


def test_show_draws_a_static_figure_and_prints_the_numbers(monkeypatch, capsys):
    monkeypatch.setenv(ex.STATIC_ENV, "1")
    sweep = pd.DataFrame({"linked_pairs": [10], "customers": [90], "pairwise_precision": [0.9],
                          "pairwise_recall": [1.0], "pairwise_f1": [0.95], "bcubed_f1": [0.97]},
                         index=pd.Index([0.5], name="threshold"))
    assert LinkageExplorer(sweep).show() is None
    out = capsys.readouterr().out
    assert "Linkage threshold explorer at threshold = 0.5" in out and "pairwise_recall" in out


def test_the_live_widget_wires_every_control_to_the_callback(monkeypatch):
    pytest.importorskip("ipywidgets")
    sweep = pd.DataFrame({"linked_pairs": [10, 8], "customers": [90, 92], "pairwise_precision": [0.9, 1.0],
                          "pairwise_recall": [1.0, 0.8], "pairwise_f1": [0.95, 0.89], "bcubed_f1": [0.97, 0.93]},
                         index=pd.Index([0.5, 0.9], name="threshold"))
    explorer = LinkageExplorer(sweep)
    calls = []
    original = explorer.update

    def spy(**state):
        calls.append(state)
        return original(**state)

    monkeypatch.setattr(explorer, "update", spy)
    box = explorer.widget()
    slider = box.children[0].children[0]
    assert calls == [{"threshold": 0.5}]
    slider.value = 0.9
    assert calls[-1] == {"threshold": 0.9}

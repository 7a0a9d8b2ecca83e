"""Every public numeric argument is range-checked: text, booleans, NaN and out-of-range values
raise a ValueError naming the argument, before any work (never a TypeError from deep inside,
never a silent wrong answer). The checks go through ``crm_models._validation.check_number``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crm_models._validation import check_number

SCORES = pd.DataFrame({"clv": [100.0, 300.0, 50.0, 80.0], "p_alive": [0.5, 0.5, 0.5, 1.0],
                       "value_tier": ["gold", "gold", "silver", "silver"]}, index=list("abcd"))
CAMPAIGN = pd.DataFrame({"group": ["treatment", "control"] * 20, "responded": [1, 0, 0, 1] * 10})
RECORDS = pd.DataFrame({"record_id": ["a", "b", "c"], "source": ["web", "store", "web"],
                        "email": ["x@y.com", "x@y.com", "z@y.com"], "first_name": ["Ann", "Ann", "Bo"]})


@pytest.fixture(scope="module")
def fitted():
    from crm_models import rfm_summary
    from crm_models.clv import BetaGeo, GammaGamma
    from crm_models.datasets import load_cdnow

    summary = rfm_summary(load_cdnow())
    return summary, BetaGeo().fit(summary), GammaGamma().fit(summary)


def _cases(fitted):
    from crm_models.clv import BetaGeo, customer_lifetime_value
    from crm_models.clv.diagnostics import repeat_purchase_histogram
    from crm_models.customize import default_action_table, target_retention, value_at_risk
    from crm_models.explore import repeat_purchase_counts
    from crm_models.identify import CustomerResolver, resolve_customers
    from crm_models.identify.evaluate import threshold_sweep
    from crm_models.identify.link import deterministic_prior
    from crm_models.interact.queue import QueuePriority, simulate_queue
    from crm_models.measure import evaluate_campaign
    from crm_models.pipeline import CustomerScorer
    from crm_models.segment import RFMScorer, ValueTiers

    summary, bg, gg = fitted
    few = summary.head(3)
    return {
        # (call, out-of-range values)
        "margin": (lambda v: customer_lifetime_value(bg, gg, few, horizon=(12, "M"), time_unit="W",
                                                     discount_rate=(0.1, "Y"), margin=v), [-1, 0, 50]),
        "CustomerScorer.margin": (lambda v: CustomerScorer(margin=v).fit(pd.DataFrame()), [-1, 0, 50]),
        "cost_to_serve": (lambda v: CustomerScorer(cost_to_serve=v).fit(pd.DataFrame()), [-1, -0.01]),
        "default_action_table.cost_to_serve": (lambda v: default_action_table(cost_to_serve=v), [-1]),
        "retain_cost": (lambda v: default_action_table(retain_cost=v), [-2]),
        "cross_sell_cost": (lambda v: default_action_table(cross_sell_cost=v), [-2]),
        "win_back_cost": (lambda v: default_action_table(win_back_cost=v), [-2]),
        "retain_effect": (lambda v: default_action_table(retain_effect=v), [-0.1, 1.5]),
        "cross_sell_effect": (lambda v: default_action_table(cross_sell_effect=v), [-0.1, 1.5]),
        "win_back_effect": (lambda v: default_action_table(win_back_effect=v), [-0.1, 1.5]),
        "cross_sell_share": (lambda v: default_action_table(cross_sell_share=v), [-0.1, 1.5]),
        "serve_saving": (lambda v: default_action_table(serve_saving=v), [-0.1, 1.5]),
        "min_alive": (lambda v: value_at_risk(SCORES, min_alive=v), [0, 1.5]),
        "budget": (lambda v: target_retention(SCORES, budget=v), [-1]),
        "uplift": (lambda v: target_retention(SCORES, budget=4.0, uplift=v), [-0.1, 1.5]),
        "cost": (lambda v: target_retention(SCORES, budget=4.0, cost=v), [0, -2]),
        "alpha": (lambda v: evaluate_campaign(CAMPAIGN, alpha=v), [0, 1, 1.5]),
        "n_boot": (lambda v: evaluate_campaign(CAMPAIGN, n_boot=v, method="bootstrap"), [10, 150.5]),
        "summary.alpha": (lambda v: bg.summary(alpha=v), [0, 1]),
        "n_draws": (lambda v: bg.sample_params(n_draws=v), [0, 2.5]),
        "penalizer": (lambda v: BetaGeo(penalizer=v).fit(few), [-1]),
        "threshold": (lambda v: CustomerResolver(threshold=v).fit(RECORDS), [0, 1, 2]),
        "resolve_customers.threshold": (lambda v: resolve_customers(RECORDS, threshold=v), [0, 1]),
        "thresholds": (lambda v: threshold_sweep(None, None, thresholds=[v]), [-0.5, 2]),
        "recall": (lambda v: deterministic_prior(RECORDS, recall=v), [0, 1.5]),
        "risk_weight": (lambda v: QueuePriority(risk_weight=v), [-1]),
        "calls_per_hour": (lambda v: simulate_queue(SCORES, calls_per_hour=v, n_calls=10), [0, -5]),
        "mean_service_minutes": (lambda v: simulate_queue(SCORES, mean_service_minutes=v, n_calls=10), [0]),
        "n_agents": (lambda v: simulate_queue(SCORES, n_agents=v, n_calls=10), [0, 2.5]),
        "n_calls": (lambda v: simulate_queue(SCORES, n_calls=v), [0, 2.5]),
        "top_share": (lambda v: ValueTiers(top_share=v).fit(SCORES["clv"]), [-0.1, 1.5]),
        "n_groups": (lambda v: RFMScorer(n_groups=v, rules=False).fit(summary), [1, 2.5]),
        "max_count": (lambda v: repeat_purchase_counts(summary, max_count=v), [0, 2.5]),
        "max_frequency": (lambda v: repeat_purchase_histogram(bg, summary, max_frequency=v), [0, 2.5]),
    }


CASES = [
    "margin", "CustomerScorer.margin", "cost_to_serve", "default_action_table.cost_to_serve", "retain_cost",
    "cross_sell_cost", "win_back_cost", "retain_effect", "cross_sell_effect", "win_back_effect", "cross_sell_share",
    "serve_saving", "min_alive", "budget", "uplift", "cost", "alpha", "n_boot", "summary.alpha", "n_draws",
    "penalizer", "threshold", "resolve_customers.threshold", "thresholds", "recall", "risk_weight", "calls_per_hour",
    "mean_service_minutes", "n_agents", "n_calls", "top_share", "n_groups", "max_count", "max_frequency",
]


@pytest.mark.parametrize("name", CASES)
def test_numeric_arguments_are_range_checked(name, fitted):
    call, out_of_range = _cases(fitted)[name]
    argument = name.rsplit(".", 1)[-1]
    for bad in ["0.5", True, math.nan, math.inf, *out_of_range]:
        with pytest.raises(ValueError, match=argument) as err:
            call(bad)
        assert "Traceback" not in str(err.value)


def test_a_text_threshold_fails_before_linkage(monkeypatch):
    """resolve_customers refuses threshold="0.9" before standardising or linking anything."""
    import crm_models.identify.resolve as resolve

    def never(*args, **kwargs):
        raise AssertionError("linkage ran before the threshold was checked")

    monkeypatch.setattr(resolve, "_prepare", never)
    monkeypatch.setattr(resolve, "predict_pairs", never)
    with pytest.raises(ValueError, match="threshold"):
        resolve.resolve_customers(RECORDS, threshold="0.9")


def test_check_number_messages():
    assert check_number(0.3, "margin", low=0, high=1, low_open=True) == 0.3
    assert check_number(np.int64(3), "n", low=1, integer=True) == 3
    with pytest.raises(ValueError, match=r"^margin must be a number in \(0, 1\] \(share of spend\), got 50$"):
        check_number(50, "margin", low=0, high=1, low_open=True, unit="share of spend")
    with pytest.raises(ValueError, match=r"^budget must be >= 0 \(USD\), got '10' \(text, not a number\)$"):
        check_number("10", "budget", low=0, unit="USD")
    with pytest.raises(ValueError, match=r"^n must be a whole number >= 1, got 2.5$"):
        check_number(2.5, "n", low=1, integer=True)
    with pytest.raises(ValueError, match=r"^x must be a finite number, got nan$"):
        check_number(float("nan"), "x")

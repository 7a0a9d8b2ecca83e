"""Customize: next best action and retention targeting within a budget (the C of IDIC).

Treatment should adapt to each customer's value and needs. Two tools:

- :mod:`~crm_models.customize.actions`: every candidate action (retain, grow by cross-sell, win
  back, serve at lower cost, do nothing) is scored per customer by ``expected value = P(effect) x
  value at stake - cost`` (USD) from a readable action table (:func:`default_action_table`,
  :func:`score_actions`); each customer gets the best one and the reason in words
  (:func:`next_best_action`).
- :mod:`~crm_models.customize.targeting`: within a budget, contact the customers with the
  highest expected incremental value per dollar (:func:`target_retention`), where the
  incremental value of a retention contact is uplift x the value at risk, CLV x (1 - P(alive))
  (:func:`value_at_risk`).
- :mod:`~crm_models.customize.stability`: how sure each customer's decision is: the same tier or
  action made again at every draw of the models' parameters (:func:`decision_stability`, with
  :func:`crm_models.clv.clv_draws`).

Measuring what a campaign did is :func:`crm_models.measure.evaluate_campaign`. All functions take
plain DataFrames indexed by customer id (scores from :mod:`crm_models.clv`,
:mod:`crm_models.segment` or anywhere else); nothing here reads the simulated company's truth.
"""

from crm_models.customize.actions import (
    ACTION_TABLE_COLUMNS,
    default_action_table,
    next_best_action,
    score_actions,
    value_at_risk,
    warn_surely_alive_one_time_buyers,
)
from crm_models.customize.stability import decision_stability
from crm_models.customize.targeting import RetentionPlan, target_retention

__all__ = [
    "ACTION_TABLE_COLUMNS",
    "default_action_table",
    "score_actions",
    "next_best_action",
    "value_at_risk",
    "warn_surely_alive_one_time_buyers",
    "RetentionPlan",
    "target_retention",
    "decision_stability",
]

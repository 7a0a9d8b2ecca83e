"""One vocabulary: the parameter names every function of crm_models uses for the same thing.

The same thing has the same name everywhere, with the same default, so a call written for one
function reads the same in the next. :data:`COLUMNS` lists every ``*_col`` argument with its
default; :data:`NAMES` the other shared arguments; :data:`RETIRED` maps each name an earlier
release used to the name that replaced it (see ``CHANGELOG.md``). A test walks every public
callable and refuses any ``*_col`` outside :data:`COLUMNS` and any retired name.

Defaults follow the data the package itself produces, so the common path needs no arguments:
a transaction log has ``customer_id``, ``timestamp`` and ``amount`` (the simulated company's
tables and :func:`crm_models.datasets.load_cdnow`); :func:`crm_models.rfm_summary` writes
``frequency``, ``recency``, ``T`` and ``monetary_value``; per-customer scores are indexed by
customer id with ``clv`` and ``p_alive``.

``monetary_value_col`` names the money column of whatever table a function reads: the amount
of each transaction in a log (default ``"amount"``) or the mean spend per repeat purchase in a
customer summary (default ``"monetary_value"``), as in lifetimes.

Examples
--------
>>> COLUMNS["customer_id_col"].default
'customer_id'
>>> RETIRED["seed"]
'random_state'
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Term", "COLUMNS", "NAMES", "RETIRED"]


class Term(NamedTuple):
    """A vocabulary entry: its default (``None`` when there is none) and its meaning.

    Attributes
    ----------
    default : object
        The default value functions use.
    meaning : str
        What the name stands for, with units.

    Examples
    --------
    >>> COLUMNS["datetime_col"]
    Term(default='timestamp', meaning='time of each transaction or touchpoint')
    """

    default: object
    meaning: str


#: Every column-name argument (``*_col``), its default and meaning.
COLUMNS: dict[str, Term] = {
    # transaction and event logs
    "customer_id_col": Term("customer_id", "customer id (in logs, summaries' index, scores' index)"),
    "datetime_col": Term("timestamp", "time of each transaction or touchpoint"),
    "monetary_value_col": Term(
        "amount", "money: the amount of a transaction in a log ('amount'); mean spend per repeat purchase "
        "in a customer summary ('monetary_value')"
    ),
    "record_id_col": Term("record_id", "source-system record id"),
    "source_col": Term("source", "source system of a record"),
    "transaction_id_col": Term("transaction_id", "transaction id"),
    "interaction_id_col": Term("interaction_id", "touchpoint id"),
    "category_col": Term("category", "product category of a transaction"),
    "channel_col": Term("channel", "channel of a transaction or touchpoint"),
    "type_col": Term("type", "kind of touchpoint (call, web_visit, ...)"),
    "reason_col": Term("reason", "reason of a touchpoint (inquiry, complaint, ...)"),
    # customer summaries (rfm_summary, calibration_holdout_split)
    "frequency_col": Term("frequency", "repeat purchases (purchase periods after the first)"),
    "recency_col": Term("recency", "time from the first to the last purchase, in the summary's time unit"),
    "T_col": Term("T", "time from the first purchase to the end of observation, in the summary's time unit"),
    "n_opportunities_col": Term("n_opportunities", "transaction opportunities after the first (discrete time)"),
    "weights_col": Term(None, "how many customers a row stands for (aggregated data)"),
    "frequency_holdout_col": Term("frequency_holdout", "repeat purchases in the holdout period"),
    "duration_holdout_col": Term("duration_holdout", "length of the holdout period, in the summary's time unit"),
    "log_interpurchase_col": Term(
        "log_interpurchase", "sum over repeat purchases of the log of the time since the previous purchase, in the "
        "summary's time unit (BTYDplus's litt; the regularity models need it)"
    ),
    # contract cohorts
    "period_col": Term("period", "period number of a contract cohort (0 = start)"),
    "survivors_col": Term("survivors", "customers still active in a period"),
    # time-varying covariates
    "period_start_col": Term("period_start", "first day of a covariate period (one row per customer and period)"),
    "cohort_col": Term("cohort", "acquisition cohort of a contract customer"),
    "tenure_col": Term("tenure", "whole periods a contract customer has been observed since acquisition"),
    "churned_col": Term("churned", "whether a contract customer left in their last observed period (bool)"),
    # per-customer scores
    "clv_col": Term("clv", "customer lifetime value (money over a stated horizon)"),
    "p_alive_col": Term("p_alive", "probability the customer is still active (0-1)"),
    "value_col": Term("clv", "value used to rank customers (money)"),
    "tier_col": Term("value_tier", "value tier"),
    "segment_col": Term("segment", "segment label"),
    "expected_purchases_col": Term("expected_purchases", "expected purchases over a stated horizon"),
    # campaigns, surveys, queues
    "group_col": Term("group", "randomised group (treatment / control)"),
    "outcome_col": Term("responded", "outcome of a randomised test (0/1 or money)"),
    "satisfaction_col": Term("satisfaction", "satisfaction score of a survey answer"),
    "recommend_col": Term("recommend", "0-10 likelihood-to-recommend answer"),
    "arrival_col": Term("arrival", "arrival time of a waiting caller"),
    "treatment_col": Term("treatment", "treatment a customer met at a contact point (tier, offer, price)"),
    "team_col": Term("team", "team that handled a contact or owns a customer"),
    "talk_time_col": Term("talk_minutes", "minutes an agent spent on a contact"),
    "handoff_col": Term("handed_off", "whether a contact was passed to another team"),
}

#: Other arguments shared across modules, and their meaning.
NAMES: dict[str, Term] = {
    "observation_period_end": Term(None, "end of observation (a date); default the last date in the data"),
    "calibration_period_end": Term(None, "last date of the calibration period"),
    "random_state": Term(0, "seed (int), numpy Generator or None for fresh entropy, as in scikit-learn; default 0"),
    "time_unit": Term("W", "unit of recency and T, a code of crm_models.units.TIME_UNITS"),
    "horizon": Term(None, "a (length, unit) pair, e.g. (12, 'M'); crm_models.units.as_duration"),
    "discount_rate": Term(None, "a (rate, unit) pair, e.g. (0.10, 'Y'); crm_models.units.as_discount_rate"),
    "datetime_format": Term(None, "strptime format of a date column written as text"),
    "alpha": Term(0.05, "1 - the coverage of an interval (0.05 gives 95% intervals)"),
    "n_draws": Term(None, "number of simulated draws behind an interval"),
    "margin": Term(1.0, "share of spend that is profit (0-1]"),
}

#: Names used by earlier releases -> the name that replaced each.
RETIRED: dict[str, str] = {
    "customer_col": "customer_id_col",
    "record_col": "record_id_col",
    "time_col": "datetime_col",
    "amount_col": "monetary_value_col",
    "monetary_col": "monetary_value_col",
    "alive_col": "p_alive_col",
    "expected_col": "expected_purchases_col",
    "holdout_col": "frequency_holdout_col",
    "duration_col": "duration_holdout_col",
    "interaction_customer_id_col": "customer_id_col",
    "interaction_datetime_col": "datetime_col",
    "observation_end": "observation_period_end",
    "as_of": "observation_period_end",
    "seed": "random_state",
    "horizon_months": "horizon",
    "horizon_days": "horizon",
    "horizon_unit": "horizon",
    "purchase_horizon_days": "purchase_horizon",
    "period_days": "period",
    "time_unit_days": "time_unit",
    "step_unit": "step",
    "annual_discount_rate": "discount_rate",
    "discount_rate_unit": "discount_rate",
    "inactivity_days": "inactivity",
    "complaint_open_days": "complaint_open",
    "min_weeks": "min_tenure",
    "confidence": "alpha",
    "interval": "alpha",
    "n_samples": "n_draws",
    "return_models": "CustomerScorer",
}

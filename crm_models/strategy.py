"""From a transaction log to a customer strategy: score every customer.

:func:`score_customers` is the analyst's one call (and the ``crm-models score`` command): RFM
scores and segment, P(alive), expected purchases, expected spend, CLV and a next best action for
every customer, indexed by customer id.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext

import numpy as np
import pandas as pd

from crm_models._validation import parse_datetimes, parse_timestamp, require_columns
from crm_models.transactions import rfm_summary

__all__ = ["score_customers", "SCORE_COLUMNS", "rfm_scores"]

#: Columns of :func:`score_customers`' output, in order.
SCORE_COLUMNS = [
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "p_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "next_best_action",
    "action_expected_value",
]

DAYS_PER_MONTH = 365.25 / 12


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return nullcontext(None)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False)


def _step(bar, next_label: str) -> None:
    """Mark one step done and name the one that starts now."""
    if bar is not None:
        bar.update(1)
        bar.set_postfix_str(next_label)


# ----------------------------------------------------------------------------------------------
# value models: BG/NBD + Gamma-Gamma
# ----------------------------------------------------------------------------------------------


class _ValueModels:
    """BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma fitted on one RFM summary (weeks),
    with :mod:`crm_models.clv`'s models."""

    def __init__(self, summary: pd.DataFrame):
        from crm_models.clv.beta_geo import BetaGeo
        from crm_models.clv.gamma_gamma import GammaGamma

        # customers whose first purchase is at the observation end (T = 0) add nothing to the
        # likelihood; the models score them as just-acquired customers (alive, new-customer rates)
        self.bgf = BetaGeo().fit(summary[["frequency", "recency", "T"]])
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        if len(repeat) < 10:
            raise ValueError(
                f"only {len(repeat)} customers bought more than once with a positive amount; the spend "
                "model (Gamma-Gamma) needs at least 10"
            )
        self.ggf = GammaGamma().fit(repeat[["frequency", "monetary_value"]])
        self.params = {
            "BG/NBD": self.bgf.params_.round(4).to_dict(),
            "Gamma-Gamma": self.ggf.params_.round(4).to_dict(),
        }

    def p_alive(self, s: pd.DataFrame) -> pd.Series:
        return self.bgf.probability_alive(s[["frequency", "recency", "T"]]).astype(float)

    def expected_purchases(self, s: pd.DataFrame, t_weeks: float) -> pd.Series:
        return self.bgf.expected_purchases(s[["frequency", "recency", "T"]], t_weeks).astype(float)

    def expected_spend(self, s: pd.DataFrame) -> pd.Series:
        # repeat buyers whose repeat purchases were all free count as one-time buyers for spend
        data = s[["frequency", "monetary_value"]].copy()
        data.loc[data["monetary_value"] <= 0, "frequency"] = 0
        return self.ggf.expected_spend(data).astype(float)

    def clv(self, s: pd.DataFrame, months: int, annual_discount_rate: float, margin: float) -> pd.Series:
        """Discounted margin over ``months`` months (365.25/12 days), purchases of each month discounted
        at its end at ``annual_discount_rate`` a year: :func:`crm_models.clv.customer_lifetime_value`.
        """
        from crm_models.clv.value import customer_lifetime_value

        return customer_lifetime_value(
            self.bgf,
            self.expected_spend(s),
            s[["frequency", "recency", "T"]],
            horizon=(months, "M"),
            time_unit="W",
            discount_rate=(annual_discount_rate, "Y"),
            margin=margin,
        ).astype(float)


# ----------------------------------------------------------------------------------------------
# RFM scores and segments
# ----------------------------------------------------------------------------------------------

def rfm_scores(summary: pd.DataFrame) -> pd.DataFrame:
    """R, F, M scores 1-5 (5 = best: most recent, most frequent, highest total spend) and the
    named segment, from :class:`crm_models.segment.RFMScorer` with its default rule table."""
    from crm_models.segment import RFMScorer

    scored = RFMScorer().fit_transform(summary)
    return pd.DataFrame(
        {
            "r_score": scored["r"].astype("int64"),
            "f_score": scored["f"].astype("int64"),
            "m_score": scored["m"].astype("int64"),
            "rfm_segment": scored["segment"].astype(str),
        },
        index=summary.index,
    )


# ----------------------------------------------------------------------------------------------
# next best action
# ----------------------------------------------------------------------------------------------


def _next_best_action(scores: pd.DataFrame, cost_to_serve: float) -> pd.DataFrame:
    """:func:`crm_models.customize.next_best_action` with the shipped action table."""
    from crm_models.customize import default_action_table, next_best_action

    return next_best_action(scores[["clv", "p_alive"]], default_action_table(cost_to_serve=cost_to_serve))


# ----------------------------------------------------------------------------------------------
# the one call
# ----------------------------------------------------------------------------------------------


def score_customers(
    transactions: pd.DataFrame,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    amount_col: str = "amount",
    observation_end=None,
    datetime_format: str | None = None,
    horizon_months: int = 12,
    purchase_horizon_days: float | None = None,
    annual_discount_rate: float = 0.10,
    margin: float = 1.0,
    cost_to_serve: float = 0.0,
    progress: bool = False,
    return_models: bool = False,
):
    """Score every customer of a transaction log.

    Steps: RFM summary in weeks (purchases de-duplicated per calendar day), BG/NBD for the
    purchase and dropout process, Gamma-Gamma for spend per purchase, then per customer:

    - ``frequency`` (repeat purchase days), ``recency`` and ``T`` (weeks), ``monetary_value``
      (mean spend of repeat purchase days, 0 for one-time buyers);
    - ``r_score``, ``f_score``, ``m_score`` (1-5 quintile scores, 5 = best) and ``rfm_segment``
      (:class:`crm_models.segment.RFMScorer`, its default rule table);
    - ``p_alive``: probability the customer is still active at ``observation_end``;
    - ``expected_purchases``: expected purchase days in the next ``horizon_months`` months (or
      the next ``purchase_horizon_days`` days if given);
    - ``expected_spend``: expected spend per purchase (Gamma-Gamma, money);
    - ``clv``: discounted margin over ``horizon_months`` months (months of 365.25/12 days,
      ``annual_discount_rate`` a yearly rate, ``margin`` the share of spend kept);
    - ``next_best_action`` and its ``action_expected_value`` (USD): the eligible action with the
      highest P(effect) x value at stake - cost in
      :func:`crm_models.customize.default_action_table` (``cost_to_serve`` in USD over the horizon).

    Parameters
    ----------
    observation_end : date, optional
        End of the observation period; default the last transaction date.
    horizon_months : int
        Horizon of ``clv`` (and, by default, of ``expected_purchases``), in months of 365.25/12 days.
    purchase_horizon_days : float, optional
        Horizon of ``expected_purchases`` in days, when it should differ from the CLV horizon
        (e.g. 91 for the next quarter on an agent's card,
        :func:`crm_models.interact.customer_context` with ``horizon=(91, "D")``). ``clv`` and the
        next best action keep ``horizon_months``.
    progress : bool
        Show a tqdm progress bar on stderr.
    return_models : bool
        Also return the fitted models' parameters (a dict).

    Returns
    -------
    DataFrame indexed by customer id with :data:`SCORE_COLUMNS` (and the parameters dict if asked).
    """
    require_columns(transactions, [customer_id_col, datetime_col, amount_col], what="transactions")
    if not (isinstance(horizon_months, (int, np.integer)) and horizon_months >= 1):
        raise ValueError(f"horizon_months must be a whole number >= 1, got {horizon_months!r}")
    if purchase_horizon_days is not None and not (
        isinstance(purchase_horizon_days, (int, float, np.integer, np.floating))
        and not isinstance(purchase_horizon_days, bool)
        and np.isfinite(purchase_horizon_days)
        and purchase_horizon_days > 0
    ):
        raise ValueError(
            f"purchase_horizon_days must be a finite number of days > 0 or None, got {purchase_horizon_days!r}"
        )
    if not 0 <= annual_discount_rate < 1:
        raise ValueError(f"annual_discount_rate must lie in [0, 1), got {annual_discount_rate}")
    if not 0 < margin <= 1:
        raise ValueError(f"margin must lie in (0, 1], got {margin}")
    with _progress(5, progress, "scoring customers") as bar:
        if bar is not None:
            bar.set_postfix_str("RFM summary")
        summary = rfm_summary(
            transactions,
            customer_id_col,
            datetime_col,
            amount_col,
            observation_period_end=observation_end,
            time_unit="W",
            datetime_format=datetime_format,
        )
        if len(summary) < 20:
            raise ValueError(f"only {len(summary)} customers in the data; scoring needs at least 20")
        if observation_end is not None:
            end = parse_timestamp(observation_end, "observation_end", fmt=datetime_format)
        else:
            end = parse_datetimes(transactions, datetime_col, fmt=datetime_format, what="transactions").max()
        _step(bar, "fitting BG/NBD and Gamma-Gamma")
        models = _ValueModels(summary)
        _step(bar, "predictions")
        out = summary[["frequency", "recency", "T", "monetary_value"]].copy()
        out = out.join(rfm_scores(summary))
        out["p_alive"] = models.p_alive(summary)
        purchase_weeks = (
            horizon_months * DAYS_PER_MONTH / 7 if purchase_horizon_days is None else float(purchase_horizon_days) / 7
        )
        out["expected_purchases"] = models.expected_purchases(summary, purchase_weeks)
        out["expected_spend"] = models.expected_spend(summary)
        _step(bar, "CLV")
        out["clv"] = models.clv(summary, horizon_months, annual_discount_rate, margin)
        _step(bar, "next best action")
        nba = _next_best_action(out, cost_to_serve)
        out["next_best_action"] = nba["action"]
        out["action_expected_value"] = nba["expected_value"]
        _step(bar, "done")
    for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        if not np.isfinite(out[col].to_numpy()).all():
            raise ValueError(f"the value models produced non-finite {col} for some customers; please report this data")
    out.index.name = customer_id_col
    out = out[SCORE_COLUMNS]
    if return_models:
        info = dict(models.params)
        info["observation_end"] = str(end.date())
        return out, info
    return out

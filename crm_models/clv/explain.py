"""One customer's scores in plain words: why this P(alive), what to expect, how sure.

:func:`explain_customer` turns a continuous-time model's numbers for one customer into a few
sentences an agent or a manager can read, e.g. "Silent for 20.0 weeks, against a typical gap of
4.0 weeks between purchases, so P(alive) is 0.12. Expected 0.4 purchases in the next 12 weeks
(80% interval 0 to 1)." The agent's context card (:func:`crm_models.interact.customer_context`)
and the HTML report show these sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models.clv.base import ContinuousTimeModel
from crm_models.units import TIME_UNITS, as_duration, check_time_unit

__all__ = ["CustomerExplanation", "explain_customer"]

_UNIT_WORDS = {"h": "hours", "D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}


@dataclass
class CustomerExplanation:
    """A customer's scores explained in words (built by :func:`explain_customer`).

    Parameters
    ----------
    customer_id : hashable
        The customer.
    text : str
        The explanation, a few sentences.
    facts : dict
        The numbers behind it: ``repeat_purchases``, ``silent_for`` and ``typical_gap`` (in
        ``time_unit``), ``p_alive``, ``expected_purchases``, ``lower``, ``upper``,
        ``interval_probability``, ``horizon`` (in ``time_unit``), ``time_unit``, ``model``.

    Examples
    --------
    >>> e = CustomerExplanation(7, "Bought once.", {"p_alive": 0.5})
    >>> str(e)
    'Bought once.'
    """

    customer_id: Any
    text: str
    facts: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        return f"<p><b>Customer {html.escape(str(self.customer_id))}</b>: {html.escape(self.text)}</p>"


def _model_name(model) -> str:
    return {"BetaGeo": "BG/NBD", "ModifiedBetaGeo": "MBG/NBD", "ParetoNBD": "Pareto/NBD"}.get(
        type(model).__name__, type(model).__name__)


def explain_customer(
    model: ContinuousTimeModel,
    data: pd.DataFrame,
    customer_id,
    *,
    horizon=(12, "W"),
    time_unit: str = "W",
    alpha: float = 0.2,
) -> CustomerExplanation:
    """Explain one customer's P(alive) and expected purchases in plain words.

    The sentences say how long the customer has been silent (T - recency) against their
    typical gap between purchases (recency / repeat purchases; for a one-time buyer, the gap the
    model expects from someone with their history, (alpha + T) / (r + x) for BG/NBD, MBG/NBD
    and Pareto/NBD), hence P(alive); then the expected purchases over ``horizon`` with the
    predictive interval (:meth:`~crm_models.clv.base.ContinuousTimeModel.predictive_interval`).
    A BG/NBD one-time buyer is said to be counted as surely alive, and why.

    Parameters
    ----------
    model : BetaGeo, ModifiedBetaGeo or ParetoNBD
        A fitted continuous-time model.
    data : pandas.DataFrame
        The customers' summary (the model's columns, e.g. from :func:`crm_models.rfm_summary`
        or a scores table), indexed by customer id.
    customer_id : hashable
        The customer to explain (in ``data.index``).
    horizon : tuple of (float, str)
        The forecast horizon, e.g. ``(12, "W")`` or ``(3, "M")``.
    time_unit : str
        Unit of the summary's recency and T (a code of :data:`crm_models.units.TIME_UNITS`).
    alpha : float
        1 - the coverage of the interval (0.2: 80%).

    Returns
    -------
    CustomerExplanation

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import BetaGeo, ModifiedBetaGeo
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> print(explain_customer(ModifiedBetaGeo().fit(rfm), rfm, 4))
    Bought 3 times (2 repeat purchases); silent for 8.4 weeks, against a typical gap of 15.2 weeks between purchases, so MBG/NBD puts P(alive) at 0.71. Expected 0.44 purchases in the next 12 weeks (80% interval 0 to 1, which holds 91% of the probability).
    >>> print(explain_customer(BetaGeo().fit(rfm), rfm, 18))
    Bought once, 38.4 weeks ago; BG/NBD assumes a customer can drop out only right after a repeat purchase, so it counts every one-time buyer as surely alive (P(alive) = 1.00), however long the silence; MBG/NBD and Pareto/NBD do not. Expected 0.07 purchases in the next 12 weeks (80% interval: exactly 0, which holds 94% of the probability).
    """
    if not isinstance(model, ContinuousTimeModel):
        raise TypeError(f"model must be a fitted BetaGeo, ModifiedBetaGeo or ParetoNBD, got {type(model).__name__}")
    model._check_fitted()
    unit = check_time_unit(time_unit)
    if customer_id not in data.index:
        raise KeyError(f"customer {customer_id!r} is not in data")
    row = data.loc[[customer_id]]
    if len(row) != 1:
        raise ValueError(f"customer {customer_id!r} appears {len(row)} times in data; its index must be unique")
    length = as_duration(horizon, "horizon")
    t = length.days / TIME_UNITS[unit]
    words = _UNIT_WORDS[unit]
    x, t_x, T = (float(v[0]) for v in model.validate_data(row))
    p_alive = float(model.probability_alive(row).iloc[0])
    iv = model.predictive_interval(row, t, alpha=alpha).iloc[0]
    post = model._alive_posterior(model.params_.to_dict(), np.array([x]), np.array([T]))
    model_gap = float(post["alpha"][0] / post["r"][0])  # 1 / posterior mean purchase rate
    silent = T - t_x
    name = _model_name(model)
    level = f"{100 * (1 - alpha):g}%"
    if x == 0 and name == "BG/NBD":
        first = (f"Bought once, {silent:.1f} {words} ago; BG/NBD assumes a customer can drop out only right after a "
                 f"repeat purchase, so it counts every one-time buyer as surely alive (P(alive) = {p_alive:.2f}), "
                 "however long the silence; MBG/NBD and Pareto/NBD do not.")
        gap = model_gap
    elif x == 0:
        gap = model_gap
        first = (f"Bought once, {silent:.1f} {words} ago; a customer with this history buys about every "
                 f"{gap:.1f} {words} while active, so {name} puts P(alive) at {p_alive:.2f}.")
    else:
        gap = t_x / x
        times = f"{int(x) + 1} times ({int(x)} repeat purchase{'s' if x != 1 else ''})"
        first = (f"Bought {times}; silent for {silent:.1f} {words}, against a typical gap of {gap:.1f} {words} "
                 f"between purchases, so {name} puts P(alive) at {p_alive:.2f}.")
    horizon_words = f"{length.length:g} {_UNIT_WORDS[length.unit]}" if length.unit != unit else f"{t:g} {words}"
    lo, up = int(iv["lower"]), int(iv["upper"])
    span = f"interval {lo} to {up}" if lo != up else f"interval: exactly {lo}"
    second = (f" Expected {iv['estimate']:.2f} purchases in the next {horizon_words} ({level} {span}, which holds "
              f"{iv['probability']:.0%} of the probability).")
    facts = {"model": name, "repeat_purchases": x, "silent_for": silent, "typical_gap": gap, "p_alive": p_alive,
             "expected_purchases": float(iv["estimate"]), "lower": int(iv["lower"]), "upper": int(iv["upper"]),
             "interval_probability": float(iv["probability"]), "horizon": t, "time_unit": unit}
    return CustomerExplanation(customer_id=customer_id, text=first + second, facts=facts)

"""Customer lifetime value over a horizon, with every time unit stated, never assumed.

CLV_i = margin * E[spend per transaction]_i * sum_k ( E[X(t_k)] - E[X(t_{k-1})] ) * d(t_k),

where E[X(t)] is the transaction model's conditional expected number of purchases in the next
t periods, the horizon is cut into steps t_1 < ... < t_K (default: one step per unit of the
horizon, e.g. 12 monthly steps for ``horizon=(12, "M")``), the purchases of each step are
discounted at the step's end, and d(t) = (1 + rate) ** -(t / rate's unit) converts the stated
rate exactly (10% a year is 1.1 ** (1/12) - 1 a month, not 10% / 12). This is the
discrete-step CLV of Fader, Hardie & Lee (2005, JMR), as in lifetimes, except that lifetimes
fixes a month to 30 days and the rate to its step. Lengths of time and rates go through
:mod:`crm_models.units`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

from crm_models._validation import check_number
from crm_models.clv.base import ContinuousTimeModel, DiscreteTimeModel
from crm_models.clv.gamma_gamma import GammaGamma
from crm_models.units import TIME_UNITS, Duration, as_discount_rate, as_duration, check_time_unit

__all__ = ["customer_lifetime_value", "customer_lifetime_value_by_period", "MAX_HORIZON_DAYS", "MAX_STEPS"]

#: The longest horizon accepted (1,000 years of 365.25 days).
MAX_HORIZON_DAYS = 1000 * 365.25
#: The most discounting steps accepted (each step evaluates the model once per customer).
MAX_STEPS = 10_000


def _discrete_refusal(model) -> TypeError:
    name = type(model).__name__
    if name == "ShiftedBetaGeo":
        advice = (
            "for a contract cohort, use its discounted_expected_residual_lifetime(discount_rate, n_renewals) "
            "(payments still to come) times the margin per period"
        )
    else:
        advice = (
            "for discrete opportunities, use its expected_purchases(data, n) over the next n opportunities "
            "times the value per transaction, discounting each opportunity at its own date"
        )
    return TypeError(
        f"customer_lifetime_value needs a continuous-time model (BetaGeo, ModifiedBetaGeo or ParetoNBD), got "
        f"a {name}, which counts time in whole {'periods' if name == 'ShiftedBetaGeo' else 'opportunities'}: "
        f"{advice}."
    )


def _margin(margin) -> float:
    return check_number(margin, "margin", low=0, high=1, low_open=True, unit="share of spend kept as profit")


def customer_lifetime_value(
    transaction_model: ContinuousTimeModel,
    spend_model: GammaGamma | pd.Series | float,
    data: pd.DataFrame,
    *,
    horizon,
    time_unit: str,
    discount_rate,
    margin: float = 1.0,
    step=None,
) -> pd.Series:
    """Discounted expected value of each customer's purchases over ``horizon``.

    Parameters
    ----------
    transaction_model : BetaGeo, ModifiedBetaGeo or ParetoNBD
        A fitted continuous-time model; gives E[X(t) | frequency, recency, T] with ``t`` in
        ``time_unit``. A discrete-time model (BG/BB, sBG) is refused with a ``TypeError``
        saying what to use instead.
    spend_model : GammaGamma, pandas.Series or float
        Expected value per transaction (currency units): a fitted Gamma-Gamma model, a Series
        indexed exactly like ``data``, or one number for everyone.
    data : pandas.DataFrame
        The customers' summary (as for the models), indexed by customer id.
    horizon : tuple of (float, str)
        Length of the horizon, e.g. ``(12, "M")`` (at most 1,000 years).
    time_unit : str
        Unit of the data's recency and T, a code of :data:`crm_models.units.TIME_UNITS`
        (``"W"`` for :func:`crm_models.rfm_summary`'s default).
    discount_rate : tuple of (float, str)
        Rate per stated period, e.g. ``(0.10, "Y")`` for 10% a year (0 <= rate < 1).
    margin : float
        Share of spend that is profit, in (0, 1] (1: value is revenue).
    step : tuple of (float, str), optional
        Length of the discounting steps (default: one unit of the horizon, e.g. ``(1, "M")``);
        the last step is shorter when the horizon is not a whole number of steps. At most
        :data:`MAX_STEPS` steps.

    Returns
    -------
    pandas.Series
        ``clv`` (currency units, present value at the end of observation) indexed like ``data``.

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import BetaGeo, GammaGamma
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> clv = customer_lifetime_value(BetaGeo().fit(rfm), GammaGamma().fit(rfm), rfm,
    ...                               horizon=(12, "M"), time_unit="W", discount_rate=(0.10, "Y"))
    >>> clv.name, clv.index.equals(rfm.index), clv.head(3).round(2).tolist()
    ('clv', True, [36.73, 8.53, 4.7])
    """
    plan = _plan(transaction_model, horizon, time_unit, discount_rate, margin, step)
    pdata = transaction_model._prediction_data(data)
    params = transaction_model.params_.to_dict()
    previous = np.zeros(len(pdata.x))
    purchases = np.zeros(len(pdata.x))
    for t_days, d in zip(plan.ends_days, plan.discount):
        current = transaction_model._expected(params, pdata, t_days / plan.data_days)
        purchases += (current - previous) * d
        previous = current
    spend = _spend_values(spend_model, data, len(pdata.x))
    margin = plan.margin
    return pd.Series(margin * spend * purchases, index=data.index, name="clv")


class _Plan(NamedTuple):
    data_days: float
    margin: float
    step: Duration
    ends_days: np.ndarray
    discount: np.ndarray


def _plan(transaction_model, horizon, time_unit, discount_rate, margin, step) -> _Plan:
    """Check the arguments of a CLV and cut the horizon into discounting steps."""
    if isinstance(transaction_model, DiscreteTimeModel):
        raise _discrete_refusal(transaction_model)
    if not isinstance(transaction_model, ContinuousTimeModel):
        raise TypeError(
            "transaction_model must be a fitted BetaGeo, ModifiedBetaGeo or ParetoNBD (a ContinuousTimeModel), "
            f"got {type(transaction_model).__name__}"
        )
    transaction_model._check_fitted()
    horizon = as_duration(horizon, "horizon", max_days=MAX_HORIZON_DAYS)
    data_days = TIME_UNITS[check_time_unit(time_unit)]
    rate = as_discount_rate(discount_rate)
    margin = _margin(margin)
    step = as_duration((1, horizon.unit) if step is None else step, "step")
    n_steps = max(1, math.ceil(horizon.days / step.days - 1e-9))
    if n_steps > MAX_STEPS:
        raise ValueError(
            f"horizon={horizon} in steps of {step} makes {n_steps:,} discounting steps; at most {MAX_STEPS:,} are "
            f"allowed: pass a longer step, e.g. step=(1, 'Y')"
        )
    ends_days = np.minimum(np.arange(1, n_steps + 1) * step.days, horizon.days)
    return _Plan(data_days, margin, step, ends_days, np.atleast_1d(rate.factor(ends_days)))


def _spend_values(spend_model, data: pd.DataFrame, n: int) -> np.ndarray:
    """Expected value per transaction for every customer, from a model, a Series or a number."""
    if isinstance(spend_model, GammaGamma):
        spend = spend_model.expected_spend(data).to_numpy()
    elif isinstance(spend_model, pd.Series):
        if not spend_model.index.equals(data.index):
            raise ValueError("spend_model as a Series must be indexed exactly like data (customer id)")
        spend = pd.to_numeric(spend_model, errors="coerce").to_numpy(dtype=float)
    elif isinstance(spend_model, (int, float, np.integer, np.floating)) and not isinstance(spend_model, bool):
        spend = np.full(n, float(spend_model))
    else:
        raise TypeError(f"spend_model must be a fitted GammaGamma, a Series or a number, got {type(spend_model).__name__}")
    if not np.all(np.isfinite(spend)):
        raise ValueError("expected spend per transaction must be a finite number for every customer")
    return spend


#: Most (customer x period) cells :func:`customer_lifetime_value_by_period` returns.
MAX_CELLS = 50_000_000


def customer_lifetime_value_by_period(
    transaction_model: ContinuousTimeModel,
    spend_model: GammaGamma | pd.Series | float,
    data: pd.DataFrame,
    *,
    horizon,
    time_unit: str,
    discount_rate,
    margin: float = 1.0,
    step=None,
) -> pd.DataFrame:
    """Each customer's CLV broken down by period: the discounted value of each step of the horizon.

    Column k is margin x E[spend per transaction] x (E[X(t_k)] - E[X(t_{k-1})]) x d(t_k): the
    purchases expected in step k, discounted at the step's end, exactly the terms that
    :func:`customer_lifetime_value` adds up (the rows sum to it).

    Parameters
    ----------
    transaction_model : BetaGeo, ModifiedBetaGeo or ParetoNBD
        A fitted continuous-time model.
    spend_model : GammaGamma, pandas.Series or float
        Expected value per transaction (as in :func:`customer_lifetime_value`).
    data : pandas.DataFrame
        The customers' summary, indexed by customer id.
    horizon, time_unit, discount_rate, margin, step
        As in :func:`customer_lifetime_value` (default step: one unit of the horizon, e.g.
        monthly for ``(12, "M")``).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``, one column per step (currency units, present value at the end
        of observation); columns are the steps' ends as ``(length, unit)`` labels such as
        ``"1 M"``, ``"2 M"``, ... (index named ``period_end``).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import ModifiedBetaGeo, GammaGamma
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> mbg, gg = ModifiedBetaGeo().fit(rfm), GammaGamma().fit(rfm)
    >>> monthly = customer_lifetime_value_by_period(mbg, gg, rfm.head(2), horizon=(3, "M"), time_unit="W",
    ...                                             discount_rate=(0.10, "Y"))
    >>> monthly.round(2)
    period_end    1 M   2 M   3 M
    customer_id
    4            4.10  3.86  3.65
    18           0.69  0.66  0.63
    """
    plan = _plan(transaction_model, horizon, time_unit, discount_rate, margin, step)
    n_steps = len(plan.ends_days)
    if n_steps * len(data) > MAX_CELLS:
        raise ValueError(f"{len(data):,} customers x {n_steps:,} periods is more than {MAX_CELLS:,} cells: pass a "
                         "longer step or fewer customers (customer_lifetime_value gives the total)")
    pdata = transaction_model._prediction_data(data)
    params = transaction_model.params_.to_dict()
    spend = _spend_values(spend_model, data, len(pdata.x))
    out = np.empty((len(pdata.x), n_steps))
    previous = np.zeros(len(pdata.x))
    for k, (t_days, d) in enumerate(zip(plan.ends_days, plan.discount)):
        current = transaction_model._expected(params, pdata, t_days / plan.data_days)
        out[:, k] = plan.margin * spend * (current - previous) * d
        previous = current
    step_len = plan.step
    labels = [f"{e / TIME_UNITS[step_len.unit]:g} {step_len.unit}" for e in plan.ends_days]
    return pd.DataFrame(out, index=data.index, columns=pd.Index(labels, name="period_end"))


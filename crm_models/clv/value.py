"""Customer lifetime value over a horizon, with every time unit stated, never assumed.

CLV_i = margin * E[spend per transaction]_i * sum_k ( E[X(t_k)] - E[X(t_{k-1})] ) * d(t_k),

where E[X(t)] is the transaction model's conditional expected number of purchases in the next
t periods, the horizon is cut into steps t_1 < ... < t_K (default: one step per horizon unit,
e.g. 12 monthly steps for a 12-month horizon), the purchases of each step are discounted at
the step's end, and d(t) = (1 + discount_rate) ** -(t / discount period) converts the stated
rate exactly (an annual 10% rate is (1.1) ** (1/12) - 1 per month, not 10% / 12). This is
the discrete-step CLV of Fader, Hardie & Lee (2005, JMR), as in lifetimes, except that
lifetimes fixes a month to 30 days and the rate to its step.

Units are strings: ``"D"`` (day), ``"W"`` (week, 7 days), ``"M"`` (month, 365.25/12 days),
``"Q"`` (quarter, 365.25/4 days), ``"Y"`` (year, 365.25 days), or anything
``pandas.Timedelta`` reads (``"30D"``, ``"12h"``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from crm_models.clv.base import FrequencyRecencyModel
from crm_models.clv.gamma_gamma import GammaGamma

_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Q": 365.25 / 4, "Y": 365.25}
_ALIASES = {"day": "D", "days": "D", "week": "W", "weeks": "W", "month": "M", "months": "M",
            "quarter": "Q", "quarters": "Q", "year": "Y", "years": "Y", "A": "Y"}


def unit_days(unit: str, name: str = "unit") -> float:
    """Length of a time unit in days (``"D"``, ``"W"``, ``"M"`` = 365.25/12, ``"Q"``, ``"Y"`` = 365.25,
    or a ``pandas.Timedelta`` string such as ``"30D"``)."""
    if not isinstance(unit, str):
        raise ValueError(f"{name} must be a unit string such as 'D', 'W', 'M', 'Y' or '30D', got {unit!r}")
    key = _ALIASES.get(unit.strip().lower(), unit.strip().upper())
    if key in _DAYS:
        return _DAYS[key]
    try:
        days = pd.Timedelta(unit) / pd.Timedelta(days=1)
    except (ValueError, TypeError):
        raise ValueError(
            f"{name}={unit!r} is not a time unit; use 'D', 'W', 'M' (365.25/12 days), 'Q', 'Y' (365.25 days) "
            "or a pandas Timedelta string such as '30D'"
        ) from None
    if not days > 0:
        raise ValueError(f"{name}={unit!r} must be a positive length of time")
    return float(days)


def customer_lifetime_value(
    transaction_model: FrequencyRecencyModel,
    spend_model: GammaGamma | pd.Series | float,
    data: pd.DataFrame,
    horizon: float,
    *,
    horizon_unit: str,
    time_unit: str,
    discount_rate: float,
    discount_rate_unit: str,
    step_unit: str | None = None,
    margin: float = 1.0,
) -> pd.Series:
    """Discounted expected value of each customer's purchases over ``horizon``.

    Parameters
    ----------
    transaction_model : fitted BetaGeo, ModifiedBetaGeo or ParetoNBD
        Gives E[X(t) | frequency, recency, T]; its ``t`` is in ``time_unit``.
    spend_model : fitted GammaGamma, or a Series (indexed like ``data``) or number
        Expected value per transaction (currency units).
    data : DataFrame
        The customers' summary (as for the models), indexed by customer id.
    horizon : float
        Length of the horizon, in ``horizon_unit`` (e.g. 12 with ``horizon_unit="M"``).
    horizon_unit : str
        Unit of ``horizon``.
    time_unit : str
        Unit of the data's recency and T (``"W"`` for ``rfm_summary``'s default).
    discount_rate : float
        Discount rate per ``discount_rate_unit`` (e.g. 0.1 with ``"Y"`` for 10% a year).
    discount_rate_unit : str
        The period the rate applies to.
    step_unit : str, optional
        Length of the discounting steps (default ``horizon_unit``); the last step is shorter
        when the horizon is not a whole number of steps.
    margin : float
        Share of spend that is profit (1 = value is revenue).

    Returns
    -------
    Series ``clv`` indexed like ``data`` (currency units, present value at the end of observation).
    """
    if not isinstance(transaction_model, FrequencyRecencyModel):
        raise TypeError(
            "transaction_model must be a BetaGeo, ModifiedBetaGeo or ParetoNBD (a FrequencyRecencyModel), "
            f"got {type(transaction_model).__name__}"
        )
    transaction_model._check_fitted()
    for name, v in (("horizon", horizon), ("discount_rate", discount_rate), ("margin", margin)):
        if not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if horizon <= 0:
        raise ValueError(f"horizon must be positive, got {horizon!r}")
    if discount_rate <= -1:
        raise ValueError(f"discount_rate must be > -1, got {discount_rate!r}")
    horizon_days = float(horizon) * unit_days(horizon_unit, "horizon_unit")
    data_days = unit_days(time_unit, "time_unit")
    rate_days = unit_days(discount_rate_unit, "discount_rate_unit")
    step_days = unit_days(step_unit if step_unit is not None else horizon_unit, "step_unit")

    n_steps = max(1, math.ceil(horizon_days / step_days - 1e-9))
    ends_days = np.minimum(np.arange(1, n_steps + 1) * step_days, horizon_days)
    discount = (1.0 + discount_rate) ** (-ends_days / rate_days)

    pdata = transaction_model._prediction_data(data)
    params = transaction_model.params_.to_dict()
    previous = np.zeros(len(pdata.x))
    purchases = np.zeros(len(pdata.x))
    for t_days, d in zip(ends_days, discount):
        current = transaction_model._expected(params, pdata, t_days / data_days)
        purchases += (current - previous) * d
        previous = current

    if isinstance(spend_model, GammaGamma):
        spend = spend_model.expected_spend(data).to_numpy()
    elif isinstance(spend_model, pd.Series):
        if not spend_model.index.equals(data.index):
            raise ValueError("spend_model as a Series must be indexed exactly like data (customer id)")
        spend = spend_model.to_numpy(dtype=float)
    elif isinstance(spend_model, (int, float, np.integer, np.floating)):
        spend = np.full(len(pdata.x), float(spend_model))
    else:
        raise TypeError(f"spend_model must be a fitted GammaGamma, a Series or a number, got {type(spend_model).__name__}")
    if not np.all(np.isfinite(spend)):
        raise ValueError("expected spend per transaction must be finite for every customer")
    return pd.Series(margin * spend * purchases, index=data.index, name="clv")

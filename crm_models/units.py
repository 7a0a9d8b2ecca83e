"""Time units, horizons and discount rates: one table, one spelling, validated in one place.

Every function of crm_models that takes a length of time or a rate uses these:

``time_unit``
    a code of :data:`TIME_UNITS`: ``"h"`` (hour), ``"D"`` (day), ``"W"`` (7 days), ``"M"`` (an
    average month, 365.25 / 12 = 30.4375 days), ``"Q"`` (365.25 / 4 days) or ``"Y"`` (365.25 days).
``horizon`` (and every other length of time)
    a ``(length, unit)`` pair, e.g. ``(12, "M")`` for twelve average months or ``(91, "D")``;
    :func:`as_duration` checks it and returns a :class:`Duration`.
``discount_rate``
    a ``(rate, unit)`` pair: the rate per stated period, e.g. ``(0.10, "Y")`` for 10% a year;
    :func:`as_discount_rate` checks it (``0 <= rate < 1``, so 10% is written 0.10, never 10) and
    returns a :class:`DiscountRate`.

Examples
--------
>>> as_duration((12, "M")).days
365.25
>>> as_duration((13, "W")).in_unit("D")
91.0
>>> round(as_discount_rate((0.10, "Y")).factor(365.25), 6)
0.909091
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "TIME_UNITS",
    "unit_days",
    "check_time_unit",
    "Duration",
    "as_duration",
    "DiscountRate",
    "as_discount_rate",
]

#: Length of each time unit in days. A month is an average month (365.25 / 12 days).
TIME_UNITS: dict[str, float] = {
    "h": 1.0 / 24.0,
    "D": 1.0,
    "W": 7.0,
    "M": 365.25 / 12.0,
    "Q": 365.25 / 4.0,
    "Y": 365.25,
}

_UNIT_WORDS = {
    "h": "hours",
    "D": "days",
    "W": "weeks of 7 days",
    "M": "months of 365.25/12 = 30.4375 days",
    "Q": "quarters of 91.3125 days",
    "Y": "years of 365.25 days",
}


def check_time_unit(unit, name: str = "time_unit") -> str:
    """Return ``unit`` if it is a code of :data:`TIME_UNITS`, else raise a ``ValueError`` listing them.

    Parameters
    ----------
    unit : str
        The code to check.
    name : str
        The argument's name, for the message.

    Returns
    -------
    str
        ``unit`` itself.

    Examples
    --------
    >>> check_time_unit("W")
    'W'
    """
    if not isinstance(unit, str) or unit not in TIME_UNITS:
        raise ValueError(
            f"{name} must be one of {list(TIME_UNITS)} ("
            + ", ".join(f"{k} = {v}" for k, v in _UNIT_WORDS.items())
            + f"), got {unit!r}"
        )
    return unit


def unit_days(unit: str, name: str = "time_unit") -> float:
    """Length of the time unit ``unit`` in days.

    Parameters
    ----------
    unit : str
        A code of :data:`TIME_UNITS`.
    name : str
        The argument's name, for the message.

    Returns
    -------
    float
        Days in one ``unit``.

    Examples
    --------
    >>> unit_days("M")
    30.4375
    """
    return TIME_UNITS[check_time_unit(unit, name)]


def _number(value, name: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}: the {what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name}: the {what} must be finite, got {value!r}")
    return value


class Duration(NamedTuple):
    """A length of time: ``length`` in ``unit`` (a code of :data:`TIME_UNITS`).

    Examples
    --------
    >>> d = Duration(6, "M")
    >>> d.days, str(d)
    (182.625, '6 M (months of 365.25/12 = 30.4375 days)')
    """

    length: float
    unit: str

    @property
    def days(self) -> float:
        """The duration in days."""
        return float(self.length) * TIME_UNITS[self.unit]

    def in_unit(self, unit: str) -> float:
        """The duration expressed in another time unit.

        Parameters
        ----------
        unit : str
            A code of :data:`TIME_UNITS`.

        Returns
        -------
        float
            ``length`` converted to ``unit``.
        """
        return self.days / unit_days(unit, "unit")

    def __str__(self) -> str:
        return f"{self.length:g} {self.unit} ({_UNIT_WORDS[self.unit]})"


def as_duration(value, name: str = "horizon", *, allow_zero: bool = False, max_days: float | None = None) -> Duration:
    """Check a ``(length, unit)`` pair and return it as a :class:`Duration`.

    Parameters
    ----------
    value : tuple of (float, str) or Duration
        The length and its unit, e.g. ``(12, "M")``.
    name : str
        The argument's name, for messages.
    allow_zero : bool
        Accept a length of 0.
    max_days : float, optional
        Refuse durations longer than this many days.

    Returns
    -------
    Duration

    Examples
    --------
    >>> as_duration((52, "W"))
    Duration(length=52.0, unit='W')
    >>> as_duration(12)
    Traceback (most recent call last):
    ...
    ValueError: horizon must be a (length, unit) pair such as (12, 'M') or (91, 'D'), got 12
    """
    if isinstance(value, str) or not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a (length, unit) pair such as (12, 'M') or (91, 'D'), got {value!r}")
    length = _number(value[0], name, "length")
    unit = check_time_unit(value[1], f"{name}'s unit")
    if length < 0 or (length == 0 and not allow_zero):
        raise ValueError(f"{name}: the length must be {'>= 0' if allow_zero else '> 0'}, got {value[0]!r}")
    duration = Duration(length, unit)
    if max_days is not None and duration.days > max_days:
        raise ValueError(
            f"{name}={duration} is longer than the {max_days / 365.25:,.0f} years this function accepts"
        )
    return duration


class DiscountRate(NamedTuple):
    """A discount rate per period: ``rate`` per ``unit`` (a code of :data:`TIME_UNITS`).

    Examples
    --------
    >>> r = DiscountRate(0.01, "M")
    >>> round(r.factor(365.25), 4)     # a year at 1% a month
    0.8874
    """

    rate: float
    unit: str

    def factor(self, days):
        """Present value of 1 received after ``days`` days: ``(1 + rate) ** -(days / unit)``.

        Parameters
        ----------
        days : float or array_like
            Delay in days (>= 0).

        Returns
        -------
        float or numpy.ndarray
            Discount factors in (0, 1].
        """
        out = (1.0 + self.rate) ** (-np.asarray(days, dtype=float) / TIME_UNITS[self.unit])
        return float(out) if out.ndim == 0 else out

    def __str__(self) -> str:
        return f"{self.rate:g} per {self.unit} ({_UNIT_WORDS[self.unit]})"


def as_discount_rate(value, name: str = "discount_rate") -> DiscountRate:
    """Check a ``(rate, unit)`` pair and return it as a :class:`DiscountRate`.

    The rule, the same everywhere: the rate is a finite number with ``0 <= rate < 1`` per stated
    period (a rate of 1 or more is almost surely a percentage typed as a number).

    Parameters
    ----------
    value : tuple of (float, str) or DiscountRate
        The rate and the period it applies to, e.g. ``(0.10, "Y")``.
    name : str
        The argument's name, for messages.

    Returns
    -------
    DiscountRate

    Examples
    --------
    >>> as_discount_rate((0.1, "Y"))
    DiscountRate(rate=0.1, unit='Y')
    >>> as_discount_rate((10, "Y"))
    Traceback (most recent call last):
    ...
    ValueError: discount_rate: the rate must lie in [0, 1) per period (write 10% as 0.10), got 10
    """
    if isinstance(value, str) or not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be a (rate, unit) pair such as (0.10, 'Y') for 10% a year, got {value!r}")
    rate = _number(value[0], name, "rate")
    unit = check_time_unit(value[1], f"{name}'s unit")
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"{name}: the rate must lie in [0, 1) per period (write 10% as 0.10), got {value[0]!r}")
    return DiscountRate(rate, unit)

"""One definition of customer lifetime value for the whole course, stated once, with its units.

"CLV" means nothing until four things are said: over what horizon, in which time unit the models
count, at what discount rate, and whether it is revenue or profit (the margin). The course uses
one definition, :data:`COURSE_CLV`; every notebook computes CLV through it
(:meth:`CLVDefinition.customer_lifetime_value`), shows its units box
(:meth:`CLVDefinition.units_box`) where CLV first appears, and builds decision tables whose
thresholds are relative to the customer base (:meth:`CLVDefinition.action_table`), so that no
dollar threshold silently belongs to another definition.

Examples
--------
>>> print(COURSE_CLV.units_box())
CLV in this course
  value: expected profit (30% margin on spend) from the customer's purchases over the horizon, USD
  horizon: 12 M (months of 365.25/12 = 30.4375 days)
  time unit of the models: W (weeks of 7 days): recency, T and purchase rates
  discounting: 10% per Y (years of 365.25 days), at the end of each 1 M
  present value at: the end of observation
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from crm_models.units import Duration, as_discount_rate, as_duration, check_time_unit

__all__ = ["CLVDefinition", "UnitsBox", "COURSE_CLV"]


@dataclass(frozen=True)
class UnitsBox:
    """A small table of what a quantity means and in which units; text in a terminal, a box in Jupyter.

    Parameters
    ----------
    title : str
        What the box defines.
    rows : tuple of tuple of str
        ``(label, meaning)`` pairs.

    Examples
    --------
    >>> print(UnitsBox("Budget", (("money", "USD"),)))
    Budget
      money: USD
    """

    title: str
    rows: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        return "\n".join([self.title] + [f"  {label}: {meaning}" for label, meaning in self.rows])

    def __repr__(self) -> str:
        return str(self)

    def to_frame(self) -> pd.DataFrame:
        """The rows as a table.

        Returns
        -------
        pandas.DataFrame
            Indexed by label, one column ``meaning``.

        Examples
        --------
        >>> UnitsBox("Budget", (("money", "USD"),)).to_frame().loc["money", "meaning"]
        'USD'
        """
        return pd.DataFrame({"meaning": dict(self.rows)}).rename_axis("label")

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in self.rows)
        return (f"<div style='border: 1px solid #888; padding: 4px 10px; display: inline-block;'>"
                f"<b>{html.escape(self.title)}</b><table>{body}</table></div>")


def _words(unit: str) -> str:
    """'weeks of 7 days' for 'W': the words of the units table, read from a Duration's text."""
    return str(Duration(1, unit)).split(" (", 1)[1][:-1]


def _percent(x: float) -> str:
    return f"{100 * x:.4g}%"


@dataclass(frozen=True)
class CLVDefinition:
    """What CLV means: horizon, the models' time unit, discount rate and margin, stated once.

    Parameters
    ----------
    horizon : tuple of (float, str)
        Length of the future valued, e.g. ``(12, "M")``.
    time_unit : str
        Unit of the customer summaries the models are fitted on (recency, T), a code of
        :data:`crm_models.units.TIME_UNITS`.
    discount_rate : tuple of (float, str)
        Rate per stated period, e.g. ``(0.10, "Y")`` (0 <= rate < 1).
    margin : float
        Share of spend that is profit, in (0, 1].
    step : tuple of (float, str)
        When purchases are discounted: at the end of each step.
    currency : str
        The currency of spend.

    Examples
    --------
    >>> d = CLVDefinition(horizon=(6, "M"), margin=0.5)
    >>> d.horizon_weeks
    26.089285714285715
    """

    horizon: tuple = (12, "M")
    time_unit: str = "W"
    discount_rate: tuple = (0.10, "Y")
    margin: float = 0.30
    step: tuple = (1, "M")
    currency: str = "USD"

    def __post_init__(self) -> None:
        as_duration(self.horizon, "horizon")
        as_duration(self.step, "step")
        check_time_unit(self.time_unit)
        as_discount_rate(self.discount_rate)
        m = self.margin
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0 < m <= 1:
            raise ValueError(f"margin must be a share of spend in (0, 1], got {m!r}")
        if not isinstance(self.currency, str) or not self.currency:
            raise ValueError(f"currency must be a non-empty string, got {self.currency!r}")

    @property
    def horizon_duration(self) -> Duration:
        """The horizon as a :class:`~crm_models.units.Duration`."""
        return as_duration(self.horizon, "horizon")

    @property
    def horizon_weeks(self) -> float:
        """The horizon in weeks."""
        return self.horizon_duration.in_unit("W")

    def horizon_in(self, unit: str) -> float:
        """The horizon expressed in a time unit (e.g. the models' ``time_unit``).

        Parameters
        ----------
        unit : str
            A code of :data:`crm_models.units.TIME_UNITS`.

        Returns
        -------
        float

        Examples
        --------
        >>> COURSE_CLV.horizon_in("D")
        365.25
        """
        return self.horizon_duration.in_unit(unit)

    def clv_arguments(self) -> dict:
        """The keyword arguments of :func:`crm_models.clv.customer_lifetime_value` for this definition.

        Returns
        -------
        dict
            ``horizon``, ``time_unit``, ``discount_rate``, ``margin`` and ``step``.

        Examples
        --------
        >>> sorted(COURSE_CLV.clv_arguments())
        ['discount_rate', 'horizon', 'margin', 'step', 'time_unit']
        """
        return {"horizon": tuple(self.horizon), "time_unit": self.time_unit,
                "discount_rate": tuple(self.discount_rate), "margin": float(self.margin), "step": tuple(self.step)}

    def scorer_arguments(self) -> dict:
        """The keyword arguments of :func:`crm_models.pipeline.score_customers` for this definition.

        Returns
        -------
        dict
            ``horizon``, ``discount_rate`` and ``margin`` (the scorer's models count in weeks
            and discount monthly).

        Examples
        --------
        >>> COURSE_CLV.scorer_arguments()["margin"]
        0.3
        """
        return {"horizon": tuple(self.horizon), "discount_rate": tuple(self.discount_rate),
                "margin": float(self.margin)}

    def customer_lifetime_value(self, transaction_model, spend_model, data: pd.DataFrame) -> pd.Series:
        """CLV of each customer under this definition.

        Parameters
        ----------
        transaction_model : BetaGeo, ModifiedBetaGeo or ParetoNBD
            A fitted continuous-time model on ``data`` (in :attr:`time_unit`).
        spend_model : GammaGamma, pandas.Series or float
            Expected spend per purchase (currency units).
        data : pandas.DataFrame
            The customers' summary, indexed by customer id.

        Returns
        -------
        pandas.Series
            ``clv`` in :attr:`currency`, present value at the end of observation.

        Examples
        --------
        >>> from crm_models import rfm_summary
        >>> from crm_models.clv import BetaGeo
        >>> from crm_models.datasets import load_cdnow
        >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
        >>> clv = COURSE_CLV.customer_lifetime_value(BetaGeo().fit(rfm), 35.0, rfm)
        >>> clv.name, bool((clv >= 0).all())
        ('clv', True)
        """
        from crm_models.clv import customer_lifetime_value

        return customer_lifetime_value(transaction_model, spend_model, data, **self.clv_arguments())

    def action_table(self, *, low_value_quantile: float = 0.2, **kwargs) -> pd.DataFrame:
        """The next-best-action table with thresholds relative to the customer base.

        Parameters
        ----------
        low_value_quantile : float
            Bottom share of the base by CLV eligible for ``serve_at_lower_cost`` (0-1).
        **kwargs
            Other arguments of :func:`crm_models.customize.default_action_table` (costs in
            :attr:`currency` over the horizon, effects in 0-1).

        Returns
        -------
        pandas.DataFrame
            The action table.

        Examples
        --------
        >>> COURSE_CLV.action_table().loc["serve_at_lower_cost", "eligible"]
        'clv_quantile < 0.2'
        """
        from crm_models.customize import default_action_table

        return default_action_table(low_value_quantile=low_value_quantile, **kwargs)

    def describe(self) -> str:
        """The definition in one sentence.

        Returns
        -------
        str

        Examples
        --------
        >>> COURSE_CLV.describe()[:60]
        'CLV = expected profit (30% margin) over the next 12 M, disco'
        """
        rate = as_discount_rate(self.discount_rate)
        return (f"CLV = expected profit ({_percent(self.margin)} margin) over the next {self.horizon[0]:g} "
                f"{self.horizon[1]}, discounted at {_percent(rate.rate)} per {rate.unit}, in {self.currency}")

    def units_box(self) -> UnitsBox:
        """The definition as a units box to show where CLV first appears in a notebook.

        Returns
        -------
        UnitsBox

        Examples
        --------
        >>> COURSE_CLV.units_box().to_frame().index.tolist()[:2]
        ['value', 'horizon']
        """
        rate = as_discount_rate(self.discount_rate)
        what = "revenue" if self.margin == 1 else f"profit ({_percent(self.margin)} margin on spend)"
        rows = (
            ("value", f"expected {what} from the customer's purchases over the horizon, {self.currency}"),
            ("horizon", str(self.horizon_duration)),
            ("time unit of the models", f"{self.time_unit} ({_words(self.time_unit)}): recency, T and purchase rates"),
            ("discounting", f"{_percent(rate.rate)} per {rate.unit} ({_words(rate.unit)}), at the end of each "
                            f"{self.step[0]:g} {self.step[1]}"),
            ("present value at", "the end of observation"),
        )
        return UnitsBox("CLV in this course", rows)


#: The course's one definition of CLV: 12 months, models in weeks, 10% a year, 30% margin, USD.
COURSE_CLV = CLVDefinition()

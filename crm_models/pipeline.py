"""From a transaction log to a customer strategy in one call: every customer scored.

:class:`CustomerScorer` is the pipeline behind ``crm-models score``: it learns, from one
transaction log, a model of purchasing and dropping out (BG/NBD, MBG/NBD or Pareto/NBD, chosen
by a backtest on the log unless named), a Gamma-Gamma model of spend per purchase (Fader &
Hardie 2013) and RFM score edges, and scores
every customer with RFM scores and segment, P(alive), expected purchases, expected spend, CLV
and a next best action. :func:`score_customers` is the same in one function call.

Units: recency and T in weeks (purchases de-duplicated per calendar day, as in the CDNOW
papers); the horizon, purchase horizon and discount rate are stated as ``(length, unit)`` and
``(rate, unit)`` pairs (:mod:`crm_models.units`); money in the log's currency.

Examples
--------
>>> from crm_models.datasets import load_cdnow
>>> scores = score_customers(load_cdnow())
>>> scores.loc[4, ["rfm_segment", "next_best_action"]].tolist()
['Loyal Customers', 'do_nothing']
"""

from __future__ import annotations

import sys
from contextlib import nullcontext

import numpy as np
import pandas as pd

from crm_models._validation import parse_datetimes, parse_timestamp, require_columns
from crm_models.base import CRMEstimator, FieldReader, Summary
from crm_models.clv import BetaGeo, GammaGamma, ModifiedBetaGeo, ParetoNBD, customer_lifetime_value
from crm_models.clv.backtest import BacktestResult, backtest, select_model
from crm_models.clv.base import ContinuousTimeModel
from crm_models.clv.explain import CustomerExplanation, explain_customer
from crm_models.customize import default_action_table, next_best_action
from crm_models.errors import ConvergenceError, DataError
from crm_models.segment import RFMScorer
from crm_models.transactions import rfm_summary
from crm_models.units import as_discount_rate, as_duration

__all__ = ["CustomerScorer", "score_customers", "SCORE_COLUMNS"]

#: Columns of a scores table, in order.
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

#: Fewest customers, and fewest repeat buyers with a positive amount, a scorer learns from.
MIN_CUSTOMERS, MIN_REPEAT_BUYERS = 20, 10

_SUMMARY_COLUMNS = ["frequency", "recency", "T"]


def _progress(total: int, enabled: bool, desc: str):
    if not enabled:
        return nullcontext(None)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False)


def _step(bar, label: str) -> None:
    if bar is not None:
        bar.update(1)
        bar.set_postfix_str(label)


class CustomerScorer(CRMEstimator):
    """RFM scores, P(alive), expected purchases and spend, CLV and a next best action per customer.

    ``fit`` learns from a transaction log, as of ``observation_period_end``: the RFM summary
    in weeks, BG/NBD on every customer, Gamma-Gamma on the repeat buyers with a positive amount,
    and RFM score edges (:class:`crm_models.segment.RFMScorer`, default rule table). ``transform``
    scores the customers of a log as of that same date.

    Parameters
    ----------
    customer_id_col, datetime_col, monetary_value_col : str
        Columns of the transaction log.
    datetime_format : str, optional
        ``strptime`` format of the date column when it is text (default ISO 8601).
    horizon : tuple of (float, str)
        Horizon of CLV and of the next best action, e.g. ``(12, "M")`` (twelve months of
        365.25/12 days).
    purchase_horizon : tuple of (float, str), optional
        Horizon of ``expected_purchases`` when it should differ from ``horizon`` (e.g.
        ``(91, "D")`` for the next quarter on an agent's card); default ``horizon``.
    discount_rate : tuple of (float, str)
        Discount rate of CLV per stated period, e.g. ``(0.10, "Y")``; purchases are discounted
        at the end of each month of the horizon.
    margin : float
        Share of spend kept as profit in CLV, in (0, 1].
    cost_to_serve : float
        Cost of serving one customer over ``horizon`` (money, >= 0); CLV below it makes
        ``serve_at_lower_cost`` eligible (:func:`crm_models.customize.default_action_table`).
    transaction_model : {"auto", "BG/NBD", "MBG/NBD", "Pareto/NBD"}
        The model of purchasing and dropping out. ``"auto"`` (default) backtests the three on
        the log (:func:`crm_models.clv.backtest`, with the naive baselines) and takes the one
        :func:`crm_models.clv.select_model` picks (lowest mean absolute error of holdout
        purchases; near-ties go to MBG/NBD, then Pareto/NBD, because BG/NBD counts every one-time
        buyer as surely alive). A log too short to backtest falls back to MBG/NBD.

    Attributes
    ----------
    transaction_model_ : BetaGeo, ModifiedBetaGeo or ParetoNBD
        The chosen model, fitted on the summary (time unit: weeks).
    backtest_ : crm_models.clv.BacktestResult or None
        The backtest behind an ``"auto"`` choice (None when the model was named or the log too
        short to backtest).
    model_choice_ : str
        Which model, and why, in words.
    spend_model_ : crm_models.clv.GammaGamma
        Gamma-Gamma fitted on the repeat buyers.
    rfm_scorer_ : crm_models.segment.RFMScorer
        RFM score edges learned on the summary.
    observation_period_end_ : pandas.Timestamp
        The date every score is computed at.
    n_customers_ : int
        Customers in the log ``fit`` learned from.

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> scorer = CustomerScorer(horizon=(6, "M")).fit(load_cdnow())
    >>> str(scorer.observation_period_end_.date()), scorer.n_customers_
    ('1998-06-30', 2357)
    >>> scorer.transform(load_cdnow()).shape
    (2357, 14)
    """

    _fitted_attribute = "transaction_model_"

    def __init__(
        self,
        customer_id_col: str = "customer_id",
        datetime_col: str = "timestamp",
        monetary_value_col: str = "amount",
        datetime_format: str | None = None,
        horizon=(12, "M"),
        purchase_horizon=None,
        discount_rate=(0.10, "Y"),
        margin: float = 1.0,
        cost_to_serve: float = 0.0,
        transaction_model: str = "auto",
    ) -> None:
        self.customer_id_col = customer_id_col
        self.datetime_col = datetime_col
        self.monetary_value_col = monetary_value_col
        self.datetime_format = datetime_format
        self.horizon = horizon
        self.purchase_horizon = purchase_horizon
        self.discount_rate = discount_rate
        self.margin = margin
        self.cost_to_serve = cost_to_serve
        self.transaction_model = transaction_model

    # ------------------------------------------------------------------------ settings
    def _check_params(self) -> None:
        for name in ("customer_id_col", "datetime_col", "monetary_value_col"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a column name (a string), got {getattr(self, name)!r}")
        as_duration(self.horizon, "horizon", max_days=1000 * 365.25)
        if self.purchase_horizon is not None:
            as_duration(self.purchase_horizon, "purchase_horizon", max_days=1000 * 365.25)
        as_discount_rate(self.discount_rate)
        if isinstance(self.margin, bool) or not isinstance(self.margin, (int, float, np.integer, np.floating)) or not (
            0 < self.margin <= 1
        ):
            raise ValueError(f"margin must be a share of spend in (0, 1], got {self.margin!r}")
        c = self.cost_to_serve
        if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)) or not np.isfinite(c) or c < 0:
            raise ValueError(f"cost_to_serve must be a finite amount of money >= 0, got {c!r}")
        if self.transaction_model not in ("auto", *_MODEL_NAMES):
            raise ValueError(f"transaction_model must be 'auto' or one of {list(_MODEL_NAMES)}, "
                             f"got {self.transaction_model!r}")

    def _summary(self, transactions, observation_period_end, after_end: str = "raise") -> pd.DataFrame:
        require_columns(transactions, [self.customer_id_col, self.datetime_col, self.monetary_value_col],
                        what="transactions")
        return rfm_summary(
            transactions,
            self.customer_id_col,
            self.datetime_col,
            self.monetary_value_col,
            observation_period_end=observation_period_end,
            time_unit="W",
            datetime_format=self.datetime_format,
            after_end=after_end,
        )

    # ------------------------------------------------------------------------- learning
    def fit(
        self, transactions: pd.DataFrame, *, observation_period_end=None, after_end: str = "raise", progress: bool = False
    ) -> CustomerScorer:
        """Learn the value models and the RFM edges from a transaction log.

        Parameters
        ----------
        transactions : pandas.DataFrame
            One row per purchase with the three columns named in the constructor.
        observation_period_end : date-like, optional
            The date scores are computed at; default the last purchase.
        after_end : {"raise", "drop"}
            Purchases after ``observation_period_end`` raise a :class:`~crm_models.errors.DataError`
            (default) or, with ``"drop"``, are left out.
        progress : bool
            Show a progress bar on stderr.

        Returns
        -------
        CustomerScorer
            ``self``, fitted.
        """
        self._check_params()
        with _progress(3, progress, "learning from the log") as bar:
            summary = self._summary(transactions, observation_period_end, after_end)
            if len(summary) < MIN_CUSTOMERS:
                raise DataError(
                    self.customer_id_col,
                    f"holds {len(summary)} customers; scoring needs at least {MIN_CUSTOMERS}",
                    what="transactions",
                )
            _step(bar, "BG/NBD and Gamma-Gamma")
            repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
            if len(repeat) < MIN_REPEAT_BUYERS:
                raise DataError(
                    self.customer_id_col,
                    f"has {len(repeat)} customers who bought more than once with a positive amount; the spend "
                    f"model (Gamma-Gamma) needs at least {MIN_REPEAT_BUYERS}",
                    what="transactions",
                )
            # customers first seen on the last day (T = 0) add nothing to the likelihood; they are
            # scored as just-acquired customers
            self.transaction_model_, self.backtest_, self.model_choice_ = _choose_transaction_model(
                self, transactions, summary, observation_period_end)
            self.spend_model_ = GammaGamma().fit(repeat[["frequency", "monetary_value"]])
            _step(bar, "RFM edges")
            self.rfm_scorer_ = RFMScorer().fit(summary)
            self.observation_period_end_ = _end_of(summary, transactions, self, observation_period_end)
            self.n_customers_ = int(len(summary))
            _step(bar, "done")
        return self

    # ------------------------------------------------------------------------- scoring
    def transform(self, transactions: pd.DataFrame, *, after_end: str = "raise", progress: bool = False) -> pd.DataFrame:
        """Score every customer of a transaction log as of ``observation_period_end_``.

        Parameters
        ----------
        transactions : pandas.DataFrame
            One row per purchase (the log ``fit`` learned from, or a log of the same period).
        after_end : {"raise", "drop"}
            What to do with purchases after ``observation_period_end_`` (as in :meth:`fit`).
        progress : bool
            Show a progress bar on stderr.

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id, the columns :data:`SCORE_COLUMNS`:

            - ``frequency`` (repeat purchase days), ``recency`` and ``T`` (weeks),
              ``monetary_value`` (mean spend of repeat purchase days, 0 for one-time buyers);
            - ``r_score``, ``f_score``, ``m_score`` (1-5, 5 = best) and ``rfm_segment``;
            - ``p_alive``: probability the customer is still active (0-1);
            - ``expected_purchases``: expected purchase days over ``purchase_horizon``;
            - ``expected_spend``: expected spend per purchase (money);
            - ``clv``: discounted margin over ``horizon`` (money);
            - ``next_best_action`` and ``action_expected_value`` (money).
        """
        self._check_fitted()
        horizon = as_duration(self.horizon, "horizon")
        purchase = as_duration(self.purchase_horizon, "purchase_horizon") if self.purchase_horizon else horizon
        with _progress(4, progress, "scoring customers") as bar:
            summary = self._summary(transactions, self.observation_period_end_, after_end)
            rfm = self.rfm_scorer_.transform(summary)
            out = summary[["frequency", "recency", "T", "monetary_value"]].copy()
            out["r_score"] = rfm["r"].astype("int64")
            out["f_score"] = rfm["f"].astype("int64")
            out["m_score"] = rfm["m"].astype("int64")
            out["rfm_segment"] = rfm["segment"].astype(str)
            _step(bar, "P(alive) and expected purchases")
            frame = summary[_SUMMARY_COLUMNS]
            out["p_alive"] = self.transaction_model_.probability_alive(frame).to_numpy()
            out["expected_purchases"] = self.transaction_model_.expected_purchases(frame, purchase.in_unit("W")).to_numpy()
            # repeat buyers whose repeat purchases were all free count as one-time buyers for spend
            spend_data = summary[["frequency", "monetary_value"]].copy()
            spend_data.loc[spend_data["monetary_value"] <= 0, "frequency"] = 0
            spend = self.spend_model_.expected_spend(spend_data)
            out["expected_spend"] = spend.to_numpy()
            _step(bar, "CLV")
            out["clv"] = customer_lifetime_value(
                self.transaction_model_, spend, frame, horizon=self.horizon, time_unit="W",
                discount_rate=self.discount_rate, margin=self.margin, step=(1, "M"),
            ).to_numpy()
            _step(bar, "next best action")
            nba = next_best_action(out[["clv", "p_alive", "frequency", "T"]],
                                   default_action_table(cost_to_serve=float(self.cost_to_serve)))
            out["next_best_action"] = nba["action"].to_numpy()
            out["action_expected_value"] = nba["expected_value"].to_numpy()
            _step(bar, "done")
        out.index.name = self.customer_id_col
        return out[SCORE_COLUMNS]

    def fit_transform(
        self, transactions: pd.DataFrame, *, observation_period_end=None, after_end: str = "raise",
        progress: bool = False,
    ) -> pd.DataFrame:
        """``fit`` then ``transform`` on the same log.

        Parameters
        ----------
        transactions : pandas.DataFrame
            One row per purchase.
        observation_period_end, after_end
            As in :meth:`fit`.
        progress : bool
            Show progress bars on stderr.

        Returns
        -------
        pandas.DataFrame
            As :meth:`transform`.
        """
        self.fit(transactions, observation_period_end=observation_period_end, after_end=after_end, progress=progress)
        return self.transform(transactions, after_end=after_end, progress=progress)

    def explain(self, scores: pd.DataFrame, customer_id) -> CustomerExplanation:
        """One customer's P(alive) and expected purchases in plain words (:func:`crm_models.clv.explain_customer`).

        Parameters
        ----------
        scores : pandas.DataFrame
            A scores table from :meth:`transform` (or any summary with ``frequency``,
            ``recency`` and ``T`` in weeks), indexed by customer id.
        customer_id : hashable
            The customer.

        Returns
        -------
        crm_models.clv.CustomerExplanation
            The sentences (``str()``) and the numbers behind them (``.facts``); the horizon is
            ``purchase_horizon`` (else ``horizon``), the interval 80%.

        Examples
        --------
        >>> from crm_models.datasets import load_cdnow
        >>> log = load_cdnow()
        >>> scorer = CustomerScorer(purchase_horizon=(13, "W")).fit(log)
        >>> print(scorer.explain(scorer.transform(log), 4))
        Bought 4 times (3 repeat purchases); silent for 28.6 weeks, against a typical gap of 16.4 weeks between purchases, so MBG/NBD puts P(alive) at 0.63. Expected 0.33 purchases in the next 13 weeks (80% interval 0 to 1, which holds 94% of the probability).
        """
        self._check_fitted()
        horizon = self.purchase_horizon if self.purchase_horizon is not None else self.horizon
        return explain_customer(self.transaction_model_, scores, customer_id, horizon=horizon, time_unit="W")

    def summary(self) -> Summary:
        """The fitted models' parameters with standard errors, and the scoring settings.

        Returns
        -------
        Summary
            One row per (model, parameter): ``estimate`` and ``std_err``.
        """
        self._check_fitted()
        rows = []
        chosen = _model_name(self.transaction_model_)
        for label, model in ((chosen, self.transaction_model_), ("Gamma-Gamma", self.spend_model_)):
            for name, value in model.params_.items():
                rows.append({"model": label, "parameter": name, "estimate": float(value),
                             "std_err": float(model.standard_errors_[name])})
        table = pd.DataFrame(rows).set_index(["model", "parameter"])
        stats = {
            "Customers": self.n_customers_,
            "Observation end": str(self.observation_period_end_.date()),
            "Horizon": str(as_duration(self.horizon)),
            "Discount rate": str(as_discount_rate(self.discount_rate)),
            "Margin": float(self.margin),
        }
        notes = [
            "Recency and T in weeks; purchases on the same calendar day count once.",
            f"P(alive) and expected purchases: {chosen}, fitted on every customer; "
            "spend per purchase: Gamma-Gamma (Fader & Hardie 2013), fitted on repeat buyers.",
            f"Transaction model: {self.model_choice_}",
            "CLV: expected margin over the horizon, each month's purchases discounted at the month's end.",
        ]
        return Summary("Customer scores: fitted models", table, stats, notes)

    # ------------------------------------------------------------------------- saving
    def _fitted_state(self) -> dict:
        return {
            "observation_period_end": self.observation_period_end_.isoformat(),
            "n_customers": self.n_customers_,
            "transaction_model": self.transaction_model_.to_dict(),
            "backtest": None if self.backtest_ is None else self.backtest_.to_dict(),
            "model_choice": self.model_choice_,
            "spend_model": self.spend_model_.to_dict(),
            "rfm_scorer": self.rfm_scorer_.to_dict(),
        }

    def _restore(self, fitted: FieldReader) -> None:
        text = fitted.string("observation_period_end")
        try:
            self.observation_period_end_ = pd.Timestamp(text)
        except ValueError:
            fitted.fail("observation_period_end", f"must be an ISO date, got {text!r}")
        self.n_customers_ = fitted.number("n_customers", integer=True, low=MIN_CUSTOMERS)
        self.transaction_model_ = fitted.estimator("transaction_model", ContinuousTimeModel)
        self.backtest_ = None if fitted.raw("backtest") is None else BacktestResult.from_dict(
            fitted.raw("backtest"), source=f"{fitted.source} (in {fitted.where('backtest')})")
        self.model_choice_ = fitted.string("model_choice")
        self.spend_model_ = fitted.estimator("spend_model", GammaGamma)
        self.rfm_scorer_ = fitted.estimator("rfm_scorer", RFMScorer)


_MODEL_NAMES = ("BG/NBD", "MBG/NBD", "Pareto/NBD")


def _model_name(model) -> str:
    return {"BetaGeo": "BG/NBD", "ModifiedBetaGeo": "MBG/NBD", "ParetoNBD": "Pareto/NBD"}[type(model).__name__]


def _choose_transaction_model(scorer: CustomerScorer, transactions, summary: pd.DataFrame, observation_period_end):
    """The fitted transaction model, the backtest behind the choice (or None) and the choice in words."""
    classes = {"BG/NBD": BetaGeo, "MBG/NBD": ModifiedBetaGeo, "Pareto/NBD": ParetoNBD}
    data = summary[_SUMMARY_COLUMNS]
    if scorer.transaction_model != "auto":
        name = scorer.transaction_model
        return classes[name]().fit(data), None, f"{name}, as set by transaction_model={name!r} (no backtest)."
    try:
        result = backtest(transactions, scorer.customer_id_col, scorer.datetime_col, scorer.monetary_value_col,
                          observation_period_end=observation_period_end, datetime_format=scorer.datetime_format)
        choice = select_model(result)
    except (ValueError, DataError, ConvergenceError) as exc:
        return ModifiedBetaGeo().fit(data), None, (
            f"MBG/NBD, the default when the log cannot be backtested ({exc}); unlike BG/NBD it does not count "
            "one-time buyers as surely alive.")
    return classes[choice.model]().fit(data), result, choice.reason


def _end_of(summary: pd.DataFrame, transactions, scorer: CustomerScorer, observation_period_end) -> pd.Timestamp:
    """The scoring date: the given end, or the day of the last purchase in the log."""
    if observation_period_end is not None:
        return parse_timestamp(observation_period_end, "observation_period_end", fmt=scorer.datetime_format).normalize()
    when = parse_datetimes(transactions, scorer.datetime_col, fmt=scorer.datetime_format, what="transactions")
    return when.max().normalize()


def score_customers(
    transactions: pd.DataFrame,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str = "amount",
    datetime_format: str | None = None,
    observation_period_end=None,
    horizon=(12, "M"),
    purchase_horizon=None,
    discount_rate=(0.10, "Y"),
    margin: float = 1.0,
    cost_to_serve: float = 0.0,
    transaction_model: str = "auto",
    progress: bool = False,
) -> pd.DataFrame:
    """Score every customer of a transaction log: ``CustomerScorer(...).fit_transform(...)``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase.
    customer_id_col, datetime_col, monetary_value_col, datetime_format
        As in :class:`CustomerScorer`.
    observation_period_end : date-like, optional
        The date scores are computed at; default the last purchase.
    horizon, purchase_horizon, discount_rate, margin, cost_to_serve, transaction_model
        As in :class:`CustomerScorer`.
    progress : bool
        Show progress bars on stderr.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id with the columns :data:`SCORE_COLUMNS`
        (see :meth:`CustomerScorer.transform`).

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> scores = score_customers(load_cdnow(), horizon=(6, "M"), margin=0.3)
    >>> list(scores.columns[-3:])
    ['clv', 'next_best_action', 'action_expected_value']
    """
    scorer = CustomerScorer(
        customer_id_col=customer_id_col,
        datetime_col=datetime_col,
        monetary_value_col=monetary_value_col,
        datetime_format=datetime_format,
        horizon=horizon,
        purchase_horizon=purchase_horizon,
        discount_rate=discount_rate,
        margin=margin,
        cost_to_serve=cost_to_serve,
        transaction_model=transaction_model,
    )
    return scorer.fit_transform(transactions, observation_period_end=observation_period_end, progress=progress)

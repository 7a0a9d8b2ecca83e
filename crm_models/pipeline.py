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
import warnings
from contextlib import nullcontext

import numpy as np
import pandas as pd

from crm_models._validation import check_number, parse_datetimes, parse_timestamp, require_columns
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

__all__ = ["CustomerScorer", "score_customers", "fit_with_fallback", "SCORE_COLUMNS", "FALLBACK_PENALIZERS"]

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

#: L2 penalties on the log-parameters tried in turn when plain maximum likelihood does not identify
#: a model on a small log (the smallest that converges is kept; the fit is refused if none does).
FALLBACK_PENALIZERS = (0.001, 0.01)


def fit_with_fallback(model, data: pd.DataFrame, label: str, **fit_params):
    """Fit ``model``; if the data do not identify it, fit it again with a small stated penalty.

    The rule: plain maximum likelihood first (``penalizer=0``, or the model's own penalizer);
    if it raises :class:`~crm_models.errors.ConvergenceError` (a parameter runs off to 0 or
    infinity, or the likelihood is flat at the optimum, as on a real log of a few dozen
    customers), each penalty of :data:`FALLBACK_PENALIZERS` is tried in turn and the first fit
    that converges is kept, with a ``UserWarning`` that says so; the fitted model's
    ``penalizer`` records it. If no penalty gives a converged fit with standard errors, the
    data cannot support the model and :class:`~crm_models.errors.ConvergenceError` is raised.

    Parameters
    ----------
    model : crm_models.clv.BaseModel
        An unfitted model (cloned, never modified).
    data : pandas.DataFrame
        What ``model.fit`` takes.
    label : str
        The model's name in messages (``"BG/NBD"``).
    **fit_params
        Passed to ``fit`` (e.g. ``weights_col``).

    Returns
    -------
    crm_models.clv.BaseModel
        The fitted clone; its ``penalizer`` is 0 unless the fallback was needed.

    Examples
    --------
    >>> from crm_models.clv import BetaGeo, simulate_beta_geo
    >>> data = simulate_beta_geo(500, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
    >>> fit_with_fallback(BetaGeo(), data, "BG/NBD").penalizer
    0.0
    """
    from sklearn.base import clone

    try:
        return clone(model).fit(data, **fit_params)
    except ConvergenceError as exc:
        reason = str(exc).split(". ")[0]
    for penalizer in FALLBACK_PENALIZERS:
        if penalizer <= float(model.penalizer):
            continue
        try:
            fitted = clone(model).set_params(penalizer=penalizer).fit(data, **fit_params)
        except ConvergenceError:
            continue
        warnings.warn(
            f"{label}: plain maximum likelihood does not identify the model on this log ({reason}); it was fitted "
            f"with an L2 penalty on the log-parameters, penalizer={penalizer} (estimates shrunk towards 1). Scores "
            "from a model the data barely identify are rough: treat them with care.",
            UserWarning,
            stacklevel=2,
        )
        return fitted
    raise ConvergenceError(
        f"{label} cannot be fitted to this log, even with an L2 penalty on the log-parameters (penalizer "
        f"{' or '.join(map(str, FALLBACK_PENALIZERS))}): {reason}. The log is too small or too irregular for the "
        "model; add customers or a longer period."
    )


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
    penalizers_ : dict of str to float
        The L2 penalty each model was fitted with (``transaction_model``, ``spend_model``): 0,
        or a value of :data:`FALLBACK_PENALIZERS` when the log was too small to identify the
        model without one (see :func:`fit_with_fallback`; a warning says so, and so do
        ``summary()`` and the report).

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
        check_number(self.margin, "margin", low=0, high=1, low_open=True, unit="share of spend kept as profit")
        check_number(self.cost_to_serve, "cost_to_serve", low=0, unit="money per customer over the horizon")
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
            end = _end_of(summary, transactions, self, observation_period_end)
            self._learn(summary, end, None, bar, transactions=transactions,
                        observation_period_end=observation_period_end)
        return self

    def fit_summary(self, summary: pd.DataFrame, *, observation_period_end, weights_col: str | None = None
                    ) -> CustomerScorer:
        """Learn from a customer summary instead of a log, e.g. a log's summary made elsewhere.

        The summary may be compressed: its unique rows with the number of customers each stands
        for (``weights_col``) teach exactly what the full summary teaches, so a summary of
        millions of customers computed in DuckDB or Spark is learned from on one machine
        (:func:`crm_models.spark.fit_scorer`).

        Parameters
        ----------
        summary : pandas.DataFrame
            ``frequency``, ``recency``, ``T`` (weeks, purchases de-duplicated per day, as from
            ``rfm_summary(..., time_unit="W")``) and ``monetary_value`` per customer (or per
            group of customers).
        observation_period_end : date-like
            The date the summary was computed at (scores are computed at it).
        weights_col : str, optional
            Column with the number of customers each row stands for.

        Returns
        -------
        CustomerScorer
            ``self``, fitted.

        Examples
        --------
        >>> from crm_models import rfm_summary
        >>> from crm_models.datasets import load_cdnow
        >>> summary = rfm_summary(load_cdnow())
        >>> counted = summary.value_counts().rename("n_customers").reset_index()
        >>> len(counted) < len(summary)
        True
        >>> a = CustomerScorer().fit_summary(counted, observation_period_end="1998-06-30", weights_col="n_customers")
        >>> b = CustomerScorer().fit(load_cdnow())
        >>> a.n_customers_ == b.n_customers_, bool(np.allclose(a.transaction_model_.params_, b.transaction_model_.params_))
        (True, True)
        """
        self._check_params()
        require_columns(summary, ["frequency", "recency", "T", "monetary_value"]
                        + ([weights_col] if weights_col is not None else []), what="summary")
        end = parse_timestamp(observation_period_end, "observation_period_end").normalize()
        return self._learn(summary, end, weights_col, None)

    def _learn(self, summary: pd.DataFrame, end: pd.Timestamp, weights_col: str | None, bar, *,
               transactions=None, observation_period_end=None) -> CustomerScorer:
        """Fit the models and the RFM edges on a summary (rows weighted by ``weights_col``); the
        transaction model is chosen by a backtest on ``transactions`` when the log is given."""
        weights = np.ones(len(summary)) if weights_col is None else summary[weights_col].to_numpy(dtype=float)
        n_customers = int(round(weights.sum()))
        if n_customers < MIN_CUSTOMERS:
            raise DataError(
                self.customer_id_col,
                f"holds {n_customers} customers; scoring needs at least {MIN_CUSTOMERS}",
                what="transactions",
            )
        _step(bar, "BG/NBD and Gamma-Gamma")
        is_repeat = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
        repeat = summary[is_repeat]
        n_repeat = int(round(weights[is_repeat.to_numpy()].sum()))
        if n_repeat < MIN_REPEAT_BUYERS:
            raise DataError(
                self.customer_id_col,
                f"has {n_repeat} customers who bought more than once with a positive amount; the spend "
                f"model (Gamma-Gamma) needs at least {MIN_REPEAT_BUYERS}",
                what="transactions",
            )
        w = [] if weights_col is None else [weights_col]
        # customers first seen on the last day (T = 0) add nothing to the likelihood; they are
        # scored as just-acquired customers
        self.transaction_model_, self.backtest_, self.model_choice_ = _choose_transaction_model(
            self, transactions, summary[_SUMMARY_COLUMNS + w], observation_period_end, weights_col)
        self.spend_model_ = fit_with_fallback(GammaGamma(), repeat[["frequency", "monetary_value"] + w], "Gamma-Gamma",
                                              weights_col=weights_col)
        _step(bar, "RFM edges")
        self.rfm_scorer_ = RFMScorer().fit(summary, weights_col=weights_col)
        self.observation_period_end_ = end
        self.n_customers_ = n_customers
        _step(bar, "done")
        return self

    @property
    def penalizers_(self) -> dict[str, float]:
        """The L2 penalty each model was fitted with: 0 for plain maximum likelihood, a value of
        :data:`FALLBACK_PENALIZERS` when the log was too small to identify the model without one."""
        self._check_fitted()
        return {"transaction_model": float(self.transaction_model_.penalizer),
                "spend_model": float(self.spend_model_.penalizer)}

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
        summary = self._summary(transactions, self.observation_period_end_, after_end)
        return self.score_summary(summary, progress=progress)

    def score_summary(self, summary: pd.DataFrame, *, progress: bool = False) -> pd.DataFrame:
        """Score customers from their summary as of ``observation_period_end_``, row by row.

        Each customer's scores depend only on their own row and the fitted models, so a summary
        too large for memory is scored in chunks with the same result
        (:func:`crm_models.scale.score_in_chunks`, :func:`crm_models.spark.score_spark`).

        Parameters
        ----------
        summary : pandas.DataFrame
            Indexed by customer id: ``frequency``, ``recency``, ``T`` (weeks) and
            ``monetary_value``, as ``rfm_summary(log, observation_period_end=scorer.observation_period_end_)``
            gives them.
        progress : bool
            Show a progress bar on stderr.

        Returns
        -------
        pandas.DataFrame
            As :meth:`transform`.

        Examples
        --------
        >>> from crm_models import rfm_summary
        >>> from crm_models.datasets import load_cdnow
        >>> scorer = CustomerScorer().fit(load_cdnow())
        >>> summary = rfm_summary(load_cdnow(), observation_period_end=scorer.observation_period_end_)
        >>> whole = scorer.score_summary(summary)
        >>> parts = pd.concat([scorer.score_summary(summary.iloc[:1000]), scorer.score_summary(summary.iloc[1000:])])
        >>> whole.equals(parts)
        True
        """
        self._check_fitted()
        horizon = as_duration(self.horizon, "horizon")
        purchase = as_duration(self.purchase_horizon, "purchase_horizon") if self.purchase_horizon else horizon
        with _progress(4, progress, "scoring customers") as bar:
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
            _refuse_non_finite(out, self)
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
        labels = {"transaction_model": "BG/NBD", "spend_model": "Gamma-Gamma"}
        for role, penalizer in self.penalizers_.items():
            stats[f"Penalizer ({labels[role]})"] = penalizer
            if penalizer > 0:
                notes.append(
                    f"Small data: plain maximum likelihood did not identify {labels[role]} on this log, so it was "
                    f"fitted with an L2 penalty on the log-parameters (penalizer={penalizer:g}; estimates shrunk "
                    "towards 1). Scores from a model the data barely identify are rough: treat them with care."
                )
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


def _choose_transaction_model(scorer: CustomerScorer, transactions, data: pd.DataFrame, observation_period_end,
                              weights_col: str | None = None):
    """The fitted transaction model, the backtest behind the choice (or None) and the choice in words.

    Each model is fitted by :func:`fit_with_fallback` (a stated small penalty when a small log
    does not identify it)."""
    classes = {"BG/NBD": BetaGeo, "MBG/NBD": ModifiedBetaGeo, "Pareto/NBD": ParetoNBD}

    def fitted(name):
        return fit_with_fallback(classes[name](), data, name, weights_col=weights_col)

    if scorer.transaction_model != "auto":
        name = scorer.transaction_model
        return fitted(name), None, f"{name}, as set by transaction_model={name!r} (no backtest)."
    if transactions is None:
        return fitted("MBG/NBD"), None, (
            "MBG/NBD, the default when there is no log to backtest (learned from a summary); unlike BG/NBD it "
            "does not count one-time buyers as surely alive.")
    try:
        result = backtest(transactions, scorer.customer_id_col, scorer.datetime_col, scorer.monetary_value_col,
                          observation_period_end=observation_period_end, datetime_format=scorer.datetime_format)
        choice = select_model(result)
    except (ValueError, DataError, ConvergenceError) as exc:
        return fitted("MBG/NBD"), None, (
            f"MBG/NBD, the default when the log cannot be backtested ({exc}); unlike BG/NBD it does not count "
            "one-time buyers as surely alive.")
    return fitted(choice.model), result, choice.reason


def _refuse_non_finite(out: pd.DataFrame, scorer: CustomerScorer) -> None:
    """Never a silent NaN: a model whose formulas give no finite score for some customers is refused."""
    for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        bad = ~np.isfinite(out[col].to_numpy(dtype=float))
        if bad.any():
            model = scorer.spend_model_ if col == "expected_spend" else scorer.transaction_model_
            params = ", ".join(f"{k}={v:.4g}" for k, v in model.params_.items())
            raise ConvergenceError(
                f"{type(model).__name__} ({params}) gives no finite {col} for {int(bad.sum()):,} of {len(out):,} "
                "customers: its parameters lie beyond what its formulas compute in floating point. Refit with a "
                "small penalizer (e.g. 0.001) or check the log."
            )


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

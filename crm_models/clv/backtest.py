"""Is the model right? Rolling-origin backtests of the transaction models against naive baselines.

"How do I know the model is accurate?" has one honest answer: pretend it is an earlier date,
fit on what was known then, predict the next period, and compare with what happened. Done at
several calibration cut-offs (a *rolling origin*), the comparison says how good the forecasts
are and how much that varies. :func:`backtest` does it in one call from a transaction log:

1. for each cut-off, :func:`crm_models.calibration_holdout_split` summarises the purchases up to
   the cut-off and counts what each customer did in the holdout period after it;
2. each candidate model (BG/NBD, MBG/NBD, Pareto/NBD, with Gamma-Gamma for spend) is fitted on
   the calibration summary and predicts every customer's holdout purchases, the probability of
   buying again in the holdout, and the holdout spend; so does each naive baseline:

   * ``past rate``: the customer's own repeat-purchase rate so far, x / T, times the holdout's
     length (buys again with probability 1 - exp(-prediction), as a Poisson count would);
   * ``RFM segment mean``: the mean, over the customer's RFM segment
     (:class:`crm_models.segment.RFMScorer` on the calibration summary), of what its members did in
     the last period of the holdout's length before the cut-off (purchases, spend, share who
     bought);
   * ``same as last period``: the customer's own purchases and spend in that last period (buys
     again if they bought then);

3. every prediction is scored against the holdout (:data:`METRICS`).

:func:`select_model` then picks a model by a stated criterion and says why
(:class:`ModelChoice`). The figures are in :mod:`crm_models.clv.plotting`
(``plot_backtest``, ``plot_reliability``, ``plot_gains``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from crm_models._validation import parse_datetimes, parse_timestamp, require_columns
from crm_models.base import Summary
from crm_models.errors import ConvergenceError, DataError
from crm_models.transactions import calibration_holdout_split
from crm_models.units import TIME_UNITS, Duration, as_duration, check_time_unit

__all__ = [
    "MODELS",
    "BASELINES",
    "METRICS",
    "BacktestResult",
    "ModelChoice",
    "backtest",
    "select_model",
    "roc_auc",
    "brier_score",
    "reliability_curve",
    "gains_table",
]

#: Candidate models by name: the class of :mod:`crm_models.clv` each name stands for.
MODELS = ("BG/NBD", "MBG/NBD", "Pareto/NBD")
#: The naive baselines every model must beat.
BASELINES = ("past rate", "RFM segment mean", "same as last period")
#: Metric -> (what it measures, whether higher is better).
METRICS: dict[str, tuple[str, bool]] = {
    "mae_purchases": ("mean absolute error of each customer's holdout purchases", False),
    "rmse_purchases": ("root mean squared error of each customer's holdout purchases", False),
    "mae_spend": ("mean absolute error of each customer's holdout spend (money)", False),
    "rmse_spend": ("root mean squared error of each customer's holdout spend (money)", False),
    "total_error_pct": ("aggregate tracking error: (predicted - actual) / actual holdout purchases, in %", False),
    "auc": ("area under the ROC curve of 'buys again in the holdout'", True),
    "brier": ("Brier score of 'buys again in the holdout' (mean squared error of the probability)", False),
    "spearman_value": ("rank correlation of predicted and actual holdout value (spend, else purchases)", True),
    "top_decile_lift": ("share of actual holdout value in the top predicted 10%, divided by 10%", True),
}


# ------------------------------------------------------------------------------- metrics
def roc_auc(bought, score) -> float:
    """Area under the ROC curve: the probability that a random buyer scores above a random non-buyer.

    Computed from ranks (Mann-Whitney U), ties counting one half.

    Parameters
    ----------
    bought : array_like of bool
        Whether each customer bought again.
    score : array_like of float
        The prediction (e.g. P(buys again)).

    Returns
    -------
    float
        AUC in [0, 1]; NaN when everyone (or no one) bought.

    Examples
    --------
    >>> roc_auc([True, False, True, False], [0.9, 0.8, 0.4, 0.1])
    0.75
    """
    y = np.asarray(bought, dtype=bool)
    s = np.asarray(score, dtype=float)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier_score(bought, probability) -> float:
    """Mean squared difference between predicted probabilities and what happened (0 is perfect).

    Parameters
    ----------
    bought : array_like of bool
        Whether each customer bought again.
    probability : array_like of float
        Predicted probability of buying again (0-1).

    Returns
    -------
    float

    Examples
    --------
    >>> brier_score([True, False], [0.8, 0.4])
    0.1
    """
    y = np.asarray(bought, dtype=float)
    p = np.asarray(probability, dtype=float)
    return float(np.mean((p - y) ** 2))


def reliability_curve(bought, probability, *, n_bins: int = 10) -> pd.DataFrame:
    """Calibration (reliability) curve: in each band of predicted probability, how many bought.

    A calibrated forecast has ``observed`` close to ``mean_predicted`` in every band.

    Parameters
    ----------
    bought : array_like of bool
        Whether each customer bought again.
    probability : array_like of float
        Predicted probability (0-1).
    n_bins : int
        Equal-width bands over [0, 1] (a probability of exactly 1 falls in the last one).

    Returns
    -------
    pandas.DataFrame
        One row per non-empty band (index ``bin`` 0..n_bins-1): ``lower`` and ``upper`` edges,
        ``n_customers``, ``mean_predicted`` and ``observed`` (share who bought).

    Examples
    --------
    >>> reliability_curve([1, 0, 1, 1], [0.1, 0.15, 0.7, 0.9], n_bins=2)
         lower  upper  n_customers  mean_predicted  observed
    bin
    0      0.0    0.5            2           0.125       0.5
    1      0.5    1.0            2           0.800       1.0
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive whole number, got {n_bins!r}")
    y = np.asarray(bought, dtype=float)
    p = np.asarray(probability, dtype=float)
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("probability must hold numbers in [0, 1]")
    b = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    n = np.bincount(b, minlength=n_bins)
    keep = n > 0
    mean_p = np.bincount(b, weights=p, minlength=n_bins)[keep] / n[keep]
    obs = np.bincount(b, weights=y, minlength=n_bins)[keep] / n[keep]
    idx = np.flatnonzero(keep)
    return pd.DataFrame({"lower": idx / n_bins, "upper": (idx + 1) / n_bins, "n_customers": n[keep],
                         "mean_predicted": mean_p, "observed": obs}, index=pd.Index(idx, name="bin"))


def gains_table(actual, predicted, *, n_groups: int = 10) -> pd.DataFrame:
    """Cumulative gains and lift: customers ranked by prediction, cut into equal groups.

    Parameters
    ----------
    actual : array_like of float
        What each customer actually brought (holdout spend or purchases).
    predicted : array_like of float
        The prediction used to rank them (highest first; ties keep the input order).
    n_groups : int
        Number of groups (10: deciles).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``group`` (1 = the highest predictions): ``share_of_customers`` (cumulative),
        ``share_of_value`` (cumulative share of the actual total) and ``lift`` (the group's share
        of value divided by its share of customers).

    Examples
    --------
    >>> gains_table([10, 0, 5, 5], [4, 3, 2, 1], n_groups=2)
           share_of_customers  share_of_value  lift
    group
    1                     0.5             0.5   1.0
    2                     1.0             1.0   1.0
    """
    y = np.asarray(actual, dtype=float)
    s = np.asarray(predicted, dtype=float)
    n = len(y)
    if n == 0:
        raise ValueError("gains_table needs at least one customer")
    order = np.argsort(-s, kind="stable")
    group = (np.arange(n) * n_groups) // n
    value = np.bincount(group, weights=y[order], minlength=n_groups)
    size = np.bincount(group, minlength=n_groups)
    total = y.sum()
    share_value = value / total if total > 0 else np.full(n_groups, np.nan)
    return pd.DataFrame({"share_of_customers": np.cumsum(size) / n, "share_of_value": np.cumsum(share_value),
                         "lift": share_value / (size / n)}, index=pd.Index(np.arange(1, n_groups + 1), name="group"))


def _score(actual_n, actual_value, pred_n, pred_value, p_buy, monetary: bool) -> dict:
    err = pred_n - actual_n
    bought = actual_n > 0
    out = {
        "mae_purchases": float(np.mean(np.abs(err))),
        "rmse_purchases": float(np.sqrt(np.mean(err**2))),
        "mae_spend": float("nan"),
        "rmse_spend": float("nan"),
        "total_error_pct": float(100 * err.sum() / actual_n.sum()) if actual_n.sum() > 0 else float("nan"),
        "auc": roc_auc(bought, p_buy),
        "brier": brier_score(bought, p_buy),
    }
    if monetary:
        e = pred_value - actual_value
        out["mae_spend"] = float(np.mean(np.abs(e)))
        out["rmse_spend"] = float(np.sqrt(np.mean(e**2)))
    v_true, v_pred = (actual_value, pred_value) if monetary else (actual_n, pred_n)
    rho = stats.spearmanr(v_pred, v_true).statistic if np.ptp(v_pred) > 0 and np.ptp(v_true) > 0 else np.nan
    out["spearman_value"] = float(rho)
    out["top_decile_lift"] = float(gains_table(v_true, v_pred)["lift"].iloc[0])
    return out


# -------------------------------------------------------------------------------- result
@dataclass
class BacktestResult:
    """What :func:`backtest` found: metrics per cut-off and model, and the curves behind them.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy: one row per (``cutoff``, ``model``) with ``kind`` ("model" or "baseline"),
        ``n_customers``, ``holdout_purchases`` (actual total) and every metric of :data:`METRICS`.
    reliability : pandas.DataFrame
        The reliability curves, one row per (``cutoff``, ``model``, ``bin``).
    gains : pandas.DataFrame
        The gains tables, one row per (``cutoff``, ``model``, ``group``).
    params : pandas.DataFrame
        The models' fitted parameters per (``cutoff``, ``model``, ``parameter``).
    holdout : crm_models.units.Duration
        Length of every holdout period.
    time_unit : str
        Unit of the calibration summaries (recency, T).
    notes : list of str
        What was done and anything that went wrong (a model that did not converge).

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> result = backtest(load_cdnow(), n_cutoffs=2)
    >>> result.cutoffs
    [Timestamp('1997-09-30 00:00:00'), Timestamp('1998-02-17 00:00:00')]
    >>> result.at("1998-02-17").loc[["MBG/NBD", "same as last period"], ["mae_purchases", "auc"]].round(3)
                         mae_purchases    auc
    model
    MBG/NBD                      0.391  0.809
    same as last period          0.402  0.719
    """

    table: pd.DataFrame
    reliability: pd.DataFrame
    gains: pd.DataFrame
    params: pd.DataFrame
    holdout: Duration
    time_unit: str
    notes: list[str] = field(default_factory=list)

    @property
    def cutoffs(self) -> list[pd.Timestamp]:
        """The calibration cut-offs, in order (each the last day of its calibration period)."""
        return sorted(self.table["cutoff"].unique().tolist())

    @property
    def models(self) -> list[str]:
        """The candidates and baselines scored, in the order of the table."""
        return list(dict.fromkeys(self.table["model"]))

    def at(self, cutoff) -> pd.DataFrame:
        """The tidy table of one cut-off: one row per model and baseline.

        Parameters
        ----------
        cutoff : date-like
            One of :attr:`cutoffs`.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``model``: ``kind``, ``n_customers``, ``holdout_purchases`` and the metrics.
        """
        when = pd.Timestamp(cutoff)
        rows = self.table[self.table["cutoff"] == when]
        if rows.empty:
            raise ValueError(f"no cut-off {when.date()}; the cut-offs are {[str(c.date()) for c in self.cutoffs]}")
        return rows.drop(columns="cutoff").set_index("model")

    @property
    def tables(self) -> dict[pd.Timestamp, pd.DataFrame]:
        """One tidy table per cut-off (:meth:`at`), keyed by cut-off."""
        return {c: self.at(c) for c in self.cutoffs}

    def pooled_reliability(self) -> pd.DataFrame:
        """The reliability curves pooled over cut-offs (each band weighted by its customers).

        Returns
        -------
        pandas.DataFrame
            Indexed by (``model``, ``bin``): ``lower``, ``upper``, ``n_customers`` (summed over
            cut-offs), ``mean_predicted`` and ``observed``.
        """
        r = self.reliability.assign(wp=self.reliability["mean_predicted"] * self.reliability["n_customers"],
                                    wo=self.reliability["observed"] * self.reliability["n_customers"])
        g = r.groupby(["model", "bin"], sort=False).agg(lower=("lower", "first"), upper=("upper", "first"),
                                                        n_customers=("n_customers", "sum"), wp=("wp", "sum"),
                                                        wo=("wo", "sum"))
        g["mean_predicted"] = g.pop("wp") / g["n_customers"]
        g["observed"] = g.pop("wo") / g["n_customers"]
        return g.sort_index(level="bin", sort_remaining=False)

    def pooled_gains(self) -> pd.DataFrame:
        """The gains tables averaged over cut-offs.

        Returns
        -------
        pandas.DataFrame
            Indexed by (``model``, ``group``): ``share_of_customers``, ``share_of_value`` and
            ``lift`` (means over cut-offs).
        """
        return self.gains.groupby(["model", "group"], sort=False)[["share_of_customers", "share_of_value",
                                                                   "lift"]].mean()

    def aggregate(self, alpha: float = 0.05) -> pd.DataFrame:
        """Every metric across cut-offs: mean, standard deviation and a t interval of the mean.

        Parameters
        ----------
        alpha : float
            1 - the coverage of the interval (0.05: 95%).

        Returns
        -------
        pandas.DataFrame
            Indexed by (``model``, ``metric``): ``mean``, ``std`` (across cut-offs), ``lower``,
            ``upper`` (mean -/+ t_{n-1} std / sqrt(n); NaN with one cut-off) and ``n_cutoffs``.
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        rows = []
        for model in self.models:
            sub = self.table[self.table["model"] == model]
            for metric in METRICS:
                v = sub[metric].to_numpy(dtype=float)
                v = v[np.isfinite(v)]
                n = len(v)
                mean = float(v.mean()) if n else float("nan")
                sd = float(v.std(ddof=1)) if n > 1 else float("nan")
                half = float(stats.t.ppf(1 - alpha / 2, n - 1) * sd / math.sqrt(n)) if n > 1 else float("nan")
                rows.append({"model": model, "metric": metric, "mean": mean, "std": sd, "lower": mean - half,
                             "upper": mean + half, "n_cutoffs": n})
        return pd.DataFrame(rows).set_index(["model", "metric"])

    def summary(self, alpha: float = 0.05, metrics: Sequence[str] | None = None) -> Summary:
        """The backtest at a glance: each metric's mean across cut-offs, with its interval.

        Parameters
        ----------
        alpha : float
            1 - the coverage of the intervals (0.05: 95%).
        metrics : sequence of str, optional
            Which metrics (default all of :data:`METRICS` that were computed).

        Returns
        -------
        crm_models.base.Summary
            One row per model and baseline, columns ``<metric>`` (mean) and
            ``<metric> interval`` ("lower to upper").
        """
        agg = self.aggregate(alpha)
        metrics = [m for m in (metrics or METRICS) if agg.xs(m, level="metric")["mean"].notna().any()]
        table = pd.DataFrame(index=pd.Index(self.models, name="model"))
        for m in metrics:
            a = agg.xs(m, level="metric").reindex(table.index)
            table[m] = a["mean"]
            table[f"{m} interval"] = [f"{lo:,.3f} to {hi:,.3f}" if np.isfinite(lo) else "-"
                                      for lo, hi in zip(a["lower"], a["upper"])]
        stats_ = {"Cut-offs": len(self.cutoffs), "Holdout": str(self.holdout),
                  "First cut-off": str(self.cutoffs[0].date()), "Last cut-off": str(self.cutoffs[-1].date())}
        level = f"{100 * (1 - alpha):g}%"
        notes = [f"Means across cut-offs; intervals: {level} t intervals of the mean (mean -/+ t sd / sqrt(n))."]
        notes += [f"{m}: {METRICS[m][0]} ({'higher' if METRICS[m][1] else 'lower'} is better)." for m in metrics]
        notes += self.notes
        return Summary("Backtest: holdout accuracy of each model and naive baseline", table, stats_, notes, digits=3)

    def __repr__(self) -> str:
        return repr(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    # ---------------------------------------------------------------------- persistence
    _FRAMES = {
        "table": ["cutoff", "model", "kind", "n_customers", "holdout_purchases", *METRICS],
        "reliability": ["cutoff", "model", "bin", "lower", "upper", "n_customers", "mean_predicted", "observed"],
        "gains": ["cutoff", "model", "group", "share_of_customers", "share_of_value", "lift"],
        "params": ["cutoff", "model", "parameter", "estimate"],
    }

    def to_dict(self) -> dict:
        """The result as plain data for crm_models' JSON format (cut-offs as ISO dates).

        Returns
        -------
        dict
            ``table``, ``reliability``, ``gains``, ``params`` (DataFrames), ``holdout`` (a
            ``(length, unit)`` tuple), ``time_unit`` and ``notes``.
        """
        frames = {}
        for name in self._FRAMES:
            f = getattr(self, name).reset_index(drop=True).copy()
            f["cutoff"] = [pd.Timestamp(c).date().isoformat() for c in f["cutoff"]]
            frames[name] = f
        return {**frames, "holdout": (float(self.holdout.length), self.holdout.unit), "time_unit": self.time_unit,
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, doc, *, source: str = "document") -> BacktestResult:
        """Rebuild a result from :meth:`to_dict` output (after a JSON round trip), checking every field.

        Parameters
        ----------
        doc : mapping
            The document.
        source : str
            Where it came from, for error messages.

        Returns
        -------
        BacktestResult
        """
        from crm_models.base import FieldReader, encode

        reader = FieldReader(encode(doc) if not _is_encoded(doc) else doc, "backtest", source)
        frames = {}
        for name, columns in cls._FRAMES.items():
            f = reader.frame(name, numeric=False, columns=columns)
            try:
                f["cutoff"] = pd.to_datetime(f["cutoff"], format="%Y-%m-%d")
            except (TypeError, ValueError):
                reader.fail(name, "must hold ISO dates in its 'cutoff' column")
            numeric = [c for c in columns if c not in ("cutoff", "model", "kind", "parameter")]
            try:
                f[numeric] = f[numeric].astype(float)
            except (TypeError, ValueError):
                reader.fail(name, f"must hold numbers in {numeric}")
            for c in ("n_customers", "bin", "group"):
                if c in f:
                    f[c] = f[c].astype("int64")
            frames[name] = f.reset_index(drop=True)
        kinds = set(frames["table"]["kind"])
        if not kinds <= {"model", "baseline"}:
            reader.fail("table", f"must have kind 'model' or 'baseline', got {sorted(kinds)}")
        holdout = reader.value("holdout")
        try:
            hold = as_duration(holdout, "holdout")
        except (TypeError, ValueError):
            reader.fail("holdout", f"must be a (length, unit) pair, got {holdout!r}")
        time_unit = reader.string("time_unit", choices=list(TIME_UNITS))
        notes = reader.value("notes")
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            reader.fail("notes", "must be a list of strings")
        return cls(holdout=hold, time_unit=time_unit, notes=notes, **frames)


def _is_encoded(doc) -> bool:
    """True when ``doc`` is already plain JSON data (its frames tagged ``$frame``)."""
    table = doc.get("table") if hasattr(doc, "get") else None
    return isinstance(table, dict) and "$frame" in table


@dataclass
class ModelChoice:
    """The model :func:`select_model` picked, by which criterion, and why.

    Parameters
    ----------
    model : str
        The chosen model's name (one of :data:`MODELS`).
    criterion : str
        The metric it was chosen by (one of :data:`METRICS`).
    table : pandas.DataFrame
        Every model and baseline with the criterion's ``mean`` and ``std`` across cut-offs,
        ``kind``, ``tied`` (within the tie margin of the best model) and ``rank``.
    reason : str
        The choice in words: the rule, the numbers, and how the model compares with the naive
        baselines.
    beats_baselines : bool
        Whether the chosen model's mean criterion is better than every baseline's.

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> choice = select_model(backtest(load_cdnow(), n_cutoffs=2))
    >>> choice.model, choice.beats_baselines
    ('MBG/NBD', True)
    """

    model: str
    criterion: str
    table: pd.DataFrame
    reason: str
    beats_baselines: bool

    def summary(self) -> Summary:
        """The choice as a table with the reason as a note.

        Returns
        -------
        crm_models.base.Summary
        """
        return Summary(f"Model choice: {self.model}", self.table, {"Criterion": self.criterion,
                                                                   "Chosen": self.model},
                       [self.reason], digits=3)

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return repr(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


# ------------------------------------------------------------------------------ backtest
def _model_class(name: str):
    from crm_models.clv import BetaGeo, ModifiedBetaGeo, ParetoNBD

    return {"BG/NBD": BetaGeo, "MBG/NBD": ModifiedBetaGeo, "Pareto/NBD": ParetoNBD}[name]


def _names(values, allowed, what: str) -> list[str]:
    values = [values] if isinstance(values, str) else list(values)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"{what} must be among {list(allowed)}, got {bad}")
    return values


def _cutoffs(first: pd.Timestamp, end: pd.Timestamp, holdout_days: int, cutoffs, n_cutoffs, fmt) -> list:
    if cutoffs is not None:
        out = sorted({parse_timestamp(c, "cutoffs", fmt=fmt).normalize() for c in cutoffs})
        if not out:
            raise ValueError("cutoffs must name at least one date")
        for c in out:
            if c <= first:
                raise ValueError(f"cut-off {c.date()} leaves no calibration period (the log starts {first.date()})")
            if c + pd.Timedelta(days=holdout_days) > end:
                raise ValueError(f"cut-off {c.date()} + the holdout ({holdout_days} days) runs past the end of the "
                                 f"log ({end.date()}): choose an earlier cut-off or a shorter holdout")
        return out
    if isinstance(n_cutoffs, bool) or not isinstance(n_cutoffs, (int, np.integer)) or n_cutoffs < 1:
        raise ValueError(f"n_cutoffs must be a positive whole number, got {n_cutoffs!r}")
    last = end - pd.Timedelta(days=holdout_days)
    earliest = first + pd.Timedelta(days=max(holdout_days, (end - first).days // 2))
    if last <= first:
        raise ValueError(f"the log ({first.date()} to {end.date()}) is too short for a holdout of {holdout_days} "
                         "days: pass a shorter holdout")
    if earliest >= last or n_cutoffs == 1:
        return [last]
    days = np.linspace(0, (last - earliest).days, n_cutoffs).round().astype(int)
    return sorted({earliest + pd.Timedelta(days=int(d)) for d in days})


def backtest(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str | None = "amount",
    *,
    cutoffs: Sequence | None = None,
    n_cutoffs: int = 4,
    holdout=None,
    observation_period_end=None,
    models: Sequence[str] = MODELS,
    baselines: Sequence[str] = BASELINES,
    time_unit: str = "W",
    datetime_format: str | None = None,
    n_bins: int = 10,
) -> BacktestResult:
    """Backtest the transaction models and naive baselines at several calibration cut-offs, in one call.

    See the module docstring for the procedure. Every cut-off is the last day of a calibration
    period; the holdout is the ``holdout`` that follows. Customers are those with a first
    purchase on or before the cut-off; purchases are de-duplicated per calendar day, as
    :func:`crm_models.rfm_summary` does.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log, one row per purchase.
    customer_id_col, datetime_col : str
        Columns of the customer id and of the purchase time.
    monetary_value_col : str or None
        Column of the amount (money); ``None`` for a log without amounts (no spend metrics).
    cutoffs : sequence of date-like, optional
        The calibration cut-offs. Default: ``n_cutoffs`` evenly spaced dates from half-way
        through the log (at least one holdout after its start) to one holdout before its end.
    n_cutoffs : int
        Number of automatic cut-offs.
    holdout : tuple of (float, str), optional
        Length of each holdout period, a whole number of days, e.g. ``(13, "W")``. Default: a
        quarter of the log's span, in whole weeks.
    observation_period_end : date-like, optional
        Last day of the log to use (default: the last purchase).
    models : sequence of str
        Candidates among :data:`MODELS`.
    baselines : sequence of str
        Baselines among :data:`BASELINES`.
    time_unit : str
        Unit of recency and T in the calibration summaries (a code of
        :data:`crm_models.units.TIME_UNITS`).
    datetime_format : str, optional
        strptime format of the date column when it is text.
    n_bins : int
        Bands of the reliability curves.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> result = backtest(load_cdnow(), cutoffs=["1997-09-30"], holdout=(39, "W"))
    >>> result.at("1997-09-30")["mae_purchases"].round(3)
    model
    BG/NBD                 0.785
    MBG/NBD                0.765
    Pareto/NBD             0.755
    past rate              1.024
    RFM segment mean       1.012
    same as last period    0.897
    Name: mae_purchases, dtype: float64
    """
    models = _names(models, MODELS, "models")
    baselines = _names(baselines, BASELINES, "baselines")
    if not models and not baselines:
        raise ValueError("backtest needs at least one model or baseline")
    unit = TIME_UNITS[check_time_unit(time_unit)]
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}")
    require_columns(transactions, [customer_id_col, datetime_col, monetary_value_col], what="transactions")
    monetary = monetary_value_col is not None
    full = calibration_holdout_split  # the one definition of calibration and holdout
    when = parse_datetimes(transactions, datetime_col, fmt=datetime_format, what="transactions")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    if len(when) == 0:
        raise DataError(None, "is empty: a backtest needs purchases", what="transactions")
    first = when.min().normalize()
    end = when.max().normalize() if observation_period_end is None else parse_timestamp(
        observation_period_end, "observation_period_end", fmt=datetime_format).normalize()
    if holdout is None:
        holdout = (max(1, int(((end - first).days / 4) // 7)), "W")
    hold = as_duration(holdout, "holdout")
    if hold.days != int(hold.days):
        raise ValueError(f"holdout must be a whole number of days, got {hold}")
    hdays = int(hold.days)
    cuts = _cutoffs(first, end, hdays, cutoffs, n_cutoffs, datetime_format)
    log = transactions
    if not pd.api.types.is_datetime64_any_dtype(transactions[datetime_col]) or datetime_format is not None:
        log = transactions.assign(**{datetime_col: when})  # parse the dates once for every split

    rows, curves, gains, params, notes = [], [], [], [], []
    previous: dict[str, pd.Series] = {}
    for cut in cuts:
        obs = cut + pd.Timedelta(days=hdays)
        split = full(log, customer_id_col, datetime_col, calibration_period_end=cut, observation_period_end=obs,
                     monetary_value_col=monetary_value_col, time_unit=time_unit, after_end="drop")
        t = float(split["duration_holdout"].iloc[0])
        cal = pd.DataFrame({"frequency": split["frequency_cal"], "recency": split["recency_cal"],
                            "T": split["T_cal"]}, index=split.index)
        cal["monetary_value"] = split["monetary_value_cal"] if monetary else 0.0
        actual_n = split["frequency_holdout"].to_numpy(dtype=float)
        actual_v = (split["frequency_holdout"] * split["monetary_value_holdout"]).to_numpy() if monetary \
            else np.zeros(len(split))
        preds = {}
        spend_pp = _spend_per_purchase(cal, monetary, notes, cut)
        for name in models:
            cls = _model_class(name)
            try:
                model = cls().fit(cal[["frequency", "recency", "T"]], initial_params=previous.get(name))
            except ConvergenceError as exc:
                notes.append(f"{cut.date()}: {name} did not converge and is left out ({exc}).")
                continue
            previous[name] = model.params_
            frame = cal[["frequency", "recency", "T"]]
            e = model.expected_purchases(frame, t).to_numpy()
            p_buy = 1 - model.probability_no_purchase(frame, t).to_numpy()
            preds[name] = ("model", e, e * spend_pp, p_buy)
            params.extend({"cutoff": cut, "model": name, "parameter": k, "estimate": float(v)}
                          for k, v in model.params_.items())
        if baselines:
            preds.update(_baselines(baselines, log, split, cal, cut, hdays, t, first, customer_id_col, datetime_col,
                                    monetary_value_col, time_unit, spend_pp))
        for name, (kind, e, v, p_buy) in preds.items():
            row = {"cutoff": cut, "model": name, "kind": kind, "n_customers": len(cal),
                   "holdout_purchases": float(actual_n.sum())}
            row.update(_score(actual_n, actual_v, e, v, np.clip(p_buy, 0.0, 1.0), monetary))
            rows.append(row)
            rc = reliability_curve(actual_n > 0, np.clip(p_buy, 0.0, 1.0), n_bins=n_bins).reset_index()
            curves.append(rc.assign(cutoff=cut, model=name))
            g = gains_table(actual_v if monetary else actual_n, v if monetary else e).reset_index()
            gains.append(g.assign(cutoff=cut, model=name))
    table = pd.DataFrame(rows)
    table["kind"] = table["kind"].astype(str)
    notes.insert(0, f"{len(cuts)} cut-off(s), each followed by a holdout of {hold}; recency and T in "
                    f"'{time_unit}'; purchases de-duplicated per calendar day.")
    order = ["cutoff", "model", "bin"]
    return BacktestResult(
        table=table,
        reliability=pd.concat(curves, ignore_index=True)[order + ["lower", "upper", "n_customers", "mean_predicted",
                                                                  "observed"]],
        gains=pd.concat(gains, ignore_index=True)[["cutoff", "model", "group", "share_of_customers",
                                                   "share_of_value", "lift"]],
        params=pd.DataFrame(params, columns=["cutoff", "model", "parameter", "estimate"]),
        holdout=hold,
        time_unit=time_unit,
        notes=notes,
    )


def _spend_per_purchase(cal: pd.DataFrame, monetary: bool, notes: list, cut) -> np.ndarray:
    """Gamma-Gamma expected spend per purchase on the calibration summary (the population mean
    of repeat spend if the spend model cannot be fitted)."""
    if not monetary:
        return np.zeros(len(cal))
    from crm_models.clv import GammaGamma

    data = cal[["frequency", "monetary_value"]].copy()
    data.loc[data["monetary_value"] <= 0, "frequency"] = 0  # free repeat purchases carry no spend
    repeaters = data[data["frequency"] > 0]
    try:
        if len(repeaters) < 10:
            raise ConvergenceError("fewer than 10 repeat buyers with a positive amount")
        return GammaGamma().fit(repeaters).expected_spend(data).to_numpy()
    except (ConvergenceError, ValueError) as exc:
        notes.append(f"{cut.date()}: Gamma-Gamma could not be fitted ({exc}); spend per purchase is the mean of "
                     "repeat purchases.")
        mean = float(repeaters["monetary_value"].mean()) if len(repeaters) else 0.0
        return np.full(len(cal), mean)


def _baselines(names, log, split, cal, cut, hdays, t, first, customer_id_col, datetime_col, monetary_value_col,
               time_unit, spend_pp) -> dict:
    """Predictions of the naive baselines for the customers of ``split``."""
    monetary = monetary_value_col is not None
    x, T = cal["frequency"].to_numpy(dtype=float), cal["T"].to_numpy(dtype=float)
    out = {}
    # the last period of the holdout's length before the cut-off: purchases and spend per customer
    start = cut - pd.Timedelta(days=hdays)
    last_n = cal["frequency"].astype(float).copy()  # customers acquired in that period: their whole history
    last_v = (cal["frequency"] * cal["monetary_value"]).astype(float)
    if start >= first:
        prev = calibration_holdout_split(log, customer_id_col, datetime_col, calibration_period_end=start,
                                         observation_period_end=cut, monetary_value_col=monetary_value_col,
                                         time_unit=time_unit, after_end="drop")
        last_n.loc[prev.index] = prev["frequency_holdout"].astype(float)
        if monetary:
            last_v.loc[prev.index] = (prev["frequency_holdout"] * prev["monetary_value_holdout"]).astype(float)
    if "past rate" in names:
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.where(T > 0, x / T * t, 0.0)
        out["past rate"] = ("baseline", e, e * spend_pp, 1 - np.exp(-e))
    if "RFM segment mean" in names:
        from crm_models.segment import RFMScorer

        segment = RFMScorer().fit(cal).transform(cal)["segment"].astype(str)
        frame = pd.DataFrame({"segment": segment.to_numpy(), "n": last_n.to_numpy(), "v": last_v.to_numpy(),
                              "bought": (last_n.to_numpy() > 0).astype(float)})
        means = frame.groupby("segment")[["n", "v", "bought"]].transform("mean")
        out["RFM segment mean"] = ("baseline", means["n"].to_numpy(), means["v"].to_numpy(), means["bought"].to_numpy())
    if "same as last period" in names:
        n = last_n.to_numpy()
        out["same as last period"] = ("baseline", n, last_v.to_numpy(), (n > 0).astype(float))
    return {k: out[k] for k in names}


# ------------------------------------------------------------------------------- choice
def select_model(
    result: BacktestResult,
    criterion: str = "mae_purchases",
    *,
    prefer: Sequence[str] = ("MBG/NBD", "Pareto/NBD", "BG/NBD"),
) -> ModelChoice:
    """Pick a transaction model from a backtest by a stated criterion, and say why.

    The rule: the model with the best mean ``criterion`` across cut-offs, except that models
    within one standard error of the best (the standard deviation across cut-offs of the
    difference from the best, divided by sqrt(number of cut-offs)) are taken as tied, and a tie
    goes to the first of ``prefer``. The default order puts BG/NBD last because BG/NBD assumes that
    a customer can drop out only right after a repeat purchase, so it reports every one-time buyer
    as surely alive (P(alive) = 1) however long ago they bought; MBG/NBD and Pareto/NBD do not.

    Parameters
    ----------
    result : BacktestResult
        A backtest with at least one model.
    criterion : str
        A metric of :data:`METRICS` (for ``total_error_pct`` its absolute value is compared).
    prefer : sequence of str
        Tie-breaking order of the models.

    Returns
    -------
    ModelChoice

    Examples
    --------
    >>> from crm_models.datasets import load_cdnow
    >>> result = backtest(load_cdnow(), n_cutoffs=2)
    >>> print(select_model(result, "brier").model)
    MBG/NBD
    """
    if not isinstance(result, BacktestResult):
        raise TypeError(f"result must be a BacktestResult (from backtest), got {type(result).__name__}")
    if criterion not in METRICS:
        raise ValueError(f"criterion must be one of {list(METRICS)}, got {criterion!r}")
    higher = METRICS[criterion][1]
    tab = result.table.pivot(index="cutoff", columns="model", values=criterion)
    if criterion == "total_error_pct":
        tab = tab.abs()
    kind = result.table.drop_duplicates("model").set_index("model")["kind"]
    candidates = [m for m in result.models if kind[m] == "model" and tab[m].notna().all()]
    if not candidates:
        raise ValueError(f"the backtest has no model with a {criterion} at every cut-off")
    sign = -1.0 if higher else 1.0  # work with "lower is better"
    loss = sign * tab
    mean = loss.mean()
    best = min(candidates, key=lambda m: mean[m])
    n = len(tab)
    tied = []
    for m in candidates:
        diff = (loss[m] - loss[best]).to_numpy()
        se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
        if m == best or mean[m] - mean[best] <= se:
            tied.append(m)
    order = [m for m in prefer if m in tied] + [m for m in tied if m not in prefer]
    chosen = order[0]
    table = pd.DataFrame({"kind": kind.reindex(tab.columns), "mean": sign * mean, "std": tab.std(ddof=1)})
    table = table.reindex(result.models)
    table["tied"] = table.index.isin(tied)
    table["rank"] = (sign * table["mean"]).rank(method="min").astype("Int64")
    table.index.name = "model"
    label = f"|{criterion}|" if criterion == "total_error_pct" else criterion
    better = "higher" if higher else "lower"
    fmt = "{:,.4g}"
    reason = (f"{chosen} chosen by {label} ({better} is better), averaged over {n} backtest cut-off(s): "
              f"{fmt.format(sign * mean[chosen])}")
    if chosen != best:
        reason += (f"; {best} scored {fmt.format(sign * mean[best])}, within one standard error, so the tie goes to "
                   f"{chosen} by the stated preference ({', '.join(prefer)})")
    elif len(tied) > 1:
        reason += f" (best; {', '.join(m for m in tied if m != chosen)} within one standard error)"
    baselines = [m for m in result.models if kind[m] == "baseline" and tab[m].notna().all()]
    beats = all(mean[chosen] < mean[b] for b in baselines)
    if baselines:
        best_base = min(baselines, key=lambda m: mean[m])
        gap = mean[best_base] - mean[chosen]
        rel = abs(gap / mean[best_base]) if mean[best_base] != 0 else float("nan")
        if beats:
            reason += (f". It beats every naive baseline: the best of them, {best_base}, scored "
                       f"{fmt.format(sign * mean[best_base])} ({rel:.0%} worse).")
        else:
            reason += (f". Warning: it does not beat every naive baseline ({best_base} scored "
                       f"{fmt.format(sign * mean[best_base])}); do not trust its forecasts more than that baseline's.")
    if chosen != "BG/NBD" and "BG/NBD" in candidates:
        reason += " Unlike BG/NBD, it does not report every one-time buyer as surely alive."
    return ModelChoice(model=chosen, criterion=criterion, table=table, reason=reason, beats_baselines=bool(beats))

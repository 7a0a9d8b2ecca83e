"""How regular are a customer base's purchases? The Wheat & Morrison (1990) statistic, as BTYDplus offers it.

Wheat, R. D. and Morrison, D. G. (1990), "Estimating purchase regularity with two interpurchase
times", *Journal of Marketing Research* 27(1), 87-93; implementation as BTYDplus's
``estimateRegularity(method = "wheat")``.

If a customer's inter-purchase times are gamma(k, lambda) with a shape k shared by everybody
(whatever each one's rate lambda), then for two consecutive inter-purchase times ITT_1, ITT_2
the ratio M = ITT_1 / (ITT_1 + ITT_2) is beta(k, k), free of lambda. Its variance is
1 / (4 (2k + 1)), so

    k = (1 - 4 Var(M)) / (8 Var(M)).

k close to 1 supports Poisson purchasing (exponential inter-purchase times: BG/NBD, Pareto/NBD);
k clearly above 1 means regular buying, for which the Erlang-k models
(:class:`~crm_models.clv.BetaGeoCNBD`, :class:`~crm_models.clv.ModifiedBetaGeoCNBD`) are made.
As in BTYDplus, each customer with at least three purchase days contributes one M from their last
two inter-purchase times, the numerator drawn at random between the two (``random_state``).
Purchases are de-duplicated per calendar day, as :func:`crm_models.rfm_summary` does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_datetimes, require_columns
from crm_models.base import as_generator
from crm_models.errors import DataError

__all__ = ["wheat_morrison_statistic", "estimate_regularity", "normalized_interpurchase_times"]


def _purchase_days(transactions, customer_id_col, datetime_col, datetime_format) -> pd.DataFrame:
    what = "transactions"
    require_columns(transactions, [customer_id_col, datetime_col], what=what)
    if len(transactions) == 0:
        raise DataError(None, "is empty: there is no purchase to look at", what=what)
    fail_rows(transactions, transactions[customer_id_col].isna(), customer_id_col, "must not be missing", what=what)
    when = parse_datetimes(transactions, datetime_col, fmt=datetime_format, what=what)
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    days = pd.DataFrame({"id": transactions[customer_id_col].to_numpy(), "day": when.dt.floor("D").to_numpy()})
    days = days.drop_duplicates().sort_values(["id", "day"], kind="stable")
    days["gap"] = days.groupby("id", sort=False)["day"].diff().dt.total_seconds() / 86400.0
    return days


def _too_few(customer_id_col, needed: int) -> DataError:
    return DataError(
        customer_id_col, f"needs customers with at least {needed} purchase days", what="transactions",
        message=f"transactions has no customer with at least {needed} purchase days (on distinct calendar days): "
        "there is no pair of inter-purchase times to measure regularity with.",
        hint="Use a longer transaction log, or a coarser question (rfm_summary's frequency shows how many repeat "
        "purchases customers make).",
    )


def wheat_morrison_statistic(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    *,
    random_state=0,
    datetime_format: str | None = None,
) -> pd.Series:
    """M = ITT_1 / (ITT_1 + ITT_2) from each customer's last two inter-purchase times.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase.
    customer_id_col, datetime_col : str
        Columns of the customer id and of the time of each purchase.
    random_state : None, int or numpy.random.Generator
        Which of the two times is the numerator is drawn at random, as in BTYDplus.
    datetime_format : str, optional
        strptime format of ``datetime_col`` when it is text.

    Returns
    -------
    pandas.Series
        ``M`` (0-1) indexed by customer id, for the customers with at least three purchase days
        (beta(k, k) under gamma(k) inter-purchase times: flat for k = 1, peaked at 1/2 for
        regular buyers).

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 2, 2],
    ...                     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22",
    ...                                                  "2024-01-01", "2024-01-03", "2024-01-10", "2024-01-17"])})
    >>> wheat_morrison_statistic(log).round(3).to_dict()
    {1: 0.333, 2: 0.5}
    """
    days = _purchase_days(transactions, customer_id_col, datetime_col, datetime_format)
    last = days.dropna(subset=["gap"]).groupby("id", sort=True)["gap"].agg(
        last=lambda g: g.iloc[-1], previous=lambda g: g.iloc[-2] if len(g) > 1 else np.nan)
    last = last.dropna()
    if last.empty:
        raise _too_few(customer_id_col, 3)
    rng = as_generator(random_state)
    pick_last = rng.random(len(last)) < 0.5
    num = np.where(pick_last, last["last"].to_numpy(), last["previous"].to_numpy())
    m = num / (last["last"].to_numpy() + last["previous"].to_numpy())
    return pd.Series(m, index=last.index.rename(customer_id_col), name="M")


def estimate_regularity(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    *,
    random_state=0,
    datetime_format: str | None = None,
) -> float:
    """The Wheat & Morrison (1990) estimate of the gamma shape k of inter-purchase times.

    k = (1 - 4 Var(M)) / (8 Var(M)) over the customers' M (:func:`wheat_morrison_statistic`;
    the sample variance, with n - 1, as BTYDplus computes it). About 1 for Poisson purchasing,
    above 1 for regular buyers.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase.
    customer_id_col, datetime_col : str
        Columns of the customer id and of the time of each purchase.
    random_state : None, int or numpy.random.Generator
        Seed of the draw of each M's numerator.
    datetime_format : str, optional
        strptime format of ``datetime_col`` when it is text.

    Returns
    -------
    float
        The estimated regularity k.

    Examples
    --------
    >>> from crm_models.clv import simulate_beta_geo_cnbd_log
    >>> log = simulate_beta_geo_cnbd_log(3000, {"k": 3, "r": 4.0, "alpha": 8.0, "a": 0.3, "b": 20.0},
    ...                                  "2024-01-01", "2024-03-31", "2025-12-31")
    >>> round(estimate_regularity(log), 1)
    3.0
    """
    m = wheat_morrison_statistic(transactions, customer_id_col, datetime_col, random_state=random_state,
                                 datetime_format=datetime_format)
    if len(m) < 2 or float(m.var()) == 0.0:
        raise _too_few(customer_id_col, 3)
    v = float(m.var(ddof=1))
    return (1.0 - 4.0 * v) / (8.0 * v)


def normalized_interpurchase_times(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    *,
    min_intervals: int = 2,
    datetime_format: str | None = None,
) -> pd.Series:
    """Each inter-purchase time divided by its customer's mean inter-purchase time.

    Dividing by the customer's own mean removes the differences in purchase rate between
    customers, so the pooled histogram shows the *shape* of the inter-purchase times: close to
    the exponential density e^-x for Poisson purchasing, to the gamma(k, k) density for Erlang-k
    buyers (peaked around 1, fewer very short gaps). Purchases are de-duplicated per day.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase.
    customer_id_col, datetime_col : str
        Columns of the customer id and of the time of each purchase.
    min_intervals : int
        Only customers with at least this many inter-purchase times count (>= 2).
    datetime_format : str, optional
        strptime format of ``datetime_col`` when it is text.

    Returns
    -------
    pandas.Series
        ``normalized_interpurchase_time`` (mean 1 per customer), indexed by customer id (one
        entry per inter-purchase time).

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 1],
    ...                     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22"])})
    >>> normalized_interpurchase_times(log).round(3).tolist()
    [0.667, 1.333]
    """
    if isinstance(min_intervals, bool) or not isinstance(min_intervals, (int, np.integer)) or min_intervals < 2:
        raise ValueError(f"min_intervals must be a whole number >= 2, got {min_intervals!r}")
    days = _purchase_days(transactions, customer_id_col, datetime_col, datetime_format).dropna(subset=["gap"])
    count = days.groupby("id")["gap"].transform("size")
    days = days[count >= min_intervals]
    if days.empty:
        raise _too_few(customer_id_col, min_intervals + 1)
    norm = days["gap"] / days.groupby("id")["gap"].transform("mean")
    return pd.Series(norm.to_numpy(), index=pd.Index(days["id"].to_numpy(), name=customer_id_col),
                     name="normalized_interpurchase_time")

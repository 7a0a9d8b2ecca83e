"""Customers won, won back, grown, stable, declined and lost between two periods; retention and churn.

Periods are half-open intervals ``[start, end)`` of timestamps: a purchase on ``end`` belongs
to the next period. A customer is *active* in a period if they have at least one transaction in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows
from crm_models.base import Summary
from crm_models.errors import DataError
from crm_models.measure._common import period, series_of, transactions_frame
from crm_models.units import as_duration

__all__ = ["STATUSES", "CustomerMovement", "customer_movement", "retention_rate", "churn_rate"]

#: The statuses :func:`customer_movement` assigns, in reporting order.
STATUSES = ("won", "won back", "grown", "stable", "declined", "lost")


@dataclass
class CustomerMovement:
    """Result of :func:`customer_movement`.

    Parameters
    ----------
    customers : pandas.DataFrame
        Indexed by customer id: ``status`` (one of :data:`STATUSES`), ``first_purchase`` and
        ``last_purchase``, ``n_before`` / ``n_after`` (transactions in each period),
        ``spend_before`` / ``spend_after`` (USD in each period) and ``rate_before`` /
        ``rate_after`` (USD per day).
    definitions : dict
        The rules used, in words, so reports can quote them.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [100.0, 300.0, 80.0, 40.0],
    ...                     "timestamp": pd.to_datetime(["2024-02-01", "2024-08-01", "2024-03-01", "2024-11-11"])})
    >>> customer_movement(log, ("2024-01-01", "2024-07-01"), ("2024-07-01", "2025-01-01"))
    CustomerMovement(base=2, won=1, won_back=0, grown=1, lost=1, retention_rate=0.500)
    """

    customers: pd.DataFrame
    definitions: dict = field(default_factory=dict)

    @property
    def counts(self) -> pd.Series:
        """Number of customers in each status (all statuses listed, zeros included)."""
        return self.customers["status"].value_counts().reindex(list(STATUSES), fill_value=0).rename("customers")

    @property
    def base(self) -> int:
        """Customers active in the first period (the base retention is measured on)."""
        return int(self.customers["status"].isin(["grown", "stable", "declined", "lost"]).sum())

    @property
    def retained(self) -> int:
        """Customers of the base who are not lost."""
        return self.base - int(self.counts["lost"])

    @property
    def retention_rate(self) -> float:
        """retained / base (0-1); raises :class:`~crm_models.errors.DataError` if the base is empty rather than return NaN."""
        if self.base == 0:
            raise DataError(None, "has no customer active in the first period, so retention is undefined",
                            what="transactions")
        return self.retained / self.base

    @property
    def churn_rate(self) -> float:
        """lost / base = 1 - retention rate (0-1)."""
        return 1.0 - self.retention_rate

    def summary(self) -> Summary:
        """Customers and spend per status, with the base and the retention and churn rates.

        Returns
        -------
        crm_models.base.Summary
            Table indexed by status: ``customers``, ``spend_before``, ``spend_after`` and
            ``spend_change`` (USD); ``stats``: ``base``, ``retained``, ``retention rate`` and
            ``churn rate`` (0-1; the text ``"undefined"`` when the base is empty); the
            definitions as notes.

        Examples
        --------
        >>> log = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [100.0, 300.0, 80.0, 40.0],
        ...                     "timestamp": pd.to_datetime(["2024-02-01", "2024-08-01", "2024-03-01", "2024-11-11"])})
        >>> m = customer_movement(log, ("2024-01-01", "2024-07-01"), ("2024-07-01", "2025-01-01"))
        >>> m.summary().stats["retention rate"]
        0.5
        >>> m.summary().to_frame().loc[["won", "grown", "lost"]]
                customers  spend_before  spend_after  spend_change
        status                                                    
        won             1           0.0         40.0          40.0
        grown           1         100.0        300.0         200.0
        lost            1          80.0          0.0         -80.0
        """
        g = self.customers.groupby("status", observed=False)
        tab = pd.DataFrame(
            {
                "customers": self.counts,
                "spend_before": g["spend_before"].sum().reindex(list(STATUSES), fill_value=0.0),
                "spend_after": g["spend_after"].sum().reindex(list(STATUSES), fill_value=0.0),
            }
        )
        tab["spend_change"] = tab["spend_after"] - tab["spend_before"]
        tab.index.name = "status"
        if self.base:
            rates = {"retention rate": self.retention_rate, "churn rate": self.churn_rate}
        else:
            rates = {"retention rate": "undefined", "churn rate": "undefined"}
        stats = {"base": self.base, "retained": self.retained, **rates}
        notes = [f"{k}: {v}" for k, v in self.definitions.items()]
        return Summary("Customer movement", tab, stats, notes, digits=2)

    def __repr__(self) -> str:
        c = self.counts
        rate = f"{self.retention_rate:.3f}" if self.base else "undefined"
        return (
            f"CustomerMovement(base={self.base}, won={c['won']}, won_back={c['won back']}, grown={c['grown']}, "
            f"lost={c['lost']}, retention_rate={rate})"
        )

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def customer_movement(
    transactions: pd.DataFrame,
    before: tuple,
    after: tuple,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str | None = "amount",
    lost_by: str = "inactivity",
    inactivity: tuple[float, str] | None = None,
    p_alive: pd.Series | None = None,
    p_alive_threshold: float = 0.5,
    growth_threshold: float = 0.1,
) -> CustomerMovement:
    """Customers won, won back, grown, stable, declined and lost between two periods.

    Definitions (periods are ``[start, end)``; the *base* is every customer active in ``before``):

    - **won**: first purchase ever falls in ``after`` (a new customer).
    - **won back**: bought before ``after`` started but not during ``before``, and again in ``after``.
    - **lost**, by ``lost_by``:

      - ``"inactivity"``: a base customer whose last purchase before ``after``'s end is more than
        ``inactivity`` before that end. The default window is the length of ``after``, so lost
        then means "no purchase in the second period".
      - ``"p_alive"``: a base customer whose probability of being alive (``p_alive``, evaluated
        at the end of ``after``) is below ``p_alive_threshold``.

    - **grown / declined / stable**: base customers not lost, comparing spend per day in the two
      periods (so unequal lengths compare fairly): grown if the rate rose by more than
      ``growth_threshold`` (0.1 = 10%), declined if it fell by more than that, stable otherwise.

    Customers active in neither period are left out.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    before, after : (start, end) pairs of dates
        The two periods; ``after`` must not start before ``before`` ends.
    customer_id_col, datetime_col : str
        Column names of the customer id and the transaction time.
    monetary_value_col : str or None
        Column of the amount (USD); ``None`` measures growth by number of transactions instead.
    lost_by : {"inactivity", "p_alive"}
        The rule that makes a base customer lost.
    inactivity : (length, unit) pair, optional
        The inactivity window of ``lost_by="inactivity"``, e.g. ``(90, "D")``; default the
        length of ``after``.
    p_alive : pandas.Series, optional
        P(alive) (0-1) per customer id at the end of ``after``, for ``lost_by="p_alive"``; it
        must cover every customer of the base.
    p_alive_threshold : float
        Below this P(alive) a base customer is lost (0-1, exclusive).
    growth_threshold : float
        Relative change of spend per day that counts as growth or decline (>= 0; 0.1 = 10%).

    Returns
    -------
    CustomerMovement
        ``.customers`` (per customer), ``.counts``, ``.retention_rate``, ``.churn_rate``,
        ``.summary()``.

    Raises
    ------
    ValueError
        If an argument is invalid (periods that overlap or end before they start, an unknown
        ``lost_by``, a malformed ``inactivity``).
    crm_models.errors.DataError
        If the transactions or ``p_alive`` break a rule (missing columns, unparseable dates,
        negative amounts, a base customer without P(alive), a P(alive) outside [0, 1]).

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [100.0, 300.0, 80.0, 40.0],
    ...                     "timestamp": pd.to_datetime(["2024-02-01", "2024-08-01", "2024-03-01", "2024-11-11"])})
    >>> m = customer_movement(log, ("2024-01-01", "2024-07-01"), ("2024-07-01", "2025-01-01"))
    >>> m.customers["status"].astype(str).to_dict()
    {'a': 'grown', 'b': 'lost', 'c': 'won'}
    >>> m.retention_rate
    0.5

    ``b`` last bought 306 days before the end of ``after``: a 365-day window keeps them.

    >>> longer = customer_movement(log, ("2024-01-01", "2024-07-01"), ("2024-07-01", "2025-01-01"),
    ...                            inactivity=(365, "D"))
    >>> str(longer.customers.loc["b", "status"])
    'declined'
    """
    what = "transactions"
    b0, b1 = period(before, "before")
    a0, a1 = period(after, "after")
    if a0 < b1:
        raise ValueError(f"the periods overlap: 'after' starts {a0.date()}, before 'before' ends {b1.date()}")
    if lost_by not in ("inactivity", "p_alive"):
        raise ValueError(f"lost_by must be 'inactivity' or 'p_alive', got {lost_by!r}")
    if not 0 <= growth_threshold:
        raise ValueError(f"growth_threshold must be >= 0, got {growth_threshold}")
    window = None
    if lost_by == "inactivity" and inactivity is not None:
        window = as_duration(inactivity, "inactivity").days
    if lost_by == "p_alive":
        if p_alive is None:
            raise ValueError("lost_by='p_alive' needs p_alive: a Series of P(alive) indexed by customer id")
        series_of(p_alive, "p_alive", "p_alive")
        if not 0 < p_alive_threshold < 1:
            raise ValueError(f"p_alive_threshold must lie in (0, 1), got {p_alive_threshold}")
    tx = transactions_frame(transactions, customer_id_col, datetime_col, monetary_value_col, what)
    tx = tx[tx["date"] < a1]
    if monetary_value_col is None:
        tx["amount"] = 1.0  # growth by number of transactions
    in_b = (tx["date"] >= b0) & (tx["date"] < b1)
    in_a = tx["date"] >= a0
    g = tx.groupby("customer_id", sort=True)
    cust = pd.DataFrame(
        {
            "first_purchase": g["date"].min(),
            "last_purchase": g["date"].max(),
            "n_before": in_b.groupby(tx["customer_id"]).sum().astype("int64"),
            "n_after": in_a.groupby(tx["customer_id"]).sum().astype("int64"),
            "spend_before": tx["amount"].where(in_b, 0.0).groupby(tx["customer_id"]).sum(),
            "spend_after": tx["amount"].where(in_a, 0.0).groupby(tx["customer_id"]).sum(),
        }
    )
    cust = cust[(cust["n_before"] > 0) | (cust["n_after"] > 0)].copy()
    days_b = (b1 - b0) / pd.Timedelta(days=1)
    days_a = (a1 - a0) / pd.Timedelta(days=1)
    cust["rate_before"] = cust["spend_before"] / days_b
    cust["rate_after"] = cust["spend_after"] / days_a
    base = cust["n_before"] > 0
    defs = {
        "period": "half-open [start, end); active = at least one transaction in the period",
        "base": f"customers active in [{b0.date()}, {b1.date()})",
        "won": f"first purchase ever in [{a0.date()}, {a1.date()})",
        "won back": "bought before the first period, not in it, and again in the second",
    }
    if lost_by == "inactivity":
        window = days_a if window is None else window
        lost = base & ((a1 - cust["last_purchase"]) / pd.Timedelta(days=1) > window)
        defs["lost"] = f"base customer with no purchase in the {window:g} days before {a1.date()}"
    else:
        pa = pd.to_numeric(p_alive, errors="coerce").reindex(cust.index[base]).rename("p_alive").to_frame()
        fail_rows(pa, pa["p_alive"].isna().to_numpy(), "p_alive",
                  "must give a P(alive) for every customer active in the first period (missing or not a number)",
                  what="p_alive")
        fail_rows(pa, ((pa["p_alive"] < 0) | (pa["p_alive"] > 1)).to_numpy(), "p_alive", "must lie in [0, 1]",
                  what="p_alive")
        lost = pd.Series(False, index=cust.index)
        lost[base] = (pa["p_alive"] < p_alive_threshold).to_numpy()
        defs["lost"] = f"base customer with P(alive) at {a1.date()} below {p_alive_threshold:g}"
    rb, ra = cust["rate_before"], cust["rate_after"]
    status = np.select(
        [
            ~base & (cust["first_purchase"] >= a0),
            ~base,
            lost,
            ra > rb * (1 + growth_threshold),
            ra < rb * (1 - growth_threshold),
        ],
        ["won", "won back", "lost", "grown", "declined"],
        default="stable",
    )
    cust["status"] = pd.Categorical(status, categories=list(STATUSES))
    defs["grown / declined"] = (
        f"retained base customer whose {'spend' if monetary_value_col else 'transactions'} per day rose / fell by "
        f"more than {growth_threshold:.0%}; stable otherwise"
    )
    cust.index.name = customer_id_col
    return CustomerMovement(customers=cust, definitions=defs)


def retention_rate(transactions: pd.DataFrame, before: tuple, after: tuple, **kwargs) -> float:
    """Share of customers active in ``before`` who are not lost by the end of ``after`` (0-1).

    Lost follows :func:`customer_movement` (``lost_by="inactivity"`` by default: no purchase in
    ``after``; or ``lost_by="p_alive"``).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    before, after : (start, end) pairs of dates
        The two periods.
    **kwargs
        Passed on to :func:`customer_movement` (column names, ``lost_by``, ``inactivity``...).

    Returns
    -------
    float

    Raises
    ------
    crm_models.errors.DataError
        If no customer was active in ``before`` (retention is undefined).

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [100.0, 300.0, 80.0, 40.0],
    ...                     "timestamp": pd.to_datetime(["2024-02-01", "2024-08-01", "2024-03-01", "2024-11-11"])})
    >>> retention_rate(log, ("2024-01-01", "2024-07-01"), ("2024-07-01", "2025-01-01"))
    0.5
    """
    return customer_movement(transactions, before, after, **kwargs).retention_rate


def churn_rate(transactions: pd.DataFrame, before: tuple, after: tuple, **kwargs) -> float:
    """Share of customers active in ``before`` who are lost by the end of ``after`` (0-1; 1 - retention).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    before, after : (start, end) pairs of dates
        The two periods.
    **kwargs
        Passed on to :func:`customer_movement`.

    Returns
    -------
    float

    Raises
    ------
    crm_models.errors.DataError
        If no customer was active in ``before`` (churn is undefined).

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [100.0, 300.0, 80.0, 40.0],
    ...                     "timestamp": pd.to_datetime(["2024-02-01", "2024-08-01", "2024-03-01", "2024-11-11"])})
    >>> churn_rate(log, ("2024-01-01", "2024-07-01"), ("2024-07-01", "2025-01-01"))
    0.5
    """
    return customer_movement(transactions, before, after, **kwargs).churn_rate

"""Measure a customer strategy: customers won, lost and grown, retention, cohorts, equity, NPS.

"What gets measured gets managed": a CRM strategy is judged by what happens to the customer
base (Peppers & Rogers: customers won, kept and grown; their lifetime value), not only by
efficiency. Every KPI here states its definition in its docstring, so two analysts computing
"churn" get the same number.

Conventions
-----------
- Periods are half-open intervals ``[start, end)`` of timestamps: a purchase on ``end`` belongs
  to the next period.
- A customer is *active* in a period if they have at least one transaction in it.
- Outputs are indexed by customer id (or by segment / cohort), pandas in and out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_amounts, parse_datetimes, parse_timestamp, require_columns

__all__ = [
    "CustomerMovement",
    "customer_movement",
    "retention_rate",
    "churn_rate",
    "cohort_retention",
    "plot_cohort_heatmap",
    "customer_equity",
    "net_promoter_score",
    "satisfaction_by_segment",
]

#: The statuses :func:`customer_movement` assigns, in reporting order.
STATUSES = ("won", "won back", "grown", "stable", "declined", "lost")


def _period(value, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (start, end) pair of dates, got {value!r}") from None
    start, end = parse_timestamp(start, f"{name} start"), parse_timestamp(end, f"{name} end")
    if not start < end:
        raise ValueError(f"{name} must start before it ends, got start={start.date()} end={end.date()}")
    return start, end


def _transactions(
    transactions: pd.DataFrame, customer_id_col: str, datetime_col: str, amount_col: str | None, what: str
) -> pd.DataFrame:
    cols = [customer_id_col, datetime_col] + ([amount_col] if amount_col is not None else [])
    require_columns(transactions, cols, what=what)
    fail_rows(transactions, transactions[customer_id_col].isna(), customer_id_col, "must not be missing", what=what)
    out = pd.DataFrame(
        {
            "customer_id": transactions[customer_id_col].to_numpy(),
            "date": parse_datetimes(transactions, datetime_col, what=what).to_numpy(),
        }
    )
    out["amount"] = parse_amounts(transactions, amount_col, what=what).to_numpy() if amount_col is not None else 0.0
    return out


@dataclass
class CustomerMovement:
    """Result of :func:`customer_movement`.

    Attributes
    ----------
    customers : DataFrame indexed by customer id
        ``status``, ``n_before`` / ``n_after`` (transactions in each period), ``spend_before`` /
        ``spend_after`` (amount in each period), ``rate_before`` / ``rate_after`` (spend per day).
    definitions : dict
        The rules used, in words, so reports can quote them.
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
        """retained / base (NaN-free: raises if the base is empty)."""
        if self.base == 0:
            raise ValueError("no customer was active in the first period, so retention is undefined")
        return self.retained / self.base

    @property
    def churn_rate(self) -> float:
        """lost / base = 1 - retention rate."""
        return 1.0 - self.retention_rate

    def summary(self) -> pd.DataFrame:
        """One row per status: customers, share of the base, spend before and after."""
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
        return tab

    def __repr__(self) -> str:
        c = self.counts
        rate = f"{self.retention_rate:.3f}" if self.base else "undefined"
        return (
            f"CustomerMovement(base={self.base}, won={c['won']}, won_back={c['won back']}, grown={c['grown']}, "
            f"lost={c['lost']}, retention_rate={rate})"
        )

    def _repr_html_(self) -> str:
        notes = "".join(f"<li><b>{k}</b>: {v}</li>" for k, v in self.definitions.items())
        return self.summary().to_html(float_format=lambda v: f"{v:,.2f}") + f"<ul>{notes}</ul>"


def customer_movement(
    transactions: pd.DataFrame,
    before: tuple,
    after: tuple,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    amount_col: str | None = "amount",
    lost_by: str = "inactivity",
    inactivity_days: float | None = None,
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
          ``inactivity_days`` days before that end. The default window is the length of ``after``,
          so lost then means "no purchase in the second period".
        - ``"p_alive"``: a base customer whose probability of being alive (``p_alive``, a Series
          indexed by customer id, evaluated at the end of ``after``) is below ``p_alive_threshold``.
    - **grown / declined / stable**: base customers not lost, comparing spend per day in the two
      periods (so unequal lengths compare fairly): grown if the rate rose by more than
      ``growth_threshold`` (0.1 = 10%), declined if it fell by more than that, stable otherwise.

    Customers active in neither period are left out.

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction.
    before, after : (start, end) pairs of dates
        The two periods; ``after`` must not start before ``before`` ends.
    amount_col : str or None
        Spend column; ``None`` measures growth by number of transactions instead.

    Returns
    -------
    CustomerMovement
        ``.customers`` (per customer), ``.counts``, ``.retention_rate``, ``.churn_rate``, ``.summary()``.
    """
    what = "transactions"
    b0, b1 = _period(before, "before")
    a0, a1 = _period(after, "after")
    if a0 < b1:
        raise ValueError(f"the periods overlap: 'after' starts {a0.date()}, before 'before' ends {b1.date()}")
    if lost_by not in ("inactivity", "p_alive"):
        raise ValueError(f"lost_by must be 'inactivity' or 'p_alive', got {lost_by!r}")
    if not 0 <= growth_threshold:
        raise ValueError(f"growth_threshold must be >= 0, got {growth_threshold}")
    tx = _transactions(transactions, customer_id_col, datetime_col, amount_col, what)
    tx = tx[tx["date"] < a1]
    if amount_col is None:
        tx["amount"] = 1.0  # growth by number of transactions
    in_b = (tx["date"] >= b0) & (tx["date"] < b1)
    in_a = tx["date"] >= a0
    g = tx.groupby("customer_id", sort=True)
    first = g["date"].min()
    last = g["date"].max()
    n_b = in_b.groupby(tx["customer_id"]).sum()
    n_a = in_a.groupby(tx["customer_id"]).sum()
    s_b = tx["amount"].where(in_b, 0.0).groupby(tx["customer_id"]).sum()
    s_a = tx["amount"].where(in_a, 0.0).groupby(tx["customer_id"]).sum()
    cust = pd.DataFrame(
        {
            "first_purchase": first,
            "last_purchase": last,
            "n_before": n_b.astype("int64"),
            "n_after": n_a.astype("int64"),
            "spend_before": s_b,
            "spend_after": s_a,
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
        window = days_a if inactivity_days is None else float(inactivity_days)
        if not window > 0:
            raise ValueError(f"inactivity_days must be > 0, got {inactivity_days}")
        lost = base & ((a1 - cust["last_purchase"]) / pd.Timedelta(days=1) > window)
        defs["lost"] = f"base customer with no purchase in the {window:g} days before {a1.date()}"
    else:
        if p_alive is None:
            raise ValueError("lost_by='p_alive' needs p_alive: a Series of P(alive) indexed by customer id")
        if not isinstance(p_alive, pd.Series):
            raise TypeError(f"p_alive must be a pandas Series indexed by customer id, got {type(p_alive).__name__}")
        if not 0 < p_alive_threshold < 1:
            raise ValueError(f"p_alive_threshold must lie in (0, 1), got {p_alive_threshold}")
        pa = pd.to_numeric(p_alive, errors="coerce").reindex(cust.index[base])
        missing = pa.isna()
        if missing.any():
            ids = list(pa.index[missing][:5])
            raise ValueError(
                f"p_alive has no valid value for {int(missing.sum())} customer(s) of the base, for example {ids}; "
                "give P(alive) for every customer active in the first period"
            )
        bad = (pa < 0) | (pa > 1)
        if bad.any():
            raise ValueError(f"p_alive must lie in [0, 1]; offending values:\n{pa[bad].head().to_string()}")
        lost = pd.Series(False, index=cust.index)
        lost[base] = (pa < p_alive_threshold).to_numpy()
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
        f"retained base customer whose {'spend' if amount_col else 'transactions'} per day rose / fell by more "
        f"than {growth_threshold:.0%}; stable otherwise"
    )
    cust.index.name = customer_id_col
    return CustomerMovement(customers=cust, definitions=defs)


def retention_rate(transactions: pd.DataFrame, before: tuple, after: tuple, **kwargs) -> float:
    """Share of customers active in ``before`` who are not lost by the end of ``after``.

    Lost follows :func:`customer_movement` (``lost_by="inactivity"`` by default: no purchase in
    ``after``; or ``lost_by="p_alive"``). Keyword arguments are passed on to it.
    """
    return customer_movement(transactions, before, after, **kwargs).retention_rate


def churn_rate(transactions: pd.DataFrame, before: tuple, after: tuple, **kwargs) -> float:
    """Share of customers active in ``before`` who are lost by the end of ``after`` (1 - retention)."""
    return customer_movement(transactions, before, after, **kwargs).churn_rate


def cohort_retention(
    transactions: pd.DataFrame,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    observation_end=None,
    counts: bool = False,
) -> pd.DataFrame:
    """Cohort retention table by month of first purchase.

    Row = cohort (calendar month of a customer's first purchase, a ``Period``), column = months
    since that month (0, 1, 2, ...), value = share of the cohort with at least one purchase in
    that calendar month (month 0 is 1.0 by construction). Cells for months after
    ``observation_end`` (default: the last transaction date) were not observed and hold NaN; the
    month containing ``observation_end`` counts as observed even if it is partial. Column
    ``cohort_size`` gives the number of customers in each cohort.

    Parameters
    ----------
    counts : bool
        Return numbers of active customers instead of shares.
    """
    tx = _transactions(transactions, customer_id_col, datetime_col, None, "transactions")
    if tx.empty:
        raise ValueError("transactions is empty: there are no cohorts to build")
    end = tx["date"].max() if observation_end is None else parse_timestamp(observation_end, "observation_end")
    fail_rows(
        transactions,
        (tx["date"] > end).to_numpy(),
        datetime_col,
        f"must not lie after observation_end={end.date()}",
        what="transactions",
        hint="Filter the transactions first or move observation_end.",
    )
    month = tx["date"].dt.to_period("M")
    first = month.groupby(tx["customer_id"]).transform("min")
    age = (month.astype("int64") - first.astype("int64")).to_numpy()
    active = (
        pd.DataFrame({"cohort": first.to_numpy(), "age": age, "customer_id": tx["customer_id"].to_numpy()})
        .drop_duplicates()
        .groupby(["cohort", "age"])
        .size()
        .unstack("age", fill_value=0)
    )
    size = active[0]
    n_months = int(end.to_period("M").ordinal - active.index.min().ordinal) + 1
    active = active.reindex(columns=range(n_months), fill_value=0)
    observed_months = end.to_period("M").ordinal - np.array([p.ordinal for p in active.index])
    mask = np.arange(n_months)[None, :] > observed_months[:, None]
    table = active.astype("float64")
    if not counts:
        table = table.div(size, axis=0)
    table = table.mask(mask)
    table.columns.name = "months_since_first_purchase"
    table.index.name = "cohort"
    table.insert(0, "cohort_size", size.astype("int64"))
    return table


def plot_cohort_heatmap(table: pd.DataFrame, ax=None, *, max_months: int | None = None, annotate: bool = True):
    """Heatmap of a :func:`cohort_retention` share table (cohorts down, months since first purchase across).

    Unobserved cells are grey; colours are scaled to the months after the first (month 0 is 100%
    by construction and saturates). Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if "cohort_size" not in table.columns:
        raise ValueError("table must come from cohort_retention() (it has no 'cohort_size' column)")
    shares = table.drop(columns="cohort_size")
    if max_months is not None:
        shares = shares.iloc[:, : max_months + 1]
    values = shares.to_numpy(dtype=float)
    if np.nanmax(values) > 1.0 + 1e-9:
        raise ValueError("the heatmap expects shares; call cohort_retention(..., counts=False)")
    if ax is None:
        _, ax = plt.subplots(figsize=(min(2 + 0.45 * values.shape[1], 14), 1.5 + 0.35 * values.shape[0]))
    # month 0 is 100% by construction: scale the colours to the later months so they show
    later = values[:, 1:][np.isfinite(values[:, 1:])] if values.shape[1] > 1 else np.array([])
    vmax = float(later.max()) if later.size and later.max() > 0 else 1.0
    ax.set_facecolor("#eeeeee")  # unobserved cells
    im = ax.imshow(np.ma.masked_invalid(values), cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(values.shape[1]), [str(c) for c in shares.columns])
    ax.set_yticks(range(values.shape[0]), [f"{p} (n={n})" for p, n in zip(shares.index, table["cohort_size"])])
    ax.set_xlabel("months since first purchase")
    ax.set_ylabel("first-purchase cohort")
    if annotate and values.size <= 400:
        for i, j in zip(*np.nonzero(np.isfinite(values))):
            v = values[i, j]
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7, color="white" if v > 0.6 * vmax else "black")
    ax.figure.colorbar(im, ax=ax, label="share of cohort active")
    ax.set_title("Cohort retention: share of each first-purchase cohort buying in month k")
    return ax


def _numeric(values, name: str) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(values, name=name)
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() | ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        raise ValueError(
            f"{name} must be finite numbers; {int(bad.sum())} of {len(s)} values are not, for example:\n"
            f"{s[bad].head().to_string()}"
        )
    return num.astype("float64")


def customer_equity(clv: pd.Series, segments: pd.Series | None = None) -> float | pd.DataFrame:
    """Customer equity: the sum of customers' lifetime values (Blattberg & Deighton 1996).

    ``clv`` is a Series of (discounted) CLV per customer, in money, indexed by customer id.
    Without ``segments`` the total is returned as a float; with ``segments`` (a Series indexed
    by customer id) a table per segment: customers, equity, share of equity and mean CLV.
    """
    values = _numeric(clv, "clv")
    if len(values) == 0:
        raise ValueError("clv is empty")
    if segments is None:
        return float(values.sum())
    if not isinstance(segments, pd.Series):
        raise TypeError("segments must be a pandas Series indexed by customer id")
    seg = segments.reindex(values.index)
    if seg.isna().any():
        ids = list(seg.index[seg.isna()][:5])
        raise ValueError(f"segments has no segment for {int(seg.isna().sum())} customer(s) of clv, for example {ids}")
    g = values.groupby(seg.to_numpy(), observed=True)
    tab = pd.DataFrame({"customers": g.size(), "equity": g.sum(), "mean_clv": g.mean()})
    tab["share_of_equity"] = tab["equity"] / values.sum() if values.sum() != 0 else 0.0
    tab.index.name = segments.name or "segment"
    return tab.sort_values("equity", ascending=False)[["customers", "equity", "share_of_equity", "mean_clv"]]


def _recommend_scores(values, name: str = "likelihood to recommend") -> pd.Series:
    s = _numeric(values, name)
    bad = (s < 0) | (s > 10) | (s != np.round(s))
    if bad.any():
        raise ValueError(
            f"{name} must be whole numbers from 0 to 10; {int(bad.sum())} value(s) are not, for example:\n"
            f"{s[bad].head().to_string()}"
        )
    return s


def net_promoter_score(scores) -> float:
    """Net promoter score (Reichheld 2003) of 0-10 "how likely to recommend" answers.

    NPS = % promoters (9-10) - % detractors (0-6), a number from -100 to 100; passives (7-8)
    count in the denominator only. Every answer counts once.
    """
    s = _recommend_scores(scores)
    if len(s) == 0:
        raise ValueError("no answers: the net promoter score needs at least one")
    return float(100.0 * ((s >= 9).mean() - (s <= 6).mean()))


def satisfaction_by_segment(
    surveys: pd.DataFrame,
    segments: pd.Series,
    *,
    customer_id_col: str = "customer_id",
    satisfaction_col: str | None = "satisfaction",
    recommend_col: str = "recommend",
    datetime_col: str | None = None,
) -> pd.DataFrame:
    """Satisfaction and net promoter score per segment.

    ``surveys`` has one row per answer; ``segments`` maps customer id -> segment. If
    ``datetime_col`` is given only each customer's latest answer counts (one vote per customer);
    otherwise every answer counts. Answers of customers without a segment raise an error.

    Returns one row per segment (plus ``"all"``): ``answers``, ``customers``,
    ``mean_satisfaction`` (on the survey's own scale; omitted when ``satisfaction_col`` is None),
    ``promoters`` / ``passives`` / ``detractors`` (shares, 9-10 / 7-8 / 0-6) and ``nps``
    (% promoters - % detractors, -100..100).
    """
    cols = [customer_id_col, recommend_col] + [c for c in (satisfaction_col, datetime_col) if c is not None]
    require_columns(surveys, cols, what="surveys")
    if not isinstance(segments, pd.Series):
        raise TypeError("segments must be a pandas Series indexed by customer id")
    df = surveys[cols].copy()
    if datetime_col is not None:
        df[datetime_col] = parse_datetimes(surveys, datetime_col, what="surveys")
        df = df.sort_values([customer_id_col, datetime_col], kind="stable").groupby(customer_id_col).tail(1)
    fail_rows(df, df[recommend_col].isna(), recommend_col, "must hold an answer for every row", what="surveys")
    df["_rec"] = _recommend_scores(df[recommend_col].reset_index(drop=True), recommend_col).to_numpy()
    if satisfaction_col is not None:
        fail_rows(df, df[satisfaction_col].isna(), satisfaction_col, "must hold an answer for every row", what="surveys")
        df["_sat"] = _numeric(df[satisfaction_col].reset_index(drop=True), satisfaction_col).to_numpy()
    df["_seg"] = df[customer_id_col].map(segments).to_numpy()
    fail_rows(df, df["_seg"].isna(), customer_id_col, "has no segment in `segments`", what="surveys")

    def block(d: pd.DataFrame) -> dict:
        r = d["_rec"]
        row = {"answers": len(d), "customers": d[customer_id_col].nunique()}
        if satisfaction_col is not None:
            row["mean_satisfaction"] = d["_sat"].mean()
        row.update(
            promoters=(r >= 9).mean(),
            passives=((r >= 7) & (r <= 8)).mean(),
            detractors=(r <= 6).mean(),
        )
        row["nps"] = 100.0 * (row["promoters"] - row["detractors"])
        return row

    rows = {seg: block(d) for seg, d in df.groupby("_seg", sort=True)}
    rows["all"] = block(df)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = segments.name or "segment"
    return out

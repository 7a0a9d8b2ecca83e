"""One face to the customer: does every channel treat the same customer the same way?

A customer who is Gold at the web shop and Standard at the store sees two companies. That happens
whenever a channel decides from what *it* sees of the customer: its own records in a silo, or all of
the customer's records once identities are resolved. Two tools measure it:

- :func:`visible_value`: the value each contact point's system sees for its customer, given which
  records it links together (none: the silo; a resolved crosswalk: one customer view);
- :func:`treatment_consistency`: per customer, how many channels and treatments they met, whether
  every contact treated them alike, and the share of contacts that gave the most common treatment.

Both work on plain tables (records, a crosswalk, any treatment log). Grading against the truth is
the same call with the true person as the customer id.

Examples
--------
>>> spend = pd.Series([100.0, 50.0, 20.0], index=["WEB-1", "STR-1", "WEB-2"])
>>> visible_value(spend).tolist(), visible_value(spend, pd.Series(["A", "A", "B"], index=spend.index)).tolist()
([100.0, 50.0, 20.0], [150.0, 150.0, 20.0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.errors import DataError

__all__ = ["visible_value", "treatment_consistency"]


def visible_value(values: pd.Series, crosswalk: pd.Series | None = None) -> pd.Series:
    """The value each record's system sees for its customer: the sum over the records it links to it.

    Parameters
    ----------
    values : pandas.Series
        A value per record (e.g. spend in USD), indexed by record id.
    crosswalk : pandas.Series, optional
        Customer id per record id (from :func:`crm_models.identify.resolve_customers`, or the
        true person for grading). None: every record is its own customer (the silo view).

    Returns
    -------
    pandas.Series
        Indexed like ``values``: the total of ``values`` over the records of the same customer.

    Raises
    ------
    crm_models.errors.DataError
        If ``values`` repeats a record id or holds a missing value, or ``crosswalk`` lacks a record.

    Examples
    --------
    >>> spend = pd.Series([10.0, 5.0], index=["r1", "r2"])
    >>> visible_value(spend, pd.Series(["c", "c"], index=["r1", "r2"])).tolist()
    [15.0, 15.0]
    """
    if not isinstance(values, pd.Series):
        raise TypeError(f"values must be a pandas Series indexed by record id, got {type(values).__name__}")
    frame = values.to_frame("value")
    fail_rows(frame, values.index.duplicated(keep=False), "index", "must hold each record id once", what="values")
    numeric = pd.to_numeric(values, errors="coerce")
    fail_rows(frame, numeric.isna().to_numpy(), "value", "must be a number for every record", what="values")
    if crosswalk is None:
        return numeric.astype(float).rename(values.name)
    if not isinstance(crosswalk, pd.Series):
        raise TypeError(f"crosswalk must be a pandas Series (customer id by record id), got {type(crosswalk).__name__}")
    customer = crosswalk.reindex(values.index)
    fail_rows(frame, customer.isna().to_numpy(), "record_id", "must have a customer in the crosswalk",
              what="values")
    return numeric.astype(float).groupby(customer.to_numpy()).transform("sum").rename(values.name)


def treatment_consistency(
    treatments: pd.DataFrame,
    *,
    customer_id_col: str = "customer_id",
    channel_col: str = "channel",
    treatment_col: str = "treatment",
) -> pd.DataFrame:
    """Per customer: the channels and treatments they met, and whether every contact treated them alike.

    Parameters
    ----------
    treatments : pandas.DataFrame
        One row per contact point (a record in a system, a contact in a channel) with the
        customer, the channel and the treatment given (a tier, an offer, a price...).
    customer_id_col, channel_col, treatment_col : str
        Its columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id: ``n_contacts``, ``n_channels``, ``n_treatments`` (distinct),
        ``consistent`` (one treatment everywhere), ``modal_treatment`` and ``modal_share``
        (share of the customer's contacts that gave the most common treatment, 0-1; ties go to
        the treatment first in sort order).

    Raises
    ------
    crm_models.errors.DataError
        If a column is missing or holds missing values.

    Examples
    --------
    >>> t = pd.DataFrame({"customer_id": ["A", "A", "A", "B"], "channel": ["web", "store", "mail", "web"],
    ...                   "treatment": ["Gold", "Gold", "Standard", "Silver"]})
    >>> treatment_consistency(t)[["n_channels", "consistent", "modal_share"]].round(2)
                 n_channels  consistent  modal_share
    customer_id                                     
    A                     3       False         0.67
    B                     1        True         1.00
    """
    require_columns(treatments, [customer_id_col, channel_col, treatment_col], what="treatments")
    for col in (customer_id_col, channel_col, treatment_col):
        fail_rows(treatments, treatments[col].isna().to_numpy(), col, "must not be missing", what="treatments")
    if len(treatments) == 0:
        raise DataError(customer_id_col, "holds no contact", what="treatments")
    t = treatments[[customer_id_col, channel_col, treatment_col]].astype({treatment_col: str})
    counts = t.groupby([customer_id_col, treatment_col]).size().rename("n").reset_index()
    counts = counts.sort_values([customer_id_col, "n", treatment_col], ascending=[True, False, True], kind="stable")
    modal = counts.drop_duplicates(customer_id_col).set_index(customer_id_col)
    g = t.groupby(customer_id_col)
    out = pd.DataFrame({
        "n_contacts": g.size(),
        "n_channels": g[channel_col].nunique(),
        "n_treatments": g[treatment_col].nunique(),
    })
    out["consistent"] = out["n_treatments"] == 1
    out["modal_treatment"] = modal[treatment_col].reindex(out.index)
    out["modal_share"] = (modal["n"].reindex(out.index) / out["n_contacts"]).astype(float)
    out.index.name = customer_id_col
    return out.astype({"n_contacts": np.int64, "n_channels": np.int64, "n_treatments": np.int64})

"""Golden records: one row per customer built from their records by stated survivorship rules.

Rules (each value keeps the source and record id it came from):

* ``first_name``: the most frequent full first name (initials lose to full names), ties to the
  most recent record;
* ``last_name`` and ``date_of_birth``: the most frequent valid value, ties to the most recent;
* ``email`` and ``phone``: the most recent valid value;
* address (``street``, ``city``, ``postcode`` together, never mixed across records): the most
  complete address, ties to the most recent record;
* ``gender`` and every identifier column (``loyalty_id``, ``id_*``), when the records have them:
  the most frequent value, ties to the most recent.

"Recent" means the latest ``created_at`` (then the larger record id, so the result does not
depend on row order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import require_columns
from crm_models.errors import DataError

__all__ = ["SURVIVORSHIP_RULES", "golden_records"]

_FIELDS = ("first_name", "last_name", "email", "phone", "date_of_birth", "street", "city", "postcode")

#: The survivorship rule of each golden-record field, as a table (index: field).
SURVIVORSHIP_RULES = pd.DataFrame(
    [
        ("first_name", "most frequent full first name (not an initial); ties: most recent record"),
        ("last_name", "most frequent value; ties: most recent record"),
        ("email", "most recent valid e-mail"),
        ("phone", "most recent valid phone number"),
        ("date_of_birth", "most frequent valid date; ties: most recent record"),
        ("street, city, postcode", "most complete address, taken whole from one record; ties: most recent"),
        ("gender, identifiers", "most frequent value; ties: most recent record (when the records have them)"),
    ],
    columns=["field", "rule"],
).set_index("field")


def _pick(df: pd.DataFrame, field: str, *, frequent: bool) -> pd.DataFrame:
    """Per customer: the value of ``field`` from the winning record, with its source and record id."""
    sub = df.loc[df[field].notna()].copy()
    sort_cols, asc = ["customer_id"], [True]
    if frequent:
        sub["_freq"] = sub.groupby(["customer_id", field])[field].transform("size")
        sort_cols.append("_freq")
        asc.append(False)
    sort_cols += ["_recency", "_rid_key"]
    asc += [False, False]
    best = sub.sort_values(sort_cols, ascending=asc, kind="mergesort").drop_duplicates("customer_id")
    return best.set_index("customer_id")[[field, "source", "record_id"]].rename(
        columns={"source": f"{field}_source", "record_id": f"{field}_record"}
    )


def golden_records(data: pd.DataFrame, crosswalk: pd.Series) -> pd.DataFrame:
    """Golden records indexed by ``customer_id``.

    Parameters
    ----------
    data : DataFrame
        Standardised records (``record_id``, ``source``, ``created_at`` and the contact fields).
    crosswalk : Series
        ``customer_id`` per row of ``data`` (aligned on position).

    Returns
    -------
    DataFrame
        One row per customer: ``n_records``, ``sources`` (sorted, "+"-joined), ``first_seen``,
        ``last_seen`` and per field the value, ``<field>_source`` and ``<field>_record`` (the
        address as one: ``address_source``, ``address_record``); gender and identifier columns
        only when ``data`` holds values for them.

    Raises
    ------
    crm_models.errors.DataError
        ``data`` lacks a column the rules read, or ``crosswalk`` has another length.

    Examples
    --------
    >>> from crm_models.identify import standardise_records
    >>> raw = pd.DataFrame({"record_id": ["w1", "s1"], "source": ["web", "store"],
    ...                     "first_name": ["A.", "Ann"], "last_name": ["Lee", "Lee"],
    ...                     "email": ["old@x.com", "new@x.com"],
    ...                     "created_at": ["2024-01-01", "2024-06-01"]})
    >>> data = standardise_records(raw).data
    >>> golden = golden_records(data, pd.Series(["C-1", "C-1"]))
    >>> golden.loc["C-1", ["sources", "first_name", "email", "email_source"]].tolist()
    ['store+web', 'ann', 'new@x.com', 'store']
    """
    require_columns(data, ["record_id", "source", "created_at", *_FIELDS], what="data")
    if len(crosswalk) != len(data):
        raise DataError(
            None,
            f"and crosswalk must have the same length (one customer id per record), got {len(data)} "
            f"records and {len(crosswalk)} customer ids",
            what="data",
        )
    df = data.reset_index(drop=True).copy()
    df["customer_id"] = pd.Series(crosswalk).to_numpy()
    df["_recency"] = df["created_at"].fillna(pd.Timestamp.min) if "created_at" in df else pd.Timestamp.min
    df["_rid_key"] = df["record_id"].astype(str)
    grouped = df.groupby("customer_id", sort=True)
    seen = pd.crosstab(df["customer_id"], df["source"]) > 0  # customers x sources, columns sorted
    sources = pd.Series("", index=seen.index, dtype=object)
    for src in seen.columns:
        sources = sources + np.where(seen[src].to_numpy(), f"{src}+", "")
    out = pd.DataFrame(
        {
            "n_records": grouped.size(),
            "sources": sources.str[:-1],
            "first_seen": grouped["created_at"].min(),
            "last_seen": grouped["created_at"].max(),
        }
    )
    full_first = (df["first_name"].str.len() > 1).fillna(False).astype(bool)
    has_full = full_first.groupby(df["customer_id"]).transform("any")
    parts = [
        _pick(df.loc[full_first | ~has_full], "first_name", frequent=True),
        _pick(df, "last_name", frequent=True),
        _pick(df, "email", frequent=False),
        _pick(df, "phone", frequent=False),
        _pick(df, "date_of_birth", frequent=True),
    ]
    extra = [c for c in df.columns if c in ("gender", "loyalty_id") or str(c).startswith("id_")]
    parts += [_pick(df, c, frequent=True) for c in extra if df[c].notna().any()]
    address_cols = ["street", "city", "postcode"]
    df["_completeness"] = df[address_cols].notna().sum(axis=1)
    addr = df.loc[df["_completeness"] > 0].sort_values(
        ["customer_id", "_completeness", "_recency", "_rid_key"], ascending=[True, False, False, False], kind="mergesort"
    ).drop_duplicates("customer_id").set_index("customer_id")
    addr = addr[address_cols + ["source", "record_id"]].rename(
        columns={"source": "address_source", "record_id": "address_record"}
    )
    for part in [*parts, addr]:
        out = out.join(part, how="left")
    out.index.name = "customer_id"
    return out

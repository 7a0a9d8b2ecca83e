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


def _first_per_group(groups: np.ndarray, *keys_desc: np.ndarray) -> np.ndarray:
    """Positions of the first row of each group after sorting by ``keys_desc`` (all descending)."""
    order = np.lexsort(tuple(-k for k in reversed(keys_desc)) + (groups,))
    g = groups[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return order[first]


def _pick(frame: dict, field: str, values: np.ndarray, mask: np.ndarray, *, frequent: bool) -> dict:
    """Per customer: the value of ``field`` from the winning record, with its source and record id
    (arrays over customers, missing where a customer has no value)."""
    idx = np.flatnonzero(mask & ~pd.isna(values))
    cust = frame["cust"][idx]
    keys = [frame["recency"][idx], frame["rid_rank"][idx]]
    if frequent:
        codes = pd.factorize(values[idx])[0].astype(np.int64)
        pair = cust * (int(codes.max()) + 1 if len(codes) else 1) + codes
        _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
        keys.insert(0, counts[inverse])
    best = idx[_first_per_group(cust, *keys)]
    out = {}
    for name, source in ((field, values), (f"{field}_source", frame["source"]), (f"{field}_record", frame["record_id"])):
        column = np.full(len(frame["uniques"]), None, dtype=object)
        column[frame["cust"][best]] = source[best]
        out[name] = column
    return out


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
    df = data.reset_index(drop=True)
    cust, uniques = pd.factorize(pd.Series(crosswalk).to_numpy(), sort=True)
    created = pd.to_datetime(df["created_at"]) if "created_at" in df else pd.Series(pd.NaT, index=df.index)
    stamp = created.to_numpy("datetime64[ns]").astype(np.int64)
    stamp = np.where(created.isna().to_numpy(), np.iinfo(np.int64).min, stamp)
    frame = {
        "cust": cust.astype(np.int64),
        "uniques": np.asarray(uniques, dtype=object),
        "recency": pd.factorize(stamp, sort=True)[0].astype(np.int64),  # dense rank: later is larger
        "rid_rank": pd.factorize(df["record_id"].astype(str).to_numpy(object), sort=True)[0].astype(np.int64),
        "source": df["source"].to_numpy(object),
        "record_id": df["record_id"].to_numpy(object),
    }
    n_cust = len(uniques)
    src_codes, src_names = pd.factorize(df["source"].astype(str).to_numpy(object), sort=True)
    seen = np.zeros((n_cust, len(src_names)), dtype=bool)
    seen[frame["cust"], src_codes] = True
    sources = np.full(n_cust, "", dtype=object)
    for k, name in enumerate(src_names):
        sources = sources + np.where(seen[:, k], f"{name}+", "")
    index = pd.Index(frame["uniques"], name="customer_id")
    by_customer = created.groupby(frame["cust"])
    out = pd.DataFrame(
        {
            "n_records": np.bincount(frame["cust"], minlength=n_cust),
            "sources": pd.Series(sources).str[:-1].to_numpy(object),
            "first_seen": by_customer.min().reindex(range(n_cust)).to_numpy(),
            "last_seen": by_customer.max().reindex(range(n_cust)).to_numpy(),
        },
        index=index,
    )
    first = df["first_name"].to_numpy(object)
    full_first = (df["first_name"].str.len() > 1).fillna(False).to_numpy(bool)
    has_full = np.zeros(n_cust, dtype=bool)
    has_full[frame["cust"][full_first]] = True
    everyone = np.ones(len(df), dtype=bool)
    parts = [
        _pick(frame, "first_name", first, full_first | ~has_full[frame["cust"]], frequent=True),
        _pick(frame, "last_name", df["last_name"].to_numpy(object), everyone, frequent=True),
        _pick(frame, "email", df["email"].to_numpy(object), everyone, frequent=False),
        _pick(frame, "phone", df["phone"].to_numpy(object), everyone, frequent=False),
        _pick(frame, "date_of_birth", df["date_of_birth"].to_numpy(object), everyone, frequent=True),
    ]
    extra = [c for c in df.columns if c in ("gender", "loyalty_id") or str(c).startswith("id_")]
    parts += [_pick(frame, c, df[c].to_numpy(object), everyone, frequent=True) for c in extra if df[c].notna().any()]
    address_cols = ["street", "city", "postcode"]
    completeness = df[address_cols].notna().sum(axis=1).to_numpy(np.int64)
    idx = np.flatnonzero(completeness > 0)
    best = idx[_first_per_group(frame["cust"][idx], completeness[idx], frame["recency"][idx], frame["rid_rank"][idx])]
    where = frame["cust"][best]
    addr = {}
    for name, source in [*((c, df[c].to_numpy(object)) for c in address_cols),
                         ("address_source", frame["source"]), ("address_record", frame["record_id"])]:
        column = np.full(n_cust, None, dtype=object)
        column[where] = source[best]
        addr[name] = column
    for part in [*parts, addr]:
        for name, column in part.items():
            out[name] = column
    out.index.name = "customer_id"
    return out

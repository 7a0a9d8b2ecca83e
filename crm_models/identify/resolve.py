"""Resolve source records to stable customer ids: standardise, link, cluster, build golden records."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from crm_models._validation import fail_rows, require_columns
from crm_models.identify.golden import golden_records
from crm_models.identify.link import fit_linker, model_parameters, predict_pairs
from crm_models.identify.standardise import (
    IDENTIFYING_COLUMNS,
    canonical_first_name,
    first_name_variants,
    standardise_records,
)

__all__ = ["Resolution", "resolve_customers", "resolve_exact", "DEFAULT_THRESHOLD"]

#: Match probability at or above which two records are taken to be the same customer.
DEFAULT_THRESHOLD = 0.9


@dataclass
class Resolution:
    """The outcome of :func:`resolve_customers`.

    Attributes
    ----------
    crosswalk : DataFrame
        Indexed by record id (input row order): ``customer_id`` and ``source``. Every input
        record appears exactly once.
    golden : DataFrame
        One golden record per customer, indexed by ``customer_id`` (see
        :func:`crm_models.identify.golden.golden_records` for the survivorship rules).
    pairs : DataFrame
        Scored candidate pairs: ``record_id_l``, ``record_id_r``, ``match_weight`` (bits),
        ``match_probability``, ``decisive`` (a shared e-mail with compatible first names, or a
        shared loyalty id), ``vetoed`` (incompatible first names and no shared birth date: what a
        household looks like; never linked), ``linked`` (used to form customers), and per field the two
        standardised values, the comparison level (``gamma_*``) and its weight (``mw_*``).
    problems : DataFrame
        Values that could not be standardised (record id, source, column, value, reason).
    parameters : DataFrame
        Learned m and u probabilities and the match weight of every comparison level.
    standardised : DataFrame
        The standardised records (in record-id order).
    threshold : float
        Match probability used to link pairs.
    model : dict
        The Splink model (settings with trained parameters), JSON-serialisable.
    """

    crosswalk: pd.DataFrame
    golden: pd.DataFrame
    pairs: pd.DataFrame
    problems: pd.DataFrame
    parameters: pd.DataFrame
    standardised: pd.DataFrame
    threshold: float
    model: dict = field(default_factory=dict, repr=False)
    method: str = "splink"

    @property
    def n_records(self) -> int:
        return len(self.crosswalk)

    @property
    def n_customers(self) -> int:
        return int(self.crosswalk["customer_id"].nunique())

    def summary(self) -> pd.DataFrame:
        """Counts: records, customers, records per customer, linked pairs, problems."""
        per = self.crosswalk.groupby("customer_id").size()
        rows = {
            "method": self.method,
            "records": self.n_records,
            "customers": self.n_customers,
            "records per customer (mean)": round(float(per.mean()), 3),
            "customers with several records": int((per > 1).sum()),
            "scored pairs": len(self.pairs),
            "linked pairs": int(self.pairs["linked"].sum()) if "linked" in self.pairs else 0,
            "threshold (match probability)": self.threshold,
            "unparseable values": len(self.problems),
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        return f"Resolution({self.n_records:,} records -> {self.n_customers:,} customers, method={self.method!r})"


def _validate(records: pd.DataFrame, record_id_col: str, source_col: str | None, columns: Mapping[str, str] | None):
    require_columns(records, [record_id_col] + ([source_col] if source_col else []), what="records")
    if len(records) == 0:
        raise ValueError("records is empty: there is nothing to resolve (0 rows)")
    ids = records[record_id_col]
    fail_rows(records, ids.isna(), record_id_col, "must hold a record id for every row (missing ids found)", what="records")
    fail_rows(
        records,
        ids.duplicated(keep=False),
        record_id_col,
        "must be unique (each record id once)",
        what="records",
        hint="Duplicate rows would otherwise appear twice in the crosswalk; de-duplicate them or give them distinct ids.",
    )
    mapped = dict(columns or {})
    present = [c for c in IDENTIFYING_COLUMNS if mapped.get(c, c) in records.columns]
    if not present and mapped.get("full_name", "full_name") not in records.columns:
        raise ValueError(
            f"records has no usable identifying column: need at least one of {list(IDENTIFYING_COLUMNS)} "
            f"(or map yours with columns={{'email': 'your_column', ...}}); the columns present are "
            f"{list(map(str, records.columns))}"
        )


def _prepare(records, record_id_col, source_col, columns, default_region, dob_formats):
    _validate(records, record_id_col, source_col, columns)
    std = standardise_records(
        records,
        record_id_col=record_id_col,
        source_col=source_col,
        columns=columns,
        default_region=default_region,
        dob_formats=dob_formats,
    )
    data = std.data
    usable = [c for c in IDENTIFYING_COLUMNS if data[c].notna().any()]
    if not usable:
        raise ValueError(
            "records has no usable identifying column: every value of "
            f"{[c for c in IDENTIFYING_COLUMNS if c in records.columns or c in (columns or {})]} is missing or "
            f"could not be parsed (see the problems: {len(std.problems)} values)"
        )
    # record-id order makes every later step independent of the input's row order
    order = np.argsort(data["record_id"].astype(str).to_numpy(), kind="stable")
    data = data.iloc[order].reset_index(drop=True)
    data.insert(0, "_rid", np.arange(len(data), dtype=np.int64))
    return data, std.problems, order


def _decisive_pairs(data: pd.DataFrame) -> pd.DataFrame:
    """Pairs sharing an e-mail address (with compatible first names) or a loyalty id."""
    found = []
    for key, guard in (("email", True), ("loyalty_id", False)):
        sub = data.loc[data[key].notna(), ["_rid", key, "first_name", "last_name"]]
        if sub.empty:
            continue
        m = sub.merge(sub, on=key, suffixes=("_l", "_r"))
        m = m.loc[m["_rid_l"] < m["_rid_r"]]
        if guard:  # a household e-mail shared by two people must not merge them
            ok = [
                _compatible_first_names(a, b) or (a is not None and a == d and b == c)
                for a, b, c, d in zip(m["first_name_l"], m["first_name_r"], m["last_name_l"], m["last_name_r"])
            ]
            m = m.loc[np.asarray(ok, dtype=bool)]
        found.append(m[["_rid_l", "_rid_r"]])
    if not found:
        return pd.DataFrame({"_rid_l": pd.Series(dtype=np.int64), "_rid_r": pd.Series(dtype=np.int64)})
    return pd.concat(found, ignore_index=True).drop_duplicates()


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _compatible_first_names(a, b) -> bool:
    """Could ``a`` and ``b`` be one person's first name? Missing, equal, nickname of the same
    name, initial, one contained in the other, or at most two typing errors apart."""
    if not isinstance(a, str) or not isinstance(b, str) or a == b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    if canonical_first_name(a) == canonical_first_name(b) or set(first_name_variants(a)) & set(first_name_variants(b)):
        return True
    if a in b or b in a:
        return True
    return _edit_distance(a, b) <= 2


def _household_veto(pairs: pd.DataFrame, data: pd.DataFrame) -> np.ndarray:
    """Pairs never linked: both first names known and incompatible (not equal, nickname, initial or
    typo, nor swapped with the last name) while the dates of birth are not the same.

    Household members share a surname, an address and often a phone; the Fellegi-Sunter model
    treats those as independent pieces of evidence and can add them up past any threshold. Two
    different first names without a matching birth date is what a household looks like.
    """
    first = data["first_name"].to_numpy(object)
    last = data["last_name"].to_numpy(object)
    dob = data["date_of_birth"].to_numpy(object)
    left, right = pairs["_rid_l"].to_numpy(), pairs["_rid_r"].to_numpy()
    veto = np.zeros(len(pairs), dtype=bool)
    for k, (i, j) in enumerate(zip(left, right)):
        a, b = first[i], first[j]
        if a is None or b is None or _compatible_first_names(a, b):
            continue
        if a == last[j] and b == last[i]:  # swapped fields
            continue
        if dob[i] is not None and dob[i] == dob[j]:
            continue
        veto[k] = True
    return veto


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _ids_from_components(labels: np.ndarray, record_ids: pd.Series) -> np.ndarray:
    """Customer id = "C-" + the smallest record id (as text) in the cluster."""
    keys = record_ids.astype(str).to_numpy()
    smallest = pd.Series(keys).groupby(labels).transform("min").to_numpy()
    return np.char.add("C-", smallest.astype(str)).astype(object)


def _existing_crosswalk(existing, record_id_col: str) -> pd.Series:
    if isinstance(existing, Resolution):
        cw = existing.crosswalk["customer_id"]
    elif isinstance(existing, pd.DataFrame):
        if "customer_id" not in existing.columns:
            raise ValueError(
                f"existing must be a Resolution or a crosswalk DataFrame with a 'customer_id' column; "
                f"got columns {list(existing.columns)}"
            )
        cw = existing.set_index(record_id_col)["customer_id"] if record_id_col in existing.columns else existing[
            "customer_id"]
    elif isinstance(existing, pd.Series):
        cw = existing
    else:
        raise TypeError(f"existing must be a Resolution, DataFrame or Series, got {type(existing).__name__}")
    if cw.index.duplicated().any():
        raise ValueError("existing crosswalk lists some record ids more than once")
    return cw


def _assign_incremental(data: pd.DataFrame, edges: pd.DataFrame, old: pd.Series) -> np.ndarray:
    """Attach new records to existing customers without changing any existing assignment.

    Edges are taken strongest first (decisive, then by match weight); two groups are joined
    unless they already belong to two different existing customers (so existing customers are
    never merged or split). Groups without an existing customer get a new id.
    """
    n = len(data)
    parent = np.arange(n)
    keys = data["record_id"].astype(str)
    label: dict[int, Any] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    known = data["record_id"].map(old)
    first_of: dict[Any, int] = {}
    for i, cid in zip(range(n), known.to_numpy()):
        if pd.isna(cid):
            continue
        if cid in first_of:
            parent[find(i)] = find(first_of[cid])
        else:
            first_of[cid] = i
            label[i] = cid
    ordered = edges.assign(_w=np.where(edges["decisive"], np.inf, edges["match_weight"])).sort_values(
        ["_w", "_rid_l", "_rid_r"], ascending=[False, True, True], kind="mergesort"
    )
    for i, j in zip(ordered["_rid_l"].to_numpy(), ordered["_rid_r"].to_numpy()):
        ri, rj = find(int(i)), find(int(j))
        if ri == rj:
            continue
        li, lj = label.get(ri), label.get(rj)
        if li is not None and lj is not None and li != lj:
            continue
        parent[rj] = ri
        label[ri] = li if li is not None else lj
        label.pop(rj, None)
    roots = np.array([find(i) for i in range(n)])
    smallest = keys.groupby(roots).transform("min").to_numpy()
    taken = set(old.astype(str))
    ids = []
    for r, s in zip(roots, smallest):
        cid = label.get(int(r))
        if cid is None:
            cid = f"C-{s}"
            while cid in taken:  # an existing id made by another scheme
                cid += "+"
        ids.append(cid)
    return np.array(ids, dtype=object)


def _finish(data, problems, order, pairs, edges_mask, existing, record_id_col, records, threshold, params, model,
            method) -> Resolution:
    n = len(data)
    edges = pairs.loc[edges_mask]
    if existing is not None:
        old = _existing_crosswalk(existing, record_id_col)
        missing = ~old.index.isin(data["record_id"])
        if missing.any():
            warnings.warn(
                f"{int(missing.sum())} record(s) of the existing crosswalk are not in records; they keep their "
                "customers there but are not part of this crosswalk (pass all records to link against them)",
                stacklevel=3,
            )
        cust = _assign_incremental(data, edges, old)
    else:
        labels = _components(n, edges["_rid_l"].to_numpy(), edges["_rid_r"].to_numpy())
        cust = _ids_from_components(labels, data["record_id"])
    golden = golden_records(data, pd.Series(cust))
    # crosswalk in the input's row order
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    crosswalk = pd.DataFrame(
        {"customer_id": cust[inverse], "source": data["source"].to_numpy()[inverse]},
        index=pd.Index(records[record_id_col].to_numpy(), name=record_id_col),
    )
    rid = data["record_id"].to_numpy()
    pairs = pairs.assign(linked=edges_mask)
    pairs.insert(0, "record_id_l", rid[pairs["_rid_l"].to_numpy()])
    pairs.insert(1, "record_id_r", rid[pairs["_rid_r"].to_numpy()])
    pairs = pairs.sort_values(["match_weight", "record_id_l", "record_id_r"], ascending=[False, True, True],
                              kind="mergesort").reset_index(drop=True)
    return Resolution(
        crosswalk=crosswalk,
        golden=golden,
        pairs=pairs,
        problems=problems,
        parameters=params,
        standardised=data.drop(columns="_rid"),
        threshold=threshold,
        model=model,
        method=method,
    )


def resolve_customers(
    records: pd.DataFrame,
    *,
    record_id_col: str = "record_id",
    source_col: str | None = "source",
    columns: Mapping[str, str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    existing: Resolution | pd.DataFrame | pd.Series | None = None,
    seed: int = 42,
    default_region: str = "US",
    dob_formats: Mapping[str, str | list[str]] | None = None,
    backend: str = "duckdb",
    spark: Any = None,
    max_pairs_u: float = 1e6,
) -> Resolution:
    """Resolve records from several systems to one stable customer id each.

    Standardise contact fields, score candidate pairs with a Fellegi-Sunter model trained by
    Splink (u by seeded random sampling, m by EM), link pairs whose match probability is at least
    ``threshold`` or that share an e-mail address (with compatible first names) or loyalty id,
    except pairs that look like two members of one household (both first names known and
    incompatible, birth dates not equal), take connected groups of linked records as customers, and build their golden records.

    Parameters
    ----------
    records : DataFrame
        One row per source record with a unique record id, a source and any of first_name,
        last_name, email, phone, date_of_birth, street, city, postcode (plus optional
        loyalty_id, created_at, full_name).
    record_id_col, source_col : str
        Record id and source-system columns (``source_col=None``: a single system).
    columns : mapping, optional
        Standard name -> your column name, e.g. ``{"postcode": "zip", "email": "mail"}``.
    threshold : float
        Match probability (0-1) at or above which two records are the same customer.
    existing : Resolution or DataFrame, optional
        A previous result (or its crosswalk: record id -> ``customer_id``). Its records must be
        in ``records`` too; they keep their customer ids, and new records join an existing
        customer or start a new one. Existing customers are never merged, split or renumbered.
    seed : int
        Seed for the random pairs that estimate u (the result is deterministic for a seed).
    default_region : str
        ISO region for phone numbers written without a country code.
    dob_formats : mapping, optional
        Source -> strptime format of its dates of birth (inferred per source when absent).
    backend : {"duckdb", "spark"}
        Splink backend. ``"spark"`` needs ``spark=`` a SparkSession.
    max_pairs_u : float
        Number of random pairs sampled to estimate u probabilities.

    Returns
    -------
    Resolution
        ``crosswalk``, ``golden``, ``pairs``, ``problems``, ``parameters`` and ``summary()``.

    Notes
    -----
    Customer ids are ``"C-"`` + the smallest record id (compared as text) in the customer's
    records, so the same records in any row order get the same ids.
    """
    if not 0.0 < float(threshold) < 1.0:
        raise ValueError(f"threshold is a match probability and must lie strictly between 0 and 1, got {threshold!r}")
    data, problems, order = _prepare(records, record_id_col, source_col, columns, default_region, dob_formats)
    if len(data) == 1:
        pairs = pd.DataFrame({"_rid_l": pd.Series(dtype=np.int64), "_rid_r": pd.Series(dtype=np.int64),
                              "match_weight": pd.Series(dtype=float), "match_probability": pd.Series(dtype=float),
                              "decisive": pd.Series(dtype=bool)})
        return _finish(data, problems, order, pairs, np.zeros(0, bool), existing, record_id_col, records,
                       float(threshold), pd.DataFrame(), {}, "splink")
    linker = fit_linker(data, backend=backend, spark=spark, seed=seed, max_pairs_u=max_pairs_u)
    scored = predict_pairs(linker, min_match_probability=min(0.001, float(threshold)))
    params = model_parameters(linker)
    model = linker.misc.save_model_to_json()
    decisive = _decisive_pairs(data)
    decisive["decisive"] = True
    pairs = scored.merge(decisive, on=["_rid_l", "_rid_r"], how="outer")
    pairs["decisive"] = pairs["decisive"].fillna(False).astype(bool)
    drop = [c for c in ("match_key",) if c in pairs.columns]
    pairs = pairs.drop(columns=drop)
    pairs["vetoed"] = _household_veto(pairs, data)
    linked = ((pairs["match_probability"].fillna(0.0).to_numpy() >= threshold) | pairs["decisive"].to_numpy()) & ~pairs[
        "vetoed"].to_numpy()
    return _finish(data, problems, order, pairs, linked, existing, record_id_col, records, float(threshold),
                   params, model, "splink")


def resolve_exact(
    records: pd.DataFrame,
    *,
    record_id_col: str = "record_id",
    source_col: str | None = "source",
    columns: Mapping[str, str] | None = None,
    keys: tuple[str, ...] = ("email", "phone"),
    default_region: str = "US",
    dob_formats: Mapping[str, str | list[str]] | None = None,
) -> Resolution:
    """Deterministic baseline: records sharing a standardised e-mail or phone are one customer.

    Same inputs, outputs and id rule as :func:`resolve_customers`, without a model; used to
    show what probabilistic linkage adds.
    """
    data, problems, order = _prepare(records, record_id_col, source_col, columns, default_region, dob_formats)
    found = []
    for key in keys:
        sub = data.loc[data[key].notna(), ["_rid", key]]
        first = sub.groupby(key)["_rid"].transform("min")
        found.append(pd.DataFrame({"_rid_l": first.to_numpy(), "_rid_r": sub["_rid"].to_numpy()}))
    pairs = pd.concat(found, ignore_index=True)
    pairs = pairs.loc[pairs["_rid_l"] != pairs["_rid_r"]].drop_duplicates().reset_index(drop=True)
    pairs = pairs.assign(match_weight=np.inf, match_probability=1.0, decisive=True, vetoed=False)
    return _finish(data, problems, order, pairs, np.ones(len(pairs), bool), None, record_id_col, records, 1.0,
                   pd.DataFrame(), {}, "exact " + " or ".join(keys))

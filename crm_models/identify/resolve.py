"""Resolve source records to stable customer ids: standardise, link, cluster, build golden records.

:class:`CustomerResolver` is the identity model: ``fit`` learns a Fellegi-Sunter model with
Splink (saved and loaded in crm_models' JSON format), ``resolve`` links any batch of records with
it, without retraining, and returns a :class:`Resolution`. :func:`resolve_customers` does both
in one call; :func:`resolve_exact` is the deterministic baseline (same e-mail or phone).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from crm_models._validation import fail_rows, require_columns
from crm_models.base import CRMEstimator, FieldReader, Summary
from crm_models.errors import N_SHOWN, DataError
from crm_models.identify.golden import golden_records
from crm_models.identify.link import (
    DIALECTS,
    _model_for_batch,
    estimate_prior,
    identifier_columns,
    model_parameters,
    predict_pairs,
    read_model,
    train_model,
    translate_model,
)
from crm_models.identify.standardise import (
    IDENTIFYING_COLUMNS,
    canonical_first_name,
    column_roles,
    first_name_variants,
    standardise_records,
)

__all__ = ["Resolution", "CustomerResolver", "resolve_customers", "resolve_exact", "DEFAULT_THRESHOLD"]

#: Match probability at or above which two records are taken to be the same customer.
DEFAULT_THRESHOLD = 0.9

_TINY = pd.DataFrame(
    {
        "record_id": ["w1", "s1", "w2", "s2"],
        "source": ["web", "store", "web", "store"],
        "first_name": ["Ann", "Anne", "Bob", "Carl"],
        "last_name": ["Lee", "Lee", "Kim", "Kim"],
        "email": ["ann@x.com", "ann@x.com", "bob@x.com", None],
    }
)


@dataclass
class Resolution:
    """The outcome of :meth:`CustomerResolver.resolve` and :func:`resolve_customers`.

    Attributes
    ----------
    crosswalk : pandas.DataFrame
        Indexed by record id (input row order): ``customer_id`` and ``source``. Every input
        record appears exactly once.
    golden : pandas.DataFrame
        One golden record per customer, indexed by ``customer_id`` (see
        :func:`crm_models.identify.golden_records` for the survivorship rules).
    pairs : pandas.DataFrame
        Scored candidate pairs: ``record_id_l``, ``record_id_r``, ``match_weight`` (bits),
        ``match_probability`` (0-1), ``decisive`` (a shared e-mail with compatible first names,
        a shared identifier, or exact duplicates), ``vetoed`` (incompatible first names and no shared birth date:
        what a household looks like; never linked), ``linked`` (used to form customers), and per
        field the two standardised values, the comparison level (``gamma_*``) and its weight
        (``mw_*``, bits).
    problems : pandas.DataFrame
        Values that could not be standardised (record id, source, column, value, reason).
    parameters : pandas.DataFrame
        m and u probabilities and the match weight (bits) of every comparison level.
    standardised : pandas.DataFrame
        The standardised records (in record-id order).
    threshold : float
        Match probability (0-1) used to link pairs.
    model : dict
        The Splink settings the pairs were scored with (trained m and u, the batch's prior).
    method : str
        How the records were linked (``"splink"`` or the exact keys).
    resolver : CustomerResolver or None
        The fitted model that scored the pairs (``None`` for the exact-key baseline).
    changes : pandas.DataFrame
        Values standardisation changed beyond case and punctuation (record id, source, column,
        value, standardised, change): transliterated names, restored leading zeros.

    Examples
    --------
    >>> result = resolve_exact(_TINY)
    >>> result.n_records, result.n_customers
    (4, 3)
    >>> result.summary().stats["customers"]
    3
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
    resolver: CustomerResolver | None = field(default=None, repr=False)
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {k: pd.Series(dtype=object) for k in ("record_id", "source", "column", "value", "standardised", "change")}),
        repr=False)

    @property
    def n_records(self) -> int:
        """Number of records resolved."""
        return len(self.crosswalk)

    @property
    def n_customers(self) -> int:
        """Number of customers the records were resolved to."""
        return int(self.crosswalk["customer_id"].nunique())

    def summary(self) -> Summary:
        """Counts of records, customers, pairs and problems, overall and per source system.

        Returns
        -------
        crm_models.base.Summary
            Statistics: method, records, customers, records per customer (mean), customers with
            several records, scored and linked pairs, threshold (match probability) and
            unparseable values. Table: per source system, its records, the customers they belong
            to and how many of those customers also have records in another system.

        Examples
        --------
        >>> s = resolve_exact(_TINY).summary()
        >>> s.to_frame()["records"].to_dict()
        {'store': 2, 'web': 2}
        """
        per = self.crosswalk.groupby("customer_id").size()
        stats = {
            "method": self.method,
            "records": self.n_records,
            "customers": self.n_customers,
            "records per customer": float(per.mean()),
            "customers with several records": int((per > 1).sum()),
            "scored pairs": len(self.pairs),
            "linked pairs": int(self.pairs["linked"].sum()) if "linked" in self.pairs else 0,
            "threshold": self.threshold,
            "unparseable values": len(self.problems),
            "values transliterated or restored": len(self.changes),
        }
        cw = self.crosswalk
        n_sources = cw.groupby("customer_id")["source"].nunique()
        table = pd.DataFrame(
            {
                "records": cw.groupby("source").size(),
                "customers": cw.groupby("source")["customer_id"].nunique(),
                "customers also elsewhere": cw.assign(_k=cw["customer_id"].map(n_sources) > 1)
                .drop_duplicates(["source", "customer_id"])
                .groupby("source")["_k"]
                .sum()
                .astype(int),
            }
        )
        table.index.name = "source"
        notes = [
            "threshold: the match probability at or above which two records are linked (shared e-mail "
            "addresses with compatible first names, shared identifiers and exact duplicates are linked whatever "
            "their score).",
            "unparseable values: present but unusable contact values, listed in .problems; values changed "
            "beyond case and punctuation (transliterated names, restored leading zeros) are listed in .changes.",
        ]
        return Summary(f"Resolution: {self.n_records:,} records -> {self.n_customers:,} customers", table, stats, notes)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        return f"Resolution({self.n_records:,} records -> {self.n_customers:,} customers, method={self.method!r})"


def _validate(records: pd.DataFrame, record_id_col: str, source_col: str | None, columns: Mapping[str, str] | None):
    require_columns(records, [record_id_col] + ([source_col] if source_col else []), what="records")
    if len(records) == 0:
        raise DataError(None, "is empty: there is nothing to resolve (0 rows)", what="records")
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
    roles = column_roles(records, columns)
    if not set(roles) & _IDENTIFYING_ROLES:
        raise DataError(
            None,
            f"has no usable identifying column: need at least one of {sorted(_IDENTIFYING_ROLES)} "
            f"(or map yours with columns={{'email': 'your_column', 'identifier': ['loyalty_no'], ...}}); "
            "the columns present are "
            f"{list(map(str, records.columns))}",
            rows=records.head(N_SHOWN),
            n_rows=len(records),
            n_total=len(records),
            what="records",
        )


_IDENTIFYING_ROLES = {*IDENTIFYING_COLUMNS, "full_name", "loyalty_id", "identifier"}


def _identifying(data: pd.DataFrame) -> list[str]:
    """The standardised identifying columns of ``data`` (names, contact, address, identifiers)."""
    return [*IDENTIFYING_COLUMNS, *identifier_columns(data.columns)]


def _prepare(records, record_id_col, source_col, columns, default_region, dob_formats):
    """Standardised records in record-id order with the integer key ``_rid``, the problems, the order,
    the changes."""
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
    usable = [c for c in _identifying(data) if data[c].notna().any()]
    if not usable:
        roles = column_roles(records, columns)
        given = [c for role, c in roles.items() if role in _IDENTIFYING_ROLES]
        given = [x for c in given for x in ([c] if isinstance(c, str) else c)]
        raise DataError(
            given[0] if given else None,
            f"holds no usable value: every value of {given} is missing or could not be parsed "
            f"(the {len(std.problems)} unparseable values are listed below)",
            rows=std.problems.head(N_SHOWN) if len(std.problems) else records.head(N_SHOWN),
            n_rows=len(records),
            n_total=len(records),
            what="records",
        )
    # record-id order makes every later step independent of the input's row order
    order = np.argsort(data["record_id"].astype(str).to_numpy(), kind="stable")
    data = data.iloc[order].reset_index(drop=True)
    data.insert(0, "_rid", np.arange(len(data), dtype=np.int64))
    return data, std.problems, order, std.changes


def _duplicate_pairs(data: pd.DataFrame) -> pd.DataFrame:
    """Exact duplicates: records equal in every identifying column (and gender), holding a strong
    value (e-mail, phone or identifier) or at least two identifying values. Each group is chained
    (first-second, second-third, ...), which links it whole."""
    cols = [c for c in [*_identifying(data), "gender"] if c in data.columns and data[c].notna().any()]
    empty = pd.DataFrame({"_rid_l": pd.Series(dtype=np.int64), "_rid_r": pd.Series(dtype=np.int64)})
    if not cols:
        return empty
    values = data[cols].astype(object)
    known = values.notna()
    strong = known[[c for c in cols if c in ("email", "phone", *identifier_columns(cols))]].any(axis=1)
    enough = (strong | (known[[c for c in cols if c != "gender"]].sum(axis=1) >= 2)).to_numpy(bool)
    rows = np.flatnonzero(enough)
    if len(rows) < 2:
        return empty
    filled = values.iloc[rows].where(known.iloc[rows], "\x00")
    key = pd.util.hash_pandas_object(filled, index=False).to_numpy(np.uint64)
    rid = data["_rid"].to_numpy()[rows]
    order = np.lexsort((rid, key))
    a, b = order[:-1], order[1:]
    same = key[a] == key[b]
    a, b = a[same], b[same]
    for c in cols:  # a hash is not a proof: the values must be equal
        col = filled[c].to_numpy(object)
        equal = col[a] == col[b]
        a, b = a[equal], b[equal]
    return pd.DataFrame({"_rid_l": rid[a], "_rid_r": rid[b]})


def _decisive_pairs(data: pd.DataFrame) -> pd.DataFrame:
    """Pairs sharing an e-mail address (with compatible first names) or an identifier, and exact duplicates."""
    found = [_duplicate_pairs(data)]
    for key, guard in (("email", True), *((c, False) for c in identifier_columns(data.columns))):
        sub = data.loc[data[key].notna(), ["_rid", key, "first_name", "last_name"]]
        if sub.empty:
            continue
        m = sub.merge(sub, on=key, suffixes=("_l", "_r"))
        m = m.loc[m["_rid_l"] < m["_rid_r"]]
        if guard:  # a household e-mail shared by two people must not merge them
            a, b = m["first_name_l"].to_numpy(object), m["first_name_r"].to_numpy(object)
            c, d = m["last_name_l"].to_numpy(object), m["last_name_r"].to_numpy(object)
            ok = pd.isna(a) | pd.isna(b) | (a == b)  # the common cases, without a Python loop
            for k in np.flatnonzero(~ok):
                ok[k] = _compatible_first_names(a[k], b[k]) or (a[k] == d[k] and b[k] == c[k])
            m = m.loc[ok]
        found.append(m[["_rid_l", "_rid_r"]])
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


def _decide(data: pd.DataFrame, scored: pd.DataFrame, threshold: float, *, only_candidates: bool = False,
            decisive: pd.DataFrame | None = None):
    """Scored pairs with the decisive ones added, ``decisive`` and ``vetoed`` flags, and which link.

    A pair links when its match probability reaches ``threshold`` or it is decisive, unless the
    household veto applies. ``only_candidates`` checks the veto only on pairs that would link
    (the flags of the others stay False: enough to link, not to sweep thresholds).
    """
    decisive = _decisive_pairs(data) if decisive is None else decisive
    decisive = decisive.assign(decisive=True)
    pairs = scored.merge(decisive, on=["_rid_l", "_rid_r"], how="outer")
    pairs["decisive"] = pairs["decisive"].fillna(False).astype(bool)
    pairs = pairs.drop(columns=[c for c in ("match_key",) if c in pairs.columns])
    candidate = (pairs["match_probability"].fillna(0.0).to_numpy() >= threshold) | pairs["decisive"].to_numpy()
    pairs["vetoed"] = _household_veto(pairs, data, candidate if only_candidates else None)
    return pairs, candidate & ~pairs["vetoed"].to_numpy()


def _household_veto(pairs: pd.DataFrame, data: pd.DataFrame, mask: np.ndarray | None = None) -> np.ndarray:
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
    check = np.arange(len(pairs)) if mask is None else np.flatnonzero(mask)
    for k in check:
        i, j = left[k], right[k]
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
            raise DataError(
                "customer_id",
                "is missing",
                what="existing",
                message=f"existing must be a Resolution or a crosswalk DataFrame with a 'customer_id' column; "
                f"the columns present are {list(map(str, existing.columns))}",
            )
        cw = existing.set_index(record_id_col)["customer_id"] if record_id_col in existing.columns else existing[
            "customer_id"]
    elif isinstance(existing, pd.Series):
        cw = existing
    else:
        raise TypeError(f"existing must be a Resolution, DataFrame or Series, got {type(existing).__name__}")
    frame = cw.rename("customer_id").to_frame()
    fail_rows(frame, cw.index.duplicated(keep=False), record_id_col, "must list each record id once", what="existing")
    fail_rows(frame, cw.isna().to_numpy(), "customer_id", "must hold a customer id for every record", what="existing")
    return cw


def _assign_incremental(data: pd.DataFrame, edges: pd.DataFrame, old: pd.Series, taken=None) -> np.ndarray:
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
    taken = set(old.astype(str)) | set(taken or ())
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
            method, resolver=None, changes=None) -> Resolution:
    n = len(data)
    edges = pairs.loc[edges_mask]
    if existing is not None:
        old = _existing_crosswalk(existing, record_id_col)
        missing = ~old.index.isin(data["record_id"])
        if missing.any():
            warnings.warn(
                f"{int(missing.sum())} record(s) of the existing crosswalk are not in records; they keep their "
                "customers there but are not part of this crosswalk (pass all records to link against them)",
                stacklevel=4,
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
        resolver=resolver,
        **({} if changes is None else {"changes": changes}),
    )


def _no_pairs() -> pd.DataFrame:
    return pd.DataFrame({"_rid_l": pd.Series(dtype=np.int64), "_rid_r": pd.Series(dtype=np.int64),
                         "match_weight": pd.Series(dtype=float), "match_probability": pd.Series(dtype=float),
                         "decisive": pd.Series(dtype=bool), "vetoed": pd.Series(dtype=bool)})


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class CustomerResolver(CRMEstimator):
    """The identity model: a Fellegi-Sunter model learned by Splink, saved as JSON, reused on new records.

    ``fit`` standardises the records and trains the model (u from seeded random pairs, m by
    expectation maximisation, the prior from deterministic rules (same e-mail; same names and
    date of birth, postcode or phone; same identifier), then refined on the training records to
    the value the model's own match probabilities support, :func:`~crm_models.identify.link.estimate_prior`);
    ``resolve`` scores the candidate pairs of any batch of records with the fitted model,
    without retraining, links pairs whose match probability is at least ``threshold`` or that
    are decisive (a shared e-mail address with compatible first names, a shared identifier, or
    exact duplicates), except pairs that look like two members of one household (both first
    names known and incompatible, birth dates not equal), takes connected groups of linked records
    as customers and builds their golden records.

    Parameters
    ----------
    threshold : float
        Match probability, strictly between 0 and 1, at or above which two records are the same
        customer.
    random_state : None, int or numpy.random.Generator
        Seed of the random pairs that estimate u: an int is Splink's seed (the same int, the same
        model); a Generator or None (fresh entropy) draws one. Default 0.
    default_region : str
        ISO 3166 region (e.g. ``"US"``, ``"GB"``) of phone numbers written without a country code.
    dob_formats : mapping, optional
        Source -> strptime format (or list of formats) of its dates of birth; inferred per source
        when absent.
    max_pairs_u : float
        Random pairs sampled to estimate the u probabilities (at least 1).
    backend : {"duckdb", "spark"}
        Splink backend; ``"spark"`` needs ``spark=`` a SparkSession in ``fit`` and ``resolve``.

    Attributes
    ----------
    model_ : dict
        The trained Splink settings: every comparison level's ``m_probability`` and
        ``u_probability`` and the prior ``probability_two_random_records_match`` of the training
        records (what ``splink.Linker(records, model_)`` reads).
    parameters_ : pandas.DataFrame
        The same as a table: per level m, u and match weight ``log2(m / u)`` (bits).
    n_records_ : int
        Number of records the model was trained on.

    Notes
    -----
    The prior is the share of all pairs that match, so it depends on the batch: ``resolve``
    rescales it from the ``n_records_`` training records to a batch of ``n`` as
    ``prior * (n_records_ - 1) / (n - 1)`` (a stable number of records per person); the same
    records as in ``fit`` are scored with the learned prior itself. Customer ids are ``"C-"`` +
    the smallest record id (compared as text) among the customer's records, so the same records in
    any row order get the same ids.

    Examples
    --------
    >>> resolver = CustomerResolver(threshold=0.9).fit(_TINY)
    >>> resolver.resolve(_TINY).crosswalk["customer_id"].tolist()
    ['C-s1', 'C-s1', 'C-w2', 'C-s2']
    >>> resolver.parameters_["comparison"].unique().tolist()
    ['name', 'email']
    """

    _fitted_attribute = "model_"

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        random_state=0,
        default_region: str = "US",
        dob_formats: Mapping[str, str | list[str]] | None = None,
        max_pairs_u: float = 1e6,
        backend: str = "duckdb",
    ) -> None:
        self.threshold = threshold
        self.random_state = random_state
        self.default_region = default_region
        self.dob_formats = dob_formats
        self.max_pairs_u = max_pairs_u
        self.backend = backend

    def _check_params(self) -> None:
        import phonenumbers

        t = self.threshold
        if not (_is_number(t) and 0.0 < float(t) < 1.0):
            raise ValueError(f"threshold is a match probability and must lie strictly between 0 and 1, got {t!r}")
        rs = self.random_state
        if not (rs is None or isinstance(rs, (np.random.Generator, np.random.RandomState))
                or isinstance(rs, (int, np.integer)) and not isinstance(rs, (bool, np.bool_))):
            raise ValueError(f"random_state must be None, an int or a numpy Generator, got {rs!r}")
        if self.default_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                f"default_region must be an ISO 3166 region phonenumbers knows (such as 'US' or 'GB'), "
                f"got {self.default_region!r}"
            )
        formats = self.dob_formats
        if formats is not None:
            ok = isinstance(formats, Mapping) and all(
                isinstance(k, str) and (isinstance(v, str) or (isinstance(v, (list, tuple)) and v
                                                               and all(isinstance(f, str) for f in v)))
                for k, v in formats.items()
            )
            if not ok:
                raise ValueError(
                    "dob_formats must map each source (a string) to a strptime format or a list of formats, "
                    f"e.g. {{'store': '%d/%m/%Y'}}; got {formats!r}"
                )
        m = self.max_pairs_u
        if not (_is_number(m) and math.isfinite(m) and m >= 1):
            raise ValueError(f"max_pairs_u is a number of random pairs and must be at least 1, got {m!r}")
        if self.backend not in DIALECTS:
            raise ValueError(f"backend must be one of {sorted(DIALECTS)}, got {self.backend!r}")

    # -- learning ---------------------------------------------------------------------------
    def fit(
        self,
        records: pd.DataFrame,
        *,
        record_id_col: str = "record_id",
        source_col: str | None = "source",
        columns: Mapping[str, str] | None = None,
        spark: Any = None,
    ) -> CustomerResolver:
        """Learn the identity model from source records.

        Parameters
        ----------
        records : pandas.DataFrame
            At least two rows, one per source record, with a unique record id, a source and at
            least one identifying column (see :data:`~crm_models.identify.ROLES`: first_name,
            last_name, full_name, email, phone, date_of_birth, street, city, postcode, identifiers;
            gender and created_at help).
        record_id_col : str
            Record id column.
        source_col : str or None
            Source-system column (``None``: a single system).
        columns : mapping, optional
            Role -> your column name, e.g. ``{"postcode": "zip", "email": "mail", "identifier":
            ["loyalty_no"]}`` (see :data:`~crm_models.identify.ROLES`).
        spark : pyspark.sql.SparkSession, optional
            Required with ``backend="spark"``.

        Returns
        -------
        CustomerResolver
            ``self``, fitted.

        Raises
        ------
        crm_models.errors.DataError
            Missing or duplicate record ids, no usable identifying column, fewer than 2 records.

        Examples
        --------
        >>> resolver = CustomerResolver().fit(_TINY)
        >>> resolver.n_records_
        4
        """
        self._check_params()
        data, _, _, _ = _prepare(records, record_id_col, source_col, columns, self.default_region, self.dob_formats)
        self._fit_prepared(data, records, record_id_col, spark)
        return self

    def _fit_prepared(self, data: pd.DataFrame, records: pd.DataFrame, record_id_col: str, spark,
                      detail: bool = True) -> pd.DataFrame:
        """Train on ``data``, refine the prior on its scored pairs; returns those pairs (scored with
        the refined prior and cut at the smallest match probability :meth:`resolve` keeps)."""
        if len(data) < 2:
            raise DataError(
                record_id_col,
                "must list at least 2 records: the model is learned from pairs of records",
                rows=records.head(N_SHOWN),
                n_rows=len(records),
                n_total=len(records),
                what="records",
            )
        model = train_model(data, random_state=self.random_state, max_pairs_u=float(self.max_pairs_u),
                            backend=self.backend, spark=spark)
        # the prior the model's own probabilities support on these records (see estimate_prior),
        # from pairs scored down to 2**-10 of the smallest probability kept, so none is missed
        start = float(model["probability_two_random_records_match"])
        keep = self._min_probability()
        floor = math.log2(keep / (1 - keep)) - 10.0
        scored = predict_pairs(data, model, min_match_weight=floor, detail=detail, backend=self.backend, spark=spark)
        prior = estimate_prior(scored["match_weight"].to_numpy(), len(data), start)
        model["probability_two_random_records_match"] = prior
        shift = math.log2(prior / (1 - prior)) - math.log2(start / (1 - start))
        scored["match_weight"] = scored["match_weight"] + shift
        scored["match_probability"] = 1.0 / (1.0 + np.exp2(-scored["match_weight"].to_numpy()))
        scored = scored.loc[scored["match_probability"] >= keep].reset_index(drop=True)
        self.model_ = model
        self.parameters_ = model_parameters(model)
        self.n_records_ = len(data)
        return scored

    def _min_probability(self) -> float:
        """The smallest match probability kept among scored pairs."""
        return min(0.001, float(self.threshold))

    # -- linking ----------------------------------------------------------------------------
    def resolve(
        self,
        records: pd.DataFrame,
        *,
        record_id_col: str = "record_id",
        source_col: str | None = "source",
        columns: Mapping[str, str] | None = None,
        existing: Resolution | pd.DataFrame | pd.Series | None = None,
        spark: Any = None,
    ) -> Resolution:
        """Resolve records to customers with the fitted model (no retraining).

        Parameters
        ----------
        records : pandas.DataFrame
            One row per source record (the layout of :meth:`fit`; any batch, not only the
            training records).
        record_id_col : str
            Record id column.
        source_col : str or None
            Source-system column (``None``: a single system).
        columns : mapping, optional
            Role -> your column name (see :data:`~crm_models.identify.ROLES`).
        existing : Resolution, pandas.DataFrame or pandas.Series, optional
            A previous result (or its crosswalk: record id -> ``customer_id``). Its records must
            be in ``records`` too; they keep their customer ids, and new records join an existing
            customer or start a new one. Existing customers are never merged, split or renumbered.
        spark : pyspark.sql.SparkSession, optional
            Required with ``backend="spark"``.

        Returns
        -------
        Resolution
            ``crosswalk``, ``golden``, ``pairs``, ``problems``, ``parameters`` and ``summary()``.

        Examples
        --------
        >>> resolver = CustomerResolver().fit(_TINY)
        >>> result = resolver.resolve(_TINY)
        >>> result.n_customers
        3
        >>> later = pd.concat([_TINY, _TINY.iloc[[0]].assign(record_id="m1", source="mail")])
        >>> resolver.resolve(later, existing=result).crosswalk.loc["m1", "customer_id"]
        'C-s1'
        """
        self._check_fitted()
        self._check_params()
        data, problems, order, changes = _prepare(records, record_id_col, source_col, columns, self.default_region,
                                                  self.dob_formats)
        return self._resolve_prepared(data, problems, order, records, record_id_col, existing, spark, changes)

    def _resolve_prepared(self, data, problems, order, records, record_id_col, existing, spark, changes,
                          scored=None) -> Resolution:
        threshold = float(self.threshold)
        model = _model_for_batch(self.model_, self.n_records_, len(data))
        if len(data) < 2:
            return _finish(data, problems, order, _no_pairs(), np.zeros(0, bool), existing, record_id_col, records,
                           threshold, self.parameters_.copy(), model, "splink", self, changes)
        if scored is None:
            scored = predict_pairs(data, model, min_match_probability=self._min_probability(), backend=self.backend,
                                   spark=spark)
        pairs, linked = _decide(data, scored, threshold)
        return _finish(data, problems, order, pairs, linked, existing, record_id_col, records, threshold,
                       self.parameters_.copy(), model, "splink", self, changes)

    # -- results ----------------------------------------------------------------------------
    def summary(self) -> Summary:
        """The learned m and u probability and match weight of every comparison level.

        Returns
        -------
        crm_models.base.Summary
            Table indexed by comparison and level: ``m_probability``, ``u_probability`` and
            ``match_weight`` (bits); statistics: records learned from, the prior and its weight
            (bits), the threshold.

        Examples
        --------
        >>> s = CustomerResolver().fit(_TINY).summary()
        >>> s.to_frame().columns.tolist()
        ['m_probability', 'u_probability', 'match_weight']
        """
        self._check_fitted()
        prior = float(self.model_["probability_two_random_records_match"])
        table = self.parameters_.set_index(["comparison", "level"])[["m_probability", "u_probability", "match_weight"]]
        stats = {
            "records learned from": self.n_records_,
            "prior P(match)": prior,
            "prior weight (bits)": math.log2(prior / (1 - prior)),
            "threshold": float(self.threshold),
        }
        notes = [
            "m = P(level | same person), learned by expectation maximisation; u = P(level | different people), "
            "from random pairs; match weight = log2(m / u) in bits, added over comparisons to the prior's weight.",
            "Estimates below 1e-6, and the u of levels no random pair fell in, are 1e-6; levels EM could not "
            "estimate have m = u (weight 0).",
            "The prior is rescaled to the size of each batch resolved (it is the share of all pairs that match).",
        ]
        return Summary("Identity model (Fellegi-Sunter, trained by Splink)", table, stats, notes)

    # -- persistence ------------------------------------------------------------------------
    def _fitted_state(self) -> dict[str, Any]:
        # saved in the SQL dialect of the backend (a model trained on DuckDB may score on Spark)
        return {"model": translate_model(self.model_, self.backend), "n_records": self.n_records_}

    def _restore(self, fitted: FieldReader) -> None:
        keys = set(fitted.keys())
        if keys != {"model", "n_records"}:
            fitted.fail(sorted(keys ^ {"model", "n_records"})[0], "must be exactly 'model' and 'n_records'")
        self.n_records_ = fitted.number("n_records", low=2, integer=True)
        self.model_ = read_model(fitted, "model", backend=self.backend)
        self.parameters_ = model_parameters(self.model_)


def resolve_customers(
    records: pd.DataFrame,
    *,
    record_id_col: str = "record_id",
    source_col: str | None = "source",
    columns: Mapping[str, str] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    existing: Resolution | pd.DataFrame | pd.Series | None = None,
    random_state=0,
    default_region: str = "US",
    dob_formats: Mapping[str, str | list[str]] | None = None,
    backend: str = "duckdb",
    spark: Any = None,
    max_pairs_u: float = 1e6,
) -> Resolution:
    """Resolve records from several systems to one stable customer id each, in one call.

    Fits a :class:`CustomerResolver` on ``records`` and resolves them with it (the fitted model
    is ``result.resolver``: save it, or resolve the next batch with it without retraining). A
    single record is its own customer (there is no pair to learn from).

    Parameters
    ----------
    records : pandas.DataFrame
        One row per source record with a unique record id, a source and at least one
        identifying column (see :data:`~crm_models.identify.ROLES`: first_name, last_name,
        full_name, email, phone, date_of_birth, street, city, postcode, identifiers; gender and
        created_at help).
    record_id_col : str
        Record id column.
    source_col : str or None
        Source-system column (``None``: a single system).
    columns : mapping, optional
        Role -> your column name, e.g. ``{"postcode": "zip", "email": "mail", "identifier":
        ["loyalty_no"]}`` (see :data:`~crm_models.identify.ROLES`).
    threshold : float
        Match probability (strictly between 0 and 1) at or above which two records are the same
        customer.
    existing : Resolution, pandas.DataFrame or pandas.Series, optional
        A previous result (or its crosswalk: record id -> ``customer_id``); see
        :meth:`CustomerResolver.resolve`.
    random_state : None, int or numpy.random.Generator
        Seed of the random pairs that estimate u (default 0: the same records, the same result).
    default_region : str
        ISO 3166 region of phone numbers written without a country code.
    dob_formats : mapping, optional
        Source -> strptime format of its dates of birth (inferred per source when absent).
    backend : {"duckdb", "spark"}
        Splink backend. ``"spark"`` needs ``spark=`` a SparkSession.
    spark : pyspark.sql.SparkSession, optional
        The Spark session.
    max_pairs_u : float
        Random pairs sampled to estimate the u probabilities.

    Returns
    -------
    Resolution
        ``crosswalk``, ``golden``, ``pairs``, ``problems``, ``parameters``, ``resolver`` and
        ``summary()``.

    Examples
    --------
    >>> result = resolve_customers(_TINY)
    >>> result.crosswalk["customer_id"].to_dict()
    {'w1': 'C-s1', 's1': 'C-s1', 'w2': 'C-w2', 's2': 'C-s2'}
    >>> result.resolver.threshold
    0.9
    """
    resolver = CustomerResolver(threshold=threshold, random_state=random_state, default_region=default_region,
                                dob_formats=dob_formats, max_pairs_u=max_pairs_u, backend=backend)
    resolver._check_params()
    data, problems, order, changes = _prepare(records, record_id_col, source_col, columns, default_region, dob_formats)
    if len(data) < 2:
        return _finish(data, problems, order, _no_pairs(), np.zeros(0, bool), existing, record_id_col, records,
                       float(threshold), model_parameters({"comparisons": []}), {}, "splink", None, changes)
    scored = resolver._fit_prepared(data, records, record_id_col, spark)
    return resolver._resolve_prepared(data, problems, order, records, record_id_col, existing, spark, changes, scored)


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

    Parameters
    ----------
    records : pandas.DataFrame
        One row per source record (see :func:`resolve_customers`).
    record_id_col : str
        Record id column.
    source_col : str or None
        Source-system column (``None``: a single system).
    columns : mapping, optional
        Role -> your column name (see :data:`~crm_models.identify.ROLES`).
    keys : tuple of str
        Standardised columns whose equal values link two records (any of them).
    default_region : str
        ISO 3166 region of phone numbers written without a country code.
    dob_formats : mapping, optional
        Source -> strptime format of its dates of birth.

    Returns
    -------
    Resolution
        With ``method`` ``"exact email or phone"``, threshold 1 and no model.

    Examples
    --------
    >>> resolve_exact(_TINY).crosswalk["customer_id"].tolist()
    ['C-s1', 'C-s1', 'C-w2', 'C-s2']
    """
    unknown = [k for k in keys if k not in IDENTIFYING_COLUMNS and k != "loyalty_id" and not str(k).startswith("id_")]
    if not keys or unknown:
        raise ValueError(f"keys must name standardised columns of {[*IDENTIFYING_COLUMNS, 'loyalty_id']} or "
                         f"identifier columns (id_*), got {keys!r}")
    data, problems, order, changes = _prepare(records, record_id_col, source_col, columns, default_region, dob_formats)
    missing_keys = [k for k in keys if k not in data.columns]
    if missing_keys:
        raise ValueError(f"keys {missing_keys} are not standardised columns of these records "
                         f"(their identifier columns: {list(identifier_columns(data.columns))})")
    found = []
    for key in keys:
        sub = data.loc[data[key].notna(), ["_rid", key]]
        first = sub.groupby(key)["_rid"].transform("min")
        found.append(pd.DataFrame({"_rid_l": first.to_numpy(), "_rid_r": sub["_rid"].to_numpy()}))
    pairs = pd.concat(found, ignore_index=True)
    pairs = pairs.loc[pairs["_rid_l"] != pairs["_rid_r"]].drop_duplicates().reset_index(drop=True)
    pairs = pairs.assign(match_weight=np.inf, match_probability=1.0, decisive=True, vetoed=False)
    return _finish(data, problems, order, pairs, np.ones(len(pairs), bool), None, record_id_col, records, 1.0,
                   model_parameters({"comparisons": []}), {}, "exact " + " or ".join(keys), None, changes)

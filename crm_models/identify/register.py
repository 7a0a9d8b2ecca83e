"""A customer register that lives on: records, crosswalk, golden records, model and audit in one DuckDB file.

Identification is a running process: new records arrive every day and must be recognised as a
known customer or a new one, with an id that never changes. :class:`CustomerRegister` keeps
everything that process needs in one embedded DuckDB file:

============  =================================================================================
``records``   every record ever added, standardised (and as received, in ``raw``), with its
              ``customer_id`` (the crosswalk) and the batch it came in
``golden``    one golden record per customer, updated as records arrive
``models``    every version of the linkage model (a :class:`CustomerResolver` in its JSON format)
``guidance``  the model's own precision/recall estimate per threshold, per model version
``audit``     every link, new customer, possible merge, merge, split and retraining, with its time
              and evidence (the pair of records and its match probability and weight)
``batches``   one row per batch added
``retired``   customer ids retired by a merge, and the id they were merged into
============  =================================================================================

``add(batch)`` standardises the batch, skips records already in the register (a re-run is a
no-op), scores the new records against the register's records that share a blocking key with
them (and against each other) with the saved model, without retraining unless asked, and links
each new record to an existing customer or starts a new one. Existing customers are never
renumbered, merged or split by ``add``; evidence that a new record ties two existing customers
together is logged as a ``possible merge`` for a person to confirm with :meth:`merge`.
``lookup`` scores a contact (a caller's name, e-mail, phone...) against the register, as a
call-centre screen would.

The register is a file: close it, reopen it in another process, and it is all there.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crm_models.base import Summary
from crm_models.errors import N_SHOWN, DataError
from crm_models.identify.evaluate import suggested_threshold, threshold_guidance
from crm_models.identify.golden import golden_records
from crm_models.identify.link import (
    LINK_COLUMNS,
    _model_for_batch,
    _SWAPPED_NAMES_RULE,
    identifier_columns,
    model_columns,
    predict_new_pairs,
    predict_pairs,
)
from crm_models.identify.resolve import (
    CustomerResolver,
    _assign_incremental,
    _components,
    _decide,
    _decisive_pairs,
    _ids_from_components,
    _prepare,
)

__all__ = ["CustomerRegister", "RegisterUpdate", "REGISTER_FORMAT", "REGISTER_FORMAT_VERSION"]

#: The ``format`` a register file declares in its ``meta`` table.
REGISTER_FORMAT = "crm_models.register"
#: The version of the register's tables this crm_models reads and writes.
REGISTER_FORMAT_VERSION = 1

#: Standardised columns stored per record (identifier columns ``id_*`` are added as they appear).
_STORED = ("first_name", "last_name", "first_name_canon", "first_name_variants", "email", "phone", "date_of_birth",
           "street", "city", "postcode", "gender", "loyalty_id")
_AUDIT_COLUMNS = ("event_id", "logged_at", "batch_id", "action", "record_id", "customer_id", "other_record_id",
                  "other_customer_id", "match_probability", "match_weight", "detail")

_SCHEMA = """
create table if not exists meta (key varchar primary key, value varchar);
create table if not exists records (
    rid bigint primary key, record_id varchar unique not null, source varchar, customer_id varchar not null,
    batch_id integer, added_at timestamp, fingerprint varchar,
    first_name varchar, last_name varchar, first_name_canon varchar, first_name_variants varchar[],
    email varchar, phone varchar, date_of_birth varchar, street varchar, city varchar, postcode varchar,
    gender varchar, loyalty_id varchar, created_at timestamp, raw varchar);
create table if not exists models (version integer primary key, trained_at timestamp, batch_id integer,
    n_records bigint, document varchar);
create table if not exists guidance (model_version integer, threshold double, linked_pairs bigint,
    expected_true_pairs double, estimated_precision double, estimated_recall double, estimated_f1 double);
create table if not exists audit (event_id bigint, logged_at timestamp, batch_id integer, action varchar, record_id varchar,
    customer_id varchar, other_record_id varchar, other_customer_id varchar, match_probability double,
    match_weight double, detail varchar);
create table if not exists batches (batch_id integer primary key, added_at timestamp, label varchar, n_records bigint,
    n_new bigint, n_already bigint, n_joined bigint, n_new_customers bigint, n_possible_merges bigint,
    model_version integer);
create table if not exists retired (customer_id varchar primary key, merged_into varchar, retired_at timestamp);
"""

_DEMO = pd.DataFrame(
    {
        "record_id": ["w1", "s1", "w2", "s2", "w3"],
        "source": ["web", "store", "web", "store", "web"],
        "first_name": ["Ann", "Anne", "Bob", "Carl", "Dora"],
        "last_name": ["Lee", "Lee", "Kim", "Kim", "Diaz"],
        "email": ["ann@x.com", "ann@x.com", "bob@x.com", None, "dora@y.org"],
    }
)


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").tz_localize(None).floor("us")


@dataclass
class RegisterUpdate:
    """What one :meth:`CustomerRegister.add` did.

    Attributes
    ----------
    batch_id : int or None
        The batch's number in the register (``None`` when nothing was new: a no-op).
    crosswalk : pandas.DataFrame
        Every record of the batch, in input order, indexed by its record id: ``customer_id``,
        ``source`` and ``status`` (``"new customer"``, ``"joined"`` an existing customer or
        ``"already registered"``).
    problems : pandas.DataFrame
        Values of the batch that could not be standardised.
    changes : pandas.DataFrame
        Values of the batch changed beyond case and punctuation (transliterated, restored).
    model_version : int
        The model version that linked the batch.
    retrained : bool
        Whether a model was trained for this batch.
    n_possible_merges : int
        New records whose evidence also points to a second existing customer (see the audit).
    seconds : float
        Wall time the batch took, in seconds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "customers.duckdb"
    >>> with CustomerRegister(path) as register:
    ...     update = register.add(_DEMO)
    >>> update.n_new, update.n_new_customers
    (5, 4)
    """

    batch_id: int | None
    crosswalk: pd.DataFrame
    problems: pd.DataFrame
    changes: pd.DataFrame
    model_version: int
    retrained: bool
    n_possible_merges: int = 0
    seconds: float = field(default=0.0, repr=False)

    @property
    def n_records(self) -> int:
        """Records in the batch."""
        return len(self.crosswalk)

    @property
    def n_new(self) -> int:
        """Records of the batch that were not in the register yet."""
        return int((self.crosswalk["status"] != "already registered").sum())

    @property
    def n_already(self) -> int:
        """Records of the batch already in the register (skipped)."""
        return int((self.crosswalk["status"] == "already registered").sum())

    @property
    def n_joined(self) -> int:
        """New records that joined an existing customer."""
        return int((self.crosswalk["status"] == "joined").sum())

    @property
    def n_new_customers(self) -> int:
        """Customers the batch started."""
        new = self.crosswalk.loc[self.crosswalk["status"] == "new customer", "customer_id"]
        return int(new.nunique())

    def summary(self) -> Summary:
        """Counts of the batch: records, new, already registered, joined, new customers.

        Returns
        -------
        crm_models.base.Summary
            Statistics and, as the table, the records per status and source.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     s = register.add(_DEMO).summary()
        >>> s.stats["new customers"]
        4
        """
        stats = {
            "batch": self.batch_id if self.batch_id is not None else "none (nothing new)",
            "records": self.n_records,
            "new records": self.n_new,
            "already registered": self.n_already,
            "joined existing customers": self.n_joined,
            "new customers": self.n_new_customers,
            "possible merges to review": self.n_possible_merges,
            "model version": self.model_version,
            "retrained": self.retrained,
            "unparseable values": len(self.problems),
            "values transliterated or restored": len(self.changes),
        }
        table = pd.crosstab(self.crosswalk["source"], self.crosswalk["status"])
        notes = ["A record already registered (same record id, same contact data) is skipped: re-running a batch "
                 "changes nothing.",
                 "possible merges: a new record that also matches a second existing customer; existing customers "
                 "are never merged automatically (see CustomerRegister.audit and CustomerRegister.merge)."]
        return Summary("Batch added to the customer register", table, stats, notes)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        return (f"RegisterUpdate(batch {self.batch_id}: {self.n_records:,} records, {self.n_new:,} new, "
                f"{self.n_joined:,} joined, {self.n_new_customers:,} new customers)")


class CustomerRegister:
    """A persistent customer register in one DuckDB file (see the module docstring for its tables).

    Parameters
    ----------
    path : str or pathlib.Path
        The register file; created (empty) if it does not exist.
    read_only : bool
        Open an existing register for reading and lookups only (several processes may).
    memory_limit : str
        Most memory DuckDB uses before spilling to disk, e.g. ``"3GB"``.

    Raises
    ------
    crm_models.errors.DataError
        The file is not a crm_models register, or is from a newer version.
    OSError
        The file is open for writing in another process, or a read-only register does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "customers.duckdb"
    >>> with CustomerRegister(path) as register:
    ...     _ = register.add(_DEMO)
    >>> with CustomerRegister(path) as register:  # reopened: everything is still there
    ...     register.crosswalk()["customer_id"].to_dict()
    {'s1': 'C-s1', 's2': 'C-s2', 'w1': 'C-s1', 'w2': 'C-w2', 'w3': 'C-w3'}
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, memory_limit: str = "3GB") -> None:
        import duckdb

        self.path = Path(path)
        self.read_only = bool(read_only)
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"register {self.path} does not exist (open it without read_only to create it)")
        if not self.path.parent.exists():
            raise FileNotFoundError(f"cannot create register {self.path}: folder {self.path.parent} does not exist")
        try:
            self._con = duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.IOException as exc:
            if "not a valid DuckDB database" in str(exc):
                raise DataError(None, "is not a crm_models register (not a DuckDB database)", what=f"register {self.path}",
                                message=f"{self.path} is not a crm_models register (not a DuckDB database)") from None
            raise OSError(f"cannot open register {self.path}: {str(exc).splitlines()[0]} (is it open for writing in "
                          "another process?)") from None
        except duckdb.Error as exc:
            raise DataError(None, "is not a crm_models register (not a DuckDB database)", what=f"register {self.path}",
                            message=f"{self.path} is not a crm_models register (not a DuckDB database)") from None
        try:
            self._con.execute(f"set memory_limit = '{_memory(memory_limit)}'").fetchall()
            tables = {r[0] for r in self._rows("select table_name from information_schema.tables")}
            if tables and "meta" not in tables:
                raise DataError(None, "is a DuckDB database but not a crm_models register (no meta table)",
                                what=f"register {self.path}",
                                message=f"{self.path} is a DuckDB database but not a crm_models register (its tables: "
                                f"{sorted(tables)[:N_SHOWN]}); nothing was written to it")
            if not self.read_only:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._con.execute(statement).fetchall()
            self._check_format()
        except Exception:
            self._con.close()
            raise

    # -- file --------------------------------------------------------------------------------
    def _check_format(self) -> None:
        tables = {r[0] for r in self._rows("select table_name from information_schema.tables")}
        if "meta" not in tables:
            raise DataError(None, "is a DuckDB database but not a crm_models register (no meta table)",
                            what=f"register {self.path}",
                            message=f"{self.path} is a DuckDB database but not a crm_models register (no meta table)")
        meta = dict(self._rows("select key, value from meta"))
        if not meta:
            if self.read_only:
                raise DataError(None, "was never written; open it for writing first", what=f"register {self.path}",
                                message=f"register {self.path} was never written; open it for writing first")
            now = str(_now())
            for key, value in (("format", REGISTER_FORMAT), ("format_version", str(REGISTER_FORMAT_VERSION)),
                               ("created_at", now)):
                self._run("insert into meta values (?, ?)", [key, value])
            return
        if meta.get("format") != REGISTER_FORMAT:
            raise DataError(None, "is not a crm_models register", what=f"register {self.path}",
                            message=f"{self.path} is not a crm_models register (format {meta.get('format')!r})")
        if meta.get("format_version") != str(REGISTER_FORMAT_VERSION):
            raise DataError(None, f"has format version {meta.get('format_version')!r}; this crm_models reads "
                            f"version {REGISTER_FORMAT_VERSION}", what=f"register {self.path}",
                            message=f"register {self.path} has format version {meta.get('format_version')!r}; this "
                            f"crm_models reads version {REGISTER_FORMAT_VERSION}")

    def close(self) -> None:
        """Close the file (the register stays on disk; open it again with ``CustomerRegister(path)``)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> CustomerRegister:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._con is None:
            return f"CustomerRegister({str(self.path)!r}, closed)"
        return f"CustomerRegister({str(self.path)!r}: {self.n_records:,} records, {self.n_customers:,} customers)"

    def _execute(self, sql: str, params=None):
        if self._con is None:
            raise ValueError(f"register {self.path} is closed; open it again with CustomerRegister(path)")
        return self._con.execute(sql, params or [])

    def _unregister(self, name: str) -> None:
        """Drop a registered DataFrame view (quietly: an aborted transaction must not hide its error)."""
        import duckdb

        try:
            self._con.unregister(name)
        except duckdb.Error:
            pass

    def _run(self, sql: str, params=None) -> None:
        """Execute a statement to completion."""
        self._execute(sql, params).fetchall()

    def _rows(self, sql: str, params=None) -> list:
        return self._execute(sql, params).fetchall()

    def _scalar(self, sql: str, params=None):
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    def _df(self, sql: str, params=None) -> pd.DataFrame:
        return self._execute(sql, params).df()

    def _meta(self, key: str, default=None):
        row = (self._rows("select value from meta where key = ?", [key]) or [None])[0]
        return default if row is None else row[0]

    def _set_meta(self, key: str, value: str) -> None:
        self._run("insert or replace into meta values (?, ?)", [key, value])

    # -- counts and tables -------------------------------------------------------------------
    @property
    def n_records(self) -> int:
        """Records in the register."""
        return int(self._scalar("select count(*) from records"))

    @property
    def n_customers(self) -> int:
        """Customers in the register."""
        return int(self._scalar("select count(distinct customer_id) from records"))

    @property
    def model_version(self) -> int:
        """The current model version (0: no model yet)."""
        return int(self._scalar("select coalesce(max(version), 0) from models"))

    @property
    def resolver(self) -> CustomerResolver:
        """The current linkage model, loaded (validated field by field) from the register.

        Raises
        ------
        crm_models.errors.NotFittedError
            The register has no model yet (add a first batch).
        """
        from crm_models.errors import NotFittedError

        row = (self._rows("select document from models order by version desc limit 1") or [None])[0]
        if row is None:
            raise NotFittedError(f"register {self.path} has no model yet: add a first batch of records")
        return CustomerResolver.from_dict(json.loads(row[0]), source=f"{self.path} (models table)")

    @property
    def columns(self) -> dict:
        """The column-role mapping of the last batch added (used when ``add`` gets none)."""
        return json.loads(self._meta("columns", "{}"))

    def _identifier_columns(self) -> list[str]:
        cols = [r[0] for r in self._rows(
            "select column_name from information_schema.columns where table_name = 'records' "
            "order by ordinal_position")]
        return [c for c in cols if c.startswith("id_")]

    def crosswalk(self) -> pd.DataFrame:
        """Every record's customer: indexed by ``record_id`` (sorted), columns ``customer_id``, ``source``.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     register.crosswalk().loc["w1", "customer_id"]
        'C-s1'
        """
        frame = self._df("select record_id, customer_id, source from records order by record_id")
        return frame.set_index("record_id")

    def records(self, customer_id: str | None = None) -> pd.DataFrame:
        """The standardised records (all, or one customer's), with ``customer_id`` and ``batch_id``.

        Parameters
        ----------
        customer_id : str, optional
            Only this customer's records (a retired id is followed to the customer it merged into).

        Returns
        -------
        pandas.DataFrame
            Indexed by ``record_id``; ``raw`` holds each record as received (JSON).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     register.records("C-s1")[["source", "first_name", "email"]]
                  source first_name      email
        record_id
        s1         store       anne  ann@x.com
        w1           web        ann  ann@x.com
        """
        where, params = "", []
        if customer_id is not None:
            where, params = "where customer_id = ?", [self._current_id(customer_id)]
        frame = self._df(f"select * exclude (rid, fingerprint) from records {where} order by record_id", params)
        return frame.set_index("record_id")

    def golden(self) -> pd.DataFrame:
        """The golden records, one per customer, indexed by ``customer_id`` (see :func:`golden_records`).

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     register.golden().loc["C-s1", ["sources", "first_name", "email"]].tolist()
        ['store+web', 'ann', 'ann@x.com']
        """
        if not self._has_table("golden"):
            return pd.DataFrame(index=pd.Index([], name="customer_id"))
        return self._df("select * from golden order by customer_id").set_index("customer_id")

    def audit(self, *, customer_id: str | None = None, record_id=None, action: str | None = None) -> pd.DataFrame:
        """The audit log: every link, new customer, possible merge, merge, split and retraining.

        Parameters
        ----------
        customer_id : str, optional
            Only events about this customer (as the customer or the other customer).
        record_id : optional
            Only events about this record (as the record or the evidence).
        action : str, optional
            Only this action: ``"new customer"``, ``"link"``, ``"possible merge"``, ``"merge"``,
            ``"split"``, ``"train"``.

        Returns
        -------
        pandas.DataFrame
            ``event_id``, ``logged_at`` (UTC), ``batch_id``, ``action``, ``record_id``, ``customer_id``,
            ``other_record_id`` and ``other_customer_id`` (the evidence or the other side),
            ``match_probability`` (0-1), ``match_weight`` (bits) and ``detail``, in event order.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     register.audit(record_id="w1")[["action", "record_id", "customer_id", "other_record_id"]]
          action record_id customer_id other_record_id
        0   link        w1        C-s1              s1
        """
        clauses, params = [], []
        if customer_id is not None:
            clauses.append("(customer_id = ? or other_customer_id = ?)")
            params += [customer_id, customer_id]
        if record_id is not None:
            clauses.append("(record_id = ? or other_record_id = ?)")
            params += [str(record_id), str(record_id)]
        if action is not None:
            clauses.append("action = ?")
            params.append(action)
        where = ("where " + " and ".join(clauses)) if clauses else ""
        return self._df(f"select * from audit {where} order by event_id", params)

    def batches(self) -> pd.DataFrame:
        """One row per batch added: time, label, counts and the model version that linked it.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``batch_id``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO, label="first")
        ...     register.batches()[["label", "n_new", "n_new_customers"]]
                 label  n_new  n_new_customers
        batch_id
        1        first      5                4
        """
        return self._df("select * from batches order by batch_id").set_index("batch_id")

    def guidance(self) -> pd.DataFrame:
        """The current model's own estimate of precision and recall per threshold (no truth needed).

        See :func:`crm_models.identify.threshold_guidance`; estimated on the records the model
        was trained on.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``threshold``.
        """
        frame = self._df("select * exclude (model_version) from guidance where model_version = ? order by threshold",
                          [self.model_version])
        return frame.set_index("threshold")

    def _has_table(self, name: str) -> bool:
        return bool(self._scalar("select count(*) from information_schema.tables where table_name = ?",
                              [name]))

    def _current_id(self, customer_id: str) -> str:
        """``customer_id``, or the customer it was merged into (following merges)."""
        seen = set()
        while customer_id not in seen:
            seen.add(customer_id)
            row = (self._rows("select merged_into from retired where customer_id = ?", [customer_id]) or [None])[0]
            if row is None:
                return customer_id
            customer_id = row[0]
        return customer_id

    def summary(self) -> Summary:
        """Records, customers, batches, the model and its threshold guidance.

        Returns
        -------
        crm_models.base.Summary
            Statistics; the table is :meth:`guidance` (empty before the first batch).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     register.summary().stats["customers"]
        4
        """
        stats: dict[str, Any] = {
            "records": self.n_records,
            "customers": self.n_customers,
            "batches": int(self._scalar("select count(*) from batches")),
            "model version": self.model_version,
            "possible merges to review": int(self._scalar(
                "select count(*) from audit where action = 'possible merge'")),
            "retired ids (merged)": int(self._scalar("select count(*) from retired")),
        }
        guidance = self.guidance() if self.model_version else pd.DataFrame()
        notes = ["Existing customers are never renumbered; add() never merges or splits them (merge() and split() "
                 "do, and are logged)."]
        if self.model_version:
            stats["threshold"] = float(self.resolver.threshold)
            if len(guidance):
                stats["suggested threshold"] = suggested_threshold(guidance)
                notes.append("suggested threshold: the lowest at which the model expects at least 99% of the pairs it "
                             "links to be right (threshold guidance, estimated without any truth); change it by adding "
                             "a batch with resolver=register.resolver.set_params(threshold=...).")
        return Summary(f"Customer register {self.path.name}", guidance, stats, notes)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    # -- adding records ----------------------------------------------------------------------
    def add(
        self,
        records: pd.DataFrame,
        *,
        record_id_col: str = "record_id",
        source_col: str | None = "source",
        columns: Mapping[str, str | list[str]] | None = None,
        resolver: CustomerResolver | None = None,
        retrain: bool = False,
        label: str | None = None,
    ) -> RegisterUpdate:
        """Add a batch of records: skip those already registered, link the others, update golden records.

        Parameters
        ----------
        records : pandas.DataFrame
            One row per source record (the layout of :func:`resolve_customers`).
        record_id_col : str
            Record id column (ids are stored as text and must be unique across the register).
        source_col : str or None
            Source-system column (``None``: a single system).
        columns : mapping, optional
            Role -> column name (see :data:`crm_models.identify.standardise.ROLES`), e.g.
            ``{"email": "mail", "identifier": ["loyalty_no"]}``; by default the mapping of the
            last batch (columns named like a role are always used).
        resolver : CustomerResolver, optional
            A fitted model to link with from now on (stored as a new model version), or an
            unfitted one whose hyper-parameters (threshold, default_region...) to train with.
            By default the register's current model; the first batch trains ``CustomerResolver()``.
        retrain : bool
            Train a new model version on every record in the register plus the batch before
            linking it (existing assignments are kept: ids never change).
        label : str, optional
            A name for the batch (a file name, a date), kept in :meth:`batches`.

        Returns
        -------
        RegisterUpdate
            The batch's crosswalk with each record's status, counts, problems and changes.

        Raises
        ------
        crm_models.errors.DataError
            Bad records (see :func:`resolve_customers`), or a record id already registered with
            different contact data.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     first = register.add(_DEMO)
        ...     again = register.add(_DEMO)  # a re-run changes nothing
        ...     later = register.add(pd.DataFrame({"record_id": ["m1"], "source": ["mail"],
        ...                                        "first_name": ["Ann"], "last_name": ["Lee"],
        ...                                        "email": ["ANN@x.com"]}))
        >>> again.batch_id is None, again.n_already
        (True, 5)
        >>> later.crosswalk.loc["m1", ["customer_id", "status"]].tolist()
        ['C-s1', 'joined']
        """
        import time

        start = time.perf_counter()
        if self.read_only:
            raise ValueError(f"register {self.path} is open read-only; open it without read_only=True to add records")
        if resolver is not None and not isinstance(resolver, CustomerResolver):
            raise TypeError(f"resolver must be a CustomerResolver, got {type(resolver).__name__}")
        if columns is None:
            columns = {k: v for k, v in self.columns.items() if _maps_present(records, v)}
        has_model = self.model_version > 0
        current = self.resolver if has_model else None
        hyper = resolver if resolver is not None else (current if current is not None else CustomerResolver())
        hyper._check_params()
        data, problems, order, changes = _prepare(records, record_id_col, source_col, columns, hyper.default_region,
                                                  hyper.dob_formats)
        data = data.assign(record_id=data["record_id"].astype(str))
        extra = [c for c in identifier_columns(data.columns) if c not in LINK_COLUMNS]
        fingerprints = _fingerprints(data, [*LINK_COLUMNS, *extra])
        known = self._known(data, fingerprints)
        new_mask = ~data["record_id"].isin(known.index).to_numpy()
        input_ids = records[record_id_col].to_numpy()
        status = np.where(new_mask, "", "already registered").astype(object)
        cust = np.full(len(data), None, dtype=object)
        cust[~new_mask] = known.reindex(data.loc[~new_mask, "record_id"])["customer_id"].to_numpy()

        def crosswalk_frame():
            inverse = np.empty(len(data), dtype=np.int64)
            inverse[order] = np.arange(len(data))
            return pd.DataFrame({"customer_id": cust[inverse], "source": data["source"].to_numpy()[inverse],
                                 "status": status[inverse]},
                                index=pd.Index(input_ids, name=record_id_col))

        if not new_mask.any():  # a re-run: nothing to do, nothing written
            return RegisterUpdate(None, crosswalk_frame(), problems, changes, self.model_version, False,
                                  seconds=time.perf_counter() - start)
        new = data.loc[new_mask].reset_index(drop=True)
        self._set_meta("columns", json.dumps(_jsonable(columns)))  # remembered for the next batch
        self._run("begin transaction")
        try:
            batch_id = int(self._scalar("select coalesce(max(batch_id), 0) + 1 from batches"))
            now = _now()
            retrained = False
            if resolver is not None and resolver.__sklearn_is_fitted__():
                model = resolver
                self._store_model(model, batch_id, now, None)
            elif not has_model or retrain or resolver is not None:
                model = CustomerResolver(**hyper.get_params())
                retrained = True
            else:
                model = current
            self._add_identifier_columns(new)
            first_batch = not has_model and self.n_records == 0
            if first_batch:
                result = self._link_first(new, model, retrained, batch_id, now, records, record_id_col)
            else:
                if retrained:
                    self._train_on_register(model, new, batch_id, now, records, record_id_col)
                result = self._link_incremental(new, model)
            new_cust, evidence, possible, joined = result
            self._write(new, new_cust, batch_id, now, records, order, new_mask, fingerprints[new_mask])
            self._write_audit(new, new_cust, evidence, possible, joined, batch_id, now)
            if first_batch:  # every record of every customer is in the batch: no need to read them back
                self._update_golden([], data=new.assign(customer_id=new_cust))
            else:
                self._update_golden(sorted(set(new_cust)))
            n_possible = int(possible["_new"].nunique()) if len(possible) else 0
            status[new_mask] = np.where(joined, "joined", "new customer")
            cust[new_mask] = new_cust
            self._run("insert into batches values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                batch_id, now, label, len(data), int(new_mask.sum()), int((~new_mask).sum()), int(joined.sum()),
                int(pd.Series(new_cust[~joined]).nunique()), n_possible, self.model_version])
            self._run("commit")
        except BaseException:
            self._run("rollback")
            raise
        return RegisterUpdate(batch_id, crosswalk_frame(), problems, changes, self.model_version, retrained,
                              n_possible, seconds=time.perf_counter() - start)

    def _known(self, data: pd.DataFrame, fingerprints: np.ndarray) -> pd.DataFrame:
        """Registered records among ``data``'s ids, checked to hold the same contact data."""
        if self.n_records == 0:
            return pd.DataFrame({"customer_id": pd.Series(dtype=object)}, index=pd.Index([], name="record_id"))
        ids = pd.DataFrame({"record_id": data["record_id"].to_numpy(), "_fp": fingerprints})
        self._con.register("_batch_ids", ids)
        try:
            known = self._df("select b.record_id, r.customer_id, r.fingerprint, b._fp from _batch_ids b "
                              "join records r using (record_id)")
        finally:
            self._unregister("_batch_ids")
        differs = known["fingerprint"] != known["_fp"]
        if differs.any():
            bad = known.loc[differs, ["record_id", "customer_id"]].head(N_SHOWN)
            raise DataError(
                "record_id",
                "lists records already in the register with different contact data",
                rows=bad, n_rows=int(differs.sum()), n_total=len(data), what="records",
                hint="A record id names one record for good: give a changed record a new id (the register keeps "
                     "both, under the same customer when they match).",
            )
        return known.set_index("record_id")[["customer_id"]]

    def _link_cols(self) -> list[str]:
        return [*LINK_COLUMNS, *self._identifier_columns()]

    def _add_identifier_columns(self, data: pd.DataFrame) -> None:
        present = set(self._identifier_columns())
        for col in identifier_columns(data.columns):
            if col != "loyalty_id" and col not in present:
                self._run(f'alter table records add column "{col}" varchar')

    def _store_model(self, model: CustomerResolver, batch_id: int, now, guidance: pd.DataFrame | None) -> int:
        version = self.model_version + 1
        self._run("insert into models values (?, ?, ?, ?, ?)",
                  [version, now, batch_id, int(model.n_records_), json.dumps(model.to_dict(), allow_nan=False)])
        if guidance is not None:
            frame = guidance.reset_index().assign(model_version=version)
            self._con.register("_guidance", frame)
            try:
                self._run("insert into guidance by name select * from _guidance")
            finally:
                self._unregister("_guidance")
        self._run("insert into audit by name select ? as event_id, ? as logged_at, ? as batch_id, 'train' as action, ? as detail",
                  [self._next_event(), now, batch_id,
                   f"model version {version}: {model.n_records_:,} records, threshold {model.threshold}, prior "
                   f"{model.model_['probability_two_random_records_match']:.3g}"])
        return version

    def _next_event(self) -> int:
        return int(self._scalar("select coalesce(max(event_id), 0) + 1 from audit"))

    def _link_first(self, new, model, retrained, batch_id, now, records, record_id_col):
        """The first batch: train (unless given a fitted model) and resolve it whole."""
        threshold = float(model.threshold)
        if retrained:
            scored = model._fit_prepared(new, records, record_id_col, None, detail=False)
        else:
            scored = predict_pairs(new, _model_for_batch(model.model_, model.n_records_, len(new)),
                                   min_match_probability=model._min_probability(), detail=False)
        if retrained:
            self._store_model(model, batch_id, now, threshold_guidance(scored))
        pairs, linked = _decide(new, scored, threshold, only_candidates=True)
        edges = pairs.loc[linked]
        labels = _components(len(new), edges["_rid_l"].to_numpy(), edges["_rid_r"].to_numpy())
        cust = _ids_from_components(labels, new["record_id"])
        evidence = _evidence(edges, cust, new["record_id"].to_numpy(), n_new=len(new))
        return cust, evidence, _empty_possible(), np.zeros(len(new), dtype=bool)

    def _train_on_register(self, model, new, batch_id, now, records, record_id_col) -> None:
        """Train ``model`` on every registered record plus the new ones; store it as a new version."""
        stored = self._df(f"select {', '.join(_quoted(self._link_cols()))}, created_at, record_id, source "
                           "from records order by rid")
        stored["first_name_variants"] = stored["first_name_variants"].map(_as_list)
        everything = pd.concat([stored, new.drop(columns="_rid")], ignore_index=True)
        everything.insert(0, "_rid", np.arange(len(everything), dtype=np.int64))
        scored = model._fit_prepared(everything, records, record_id_col, None, detail=False)
        self._store_model(model, batch_id, now, threshold_guidance(scored))

    def _candidates(self, new: pd.DataFrame, rules: list) -> pd.DataFrame:
        """Registered records sharing a blocking key with a new record (the only ones it can link to)."""
        cols = self._link_cols()
        batch = new[[c for c in cols if c in new.columns and c != "first_name_variants"]]
        self._con.register("_new", batch)
        try:
            conditions = []
            for rule in rules:
                if isinstance(rule, str):  # the swapped-names rule
                    conditions.append(_SWAPPED_NAMES_RULE.replace("l.", "r.", 2).replace("l.", "r.").replace(
                        "r.first_name = r.last_name", "r.first_name = n.last_name").replace(
                        "r.last_name = r.first_name", "r.last_name = n.first_name"))
                    continue
                if all(c in batch.columns for c in rule):
                    conditions.append(" and ".join(f'r."{c}" = n."{c}"' for c in rule))
            if not conditions:
                return self._df(f"select rid, record_id, source, customer_id, created_at, "
                                 f"{', '.join(_quoted(cols))} from records where false")
            union = " union ".join(f"select r.rid from records r join _new n on {c}" for c in conditions)
            frame = self._df(f"select rid, record_id, source, customer_id, created_at, {', '.join(_quoted(cols))} "
                              f"from records where rid in ({union}) order by rid")
        finally:
            self._unregister("_new")
        frame["first_name_variants"] = frame["first_name_variants"].map(_as_list)
        return frame

    def _term_frequencies(self, new: pd.DataFrame, candidates: pd.DataFrame) -> dict[str, pd.DataFrame]:
        """The e-mail addresses' relative frequencies among all registered records plus the batch."""
        emails = pd.concat([new["email"], candidates["email"]]).dropna().unique()
        counts = new["email"].dropna().value_counts()
        self._con.register("_emails", pd.DataFrame({"email": emails}))
        try:
            stored = self._df("select r.email, count(*) as n from records r join _emails e using (email) "
                               "group by r.email").set_index("email")["n"]
            total = int(self._scalar("select count(email) from records")) + int(counts.sum())
        finally:
            self._unregister("_emails")
        n = stored.reindex(emails, fill_value=0).to_numpy(float) + counts.reindex(emails, fill_value=0).to_numpy(float)
        return {"email": pd.DataFrame({"email": emails, "tf_email": n / max(total, 1)})}

    def _link_incremental(self, new: pd.DataFrame, model: CustomerResolver):
        """Score new records against the registered records they share a blocking key with, and each other."""
        settings = model.model_
        rules = [_rule_key(r) for r in settings["blocking_rules_to_generate_predictions"]]
        candidates = self._candidates(new, rules)
        n_old = len(candidates)
        combined = pd.concat([candidates.drop(columns=["rid"]), new.drop(columns="_rid")], ignore_index=True)
        combined.insert(0, "_rid", np.arange(len(combined), dtype=np.int64))
        total = self.n_records + len(new)
        batch_model = _model_for_batch(settings, model.n_records_, total)
        threshold = float(model.threshold)
        tf = self._term_frequencies(new, candidates) if "email" in _compared(batch_model) else None
        scored = predict_new_pairs(combined.iloc[:n_old], combined.iloc[n_old:], batch_model,
                                   min_match_probability=model._min_probability(), term_frequencies=tf)
        involves_new = (scored["_rid_l"].to_numpy() >= n_old) | (scored["_rid_r"].to_numpy() >= n_old)
        scored = scored.loc[involves_new].reset_index(drop=True)
        decisive = _decisive_pairs(combined)
        decisive = decisive.loc[(decisive["_rid_l"] >= n_old) | (decisive["_rid_r"] >= n_old)]
        pairs, linked = _decide(combined, scored, threshold, only_candidates=True, decisive=decisive)
        edges = pairs.loc[linked]
        old = pd.Series(candidates["customer_id"].to_numpy(), index=candidates["record_id"].to_numpy())
        taken = self._taken_ids(new["record_id"])
        cust_all = _assign_incremental(combined, edges, old, taken=taken)
        cust = cust_all[n_old:]
        evidence = _evidence(edges, cust_all, combined["record_id"].to_numpy(), n_new=len(new), offset=n_old)
        possible = _possible_merges(edges, cust_all, n_old)
        joined = pd.Series(cust).isin(set(candidates["customer_id"])).to_numpy(bool)
        if len(possible):
            possible = possible.assign(
                _new=combined["record_id"].to_numpy()[possible["_new_pos"].to_numpy()],
                _other=combined["record_id"].to_numpy()[possible["_other_pos"].to_numpy()],
                _other_customer=cust_all[possible["_other_pos"].to_numpy()],
                _customer=cust_all[possible["_new_pos"].to_numpy()],
            )
        return cust, evidence, possible, joined

    def _taken_ids(self, record_ids: pd.Series) -> set:
        """Customer ids in use (or retired) that a new customer's id could collide with."""
        wanted = pd.DataFrame({"cid": "C-" + record_ids.astype(str)})
        self._con.register("_wanted", wanted)
        try:
            rows = self._rows("select distinct customer_id from records where split_part(customer_id, '+', 1) in "
                             "(select cid from _wanted) union select customer_id from retired where "
                             "split_part(customer_id, '+', 1) in (select cid from _wanted)")
        finally:
            self._unregister("_wanted")
        return {r[0] for r in rows}

    def _write(self, new, cust, batch_id, now, records, order, new_mask, fingerprints) -> None:
        """Insert the new records (standardised, as received, with their customer)."""
        import pyarrow as pa

        start = int(self._scalar("select coalesce(max(rid), -1) + 1 from records"))
        cols = [c for c in self._link_cols() if c in new.columns]
        positions = np.asarray(order)[np.flatnonzero(new_mask)]  # the raw rows, in the new records' order
        n = len(new)
        columns = {
            "_pos": pa.array(np.arange(n, dtype=np.int64)),
            "rid": pa.array(np.arange(start, start + n, dtype=np.int64)),
            "record_id": _text(new["record_id"]),
            "source": _text(new["source"]),
            "customer_id": _text(cust),
            "batch_id": pa.array(np.full(n, batch_id, dtype=np.int32)),
            "added_at": pa.array(np.full(n, np.datetime64(now.to_datetime64(), "us"))),
            "fingerprint": _text(fingerprints),
            "created_at": pa.array(pd.to_datetime(new["created_at"]).to_numpy("datetime64[us]"),
                                   mask=new["created_at"].isna().to_numpy()),
        }
        for c in cols:
            if c == "first_name_variants":
                columns[c] = pa.array(new[c].map(_as_list).tolist(), type=pa.list_(pa.string()))
            else:
                columns[c] = _text(new[c])
        raw = _raw_table(records.iloc[positions])
        fields = ", ".join(f"{_sql_string(name)} := r.{_sql_name(name)}" for name in raw.column_names
                           if name != "_pos")
        self._con.register("_records", pa.table(columns))
        self._con.register("_raw", raw)
        try:
            names = ", ".join(_quoted([*columns][1:]))
            self._run(f"insert into records ({names}, raw) select {', '.join('s.' + c for c in _quoted([*columns][1:]))}, "
                      f"to_json(struct_pack({fields})) from _records s join _raw r using (_pos)")
        finally:
            self._unregister("_records")
            self._unregister("_raw")

    def _write_audit(self, new, cust, evidence, possible, joined, batch_id, now) -> None:
        first = self._next_event()
        # the record a new customer is named after opens it; every other new record links
        ids = new["record_id"].to_numpy(object)
        opens = ~joined & (np.char.add("C-", ids.astype(str)) == np.array([c.rstrip("+") for c in cust], dtype=str))
        opens |= ~joined & evidence["other_record_id"].isna().to_numpy()
        evidence = evidence.copy()
        evidence.loc[opens, ["other_record_id", "match_probability", "match_weight"]] = None
        evidence.loc[opens, "detail"] = np.where(evidence.loc[opens, "_other_pos"].isna(),
                                                 "no match at or above the threshold: a new customer",
                                                 "first record of a new customer")
        rows = pd.DataFrame({
            "logged_at": now,
            "batch_id": batch_id,
            "action": np.where(opens, "new customer", "link"),
            "record_id": new["record_id"].to_numpy(),
            "customer_id": cust,
            "other_record_id": evidence["other_record_id"].to_numpy(),
            "other_customer_id": None,
            "match_probability": evidence["match_probability"].to_numpy(),
            "match_weight": evidence["match_weight"].to_numpy(),
            "detail": evidence["detail"].to_numpy(),
        })
        if len(possible):
            rows = pd.concat([rows, pd.DataFrame({
                "logged_at": now, "batch_id": batch_id, "action": "possible merge",
                "record_id": possible["_new"].to_numpy(), "customer_id": possible["_customer"].to_numpy(),
                "other_record_id": possible["_other"].to_numpy(),
                "other_customer_id": possible["_other_customer"].to_numpy(),
                "match_probability": possible["match_probability"].to_numpy(),
                "match_weight": possible["match_weight"].to_numpy(),
                "detail": "the new record also matches another existing customer: confirm with merge()",
            })], ignore_index=True)
        rows.insert(0, "event_id", np.arange(first, first + len(rows), dtype=np.int64))
        rows = _arrow_frame(rows)
        self._con.register("_audit", rows)
        try:
            self._run("insert into audit by name select * from _audit")
        finally:
            self._unregister("_audit")

    def _update_golden(self, customer_ids: list, data: pd.DataFrame | None = None) -> None:
        """Rebuild the golden records of ``customer_ids`` from all their records (or of every
        customer in ``data``, which then holds all their records)."""
        if not customer_ids and data is None:
            return
        ids = pd.DataFrame({"customer_id": pd.Series(customer_ids, dtype=object)})
        self._con.register("_affected", ids)
        try:
            if data is None:
                data = self._df("select * exclude (raw, fingerprint) from records where customer_id in "
                                 "(select customer_id from _affected) order by rid")
            golden = _golden_for_storage(golden_records(data, data["customer_id"])) if len(data) else None
            if golden is not None:
                kinds = {"customer_id": "varchar primary key", "n_records": "bigint", "first_seen": "timestamp",
                         "last_seen": "timestamp"}
                if not self._has_table("golden"):
                    spec = ", ".join(f'"{c}" {kinds.get(c, "varchar")}' for c in golden.columns)
                    self._run(f"create table golden ({spec})")
                have = {r[0] for r in self._rows("select column_name from information_schema.columns where "
                                                 "table_name = 'golden'")}
                for col in golden.columns:
                    if col not in have:
                        self._run(f'alter table golden add column "{col}" {kinds.get(col, "varchar")}')
            if self._has_table("golden"):
                self._run("delete from golden where customer_id in (select customer_id from _affected)")
            if golden is not None:
                self._con.register("_golden", _arrow_frame(golden))
                try:
                    self._run("insert into golden by name select * from _golden")
                finally:
                    self._unregister("_golden")
        finally:
            self._unregister("_affected")

    # -- data stewardship --------------------------------------------------------------------
    def merge(self, customer_ids, *, reason: str = "") -> str:
        """Merge customers into one (a person confirmed they are the same).

        The customer with the smallest id keeps it; the others' ids are retired (``records``,
        ``lookup`` and :meth:`records` follow a retired id to the customer it merged into).

        Parameters
        ----------
        customer_ids : sequence of str
            At least two current customer ids.
        reason : str
            Why, for the audit log.

        Returns
        -------
        str
            The surviving customer id.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     register.merge(["C-w2", "C-s2"], reason="same household account, confirmed by phone")
        'C-s2'
        """
        ids = sorted({str(c) for c in customer_ids})
        if len(ids) < 2:
            raise ValueError(f"merge needs at least two different customer ids, got {customer_ids!r}")
        present = self._existing(ids)
        missing = [c for c in ids if c not in present]
        if missing:
            raise ValueError(f"not current customer ids of this register: {missing}")
        survivor, others = ids[0], ids[1:]
        now = _now()
        self._run("begin transaction")
        try:
            event = self._next_event()
            for k, other in enumerate(others):
                self._run("update records set customer_id = ? where customer_id = ?", [survivor, other])
                self._run("insert into retired values (?, ?, ?)", [other, survivor, now])
                self._run("update retired set merged_into = ? where merged_into = ?", [survivor, other])
                self._run("insert into audit by name select ? as event_id, ? as logged_at, 'merge' as action, "
                          "? as customer_id, ? as other_customer_id, ? as detail",
                          [event + k, now, survivor, other, reason or "merged by hand"])
            self._run("delete from golden where customer_id in (select unnest(?::varchar[]))", [others])
            self._update_golden([survivor])
            self._run("commit")
        except BaseException:
            self._run("rollback")
            raise
        return survivor

    def split(self, record_ids, *, reason: str = "") -> str:
        """Move records out of their customer into a new one (a person found they are someone else).

        Parameters
        ----------
        record_ids : sequence
            Records of one customer (not all of them).
        reason : str
            Why, for the audit log.

        Returns
        -------
        str
            The new customer's id: ``"C-"`` + the smallest of the records' ids (``+`` appended
            while it is taken).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     register.split(["w1"], reason="different person, same e-mail")
        'C-w1'
        """
        ids = sorted({str(r) for r in record_ids})
        if not ids:
            raise ValueError("split needs at least one record id")
        frame = pd.DataFrame({"record_id": ids})
        self._con.register("_split", frame)
        try:
            found = self._df("select record_id, customer_id from records where record_id in "
                              "(select record_id from _split)")
        finally:
            self._unregister("_split")
        missing = sorted(set(ids) - set(found["record_id"]))
        if missing:
            raise ValueError(f"not record ids of this register: {missing[:N_SHOWN]}")
        owners = found["customer_id"].unique()
        if len(owners) != 1:
            raise ValueError(f"split takes records of one customer; these belong to {sorted(owners)}")
        owner = owners[0]
        size = int(self._scalar("select count(*) from records where customer_id = ?", [owner]))
        if size == len(ids):
            raise ValueError(f"these are all the records of {owner}: nothing to split off")
        taken = self._taken_ids(pd.Series(ids))
        new_id = "C-" + ids[0]
        while new_id in taken:
            new_id += "+"
        now = _now()
        self._run("begin transaction")
        try:
            event = self._next_event()
            for k, rid in enumerate(ids):
                self._run("update records set customer_id = ? where record_id = ?", [new_id, rid])
                self._run("insert into audit by name select ? as event_id, ? as logged_at, 'split' as action, "
                          "? as record_id, ? as customer_id, ? as other_customer_id, ? as detail",
                          [event + k, now, rid, new_id, owner, reason or "split by hand"])
            self._update_golden([owner, new_id])
            self._run("commit")
        except BaseException:
            self._run("rollback")
            raise
        return new_id

    def _existing(self, customer_ids: list[str]) -> set:
        frame = pd.DataFrame({"customer_id": customer_ids})
        self._con.register("_ids", frame)
        try:
            rows = self._rows("select distinct customer_id from records where customer_id in "
                             "(select customer_id from _ids)")
        finally:
            self._unregister("_ids")
        return {r[0] for r in rows}

    # -- lookup ------------------------------------------------------------------------------
    def lookup(self, contact: Mapping[str, Any] | None = None, *, top: int = 5, min_probability: float = 0.01,
               **fields) -> pd.DataFrame:
        """The customers a contact most likely is, with match probabilities (a call-centre screen).

        The contact is standardised like a record and scored with the register's model against
        every registered record that shares a name, e-mail, phone, date of birth, postcode,
        street or identifier with it (one field is enough; nothing is linked or written).

        Parameters
        ----------
        contact : mapping, optional
            Role -> value, e.g. ``{"first_name": "Ann", "last_name": "Lee", "phone": "..."}``
            (roles of :data:`crm_models.identify.standardise.ROLES`; identifiers by the column
            name the register knows them by, e.g. ``{"ssn": "1234567"}``).
        top : int
            Most customers returned.
        min_probability : float
            Customers below this match probability (0-1) are left out.
        **fields
            The same as ``contact``, as keywords.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``customer_id``, best first: ``match_probability`` (0-1, of the
            customer's best-matching record), ``match_weight`` (bits), ``record_id`` (that
            record), and the customer's golden ``first_name``, ``last_name``, ``email``,
            ``phone``, ``date_of_birth``, ``postcode``, ``n_records`` and ``sources``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with CustomerRegister(pathlib.Path(tempfile.mkdtemp()) / "c.duckdb") as register:
        ...     _ = register.add(_DEMO)
        ...     screen = register.lookup(first_name="Anne", last_name="LEE", email="ann@x.com")
        >>> screen.index.tolist()
        ['C-s1']
        """
        contact = {**dict(contact or {}), **fields}
        if not contact:
            raise ValueError("lookup needs at least one field, e.g. lookup(email='ann@x.com') or "
                             "lookup(first_name='Ann', last_name='Lee', postcode='LS1 4AB')")
        if not (isinstance(top, (int, np.integer)) and top >= 1):
            raise ValueError(f"top must be a whole number >= 1, got {top!r}")
        if not 0 <= min_probability <= 1:
            raise ValueError(f"min_probability must lie in [0, 1], got {min_probability!r}")
        from crm_models.identify.standardise import ROLES, identifier_column

        registered = set(self._identifier_columns()) | {"loyalty_id"}
        roles, identifiers = {}, []
        for key, value in contact.items():
            if key in ROLES and key != "identifier":
                roles[key] = value
                continue
            try:
                std = identifier_column(key)
            except ValueError:
                std = None
            if std not in registered:
                raise ValueError(f"lookup: unknown field {key!r}; use the roles {[r for r in ROLES if r != 'identifier']}"
                                 f" or the register's identifiers {sorted(c.removeprefix('id_') for c in registered)}")
            identifiers.append(key)
            roles[key] = value
        resolver = self.resolver
        query = pd.DataFrame({"record_id": ["?lookup"], "source": ["lookup"], **{k: [v] for k, v in roles.items()}})
        mapping = {"identifier": identifiers} if identifiers else None
        data, _, _, _ = _prepare(query, "record_id", "source", mapping, resolver.default_region, resolver.dob_formats)
        cols = self._link_cols()
        for c in cols:
            if c not in data.columns:
                data[c] = None
        known = [c for c in cols if c not in ("first_name_canon", "first_name_variants") and data[c].notna().any()]
        rules = [(c,) for c in known if c not in ("first_name", "city", "gender")]
        if "first_name" in known and "last_name" not in known:
            rules.append(("first_name",))
        rules += [_rule_key(r) for r in resolver.model_["blocking_rules_to_generate_predictions"]]
        candidates = self._candidates(data, list(dict.fromkeys(rules)))
        empty = pd.DataFrame(columns=["match_probability", "match_weight", "record_id", "first_name", "last_name",
                                      "email", "phone", "date_of_birth", "postcode", "n_records", "sources"],
                             index=pd.Index([], name="customer_id"))
        if candidates.empty:
            return empty
        combined = pd.concat([data.drop(columns="_rid").assign(customer_id=None), candidates.drop(columns="rid")],
                             ignore_index=True)
        combined.insert(0, "_rid", np.arange(len(combined), dtype=np.int64))
        model = _model_for_batch(resolver.model_, resolver.n_records_, self.n_records + 1)
        tf = self._term_frequencies(data, candidates) if "email" in _compared(model) else None
        query = combined.iloc[:1].assign(_rid=len(combined))  # the contact, after every candidate
        scored = predict_new_pairs(combined.iloc[1:], query, model, min_match_probability=min_probability,
                                   term_frequencies=tf, blocking_rules=["1 = 1"])
        scored = scored.rename(columns={"_rid_l": "_rid_r", "_rid_r": "_rid_l"})
        if scored.empty:
            return empty
        scored = scored.assign(customer_id=combined["customer_id"].to_numpy()[scored["_rid_r"].to_numpy()],
                               record_id=combined["record_id"].to_numpy()[scored["_rid_r"].to_numpy()])
        best = scored.sort_values(["match_weight", "record_id"], ascending=[False, True], kind="mergesort")
        best = best.drop_duplicates("customer_id").head(int(top)).set_index("customer_id")
        golden = self.golden().reindex(best.index)
        shown = ["first_name", "last_name", "email", "phone", "date_of_birth", "postcode", "n_records", "sources"]
        out = best[["match_probability", "match_weight", "record_id"]].join(golden[[c for c in shown if c in golden]])
        return out


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _compared(model: Mapping) -> set:
    """The comparisons of a model, by name."""
    return {c["output_column_name"] for c in model["comparisons"]}


def _memory(text: str) -> str:
    import re

    if not isinstance(text, str) or not re.fullmatch(r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", text):
        raise ValueError(f"memory_limit must be an amount such as '3GB' or '512MB', got {text!r}")
    return text.strip()


def _maps_present(records: pd.DataFrame, value) -> bool:
    names = value if isinstance(value, list) else [value]
    return all(n in records.columns for n in names)


def _jsonable(columns) -> dict:
    return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in dict(columns or {}).items()}


def _quoted(cols) -> list[str]:
    return [f'"{c}"' for c in cols]


def _as_list(value):
    """A list value read back from DuckDB (an array, a list or missing) as a list or None."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return list(value)


def _rule_key(rule: Mapping) -> tuple[str, ...] | str:
    """A saved blocking rule as the columns it compares (or the swapped-names SQL rule)."""
    import re

    sql = rule["blocking_rule"]
    found = re.findall(r'l\."?`?([a-z_0-9]+)"?`? = r\."?`?\1"?`?', sql)
    if found and len(found) == sql.count(" = "):
        return tuple(found)
    return _SWAPPED_NAMES_RULE


def _fingerprints(data: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One hash per record of its source and standardised contact values (as text)."""
    cols = ["source", *[c for c in columns if c not in ("first_name_canon", "first_name_variants")]]
    frame = data.reindex(columns=cols).astype(object)
    frame = frame.where(frame.notna(), "")
    hashed = pd.util.hash_pandas_object(frame, index=False, categorize=True)
    return hashed.to_numpy(np.uint64).astype(str).astype(object)


def _raw_table(raw: pd.DataFrame):
    """The records as received, every column as text (missing as null), with their position ``_pos``."""
    import pyarrow as pa

    arrays, names = [pa.array(np.arange(len(raw), dtype=np.int64))], ["_pos"]
    for k, name in enumerate(raw.columns):
        values = raw.iloc[:, k]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
        try:
            array = pa.array(values, from_pandas=True)
            array = array if pa.types.is_string(array.type) or pa.types.is_large_string(array.type) else array.cast(
                pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            array = _text(values.map(lambda v: v if pd.isna(v) else str(v)))
        arrays.append(array)
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)


def _sql_name(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _sql_string(name: str) -> str:
    return _sql_name(name)


def _text(values):
    """A column of text (missing as null) as an Arrow string array, for fast inserts."""
    import pyarrow as pa

    values = pd.Series(values)
    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        return pa.array(values, from_pandas=True).cast(pa.string())
    values = values.astype(object)
    return pa.array(values.where(values.notna(), None).to_numpy(object), type=pa.string(), from_pandas=True)


def _arrow_frame(frame: pd.DataFrame):
    """A DataFrame as an Arrow table, object columns as text (DuckDB reads Arrow fastest)."""
    import pyarrow as pa

    arrays = []
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            arrays.append(_text(values))
        else:
            arrays.append(pa.array(values, from_pandas=True))
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _golden_for_storage(golden: pd.DataFrame) -> pd.DataFrame:
    """Golden records as the register stores them: counts as integers, times as timestamps, the rest text."""
    out = golden.reset_index()
    out["n_records"] = out["n_records"].astype(np.int64)
    for col in ("first_seen", "last_seen"):
        out[col] = pd.to_datetime(out[col])
    for col in out.columns:
        if col.endswith("_record"):  # record ids are stored as text
            values = out[col].astype(object)
            out[col] = values.where(values.isna(), values.astype(str)).where(values.notna(), None)
    return out


def _empty_possible() -> pd.DataFrame:
    return pd.DataFrame({"_new": pd.Series(dtype=object)})


def _evidence(edges: pd.DataFrame, cust: np.ndarray, record_ids: np.ndarray, *, n_new: int,
              offset: int = 0) -> pd.DataFrame:
    """Per new record (positions ``offset`` on), the strongest linked pair tying it to another
    record of its customer: the other record, the pair's match probability and weight."""
    rid_l, rid_r = edges["_rid_l"].to_numpy(), edges["_rid_r"].to_numpy()
    both = pd.DataFrame({
        "_me": np.concatenate([rid_l, rid_r]),
        "_other": np.concatenate([rid_r, rid_l]),
        "match_probability": np.tile(edges["match_probability"].to_numpy(dtype=float, na_value=np.nan), 2),
        "match_weight": np.tile(edges["match_weight"].to_numpy(dtype=float, na_value=np.nan), 2),
        "decisive": np.tile(edges["decisive"].to_numpy(bool), 2),
    })
    both = both.loc[(both["_me"] >= offset) & (cust[both["_me"].to_numpy()] == cust[both["_other"].to_numpy()])]
    both = both.assign(_w=np.where(both["decisive"], np.inf, both["match_weight"].fillna(-np.inf)))
    best = both.sort_values(["_me", "_w", "_other"], ascending=[True, False, True], kind="mergesort")
    best = best.drop_duplicates("_me").set_index("_me")
    out = pd.DataFrame(index=pd.RangeIndex(offset, offset + n_new)).join(
        best[["_other", "match_probability", "match_weight", "decisive"]])
    has = out["_other"].notna().to_numpy()
    other = np.full(n_new, None, dtype=object)
    other[has] = record_ids[out["_other"].to_numpy()[has].astype(np.int64)]
    decisive = out["decisive"].astype("boolean").fillna(False).to_numpy(bool)
    return pd.DataFrame({
        "_other_pos": out["_other"].to_numpy(),
        "other_record_id": other,
        "match_probability": out["match_probability"].to_numpy(dtype=float),
        "match_weight": out["match_weight"].to_numpy(dtype=float),
        "detail": np.where(has, np.where(decisive, "decisive: shared e-mail, identifier or exact duplicate",
                                         "match probability at or above the threshold"),
                           "no match at or above the threshold: a new customer"),
    })


def _possible_merges(edges: pd.DataFrame, cust: np.ndarray, n_old: int) -> pd.DataFrame:
    """Linked pairs between a new record and an existing record of another customer."""
    l, r = edges["_rid_l"].to_numpy(), edges["_rid_r"].to_numpy()
    new_pos = np.where(l >= n_old, l, r)
    other_pos = np.where(l >= n_old, r, l)
    keep = (other_pos < n_old) & (cust[new_pos] != cust[other_pos])
    frame = pd.DataFrame({"_new_pos": new_pos[keep], "_other_pos": other_pos[keep],
                          "match_probability": edges["match_probability"].to_numpy(dtype=float, na_value=np.nan)[keep],
                          "match_weight": edges["match_weight"].to_numpy(dtype=float, na_value=np.nan)[keep]})
    return frame.drop_duplicates(["_new_pos", "_other_pos"]).reset_index(drop=True)

"""Probabilistic record linkage with Splink (Fellegi-Sunter), through Splink's public API only.

The model compares two records field by field. Each field's comparison falls into one
*level* (exact match, nickname, small typo, ..., different, missing); for every level the model
holds two probabilities:

* ``m`` = P(level | the two records are the same person), estimated by expectation
  maximisation (EM) on blocked pairs, and
* ``u`` = P(level | two different people), estimated from random pairs (seeded sampling).

A pair's *match weight* is the prior ``log2(lambda / (1 - lambda))`` plus
``log2(m / u)`` for every field (bits); the match probability is ``2**w / (1 + 2**w)``
(Fellegi & Sunter 1969).

A trained model is a plain Splink settings dictionary (what ``Linker(data, settings)`` reads)
holding an ``m_probability`` and a ``u_probability`` for every level that is not the "missing"
level, and the prior ``probability_two_random_records_match``. :func:`train_model` learns it,
:func:`predict_pairs` scores the pairs of any batch of records with it (no retraining) and
:func:`model_parameters` lays it out as a table. Everything goes through ``SettingsCreator``,
``Linker.training``, ``Linker.inference`` and ``Linker.misc.save_model_to_json``; nothing
reads or writes Splink's private state.

Splink behaviour this module relies on
--------------------------------------
Splink 5 refuses an EM estimate below ``1e-300`` with a ``ValueError`` whose message reads
``"m_probability value ... is below the minimum allowed value ..."`` (or ``u_probability``).
EM's m of a level that none of the pairs it takes for matches falls in shrinks at every
iteration and can reach 0 (for example "phone different" where everybody keeps one phone; on
the data of this package EM converges long before, but nothing guarantees it). The failed
session has already replaced the linker's model by the session's reduced one (comparisons used
by the blocking rule removed, prior adjusted), so :func:`train_model` rebuilds the linker from
the model saved before the session and runs it again with half the iterations (see
``_em_session``). Splink also numbers a comparison's levels (the ``gamma_*`` columns of its
predictions) from ``k - 1`` for the first non-missing level down to 0, with -1 for the missing
level; :func:`model_parameters` uses that numbering. ``tests/test_identify_link.py`` checks
both, so a Splink upgrade that changes either fails loudly.

Backends
--------
``backend="duckdb"`` (default) runs on an in-process DuckDB database: no server, offline.
``backend="spark"`` runs the same settings through ``splink.backends.spark.SparkAPI`` for
record counts beyond one machine::

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (SparkSession.builder.master("local[*]")            # or your cluster's master
             .config("spark.jars", similarity_jar_location())   # Splink's Jaro-Winkler UDFs
             .getOrCreate())
    spark.sparkContext.setCheckpointDir("/tmp/splink_checkpoints")  # Splink checkpoints
    result = resolve_customers(records, backend="spark", spark=spark)

Both settings are required: without the jar Splink cannot compare names, without a checkpoint
folder training stops. Everything else (standardisation, clustering, golden records) happens in
pandas on the scored pairs, which are far fewer than the records' cartesian product.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import logging
import math
import re
import warnings
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from crm_models._validation import check_number
from crm_models.base import FieldReader, as_generator

__all__ = [
    "LINK_COLUMNS",
    "EM_PROBABILITY_FLOOR",
    "DETERMINISTIC_RECALL",
    "quiet_splink",
    "usable_columns",
    "deterministic_prior",
    "build_settings",
    "make_db_api",
    "train_model",
    "predict_pairs",
    "model_parameters",
    "read_model",
]

#: Standardised columns handed to Splink.
LINK_COLUMNS = (
    "first_name",
    "last_name",
    "first_name_canon",
    "first_name_variants",
    "email",
    "phone",
    "date_of_birth",
    "street",
    "city",
    "postcode",
    "loyalty_id",
)

#: Smallest m or u probability a trained model keeps. EM estimates 0 for a level no matching
#: pair falls in (for example "phone different" in a world where everybody keeps one phone);
#: a weight of minus infinity would veto the pair whatever else agrees, so such estimates are
#: raised to 1e-6, a weight of about -20 bits.
EM_PROBABILITY_FLOOR = 1e-6

#: Share of true matches that a shared e-mail address or loyalty id is assumed to find; the
#: prior is the share of pairs these rules link, divided by this recall.
DETERMINISTIC_RECALL = 0.6

#: Prior used when the records hold neither e-mail addresses nor loyalty ids (Splink's default).
DEFAULT_PRIOR = 1e-4

#: At most this many blocked pairs per EM session (Splink's deterministic hash sample).
MAX_PAIRS_EM = 3e5

#: EM sessions in order: each blocks on one column and so learns every other comparison.
EM_SESSIONS = ("date_of_birth", "email", "phone", "last_name")
#: The comparison an EM session cannot learn (the one its blocking column belongs to).
_SESSION_COMPARISON = {"date_of_birth": "date_of_birth", "email": "email", "phone": "phone", "last_name": "name"}

#: The Splink dialect of each backend.
DIALECTS = {"duckdb": "duckdb", "spark": "spark"}

_UNDERFLOW = re.compile(r"\b[mu]_probability value .* is below the minimum allowed value")


@contextlib.contextmanager
def quiet_splink(level: int = logging.ERROR) -> Iterator[None]:
    """Silence Splink's log messages and warnings (they would leak into notebook outputs).

    Parameters
    ----------
    level : int
        The lowest level of Splink log message still shown (a :mod:`logging` level).

    Examples
    --------
    >>> import logging
    >>> with quiet_splink():
    ...     logging.getLogger("splink").getEffectiveLevel() == logging.ERROR
    True
    """
    logger = logging.getLogger("splink")
    old_level, old_propagate = logger.level, logger.propagate
    logger.setLevel(level)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def _has(data: pd.DataFrame, col: str) -> bool:
    return col in data.columns and bool(data[col].notna().any())


def usable_columns(data: pd.DataFrame) -> tuple[str, ...]:
    """The columns of :data:`LINK_COLUMNS` that hold at least one value in ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        Standardised records.

    Returns
    -------
    tuple of str
        In the order of :data:`LINK_COLUMNS`.

    Examples
    --------
    >>> usable_columns(pd.DataFrame({"email": ["a@b.com", None], "phone": [None, None]}))
    ('email',)
    """
    return tuple(c for c in LINK_COLUMNS if _has(data, c))


def _pairs_sharing(data: pd.DataFrame, cols: tuple[str, ...]) -> int:
    """Pairs of rows with the same non-missing value in every column of ``cols``."""
    sub = data[list(cols)].dropna()
    if sub.empty:
        return 0
    sizes = sub.groupby(list(cols), sort=False).size().to_numpy(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def deterministic_prior(data: pd.DataFrame, *, recall: float = DETERMINISTIC_RECALL) -> float:
    """The prior probability that two random records match, from the pairs exact keys link.

    Counts the distinct pairs that share an e-mail address or a loyalty id (a pair sharing both
    counts once), divides by all ``n (n - 1) / 2`` pairs and by ``recall``, the share of true
    matches these keys are assumed to find, and keeps the result between one match among all
    pairs and 1/2 (a sample without a shared key would otherwise give 0, which makes every match
    weight minus infinity). Records without either column get :data:`DEFAULT_PRIOR`.

    Parameters
    ----------
    data : pandas.DataFrame
        Standardised records (``email`` and ``loyalty_id`` columns, missing values as None).
    recall : float
        Assumed share (0-1] of true matching pairs that share an e-mail or loyalty id.

    Returns
    -------
    float
        The prior, in ``[1 / (n (n - 1) / 2), 0.5]``.

    Examples
    --------
    >>> records = pd.DataFrame({"email": ["a@x.com", "a@x.com", "b@x.com", None]})
    >>> round(deterministic_prior(records, recall=0.5), 4)  # 1 pair of 6, found at recall 1/2
    0.3333
    """
    check_number(recall, "recall", low=0, high=1, low_open=True, unit="a share of true matches")
    n = len(data)
    total = n * (n - 1) / 2
    lowest = 1.0 / max(total, 2.0)
    keys = [c for c in ("email", "loyalty_id") if _has(data, c)]
    if not keys:
        return min(max(DEFAULT_PRIOR, lowest), 0.5)
    found = sum(_pairs_sharing(data, (c,)) for c in keys)
    if len(keys) == 2:  # inclusion-exclusion: pairs sharing both keys were counted twice
        found -= _pairs_sharing(data, ("email", "loyalty_id"))
    prior = found / recall / max(total, 1.0)
    return min(max(prior, lowest), 0.5)


def build_settings(
    columns: Collection[str],
    *,
    probability_two_random_records_match: float = DEFAULT_PRIOR,
    unique_id: str = "_rid",
    max_iterations: int = 25,
):
    """Splink ``SettingsCreator`` with the comparisons and blocking rules ``columns`` allow.

    Comparisons (levels from most to least similar):

    * name (first + last together): both exact; swapped fields; same last name and nickname of
      the same first name; both Jaro-Winkler >= 0.9 (typos); same last name and compatible
      initial; same last name with first unknown; same last name and a different first name;
      same first name (or nickname); different.
    * email: Splink's ``EmailComparison`` (exact with term-frequency adjustment, user name
      exact, Jaro-Winkler on address and user name).
    * phone (E.164): exact; Levenshtein <= 2; different.
    * date_of_birth (ISO): Splink's ``DateOfBirthComparison`` (exact, one character, a month,
      a year, ten years).
    * address (street, postcode and city as one comparison, since they move together): same
      street and postcode; similar street in the same area; same postcode or city with the
      street unknown; same street only; same postcode or city with another street; different.

    Blocking rules (pairs are scored if any holds): same email, same phone, same canonical first
    name and last name, same last name and birth date, same birth date and postcode, same
    canonical first name and birth date, same last name and postcode, same first name and
    postcode, same street, same loyalty id, swapped names.

    Parameters
    ----------
    columns : collection of str
        The standardised columns that hold values (see :func:`usable_columns`).
    probability_two_random_records_match : float
        The prior, in (0, 1) (see :func:`deterministic_prior`).
    unique_id : str
        Name of the integer record key column.
    max_iterations : int
        Most EM iterations per training session.

    Returns
    -------
    splink.SettingsCreator

    Examples
    --------
    >>> settings = build_settings(["email", "phone"], probability_two_random_records_match=0.01)
    >>> [c["output_column_name"] for c in settings.create_settings_dict("duckdb")["comparisons"]]
    ['email', 'phone']
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    has = set(columns).__contains__
    comparisons = []
    if has("first_name") or has("last_name"):
        initial = cll.CustomLevel(
            "substr(first_name_l, 1, 1) = substr(first_name_r, 1, 1) "
            "and (length(first_name_l) = 1 or length(first_name_r) = 1)",
            label_for_charts="Same initial",
        )
        nickname = cll.Or(
            cll.ExactMatchLevel("first_name_canon"), cll.ArrayIntersectLevel("first_name_variants", 1)
        )
        comparisons.append(
            cl.CustomComparison(
                output_column_name="name",
                comparison_description="First and last name",
                comparison_levels=[
                    cll.And(cll.NullLevel("first_name"), cll.NullLevel("last_name")),
                    cll.And(cll.ExactMatchLevel("first_name"), cll.ExactMatchLevel("last_name")).configure(
                        label_for_charts="Both names exact"
                    ),
                    cll.ColumnsReversedLevel("first_name", "last_name", symmetrical=True).configure(
                        label_for_charts="Names swapped"
                    ),
                    cll.And(cll.ExactMatchLevel("last_name"), nickname).configure(
                        label_for_charts="Last exact, nickname"
                    ),
                    cll.And(cll.JaroWinklerLevel("first_name", 0.9), cll.JaroWinklerLevel("last_name", 0.9)).configure(
                        label_for_charts="Both Jaro-Winkler >= 0.9"
                    ),
                    cll.And(cll.JaroWinklerLevel("last_name", 0.9), initial).configure(
                        label_for_charts="Last similar, same initial"
                    ),
                    cll.And(cll.ExactMatchLevel("last_name"), cll.NullLevel("first_name")).configure(
                        label_for_charts="Last exact, first unknown"
                    ),
                    cll.ExactMatchLevel("last_name").configure(label_for_charts="Last exact, first different"),
                    cll.Or(cll.ExactMatchLevel("first_name"), nickname).configure(
                        label_for_charts="First name or nickname only"
                    ),
                    cll.ElseLevel(),
                ],
            )
        )
    if has("email"):
        comparisons.append(cl.EmailComparison("email"))
    if has("phone"):
        comparisons.append(
            cl.CustomComparison(
                output_column_name="phone",
                comparison_description="Phone number (E.164)",
                comparison_levels=[
                    cll.NullLevel("phone"),
                    cll.ExactMatchLevel("phone"),
                    cll.LevenshteinLevel("phone", 2),
                    cll.ElseLevel(),
                ],
            )
        )
    if has("date_of_birth"):
        comparisons.append(cl.DateOfBirthComparison("date_of_birth", input_is_string=True))
    if has("street") or has("postcode") or has("city"):
        # one comparison for the whole address: street, postcode and city move together, and
        # counting them as three independent fields would triple the evidence of a shared home
        street_similar = cll.JaroWinklerLevel("street", 0.88)
        comparisons.append(
            cl.CustomComparison(
                output_column_name="address",
                comparison_description="Street, postcode and city",
                comparison_levels=[
                    cll.And(cll.NullLevel("street"), cll.NullLevel("postcode"), cll.NullLevel("city")),
                    cll.And(cll.ExactMatchLevel("street"), cll.ExactMatchLevel("postcode")).configure(
                        label_for_charts="Same street and postcode"
                    ),
                    cll.And(street_similar, cll.Or(cll.LevenshteinLevel("postcode", 1), cll.ExactMatchLevel("city"))).configure(
                        label_for_charts="Similar street, same area"
                    ),
                    cll.And(cll.ExactMatchLevel("postcode"), cll.NullLevel("street")).configure(
                        label_for_charts="Same postcode, street unknown"
                    ),
                    cll.And(cll.ExactMatchLevel("city"), cll.NullLevel("street")).configure(
                        label_for_charts="Same city, street unknown"
                    ),
                    cll.ExactMatchLevel("street").configure(label_for_charts="Same street only"),
                    cll.Or(cll.ExactMatchLevel("postcode"), cll.ExactMatchLevel("city")).configure(
                        label_for_charts="Same postcode or city, other street"
                    ),
                    cll.ElseLevel(),
                ],
            )
        )
    if not comparisons:
        raise ValueError(
            "records have no usable identifying column: every one of first_name, last_name, email, phone, "
            "date_of_birth, street, city, postcode is missing or empty after standardisation"
        )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=unique_id,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*cols) if isinstance(cols, tuple) else cols
                                                for cols in _blocking_rules(has)],
        probability_two_random_records_match=probability_two_random_records_match,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        max_iterations=max_iterations,
        additional_columns_to_retain=[],
    )


_SWAPPED_NAMES_RULE = "l.first_name = r.last_name and l.last_name = r.first_name"
_BLOCKING_KEYS = (
    ("email",),
    ("phone",),
    ("first_name_canon", "last_name"),
    ("last_name", "date_of_birth"),
    ("date_of_birth", "postcode"),
    ("first_name_canon", "date_of_birth"),
    ("last_name", "postcode"),
    ("first_name", "postcode"),
    ("street",),
    ("loyalty_id",),
)
#: Single weak columns to block on when none of the rules above applies.
_FALLBACK_KEYS = ("last_name", "first_name", "street", "city", "postcode")


def _blocking_rules(has) -> list:
    """Blocking keys (tuples of columns) and SQL rules for the columns ``has`` accepts."""
    rules: list = [cols for cols in _BLOCKING_KEYS if all(has(c) for c in cols)]
    if has("first_name") and has("last_name"):
        rules.append(_SWAPPED_NAMES_RULE)
    if not rules:  # a single weak column: fall back to blocking on it
        rules.append((next(c for c in _FALLBACK_KEYS if has(c)),))
    return rules


def make_db_api(backend: str = "duckdb", spark: Any = None, *, threads: int | None = None):
    """A Splink database API: a fresh in-memory DuckDB database (progress bar off) or Spark.

    Parameters
    ----------
    backend : {"duckdb", "spark"}
        The Splink backend.
    spark : pyspark.sql.SparkSession, optional
        Required for ``backend="spark"``.
    threads : int, optional
        DuckDB threads (default: DuckDB's choice). Training runs on one thread, because DuckDB's
        seeded sampling and EM's floating-point sums depend on thread scheduling.

    Returns
    -------
    splink.backends.duckdb.DuckDBAPI or splink.backends.spark.SparkAPI

    Examples
    --------
    >>> type(make_db_api("duckdb", threads=1)).__name__
    'DuckDBAPI'
    """
    if backend == "duckdb":
        import duckdb
        from splink.backends.duckdb import DuckDBAPI

        try:
            con = duckdb.connect(":memory:", config={"enable_progress_bar": False})
        except duckdb.Error:  # in Jupyter without ipywidgets DuckDB refuses to touch the setting
            con = duckdb.connect(":memory:")  # ... and then cannot draw a bar there anyway
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        return DuckDBAPI(connection=con)
    if backend == "spark":
        if spark is None:
            raise ValueError("backend='spark' needs a SparkSession: pass spark=SparkSession.builder...getOrCreate()")
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=spark)
    raise ValueError(f"backend must be 'duckdb' or 'spark', got {backend!r}")


_TABLES = itertools.count(1)


def _table_name() -> str:
    """A name for the records table that no earlier call used: a Spark session keeps the tables of
    every call (training, then prediction) in one catalog, where a second "records" is refused."""
    return f"records_{next(_TABLES)}"


def _link_table(data: pd.DataFrame, backend: str):
    """The records Splink reads: ``_rid`` and :data:`LINK_COLUMNS`, typed even when a column is empty."""
    frame = data[["_rid", *LINK_COLUMNS]]
    if backend != "duckdb":
        return frame
    import pyarrow as pa

    types = {c: pa.string() for c in LINK_COLUMNS} | {"first_name_variants": pa.list_(pa.string())}
    arrays = [pa.array(frame["_rid"].to_numpy(np.int64))]
    for c in LINK_COLUMNS:
        values = frame[c].astype(object).where(frame[c].notna(), None).tolist()
        arrays.append(pa.array(values, type=types[c]))
    return pa.Table.from_arrays(arrays, names=["_rid", *LINK_COLUMNS])


def _is_probability_underflow(exc: BaseException) -> bool:
    """Is ``exc`` Splink refusing an m or u estimate below its minimum (EM estimated 0)?"""
    return isinstance(exc, ValueError) and bool(_UNDERFLOW.search(str(exc)))


def _em_session(linker, make_linker, column: str, max_pairs_em: float, max_iterations: int):
    """One EM session blocked on ``column``; returns the linker holding the result and whether it trained.

    When EM estimates 0 for some level Splink raises (see the module docstring) after having
    replaced the linker's model by the session's reduced one; the session then restarts from
    the model saved before it, on a new linker, with half the iterations (EM shrinks such an
    estimate geometrically, so fewer iterations keep it above 0). After a session of one
    iteration fails too, the session is skipped and the model stays as it was before it.
    """
    from splink import block_on

    before = linker.misc.save_model_to_json()
    iterations = max_iterations
    while True:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(column), estimate_without_term_frequencies=True, max_pairs=max_pairs_em
            )
            break
        except ValueError as exc:
            if not _is_probability_underflow(exc):
                raise
            if iterations == 1:  # skip the session: the model stays as it was before it
                return make_linker(before), False
            iterations //= 2
            linker = make_linker({**before, "max_iterations": iterations})
    if iterations != max_iterations:  # later sessions get the full number of iterations again
        linker = make_linker({**linker.misc.save_model_to_json(), "max_iterations": max_iterations})
    return linker, True


def train_model(
    data: pd.DataFrame,
    *,
    random_state=0,
    max_pairs_u: float = 1e6,
    max_pairs_em: float = MAX_PAIRS_EM,
    recall: float = DETERMINISTIC_RECALL,
    backend: str = "duckdb",
    spark: Any = None,
) -> dict[str, Any]:
    """Train a Fellegi-Sunter model on standardised records; returns the trained Splink settings.

    Steps: the prior from the pairs exact keys link (:func:`deterministic_prior`, passed in the
    settings); ``u`` from ``max_pairs_u`` random pairs (seeded); ``m`` by EM sessions blocking on
    date of birth (learns every other comparison), then e-mail (learns date of birth), phone and
    last name until every comparison is learned. A session is skipped when no two records share
    its column. Each session uses at most about ``max_pairs_em`` blocked pairs (Splink's
    deterministic hash sample) and ignores term-frequency adjustments while iterating.

    The result holds an m and a u probability for every level that is not the "missing" one:
    estimates below :data:`EM_PROBABILITY_FLOOR` are raised to it, and so is the u of a level
    none of the random pairs fell in; a level none of EM's pairs fell in, and every level of a
    comparison no EM session could learn (no two records share any session's column), gets
    ``m = u``: weight 0, no evidence either way.

    Parameters
    ----------
    data : pandas.DataFrame
        At least two standardised records: the integer key ``_rid`` (0 to n - 1) and
        :data:`LINK_COLUMNS`.
    random_state : None, int or numpy.random.Generator
        Seed of the random pairs behind u: an int is Splink's seed (the same int, the same model);
        a Generator or None (fresh entropy) draws one.
    max_pairs_u : float
        Random pairs sampled to estimate u.
    max_pairs_em : float
        Most blocked pairs per EM session.
    recall : float
        See :func:`deterministic_prior`.
    backend : {"duckdb", "spark"}
        Splink backend (``"spark"`` needs ``spark``).
    spark : pyspark.sql.SparkSession, optional
        The Spark session.

    Returns
    -------
    dict
        A Splink settings dictionary with trained ``m_probability`` and ``u_probability`` values
        and ``probability_two_random_records_match``.

    Examples
    --------
    >>> from crm_models.identify.standardise import standardise_records
    >>> raw = pd.DataFrame({"record_id": [1, 2, 3, 4], "source": "web",
    ...                     "email": ["a@x.com", "a@x.com", "b@x.com", "c@x.com"],
    ...                     "last_name": ["Lee", "Lee", "Kim", "Kim"]})
    >>> data = standardise_records(raw).data.assign(_rid=range(4))
    >>> model = train_model(data)
    >>> [c["output_column_name"] for c in model["comparisons"]]
    ['name', 'email']
    >>> round(model["probability_two_random_records_match"], 4)  # 1 pair of 6 at recall 0.6
    0.2778
    """
    from splink import Linker

    n = len(data)
    if n < 2:
        raise ValueError(f"a model is learned from pairs of records: need at least 2 records, got {n}")
    columns = usable_columns(data)
    prior = deterministic_prior(data, recall=recall)
    settings = build_settings(columns, probability_two_random_records_match=prior)
    db_api = make_db_api(backend, spark, threads=1)
    canonical = settings.create_settings_dict(DIALECTS[backend])
    with quiet_splink():
        records = db_api.register(_link_table(data, backend), dataset_display_name=_table_name())

        def make_linker(model):
            return Linker(records, {k: v for k, v in model.items() if k != "linker_uid"}, log_level=None)

        linker = Linker(records, settings, log_level=None)
        small = n * (n - 1) / 2 <= max_pairs_u  # every pair fits in the sample: one pass, no probing
        linker.training.estimate_u_using_random_sampling(
            max_pairs=max_pairs_u, seed=_splink_seed(random_state), num_chunks=1 if small else 10
        )
        names = {c["output_column_name"] for c in canonical["comparisons"]}
        trained: set[str] = set()
        for column in EM_SESSIONS:
            if trained >= names:
                break
            if column not in columns or not _pairs_sharing(data, (column,)):
                continue  # no pair to learn from (Splink would raise and keep a reduced model)
            linker, ok = _em_session(linker, make_linker, column, max_pairs_em, canonical["max_iterations"])
            if ok:
                trained |= names - {_SESSION_COMPARISON[column]}
        learned = linker.misc.save_model_to_json()
    return _complete(canonical, learned, prior, trained)


def _splink_seed(random_state) -> int:
    """Splink's integer seed from a ``random_state`` (an int is used as it is)."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, (bool, np.bool_)):
        return int(random_state)
    return int(as_generator(random_state).integers(0, 2**31 - 1))


def _complete(canonical: Mapping, learned: Mapping, prior: float, trained: Collection[str]) -> dict[str, Any]:
    """``canonical`` settings with every level's m and u taken from ``learned`` (floored, filled).

    Splink's model JSON leaves out an estimate it could not make. u is estimated for every
    comparison from random pairs, so a missing u is a level none of them fell in: rarer than the
    sample can measure, it gets the floor (what Splink itself scores such a level with). A missing
    m is a level none of EM's pairs fell in, or a comparison no EM session could learn: those
    pairs say nothing about it, so it gets m = u (weight 0, no evidence either way).
    """
    model = copy.deepcopy(dict(canonical))
    model["probability_two_random_records_match"] = float(prior)
    found = {c["output_column_name"]: c["comparison_levels"] for c in learned["comparisons"]}
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        for level, fitted in zip(comparison["comparison_levels"], found[name], strict=True):
            if level.get("is_null_level"):
                continue
            m, u = fitted.get("m_probability"), fitted.get("u_probability")
            u = float(u) if isinstance(u, (int, float)) else EM_PROBABILITY_FLOOR
            m = float(m) if isinstance(m, (int, float)) and name in trained else u
            level["m_probability"] = min(max(float(m), EM_PROBABILITY_FLOOR), 1.0)
            level["u_probability"] = min(max(float(u), EM_PROBABILITY_FLOOR), 1.0)
    return model


def _model_for_batch(model: Mapping, n_fit: int, n: int) -> dict[str, Any]:
    """``model`` with its prior rescaled from ``n_fit`` training records to a batch of ``n``.

    The prior is the share of all pairs that match. With a stable number of records per person,
    matching pairs grow like ``n`` and all pairs like ``n**2``, so the prior scales as
    ``(n_fit - 1) / (n - 1)``; it stays within ``[1 / (n (n - 1) / 2), 0.5]``.
    """
    out = dict(model)
    prior = float(model["probability_two_random_records_match"])
    if n != n_fit and n > 1:
        lowest = 1.0 / max(n * (n - 1) / 2, 2.0)
        out["probability_two_random_records_match"] = min(max(prior * (n_fit - 1) / (n - 1), lowest), 0.5)
    return out


def predict_pairs(
    data: pd.DataFrame,
    model: Mapping[str, Any],
    *,
    min_match_probability: float = 0.001,
    backend: str = "duckdb",
    spark: Any = None,
) -> pd.DataFrame:
    """Score the blocked pairs of ``data`` with a trained model (no training).

    Parameters
    ----------
    data : pandas.DataFrame
        Standardised records with the integer key ``_rid`` and :data:`LINK_COLUMNS`.
    model : mapping
        Trained Splink settings (:func:`train_model`).
    min_match_probability : float
        Pairs below this match probability (0-1) are left out.
    backend : {"duckdb", "spark"}
        Splink backend (``"spark"`` needs ``spark``).
    spark : pyspark.sql.SparkSession, optional
        The Spark session.

    Returns
    -------
    pandas.DataFrame
        One row per scored pair: ``_rid_l``, ``_rid_r``, ``match_weight`` (bits),
        ``match_probability``, the two records' values, and per comparison its level
        (``gamma_*``, -1 when a value is missing) and weight (``mw_*``, bits).

    Examples
    --------
    >>> from crm_models.identify.standardise import standardise_records
    >>> raw = pd.DataFrame({"record_id": [1, 2, 3, 4], "source": "web",
    ...                     "email": ["a@x.com", "a@x.com", "b@x.com", "c@x.com"],
    ...                     "last_name": ["Lee", "Lee", "Kim", "Kim"]})
    >>> data = standardise_records(raw).data.assign(_rid=range(4))
    >>> pairs = predict_pairs(data, train_model(data))
    >>> pairs[["_rid_l", "_rid_r"]].to_numpy().tolist()  # Lee/Lee share an e-mail; Kim/Kim do not
    [[0, 1]]
    """
    from splink import Linker

    db_api = make_db_api(backend, spark)
    with quiet_splink():
        records = db_api.register(_link_table(data, backend), dataset_display_name=_table_name())
        linker = Linker(records, dict(model), log_level=None)
        scored = linker.inference.predict(threshold_match_probability=min_match_probability)
        return scored.as_pandas_dataframe()


def _level_rows(model: Mapping[str, Any]) -> Iterator[tuple[str, str, int, Mapping]]:
    """(comparison, level label, gamma, level) for every non-missing level, in Splink's numbering."""
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for i, level in enumerate(levels):
            yield comparison["output_column_name"], level["label_for_charts"], len(levels) - 1 - i, level


def model_parameters(model: Mapping[str, Any]) -> pd.DataFrame:
    """The m and u probability and the match weight of every comparison level of a trained model.

    Parameters
    ----------
    model : mapping
        Trained Splink settings (:func:`train_model`).

    Returns
    -------
    pandas.DataFrame
        One row per level that is not the "missing" level: ``comparison``, ``level``, ``gamma``
        (Splink's level number: ``k - 1`` for the first of ``k`` levels down to 0),
        ``m_probability``, ``u_probability`` and ``match_weight`` = ``log2(m / u)`` (bits).

    Examples
    --------
    >>> model = {"comparisons": [{"output_column_name": "phone", "comparison_levels": [
    ...     {"label_for_charts": "phone is NULL", "is_null_level": True},
    ...     {"label_for_charts": "Exact match", "m_probability": 0.9, "u_probability": 0.001},
    ...     {"label_for_charts": "All other", "m_probability": 0.1, "u_probability": 0.999}]}]}
    >>> model_parameters(model)[["level", "gamma", "match_weight"]].round(2)
             level  gamma  match_weight
    0  Exact match      1          9.81
    1    All other      0         -3.32
    """
    rows = [
        {
            "comparison": name,
            "level": label,
            "gamma": gamma,
            "m_probability": float(level["m_probability"]),
            "u_probability": float(level["u_probability"]),
            "match_weight": math.log2(float(level["m_probability"]) / float(level["u_probability"])),
        }
        for name, label, gamma, level in _level_rows(model)
    ]
    columns = ["comparison", "level", "gamma", "m_probability", "u_probability", "match_weight"]
    return pd.DataFrame(rows, columns=columns)


# ----------------------------------------------------------------------------------------------
# reading a saved model: only crm_models' own comparisons and blocking rules, with valid numbers
# ----------------------------------------------------------------------------------------------

_CATALOGUE: dict[str, dict[str, Any]] = {}


def _catalogue(dialect: str) -> dict[str, Any]:
    """Every comparison and blocking rule :func:`build_settings` can write, in ``dialect``."""
    if dialect not in _CATALOGUE:
        full = build_settings(LINK_COLUMNS).create_settings_dict(dialect)
        from splink import block_on

        rules = list(full["blocking_rules_to_generate_predictions"])
        rules += [block_on(c).create_blocking_rule_dict(dialect) for c in _FALLBACK_KEYS]
        _CATALOGUE[dialect] = {"settings": full, "comparisons": full["comparisons"], "rules": rules}
    return _CATALOGUE[dialect]


def _check_subsequence(reader: FieldReader, key: str, items: list, allowed: list, what: str) -> None:
    if not isinstance(items, list) or not items:
        reader.fail(key, f"must be a non-empty list of {what}")
    pos = 0
    for i, item in enumerate(items):
        while pos < len(allowed) and allowed[pos] != item:
            pos += 1
        if pos == len(allowed):
            reader.fail(f"{key}[{i}]", f"is not one of crm_models' {what} (or is out of order): {item!r}")
        pos += 1


def read_model(reader: FieldReader, key: str, *, backend: str) -> dict[str, Any]:
    """A trained model read from a saved file, every field checked.

    The model may hold only the comparisons and blocking rules :func:`build_settings` writes
    (exactly, in its order; no other SQL), every level that is not the "missing" one an
    ``m_probability`` and a ``u_probability`` in (0, 1], and a prior in (0, 1).

    Parameters
    ----------
    reader : crm_models.base.FieldReader
        Reader of the object holding the model.
    key : str
        The model's key.
    backend : {"duckdb", "spark"}
        The backend whose SQL dialect the model is written in.

    Returns
    -------
    dict
        The model, as saved.

    Raises
    ------
    crm_models.errors.ModelFileError
        Naming the first field that breaks a rule.

    Examples
    --------
    >>> from crm_models.errors import ModelFileError
    >>> try:
    ...     read_model(FieldReader({"model": {"link_type": "link_only"}}, "fitted"), "model", backend="duckdb")
    ... except ModelFileError as exc:
    ...     print(exc.field)
    fitted.model
    """
    model = reader.child(key)
    raw = model.doc
    catalogue = _catalogue(DIALECTS[backend])
    expected = catalogue["settings"]
    if set(raw) != set(expected):
        missing, extra = sorted(set(expected) - set(raw)), sorted(set(raw) - set(expected))
        reader.fail(key, f"must hold exactly the keys of a crm_models Splink model (missing {missing}, unknown {extra})")
    for name, value in expected.items():
        if name in ("comparisons", "blocking_rules_to_generate_predictions", "probability_two_random_records_match"):
            continue
        if raw[name] != value:
            model.fail(name, f"must be {value!r} (crm_models writes it so), got {raw[name]!r}")
    model.number("probability_two_random_records_match", low=0.0, high=1.0, low_open=True, high_open=True)
    _check_subsequence(model, "blocking_rules_to_generate_predictions",
                       raw["blocking_rules_to_generate_predictions"], catalogue["rules"], "blocking rules")
    comparisons = raw["comparisons"]
    if not isinstance(comparisons, list) or not comparisons:
        model.fail("comparisons", "must be a non-empty list of comparisons")
    known = {c["output_column_name"]: c for c in catalogue["comparisons"]}
    order = list(known)
    last = -1
    for i, comparison in enumerate(comparisons):
        where = f"comparisons[{i}]"
        if not isinstance(comparison, Mapping):
            model.fail(where, "must be a JSON object")
        name = comparison.get("output_column_name")
        if name not in known or order.index(name) <= last:
            model.fail(f"{where}.output_column_name", f"must be one of {order} (each once, in this order), got {name!r}")
        last = order.index(name)
        want = known[name]
        one = FieldReader(comparison, model.where(where), model.source)
        if set(comparison) != set(want):
            model.fail(where, f"must hold exactly the keys {sorted(want)}")
        for k, v in want.items():
            if k != "comparison_levels" and comparison[k] != v:
                one.fail(k, f"must be {v!r}, got {comparison[k]!r}")
        levels, want_levels = comparison["comparison_levels"], want["comparison_levels"]
        if not isinstance(levels, list) or len(levels) != len(want_levels):
            one.fail("comparison_levels", f"must hold the {len(want_levels)} levels of comparison {name!r}")
        for j, (level, want_level) in enumerate(zip(levels, want_levels)):
            if not isinstance(level, Mapping):
                one.fail(f"comparison_levels[{j}]", "must be a JSON object")
            lv = FieldReader(level, one.where(f"comparison_levels[{j}]"), model.source)
            numbers = set() if want_level.get("is_null_level") else {"m_probability", "u_probability"}
            if set(level) != set(want_level) | numbers:
                one.fail(f"comparison_levels[{j}]", f"must hold exactly the keys {sorted(set(want_level) | numbers)}")
            for k, v in want_level.items():
                if level[k] != v:
                    lv.fail(k, f"must be {v!r} (level {j} of comparison {name!r}), got {level[k]!r}")
            for k in sorted(numbers):
                lv.number(k, low=0.0, high=1.0, low_open=True)
    return copy.deepcopy(dict(raw))

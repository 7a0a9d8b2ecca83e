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
folder training stops. With a ``local[...]`` master, intermediate tables are persisted in memory;
on a cluster Splink writes them to the checkpoint folder. Everything else (standardisation,
clustering, golden records) happens in pandas on the scored pairs, which are far fewer than the
records' cartesian product.

A model trained on DuckDB (on a sample, on one machine) scores on Spark unchanged:
``CustomerResolver.load("model.json").set_params(backend="spark").resolve(records, spark=spark)``
(:func:`translate_model` rewrites its SQL for Spark).
"""

from __future__ import annotations

import contextlib
import copy
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
    "DETERMINISTIC_RULES",
    "quiet_splink",
    "identifier_columns",
    "link_columns",
    "usable_columns",
    "deterministic_rules",
    "deterministic_prior",
    "estimate_prior",
    "blocking_keys",
    "build_settings",
    "make_db_api",
    "train_model",
    "predict_pairs",
    "predict_new_pairs",
    "model_parameters",
    "translate_model",
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
    "gender",
    "loyalty_id",
)

#: Smallest m or u probability a trained model keeps. EM estimates 0 for a level no matching
#: pair falls in (for example "phone different" in a world where everybody keeps one phone);
#: a weight of minus infinity would veto the pair whatever else agrees, so such estimates are
#: raised to 1e-6, a weight of about -20 bits.
EM_PROBABILITY_FLOOR = 1e-6

#: Share of true matches that the deterministic rules are assumed to find; the starting prior is
#: the share of pairs these rules link, divided by this recall (:func:`deterministic_prior`).
DETERMINISTIC_RECALL = 0.6

#: Deterministic rules: two records sharing every column of one of these (and each identifier on
#: its own) are taken to be one person when the prior is counted.
DETERMINISTIC_RULES = (
    ("email",),
    ("first_name", "last_name", "date_of_birth"),
    ("first_name", "last_name", "postcode"),
    ("first_name", "last_name", "phone"),
)

#: The blocking rules compare at most this many pairs per record in all (or :data:`MIN_PAIR_BUDGET`
#: pairs for smaller batches): rules are kept from the one comparing the fewest pairs until the
#: budget is spent, so the cost of scoring grows like the number of records (:func:`blocking_keys`).
MAX_PAIRS_PER_RECORD = 16.0
MIN_PAIR_BUDGET = 1e6

#: Prior used when no deterministic rule applies to the records' columns (Splink's default).
DEFAULT_PRIOR = 1e-4

#: At most this many blocked pairs per EM session (Splink's deterministic hash sample).
MAX_PAIRS_EM = 3e5

#: EM sessions in order: each blocks on one column and so learns every other comparison
#: (identifier columns follow, then postcode and first name, until every comparison is learned).
EM_SESSIONS = ("date_of_birth", "email", "phone", "last_name")
#: The comparison an EM session cannot learn (the one its blocking column belongs to).
_SESSION_COMPARISON = {"date_of_birth": "date_of_birth", "email": "email", "phone": "phone", "last_name": "name",
                       "postcode": "address", "first_name": "name", "loyalty_id": "loyalty_id"}

#: The Splink dialect of each backend.
DIALECTS = {"duckdb": "duckdb", "spark": "spark"}

_IDENTIFIER = re.compile(r"^id_[a-z0-9_]{1,60}$")
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


def identifier_columns(columns) -> tuple[str, ...]:
    """The identifier columns among ``columns``: ``loyalty_id`` and every ``id_*`` column, in order.

    Parameters
    ----------
    columns : iterable of str
        Standardised column names (a DataFrame gives its columns).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> identifier_columns(["email", "id_soc_sec_id", "loyalty_id"])
    ('loyalty_id', 'id_soc_sec_id')
    """
    names = list(columns)
    return tuple(["loyalty_id"] if "loyalty_id" in names else []) + tuple(
        c for c in names if isinstance(c, str) and c.startswith("id_"))


def link_columns(data: pd.DataFrame) -> tuple[str, ...]:
    """The standardised columns handed to Splink: :data:`LINK_COLUMNS` and the ``id_*`` columns.

    Parameters
    ----------
    data : pandas.DataFrame
        Standardised records.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> link_columns(pd.DataFrame(columns=["email", "id_ssn"]))[-2:]
    ('loyalty_id', 'id_ssn')
    """
    return LINK_COLUMNS + tuple(c for c in identifier_columns(data.columns) if c != "loyalty_id")


def usable_columns(data: pd.DataFrame) -> tuple[str, ...]:
    """The columns of :func:`link_columns` that hold at least one value in ``data``.

    Parameters
    ----------
    data : pandas.DataFrame
        Standardised records.

    Returns
    -------
    tuple of str
        In the order of :func:`link_columns`.

    Examples
    --------
    >>> usable_columns(pd.DataFrame({"email": ["a@b.com", None], "phone": [None, None]}))
    ('email',)
    """
    return tuple(c for c in link_columns(data) if _has(data, c))


def _pairs_sharing(data: pd.DataFrame, cols: tuple[str, ...]) -> int:
    """Pairs of rows with the same non-missing value in every column of ``cols``."""
    if not all(c in data.columns for c in cols):
        return 0
    sub = data[list(cols)].dropna()
    if sub.empty:
        return 0
    sizes = sub.groupby(list(cols), sort=False).size().to_numpy(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def deterministic_rules(columns) -> list[tuple[str, ...]]:
    """The rules of :data:`DETERMINISTIC_RULES` (and one per identifier) that ``columns`` allow.

    Parameters
    ----------
    columns : collection of str
        The standardised columns that hold values (see :func:`usable_columns`).

    Returns
    -------
    list of tuple of str
        Each rule as the columns two records must share.

    Examples
    --------
    >>> deterministic_rules(["first_name", "last_name", "date_of_birth", "id_ssn"])
    [('first_name', 'last_name', 'date_of_birth'), ('id_ssn',)]
    """
    has = set(columns).__contains__
    rules = [rule for rule in DETERMINISTIC_RULES if all(has(c) for c in rule)]
    return rules + [(c,) for c in identifier_columns(list(columns))]


def deterministic_prior(data: pd.DataFrame, *, recall: float = DETERMINISTIC_RECALL) -> float:
    """The prior probability that two random records match, from the pairs deterministic rules link.

    Counts the distinct pairs that satisfy any rule of :func:`deterministic_rules` for the
    columns present (same e-mail; same first name, last name and date of birth; same names and
    postcode; same names and phone; same identifier; a pair found by several rules counts once),
    divides by all ``n (n - 1) / 2`` pairs and by ``recall``, the share of true matches the rules
    are assumed to find, and keeps the result between one match among all pairs and 1/2 (a sample
    without a shared key would otherwise give 0, which makes every match weight minus infinity).
    Records without the columns of any rule get :data:`DEFAULT_PRIOR`. This is Splink's
    ``estimate_probability_two_random_records_match`` on the same rules, without its refusal of
    priors above 1 (which identical records produce); :func:`estimate_prior` refines it.

    Parameters
    ----------
    data : pandas.DataFrame
        Standardised records (missing values as None).
    recall : float
        Assumed share (0-1] of true matching pairs that the rules find.

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
    rules = deterministic_rules([c for c in data.columns if _has(data, c)])
    if not rules:
        return min(max(DEFAULT_PRIOR, lowest), 0.5)
    found = _distinct_pairs(data, rules)
    prior = found / recall / max(total, 1.0)
    return min(max(prior, lowest), 0.5)


def _distinct_pairs(data: pd.DataFrame, rules: list[tuple[str, ...]]) -> int:
    """Distinct pairs of rows that share every column of at least one rule (DuckDB, any size)."""
    counts = [_pairs_sharing(data, rule) for rule in rules]
    if sum(1 for c in counts if c) <= 1:
        return int(sum(counts))
    import duckdb

    cols = sorted({c for rule in rules for c in rule})
    frame = data[cols].assign(_row=np.arange(len(data), dtype=np.int64))
    con = duckdb.connect(":memory:")
    try:
        con.register("records", frame)
        selects = [
            "select l._row as a, r._row as b from records l join records r on "
            + " and ".join(f"l.{c} = r.{c}" for c in rule) + " and l._row < r._row"
            for rule, count in zip(rules, counts) if count
        ]
        return int(con.execute(f"select count(*) from ({' union '.join(selects)})").fetchone()[0])
    finally:
        con.close()


def estimate_prior(match_weights, n_records: int, prior: float, *, max_iterations: int = 200) -> float:
    """The prior that agrees with the model's own match probabilities of the scored pairs.

    The prior ``lambda`` is the share of all ``n (n - 1) / 2`` pairs that match. Given each scored
    pair's match weight ``w`` (bits, computed with ``prior``), its Bayes factor is
    ``2**(w - logit2(prior))``; iterating ``lambda <- sum P(match | pair, lambda) / (n (n - 1) / 2)``
    (the EM update of the prior with m and u fixed, pairs never scored counted as non-matches)
    converges to the prior the data support, whatever recall the deterministic rules had.

    Parameters
    ----------
    match_weights : array-like of float
        Match weights (bits) of the scored pairs, computed with ``prior``.
    n_records : int
        Records the pairs were drawn from.
    prior : float
        The prior the weights were computed with, in (0, 1).
    max_iterations : int
        Most fixed-point iterations (it stops once the prior changes by less than 1e-6 of itself).

    Returns
    -------
    float
        The prior, in ``[1 / (n (n - 1) / 2), 0.5]``.

    Examples
    --------
    >>> # 3 of the 6 pairs of 4 records are scored; two have overwhelming evidence
    >>> round(estimate_prior([30.0, 25.0, -40.0], 4, 0.1), 4)
    0.3333
    """
    if not 0 < prior < 1:
        raise ValueError(f"prior must lie strictly between 0 and 1, got {prior!r}")
    total = n_records * (n_records - 1) / 2
    lowest = 1.0 / max(total, 2.0)
    w = np.asarray(match_weights, dtype=float)
    w = w[np.isfinite(w)] - math.log2(prior / (1 - prior))  # Bayes factors, in bits
    lam = min(max(prior, lowest), 0.5)
    for _ in range(max_iterations):
        logit = math.log2(lam / (1 - lam))
        new = float((1.0 / (1.0 + np.exp2(-(w + logit)))).sum()) / max(total, 1.0)
        new = min(max(new, lowest), 0.5)
        if abs(new - lam) <= 1e-6 * lam:
            return new
        lam = new
    return lam


def build_settings(
    columns: Collection[str],
    *,
    probability_two_random_records_match: float = DEFAULT_PRIOR,
    unique_id: str = "_rid",
    max_iterations: int = 25,
    blocking: list | None = None,
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
    * gender: same; different.
    * each identifier (``loyalty_id``, ``id_*``): exact; one character different; different.

    Blocking rules (pairs are scored if any holds): same email, same phone, same canonical first
    name and last name, same last name and birth date, same birth date and postcode, same
    canonical first name and birth date, same last name and postcode, same first name and
    postcode, same street, same birth date and city, same identifier, swapped names; with none of
    these, the first single column present (see :func:`blocking_keys`).

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
    blocking : list, optional
        The blocking keys (tuples of columns, or the swapped-names rule) to use, from
        :func:`blocking_keys`; by default every rule ``columns`` allow.

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
    if has("gender") and comparisons:
        comparisons.append(
            cl.CustomComparison(
                output_column_name="gender",
                comparison_description="Gender",
                comparison_levels=[cll.NullLevel("gender"), cll.ExactMatchLevel("gender"), cll.ElseLevel()],
            )
        )
    for ident in identifier_columns(sorted(columns)):
        comparisons.append(
            cl.CustomComparison(
                output_column_name=ident,
                comparison_description=f"Identifier {ident}",
                comparison_levels=[
                    cll.NullLevel(ident),
                    cll.ExactMatchLevel(ident),
                    cll.LevenshteinLevel(ident, 1).configure(label_for_charts="One character different"),
                    cll.ElseLevel(),
                ],
            )
        )
    if not comparisons:
        raise ValueError(
            "records have no usable identifying column: every one of first_name, last_name, email, phone, "
            "date_of_birth, street, city, postcode and the identifiers is missing or empty after standardisation"
        )
    keys = _blocking_rules(has, identifier_columns(sorted(columns))) if blocking is None else blocking
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=unique_id,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*cols) if isinstance(cols, tuple) else cols
                                                for cols in keys],
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
    ("date_of_birth", "city"),
    ("loyalty_id",),
)
#: Single columns to block on when none of the rules above applies (or all compare too many pairs).
_FALLBACK_KEYS = ("date_of_birth", "last_name", "first_name", "street", "postcode", "city", "email", "phone")


def _blocking_rules(has, identifiers=(), *, fallback: bool = True) -> list:
    """Blocking keys (tuples of columns) and SQL rules for the columns ``has`` accepts; without
    any, the first single column of :data:`_FALLBACK_KEYS` present (unless ``fallback`` is False)."""
    rules: list = [cols for cols in _BLOCKING_KEYS if all(has(c) for c in cols)]
    rules += [(c,) for c in identifiers if c != "loyalty_id"]
    if has("first_name") and has("last_name"):
        rules.append(_SWAPPED_NAMES_RULE)
    if not rules and fallback:  # a single weak column: fall back to blocking on it
        rules.append((next(c for c in _FALLBACK_KEYS if has(c)),))
    return rules


def _rule_pairs(data: pd.DataFrame, rule) -> int:
    """Pairs a blocking rule compares in ``data``."""
    if isinstance(rule, tuple):
        return _pairs_sharing(data, rule)
    sub = data[["first_name", "last_name"]].dropna()  # the swapped-names rule
    both = sub.merge(sub.rename(columns={"first_name": "last_name", "last_name": "first_name"}),
                     on=["first_name", "last_name"]).shape[0]
    return int(both // 2)


def blocking_keys(data: pd.DataFrame, columns: Collection[str] | None = None, *,
                  max_pairs: float | None = None) -> list:
    """The blocking rules to score pairs with: those the columns allow, within a budget of pairs.

    Every rule the columns allow is counted (the pairs it would compare in ``data``); rules are
    kept from the one comparing the fewest pairs while their total stays within ``max_pairs``, so
    a rule that would compare records in bulk (a common name alone, a city) is dropped first and
    the cost of scoring grows like the number of records. The cheapest rule is always kept, so
    every record set with one identifying column still resolves; with no rule at all, the single
    column comparing the fewest pairs is used.

    Parameters
    ----------
    data : pandas.DataFrame
        Standardised records.
    columns : collection of str, optional
        The columns that hold values (default: :func:`usable_columns` of ``data``).
    max_pairs : float, optional
        The budget of pairs (default: :data:`MAX_PAIRS_PER_RECORD` per record, at least
        :data:`MIN_PAIR_BUDGET`).

    Returns
    -------
    list
        Tuples of columns (records sharing all of them are compared) and SQL rules, in the order
        of :func:`build_settings`.

    Examples
    --------
    >>> data = pd.DataFrame({"date_of_birth": ["1980-01-01", "1980-01-01", "1990-05-05"]})
    >>> blocking_keys(data)
    [('date_of_birth',)]
    >>> people = pd.DataFrame({"email": ["a@x", "a@x", "b@x", "c@x"], "city": ["Leeds"] * 4})
    >>> blocking_keys(people, ["email", "city"], max_pairs=2)  # the city alone would compare 6 pairs
    [('email',)]
    """
    columns = usable_columns(data) if columns is None else tuple(columns)
    has = set(columns).__contains__
    budget = max(MIN_PAIR_BUDGET, MAX_PAIRS_PER_RECORD * len(data)) if max_pairs is None else max_pairs
    identifiers = identifier_columns(sorted(columns))
    rules = _blocking_rules(has, identifiers, fallback=False)
    if not rules:  # only weak single columns: block on the one that compares the fewest pairs
        singles = [(c,) for c in _FALLBACK_KEYS if has(c)] + [(c,) for c in identifiers]
        return [min(singles, key=lambda r: _rule_pairs(data, r))]
    counts = [_rule_pairs(data, r) for r in rules]
    kept, spent = set(), 0.0
    for k in sorted(range(len(rules)), key=lambda k: (counts[k], k)):
        if kept and spent + counts[k] > budget:
            break
        kept.add(k)
        spent += counts[k]
    return [r for k, r in enumerate(rules) if k in kept]


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

        # on one machine, intermediate tables are kept in memory; on a cluster Splink writes them
        # to the checkpoint folder as Parquet (its default) to cut Spark's lineage
        local = str(spark.sparkContext.master).startswith("local")
        return SparkAPI(spark_session=spark, break_lineage_method="persist" if local else None)
    raise ValueError(f"backend must be 'duckdb' or 'spark', got {backend!r}")


def model_columns(model: Mapping[str, Any]) -> tuple[str, ...]:
    """The standardised columns a trained model reads: :data:`LINK_COLUMNS` and its identifiers."""
    names = [c["output_column_name"] for c in model.get("comparisons", [])]
    return LINK_COLUMNS + tuple(c for c in identifier_columns(names) if c != "loyalty_id")


def _table_name() -> str:
    """A fresh name for the records table (a Spark session keeps every name registered in it)."""
    import uuid

    return f"records_{uuid.uuid4().hex[:12]}"


def _link_table(data: pd.DataFrame, backend: str, columns: tuple[str, ...] | None = None):
    """The records Splink reads: ``_rid`` and the link columns, typed even when a column is empty."""
    columns = link_columns(data) if columns is None else columns
    frame = data.reindex(columns=["_rid", *columns])
    if backend != "duckdb":
        return frame
    import pyarrow as pa

    types = {c: pa.string() for c in columns} | {"first_name_variants": pa.list_(pa.string())}
    arrays = [pa.array(frame["_rid"].to_numpy(np.int64))]
    for c in columns:
        values = frame[c].astype(object).where(frame[c].notna(), None).tolist()
        arrays.append(pa.array(values, type=types[c]))
    return pa.Table.from_arrays(arrays, names=["_rid", *columns])


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

    Steps: the prior from the pairs deterministic rules link (:func:`deterministic_prior`, passed
    in the settings; :class:`~crm_models.identify.CustomerResolver` then refines it with
    :func:`estimate_prior`); blocking rules within a budget of pairs (:func:`blocking_keys`);
    ``u`` from ``max_pairs_u`` random pairs (seeded); ``m`` by EM sessions blocking on date of
    birth (learns every other comparison), then e-mail (learns date of birth), phone, last name,
    each identifier, postcode and first name until every comparison is learned. A session is
    skipped when no two records share its column or it would learn nothing new (with a single
    comparison, nothing can be learned: its levels keep ``m = u``). Each session uses at most about ``max_pairs_em`` blocked pairs (Splink's
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
    settings = build_settings(columns, probability_two_random_records_match=prior,
                              blocking=blocking_keys(data, columns))
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
        sessions = (*EM_SESSIONS, *identifier_columns(columns), "postcode", "first_name")
        for column in sessions:
            if trained >= names:
                break
            learns = names - {_SESSION_COMPARISON.get(column, column)}
            if column not in columns or not learns or learns <= trained or not _pairs_sharing(data, (column,)):
                continue  # nothing new to learn, or no pair to learn from (Splink would raise)
            linker, ok = _em_session(linker, make_linker, column, max_pairs_em, canonical["max_iterations"])
            if ok:
                trained |= learns
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
    min_match_weight: float | None = None,
    detail: bool = True,
    term_frequencies: Mapping[str, pd.DataFrame] | None = None,
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
    min_match_weight : float, optional
        Pairs below this match weight (bits) are left out (replaces ``min_match_probability``).
    detail : bool
        Also return the two records' values and every comparison's level and weight; ``False``
        returns the four columns below only (far less memory for millions of pairs).
    term_frequencies : mapping, optional
        Column -> table of its values' relative frequencies (columns ``<column>`` and
        ``tf_<column>``) among all records, for scoring a subset of the records (the batch and
        its candidates in a register) as if among all of them. By default the frequencies are
        counted in ``data``. Only ``email`` is term-frequency adjusted.
    backend : {"duckdb", "spark"}
        Splink backend (``"spark"`` needs ``spark``).
    spark : pyspark.sql.SparkSession, optional
        The Spark session.

    Returns
    -------
    pandas.DataFrame
        One row per scored pair: ``_rid_l``, ``_rid_r``, ``match_weight`` (bits),
        ``match_probability`` and, with ``detail``, the two records' values and per comparison
        its level (``gamma_*``, -1 when a value is missing) and weight (``mw_*``, bits).

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
    settings = translate_model(model, backend)
    if not detail:
        settings |= {"retain_intermediate_calculation_columns": False, "retain_matching_columns": False}
    with quiet_splink():
        records = db_api.register(_link_table(data, backend, model_columns(model)), dataset_display_name=_table_name())
        linker = Linker(records, settings, log_level=None)
        for column, table in (term_frequencies or {}).items():
            linker.table_management.register_term_frequency_lookup(
                db_api.register(table[[column, f"tf_{column}"]], dataset_display_name=f"tf_{_table_name()}"), column)
        if min_match_weight is None:
            scored = linker.inference.predict(threshold_match_probability=min_match_probability)
        else:
            scored = linker.inference.predict(threshold_match_weight=min_match_weight)
        if detail:
            return scored.as_pandas_dataframe()
        return _slim(scored, backend)


def predict_new_pairs(
    existing: pd.DataFrame,
    new: pd.DataFrame,
    model: Mapping[str, Any],
    *,
    min_match_probability: float = 0.001,
    term_frequencies: Mapping[str, pd.DataFrame] | None = None,
    blocking_rules: list[str] | None = None,
) -> pd.DataFrame:
    """Score new records against existing ones and against each other, never existing with existing.

    Incremental linkage (Splink's ``predict_between`` and ``predict_within``): with a register
    of a million records and a batch of ten thousand, only the pairs that involve a new record
    are compared. DuckDB backend.

    Parameters
    ----------
    existing, new : pandas.DataFrame
        Standardised records with the integer key ``_rid`` (distinct between the two, every
        ``existing`` key smaller than every ``new`` one) and the model's columns.
    model : mapping
        Trained Splink settings, with the prior of the whole register (see :func:`train_model`).
    min_match_probability : float
        Pairs below this match probability (0-1) are left out.
    term_frequencies : mapping, optional
        Column -> frequency table (see :func:`predict_pairs`), required when the model
        adjusts for term frequencies (``email``): counted among all records, not the subset.
    blocking_rules : list of str, optional
        SQL blocking rules replacing the model's (``["1 = 1"]`` compares every new record with
        every existing one: a lookup).

    Returns
    -------
    pandas.DataFrame
        ``_rid_l`` (the existing record, or the smaller new one), ``_rid_r``, ``match_weight``
        (bits) and ``match_probability``.

    Examples
    --------
    >>> from crm_models.identify.standardise import standardise_records
    >>> raw = pd.DataFrame({"record_id": [1, 2, 3, 4, 5], "source": "web",
    ...                     "email": ["a@x.com", "a@x.com", "b@x.com", "c@x.com", "a@x.com"],
    ...                     "last_name": ["Lee", "Lee", "Kim", "Kim", "Lee"]})
    >>> data = standardise_records(raw).data.assign(_rid=range(5))
    >>> model = train_model(data.iloc[:4])
    >>> tf = {"email": pd.DataFrame({"email": ["a@x.com", "b@x.com", "c@x.com"], "tf_email": [0.6, 0.2, 0.2]})}
    >>> pairs = predict_new_pairs(data.iloc[:4], data.iloc[4:], model, term_frequencies=tf)
    >>> pairs[["_rid_l", "_rid_r"]].to_numpy().tolist()  # record 5 with records 1 and 2 only
    [[0, 4], [1, 4]]
    """
    from splink import Linker

    db_api = make_db_api("duckdb")
    settings = translate_model(model, "duckdb") | {"retain_intermediate_calculation_columns": False,
                                                   "retain_matching_columns": False}
    columns = model_columns(model)
    with quiet_splink():
        old = db_api.register(_link_table(existing, "duckdb", columns), dataset_display_name=_table_name())
        fresh = db_api.register(_link_table(new, "duckdb", columns), dataset_display_name=_table_name())
        linker = Linker(fresh, settings, log_level=None)
        for column, table in (term_frequencies or {}).items():
            linker.table_management.register_term_frequency_lookup(
                db_api.register(table[[column, f"tf_{column}"]], dataset_display_name=f"tf_{_table_name()}"), column)
        parts = []
        if len(existing):
            parts.append(linker.inference.predict_between(
                old, fresh, threshold_match_probability=min_match_probability, warning_mode="never",
                blocking_rules_to_generate_predictions=blocking_rules))
        if len(new) > 1 and blocking_rules is None:
            parts.append(linker.inference.predict_within(
                fresh, threshold_match_probability=min_match_probability, warning_mode="never"))
        frames = [_slim(p, "duckdb") for p in parts]
    if not frames:
        return pd.DataFrame({"_rid_l": pd.Series(dtype=np.int64), "_rid_r": pd.Series(dtype=np.int64),
                             "match_weight": pd.Series(dtype=float), "match_probability": pd.Series(dtype=float)})
    out = pd.concat(frames, ignore_index=True)
    low, high = np.minimum(out["_rid_l"], out["_rid_r"]), np.maximum(out["_rid_l"], out["_rid_r"])
    return out.assign(_rid_l=low, _rid_r=high).drop_duplicates(["_rid_l", "_rid_r"]).reset_index(drop=True)


def _slim(scored, backend: str) -> pd.DataFrame:
    """The pair keys, weight and probability of Splink's predictions, without the rest."""
    if backend == "duckdb":
        rel = scored.as_duckdbpyrelation().select("_rid_l, _rid_r, match_weight, match_probability")
        table = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
        return pd.DataFrame({c: table.column(c).to_numpy() for c in table.column_names})
    frame = scored.as_pandas_dataframe()
    return frame[["_rid_l", "_rid_r", "match_weight", "match_probability"]]


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

_CATALOGUE: dict[tuple, dict[str, Any]] = {}


def _catalogue(dialect: str, identifiers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every comparison and blocking rule :func:`build_settings` can write, in ``dialect``."""
    key = (dialect, identifiers)
    if key not in _CATALOGUE:
        columns = LINK_COLUMNS + identifiers
        full = build_settings(columns).create_settings_dict(dialect)
        from splink import block_on

        rules = list(full["blocking_rules_to_generate_predictions"])
        rules += [block_on(c).create_blocking_rule_dict(dialect) for c in (*_FALLBACK_KEYS, *identifiers)]
        _CATALOGUE[key] = {"settings": full, "comparisons": full["comparisons"], "rules": rules}
    return _CATALOGUE[key]


def translate_model(model: Mapping[str, Any], backend: str) -> dict[str, Any]:
    """A trained model written in the SQL dialect of ``backend``: same comparisons, levels, m, u, prior.

    A model trained on DuckDB (on one machine, on a sample) scores pairs on Spark, and back.

    Parameters
    ----------
    model : mapping
        Trained Splink settings (:func:`train_model`), in any dialect of :data:`DIALECTS`.
    backend : {"duckdb", "spark"}
        The backend to write the model for.

    Returns
    -------
    dict
        The model in ``backend``'s dialect (a copy, even when it already is).

    Examples
    --------
    >>> from crm_models.identify.standardise import standardise_records
    >>> raw = pd.DataFrame({"record_id": [1, 2, 3], "source": "web", "email": ["a@x.com", "a@x.com", "b@x.com"],
    ...                     "last_name": ["Lee", "Lee", "Kim"]})
    >>> model = train_model(standardise_records(raw).data.assign(_rid=range(3)))
    >>> spark_model = translate_model(model, "spark")
    >>> spark_model["blocking_rules_to_generate_predictions"][0]["blocking_rule"]
    'l.`email` = r.`email`'
    >>> translate_model(spark_model, "duckdb") == model
    True
    """
    if backend not in DIALECTS:
        raise ValueError(f"backend must be one of {sorted(DIALECTS)}, got {backend!r}")
    dialect = DIALECTS[backend]
    out = copy.deepcopy(dict(model))
    current = _dialect_of(out)
    if current == dialect:
        return out
    names = [c["output_column_name"] for c in out["comparisons"]]
    identifiers = tuple(sorted(c for c in names if _IDENTIFIER.match(c)))
    source, target = _catalogue(current, identifiers), _catalogue(dialect, identifiers)
    wanted = {c["output_column_name"]: c for c in target["comparisons"]}
    comparisons = []
    for comparison in out["comparisons"]:
        new = copy.deepcopy(wanted[comparison["output_column_name"]])
        for level, old in zip(new["comparison_levels"], comparison["comparison_levels"], strict=True):
            for k in ("m_probability", "u_probability"):
                if k in old:
                    level[k] = old[k]
        comparisons.append(new)
    out["comparisons"] = comparisons
    out["blocking_rules_to_generate_predictions"] = [
        target["rules"][source["rules"].index(rule)] for rule in out["blocking_rules_to_generate_predictions"]]
    return out


def _dialect_of(model: Mapping[str, Any]) -> str:
    """The SQL dialect a model is written in (its blocking rules name it)."""
    rules = model.get("blocking_rules_to_generate_predictions") or [{}]
    return rules[0].get("sql_dialect", "duckdb")


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
    named = [c.get("output_column_name") for c in raw.get("comparisons", []) if isinstance(c, Mapping)] \
        if isinstance(raw.get("comparisons"), list) else []
    identifiers = tuple(sorted({c for c in named if isinstance(c, str) and _IDENTIFIER.match(c)}))
    catalogue = _catalogue(DIALECTS[backend], identifiers)
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

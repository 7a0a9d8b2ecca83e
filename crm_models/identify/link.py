"""Probabilistic record linkage with Splink (Fellegi-Sunter), on DuckDB by default.

The model compares two records field by field. Each field's comparison falls into one
*level* (exact match, nickname, small typo, ..., different, missing); for every level the model
learns two probabilities:

* ``m`` = P(level | the two records are the same person), estimated by expectation
  maximisation (EM) on blocked pairs, and
* ``u`` = P(level | two different people), estimated from random pairs (seeded sampling).

A pair's *match weight* is the prior ``log2(lambda / (1 - lambda))`` plus
``log2(m / u)`` for every field; the match probability is ``2**w / (1 + 2**w)``.

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
pandas on the scored pairs, which are far fewer than the records' cartesian product. Checked
with pyspark 4.3 in local mode (tests/test_identify_resolve.py runs it where pyspark is installed).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LINK_COLUMNS", "build_settings", "make_db_api", "fit_linker", "predict_pairs", "quiet_splink"]

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


@contextlib.contextmanager
def quiet_splink(level: int = logging.ERROR) -> Iterator[None]:
    """Silence Splink's log messages and warnings (they would leak into notebook outputs)."""
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


#: Floor for EM's m and u estimates. Splink 5.0 rejects a probability of exactly 0, which EM
#: returns when a level never occurs among the pairs it believes are matches (for example,
#: "postcode different" in a world where nobody moved far). 1e-6 keeps that level's weight
#: strongly negative (about -20 bits) without stopping the fit.
EM_PROBABILITY_FLOOR = 1e-6


@contextlib.contextmanager
def _em_floor(floor: float = EM_PROBABILITY_FLOOR) -> Iterator[None]:
    """Floor EM's m/u estimates at ``floor`` while training (restored afterwards)."""
    from splink.internals import expectation_maximisation as em

    original = em.populate_m_u_from_lookup

    def floored(fixed, level, name, lookup):
        for rec in lookup.get(name, {}).values():
            for key in ("m_probability", "u_probability"):
                if isinstance(rec.get(key), float) and rec[key] < floor:
                    rec[key] = floor
        return original(fixed, level, name, lookup)

    em.populate_m_u_from_lookup = floored
    try:
        yield
    finally:
        em.populate_m_u_from_lookup = original


def _has(data: pd.DataFrame, col: str) -> bool:
    return col in data.columns and bool(data[col].notna().any())


def build_settings(data: pd.DataFrame, *, unique_id: str = "_rid", max_iterations: int = 25):
    """Splink ``SettingsCreator`` with blocking rules and comparisons for the columns ``data`` has.

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
    postcode, same street, swapped names, same loyalty id.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    comparisons = []
    if _has(data, "first_name") or _has(data, "last_name"):
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
    if _has(data, "email"):
        comparisons.append(cl.EmailComparison("email"))
    if _has(data, "phone"):
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
    if _has(data, "date_of_birth"):
        comparisons.append(cl.DateOfBirthComparison("date_of_birth", input_is_string=True))
    if _has(data, "street") or _has(data, "postcode") or _has(data, "city"):
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

    rules = []
    for cols in (
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
    ):
        if all(_has(data, c) for c in cols):
            rules.append(block_on(*cols))
    if _has(data, "first_name") and _has(data, "last_name"):
        rules.append("l.first_name = r.last_name and l.last_name = r.first_name")
    if not rules:  # a single weak column: fall back to blocking on it
        col = next(c for c in ("last_name", "first_name", "street", "city", "postcode") if _has(data, c))
        rules.append(block_on(col))
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=unique_id,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        max_iterations=max_iterations,
        additional_columns_to_retain=[],
    )


def make_db_api(backend: str = "duckdb", spark: Any = None):
    """Splink database API: a fresh in-memory DuckDB (progress bar off) or Spark."""
    if backend == "duckdb":
        import duckdb
        from splink.backends.duckdb import DuckDBAPI

        try:
            con = duckdb.connect(":memory:", config={"enable_progress_bar": False})
        except duckdb.Error:  # in Jupyter without ipywidgets DuckDB refuses to touch the setting
            con = duckdb.connect(":memory:")  # ... and then cannot draw a bar there anyway
        return DuckDBAPI(connection=con)
    if backend == "spark":
        if spark is None:
            raise ValueError("backend='spark' needs a SparkSession: pass spark=SparkSession.builder...getOrCreate()")
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=spark)
    raise ValueError(f"backend must be 'duckdb' or 'spark', got {backend!r}")


def fit_linker(
    data: pd.DataFrame,
    *,
    backend: str = "duckdb",
    spark: Any = None,
    seed: int = 42,
    max_pairs_u: float = 1e6,
    max_pairs_em: float = 3e5,
    recall_email: float = 0.6,
):
    """Train a Fellegi-Sunter model on standardised records; returns the Splink ``Linker``.

    Steps: the prior P(match) from exact e-mail matches (assumed to find ``recall_email`` of
    true matches); ``u`` by random sampling of ``max_pairs_u`` pairs (seeded); ``m`` by two
    EM sessions, one blocking on date of birth (learns every other field) and one on e-mail
    (learns date of birth), which together estimate every comparison. Each EM session uses at most
    about ``max_pairs_em`` blocked pairs (Splink's deterministic hash sample) and ignores
    term-frequency adjustments while iterating, which keeps 100,000 records well under a minute.
    ``data`` must hold the integer key ``_rid`` and :data:`LINK_COLUMNS`.
    """
    from splink import Linker, block_on
    from splink.internals.exceptions import EMTrainingException

    settings = build_settings(data)
    db_api = make_db_api(backend, spark)
    frame = data[["_rid", *[c for c in LINK_COLUMNS if c in data.columns]]]
    # DuckDB's seeded sampling and EM's floating-point sums depend on thread scheduling: train
    # on one thread so the same records always give the same model (and the same customers).
    con = getattr(db_api, "_con", None) if backend == "duckdb" else None
    if con is not None:
        con.execute("SET threads = 1")
    with quiet_splink(), _em_floor():
        sdf = db_api.register(frame, dataset_display_name="records")
        linker = Linker(sdf, settings, log_level=None)
        det_rules = [block_on(c) for c in ("email", "loyalty_id") if _has(data, c)]
        n = len(frame)
        if det_rules:
            linker.training.estimate_probability_two_random_records_match(det_rules, recall=recall_email)
            # a small sample may hold no shared e-mail at all: a prior of 0 (or 1) would make every
            # match weight infinite, so keep it between one match among all pairs and one half
            settings_obj = linker._settings_obj
            lowest = 1.0 / max(n * (n - 1) / 2, 2.0)
            prior = settings_obj._probability_two_random_records_match
            settings_obj._probability_two_random_records_match = min(max(prior, lowest), 0.5)
        small = n * (n - 1) / 2 <= max_pairs_u  # every pair fits in the sample: one pass, no probing
        linker.training.estimate_u_using_random_sampling(
            max_pairs=max_pairs_u, seed=seed, num_chunks=1 if small else 10
        )
        sessions = [b for b in (("date_of_birth",), ("email",), ("phone",), ("last_name",)) if _has(data, b[0])]
        trained: set[str] = set()
        names = {c.output_column_name for c in linker._settings_obj.comparisons}
        for cols in sessions:
            if trained >= names:
                break
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*cols), estimate_without_term_frequencies=True, max_pairs=max_pairs_em
                )
            except EMTrainingException:  # no pair shares this field (small inputs): try the next
                continue
            trained |= names - {cols[0] if cols[0] != "first_name" else "name"}
    if con is not None:
        con.execute("RESET threads")
    return linker


def predict_pairs(linker, min_match_probability: float = 0.001) -> pd.DataFrame:
    """Scored pairs above ``min_match_probability``: ``_rid_l``, ``_rid_r``, ``match_weight``,
    ``match_probability``, the per-field comparison levels (``gamma_*``) and weights
    (``bf_*`` as Bayes factors)."""
    with quiet_splink():
        df = linker.inference.predict(threshold_match_probability=min_match_probability).as_pandas_dataframe()
    return df


def model_parameters(linker) -> pd.DataFrame:
    """The learned m and u probabilities per comparison level, with the level's match weight."""
    rows = []
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            m, u = level.m_probability, level.u_probability
            rows.append(
                {
                    "comparison": comparison.output_column_name,
                    "level": level.label_for_charts,
                    "gamma": level.comparison_vector_value,
                    "m_probability": m,
                    "u_probability": u,
                    "match_weight": float(np.log2(m / u)) if m and u else np.nan,
                }
            )
    return pd.DataFrame(rows)

"""Make a simulated company: the steps of the generative story, in the order of their random draws.

:func:`make_crm_world` checks its arguments, merges the configuration and then runs the story
step by step: people and their latent traits, their BG/NBD purchases, their accounts in the
source systems, their true identities, the systems' corrupted records, each purchase's account
and details, the campaign, the touchpoints, and finally the tables. Every step draws from one
numpy generator (and Faker, seeded alike, draws the street and city pools), so changing the
order of the steps, or of the draws within them, changes every world, the frozen one included.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from crm_models._validation import parse_timestamp
from crm_models.base import as_generator
from crm_models.datasets.world._arrays import DATETIME, ids, labels, weeks_to_timestamps
from crm_models.datasets.world.behaviour import (
    age_band_codes,
    Lives,
    Period,
    Population,
    campaign_table,
    draw_campaign,
    draw_population,
    draw_purchases,
    draw_touchpoints,
    empty_campaign_table,
    future_table,
    purchase_details,
    truth_effects_table,
    truth_params_table,
)
from crm_models.datasets.world.config import (
    AGE_BANDS,
    CATEGORIES,
    SOURCES,
    default_world_config,
    merge_config,
    validate_config,
)
from crm_models.datasets.world.container import CRMWorld
from crm_models.datasets.world.dictionary import data_dictionary
from crm_models.datasets.world.identities import Identities, draw_identities
from crm_models.datasets.world.records import Accounts, Records, build_records, draw_accounts

__all__ = ["make_crm_world"]


def make_crm_world(
    n_customers: int = 3000,
    *,
    start="2023-01-01",
    observation_period_end="2024-12-31",
    holdout_period_end="2025-06-30",
    random_state=0,
    **config: Any,
) -> CRMWorld:
    """Simulate a multi-channel company whose truth is known.

    A retailer sells through a web shop, stores with loyalty cards, a call centre and direct
    mail; each keeps its own customer table, so one person appears as several differently
    spelled records. Purchases follow BG/NBD with gamma-gamma spend per needs segment, shifted
    by observable attributes (acquisition on promotion, age band; ``world.truth_effects``); a
    randomised retention campaign runs 26 weeks before the end of observation; the same people
    go on buying in a holdout period whose truth is kept in ``future``. The frozen default world
    (:func:`~crm_models.datasets.load_crm_world`) is ``make_crm_world(random_state=42)``.

    Parameters
    ----------
    n_customers : int
        Number of real people, acquired (first purchase) uniformly between ``start`` and
        ``observation_period_end``.
    start : str or datetime-like
        First day of the observation period (a date).
    observation_period_end : str or datetime-like
        Last day of the observation period, included in full (a date). Everything in
        ``records``, ``transactions`` and ``interactions`` happens in the observation period.
    holdout_period_end : str or datetime-like
        Last day of the holdout period (a date, included in full): the ``future`` tables hold the
        same people's true behaviour after ``observation_period_end`` up to this day.
    random_state : int, numpy.random.Generator or None
        Seed of every random draw (numpy and Faker): the same int gives identical tables. A
        Generator or ``None`` (fresh entropy) first draws an int seed from itself; the int used
        is stored in ``world.config["random_state"]`` and reproduces the world. Default 0.
    **config
        Overrides of :func:`~crm_models.datasets.default_world_config` (nested dictionaries are
        merged key by key), e.g. ``campaign={"enabled": False}``,
        ``corruption={"nickname": 0.2}``, ``segments={"value_seekers": {"r": 1.0}}``.

    Returns
    -------
    CRMWorld
        The observed and truth tables; ``world.config`` holds the full configuration, the
        dates, ``n_customers``, ``random_state`` and the Faker version, and
        ``world.truth_params`` the population parameters per needs segment and
        ``world.truth_effects`` the attributes' effects on them.

    Raises
    ------
    ValueError
        If ``n_customers`` is not a positive integer, a date is not a date or the dates are
        out of order, ``random_state`` is invalid, or a setting is unknown or impossible.

    Examples
    --------
    >>> world = make_crm_world(n_customers=50, random_state=1)
    >>> len(world.people), sorted(world.records["source"].unique())
    (50, ['call_centre', 'mail', 'store', 'web'])
    >>> bool(world.transactions["timestamp"].max() < pd.Timestamp("2025-01-01"))
    True
    >>> world.config["random_state"], world.config["observation_period_end"]
    (1, '2024-12-31')
    >>> quiet = make_crm_world(n_customers=50, campaign={"enabled": False})
    >>> len(quiet.campaign)
    0
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ValueError(f"make_crm_world: n_customers must be a positive integer, got {n_customers!r}")
    cfg = merge_config(default_world_config(), config)
    validate_config(cfg)
    dates = {}
    for name, value in (("start", start), ("observation_period_end", observation_period_end),
                        ("holdout_period_end", holdout_period_end)):
        ts = parse_timestamp(value, name)
        if ts != ts.normalize() or ts.tz is not None:
            raise ValueError(f"make_crm_world: {name} must be a date (no time of day, no time zone), got {value!r}")
        dates[name] = ts
    t_start, t_end, t_hold = dates.values()
    if not t_start < t_end < t_hold:
        raise ValueError(f"make_crm_world: need start < observation_period_end < holdout_period_end, got "
                         f"{start}, {observation_period_end}, {holdout_period_end}")
    seed = _seed_of(random_state)
    cfg.update(n_customers=int(n_customers), start=str(t_start.date()), observation_period_end=str(t_end.date()),
               holdout_period_end=str(t_hold.date()), random_state=seed)
    import faker

    cfg["faker_version"] = faker.VERSION
    # the last days are included in full: the periods end at the next midnight
    period = Period(start=t_start, end=t_end + pd.Timedelta(days=1), holdout_end=t_hold + pd.Timedelta(days=1))
    return _build(cfg, np.random.default_rng(seed), period)


def _seed_of(random_state) -> int:
    """The int seed behind ``random_state``: an int as it is, else one drawn from the generator."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"make_crm_world: random_state must be a non-negative int, got {random_state}")
        return int(random_state)
    return int(as_generator(random_state).integers(0, 2**32))


def _build(cfg: dict, rng: np.random.Generator, period: Period) -> CRMWorld:
    n = cfg["n_customers"]
    person_ids = ids("P", np.arange(1, n + 1), 6).to_numpy(dtype=object)
    pop = draw_population(cfg, rng, period)
    lives = draw_purchases(pop, rng)
    accounts = draw_accounts(cfg, rng, pop, lives)
    ident = draw_identities(cfg, rng, cfg["random_state"], pop, period)
    records = build_records(cfg, rng, accounts, ident, pop.acquired, person_ids)
    # each purchase goes through an account open at the time; the first through the acquisition one
    source, second = accounts.route(rng, lives.person, lives.time, first=np.flatnonzero(lives.time == 0.0))
    purchases = purchase_details(cfg, rng, pop, lives.person, lives.time, records.row_of(lives.person, source, second),
                                 discount=np.zeros(lives.person.size))
    purchases["induced"] = False
    campaign_on = cfg["campaign"]["enabled"]
    if campaign_on:
        design = draw_campaign(cfg, rng, period, pop, lives, records.person, records.created)
        purchases = pd.concat([purchases, design.induced.assign(induced=True)], ignore_index=True)
        campaign = campaign_table(cfg, design, purchases, pop, person_ids, records.record_id.to_numpy(dtype=object))
    else:
        campaign = empty_campaign_table()
    observed = purchases["t"].to_numpy() <= pop.weeks_to_end[purchases["person"].to_numpy()]
    interactions = draw_touchpoints(cfg, rng, pop, lives, records, purchases[observed])
    transactions, induced = _transaction_table(purchases[observed], "T", records)
    if campaign_on:  # the purchases the campaign caused (truth)
        k = induced.reindex(design.eligible).to_numpy()
        campaign["induced_transaction_id"] = ids("T", np.nan_to_num(k, nan=0).astype(np.int64), 8).where(~np.isnan(k))
    future_transactions, _ = _transaction_table(purchases[~observed], "F", records)
    return CRMWorld(
        people=_people_table(pop, lives, accounts, ident, person_ids), records=records.frame,
        record_truth=records.truth, transactions=transactions, interactions=interactions, campaign=campaign,
        future=future_table(cfg, period, pop, lives, purchases[~observed], person_ids),
        future_transactions=future_transactions, truth_params=truth_params_table(cfg),
        truth_effects=truth_effects_table(cfg),
        data_dictionary=data_dictionary(), config=json.loads(json.dumps(cfg)),
    )


def _transaction_table(purchases: pd.DataFrame, prefix: str, records: Records) -> tuple[pd.DataFrame, pd.Series]:
    """The purchases as a transactions table in time order, and the campaign-induced ones' numbers by person."""
    order = np.lexsort((purchases["rec"].to_numpy(), purchases["timestamp"].to_numpy()))
    rec = purchases["rec"].to_numpy()[order]
    induced = purchases["induced"].to_numpy()[order]
    numbers = pd.Series(np.flatnonzero(induced) + 1, index=purchases["person"].to_numpy()[order][induced])
    table = pd.DataFrame({
        "transaction_id": ids(prefix, np.arange(1, order.size + 1), 8),
        "record_id": records.record_id.take(rec).reset_index(drop=True),
        "timestamp": purchases["timestamp"].to_numpy()[order].astype(DATETIME),
        "channel": labels(records.source[rec], SOURCES),
        "category": labels(purchases["cat"].to_numpy()[order], CATEGORIES),
        "amount": purchases["amount"].to_numpy()[order].astype("float64"),
        "discount": purchases["discount"].to_numpy()[order].astype("float64"),
    })
    return table, numbers


def _people_table(pop: Population, lives: Lives, accounts: Accounts, ident: Identities,
                  person_ids: np.ndarray) -> pd.DataFrame:
    """The ``people`` table: true identity, latent traits, household, move and dropout of each person."""
    alive_end = lives.dropout > pop.weeks_to_end
    dropout = np.where(alive_end, np.datetime64("NaT"),
                       weeks_to_timestamps(pop.acquired, np.where(alive_end, 0, lives.dropout)))
    moved_at = np.where(ident.moved, weeks_to_timestamps(pop.acquired, np.nan_to_num(ident.moved_weeks)),
                        np.datetime64("NaT"))
    df = pd.DataFrame({
        "person_id": person_ids,
        "first_name": ident.first_name, "last_name": ident.last_name, "email": ident.email,
        "phone": ["+1" + str(x) for x in ident.phone],
        "date_of_birth": ident.date_of_birth,
        "street": ident.street, "city": ident.city, "postcode": ident.postcode,
        "acquisition_date": pop.acquired,
        "acquisition_channel": np.array(SOURCES, dtype=object)[accounts.acquisition_source],
        "acquired_on_promotion": pop.acquired_on_promotion,
        "age_band": np.array([b for b, _ in AGE_BANDS], dtype=object)[age_band_codes(pop.age)],
        "needs_segment": np.array(pop.segment_names, dtype=object)[pop.segment],
        "purchase_rate": pop.purchase_rate,
        "dropout_prob": pop.dropout_prob,
        "spend_level": pop.spend_level,
        "spend_shape": pop.spend_shape,
        "preferred_category": np.array(CATEGORIES, dtype=object)[pop.preferred_category],
        "price_sensitivity": pop.price_sensitivity,
        "preferred_channel": np.array(SOURCES, dtype=object)[pop.channel_weights.argmax(axis=1)],
        "satisfaction_propensity": pop.satisfaction,
        "campaign_response_prob": pop.response_prob,
        "dropout_date": dropout,
        "household_id": [f"H{k + 1:06d}" for k in ident.household],
        "n_systems": accounts.n_systems,
        "has_duplicate_account": accounts.duplicate,
        "moved_at": moved_at,
        "previous_street": ident.previous[0], "previous_city": ident.previous[1],
        "previous_postcode": ident.previous[2],
    })
    strs = ["person_id", "first_name", "last_name", "email", "phone", "street", "city", "postcode",
            "acquisition_channel", "age_band", "needs_segment", "preferred_category", "preferred_channel",
            "household_id", "previous_street", "previous_city", "previous_postcode"]
    dts = ["date_of_birth", "acquisition_date", "dropout_date", "moved_at"]
    return df.astype({**{c: "str" for c in strs}, **{c: DATETIME for c in dts}, "n_systems": "int64",
                      "acquired_on_promotion": bool})

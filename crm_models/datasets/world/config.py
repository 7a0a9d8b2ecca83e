"""The settings of the simulated company: the world's vocabulary, its default configuration and checks.

Everything the generator can vary lives in one nested dictionary, :func:`default_world_config`:
the needs segments and their BG/NBD and gamma-gamma parameters, how many source systems hold a
person, how often records are corrupted or left empty, source formats, touchpoint rates,
promotions and the retention campaign. :func:`make_crm_world` merges a caller's overrides into
it key by key (:func:`merge_config`) and refuses impossible settings (:func:`validate_config`)
before any random draw. The fixed vocabulary of the world (its source systems, product
categories, touchpoint types) is defined here too.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = [
    "SOURCES",
    "RECORD_PREFIX",
    "CATEGORIES",
    "INTERACTION_TYPES",
    "INTERACTION_CHANNELS",
    "CALL_REASONS",
    "CONTACT_FIELDS",
    "SEGMENT_KEYS",
    "AGE_BANDS",
    "ATTRIBUTES",
    "PROCESSES",
    "default_world_config",
    "merge_config",
    "validate_config",
]

#: The four source systems; each keeps its own customer table.
SOURCES: tuple[str, ...] = ("web", "store", "call_centre", "mail")
#: Record id prefix of each source system.
RECORD_PREFIX: dict[str, str] = {"web": "WEB", "store": "STR", "call_centre": "CC", "mail": "ML"}
#: Product categories.
CATEGORIES: tuple[str, ...] = ("electronics", "fashion", "home", "beauty", "books", "garden", "sports", "toys")
#: Kinds of touchpoint, the channels they come through and the reasons of a call.
INTERACTION_TYPES: tuple[str, ...] = ("web_visit", "call", "email_open", "mail_response", "survey")
INTERACTION_CHANNELS: tuple[str, ...] = ("web", "call_centre", "email", "mail")
CALL_REASONS: tuple[str, ...] = ("inquiry", "complaint", "order")
#: The contact fields every source-system record holds (possibly empty).
CONTACT_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "email", "phone", "date_of_birth", "street", "city", "postcode",
)
#: The settings every needs segment must give.
SEGMENT_KEYS: tuple[str, ...] = (
    "share", "r", "alpha", "a", "b", "p", "q", "v", "channels", "categories", "price_sensitivity", "age",
    "web_visits_per_purchase", "email_open_rate", "call_rate", "mail_response_rate", "campaign_uplift",
)

#: Age bands by age in years at the start of observation: (label, lowest age in the band).
AGE_BANDS: tuple[tuple[str, float], ...] = (("under_35", 0.0), ("35_to_54", 35.0), ("55_plus", 55.0))
#: The observable attribute columns whose effects ``attributes.effects`` sets, as a model sees them
#: (0/1 indicators; the reference customer was not acquired on promotion and is aged 35 to 54).
ATTRIBUTES: tuple[str, ...] = ("acquired_on_promotion", "age_under_35", "age_55_plus")
#: The processes an attribute acts on.
PROCESSES: tuple[str, ...] = ("purchase", "dropout", "spend")


def _mix(**weights: float) -> dict[str, float]:
    return dict(weights)


def default_world_config() -> dict[str, Any]:
    """The default configuration of :func:`~crm_models.datasets.make_crm_world`, as a fresh copy.

    Rates are per week, amounts in US dollars, probabilities in [0, 1], ages in years.
    ``segments`` maps each needs segment to its BG/NBD parameters ``r``, ``alpha`` (purchase
    rate ``lambda ~ Gamma(shape r, rate alpha)``, per week), ``a``, ``b`` (dropout probability
    ``p ~ Beta(a, b)``), its gamma-gamma parameters ``p``, ``q``, ``v`` (amount
    ``~ Gamma(shape p, rate nu)`` in USD, ``nu ~ Gamma(shape q, rate v)``), its channel and
    category mixes, ``price_sensitivity`` (the two Beta parameters), ``age`` (mean and
    standard deviation in years at the start), touchpoint rates and ``campaign_uplift``.
    ``attributes`` sets the observable customer attributes that shift these parameters
    (acquisition on promotion, age band) and their true effects. The other keys are commented
    in the source. Nested dictionaries passed to
    ``make_crm_world`` are merged into these defaults key by key.

    Returns
    -------
    dict
        A new deep copy each call: edit it freely.

    Examples
    --------
    >>> cfg = default_world_config()
    >>> list(cfg["segments"])[:2], cfg["segments"]["value_seekers"]["r"]
    (['value_seekers', 'premium_loyalists'], 0.75)
    >>> cfg["campaign"]["weeks_before_end"], cfg["campaign"]["response_window_weeks"]
    (26, 8)
    """
    segments = {
        # BG/NBD: r, alpha (lambda ~ Gamma(shape r, rate alpha), per week); a, b (p ~ Beta(a, b)).
        # Gamma-gamma: p, q, v (amount ~ Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate v)).
        "value_seekers": dict(
            share=0.30, r=0.75, alpha=8.0, a=0.8, b=4.0, p=6.0, q=4.0, v=15.0,
            channels=_mix(web=0.60, store=0.25, call_centre=0.05, mail=0.10),
            categories=_mix(electronics=0.10, fashion=0.30, home=0.25, beauty=0.10, books=0.05,
                            garden=0.05, sports=0.05, toys=0.10),
            price_sensitivity=(6.0, 2.0), age=(38.0, 11.0), web_visits_per_purchase=4.0,
            email_open_rate=0.12, call_rate=0.010, mail_response_rate=0.02, campaign_uplift=0.25,
        ),
        "premium_loyalists": dict(
            share=0.15, r=1.20, alpha=10.0, a=0.3, b=6.0, p=5.0, q=5.0, v=60.0,
            channels=_mix(web=0.25, store=0.60, call_centre=0.10, mail=0.05),
            categories=_mix(electronics=0.25, fashion=0.30, home=0.15, beauty=0.15, books=0.05,
                            garden=0.02, sports=0.05, toys=0.03),
            price_sensitivity=(2.0, 8.0), age=(48.0, 12.0), web_visits_per_purchase=3.0,
            email_open_rate=0.06, call_rate=0.015, mail_response_rate=0.01, campaign_uplift=0.03,
        ),
        "digital_convenience": dict(
            share=0.25, r=0.80, alpha=6.0, a=0.6, b=3.0, p=4.0, q=4.0, v=30.0,
            channels=_mix(web=0.80, store=0.10, call_centre=0.05, mail=0.05),
            categories=_mix(electronics=0.35, fashion=0.10, home=0.10, beauty=0.05, books=0.20,
                            garden=0.02, sports=0.10, toys=0.08),
            price_sensitivity=(3.0, 4.0), age=(32.0, 9.0), web_visits_per_purchase=5.0,
            email_open_rate=0.08, call_rate=0.005, mail_response_rate=0.005, campaign_uplift=0.10,
        ),
        "traditional_shoppers": dict(
            share=0.15, r=0.50, alpha=10.0, a=0.4, b=5.0, p=5.0, q=6.0, v=50.0,
            channels=_mix(web=0.05, store=0.25, call_centre=0.30, mail=0.40),
            categories=_mix(electronics=0.05, fashion=0.15, home=0.30, beauty=0.10, books=0.15,
                            garden=0.20, sports=0.02, toys=0.03),
            price_sensitivity=(4.0, 4.0), age=(64.0, 10.0), web_visits_per_purchase=1.0,
            email_open_rate=0.03, call_rate=0.030, mail_response_rate=0.05, campaign_uplift=0.15,
        ),
        "occasional_gifters": dict(
            share=0.15, r=0.30, alpha=12.0, a=1.0, b=2.5, p=3.0, q=3.0, v=40.0,
            channels=_mix(web=0.35, store=0.50, call_centre=0.05, mail=0.10),
            categories=_mix(electronics=0.10, fashion=0.10, home=0.10, beauty=0.25, books=0.10,
                            garden=0.05, sports=0.05, toys=0.25),
            price_sensitivity=(4.0, 3.0), age=(42.0, 13.0), web_visits_per_purchase=4.0,
            email_open_rate=0.05, call_rate=0.008, mail_response_rate=0.01, campaign_uplift=0.08,
        ),
    }
    missing = {  # probability that a field is empty in a source's record
        "web": dict(first_name=0.0, last_name=0.0, email=0.0, phone=0.45, date_of_birth=0.35,
                    street=0.10, city=0.10, postcode=0.08),
        "store": dict(first_name=0.0, last_name=0.0, email=0.45, phone=0.15, date_of_birth=0.40,
                      street=0.15, city=0.10, postcode=0.05),
        "call_centre": dict(first_name=0.02, last_name=0.0, email=0.70, phone=0.03, date_of_birth=0.55,
                            street=0.45, city=0.35, postcode=0.30),
        "mail": dict(first_name=0.0, last_name=0.0, email=0.85, phone=0.65, date_of_birth=0.80,
                     street=0.0, city=0.0, postcode=0.0),
    }
    return {
        "locale": "en_US",
        "segments": segments,
        # P(a person has accounts in exactly 1, 2, 3, 4 of the source systems).
        "n_systems_probs": [0.40, 0.32, 0.18, 0.10],
        # P(a person opens a second account in one of their systems); the second account is used
        # for that share of the purchases made in its system after it was opened.
        "duplicate_account_rate": 0.06,
        "duplicate_account_usage": 0.6,
        # Concentration of each person's channel weights around the segment's channel mix.
        "channel_concentration": 4.0,
        # P(a purchase is in the person's preferred category), else drawn from the segment's mix.
        "preferred_category_share": 0.6,
        # People who moved house during the observation period (records opened before the move
        # keep the old address), and people who joined another person's household.
        "move_rate": 0.08,
        "household_rate": 0.12,
        "household_shares_last_name": 0.7,
        "household_shares_phone": 0.3,
        "household_shares_email": 0.03,
        # Per-record corruption probabilities. first_name_variant: exactly one of nickname,
        # initial, typo or none per record (a nickname only where the name has one).
        "corruption": dict(
            nickname=0.08, initial=0.04, first_name_typo=0.03, last_name_typo=0.03, swap_names=0.02,
            combined_name=0.02, email_typo=0.01, phone_typo=0.02, dob_error=0.02, street_typo=0.03,
            postcode_typo=0.01, lower_case_web=0.05,
        ),
        "missing": missing,
        "date_formats": {"web": "%Y-%m-%d", "store": "%d.%m.%Y", "call_centre": "%m/%d/%Y", "mail": "%d %b %Y"},
        # phonenumbers formats: E164 "+12125550123", NATIONAL "(212) 555-0123",
        # INTERNATIONAL "+1 212-555-0123", DIGITS "2125550123".
        "phone_formats": {"web": "E164", "store": "NATIONAL", "call_centre": "INTERNATIONAL", "mail": "DIGITS"},
        "interactions": dict(survey_rate=0.08, web_visit_base_rate=0.01),
        # A purchase is on promotion with probability max_share * price_sensitivity, at one of
        # these depths (fraction off the list price). Amounts are what was paid, so promotions
        # leave the gamma-gamma spend process unchanged; they make price sensitivity observable.
        "promotions": dict(max_share=0.6, depths=[0.1, 0.2, 0.3]),
        # Observable customer attributes that shift each person's parameters from those of their
        # segment (which hold for the reference customer: not acquired on promotion, aged 35-54).
        # The first purchase is on promotion with probability acquisition_promotion_share
        # (whatever the price sensitivity); the age band is the age at the start (AGE_BANDS).
        # effects[attribute][process] is a coefficient g of the 0/1 indicator z, in the
        # parameterisation of crm_models.clv's covariate models (CLVTools' for BG/NBD):
        #   purchase: lambda ~ Gamma(r, alpha exp(-g z))      (mean purchase rate times exp(g z))
        #   dropout:  p ~ Beta(a exp(g z), b exp(g z))         (g > 0: fewer long-lived customers)
        #   spend:    nu ~ Gamma(q, v exp(g z))                (mean amount times exp(g z))
        # with the effects of several attributes adding up in the exponent.
        "attributes": dict(
            acquisition_promotion_share=0.25,
            effects={
                "acquired_on_promotion": dict(purchase=-0.3, dropout=0.7, spend=-0.25),
                "age_under_35": dict(purchase=0.2, dropout=0.3, spend=-0.15),
                "age_55_plus": dict(purchase=-0.15, dropout=-0.4, spend=0.2),
            },
        ),
        "campaign": dict(
            enabled=True,
            weeks_before_end=26,  # sent this many weeks before observation_period_end
            treatment_share=0.5,
            cost_per_contact=1.5,  # dollars per treated customer
            response_window_weeks=8,
            discount=0.15,  # campaign purchases are this much cheaper
            value_elasticity=-0.5,  # uplift scales with (spend_level / segment median) ** elasticity
            max_uplift=0.9,
        ),
    }


def merge_config(base: dict, override: dict, path: str = "") -> dict:
    """``base`` updated by ``override`` key by key, nested dictionaries merged; unknown keys raise.

    A new needs segment may be added under ``segments`` by giving it in full.

    Parameters
    ----------
    base : dict
        The configuration to start from (not modified).
    override : dict
        Settings to change, nested like ``base``.
    path : str
        Where ``base`` sits in the whole configuration, for messages (``""`` at the top).

    Returns
    -------
    dict
        A new configuration.

    Examples
    --------
    >>> cfg = merge_config(default_world_config(), {"corruption": {"nickname": 0.2}})
    >>> cfg["corruption"]["nickname"], cfg["corruption"]["initial"]
    (0.2, 0.04)
    """
    out = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else key
        if key not in out:
            if path == "segments" and isinstance(value, dict):  # a new needs segment, given in full
                out[key] = copy.deepcopy(value)
                continue
            raise ValueError(f"make_crm_world: unknown setting '{where}'; known settings here: {sorted(out)}")
        if isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = merge_config(out[key], value, where)
        else:
            out[key] = copy.deepcopy(value)
    return out


def validate_config(cfg: dict) -> None:
    """Raise a ``ValueError`` naming the setting if ``cfg`` describes an impossible world.

    Segment shares must sum to 1 and every segment give every setting of
    :data:`SEGMENT_KEYS` with positive model parameters and channel and category mixes over
    :data:`SOURCES` and :data:`CATEGORIES`; every probability must lie in [0, 1]; only the
    ``en_US`` locale is supported.

    Parameters
    ----------
    cfg : dict
        A complete configuration (the defaults merged with overrides).

    Returns
    -------
    None

    Examples
    --------
    >>> validate_config(default_world_config())
    >>> validate_config(merge_config(default_world_config(), {"move_rate": 1.5}))
    Traceback (most recent call last):
    ...
    ValueError: make_crm_world: probability 'move_rate' must lie in [0, 1], got 1.5
    """
    segs = cfg["segments"]
    if not segs:
        raise ValueError("make_crm_world: segments must name at least one needs segment")
    shares = np.array([s["share"] for s in segs.values()], float)
    if (shares < 0).any() or not np.isclose(shares.sum(), 1.0):
        raise ValueError(f"make_crm_world: segment shares must be >= 0 and sum to 1, got {dict(zip(segs, shares))}")
    for name, s in segs.items():
        absent = [k for k in SEGMENT_KEYS if k not in s]
        if absent:
            raise ValueError(f"make_crm_world: segment '{name}' lacks setting(s) {absent}")
        for k in ("r", "alpha", "a", "b", "p", "q", "v"):
            if not s[k] > 0:
                raise ValueError(f"make_crm_world: segment '{name}' parameter {k} must be > 0, got {s[k]}")
        for k, mix in (("channels", SOURCES), ("categories", CATEGORIES)):
            if set(s[k]) != set(mix) or abs(sum(s[k].values()) - 1) > 1e-9:
                raise ValueError(f"make_crm_world: segment '{name}' {k} must give weights for {list(mix)} summing to 1")
    probs = np.asarray(cfg["n_systems_probs"], float)
    if probs.shape != (len(SOURCES),) or (probs < 0).any() or not np.isclose(probs.sum(), 1):
        raise ValueError("make_crm_world: n_systems_probs must be 4 probabilities (1..4 systems) summing to 1")
    c = cfg["corruption"]
    if c["nickname"] + c["initial"] + c["first_name_typo"] > 1 or c["swap_names"] + c["combined_name"] > 1:
        raise ValueError("make_crm_world: first-name variants (and swap + combined) must have probabilities "
                         "summing to <= 1")
    if cfg["locale"] != "en_US":
        raise ValueError("make_crm_world: only locale 'en_US' is supported (US names, ZIP codes and phone numbers)")
    if set(cfg["missing"]) != set(SOURCES) or any(set(cfg["missing"][s]) != set(CONTACT_FIELDS) for s in SOURCES):
        raise ValueError(
            f"make_crm_world: missing must give a rate for each of {list(CONTACT_FIELDS)} in each of {SOURCES}"
        )
    probs = list(c.items()) + [(k, cfg[k]) for k in ("move_rate", "household_rate", "duplicate_account_rate",
                                                      "duplicate_account_usage", "preferred_category_share")]
    probs += [(f"missing.{s}.{f}", v) for s in SOURCES for f, v in cfg["missing"][s].items()]
    probs += [("promotions.max_share", cfg["promotions"]["max_share"])]
    probs += [("attributes.acquisition_promotion_share", cfg["attributes"]["acquisition_promotion_share"])]
    effects = cfg["attributes"]["effects"]
    for attr in ATTRIBUTES:
        for proc in PROCESSES:
            v = effects[attr][proc]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or abs(v) > 5:
                raise ValueError(f"make_crm_world: attributes.effects.{attr}.{proc} must be a number in [-5, 5] "
                                 f"(a log-multiplier), got {v!r}")
    for k, v in probs:
        if not 0 <= v <= 1:
            raise ValueError(f"make_crm_world: probability '{k}' must lie in [0, 1], got {v}")

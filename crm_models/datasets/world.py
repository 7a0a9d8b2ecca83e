"""A simulated company with ground truth: customers, their silo records, purchases and touchpoints.

``make_crm_world`` simulates a retailer selling through four channels (web shop, stores with
loyalty cards, a call centre and direct mail). Each channel keeps its own customer table
without a shared key, so one person appears as several differently spelled records: the
"silo problem". Because the world is simulated, the truth is known and kept apart from the
observed tables: who is who, each customer's purchase rate and dropout probability, their
future after the observation end and the true effect of a past retention campaign.

The generative story (the frozen default world's README tells it in full):

1. People belong to one of a handful of needs segments. Within segment ``s`` each person draws
   a purchase rate ``lambda ~ Gamma(r_s, alpha_s)`` (per week), a dropout probability
   ``p ~ Beta(a_s, b_s)`` and a spend scale ``nu ~ Gamma(q_s, v_s)``: the BG/NBD model
   (Fader, Hardie & Lee 2005) with gamma-gamma spend (Fader, Hardie & Lee 2005b).
2. A person is acquired (first purchase) at a uniformly drawn time between ``start`` and
   ``end``; repeat purchases then follow a Poisson process with rate ``lambda``, and after
   every repeat purchase the person drops out for good with probability ``p``. Every
   amount is ``Gamma(p_s, nu)`` dollars (mean ``p_s / nu``, the person's ``spend_level``).
3. Each person has accounts in one to four source systems (the first is the acquisition
   channel), sometimes a second account in one of them; each account copies the person's
   contact data with source-specific formats and configurable corruption.
4. Touchpoints (web visits, calls, email opens, mail responses, surveys) are Poisson streams
   during the active life; satisfaction is tied to the dropout probability.
5. A randomised retention campaign half a year before ``end`` adds, for treated customers who
   are still alive, an extra purchase with a probability that depends on segment and value.
6. The same process runs on to ``holdout_end``: that is the ``future`` to be predicted.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CRMWorld", "make_crm_world", "load_crm_world", "default_world_config", "SOURCES", "CATEGORIES"]

#: The four source systems; each keeps its own customer table.
SOURCES: tuple[str, ...] = ("web", "store", "call_centre", "mail")
#: Record id prefix of each source system.
RECORD_PREFIX: dict[str, str] = {"web": "WEB", "store": "STR", "call_centre": "CC", "mail": "ML"}
#: Product categories.
CATEGORIES: tuple[str, ...] = ("electronics", "fashion", "home", "beauty", "books", "garden", "sports", "toys")
INTERACTION_TYPES: tuple[str, ...] = ("web_visit", "call", "email_open", "mail_response", "survey")
CALL_REASONS: tuple[str, ...] = ("inquiry", "complaint", "order")
_FIELDS = ("first_name", "last_name", "email", "phone", "date_of_birth", "street", "city", "postcode")
_DATETIME = "datetime64[ns]"
_WEEK = pd.Timedelta(weeks=1)


def _mix(**weights: float) -> dict[str, float]:
    return dict(weights)


def default_world_config() -> dict[str, Any]:
    """The default configuration of ``make_crm_world`` (a fresh deep copy you may edit).

    Rates are per week, amounts in US dollars, probabilities in [0, 1]. Nested dictionaries
    passed to ``make_crm_world`` are merged into these defaults key by key.
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
        "campaign": dict(
            enabled=True,
            weeks_before_end=26,  # sent this many weeks before `end`
            treatment_share=0.5,
            cost_per_contact=1.5,  # dollars per treated customer
            response_window_weeks=8,
            discount=0.15,  # campaign purchases are this much cheaper
            value_elasticity=-0.5,  # uplift scales with (spend_level / segment median) ** elasticity
            max_uplift=0.9,
        ),
    }


@dataclass
class CRMWorld:
    """A simulated company: observed silo tables plus the truth behind them.

    Observed (what the company's systems hold): ``records``, ``transactions``,
    ``interactions``, and the ``campaign`` design and outcome columns. Truth: ``people``,
    ``record_truth``, ``truth_params``, the ``true_*``/``alive_at_sent`` campaign columns,
    ``future`` and ``future_transactions``. ``data_dictionary`` documents every column.
    """

    people: pd.DataFrame
    records: pd.DataFrame
    record_truth: pd.DataFrame
    transactions: pd.DataFrame
    interactions: pd.DataFrame
    campaign: pd.DataFrame
    future: pd.DataFrame
    future_transactions: pd.DataFrame
    truth_params: pd.DataFrame
    data_dictionary: pd.DataFrame
    config: dict[str, Any] = field(default_factory=dict)

    TABLES = (
        "people", "records", "record_truth", "transactions", "interactions", "campaign", "future",
        "future_transactions", "truth_params", "data_dictionary",
    )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{t}={len(getattr(self, t)):,}" for t in self.TABLES)
        c = self.config
        return (f"CRMWorld({c.get('start')}..{c.get('end')}, holdout to {c.get('holdout_end')}, "
                f"seed={c.get('seed')}: {sizes})")

    def transactions_by_person(self, future: bool = False) -> pd.DataFrame:
        """Transactions joined to the true ``person_id`` (truth: a perfect identity resolution)."""
        tx = self.future_transactions if future else self.transactions
        return tx.merge(self.record_truth[["record_id", "person_id"]], on="record_id", how="left")


# ----------------------------------------------------------------------------------------------
# configuration


def _merge(base: dict, override: dict, path: str) -> dict:
    """``base`` updated by ``override`` key by key (nested dicts merged); unknown keys raise."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else key
        if key not in out:
            if path == "segments" and isinstance(value, dict):  # a new needs segment, given in full
                out[key] = copy.deepcopy(value)
                continue
            raise ValueError(f"make_crm_world: unknown setting '{where}'; known settings here: {sorted(out)}")
        if isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value, where)
        else:
            out[key] = copy.deepcopy(value)
    return out


_SEGMENT_KEYS = ("share", "r", "alpha", "a", "b", "p", "q", "v", "channels", "categories", "price_sensitivity", "age",
                 "web_visits_per_purchase", "email_open_rate", "call_rate", "mail_response_rate", "campaign_uplift")


def _validate_config(cfg: dict) -> None:
    segs = cfg["segments"]
    if not segs:
        raise ValueError("make_crm_world: segments must name at least one needs segment")
    shares = np.array([s["share"] for s in segs.values()], float)
    if (shares < 0).any() or not np.isclose(shares.sum(), 1.0):
        raise ValueError(f"make_crm_world: segment shares must be >= 0 and sum to 1, got {dict(zip(segs, shares))}")
    for name, s in segs.items():
        absent = [k for k in _SEGMENT_KEYS if k not in s]
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
    probs = list(c.items()) + [(k, cfg[k]) for k in ("move_rate", "household_rate", "duplicate_account_rate",
                                                      "duplicate_account_usage", "preferred_category_share")]
    probs += [(f"missing.{s}.{f}", v) for s in SOURCES for f, v in cfg["missing"][s].items()]
    probs += [("promotions.max_share", cfg["promotions"]["max_share"])]
    for k, v in probs:
        if not 0 <= v <= 1:
            raise ValueError(f"make_crm_world: probability '{k}' must lie in [0, 1], got {v}")
    if cfg["locale"] != "en_US":
        raise ValueError("make_crm_world: only locale 'en_US' is supported (US names, ZIP codes and phone numbers)")
    if set(cfg["missing"]) != set(SOURCES) or any(set(cfg["missing"][s]) != set(_FIELDS) for s in SOURCES):
        raise ValueError(f"make_crm_world: missing must give a rate for each of {list(_FIELDS)} in each of {SOURCES}")


# ----------------------------------------------------------------------------------------------
# small vectorised helpers


def _categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row of ``probs`` (rows sum to 1 or are unnormalised non-negative weights)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _uniform_events(rng: np.random.Generator, owner: np.ndarray, lo: np.ndarray, hi: np.ndarray, rate: np.ndarray):
    """A Poisson process of ``rate`` on ``[lo, hi]`` for each owner: (owner index, time)."""
    span = np.maximum(hi - lo, 0.0)
    counts = rng.poisson(rate * span)
    idx = np.repeat(np.arange(len(owner)), counts)
    t = lo[idx] + rng.random(idx.size) * span[idx]
    return idx, t


def _weeks_to_ts(base: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """``base`` (datetime64[s]) plus ``weeks``, rounded to whole seconds."""
    return base + np.round(weeks * 7 * 86400).astype("timedelta64[s]")


_KEYBOARD = {
    "a": "qswz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji",
    "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}


def _typo(s: str, kind: int, u: float, v: float) -> str:
    """One keyboard-style edit of ``s``: 0 substitute a neighbour key, 1 delete, 2 swap, 3 double."""
    if not isinstance(s, str) or len(s) < 2:
        return s
    n = len(s)
    i = min(int(u * n), n - 1)
    if kind == 2 and n >= 3:
        i = min(i, n - 2)
        if s[i] != s[i + 1]:
            return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        kind = 0
    if kind == 1 and n >= 4:
        return s[:i] + s[i + 1 :]
    if kind == 3:
        return s[: i + 1] + s[i] + s[i + 1 :]
    ch = s[i]
    near = _KEYBOARD.get(ch.lower())
    if not near:
        return s[:i] + ("x" if ch != "x" else "y") + s[i + 1 :]
    rep = near[min(int(v * len(near)), len(near) - 1)]
    return s[:i] + (rep.upper() if ch.isupper() else rep) + s[i + 1 :]


def _apply_typos(rng: np.random.Generator, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = values.copy()
    idx = np.flatnonzero(mask)
    kinds = rng.integers(0, 4, idx.size)
    u, v = rng.random(idx.size), rng.random(idx.size)
    for j, i in enumerate(idx):
        out[i] = _typo(out[i], kinds[j], u[j], v[j])
    return out


@functools.lru_cache(maxsize=1)
def _nickname_table() -> dict[str, tuple[str, ...]]:
    """Real nickname pairs from the ``nicknames`` package: Faker first name -> sorted shorter nicknames."""
    from nicknames import NickNamer

    nn = NickNamer()
    from faker.providers.person.en_US import Provider

    names = set(Provider.first_names_male) | set(Provider.first_names_female)
    table = {}
    for name in sorted(names):
        # shorter forms only (Bob for Robert, not the related full name Rupert)
        nicks = sorted(n for n in nn.nicknames_of(name.lower()) if 2 <= len(n) < len(name))
        if nicks:
            table[name] = tuple(x.capitalize() for x in nicks)
    return table


@functools.lru_cache(maxsize=1)
def _us_area_codes() -> np.ndarray:
    """US area codes that ``phonenumbers`` accepts as valid geographic numbers."""
    import phonenumbers as pn

    codes = []
    for ac in range(201, 990):
        if ac % 100 == 11 or ac // 10 % 10 == 9:
            continue
        if pn.is_valid_number(pn.PhoneNumber(country_code=1, national_number=ac * 10_000_000 + 2_345_678)):
            codes.append(ac)
    return np.array(codes, dtype=np.int64)


@functools.lru_cache(maxsize=None)
def _phone_template(fmt: str) -> tuple[str, tuple[int, ...]]:
    """``phonenumbers``' layout of a US number in ``fmt``: literal characters and digit slots.

    Returns the formatted probe number and, per character, the index (0-9) of the national
    digit it shows or -1 for a literal character.
    """
    import phonenumbers as pn

    probe = 2_125_550_123
    text = pn.format_number(pn.PhoneNumber(country_code=1, national_number=probe), getattr(pn.PhoneNumberFormat, fmt))
    digit_pos = [i for i, ch in enumerate(text) if ch.isdigit()][-10:]
    slots = [-1] * len(text)
    for k, i in enumerate(digit_pos):
        slots[i] = k
    return text, tuple(slots)


def _format_phones(numbers: np.ndarray, fmt: str) -> np.ndarray:
    """Format national US numbers (10-digit ints) as ``phonenumbers`` does in the named format.

    ``fmt`` is a ``phonenumbers.PhoneNumberFormat`` name (E164, NATIONAL, INTERNATIONAL) or
    DIGITS. US numbers share one layout, so the layout is taken from ``phonenumbers`` once and
    applied to all numbers at numpy speed; a sample is checked against ``phonenumbers`` itself.
    """
    import phonenumbers as pn

    numbers = np.asarray(numbers, dtype=np.int64)
    digits = (numbers[:, None] // 10 ** np.arange(9, -1, -1)) % 10
    if fmt == "DIGITS":
        text, slots = "0123456789", tuple(range(10))
    else:
        text, slots = _phone_template(fmt)
    chars = np.empty((numbers.size, len(slots)), dtype=np.uint8)
    for i, k in enumerate(slots):
        chars[:, i] = ord(text[i]) if k < 0 else 48 + digits[:, k]
    out = chars.view(f"S{len(slots)}").ravel().astype(str).astype(object)
    if fmt != "DIGITS":
        f = getattr(pn.PhoneNumberFormat, fmt)
        for j in range(min(numbers.size, 25)):
            if out[j] != pn.format_number(pn.PhoneNumber(country_code=1, national_number=int(numbers[j])), f):
                return np.array([pn.format_number(pn.PhoneNumber(country_code=1, national_number=int(x)), f)
                                 for x in numbers], dtype=object)
    return out


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """String ids ``prefix`` + zero-padded ``numbers`` (built in Arrow, fast for millions)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    padded = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pd.Series(pd.array(pc.binary_join_element_wise(prefix, padded, ""), dtype="str"))


def _decode(codes: np.ndarray, vocab) -> pd.Series:
    """Strings ``vocab[code]`` (missing where code < 0), built in Arrow without Python objects."""
    import pyarrow as pa

    codes = np.asarray(codes, dtype=np.int32)
    missing = codes < 0
    arr = pa.DictionaryArray.from_arrays(pa.array(np.where(missing, 0, codes), mask=missing),
                                         pa.array(list(vocab), type=pa.string()))
    return pd.Series(pd.array(arr.cast(pa.string()), dtype="str"))


def _abbreviate_streets(values: np.ndarray) -> np.ndarray:
    """Street suffixes abbreviated the way a till system stores them (Street -> St)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values, type=pa.string())
    for word, abbr in _SUFFIX_ABBR.items():
        arr = pc.replace_substring_regex(arr, pattern=rf"\b{word}\b", replacement=abbr)
    return np.array(arr.to_pylist(), dtype=object)


_SUFFIX_ABBR = {
    "Street": "St", "Avenue": "Ave", "Road": "Rd", "Drive": "Dr", "Lane": "Ln", "Court": "Ct",
    "Boulevard": "Blvd", "Place": "Pl", "Square": "Sq", "Terrace": "Ter", "Parkway": "Pkwy",
    "Highway": "Hwy", "Circle": "Cir", "Mountain": "Mtn", "Heights": "Hts", "Trail": "Trl",
    "Crossing": "Xing", "Point": "Pt", "Ridge": "Rdg", "Valley": "Vly", "Junction": "Jct",
}


# ----------------------------------------------------------------------------------------------
# the generator


def make_crm_world(
    n_customers: int = 3000,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    holdout_end: str = "2025-06-30",
    seed: int = 42,
    **config: Any,
) -> CRMWorld:
    """Simulate a multi-channel company whose truth is known.

    Parameters
    ----------
    n_customers
        Number of real people (customers acquired between ``start`` and ``end``).
    start, end
        Observation period (dates). Everything in ``records``, ``transactions`` and
        ``interactions`` happens in ``[start, end]``.
    holdout_end
        The ``future`` tables hold the same people's true behaviour in ``(end, holdout_end]``.
    seed
        Seed of every random draw (numpy and Faker): the same seed gives identical frames.
    **config
        Overrides of :func:`default_world_config` (nested dicts are merged), e.g.
        ``campaign={"enabled": False}``, ``corruption={"nickname": 0.2}``,
        ``segments={"value_seekers": {"r": 1.0}}``.

    Returns
    -------
    CRMWorld
        The observed and truth tables; ``world.config`` holds the full configuration and
        ``world.truth_params`` the population parameters per needs segment.
    """
    if not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ValueError(f"make_crm_world: n_customers must be a positive integer, got {n_customers!r}")
    cfg = _merge(default_world_config(), config, "")
    _validate_config(cfg)
    t_start, t_end, t_hold = (pd.Timestamp(x) for x in (start, end, holdout_end))
    if not t_start < t_end < t_hold:
        raise ValueError(f"make_crm_world: need start < end < holdout_end, got {start}, {end}, {holdout_end}")
    cfg.update(n_customers=int(n_customers), start=str(t_start.date()), end=str(t_end.date()),
               holdout_end=str(t_hold.date()), seed=int(seed))
    import faker as faker_pkg

    cfg["faker_version"] = faker_pkg.VERSION
    rng = np.random.default_rng(seed)
    # `end` and `holdout_end` are dates included in full: the periods end at the next midnight
    return _Builder(cfg, rng, t_start, t_end + pd.Timedelta(days=1), t_hold + pd.Timedelta(days=1)).build()


class _Builder:
    """Builds one world step by step; the steps' order is the order of the random draws.

    Times inside are floats in weeks after each person's acquisition (``E``: to ``end``,
    ``H``: to ``holdout_end``, ``tau``: dropout, ``L``: end of the observed active life);
    they become timestamps only when the tables are assembled. Changing the order of the
    steps or of the draws within them changes every world, including the frozen one.
    """

    def __init__(self, cfg, rng, t_start, t_end, t_hold):
        self.cfg, self.rng = cfg, rng
        self.t_start, self.t_end, self.t_hold = t_start, t_end, t_hold
        self.seg_names = list(cfg["segments"])
        self.segs = [cfg["segments"][s] for s in self.seg_names]

    def seg_array(self, key: str) -> np.ndarray:
        return np.array([s[key] for s in self.segs], dtype=float)

    # -- people and their latent traits ---------------------------------------------------------
    def people_traits(self) -> None:
        cfg, rng, n = self.cfg, self.rng, self.cfg["n_customers"]
        seg = rng.choice(len(self.segs), size=n, p=self.seg_array("share"))
        # acquisition: uniform over [start, end) at whole minutes
        span_min = int((self.t_end - self.t_start) / pd.Timedelta(minutes=1))
        acq_min = np.sort(rng.integers(0, span_min, n))
        self.seg = seg
        self.acq = np.datetime64(self.t_start, "s") + (acq_min * 60).astype("timedelta64[s]")
        week_s = 7 * 86400
        self.E = (np.datetime64(self.t_end, "s") - self.acq).astype(np.int64) / week_s  # weeks to end
        self.H = (np.datetime64(self.t_hold, "s") - self.acq).astype(np.int64) / week_s  # weeks to holdout end
        self.lam = rng.gamma(self.seg_array("r")[seg], 1.0 / self.seg_array("alpha")[seg])
        self.p = np.clip(rng.beta(self.seg_array("a")[seg], self.seg_array("b")[seg]), 1e-6, 1 - 1e-9)
        self.nu = rng.gamma(self.seg_array("q")[seg], 1.0 / self.seg_array("v")[seg])
        self.gg_p = self.seg_array("p")[seg]
        self.spend_level = self.gg_p / self.nu
        chan = np.array([[s["channels"][c] for c in SOURCES] for s in self.segs])
        g = rng.gamma(cfg["channel_concentration"] * chan[seg])
        self.w = np.maximum(g / g.sum(axis=1, keepdims=True), 1e-12)
        cat = np.array([[s["categories"][c] for c in CATEGORIES] for s in self.segs])
        self.cat_mix = cat
        self.pref_cat = _categorical(rng, cat[seg])
        ps = np.array([s["price_sensitivity"] for s in self.segs])
        self.price_sens = rng.beta(ps[seg, 0], ps[seg, 1])
        # campaign response: P(extra purchase | treated and alive), by segment and value; the value
        # reference is the segment's population median spend level p v / median(Gamma(q, 1))
        from scipy.stats import gamma as gamma_dist

        cc = cfg["campaign"]
        med = self.seg_array("p") * self.seg_array("v") / gamma_dist.ppf(0.5, self.seg_array("q"))
        u = self.seg_array("campaign_uplift")[seg] * (self.spend_level / med[seg]) ** cc["value_elasticity"]
        self.response_prob = np.clip(u, 0.0, cc["max_uplift"])
        # satisfaction propensity: higher for low dropout probability (standardised logit p)
        lp = np.log(self.p / (1 - self.p))
        self.sat_z = -(lp - lp.mean()) / (lp.std() + 1e-12) * 0.8 + rng.normal(0, 0.6, n)

    # -- the BG/NBD purchase process -----------------------------------------------------------
    def purchases(self) -> None:
        rng, n = self.rng, self.cfg["n_customers"]
        N = rng.poisson(self.lam * self.H)  # repeat purchases to holdout end if never dropping out
        J = rng.geometric(self.p)  # the repeat purchase after which the person drops out
        K = np.minimum(N, J)
        idx = np.repeat(np.arange(n), N)
        u = rng.random(idx.size) * self.H[idx]
        order = np.lexsort((u, idx))
        u = u[order]
        first = np.concatenate([[0], np.cumsum(N)[:-1]])
        rank = np.arange(idx.size) - first[idx]
        keep = rank < K[idx]
        self.dropped = J <= N  # drops out before the holdout end
        tau = np.full(n, np.inf)
        last = keep & (rank == K[idx] - 1)
        tau[idx[last & self.dropped[idx]]] = u[last & self.dropped[idx]]
        self.tau = tau  # weeks after acquisition, inf if alive at holdout end
        self.L = np.minimum(self.tau, self.E)  # end of observed active life, weeks after acquisition
        # all purchases, first one at time 0
        self.tx_person = np.concatenate([np.arange(n), idx[keep]])
        self.tx_t = np.concatenate([np.zeros(n), u[keep]])
        o = np.lexsort((self.tx_t, self.tx_person))
        self.tx_person, self.tx_t = self.tx_person[o], self.tx_t[o]

    # -- which systems hold an account ----------------------------------------------------------
    def accounts(self) -> None:
        cfg, rng, n = self.cfg, self.rng, self.cfg["n_customers"]
        self.acq_src = _categorical(rng, self.w)
        m = rng.choice(4, size=n, p=np.asarray(cfg["n_systems_probs"])) + 1
        keys = np.log(self.w) + rng.gumbel(size=(n, 4))
        keys[np.arange(n), self.acq_src] = np.inf
        rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
        has = rank < m[:, None]
        created = self.L[:, None] * rng.random((n, 4))
        created[np.arange(n), self.acq_src] = 0.0
        created[~has] = np.nan
        self.m, self.has, self.created = m, has, created
        dup = rng.random(n) < cfg["duplicate_account_rate"]
        dup_src = _categorical(rng, np.where(has, self.w, 0.0))
        c0 = created[np.arange(n), dup_src]
        self.dup = dup
        self.dup_src = np.where(dup, dup_src, -1)
        self.dup_created = np.where(dup, c0 + rng.random(n) * (self.L - c0), np.nan)

    def assign_records(self, person: np.ndarray, t: np.ndarray, first: np.ndarray | None = None):
        """Source and account (0 main, 1 duplicate) used for events at ``t`` weeks after acquisition."""
        rng = self.rng
        avail = self.has[person] & (self.created[person] <= t[:, None] + 1e-12)
        src = _categorical(rng, np.where(avail, self.w[person], 0.0))
        if first is not None:
            src[first] = self.acq_src[person[first]]
        use_dup = (
            (self.dup_src[person] == src)
            & (t >= self.dup_created[person])
            & (rng.random(person.size) < self.cfg["duplicate_account_usage"])
        )
        return src, use_dup.astype(np.int64)

    # -- identities -----------------------------------------------------------------------------
    def identities(self) -> None:
        from faker import Faker
        from faker.providers.internet.en_US import Provider as Internet
        from faker.providers.person.en_US import Provider as Person

        cfg, rng, n = self.cfg, self.rng, self.cfg["n_customers"]
        fake = Faker(cfg["locale"])
        fake.seed_instance(cfg["seed"])

        def weighted(d):
            names = np.array(list(d), dtype=object)
            wts = np.array(list(d.values()), float)
            return names, wts / wts.sum()

        male, wm = weighted(Person.first_names_male)
        female, wf = weighted(Person.first_names_female)
        last, wl = weighted(Person.last_names)
        is_f = rng.random(n) < 0.5
        first = np.where(is_f, female[rng.choice(len(female), n, p=wf)], male[rng.choice(len(male), n, p=wm)])
        last_n = last[rng.choice(len(last), n, p=wl)]
        # date of birth from the segment's age at `start`
        age_ms = np.array([s["age"] for s in self.segs], dtype=float)[self.seg]
        age = np.clip(age_ms[:, 0] + age_ms[:, 1] * rng.normal(0, 1, n), 18, 92)
        dob = np.datetime64(self.t_start.date(), "D") - np.round(age * 365.25).astype("timedelta64[D]")
        # addresses: pools of Faker street names and cities with their postcodes
        n_streets = int(np.clip(n // 15, 200, 2000))
        n_cities = int(np.clip(n // 60, 30, 1500))
        streets = np.array([fake.street_name() for _ in range(n_streets)], dtype=object)
        cities = np.array([fake.city() for _ in range(n_cities)], dtype=object)
        zips_per_city = rng.integers(1, 5, n_cities)
        zips = np.array([fake.unique.zipcode() for _ in range(int(zips_per_city.sum()))], dtype=object)
        zip_start = np.concatenate([[0], np.cumsum(zips_per_city)[:-1]])
        city_w = 1.0 / np.arange(1, n_cities + 1) ** 0.8
        city_w /= city_w.sum()

        def draw_address(k):
            c = rng.choice(n_cities, k, p=city_w)
            z = zips[zip_start[c] + rng.integers(0, zips_per_city[c])]
            num = np.exp(rng.uniform(0, np.log(9999), k)).astype(int) + 1
            st = np.array([f"{a} {b}" for a, b in zip(num, streets[rng.integers(0, n_streets, k)])], dtype=object)
            apt = rng.random(k) < 0.15
            apt_no = rng.integers(1, 400, k)
            st[apt] = [f"{s} Apt. {a}" for s, a in zip(st[apt], apt_no[apt])]
            return st, cities[c], z

        street, city, postcode = draw_address(n)
        # phones: valid US numbers
        ac = _us_area_codes()
        phone = (ac[rng.integers(0, len(ac), n)] * 10_000_000 + rng.integers(200, 1000, n) * 10_000
                 + rng.integers(0, 10_000, n))
        # households: some people join another person's household
        hh = rng.random(n) < cfg["household_rate"]
        hosts_pool = np.flatnonzero(~hh)
        host = np.arange(n)
        if hh.any() and hosts_pool.size:
            host[hh] = hosts_pool[rng.integers(0, hosts_pool.size, hh.sum())]
        share_last = hh & (rng.random(n) < cfg["household_shares_last_name"])
        share_phone = hh & (rng.random(n) < cfg["household_shares_phone"])
        share_email = hh & (rng.random(n) < cfg["household_shares_email"])
        last_n = np.where(share_last, last_n[host], last_n)
        street, city, postcode = street[host], city[host], postcode[host]
        phone = np.where(share_phone, phone[host], phone)
        # emails from the name, made unique, then shared within a few households
        domains = np.array(list(Internet.free_email_domains) + ["aol.com", "outlook.com", "icloud.com"], dtype=object)
        dom = domains[rng.choice(len(domains), n, p=[0.38, 0.18, 0.12, 0.07, 0.15, 0.10])]
        pat = rng.integers(0, 5, n)
        yy = (dob.astype("datetime64[Y]").astype(int) + 1970) % 100
        fl = [x.lower() for x in first]
        sl = [x.lower().replace(" ", "").replace("'", "") for x in last_n]
        local = np.array([
            (f"{f}.{s}", f"{f[0]}{s}", f"{f}{s}{y:02d}", f"{f}_{s}", f"{s}.{f[0]}")[k]
            for f, s, y, k in zip(fl, sl, yy, pat)
        ], dtype=object)
        email = pd.Series([f"{a}@{b}" for a, b in zip(local, dom)])
        dupe_no = email.groupby(email).cumcount().to_numpy()
        email = np.array([e if k == 0 else e.replace("@", f"{k + 1}@") for e, k in zip(email, dupe_no)], dtype=object)
        email = np.where(share_email, email[host], email)
        # household ids: the host's index
        self.household = host
        # movers: people outside households who moved during the observation period
        moved = ~hh & ~np.isin(np.arange(n), host[hh]) & (rng.random(n) < cfg["move_rate"])
        moved_w = rng.random(n) * self.E  # weeks after acquisition
        new_st, new_city, new_zip = draw_address(n)
        same_city = rng.random(n) < 0.5
        new_city = np.where(same_city, city, new_city)
        new_zip = np.where(same_city, postcode, new_zip)
        self.prev = (np.where(moved, street, None), np.where(moved, city, None), np.where(moved, postcode, None))
        street = np.where(moved, new_st, street)
        city, postcode = np.where(moved, new_city, city), np.where(moved, new_zip, postcode)
        self.moved, self.moved_w = moved, np.where(moved, moved_w, np.nan)
        self.first, self.last, self.email, self.phone, self.dob = first, last_n, email, phone, dob
        self.street, self.city, self.postcode = street, city, postcode
        self.alt_domains = domains

    # -- records with corruption ----------------------------------------------------------------
    def build_records(self) -> None:
        cfg, rng = self.cfg, self.rng
        pi, si = np.nonzero(self.has)
        created = self.created[pi, si]
        dup_p = np.flatnonzero(self.dup)
        pi = np.concatenate([pi, dup_p])
        si = np.concatenate([si, self.dup_src[dup_p]])
        created = np.concatenate([created, self.dup_created[dup_p]])
        is_dup = np.concatenate([np.zeros(len(pi) - len(dup_p), bool), np.ones(len(dup_p), bool)])
        created_ts = _weeks_to_ts(self.acq[pi], created)
        # record ids: numbered by creation time within each source
        order = np.lexsort((pi, created_ts, si))
        pi, si, created, is_dup, created_ts = pi[order], si[order], created[order], is_dup[order], created_ts[order]
        counts = np.bincount(si, minlength=4)
        num = np.arange(len(pi)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[si] + 1
        rid = np.empty(len(pi), dtype=object)
        for s_i, s_name in enumerate(SOURCES):
            m = si == s_i
            rid[m] = _ids(RECORD_PREFIX[s_name] + "-", num[m], 6).to_numpy(dtype=object)
        self.rec_id_s = pd.Series(rid, dtype="str")
        k = len(pi)
        # key for transactions: (person, source, duplicate flag) -> record row
        self.rec_key = pd.Series(np.arange(k), index=pd.MultiIndex.from_arrays([pi, si, is_dup.astype(np.int64)]))
        self.rec_pi, self.rec_si, self.rec_created, self.rec_id, self.rec_is_dup = pi, si, created, rid, is_dup

        c = cfg["corruption"]
        first = self.first[pi].copy()
        last = self.last[pi].copy()
        # first-name variant
        u = rng.random(k)
        nick_table = _nickname_table()
        has_nick = np.array([f in nick_table for f in first])
        variant = np.full(k, "none", dtype=object)
        variant[(u < c["nickname"]) & has_nick] = "nickname"
        t1 = c["nickname"] + c["initial"]
        variant[(u >= c["nickname"]) & (u < t1)] = "initial"
        variant[(u >= t1) & (u < t1 + c["first_name_typo"])] = "typo"
        v2 = rng.random(k)
        for i in np.flatnonzero(variant == "nickname"):
            nicks = nick_table[first[i]]
            first[i] = nicks[min(int(v2[i] * len(nicks)), len(nicks) - 1)]
        ini = variant == "initial"
        dot = SOURCES.index("mail")
        first[ini] = [f[0] + ("." if s == dot else "") for f, s in zip(first[ini], si[ini])]
        first = _apply_typos(rng, first, variant == "typo")
        last_typo = rng.random(k) < c["last_name_typo"]
        last = _apply_typos(rng, last, last_typo)
        u = rng.random(k)
        swap = u < c["swap_names"]
        combined = (u >= c["swap_names"]) & (u < c["swap_names"] + c["combined_name"])
        first[swap], last[swap] = last[swap], first[swap].copy()
        comb_last = combined & (rng.random(k) < 0.5)
        comb_first = combined & ~comb_last
        first[comb_first] = [f"{a} {b}" for a, b in zip(first[comb_first], last[comb_first])]
        last[comb_first] = None
        last[comb_last] = [f"{b}, {a}" for a, b in zip(first[comb_last], last[comb_last])]
        first[comb_last] = None
        # source case styles
        store = si == SOURCES.index("store")
        lower = (si == SOURCES.index("web")) & (rng.random(k) < c["lower_case_web"])
        for arr in (first, last):
            m = store & np.array([isinstance(x, str) for x in arr])
            arr[m] = [x.upper() for x in arr[m]]
            m = lower & np.array([isinstance(x, str) for x in arr])
            arr[m] = [x.lower() for x in arr[m]]
        # email: a second web account uses another address
        email = self.email[pi].copy()
        alt = is_dup & (si == SOURCES.index("web"))
        alt_dom = self.alt_domains[rng.integers(0, len(self.alt_domains), k)]
        email[alt] = [f"{f.lower()}{s.lower().replace(' ', '')}{n}@{d}" for f, s, n, d in
                      zip(self.first[pi[alt]], self.last[pi[alt]], rng.integers(1, 99, alt.sum()), alt_dom[alt])]
        email_typo = rng.random(k) < c["email_typo"]
        email[email_typo] = [_typo(e.split("@")[0], kk, a, b) + "@" + e.split("@")[1] for e, kk, a, b in
                             zip(email[email_typo], rng.integers(0, 4, email_typo.sum()),
                                 rng.random(email_typo.sum()), rng.random(email_typo.sum()))]
        # phone with a one-digit error, formatted per source
        phone = self.phone[pi].copy()
        phone_typo = rng.random(k) < c["phone_typo"]
        pos = rng.integers(0, 7, k)
        digit = rng.integers(0, 10, k)
        old = phone // 10**pos % 10
        new = np.where(digit == old, (digit + 1) % 10, digit)
        phone = np.where(phone_typo, phone + (new - old) * 10**pos, phone)
        # date of birth with occasional errors, formatted per source
        dob = self.dob[pi].copy()
        dob_err = rng.random(k) < c["dob_error"]
        dd = pd.DatetimeIndex(dob)
        can_swap = (dd.day <= 12) & (dd.day != dd.month)
        swapped = pd.to_datetime(
            {"year": dd.year, "month": np.where(can_swap, dd.day, dd.month),
             "day": np.where(can_swap, dd.month, dd.day)}
        ).to_numpy().astype("datetime64[D]")
        shift = np.where(rng.random(k) < 0.5, 1, -1).astype("timedelta64[D]")
        kind = rng.random(k) < 0.5  # day and month swapped where possible, else one day off
        dob_bad = np.where(kind & can_swap, swapped, dob + shift)
        dob = np.where(dob_err, dob_bad, dob)
        # addresses: old address for records opened before a move
        old_addr = self.moved[pi] & (created < self.moved_w[pi])
        street = np.where(old_addr, self.prev[0][pi], self.street[pi])
        city = np.where(old_addr, self.prev[1][pi], self.city[pi])
        postcode = np.where(old_addr, self.prev[2][pi], self.postcode[pi])
        street_typo = rng.random(k) < c["street_typo"]
        street = _apply_typos(rng, street, street_typo)
        street[store] = _abbreviate_streets(street[store])
        mail = si == SOURCES.index("mail")
        street[mail] = [s.upper() for s in street[mail]]
        city[mail] = [s.upper() for s in city[mail]]
        pc_typo = rng.random(k) < c["postcode_typo"]
        postcode = postcode.copy()
        postcode[pc_typo] = [p[:-2] + p[-1] + p[-2] if p[-1] != p[-2] else p[:-1] + str((int(p[-1]) + 1) % 10)
                             for p in postcode[pc_typo]]
        cols = {
            "first_name": first, "last_name": last, "email": email, "phone": phone.astype(object),
            "date_of_birth": dob.astype(object), "street": street, "city": city, "postcode": postcode,
        }
        # missing fields and formats per source
        missing_flags = {}
        for f in _FIELDS:
            rate = np.array([cfg["missing"][s][f] for s in SOURCES])[si]
            missing_flags[f] = rng.random(k) < rate
        for s_i, s in enumerate(SOURCES):
            m = si == s_i
            cols["phone"][m] = _format_phones_masked(phone[m], cfg["phone_formats"][s], ~missing_flags["phone"][m])
            cols["date_of_birth"][m] = pd.DatetimeIndex(dob[m]).strftime(cfg["date_formats"][s]).to_numpy(dtype=object)
        for f in _FIELDS:
            cols[f] = np.where(missing_flags[f], None, cols[f])
        # corruption flags describe what the record shows: none where the field is empty
        email_typo &= ~missing_flags["email"]
        alt &= ~missing_flags["email"]
        phone_typo &= ~missing_flags["phone"]
        dob_err &= ~missing_flags["date_of_birth"]
        street_typo &= ~missing_flags["street"]
        pc_typo &= ~missing_flags["postcode"]
        rec = pd.DataFrame({"record_id": rid, "source": np.array(SOURCES, dtype=object)[si], **cols,
                            "created_at": created_ts})
        rec = rec.astype({c_: "str" for c_ in ["record_id", "source", *_FIELDS]})
        rec["created_at"] = rec["created_at"].astype(_DATETIME)
        truth = pd.DataFrame({
            "record_id": rid,
            "person_id": self.person_ids[pi],
            "source": np.array(SOURCES, dtype=object)[si],
            "is_duplicate_account": is_dup,
            "first_name_variant": variant,
            "last_name_typo": last_typo,
            "name_layout": np.where(swap, "swapped", np.where(comb_first, "combined_first",
                                                                 np.where(comb_last, "combined_last", "normal"))),
            "email_typo": email_typo,
            "alternative_email": alt,
            "phone_typo": phone_typo,
            "dob_error": dob_err,
            "old_address": old_addr,
            "street_typo": street_typo,
            "postcode_typo": pc_typo,
        }).astype({"record_id": "str", "person_id": "str", "source": "str", "first_name_variant": "str",
                   "name_layout": "str"})
        self.records = rec.reset_index(drop=True)
        self.record_truth = truth.reset_index(drop=True)

    def record_of(self, person, src, dup):
        idx = pd.MultiIndex.from_arrays([person, src, dup])
        return self.rec_key.reindex(idx).to_numpy().astype(np.int64)

    # -- transactions ---------------------------------------------------------------------------
    def transactions(self) -> None:
        person, t = self.tx_person, self.tx_t
        first = t == 0.0
        src, dup = self.assign_records(person, t, first=np.flatnonzero(first))
        rec = self.record_of(person, src, dup)
        self._tx = self._tx_frame(person, t, rec, discount=np.zeros(person.size))
        self._tx["induced"] = False

    def _tx_frame(self, person, t, rec, discount):
        rng = self.rng
        seg = self.seg[person]
        pref = rng.random(person.size) < self.cfg["preferred_category_share"]
        cat = np.where(pref, self.pref_cat[person], _categorical(rng, self.cat_mix[seg]))
        amount = rng.gamma(self.gg_p[person], 1.0 / self.nu[person]) * (1 - discount)
        amount = np.maximum(np.round(amount, 2), 0.01)
        promo = self.cfg["promotions"]
        on_promo = rng.random(person.size) < promo["max_share"] * self.price_sens[person]
        depth = np.asarray(promo["depths"], float)[rng.integers(0, len(promo["depths"]), person.size)]
        discount = np.where(discount > 0, discount, np.where(on_promo, depth, 0.0))
        return pd.DataFrame({
            "person": person, "t": t, "timestamp": _weeks_to_ts(self.acq[person], t), "rec": rec,
            "cat": cat, "amount": amount, "discount": discount,
        })

    # -- campaign -------------------------------------------------------------------------------
    def campaign(self) -> None:
        cfg, rng = self.cfg, self.rng
        cc = cfg["campaign"]
        if not cc["enabled"]:
            self.campaign_df = pd.DataFrame({
                "person_id": pd.Series([], dtype="str"), "record_id": pd.Series([], dtype="str"),
                "group": pd.Series([], dtype="str"), "sent_at": pd.Series([], dtype=_DATETIME),
                "cost": pd.Series([], dtype=float), "responded": pd.Series([], dtype=bool),
                "revenue_after": pd.Series([], dtype=float), "needs_segment": pd.Series([], dtype="str"),
                "alive_at_sent": pd.Series([], dtype=bool), "true_uplift": pd.Series([], dtype=float),
                "true_revenue_uplift": pd.Series([], dtype=float), "induced_transaction_id": pd.Series([], dtype="str"),
            })
            return
        sent = np.datetime64(self.t_end - pd.Timedelta(days=1) - pd.Timedelta(weeks=cc["weeks_before_end"])
                             + pd.Timedelta(hours=9), "s")
        s_w = (sent - self.acq).astype(np.int64) / (7 * 86400)  # weeks after acquisition
        elig = np.flatnonzero(s_w > 0)
        treat = rng.random(elig.size) < cc["treatment_share"]
        # the record mailed: the person's most recently opened record before the send date
        r_ok = (self.rec_created <= s_w[self.rec_pi])
        cand = pd.DataFrame({"p": self.rec_pi[r_ok], "c": self.rec_created[r_ok], "r": np.flatnonzero(r_ok)})
        cand = cand.sort_values(["p", "c", "r"]).groupby("p").tail(1).set_index("p")["r"]
        rec = cand.reindex(elig).to_numpy().astype(np.int64)
        alive = self.tau[elig] > s_w[elig]
        u = self.response_prob[elig]
        w = cc["response_window_weeks"]
        extra = treat & alive & (rng.random(elig.size) < u)
        # extra purchase uniformly in the window (and before a dropout inside it)
        p_extra = elig[extra]
        lo = s_w[p_extra]
        hi = np.minimum(lo + w, np.minimum(self.tau[p_extra], self.E[p_extra]))
        t_extra = lo + rng.random(p_extra.size) * np.maximum(hi - lo, 0)
        self._tx_campaign = self._tx_frame(p_extra, t_extra, rec[extra], discount=np.full(p_extra.size, cc["discount"]))
        self._tx_campaign["induced"] = True
        self.campaign_info = dict(elig=elig, treat=treat, rec=rec, alive=alive, u=u, s_w=s_w, sent=sent)

    def finish_campaign(self, tx_all: pd.DataFrame) -> None:
        cfg = self.cfg
        cc = cfg["campaign"]
        if not cc["enabled"]:
            return
        ci = self.campaign_info
        elig, s_w, w = ci["elig"], ci["s_w"], cc["response_window_weeks"]
        tx = tx_all[["person", "t", "amount"]]
        lo = s_w[tx["person"].to_numpy()]
        in_win = (tx["t"].to_numpy() >= lo) & (tx["t"].to_numpy() < lo + w)
        agg = tx[in_win].groupby("person")["amount"].agg(["size", "sum"]).reindex(elig, fill_value=0)
        lam = self.lam[elig]
        self.campaign_df = pd.DataFrame({
            "person_id": self.person_ids[elig],
            "record_id": self.rec_id[ci["rec"]],
            "group": np.where(ci["treat"], "treatment", "control"),
            "sent_at": np.full(elig.size, ci["sent"]).astype(_DATETIME),
            "cost": np.where(ci["treat"], cc["cost_per_contact"], 0.0),
            "responded": agg["size"].to_numpy() > 0,
            "revenue_after": np.round(agg["sum"].to_numpy(), 2),
            "needs_segment": np.array(self.seg_names, dtype=object)[self.seg[elig]],
            "alive_at_sent": ci["alive"],
            "true_uplift": ci["alive"] * ci["u"] * np.exp(-lam * w),
            "true_revenue_uplift": ci["alive"] * ci["u"] * self.spend_level[elig] * (1 - cc["discount"]),
        }).astype({"person_id": "str", "record_id": "str", "group": "str", "needs_segment": "str"})

    # -- interactions ---------------------------------------------------------------------------
    def interactions(self, tx_obs: pd.DataFrame) -> None:
        cfg, rng = self.cfg, self.rng
        rp, rs = self.rec_pi, self.rec_si
        start = self.rec_created
        stop = self.L[rp]
        seg = self.seg[rp]
        parts = []
        types, channels = INTERACTION_TYPES, ("web", "call_centre", "email", "mail")

        def add(rec_idx, t, typ, channel, reason=-1, sat=None, nps=None):
            n = rec_idx.size
            parts.append((rec_idx, t, np.full(n, types.index(typ)), np.broadcast_to(reason, (n,)),
                          np.full(n, np.nan) if sat is None else sat, np.full(n, np.nan) if nps is None else nps,
                          np.full(n, channels.index(channel))))

        web = np.flatnonzero(rs == SOURCES.index("web"))
        rate = (self.seg_array("web_visits_per_purchase")[seg[web]] * self.lam[rp[web]]
                + cfg["interactions"]["web_visit_base_rate"])
        i, t = _uniform_events(rng, web, start[web], stop[web], rate)
        add(web[i], t, "web_visit", "web")
        has_email = np.flatnonzero(self.records["email"].notna().to_numpy())
        rate = self.seg_array("email_open_rate")[seg[has_email]]
        i, t = _uniform_events(rng, has_email, start[has_email], stop[has_email], rate)
        add(has_email[i], t, "email_open", "email")
        ml = np.flatnonzero(rs == SOURCES.index("mail"))
        i, t = _uniform_events(rng, ml, start[ml], stop[ml], self.seg_array("mail_response_rate")[seg[ml]])
        add(ml[i], t, "mail_response", "mail")
        cc = np.flatnonzero(rs == SOURCES.index("call_centre"))
        i, t = _uniform_events(rng, cc, start[cc], stop[cc], self.seg_array("call_rate")[seg[cc]])
        p_complaint = 1 / (1 + np.exp(1.0 + 1.2 * self.sat_z[rp[cc[i]]]))
        reason = np.where(rng.random(i.size) < p_complaint, CALL_REASONS.index("complaint"),
                          CALL_REASONS.index("inquiry"))
        add(cc[i], t, "call", "call_centre", reason=reason)
        # one "order" call per call-centre purchase
        rec_idx = tx_obs["rec"].to_numpy()
        is_cc = self.rec_si[rec_idx] == SOURCES.index("call_centre")
        add(rec_idx[is_cc], tx_obs["t"].to_numpy()[is_cc], "call", "call_centre", reason=CALL_REASONS.index("order"))
        # surveys a few days after some purchases, through the purchasing account
        sv = rng.random(len(tx_obs)) < cfg["interactions"]["survey_rate"]
        t_sv = tx_obs["t"].to_numpy()[sv] + rng.uniform(1, 7, sv.sum()) / 7
        p_sv = tx_obs["person"].to_numpy()[sv]
        ok = t_sv <= self.E[p_sv]
        z = self.sat_z[p_sv[ok]]
        sat = np.clip(np.round(3.8 + 0.8 * z + rng.normal(0, 0.7, ok.sum())), 1, 5)
        nps = np.clip(np.round(7.5 + 1.8 * z + rng.normal(0, 1.5, ok.sum())), 0, 10)
        sv_rec = rec_idx[sv][ok]
        by_mail = self.records["email"].isna().to_numpy()[sv_rec]  # paper survey where no email is known
        add(sv_rec[~by_mail], t_sv[ok][~by_mail], "survey", "email", sat=sat[~by_mail], nps=nps[~by_mail])
        add(sv_rec[by_mail], t_sv[ok][by_mail], "survey", "mail", sat=sat[by_mail], nps=nps[by_mail])
        rec, t, typ, reason, sat, nps, chan = (np.concatenate(col) for col in zip(*parts))
        person = rp[rec]
        keep = t <= self.E[person]
        rec, t, typ, reason, sat, nps, chan, person = (a[keep] for a in (rec, t, typ, reason, sat, nps, chan, person))
        ts = _weeks_to_ts(self.acq[person], t)
        order = np.lexsort((typ, rec, ts))
        self.interactions_df = pd.DataFrame({
            "interaction_id": _ids("I", np.arange(1, order.size + 1), 8),
            "record_id": self.rec_id_s.take(rec[order]).reset_index(drop=True),
            "timestamp": ts[order].astype(_DATETIME),
            "type": _decode(typ[order], types),
            "reason": _decode(reason[order], CALL_REASONS),
            "satisfaction": pd.array(sat[order], dtype="Int64"),
            "nps": pd.array(nps[order], dtype="Int64"),
            "channel": _decode(chan[order], channels),
        })

    # -- assemble -------------------------------------------------------------------------------
    def build(self) -> CRMWorld:
        cfg = self.cfg
        n = cfg["n_customers"]
        self.person_ids = _ids("P", np.arange(1, n + 1), 6).to_numpy(dtype=object)
        self.people_traits()
        self.purchases()
        self.accounts()
        self.identities()
        self.build_records()
        self.transactions()
        self.campaign()
        tx_all = self._tx
        if cfg["campaign"]["enabled"]:
            tx_all = pd.concat([self._tx, self._tx_campaign], ignore_index=True)
        self.finish_campaign(tx_all)
        obs = tx_all["t"].to_numpy() <= self.E[tx_all["person"].to_numpy()]
        tx_obs, tx_fut = tx_all[obs], tx_all[~obs]
        self.interactions(tx_obs)

        def tx_table(df, prefix):
            order = np.lexsort((df["rec"].to_numpy(), df["timestamp"].to_numpy()))
            rec = df["rec"].to_numpy()[order]
            induced = df["induced"].to_numpy()[order]
            self.induced = pd.Series(np.flatnonzero(induced) + 1, index=df["person"].to_numpy()[order][induced])
            return pd.DataFrame({
                "transaction_id": _ids(prefix, np.arange(1, order.size + 1), 8),
                "record_id": self.rec_id_s.take(rec).reset_index(drop=True),
                "timestamp": df["timestamp"].to_numpy()[order].astype(_DATETIME),
                "channel": _decode(self.rec_si[rec], SOURCES),
                "category": _decode(df["cat"].to_numpy()[order], CATEGORIES),
                "amount": df["amount"].to_numpy()[order].astype("float64"),
                "discount": df["discount"].to_numpy()[order].astype("float64"),
            })

        transactions = tx_table(tx_obs, "T")
        if cfg["campaign"]["enabled"]:  # the purchases the campaign caused (truth)
            k = self.induced.reindex(self.campaign_info["elig"]).to_numpy()
            ids = _ids("T", np.nan_to_num(k, nan=0).astype(np.int64), 8)
            self.campaign_df["induced_transaction_id"] = ids.where(~np.isnan(k))
        future_tx = tx_table(tx_fut, "F")
        people = self.people_frame()
        future = self.future_frame(tx_fut)
        truth_params = self.truth_params_frame()
        from crm_models.datasets._world_dictionary import data_dictionary

        return CRMWorld(
            people=people, records=self.records, record_truth=self.record_truth, transactions=transactions,
            interactions=self.interactions_df, campaign=self.campaign_df, future=future,
            future_transactions=future_tx, truth_params=truth_params, data_dictionary=data_dictionary(),
            config=json.loads(json.dumps(cfg)),
        )

    def people_frame(self) -> pd.DataFrame:
        alive_end = self.tau > self.E
        dropout = np.where(alive_end, np.datetime64("NaT"), _weeks_to_ts(self.acq, np.where(alive_end, 0, self.tau)))
        moved_at = np.where(self.moved, _weeks_to_ts(self.acq, np.nan_to_num(self.moved_w)), np.datetime64("NaT"))
        df = pd.DataFrame({
            "person_id": self.person_ids,
            "first_name": self.first, "last_name": self.last, "email": self.email,
            "phone": ["+1" + str(x) for x in self.phone],
            "date_of_birth": self.dob,
            "street": self.street, "city": self.city, "postcode": self.postcode,
            "acquisition_date": self.acq,
            "acquisition_channel": np.array(SOURCES, dtype=object)[self.acq_src],
            "needs_segment": np.array(self.seg_names, dtype=object)[self.seg],
            "purchase_rate": self.lam,
            "dropout_prob": self.p,
            "spend_level": self.spend_level,
            "spend_shape": self.gg_p,
            "preferred_category": np.array(CATEGORIES, dtype=object)[self.pref_cat],
            "price_sensitivity": self.price_sens,
            "preferred_channel": np.array(SOURCES, dtype=object)[self.w.argmax(axis=1)],
            "satisfaction_propensity": self.sat_z,
            "campaign_response_prob": self.response_prob,
            "dropout_date": dropout,
            "household_id": [f"H{k + 1:06d}" for k in self.household],
            "n_systems": self.m,
            "has_duplicate_account": self.dup,
            "moved_at": moved_at,
            "previous_street": self.prev[0], "previous_city": self.prev[1], "previous_postcode": self.prev[2],
        })
        strs = ["person_id", "first_name", "last_name", "email", "phone", "street", "city", "postcode",
                "acquisition_channel", "needs_segment", "preferred_category", "preferred_channel", "household_id",
                "previous_street", "previous_city", "previous_postcode"]
        dts = ["date_of_birth", "acquisition_date", "dropout_date", "moved_at"]
        return df.astype({**{c: "str" for c in strs}, **{c: _DATETIME for c in dts}, "n_systems": "int64"})

    def future_frame(self, tx_fut: pd.DataFrame) -> pd.DataFrame:
        n = self.cfg["n_customers"]
        t_len = (self.t_hold - self.t_end) / _WEEK
        agg = tx_fut.groupby("person")["amount"].agg(["size", "sum"]).reindex(np.arange(n), fill_value=0)
        alive_end = self.tau > self.E
        alive_hold = ~self.dropped
        exp_n = alive_end * (1 - np.exp(-self.lam * self.p * t_len)) / self.p
        drop = np.where(self.dropped, _weeks_to_ts(self.acq, np.where(self.dropped, self.tau, 0)), np.datetime64("NaT"))
        return pd.DataFrame({
            "person_id": self.person_ids,
            "alive_at_end": alive_end,
            "alive_at_holdout_end": alive_hold,
            "dropout_date": drop,
            "n_purchases": agg["size"].to_numpy().astype(np.int64),
            "spend": np.round(agg["sum"].to_numpy(), 2),
            "expected_purchases": exp_n,
            "expected_spend": exp_n * self.spend_level,
            "treatment_extra_purchase_prob": alive_end * self.response_prob,
            "treatment_extra_revenue": alive_end * self.response_prob * self.spend_level
            * (1 - self.cfg["campaign"]["discount"]),
        }).astype({"person_id": "str", "dropout_date": _DATETIME})

    def truth_params_frame(self) -> pd.DataFrame:
        from scipy.stats import gamma as gamma_dist

        rows = []
        for name, s in zip(self.seg_names, self.segs):
            rows.append({
                "needs_segment": name, "share": s["share"], "r": s["r"], "alpha": s["alpha"], "a": s["a"],
                "b": s["b"], "p": s["p"], "q": s["q"], "v": s["v"],
                "mean_purchase_rate": s["r"] / s["alpha"], "mean_dropout_prob": s["a"] / (s["a"] + s["b"]),
                "mean_spend": s["p"] * s["v"] / (s["q"] - 1) if s["q"] > 1 else np.inf,
                "campaign_uplift": s["campaign_uplift"],
                "median_spend_level": s["p"] * s["v"] / gamma_dist.ppf(0.5, s["q"]),
            })
        return pd.DataFrame(rows).astype({"needs_segment": "str"}).set_index("needs_segment")


def nickname_table() -> dict[str, tuple[str, ...]]:
    """The nicknames the generator may use: Faker first name -> shorter nicknames (``nicknames`` package)."""
    return dict(_nickname_table())


def _format_phones_masked(numbers: np.ndarray, fmt: str, present: np.ndarray) -> np.ndarray:
    out = np.full(numbers.size, None, dtype=object)
    out[present] = _format_phones(numbers[present], fmt)
    return out


# ----------------------------------------------------------------------------------------------
# the frozen default world


def load_crm_world() -> CRMWorld:
    """The frozen default world: ``make_crm_world()`` with its defaults, shipped as CSV.

    Loaded from ``datasets/crm_world/`` (see its README for the generative story and every
    column). Same tables and dtypes as ``make_crm_world(3000, seed=42)``.
    """
    from crm_models.datasets import data_path

    cfg = json.loads(data_path("crm_world", "config.json").read_text())
    tables = {}
    for name, spec in _CSV_SCHEMA.items():
        tables[name] = _read_table(data_path("crm_world", f"{name}.csv"), spec)
    tp = pd.read_csv(data_path("crm_world", "truth_params.csv")).astype({"needs_segment": "str"})
    tp = tp.set_index("needs_segment")
    dd = pd.read_csv(data_path("crm_world", "data_dictionary.csv"), dtype=str, keep_default_na=False)
    return CRMWorld(truth_params=tp, data_dictionary=dd, config=cfg, **tables)


def _read_table(path, spec: dict[str, str]) -> pd.DataFrame:
    str_cols = [c for c, d in spec.items() if d == "str"]
    df = pd.read_csv(path, dtype={c: "str" for c in str_cols}, keep_default_na=False, na_values=[""])
    for c, d in spec.items():
        if d == _DATETIME:
            df[c] = pd.to_datetime(df[c], format="ISO8601").astype(_DATETIME)
        elif d == "bool":
            df[c] = df[c].astype(bool)
        else:
            df[c] = df[c].astype(d)
    return df[list(spec)]


def save_crm_world(world: CRMWorld, folder) -> None:
    """Write a world as the CSV files ``load_crm_world`` reads (used by scripts/freeze_crm_world.py)."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in _CSV_SCHEMA:
        getattr(world, name).to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")
    world.truth_params.to_csv(folder / "truth_params.csv")
    world.data_dictionary.to_csv(folder / "data_dictionary.csv", index=False)
    (folder / "config.json").write_text(json.dumps(world.config, indent=1, sort_keys=False) + "\n")


def _schema_of(df: pd.DataFrame) -> dict[str, str]:
    out = {}
    for c, d in df.dtypes.items():
        out[c] = "str" if pd.api.types.is_string_dtype(d) else str(d)
    return out


# The column dtypes of the CSV tables (checked against the generator by the tests).
_CSV_SCHEMA: dict[str, dict[str, str]] = {
    'people': {
        'person_id': 'str',
        'first_name': 'str',
        'last_name': 'str',
        'email': 'str',
        'phone': 'str',
        'date_of_birth': 'datetime64[ns]',
        'street': 'str',
        'city': 'str',
        'postcode': 'str',
        'acquisition_date': 'datetime64[ns]',
        'acquisition_channel': 'str',
        'needs_segment': 'str',
        'purchase_rate': 'float64',
        'dropout_prob': 'float64',
        'spend_level': 'float64',
        'spend_shape': 'float64',
        'preferred_category': 'str',
        'price_sensitivity': 'float64',
        'preferred_channel': 'str',
        'satisfaction_propensity': 'float64',
        'campaign_response_prob': 'float64',
        'dropout_date': 'datetime64[ns]',
        'household_id': 'str',
        'n_systems': 'int64',
        'has_duplicate_account': 'bool',
        'moved_at': 'datetime64[ns]',
        'previous_street': 'str',
        'previous_city': 'str',
        'previous_postcode': 'str',
    },
    'records': {
        'record_id': 'str',
        'source': 'str',
        'first_name': 'str',
        'last_name': 'str',
        'email': 'str',
        'phone': 'str',
        'date_of_birth': 'str',
        'street': 'str',
        'city': 'str',
        'postcode': 'str',
        'created_at': 'datetime64[ns]',
    },
    'record_truth': {
        'record_id': 'str',
        'person_id': 'str',
        'source': 'str',
        'is_duplicate_account': 'bool',
        'first_name_variant': 'str',
        'last_name_typo': 'bool',
        'name_layout': 'str',
        'email_typo': 'bool',
        'alternative_email': 'bool',
        'phone_typo': 'bool',
        'dob_error': 'bool',
        'old_address': 'bool',
        'street_typo': 'bool',
        'postcode_typo': 'bool',
    },
    'transactions': {
        'transaction_id': 'str',
        'record_id': 'str',
        'timestamp': 'datetime64[ns]',
        'channel': 'str',
        'category': 'str',
        'amount': 'float64',
        'discount': 'float64',
    },
    'interactions': {
        'interaction_id': 'str',
        'record_id': 'str',
        'timestamp': 'datetime64[ns]',
        'type': 'str',
        'reason': 'str',
        'satisfaction': 'Int64',
        'nps': 'Int64',
        'channel': 'str',
    },
    'campaign': {
        'person_id': 'str',
        'record_id': 'str',
        'group': 'str',
        'sent_at': 'datetime64[ns]',
        'cost': 'float64',
        'responded': 'bool',
        'revenue_after': 'float64',
        'needs_segment': 'str',
        'alive_at_sent': 'bool',
        'true_uplift': 'float64',
        'true_revenue_uplift': 'float64',
        'induced_transaction_id': 'str',
    },
    'future': {
        'person_id': 'str',
        'alive_at_end': 'bool',
        'alive_at_holdout_end': 'bool',
        'dropout_date': 'datetime64[ns]',
        'n_purchases': 'int64',
        'spend': 'float64',
        'expected_purchases': 'float64',
        'expected_spend': 'float64',
        'treatment_extra_purchase_prob': 'float64',
        'treatment_extra_revenue': 'float64',
    },
    'future_transactions': {
        'transaction_id': 'str',
        'record_id': 'str',
        'timestamp': 'datetime64[ns]',
        'channel': 'str',
        'category': 'str',
        'amount': 'float64',
        'discount': 'float64',
    },
}

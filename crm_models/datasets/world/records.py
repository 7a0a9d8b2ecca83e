"""What the simulated company's four source systems hold about each person, corruption included.

1. **Accounts** (:func:`draw_accounts`). Each person has an account in one to four systems
   (web shop, store loyalty card, call centre, direct mail); the first is the acquisition
   channel, opened at acquisition, the others are drawn by the person's channel weights and
   opened at a uniform time during the active life. A few people open a second account in one
   of their systems. Every purchase goes through an account that exists at that time
   (:meth:`Accounts.route`).
2. **Records** (:func:`build_records`). Each account is a record that copies the person's
   identity in the system's own formats (dates of birth, phone layouts, upper case in store
   names and mail addresses, abbreviated street suffixes in stores), with independent
   corruption per record: nicknames, initials, typos, swapped or combined names, email and
   phone typos, wrong dates of birth, old addresses of people who moved later, swapped ZIP
   digits, and fields left empty at source-specific rates. ``record_truth`` flags every
   corruption applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models.datasets.world._arrays import DATETIME, categorical, ids, weeks_to_timestamps
from crm_models.datasets.world.behaviour import Lives, Population
from crm_models.datasets.world.config import CONTACT_FIELDS, RECORD_PREFIX, SOURCES
from crm_models.datasets.world.formats import (
    _nickname_table,
    abbreviate_streets,
    apply_typos,
    format_phones_where,
    typo,
)
from crm_models.datasets.world.identities import Identities

#: Internal steps of :func:`crm_models.datasets.make_crm_world`; nothing here is public API.
__all__: list[str] = []

_WEB, _STORE, _MAIL = SOURCES.index("web"), SOURCES.index("store"), SOURCES.index("mail")


# -- accounts -------------------------------------------------------------------------------------


@dataclass
class Accounts:
    """Which systems hold an account for each person, and when each account was opened."""

    channel_weights: np.ndarray  # (n, len(SOURCES))
    acquisition_source: np.ndarray  # system of the first purchase and first account
    n_systems: np.ndarray  # 1-4
    has: np.ndarray  # (n, len(SOURCES)) bool
    created: np.ndarray  # (n, len(SOURCES)) weeks after acquisition, NaN where no account
    duplicate: np.ndarray  # bool: a second account in one system
    duplicate_source: np.ndarray  # its system, -1 if none
    duplicate_created: np.ndarray  # its opening, weeks after acquisition, NaN if none
    duplicate_usage: float  # share of that system's later purchases going through it

    def route(self, rng: np.random.Generator, person: np.ndarray, t: np.ndarray, first: np.ndarray | None = None):
        """System and account (0 main, 1 second) of events by ``person`` at ``t`` weeks after acquisition.

        The system is drawn by the person's channel weights among the accounts open at ``t``;
        events at positions ``first`` go to the acquisition system.
        """
        avail = self.has[person] & (self.created[person] <= t[:, None] + 1e-12)
        src = categorical(rng, np.where(avail, self.channel_weights[person], 0.0))
        if first is not None:
            src[first] = self.acquisition_source[person[first]]
        use_dup = (
            (self.duplicate_source[person] == src)
            & (t >= self.duplicate_created[person])
            & (rng.random(person.size) < self.duplicate_usage)
        )
        return src, use_dup.astype(np.int64)


def draw_accounts(cfg: dict, rng: np.random.Generator, pop: Population, lives: Lives) -> Accounts:
    """The accounts of every person: systems, opening times and second accounts."""
    n = len(pop)
    w = pop.channel_weights
    acq_src = categorical(rng, w)
    m = rng.choice(len(SOURCES), size=n, p=np.asarray(cfg["n_systems_probs"])) + 1
    # the acquisition system first, then the others in a random order weighted by channel weight
    keys = np.log(w) + rng.gumbel(size=(n, len(SOURCES)))
    keys[np.arange(n), acq_src] = np.inf
    rank = np.argsort(np.argsort(-keys, axis=1), axis=1)
    has = rank < m[:, None]
    created = lives.active_until[:, None] * rng.random((n, len(SOURCES)))
    created[np.arange(n), acq_src] = 0.0
    created[~has] = np.nan
    dup = rng.random(n) < cfg["duplicate_account_rate"]
    dup_src = categorical(rng, np.where(has, w, 0.0))
    c0 = created[np.arange(n), dup_src]
    return Accounts(
        channel_weights=w, acquisition_source=acq_src, n_systems=m, has=has, created=created, duplicate=dup,
        duplicate_source=np.where(dup, dup_src, -1),
        duplicate_created=np.where(dup, c0 + rng.random(n) * (lives.active_until - c0), np.nan),
        duplicate_usage=cfg["duplicate_account_usage"],
    )


# -- records --------------------------------------------------------------------------------------


@dataclass
class Records:
    """The source-system records: the ``records`` and ``record_truth`` tables and their row index."""

    person: np.ndarray  # owner of each record (position)
    source: np.ndarray  # index into SOURCES
    created: np.ndarray  # weeks after the owner's acquisition
    record_id: pd.Series  # str
    lookup: pd.Series  # (person, source, second account 0/1) -> record row
    frame: pd.DataFrame  # the records table
    truth: pd.DataFrame  # the record_truth table

    def row_of(self, person: np.ndarray, source: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Record row of each (person, system, second account) triple."""
        idx = pd.MultiIndex.from_arrays([person, source, second])
        return self.lookup.reindex(idx).to_numpy().astype(np.int64)


def _record_rows(accounts: Accounts, acquired: np.ndarray):
    """One row per account, numbered by opening time within each system."""
    pi, si = np.nonzero(accounts.has)
    created = accounts.created[pi, si]
    dup_p = np.flatnonzero(accounts.duplicate)
    pi = np.concatenate([pi, dup_p])
    si = np.concatenate([si, accounts.duplicate_source[dup_p]])
    created = np.concatenate([created, accounts.duplicate_created[dup_p]])
    is_dup = np.concatenate([np.zeros(len(pi) - len(dup_p), bool), np.ones(len(dup_p), bool)])
    created_ts = weeks_to_timestamps(acquired[pi], created)
    order = np.lexsort((pi, created_ts, si))
    pi, si, created, is_dup, created_ts = pi[order], si[order], created[order], is_dup[order], created_ts[order]
    counts = np.bincount(si, minlength=len(SOURCES))
    num = np.arange(len(pi)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[si] + 1
    rid = np.empty(len(pi), dtype=object)
    for s_i, s_name in enumerate(SOURCES):
        m = si == s_i
        rid[m] = ids(RECORD_PREFIX[s_name] + "-", num[m], 6).to_numpy(dtype=object)
    return pi, si, created, is_dup, created_ts, rid


def _corrupt_names(c: dict, rng: np.random.Generator, first: np.ndarray, last: np.ndarray, si: np.ndarray):
    """Nicknames, initials, typos, swapped and combined names, and each system's letter case."""
    k = first.size
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
    first[ini] = [f[0] + ("." if s == _MAIL else "") for f, s in zip(first[ini], si[ini])]
    first = apply_typos(rng, first, variant == "typo")
    last_typo = rng.random(k) < c["last_name_typo"]
    last = apply_typos(rng, last, last_typo)
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
    # letter case: UPPER in the store system, sometimes lower as typed in the web shop
    store = si == _STORE
    lower = (si == _WEB) & (rng.random(k) < c["lower_case_web"])
    for arr in (first, last):
        m = store & np.array([isinstance(x, str) for x in arr])
        arr[m] = [x.upper() for x in arr[m]]
        m = lower & np.array([isinstance(x, str) for x in arr])
        arr[m] = [x.lower() for x in arr[m]]
    layout = np.where(swap, "swapped", np.where(comb_first, "combined_first",
                                                np.where(comb_last, "combined_last", "normal")))
    return first, last, variant, last_typo, layout


def _corrupt_emails(c: dict, rng: np.random.Generator, ident: Identities, pi: np.ndarray, si: np.ndarray,
                    is_dup: np.ndarray):
    """A second web account registered with another address, and email typos."""
    k = pi.size
    email = ident.email[pi].copy()
    alt = is_dup & (si == _WEB)
    domains = ident.email_domains
    alt_dom = domains[rng.integers(0, len(domains), k)]
    email[alt] = [f"{f.lower()}{s.lower().replace(' ', '')}{n}@{d}" for f, s, n, d in
                  zip(ident.first_name[pi[alt]], ident.last_name[pi[alt]], rng.integers(1, 99, alt.sum()),
                      alt_dom[alt])]
    email_typo = rng.random(k) < c["email_typo"]
    email[email_typo] = [typo(e.split("@")[0], kk, a, b) + "@" + e.split("@")[1] for e, kk, a, b in
                         zip(email[email_typo], rng.integers(0, 4, email_typo.sum()),
                             rng.random(email_typo.sum()), rng.random(email_typo.sum()))]
    return email, alt, email_typo


def _corrupt_phones(c: dict, rng: np.random.Generator, phone: np.ndarray):
    """One wrong digit among the last seven of some phone numbers."""
    k = phone.size
    phone_typo = rng.random(k) < c["phone_typo"]
    pos = rng.integers(0, 7, k)
    digit = rng.integers(0, 10, k)
    old = phone // 10**pos % 10
    new = np.where(digit == old, (digit + 1) % 10, digit)
    return np.where(phone_typo, phone + (new - old) * 10**pos, phone), phone_typo


def _corrupt_dates_of_birth(c: dict, rng: np.random.Generator, dob: np.ndarray):
    """Some dates of birth off by one day, or with day and month swapped where that gives a date."""
    k = dob.size
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
    return np.where(dob_err, dob_bad, dob), dob_err


def _corrupt_addresses(c: dict, rng: np.random.Generator, ident: Identities, pi: np.ndarray, si: np.ndarray,
                       created: np.ndarray):
    """Old addresses on records opened before a move, street typos and ZIP typos, system styles."""
    k = pi.size
    old_addr = ident.moved[pi] & (created < ident.moved_weeks[pi])
    street = np.where(old_addr, ident.previous[0][pi], ident.street[pi])
    city = np.where(old_addr, ident.previous[1][pi], ident.city[pi])
    postcode = np.where(old_addr, ident.previous[2][pi], ident.postcode[pi])
    street_typo = rng.random(k) < c["street_typo"]
    street = apply_typos(rng, street, street_typo)
    store = si == _STORE
    street[store] = abbreviate_streets(street[store])
    mail = si == _MAIL
    street[mail] = [s.upper() for s in street[mail]]
    city[mail] = [s.upper() for s in city[mail]]
    pc_typo = rng.random(k) < c["postcode_typo"]
    postcode = postcode.copy()
    postcode[pc_typo] = [p[:-2] + p[-1] + p[-2] if p[-1] != p[-2] else p[:-1] + str((int(p[-1]) + 1) % 10)
                         for p in postcode[pc_typo]]
    return street, city, postcode, old_addr, street_typo, pc_typo


def build_records(cfg: dict, rng: np.random.Generator, accounts: Accounts, ident: Identities,
                  acquired: np.ndarray, person_ids: np.ndarray) -> Records:
    """Every account's record as its system stores it, and the truth about each record."""
    c = cfg["corruption"]
    pi, si, created, is_dup, created_ts, rid = _record_rows(accounts, acquired)
    k = len(pi)
    lookup = pd.Series(np.arange(k), index=pd.MultiIndex.from_arrays([pi, si, is_dup.astype(np.int64)]))
    first, last, variant, last_typo, layout = _corrupt_names(
        c, rng, ident.first_name[pi].copy(), ident.last_name[pi].copy(), si)
    email, alt, email_typo = _corrupt_emails(c, rng, ident, pi, si, is_dup)
    phone, phone_typo = _corrupt_phones(c, rng, ident.phone[pi].copy())
    dob, dob_err = _corrupt_dates_of_birth(c, rng, ident.date_of_birth[pi].copy())
    street, city, postcode, old_addr, street_typo, pc_typo = _corrupt_addresses(c, rng, ident, pi, si, created)
    cols = {
        "first_name": first, "last_name": last, "email": email, "phone": phone.astype(object),
        "date_of_birth": dob.astype(object), "street": street, "city": city, "postcode": postcode,
    }
    # fields left empty, then each system's formats
    missing = {}
    for f in CONTACT_FIELDS:
        rate = np.array([cfg["missing"][s][f] for s in SOURCES])[si]
        missing[f] = rng.random(k) < rate
    for s_i, s in enumerate(SOURCES):
        m = si == s_i
        cols["phone"][m] = format_phones_where(phone[m], cfg["phone_formats"][s], ~missing["phone"][m])
        cols["date_of_birth"][m] = pd.DatetimeIndex(dob[m]).strftime(cfg["date_formats"][s]).to_numpy(dtype=object)
    for f in CONTACT_FIELDS:
        cols[f] = np.where(missing[f], None, cols[f])
    # corruption flags describe what the record shows: none where the field is empty
    email_typo &= ~missing["email"]
    alt &= ~missing["email"]
    phone_typo &= ~missing["phone"]
    dob_err &= ~missing["date_of_birth"]
    street_typo &= ~missing["street"]
    pc_typo &= ~missing["postcode"]
    source = np.array(SOURCES, dtype=object)[si]
    frame = pd.DataFrame({"record_id": rid, "source": source, **cols, "created_at": created_ts})
    frame = frame.astype({col: "str" for col in ["record_id", "source", *CONTACT_FIELDS]})
    frame["created_at"] = frame["created_at"].astype(DATETIME)
    truth = pd.DataFrame({
        "record_id": rid,
        "person_id": person_ids[pi],
        "source": source,
        "is_duplicate_account": is_dup,
        "first_name_variant": variant,
        "last_name_typo": last_typo,
        "name_layout": layout,
        "email_typo": email_typo,
        "alternative_email": alt,
        "phone_typo": phone_typo,
        "dob_error": dob_err,
        "old_address": old_addr,
        "street_typo": street_typo,
        "postcode_typo": pc_typo,
    }).astype({"record_id": "str", "person_id": "str", "source": "str", "first_name_variant": "str",
               "name_layout": "str"})
    return Records(person=pi, source=si, created=created, record_id=pd.Series(rid, dtype="str"), lookup=lookup,
                   frame=frame.reset_index(drop=True), truth=truth.reset_index(drop=True))

"""Who the simulated company's customers really are: names, birth dates, addresses, phones, emails.

The true identity of every person (the ``people`` table's contact columns), before any source
system writes it down. First and last names follow Faker's en_US name frequencies; dates of
birth follow the segment's age distribution; addresses come from pools of Faker street names and
cities (a few large cities, many small ones), phone numbers are valid US numbers and emails are
built from the name. Some people join another person's household (same address, often the same
last name, sometimes the same phone or email); some others move house during the observation
period, so the records opened before the move keep the old address.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models.datasets.world.behaviour import Period, Population
from crm_models.datasets.world.formats import us_area_codes

#: Internal steps of :func:`crm_models.datasets.make_crm_world`; nothing here is public API.
__all__: list[str] = []


@dataclass
class Identities:
    """Each person's true contact data at the end of observation, and their household and move."""

    first_name: np.ndarray
    last_name: np.ndarray
    email: np.ndarray
    phone: np.ndarray  # national 10-digit number (int)
    date_of_birth: np.ndarray  # datetime64[D]
    street: np.ndarray
    city: np.ndarray
    postcode: np.ndarray
    household: np.ndarray  # position of the household's host person
    moved: np.ndarray  # bool
    moved_weeks: np.ndarray  # when, in weeks after acquisition (NaN if never)
    previous: tuple[np.ndarray, np.ndarray, np.ndarray]  # street, city, postcode before the move (None if never)
    email_domains: np.ndarray  # free email domains, for second accounts


def draw_identities(cfg: dict, rng: np.random.Generator, faker_seed: int, pop: Population,
                    period: Period) -> Identities:
    """The true identities of the population; ``faker_seed`` seeds Faker's street and city pools."""
    from faker import Faker
    from faker.providers.internet.en_US import Provider as Internet
    from faker.providers.person.en_US import Provider as Person

    n = len(pop)
    fake = Faker(cfg["locale"])
    fake.seed_instance(faker_seed)

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
    # date of birth from the age at the start (drawn with the person's traits)
    dob = np.datetime64(period.start.date(), "D") - np.round(pop.age * 365.25).astype("timedelta64[D]")
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
    ac = us_area_codes()
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
    # movers: people outside households who moved during the observation period
    moved = ~hh & ~np.isin(np.arange(n), host[hh]) & (rng.random(n) < cfg["move_rate"])
    moved_w = rng.random(n) * pop.weeks_to_end  # weeks after acquisition
    new_st, new_city, new_zip = draw_address(n)
    same_city = rng.random(n) < 0.5
    new_city = np.where(same_city, city, new_city)
    new_zip = np.where(same_city, postcode, new_zip)
    previous = (np.where(moved, street, None), np.where(moved, city, None), np.where(moved, postcode, None))
    street = np.where(moved, new_st, street)
    city, postcode = np.where(moved, new_city, city), np.where(moved, new_zip, postcode)
    return Identities(
        first_name=first, last_name=last_n, email=email, phone=phone, date_of_birth=dob, street=street, city=city,
        postcode=postcode, household=host, moved=moved, moved_weeks=np.where(moved, moved_w, np.nan),
        previous=previous, email_domains=domains,
    )

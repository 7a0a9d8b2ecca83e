"""A tiny silo world for the identify tests: people, their records in four systems, and the truth.

Kept independent of ``crm_models.datasets.make_crm_world`` so corner cases (nicknames,
"Last, First" fields, swapped names, shared household e-mail, bad phones) are present by
construction, whatever the world generator's defaults become.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FIRST = ["Robert", "Elizabeth", "William", "Margaret", "James", "Katherine", "Thomas", "Susan", "David", "Jennifer",
         "Michael", "Sarah", "Daniel", "Emily", "Joseph", "Olivia", "Samuel", "Hannah", "Benjamin", "Chloe"]
NICK = {"Robert": "Bob", "Elizabeth": "Liz", "William": "Bill", "Margaret": "Peggy", "James": "Jim",
        "Katherine": "Kate", "Thomas": "Tom", "Susan": "Sue", "David": "Dave", "Jennifer": "Jen",
        "Michael": "Mike", "Daniel": "Dan", "Joseph": "Joe", "Samuel": "Sam", "Benjamin": "Ben"}
LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
        "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
        "O'Brien", "Müller", "Patel", "Khan", "Lewis", "Harris", "Martin", "Cooper", "Hughes", "Ward"]
STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "Victoria Road", "Green Lane"]
CITIES = ["Leeds", "York", "Bristol", "Norwich", "Exeter", "Derby"]


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s
    i = int(rng.integers(1, len(s) - 1))
    kind = rng.integers(3)
    if kind == 0:  # swap two letters
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if kind == 1:  # drop a letter
        return s[:i] + s[i + 1:]
    return s[:i] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(26))] + s[i + 1:]


def make_fixture(n_people: int = 150, random_state: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """``(records, truth)``: records in the standard layout and truth (record_id -> person_id)."""
    rng = np.random.default_rng(random_state)
    people = []
    households = []
    for p in range(n_people):
        if households and rng.random() < 0.15:  # lives with someone already drawn
            h = households[int(rng.integers(len(households)))]
            last, street, city, postcode, home_email = h
        else:
            last = LAST[int(rng.integers(len(LAST)))]
            street = f"{int(rng.integers(1, 200))} {STREETS[int(rng.integers(len(STREETS)))]}"
            city = CITIES[int(rng.integers(len(CITIES)))]
            postcode = f"{'LS YO BS NR EX DE'.split()[CITIES.index(city)]}{int(rng.integers(1, 20))} {int(rng.integers(1, 10))}{'ABDEFGHJLNPQRSTUWXYZ'[int(rng.integers(20))]}{'ABDEFGHJLNPQRSTUWXYZ'[int(rng.integers(20))]}"
            home_email = f"the{last.lower().replace(chr(39), '')}s{int(rng.integers(10, 99))}@homemail.co.uk"
            households.append((last, street, city, postcode, home_email))
        first = FIRST[int(rng.integers(len(FIRST)))]
        dob = pd.Timestamp("1950-01-01") + pd.Timedelta(days=int(rng.integers(0, 365 * 50)))
        phone = f"07700 9{int(rng.integers(0, 100000)):05d}"
        email = f"{first.lower()}.{last.lower().replace(chr(39), '').replace('ü', 'u')}{int(rng.integers(1, 999))}@example.com"
        people.append(dict(person_id=f"P{p:05d}", first=first, last=last, dob=dob, phone=phone, email=email,
                           street=street, city=city, postcode=postcode, home_email=home_email))
    rows = []
    for person in people:
        k = 1 + rng.poisson(1.2)
        for _ in range(k):
            src = ["web", "store", "call_centre", "mail"][int(rng.integers(4))]
            first, last = person["first"], person["last"]
            if rng.random() < 0.15 and first in NICK:
                first = NICK[first]
            if rng.random() < 0.08:
                first = first[0] + "."
            if rng.random() < 0.08:
                last = _typo(rng, last)
            if rng.random() < 0.05:
                first = _typo(rng, first)
            email = person["email"] if rng.random() < 0.8 else (person["home_email"] if rng.random() < 0.5 else None)
            if email and rng.random() < 0.05:
                email = email.upper()
            phone = person["phone"] if rng.random() < 0.75 else None
            if phone and rng.random() < 0.3:
                phone = "+44 " + phone[1:]
            if phone and rng.random() < 0.03:
                phone = "n/a"
            dob = person["dob"]
            dob_text = {"web": dob.strftime("%Y-%m-%d"), "store": dob.strftime("%d/%m/%Y"),
                        "call_centre": dob.strftime("%d %b %Y"), "mail": dob.strftime("%d.%m.%Y")}[src]
            if rng.random() < 0.15:
                dob_text = None
            street, postcode = person["street"], person["postcode"]
            if rng.random() < 0.1:  # moved house
                street = f"{int(rng.integers(1, 200))} {STREETS[int(rng.integers(len(STREETS)))]}"
                postcode = postcode[:-2] + "ZZ"
            if rng.random() < 0.3:
                postcode = postcode.replace(" ", "").lower()
            row = dict(person_id=person["person_id"], source=src, first_name=first, last_name=last, email=email,
                       phone=phone, date_of_birth=dob_text, street=street, city=person["city"], postcode=postcode,
                       created_at=(pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 1500)))))
            r = rng.random()
            if r < 0.04:  # combined "Last, First" in the last-name field
                row["last_name"], row["first_name"] = f"{last}, {first}", None
            elif r < 0.07:  # swapped fields
                row["first_name"], row["last_name"] = last, first
            rows.append(row)
    records = pd.DataFrame(rows)
    order = rng.permutation(len(records))
    records = records.iloc[order].reset_index(drop=True)
    records.insert(0, "record_id", [f"R{i:06d}" for i in range(len(records))])
    truth = records.set_index("record_id")["person_id"]
    return records.drop(columns="person_id"), truth

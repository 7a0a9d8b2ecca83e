"""Time make_crm_world on a large simulated company.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_world.py                 # 100,000 customers
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_world.py --customers 20000

Target: 100,000 customers in under 30 s on the 2-core development machine. Imports and the
one-off lookup tables (nicknames, valid area codes) are warmed up by a tiny world first, so the
timing is the generation itself. For scale, the same number of people is also timed the naive
way, one Faker profile per person (first and last name, street address, city, ZIP, phone, email,
date of birth), measured on 5,000 people and extrapolated; make_crm_world builds far more (records,
purchases, touchpoints) yet stays faster because it draws from Faker-built pools with numpy.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from faker import Faker  # noqa: E402

from crm_models.datasets import make_crm_world  # noqa: E402

TARGET_SECONDS = 30.0


def naive_faker_seconds(n: int, sample: int = 5000) -> float:
    fake = Faker("en_US")
    fake.seed_instance(0)
    t0 = time.perf_counter()
    for _ in range(sample):
        (fake.first_name(), fake.last_name(), fake.street_address(), fake.city(), fake.zipcode(),
         fake.phone_number(), fake.email(), fake.date_of_birth())
    return (time.perf_counter() - t0) * n / sample


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--random-state", type=int, default=42)
    args = ap.parse_args()
    make_crm_world(200, random_state=args.random_state)  # warm-up: imports and cached lookup tables
    t0 = time.perf_counter()
    world = make_crm_world(args.customers, random_state=args.random_state)
    secs = time.perf_counter() - t0
    rows = {t: len(getattr(world, t)) for t in world.TABLES}
    total = sum(rows.values())
    print(world)
    print(f"make_crm_world({args.customers:,}): {secs:.2f} s, {total:,} rows in all tables, "
          f"{total / secs:,.0f} rows/s, {args.customers / secs:,.0f} customers/s")
    scaled_target = TARGET_SECONDS * args.customers / 100_000
    verdict = "meets" if secs < scaled_target else "MISSES"
    print(f"target: < {scaled_target:.1f} s for {args.customers:,} customers (30 s per 100,000): "
          f"{verdict} it ({secs / scaled_target:.2f} of the budget)")
    naive = naive_faker_seconds(args.customers)
    print(f"naive one-Faker-profile-per-person for {args.customers:,} people (extrapolated from 5,000): "
          f"{naive:.1f} s; make_crm_world is {naive / secs:.1f}x faster while generating all tables")


if __name__ == "__main__":
    main()

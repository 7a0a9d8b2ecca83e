"""Dated transaction logs simulated from the BG/NBD story, for teaching and checks.

:mod:`crm_models.clv.simulate` draws customer *summaries* directly. Some lessons need the raw
log instead: what happens when purchases are bucketed into calendar weeks before the summary is
built, or how a tracking plot looks on data whose truth is known. :func:`simulate_beta_geo_log`
draws that log.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crm_models._validation import parse_timestamp
from crm_models.clv.simulate import check_simulation_inputs

__all__ = ["simulate_beta_geo_log"]


def simulate_beta_geo_log(
    n: int,
    params: Mapping[str, float],
    start,
    acquisition_end,
    observation_end,
    seed: int | np.random.Generator | None = None,
    *,
    time_unit_days: float = 1.0,
) -> pd.DataFrame:
    """A dated purchase log of ``n`` customers following BG/NBD (Fader, Hardie & Lee 2005).

    Customer i makes a first purchase at a time uniform between ``start`` and
    ``acquisition_end``; then repeat purchases follow a Poisson process with rate
    lambda_i ~ gamma(r, alpha) per ``time_unit_days`` days, and after each repeat purchase the
    customer drops out with probability p_i ~ beta(a, b). Purchases are recorded at their exact
    time of day until ``observation_end``.

    Returns a DataFrame with ``customer_id`` (0..n-1) and ``timestamp``, sorted by customer and
    time, one row per purchase (first purchases included).
    """
    n, (r, alpha, a, b), rng = check_simulation_inputs(n, params, ("r", "alpha", "a", "b"), seed)
    t0 = parse_timestamp(start, "start")
    acq = parse_timestamp(acquisition_end, "acquisition_end")
    end = parse_timestamp(observation_end, "observation_end")
    if not (t0 <= acq <= end):
        raise ValueError("need start <= acquisition_end <= observation_end")
    day = pd.Timedelta(days=1)
    unit = float(time_unit_days)
    first = rng.uniform(0.0, (acq - t0) / day, n)  # days after start
    window = ((end - t0) / day - first) / unit  # observation window after the first purchase, in units
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    n_poisson = rng.poisson(lam * window)
    n_before_death = rng.geometric(p)  # drop-out right after the K-th repeat purchase
    k = np.minimum(n_poisson, n_before_death)
    # given N Poisson events in the window, their times are N sorted uniforms; keep the first k
    owner = np.repeat(np.arange(n), n_poisson)
    u = rng.uniform(0.0, 1.0, owner.size) * window[owner]
    order = np.lexsort((u, owner))
    owner, u = owner[order], u[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(n_poisson) - n_poisson, n_poisson)
    keep = rank < k[owner]
    ids = np.concatenate([np.arange(n), owner[keep]])
    days = np.concatenate([first, first[owner[keep]] + u[keep] * unit])
    log = pd.DataFrame({"customer_id": ids, "timestamp": t0 + pd.to_timedelta(days, unit="D")})
    return log.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)

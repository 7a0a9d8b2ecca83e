"""Solutions of 02c_bgnbd_from_scratch.ipynb's exercises (keyword arguments as passed to ``check``)."""

import numpy as np
from scipy.special import betaln, gammaln


def exercise_1(published, params, data):
    r, alpha, a, b = (published[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    first = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        second = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return float(np.sum(first + np.where(x > 0, np.logaddexp(0, second), 0.0)))


def exercise_2(params, data):
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, t_x, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds_dead = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    p_alive = np.where(x > 0, 1 / (1 + odds_dead), 1.0)
    return int((p_alive < 0.5).sum())


def exercise_3(params):
    weeks_per_year = 365.25 / 7
    return params["r"] / params["alpha"] * weeks_per_year


SOLUTIONS = {"02c.1": exercise_1, "02c.2": exercise_2, "02c.3": exercise_3}

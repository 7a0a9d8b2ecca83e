"""Exercises of 02c_bgnbd_from_scratch.ipynb (the BG/NBD from its equations)."""

from __future__ import annotations

import numpy as np

from crm_models.course.derivations import bgnbd_log_likelihood, bgnbd_p_alive
from crm_models.course.exercises import Exercise, Mistake, Number, register
from crm_models.units import unit_days

__all__: list[str] = []


def _ll(params, data):
    return float(bgnbd_log_likelihood(params, data["frequency"], data["recency"], data["T"]).sum())


def _first_term_only(params, data):
    from scipy.special import betaln, gammaln

    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    x, T = data["frequency"].to_numpy(float), data["T"].to_numpy(float)
    return float(np.sum(gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
                        - (r + x) * np.log(alpha + T)))


register(Exercise(
    "02c.1",
    "What is the log-likelihood of the calibration sample at the parameters the paper published?",
    "Evaluate your log-likelihood function at the published r, alpha, a and b for every customer and add up.",
    Number(high=0, rtol=1e-7),
    expected=lambda published, params, data: _ll(published, data),
    mistakes=(
        Mistake("That is the log-likelihood at the parameters fitted here (the maximum), not at the published "
                "ones.", lambda published, params, data: _ll(params, data)),
        Mistake("That is the mean log-likelihood per customer; the sample's log-likelihood is the sum.",
                lambda published, params, data: _ll(published, data) / len(data)),
        Mistake("That leaves out the second term, the chance of having dropped out right after the last purchase "
                "(customers with x > 0).", lambda published, params, data: _first_term_only(published, data)),
    ),
    context=("published", "params", "data"),
))


def _count_below(params, data, level=0.5):
    p = bgnbd_p_alive(params, data["frequency"], data["recency"], data["T"])
    return float(np.sum(p < level))


register(Exercise(
    "02c.2",
    "How many customers of the calibration sample have P(alive) below 0.5 at the fitted parameters?",
    "Compute P(alive) for every customer (your function or the model's probability_alive) and count those under "
    "one half.",
    Number(integer=True, low=0),
    expected=lambda params, data: _count_below(params, data),
    mistakes=(
        Mistake("That counts the customers *above* one half.",
                lambda params, data: float(len(data) - _count_below(params, data))),
    ),
    context=("params", "data"),
))

_WEEKS_PER_YEAR = unit_days("Y") / unit_days("W")

register(Exercise(
    "02c.3",
    "What is the mean purchase rate of an active customer, r / alpha, in purchases per year?",
    "r / alpha is in purchases per time unit of the data (weeks here). The course's year is 365.25 days.",
    Number(low=0, rtol=1e-4),
    expected=lambda params: params["r"] / params["alpha"] * _WEEKS_PER_YEAR,
    mistakes=(
        Mistake("That is purchases per week, the data's time unit: convert to years.",
                lambda params: params["r"] / params["alpha"]),
        Mistake("A year of 52 weeks is 364 days; the course's year is 365.25 days.",
                lambda params: params["r"] / params["alpha"] * 52),
        Mistake("That is alpha / r, the mean time between purchases, not the rate.",
                lambda params: params["alpha"] / params["r"] * _WEEKS_PER_YEAR),
    ),
    context=("params",),
))

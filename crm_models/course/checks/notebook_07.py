"""Exercises of 07_covariates.ipynb (a customer attribute in BG/NBD and Gamma-Gamma: promotion-acquired customers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []


def _coefficient(model) -> float:
    return float(model.coefficients_["purchase.promo"])


register(Exercise(
    "07.1",
    "By how much does acquisition on promotion multiply the mean purchase rate in the larger company's fit?",
    "The mean purchase rate of an active customer is r / alpha_i with alpha_i = alpha * exp(-g * z): write the "
    "ratio of the rates at z = 1 and z = 0 and read g from model.coefficients_.",
    Number(rtol=1e-6),
    expected=lambda model, data: float(np.exp(_coefficient(model))),
    mistakes=(
        Mistake("That is the ratio of the alpha scale parameters: alpha_i shrinks when the rate grows, so the rate "
                "moves the other way.", lambda model, data: float(np.exp(-_coefficient(model)))),
        Mistake("That is the coefficient itself, on the log scale of the rate: turn it into a multiplier.",
                lambda model, data: _coefficient(model)),
        Mistake("That is 1 + the coefficient, the small-effect approximation; the model multiplies the rate by an "
                "exponential.", lambda model, data: 1 + _coefficient(model)),
        Mistake("That is the ratio of the raw mean repeat purchases, which mixes the purchase rate with dropout and "
                "with how long each group was observed; read the model's coefficient.",
                lambda model, data: float(data.loc[data["promo"] == 1, "frequency"].mean()
                                          / data.loc[data["promo"] == 0, "frequency"].mean())),
    ),
    context=("model", "data"),
))


def _lrt_p(restricted, full) -> float:
    from crm_models.clv import likelihood_ratio_test

    return float(likelihood_ratio_test(restricted, full).stats["p-value"])


def _shared(data):
    from crm_models.clv import BetaGeo

    return BetaGeo(shared_covariates=["promo"]).fit(data)


def _plain(data):
    from crm_models.clv import BetaGeo

    return BetaGeo().fit(data)


register(Exercise(
    "07.2",
    "What is the p-value of the likelihood-ratio test of one shared promotion coefficient (same effect on purchase "
    "and dropout) against separate coefficients?",
    "Fit BetaGeo(shared_covariates=['promo']) on the same customers; it is nested in the model with separate "
    "purchase and dropout coefficients: likelihood_ratio_test(restricted, full).stats['p-value'].",
    Number(low=0, high=1, rtol=1e-6, atol=0),
    expected=lambda data, full, purchase_only: _lrt_p(_shared(data), full),
    mistakes=(
        Mistake("That tests the model without any covariate against the full one (does promotion matter at all?), "
                "not one shared coefficient against two.",
                lambda data, full, purchase_only: _lrt_p(_plain(data), full)),
        Mistake("That tests the purchase-only model against the full one (does promotion change dropout?), not one "
                "shared coefficient against two.",
                lambda data, full, purchase_only: _lrt_p(purchase_only, full)),
    ),
    context=("data", "full", "purchase_only"),
))


def _gap(model, spend, frequency=0, recency=0.0, T=26.0, monetary=0.0, horizon=None, kind="gap"):
    from crm_models.clv import customer_lifetime_value
    from crm_models.course import COURSE_CLV

    two = pd.DataFrame({"frequency": [frequency] * 2, "recency": [recency] * 2, "T": [T] * 2,
                        "monetary_value": [monetary] * 2, "promo": [0, 1]})
    if horizon is None:
        v = COURSE_CLV.customer_lifetime_value(model, spend, two)
    else:
        v = customer_lifetime_value(model, spend, two, horizon=horizon, time_unit="W", discount_rate=(0.10, "Y"))
    full, promo = float(v.iloc[0]), float(v.iloc[1])
    return {"gap": 1 - promo / full, "ratio": promo / full, "of_promo": (full - promo) / promo}[kind]


register(Exercise(
    "07.3",
    "What share of the full-price newcomer's CLV (the course's definition) does the promotion newcomer lack?",
    "Build two customers with frequency 0, recency 0, T 26 and monetary_value 0, promo 0 and 1; value them with "
    "COURSE_CLV.customer_lifetime_value(model, spend, ...) and compare the two CLVs as 1 - promotion / full price.",
    Number(low=0, high=1, rtol=1e-6),
    expected=lambda model, spend: _gap(model, spend),
    mistakes=(
        Mistake("That is the promotion customer's CLV as a share of the full-price customer's, not the share "
                "they lack.", lambda model, spend: _gap(model, spend, kind="ratio")),
        Mistake("That measures the gap against the promotion customer's CLV; the question asks for a share of "
                "the full-price customer's.", lambda model, spend: _gap(model, spend, kind="of_promo")),
        Mistake("That is the gap for customers with Ana and Ben's history (three repeat purchases); the question is "
                "about newcomers who have not bought again.",
                lambda model, spend: _gap(model, spend, frequency=3, recency=40.0, T=60.0, monetary=50.0)),
        Mistake("That values the customers over two years; use the course's one definition of CLV (COURSE_CLV).",
                lambda model, spend: _gap(model, spend, horizon=(2, "Y"))),
    ),
    context=("model", "spend"),
))

"""Solutions of 07_covariates.ipynb's exercises (keyword arguments as passed to ``check``)."""

import numpy as np
import pandas as pd

from crm_models.clv import BetaGeo, likelihood_ratio_test
from crm_models.course import COURSE_CLV


def exercise_1(model, data):
    # E[lambda_i] = r / alpha_i = (r / alpha) * exp(g * z): the rate at z = 1 over the rate at z = 0
    return np.exp(model.coefficients_["purchase.promo"])


def exercise_2(data, full, purchase_only):
    shared = BetaGeo(shared_covariates=["promo"]).fit(data)
    return likelihood_ratio_test(shared, full).stats["p-value"]


def exercise_3(model, spend):
    newcomers = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [26.0, 26.0],
                              "monetary_value": [0.0, 0.0], "promo": [0, 1]}, index=["full price", "on promotion"])
    clv = COURSE_CLV.customer_lifetime_value(model, spend, newcomers)
    return 1 - clv["on promotion"] / clv["full price"]


SOLUTIONS = {"07.1": exercise_1, "07.2": exercise_2, "07.3": exercise_3}

"""Solutions of 02b_contractual_retention.ipynb's exercises (keyword arguments as passed to ``check``)."""

import pandas as pd


def exercise_1(sbg, cohorts, cohort, year):
    alpha, beta = sbg[cohort].params_[["alpha", "beta"]]
    retention = (beta + year - 1) / (alpha + beta + year - 1)
    return 1 - retention


def exercise_2(model, history, n_opportunities, drives_ahead):
    donors = pd.DataFrame(history, index=["frequency", "recency"]).T
    donors["n_opportunities"] = n_opportunities
    return model.expected_purchases(donors, drives_ahead)


SOLUTIONS = {"02b.1": exercise_1, "02b.2": exercise_2}

"""Solutions of 02_lifetime_value.ipynb's exercises (keyword arguments as passed to ``check``)."""

import pandas as pd

from crm_models.clv import compare_models


def exercise_1(model, last_purchase_week, T):
    two = pd.DataFrame({"frequency": 5, "recency": pd.Series(last_purchase_week, dtype=float), "T": T})
    return model.probability_alive(two)


def exercise_2(models, split):
    once = split[split["frequency_cal"] == 0]
    return compare_models(models, once)["holdout_total_error_pct"]


def exercise_3(by_day, by_week):
    return 1 - by_week["frequency"].sum() / by_day["frequency"].sum()


SOLUTIONS = {"02.1": exercise_1, "02.2": exercise_2, "02.3": exercise_3}

"""Solutions of 04_interact_and_customize.ipynb's exercises (keyword arguments as passed to ``check``)."""

from crm_models.customize import next_best_action, target_retention
from crm_models.interact import simulate_queue
from crm_models.truth import uplift_capture


def exercise_1(customer, crosswalk, transactions, interactions):
    my_records = crosswalk.loc[crosswalk["customer_id"] == customer, "record_id"]
    return int(transactions["record_id"].isin(my_records).sum() + interactions["record_id"].isin(my_records).sum())


def exercise_2(scores, rule):
    seven = simulate_queue(scores, rule, tier_col="value_tier", n_agents=7, random_state=42)
    return seven.loc["Bronze", "priority_mean_wait"]


def exercise_3(scores, actions, retain_effect):
    bolder = actions.copy()
    bolder.loc["retain", "p_effect"] = retain_effect
    return int((next_best_action(scores, bolder)["action"] == "retain").sum())


def exercise_4(pool, true_uplift, k):
    plan = target_retention(pool, budget=2 * k * 1.5, uplift="uplift_if_active", cost=1.5, value="one_purchase",
                            require_profit=False)
    return uplift_capture({"double": plan.targeted.index}, true_uplift).loc["double", "share_of_best"]


def exercise_5(shrunk, cell):
    mu, tau = shrunk.attrs["prior_mean"], shrunk.attrs["prior_sd"]
    u, se = shrunk.loc[cell, "uplift"], shrunk.loc[cell, "se"]
    b = se**2 / (se**2 + tau**2)
    return mu + (1 - b) * (u - mu)


SOLUTIONS = {"04.1": exercise_1, "04.2": exercise_2, "04.3": exercise_3, "04.4": exercise_4, "04.5": exercise_5}

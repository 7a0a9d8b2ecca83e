"""Solutions of 05_customer_strategy_end_to_end.ipynb's exercises (keyword arguments as passed to ``check``)."""

from crm_models.customize import target_retention
from crm_models.truth import compare_policies


def exercise_1(answers):
    promoters = sum(a >= 9 for a in answers)
    detractors = sum(a <= 6 for a in answers)
    return 100 * (promoters - detractors) / len(answers)


def exercise_2(candidates, budget, cost, world, crosswalk, margin):
    plan = target_retention(candidates, budget, uplift="uplift", cost=cost, value="value_at_stake")
    bigger = target_retention(candidates, 2 * budget, uplift="uplift", cost=cost, value="value_at_stake")
    graded = compare_policies(world, crosswalk, {"plan": plan.targeted.index, "bigger": bigger.targeted.index},
                              margin=margin)
    return graded.loc["bigger", "expected_value_created"] - graded.loc["plan", "expected_value_created"]


SOLUTIONS = {"05.1": exercise_1, "05.2": exercise_2}

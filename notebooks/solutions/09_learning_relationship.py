"""Solutions of 09_learning_relationship.ipynb's exercises.

Each function takes the keyword arguments the notebook passes to ``check`` and returns the answer;
``tests/test_exercises.py`` runs every check against them.
"""

from crm_models.interact.learning import ThompsonSampling, simulate_learning_relationship


def exercise_1(history, preferences):
    favourite = preferences.idxmax(axis=1)
    last = history[history["round"] == history["round"].max()]
    theirs = last[last["customer_id"].map(favourite) == "family_account"]
    return (theirs["offer"] == "family_account").mean()


def exercise_2(history, customer, offer, prior_strength):
    everyone = history[history["offer"] == offer]
    p = (everyone["accepted"].sum() + 1) / (len(everyone) + 2)
    mine = everyone[everyone["customer_id"] == customer]
    s, n = mine["accepted"].sum(), len(mine)
    a, b = prior_strength * p + s, prior_strength * (1 - p) + n - s
    return a / (a + b)


def exercise_3(preferences, n_rounds, random_state):
    expected = {}
    for m in (0.5, 2, 10):
        h = simulate_learning_relationship(preferences, ThompsonSampling(prior_strength=m), n_rounds=n_rounds,
                                           random_state=random_state)
        expected[m] = h["p_accept"].sum()
    return max(expected, key=expected.get)


SOLUTIONS = {"09.1": exercise_1, "09.2": exercise_2, "09.3": exercise_3}

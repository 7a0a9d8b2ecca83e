"""Exercises of 09_learning_relationship.ipynb (the learning relationship)."""

from __future__ import annotations

from crm_models.course.exercises import Choice, Exercise, Mistake, Number, register

__all__: list[str] = []


def _favourite_share(history, preferences, *, offer=None, last=True):
    favourite = preferences.idxmax(axis=1)
    h = history[history["round"] == history["round"].max()] if last else history
    if offer is not None:
        h = h[h["customer_id"].map(favourite) == offer]
    return float((h["offer"].to_numpy() == h["customer_id"].map(favourite).to_numpy()).mean())


register(Exercise(
    "09.1",
    "Among the customers whose true favourite is the rarest offer, family_account, what share did Thompson "
    "sampling offer their favourite in the last month?",
    "Find each customer's favourite with preferences.idxmax(axis=1), keep the family_account customers and the "
    "last round of the history, then compare the offer made with the favourite.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda history, preferences: _favourite_share(history, preferences, offer="family_account"),
    mistakes=(
        Mistake("That is the share over all customers; the question asks about those whose favourite is "
                "family_account.", lambda history, preferences: _favourite_share(history, preferences)),
        Mistake("That is the share over every month; the question asks about the last month only.",
                lambda history, preferences: _favourite_share(history, preferences, offer="family_account",
                                                              last=False)),
        Mistake("That is the share of family_account customers who *accepted* in the last month, not the share "
                "who were offered their favourite.",
                lambda history, preferences: float(history[(history["round"] == history["round"].max())
                                                           & (history["customer_id"].map(preferences.idxmax(axis=1))
                                                              == "family_account")]["accepted"].mean())),
    ),
    context=("history", "preferences"),
))


def _own(history, customer, offer):
    mine = history[(history["customer_id"] == customer) & (history["offer"] == offer)]
    return float(mine["accepted"].sum()), float(len(mine))


def _population_rate(history, offer):
    pop = history[history["offer"] == offer]
    return (float(pop["accepted"].sum()) + 1.0) / (float(len(pop)) + 2.0)


def _posterior_mean(history, customer, offer, prior_strength):
    s, n = _own(history, customer, offer)
    m, p = float(prior_strength), _population_rate(history, offer)
    return (m * p + s) / (m + n)


register(Exercise(
    "09.2",
    "After the run, what is the posterior mean of the customer's probability of accepting the offer, with the "
    "prior centred on the population's rate?",
    "Posterior Beta(m p + s, m (1 - p) + n - s): s and n are the customer's acceptances and offers of that offer, "
    "p = (S + 1) / (N + 2) the population's rate for it (all customers), m the prior strength. The mean of "
    "Beta(a, b) is a / (a + b).",
    Number(low=0, high=1, rtol=1e-9),
    expected=_posterior_mean,
    mistakes=(
        Mistake("That is the customer's own acceptance rate s / n: it ignores the prior, so two answers would "
                "already decide.", lambda history, customer, offer, prior_strength:
                _own(history, customer, offer)[0] / _own(history, customer, offer)[1]),
        Mistake("That is the population's rate alone: it ignores what this customer answered.",
                lambda history, customer, offer, prior_strength: _population_rate(history, offer)),
        Mistake("That uses a uniform Beta(1, 1) prior, (s + 1) / (n + 2), instead of the population's rate with "
                "strength m.", lambda history, customer, offer, prior_strength:
                (_own(history, customer, offer)[0] + 1) / (_own(history, customer, offer)[1] + 2)),
    ),
    context=("history", "customer", "offer", "prior_strength"),
))


def _accepted_by_strength(preferences, strengths, n_rounds, random_state):
    from crm_models.interact.learning import ThompsonSampling, simulate_learning_relationship

    return {m: float(simulate_learning_relationship(preferences, ThompsonSampling(prior_strength=m),
                                                    n_rounds=n_rounds, random_state=random_state)["p_accept"].sum())
            for m in strengths}


register(Exercise(
    "09.3",
    "Which prior strength, 0.5, 2 or 10, gives Thompson sampling the most expected acceptances over the run?",
    "Run simulate_learning_relationship once per strength with the same n_rounds and random_state, and compare "
    "the sums of p_accept (the expected acceptances, free of the luck of the draws).",
    Choice(["0.5", "2", "10"]),
    expected=lambda preferences, n_rounds, random_state: max(
        (v, k) for k, v in _accepted_by_strength(preferences, (0.5, 2.0, 10.0), n_rounds, random_state).items())[1],
    mistakes=(
        Mistake("That strength gives the fewest expected acceptances: did you take the minimum?",
                lambda preferences, n_rounds, random_state: min(
                    (v, k) for k, v in _accepted_by_strength(preferences, (0.5, 2.0, 10.0), n_rounds,
                                                             random_state).items())[1]),
    ),
    context=("preferences", "n_rounds", "random_state"),
))

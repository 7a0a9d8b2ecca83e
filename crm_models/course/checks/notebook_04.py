"""Exercises of 04_interact_and_customize.ipynb (single customer view, queue priority, next best action,
campaign test, shrinking segment uplifts)."""

from __future__ import annotations

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []


# ------------------------------------------------------------------------------ 04.1 single view
def _raw_events(customer, crosswalk, transactions, interactions, which=("transactions", "interactions"), first=False):
    records = crosswalk.loc[crosswalk["customer_id"] == customer, "record_id"]
    if first:
        records = records.sort_values().iloc[:1]
    logs = {"transactions": transactions, "interactions": interactions}
    return int(sum(logs[w]["record_id"].isin(records).sum() for w in which))


register(Exercise(
    "04.1",
    "How many events (purchases and touchpoints) do the raw logs hold for any record of the customer?",
    "Take the customer's record ids from the crosswalk, then count the rows of world.transactions and of "
    "world.interactions whose record_id is one of them, and add the two counts.",
    Number(integer=True, low=0),
    expected=lambda customer, crosswalk, transactions, interactions: _raw_events(
        customer, crosswalk, transactions, interactions),
    mistakes=(
        Mistake("That counts the purchases only; the touchpoints (world.interactions) are events too.",
                lambda customer, crosswalk, transactions, interactions: _raw_events(
                    customer, crosswalk, transactions, interactions, which=("transactions",))),
        Mistake("That counts the touchpoints only; the purchases (world.transactions) are events too.",
                lambda customer, crosswalk, transactions, interactions: _raw_events(
                    customer, crosswalk, transactions, interactions, which=("interactions",))),
        Mistake("That counts the events of one record; the customer has records in several systems.",
                lambda customer, crosswalk, transactions, interactions: _raw_events(
                    customer, crosswalk, transactions, interactions, first=True)),
        Mistake("That is the number of the customer's records, not of their events.",
                lambda customer, crosswalk, transactions, interactions: int(
                    (crosswalk["customer_id"] == customer).sum())),
    ),
    context=("customer", "crosswalk", "transactions", "interactions"),
))


# ---------------------------------------------------------------------------------- 04.2 queue
def _wait(scores, rule, n_agents=7, tier="Bronze", column="priority_mean_wait", random_state=42):
    from crm_models.interact import simulate_queue

    table = simulate_queue(scores, rule, tier_col="value_tier", n_agents=n_agents, random_state=random_state)
    return float(table.loc[tier, column])


register(Exercise(
    "04.2",
    "With 7 agents (same rule and random_state), what is the Bronze tier's mean wait under the priority rule, "
    "in minutes?",
    "Call simulate_queue as in the notebook with n_agents=7 and random_state=42, and read the Bronze row's "
    "priority_mean_wait.",
    Number(low=0, rtol=1e-6),
    expected=lambda scores, rule: _wait(scores, rule),
    mistakes=(
        Mistake("That is the Bronze wait under first come, first served (fifo_mean_wait), not under the rule.",
                lambda scores, rule: _wait(scores, rule, column="fifo_mean_wait")),
        Mistake("That is the Bronze wait with the notebook's 6 agents; add one.",
                lambda scores, rule: _wait(scores, rule, n_agents=6)),
        Mistake("That is the Platinum tier's wait, not Bronze's.",
                lambda scores, rule: _wait(scores, rule, tier="Platinum")),
        Mistake("That simulation used another random_state; replay the notebook's callers (random_state=42) "
                "so that only the number of agents changes.",
                lambda scores, rule: _wait(scores, rule, random_state=0)),
    ),
    context=("scores", "rule"),
))


# ------------------------------------------------------------------------- 04.3 next best action
def _n_retain(scores, actions, retain_effect, table_effect=None, how="best"):
    from crm_models.customize import next_best_action

    bolder = actions.copy()
    bolder.loc["retain", "p_effect"] = retain_effect if table_effect is None else table_effect
    if how == "best":
        return int((next_best_action(scores, bolder)["action"] == "retain").sum())
    eligible = scores.eval(actions.loc["retain", "eligible"])
    return int(eligible.sum())


register(Exercise(
    "04.3",
    "With retain's p_effect raised to retain_effect, for how many customers is retain the next best action?",
    "Copy the action table, set the p_effect of the 'retain' row to retain_effect, run next_best_action on the "
    "scores with the copy and count the rows whose action is 'retain'.",
    Number(integer=True, low=0),
    expected=lambda scores, actions, retain_effect: _n_retain(scores, actions, retain_effect),
    mistakes=(
        Mistake("That is the count with the shipped table: the change of p_effect did not reach next_best_action "
                "(did you change a copy and then pass the original?).",
                lambda scores, actions, retain_effect: _n_retain(scores, actions, retain_effect,
                                                                 table_effect=actions.loc["retain", "p_effect"])),
        Mistake("That counts every customer eligible for the retention offer (P(alive) between the table's "
                "bounds); the question asks for whom retain has the highest expected value.",
                lambda scores, actions, retain_effect: _n_retain(scores, actions, retain_effect, how="eligible")),
        Mistake("That is how many customers the change adds to retain; the question asks how many have retain as "
                "their next best action in all.",
                lambda scores, actions, retain_effect: _n_retain(scores, actions, retain_effect)
                - _n_retain(scores, actions, retain_effect, table_effect=actions.loc["retain", "p_effect"])),
    ),
    context=("scores", "actions", "retain_effect"),
))


# ------------------------------------------------------------------------------ 04.4 budget
def _share_double(pool, true_uplift, k, contacts=None, column="share_of_best"):
    from crm_models.customize import target_retention
    from crm_models.truth import uplift_capture

    budget = 2 * k * 1.5 if contacts is None else contacts
    plan = target_retention(pool, budget=budget, uplift="uplift_if_active", cost=1.5, value="one_purchase",
                            require_profit=False)
    return float(uplift_capture({"model": plan.targeted.index}, true_uplift).loc["model", column])


register(Exercise(
    "04.4",
    "With twice as many contacts, what share of the best possible targeting (of the same size) does the "
    "uplift-model policy capture?",
    "The budget is in USD: twice as many contacts at 1.50 USD each. Run target_retention as in the notebook with "
    "that budget and grade its targeted customers with uplift_capture; read share_of_best.",
    Number(low=0, high=1, rtol=1e-6),
    expected=lambda pool, true_uplift, k: _share_double(pool, true_uplift, k),
    mistakes=(
        Mistake("That is the share with the notebook's budget; double the number of contacts.",
                lambda pool, true_uplift, k: _share_double(pool, true_uplift, k, contacts=k * 1.5)),
        Mistake("That budget buys fewer contacts than asked: the budget is in USD, and each contact costs 1.50.",
                lambda pool, true_uplift, k: _share_double(pool, true_uplift, k, contacts=2 * k)),
        Mistake("That is the mean true uplift of the customers targeted, not their share of the best possible.",
                lambda pool, true_uplift, k: _share_double(pool, true_uplift, k, column="mean_true_uplift")),
    ),
    context=("pool", "true_uplift", "k"),
))


# ------------------------------------------------------------------------------ 04.5 shrinkage
def _shrunk_by_hand(shrunk, cell, form="right"):
    row = shrunk.loc[cell]
    mu, tau = shrunk.attrs["prior_mean"], shrunk.attrs["prior_sd"]
    if form == "se":
        b = row["se"] / (row["se"] + tau)
    else:
        b = row["se"] ** 2 / (row["se"] ** 2 + tau**2)
    if form == "swapped":
        return float(mu + b * (row["uplift"] - mu))
    return float(mu + (1 - b) * (row["uplift"] - mu))


register(Exercise(
    "04.5",
    "From the cell's estimate, its standard error, the prior mean and the prior spread, what is its shrunk "
    "uplift?",
    "B = se^2 / (se^2 + tau^2), with tau = .attrs['prior_sd'] and the prior mean mu = .attrs['prior_mean']; "
    "the shrunk uplift keeps the share 1 - B of the estimate's distance from mu.",
    Number(rtol=1e-6, atol=1e-9),
    expected=lambda shrunk, cell: _shrunk_by_hand(shrunk, cell),
    mistakes=(
        Mistake("That is the raw estimate: shrinkage moves it toward the prior mean.",
                lambda shrunk, cell: float(shrunk.loc[cell, "uplift"])),
        Mistake("B and 1 - B are swapped: a noisy estimate (B near 1) should end near the mean, not near itself.",
                lambda shrunk, cell: _shrunk_by_hand(shrunk, cell, form="swapped")),
        Mistake("B compares variances: square the standard error and tau.",
                lambda shrunk, cell: _shrunk_by_hand(shrunk, cell, form="se")),
        Mistake("That is the prior mean itself, as if the estimate carried no information.",
                lambda shrunk, cell: float(shrunk.attrs["prior_mean"])),
    ),
    context=("shrunk", "cell"),
))

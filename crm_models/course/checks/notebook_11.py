"""Exercises of 11_team_scorecard.ipynb (efficiency against relationship measures for teams beyond sales)."""

from __future__ import annotations

import pandas as pd

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []


def _fcr(contacts, team, after, days=30, whole_log=False, repeat_share=False):
    c = contacts.sort_values(["customer_id", "timestamp"], kind="stable")
    gap = c.groupby("customer_id")["timestamp"].shift(-1) - c["timestamp"]
    c = c.assign(repeat=gap <= pd.Timedelta(days=days))
    start, end = (pd.Timestamp(x) for x in after)
    if not whole_log:
        c = c[(c["timestamp"] >= start) & (c["timestamp"] < end)]
    share = float(c.loc[c["team"] == team, "repeat"].mean())
    return share if repeat_share else 1.0 - share


register(Exercise(
    "11.1",
    "What is the first-contact resolution of the Route team in the second year: the share of its contacts not "
    "followed by another contact from the same customer within 30 days?",
    "Sort the contacts by customer and time, take the time to each customer's next contact (groupby + shift(-1)), "
    "flag gaps of at most 30 days, then keep the Route team's contacts of the second year and take 1 - the mean flag.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda contacts, team, after: _fcr(contacts, team, after),
    mistakes=(
        Mistake("That is the share of contacts that *were* followed by a repeat contact: first-contact resolution "
                "is one minus that.", lambda contacts, team, after: _fcr(contacts, team, after, repeat_share=True)),
        Mistake("That uses a 7-day window; the definition says 30 days.",
                lambda contacts, team, after: _fcr(contacts, team, after, days=7)),
        Mistake("That counts the team's contacts of both years; the scorecard measures the second year.",
                lambda contacts, team, after: _fcr(contacts, team, after, whole_log=True)),
    ),
    context=("contacts", "team", "after"),
))


def _lost_by_service(movement, customers, team, all_service=False, all_lost=False):
    mine = customers[customers["team"] == team]
    if all_service:
        return float((mine["churn_cause"] == "service").sum())
    lost = movement.index[movement["status"] == "lost"].intersection(mine.index)
    if all_lost:
        return float(len(lost))
    return float((mine.loc[lost, "churn_cause"] == "service").sum())


register(Exercise(
    "11.2",
    "How many of the customers the Express team lost in the second year (measured: status 'lost') truly left "
    "because of the service?",
    "Take the customers with status 'lost' in movement, keep the Express team's, and count those whose true "
    "churn_cause in customers is 'service'.",
    Number(integer=True, low=0),
    expected=lambda movement, customers, team: _lost_by_service(movement, customers, team),
    mistakes=(
        Mistake("That counts every Express customer who left because of the service, including those who left in "
                "the first year (they are not in the second year's base).",
                lambda movement, customers, team: _lost_by_service(movement, customers, team, all_service=True)),
        Mistake("That counts every customer Express lost in the second year, whatever the reason.",
                lambda movement, customers, team: _lost_by_service(movement, customers, team, all_lost=True)),
    ),
    context=("movement", "customers", "team"),
))


register(Exercise(
    "11.3",
    "At a retention budget of 200 USD, what true net value (true value created minus money spent) does the plan "
    "deliver?",
    "The explorer's callback gives the numbers of any state: explorer.numbers(budget=...).",
    Number(rtol=1e-6),
    expected=lambda explorer: float(explorer.numbers(budget=200.0)["true_net_value"]),
    mistakes=(
        Mistake("That is the net value the plan *expects*, not the true one.",
                lambda explorer: float(explorer.numbers(budget=200.0)["expected_net_value"])),
        Mistake("That is the true value created before the money spent is taken off.",
                lambda explorer: float(explorer.numbers(budget=200.0)["true_value_created"])),
    ),
    context=("explorer",),
))

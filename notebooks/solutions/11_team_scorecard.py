"""Solutions of 11_team_scorecard.ipynb's exercises (keyword arguments as passed to ``check``)."""

import pandas as pd


def exercise_1(contacts, team, after):
    c = contacts.sort_values(["customer_id", "timestamp"])
    next_contact = c.groupby("customer_id")["timestamp"].shift(-1)
    c["repeat"] = (next_contact - c["timestamp"]) <= pd.Timedelta(days=30)
    start, end = pd.Timestamp(after[0]), pd.Timestamp(after[1])
    mine = c[(c["team"] == team) & (c["timestamp"] >= start) & (c["timestamp"] < end)]
    return 1 - mine["repeat"].mean()


def exercise_2(movement, customers, team):
    lost = movement.index[movement["status"] == "lost"]
    theirs = customers.loc[customers.index.intersection(lost)]
    return int(((theirs["team"] == team) & (theirs["churn_cause"] == "service")).sum())


def exercise_3(explorer):
    return explorer.numbers(budget=200)["true_net_value"]


SOLUTIONS = {"11.1": exercise_1, "11.2": exercise_2, "11.3": exercise_3}

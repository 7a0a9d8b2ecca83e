"""Solutions of 10_one_face_and_lookalikes.ipynb's exercises (keyword arguments as passed to ``check``)."""

from crm_models.segment import LookalikeScorer, gains_table


def exercise_1(treatments, tiers):
    best = tiers[-1]
    theirs = treatments[treatments["truth"] == best]
    return (theirs["silo"] == best).mean()


def exercise_2(features, value, prospects, truth):
    scores = LookalikeScorer(seed_share=0.05).fit(features, value).predict(prospects)
    return gains_table(scores, truth, shares=(0.2,)).loc[0.2, "lift"]


def exercise_3(treatments):
    per_person = treatments.groupby("person_id").agg(records=("unified", "size"), tiers=("unified", "nunique"))
    return int(((per_person["records"] >= 2) & (per_person["tiers"] > 1)).sum())


SOLUTIONS = {"10.1": exercise_1, "10.2": exercise_2, "10.3": exercise_3}

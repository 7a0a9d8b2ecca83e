"""Exercises of 10_one_face_and_lookalikes.ipynb (one face to the customer; look-alike acquisition)."""

from __future__ import annotations

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []


def _gold_recognised(treatments, tiers, view="silo", people=False):
    top = tiers[-1]
    gold = treatments[treatments["truth"] == top]
    hit = gold[view] == top
    return float(hit.groupby(gold["person_id"]).all().mean() if people else hit.mean())


register(Exercise(
    "10.1",
    "Among the contact points (records) of people whose true tier is the top one, what share does the silo view "
    "also put in the top tier?",
    "Keep the rows of treatments whose 'truth' is the last of TIERS, and take the mean of 'silo equals that tier' "
    "over those rows.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda treatments, tiers: _gold_recognised(treatments, tiers),
    mistakes=(
        Mistake("That is the share of all contact points with their true tier, not only those of top-tier people.",
                lambda treatments, tiers: float((treatments["silo"] == treatments["truth"]).mean())),
        Mistake("That is the share for the resolved view, not the silo view.",
                lambda treatments, tiers: _gold_recognised(treatments, tiers, "unified")),
        Mistake("That is a share of people (recognised at every contact point), not of contact points.",
                lambda treatments, tiers: _gold_recognised(treatments, tiers, people=True)),
    ),
    context=("treatments", "tiers"),
))


def _lift(features, value, prospects, truth, seed_share, share=0.2, column="lift"):
    from crm_models.segment import LookalikeScorer, gains_table

    scores = LookalikeScorer(seed_share=seed_share).fit(features, value).predict(prospects)
    return float(gains_table(scores, truth, shares=(share,)).loc[share, column])


register(Exercise(
    "10.2",
    "With the top 5% of customers as the seed (instead of the top 20%), what is the lift of the top fifth of "
    "newcomers ranked by the profile look-alike score?",
    "Fit LookalikeScorer(seed_share=0.05) on the established customers' profile features and value, score the "
    "newcomers, and read the lift at share 0.2 from gains_table against their true expected spend.",
    Number(low=0, rtol=1e-6),
    expected=lambda features, value, prospects, truth: _lift(features, value, prospects, truth, 0.05),
    mistakes=(
        Mistake("That is the lift with the top 20% as the seed, the notebook's scorer.",
                lambda features, value, prospects, truth: _lift(features, value, prospects, truth, 0.2)),
        Mistake("That is the share of the newcomers' value the top fifth holds (value_share), not the lift.",
                lambda features, value, prospects, truth: _lift(features, value, prospects, truth, 0.05,
                                                                column="value_share")),
        Mistake("That is the lift of the top tenth, not the top fifth.",
                lambda features, value, prospects, truth: _lift(features, value, prospects, truth, 0.05, share=0.1)),
    ),
    context=("features", "value", "prospects", "truth"),
))


def _inconsistent(treatments, view, records=False):
    multi = treatments[treatments.groupby("person_id")["person_id"].transform("size") >= 2]
    n_tiers = multi.groupby("person_id")[view].nunique()
    people = n_tiers[n_tiers > 1].index
    return float(multi["person_id"].isin(people).sum() if records else len(people))


register(Exercise(
    "10.3",
    "How many people with two or more records does the resolved view still treat inconsistently (more than one "
    "tier across their records)?",
    "Group the records by the true person, keep people with at least two records, and count those whose "
    "'unified' tiers are not all the same (nunique() > 1).",
    Number(integer=True, low=0),
    expected=lambda treatments: _inconsistent(treatments, "unified"),
    mistakes=(
        Mistake("That is the count for the silo view, not the resolved view.",
                lambda treatments: _inconsistent(treatments, "silo")),
        Mistake("That counts their records, not the people.",
                lambda treatments: _inconsistent(treatments, "unified", records=True)),
    ),
    context=("treatments",),
))


"""Exercises of 00b_simulated_company.ipynb (the simulated company and its truth)."""

from __future__ import annotations

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []

register(Exercise(
    "00b.1",
    "What share of the people were still customers at the end of the observation period (the end of 2024)?",
    "A person is still a customer when their dropout_date in world.people is empty (NaT): take the mean of that "
    "condition over all people.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda people, future: float(people["dropout_date"].isna().mean()),
    mistakes=(
        Mistake("That is the share who had *dropped out* (dropout_date filled in), not the share still there.",
                lambda people, future: float(people["dropout_date"].notna().mean())),
        Mistake("That is the share still a customer at the end of the *holdout* (mid-2025); the question asks "
                "about the end of the observation period.",
                lambda people, future: float(future["alive_at_holdout_end"].mean())),
    ),
    context=("people", "future"),
))


def _several_spellings(records, record_truth, *, lower=True, min_systems=3):
    """Share of the people held by at least ``min_systems`` systems whose records spell the first name in 2+ ways."""
    merged = records.merge(record_truth[["record_id", "person_id"]], on="record_id")
    names = merged["first_name"].str.lower() if lower else merged["first_name"]
    spellings = merged.assign(name=names).groupby("person_id")["name"].nunique()
    systems = record_truth.groupby("person_id")["source"].nunique()
    held = systems.index[systems >= min_systems]
    return float((spellings.reindex(held) > 1).mean())


register(Exercise(
    "00b.2",
    "Among the people held by three or more systems, what share have two or more spellings of their first name in "
    "the company's records (ignoring upper/lower case and empty fields)?",
    "Attach person_id to every record (merge records with record_truth on record_id), lower-case the first "
    "names, count the distinct names per person (nunique skips empty fields), and keep the people with 3 or more "
    "distinct sources (record_truth.source) before taking the share with more than one name.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda records, record_truth: _several_spellings(records, record_truth),
    mistakes=(
        Mistake("That counts 'ANNA' and 'Anna' as two spellings: the store writes names in capitals. Compare "
                "lower-cased names.",
                lambda records, record_truth: _several_spellings(records, record_truth, lower=False)),
        Mistake("That is the share among *all* people; the question asks about the people held by three or more "
                "systems.",
                lambda records, record_truth: _several_spellings(records, record_truth, min_systems=1)),
        Mistake("That keeps only the people held by all four systems; the question asks for three or more.",
                lambda records, record_truth: _several_spellings(records, record_truth, min_systems=4)),
    ),
    context=("records", "record_truth"),
))


def _nickname_share(messy, *, among_could=True, variant_is_nickname=True):
    from crm_models.datasets.world import nickname_table

    truth = messy.record_truth.merge(messy.people[["person_id", "first_name"]], on="person_id")
    if among_could:
        truth = truth[truth["first_name"].isin(list(nickname_table()))]
    variant = truth["first_name_variant"]
    hit = variant.eq("nickname") if variant_is_nickname else variant.ne("none")
    return float(hit.mean())


register(Exercise(
    "00b.3",
    "In the messier world, what share of the records whose true first name has a nickname show a nickname?",
    "Attach each record's true first name (merge record_truth with people on person_id), keep the records whose "
    "true first name is a key of nickname_table(), and take the share whose first_name_variant is 'nickname'.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda messy: _nickname_share(messy),
    mistakes=(
        Mistake("That divides by every record; names without any nickname cannot get one, so divide by the records "
                "whose true first name has one.", lambda messy: _nickname_share(messy, among_could=False)),
        Mistake("That counts every changed first name (initials and typos too); count only the variant "
                "'nickname'.", lambda messy: _nickname_share(messy, variant_is_nickname=False)),
        Mistake("That is the configured rate, not the share measured in the generated records.", lambda messy: 0.3),
    ),
    context=("messy",),
))

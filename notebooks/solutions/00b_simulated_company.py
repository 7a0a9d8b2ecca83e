"""Solutions of 00b_simulated_company.ipynb's exercises (keyword arguments as passed to ``check``)."""

from crm_models.datasets.world import nickname_table


def exercise_1(people, future):
    return people["dropout_date"].isna().mean()


def exercise_2(records, record_truth):
    merged = records.merge(record_truth[["record_id", "person_id"]], on="record_id")
    spellings = merged.assign(name=merged["first_name"].str.lower()).groupby("person_id")["name"].nunique()
    systems = record_truth.groupby("person_id")["source"].nunique()
    held = systems[systems >= 3].index
    return (spellings[held] > 1).mean()


def exercise_3(messy):
    truth = messy.record_truth.merge(messy.people[["person_id", "first_name"]], on="person_id")
    could = truth["first_name"].isin(list(nickname_table()))
    return (truth.loc[could, "first_name_variant"] == "nickname").mean()


SOLUTIONS = {"00b.1": exercise_1, "00b.2": exercise_2, "00b.3": exercise_3}

"""The learning relationship, one face, look-alikes and the team scorecard: behaviour against known truth."""

import numpy as np
import pandas as pd
import pytest

from crm_models.errors import DataError
from crm_models.interact import (
    FixedScript,
    PopulationGreedy,
    ThompsonSampling,
    compare_learning,
    learning_curve,
    posterior_table,
    simulate_learning_relationship,
    simulate_offer_preferences,
    simulate_service_centre,
    treatment_consistency,
    visible_value,
)
from crm_models.measure import SCORECARD_MEASURES, rank_teams, team_scorecard
from crm_models.segment import LookalikeScorer, gains_table


# --------------------------------------------------------------------- learning relationship
@pytest.fixture(scope="module")
def prefs():
    return simulate_offer_preferences(1500, random_state=3)


def test_preferences_have_one_known_favourite(prefs):
    assert prefs.shape == (1500, 5) and prefs.to_numpy().min() >= 0 and prefs.to_numpy().max() <= 1
    top2 = np.sort(prefs.to_numpy(), axis=1)[:, -2:]
    assert (top2[:, 1] > top2[:, 0]).all()  # a strict favourite
    shares = prefs.idxmax(axis=1).value_counts(normalize=True)
    assert shares["savings"] == pytest.approx(0.35, abs=0.04)


def test_common_random_numbers_make_policies_comparable(prefs):
    a = simulate_learning_relationship(prefs, FixedScript(), n_rounds=4, random_state=7)
    b = simulate_learning_relationship(prefs, FixedScript(), n_rounds=4, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    # the same offer to the same customer in the same month gets the same answer whichever policy made it
    greedy = simulate_learning_relationship(prefs, PopulationGreedy(), n_rounds=4, random_state=7)
    same = (a["offer"] == greedy["offer"]).to_numpy()
    assert same.any() and (a["accepted"].to_numpy()[same] == greedy["accepted"].to_numpy()[same]).all()


def test_thompson_sampling_learns_each_customer(prefs):
    runs = {p.name: simulate_learning_relationship(prefs, p, n_rounds=24, random_state=1)
            for p in (FixedScript(), PopulationGreedy(), ThompsonSampling())}
    table = compare_learning(runs, prefs)
    assert table.loc["Thompson sampling", "expected_accepted"] > table.loc["population greedy", "expected_accepted"] \
        > table.loc["fixed script", "expected_accepted"]
    curve = learning_curve(runs["Thompson sampling"], prefs)
    assert curve["favourite_share"].iloc[-1] > curve["favourite_share"].iloc[0] + 0.2
    assert (table["share_of_best"] <= 1).all()
    # the greedy policy settles on the base's most popular offer
    last = runs["population greedy"][runs["population greedy"]["round"] == 24]
    assert last["offer"].nunique() == 1 and last["offer"].iloc[0] == prefs.mean().idxmax()


def test_posterior_table_is_the_beta_update(prefs):
    h = simulate_learning_relationship(prefs, ThompsonSampling(), n_rounds=6, random_state=2)
    post = posterior_table(h, "C00001", prior_strength=2.0)
    mine = h[h["customer_id"] == "C00001"]
    assert post["offered"].sum() == 6 and post["accepted"].sum() == mine["accepted"].sum()
    rate = (h.groupby("offer")["accepted"].sum() + 1) / (h.groupby("offer").size() + 2)
    offer = mine["offer"].iloc[0]
    s, n = mine.loc[mine["offer"] == offer, "accepted"].sum(), (mine["offer"] == offer).sum()
    assert post.loc[offer, "posterior_mean"] == pytest.approx((2 * rate[offer] + s) / (2 + n))
    with pytest.raises(ValueError, match="not in the history"):
        posterior_table(h, "nobody")


def test_learning_bad_input(prefs):
    with pytest.raises(ValueError, match="n_rounds"):
        simulate_learning_relationship(prefs, FixedScript(), n_rounds=0)
    with pytest.raises(TypeError, match="choose"):
        simulate_learning_relationship(prefs, object())
    with pytest.raises(DataError):
        simulate_learning_relationship(prefs * 2, FixedScript())
    with pytest.raises(ValueError, match="offers"):
        simulate_offer_preferences(10, offers=["a"])
    with pytest.raises(ValueError, match="prior_strength"):
        ThompsonSampling(prior_strength=0).prior(np.zeros((1, 2)), np.zeros((1, 2)))

    class Broken:
        name = "broken"

        def choose(self, successes, trials, rng):
            return np.full(trials.shape[0], 99)

    with pytest.raises(ValueError, match="offer position"):
        simulate_learning_relationship(prefs, Broken(), n_rounds=1)


# ---------------------------------------------------------------------------------- one face
def test_visible_value_and_consistency():
    spend = pd.Series([100.0, 50.0, 20.0, 0.0], index=["w1", "s1", "w2", "m2"])
    people = pd.Series(["A", "A", "B", "B"], index=spend.index)
    assert visible_value(spend).tolist() == spend.tolist()
    assert visible_value(spend, people).tolist() == [150.0, 150.0, 20.0, 20.0]
    t = pd.DataFrame({"person": people, "channel": ["web", "store", "web", "mail"],
                      "treatment": np.where(visible_value(spend) >= 50, "Gold", "Standard")})
    c = treatment_consistency(t, customer_id_col="person")
    assert bool(c.loc["A", "consistent"]) and bool(c.loc["B", "consistent"])
    t.loc["s1", "treatment"] = "Silver"
    c = treatment_consistency(t, customer_id_col="person")
    assert not c.loc["A", "consistent"] and c.loc["A", "n_treatments"] == 2 and c.loc["A", "modal_share"] == 0.5
    with pytest.raises(DataError):
        visible_value(spend, people.drop("m2"))
    with pytest.raises(DataError):
        visible_value(pd.Series([1.0, np.nan], index=["a", "b"]))
    with pytest.raises(DataError):
        treatment_consistency(t.assign(treatment=None), customer_id_col="person")
    with pytest.raises(DataError):
        treatment_consistency(t, customer_id_col="customer")


# -------------------------------------------------------------------------------- look-alikes
def _lookalike_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    segment = rng.integers(3, size=n)  # the truth that drives both features and value
    X = pd.DataFrame({"age": rng.normal(np.array([30.0, 50.0, 65.0])[segment], 8.0),
                      "channel": np.array(["web", "store", "mail"])[np.where(rng.random(n) < 0.7, segment,
                                                                                    rng.integers(3, size=n))]},
                     index=[f"p{i}" for i in range(n)])
    value = pd.Series(rng.gamma(2.0, np.array([20.0, 80.0, 30.0])[segment] / 2.0), index=X.index)
    return X, value


def test_lookalikes_find_the_valuable_segment():
    X, value = _lookalike_data()
    scorer = LookalikeScorer(seed_share=0.2).fit(X.iloc[:1500], value.iloc[:1500])
    scores = scorer.predict(X.iloc[1500:])
    gains = gains_table(scores, value.iloc[1500:], shares=(0.2, 0.5))
    assert gains.loc[0.2, "lift"] > 1.4 and gains.loc[0.2, "value_share"] > 0.28
    assert scorer.coef_["channel=store"] > 0 > scorer.coef_["channel=web"]
    summary = scorer.summary()
    assert summary.stats["Customers"] == 1500 and "odds_ratio" in summary.to_frame()
    # an unseen category counts as none of the known ones
    assert scorer.predict(X.iloc[:2].assign(channel="kiosk")).between(0, 1).all()


def test_lookalike_bad_input():
    X, value = _lookalike_data(200)
    with pytest.raises(ValueError, match="seed_share"):
        LookalikeScorer(seed_share=1.5).fit(X, value)
    with pytest.raises(ValueError, match="indexed exactly"):
        LookalikeScorer().fit(X, value.iloc[:-1])
    with pytest.raises(DataError, match="seed"):
        LookalikeScorer().fit(X, value * 0)
    with pytest.raises(DataError):
        LookalikeScorer().fit(X.assign(age=np.nan), value)
    fitted = LookalikeScorer().fit(X, value)
    with pytest.raises(DataError, match="age"):
        fitted.predict(X.drop(columns="age"))
    with pytest.raises(ValueError, match="indexed exactly"):
        gains_table(pd.Series([1.0]), pd.Series([1.0], index=["x"]))
    with pytest.raises(DataError):
        gains_table(pd.Series([1.0, 2.0]), pd.Series([0.0, 0.0]))


# ------------------------------------------------------------------------------ the scorecard
@pytest.fixture(scope="module")
def centre():
    return simulate_service_centre(3000, n_months=24, random_state=1)


def test_the_service_centre_records_its_truth(centre):
    t = centre.team_truth
    assert list(t.index) == ["Express", "Resolve", "Route", "Steady", "Grow", "Script"]
    assert t["customers"].sum() == 3000
    assert t["resolved_share"].idxmax() == "Resolve" and t["resolved_share"].idxmin() == "Express"
    assert t["service_losses_per_100"].idxmin() == "Resolve"
    gone = centre.customers["churn_cause"] != ""
    assert (gone == centre.customers["churned_at"].notna()).all() and (gone == ~centre.customers["alive_at_end"]).all()
    assert centre.contacts["timestamp"].between(centre.start, centre.end).all()
    assert centre.surveys["satisfaction"].between(1, 5).all() and centre.surveys["recommend"].between(0, 10).all()
    value = centre.true_retention_value()
    assert (value[~centre.customers["alive_at_end"]] == 0).all() and (value > 0).any()


def test_relationship_measures_rank_teams_by_the_truth_and_talk_time_does_not(centre):
    card = team_scorecard(centre.contacts, centre.transactions, centre.customers["team"],
                          before=("2023-01-01", "2024-01-01"), after=("2024-01-01", "2025-01-01"),
                          surveys=centre.surveys)
    assert list(card.columns) == ["customers", *SCORECARD_MEASURES]
    losses = centre.team_truth["service_losses_per_100"].reindex(card.index)
    assert card["satisfaction"].corr(losses, method="spearman") < -0.7
    assert card["retention_rate"].corr(losses, method="spearman") < -0.7
    assert card["talk_minutes"].corr(losses, method="spearman") < -0.5  # short calls, many losses
    assert card["handoff_rate"].idxmax() == "Route"
    ranks = rank_teams(card)
    assert ranks.loc["Express", "talk_minutes"] == 1 and ranks["retention_rate"].min() == 1


def test_scorecard_definitions_by_hand():
    contacts = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "team": "X",
                             "timestamp": pd.to_datetime(["2024-08-01", "2024-08-20", "2024-12-30", "2024-09-01"]),
                             "talk_minutes": [5.0, 7.0, 6.0, 3.0], "handed_off": [False, True, False, False]})
    log = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [10.0, 30.0, 20.0, 5.0],
                        "timestamp": pd.to_datetime(["2024-02-01", "2024-09-01", "2024-03-01", "2024-10-01"])})
    teams = pd.Series({"a": "X", "b": "X", "c": "X"})
    surveys = pd.DataFrame({"team": "X", "timestamp": pd.to_datetime(["2024-08-02", "2024-09-02"]),
                            "satisfaction": [5, 3], "recommend": [10, 5]})
    card = team_scorecard(contacts, log, teams, before=("2024-01-01", "2024-07-01"), after=("2024-07-01", "2025-01-01"),
                          surveys=surveys, repeat_window=(30, "D"))
    row = card.loc["X"]
    assert row["contacts_per_customer"] == pytest.approx(4 / 3)
    assert row["first_contact_resolution"] == 0.75  # only the first contact of a is repeated within 30 days
    assert row["satisfaction"] == 4.0 and row["nps"] == 0.0
    assert row["won"] == 1 and row["lost_share"] == 0.5 and row["grown_share"] == 0.5
    with pytest.raises(DataError):
        team_scorecard(contacts.assign(talk_minutes=-1.0), log, teams, before=("2024-01-01", "2024-07-01"),
                       after=("2024-07-01", "2025-01-01"))
    with pytest.raises(DataError):
        team_scorecard(contacts.drop(columns="handed_off"), log, teams, before=("2024-01-01", "2024-07-01"),
                       after=("2024-07-01", "2025-01-01"))


def test_service_centre_bad_input():
    with pytest.raises(ValueError, match="n_customers"):
        simulate_service_centre(0)
    with pytest.raises(ValueError, match="lacks"):
        simulate_service_centre(10, teams=pd.DataFrame({"talk_minutes": [1.0, 2.0]}, index=["a", "b"]))
    with pytest.raises(ValueError, match="effect"):
        simulate_service_centre(10, n_months=2).true_retention_value(effect=2.0)

"""The simulated company keeps its promises: distributions, corruption rates, the BTYD process,
the campaign effect, determinism and the frozen default world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models import rfm_summary
from crm_models.datasets import CRMWorld, load_crm_world, make_crm_world
from crm_models.datasets.world import _CSV_SCHEMA, SOURCES, _nickname_table, _schema_of, default_world_config

CFG = default_world_config()


def within(observed_rate: float, expected: float, n: int, k: float = 4.0) -> bool:
    """Is a binomial proportion within ``k`` standard errors of its expected value?"""
    se = np.sqrt(max(expected * (1 - expected), 1e-4) / n)
    return abs(observed_rate - expected) <= k * se


@pytest.fixture(scope="module")
def world() -> CRMWorld:
    # large enough for the statistical checks, small enough to build in a few seconds
    return make_crm_world(20_000, seed=7)


@pytest.fixture(scope="module")
def records(world) -> pd.DataFrame:
    return world.records.merge(world.record_truth.drop(columns="source"), on="record_id", validate="1:1").merge(
        world.people, on="person_id", suffixes=("", "_true"), validate="m:1"
    )


# -- tables and keys -------------------------------------------------------------------------


def test_tables_and_keys(world):
    assert list(world.people.person_id[:2]) == ["P000001", "P000002"]
    assert world.people.person_id.is_unique and world.records.record_id.is_unique
    assert world.transactions.transaction_id.is_unique and world.interactions.interaction_id.is_unique
    assert world.records.record_id.equals(world.record_truth.record_id)
    assert world.records.record_id.str.match(r"^(WEB|STR|CC|ML)-\d{6}$").all()
    assert set(world.records.source) == set(SOURCES)
    known = pd.Index(world.records.record_id)
    assert (known.get_indexer(world.transactions.record_id) >= 0).all()
    assert (known.get_indexer(world.interactions.record_id) >= 0).all()
    assert set(world.interactions.type.unique()) == {"web_visit", "call", "email_open", "mail_response", "survey"}
    calls = world.interactions[world.interactions.type == "call"]
    assert set(calls.reason.unique()) == {"inquiry", "complaint", "order"}
    assert world.interactions.loc[world.interactions.type != "call", "reason"].isna().all()
    surveys = world.interactions[world.interactions.type == "survey"]
    assert surveys.satisfaction.between(1, 5).all() and surveys.nps.between(0, 10).all()
    assert world.interactions.loc[world.interactions.type != "survey", "satisfaction"].isna().all()
    documented = set(zip(world.data_dictionary.table, world.data_dictionary.column))
    for table in world.TABLES:
        if table == "data_dictionary":
            continue
        df = getattr(world, table)
        cols = set(df.columns) | ({df.index.name} if df.index.name else set())
        assert cols == {c for t, c in documented if t == table}, table


def test_promotions_reveal_price_sensitivity(world):
    tx = world.transactions_by_person().merge(world.people[["person_id", "price_sensitivity"]], on="person_id")
    assert set(tx.discount.unique()) <= {0.0, 0.1, 0.2, 0.3, CFG["campaign"]["discount"]}
    share = tx.assign(promo=tx.discount > 0).groupby("person_id").agg(promo=("promo", "mean"),
                                                                     ps=("price_sensitivity", "first"))
    assert share.promo.corr(share.ps) > 0.2
    expected = CFG["promotions"]["max_share"] * tx.price_sensitivity.mean()
    assert within((tx.discount[~tx.transaction_id.isin(world.campaign.induced_transaction_id)] > 0).mean(),
                  expected, len(tx))


def test_future_holds_the_same_people_after_end(world):
    end = pd.Timestamp(world.config["end"]) + pd.Timedelta(days=1)
    hold = pd.Timestamp(world.config["holdout_end"]) + pd.Timedelta(days=1)
    assert world.transactions.timestamp.max() < end <= world.future_transactions.timestamp.min()
    assert world.future_transactions.timestamp.max() < hold
    fut = world.transactions_by_person(future=True).groupby("person_id").size()
    f = world.future.set_index("person_id")
    assert (f.n_purchases.reindex(fut.index) == fut).all() and f.n_purchases.sum() == len(fut.index.repeat(fut))
    assert not (f.n_purchases[~f.alive_at_end] > 0).any()
    p = world.people.set_index("person_id")
    assert np.allclose(f.treatment_extra_purchase_prob, f.alive_at_end * p.campaign_response_prob)
    # the true conditional expectation predicts the realised holdout purchases
    se = f.n_purchases.std() / np.sqrt(len(f))
    assert abs(f.n_purchases.mean() - f.expected_purchases.mean()) < 4 * se


# -- records per person ----------------------------------------------------------------------


def test_records_per_person_follow_the_stated_distribution(world):
    rt = world.record_truth
    n_systems = rt.groupby("person_id").source.nunique().reindex(world.people.person_id)
    assert n_systems.notna().all(), "every person has at least one record"
    observed = np.bincount(n_systems.astype(int), minlength=5)[1:]
    expected = np.asarray(CFG["n_systems_probs"]) * len(n_systems)
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    assert (n_systems.to_numpy() == world.people.n_systems.to_numpy()).all()
    dup = rt.groupby("person_id").is_duplicate_account.sum().reindex(world.people.person_id)
    assert dup.max() == 1
    assert within(dup.mean(), CFG["duplicate_account_rate"], len(dup))
    per_person = rt.groupby("person_id").size().reindex(world.people.person_id)
    assert (per_person == n_systems + dup).all()
    # the first record of each person is in the acquisition channel, opened at acquisition
    first = world.records.merge(rt[["record_id", "person_id"]]).sort_values(["created_at", "record_id"])
    first = first.groupby("person_id").head(1).set_index("person_id").reindex(world.people.person_id)
    assert (first.source.to_numpy() == world.people.acquisition_channel.to_numpy()).all()
    assert (first.created_at.to_numpy() == world.people.acquisition_date.to_numpy()).all()


def test_households_and_movers(world, records):
    p = world.people
    hh = p.groupby("household_id").size()
    shared = hh[hh > 1]
    assert within((p.household_id.isin(shared.index) & (p.household_id != "H" + p.person_id.str[1:])).mean(),
                  CFG["household_rate"], len(p))
    same_addr = p[p.household_id.isin(shared.index)].groupby("household_id")[["street", "postcode"]].nunique()
    assert (same_addr == 1).all().all()
    moved = p.moved_at.notna()
    assert p.previous_street[moved].notna().all() and p.previous_street[~moved].isna().all()
    old = records[records.old_address]
    assert (old.created_at < old.moved_at).all()
    plain = old[~old.street_typo & old.street.notna() & (old.source == "web")]
    assert (plain.street == plain.previous_street).all() and len(plain) > 0


# -- corruption ------------------------------------------------------------------------------


def test_corruption_rates_are_as_configured(world, records):
    c = CFG["corruption"]
    r = records
    n = len(r)
    nick_able = r.first_name_true.isin(list(_nickname_table()))
    assert within((r.first_name_variant[nick_able] == "nickname").mean(), c["nickname"], nick_able.sum())
    assert within((r.first_name_variant == "initial").mean(), c["initial"], n)
    assert within((r.first_name_variant == "typo").mean(), c["first_name_typo"], n)
    assert within(r.last_name_typo.mean(), c["last_name_typo"], n)
    assert within((r.name_layout == "swapped").mean(), c["swap_names"], n)
    assert within(r.name_layout.str.startswith("combined").mean(), c["combined_name"], n)
    for flag, field, rate in [("email_typo", "email", "email_typo"), ("phone_typo", "phone", "phone_typo"),
                              ("dob_error", "date_of_birth", "dob_error"), ("street_typo", "street", "street_typo"),
                              ("postcode_typo", "postcode", "postcode_typo")]:
        present = r[field].notna()
        assert not r.loc[~present, flag].any()
        assert within(r.loc[present, flag].mean(), c[rate], present.sum()), flag
    for source in SOURCES:
        sub = r[r.source == source]
        for field, rate in CFG["missing"][source].items():
            empty = sub[field].isna()
            if field == "first_name":
                empty = empty & (sub.name_layout != "combined_last")
            if field == "last_name":
                empty = empty & (sub.name_layout != "combined_first")
            assert within(empty.mean(), rate, len(sub)), (source, field)


def test_corruption_flags_explain_every_difference(records):
    """A record without corruption flags shows the person's data exactly, up to source formats."""
    r = records
    normal = (r.name_layout == "normal") & r.first_name.notna()
    clean = normal & (r.first_name_variant == "none")
    assert (r.first_name[clean].str.lower() == r.first_name_true[clean].str.lower()).all()
    nick = normal & (r.first_name_variant == "nickname")
    table = _nickname_table()
    assert all(a.lower() in {x.lower() for x in table[b]} for a, b in zip(r.first_name[nick], r.first_name_true[nick]))
    ini = normal & (r.first_name_variant == "initial")
    assert (r.first_name[ini].str.rstrip(".").str.len() == 1).all()
    assert (r.first_name[ini].str[0].str.upper() == r.first_name_true[ini].str[0]).all()
    ok = (r.name_layout == "normal") & ~r.last_name_typo
    assert (r.last_name[ok].str.lower() == r.last_name_true[ok].str.lower()).all()
    swapped = (r.name_layout == "swapped") & (r.first_name_variant == "none") & ~r.last_name_typo & r.first_name.notna()
    assert (r.first_name[swapped].str.lower() == r.last_name_true[swapped].str.lower()).all()
    em = r.email.notna() & ~r.email_typo & ~r.alternative_email
    assert (r.email[em] == r.email_true[em]).all()
    ph = r.phone.notna() & ~r.phone_typo
    digits = r.phone[ph].str.replace(r"\D", "", regex=True).str[-10:]
    assert (digits == r.phone_true[ph].str[-10:]).all()
    for source, fmt in CFG["date_formats"].items():
        m = (r.source == source) & r.date_of_birth.notna()
        parsed = pd.to_datetime(r.date_of_birth[m], format=fmt)
        exact = (parsed == r.date_of_birth_true[m])
        assert (exact == ~r.dob_error[m]).all(), source
    pc = r.postcode.notna() & ~r.postcode_typo
    true_pc = r.previous_postcode.where(r.old_address, r.postcode_true)
    assert (r.postcode[pc] == true_pc[pc]).all()
    assert r.postcode.dropna().str.fullmatch(r"\d{5}").all()
    # source formats
    store = r[(r.source == "store") & r.phone.notna()]
    assert store.phone.str.fullmatch(r"\(\d{3}\) \d{3}-\d{4}").all()
    assert r.loc[(r.source == "web") & r.phone.notna(), "phone"].str.fullmatch(r"\+1\d{10}").all()


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError, match="unknown setting 'corruption.nick'"):
        make_crm_world(10, corruption={"nick": 0.1})
    with pytest.raises(ValueError, match="shares"):
        make_crm_world(10, segments={"value_seekers": {"share": 0.9}})
    with pytest.raises(ValueError, match="start < end"):
        make_crm_world(10, start="2024-01-01", end="2023-01-01")
    with pytest.raises(ValueError, match="n_customers"):
        make_crm_world(0)
    with pytest.raises(ValueError, match="missing.web.email"):
        make_crm_world(10, missing={"web": {"email": 1.5}})
    with pytest.raises(ValueError, match="en_US"):
        make_crm_world(10, locale="de_DE")


def test_configured_rates_change_the_world():
    w = make_crm_world(1500, seed=3, corruption={"nickname": 0.0, "initial": 0.5}, duplicate_account_rate=0.0)
    assert (w.record_truth.first_name_variant != "nickname").all()
    assert within((w.record_truth.first_name_variant == "initial").mean(), 0.5, len(w.record_truth))
    assert not w.record_truth.is_duplicate_account.any()


# -- the purchase process --------------------------------------------------------------------


def test_transactions_lie_inside_each_active_life(world):
    tx = world.transactions_by_person().merge(world.people, on="person_id")
    end = pd.Timestamp(world.config["end"]) + pd.Timedelta(days=1)
    last = tx.dropout_date.fillna(end)
    assert (tx.timestamp >= tx.acquisition_date).all() and (tx.timestamp <= last).all()
    created = world.records.set_index("record_id").created_at
    assert (tx.timestamp.to_numpy() >= created.reindex(tx.record_id).to_numpy()).all()
    # the first purchase is at acquisition; a dropout happens right after the last purchase
    g = tx.groupby("person_id").timestamp
    p = world.people.set_index("person_id")
    assert (g.min() == p.acquisition_date.reindex(g.min().index)).all()
    dropped = p.dropout_date.notna()
    assert (g.max()[dropped] == p.dropout_date[dropped]).all()
    # touchpoints too; a survey may follow the last purchase by up to a week
    it = world.interactions.merge(world.record_truth[["record_id", "person_id"]]).merge(world.people, on="person_id")
    grace = pd.to_timedelta(np.where(it.type == "survey", 7, 0), unit="D")
    assert (it.timestamp >= it.acquisition_date).all() and (it.timestamp <= it.dropout_date.fillna(end) + grace).all()
    assert (it.timestamp < end).all()
    assert (it.timestamp.to_numpy() >= created.reindex(it.record_id).to_numpy()).all()
    fut = world.transactions_by_person(future=True).merge(world.future, on="person_id")
    assert fut.alive_at_end.all() and (fut.timestamp <= fut.dropout_date.fillna(pd.Timestamp.max)).all()


def test_bgnbd_and_gamma_gamma_fits_recover_the_true_segment_parameters(world):
    from crm_models.clv import BetaGeo, GammaGamma

    induced = set(world.campaign.induced_transaction_id.dropna())
    tx = world.transactions_by_person()
    tx = tx[~tx.transaction_id.isin(induced)]  # the campaign's extra purchases are not BG/NBD
    rfm = rfm_summary(tx, "person_id", "timestamp", "amount", observation_period_end=world.config["end"])
    rfm = rfm[rfm["T"] > 0]  # acquired on the last day: no information, and BG/NBD needs T > 0
    segment = world.people.set_index("person_id").needs_segment.reindex(rfm.index)
    for name, truth in world.truth_params.iterrows():
        d = rfm[segment == name]
        bg = BetaGeo().fit(d)
        gg = GammaGamma().fit(d)
        for model, params in ((bg, {"r": "r", "alpha": "alpha", "a": "a", "b": "b"}),
                              (gg, {"p": "p", "q": "q", "v": "gamma"})):
            for ours, theirs in params.items():
                est, se = model.params_[theirs], model.standard_errors_[theirs]
                assert abs(est - truth[ours]) < 4 * se, f"{name} {ours}: fitted {est:.3f} +/- {se:.3f}, true {truth[ours]}"


# -- the campaign ----------------------------------------------------------------------------


def test_campaign_is_randomised_and_its_measured_effect_matches_the_truth(world):
    c = world.campaign
    treat, ctrl = c[c.group == "treatment"], c[c.group == "control"]
    assert within(len(treat) / len(c), CFG["campaign"]["treatment_share"], len(c))
    assert (treat.cost == CFG["campaign"]["cost_per_contact"]).all() and (ctrl.cost == 0).all()
    assert ctrl.induced_transaction_id.isna().all() and (treat.true_uplift >= 0).all()
    # randomisation balances the truth
    assert abs(treat.alive_at_sent.mean() - ctrl.alive_at_sent.mean()) < 4 * np.sqrt(0.5 / len(treat))

    def effect(df, col):
        t, k = df[df.group == "treatment"][col], df[df.group == "control"][col]
        diff = t.mean() - k.mean()
        se = np.sqrt(t.var() / len(t) + k.var() / len(k))
        return diff, se

    diff, se = effect(c, "responded")
    assert abs(diff - c.true_uplift.mean()) < 3.5 * se and diff > 4 * se
    diff, se = effect(c, "revenue_after")
    assert abs(diff - c.true_revenue_uplift.mean()) < 3.5 * se
    # the effect differs by segment as configured
    by_seg = {s: effect(g, "responded") for s, g in c.groupby("needs_segment")}
    for s, g in c.groupby("needs_segment"):
        d, e = by_seg[s]
        assert abs(d - g.true_uplift.mean()) < 4 * e, s
    assert by_seg["value_seekers"][0] > by_seg["premium_loyalists"][0] + 2 * np.hypot(
        by_seg["value_seekers"][1], by_seg["premium_loyalists"][1])


# -- determinism and the frozen world --------------------------------------------------------


def test_same_seed_same_world_other_seed_other_world():
    a, b, c = make_crm_world(400, seed=11), make_crm_world(400, seed=11), make_crm_world(400, seed=12)
    for table in a.TABLES:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.config == b.config
    assert not a.people.first_name.equals(c.people.first_name)
    assert not a.transactions.amount.equals(c.transactions.amount)


def test_frozen_world_loads_with_the_documented_dtypes():
    w = load_crm_world()
    for table, schema in _CSV_SCHEMA.items():
        assert _schema_of(getattr(w, table)) == schema, table
    assert len(w.people) == w.config["n_customers"] == 3000
    assert w.records.postcode.dropna().str.fullmatch(r"\d{5}").all()
    assert list(w.truth_params.index) == list(CFG["segments"])


def test_frozen_world_is_the_default_world():
    import faker

    w = load_crm_world()
    if w.config["faker_version"] != faker.VERSION:
        pytest.skip(f"frozen with Faker {w.config['faker_version']}, installed {faker.VERSION}: "
                    "names may differ; re-freeze with scripts/freeze_crm_world.py")
    fresh = make_crm_world()
    assert fresh.config == w.config
    for table in w.TABLES:
        pd.testing.assert_frame_equal(getattr(w, table), getattr(fresh, table))

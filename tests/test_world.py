"""The simulated company keeps its promises: distributions, corruption rates, the BTYD process,
the campaign effect, determinism, its arguments, saving and loading, and the frozen default world."""

from __future__ import annotations

import inspect
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models import rfm_summary
from crm_models.clv.simulate import beta_geo_purchase_times
from crm_models.datasets import (
    CRMWorld,
    data_path,
    default_world_config,
    load_crm_world,
    make_crm_world,
    save_crm_world,
)
from crm_models.datasets.world import FROZEN_RANDOM_STATE, SOURCES, nickname_table
from crm_models.datasets.world.storage import CSV_SCHEMA, schema_of
from crm_models.errors import DataError

CFG = default_world_config()
ROOT = Path(__file__).resolve().parents[1]


def within(observed_rate: float, expected: float, n: int, k: float = 4.0) -> bool:
    """Is a binomial proportion within ``k`` standard errors of its expected value?"""
    se = np.sqrt(max(expected * (1 - expected), 1e-4) / n)
    return abs(observed_rate - expected) <= k * se


@pytest.fixture(scope="module")
def world() -> CRMWorld:
    # large enough for the statistical checks, small enough to build in a few seconds
    return make_crm_world(20_000, random_state=7)


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
    tx = world.transactions_by_person().merge(
        world.people[["person_id", "price_sensitivity", "acquisition_date"]], on="person_id")
    assert set(tx.discount.unique()) <= {0.0, 0.1, 0.2, 0.3, CFG["campaign"]["discount"]}
    repeat = tx[(tx.timestamp > tx.acquisition_date) & ~tx.transaction_id.isin(world.campaign.induced_transaction_id)]
    share = repeat.assign(promo=repeat.discount > 0).groupby("person_id").agg(promo=("promo", "mean"),
                                                                             ps=("price_sensitivity", "first"))
    assert share.promo.corr(share.ps) > 0.2
    expected = CFG["promotions"]["max_share"] * repeat.price_sensitivity.mean()
    assert within((repeat.discount > 0).mean(), expected, len(repeat))


def test_observable_attributes_are_recorded_and_observable(world):
    """Acquisition on promotion shows in the first purchase's discount, the age band in the date of birth;
    both are drawn as configured and truth_effects holds the configured effects."""
    p = world.people.set_index("person_id")
    tx = world.transactions_by_person()
    first = tx[tx.timestamp == p.acquisition_date.reindex(tx.person_id).to_numpy()].set_index("person_id")
    assert first.index.is_unique and len(first) == len(p)
    assert ((first.discount.reindex(p.index) > 0) == p.acquired_on_promotion).all()
    share = CFG["attributes"]["acquisition_promotion_share"]
    assert within(p.acquired_on_promotion.mean(), share, len(p))
    # independent of price sensitivity
    assert abs(stats.spearmanr(p.acquired_on_promotion, p.price_sensitivity)[0]) < 4 / np.sqrt(len(p))
    age = (pd.Timestamp(world.config["start"]) - p.date_of_birth).dt.days / 365.25
    band = np.select([age < 35, age < 55], ["under_35", "35_to_54"], "55_plus")
    assert (band == p.age_band.to_numpy()).all()
    assert set(p.age_band) == {"under_35", "35_to_54", "55_plus"}
    effects = world.truth_effects
    assert list(effects.index) == ["acquired_on_promotion", "age_under_35", "age_55_plus"]
    for attr, row in effects.iterrows():
        assert row[["purchase", "dropout", "spend"]].to_dict() == CFG["attributes"]["effects"][attr]


def test_attributes_shift_the_latent_traits_as_configured(world):
    """Within a segment, the attributes multiply the mean purchase rate and the mean amount by
    exp(g) and the beta parameters of the dropout probability by exp(g)."""
    p = world.people
    effects = world.truth_effects
    seg = p[p.needs_segment == "value_seekers"]
    truth = world.truth_params.loc["value_seekers"]
    ref = seg[~seg.acquired_on_promotion & (seg.age_band == "35_to_54")]
    promo = seg[seg.acquired_on_promotion & (seg.age_band == "35_to_54")]
    g = effects.loc["acquired_on_promotion"]
    for col, ratio in (("purchase_rate", np.exp(g.purchase)), ("spend_level", np.exp(g.spend))):
        est = promo[col].mean() / ref[col].mean()
        se = est * np.hypot(promo[col].std() / promo[col].mean() / np.sqrt(len(promo)),
                            ref[col].std() / ref[col].mean() / np.sqrt(len(ref)))
        assert abs(est - ratio) < 4 * se, col
    # dropout probability: Beta(a k, b k) has the same mean, variance a b / ((a + b)^2 (a + b + 1)) with k
    k = np.exp(g.dropout)
    a, b = truth.a * k, truth.b * k
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    assert abs(promo.dropout_prob.mean() - truth.a / (truth.a + truth.b)) < 4 * np.sqrt(var / len(promo))
    assert promo.dropout_prob.var() < ref.dropout_prob.var()


def test_future_holds_the_same_people_after_end(world):
    end = pd.Timestamp(world.config["observation_period_end"]) + pd.Timedelta(days=1)
    hold = pd.Timestamp(world.config["holdout_period_end"]) + pd.Timedelta(days=1)
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
    nick_able = r.first_name_true.isin(list(nickname_table()))
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
    table = nickname_table()
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
    with pytest.raises(ValueError, match="start < observation_period_end < holdout_period_end"):
        make_crm_world(10, start="2024-01-01", observation_period_end="2023-01-01")
    with pytest.raises(ValueError, match="n_customers"):
        make_crm_world(0)
    with pytest.raises(ValueError, match="missing.web.email"):
        make_crm_world(10, missing={"web": {"email": 1.5}})
    with pytest.raises(ValueError, match="en_US"):
        make_crm_world(10, locale="de_DE")


def test_configured_rates_change_the_world():
    w = make_crm_world(1500, random_state=3, corruption={"nickname": 0.0, "initial": 0.5}, duplicate_account_rate=0.0)
    assert (w.record_truth.first_name_variant != "nickname").all()
    assert within((w.record_truth.first_name_variant == "initial").mean(), 0.5, len(w.record_truth))
    assert not w.record_truth.is_duplicate_account.any()


# -- the purchase process --------------------------------------------------------------------


def test_transactions_lie_inside_each_active_life(world):
    tx = world.transactions_by_person().merge(world.people, on="person_id")
    end = pd.Timestamp(world.config["observation_period_end"]) + pd.Timedelta(days=1)
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
    rfm = rfm_summary(tx, "person_id", "timestamp", "amount", observation_period_end=world.config["observation_period_end"])
    rfm = rfm[rfm["T"] > 0]  # acquired on the last day: no information, and BG/NBD needs T > 0
    people = world.people.set_index("person_id").reindex(rfm.index)
    # truth_params are those of the reference customer (the attributes shift the others)
    reference = ~people.acquired_on_promotion & (people.age_band == "35_to_54")
    for name, truth in world.truth_params.iterrows():
        d = rfm[(people.needs_segment == name) & reference]
        bg = BetaGeo().fit(d)
        gg = GammaGamma().fit(d)
        # BG/NBD: a likelihood-ratio test of the true parameters (a and b lie on a curved ridge when
        # few customers drop out, where Wald intervals are too narrow)
        lr = 2 * (bg.log_likelihood_ - _bgnbd_log_likelihood(truth, d))
        assert 0 <= lr < stats.chi2.ppf(0.999, 4), f"{name}: LR statistic of the true BG/NBD parameters {lr:.1f}"
        for ours, theirs in {"p": "p", "q": "q", "v": "gamma"}.items():
            est, se = gg.params_[theirs], gg.standard_errors_[theirs]
            assert abs(est - truth[ours]) < 4 * se, f"{name} {ours}: fitted {est:.3f} +/- {se:.3f}, true {truth[ours]}"


def test_covariate_fits_recover_the_attribute_effects_in_every_segment(world):
    """Within a segment the attributes act exactly as in crm_models.clv's covariate models: BG/NBD with
    the three attribute indicators on purchase and dropout, and Gamma-Gamma with them on spend, recover
    truth_effects (each coefficient within 4 standard errors; BG/NBD jointly by a likelihood-ratio test)."""
    from crm_models.clv import BetaGeo, GammaGamma

    induced = set(world.campaign.induced_transaction_id.dropna())
    tx = world.transactions_by_person()
    tx = tx[~tx.transaction_id.isin(induced)]
    rfm = rfm_summary(tx, "person_id", "timestamp", "amount", observation_period_end=world.config["observation_period_end"])
    rfm = rfm[rfm["T"] > 0]
    people = world.people.set_index("person_id").reindex(rfm.index)
    rfm = rfm.assign(acquired_on_promotion=people.acquired_on_promotion.astype(int),
                     age_under_35=(people.age_band == "under_35").astype(int),
                     age_55_plus=(people.age_band == "55_plus").astype(int))
    attributes = list(world.truth_effects.index)
    effects = world.truth_effects
    for name, truth in world.truth_params.iterrows():
        d = rfm[people.needs_segment == name]
        bg = BetaGeo(purchase_covariates=attributes, dropout_covariates=attributes).fit(d)
        gg = GammaGamma(spend_covariates=attributes).fit(d)
        for model, process in ((bg, "purchase"), (bg, "dropout"), (gg, "spend")):
            for attr in attributes:
                key = f"{process}.{attr}"
                est, se = model.coefficients_[key], model.standard_errors_[key]
                true = effects.loc[attr, process]
                assert abs(est - true) < 4 * se, f"{name} {key}: fitted {est:.3f} +/- {se:.3f}, true {true}"
        for ours, theirs in {"p": "p", "q": "q", "v": "gamma"}.items():
            est, se = gg.params_[theirs], gg.standard_errors_[theirs]
            assert abs(est - truth[ours]) < 4 * se, f"{name} {ours}: fitted {est:.3f} +/- {se:.3f}, true {truth[ours]}"
        true_coefs = {f"{p}.{a}": effects.loc[a, p] for p in ("purchase", "dropout") for a in attributes}
        lr = 2 * (bg.log_likelihood_ - _bgnbd_covariate_log_likelihood(bg, d, truth, true_coefs))
        assert 0 <= lr < stats.chi2.ppf(0.999, 10), f"{name}: LR statistic of the true parameters {lr:.1f}"


def _bgnbd_covariate_log_likelihood(model, d, params, coefficients) -> float:
    """The BG/NBD-with-covariates log-likelihood of ``d`` at given parameters (per-customer alpha, a, b)."""
    z = {p: d[[c.split(".", 1)[1] for c in model.coefficients_.index if c.startswith(p)]].to_numpy(float)
         for p in ("purchase", "dropout")}
    g = {p: np.array([coefficients[c] for c in model.coefficients_.index if c.startswith(p)])
         for p in ("purchase", "dropout")}
    rows = pd.DataFrame({"r": params["r"], "alpha": params["alpha"] * np.exp(-z["purchase"] @ g["purchase"]),
                         "a": params["a"] * np.exp(z["dropout"] @ g["dropout"]),
                         "b": params["b"] * np.exp(z["dropout"] @ g["dropout"])}, index=d.index)
    return _bgnbd_log_likelihood(rows, d)


def _bgnbd_log_likelihood(params, d) -> float:
    """BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6), written out independently of crm_models.clv."""
    from scipy.special import betaln, gammaln

    if isinstance(params, pd.DataFrame):  # one row of parameters per customer
        r, alpha, a, b = (params[k].to_numpy(float) for k in ("r", "alpha", "a", "b"))
    else:
        r, alpha, a, b = (float(params[k]) for k in ("r", "alpha", "a", "b"))
    x, t_x, T = d["frequency"].to_numpy(float), d["recency"].to_numpy(float), d["T"].to_numpy(float)
    alive = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        dead = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    ll = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
          + np.logaddexp(alive, dead))
    return float(ll.sum())


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


# -- arguments and determinism ---------------------------------------------------------------


def test_same_random_state_same_world_other_random_state_other_world():
    a, b, c = (make_crm_world(400, random_state=s) for s in (11, 11, 12))
    for table in a.TABLES:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    assert a.config == b.config and a.config["random_state"] == 11
    assert not a.people.first_name.equals(c.people.first_name)
    assert not a.transactions.amount.equals(c.transactions.amount)


def test_random_state_default_and_generator_semantics():
    assert inspect.signature(make_crm_world).parameters["random_state"].default == 0
    pd.testing.assert_frame_equal(make_crm_world(60).people, make_crm_world(60, random_state=0).people)
    # a Generator (or None) yields an int seed that is stored and reproduces the world
    g1 = make_crm_world(60, random_state=np.random.default_rng(5))
    g2 = make_crm_world(60, random_state=np.random.default_rng(5))
    seed = g1.config["random_state"]
    assert isinstance(seed, int) and seed == g2.config["random_state"]
    pd.testing.assert_frame_equal(g1.records, make_crm_world(60, random_state=seed).records)
    fresh = make_crm_world(60, random_state=None)
    pd.testing.assert_frame_equal(fresh.transactions,
                                  make_crm_world(60, random_state=fresh.config["random_state"]).transactions)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_customers": 0}, "n_customers must be a positive integer"),
    ({"n_customers": True}, "n_customers must be a positive integer"),
    ({"n_customers": 2.5}, "n_customers must be a positive integer"),
    ({"random_state": -1}, "random_state must be a non-negative int"),
    ({"random_state": "a"}, "random_state must be None, an int or a numpy Generator"),
    ({"random_state": True}, "random_state must be None, an int or a numpy Generator"),
    ({"start": "not a date"}, "start='not a date' is not a date"),
    ({"observation_period_end": "2024-12-31 12:00"}, "observation_period_end must be a date"),
    ({"holdout_period_end": "2024-06-30"}, "start < observation_period_end < holdout_period_end"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_crm_world(**{"n_customers": 10, **kwargs})


def test_dates_are_keyword_only_and_named_as_in_the_vocabulary():
    params = inspect.signature(make_crm_world).parameters
    assert [p for p in params if params[p].kind is inspect.Parameter.KEYWORD_ONLY] == [
        "start", "observation_period_end", "holdout_period_end", "random_state"]
    with pytest.raises(TypeError):
        make_crm_world(10, "2023-01-01")  # a date passed by position is ambiguous
    w = make_crm_world(30, start="2022-03-01", observation_period_end="2022-12-31", holdout_period_end="2023-03-31")
    assert (w.config["start"], w.config["observation_period_end"], w.config["holdout_period_end"]) == (
        "2022-03-01", "2022-12-31", "2023-03-31")
    assert w.transactions.timestamp.min() >= pd.Timestamp("2022-03-01")
    assert w.transactions.timestamp.max() < pd.Timestamp("2023-01-01") <= w.future_transactions.timestamp.min()
    assert "random_state=0" in repr(w) and "2022-03-01..2022-12-31" in repr(w)


# -- saving and loading ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_world() -> CRMWorld:
    return make_crm_world(120, random_state=3)


def test_save_and_load_round_trip(small_world, tmp_path):
    folder = save_crm_world(small_world, tmp_path / "w")
    assert folder == tmp_path / "w"
    back = load_crm_world(folder)
    for table in small_world.TABLES:
        pd.testing.assert_frame_equal(getattr(back, table), getattr(small_world, table), check_exact=True)
    assert back.config == small_world.config


def test_save_refuses_to_overwrite_unless_asked(small_world, tmp_path):
    save_crm_world(small_world, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_crm_world(small_world, tmp_path)
    save_crm_world(small_world, tmp_path, overwrite=True)
    with pytest.raises(TypeError, match="CRMWorld"):
        save_crm_world(small_world.people, tmp_path / "x")


def test_load_names_what_is_wrong_with_a_folder(small_world, tmp_path):
    save_crm_world(small_world, tmp_path)
    (tmp_path / "future.csv").unlink()
    with pytest.raises(FileNotFoundError, match="future.csv"):
        load_crm_world(tmp_path)
    save_crm_world(small_world, tmp_path, overwrite=True)
    pd.read_csv(tmp_path / "transactions.csv").drop(columns="amount").to_csv(tmp_path / "transactions.csv",
                                                                              index=False)
    with pytest.raises(DataError) as err:
        load_crm_world(tmp_path)
    assert err.value.column == "amount" and "transactions.csv" in str(err.value)
    save_crm_world(small_world, tmp_path, overwrite=True)
    cfg = dict(small_world.config)
    cfg["seed"] = cfg.pop("random_state")
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(DataError, match="lacks the setting 'random_state'") as err:
        load_crm_world(tmp_path)
    assert err.value.column == "random_state"


# -- the frozen world ------------------------------------------------------------------------


def test_frozen_world_loads_with_the_documented_dtypes():
    w = load_crm_world()
    for table, schema in CSV_SCHEMA.items():
        assert schema_of(getattr(w, table)) == schema, table
    assert len(w.people) == w.config["n_customers"] == 3000
    assert w.config["random_state"] == FROZEN_RANDOM_STATE
    assert w.records.postcode.dropna().str.fullmatch(r"\d{5}").all()
    assert list(w.truth_params.index) == list(CFG["segments"])


def _skip_unless_frozen_faker(config: dict) -> None:
    import faker

    if config["faker_version"] != faker.VERSION:
        pytest.skip(f"frozen with Faker {config['faker_version']}, installed {faker.VERSION}: "
                    "names may differ; re-freeze with scripts/freeze_crm_world.py")


def test_frozen_world_is_make_crm_world_with_the_frozen_random_state():
    w = load_crm_world()
    _skip_unless_frozen_faker(w.config)
    fresh = make_crm_world(random_state=FROZEN_RANDOM_STATE)
    assert fresh.config == w.config
    for table in w.TABLES:
        pd.testing.assert_frame_equal(getattr(w, table), getattr(fresh, table))


def test_freeze_script_regenerates_every_frozen_file_byte_for_byte(tmp_path):
    """scripts/freeze_crm_world.py writes exactly the shipped files (it pins numpy's non-AVX-512 code
    paths, whose exp and power round the last bit differently, so x86-64 machines agree bit for bit;
    elsewhere float cells may differ in the last digits and are compared to 1e-6)."""
    frozen = data_path("crm_world")
    _skip_unless_frozen_faker(json.loads((frozen / "config.json").read_text()))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    subprocess.run([sys.executable, str(ROOT / "scripts" / "freeze_crm_world.py"), "--folder", str(tmp_path)],
                   check=True, capture_output=True, env=env)
    names = sorted(p.name for p in frozen.iterdir() if p.is_file())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    strict = platform.machine().lower() in ("x86_64", "amd64")
    for name in names:
        mine, shipped = (tmp_path / name).read_bytes(), (frozen / name).read_bytes()
        if mine == shipped:
            continue
        assert not strict and name.endswith(".csv"), f"{name} differs from the shipped file"
        a, b = (pd.read_csv(f, dtype=str, keep_default_na=False) for f in (tmp_path / name, frozen / name))
        assert a.shape == b.shape and list(a.columns) == list(b.columns), name
        for col in a.columns:
            if not a[col].equals(b[col]):
                np.testing.assert_allclose(pd.to_numeric(a[col]), pd.to_numeric(b[col]), rtol=1e-6,
                                           err_msg=f"{name}: {col}")


# -- the shared BG/NBD purchase process ------------------------------------------------------


def _simulate_beta_geo_log(n, params, start, acquisition_end, observation_period_end, random_state):
    """simulate_beta_geo_log, the dated log simulator that shares the purchase process."""
    from crm_models.clv.simulate import simulate_beta_geo_log

    return simulate_beta_geo_log(n, params, start, acquisition_end, observation_period_end, random_state)


@pytest.mark.parametrize("random_state", [0, 7])
def test_purchase_process_reproduces_simulate_beta_geo_log(random_state):
    """The same draws in the same order: the log simulator's purchases are the shared core's, exactly."""
    n, params = 3000, {"r": 0.6, "alpha": 8.0, "a": 0.8, "b": 2.5}
    start, acq_end, obs_end = pd.Timestamp("2021-01-01"), pd.Timestamp("2021-03-31"), pd.Timestamp("2021-12-31")
    reference = _simulate_beta_geo_log(n, params, start, acq_end, obs_end, random_state)

    day = pd.Timedelta(days=1)
    rng = np.random.default_rng(random_state)
    first = rng.uniform(0.0, (acq_end - start) / day, n)  # days after start
    window = (obs_end - start) / day - first  # days after each first purchase
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    draws = beta_geo_purchase_times(lam, p, window, rng)
    days = np.concatenate([first, first[draws.owner] + draws.time])
    expected = pd.DataFrame({"customer_id": np.concatenate([np.arange(n), draws.owner]),
                             "timestamp": start + pd.to_timedelta(days, unit="D")})
    expected = expected.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(reference, expected, check_exact=True)
    assert len(reference) > 1.5 * n and 0.1 < draws.dropped.mean() < 0.9  # a non-trivial log


def test_purchase_process_follows_the_bg_nbd_story():
    rng = np.random.default_rng(1)
    n = 20_000
    lam, window = np.full(n, 0.5), np.full(n, 10.0)
    # p = 1: everyone who buys again drops out right after that first repeat purchase
    d = beta_geo_purchase_times(lam, np.ones(n), window, rng)
    counts = np.bincount(d.owner, minlength=n)
    assert counts.max() == 1 and (d.dropped == (counts == 1)).all()
    assert np.array_equal(d.dropout_time[d.owner], d.time)
    # p -> 0: nobody leaves, purchases are Poisson(lambda * window), times uniform in the window
    d = beta_geo_purchase_times(lam, np.full(n, 1e-12), window, rng)
    counts = np.bincount(d.owner, minlength=n)
    assert not d.dropped.any() and np.isinf(d.dropout_time).all()
    assert abs(counts.mean() - 5.0) < 4 * np.sqrt(5.0 / n) and abs(counts.var() - 5.0) < 0.3
    assert abs(d.time.mean() - 5.0) < 4 * 10 / np.sqrt(12 * d.time.size)
    # sorted by owner, then time; every time inside the window
    key = d.owner * 100.0 + d.time
    assert (np.diff(key) >= 0).all() and (d.time >= 0).all() and (d.time < 10.0).all()
    # in between: each customer keeps min(N, J) purchases and drops out after the last one kept
    d = beta_geo_purchase_times(lam, np.full(n, 0.3), window, rng)
    last = pd.Series(d.time).groupby(d.owner).max()
    dropped = np.flatnonzero(d.dropped)
    assert np.array_equal(d.dropout_time[dropped], last.reindex(dropped).to_numpy())
    with pytest.raises(ValueError, match="one length"):
        beta_geo_purchase_times(lam, np.full(3, 0.5), window, rng)


def test_dropout_follows_the_last_purchase_in_the_holdout_too(world):
    """Dropping out happens right after a repeat purchase (BG/NBD), whether before or after the
    end of observation, and nobody buys after it."""
    tx = pd.concat([world.transactions_by_person(), world.transactions_by_person(future=True)])
    f = world.future.set_index("person_id")
    last = tx.groupby("person_id").timestamp.max()
    dropped = f.dropout_date.notna()
    in_holdout = dropped & ~f.alive_at_holdout_end & f.alive_at_end
    assert in_holdout.sum() > 100 and (dropped == ~f.alive_at_holdout_end).all()
    assert (last.reindex(f.index[dropped]) == f.dropout_date[dropped]).all()

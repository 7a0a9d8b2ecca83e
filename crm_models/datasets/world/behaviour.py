"""How the simulated company's customers behave: latent traits, purchases, spend, touchpoints, campaign, future.

1. **Latent traits.** Every person belongs to a needs segment ``s``, has observable attributes
   ``z`` (acquired on promotion or not, age band; 0/1 indicators, see
   :data:`~crm_models.datasets.world.config.ATTRIBUTES`) and draws a purchase rate
   ``lambda ~ Gamma(r_s, alpha_s exp(-g_purchase' z))`` per week, a dropout probability
   ``p ~ Beta(a_s exp(g_dropout' z), b_s exp(g_dropout' z))`` and a spend scale
   ``nu ~ Gamma(q_s, v_s exp(g_spend' z))``: the BG/NBD model (Fader, Hardie & Lee 2005) with
   gamma-gamma spend (Fader, Hardie & Lee 2005b), with the attributes acting as in
   :mod:`crm_models.clv`'s covariate models, plus channel weights, a preferred category,
   a price sensitivity, a satisfaction propensity and a campaign response probability
   (:func:`draw_population`). Acquisition (the first purchase) is uniform over the
   observation period.
2. **Purchases.** Repeat purchases follow the BG/NBD process up to the end of the holdout
   period, drawn by :func:`crm_models.clv.simulate.beta_geo_purchase_times`
   (:func:`draw_purchases`).
3. **Spend.** Each purchase's category, amount (``Gamma(p_s, nu)`` USD, mean ``p_s / nu``) and
   promotion (:func:`purchase_details`).
4. **Touchpoints.** Web visits, email opens, mail responses and calls are Poisson streams on
   each account during the active life; an ``order`` call accompanies every call-centre purchase
   and a survey follows some purchases (:func:`draw_touchpoints`).
5. **The campaign.** A randomised retention campaign adds, for treated customers still
   alive, an extra purchase with a probability set by segment and value (:func:`draw_campaign`,
   :func:`campaign_table`).
6. **The future.** What each person really does in the holdout period and what a perfect
   model would expect (:func:`future_table`); the population parameters per segment
   (:func:`truth_params_table`) and the attributes' effects (:func:`truth_effects_table`).

Times are floats in weeks after each person's acquisition; "end" is the first instant after
the observation period, "holdout end" the first instant after the holdout period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models.clv.simulate import beta_geo_purchase_times
from crm_models.datasets.world._arrays import (
    DATETIME,
    WEEK_SECONDS,
    categorical,
    ids,
    labels,
    poisson_events,
    weeks_to_timestamps,
)
from crm_models.datasets.world.config import (
    AGE_BANDS,
    ATTRIBUTES,
    CALL_REASONS,
    CATEGORIES,
    INTERACTION_CHANNELS,
    INTERACTION_TYPES,
    PROCESSES,
    SOURCES,
)

#: Internal steps of :func:`crm_models.datasets.make_crm_world`; nothing here is public API.
__all__: list[str] = []


@dataclass(frozen=True)
class Period:
    """The simulated calendar: ``start``, ``end`` (first instant after the observation period)
    and ``holdout_end`` (first instant after the holdout period)."""

    start: pd.Timestamp
    end: pd.Timestamp
    holdout_end: pd.Timestamp


@dataclass
class Population:
    """The people and their latent traits, one entry per person (arrays of length n)."""

    segment_names: list[str]
    segments: list[dict]
    segment: np.ndarray  # index into segment_names
    acquired: np.ndarray  # datetime64[s], time of the first purchase
    weeks_to_end: np.ndarray  # from acquisition to the end of observation
    weeks_to_holdout_end: np.ndarray  # from acquisition to the end of the holdout
    age: np.ndarray  # years, at the start of observation
    acquired_on_promotion: np.ndarray  # bool: the first purchase was on promotion
    attributes: np.ndarray  # (n, len(ATTRIBUTES)) 0/1 indicators that shift the parameters
    purchase_rate: np.ndarray  # BG/NBD lambda, per week
    dropout_prob: np.ndarray  # BG/NBD p
    spend_rate: np.ndarray  # gamma-gamma nu, per USD
    spend_shape: np.ndarray  # gamma-gamma p of the person's segment
    spend_level: np.ndarray  # mean amount, spend_shape / spend_rate, USD
    channel_weights: np.ndarray  # (n, len(SOURCES)), rows sum to 1
    category_mix: np.ndarray  # (n_segments, len(CATEGORIES)), the segments' category mixes
    preferred_category: np.ndarray  # index into CATEGORIES
    price_sensitivity: np.ndarray  # 0-1
    response_prob: np.ndarray  # P(extra purchase | treated and alive)
    satisfaction: np.ndarray  # z-score

    def __len__(self) -> int:
        return self.segment.size

    def segment_values(self, key: str) -> np.ndarray:
        """Setting ``key`` of every segment, in segment order."""
        return segment_values(self.segments, key)


@dataclass
class Lives:
    """Each person's purchases (first at week 0, to the holdout end) and when they dropped out."""

    dropped: np.ndarray  # dropped out before the holdout end
    dropout: np.ndarray  # weeks after acquisition, inf if alive at the holdout end
    active_until: np.ndarray  # end of the observed active life: min(dropout, weeks_to_end)
    person: np.ndarray  # owner of each purchase, sorted by person then time
    time: np.ndarray  # weeks after the owner's acquisition


def segment_values(segments: list[dict], key: str) -> np.ndarray:
    """Setting ``key`` of every segment, as floats in segment order."""
    return np.array([s[key] for s in segments], dtype=float)


def median_spend_level(segments: list[dict]) -> np.ndarray:
    """Population median of the spend level ``p / nu`` per segment: ``p v / median(Gamma(q, 1))`` (USD)."""
    from scipy.stats import gamma as gamma_dist

    return segment_values(segments, "p") * segment_values(segments, "v") / gamma_dist.ppf(
        0.5, segment_values(segments, "q"))


def age_band_codes(age: np.ndarray) -> np.ndarray:
    """Position in :data:`~crm_models.datasets.world.config.AGE_BANDS` of each age (years)."""
    return np.searchsorted(np.array([lo for _, lo in AGE_BANDS[1:]]), age, side="right")


def draw_population(cfg: dict, rng: np.random.Generator, period: Period) -> Population:
    """Segments, acquisition times and latent traits of ``cfg["n_customers"]`` people."""
    n = cfg["n_customers"]
    names = list(cfg["segments"])
    segs = [cfg["segments"][s] for s in names]
    seg = rng.choice(len(segs), size=n, p=segment_values(segs, "share"))
    # acquisition: uniform over [start, end) at whole minutes
    span_min = int((period.end - period.start) / pd.Timedelta(minutes=1))
    acq_min = np.sort(rng.integers(0, span_min, n))
    acquired = np.datetime64(period.start, "s") + (acq_min * 60).astype("timedelta64[s]")
    to_end = (np.datetime64(period.end, "s") - acquired).astype(np.int64) / WEEK_SECONDS
    to_hold = (np.datetime64(period.holdout_end, "s") - acquired).astype(np.int64) / WEEK_SECONDS
    # observable attributes: acquisition on promotion, age (band) at the start
    attr_cfg = cfg["attributes"]
    promo = rng.random(n) < attr_cfg["acquisition_promotion_share"]
    age_ms = np.array([s["age"] for s in segs], dtype=float)[seg]
    age = np.clip(age_ms[:, 0] + age_ms[:, 1] * rng.normal(0, 1, n), 18, 92)
    age = np.round(age * 365.25) / 365.25  # whole days, so the date of birth gives the same age band
    band = age_band_codes(age)
    z = np.column_stack([promo, band == 0, band == 2]).astype(float)  # in the order of ATTRIBUTES
    g = np.array([[attr_cfg["effects"][a][proc] for a in ATTRIBUTES] for proc in PROCESSES])  # (process, attribute)
    shift = np.exp(z @ g.T)  # (n, process): exp(g' z) per person and process
    lam = rng.gamma(segment_values(segs, "r")[seg], shift[:, 0] / segment_values(segs, "alpha")[seg])
    k = shift[:, 1]
    p = np.clip(rng.beta(segment_values(segs, "a")[seg] * k, segment_values(segs, "b")[seg] * k), 1e-6, 1 - 1e-9)
    nu = rng.gamma(segment_values(segs, "q")[seg], 1.0 / (segment_values(segs, "v")[seg] * shift[:, 2]))
    shape = segment_values(segs, "p")[seg]
    spend_level = shape / nu
    chan = np.array([[s["channels"][c] for c in SOURCES] for s in segs])
    g = rng.gamma(cfg["channel_concentration"] * chan[seg])
    weights = np.maximum(g / g.sum(axis=1, keepdims=True), 1e-12)
    cat = np.array([[s["categories"][c] for c in CATEGORIES] for s in segs])
    pref_cat = categorical(rng, cat[seg])
    ps = np.array([s["price_sensitivity"] for s in segs])
    price_sens = rng.beta(ps[seg, 0], ps[seg, 1])
    # campaign response: P(extra purchase | treated and alive), by segment and value, relative to
    # the segment's population median spend level
    cc = cfg["campaign"]
    u = segment_values(segs, "campaign_uplift")[seg] * (spend_level / median_spend_level(segs)[seg]) ** cc[
        "value_elasticity"]
    response_prob = np.clip(u, 0.0, cc["max_uplift"])
    # satisfaction propensity: higher for low dropout probability (standardised logit p)
    lp = np.log(p / (1 - p))
    sat_z = -(lp - lp.mean()) / (lp.std() + 1e-12) * 0.8 + rng.normal(0, 0.6, n)
    return Population(
        segment_names=names, segments=segs, segment=seg, acquired=acquired, weeks_to_end=to_end,
        weeks_to_holdout_end=to_hold, age=age, acquired_on_promotion=promo, attributes=z, purchase_rate=lam,
        dropout_prob=p, spend_rate=nu, spend_shape=shape,
        spend_level=spend_level, channel_weights=weights, category_mix=cat, preferred_category=pref_cat,
        price_sensitivity=price_sens, response_prob=response_prob, satisfaction=sat_z,
    )


def draw_purchases(pop: Population, rng: np.random.Generator) -> Lives:
    """The BG/NBD purchases of every person from acquisition to the holdout end."""
    n = len(pop)
    repeat = beta_geo_purchase_times(pop.purchase_rate, pop.dropout_prob, pop.weeks_to_holdout_end, rng)
    person = np.concatenate([np.arange(n), repeat.owner])
    time = np.concatenate([np.zeros(n), repeat.time])
    order = np.lexsort((time, person))
    return Lives(
        dropped=repeat.dropped, dropout=repeat.dropout_time,
        active_until=np.minimum(repeat.dropout_time, pop.weeks_to_end),
        person=person[order], time=time[order],
    )


def purchase_details(cfg: dict, rng: np.random.Generator, pop: Population, person: np.ndarray, t: np.ndarray,
                     record: np.ndarray, discount: np.ndarray) -> pd.DataFrame:
    """Category, amount and promotion of purchases by ``person`` at ``t`` through ``record`` (row positions).

    ``discount`` is the campaign's discount (0 for ordinary purchases); a first purchase
    (``t == 0``) is on promotion when the person was acquired on promotion, any other ordinary
    purchase with probability ``max_share * price_sensitivity``. Returns the internal frame
    ``person, t, timestamp, rec, cat, amount, discount``.
    """
    seg = pop.segment[person]
    pref = rng.random(person.size) < cfg["preferred_category_share"]
    cat = np.where(pref, pop.preferred_category[person], categorical(rng, pop.category_mix[seg]))
    amount = rng.gamma(pop.spend_shape[person], 1.0 / pop.spend_rate[person]) * (1 - discount)
    amount = np.maximum(np.round(amount, 2), 0.01)
    promo = cfg["promotions"]
    on_promo = rng.random(person.size) < promo["max_share"] * pop.price_sensitivity[person]
    on_promo = np.where(t == 0, pop.acquired_on_promotion[person], on_promo)
    depth = np.asarray(promo["depths"], float)[rng.integers(0, len(promo["depths"]), person.size)]
    discount = np.where(discount > 0, discount, np.where(on_promo, depth, 0.0))
    return pd.DataFrame({
        "person": person, "t": t, "timestamp": weeks_to_timestamps(pop.acquired[person], t), "rec": record,
        "cat": cat, "amount": amount, "discount": discount,
    })


# -- the campaign ---------------------------------------------------------------------------------


@dataclass
class CampaignDesign:
    """Who was randomised to what, and the purchases the campaign caused."""

    eligible: np.ndarray  # persons acquired before the send date
    treated: np.ndarray  # per eligible person
    record: np.ndarray  # record row the campaign was sent to, per eligible person
    alive: np.ndarray  # per eligible person: not dropped out at sending
    response_prob: np.ndarray  # per eligible person
    sent_weeks: np.ndarray  # per person: send time in weeks after acquisition
    sent_at: np.datetime64
    induced: pd.DataFrame  # the extra purchases (internal purchase frame)


def empty_campaign_table() -> pd.DataFrame:
    """The campaign table of a world without a campaign: no rows, the documented columns."""
    return pd.DataFrame({
        "person_id": pd.Series([], dtype="str"), "record_id": pd.Series([], dtype="str"),
        "group": pd.Series([], dtype="str"), "sent_at": pd.Series([], dtype=DATETIME),
        "cost": pd.Series([], dtype=float), "responded": pd.Series([], dtype=bool),
        "revenue_after": pd.Series([], dtype=float), "needs_segment": pd.Series([], dtype="str"),
        "alive_at_sent": pd.Series([], dtype=bool), "true_uplift": pd.Series([], dtype=float),
        "true_revenue_uplift": pd.Series([], dtype=float), "induced_transaction_id": pd.Series([], dtype="str"),
    })


def draw_campaign(cfg: dict, rng: np.random.Generator, period: Period, pop: Population, lives: Lives,
                  record_person: np.ndarray, record_created: np.ndarray) -> CampaignDesign:
    """Randomise everyone acquired before the send date; treated people still alive may buy once more.

    ``record_person`` and ``record_created`` give each source-system record's person and
    opening time (weeks after acquisition); the campaign goes to the newest record at sending.
    """
    cc = cfg["campaign"]
    sent = np.datetime64(period.end - pd.Timedelta(days=1) - pd.Timedelta(weeks=cc["weeks_before_end"])
                         + pd.Timedelta(hours=9), "s")
    s_w = (sent - pop.acquired).astype(np.int64) / WEEK_SECONDS  # weeks after acquisition
    elig = np.flatnonzero(s_w > 0)
    treat = rng.random(elig.size) < cc["treatment_share"]
    r_ok = record_created <= s_w[record_person]
    cand = pd.DataFrame({"p": record_person[r_ok], "c": record_created[r_ok], "r": np.flatnonzero(r_ok)})
    cand = cand.sort_values(["p", "c", "r"]).groupby("p").tail(1).set_index("p")["r"]
    rec = cand.reindex(elig).to_numpy().astype(np.int64)
    alive = lives.dropout[elig] > s_w[elig]
    u = pop.response_prob[elig]
    w = cc["response_window_weeks"]
    extra = treat & alive & (rng.random(elig.size) < u)
    # the extra purchase is uniform in the window (and before a dropout inside it)
    p_extra = elig[extra]
    lo = s_w[p_extra]
    hi = np.minimum(lo + w, np.minimum(lives.dropout[p_extra], pop.weeks_to_end[p_extra]))
    t_extra = lo + rng.random(p_extra.size) * np.maximum(hi - lo, 0)
    induced = purchase_details(cfg, rng, pop, p_extra, t_extra, rec[extra], np.full(p_extra.size, cc["discount"]))
    return CampaignDesign(eligible=elig, treated=treat, record=rec, alive=alive, response_prob=u, sent_weeks=s_w,
                          sent_at=sent, induced=induced)


def campaign_table(cfg: dict, design: CampaignDesign, purchases: pd.DataFrame, pop: Population,
                   person_ids: np.ndarray, record_ids: np.ndarray) -> pd.DataFrame:
    """The ``campaign`` table: design, observed outcome in the response window, and the true effect."""
    cc = cfg["campaign"]
    elig, s_w, w = design.eligible, design.sent_weeks, cc["response_window_weeks"]
    tx = purchases[["person", "t", "amount"]]
    lo = s_w[tx["person"].to_numpy()]
    in_win = (tx["t"].to_numpy() >= lo) & (tx["t"].to_numpy() < lo + w)
    agg = tx[in_win].groupby("person")["amount"].agg(["size", "sum"]).reindex(elig, fill_value=0)
    lam = pop.purchase_rate[elig]
    return pd.DataFrame({
        "person_id": person_ids[elig],
        "record_id": record_ids[design.record],
        "group": np.where(design.treated, "treatment", "control"),
        "sent_at": np.full(elig.size, design.sent_at).astype(DATETIME),
        "cost": np.where(design.treated, cc["cost_per_contact"], 0.0),
        "responded": agg["size"].to_numpy() > 0,
        "revenue_after": np.round(agg["sum"].to_numpy(), 2),
        "needs_segment": np.array(pop.segment_names, dtype=object)[pop.segment[elig]],
        "alive_at_sent": design.alive,
        "true_uplift": design.alive * design.response_prob * np.exp(-lam * w),
        "true_revenue_uplift": design.alive * design.response_prob * pop.spend_level[elig] * (1 - cc["discount"]),
    }).astype({"person_id": "str", "record_id": "str", "group": "str", "needs_segment": "str"})


# -- touchpoints ----------------------------------------------------------------------------------


def draw_touchpoints(cfg: dict, rng: np.random.Generator, pop: Population, lives: Lives, records,
                     purchases: pd.DataFrame) -> pd.DataFrame:
    """The ``interactions`` table: every touchpoint on every record during the observed active life.

    ``records`` is the :class:`~crm_models.datasets.world.records.Records` of the world and
    ``purchases`` the observed purchases (internal purchase frame).
    """
    rp, rs = records.person, records.source
    start = records.created
    stop = lives.active_until[rp]
    seg = pop.segment[rp]
    parts = []

    def add(rec_idx, t, typ, channel, reason=-1, sat=None, nps=None):
        n = rec_idx.size
        parts.append((rec_idx, t, np.full(n, INTERACTION_TYPES.index(typ)), np.broadcast_to(reason, (n,)),
                      np.full(n, np.nan) if sat is None else sat, np.full(n, np.nan) if nps is None else nps,
                      np.full(n, INTERACTION_CHANNELS.index(channel))))

    def stream(rows, rate):
        i, t = poisson_events(rng, rows, start[rows], stop[rows], rate)
        return rows[i], t

    web = np.flatnonzero(rs == SOURCES.index("web"))
    rate = (pop.segment_values("web_visits_per_purchase")[seg[web]] * pop.purchase_rate[rp[web]]
            + cfg["interactions"]["web_visit_base_rate"])
    add(*stream(web, rate), "web_visit", "web")
    has_email = np.flatnonzero(records.frame["email"].notna().to_numpy())
    add(*stream(has_email, pop.segment_values("email_open_rate")[seg[has_email]]), "email_open", "email")
    ml = np.flatnonzero(rs == SOURCES.index("mail"))
    add(*stream(ml, pop.segment_values("mail_response_rate")[seg[ml]]), "mail_response", "mail")
    cc = np.flatnonzero(rs == SOURCES.index("call_centre"))
    calls, t = stream(cc, pop.segment_values("call_rate")[seg[cc]])
    p_complaint = 1 / (1 + np.exp(1.0 + 1.2 * pop.satisfaction[rp[calls]]))
    reason = np.where(rng.random(calls.size) < p_complaint, CALL_REASONS.index("complaint"),
                      CALL_REASONS.index("inquiry"))
    add(calls, t, "call", "call_centre", reason=reason)
    # one "order" call per call-centre purchase
    rec_idx = purchases["rec"].to_numpy()
    is_cc = rs[rec_idx] == SOURCES.index("call_centre")
    add(rec_idx[is_cc], purchases["t"].to_numpy()[is_cc], "call", "call_centre", reason=CALL_REASONS.index("order"))
    # surveys one to seven days after some purchases, through the purchasing account
    sv = rng.random(len(purchases)) < cfg["interactions"]["survey_rate"]
    t_sv = purchases["t"].to_numpy()[sv] + rng.uniform(1, 7, sv.sum()) / 7
    p_sv = purchases["person"].to_numpy()[sv]
    ok = t_sv <= pop.weeks_to_end[p_sv]
    z = pop.satisfaction[p_sv[ok]]
    sat = np.clip(np.round(3.8 + 0.8 * z + rng.normal(0, 0.7, ok.sum())), 1, 5)
    nps = np.clip(np.round(7.5 + 1.8 * z + rng.normal(0, 1.5, ok.sum())), 0, 10)
    sv_rec = rec_idx[sv][ok]
    by_mail = records.frame["email"].isna().to_numpy()[sv_rec]  # paper survey where no email is known
    add(sv_rec[~by_mail], t_sv[ok][~by_mail], "survey", "email", sat=sat[~by_mail], nps=nps[~by_mail])
    add(sv_rec[by_mail], t_sv[ok][by_mail], "survey", "mail", sat=sat[by_mail], nps=nps[by_mail])
    rec, t, typ, reason, sat, nps, chan = (np.concatenate(col) for col in zip(*parts))
    person = rp[rec]
    keep = t <= pop.weeks_to_end[person]
    rec, t, typ, reason, sat, nps, chan, person = (a[keep] for a in (rec, t, typ, reason, sat, nps, chan, person))
    ts = weeks_to_timestamps(pop.acquired[person], t)
    order = np.lexsort((typ, rec, ts))
    return pd.DataFrame({
        "interaction_id": ids("I", np.arange(1, order.size + 1), 8),
        "record_id": records.record_id.take(rec[order]).reset_index(drop=True),
        "timestamp": ts[order].astype(DATETIME),
        "type": labels(typ[order], INTERACTION_TYPES),
        "reason": labels(reason[order], CALL_REASONS),
        "satisfaction": pd.array(sat[order], dtype="Int64"),
        "nps": pd.array(nps[order], dtype="Int64"),
        "channel": labels(chan[order], INTERACTION_CHANNELS),
    })


# -- the truth: the future and the population parameters ------------------------------------------


def future_table(cfg: dict, period: Period, pop: Population, lives: Lives, future_purchases: pd.DataFrame,
                 person_ids: np.ndarray) -> pd.DataFrame:
    """The ``future`` table: each person's holdout purchases, state, expectation and campaign effect."""
    n = len(pop)
    t_len = (period.holdout_end - period.end) / pd.Timedelta(weeks=1)
    agg = future_purchases.groupby("person")["amount"].agg(["size", "sum"]).reindex(np.arange(n), fill_value=0)
    alive_end = lives.dropout > pop.weeks_to_end
    lam, p = pop.purchase_rate, pop.dropout_prob
    # E[purchases in (end, end + t] | alive at end] = (1 - exp(-lambda p t)) / p (BG/NBD, per person)
    exp_n = alive_end * (1 - np.exp(-lam * p * t_len)) / p
    drop = np.where(lives.dropped, weeks_to_timestamps(pop.acquired, np.where(lives.dropped, lives.dropout, 0)),
                    np.datetime64("NaT"))
    return pd.DataFrame({
        "person_id": person_ids,
        "alive_at_end": alive_end,
        "alive_at_holdout_end": ~lives.dropped,
        "dropout_date": drop,
        "n_purchases": agg["size"].to_numpy().astype(np.int64),
        "spend": np.round(agg["sum"].to_numpy(), 2),
        "expected_purchases": exp_n,
        "expected_spend": exp_n * pop.spend_level,
        "treatment_extra_purchase_prob": alive_end * pop.response_prob,
        "treatment_extra_revenue": alive_end * pop.response_prob * pop.spend_level
        * (1 - cfg["campaign"]["discount"]),
    }).astype({"person_id": "str", "dropout_date": DATETIME})


def truth_effects_table(cfg: dict) -> pd.DataFrame:
    """The ``truth_effects`` table: each attribute's coefficients on the purchase, dropout and spend processes."""
    effects = cfg["attributes"]["effects"]
    reference = {"acquired_on_promotion": "first purchase at full price",
                 "age_under_35": "aged 35 to 54", "age_55_plus": "aged 35 to 54"}
    return pd.DataFrame([
        {"attribute": a, **{proc: float(effects[a][proc]) for proc in PROCESSES}, "reference": reference[a]}
        for a in ATTRIBUTES
    ]).astype({"attribute": "str", "reference": "str"}).set_index("attribute")


def truth_params_table(cfg: dict) -> pd.DataFrame:
    """The ``truth_params`` table: each segment's population parameters (of the reference customer,
    whose attributes are all 0) and their implied means."""
    names = list(cfg["segments"])
    segs = [cfg["segments"][s] for s in names]
    median = median_spend_level(segs)
    rows = []
    for name, s, med in zip(names, segs, median):
        rows.append({
            "needs_segment": name, "share": s["share"], "r": s["r"], "alpha": s["alpha"], "a": s["a"],
            "b": s["b"], "p": s["p"], "q": s["q"], "v": s["v"],
            "mean_purchase_rate": s["r"] / s["alpha"], "mean_dropout_prob": s["a"] / (s["a"] + s["b"]),
            "mean_spend": s["p"] * s["v"] / (s["q"] - 1) if s["q"] > 1 else np.inf,
            "campaign_uplift": s["campaign_uplift"],
            "median_spend_level": med,
        })
    return pd.DataFrame(rows).astype({"needs_segment": "str"}).set_index("needs_segment")

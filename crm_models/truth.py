"""Everything that needs the simulated company's truth, and nothing else.

The simulated company (:func:`crm_models.datasets.load_crm_world`,
:func:`~crm_models.datasets.make_crm_world`) knows what real data never shows: the real person
behind each source record (``world.record_truth``), who is still alive and what happens after
the observation period (``world.future``, ``world.future_transactions``), each person's true
response to a contact, and their true needs segment. The functions of this module, and only
they, read that truth, to grade what the rest of the package estimates from observable data:

- :func:`true_contact_effect`, :func:`customer_truth`, :func:`best_possible_contacts`: the truth
  about each person and each resolved customer;
- :func:`evaluate_policy`, :func:`compare_policies`, :func:`plot_policy_comparison`: run a
  contact policy against the simulated future and grade it;
- :func:`uplift_capture`: grade targeting policies against the true uplift of a campaign;
- :func:`needs_agreement`: agreement of found needs segments with the true ones;
- :func:`perfect_crosswalk`, :func:`predictive_coverage`: identities as a perfect resolution
  would give them, and whether a model's predictive intervals cover the true future purchases
  at their nominal rate.

Every other function of crm_models works on real data alone. A crosswalk here is
``record_id -> customer_id`` as :func:`crm_models.interact.attach_customer` accepts it (a
DataFrame, a Series or a ``resolve_customers`` result) and must list every record of the world.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.base import as_generator

#: Mixed into an integer random_state before simulating responses, so that grading never replays the
#: random numbers the simulated company itself was generated with (same integer, different stream).
_GRADING_STREAM = 0x6A7E


def _grading_rng(random_state) -> np.random.Generator:
    """The generator of simulated campaign responses: an integer seeds its own stream, independent of
    the world generated from the same integer; a Generator (or None) is used as ``as_generator`` does."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(np.random.SeedSequence([int(random_state), _GRADING_STREAM]))
    return as_generator(random_state)
from crm_models.errors import N_SHOWN, DataError
from crm_models.interact import attach_customer
from crm_models.measure import customer_movement

__all__ = [
    "true_contact_effect",
    "customer_truth",
    "best_possible_contacts",
    "evaluate_policy",
    "compare_policies",
    "plot_policy_comparison",
    "uplift_capture",
    "needs_agreement",
    "perfect_crosswalk",
    "predictive_coverage",
]


def _record_people(world, crosswalk) -> pd.DataFrame:
    """``record_id``, ``person_id`` (truth) and ``customer_id`` (crosswalk) of every record of the world."""
    truth = world.record_truth[["record_id", "person_id"]]
    return attach_customer(truth, crosswalk, what="world.record_truth")


def _ids_frame(ids, name: str = "customer_id") -> pd.DataFrame:
    return pd.DataFrame({name: list(ids)[:N_SHOWN]})


def true_contact_effect(world) -> pd.DataFrame:
    """The true effect, per person, of a retention contact sent at the world's ``end`` (truth).

    A contacted person who is still alive makes one extra purchase within the response window
    with probability ``people.campaign_response_prob``, at the campaign discount (see
    ``datasets/crm_world/README.md``).

    Parameters
    ----------
    world : CRMWorld
        The simulated company (:func:`crm_models.datasets.load_crm_world`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``person_id``: ``alive_at_end`` (bool), ``spend_level`` (USD per purchase),
        ``uplift`` (probability of the extra purchase, 0-1; 0 if not alive) and
        ``extra_revenue`` (expected extra revenue, USD).

    Raises
    ------
    crm_models.errors.DataError
        If ``world.future`` misses a column.

    Examples
    --------
    >>> from crm_models.datasets import load_crm_world
    >>> effect = true_contact_effect(load_crm_world())
    >>> list(effect.columns)
    ['alive_at_end', 'spend_level', 'uplift', 'extra_revenue']
    >>> bool((effect.loc[~effect["alive_at_end"], "uplift"] == 0).all())
    True
    """
    future = world.future.set_index("person_id")
    people = world.people.set_index("person_id")
    require_columns(
        future, ["alive_at_end", "treatment_extra_purchase_prob", "treatment_extra_revenue"], what="world.future"
    )
    return pd.DataFrame(
        {
            "alive_at_end": future["alive_at_end"].astype(bool),
            "spend_level": people["spend_level"].reindex(future.index),
            "uplift": future["treatment_extra_purchase_prob"].astype(float),
            "extra_revenue": future["treatment_extra_revenue"].astype(float),
        }
    )


def customer_truth(world, crosswalk) -> pd.DataFrame:
    """What really happened to each resolved customer (truth).

    Parameters
    ----------
    world : CRMWorld
        The simulated company.
    crosswalk : pandas.DataFrame, pandas.Series or Resolution
        ``record_id -> customer_id`` for every record of the world.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: ``person_id`` (the real person behind most of the
        customer's records; ties to the smallest person id), ``alive_at_end`` (that person had
        not dropped out at the world's ``end``), ``holdout_purchases`` (distinct purchase days
        in the holdout on the customer's records, the unit BG/NBD predicts) and
        ``holdout_spend`` (USD).

    Raises
    ------
    crm_models.errors.DataError
        If the crosswalk misses a record of the world or lists one twice.

    Examples
    --------
    >>> from crm_models.datasets import load_crm_world
    >>> world = load_crm_world()
    >>> perfect = world.record_truth[["record_id", "person_id"]].rename(columns={"person_id": "customer_id"})
    >>> truth = customer_truth(world, perfect)
    >>> len(truth) == len(world.people), list(truth.columns)
    (True, ['person_id', 'alive_at_end', 'holdout_purchases', 'holdout_spend'])
    """
    pairs = _record_people(world, crosswalk)
    counts = pairs.groupby(["customer_id", "person_id"]).size().rename("n").reset_index()
    main = (
        counts.sort_values(["customer_id", "n", "person_id"], ascending=[True, False, True], kind="stable")
        .drop_duplicates("customer_id")
        .set_index("customer_id")["person_id"]
    )
    alive = main.map(world.future.set_index("person_id")["alive_at_end"]).astype(bool)
    fut = world.future_transactions.merge(pairs[["record_id", "customer_id"]], on="record_id", how="inner")
    days = fut.assign(day=fut["timestamp"].dt.normalize()).groupby("customer_id")["day"].nunique()
    spend = fut.groupby("customer_id")["amount"].sum()
    out = pd.DataFrame({"person_id": main, "alive_at_end": alive})
    out["holdout_purchases"] = days.reindex(out.index, fill_value=0).astype("int64")
    out["holdout_spend"] = spend.reindex(out.index, fill_value=0.0)
    return out


def best_possible_contacts(world, crosswalk, n: int) -> pd.Index:
    """The ``n`` resolved customers whose real persons gain most from a contact (truth).

    The ceiling no model can beat: customers ranked by the true expected extra revenue of their
    main person (:func:`true_contact_effect`, :func:`customer_truth`).

    Parameters
    ----------
    world : CRMWorld
        The simulated company.
    crosswalk : pandas.DataFrame, pandas.Series or Resolution
        ``record_id -> customer_id`` for every record of the world.
    n : int
        How many customers (>= 0).

    Returns
    -------
    pandas.Index
        Customer ids, largest true extra revenue first.

    Examples
    --------
    >>> from crm_models.datasets import load_crm_world
    >>> world = load_crm_world()
    >>> perfect = world.record_truth[["record_id", "person_id"]].rename(columns={"person_id": "customer_id"})
    >>> len(best_possible_contacts(world, perfect, 10))
    10
    """
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise ValueError(f"best_possible_contacts: n must be a whole number >= 0, got {n!r}")
    effect = true_contact_effect(world)["extra_revenue"]
    truth = customer_truth(world, crosswalk)
    ranked = truth["person_id"].map(effect).sort_values(ascending=False, kind="stable")
    return ranked.index[: int(n)]


def evaluate_policy(
    world,
    crosswalk,
    contacted,
    *,
    name: str = "policy",
    margin: float = 0.3,
    cost_per_contact: float | None = None,
    random_state=0,
) -> pd.Series:
    """Run a contact policy against the simulated company's future and grade it with the truth.

    The company contacts the resolved customers in ``contacted`` at the world's ``end``. Each
    contact costs ``cost_per_contact``; a resolved customer that is really a duplicate of another
    is paid for twice. Every real person behind a contacted customer is reached once. The future
    is the world's own holdout (``future_transactions``, what happens when nobody is contacted)
    plus, for reached persons alive at ``end``, the extra campaign purchase drawn with their true
    uplift (:func:`true_contact_effect`); the draws use common random numbers, so two policies
    reaching the same person give them the same outcome.

    Measured per real person with :func:`crm_models.measure.customer_movement`, comparing the
    holdout (``end`` to ``holdout_end``) with the period of equal length before ``end``; lost =
    no purchase in the holdout.

    Parameters
    ----------
    world : CRMWorld
        The simulated company.
    crosswalk : pandas.DataFrame, pandas.Series or Resolution
        ``record_id -> customer_id`` for every record of the world.
    contacted : list-like
        Customer ids of the crosswalk to contact (repeats count once).
    name : str
        Name of the returned Series (the policy).
    margin : float
        Share of revenue that is profit (0-1].
    cost_per_contact : float, optional
        Cost of one contact (USD); default the world's campaign cost.
    random_state : None, int or numpy.random.Generator
        Seed of the simulated responses (see :func:`crm_models.base.as_generator`). An integer
        seeds a stream of its own, independent of a world generated with the same integer.

    Returns
    -------
    pandas.Series
        ``contacts``, ``persons_reached``, ``cost`` (USD), ``expected_extra_revenue`` (truth,
        USD), ``expected_value_created`` (margin x extra revenue - cost, USD), simulated
        ``extra_purchases`` and ``holdout_revenue`` (USD), the movement counts ``won back``,
        ``grown``, ``stable``, ``declined``, ``lost`` and the ``retention_rate`` (0-1).

    Raises
    ------
    ValueError
        If ``margin`` lies outside (0, 1].
    crm_models.errors.DataError
        If a contacted id is not a customer of the crosswalk, or the crosswalk misses a record.

    Examples
    --------
    >>> from crm_models.datasets import load_crm_world
    >>> world = load_crm_world()
    >>> perfect = world.record_truth[["record_id", "person_id"]].rename(columns={"person_id": "customer_id"})
    >>> graded = evaluate_policy(world, perfect, best_possible_contacts(world, perfect, 100), name="best 100")
    >>> int(graded["contacts"]), bool(graded["expected_value_created"] > 0)
    (100, True)
    """
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.integer, np.floating)) or not 0 < margin <= 1:
        raise ValueError(f"margin must lie in (0, 1], got {margin!r}")
    cc = world.config["campaign"]
    cost_per_contact = cc["cost_per_contact"] if cost_per_contact is None else cost_per_contact
    if (isinstance(cost_per_contact, bool) or not isinstance(cost_per_contact, (int, float, np.integer, np.floating))
            or not np.isfinite(cost_per_contact) or cost_per_contact < 0):
        raise ValueError(f"cost_per_contact must be a finite number >= 0 (USD), got {cost_per_contact!r}")
    contacted = pd.Index(pd.unique(pd.Index(contacted)))
    pairs = _record_people(world, crosswalk)
    unknown = contacted.difference(pd.Index(pairs["customer_id"].unique()))
    if len(unknown):
        raise DataError("customer_id", "must name customers of the crosswalk (these are not customers of the "
                        "crosswalk)", rows=_ids_frame(unknown), n_rows=len(unknown), n_total=len(contacted),
                        what="contacted")
    effect = true_contact_effect(world)
    reached = pd.Index(pairs.loc[pairs["customer_id"].isin(contacted), "person_id"].unique(), name="person_id")

    end, hold = pd.Timestamp(world.config["observation_period_end"]), pd.Timestamp(world.config["holdout_period_end"])
    end = end + pd.Timedelta(days=1) if end == end.normalize() else end  # end is a whole day: purchases on it count
    hold = hold + pd.Timedelta(days=1) if hold == hold.normalize() else hold
    rng = _grading_rng(random_state)
    draw = pd.Series(rng.random(len(effect)), index=effect.index)  # common random numbers
    when = pd.Series(rng.random(len(effect)), index=effect.index)
    hit = effect.index.isin(reached) & (draw < effect["uplift"]).to_numpy()
    people = effect.index[hit]
    window = pd.Timedelta(weeks=cc["response_window_weeks"])
    extra = pd.DataFrame(
        {
            "person_id": people,
            "timestamp": end + when[people].to_numpy() * min(window, hold - end - pd.Timedelta(seconds=1)),
            "amount": (effect.loc[people, "spend_level"] * (1 - cc["discount"])).to_numpy(),
        }
    )
    past = world.transactions_by_person()[["person_id", "timestamp", "amount"]]
    fut = world.transactions_by_person(future=True)[["person_id", "timestamp", "amount"]]
    tx = pd.concat([past, fut, extra], ignore_index=True)
    length = hold - end
    mv = customer_movement(tx, (end - length, end), (end, hold), customer_id_col="person_id")
    counts = mv.counts
    exp_rev = float(effect.loc[reached, "extra_revenue"].sum())
    cost = len(contacted) * float(cost_per_contact)
    return pd.Series(
        {
            "contacts": len(contacted),
            "persons_reached": len(reached),
            "cost": cost,
            "expected_extra_revenue": exp_rev,
            "expected_value_created": margin * exp_rev - cost,
            "extra_purchases": len(people),
            "holdout_revenue": float(tx.loc[tx["timestamp"] >= end, "amount"].sum()),
            "won back": int(counts["won back"]),
            "grown": int(counts["grown"]),
            "stable": int(counts["stable"]),
            "declined": int(counts["declined"]),
            "lost": int(counts["lost"]),
            "retention_rate": mv.retention_rate,
        },
        name=name,
    )


def compare_policies(
    world,
    crosswalk,
    policies: dict,
    *,
    margin: float = 0.3,
    cost_per_contact: float | None = None,
    random_state=0,
) -> pd.DataFrame:
    """:func:`evaluate_policy` for each policy, with the same random numbers; one row per policy.

    Parameters
    ----------
    world : CRMWorld
        The simulated company.
    crosswalk : pandas.DataFrame, pandas.Series or Resolution
        ``record_id -> customer_id`` for every record of the world.
    policies : dict
        Policy name -> the customer ids it contacts.
    margin, cost_per_contact, random_state
        As in :func:`evaluate_policy` (margin 0-1, cost in USD).

    Returns
    -------
    pandas.DataFrame
        Indexed by policy name, the columns of :func:`evaluate_policy`'s Series.

    Raises
    ------
    ValueError
        If ``policies`` is empty.

    Examples
    --------
    >>> from crm_models.datasets import load_crm_world
    >>> world = load_crm_world()
    >>> perfect = world.record_truth[["record_id", "person_id"]].rename(columns={"person_id": "customer_id"})
    >>> table = compare_policies(world, perfect, {"nobody": [], "best 50": best_possible_contacts(world, perfect, 50)})
    >>> table["cost"].tolist()
    [0.0, 75.0]
    """
    if not policies:
        raise ValueError("policies is empty: give at least one name -> contacted customer ids")
    return pd.DataFrame([
        evaluate_policy(world, crosswalk, ids, name=name, margin=margin, cost_per_contact=cost_per_contact,
                        random_state=random_state)
        for name, ids in policies.items()
    ])


def plot_policy_comparison(table: pd.DataFrame, axes=None):
    """Two panels from :func:`compare_policies`: value created (USD) and customers lost, per policy.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`compare_policies`.
    axes : sequence of two matplotlib.axes.Axes, optional
        Where to draw; a new 11 x 3.8 inch figure if omitted.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes

    Examples
    --------
    >>> table = pd.DataFrame({"expected_value_created": [0.0, 120.5], "lost": [900, 870], "cost": [0.0, 75.0]},
    ...                      index=["nobody", "best 50"])
    >>> axes = plot_policy_comparison(table)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    require_columns(table, ["expected_value_created", "lost", "cost"], what="table")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    names = list(table.index.astype(str))
    colors = ["#999999" if v == 0 else ("#4c9a5b" if v > 0 else "#c44e52") for v in table["expected_value_created"]]
    axes[0].barh(names, table["expected_value_created"], color=colors)
    axes[0].axvline(0, color="black", lw=0.8)
    axes[0].set_xlabel("value created: margin x extra revenue - contact cost (USD)")
    axes[0].invert_yaxis()
    axes[1].barh(names, table["lost"], color="#2a6fb0")
    axes[1].set_xlabel("real customers lost in the holdout (no purchase)")
    axes[1].invert_yaxis()
    axes[1].set_yticklabels([])
    axes[0].figure.suptitle("Running each policy against the simulated future")
    return axes


def _truth_series(values, name: str) -> pd.Series:
    """``values`` if it is a Series with each customer id once and no missing value."""
    if not isinstance(values, pd.Series):
        raise TypeError(f"{name} must be a pandas Series indexed by customer id, got {type(values).__name__}")
    frame = values.to_frame(name)
    fail_rows(frame, values.index.duplicated(keep=False), "index", "must hold each customer id once", what=name)
    fail_rows(frame, values.isna().to_numpy(), name, "must not be missing", what=name)
    return values


def uplift_capture(policies: dict, true_uplift: pd.Series, *, value: pd.Series | None = None) -> pd.DataFrame:
    """Grade targeting policies against the true effect of a campaign (truth).

    Parameters
    ----------
    policies : dict
        Policy name -> the customer ids it targets (each once).
    true_uplift : pandas.Series
        True per-customer effect of treatment on the response probability (0-1), indexed by
        customer id (the world's ``campaign.true_uplift``).
    value : pandas.Series, optional
        True per-customer incremental value of treatment (USD), e.g. ``true_revenue_uplift``,
        for every customer of ``true_uplift``.

    Returns
    -------
    pandas.DataFrame
        One row per policy: ``n_targeted``, ``true_extra_responses`` (sum of true uplift),
        ``mean_true_uplift`` (NaN for a policy that targets nobody), ``share_of_best`` (extra
        responses / those of the best possible targeting of the same size, from the truth; NaN
        when that best is 0) and, with ``value``, ``true_extra_value`` (USD).

    Raises
    ------
    ValueError
        If a policy targets a customer twice.
    crm_models.errors.DataError
        If a policy targets a customer without a true uplift, or ``true_uplift`` / ``value``
        repeat or miss a customer.

    Examples
    --------
    >>> truth = pd.Series([0.5, 0.1, 0.0, 0.3], index=["a", "b", "c", "d"])
    >>> uplift_capture({"model": ["a", "b"], "best": ["a", "d"]}, truth)
            n_targeted  true_extra_responses  mean_true_uplift  share_of_best
    policy                                                                   
    model            2                   0.6               0.3           0.75
    best             2                   0.8               0.4           1.00
    """
    true_uplift = _truth_series(true_uplift, "true_uplift")
    if value is not None:
        value = _truth_series(value, "value")
        both = pd.DataFrame({"value": value}).reindex(true_uplift.index)
        fail_rows(both, both["value"].isna().to_numpy(), "value", "must cover every customer of true_uplift",
                  what="value")
        value = both["value"]
    best = np.sort(true_uplift.to_numpy())[::-1]
    best_cum = np.concatenate([[0.0], np.cumsum(best)])
    rows = {}
    for name, ids in policies.items():
        ids = pd.Index(ids)
        if ids.has_duplicates:
            raise ValueError(f"uplift_capture: policies[{name!r}] targets some customers twice")
        unknown = ids.difference(true_uplift.index)
        if len(unknown):
            raise DataError("customer_id", "must name customers with a true uplift (these are without a true uplift)",
                            rows=_ids_frame(unknown), n_rows=len(unknown), n_total=len(ids),
                            what=f"policies[{name!r}]")
        u = true_uplift.loc[ids]
        row = dict(n_targeted=len(ids), true_extra_responses=float(u.sum()),
                   mean_true_uplift=float(u.mean()) if len(ids) else np.nan,
                   share_of_best=float(u.sum() / best_cum[len(ids)]) if len(ids) and best_cum[len(ids)] > 0 else np.nan)
        if value is not None:
            row["true_extra_value"] = float(value.loc[ids].sum())
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "policy"
    return out


def needs_agreement(found: pd.Series, truth: pd.Series) -> pd.Series:
    """Agreement of found needs segments with the true ones: adjusted Rand index and adjusted mutual information.

    ARI is 0 for a random labelling and 1 for perfect agreement, whatever the labels (Hubert &
    Arabie 1985); AMI likewise on an information scale (Vinh, Epps & Bailey 2010).

    Parameters
    ----------
    found : pandas.Series
        Segment found per customer (e.g. :meth:`crm_models.segment.NeedsSegmenter.predict`).
    truth : pandas.Series
        True segment per customer (the world's ``people.needs_segment``), for the same customers.

    Returns
    -------
    pandas.Series
        ``customers``, ``adjusted_rand_index`` and ``adjusted_mutual_info``.

    Raises
    ------
    crm_models.errors.DataError
        If a customer appears in only one of the two, twice in one, or without a label.

    Examples
    --------
    >>> found = pd.Series(["x", "x", "y", "y"], index=[1, 2, 3, 4])
    >>> truth = pd.Series(["b", "b", "a", "a"], index=[4, 3, 2, 1])
    >>> needs_agreement(found, truth).to_dict()
    {'customers': 4.0, 'adjusted_rand_index': 1.0, 'adjusted_mutual_info': 1.0}
    """
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    found = _truth_series(found, "found")
    truth = _truth_series(truth, "truth")
    only = found.index.symmetric_difference(truth.index)
    if len(only):
        both = pd.DataFrame({"found": found, "truth": truth})
        fail_rows(both, both.index.isin(only), "index", "must list the same customers in found and truth "
                  "(align them first)", what="needs_agreement")
    truth = truth.reindex(found.index)
    return pd.Series({
        "customers": float(len(found)),
        "adjusted_rand_index": float(adjusted_rand_score(truth.astype(str), found.astype(str))),
        "adjusted_mutual_info": float(adjusted_mutual_info_score(truth.astype(str), found.astype(str))),
    })


def perfect_crosswalk(world) -> pd.DataFrame:
    """``record_id -> customer_id`` as a perfect identity resolution would give it (truth).

    Every record is attributed to the real person behind it, and the person's id is the customer
    id: the ceiling of :func:`crm_models.identify.resolve_customers`, for lessons and checks about
    something else than identity (a model's forecasts, a campaign).

    Parameters
    ----------
    world : CRMWorld
        The simulated company.

    Returns
    -------
    pandas.DataFrame
        ``record_id`` and ``customer_id`` (the person id), one row per record of the world.

    Examples
    --------
    >>> from crm_models.datasets import load_crm_world
    >>> world = load_crm_world()
    >>> crosswalk = perfect_crosswalk(world)
    >>> len(crosswalk) == len(world.records), crosswalk["customer_id"].nunique() == len(world.people)
    (True, True)
    """
    require_columns(world.record_truth, ["record_id", "person_id"], what="world.record_truth")
    return world.record_truth[["record_id", "person_id"]].rename(columns={"person_id": "customer_id"}).reset_index(
        drop=True)


def predictive_coverage(
    world,
    crosswalk,
    model,
    data: pd.DataFrame,
    *,
    time_unit: str = "W",
    alphas=(0.2, 0.05),
    spend_model=None,
    random_state=0,
) -> pd.DataFrame:
    """Do a model's predictive intervals cover the customers' true future purchases at their nominal rate? (truth)

    ``model`` (BG/NBD, MBG/NBD or Pareto/NBD, fitted on the observation period) predicts each
    customer's distribution of purchase days in the world's holdout period; the truth is what
    the customer really did (:func:`customer_truth`, ``holdout_purchases``). Two coverages per
    level 1 - alpha:

    * ``covered``: the share of customers inside their interval ``model.predictive_interval``.
      Purchases are whole numbers, so these intervals hold *at least* 1 - alpha of the
      probability, ``stated`` on average; a right model covers at the stated rate, within
      ``std_error`` (z = (covered - stated) / std_error).
    * ``pit_covered``: the share of randomised PIT values
      (``model.probability_integral_transform``) inside (alpha/2, 1 - alpha/2): the coverage of
      an exact central interval, which a right model achieves at the nominal rate 1 - alpha
      within ``pit_std_error``.

    With a ``spend_model`` the same check runs on each customer's total spend in the holdout
    (:func:`crm_models.clv.spend_predictive_interval`, from the exact distribution):
    ``spend_covered`` against ``spend_stated`` (the intervals' mean probability), with
    ``spend_std_error``.

    Parameters
    ----------
    world : CRMWorld
        The simulated company.
    crosswalk : pandas.DataFrame, pandas.Series or Resolution
        ``record_id -> customer_id`` for every record of the world.
    model : BetaGeo, ModifiedBetaGeo or ParetoNBD
        Fitted on the observation period's summary in ``time_unit``.
    data : pandas.DataFrame
        That summary (``frequency``, ``recency``, ``T`` at the world's observation end),
        indexed by customer id.
    time_unit : str
        Unit of the summary's recency and T, a code of :data:`crm_models.units.TIME_UNITS`.
    alphas : sequence of float
        1 - the nominal coverage of each level (0.2 and 0.05: 80% and 95% intervals).
    spend_model : GammaGamma, optional
        A spend model fitted on the same summary (which then needs ``monetary_value``).
    random_state : None, int or numpy.random.Generator
        Seed of the PIT's randomisation.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``level`` ("80%", "95%", ...): ``nominal``, ``n_customers``, ``covered``,
        ``stated``, ``std_error``, ``z``, ``pit_covered``, ``pit_std_error``, ``pit_z``,
        ``spend_covered``, ``spend_stated``, ``spend_std_error`` (NaN without a spend model).

    Raises
    ------
    crm_models.errors.DataError
        If a customer of ``data`` has no truth (not in the crosswalk).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.clv import ModifiedBetaGeo
    >>> from crm_models.datasets import load_crm_world
    >>> from crm_models.interact import attach_customer
    >>> world = load_crm_world()
    >>> crosswalk = perfect_crosswalk(world)
    >>> log = attach_customer(world.transactions, crosswalk, what="transactions")
    >>> rfm = rfm_summary(log, observation_period_end="2024-12-31")
    >>> check = predictive_coverage(world, crosswalk, ModifiedBetaGeo().fit(rfm), rfm)
    >>> check[["nominal", "covered", "stated", "pit_covered"]].round(3)
           nominal  covered  stated  pit_covered
    level
    80%       0.80    0.942   0.934        0.799
    95%       0.95    0.986   0.984        0.948
    """
    from crm_models.clv import ContinuousTimeModel
    from crm_models.clv.uncertainty import interval_coverage, pit_coverage, spend_predictive_interval
    from crm_models.units import TIME_UNITS, check_time_unit

    if not isinstance(model, ContinuousTimeModel):
        raise TypeError(f"model must be a fitted BetaGeo, ModifiedBetaGeo or ParetoNBD, got {type(model).__name__}")
    end = pd.Timestamp(world.config["observation_period_end"]).normalize()
    holdout_end = pd.Timestamp(world.config["holdout_period_end"]).normalize()
    t = (holdout_end - end).days / TIME_UNITS[check_time_unit(time_unit)]
    truth = customer_truth(world, crosswalk)
    missing = data.index.difference(truth.index)
    if len(missing):
        raise DataError("customer_id", "must name customers of the crosswalk (these have no truth)",
                        rows=_ids_frame(missing), n_rows=len(missing), n_total=len(data), what="data")
    actual = truth["holdout_purchases"].reindex(data.index)
    pit = model.probability_integral_transform(data, t, actual, random_state=random_state)
    spent = truth["holdout_spend"].reindex(data.index)
    rows = {}
    for alpha in alphas:
        iv = model.predictive_interval(data, t, alpha=alpha)
        cov = interval_coverage(iv, actual, alpha=alpha)
        pc = pit_coverage(pit, alpha)
        spend = {"covered": np.nan, "stated": np.nan, "std_error": np.nan}
        if spend_model is not None:
            siv = spend_predictive_interval(model, spend_model, data, horizon=((holdout_end - end).days, "D"),
                                            time_unit=time_unit, alpha=alpha)
            spend = interval_coverage(siv, spent, alpha=alpha)
        rows[f"{100 * (1 - alpha):g}%"] = {
            "nominal": 1 - alpha, "n_customers": int(cov["n_customers"]), "covered": cov["covered"],
            "stated": cov["stated"], "std_error": cov["std_error"], "z": cov["z"],
            "pit_covered": pc["covered"], "pit_std_error": pc["std_error"], "pit_z": pc["z"],
            "spend_covered": spend["covered"], "spend_stated": spend["stated"], "spend_std_error": spend["std_error"],
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "level"
    return out


"""The learning relationship: each contact chooses what to offer or ask from the customer's past answers.

"A bank may ask one question in each month's statement, and next month's question may depend on
last month's answer" (Peppers & Rogers). Here every month each customer receives one of several
offers (or questions) and answers yes or no; a *policy* chooses the next offer from the answers
so far. :func:`simulate_offer_preferences` makes customers whose true acceptance probabilities
are known; :func:`simulate_learning_relationship` runs a policy on them month by month with
common random numbers (a customer who would accept an offer in a month accepts it whichever
policy made it), so policies are compared on the same customers and the same luck;
:func:`learning_curve` and :func:`compare_learning` grade them against the truth.

Policies (each has ``name`` and ``choose(successes, trials, rng)``):

- :class:`FixedScript`: the same calendar for everyone, offer ``k`` in month ``k`` (mod the
  number of offers), whatever the answers: the campaign calendar;
- :class:`PopulationGreedy`: everyone gets the offer with the highest acceptance rate so far
  across all customers: mass marketing that learns, but not about anyone in particular;
- :class:`ThompsonSampling`: each customer's own beta posterior per offer, centred on the
  population's rate (empirical Bayes), sampled once; the offer with the highest draw is made.
  It explores where it is unsure and exploits what it has learned about *this* customer.

Examples
--------
>>> prefs = simulate_offer_preferences(200, random_state=1)
>>> ts = simulate_learning_relationship(prefs, ThompsonSampling(), n_rounds=6, random_state=2)
>>> script = simulate_learning_relationship(prefs, FixedScript(), n_rounds=6, random_state=2)
>>> compare_learning({"script": script, "thompson": ts}, prefs).index.tolist()
['script', 'thompson']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows
from crm_models.base import as_generator

__all__ = [
    "OFFERS",
    "simulate_offer_preferences",
    "FixedScript",
    "PopulationGreedy",
    "ThompsonSampling",
    "simulate_learning_relationship",
    "learning_curve",
    "compare_learning",
    "posterior_table",
]

#: The offers of the simulated bank's monthly statement.
OFFERS = ("savings", "travel_card", "insurance", "investing", "family_account")


def _whole(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def simulate_offer_preferences(
    n_customers: int = 2000,
    *,
    offers: Sequence[str] = OFFERS,
    favourite_shares: Sequence[float] | None = None,
    favourite_rate: tuple[float, float] = (6.0, 14.0),
    other_rate: tuple[float, float] = (1.0, 24.0),
    random_state=0,
) -> pd.DataFrame:
    """Customers with known probabilities of accepting each offer (the truth a policy must learn).

    Each customer has one favourite offer, drawn with ``favourite_shares``; the probability of
    accepting it is drawn from Beta(``favourite_rate``) (mean 0.3 by default), and of accepting
    each other offer from Beta(``other_rate``) (mean 0.04).

    Parameters
    ----------
    n_customers : int
        Number of customers.
    offers : sequence of str
        Names of the offers (at least two, distinct).
    favourite_shares : sequence of float, optional
        Share of customers whose favourite is each offer (default decreasing: 35%, 25%, 20%,
        12%, 8% for five offers; equal shares otherwise); normalised to sum to 1.
    favourite_rate, other_rate : tuple of float
        The two shapes of the beta distributions of acceptance probabilities.
    random_state : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (``"C00001"``...), one column per offer: the true probability
        (0-1) that the customer accepts that offer in a month. ``.attrs["favourite"]`` is not
        set: the favourite is the column with the highest probability (``df.idxmax(axis=1)``).

    Examples
    --------
    >>> prefs = simulate_offer_preferences(1000)
    >>> prefs.shape, prefs.idxmax(axis=1).value_counts().index[0]
    ((1000, 5), 'savings')
    """
    n = _whole(n_customers, "n_customers")
    offers = [str(o) for o in offers]
    if len(offers) < 2 or len(set(offers)) != len(offers):
        raise ValueError(f"offers must name at least two distinct offers, got {offers!r}")
    k = len(offers)
    if favourite_shares is None:
        shares = np.array([0.35, 0.25, 0.20, 0.12, 0.08]) if k == 5 else np.full(k, 1.0 / k)
    else:
        shares = np.asarray(favourite_shares, dtype=float)
        if shares.shape != (k,) or np.any(~np.isfinite(shares)) or np.any(shares < 0) or shares.sum() <= 0:
            raise ValueError(f"favourite_shares must hold {k} non-negative numbers with a positive sum, got {favourite_shares!r}")
    shares = shares / shares.sum()
    for name, pair in (("favourite_rate", favourite_rate), ("other_rate", other_rate)):
        if len(pair) != 2 or not all(np.isfinite(v) and v > 0 for v in pair):
            raise ValueError(f"{name} must be two positive beta shapes, got {pair!r}")
    rng = as_generator(random_state)
    favourite = rng.choice(k, size=n, p=shares)
    probs = rng.beta(*other_rate, size=(n, k))
    probs[np.arange(n), favourite] = rng.beta(*favourite_rate, size=n)
    # the favourite stays the favourite: an unlucky draw below another offer is lifted above it
    others_max = np.where(np.arange(k)[None, :] == favourite[:, None], 0.0, probs).max(axis=1)
    probs[np.arange(n), favourite] = np.maximum(probs[np.arange(n), favourite], others_max + 0.01)
    index = pd.Index([f"C{i + 1:05d}" for i in range(n)], name="customer_id")
    return pd.DataFrame(np.minimum(probs, 1.0), index=index, columns=pd.Index(offers, name="offer"))


class FixedScript:
    """The same calendar for everyone: offer ``(month - 1) mod K`` in month ``month``.

    Parameters
    ----------
    order : sequence of int, optional
        Positions of the offers in the calendar (default the table's column order).

    Examples
    --------
    >>> FixedScript().choose(np.zeros((2, 3)), np.zeros((2, 3)), np.random.default_rng(0)).tolist()
    [0, 0]
    """

    name = "fixed script"

    def __init__(self, order: Sequence[int] | None = None) -> None:
        self.order = order

    def choose(self, successes: np.ndarray, trials: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The offer for each customer this month.

        Parameters
        ----------
        successes, trials : numpy.ndarray
            Customers x offers: acceptances and offers made so far.
        rng : numpy.random.Generator
            Unused (the script does not draw).

        Returns
        -------
        numpy.ndarray
            One offer position per customer.
        """
        k = trials.shape[1]
        month = int(trials.sum(axis=1).max()) if trials.size else 0  # offers made so far = months gone
        order = list(range(k)) if self.order is None else [int(o) for o in self.order]
        return np.full(trials.shape[0], order[month % len(order)])


class PopulationGreedy:
    """Everyone gets the offer with the best acceptance rate so far across all customers.

    Untried offers come first (in column order); ties go to the first offer.

    Examples
    --------
    >>> s = np.array([[1.0, 0.0], [1.0, 0.0]]); n = np.array([[2.0, 2.0], [2.0, 2.0]])
    >>> PopulationGreedy().choose(s, n, np.random.default_rng(0)).tolist()
    [0, 0]
    """

    name = "population greedy"

    def choose(self, successes: np.ndarray, trials: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The offer for each customer this month.

        Parameters
        ----------
        successes, trials : numpy.ndarray
            Customers x offers: acceptances and offers made so far.
        rng : numpy.random.Generator
            Unused.

        Returns
        -------
        numpy.ndarray
            One offer position per customer (the same for all).
        """
        n = trials.sum(axis=0)
        untried = np.flatnonzero(n == 0)
        best = int(untried[0]) if len(untried) else int(np.argmax(successes.sum(axis=0) / n))
        return np.full(trials.shape[0], best)


class ThompsonSampling:
    """Each customer's own posterior per offer, sampled once; the offer with the highest draw is made.

    Customer ``i``'s acceptance probability of offer ``k`` has the posterior
    ``Beta(m p_k + s_ik, m (1 - p_k) + n_ik - s_ik)``, where ``s_ik`` and ``n_ik`` are their
    acceptances and offers so far, ``p_k = (S_k + 1) / (N_k + 2)`` the population's rate so far
    and ``m`` the prior strength (how many answers the population's rate is worth).

    Parameters
    ----------
    prior_strength : float
        ``m`` (> 0): small values trust each customer's own answers sooner.

    Examples
    --------
    >>> s = np.array([[3.0, 0.0]]); n = np.array([[3.0, 3.0]])
    >>> ThompsonSampling().choose(s, n, np.random.default_rng(0)).tolist()
    [0]
    """

    name = "Thompson sampling"

    def __init__(self, prior_strength: float = 2.0) -> None:
        self.prior_strength = prior_strength

    def prior(self, successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The beta prior of every offer, from the population's answers so far.

        Parameters
        ----------
        successes, trials : numpy.ndarray
            Customers x offers.

        Returns
        -------
        tuple of numpy.ndarray
            ``(alpha0, beta0)``, one value per offer.

        Examples
        --------
        >>> a0, b0 = ThompsonSampling(prior_strength=4).prior(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]]))
        >>> a0.tolist(), b0.tolist()
        ([2.0, 2.0], [2.0, 2.0])
        """
        m = float(self.prior_strength)
        if not np.isfinite(m) or m <= 0:
            raise ValueError(f"prior_strength must be a positive number, got {self.prior_strength!r}")
        rate = (successes.sum(axis=0) + 1.0) / (trials.sum(axis=0) + 2.0)
        return m * rate, m * (1.0 - rate)

    def choose(self, successes: np.ndarray, trials: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The offer for each customer this month.

        Parameters
        ----------
        successes, trials : numpy.ndarray
            Customers x offers: acceptances and offers made so far.
        rng : numpy.random.Generator
            Draws from the posteriors.

        Returns
        -------
        numpy.ndarray
            One offer position per customer.
        """
        a0, b0 = self.prior(successes, trials)
        draws = rng.beta(a0[None, :] + successes, b0[None, :] + trials - successes)
        return np.argmax(draws, axis=1)


def _check_preferences(preferences) -> None:
    if not isinstance(preferences, pd.DataFrame) or preferences.shape[1] < 2 or len(preferences) == 0:
        raise TypeError("preferences must be a DataFrame of customers x offers (simulate_offer_preferences)")
    values = preferences.to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    fail_rows(preferences, bad.any(axis=1), "offer probabilities", "must be probabilities in [0, 1]",
              what="preferences")


def simulate_learning_relationship(preferences: pd.DataFrame, policy, *, n_rounds: int = 12,
                                   random_state=0) -> pd.DataFrame:
    """Run a policy for ``n_rounds`` months on customers with known preferences.

    In month ``t`` the policy chooses one offer per customer from the answers of months
    ``1..t-1``; the customer accepts it when a uniform draw ``U[t, i, k]`` falls below their true
    probability. The draws ``U`` depend only on ``random_state``, not on the policy (common
    random numbers): two policies run with the same ``random_state`` face the same luck.

    Parameters
    ----------
    preferences : pandas.DataFrame
        Customers x offers, true acceptance probabilities (0-1).
    policy : FixedScript, PopulationGreedy, ThompsonSampling or any object with ``name`` and
        ``choose(successes, trials, rng)``
        The policy.
    n_rounds : int
        Months.
    random_state : None, int or numpy.random.Generator
        Seed of the customers' answers (and of the policy's own draws).

    Returns
    -------
    pandas.DataFrame
        One row per customer and month: ``customer_id``, ``round`` (1..n), ``offer`` (name),
        ``accepted`` (bool) and ``p_accept`` (the true probability of the offer made; truth).
        ``.attrs["policy"]`` is the policy's name.

    Examples
    --------
    >>> prefs = simulate_offer_preferences(50)
    >>> h = simulate_learning_relationship(prefs, FixedScript(), n_rounds=3)
    >>> h.shape, h["round"].unique().tolist()
    ((150, 5), [1, 2, 3])
    """
    _check_preferences(preferences)
    rounds = _whole(n_rounds, "n_rounds")
    if not callable(getattr(policy, "choose", None)):
        raise TypeError(f"policy must have a choose(successes, trials, rng) method, got {type(policy).__name__}")
    rng = as_generator(random_state)
    answers_rng, policy_rng = rng.spawn(2)
    p = preferences.to_numpy(dtype=float)
    n, k = p.shape
    uniforms = answers_rng.random((rounds, n, k))
    successes, trials = np.zeros((n, k)), np.zeros((n, k))
    rows = np.arange(n)
    offers, accepted, p_made = (np.empty((rounds, n), dtype=int), np.empty((rounds, n), dtype=bool),
                                np.empty((rounds, n)))
    for t in range(rounds):
        choice = np.asarray(policy.choose(successes, trials, policy_rng), dtype=int)
        if choice.shape != (n,) or np.any((choice < 0) | (choice >= k)):
            raise ValueError(f"policy {getattr(policy, 'name', policy)!r} must return one offer position in [0, {k}) "
                             f"per customer")
        yes = uniforms[t, rows, choice] < p[rows, choice]
        successes[rows, choice] += yes
        trials[rows, choice] += 1
        offers[t], accepted[t], p_made[t] = choice, yes, p[rows, choice]
    names = np.asarray(preferences.columns, dtype=object)
    out = pd.DataFrame({
        "customer_id": np.tile(preferences.index.to_numpy(), rounds),
        "round": np.repeat(np.arange(1, rounds + 1), n),
        "offer": names[offers.ravel()],
        "accepted": accepted.ravel(),
        "p_accept": p_made.ravel(),
    })
    out.attrs["policy"] = getattr(policy, "name", type(policy).__name__)
    return out


def _check_history(history) -> None:
    from crm_models._validation import require_columns

    require_columns(history, ["customer_id", "round", "offer", "accepted", "p_accept"], what="history")


def learning_curve(history: pd.DataFrame, preferences: pd.DataFrame) -> pd.DataFrame:
    """Month by month: how often offers were accepted, against the best possible, and who got their favourite.

    Parameters
    ----------
    history : pandas.DataFrame
        From :func:`simulate_learning_relationship`.
    preferences : pandas.DataFrame
        The same customers' true preferences.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``round``: ``acceptance_rate`` (observed share of offers accepted),
        ``expected_rate`` (mean true probability of the offers made), ``best_possible_rate``
        (mean probability of each customer's favourite), ``share_of_best`` (expected / best)
        and ``favourite_share`` (share of customers offered their true favourite).

    Examples
    --------
    >>> prefs = simulate_offer_preferences(100)
    >>> curve = learning_curve(simulate_learning_relationship(prefs, FixedScript(), n_rounds=5), prefs)
    >>> curve.columns.tolist()[:3]
    ['acceptance_rate', 'expected_rate', 'best_possible_rate']
    """
    _check_history(history)
    _check_preferences(preferences)
    favourite = preferences.idxmax(axis=1)
    best = float(preferences.max(axis=1).mean())
    got_favourite = history["offer"].to_numpy() == favourite.reindex(history["customer_id"]).to_numpy()
    curve = (history.assign(got_favourite=got_favourite)
             .groupby("round")
             .agg(acceptance_rate=("accepted", "mean"), expected_rate=("p_accept", "mean"),
                  favourite_share=("got_favourite", "mean")))
    curve["best_possible_rate"] = best
    curve["share_of_best"] = curve["expected_rate"] / best
    return curve[["acceptance_rate", "expected_rate", "best_possible_rate", "share_of_best", "favourite_share"]]


def compare_learning(histories: Mapping[str, pd.DataFrame], preferences: pd.DataFrame) -> pd.DataFrame:
    """Policies side by side over the whole run, graded against the truth.

    Parameters
    ----------
    histories : mapping
        Policy label -> history from :func:`simulate_learning_relationship` (same customers).
    preferences : pandas.DataFrame
        The customers' true preferences.

    Returns
    -------
    pandas.DataFrame
        Indexed by policy label: ``accepted`` (offers accepted, count), ``expected_accepted``
        (sum of the true probabilities of the offers made), ``best_possible`` (favourite every
        month), ``share_of_best`` (0-1), ``regret`` (best possible - expected, acceptances)
        and ``favourite_share_last_round`` (0-1).

    Examples
    --------
    >>> prefs = simulate_offer_preferences(100)
    >>> h = simulate_learning_relationship(prefs, PopulationGreedy(), n_rounds=4)
    >>> float(compare_learning({"greedy": h}, prefs).loc["greedy", "best_possible"].round(1)) > 0
    True
    """
    rows = {}
    best_per_round = float(preferences.max(axis=1).sum())
    for label, history in histories.items():
        curve = learning_curve(history, preferences)
        n_rounds = len(curve)
        expected = float(history["p_accept"].sum())
        rows[label] = {
            "accepted": int(history["accepted"].sum()),
            "expected_accepted": expected,
            "best_possible": best_per_round * n_rounds,
            "share_of_best": expected / (best_per_round * n_rounds),
            "regret": best_per_round * n_rounds - expected,
            "favourite_share_last_round": float(curve["favourite_share"].iloc[-1]),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("policy")


def posterior_table(history: pd.DataFrame, customer_id, *, prior_strength: float = 2.0,
                    offers: Sequence[str] | None = None) -> pd.DataFrame:
    """What the company believes about one customer after their answers: the beta posterior per offer.

    The prior of each offer is centred on the population's acceptance rate in ``history``
    (as :class:`ThompsonSampling` does at the end of the run).

    Parameters
    ----------
    history : pandas.DataFrame
        From :func:`simulate_learning_relationship`.
    customer_id : object
        The customer.
    prior_strength : float
        ``m``, as in :class:`ThompsonSampling`.
    offers : sequence of str, optional
        The offers, in order (default: those in ``history``, sorted).

    Returns
    -------
    pandas.DataFrame
        Indexed by offer: ``offered``, ``accepted`` (counts), ``alpha``, ``beta`` (posterior
        shapes) and ``posterior_mean`` (0-1).

    Examples
    --------
    >>> prefs = simulate_offer_preferences(100)
    >>> h = simulate_learning_relationship(prefs, ThompsonSampling(), n_rounds=6)
    >>> posterior_table(h, "C00001").columns.tolist()
    ['offered', 'accepted', 'alpha', 'beta', 'posterior_mean']
    """
    _check_history(history)
    offers = sorted(history["offer"].unique()) if offers is None else list(offers)
    mine = history[history["customer_id"] == customer_id]
    if mine.empty:
        raise ValueError(f"customer {customer_id!r} is not in the history")
    pop = history.groupby("offer")["accepted"].agg(["sum", "count"]).reindex(offers, fill_value=0)
    rate = (pop["sum"] + 1.0) / (pop["count"] + 2.0)
    own = mine.groupby("offer")["accepted"].agg(["sum", "count"]).reindex(offers, fill_value=0)
    m = float(prior_strength)
    alpha = m * rate + own["sum"]
    beta = m * (1 - rate) + own["count"] - own["sum"]
    return pd.DataFrame({"offered": own["count"].astype(int), "accepted": own["sum"].astype(int), "alpha": alpha,
                         "beta": beta, "posterior_mean": alpha / (alpha + beta)}, index=pd.Index(offers, name="offer"))

"""A simulated service centre whose teams differ in style, with the truth of what each style costs.

Teams beyond sales are usually measured on efficiency: talk time, contacts handled, hand-offs. A
customer relationship is measured on customers kept, grown and satisfied. The two can disagree, and
in a simulation we can say which is right. :func:`simulate_service_centre` gives every customer a home
team; month after month customers buy, sometimes contact the team, and sometimes leave. A team's
style (:data:`DEFAULT_TEAMS`) sets how long its agents talk, how often they resolve the issue, how
often they pass the customer on, how courteous they are and how often a resolved contact turns into
a sale. An unresolved issue brings the customer back and may make them leave: the truth records
which departures the service caused.

Examples
--------
>>> centre = simulate_service_centre(300, n_months=6, random_state=1)
>>> sorted(centre.contacts.columns)[:3], centre.team_truth.index.name
(['contact_id', 'customer_id', 'handed_off'], 'team')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models.base import as_generator

__all__ = ["DEFAULT_TEAMS", "ServiceCentre", "simulate_service_centre"]

#: Team styles: mean talk time (minutes), P(resolve), P(hand off), courtesy (satisfaction points),
#: P(a resolved contact leads to an extra purchase).
DEFAULT_TEAMS = pd.DataFrame(
    {
        "talk_minutes": [4.0, 11.0, 5.0, 7.5, 8.0, 6.0],
        "resolve_prob": [0.55, 0.92, 0.72, 0.82, 0.78, 0.62],
        "handoff_prob": [0.05, 0.04, 0.35, 0.10, 0.08, 0.18],
        "courtesy": [-0.3, 0.4, 0.0, 0.2, 0.3, -0.2],
        "cross_sell_prob": [0.0, 0.05, 0.0, 0.03, 0.20, 0.0],
    },
    index=pd.Index(["Express", "Resolve", "Route", "Steady", "Grow", "Script"], name="team"),
)

_STYLE_COLUMNS = list(DEFAULT_TEAMS.columns)


@dataclass
class ServiceCentre:
    """A simulated service centre: what the company records, and the truth beside it.

    Parameters
    ----------
    customers : pandas.DataFrame
        Indexed by ``customer_id``: ``team`` (home team), ``joined`` (timestamp); truth:
        ``purchase_rate`` (purchases a month), ``spend_level`` (USD a purchase),
        ``churn_hazard`` (baseline probability of leaving in a month), ``alive_at_end``,
        ``churned_at`` and ``churn_cause`` (``"baseline"``, ``"service"`` or empty).
    contacts : pandas.DataFrame
        One row per contact: ``contact_id``, ``customer_id``, ``team``, ``timestamp``,
        ``talk_minutes`` (the team's own agent time), ``handed_off`` (bool) and, truth,
        ``resolved`` (bool).
    surveys : pandas.DataFrame
        Post-contact surveys: ``customer_id``, ``team``, ``timestamp``, ``satisfaction`` (1-5),
        ``recommend`` (0-10).
    transactions : pandas.DataFrame
        ``customer_id``, ``timestamp``, ``amount`` (USD).
    team_truth : pandas.DataFrame
        Indexed by ``team``: the style (:data:`DEFAULT_TEAMS` columns), ``customers``,
        ``service_losses_per_100`` (customers the service made leave, per 100 customers of the
        team) and ``resolved_share`` (share of its contacts truly resolved).
    start, end : pandas.Timestamp
        The simulated period ``[start, end)``.

    Examples
    --------
    >>> centre = simulate_service_centre(200, n_months=3)
    >>> centre.end - centre.start > pd.Timedelta(days=80)
    True
    """

    customers: pd.DataFrame
    contacts: pd.DataFrame
    surveys: pd.DataFrame
    transactions: pd.DataFrame
    team_truth: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp

    def true_retention_value(self, *, months: int = 12, effect: float = 0.5, margin: float = 0.3) -> pd.Series:
        """The true value of one retention contact at ``end``: the margin it saves over the next months.

        A contact to a customer still alive at ``end`` multiplies their baseline monthly churn
        hazard by ``1 - effect`` for ``months`` months; the value is ``margin x purchase_rate x
        spend_level x`` the extra expected months alive. Customers already gone are worth 0.

        Parameters
        ----------
        months : int
            Horizon of the contact's effect (months).
        effect : float
            Share of the churn hazard the contact removes (0-1).
        margin : float
            Share of spend that is profit (0-1].

        Returns
        -------
        pandas.Series
            ``true_retention_value`` (USD), indexed by customer id.

        Examples
        --------
        >>> centre = simulate_service_centre(200, n_months=3)
        >>> bool((centre.true_retention_value() >= 0).all())
        True
        """
        if isinstance(months, bool) or not isinstance(months, (int, np.integer)) or months < 1:
            raise ValueError(f"months must be a whole number >= 1, got {months!r}")
        for name, v, low_open in (("effect", effect, False), ("margin", margin, True)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v <= 1 if low_open else 0 <= v <= 1):
                raise ValueError(f"{name} must be a share in {'(0, 1]' if low_open else '[0, 1]'}, got {v!r}")
        c = self.customers
        m = np.arange(1, months + 1)[None, :]
        h = c["churn_hazard"].to_numpy()[:, None]
        gain = ((1 - h * (1 - effect)) ** m - (1 - h) ** m).sum(axis=1)
        value = margin * c["purchase_rate"].to_numpy() * c["spend_level"].to_numpy() * gain
        return pd.Series(np.where(c["alive_at_end"].to_numpy(), value, 0.0), index=c.index,
                         name="true_retention_value")


def _check_teams(teams) -> pd.DataFrame:
    if not isinstance(teams, pd.DataFrame) or len(teams) < 2:
        raise TypeError("teams must be a DataFrame of at least two teams with the columns of DEFAULT_TEAMS")
    missing = [c for c in _STYLE_COLUMNS if c not in teams.columns]
    if missing:
        raise ValueError(f"teams lacks the column(s) {missing}; expected {_STYLE_COLUMNS}")
    t = teams[_STYLE_COLUMNS].astype(float)
    if not np.isfinite(t.to_numpy()).all() or (t["talk_minutes"] <= 0).any():
        raise ValueError("teams: talk_minutes must be positive and every style value finite")
    for col in ("resolve_prob", "handoff_prob", "cross_sell_prob"):
        if not t[col].between(0, 1).all():
            raise ValueError(f"teams: {col} must be a probability in [0, 1]")
    return t


def simulate_service_centre(
    n_customers: int = 3000,
    *,
    teams: pd.DataFrame | None = None,
    n_months: int = 24,
    start="2023-01-01",
    random_state=0,
) -> ServiceCentre:
    """Simulate customers of a service centre, month by month, with teams of known styles.

    Each customer has a home team (at random), a purchase rate (gamma, mean 0.4 a month), a spend
    level (gamma, mean 50 USD), a baseline churn hazard (beta, mean 1% a month) and a propensity to
    contact the centre (beta, mean 10% a month); 70% are customers at ``start``, the others join
    in a month drawn at random. Every month, each active customer:

    1. contacts their team with their propensity, or with probability 0.6 if last month's issue
       is still open; the agent talks ``talk_minutes`` x Gamma(4, 1/4) minutes (half of that
       when the call is handed off), hands off with ``handoff_prob``, and resolves the issue with
       ``resolve_prob`` (80% of it after a hand-off);
    2. answers a survey after 35% of contacts: satisfaction 1-5 and likelihood to recommend 0-10,
       higher when resolved and with a courteous team, lower after a hand-off;
    3. leaves because of the service with probability 0.25 after an unresolved contact, or for
       other reasons with their baseline hazard;
    4. if still there, buys a Poisson(purchase rate) number of times (gamma amounts around the
       spend level), plus once more with ``cross_sell_prob`` after a resolved contact.

    Parameters
    ----------
    n_customers : int
        Customers (at ``start`` and joining later).
    teams : pandas.DataFrame, optional
        Team styles indexed by team name, with the columns of :data:`DEFAULT_TEAMS`.
    n_months : int
        Months simulated.
    start : date-like
        First day.
    random_state : None, int or numpy.random.Generator
        Seed or generator.

    Returns
    -------
    ServiceCentre

    Examples
    --------
    >>> centre = simulate_service_centre(500, n_months=12, random_state=0)
    >>> int(centre.team_truth["customers"].sum())
    500
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)) or n_customers < 1:
        raise ValueError(f"n_customers must be a whole number >= 1, got {n_customers!r}")
    if isinstance(n_months, bool) or not isinstance(n_months, (int, np.integer)) or n_months < 1:
        raise ValueError(f"n_months must be a whole number >= 1, got {n_months!r}")
    styles = _check_teams(DEFAULT_TEAMS if teams is None else teams)
    start = pd.Timestamp(start)
    rng = as_generator(random_state)
    n, k = int(n_customers), len(styles)
    team = rng.integers(k, size=n)
    rate = rng.gamma(2.0, 0.2, size=n)
    spend = rng.gamma(3.0, 50.0 / 3.0, size=n)
    hazard = rng.beta(1.0, 99.0, size=n)
    propensity = rng.beta(2.0, 18.0, size=n)
    joined = np.where(rng.random(n) < 0.7, 0, rng.integers(1, max(n_months, 2), size=n))
    month_starts = pd.date_range(start, periods=n_months + 1, freq="MS" if start.day == 1 else pd.DateOffset(months=1))
    S = styles.to_numpy()
    talk, resolve, handoff, courtesy, cross = (S[:, i] for i in range(5))

    alive = np.ones(n, bool)
    issue_open = np.zeros(n, bool)
    churned_month = np.full(n, -1)
    cause = np.array([""] * n, dtype=object)
    contacts, surveys, purchases = [], [], []
    for m in range(n_months):
        t0, t1 = month_starts[m], month_starts[m + 1]
        span = (t1 - t0).total_seconds()
        active = alive & (joined <= m)
        contact = active & (rng.random(n) < np.where(issue_open, 0.6, propensity))
        idx = np.flatnonzero(contact)
        tm = team[idx]
        handed = rng.random(len(idx)) < handoff[tm]
        minutes = talk[tm] * rng.gamma(4.0, 0.25, size=len(idx)) * np.where(handed, 0.5, 1.0)
        resolved = rng.random(len(idx)) < resolve[tm] * np.where(handed, 0.8, 1.0)
        when = t0 + pd.to_timedelta(rng.random(len(idx)) * span, unit="s")
        contacts.append(pd.DataFrame({"customer_id": idx, "team_pos": tm, "timestamp": when,
                                      "talk_minutes": minutes.round(2), "handed_off": handed, "resolved": resolved}))
        asked = rng.random(len(idx)) < 0.35
        sat = np.clip(np.rint(3.2 + 1.3 * resolved - 0.7 * handed + courtesy[tm] + rng.normal(0, 0.7, len(idx))), 1, 5)
        rec = np.clip(np.rint(6.0 + 2.5 * resolved - 1.5 * handed + 2.0 * courtesy[tm]
                              + rng.normal(0, 1.5, len(idx))), 0, 10)
        surveys.append(pd.DataFrame({"customer_id": idx[asked], "team_pos": tm[asked],
                                     "timestamp": when[asked] + pd.Timedelta(hours=1),
                                     "satisfaction": sat[asked].astype(int), "recommend": rec[asked].astype(int)}))
        issue_open[:] = False
        issue_open[idx[~resolved]] = True
        service_loss = np.zeros(n, bool)
        service_loss[idx[~resolved]] = rng.random(int((~resolved).sum())) < 0.25
        other_loss = active & ~service_loss & (rng.random(n) < hazard)
        for mask, why in ((service_loss, "service"), (other_loss, "baseline")):
            alive &= ~mask
            churned_month[mask] = m
            cause[mask] = why
        buyers = active & alive
        counts = rng.poisson(rate * buyers)
        extra = np.zeros(n, int)
        extra[idx[resolved]] = rng.random(int(resolved.sum())) < cross[tm[resolved]]
        counts = counts + extra * buyers
        who = np.repeat(np.arange(n), counts)
        amounts = rng.gamma(4.0, spend[who] / 4.0)
        purchases.append(pd.DataFrame({"customer_id": who, "timestamp": t0 + pd.to_timedelta(
            rng.random(len(who)) * span, unit="s"), "amount": amounts.round(2)}))

    names = np.asarray(styles.index, dtype=object)
    ids = np.array([f"S{i + 1:05d}" for i in range(n)], dtype=object)
    con = pd.concat(contacts, ignore_index=True).sort_values(["timestamp", "customer_id"], kind="stable")
    con = con.assign(customer_id=ids[con["customer_id"]], team=names[con["team_pos"]]).reset_index(drop=True)
    con.insert(0, "contact_id", [f"K{i + 1:07d}" for i in range(len(con))])
    con = con[["contact_id", "customer_id", "team", "timestamp", "talk_minutes", "handed_off", "resolved"]]
    sur = pd.concat(surveys, ignore_index=True).sort_values(["timestamp", "customer_id"], kind="stable")
    sur = sur.assign(customer_id=ids[sur["customer_id"]], team=names[sur["team_pos"]]).reset_index(drop=True)
    sur = sur[["customer_id", "team", "timestamp", "satisfaction", "recommend"]]
    tx = pd.concat(purchases, ignore_index=True).sort_values(["timestamp", "customer_id"], kind="stable")
    tx = tx.assign(customer_id=ids[tx["customer_id"]]).reset_index(drop=True)
    churned_at = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    gone = churned_month >= 0
    churned_at[gone] = month_starts[churned_month[gone] + 1].to_numpy()
    customers = pd.DataFrame({
        "team": names[team], "joined": month_starts[joined].to_numpy(), "purchase_rate": rate, "spend_level": spend,
        "churn_hazard": hazard, "contact_propensity": propensity, "alive_at_end": alive,
        "churned_at": churned_at.to_numpy(), "churn_cause": cause,
    }, index=pd.Index(ids, name="customer_id"))
    truth = styles.copy()
    truth["customers"] = customers.groupby("team").size().reindex(styles.index, fill_value=0)
    losses = customers[customers["churn_cause"] == "service"].groupby("team").size().reindex(styles.index, fill_value=0)
    truth["service_losses_per_100"] = 100.0 * losses / truth["customers"].clip(lower=1)
    truth["resolved_share"] = con.groupby("team")["resolved"].mean().reindex(styles.index)
    return ServiceCentre(customers, con, sur, tx, truth, month_starts[0], month_starts[-1])

"""A scorecard for teams beyond sales: efficiency measures beside relationship measures.

"What gets measured gets managed": a service team measured only on talk time learns to talk less,
whether or not the customer's problem is solved. :func:`team_scorecard` puts, per team, the usual
efficiency measures (contacts per customer, talk time, hand-offs) beside service quality (first-contact
resolution) and the relationship measures Peppers and Rogers ask every customer-facing team to own:
customers kept, lost and grown (:func:`~crm_models.measure.customer_movement`), satisfaction and
the net promoter score. :data:`SCORECARD_MEASURES` states each measure's family, direction and
definition; :func:`rank_teams` ranks the teams on each.

Examples
--------
>>> from crm_models.interact import simulate_service_centre
>>> c = simulate_service_centre(400, n_months=12, random_state=0)
>>> card = team_scorecard(c.contacts, c.transactions, c.customers["team"],
...                       before=("2023-01-01", "2023-07-01"), after=("2023-07-01", "2024-01-01"), surveys=c.surveys)
>>> list(card.columns[:3])
['customers', 'contacts_per_customer', 'talk_minutes']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.measure._common import period
from crm_models.measure.movement import customer_movement
from crm_models.measure.satisfaction import net_promoter_score
from crm_models.units import as_duration

__all__ = ["SCORECARD_MEASURES", "team_scorecard", "rank_teams"]

#: measure -> (family, better when, definition)
SCORECARD_MEASURES: dict[str, tuple[str, str, str]] = {
    "contacts_per_customer": ("efficiency", "lower", "contacts in the second period per customer of the team"),
    "talk_minutes": ("efficiency", "lower", "mean minutes the team's agents spent per contact (second period)"),
    "handoff_rate": ("efficiency", "lower", "share of the team's contacts passed to another team (second period)"),
    "first_contact_resolution": ("service quality", "higher",
                                 "share of the team's contacts in the second period not followed by another "
                                 "contact from the same customer within the repeat window"),
    "satisfaction": ("relationship", "higher", "mean 1-5 satisfaction of surveys answered in the second period"),
    "nps": ("relationship", "higher", "net promoter score of the surveys of the second period (-100 to 100)"),
    "retention_rate": ("relationship", "higher",
                       "share of the team's base (customers active in the first period) not lost in the second"),
    "grown_share": ("relationship", "higher", "share of the team's base whose spend per day rose by more than 10%"),
    "lost_share": ("relationship", "lower", "share of the team's base with no purchase in the second period"),
    "won": ("relationship", "higher", "customers of the team won or won back in the second period (count)"),
}


def team_scorecard(
    contacts: pd.DataFrame,
    transactions: pd.DataFrame,
    teams: pd.Series,
    *,
    before: tuple,
    after: tuple,
    surveys: pd.DataFrame | None = None,
    repeat_window=(30, "D"),
    customer_id_col: str = "customer_id",
    team_col: str = "team",
    datetime_col: str = "timestamp",
    monetary_value_col: str = "amount",
    talk_time_col: str = "talk_minutes",
    handoff_col: str = "handed_off",
    satisfaction_col: str = "satisfaction",
    recommend_col: str = "recommend",
) -> pd.DataFrame:
    """Per team: efficiency, service quality and relationship measures side by side.

    Efficiency and service quality come from the contacts the team handled in ``after``;
    relationship measures from what happened to the team's customers (``teams``) between
    ``before`` and ``after`` (:func:`~crm_models.measure.customer_movement`) and from the
    surveys answered in ``after``. Definitions: :data:`SCORECARD_MEASURES`.

    Parameters
    ----------
    contacts : pandas.DataFrame
        One row per contact: customer, team, time, talk time (minutes) and hand-off (bool).
    transactions : pandas.DataFrame
        One row per purchase: customer, time, amount (USD).
    teams : pandas.Series
        Each customer's team (the team that owns the relationship), indexed by customer id.
    before, after : (start, end) pairs of dates
        The two periods, half-open ``[start, end)``.
    surveys : pandas.DataFrame, optional
        Post-contact surveys: customer, team, time, satisfaction (1-5) and recommend (0-10);
        without them ``satisfaction`` and ``nps`` are NaN.
    repeat_window : (length, unit) pair
        A contact followed by another from the same customer within this window counts as not
        resolved at first contact.
    customer_id_col, team_col, datetime_col, monetary_value_col, talk_time_col, handoff_col, satisfaction_col, recommend_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        Indexed by team: ``customers`` and the measures of :data:`SCORECARD_MEASURES`, in that
        order.

    Raises
    ------
    crm_models.errors.DataError
        If a column is missing or a talk time is negative.

    Examples
    --------
    >>> contacts = pd.DataFrame({"customer_id": ["a", "a", "b"], "team": ["X", "X", "Y"],
    ...                          "timestamp": pd.to_datetime(["2024-08-01", "2024-08-10", "2024-09-01"]),
    ...                          "talk_minutes": [5.0, 7.0, 3.0], "handed_off": [False, True, False]})
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 30.0, 20.0],
    ...                     "timestamp": pd.to_datetime(["2024-02-01", "2024-09-01", "2024-03-01"])})
    >>> card = team_scorecard(contacts, log, pd.Series({"a": "X", "b": "Y"}),
    ...                       before=("2024-01-01", "2024-07-01"), after=("2024-07-01", "2025-01-01"))
    >>> card[["talk_minutes", "handoff_rate", "first_contact_resolution", "lost_share"]]
          talk_minutes  handoff_rate  first_contact_resolution  lost_share
    team                                                                  
    X              6.0           0.5                       0.5         0.0
    Y              3.0           0.0                       1.0         1.0
    """
    require_columns(contacts, [customer_id_col, team_col, datetime_col, talk_time_col, handoff_col], what="contacts")
    if not isinstance(teams, pd.Series):
        raise TypeError(f"teams must be a pandas Series (team by customer id), got {type(teams).__name__}")
    b0, b1 = period(before, "before")
    a0, a1 = period(after, "after")
    window = pd.Timedelta(days=as_duration(repeat_window, "repeat_window").days)
    c = contacts[[customer_id_col, team_col, datetime_col, talk_time_col, handoff_col]].copy()
    c[datetime_col] = pd.to_datetime(c[datetime_col])
    talk = pd.to_numeric(c[talk_time_col], errors="coerce")
    fail_rows(c, ~(talk >= 0).to_numpy(), talk_time_col, "must be a number of minutes >= 0", what="contacts")
    c = c.sort_values([customer_id_col, datetime_col], kind="stable")
    following = c.groupby(customer_id_col)[datetime_col].shift(-1)
    c["repeat"] = (following - c[datetime_col]) <= window
    now = c[(c[datetime_col] >= a0) & (c[datetime_col] < a1)]
    order = sorted(set(teams.dropna().astype(str)) | set(now[team_col].astype(str)))
    g = now.groupby(now[team_col].astype(str))
    size = teams.astype(str).value_counts().reindex(order, fill_value=0)
    out = pd.DataFrame(index=pd.Index(order, name=team_col))
    out["customers"] = size.astype(np.int64)
    out["contacts_per_customer"] = g.size().reindex(order, fill_value=0) / size.clip(lower=1)
    out["talk_minutes"] = g[talk_time_col].mean().reindex(order).astype(float)
    out["handoff_rate"] = g[handoff_col].mean().reindex(order).astype(float)
    out["first_contact_resolution"] = 1.0 - g["repeat"].mean().reindex(order).astype(float)
    out["satisfaction"], out["nps"] = np.nan, np.nan
    if surveys is not None:
        require_columns(surveys, [team_col, datetime_col, satisfaction_col, recommend_col], what="surveys")
        s = surveys[(pd.to_datetime(surveys[datetime_col]) >= a0) & (pd.to_datetime(surveys[datetime_col]) < a1)]
        gs = s.groupby(s[team_col].astype(str))
        out["satisfaction"] = gs[satisfaction_col].mean().reindex(order).astype(float)
        out["nps"] = pd.Series({t: net_promoter_score(x[recommend_col]) for t, x in gs}, dtype=float).reindex(order)
    movement = customer_movement(transactions, (b0, b1), (a0, a1), customer_id_col=customer_id_col,
                                 datetime_col=datetime_col, monetary_value_col=monetary_value_col).customers
    movement = movement.assign(team=teams.astype(str).reindex(movement.index).to_numpy())
    base = movement[movement["status"].isin(["grown", "stable", "declined", "lost"])]
    gb = base.groupby("team")["status"]
    out["retention_rate"] = 1.0 - gb.apply(lambda x: (x == "lost").mean()).reindex(order).astype(float)
    out["grown_share"] = gb.apply(lambda x: (x == "grown").mean()).reindex(order).astype(float)
    out["lost_share"] = 1.0 - out["retention_rate"]
    won = movement[movement["status"].isin(["won", "won back"])].groupby("team").size()
    out["won"] = won.reindex(order, fill_value=0).astype(np.int64)
    return out[["customers", *SCORECARD_MEASURES]]


def rank_teams(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Rank the teams on every measure of a scorecard, 1 being the best by that measure's direction.

    Parameters
    ----------
    scorecard : pandas.DataFrame
        From :func:`team_scorecard` (measures not in :data:`SCORECARD_MEASURES` are left out).

    Returns
    -------
    pandas.DataFrame
        Indexed by team, one column per measure: rank (1 = best; ties share the lower rank).

    Examples
    --------
    >>> card = pd.DataFrame({"talk_minutes": [4.0, 9.0], "retention_rate": [0.7, 0.9]}, index=["A", "B"])
    >>> rank_teams(card)
       talk_minutes  retention_rate
    A             1               2
    B             2               1
    """
    cols = [c for c in scorecard.columns if c in SCORECARD_MEASURES]
    return pd.DataFrame({c: scorecard[c].rank(ascending=SCORECARD_MEASURES[c][1] == "lower", method="min")
                         .astype("Int64") for c in cols}, index=scorecard.index)

"""Satisfaction and the net promoter score (Reichheld 2003), overall and per segment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_datetimes, require_columns
from crm_models.measure._common import nonempty, numeric, series_of

__all__ = ["net_promoter_score", "satisfaction_by_segment"]


def _recommend_scores(values, name: str, what: str) -> pd.Series:
    s = numeric(values, name, what)
    bad = ((s < 0) | (s > 10) | (s != np.round(s))).to_numpy()
    fail_rows(s.to_frame(name), bad, name, "must hold whole numbers from 0 to 10", what=what)
    return s


def net_promoter_score(answers) -> float:
    """Net promoter score (Reichheld 2003) of 0-10 "how likely to recommend" answers.

    NPS = % promoters (9-10) - % detractors (0-6), a number from -100 to 100; passives (7-8)
    count in the denominator only. Every answer counts once.

    Parameters
    ----------
    answers : array_like or pandas.Series
        Whole numbers from 0 to 10.

    Returns
    -------
    float
        The score, from -100 to 100.

    Raises
    ------
    crm_models.errors.DataError
        If there is no answer, or an answer is missing or not a whole number from 0 to 10.

    Examples
    --------
    >>> net_promoter_score([10, 9, 9, 10, 7, 8, 8, 0, 6, 5])   # 40% promoters - 30% detractors
    10.0
    """
    s = _recommend_scores(answers, "answers", "answers")
    nonempty(len(s), "answers", "is empty: the net promoter score needs at least one answer")
    return float(100.0 * (int((s >= 9).sum()) - int((s <= 6).sum())) / len(s))


def satisfaction_by_segment(
    surveys: pd.DataFrame,
    segments: pd.Series,
    *,
    customer_id_col: str = "customer_id",
    satisfaction_col: str | None = "satisfaction",
    recommend_col: str = "recommend",
    datetime_col: str = "timestamp",
    latest_only: bool = False,
) -> pd.DataFrame:
    """Satisfaction and net promoter score per segment.

    Parameters
    ----------
    surveys : pandas.DataFrame
        One row per survey answer.
    segments : pandas.Series
        Customer id -> segment; every answering customer needs one. Its name names the output's
        index (default ``"segment"``).
    customer_id_col : str
        Column of the customer id.
    satisfaction_col : str or None
        Column of the satisfaction score (on the survey's own scale, e.g. 1-5); ``None`` when
        the survey has none.
    recommend_col : str
        Column of the 0-10 likelihood-to-recommend answer.
    datetime_col : str
        Column of the answer's time; read only with ``latest_only``.
    latest_only : bool
        Count only each customer's latest answer (one vote per customer); otherwise every
        answer counts.

    Returns
    -------
    pandas.DataFrame
        One row per segment (plus ``"all"``): ``answers``, ``customers``, ``mean_satisfaction``
        (omitted when ``satisfaction_col`` is None), ``promoters`` / ``passives`` /
        ``detractors`` (shares 0-1 of answers 9-10 / 7-8 / 0-6) and ``nps`` (% promoters -
        % detractors, -100 to 100).

    Raises
    ------
    crm_models.errors.DataError
        If a column is missing, an answer is missing or out of range, ``segments`` repeats a
        customer id, or an answering customer has no segment.

    Examples
    --------
    >>> surveys = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "satisfaction": [1, 5, 4, 2],
    ...                         "recommend": [0, 10, 9, 3],
    ...                         "timestamp": pd.to_datetime(["2024-01-01", "2024-06-01", "2024-03-01",
    ...                                                      "2024-03-01"])})
    >>> segments = pd.Series({"a": "gold", "b": "gold", "c": "basic"}, name="tier")
    >>> satisfaction_by_segment(surveys, segments, latest_only=True)[["answers", "mean_satisfaction", "nps"]].round(2)
           answers  mean_satisfaction     nps
    tier                                     
    basic        1               2.00 -100.00
    gold         2               4.50  100.00
    all          3               3.67   33.33
    """
    cols = [customer_id_col, recommend_col] + [c for c in (satisfaction_col,) if c is not None]
    if latest_only:
        cols.append(datetime_col)
    require_columns(surveys, cols, what="surveys")
    series_of(segments, "segments", "segments")
    df = surveys[cols].copy()
    if latest_only:
        df[datetime_col] = parse_datetimes(surveys, datetime_col, what="surveys")
        df = df.sort_values([customer_id_col, datetime_col], kind="stable").groupby(customer_id_col).tail(1)
    fail_rows(df, df[recommend_col].isna(), recommend_col, "must hold an answer for every row", what="surveys")
    df["_rec"] = _recommend_scores(df[recommend_col], recommend_col, "surveys").to_numpy()
    if satisfaction_col is not None:
        fail_rows(df, df[satisfaction_col].isna(), satisfaction_col, "must hold an answer for every row",
                  what="surveys")
        df["_sat"] = numeric(df[satisfaction_col], satisfaction_col, "surveys").to_numpy()
    df["_seg"] = df[customer_id_col].map(segments).to_numpy()
    fail_rows(df[cols], df["_seg"].isna(), customer_id_col, "must be a customer with a segment in `segments`",
              what="surveys")

    def block(d: pd.DataFrame) -> dict:
        r = d["_rec"]
        row = {"answers": len(d), "customers": d[customer_id_col].nunique()}
        if satisfaction_col is not None:
            row["mean_satisfaction"] = d["_sat"].mean()
        row.update(
            promoters=(r >= 9).mean(),
            passives=((r >= 7) & (r <= 8)).mean(),
            detractors=(r <= 6).mean(),
        )
        row["nps"] = 100.0 * (int((r >= 9).sum()) - int((r <= 6).sum())) / len(r)
        return row

    rows = {seg: block(d) for seg, d in df.groupby("_seg", sort=True)}
    rows["all"] = block(df)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = segments.name or "segment"
    return out

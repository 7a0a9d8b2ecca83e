"""RFM scoring and named RFM segments.

Recency, frequency and monetary value are each scored 1..``n_groups`` (5 = best: the most
recent, the most frequent, the highest spend) by quantile edges learned at ``fit``, so a
scoring learned on one period can be applied unchanged to the next.

Input is the output of :func:`crm_models.rfm_summary` (``frequency``, ``recency``, ``T``,
``monetary_value``). Note the two meanings of "recency": in the BTYD summary ``recency`` is the
age of the customer at the last purchase (time from first to last purchase); in RFM it is the
time *since* the last purchase, ``T - recency``, in the summary's time unit (weeks by default).

Ties. Many customers share a value (most CDNOW customers never return: frequency 0). Ties are
never split: every customer with the same value gets the same score. The score of a value ``v``
is ``1 + floor(n_groups * F(v-))``, where ``F(v-)`` is the share of training customers with a
strictly worse value (the "min" rank, as a percentile). A value held by more customers than one
group's share therefore pushes the next value up several groups and some scores stay empty (on
the CDNOW calibration data frequency scores 1, 3, 4 and 5 occur, never 2): a score always means
"at least this share of customers is worse". The edges are stored (``edges_``) and applied by
``transform``: a new value gets the score of the largest learned edge it reaches.

Examples
--------
>>> from crm_models import rfm_summary
>>> from crm_models.datasets import load_cdnow
>>> tx = load_cdnow()
>>> cal = rfm_summary(tx[tx["timestamp"] <= "1997-09-30"], observation_period_end="1997-09-30")
>>> scores = RFMScorer().fit_transform(cal)
>>> sorted(scores["f"].unique().tolist())
[1, 3, 4, 5]
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, require_columns
from crm_models.base import CRMEstimator, FieldReader, Summary
from crm_models.errors import N_SHOWN, DataError
from crm_models.segment._base import numeric_frame

__all__ = ["RFMScorer", "default_segment_rules", "check_segment_rules", "assign_segments", "SCORES"]

#: Score columns a rule table may constrain: r, f, m and fm (``fm = round-half-up((f + m) / 2)``).
SCORES: tuple[str, ...] = ("r", "f", "m", "fm")

_DEFAULT_RULES = [
    # segment, r_min, r_max, fm_min, fm_max, strategy
    ("Champions", 5, 5, 4, 5, "Reward them; early access, ask for reviews and referrals."),
    ("Loyal Customers", 3, 4, 4, 5, "Up-sell higher-value products; loyalty programme."),
    ("Potential Loyalist", 4, 5, 2, 3, "Offer membership or loyalty programme; recommend related products."),
    ("New Customers", 5, 5, 1, 1, "Onboarding support; build the relationship early."),
    ("Promising", 4, 4, 1, 1, "Create brand awareness; free trials or samples."),
    ("Need Attention", 3, 3, 3, 3, "Limited-time offers based on past purchases; reactivate."),
    ("About to Sleep", 3, 3, 1, 2, "Share valuable resources; recommend popular products; reconnect."),
    ("At Risk", 1, 2, 3, 4, "Personalised win-back emails; renewals; helpful resources."),
    ("Can't Lose Them", 1, 2, 5, 5, "Win them back with renewals or new products; talk to them."),
    ("Hibernating", 2, 2, 1, 2, "Offer other relevant products and special discounts; recreate value."),
    ("Lost", 1, 1, 1, 2, "Revive interest with an outreach campaign, otherwise ignore."),
]

#: (score, column of rfm_values, sign): the sign makes "higher is better" for every score.
_SCORE_VALUES = (("r", "recency", -1.0), ("f", "frequency", 1.0), ("m", "monetary", 1.0))


def default_segment_rules() -> pd.DataFrame:
    """The widely used 11-segment RFM rule table on the R x FM grid (5 groups).

    Each row is a box of scores (inclusive ``*_min``/``*_max`` bounds) mapped to a segment;
    ``fm`` is the frequency-monetary score ``round-half-up((f + m) / 2)``. The names and
    suggested actions follow the common practitioner table (Putler's RFM segments, the ``rfm``
    R package); the boxes here are arranged so every (r, f, m) combination of 1..5 falls in
    exactly one segment (see :func:`check_segment_rules`).

    Returns
    -------
    pandas.DataFrame
        Columns ``segment``, ``r_min``, ``r_max``, ``fm_min``, ``fm_max`` (scores 1-5) and
        ``strategy`` (text); a fresh copy you may edit.

    Examples
    --------
    >>> rules = default_segment_rules()
    >>> rules.loc[0, ["segment", "r_min", "r_max", "fm_min", "fm_max"]].to_dict()
    {'segment': 'Champions', 'r_min': 5, 'r_max': 5, 'fm_min': 4, 'fm_max': 5}
    >>> len(rules)
    11
    """
    return pd.DataFrame(_DEFAULT_RULES, columns=["segment", "r_min", "r_max", "fm_min", "fm_max", "strategy"])


def _fm(f: np.ndarray, m: np.ndarray) -> np.ndarray:
    return np.floor((np.asarray(f) + np.asarray(m)) / 2 + 0.5).astype(int)


def _rule_columns(rules: pd.DataFrame) -> list[str]:
    if not isinstance(rules, pd.DataFrame) or "segment" not in rules.columns:
        raise ValueError("A segment rule table is a DataFrame with a 'segment' column and <score>_min/<score>_max "
                         f"columns for scores among {list(SCORES)}.")
    used = [s for s in SCORES if f"{s}_min" in rules.columns or f"{s}_max" in rules.columns]
    if not used:
        raise ValueError(f"The rule table constrains no score: add columns like r_min, r_max, fm_min, fm_max "
                         f"(scores {list(SCORES)}).")
    for s in used:
        for bound in (f"{s}_min", f"{s}_max"):
            if bound in rules.columns and not (
                pd.api.types.is_numeric_dtype(rules[bound]) and not pd.api.types.is_bool_dtype(rules[bound])
            ):
                raise ValueError(f"The rule table's column {bound!r} must hold numbers (scores; empty = no bound), "
                                 f"got {rules[bound].dtype} values such as {rules[bound].iloc[:3].tolist()}")
    if rules["segment"].isna().any():
        raise ValueError("The rule table's column 'segment' must name a segment on every row")
    return used


def _matches(rules: pd.DataFrame, scores: dict[str, np.ndarray]) -> np.ndarray:
    """Boolean matrix (customers x rules): which rule boxes hold each customer's scores."""
    used = _rule_columns(rules)
    n = len(next(iter(scores.values())))
    hit = np.ones((n, len(rules)), dtype=bool)
    for s in used:
        lo = rules[f"{s}_min"].to_numpy(float) if f"{s}_min" in rules else np.full(len(rules), -np.inf)
        hi = rules[f"{s}_max"].to_numpy(float) if f"{s}_max" in rules else np.full(len(rules), np.inf)
        lo, hi = np.nan_to_num(lo, nan=-np.inf), np.nan_to_num(hi, nan=np.inf)
        v = scores[s][:, None]
        hit &= (v >= lo[None, :]) & (v <= hi[None, :])
    return hit


def check_segment_rules(rules: pd.DataFrame, n_groups: int = 5) -> pd.DataFrame:
    """Check that every (r, f, m) score combination maps to exactly one segment.

    Parameters
    ----------
    rules : pandas.DataFrame
        A rule table: a ``segment`` column and inclusive bounds ``<score>_min`` / ``<score>_max``
        for scores among ``r``, ``f``, ``m`` and ``fm`` (missing bound = unbounded). Several
        rows may share a segment name (a segment made of several boxes).
    n_groups : int
        Number of groups per score (scores run 1..n_groups).

    Returns
    -------
    pandas.DataFrame
        The ``n_groups ** 3`` combinations: ``r``, ``f``, ``m``, ``fm`` and ``segment``.

    Raises
    ------
    ValueError
        If a combination matches no rule, or rules of different segments, listing examples.

    Examples
    --------
    >>> table = check_segment_rules(default_segment_rules(), n_groups=5)
    >>> len(table), table.iloc[-1].to_dict()
    (125, {'r': 5, 'f': 5, 'm': 5, 'fm': 5, 'segment': 'Champions'})
    >>> check_segment_rules(default_segment_rules().iloc[1:])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The RFM rule table does not map every score combination of 1..5 to exactly one segment: 10 combination(s) match no rule, for example (r, f, m) = [(5, 2, 5), ...]
    """
    grid = np.array(list(product(range(1, n_groups + 1), repeat=3)))
    scores = {"r": grid[:, 0], "f": grid[:, 1], "m": grid[:, 2], "fm": _fm(grid[:, 1], grid[:, 2])}
    hit = _matches(rules, scores)
    names = rules["segment"].astype(str).to_numpy()
    n_names = np.array([len(set(names[row])) for row in hit])
    table = pd.DataFrame(scores)
    problems = []
    if (n_names == 0).any():
        problems.append(f"{int((n_names == 0).sum())} combination(s) match no rule, for example (r, f, m) = "
                        f"{[tuple(map(int, g)) for g in grid[n_names == 0][:5]]}")
    if (n_names > 1).any():
        ex = [(tuple(map(int, g)), sorted(set(names[row]))) for g, row in zip(grid[n_names > 1][:3], hit[n_names > 1][:3])]
        problems.append(f"{int((n_names > 1).sum())} combination(s) match several segments, for example {ex}")
    if problems:
        raise ValueError(f"The RFM rule table does not map every score combination of 1..{n_groups} to exactly one "
                         "segment: " + "; ".join(problems))
    table["segment"] = names[hit.argmax(axis=1)]
    return table


def assign_segments(scores: pd.DataFrame, rules: pd.DataFrame | None = None) -> pd.Series:
    """Segment name of every customer from their ``r``, ``f`` and ``m`` scores.

    Parameters
    ----------
    scores : pandas.DataFrame
        Integer scores >= 1 in columns ``r``, ``f`` and ``m``, indexed by customer id (the output
        of :meth:`RFMScorer.transform`, or your own).
    rules : pandas.DataFrame, optional
        A rule table (see :func:`check_segment_rules`); default :func:`default_segment_rules`.

    Returns
    -------
    pandas.Series
        Segment name by customer id, named ``segment``.

    Raises
    ------
    crm_models.errors.DataError
        If a score is missing, below 1 or not a whole number, or a customer matches no segment
        or several segments of the table (run :func:`check_segment_rules` on a new table).

    Examples
    --------
    >>> scores = pd.DataFrame({"r": [5, 1], "f": [5, 1], "m": [4, 2]}, index=["ann", "bob"])
    >>> assign_segments(scores).to_dict()
    {'ann': 'Champions', 'bob': 'Lost'}
    """
    what = "scores"
    rules = default_segment_rules() if rules is None else rules
    require_columns(scores, ["r", "f", "m"], what=what)
    columns = []
    for s in ("r", "f", "m"):
        v = pd.to_numeric(scores[s], errors="coerce")
        fail_rows(scores, v.isna().to_numpy(), s, "must hold a score (a whole number >= 1) for every customer",
                  what=what)
        arr = v.to_numpy(dtype=float)
        fail_rows(scores, (arr < 1) | (arr != np.floor(arr)), s, "must hold whole numbers >= 1", what=what)
        columns.append(arr.astype(np.int64))
    rfm = np.column_stack(columns).reshape(-1, 3)
    base = int(rfm.max()) + 1 if rfm.size else 1
    code = (rfm[:, 0] * base + rfm[:, 1]) * base + rfm[:, 2]  # one integer per combination
    codes, which = np.unique(code, return_inverse=True)  # match each distinct combination once
    combos = np.column_stack([codes // (base * base), (codes // base) % base, codes % base])
    sc = {"r": combos[:, 0], "f": combos[:, 1], "m": combos[:, 2], "fm": _fm(combos[:, 1], combos[:, 2])}
    hit = _matches(rules, sc)
    names = rules["segment"].astype(str).to_numpy()
    n_names = np.array([len(set(names[row])) for row in hit], dtype=int)
    bad = (n_names != 1)[np.ravel(which)]
    if bad.any():
        raise DataError(
            None,
            "match no segment or several segments of the rule table",
            rows=scores.loc[bad].head(N_SHOWN),
            n_rows=int(bad.sum()),
            n_total=len(scores),
            what="scores of some customers",
            hint="Check the table with check_segment_rules().",
        )
    return pd.Series(names[hit.argmax(axis=1)][np.ravel(which)], index=scores.index, name="segment")


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


class RFMScorer(CRMEstimator):
    """Recency, frequency and monetary scores in ``n_groups`` quantile groups, and named segments.

    Parameters
    ----------
    n_groups : int
        Number of groups per score (default 5). Scores run 1..n_groups, higher is better:
        ``r`` = most recent (shortest time since the last purchase ``T - recency``), ``f`` =
        most purchases, ``m`` = highest spend.
    rules : pandas.DataFrame, None or False
        Segment rule table (see :func:`check_segment_rules`); ``None`` (default) takes
        :func:`default_segment_rules` (made for 5 groups); ``False`` scores without naming
        segments. Checked for completeness and uniqueness at ``fit``.
    monetary : {"total", "mean"}
        ``"total"`` (default): total spend ``frequency * monetary_value`` (repeat purchases only,
        unless the summary was built with ``include_first_transaction=True``); ``"mean"``: the
        summary's average spend per transaction.
    frequency_col, recency_col, T_col, monetary_value_col : str
        Column names of the summary (defaults as returned by :func:`crm_models.rfm_summary`).

    Attributes
    ----------
    edges_ : dict of str to numpy.ndarray
        For ``r``, ``f``, ``m`` the ``n_groups - 1`` thresholds: a value at or beyond edge ``k``
        scores at least ``k + 1``. For ``f`` and ``m`` the edges never decrease and ``inf``
        marks an empty top score; for ``r`` (time since the last purchase, lower is better)
        they never increase and ``-inf`` marks an empty score. Equal neighbouring edges mean
        the scores between them are empty (a tie larger than a group). Units are those of the
        summary (``time_unit`` for ``r``, purchases for ``f``, money for ``m``).
    n_customers_ : int
        Customers seen at fit.

    Examples
    --------
    >>> summary = pd.DataFrame(
    ...     {"frequency": [0, 0, 1, 2, 3, 5, 8, 0, 1, 4],
    ...      "recency": [0, 0, 10, 20, 25, 30, 38, 0, 3, 35],
    ...      "T": [40] * 10,
    ...      "monetary_value": [0, 0, 20, 25, 30, 40, 50, 0, 10, 35.0]},
    ...     index=pd.Index(list("abcdefghij"), name="customer_id"))
    >>> scorer = RFMScorer().fit(summary)
    >>> scores = scorer.transform(summary)
    >>> scores.loc[["a", "g"], ["r", "f", "m", "rfm", "segment"]]  # doctest: +NORMALIZE_WHITESPACE
                 r  f  m  rfm    segment
    customer_id
    a            1  1  1  111       Lost
    g            5  5  5  555  Champions
    >>> scorer.edges_table()
        >=2   >=3   >=4    >=5
    r  37.0  30.0  15.0    5.0
    f   1.0   2.0   3.0    5.0
    m  10.0  20.0  90.0  200.0
    """

    _fitted_attribute = "edges_"

    def __init__(
        self,
        n_groups: int = 5,
        rules: pd.DataFrame | None | bool = None,
        monetary: str = "total",
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        monetary_value_col: str = "monetary_value",
    ) -> None:
        self.n_groups = n_groups
        self.rules = rules
        self.monetary = monetary
        self.frequency_col = frequency_col
        self.recency_col = recency_col
        self.T_col = T_col
        self.monetary_value_col = monetary_value_col

    # -- parameters ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        if not _is_int(self.n_groups) or self.n_groups < 2:
            raise ValueError(f"n_groups must be an integer >= 2, got {self.n_groups!r}")
        if self.monetary not in ("total", "mean"):
            raise ValueError(f"monetary must be 'total' or 'mean', got {self.monetary!r}")
        for name in ("frequency_col", "recency_col", "T_col", "monetary_value_col"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a column name (a string), got {getattr(self, name)!r}")
        if self.rules is None and self.n_groups != 5:
            raise ValueError(f"The default RFM segment table is made for n_groups=5, not {self.n_groups}; pass your "
                             "own table as rules=... (see check_segment_rules) or rules=False to score only.")
        if not (self.rules is None or self.rules is False or isinstance(self.rules, pd.DataFrame)):
            raise ValueError(f"rules must be a DataFrame (a rule table), None (the default table) or False (no "
                             f"segments), got {type(self.rules).__name__}")
        rules = self._rules()
        if rules is not None:
            check_segment_rules(rules, self.n_groups)

    def _rules(self) -> pd.DataFrame | None:
        if self.rules is False:
            return None
        return default_segment_rules() if self.rules is None else self.rules

    # -- data ---------------------------------------------------------------------------------
    def rfm_values(self, summary: pd.DataFrame) -> pd.DataFrame:
        """The raw R, F and M values of every customer.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer (indexed by customer id) with the frequency, recency, T and
            monetary value columns named by the ``*_col`` parameters.

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id: ``recency`` (time since the last purchase, ``T - recency``,
            in the summary's time unit), ``frequency`` (repeat purchases) and ``monetary``
            (total or mean spend, money).

        Examples
        --------
        >>> s = pd.DataFrame({"frequency": [2.0], "recency": [5.0], "T": [8.0], "monetary_value": [50.0]})
        >>> RFMScorer().rfm_values(s).iloc[0].tolist()
        [3.0, 2.0, 100.0]
        """
        if self.monetary not in ("total", "mean"):
            raise ValueError(f"monetary must be 'total' or 'mean', got {self.monetary!r}")
        what = "RFM summary"
        f, r, t, m = self.frequency_col, self.recency_col, self.T_col, self.monetary_value_col
        x = numeric_frame(summary, [f, r, t, m], what=what)
        since = x[t] - x[r]
        fail_rows(summary, since.to_numpy() < 0, r, f"must not exceed '{t}'", what=what)
        fail_rows(summary, x[f].to_numpy() < 0, f, "must not be negative", what=what)
        money = x[m] * x[f] if self.monetary == "total" else x[m]
        return pd.DataFrame({"recency": since, "frequency": x[f], "monetary": money}, index=x.index)

    # -- learning -----------------------------------------------------------------------------
    def fit(self, summary: pd.DataFrame, *, weights_col: str | None = None) -> RFMScorer:
        """Learn the quantile edges of each score.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer, as returned by :func:`crm_models.rfm_summary`.
        weights_col : str, optional
            Column with the number of customers each row stands for (the unique rows of a
            summary with their counts give the same edges as the summary itself).

        Returns
        -------
        RFMScorer
            ``self``, fitted.

        Examples
        --------
        >>> s = pd.DataFrame({"frequency": [0, 1, 2, 3.0], "recency": [0, 1, 2, 3.0], "T": [4.0] * 4,
        ...                   "monetary_value": [0, 5, 6, 7.0]})
        >>> RFMScorer(n_groups=2, rules=False).fit(s).edges_["f"].tolist()
        [2.0]
        >>> counted = s.value_counts().rename("n").reset_index()    # unique rows with their counts
        >>> RFMScorer(n_groups=2, rules=False).fit(counted, weights_col="n").edges_["f"].tolist()
        [2.0]
        """
        self._check_params()
        values = self.rfm_values(summary)
        if weights_col is None:
            weights = np.ones(len(values))
        else:
            weights = numeric_frame(summary, [weights_col], what="RFM summary")[weights_col].to_numpy()
            fail_rows(summary, (weights < 0) | (weights != np.floor(weights)), weights_col,
                      "must hold whole numbers of customers >= 0", what="RFM summary")
        n = float(weights.sum())
        if n < self.n_groups:
            raise DataError(
                None,
                f"has {n:g} customer(s), too few for n_groups={self.n_groups}",
                what="RFM summary",
                hint="Use fewer groups or more customers.",
            )
        self.edges_ = {score: self._edges(sign * values[col].to_numpy(), weights) * sign
                       for score, col, sign in _SCORE_VALUES}
        self.n_customers_ = int(n)
        return self

    def _edges(self, v: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Thresholds (higher is better): edge k is the smallest value whose min-rank share >= k / n."""
        uniq, inverse = np.unique(v, return_inverse=True)
        counts = np.bincount(inverse.ravel(), weights=weights, minlength=len(uniq))
        below = np.concatenate([[0], np.cumsum(counts)[:-1]]) / counts.sum()  # F(v-) of each distinct value
        out = np.full(self.n_groups - 1, np.inf)
        for k in range(1, self.n_groups):
            ok = np.flatnonzero(below >= k / self.n_groups - 1e-12)
            if ok.size:
                out[k - 1] = uniq[ok[0]]
        return out

    # -- applying -----------------------------------------------------------------------------
    def transform(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Scores and segment of every customer, with the edges learned at ``fit``.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer, as returned by :func:`crm_models.rfm_summary` (any period).

        Returns
        -------
        pandas.DataFrame
            Indexed by customer id: ``recency`` (time since the last purchase), ``frequency``,
            ``monetary``, the scores ``r``, ``f``, ``m`` (1..n_groups, higher is better), ``fm``,
            ``rfm`` (a label like ``"545"``) and ``segment`` (unless ``rules=False``).

        Examples
        --------
        >>> s = pd.DataFrame({"frequency": [0, 1, 2, 3.0], "recency": [0, 1, 2, 3.0], "T": [4.0] * 4,
        ...                   "monetary_value": [0, 5, 6, 7.0]})
        >>> scorer = RFMScorer(n_groups=2, rules=False).fit(s)
        >>> scorer.transform(s.assign(frequency=[9.0, 0, 0, 0]))["f"].tolist()
        [2, 1, 1, 1]
        """
        self._check_fitted()
        values = self.rfm_values(summary)
        out = values.copy()
        for score, col, sign in _SCORE_VALUES:
            e = sign * self.edges_[score]
            x = sign * values[col].to_numpy()
            out[score] = 1 + (x[:, None] >= e[None, :]).sum(axis=1)
        out["fm"] = _fm(out["f"], out["m"])
        out["rfm"] = out["r"].astype(str) + out["f"].astype(str) + out["m"].astype(str)
        rules = self._rules()
        if rules is not None:
            out["segment"] = assign_segments(out, rules)
        return out

    def fit_transform(self, summary: pd.DataFrame) -> pd.DataFrame:
        """``fit(summary).transform(summary)``.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer, as returned by :func:`crm_models.rfm_summary`.

        Returns
        -------
        pandas.DataFrame
            As :meth:`transform`.

        Examples
        --------
        >>> s = pd.DataFrame({"frequency": [0, 1, 2, 3.0], "recency": [0, 1, 2, 3.0], "T": [4.0] * 4,
        ...                   "monetary_value": [0, 5, 6, 7.0]})
        >>> RFMScorer(n_groups=2, rules=False).fit_transform(s)["rfm"].tolist()
        ['111', '111', '222', '222']
        """
        return self.fit(summary).transform(summary)

    def edges_table(self) -> pd.DataFrame:
        """The learned edges as a table.

        Returns
        -------
        pandas.DataFrame
            Rows ``r``, ``f``, ``m``; column ``>=k`` holds the lowest value scoring at least
            ``k`` (for ``r``: the longest time since the last purchase still scoring at least
            ``k``), in the summary's units.

        Examples
        --------
        >>> s = pd.DataFrame({"frequency": [0, 1, 2, 3.0], "recency": [0, 1, 2, 3.0], "T": [4.0] * 4,
        ...                   "monetary_value": [0, 5, 6, 7.0]})
        >>> RFMScorer(n_groups=2, rules=False).fit(s).edges_table()
            >=2
        r   2.0
        f   2.0
        m  12.0
        """
        self._check_fitted()
        return pd.DataFrame(self.edges_, index=[f">={k}" for k in range(2, self.n_groups + 1)]).T

    def summary(self, scores: pd.DataFrame) -> Summary:
        """Customers, share and mean R/F/M values per segment of a :meth:`transform` output.

        Parameters
        ----------
        scores : pandas.DataFrame
            The output of :meth:`transform` (it needs the ``segment`` column, so ``rules`` must
            not be ``False``).

        Returns
        -------
        crm_models.base.Summary
            One row per segment (in the rule table's order): ``customers``, ``share`` (0-1),
            ``mean_recency`` (time since the last purchase, the summary's time unit),
            ``mean_frequency`` (repeat purchases), ``mean_monetary`` (money) and ``strategy``
            when the rule table has one.

        Examples
        --------
        >>> s = pd.DataFrame({"frequency": [0, 0, 1, 2, 3, 5, 8, 0, 1, 4.0],
        ...                   "recency": [0, 0, 10, 20, 25, 30, 38, 0, 3, 35.0], "T": [40.0] * 10,
        ...                   "monetary_value": [0, 0, 20, 25, 30, 40, 50, 0, 10, 35.0]})
        >>> scorer = RFMScorer().fit(s)
        >>> table = scorer.summary(scorer.transform(s)).to_frame()
        >>> table["customers"].to_dict()
        {'Champions': 2, 'Loyal Customers': 2, 'Need Attention': 2, 'Hibernating': 1, 'Lost': 3}
        """
        self._check_fitted()
        require_columns(scores, ["recency", "frequency", "monetary"], what="scores")
        if "segment" not in scores:
            raise DataError(
                "segment",
                "is missing: summary() reads the segment column of transform()",
                what="scores",
                hint="The scorer has rules=False, so transform() names no segments; group the scores yourself.",
            )
        g = scores.groupby("segment", sort=False)
        table = pd.DataFrame({
            "customers": g.size(),
            "share": g.size() / len(scores),
            "mean_recency": g["recency"].mean(),
            "mean_frequency": g["frequency"].mean(),
            "mean_monetary": g["monetary"].mean(),
        })
        rules = self._rules()
        if rules is not None:
            order = list(dict.fromkeys(rules["segment"].astype(str)))
            table = table.reindex([s for s in order if s in table.index])
            if "strategy" in rules:
                strategy = rules.drop_duplicates("segment").set_index("segment")["strategy"]
                table["strategy"] = strategy.reindex(table.index)
        table.index.name = "segment"
        stats = {"customers": len(scores), "segments": len(table), "groups per score": self.n_groups,
                 "customers at fit": self.n_customers_}
        money = "total spend (frequency x monetary value)" if self.monetary == "total" else "mean spend per purchase"
        notes = [
            "recency: time since the last purchase (T - recency), in the summary's time unit.",
            f"monetary: {money}.",
            "Scores run 1..n_groups, higher is better; ties are never split, so some scores may be empty.",
        ]
        return Summary("RFM segments", table, stats, notes)

    # -- persistence --------------------------------------------------------------------------
    def _fitted_state(self) -> dict:
        return {"edges": {k: np.asarray(self.edges_[k], dtype=float) for k, _, _ in _SCORE_VALUES},
                "n_customers": int(self.n_customers_)}

    def _restore(self, fitted: FieldReader) -> None:
        edges = fitted.child("edges")
        unknown = sorted(set(edges.keys()) - {"r", "f", "m"})
        if unknown:
            edges.fail(unknown[0], "is not a score (the scores are r, f and m)")
        out = {}
        for score, _, sign in _SCORE_VALUES:
            e = edges.array(score, shape=(self.n_groups - 1,), finite=False)
            s = sign * e  # higher is better on this scale
            if np.isnan(e).any():
                edges.fail(score, "must not hold NaN")
            if np.isneginf(s).any():
                edges.fail(score, f"may hold {'-inf' if sign < 0 else 'inf'} (an empty score) but not "
                                  f"{'inf' if sign < 0 else '-inf'}")
            if np.any(np.diff(s) < 0):
                edges.fail(score, f"must {'never increase' if sign < 0 else 'never decrease'} from one score to "
                                  f"the next, got {e.tolist()}")
            finite = e[np.isfinite(e)]
            if score in ("r", "f") and np.any(finite < 0):
                edges.fail(score, f"must not be negative (a {'time' if score == 'r' else 'count'}), got {e.tolist()}")
            out[score] = e
        self.edges_ = out
        self.n_customers_ = fitted.number("n_customers", integer=True, low=self.n_groups)

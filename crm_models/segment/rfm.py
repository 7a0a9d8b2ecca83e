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
"at least this share of customers is worse". The edges are stored (``edges_``) and applied by ``transform``: a new value gets the
score of the largest learned edge it reaches.
"""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows
from crm_models.segment._base import check_fitted, numeric_frame

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


def default_segment_rules() -> pd.DataFrame:
    """The widely used 11-segment RFM rule table on the R x FM grid (5 groups).

    Each row is a box of scores (inclusive ``*_min``/``*_max`` bounds) mapped to a segment;
    ``fm`` is the frequency-monetary score ``round-half-up((f + m) / 2)``. The names and
    suggested actions follow the common practitioner table (Putler's RFM segments, the ``rfm``
    R package); the boxes here are arranged so every (r, f, m) combination of 1..5 falls in
    exactly one segment (see :func:`check_segment_rules`). Returns a fresh copy you may edit.
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

    Returns the full table of ``n_groups ** 3`` combinations with their ``fm`` score and segment;
    raises ``ValueError`` listing combinations that no rule covers or that several rules with
    different segment names cover (several boxes of the same segment may overlap).
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
    """Segment name of every customer from a scores frame with columns ``r``, ``f``, ``m``.

    ``rules`` defaults to :func:`default_segment_rules`. A customer matching no rule or rules of
    different segments raises ``ValueError`` (run :func:`check_segment_rules` on a new table).
    """
    rules = default_segment_rules() if rules is None else rules
    rfm = np.column_stack([scores[s].to_numpy(np.int64) for s in ("r", "f", "m")]).reshape(-1, 3)
    if rfm.size and rfm.min() < 1:
        bad = (rfm < 1).any(axis=1)
        raise ValueError(f"scores must be integers >= 1; {int(bad.sum())} customer(s) have a smaller score, for "
                         f"example:\n{scores.loc[bad].head().to_string()}")
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
        raise ValueError(f"{int(bad.sum())} customer(s) match no segment or several segments of the rule table, for "
                         f"example:\n{scores.loc[bad].head().to_string()}\nCheck the table with check_segment_rules().")
    return pd.Series(names[hit.argmax(axis=1)][np.ravel(which)], index=scores.index, name="segment")


class RFMScorer:
    """Recency, frequency and monetary scores in ``n_groups`` quantile groups, and named segments.

    Parameters
    ----------
    n_groups
        Number of groups per score (default 5). Scores run 1..n_groups, higher is better:
        ``r`` = most recent (shortest time since the last purchase ``T - recency``), ``f`` =
        most purchases, ``m`` = highest spend.
    rules
        Segment rule table (default :func:`default_segment_rules`, made for 5 groups); checked
        for completeness and uniqueness at ``fit``. ``rules=False`` scores without naming segments.
    monetary
        ``"total"`` (default): total spend ``frequency * monetary_value`` (repeat purchases only,
        unless the summary was built with ``include_first_transaction=True``); ``"mean"``: the
        summary's average spend per transaction.
    frequency_col, recency_col, T_col, monetary_col
        Column names of the summary (defaults as returned by ``rfm_summary``).

    Attributes (after ``fit``)
    --------------------------
    edges_ : dict of score -> ndarray
        For ``r``, ``f``, ``m`` the ``n_groups - 1`` thresholds: a value at or beyond edge ``k``
        scores at least ``k + 1`` (for ``r``, in time since last purchase, at or *below* the edge;
        ``inf`` marks an empty score). Units are those of the summary.
    n_customers_ : int
        Customers seen at fit.
    """

    def __init__(
        self,
        n_groups: int = 5,
        rules: pd.DataFrame | None | bool = None,
        monetary: str = "total",
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
        monetary_col: str = "monetary_value",
    ) -> None:
        self.n_groups = n_groups
        self.rules = rules
        self.monetary = monetary
        self.frequency_col = frequency_col
        self.recency_col = recency_col
        self.T_col = T_col
        self.monetary_col = monetary_col

    # -- data ---------------------------------------------------------------------------------
    def rfm_values(self, summary: pd.DataFrame) -> pd.DataFrame:
        """The raw R, F, M values: ``recency`` = time since last purchase (``T - recency``),
        ``frequency``, ``monetary`` (total or mean spend), indexed by customer id."""
        if self.monetary not in ("total", "mean"):
            raise ValueError(f"monetary must be 'total' or 'mean', got {self.monetary!r}")
        cols = [self.frequency_col, self.recency_col, self.T_col, self.monetary_col]
        x = numeric_frame(summary, cols, what="RFM summary")
        since = x[self.T_col] - x[self.recency_col]
        fail_rows(summary, since.to_numpy() < 0, self.recency_col, f"must not exceed '{self.T_col}'", what="RFM summary")
        fail_rows(summary, x[self.frequency_col].to_numpy() < 0, self.frequency_col, "must not be negative",
                  what="RFM summary")
        money = x[self.monetary_col] * x[self.frequency_col] if self.monetary == "total" else x[self.monetary_col]
        return pd.DataFrame({"recency": since, "frequency": x[self.frequency_col], "monetary": money}, index=x.index)

    def _rules(self) -> pd.DataFrame | None:
        if self.rules is False:
            return None
        return default_segment_rules() if self.rules is None or self.rules is True else self.rules

    # -- learning -----------------------------------------------------------------------------
    def fit(self, summary: pd.DataFrame) -> RFMScorer:
        """Learn the quantile edges of each score from ``summary`` (one row per customer)."""
        if not isinstance(self.n_groups, (int, np.integer)) or self.n_groups < 2:
            raise ValueError(f"n_groups must be an integer >= 2, got {self.n_groups!r}")
        if (self.rules is None or self.rules is True) and self.n_groups != 5:
            raise ValueError(f"The default RFM segment table is made for n_groups=5, not {self.n_groups}; pass your "
                             "own table as rules=... (see check_segment_rules) or rules=False to score only.")
        rules = self._rules()
        if rules is not None:
            check_segment_rules(rules, self.n_groups)
        values = self.rfm_values(summary)
        if len(values) < self.n_groups:
            raise ValueError(f"RFM summary has {len(values)} customer(s), too few for n_groups={self.n_groups}; "
                             "use fewer groups or more customers.")
        edges = {}
        for score, col, sign in (("r", "recency", -1.0), ("f", "frequency", 1.0), ("m", "monetary", 1.0)):
            edges[score] = self._edges(sign * values[col].to_numpy()) * sign
        self.edges_ = edges
        self.n_customers_ = len(values)
        return self

    def _edges(self, v: np.ndarray) -> np.ndarray:
        """Thresholds (higher is better): edge k is the smallest value whose min-rank share >= k / n."""
        uniq, counts = np.unique(v, return_counts=True)
        below = np.concatenate([[0], np.cumsum(counts)[:-1]]) / v.size  # F(v-) of each distinct value
        out = np.full(self.n_groups - 1, np.inf)
        for k in range(1, self.n_groups):
            ok = np.flatnonzero(below >= k / self.n_groups - 1e-12)
            if ok.size:
                out[k - 1] = uniq[ok[0]]
        return out

    # -- applying -----------------------------------------------------------------------------
    def transform(self, summary: pd.DataFrame) -> pd.DataFrame:
        """Scores and segment of every customer, with the edges learned at ``fit``.

        Returns a DataFrame indexed by customer id: ``recency`` (time since last purchase),
        ``frequency``, ``monetary``, the scores ``r``, ``f``, ``m`` (1..n_groups, higher is
        better), ``fm``, ``rfm`` (a label like ``"545"``) and ``segment`` (unless ``rules=False``).
        """
        check_fitted(self, "edges_")
        values = self.rfm_values(summary)
        out = values.copy()
        for score, col, sign in (("r", "recency", -1.0), ("f", "frequency", 1.0), ("m", "monetary", 1.0)):
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
        """``fit(summary).transform(summary)``."""
        return self.fit(summary).transform(summary)

    def edges_table(self) -> pd.DataFrame:
        """The learned edges as a table: rows r, f, m; column ``k`` = lowest value scoring >= k
        (for r: the longest time since last purchase still scoring >= k)."""
        check_fitted(self, "edges_")
        return pd.DataFrame(self.edges_, index=[f">={k}" for k in range(2, self.n_groups + 1)]).T

    def summary(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Customers, share and mean R/F/M values per segment of a ``transform`` output."""
        check_fitted(self, "edges_")
        if "segment" not in scores:
            raise ValueError("summary() needs the 'segment' column of transform() (the scorer has rules=False)")
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
                table["strategy"] = rules.drop_duplicates("segment").set_index("segment")["strategy"].reindex(table.index)
        return table

    # -- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The fitted scorer as plain JSON-ready data (hyper-parameters, edges and rule table)."""
        check_fitted(self, "edges_")
        rules = self._rules()
        return {
            "model": "RFMScorer", "version": 1,
            "params": {"n_groups": int(self.n_groups), "monetary": self.monetary, "frequency_col": self.frequency_col,
                       "recency_col": self.recency_col, "T_col": self.T_col, "monetary_col": self.monetary_col},
            "rules": None if rules is None else json.loads(rules.to_json(orient="records")),
            "edges": {k: [None if not np.isfinite(x) else float(x) for x in v] for k, v in self.edges_.items()},
            "n_customers": int(self.n_customers_),
        }

    def save(self, path: str | Path) -> None:
        """Write the fitted scorer as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> RFMScorer:
        """Read a scorer written by :meth:`save` (plain JSON; no code runs)."""
        d = json.loads(Path(path).read_text())
        if d.get("model") != "RFMScorer":
            raise ValueError(f"{path} does not hold an RFMScorer")
        rules = False if d["rules"] is None else pd.DataFrame(d["rules"])
        obj = cls(rules=rules, **d["params"])
        empty = {"r": -np.inf}  # an empty score's edge: +inf for f and m, -inf for r (time since last purchase)
        obj.edges_ = {k: np.array([empty.get(k, np.inf) if x is None else x for x in v], dtype=float)
                      for k, v in d["edges"].items()}
        obj.n_customers_ = d["n_customers"]
        return obj

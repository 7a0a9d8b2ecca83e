"""Exercises of 03_differentiate_customers.ipynb (RFM rule tables, value concentration, value tiers, needs segments)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.course.exercises import AnswerKind, Exercise, Mistake, Number, register

__all__: list[str] = []

N_GROUPS_SHOP = 3  # the small shop of Exercise 1 scores R, F and M on 3 groups


class RuleTable(AnswerKind):
    """An RFM rule table, compared by the segment it gives every (r, f, m) score combination.

    Two tables are the same answer when they send every combination of scores 1..``n_groups``
    to the same segment, however their boxes are cut (one box or several per segment, a bound
    written out or left unbounded). A table that leaves a combination without a segment, or
    gives it two, is not a valid answer; the message says which combinations.

    Parameters
    ----------
    n_groups : int
        Groups per score.

    Examples
    --------
    >>> kind = RuleTable(3)
    >>> one = pd.DataFrame({"segment": ["Up", "Down"], "r_min": [2, 1], "r_max": [3, 1]})
    >>> two = pd.DataFrame({"segment": ["Up", "Up", "Down"], "r_min": [3, 2, 1], "r_max": [3, 2, 1]})
    >>> kind.same(one, two), kind.same(one, kind.perturb(one))
    (True, False)
    """

    def __init__(self, n_groups: int) -> None:
        self.n_groups = n_groups

    def describe(self) -> str:
        return "a rule table (a DataFrame with a 'segment' column and score bounds such as r_min, r_max)"

    def _grid(self, table) -> pd.Series:
        from crm_models.segment import check_segment_rules

        return check_segment_rules(table, n_groups=self.n_groups).set_index(["r", "f", "m"])["segment"]

    def problem(self, answer) -> str | None:
        if not isinstance(answer, pd.DataFrame) or "segment" not in answer.columns:
            what = f"a DataFrame with columns {list(answer.columns)}" if isinstance(answer, pd.DataFrame) \
                else f"a {type(answer).__name__}"
            return f"Your answer is {what}; the question asks for {self.describe()}."
        try:
            self._grid(answer)
        except Exception as exc:  # the rule checker explains what is missing or doubled
            return f"Your table is not a valid rule table: {exc}"
        return None

    def same(self, answer, expected) -> bool:
        try:
            return bool(self._grid(answer).astype(str).equals(self._grid(expected).astype(str)))
        except Exception:
            return False

    def perturb(self, expected):
        out = expected.copy()
        names = out["segment"].tolist()
        out["segment"] = [names[1], names[0], *names[2:]]
        return out


def _shop_rules(kind: str = "right") -> pd.DataFrame:
    """The shop's four segments; ``kind`` builds the typical wrong tables."""
    if kind == "swapped":  # Active and Gone exchanged
        return pd.DataFrame({"segment": ["Best", "Gone", "Lapsing", "Active"], "r_min": [3, 3, 2, 1],
                             "r_max": [3, 3, 2, 1], "fm_min": [3, 1, 1, 1], "fm_max": [3, 2, 3, 3]})
    if kind == "f_only":  # Best read from F alone, not from FM
        return pd.DataFrame({"segment": ["Best", "Active", "Lapsing", "Gone"], "r_min": [3, 3, 2, 1],
                             "r_max": [3, 3, 2, 1], "f_min": [3, 1, 1, 1], "f_max": [3, 2, 3, 3]})
    return pd.DataFrame({"segment": ["Best", "Active", "Lapsing", "Gone"], "r_min": [3, 3, 2, 1],
                         "r_max": [3, 3, 2, 1], "fm_min": [3, 1, 1, 1], "fm_max": [3, 2, 3, 3]})


register(Exercise(
    "03.1",
    "Write the rule table of the shop's four segments on 3 groups per score: Best (R = 3 and FM = 3), Active "
    "(R = 3, FM below 3), Lapsing (R = 2) and Gone (R = 1).",
    "One row per box: a 'segment' column and inclusive bounds r_min, r_max, fm_min, fm_max (a score that does not "
    "matter gets its full range, 1 to 3). check_segment_rules(my_rules, n_groups=3) shows which segment every "
    "combination of scores lands in.",
    RuleTable(N_GROUPS_SHOP),
    expected=lambda: _shop_rules(),
    mistakes=(
        Mistake("Your table sends the most recent customers to 'Gone' and the least recent to 'Active': R = 3 is the "
                "best recency score (the most recent purchase), R = 1 the worst.", lambda: _shop_rules("swapped")),
        Mistake("Your 'Best' box reads F alone; the shop's rule is on FM, the rounded mean of F and M.",
                lambda: _shop_rules("f_only")),
        Mistake("Your table has no 'Best' segment: the shop splits the customers with R = 3 by their FM score.",
                lambda: pd.DataFrame({"segment": ["Active", "Lapsing", "Gone"], "r_min": [3, 2, 1],
                                      "r_max": [3, 2, 1]})),
    ),
))


def _holders(values: pd.Series, ascending: bool = False) -> float:
    v = np.sort(values.to_numpy(dtype=float))
    v = v if ascending else v[::-1]
    share = np.cumsum(v) / v.sum()
    return float(np.argmax(share >= 0.5) + 1)


register(Exercise(
    "03.2",
    "How many customers, taken from the most valuable down, hold half of all predicted CLV?",
    "Sort the CLVs from the largest down, take the running total as a share of the sum (np.cumsum), and count the "
    "customers up to the first one at which it reaches one half.",
    Number(integer=True, low=1),
    expected=lambda clv, past: _holders(clv),
    mistakes=(
        Mistake("That is the count for past spend in the calibration period, not for predicted CLV.",
                lambda clv, past: _holders(past)),
        Mistake("That counts from the least valuable customer up; start from the most valuable.",
                lambda clv, past: _holders(clv, ascending=True)),
    ),
    context=("clv", "past"),
))


def _below_zero(clv, cell, cost) -> float:
    from crm_models.segment import ValueTiers

    tiers = ValueTiers(top_share=0.2, growable_share=0.2, potential_quantile=0.9).fit_transform(
        clv, cell, cost_to_serve=cost)
    return float((tiers["tier"] == "Below Zero").sum())


def _changed(clv, cell, cost_before, cost_after) -> float:
    from crm_models.segment import ValueTiers

    vt = ValueTiers(top_share=0.2, growable_share=0.2, potential_quantile=0.9)
    a = vt.fit_transform(clv, cell, cost_to_serve=cost_before)["tier"]
    b = vt.fit_transform(clv, cell, cost_to_serve=cost_after)["tier"]
    return float((a != b).sum())


register(Exercise(
    "03.3",
    "With a cost to serve of 3 USD per customer over the CLV's horizon (instead of 1 USD), how many CDNOW customers "
    "are Below Zero?",
    "Fit the same ValueTiers (top_share 0.2, growable_share 0.2, potential_quantile 0.9) on clv and cell with "
    "cost_to_serve=3.0 and count the rows whose tier is 'Below Zero'.",
    Number(integer=True, low=0),
    expected=lambda clv, cell: _below_zero(clv, cell, 3.0),
    mistakes=(
        Mistake("That is the count at the notebook's cost of 1 USD: pass the new cost to fit_transform.",
                lambda clv, cell: _below_zero(clv, cell, 1.0)),
        Mistake("That counts the customers whose tier changes when the cost rises, not the customers Below Zero.",
                lambda clv, cell: _changed(clv, cell, 1.0, 3.0)),
    ),
    context=("clv", "cell"),
))


def _ari(X, true_needs, features="channel", n_segments=5, measure="adjusted_rand_index") -> float:
    from crm_models.segment import NeedsSegmenter
    from crm_models.truth import needs_agreement

    cols = [c for c in X.columns if c.startswith("chan_")] if features == "channel" else None
    model = NeedsSegmenter(n_segments=n_segments, features=cols, random_state=42).fit(X)
    return float(needs_agreement(model.predict(X), true_needs)[measure])


register(Exercise(
    "03.4",
    "What is the adjusted Rand index, against the true needs segments, of a NeedsSegmenter with 5 segments fitted "
    "on the channel features (chan_*) alone?",
    "NeedsSegmenter(n_segments=5, features=[the columns of X that start with 'chan_'], random_state=42).fit(X); "
    "predict the segments of X and compare them with true_needs through needs_agreement.",
    Number(low=-1, high=1, rtol=1e-6),
    expected=lambda X, true_needs: _ari(X, true_needs),
    mistakes=(
        Mistake("That segmenter used every feature: pass features= with the channel columns only.",
                lambda X, true_needs: _ari(X, true_needs, features="all")),
        Mistake("That is the adjusted mutual information; the question asks for the adjusted Rand index.",
                lambda X, true_needs: _ari(X, true_needs, measure="adjusted_mutual_info")),
        Mistake("That segmenter has 4 segments (the number the silhouette chose); the question asks for 5, one per "
                "true needs segment.", lambda X, true_needs: _ari(X, true_needs, n_segments=4)),
    ),
    context=("X", "true_needs"),
))

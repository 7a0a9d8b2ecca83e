"""Exercises of 01_identify_customers.ipynb (identity resolution: match weights, thresholds, the register)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.course.exercises import AnswerKind, Choice, Exercise, Mistake, Number, register

__all__: list[str] = []

FIELDS = ["name", "email", "phone", "date_of_birth", "address"]


# ------------------------------------------------------------------ 01.1: from bits to a probability
register(Exercise(
    "01.1",
    "A pair has a total match weight of w bits. What is its match probability?",
    "A weight of w bits means odds of 2**w to 1 for a match; turn odds into a probability with odds / (1 + odds).",
    Number(low=0, high=1, rtol=1e-6),
    expected=lambda w: 2.0**w / (1 + 2.0**w),
    mistakes=(
        Mistake("That uses e**w: match weights are in bits, so the base is 2, not e.",
                lambda w: float(np.exp(w) / (1 + np.exp(w)))),
        Mistake("That is the probability that the pair is *not* a match.",
                lambda w: 1 / (1 + 2.0**w)),
        Mistake("That treats the weight itself as the odds; the odds are 2 to the power of the weight.",
                lambda w: w / (1 + w)),
    ),
    context=("w",),
))


# ------------------------------------------------------------------ 01.2: the best threshold by F1
def _best(sweep, column="pairwise_f1", largest=True):
    values = sweep[column]
    best = values.max() if largest else values.min()
    return float(values.index[values == best].min())


register(Exercise(
    "01.2",
    "Which threshold of the sweep gives the highest pairwise F1 (ties: the smaller threshold)?",
    "Look for the row of sweep whose 'pairwise_f1' is largest and keep its index (idxmax), not the F1 itself; "
    "compare the unrounded values, not the rounded table.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda sweep: _best(sweep),
    mistakes=(
        Mistake("That is the best F1 itself; the question asks for the threshold that gives it (the index).",
                lambda sweep: float(sweep["pairwise_f1"].max())),
        Mistake("That threshold has the highest precision, not the highest F1 (F1 balances precision and recall).",
                lambda sweep: _best(sweep, "pairwise_precision")),
        Mistake("That threshold has the highest recall, not the highest F1 (F1 balances precision and recall).",
                lambda sweep: _best(sweep, "pairwise_recall")),
    ),
    context=("sweep",),
))


# ------------------------------------------------------------------ 01.3: customers seen in three systems
def _n_systems(golden):
    return golden["sources"].str.count(r"\+") + 1


register(Exercise(
    "01.3",
    "How many resolved customers appear in at least three of the four systems?",
    "The golden records' 'sources' column joins a customer's systems with '+': count the systems per customer "
    "(one more than the number of '+') and count the customers with three or more.",
    Number(integer=True, low=0),
    expected=lambda golden: int((_n_systems(golden) >= 3).sum()),
    mistakes=(
        Mistake("That counts the customers in exactly three systems; the question asks for at least three.",
                lambda golden: int((_n_systems(golden) == 3).sum())),
        Mistake("That counts the customers in all four systems (three '+' signs mean four systems).",
                lambda golden: int((_n_systems(golden) >= 4).sum())),
        Mistake("That counts customers with three or more *records*; two records can come from one system.",
                lambda golden: int((golden["n_records"] >= 3).sum())),
    ),
    context=("golden",),
))


# ------------------------------------------------------------------ 01.4: what misleads the model
def _field_weights(pairs, rows):
    """Each field's match weight (bits, term-frequency adjustment included; 0 where a value is missing)."""
    out = {}
    for field in FIELDS:
        weight = pairs.loc[rows, f"mw_{field}"].fillna(0.0)
        if f"mw_tf_adj_{field}" in pairs:
            weight = weight + pairs.loc[rows, f"mw_tf_adj_{field}"].fillna(0.0)
        out[field] = weight.where(pairs.loc[rows, f"gamma_{field}"] != -1, 0.0)
    return pd.DataFrame(out)


def _most_often_strongest(pairs, rows):
    return str(_field_weights(pairs, rows).idxmax(axis=1).value_counts().sort_index().idxmax())


register(Exercise(
    "01.4",
    "Among the false positives (linked pairs of two different people), which field most often gives the "
    "largest match weight of the pair?",
    "Keep the pairs with linked True and same_person False; for each, find the field (name, email, phone, "
    "date_of_birth, address) whose weight column mw_<field> is largest (a missing value weighs 0), then count "
    "which field wins most often.",
    Choice(FIELDS),
    expected=lambda pairs, same_person: _most_often_strongest(pairs, pairs["linked"].to_numpy() & ~same_person),
    mistakes=(
        Mistake("That is the answer for the true links (linked pairs of the same person), not the false positives.",
                lambda pairs, same_person: _most_often_strongest(pairs, pairs["linked"].to_numpy() & same_person)),
        Mistake("That counts every scored pair of two different people, linked or not; keep only the linked ones.",
                lambda pairs, same_person: _most_often_strongest(pairs, ~same_person)),
    ),
    context=("pairs", "same_person"),
))


# ------------------------------------------------------------------ 01.5: a caller gives an e-mail
class CustomerId(AnswerKind):
    """A customer id of the register (``C-`` followed by the smallest record id of the customer)."""

    def describe(self) -> str:
        return "a customer id (text starting with 'C-')"

    def problem(self, answer) -> str | None:
        if not isinstance(answer, str):
            kind = type(answer).__name__
            advice = " Take one index value (.index[0]), not the row or the table." if kind in (
                "DataFrame", "Series", "Index") else ""
            return f"Your answer is a {kind}; the question asks for {self.describe()}.{advice}"
        if not answer.startswith("C-"):
            return (f"Your answer ({answer!r}) is not a customer id: the screen is indexed by customer id "
                    "(C-...), not by record id or e-mail.")
        return None

    def same(self, answer, expected) -> bool:
        return isinstance(answer, str) and answer.strip() == str(expected)

    def perturb(self, expected):
        return "C-NOBODY-000000"


def _screen_first(register_path, email):
    from crm_models.identify import CustomerRegister

    with CustomerRegister(register_path, read_only=True) as reg:
        return str(reg.lookup(email=email).index[0])


register(Exercise(
    "01.5",
    "A second caller gives only an e-mail address: which customer does the register's screen put first?",
    "Open the register with CustomerRegister(register_path, read_only=True), call lookup(email=...) with what the "
    "caller said, and keep the first index value of the table it returns.",
    CustomerId(),
    expected=lambda register_path, email, first_caller: _screen_first(register_path, email),
    mistakes=(
        Mistake("That is the first caller's customer; look the second caller's e-mail up.",
                lambda register_path, email, first_caller: str(first_caller)),
    ),
    context=("register_path", "email", "first_caller"),
))

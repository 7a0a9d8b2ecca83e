"""Solutions of 03_differentiate_customers.ipynb's exercises (keyword arguments as passed to ``check``)."""

import numpy as np
import pandas as pd

from crm_models.segment import NeedsSegmenter, ValueTiers
from crm_models.truth import needs_agreement


def exercise_1():
    # one box per segment; a score that does not matter gets its full range 1..3
    return pd.DataFrame({
        "segment": ["Best", "Active", "Lapsing", "Gone"],
        "r_min": [3, 3, 2, 1], "r_max": [3, 3, 2, 1],
        "fm_min": [3, 1, 1, 1], "fm_max": [3, 2, 3, 3],
    })


def exercise_2(clv, past):
    values = np.sort(clv.to_numpy())[::-1]           # most valuable first
    running = np.cumsum(values) / values.sum()       # share of all CLV held by the first k customers
    return int(np.argmax(running >= 0.5) + 1)        # the first k at which it reaches one half


def exercise_3(clv, cell):
    tiers3 = ValueTiers(top_share=0.2, growable_share=0.2, potential_quantile=0.9).fit_transform(
        clv, cell, cost_to_serve=3.0)
    return int((tiers3["tier"] == "Below Zero").sum())


def exercise_4(X, true_needs):
    chan_cols = [c for c in X.columns if c.startswith("chan_")]
    chan_only = NeedsSegmenter(n_segments=5, features=chan_cols, random_state=42).fit(X)
    return needs_agreement(chan_only.predict(X), true_needs)["adjusted_rand_index"]


SOLUTIONS = {"03.1": exercise_1, "03.2": exercise_2, "03.3": exercise_3, "03.4": exercise_4}

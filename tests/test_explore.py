"""The tables behind notebook 00's figures."""

import numpy as np
import pandas as pd
import pytest

from crm_models import rfm_summary
from crm_models.datasets import load_cdnow
from crm_models.explore import repeat_purchase_counts, weekly_purchases
from crm_models.measure import cohort_retention


@pytest.fixture(scope="module")
def log():
    return load_cdnow()


def test_repeat_purchase_counts_bins_the_tail(log):
    s = rfm_summary(log, "customer_id", "timestamp", observation_period_end="1997-09-30", after_end="drop")
    counts = repeat_purchase_counts(s, max_count=7)
    assert counts.index[-1] == "7+"
    assert counts.sum() == 2357 and counts["0"] == 2357 - 946


def test_weekly_purchases_add_up(log):
    w = weekly_purchases(log, start="1997-01-01")
    assert len(w) == 78
    assert w["first"].sum() == 2357  # one first purchase per customer
    days = log[["customer_id", "timestamp"]].drop_duplicates()
    assert w["total"].sum() == len(days)
    assert w.loc[39, "cumulative_repeat"] == 2457  # the calibration period's repeat purchases
    assert (w.loc[13:, "first"] == 0).all()


def test_cohorts_start_at_one_and_mask_the_unobserved(log):
    """The first look at CDNOW's cohorts uses measure.cohort_retention (one cohort table in the package)."""
    c = cohort_retention(log)
    assert c["cohort_size"].sum() == 2357
    assert (c[0] == 1.0).all()
    assert np.isnan(c.loc[pd.Period("1997-03", "M"), 16]) and not np.isnan(c.loc[pd.Period("1997-01", "M"), 17])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['timestamp'\]"):
        weekly_purchases(pd.DataFrame({"customer_id": [1]}))
    with pytest.raises(ValueError, match="frequency"):
        repeat_purchase_counts(pd.DataFrame({"x": [1]}))

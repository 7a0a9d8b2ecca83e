"""The Wheat & Morrison regularity estimate (BTYDplus's estimateRegularity, method 'wheat')."""

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import estimate_regularity, normalized_interpurchase_times, wheat_morrison_statistic
from crm_models.datasets import load_cdnow
from crm_models.errors import DataError


def erlang_log(k, n=1000, n_itt=50, random_state=1):
    """BTYDplus test-timing.R: Erlang-k inter-purchase times, lambda = exp(N(0, 1)) per customer, 50 each;
    one unit of time is 30 days here, so that the purchases are days apart (they are de-duplicated by day)."""
    rng = np.random.default_rng(random_state)
    lam = np.exp(rng.normal(size=n))
    itt = rng.gamma(k, 1.0 / (k * lam[:, None]), size=(n, n_itt))
    t = np.cumsum(itt, axis=1)
    ids = np.repeat(np.arange(n), n_itt)
    ts = pd.Timestamp("2020-01-01") + pd.to_timedelta(t.ravel() * 30, unit="D")
    return pd.DataFrame({"customer_id": ids, "timestamp": ts})


@pytest.mark.parametrize("k", [1, 3])
def test_recovers_the_erlang_order(k):
    """BTYDplus expects the estimate within 10% of k = 3 on this design."""
    assert estimate_regularity(erlang_log(k)) == pytest.approx(k, rel=0.1)


def test_statistic_by_hand():
    log = pd.DataFrame({"customer_id": [1, 1, 1, 1, 2, 2, 2, 3],
                        "timestamp": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 18:00", "2024-01-08 00:00", "2024-01-22 00:00",
                                                     "2024-01-01 00:00", "2024-01-04 00:00", "2024-01-10 00:00",
                                                     "2024-01-05 00:00"])})
    m = wheat_morrison_statistic(log)
    assert list(m.index) == [1, 2]  # customer 3 has one purchase day; same-day purchases count once
    assert set(np.round(m, 6)) <= {round(7 / 21, 6), round(14 / 21, 6), round(3 / 9, 6), round(6 / 9, 6)}
    both = {round(float(wheat_morrison_statistic(log, random_state=s).loc[1]), 6) for s in range(20)}
    assert both == {round(7 / 21, 6), round(14 / 21, 6)}  # the numerator is drawn between the last two
    v = float(m.var())
    assert estimate_regularity(log) == pytest.approx((1 - 4 * v) / (8 * v))


def test_cdnow_buys_like_poisson():
    assert estimate_regularity(load_cdnow()) == pytest.approx(1.0, abs=0.1)


def test_normalized_times_have_mean_one_per_customer():
    x = normalized_interpurchase_times(erlang_log(3, n=200))
    assert x.groupby(level=0).mean().sub(1).abs().max() < 1e-12
    assert x.var() == pytest.approx(1 / 3, rel=0.1)  # gamma(k, k) has variance 1/k
    with pytest.raises(ValueError, match="min_intervals"):
        normalized_interpurchase_times(erlang_log(3, n=5), min_intervals=1)


def test_too_few_purchases_is_a_clear_error():
    log = pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05",
                                                                                "2024-01-02"])})
    with pytest.raises(DataError, match="at least 3 purchase days") as err:
        estimate_regularity(log)
    assert err.value.column == "customer_id"
    with pytest.raises(DataError, match="missing"):
        estimate_regularity(log.rename(columns={"timestamp": "date"}))

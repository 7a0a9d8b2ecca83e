"""Every segment plot draws on hand-made data and returns its Axes (pictures are checked in notebook 03)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from crm_models.errors import DataError, NotFittedError  # noqa: E402
from crm_models.segment import (  # noqa: E402
    NeedsSegmenter,
    RFMScorer,
    concentration_curve,
    migration_matrix,
    segment_matrix,
)
from crm_models.segment import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plots_draw():
    rng = np.random.default_rng(0)
    n = 120
    ids = pd.Index([f"c{i}" for i in range(n)])
    T = np.full(n, 30.0)
    s = pd.DataFrame({"frequency": rng.poisson(2, n).astype(float), "recency": rng.uniform(0, 30, n), "T": T,
                      "monetary_value": rng.gamma(2, 10, n)}, index=ids)
    scores = RFMScorer().fit_transform(s)
    value = pd.Series(rng.gamma(1, 10, n), index=ids)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"], index=ids)
    seg = NeedsSegmenter(k_range=[2, 3], n_init=2).fit(X)
    needs = seg.predict(X)
    axes = [
        plotting.plot_rfm_grid(scores),
        plotting.plot_segment_sizes(scores["segment"], value),
        plotting.plot_concentration({"value": concentration_curve(value)}),
        plotting.plot_selection(seg),
        plotting.plot_profiles(seg),
        plotting.plot_heatmap(segment_matrix(scores["segment"], needs, value).counts),
        plotting.plot_migration(migration_matrix(scores["segment"], needs)),
    ]
    assert all(isinstance(ax, matplotlib.axes.Axes) for ax in axes)
    assert [t.get_text() for t in axes[4].get_xticklabels()] == seg.segments_
    assert len(axes[0].texts) == 25  # one label per R x FM cell
    with pytest.raises(ValueError, match="nothing to plot"):
        plotting.plot_selection(NeedsSegmenter(n_segments=2, n_init=2).fit(X))


def test_plots_refuse_bad_input():
    with pytest.raises(NotFittedError):
        plotting.plot_profiles(NeedsSegmenter())
    with pytest.raises(NotFittedError):
        plotting.plot_selection(NeedsSegmenter())
    with pytest.raises(DataError, match=r"missing column\(s\) \['fm'\]"):
        plotting.plot_rfm_grid(pd.DataFrame({"r": [1, 2]}))
    labels = pd.Series(["A", "B"], index=["x", "y"])
    with pytest.raises(DataError, match="'value' has no value for 1 customer") as err:
        plotting.plot_segment_sizes(labels, pd.Series([1.0], index=["x"]))
    assert err.value.rows.index.tolist() == ["y"]


def test_plot_migration_drops_empty_segments_and_shows_n():
    before = pd.Series(["A", "A", "C"], index=["x", "y", "z"])
    after = pd.Series(["A", "C", "C"], index=["x", "y", "w"])
    mig = migration_matrix(before, after, order=["A", "B", "C"])  # B holds nobody at either date
    full = plotting.plot_migration(mig)
    assert [t.get_text() for t in full.get_yticklabels()] == ["A", "B", "C", "(new)"]
    ax = plotting.plot_migration(mig, drop_empty=True)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A (n=2)", "C (n=1)", "(new) (n=1)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "C", "(gone)"]
    assert len(ax.texts) == 9  # 3 x 3 cells, none of them for the empty segment
    plt.close("all")

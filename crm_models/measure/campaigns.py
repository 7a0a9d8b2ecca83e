"""Campaign evaluation: response (or revenue) and uplift of a randomised test, overall and by segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from crm_models._validation import check_number, fail_rows, parse_amounts, require_columns
from crm_models.base import as_generator
from crm_models.errors import N_SHOWN, DataError

__all__ = ["evaluate_campaign"]


def _is_binary(y: np.ndarray) -> bool:
    return bool(np.isin(y, (0.0, 1.0)).all())


def evaluate_campaign(
    campaign: pd.DataFrame,
    *,
    outcome_col: str = "responded",
    group_col: str = "group",
    segment_col: str | None = None,
    treatment: str = "treatment",
    control: str = "control",
    method: str = "normal",
    alpha: float = 0.05,
    n_boot: int = 2000,
    random_state=0,
) -> pd.DataFrame:
    """Response (or mean outcome) and uplift of a randomised test, overall and by segment.

    Uplift is the difference treatment - control of the mean outcome: of proportions for a
    binary outcome (response), of means for a numeric one (revenue, USD). Intervals are either
    the normal approximation (standard error sqrt(p1 (1-p1)/n1 + p0 (1-p0)/n0) for proportions,
    sqrt(s1^2/n1 + s0^2/n0) for means) or a seeded percentile bootstrap that resamples each
    group within each segment.

    Parameters
    ----------
    campaign : pandas.DataFrame
        One row per randomised customer with ``group_col`` and ``outcome_col`` (bool/0-1 or
        numeric, e.g. revenue in USD).
    outcome_col, group_col : str
        Columns of the outcome and of the randomised group.
    segment_col : str, optional
        Column to break results down by (e.g. needs segment, value tier).
    treatment, control : str
        The labels of the two groups in ``group_col``.
    method : {"normal", "bootstrap"}
        How the intervals are computed.
    alpha : float
        1 - the coverage of the intervals (0.05 gives 95% intervals; 0-1, exclusive).
    n_boot : int
        Bootstrap replicates (>= 100).
    random_state : None, int or numpy.random.Generator
        Seed of the bootstrap (see :func:`crm_models.base.as_generator`).

    Returns
    -------
    pandas.DataFrame
        Indexed by segment (and ``all`` last): ``n_treatment``, ``n_control``, ``mean_treatment``,
        ``mean_control``, ``uplift`` (difference of proportions, or of means in the outcome's
        unit), ``se``, ``ci_low``, ``ci_high``, ``p_value`` (two-sided, normal approximation).
        ``.attrs`` states the outcome, its kind, the method and ``alpha``.

    Raises
    ------
    ValueError
        If ``method``, ``alpha`` or ``n_boot`` is invalid.
    crm_models.errors.DataError
        If a column is missing, a group label is unknown, an outcome is not numeric, a segment
        is missing or a segment has fewer than 2 customers in a group.

    Examples
    --------
    >>> camp = pd.DataFrame({"group": ["treatment"] * 10 + ["control"] * 20,
    ...                      "responded": [1] * 4 + [0] * 6 + [1] * 2 + [0] * 18})
    >>> evaluate_campaign(camp, alpha=0.1)[["mean_treatment", "mean_control", "uplift", "ci_low", "ci_high"]].round(3)
             mean_treatment  mean_control  uplift  ci_low  ci_high
    segment                                                       
    all                 0.4           0.1     0.3   0.022    0.578
    """
    require_columns(campaign, [group_col, outcome_col] + ([segment_col] if segment_col else []), what="campaign")
    if method not in ("normal", "bootstrap"):
        raise ValueError(f"evaluate_campaign: method must be 'normal' or 'bootstrap', got {method!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not 0 < alpha < 1:
        raise ValueError(f"evaluate_campaign: alpha must lie strictly between 0 and 1 (0.05 gives 95% intervals), "
                         f"got {alpha!r}")
    check_number(n_boot, "evaluate_campaign: n_boot", low=100, integer=True)
    groups = campaign[group_col]
    fail_rows(campaign, ~groups.isin([treatment, control]).to_numpy(), group_col,
              f"must be {treatment!r} or {control!r}", what="campaign",
              hint="Pass treatment= and control= to name your groups.")
    y = parse_amounts(campaign, outcome_col, what="campaign", allow_negative=True).to_numpy()
    binary = _is_binary(y)
    is_t = (groups == treatment).to_numpy()
    seg = campaign[segment_col].to_numpy() if segment_col else None
    if seg is not None:
        fail_rows(campaign, pd.isna(seg), segment_col, "must name a segment for every row", what="campaign")
    z = stats.norm.ppf(1 - alpha / 2)
    rng = as_generator(random_state)
    labels = (sorted(pd.unique(seg), key=str) if seg is not None else []) + ["all"]
    rows = {}
    for label in labels:
        mask = np.ones(len(y), dtype=bool) if label == "all" else (seg == label)
        yt, yc = y[mask & is_t], y[mask & ~is_t]
        if len(yt) < 2 or len(yc) < 2:
            raise DataError(
                segment_col if label != "all" else group_col,
                f"has {len(yt)} treated and {len(yc)} control customers in {label!r}; each group needs at least 2 "
                "to estimate an uplift",
                rows=campaign.loc[mask].head(N_SHOWN), n_rows=int(mask.sum()), n_total=len(campaign),
                what="campaign", hint="Merge small segments.",
            )
        mt, mc = yt.mean(), yc.mean()
        ddof = 0 if binary else 1
        se = float(np.sqrt(yt.var(ddof=ddof) / len(yt) + yc.var(ddof=ddof) / len(yc)))
        diff = mt - mc
        if method == "normal":
            lo, hi = diff - z * se, diff + z * se
        else:
            boots = _bootstrap_diff(yt, yc, int(n_boot), rng, binary)
            lo, hi = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
        p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
        rows[label] = dict(n_treatment=len(yt), n_control=len(yc), mean_treatment=mt, mean_control=mc,
                           uplift=diff, se=se, ci_low=float(lo), ci_high=float(hi), p_value=p)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = segment_col or "segment"
    out.attrs.update(outcome=outcome_col, kind="proportion" if binary else "mean", method=method, alpha=alpha)
    return out


def _bootstrap_diff(yt: np.ndarray, yc: np.ndarray, n_boot: int, rng: np.random.Generator, binary: bool) -> np.ndarray:
    """Bootstrap replicates of mean(yt) - mean(yc), resampling each group with replacement."""
    if binary:  # resampling 0/1 outcomes = binomial draws of the count of ones
        bt = rng.binomial(len(yt), yt.mean(), n_boot) / len(yt)
        bc = rng.binomial(len(yc), yc.mean(), n_boot) / len(yc)
        return bt - bc
    out = np.empty(n_boot)
    chunk = max(1, 2_000_000 // max(len(yt), len(yc)))
    for s in range(0, n_boot, chunk):
        k = min(chunk, n_boot - s)
        bt = yt[rng.integers(0, len(yt), (k, len(yt)))].mean(axis=1)
        bc = yc[rng.integers(0, len(yc), (k, len(yc)))].mean(axis=1)
        out[s:s + k] = bt - bc
    return out

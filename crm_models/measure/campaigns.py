"""Campaign evaluation: response (or revenue) and uplift of a randomised test, overall and by segment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from crm_models._validation import check_number, fail_rows, parse_amounts, require_columns
from crm_models.base import as_generator
from crm_models.errors import N_SHOWN, DataError

__all__ = ["evaluate_campaign", "shrink_uplift"]


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


def shrink_uplift(results: pd.DataFrame, *, alpha: float = 0.05, overall: str = "all") -> pd.DataFrame:
    """Empirical-Bayes shrinkage of per-segment uplift estimates toward their common mean.

    Each segment's estimate is taken as the true uplift plus noise of its standard error, and
    the true uplifts as drawn around a common mean (the normal-normal model of Efron & Morris
    1975):

        uplift_hat_s ~ Normal(u_s, se_s^2),        u_s ~ Normal(mu, tau^2).

    The between-segment spread ``tau^2`` is estimated by moments (DerSimonian & Laird 1986,
    eq. 8: the excess of the weighted squared deviations over what the standard errors alone
    explain, floored at 0), ``mu`` as the mean weighted by ``1 / (se_s^2 + tau^2)``. Each
    segment's posterior mean moves its estimate toward ``mu`` by the share

        B_s = se_s^2 / (se_s^2 + tau^2)        (0: keep the estimate, 1: take the mean),

    so noisy estimates move most; the posterior standard deviation is
    ``sqrt((1 - B_s) se_s^2 + B_s^2 / sum_s 1 / (se_s^2 + tau^2))`` (Morris 1983, the second
    term for the uncertainty of ``mu``). With ``tau^2 = 0`` the data show no spread beyond noise
    and every segment gets the mean. The model treats the segments as exchangeable: nothing known
    before the test says that one segment's effect differs from the others'.

    Parameters
    ----------
    results : pandas.DataFrame
        Per-segment results with columns ``uplift`` and ``se`` (the output of
        :func:`evaluate_campaign` with ``segment_col``; the ``overall`` row is left out), at
        least 3 segments; uplift in the outcome's unit (a difference of proportions, or of means).
    alpha : float
        1 - the coverage of the shrunk intervals (0.05 gives 95% intervals; 0-1, exclusive).
    overall : str
        Label of the row that pools every segment (not a segment; left out).

    Returns
    -------
    pandas.DataFrame
        Indexed by segment: ``uplift`` and ``se`` (as estimated), ``shrinkage`` (B_s, 0-1),
        ``shrunk_uplift`` (posterior mean), ``shrunk_se`` (posterior standard deviation) and the
        normal interval ``ci_low``, ``ci_high`` around it. ``.attrs`` holds ``prior_mean``
        (mu), ``prior_sd`` (tau), ``alpha`` and ``method``.

    Raises
    ------
    ValueError
        If ``alpha`` is invalid.
    crm_models.errors.DataError
        If ``uplift`` or ``se`` is missing or not finite, a standard error is not positive, or
        fewer than 3 segments remain.

    References
    ----------
    Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its
    generalizations. *JASA* 70(350), 311-319. DerSimonian, R. & Laird, N. (1986). Meta-analysis
    in clinical trials. *Controlled Clinical Trials* 7, 177-188. Morris, C. N. (1983).
    Parametric empirical Bayes inference: theory and applications. *JASA* 78(381), 47-55.

    Examples
    --------
    >>> results = pd.DataFrame({"uplift": [0.02, 0.10, 0.06, 0.30], "se": [0.02, 0.02, 0.02, 0.10]},
    ...                        index=pd.Index(["a", "b", "c", "d"], name="segment"))
    >>> shrunk = shrink_uplift(results)
    >>> shrunk[["uplift", "shrinkage", "shrunk_uplift"]].round(3)
             uplift  shrinkage  shrunk_uplift
    segment                                  
    a          0.02      0.161          0.029
    b          0.10      0.161          0.096
    c          0.06      0.161          0.062
    d          0.30      0.828          0.114
    >>> round(shrunk.attrs["prior_sd"], 3)
    0.046
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not 0 < alpha < 1:
        raise ValueError(f"shrink_uplift: alpha must lie strictly between 0 and 1 (0.05 gives 95% intervals), "
                         f"got {alpha!r}")
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"shrink_uplift: results must be a pandas DataFrame (evaluate_campaign's output), "
                        f"got {type(results).__name__}")
    require_columns(results, ["uplift", "se"], what="results")
    seg = results.drop(index=[overall], errors="ignore")
    for col in ("uplift", "se"):
        values = pd.to_numeric(seg[col], errors="coerce")
        fail_rows(seg, ~np.isfinite(values.to_numpy(dtype=float)), col, "must be a finite number", what="results")
    se = seg["se"].to_numpy(dtype=float)
    fail_rows(seg, se <= 0, "se", "must be positive (a segment whose outcome never varies has no usable standard "
              "error)", what="results", hint="Merge small segments.")
    if len(seg) < 3:
        raise DataError("uplift", f"has {len(seg)} segment(s) besides {overall!r}; shrinkage needs at least 3 to "
                        "estimate how much the segments differ", rows=seg.head(N_SHOWN), n_rows=len(seg),
                        n_total=len(results), what="results")
    y = seg["uplift"].to_numpy(dtype=float)
    v = se**2
    w = 1 / v
    mean_fixed = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - mean_fixed) ** 2))
    tau2 = max(0.0, (q - (len(y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    w_star = 1 / (v + tau2)
    mu = float(np.sum(w_star * y) / np.sum(w_star))
    b = v / (v + tau2)
    post = mu + (1 - b) * (y - mu)
    post_se = np.sqrt((1 - b) * v + b**2 / np.sum(w_star))
    z = stats.norm.ppf(1 - alpha / 2)
    out = pd.DataFrame({"uplift": y, "se": se, "shrinkage": b, "shrunk_uplift": post, "shrunk_se": post_se,
                        "ci_low": post - z * post_se, "ci_high": post + z * post_se}, index=seg.index)
    out.attrs.update(prior_mean=mu, prior_sd=float(np.sqrt(tau2)), alpha=alpha,
                     method="empirical Bayes, normal-normal; tau^2 by DerSimonian-Laird moments")
    return out

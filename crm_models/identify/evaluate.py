"""Grade a resolution against the truth, sweep the threshold, and explain one match.

Both clusterings are given as Series indexed by record id (predicted customer id; true person
id). Pairwise metrics count pairs of records put together; B-cubed metrics average, over
records, how much of a record's predicted cluster is right (precision) and how much of its true
cluster it found (recall) (Bagga & Baldwin 1998; Amigo et al. 2009).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows

__all__ = [
    "pairwise_metrics",
    "bcubed_metrics",
    "cluster_metrics",
    "evaluate",
    "threshold_sweep",
    "threshold_guidance",
    "suggested_threshold",
    "plot_threshold_sweep",
    "explain_pair",
    "plot_waterfall",
]


def _aligned(predicted: pd.Series, truth: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(predicted, pd.DataFrame):
        predicted = predicted["customer_id"]
    for name, s in (("predicted", predicted), ("truth", truth)):
        if not isinstance(s, pd.Series):
            raise TypeError(f"{name} must be a pandas Series indexed by record id, got {type(s).__name__}")
        frame = s.rename("id").to_frame()
        fail_rows(frame, s.index.duplicated(keep=False), None, "must list each record id once (in its index)",
                  what=name)
        fail_rows(frame, s.isna().to_numpy(), "id", "must hold an id for every record", what=name)
    missing = ~predicted.index.isin(truth.index)
    fail_rows(predicted.rename("customer_id").to_frame(), missing, None,
              "lists records that truth does not (record ids missing from truth's index)", what="predicted")
    t = truth.reindex(predicted.index)
    return pd.factorize(predicted.to_numpy())[0], pd.factorize(t.to_numpy())[0]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def _pairs(counts: np.ndarray) -> float:
    counts = counts.astype(np.float64)
    return float((counts * (counts - 1) / 2).sum())


def pairwise_metrics(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise precision, recall and F1 over all pairs of records.

    A predicted pair is two records with the same predicted id; it is correct when they also
    share the true id. Precision (recall) is 1 when there are no predicted (true) pairs.

    Parameters
    ----------
    predicted : pandas.Series
        Predicted customer id, indexed by record id (a crosswalk DataFrame is read through its
        ``customer_id`` column).
    truth : pandas.Series
        True entity id, indexed by record id; must cover every record of ``predicted``.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (0-1) and the counts ``true_positive_pairs``,
        ``predicted_pairs``, ``true_pairs``.

    Raises
    ------
    crm_models.errors.DataError
        Repeated record ids, missing ids, or predicted records absent from ``truth``.

    Examples
    --------
    >>> truth = pd.Series(["A", "A", "A", "B"], index=["r1", "r2", "r3", "r4"])
    >>> predicted = pd.Series(["x", "x", "y", "y"], index=["r1", "r2", "r3", "r4"])
    >>> {k: pairwise_metrics(predicted, truth)[k] for k in ("precision", "recall")}
    {'precision': 0.5, 'recall': 0.3333333333333333}
    """
    p, t = _aligned(predicted, truth)
    joint = pd.Series(1, index=pd.MultiIndex.from_arrays([p, t])).groupby(level=[0, 1]).size().to_numpy()
    tp = _pairs(joint)
    pred_pairs = _pairs(np.bincount(p))
    true_pairs = _pairs(np.bincount(t))
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "true_positive_pairs": tp,
        "predicted_pairs": pred_pairs,
        "true_pairs": true_pairs,
    }


def bcubed_metrics(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """B-cubed precision, recall and F1, averaged over records (Bagga & Baldwin 1998).

    A record's precision is the share of its predicted cluster that truly belongs with it; its
    recall the share of its true cluster found in its predicted cluster.

    Parameters
    ----------
    predicted : pandas.Series
        Predicted customer id, indexed by record id.
    truth : pandas.Series
        True entity id, indexed by record id.

    Returns
    -------
    dict
        ``precision``, ``recall`` and ``f1`` (0-1).

    Examples
    --------
    >>> truth = pd.Series(["A", "A", "B"], index=["r1", "r2", "r3"])
    >>> bcubed_metrics(pd.Series(["x", "y", "z"], index=truth.index), truth)["recall"]  # (1/2 + 1/2 + 1) / 3
    0.6666666666666666
    """
    p, t = _aligned(predicted, truth)
    frame = pd.DataFrame({"p": p, "t": t})
    n_pt = frame.groupby(["p", "t"])["p"].transform("size").to_numpy(np.float64)
    n_p = frame.groupby("p")["p"].transform("size").to_numpy(np.float64)
    n_t = frame.groupby("t")["t"].transform("size").to_numpy(np.float64)
    precision = float((n_pt / n_p).mean())
    recall = float((n_pt / n_t).mean())
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def cluster_metrics(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Cluster counts: predicted and true clusters, exactly right clusters, and singletons.

    Parameters
    ----------
    predicted : pandas.Series
        Predicted customer id, indexed by record id.
    truth : pandas.Series
        True entity id, indexed by record id.

    Returns
    -------
    dict
        ``records``, ``predicted_clusters``, ``true_clusters``, ``exactly_right_clusters``
        (predicted clusters holding exactly one true entity's records), ``predicted_singletons``
        and ``true_singletons``.

    Examples
    --------
    >>> truth = pd.Series(["A", "A", "B"], index=["r1", "r2", "r3"])
    >>> cluster_metrics(pd.Series(["x", "x", "z"], index=truth.index), truth)["exactly_right_clusters"]
    2
    """
    p, t = _aligned(predicted, truth)
    frame = pd.DataFrame({"p": p, "t": t})
    per_p = frame.groupby("p")["t"].agg(["nunique", "size", "first"])
    size_t = frame.groupby("t").size()
    exact = int(((per_p["nunique"] == 1) & (per_p["size"].to_numpy() == size_t.loc[per_p["first"]].to_numpy())).sum())
    return {
        "records": len(frame),
        "predicted_clusters": int(per_p.shape[0]),
        "true_clusters": int(size_t.shape[0]),
        "exactly_right_clusters": exact,
        "predicted_singletons": int((per_p["size"] == 1).sum()),
        "true_singletons": int((size_t == 1).sum()),
    }


def evaluate(predicted, truth: pd.Series) -> pd.DataFrame:
    """One table of pairwise, B-cubed and cluster metrics.

    Parameters
    ----------
    predicted : Resolution, pandas.DataFrame or pandas.Series
        A resolution, its crosswalk, or predicted customer ids indexed by record id.
    truth : pandas.Series
        True entity id, indexed by record id.

    Returns
    -------
    pandas.DataFrame
        Column ``value``, one row per metric: ``pairwise_precision``, ``pairwise_recall``,
        ``pairwise_f1``, ``bcubed_precision``, ``bcubed_recall``, ``bcubed_f1`` (0-1) and the
        cluster counts of :func:`cluster_metrics`.

    Examples
    --------
    >>> truth = pd.Series(["A", "A", "B"], index=["r1", "r2", "r3"])
    >>> evaluate(pd.Series(["x", "x", "z"], index=truth.index), truth)["value"].round(3).to_dict()["pairwise_f1"]
    1.0
    """
    if hasattr(predicted, "crosswalk"):
        predicted = predicted.crosswalk["customer_id"]
    pw, b3, cm = pairwise_metrics(predicted, truth), bcubed_metrics(predicted, truth), cluster_metrics(predicted, truth)
    rows = {f"pairwise_{k}": v for k, v in pw.items() if k in ("precision", "recall", "f1")}
    rows |= {f"bcubed_{k}": v for k, v in b3.items()}
    rows |= {k: float(v) for k, v in cm.items()}
    return pd.DataFrame({"value": pd.Series(rows)})


def threshold_sweep(result, truth: pd.Series, thresholds=None) -> pd.DataFrame:
    """Pairwise and B-cubed metrics and cluster counts when linking at each threshold.

    Uses the scored pairs of ``result``: at every threshold the pairs at or above it (and the
    decisive ones), less the vetoed ones, form the customers.

    Parameters
    ----------
    result : Resolution
        A resolution with scored pairs.
    truth : pandas.Series
        True entity id, indexed by record id.
    thresholds : sequence of float, optional
        Match probabilities (0-1) to link at; by default twelve from 0.01 to 0.999.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``threshold``: ``linked_pairs``, ``customers``, ``pairwise_precision``,
        ``pairwise_recall``, ``pairwise_f1`` and ``bcubed_f1``.

    Examples
    --------
    >>> from crm_models.identify import resolve_exact
    >>> records = pd.DataFrame({"record_id": ["r1", "r2", "r3"], "source": "web",
    ...                         "email": ["a@x.com", "a@x.com", "b@x.com"]})
    >>> truth = pd.Series(["A", "A", "B"], index=["r1", "r2", "r3"])
    >>> threshold_sweep(resolve_exact(records), truth, thresholds=[0.5])["customers"].tolist()
    [2]
    """
    from crm_models.identify.resolve import _components

    if thresholds is None:
        thresholds = [0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]
    bad = [t for t in thresholds if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"thresholds are match probabilities and must lie in [0, 1], got {bad}")
    ids = result.crosswalk.index
    pos = pd.Series(np.arange(len(ids)), index=ids)
    left = pos.loc[result.pairs["record_id_l"]].to_numpy()
    right = pos.loc[result.pairs["record_id_r"]].to_numpy()
    prob = result.pairs["match_probability"].fillna(0.0).to_numpy()
    decisive = result.pairs["decisive"].to_numpy(bool)
    vetoed = result.pairs["vetoed"].to_numpy(bool) if "vetoed" in result.pairs else np.zeros(len(prob), bool)
    rows = []
    for th in thresholds:
        keep = ((prob >= th) | decisive) & ~vetoed
        labels = pd.Series(_components(len(ids), left[keep], right[keep]), index=ids)
        pw, b3 = pairwise_metrics(labels, truth), bcubed_metrics(labels, truth)
        rows.append(
            {
                "threshold": th,
                "linked_pairs": int(keep.sum()),
                "customers": int(labels.nunique()),
                "pairwise_precision": pw["precision"],
                "pairwise_recall": pw["recall"],
                "pairwise_f1": pw["f1"],
                "bcubed_f1": b3["f1"],
            }
        )
    return pd.DataFrame(rows).set_index("threshold")


#: Thresholds :func:`threshold_guidance` evaluates by default (match probabilities).
GUIDANCE_THRESHOLDS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)


def threshold_guidance(result, thresholds=None) -> pd.DataFrame:
    """Precision and recall at each threshold as the model itself estimates them, without any truth.

    A scored pair's match probability ``p`` is the model's estimate that it is a true match, so
    linking every pair with ``p >= t`` is expected to link ``sum p`` true pairs among them:
    estimated precision ``mean(p | p >= t)``; estimated recall ``sum(p | p >= t) / sum(p)`` over
    all scored pairs (true pairs no blocking rule brought together are not counted). With a prior
    that agrees with the data (see :func:`crm_models.identify.link.estimate_prior`) these track the
    measured curve; where the truth is known, :func:`threshold_sweep` measures it instead.

    Parameters
    ----------
    result : Resolution or pandas.DataFrame
        A resolution (its ``pairs``) or scored pairs with a ``match_probability`` column.
    thresholds : sequence of float, optional
        Match probabilities (0-1); by default :data:`GUIDANCE_THRESHOLDS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``threshold``: ``linked_pairs``, ``expected_true_pairs``,
        ``estimated_precision``, ``estimated_recall`` and ``estimated_f1`` (0-1); see
        :func:`suggested_threshold` for the model's suggestion.

    Examples
    --------
    >>> pairs = pd.DataFrame({"match_probability": [0.999, 0.99, 0.6, 0.2, 0.01]})
    >>> guide = threshold_guidance(pairs, thresholds=[0.5, 0.9])
    >>> guide["estimated_precision"].round(3).tolist(), guide["estimated_recall"].round(3).tolist()
    ([0.863, 0.994], [0.925, 0.711])
    """
    pairs = result.pairs if hasattr(result, "pairs") else result
    if not isinstance(pairs, pd.DataFrame) or "match_probability" not in pairs.columns:
        raise TypeError("result must be a Resolution or a DataFrame of scored pairs with a 'match_probability' column")
    if thresholds is None:
        thresholds = GUIDANCE_THRESHOLDS
    bad = [t for t in thresholds if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"thresholds are match probabilities and must lie in [0, 1], got {bad}")
    p = pairs["match_probability"].to_numpy(dtype=float, na_value=0.0)
    total = float(p.sum())
    rows = []
    for th in thresholds:
        kept = p[p >= th]
        expected = float(kept.sum())
        precision = expected / len(kept) if len(kept) else 1.0
        recall = expected / total if total > 0 else 1.0
        rows.append({"threshold": float(th), "linked_pairs": len(kept), "expected_true_pairs": expected,
                     "estimated_precision": precision, "estimated_recall": recall,
                     "estimated_f1": _f1(precision, recall)})
    return pd.DataFrame(rows).set_index("threshold")


def suggested_threshold(guidance: pd.DataFrame, min_precision: float = 0.99) -> float:
    """The lowest threshold at which the model expects at least ``min_precision`` of links to be right.

    Precision comes first in a customer register: a wrong merge mixes two people's histories
    and is costly to undo, a missed link only leaves a duplicate. Among the thresholds of a
    :func:`threshold_guidance` table whose estimated precision reaches ``min_precision``, the
    lowest (the highest estimated recall) is suggested; if none does, the highest threshold.

    Parameters
    ----------
    guidance : pandas.DataFrame
        A :func:`threshold_guidance` table.
    min_precision : float
        Estimated precision (0-1) the suggestion must reach.

    Returns
    -------
    float
        A threshold of the table's index.

    Examples
    --------
    >>> pairs = pd.DataFrame({"match_probability": [0.999, 0.99, 0.97, 0.6, 0.2, 0.01]})
    >>> suggested_threshold(threshold_guidance(pairs, thresholds=[0.5, 0.9, 0.95]), min_precision=0.95)
    0.9
    """
    if not 0 < min_precision <= 1:
        raise ValueError(f"min_precision must lie in (0, 1], got {min_precision!r}")
    ok = guidance.index[guidance["estimated_precision"].to_numpy() >= min_precision]
    return float(ok.min()) if len(ok) else float(guidance.index.max())


def plot_threshold_sweep(sweep: pd.DataFrame, ax=None, *, chosen: float | None = None):
    """Precision, recall and F1 against the match-probability threshold (log-odds axis).

    Parameters
    ----------
    sweep : pandas.DataFrame
        The output of :func:`threshold_sweep`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure by default).
    chosen : float, optional
        A threshold (0-1) to mark with a vertical line.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> sweep = pd.DataFrame({"pairwise_precision": [0.9, 1.0], "pairwise_recall": [1.0, 0.8],
    ...                       "pairwise_f1": [0.95, 0.89], "bcubed_f1": [0.97, 0.93]},
    ...                      index=pd.Index([0.5, 0.9], name="threshold"))
    >>> plot_threshold_sweep(sweep, chosen=0.9).get_xlabel()
    'match probability threshold'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = sweep.index.to_numpy(dtype=float)
    for col, style in (("pairwise_precision", "-o"), ("pairwise_recall", "-s"), ("pairwise_f1", "-^"),
                       ("bcubed_f1", "--")):
        ax.plot(x, sweep[col].to_numpy(), style, label=col.replace("_", " "))
    ax.set_xscale("logit")
    ax.set_xlabel("match probability threshold")
    ax.set_ylabel("score")
    if chosen is not None:
        ax.axvline(chosen, color="grey", lw=1, ls=":", label=f"threshold {chosen}")
    ax.legend(loc="lower left")
    ax.set_title("Threshold trade-off against the truth")
    return ax


def _shown(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def explain_pair(result, record_id_l, record_id_r) -> pd.DataFrame:
    """Match weight of each field for one scored pair, as a waterfall table.

    Rows: the prior (``log2`` of the prior odds), then every comparison with both values, the
    level the pair fell in and its weight ``log2(m/u)`` (bits, term-frequency adjustments
    included), and the running total; the last row is the final match weight and probability.

    Parameters
    ----------
    result : Resolution
        A resolution scored by a Fellegi-Sunter model (:func:`resolve_customers`).
    record_id_l, record_id_r
        The two record ids (in either order).

    Returns
    -------
    pandas.DataFrame
        Columns ``field``, ``left``, ``right``, ``level``, ``weight`` (bits) and ``cumulative``
        (bits).

    Raises
    ------
    ValueError
        The pair was not scored (no blocking rule brought it together, or its match probability
        is below 0.001).

    Examples
    --------
    >>> from crm_models.identify import resolve_customers
    >>> records = pd.DataFrame({"record_id": ["w1", "s1", "w2", "s2"], "source": ["web", "store"] * 2,
    ...                         "first_name": ["Ann", "Anne", "Bob", "Rob"], "last_name": ["Lee", "Lee", "Kim", "Kim"],
    ...                         "email": ["ann@x.com", "ann@x.com", "bob@x.com", None]})
    >>> table = explain_pair(resolve_customers(records), "w1", "s1")
    >>> table["field"].tolist()
    ['prior', 'name', 'email', 'total']
    """
    pairs = result.pairs
    hit = pairs.loc[((pairs["record_id_l"] == record_id_l) & (pairs["record_id_r"] == record_id_r))
                    | ((pairs["record_id_l"] == record_id_r) & (pairs["record_id_r"] == record_id_l))]
    if hit.empty:
        raise ValueError(
            f"the pair ({record_id_l!r}, {record_id_r!r}) was not scored: no blocking rule brought it together "
            "(or its match probability is below 0.001)"
        )
    row = hit.iloc[0]
    params = result.parameters
    prior = float(result.model.get("probability_two_random_records_match", np.nan))
    rows = [{"field": "prior", "left": "", "right": "", "level": "P(match) before comparing",
             "weight": float(np.log2(prior / (1 - prior)))}]
    for comp in params["comparison"].drop_duplicates():
        gamma = row.get(f"gamma_{comp}")
        if gamma is None or pd.isna(gamma):
            continue
        gamma = int(gamma)
        level = params.loc[(params["comparison"] == comp) & (params["gamma"] == gamma), "level"]
        weight = float(row.get(f"mw_{comp}", 0.0)) + float(row.get(f"mw_tf_adj_{comp}", 0.0) or 0.0)
        fields = {"name": ("first_name", "last_name"), "address": ("street", "postcode", "city")}.get(comp, (comp,))
        left, right = (
            " ".join(_shown(row.get(f"{f}_{side}")) for f in fields).strip() or "(missing)" for side in ("l", "r")
        )
        rows.append({"field": comp, "left": left, "right": right,
                     "level": level.iloc[0] if len(level) else ("missing" if gamma == -1 else str(gamma)),
                     "weight": 0.0 if gamma == -1 else weight})
    table = pd.DataFrame(rows)
    table["cumulative"] = table["weight"].cumsum()
    total = float(table["weight"].sum())
    final = pd.DataFrame([{"field": "total", "left": "", "right": "",
                           "level": f"match probability {2**total / (1 + 2**total):.4f}", "weight": total,
                           "cumulative": total}])
    return pd.concat([table, final], ignore_index=True)


def plot_waterfall(explanation: pd.DataFrame, ax=None):
    """Waterfall of match weights (bits) from :func:`explain_pair`, drawn with matplotlib.

    Parameters
    ----------
    explanation : pandas.DataFrame
        The output of :func:`explain_pair`.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure by default).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> explanation = pd.DataFrame({"field": ["prior", "email", "total"], "weight": [-8.0, 12.0, 4.0],
    ...                             "cumulative": [-8.0, 4.0, 4.0]})
    >>> plot_waterfall(explanation).get_ylabel()
    'match weight (bits)'
    """
    import matplotlib.pyplot as plt

    steps = explanation.loc[explanation["field"] != "total"]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    start = steps["cumulative"].to_numpy() - steps["weight"].to_numpy()
    colours = np.where(steps["weight"].to_numpy() >= 0, "tab:green", "tab:red")
    x = np.arange(len(steps))
    ax.bar(x, steps["weight"].to_numpy(), bottom=start, color=colours, edgecolor="black", lw=0.5)
    total = float(explanation["weight"].iloc[-1] if explanation["field"].iloc[-1] == "total" else steps["weight"].sum())
    ax.bar([len(steps)], [total], color="tab:blue", edgecolor="black", lw=0.5)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(np.arange(len(steps) + 1), [*steps["field"], "total"], rotation=30, ha="right")
    ax.set_ylabel("match weight (bits)")
    p = 2**total / (1 + 2**total)
    ax.set_title(f"Why these two records match: total {total:.1f} bits, probability {p:.4f}")
    return ax

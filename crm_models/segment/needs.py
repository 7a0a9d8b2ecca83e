"""Needs-based segments: behaviour features from transactions and touchpoints, clustered.

Needs are not observed; behaviour is. :func:`behaviour_features` turns a transaction log (and
optionally a touchpoint log) into one row per customer describing *what* they buy and *how* they
like to be served, deliberately leaving out *how much* (volume and value are the other axis of
the value x needs matrix):

- ``cat_<category>``: share of the customer's purchases in each product category;
- ``chan_<channel>``: share of purchases made through each channel;
- ``avg_ticket``: mean amount per purchase, a price-level proxy: the data holds no list prices or
  discounts, so price-sensitive customers show up as customers who buy cheaper baskets;
- ``<type>_per_year`` (and ``<type>_<reason>_per_year``): touchpoints per 52 weeks between the
  customer's first purchase and the end of observation, e.g. web visits, service calls by
  reason (inquiry, complaint), email opens.

:class:`NeedsSegmenter` log-transforms the skewed columns (``avg_ticket`` and rates), scales
every feature to mean 0 and standard deviation 1, and clusters with k-means (default) or a
Gaussian mixture, seeded. The number of segments is chosen by a stated criterion: the largest
silhouette (k-means) or the smallest BIC (Gaussian mixture), over ``k_range``. Each segment is
profiled in plain words from its centre: the features where it differs most from the average
customer, in the features' own units.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows, parse_amounts, parse_datetimes, parse_timestamp, require_columns
from crm_models.segment._base import as_series, check_fitted, numeric_frame

__all__ = ["behaviour_features", "NeedsSegmenter"]

_WEEKS_PER_YEAR = 52.0


def behaviour_features(
    transactions: pd.DataFrame,
    interactions: pd.DataFrame | None = None,
    *,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    category_col: str = "category",
    channel_col: str = "channel",
    amount_col: str = "amount",
    interaction_customer_id_col: str | None = None,
    interaction_datetime_col: str | None = None,
    type_col: str = "type",
    reason_col: str | None = "reason",
    observation_period_end=None,
    min_weeks: float = 4.0,
) -> pd.DataFrame:
    """Needs features per customer (one row per customer with at least one transaction).

    Parameters
    ----------
    transactions
        One row per purchase: customer id, timestamp, category, channel, amount.
    interactions
        Optional touchpoints: customer id, timestamp, type and (optional) reason. Touchpoints
        of customers without a transaction are not counted (they have no purchase profile);
        their number is reported in ``attrs["customers_without_transactions"]``.
    observation_period_end
        End of observation (default: the latest timestamp in either log). Touchpoint rates are
        per 52 weeks of the time between a customer's first purchase and this end, at least
        ``min_weeks`` weeks (so very new customers do not get huge rates).

    Returns
    -------
    DataFrame indexed by customer id: ``cat_*`` and ``chan_*`` shares (0..1), ``avg_ticket``
    (money per purchase) and ``*_per_year`` touchpoint rates (per 52 weeks).
    """
    what = "transactions"
    require_columns(transactions, [customer_id_col, datetime_col, category_col, channel_col, amount_col], what=what)
    fail_rows(transactions, transactions[customer_id_col].isna(), customer_id_col, "must not be missing", what=what)
    for c in (category_col, channel_col):
        fail_rows(transactions, transactions[c].isna(), c, "must not be missing", what=what)
    ts = parse_datetimes(transactions, datetime_col, what=what)
    amount = parse_amounts(transactions, amount_col, what=what)
    if len(transactions) == 0:
        raise ValueError("transactions: no rows")
    cust = transactions[customer_id_col]
    end = ts.max()
    it = None
    if interactions is not None:
        icol = interaction_customer_id_col or customer_id_col
        idt = interaction_datetime_col or datetime_col
        cols = [icol, idt, type_col] + ([reason_col] if reason_col and reason_col in interactions else [])
        require_columns(interactions, [icol, idt, type_col], what="interactions")
        fail_rows(interactions, interactions[icol].isna(), icol, "must not be missing", what="interactions")
        fail_rows(interactions, interactions[type_col].isna(), type_col, "must not be missing", what="interactions")
        its = parse_datetimes(interactions, idt, what="interactions")
        it = interactions[cols].copy()
        it[idt] = its
        end = max(end, its.max())
    if observation_period_end is not None:
        end = parse_timestamp(observation_period_end, "observation_period_end")
        fail_rows(transactions, (ts > end).to_numpy(), datetime_col, f"must not be after observation_period_end={end}",
                  what=what)
        if it is not None:
            fail_rows(interactions, (it[idt] > end).to_numpy(), idt,
                      f"must not be after observation_period_end={end}", what="interactions")

    cat = pd.crosstab(cust, transactions[category_col].astype(str), normalize="index")
    cat.columns = [f"cat_{c}" for c in cat.columns]
    chan = pd.crosstab(cust, transactions[channel_col].astype(str), normalize="index")
    chan.columns = [f"chan_{c}" for c in chan.columns]
    ticket = amount.groupby(cust).mean().rename("avg_ticket")
    out = pd.concat([cat, chan, ticket], axis=1)
    out.index.name = customer_id_col
    out.attrs["customers_without_transactions"] = 0
    if it is not None:
        first = ts.groupby(cust).min()
        weeks = ((end - first) / pd.Timedelta(weeks=1)).clip(lower=min_weeks)
        label = it[type_col].astype(str)
        if reason_col and reason_col in it:
            reason = it[reason_col]
            has = reason.notna() & (reason.astype(str).str.len() > 0) & (reason.astype(str).str.lower() != "nan")
            label = label.where(~has, label + "_" + reason.astype(str))
        counts = pd.crosstab(it[icol], label)
        outside = counts.index.difference(out.index)
        out.attrs["customers_without_transactions"] = int(len(outside))
        counts = counts.reindex(out.index, fill_value=0)
        rates = counts.div(weeks.reindex(out.index), axis=0) * _WEEKS_PER_YEAR
        rates.columns = [f"{c}_per_year" for c in rates.columns]
        out = pd.concat([out, rates], axis=1)
        out.attrs["customers_without_transactions"] = int(len(outside))
    return out.sort_index()


def _describe(feature: str) -> tuple[str, str]:
    """Plain-words name of a feature and the kind of its values (share, money or rate)."""
    if feature.startswith("cat_"):
        return f"buys {feature[4:].replace('_', ' ')}", "share"
    if feature.startswith("chan_"):
        return f"buys through {feature[5:].replace('_', ' ')}", "share"
    if feature == "avg_ticket":
        return "spends per purchase", "money"
    if feature.endswith("_per_year"):
        return f"{feature[: -len('_per_year')].replace('_', ' ')} contacts", "rate"
    return feature.replace("_", " "), "number"


def _compare(seg: float, avg: float, kind: str) -> str:
    if kind == "share":
        return f"{100 * seg:.0f}% vs {100 * avg:.0f}% of purchases"
    if kind == "rate":
        return f"{seg:.2f} vs {avg:.2f} a year"
    return f"{seg:.2f} vs {avg:.2f}"


class NeedsSegmenter:
    """Cluster customers on behaviour features into needs segments, seeded and reusable.

    Parameters
    ----------
    n_segments
        Number of segments; ``None`` (default) chooses it over ``k_range`` by ``criterion``.
    k_range
        Candidate numbers of segments (default 2..8).
    method
        ``"kmeans"`` (default) or ``"gmm"`` (Gaussian mixture, diagonal covariances).
    criterion
        ``"silhouette"`` (largest mean silhouette on the scaled features, computed on a seeded
        sample of at most ``silhouette_sample`` customers; default for k-means) or ``"bic"``
        (smallest Bayesian information criterion of a Gaussian mixture; default for ``gmm``).
    features
        Columns to use (default: every column of the frame passed to ``fit``).
    log_columns
        Columns log-transformed (``log1p``) before scaling; ``"auto"`` (default) takes
        ``avg_ticket`` and every ``*_per_year`` rate.
    random_state
        Seed of every draw (k-means starts, mixture starts, silhouette sample).

    Attributes (after ``fit``)
    --------------------------
    n_segments_ : int
    selection_ : DataFrame or None
        The criterion for each candidate k (None when ``n_segments`` was given).
    segments_ : list of str
        Segment names ``N1``, ``N2``, ... ordered by size at fit (N1 the largest).
    centers_ : DataFrame
        Segment centres in the features' own units (mean of the members' features).
    scaled_centers_ : DataFrame
        Centres in standard deviations from the average customer (what the profiles read).
    """

    def __init__(
        self,
        n_segments: int | None = None,
        k_range=range(2, 9),
        method: str = "kmeans",
        criterion: str | None = None,
        features: list[str] | None = None,
        log_columns="auto",
        random_state: int = 42,
        n_init: int = 10,
        silhouette_sample: int = 2000,
    ) -> None:
        self.n_segments = n_segments
        self.k_range = k_range
        self.method = method
        self.criterion = criterion
        self.features = features
        self.log_columns = log_columns
        self.random_state = random_state
        self.n_init = n_init
        self.silhouette_sample = silhouette_sample

    # -- helpers ------------------------------------------------------------------------------
    def _criterion(self) -> str:
        crit = self.criterion or ("bic" if self.method == "gmm" else "silhouette")
        if crit not in ("silhouette", "bic"):
            raise ValueError(f"criterion must be 'silhouette' or 'bic', got {crit!r}")
        if crit == "bic" and self.method != "gmm":
            raise ValueError("criterion='bic' needs method='gmm' (k-means has no likelihood)")
        return crit

    def _matrix(self, X: pd.DataFrame, fitting: bool) -> np.ndarray:
        cols = (self.features or list(X.columns)) if fitting else self.features_
        if not fitting:  # a category, channel or touchpoint nobody used this period: its share/rate is 0
            absent = [c for c in cols if c not in X.columns and (c.startswith(("cat_", "chan_")) or c.endswith("_per_year"))]
            if absent:
                X = X.assign(**{c: 0.0 for c in absent})
        data = numeric_frame(X, cols, what="needs features")
        logs = self._logs(cols) if fitting else self.log_columns_
        for c in logs:
            fail_rows(data, data[c].to_numpy() < 0, c, "must not be negative (it is log-transformed)",
                      what="needs features")
            data[c] = np.log1p(data[c])
        if fitting:
            self.features_, self.log_columns_ = list(cols), list(logs)
        return data.to_numpy()

    def _logs(self, cols: list[str]) -> list[str]:
        if self.log_columns == "auto":
            return [c for c in cols if c == "avg_ticket" or c.endswith("_per_year")]
        missing = [c for c in (self.log_columns or []) if c not in cols]
        if missing:
            raise ValueError(f"log_columns {missing} are not among the features {cols}")
        return list(self.log_columns or [])

    def _model(self, k: int):
        if self.method == "kmeans":
            from sklearn.cluster import KMeans

            return KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state)
        if self.method == "gmm":
            from sklearn.mixture import GaussianMixture

            return GaussianMixture(n_components=k, covariance_type="diag", n_init=max(1, self.n_init // 5),
                                   random_state=self.random_state)
        raise ValueError(f"method must be 'kmeans' or 'gmm', got {self.method!r}")

    # -- learning -----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame) -> NeedsSegmenter:
        """Scale the features, choose the number of segments, cluster and profile.

        Runs single-threaded (threadpoolctl): on small shared machines OpenMP/BLAS threads in
        k-means stall rather than help.
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return self._fit(X)

    def _fit(self, X: pd.DataFrame) -> NeedsSegmenter:
        from sklearn.metrics import silhouette_score
        from sklearn.preprocessing import StandardScaler

        crit = self._criterion()
        M = self._matrix(X, fitting=True)
        ks = [int(self.n_segments)] if self.n_segments is not None else sorted(int(k) for k in self.k_range)
        if not ks or min(ks) < 1:
            raise ValueError(f"numbers of segments must be positive integers, got {ks}")
        if len(M) < max(ks) + 1:
            raise ValueError(f"needs features have {len(M)} customer(s), too few for {max(ks)} segments; "
                             "use fewer segments or more customers.")
        scaler = StandardScaler().fit(M)
        Z = scaler.transform(M)
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(Z), size=min(len(Z), self.silhouette_sample), replace=False)
        rows, models = [], {}
        for k in ks:
            model = self._model(k).fit(Z)
            models[k] = model
            if self.n_segments is not None:
                continue
            if crit == "silhouette":
                labels = model.predict(Z[sample])
                score = silhouette_score(Z[sample], labels) if len(set(labels)) > 1 else np.nan
            else:
                score = model.bic(Z)
            rows.append({"k": k, crit: float(score)})
        if self.n_segments is None:
            self.selection_ = pd.DataFrame(rows).set_index("k")
            s = self.selection_[crit]
            best = int(s.idxmax() if crit == "silhouette" else s.idxmin())
        else:
            self.selection_ = None
            best = ks[0]
        self.criterion_ = crit
        self.n_segments_ = best
        self.scaler_ = scaler
        self.model_ = models[best]
        raw = self.model_.predict(Z)
        sizes = np.bincount(raw, minlength=best)
        order = np.argsort(-sizes, kind="stable")  # N1 is the largest segment at fit
        self.relabel_ = np.empty(best, dtype=int)
        self.relabel_[order] = np.arange(best)
        self.segments_ = [f"N{i + 1}" for i in range(best)]
        lab = self.relabel_[raw]
        if hasattr(self.model_, "labels_"):  # per-row training labels: not part of the model
            del self.model_.labels_
        data = pd.DataFrame(M, columns=self.features_)
        for c in self.log_columns_:  # centres in the features' own units
            data[c] = np.expm1(data[c])
        self.centers_ = data.groupby(lab).mean().reindex(range(best)).set_axis(self.segments_)
        self.overall_ = data.mean()
        zc = pd.DataFrame(Z, columns=self.features_).groupby(lab).mean().reindex(range(best)).set_axis(self.segments_)
        self.scaled_centers_ = zc
        self.sizes_ = pd.Series(np.bincount(lab, minlength=best), index=self.segments_, name="customers")
        return self

    # -- applying -----------------------------------------------------------------------------
    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Needs segment (``N1``..) of every customer, by the centres learned at ``fit``."""
        from threadpoolctl import threadpool_limits

        check_fitted(self, "model_")
        Z = self.scaler_.transform(self._matrix(X, fitting=False))
        with threadpool_limits(limits=1):
            lab = self.relabel_[self.model_.predict(Z)]
        return pd.Series(np.array(self.segments_)[lab], index=X.index, name="needs_segment")

    transform = predict

    def fit_predict(self, X: pd.DataFrame) -> pd.Series:
        """``fit(X).predict(X)``."""
        return self.fit(X).predict(X)

    def to_dict(self) -> dict:
        """The fitted segmenter as plain JSON-ready data (scaler, centres or mixture, profiles)."""
        return _needs_to_dict(self)

    def save(self, path) -> None:
        """Write the fitted segmenter as JSON (no pickle)."""
        from pathlib import Path

        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path) -> NeedsSegmenter:
        """Read a segmenter written by :meth:`save` (plain JSON; no code runs)."""
        from pathlib import Path

        return _needs_from_dict(json.loads(Path(path).read_text()))

    def profile(self, top: int = 3, min_effect: float = 0.3) -> pd.DataFrame:
        """Each segment in plain words, from its centre.

        For each segment the ``top`` features whose centre lies furthest from the average
        customer (at least ``min_effect`` standard deviations, on the scaled features) are
        written as "<feature> more/less (segment centre vs average customer)".
        """
        check_fitted(self, "model_")
        rows = []
        for seg in self.segments_:
            z = self.scaled_centers_.loc[seg]
            picks = z.abs().sort_values(ascending=False)
            picks = picks[picks >= min_effect].index[:top]
            parts = []
            for f in picks:
                name, kind = _describe(f)
                word = "more" if z[f] > 0 else "less"
                parts.append(f"{name} {word} ({_compare(self.centers_.loc[seg, f], self.overall_[f], kind)})")
            text = "; ".join(parts) if parts else "close to the average customer on every feature"
            rows.append({"segment": seg, "customers": int(self.sizes_[seg]),
                         "share": float(self.sizes_[seg] / self.sizes_.sum()), "profile": text})
        return pd.DataFrame(rows).set_index("segment")


def _needs_to_dict(seg: NeedsSegmenter) -> dict:
    check_fitted(seg, "model_")
    m = seg.model_
    if seg.method == "kmeans":
        state = {"cluster_centers": m.cluster_centers_.tolist()}
    else:
        state = {"weights": m.weights_.tolist(), "means": m.means_.tolist(), "covariances": m.covariances_.tolist()}

    def frame(df: pd.DataFrame) -> dict:
        return {"index": list(df.index), "columns": list(df.columns), "data": df.to_numpy().tolist()}

    return {
        "model": "NeedsSegmenter", "version": 1,
        "params": {"n_segments": seg.n_segments, "method": seg.method, "criterion": seg.criterion_,
                   "features": seg.features, "log_columns": seg.log_columns, "random_state": seg.random_state,
                   "n_init": seg.n_init, "silhouette_sample": seg.silhouette_sample, "k_range": list(map(int, seg.k_range))},
        "features": seg.features_, "log_columns_used": seg.log_columns_, "n_segments_": int(seg.n_segments_),
        "scaler_mean": seg.scaler_.mean_.tolist(), "scaler_scale": seg.scaler_.scale_.tolist(),
        "relabel": seg.relabel_.tolist(), "segments": seg.segments_, "state": state,
        "selection": None if seg.selection_ is None else frame(seg.selection_),
        "centers": frame(seg.centers_), "scaled_centers": frame(seg.scaled_centers_),
        "overall": seg.overall_.tolist(), "sizes": seg.sizes_.tolist(),
    }


def _needs_from_dict(d: dict) -> NeedsSegmenter:
    from sklearn.preprocessing import StandardScaler

    if d.get("model") != "NeedsSegmenter":
        raise ValueError("the file does not hold a NeedsSegmenter")
    seg = NeedsSegmenter(**d["params"])
    seg.criterion_ = d["params"]["criterion"]
    seg.features_, seg.log_columns_ = list(d["features"]), list(d["log_columns_used"])
    seg.n_segments_ = int(d["n_segments_"])
    sc = StandardScaler()
    sc.mean_, sc.scale_ = np.array(d["scaler_mean"]), np.array(d["scaler_scale"])
    sc.var_, sc.n_features_in_, sc.n_samples_seen_ = sc.scale_**2, len(sc.mean_), 0
    seg.scaler_ = sc
    model = seg._model(seg.n_segments_)
    st = d["state"]
    if seg.method == "kmeans":
        model.cluster_centers_ = np.array(st["cluster_centers"])
        model.n_features_in_ = model.cluster_centers_.shape[1]
        model._n_threads = 1
    else:
        model.weights_, model.means_ = np.array(st["weights"]), np.array(st["means"])
        model.covariances_ = np.array(st["covariances"])
        model.precisions_cholesky_ = 1.0 / np.sqrt(model.covariances_)
        model.n_features_in_ = model.means_.shape[1]
    seg.model_ = model
    seg.relabel_ = np.array(d["relabel"], dtype=int)
    seg.segments_ = list(d["segments"])

    def frame(f: dict) -> pd.DataFrame:
        return pd.DataFrame(f["data"], index=f["index"], columns=f["columns"])

    seg.selection_ = None if d["selection"] is None else frame(d["selection"]).rename_axis("k")
    seg.centers_, seg.scaled_centers_ = frame(d["centers"]), frame(d["scaled_centers"])
    seg.overall_ = pd.Series(d["overall"], index=seg.features_)
    seg.sizes_ = pd.Series(d["sizes"], index=seg.segments_, name="customers")
    return seg

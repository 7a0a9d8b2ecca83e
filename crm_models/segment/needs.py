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

import math

import numpy as np
import pandas as pd

from crm_models._validation import (
    check_ids,
    fail_rows,
    parse_amounts,
    parse_datetimes,
    parse_timestamp,
    require_columns,
)
from crm_models.base import CRMEstimator, FieldReader
from crm_models.errors import DataError
from crm_models.segment._base import as_series, numeric_frame
from crm_models.units import as_duration

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
    monetary_value_col: str = "amount",
    type_col: str = "type",
    reason_col: str | None = "reason",
    observation_period_end=None,
    min_tenure=(4, "W"),
) -> pd.DataFrame:
    """Needs features per customer (one row per customer with at least one transaction).

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per purchase with the customer id, time, category, channel and amount columns
        named by the ``*_col`` arguments.
    interactions : pandas.DataFrame, optional
        Touchpoints with the same customer id and time columns (``customer_id_col``,
        ``datetime_col``), a type and an optional reason. Touchpoints of customers without a
        transaction are not counted (they have no purchase profile); their number is reported
        in ``attrs["customers_without_transactions"]``.
    customer_id_col, datetime_col, category_col, channel_col : str
        Column names (defaults those of the simulated company's tables).
    monetary_value_col : str
        Amount of each transaction (money; default ``"amount"``).
    type_col, reason_col : str
        Kind and (optional, ``None`` for none) reason of each touchpoint.
    observation_period_end : date, optional
        End of observation (default: the latest time in either log). No row may be later.
    min_tenure : tuple of (float, str)
        Touchpoint rates are per 52 weeks of the time between a customer's first purchase and
        ``observation_period_end``, counted as at least this long so that very new customers do
        not get huge rates; a ``(length, unit)`` pair (default ``(4, "W")``, four weeks).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, sorted: ``cat_<category>`` and ``chan_<channel>`` shares of the
        customer's purchases (0-1), ``avg_ticket`` (money per purchase) and
        ``<type>[_<reason>]_per_year`` touchpoint rates (per 52 weeks).

    Examples
    --------
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-12-04"]),
    ...     "category": ["books", "books", "toys", "toys"],
    ...     "channel": ["web", "store", "web", "web"],
    ...     "amount": [10.0, 20.0, 30.0, 5.0]})
    >>> it = pd.DataFrame({
    ...     "customer_id": ["a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-05", "2024-12-10"]),
    ...     "type": ["call", "call"], "reason": ["complaint", None]})
    >>> X = behaviour_features(tx, it, observation_period_end="2024-12-30")
    >>> X.T.round(2)
    customer_id                  a     b
    cat_books                 0.67   0.0
    cat_toys                  0.33   1.0
    chan_store                0.33   0.0
    chan_web                  0.67   1.0
    avg_ticket               20.00   5.0
    call_per_year             0.00  13.0
    call_complaint_per_year   1.00   0.0
    """
    what = "transactions"
    tenure = as_duration(min_tenure, "min_tenure", allow_zero=True)
    require_columns(transactions, [customer_id_col, datetime_col, category_col, channel_col, monetary_value_col],
                    what=what)
    if len(transactions) == 0:
        raise DataError(None, "has no rows: there is no purchase to describe", what=what)
    check_ids(transactions, customer_id_col, what=what)
    for c in (category_col, channel_col):
        fail_rows(transactions, transactions[c].isna(), c, "must not be missing", what=what)
    ts = parse_datetimes(transactions, datetime_col, what=what)
    amount = parse_amounts(transactions, monetary_value_col, what=what)
    cust = transactions[customer_id_col]
    end = ts.max()
    it = None
    if interactions is not None:
        iwhat = "interactions"
        require_columns(interactions, [customer_id_col, datetime_col, type_col], what=iwhat)
        cols = [customer_id_col, datetime_col, type_col]
        cols += [reason_col] if reason_col and reason_col in interactions else []
        fail_rows(interactions, interactions[customer_id_col].isna(), customer_id_col, "must not be missing",
                  what=iwhat)
        fail_rows(interactions, interactions[type_col].isna(), type_col, "must not be missing", what=iwhat)
        its = parse_datetimes(interactions, datetime_col, what=iwhat)
        it = interactions[cols].copy()
        it[datetime_col] = its
        if len(it):
            end = max(end, its.max())
    if observation_period_end is not None:
        end = parse_timestamp(observation_period_end, "observation_period_end")
        fail_rows(transactions, (ts > end).to_numpy(), datetime_col, f"must not be after observation_period_end={end}",
                  what=what)
        if it is not None:
            fail_rows(interactions, (it[datetime_col] > end).to_numpy(), datetime_col,
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
        weeks = ((end - first) / pd.Timedelta(weeks=1)).clip(lower=tenure.in_unit("W"))
        label = it[type_col].astype(str)
        if reason_col and reason_col in it:
            reason = it[reason_col]
            has = reason.notna() & (reason.astype(str).str.len() > 0) & (reason.astype(str).str.lower() != "nan")
            label = label.where(~has, label + "_" + reason.astype(str))
        counts = pd.crosstab(it[customer_id_col], label)
        outside = counts.index.difference(out.index)
        counts = counts.reindex(out.index, fill_value=0)
        rates = counts.div(weeks.reindex(out.index), axis=0) * _WEEKS_PER_YEAR
        rates.columns = [f"{c}_per_year" for c in rates.columns]
        out = pd.concat([out, rates], axis=1)
        out.index.name = customer_id_col
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


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _names(value, name: str) -> None:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(c, str) for c in value):
        raise ValueError(f"{name} must be a list of column names, got {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{name} must not repeat a column, got {list(value)}")


def _example_features() -> pd.DataFrame:
    """Three obvious groups of 30, 20 and 10 customers on two features (for the docstring examples)."""
    rng = np.random.default_rng(0)
    books = np.r_[rng.uniform(0.8, 1.0, 30), rng.uniform(0.0, 0.2, 30)]
    ticket = np.r_[rng.uniform(20, 30, 50), rng.uniform(150, 200, 10)]
    return pd.DataFrame({"cat_books": books, "avg_ticket": ticket},
                        index=pd.Index([f"c{i:02d}" for i in range(60)], name="customer_id"))


#: The fitted arrays of the clustering methods.
_CLUSTERING = ("kmeans_centers_", "mixture_weights_", "mixture_means_", "mixture_variances_")


class NeedsSegmenter(CRMEstimator):
    """Cluster customers on behaviour features into needs segments, seeded and reusable.

    scikit-learn fits the clusters (``KMeans`` or a diagonal ``GaussianMixture``); the fitted
    segmenter keeps only plain arrays (the scaling, the k-means centres or the mixture's weights,
    means and variances) and assigns customers with its own numpy code, giving the labels
    scikit-learn's ``predict`` gives.

    Parameters
    ----------
    n_segments : int, optional
        Number of segments; ``None`` (default) chooses it over ``k_range`` by ``criterion``.
    k_range : range or list of int
        Candidate numbers of segments (default 2..8).
    method : {"kmeans", "gmm"}
        k-means (default) or a Gaussian mixture with diagonal covariances.
    criterion : {"silhouette", "bic"}, optional
        ``"silhouette"``: largest mean silhouette on the scaled features, computed on a seeded
        sample of at most ``silhouette_sample`` customers (default for k-means); ``"bic"``:
        smallest Bayesian information criterion of a Gaussian mixture (default for ``gmm``).
    features : list of str, optional
        Columns to use (default: every column of the frame passed to ``fit``).
    log_columns : "auto" or list of str
        Columns log-transformed (``log1p``) before scaling; ``"auto"`` (default) takes
        ``avg_ticket`` and every ``*_per_year`` rate.
    random_state : None, int or numpy.random.Generator
        Seed of every draw (k-means and mixture starts, silhouette sample); default 0.
    n_init : int
        k-means restarts (the mixture uses ``max(1, n_init // 5)``).
    silhouette_sample : int
        Largest number of customers the silhouette is computed on.

    Attributes
    ----------
    features_, log_columns_ : list of str
        The features used and those log-transformed.
    criterion_ : str
        The criterion used.
    n_segments_ : int
        Number of segments.
    selection_ : pandas.DataFrame or None
        The criterion for each candidate k (None when ``n_segments`` was given).
    feature_means_, feature_scales_ : numpy.ndarray
        Mean and standard deviation of each (log-transformed) feature at fit: a customer's
        scaled features are ``(x - feature_means_) / feature_scales_``.
    kmeans_centers_ : numpy.ndarray
        (k-means) The ``n_segments_ x n_features`` centres on the scaled features, in the
        clustering's own order (``relabel_`` maps it to the segment order).
    mixture_weights_, mixture_means_, mixture_variances_ : numpy.ndarray
        (``gmm``) Component weights (sum 1), means and diagonal variances on the scaled features,
        in the clustering's own order.
    relabel_ : numpy.ndarray
        Segment index (0 = ``N1``) of each cluster of the clustering's order.
    segments_ : list of str
        Segment names ``N1``, ``N2``, ... ordered by size at fit (N1 the largest).
    centers_ : pandas.DataFrame
        Segment centres in the features' own units (mean of the members' features).
    scaled_centers_ : pandas.DataFrame
        Centres in standard deviations from the average customer (what the profiles read).
    overall_ : pandas.Series
        The average customer, in the features' own units.
    sizes_ : pandas.Series
        Customers per segment at fit.

    Examples
    --------
    >>> X = _example_features()
    >>> seg = NeedsSegmenter(n_segments=3, n_init=2).fit(X)
    >>> seg.predict(X).value_counts().sort_index().to_dict()
    {'N1': 30, 'N2': 20, 'N3': 10}
    >>> seg.centers_.round(1)
        cat_books  avg_ticket
    N1        0.9        25.7
    N2        0.1        26.5
    N3        0.1       172.8
    """

    _fitted_attribute = "segments_"

    def __init__(
        self,
        n_segments: int | None = None,
        k_range=range(2, 9),
        method: str = "kmeans",
        criterion: str | None = None,
        features: list[str] | None = None,
        log_columns="auto",
        random_state=0,
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

    # -- parameters ---------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.method not in ("kmeans", "gmm"):
            raise ValueError(f"method must be 'kmeans' or 'gmm', got {self.method!r}")
        self._criterion()
        if self.n_segments is not None and (not _is_int(self.n_segments) or self.n_segments < 1):
            raise ValueError(f"n_segments must be None or an integer >= 1, got {self.n_segments!r}")
        self._candidates()
        if self.features is not None:
            _names(self.features, "features")
            if not self.features:
                raise ValueError("features must name at least one column (or be None for all)")
        if not (self.log_columns is None or self.log_columns == "auto"):
            _names(self.log_columns, "log_columns")
        rs = self.random_state
        if not (rs is None or _is_int(rs) or isinstance(rs, (np.random.Generator, np.random.RandomState))):
            raise ValueError(f"random_state must be None, an int or a numpy Generator, got {rs!r}")
        if not _is_int(self.n_init) or self.n_init < 1:
            raise ValueError(f"n_init must be an integer >= 1, got {self.n_init!r}")
        if not _is_int(self.silhouette_sample) or self.silhouette_sample < 2:
            raise ValueError(f"silhouette_sample must be an integer >= 2, got {self.silhouette_sample!r}")

    def _candidates(self) -> list[int]:
        if self.n_segments is not None:
            return [int(self.n_segments)]
        k = self.k_range
        if isinstance(k, str) or not isinstance(k, (range, list, tuple, np.ndarray)):
            raise ValueError(f"k_range must be a range or a list of integers, got {k!r}")
        ks = list(k)
        if not ks or not all((_is_int(v) or (isinstance(v, (float, np.floating)) and float(v).is_integer()))
                             and v >= 1 for v in ks):
            raise ValueError(f"k_range must hold numbers of segments (integers >= 1), got {ks}")
        return sorted({int(v) for v in ks})

    def _criterion(self) -> str:
        crit = self.criterion or ("bic" if self.method == "gmm" else "silhouette")
        if crit not in ("silhouette", "bic"):
            raise ValueError(f"criterion must be 'silhouette' or 'bic', got {crit!r}")
        if crit == "bic" and self.method != "gmm":
            raise ValueError("criterion='bic' needs method='gmm' (k-means has no likelihood)")
        return crit

    def _seeds(self):
        """The seed handed to scikit-learn and the generator of the silhouette sample."""
        rs = self.random_state
        if rs is None or _is_int(rs):
            return rs, np.random.default_rng(rs)
        rng = rs if isinstance(rs, np.random.Generator) else np.random.default_rng(rs.randint(0, 2**31 - 1))
        return int(rng.integers(2**31 - 1)), rng

    def _model(self, k: int, seed):
        if self.method == "kmeans":
            from sklearn.cluster import KMeans

            return KMeans(n_clusters=k, n_init=self.n_init, random_state=seed)
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(n_components=k, covariance_type="diag", n_init=max(1, self.n_init // 5),
                               random_state=seed)

    # -- data ---------------------------------------------------------------------------------
    def _matrix(self, X: pd.DataFrame, fitting: bool) -> tuple[np.ndarray, list[str], list[str]]:
        """The checked feature matrix (log columns transformed), the features and the log columns."""
        what = "needs features"
        if not isinstance(X, pd.DataFrame):
            raise DataError(None, f"must be a pandas DataFrame (one row per customer), got {type(X).__name__}",
                            what=what)
        cols = (list(self.features) if self.features else list(X.columns)) if fitting else self.features_
        if not fitting:  # a category, channel or touchpoint nobody used this period: its share/rate is 0
            absent = [c for c in cols
                      if c not in X.columns and (c.startswith(("cat_", "chan_")) or c.endswith("_per_year"))]
            if absent:
                X = X.assign(**{c: 0.0 for c in absent})
        data = numeric_frame(X, cols, what=what)
        logs = self._logs(cols) if fitting else self.log_columns_
        for c in logs:
            fail_rows(data, data[c].to_numpy() < 0, c, "must not be negative (it is log-transformed)", what=what)
            data[c] = np.log1p(data[c])
        return data.to_numpy(), list(cols), list(logs)

    def _logs(self, cols: list[str]) -> list[str]:
        if self.log_columns == "auto":
            return [c for c in cols if c == "avg_ticket" or c.endswith("_per_year")]
        missing = [c for c in (self.log_columns or []) if c not in cols]
        if missing:
            raise ValueError(f"log_columns {missing} are not among the features {cols}")
        return list(self.log_columns or [])

    def _scaled(self, M: np.ndarray) -> np.ndarray:
        return (M - self.feature_means_) / self.feature_scales_

    def _clusters(self, Z: np.ndarray) -> np.ndarray:
        """Cluster of each row of the scaled features, in the clustering's own order.

        k-means: the nearest centre (squared Euclidean distance ``|c|^2 - 2 z.c``, the ``|z|^2``
        common to every centre left out; the first centre wins a tie). Gaussian mixture: the
        component with the largest ``log w_k + log N(z | mu_k, diag(var_k))``, the quadratic
        form expanded as ``sum(mu^2 / var) - 2 z.(mu / var) + z^2.(1 / var)``. Both are written
        as scikit-learn writes them, so the labels agree with its ``predict``.
        """
        if self.method == "kmeans":
            C = self.kmeans_centers_
            dist = np.einsum("ij,ij->i", C, C)[None, :] - 2.0 * (Z @ C.T)
            return np.argmin(dist, axis=1)
        means, variances = self.mixture_means_, self.mixture_variances_
        prec_chol = 1.0 / np.sqrt(variances)
        prec = prec_chol**2
        quad = np.sum(means**2 * prec, axis=1) - 2.0 * (Z @ (means * prec).T) + (Z**2 @ prec.T)
        log_det = np.sum(np.log(prec_chol), axis=1)
        log_density = -0.5 * (Z.shape[1] * math.log(2 * math.pi) + quad) + log_det
        return np.argmax(log_density + np.log(self.mixture_weights_), axis=1)

    # -- learning -----------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame) -> NeedsSegmenter:
        """Scale the features, choose the number of segments, cluster and profile.

        Runs single-threaded (threadpoolctl): on small shared machines OpenMP/BLAS threads in
        k-means stall rather than help.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer (indexed by customer id), numeric features such as the output
            of :func:`behaviour_features`; no missing or infinite values.

        Returns
        -------
        NeedsSegmenter
            ``self``, fitted.

        Examples
        --------
        >>> seg = NeedsSegmenter(k_range=[2, 3, 4], n_init=2).fit(_example_features())
        >>> seg.n_segments_, seg.selection_["silhouette"].round(2).tolist()
        (3, [0.66, 0.86, 0.77])
        """
        from threadpoolctl import threadpool_limits

        self._check_params()
        with threadpool_limits(limits=1):
            return self._fit(X)

    def _fit(self, X: pd.DataFrame) -> NeedsSegmenter:
        from sklearn.metrics import silhouette_score
        from sklearn.preprocessing import StandardScaler

        crit = self._criterion()
        M, features, logs = self._matrix(X, fitting=True)
        ks = self._candidates()
        if len(M) < max(ks) + 1:
            raise DataError(None, f"have {len(M)} customer(s), too few for {max(ks)} segments", what="needs features",
                            hint="Use fewer segments or more customers.")
        scaler = StandardScaler().fit(M)
        Z = scaler.transform(M)
        seed, rng = self._seeds()
        sample = rng.choice(len(Z), size=min(len(Z), self.silhouette_sample), replace=False)
        rows, models = [], {}
        for k in ks:
            model = self._model(k, seed).fit(Z)
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
            selection = pd.DataFrame(rows).set_index("k")
            s = selection[crit]
            best = int(s.idxmax() if crit == "silhouette" else s.idxmin())
        else:
            selection = None
            best = ks[0]
        model = models[best]
        for name in _CLUSTERING:  # a refit may switch method: no array of the other one stays behind
            self.__dict__.pop(name, None)
        self.features_, self.log_columns_ = features, logs
        self.selection_ = selection
        self.criterion_ = crit
        self.n_segments_ = best
        self.feature_means_ = np.array(scaler.mean_, dtype=float)
        self.feature_scales_ = np.array(scaler.scale_, dtype=float)
        if self.method == "kmeans":
            self.kmeans_centers_ = np.array(model.cluster_centers_, dtype=float)
        else:
            self.mixture_weights_ = np.array(model.weights_, dtype=float)
            self.mixture_means_ = np.array(model.means_, dtype=float)
            self.mixture_variances_ = np.array(model.covariances_, dtype=float)
        raw = self._clusters(Z)
        sizes = np.bincount(raw, minlength=best)
        order = np.argsort(-sizes, kind="stable")  # N1 is the largest segment at fit
        self.relabel_ = np.empty(best, dtype=int)
        self.relabel_[order] = np.arange(best)
        segments = [f"N{i + 1}" for i in range(best)]
        lab = self.relabel_[raw]
        data = pd.DataFrame(M, columns=self.features_)
        for c in self.log_columns_:  # centres in the features' own units
            data[c] = np.expm1(data[c])
        self.centers_ = data.groupby(lab).mean().reindex(range(best)).set_axis(segments)
        self.overall_ = data.mean()
        zc = pd.DataFrame(Z, columns=self.features_).groupby(lab).mean().reindex(range(best)).set_axis(segments)
        self.scaled_centers_ = zc
        self.sizes_ = pd.Series(np.bincount(lab, minlength=best), index=segments, name="customers")
        self.segments_ = segments
        return self

    # -- applying -----------------------------------------------------------------------------
    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Needs segment (``N1``..) of every customer, by the clustering learned at ``fit``.

        Parameters
        ----------
        X : pandas.DataFrame
            One row per customer with the features of ``fit`` (a ``cat_``, ``chan_`` or
            ``_per_year`` column nobody used in this period may be absent: it counts as 0).

        Returns
        -------
        pandas.Series
            Segment name by customer id, named ``needs_segment``.

        Examples
        --------
        >>> X = _example_features()
        >>> seg = NeedsSegmenter(n_segments=3, n_init=2).fit(X)
        >>> new = pd.DataFrame({"cat_books": [0.95, 0.05], "avg_ticket": [25.0, 180.0]}, index=["x", "y"])
        >>> seg.predict(new).to_dict()
        {'x': 'N1', 'y': 'N3'}
        """
        self._check_fitted()
        Z = self._scaled(self._matrix(X, fitting=False)[0])
        lab = self.relabel_[self._clusters(Z)]
        return pd.Series(np.array(self.segments_)[lab], index=X.index, name="needs_segment")

    transform = predict

    def fit_predict(self, X: pd.DataFrame) -> pd.Series:
        """``fit(X).predict(X)``.

        Parameters
        ----------
        X : pandas.DataFrame
            As in :meth:`fit`.

        Returns
        -------
        pandas.Series
            As :meth:`predict`.

        Examples
        --------
        >>> NeedsSegmenter(n_segments=2, n_init=2).fit_predict(_example_features()).value_counts().tolist()
        [30, 30]
        """
        return self.fit(X).predict(X)

    def profile(self, top: int = 3, min_effect: float = 0.3) -> pd.DataFrame:
        """Each segment in plain words, from its centre.

        For each segment the ``top`` features whose centre lies furthest from the average
        customer (at least ``min_effect`` standard deviations, on the scaled features) are
        written as "<feature> more/less (segment centre vs average customer)".

        Parameters
        ----------
        top : int
            Largest number of features named per segment.
        min_effect : float
            Smallest distance from the average customer worth naming, in standard deviations.

        Returns
        -------
        pandas.DataFrame
            Indexed by segment: ``customers``, ``share`` (0-1) and ``profile`` (text).

        Examples
        --------
        >>> seg = NeedsSegmenter(n_segments=3, n_init=2).fit(_example_features())
        >>> seg.profile(top=1).loc["N3", "profile"]
        'spends per purchase more (172.76 vs 50.44)'
        """
        self._check_fitted()
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

    # -- persistence --------------------------------------------------------------------------
    def _fitted_state(self) -> dict:
        state = {
            "features": list(self.features_),
            "log_columns": list(self.log_columns_),
            "criterion": self.criterion_,
            "n_segments": int(self.n_segments_),
            "feature_means": self.feature_means_,
            "feature_scales": self.feature_scales_,
        }
        if self.method == "kmeans":
            state["kmeans_centers"] = self.kmeans_centers_
        else:
            state["mixture_weights"] = self.mixture_weights_
            state["mixture_means"] = self.mixture_means_
            state["mixture_variances"] = self.mixture_variances_
        state.update({
            "relabel": np.asarray(self.relabel_, dtype=int),
            "segments": list(self.segments_),
            "selection": self.selection_,
            "centers": self.centers_.to_numpy(dtype=float),
            "scaled_centers": self.scaled_centers_.to_numpy(dtype=float),
            "overall": self.overall_.to_numpy(dtype=float),
            "sizes": self.sizes_.to_numpy(dtype=int),
        })
        return state

    def _restore(self, fitted: FieldReader) -> None:
        features = fitted.strings("features", unique=True)
        if not features:
            fitted.fail("features", "must name at least one feature")
        p = len(features)
        logs = fitted.strings("log_columns", unique=True)
        if set(logs) - set(features):
            fitted.fail("log_columns", f"must be among the features, got {sorted(set(logs) - set(features))}")
        criterion = fitted.string("criterion", ["silhouette", "bic"])
        if criterion == "bic" and self.method != "gmm":
            fitted.fail("criterion", "may be 'bic' only for method='gmm'")
        k = fitted.number("n_segments", integer=True, low=1)
        if self.n_segments is not None and k != self.n_segments:
            fitted.fail("n_segments", f"must equal the n_segments hyper-parameter {self.n_segments}, got {k}")
        means = fitted.array("feature_means", shape=(p,))
        scales = fitted.array("feature_scales", shape=(p,))
        if np.any(scales <= 0):
            fitted.fail("feature_scales", f"must hold standard deviations > 0, found {float(scales.min())!r}")
        mixture = ("mixture_weights", "mixture_means", "mixture_variances")
        for key in mixture if self.method == "kmeans" else ("kmeans_centers",):
            if fitted.has(key):
                fitted.fail(key, f"does not belong to a {self.method} segmenter")
        if self.method == "kmeans":
            self.kmeans_centers_ = fitted.array("kmeans_centers", shape=(k, p))
        else:
            weights = fitted.array("mixture_weights", shape=(k,), low=0)
            if not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-8) or np.any(weights <= 0):
                fitted.fail("mixture_weights", f"must be positive and sum to 1, got {weights.tolist()}")
            self.mixture_weights_ = weights
            self.mixture_means_ = fitted.array("mixture_means", shape=(k, p))
            variances = fitted.array("mixture_variances", shape=(k, p))
            if np.any(variances <= 0):
                fitted.fail("mixture_variances", f"must hold variances > 0, found {float(variances.min())!r}")
            self.mixture_variances_ = variances
        relabel = fitted.array("relabel", shape=(k,))
        if not np.array_equal(np.sort(relabel), np.arange(k)):
            fitted.fail("relabel", f"must be a permutation of 0..{k - 1}, got {relabel.tolist()}")
        segments = fitted.strings("segments", length=k, unique=True)
        if fitted.raw("selection") is None:
            selection = None
            if self.n_segments is None:
                fitted.fail("selection", "must hold the criterion per candidate k (the number of segments was chosen)")
        else:
            selection = fitted.frame("selection", finite=False, columns=[criterion])
            ks = selection.index
            if not all(_is_int(v) and v >= 1 for v in ks) or k not in set(ks):
                fitted.fail("selection", f"must be indexed by the candidate numbers of segments, including {k}")
            if np.isinf(selection.to_numpy()).any():
                fitted.fail("selection", "must not hold infinite criteria")
            selection = selection.rename_axis("k")
        centers = fitted.array("centers", shape=(k, p))
        scaled = fitted.array("scaled_centers", shape=(k, p))
        overall = fitted.array("overall", shape=(p,))
        sizes = fitted.array("sizes", shape=(k,), low=0)
        if not np.all(sizes == np.floor(sizes)) or sizes.sum() < 1:
            fitted.fail("sizes", f"must hold whole numbers of customers (at least one in all), got {sizes.tolist()}")
        self.features_, self.log_columns_ = features, logs
        self.criterion_, self.n_segments_ = criterion, k
        self.feature_means_, self.feature_scales_ = means, scales
        self.relabel_ = relabel.astype(int)
        self.selection_ = selection
        self.centers_ = pd.DataFrame(centers, index=segments, columns=features)
        self.scaled_centers_ = pd.DataFrame(scaled, index=segments, columns=features)
        self.overall_ = pd.Series(overall, index=features)
        self.sizes_ = pd.Series(sizes.astype(int), index=segments, name="customers")
        self.segments_ = segments

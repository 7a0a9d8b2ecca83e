"""Look-alike acquisition: which prospects resemble the most valuable customers?

The best prospects are often the ones who look like the best customers. :class:`LookalikeScorer`
learns what sets the *seed* (the top share of current customers by value) apart from the other
customers, from features a prospect also has (age, first channel, first category, first basket...),
with an L2-penalised logistic regression on standardised numbers and one-hot categories; it scores
each prospect with the probability that a customer with those features belongs to the seed.
:func:`gains_table` measures a ranking on the value that followed (the truth, in a simulation): the
share of the total value the top-ranked prospects hold, and the lift over picking at random.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"age": rng.normal(45, 12, 400), "channel": rng.choice(["web", "store"], 400)})
>>> value = pd.Series(np.where(X["channel"] == "store", 100.0, 20.0) + X["age"], index=X.index)
>>> scorer = LookalikeScorer(seed_share=0.2).fit(X, value)
>>> scores = scorer.predict(X)
>>> round(float(gains_table(scores, value, shares=(0.2,)).loc[0.2, "lift"]), 2)
1.47
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crm_models._validation import fail_rows
from crm_models.base import CRMEstimator, FieldReader, Summary
from crm_models.errors import DataError

__all__ = ["LookalikeScorer", "gains_table"]


def _check_share(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 < value < 1:
        raise ValueError(f"{name} must be a share strictly between 0 and 1, got {value!r}")
    return float(value)


class LookalikeScorer(CRMEstimator):
    """Score prospects by their resemblance to the most valuable customers (seed-versus-rest logistic model).

    Parameters
    ----------
    seed_share : float
        Share of the customers, by value, that forms the seed (0-1, e.g. 0.2 for the top fifth).
    categorical : list of str, optional
        Feature columns to one-hot encode; default every column that is not numeric.
    C : float
        Inverse strength of the L2 penalty of the logistic regression (> 0).

    Attributes
    ----------
    features_ : list of str
        The feature columns, in order.
    numeric_ : list of str
        The numeric ones, standardised with ``means_`` and ``scales_``.
    categories_ : dict
        Categories seen per categorical column (a prospect's unseen category counts as none).
    coef_ : pandas.Series
        Log-odds of being in the seed per standard deviation (numbers) or for the category
        (one-hot columns ``column=category``).
    intercept_ : float
        Log-odds of the intercept.
    seed_threshold_ : float
        The value at or above which a customer is in the seed.
    n_customers_ : int
        Customers learned from.

    Examples
    --------
    >>> X = pd.DataFrame({"age": [20.0, 30, 40, 50, 60, 70], "channel": ["web", "web", "web", "store", "store", "store"]})
    >>> value = pd.Series([1.0, 2, 3, 10, 12, 14])
    >>> LookalikeScorer(seed_share=0.5).fit(X, value).predict(X).round(2).tolist()
    [0.13, 0.2, 0.29, 0.71, 0.8, 0.87]
    """

    _fitted_attribute: ClassVar[str] = "coef_"

    def __init__(self, seed_share: float = 0.2, categorical: list[str] | None = None, C: float = 1.0) -> None:
        self.seed_share = seed_share
        self.categorical = categorical
        self.C = C

    def _check_params(self) -> None:
        _check_share(self.seed_share, "seed_share")
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float, np.integer, np.floating)) \
                or not (np.isfinite(self.C) and self.C > 0):
            raise ValueError(f"C must be a positive number (inverse penalty strength), got {self.C!r}")
        if self.categorical is not None and (isinstance(self.categorical, str)
                                             or not all(isinstance(c, str) for c in self.categorical)):
            raise ValueError(f"categorical must be a list of column names, got {self.categorical!r}")

    # ------------------------------------------------------------------------------ design
    def _design(self, features: pd.DataFrame, what: str) -> np.ndarray:
        if not isinstance(features, pd.DataFrame):
            raise TypeError(f"{what} must be a pandas DataFrame of features, got {type(features).__name__}")
        missing = [c for c in self.features_ if c not in features.columns]
        if missing:
            raise DataError(missing[0], "is missing", what=what,
                            message=f"{what} lacks the feature column(s) {missing} the scorer was fitted on")
        blocks = []
        for col in self.numeric_:
            x = pd.to_numeric(features[col], errors="coerce").to_numpy(dtype=float)
            fail_rows(features, ~np.isfinite(x), col, "must be a finite number", what=what)
            blocks.append(((x - self.means_[col]) / self.scales_[col])[:, None])
        for col, cats in self.categories_.items():
            fail_rows(features, features[col].isna().to_numpy(), col, "must not be missing", what=what)
            values = features[col].astype(str).to_numpy()
            blocks.append(np.column_stack([values == c for c in cats]).astype(float))
        return np.hstack(blocks) if blocks else np.zeros((len(features), 0))

    def fit(self, features: pd.DataFrame, value: pd.Series) -> LookalikeScorer:
        """Learn what sets the seed (the top ``seed_share`` by value) apart from the other customers.

        Parameters
        ----------
        features : pandas.DataFrame
            One row per current customer, the features a prospect also has.
        value : pandas.Series
            Each customer's value (USD or any measure where more is better), indexed like
            ``features``.

        Returns
        -------
        LookalikeScorer
            ``self``, fitted.

        Raises
        ------
        crm_models.errors.DataError
            If a value or feature is missing or not finite, or the seed is empty or everyone.

        Examples
        --------
        >>> X = pd.DataFrame({"age": [20.0, 35, 50, 65], "channel": ["web", "web", "store", "store"]})
        >>> scorer = LookalikeScorer(seed_share=0.5).fit(X, pd.Series([1.0, 2, 9, 8]))
        >>> scorer.seed_size_, scorer.categories_
        (2, {'channel': ['store', 'web']})
        """
        from sklearn.linear_model import LogisticRegression

        self._check_params()
        if not isinstance(features, pd.DataFrame) or features.shape[1] == 0 or len(features) < 2:
            raise TypeError("features must be a pandas DataFrame with at least one column and two customers")
        if not isinstance(value, pd.Series) or not value.index.equals(features.index):
            raise ValueError("value must be a pandas Series indexed exactly like features (one value per customer)")
        v = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float)
        fail_rows(value.to_frame("value"), ~np.isfinite(v), "value", "must be a finite number", what="value")
        cats = list(self.categorical) if self.categorical is not None else [
            c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])
            or pd.api.types.is_bool_dtype(features[c])]
        unknown = [c for c in cats if c not in features.columns]
        if unknown:
            raise DataError(unknown[0], "is missing", what="features",
                            message=f"categorical names column(s) {unknown} that features lacks")
        self.features_ = [str(c) for c in features.columns]
        self.numeric_ = [c for c in self.features_ if c not in cats]
        self.means_, self.scales_ = {}, {}
        for col in self.numeric_:
            x = pd.to_numeric(features[col], errors="coerce").to_numpy(dtype=float)
            fail_rows(features, ~np.isfinite(x), col, "must be a finite number", what="features")
            sd = float(x.std())
            self.means_[col], self.scales_[col] = float(x.mean()), (sd if sd > 0 else 1.0)
        self.categories_ = {}
        for col in cats:
            fail_rows(features, features[col].isna().to_numpy(), col, "must not be missing", what="features")
            self.categories_[col] = sorted(features[col].astype(str).unique().tolist())
        threshold = float(np.quantile(v, 1.0 - float(self.seed_share)))
        y = v >= threshold
        if y.all() or not y.any():
            raise DataError("value", "must separate a seed from the rest (every customer has the same value?)",
                            what="value")
        X = self._design(features, "features")
        model = LogisticRegression(C=float(self.C), max_iter=2000).fit(X, y)
        names = self.numeric_ + [f"{col}={c}" for col, cs in self.categories_.items() for c in cs]
        self.coef_ = pd.Series(model.coef_.ravel(), index=names, name="coefficient")
        self.intercept_ = float(model.intercept_[0])
        self.seed_threshold_ = threshold
        self.n_customers_ = int(len(features))
        self.seed_size_ = int(y.sum())
        return self

    def predict(self, prospects: pd.DataFrame) -> pd.Series:
        """Each prospect's resemblance to the seed: the probability a customer like them is in it.

        Parameters
        ----------
        prospects : pandas.DataFrame
            The same feature columns as at ``fit`` (a category unseen at fit counts as none).

        Returns
        -------
        pandas.Series
            ``lookalike_score`` (0-1), indexed like ``prospects``.

        Examples
        --------
        >>> X = pd.DataFrame({"age": [20.0, 35, 50, 65], "channel": ["web", "web", "store", "store"]})
        >>> scorer = LookalikeScorer(seed_share=0.5).fit(X, pd.Series([1.0, 2, 9, 8]))
        >>> prospects = pd.DataFrame({"age": [30.0, 60.0], "channel": ["web", "store"]}, index=["p1", "p2"])
        >>> bool(scorer.predict(prospects)["p2"] > scorer.predict(prospects)["p1"])
        True
        """
        self._check_fitted()
        X = self._design(prospects, "prospects")
        z = X @ self.coef_.to_numpy() + self.intercept_
        return pd.Series(1.0 / (1.0 + np.exp(-z)), index=prospects.index, name="lookalike_score")

    def summary(self) -> Summary:
        """What makes a customer look like the seed: the coefficients, largest first.

        Returns
        -------
        crm_models.base.Summary
            Table ``coefficient`` (log-odds per standard deviation or for the category) and
            ``odds_ratio``; stats: customers, seed size and seed threshold.

        Examples
        --------
        >>> X = pd.DataFrame({"age": [20.0, 35, 50, 65], "channel": ["web", "web", "store", "store"]})
        >>> LookalikeScorer(seed_share=0.5).fit(X, pd.Series([1.0, 2, 9, 8])).summary().stats["Customers"]
        4
        """
        self._check_fitted()
        table = pd.DataFrame({"coefficient": self.coef_, "odds_ratio": np.exp(self.coef_)})
        table = table.reindex(table["coefficient"].abs().sort_values(ascending=False).index).rename_axis("feature")
        stats = {"Customers": self.n_customers_, "Seed (top share by value)": self.seed_size_,
                 "Seed threshold (value)": self.seed_threshold_, "Intercept": self.intercept_}
        notes = ["Numbers are standardised: a coefficient is the change in log-odds of being in the seed per "
                 "standard deviation.", "L2-penalised logistic regression (scikit-learn, lbfgs)."]
        return Summary("Look-alike scorer", table, stats, notes, digits=3)

    # ------------------------------------------------------------------------- persistence
    def _fitted_state(self) -> dict[str, Any]:
        return {
            "features": list(self.features_),
            "numeric": list(self.numeric_),
            "means": [self.means_[c] for c in self.numeric_],
            "scales": [self.scales_[c] for c in self.numeric_],
            "categorical": list(self.categories_),
            "categories": [list(v) for v in self.categories_.values()],
            "coef": self.coef_.to_numpy(),
            "intercept": self.intercept_,
            "seed_threshold": self.seed_threshold_,
            "n_customers": self.n_customers_,
            "seed_size": self.seed_size_,
        }

    def _restore(self, fitted: FieldReader) -> None:
        features = fitted.strings("features", unique=True)
        numeric = fitted.strings("numeric", unique=True)
        categorical = fitted.strings("categorical", unique=True)
        if sorted(numeric + categorical) != sorted(features):
            fitted.fail("features", "must be the numeric and categorical columns together")
        means = fitted.array("means", shape=(len(numeric),))
        scales = fitted.array("scales", shape=(len(numeric),))
        if np.any(scales <= 0):
            fitted.fail("scales", "must be positive")
        raw = fitted.raw("categories")
        if not isinstance(raw, list) or len(raw) != len(categorical) or not all(
                isinstance(cs, list) and cs and all(isinstance(c, str) for c in cs) for cs in raw):
            fitted.fail("categories", "must hold one non-empty list of category names per categorical column")
        n_coef = len(numeric) + sum(len(cs) for cs in raw)
        coef = fitted.array("coef", shape=(n_coef,))
        self.features_, self.numeric_ = features, numeric
        self.means_ = dict(zip(numeric, map(float, means)))
        self.scales_ = dict(zip(numeric, map(float, scales)))
        self.categories_ = dict(zip(categorical, raw))
        names = numeric + [f"{col}={c}" for col, cs in self.categories_.items() for c in cs]
        self.coef_ = pd.Series(coef, index=names, name="coefficient")
        self.intercept_ = float(fitted.number("intercept"))
        self.seed_threshold_ = float(fitted.number("seed_threshold"))
        self.n_customers_ = fitted.number("n_customers", integer=True, low=2)
        self.seed_size_ = fitted.number("seed_size", integer=True, low=1)


def gains_table(scores: pd.Series, value: pd.Series, shares=(0.1, 0.2, 0.3, 0.5)) -> pd.DataFrame:
    """How much of the value the top-ranked share of prospects holds, against picking at random.

    Prospects are ranked by ``scores`` (highest first, ties by index order); for each share the
    top ``ceil(share * n)`` are taken.

    Parameters
    ----------
    scores : pandas.Series
        A ranking score per prospect (e.g. :meth:`LookalikeScorer.predict`).
    value : pandas.Series
        The value each prospect went on to bring (or its true expectation), indexed like ``scores``.
    shares : sequence of float
        Shares of the prospects to take (0-1).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``share``: ``n_targeted``, ``mean_value`` (of those targeted),
        ``value_share`` (their share of the total value, 0-1) and ``lift`` (mean value
        targeted / mean value of all).

    Examples
    --------
    >>> s = pd.Series([0.9, 0.1, 0.5, 0.3]); v = pd.Series([10.0, 0.0, 5.0, 5.0])
    >>> gains_table(s, v, shares=(0.25, 0.5))
           n_targeted  mean_value  value_share  lift
    share                                           
    0.25            1        10.0         0.50   2.0
    0.50            2         7.5         0.75   1.5
    """
    if not isinstance(scores, pd.Series) or not isinstance(value, pd.Series):
        raise TypeError("scores and value must be pandas Series indexed by prospect")
    if not scores.index.equals(value.index):
        raise ValueError("value must be indexed exactly like scores")
    s = pd.to_numeric(scores, errors="coerce")
    v = pd.to_numeric(value, errors="coerce")
    frame = pd.DataFrame({"score": s, "value": v})
    fail_rows(frame, ~np.isfinite(frame.to_numpy(dtype=float)).all(axis=1), "score",
              "scores and values must be finite numbers", what="gains_table")
    if len(frame) == 0 or float(v.sum()) == 0:
        raise DataError("value", "must hold some value to share out", what="gains_table")
    order = np.argsort(-s.to_numpy(dtype=float), kind="stable")
    ranked = v.to_numpy(dtype=float)[order]
    rows = []
    for share in shares:
        share = _check_share(share, "shares") if share != 1 else 1.0
        k = int(np.ceil(share * len(ranked)))
        top = ranked[:k]
        rows.append({"share": share, "n_targeted": k, "mean_value": float(top.mean()),
                     "value_share": float(top.sum() / ranked.sum()), "lift": float(top.mean() / ranked.mean())})
    return pd.DataFrame(rows).set_index("share")

"""The shared contract of every lifetime-value model in :mod:`crm_models.clv`.

Four bases, each adding one thing::

    BaseModel(CRMEstimator)          maximum likelihood, standard errors, summary(), sample_params(),
    |                                interval(), save/load (crm_models' one JSON format)
    +-- RepeatPurchaseModel          one row per customer: frequency, recency and a length of
    |   |                            observation; fit(data, weights_col=...), expected_purchases,
    |   |                            probability_alive, expected_purchases_new_customer,
    |   |                            probability_of_n_purchases (the contract the diagnostics use)
    |   +-- ContinuousTimeModel      time is continuous, in the data's time unit (recency and T):
    |                                BetaGeo, ModifiedBetaGeo, ParetoNBD
    +-- DiscreteTimeModel            time counts whole opportunities or periods:
                                     BetaGeoBetaBinom (also a RepeatPurchaseModel), ShiftedBetaGeo

:class:`~crm_models.clv.GammaGamma` (spend per transaction) is a :class:`BaseModel`.

A model is written once, next to its paper, by subclassing one of these and supplying

* ``_param_names``: the paper's parameter names, in order (all parameters are positive and
  are optimised as their logarithms);
* ``__init__``: the hyper-parameters only (``penalizer`` and column names), stored unchanged;
* ``fit(data, ...)``: ``self._check_params()``, validate the data (helpers in
  :mod:`crm_models._validation`, or :func:`validate_frequency_recency`), turn it into a dict of
  numpy arrays (:func:`compress` evaluates identical rows once, with a weight) and return
  ``self._fit_prepared(arrays, weights, n_obs, initial_params)``;
* ``_neg_log_likelihood(log_params, arrays, weights) -> (value, gradient)``: the *total*
  negative log-likelihood (weighted sum over rows) and its exact gradient with respect to
  ``log_params`` (analytic, never finite differences);
* ``_initial_params(arrays, weights)``: a starting point on the natural scale;
* ``_title``: the model's name and reference, shown by ``summary()``;
* ``_predictions``: the names of its prediction methods (those :meth:`BaseModel.interval` accepts).

:meth:`BaseModel._fit_prepared` does the rest for every model:

1. maximise ``log_likelihood / n_obs - penalizer * sum(log(params) ** 2)`` with L-BFGS-B in log
   space (the ``penalizer`` is an L2 penalty on the log-parameters, scaled per row);
2. raise :class:`~crm_models.errors.ConvergenceError`, saying what to try, when the optimiser
   fails or a parameter runs away to the edge of the search box;
3. compute the observed information (a forward-difference Hessian of the exact gradient in log
   space, of the penalised objective), invert it to ``covariance_log_`` and map it to the
   natural scale by the delta method (``covariance_``, ``standard_errors_``); a likelihood that
   is flat at the optimum raises :class:`~crm_models.errors.ConvergenceError`.

Fitted attributes (all end in ``_``; the training data is never kept):

``params_``            Series keyed by the paper's names (natural scale)
``log_likelihood_``    total log-likelihood at ``params_`` (without the penalty)
``covariance_``        DataFrame, asymptotic covariance of ``params_`` (delta method)
``covariance_log_``    DataFrame, asymptotic covariance of ``log(params_)``
``standard_errors_``   Series, square roots of the diagonal of ``covariance_``
``n_obs_``             number of observations (customers, or summed weights) in the fit
``n_unique_``          number of distinct rows after compression
``optimizer_result_``  dict with the optimiser's message, success, iterations, calls, gradient
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crm_models._validation import fail_rows, require_columns
from crm_models.base import CRMEstimator, FieldReader, Summary, as_generator
from crm_models.clv._forward import ForwardLooking
from crm_models.errors import ConvergenceError, DataError

__all__ = [
    "BaseModel",
    "RepeatPurchaseModel",
    "ContinuousTimeModel",
    "DiscreteTimeModel",
    "compress",
    "validate_frequency_recency",
]

#: Box for the log-parameters; a parameter reaching it is reported as not identified.
_LOG_BOUND = 25.0


def compress(columns: Mapping[str, np.ndarray], weights: np.ndarray | None = None):
    """Group identical rows of ``columns`` and add up their weights.

    Parameters
    ----------
    columns : mapping of str to 1-d array, all of the same length
        The values that define a row (for example frequency, recency and T). Rows are
        identical when all values are exactly equal: no rounding, so the data's own time
        grid is kept.
    weights : array, optional
        Weight of each input row (default 1).

    Returns
    -------
    unique : dict of str to numpy.ndarray
        One entry per distinct row, in order of first appearance.
    counts : numpy.ndarray
        The summed weights of each distinct row (float).
    inverse : numpy.ndarray
        For each input row, the position of its distinct row (``unique[c][inverse]`` gives
        the input back).

    Examples
    --------
    >>> unique, counts, inverse = compress({"x": np.array([0, 2, 0]), "T": np.array([5.0, 5.0, 5.0])})
    >>> unique["x"].tolist(), counts.tolist(), inverse.tolist()
    ([0, 2], [2.0, 1.0], [0, 1, 0])
    """
    names = list(columns)
    n = len(columns[names[0]])
    code = np.zeros(n, dtype=np.int64)
    for name in names:
        c, uniq = pd.factorize(np.asarray(columns[name]), sort=False)
        code = code * len(uniq) + c
        code, _ = pd.factorize(code, sort=False)
    n_unique = int(code.max()) + 1 if n else 0
    first = np.empty(n_unique, dtype=np.int64)
    first[code] = np.arange(n, dtype=np.int64)  # one member of each group (all members are identical)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    counts = np.bincount(code, weights=w, minlength=n_unique)
    unique = {name: np.asarray(columns[name])[first] for name in names}
    return unique, counts, code


def _as_float_array(data: pd.DataFrame, column: str, what: str) -> np.ndarray:
    s = data[column]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        values = pd.to_numeric(s, errors="coerce")
        fail_rows(data, values.isna() & s.notna(), column, "must be numeric", what=what)
        s = values
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    fail_rows(data, np.isnan(arr), column, "must not be missing (NaN found)", what=what)
    fail_rows(data, ~np.isfinite(arr), column, "must be finite", what=what)
    return arr


def _require_rows(data: pd.DataFrame, what: str) -> None:
    if len(data) == 0:
        raise DataError(None, "is empty: a model needs at least one customer row", what=what)


def validate_frequency_recency(
    data: pd.DataFrame,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    *,
    what: str = "data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check ``(frequency, recency, T)`` data and return the three columns as float arrays.

    Rules (each :class:`~crm_models.errors.DataError` names the column and the rule and shows a
    few offending rows): the columns exist; the data are not empty; values are numeric and
    not NaN; frequency is a non-negative whole number; T >= 0; 0 <= recency <= T; recency == 0
    when frequency == 0. Recency and T are in the data's own time unit (whatever
    :func:`crm_models.rfm_summary` was asked for). T == 0 is a customer whose first purchase fell
    on the last day observed: valid, it adds nothing to the likelihood and is alive for sure.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per customer.
    frequency_col, recency_col, T_col : str
        Names of the repeat-purchase count, the time of the last repeat purchase and the
        length of observation (both times since the first purchase, in one time unit).
    what : str
        Name of the input, for messages.

    Returns
    -------
    tuple of numpy.ndarray
        ``(frequency, recency, T)`` as float arrays.

    Examples
    --------
    >>> d = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 5.0], "T": [10.0, 3.0]})
    >>> validate_frequency_recency(d)
    Traceback (most recent call last):
    ...
    crm_models.errors.DataError: data: column 'recency' must not exceed 'T' (the last purchase lies after the end of observation); 1 of 2 rows break this rule, for example:
       frequency  recency    T
    1          2      5.0  3.0
    """
    require_columns(data, [frequency_col, recency_col, T_col], what=what)
    _require_rows(data, what)
    x = _as_float_array(data, frequency_col, what)
    t_x = _as_float_array(data, recency_col, what)
    T = _as_float_array(data, T_col, what)
    fail_rows(data, x < 0, frequency_col, "must not be negative (it counts repeat purchases)", what=what)
    fail_rows(data, x != np.floor(x), frequency_col, "must be a whole number of repeat purchases", what=what)
    fail_rows(data, T < 0, T_col, "must not be negative (time since the first purchase)", what=what)
    fail_rows(data, t_x < 0, recency_col, "must not be negative", what=what)
    fail_rows(
        data, t_x > T, recency_col, f"must not exceed '{T_col}' (the last purchase lies after the end of observation)",
        what=what,
    )
    fail_rows(
        data,
        (x == 0) & (t_x != 0),
        recency_col,
        f"must be 0 when '{frequency_col}' is 0 (no repeat purchase, so no time of the last one)",
        what=what,
        hint="Was the summary built with a different convention (e.g. include_first_transaction=True)?",
    )
    return x, t_x, T


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1) (0.05 gives 95% intervals), got {alpha!r}")
    return float(alpha)


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)) or not (
        math.isfinite(value) and value == int(value) and value >= 1
    ):
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


def _level(alpha: float) -> str:
    return f"{100 * (1 - alpha):g}%"


class BaseModel(CRMEstimator):
    """Maximum likelihood, standard errors, intervals and persistence shared by every model.

    Subclasses supply the likelihood and the data handling (see the module docstring); this
    class turns them into ``params_`` with standard errors, a :class:`~crm_models.base.Summary`,
    parameter draws, prediction intervals and the save format.

    Examples
    --------
    >>> from crm_models.clv import BetaGeo, simulate_beta_geo
    >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
    >>> model = BetaGeo().fit(data)
    >>> isinstance(model, BaseModel), list(model.params_.index)
    (True, ['r', 'alpha', 'a', 'b'])
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    #: Human-readable name and reference for ``summary()``.
    _title: ClassVar[str] = ""
    #: Names of the prediction methods that :meth:`interval` accepts.
    _predictions: ClassVar[tuple[str, ...]] = ()
    _fitted_attribute: ClassVar[str] = "params_"

    penalizer: float = 0.0

    # ----------------------------------------------------------------- to implement
    def _neg_log_likelihood(self, log_params: np.ndarray, arrays: dict, weights: np.ndarray):
        raise NotImplementedError

    def _initial_params(self, arrays: dict, weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self._param_names))

    def _log_bounds(self, arrays: dict) -> list[tuple[float, float]]:
        """The optimiser's box for the log-parameters (a model may narrow it, e.g. to stop at a known limit)."""
        return [(-_LOG_BOUND, _LOG_BOUND)] * len(self._param_names)

    # ------------------------------------------------------------------ hyper-params
    def _check_params(self) -> None:
        """``penalizer`` is a finite number >= 0; every ``*_col`` hyper-parameter is a string."""
        pen = self.penalizer
        if isinstance(pen, bool) or not isinstance(pen, (int, float, np.integer, np.floating)) or not (
            math.isfinite(pen) and pen >= 0
        ):
            raise ValueError(f"penalizer must be a finite number >= 0 (an L2 penalty on the log-parameters), got {pen!r}")
        for name, value in self.get_params(deep=False).items():
            if name.endswith("_col") and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be a column name (a non-empty string), got {value!r}")

    # ----------------------------------------------------------------------- fitting
    def _fit_prepared(
        self,
        arrays: dict,
        weights: np.ndarray,
        n_obs: float,
        initial_params: Mapping[str, float] | np.ndarray | None = None,
        *,
        maxiter: int = 2000,
    ):
        """Maximise the likelihood of prepared (compressed) data and set the fitted attributes."""
        penalizer = float(self.penalizer)
        k = len(self._param_names)
        if initial_params is None:
            x0 = np.log(np.asarray(self._initial_params(arrays, weights), dtype=float))
        else:
            if isinstance(initial_params, Mapping):
                missing = [p for p in self._param_names if p not in initial_params]
                if missing:
                    raise ValueError(f"initial_params lacks {missing}; expected keys {list(self._param_names)}")
                vals = np.array([float(initial_params[p]) for p in self._param_names])
            else:
                vals = np.asarray(initial_params, dtype=float).ravel()
                if vals.size != k:
                    raise ValueError(f"initial_params needs {k} values {list(self._param_names)}, got {vals.size}")
            if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
                raise ValueError(f"initial_params must be finite and positive, got {vals}")
            x0 = np.log(vals)
        scale = float(n_obs)

        def objective(z):
            value, grad = self._neg_log_likelihood(z, arrays, weights)
            value = value / scale + penalizer * float(z @ z)
            grad = grad / scale + 2.0 * penalizer * z
            if not np.isfinite(value):
                return 1e100, np.zeros_like(z)
            return value, grad

        with np.errstate(all="ignore"):
            res = optimize.minimize(
                objective,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=self._log_bounds(arrays),
                options={"maxiter": maxiter, "ftol": 1e-13, "gtol": 1e-8, "maxcor": 20},
            )
        z = res.x
        with np.errstate(all="ignore"):
            value, grad = objective(z)
        grad_ok = np.all(np.abs(grad) < 1e-4)
        name = type(self).__name__
        if not np.isfinite(value) or value >= 1e99:
            raise ConvergenceError(
                f"{name}.fit: the log-likelihood is not finite at the optimiser's solution. Check that the data are "
                "in a sensible time unit (recency and T of order 1-1000), or pass initial_params."
            )
        at_edge = np.abs(z) >= _LOG_BOUND - 1e-6
        if at_edge.any():
            which = [p for p, e in zip(self._param_names, at_edge) if e]
            raise ConvergenceError(
                f"{name}.fit: parameter(s) {which} ran off to {'0' if z[at_edge][0] < 0 else 'infinity'} "
                "(the data do not identify them). Try penalizer=0.001 (an L2 penalty on the log-parameters), "
                "more data, or a simpler model."
            )
        if not (res.success or grad_ok):
            raise ConvergenceError(
                f"{name}.fit did not converge: {res.message} (gradient {np.round(grad, 6)}). Try other "
                "initial_params, a small penalizer (e.g. 0.001), or check the time unit of recency and T."
            )
        H = self._hessian_log(z, arrays, weights, penalizer, scale)
        cov_log = self._invert_information(H)
        names = list(self._param_names)
        self.params_ = pd.Series(np.exp(z), index=names, name="estimate", dtype=float)
        self.log_likelihood_ = float(-self._neg_log_likelihood(z, arrays, weights)[0])
        self.n_obs_ = int(round(n_obs)) if abs(n_obs - round(n_obs)) < 1e-9 else float(n_obs)
        self.n_unique_ = int(len(weights))
        self.optimizer_result_ = {
            "message": str(res.message),
            "success": bool(res.success),
            "iterations": int(res.nit),
            "function_calls": int(res.nfev),
            "gradient": [float(g) for g in grad],
        }
        self._set_covariance(cov_log)
        return self

    def _invert_information(self, H: np.ndarray) -> np.ndarray:
        """Covariance of the log-parameters; a flat likelihood raises ConvergenceError."""
        try:
            if not np.all(np.isfinite(H)):
                raise np.linalg.LinAlgError
            np.linalg.cholesky(H)
            cov_log = np.linalg.inv(H)
            if not np.all(np.isfinite(cov_log)) or np.any(np.diag(cov_log) <= 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            raise ConvergenceError(
                f"{type(self).__name__}.fit: the likelihood is flat at the optimum (the observed information is "
                "not positive definite), so the data do not identify all parameters and there are no standard "
                "errors. Try penalizer=0.001 (an L2 penalty on the log-parameters), more data, or a simpler model."
            ) from None
        return 0.5 * (cov_log + cov_log.T)

    def _hessian_log(self, z, arrays, weights, penalizer, scale) -> np.ndarray:
        """Hessian of the total penalised negative log-likelihood in log space (forward differences
        of the exact gradient, step 1e-6: truncation and rounding errors both ~1e-6 relative)."""
        k = len(z)
        H = np.empty((k, k))
        with np.errstate(all="ignore"):
            g0 = self._neg_log_likelihood(z, arrays, weights)[1] + 2 * penalizer * scale * z
        for i in range(k):
            h = 1e-6 * max(1.0, abs(z[i]))
            e = np.zeros(k)
            e[i] = h
            with np.errstate(all="ignore"):
                gp = self._neg_log_likelihood(z + e, arrays, weights)[1] + 2 * penalizer * scale * (z + e)
            H[i] = (gp - g0) / h
        return 0.5 * (H + H.T)

    def _set_covariance(self, cov_log: np.ndarray) -> None:
        names = list(self._param_names)
        theta = self.params_.to_numpy()
        cov = cov_log * np.outer(theta, theta)  # delta method: d theta = theta d log(theta)
        self.covariance_log_ = pd.DataFrame(cov_log, index=names, columns=names)
        self.covariance_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_err")

    # ------------------------------------------------------------------- statistics
    @property
    def aic_(self) -> float:
        """Akaike information criterion, ``2k - 2 log L`` (float; lower is better)."""
        self._check_fitted()
        return 2 * len(self._param_names) - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        """Bayesian information criterion, ``k log n - 2 log L`` (float; lower is better)."""
        self._check_fitted()
        return len(self._param_names) * math.log(self.n_obs_) - 2 * self.log_likelihood_

    def summary(self, alpha: float = 0.05) -> Summary:
        """Estimates, standard errors and intervals, with log-likelihood, AIC, BIC and n.

        Parameters
        ----------
        alpha : float
            1 - the coverage of the intervals (0.05 gives 95% intervals).

        Returns
        -------
        crm_models.base.Summary
            Table with columns ``estimate``, ``std_err`` (delta method), ``lower`` and ``upper``
            (``exp(log estimate -/+ z se_log)``, the normal approximation in log space, so both
            bounds are positive); the level is stated in the statistics and the notes.

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> table = BetaGeo().fit(data).summary(alpha=0.1).to_frame()
        >>> list(table.columns), bool((table["lower"] < table["upper"]).all())
        (['estimate', 'std_err', 'lower', 'upper'], True)
        """
        self._check_fitted()
        alpha = _check_alpha(alpha)
        z = float(stats.norm.ppf(1 - alpha / 2))
        se_log = np.sqrt(np.diag(self.covariance_log_.to_numpy()))
        est = self.params_.to_numpy()
        table = pd.DataFrame(
            {
                "estimate": est,
                "std_err": self.standard_errors_.to_numpy(),
                "lower": est * np.exp(-z * se_log),
                "upper": est * np.exp(z * se_log),
            },
            index=pd.Index(self.params_.index, name="parameter"),
        )
        stats_ = {
            "Model": type(self).__name__,
            "No. observations": self.n_obs_,
            "Log-likelihood": self.log_likelihood_,
            "AIC": self.aic_,
            "BIC": self.bic_,
            "Penalizer": float(self.penalizer),
            "Interval level": _level(alpha),
        }
        notes = [
            "Std. errors from the observed information (numerical Hessian of the exact gradient), "
            "mapped to the natural scale by the delta method.",
            f"lower and upper bound {_level(alpha)} intervals, exp(log estimate -/+ {z:.3f} se) from the normal "
            "approximation in log space.",
        ]
        if self.penalizer:
            notes.append("Fitted with an L2 penalty on the log-parameters: estimates are shrunk towards 1.")
        return Summary(self._title or type(self).__name__, table, stats_, notes)

    def sample_params(self, n_draws: int = 1000, random_state=0) -> pd.DataFrame:
        """Draws of the parameters from their asymptotic distribution.

        ``log(params) ~ Normal(log(params_), covariance_log_)``, so every draw is positive.

        Parameters
        ----------
        n_draws : int
            Number of draws.
        random_state : None, int or numpy.random.Generator
            Seed or generator (the same int gives the same draws).

        Returns
        -------
        pandas.DataFrame
            One row per draw, one column per parameter (the paper's names).

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> draws = BetaGeo().fit(data).sample_params(500)
        >>> draws.shape, bool((draws > 0).all().all())
        ((500, 4), True)
        """
        self._check_fitted()
        n_draws = _check_count(n_draws, "n_draws")
        rng = as_generator(random_state)
        draws = rng.multivariate_normal(
            np.log(self.params_.to_numpy()), self.covariance_log_.to_numpy(), size=n_draws, method="cholesky"
        )
        return pd.DataFrame(np.exp(draws), columns=self.params_.index)

    def interval(self, quantity: str, *args, alpha: float = 0.1, n_draws: int = 200, random_state=0, **kwargs):
        """Parameter-uncertainty interval of a prediction: quantiles over parameter draws.

        The prediction method named ``quantity`` is evaluated at ``params_`` (the estimate) and
        at ``n_draws`` draws of :meth:`sample_params`; ``lower`` and ``upper`` are the
        ``alpha / 2`` and ``1 - alpha / 2`` quantiles of the draws. The interval reflects
        uncertainty in the parameters only, not the randomness of a customer's behaviour.

        Parameters
        ----------
        quantity : str
            Name of a prediction method of this model (e.g. ``"expected_purchases"``).
        *args, **kwargs
            The arguments of that method.
        alpha : float
            1 - the coverage (0.1 gives 90% intervals).
        n_draws : int
            Number of parameter draws.
        random_state : None, int or numpy.random.Generator
            Seed or generator of the draws.

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate``, ``lower``, ``upper``, indexed like the point prediction (a
            method that returns one number gives one row indexed by ``quantity``).

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = BetaGeo().fit(data)
        >>> ci = model.interval("expected_purchases", data.head(3), 10, n_draws=100)
        >>> list(ci.columns), ci.index.equals(data.head(3).index)
        (['estimate', 'lower', 'upper'], True)
        >>> bool(((ci["lower"] <= ci["estimate"]) & (ci["estimate"] <= ci["upper"])).all())
        True
        """
        self._check_fitted()
        if not isinstance(quantity, str) or quantity not in self._predictions:
            raise ValueError(
                f"quantity must name a prediction method of {type(self).__name__} "
                f"({', '.join(map(repr, self._predictions))}), got {quantity!r}"
            )
        alpha = _check_alpha(alpha)
        method = getattr(type(self), quantity)
        point = method(self, *args, **kwargs)
        if isinstance(point, pd.Series):
            index, est = point.index, point.to_numpy(dtype=float)
        else:
            index, est = pd.Index([quantity]), np.atleast_1d(np.asarray(point, dtype=float))
        draws = self.sample_params(n_draws, random_state)
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        values = np.empty((len(draws), len(est)))
        for i, row in enumerate(draws.to_numpy()):
            twin.params_ = pd.Series(row, index=self.params_.index, name="estimate")
            values[i] = np.asarray(method(twin, *args, **kwargs), dtype=float)
        lower, upper = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=0)
        return pd.DataFrame({"estimate": est, "lower": lower, "upper": upper}, index=index)

    # ------------------------------------------------------------------- persistence
    def _fitted_state(self) -> dict[str, Any]:
        return {
            "params": {k: float(v) for k, v in self.params_.items()},
            "covariance_log": self.covariance_log_.to_numpy(),
            "log_likelihood": float(self.log_likelihood_),
            "n_obs": self.n_obs_,
            "n_unique": int(self.n_unique_),
            "optimizer": dict(self.optimizer_result_),
        }

    def _restore(self, fitted: FieldReader) -> None:
        names = list(self._param_names)
        if not names:
            fitted.fail("params", f"cannot be restored: {type(self).__name__} is an abstract base, not a model")
        theta = read_params(fitted, names)
        cov_log, log_likelihood, n_obs, n_unique, optimizer = read_fit_record(fitted, len(names))
        self.params_ = pd.Series(theta, index=names, name="estimate", dtype=float)
        self.log_likelihood_ = float(log_likelihood)
        self.n_obs_ = int(n_obs) if float(n_obs).is_integer() else float(n_obs)
        self.n_unique_ = n_unique
        self.optimizer_result_ = optimizer
        self._set_covariance(cov_log)


def read_params(fitted: FieldReader, names: list[str]) -> np.ndarray:
    """The saved ``params`` of a model file: every name, in order, each a number > 0."""
    params = fitted.child("params")
    if params.keys() != names:
        fitted.fail("params", f"must hold the parameters {names} in that order, got {params.keys()}")
    return np.array([params.number(p, low=0, low_open=True) for p in names], dtype=float)


def read_fit_record(fitted: FieldReader, k: int):
    """What every saved fit records besides its estimates, validated field by field.

    Returns the ``k x k`` covariance of the log-scale estimates (positive definite), the
    log-likelihood, ``n_obs``, ``n_unique`` and the optimizer's record.
    """
    cov = fitted.covariance("covariance_log", k)
    if np.any(np.diag(cov) <= 0):
        fitted.fail("covariance_log", "must have positive variances on its diagonal")
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        fitted.fail("covariance_log", "must be positive definite (the inverse of an observed information)")
    log_likelihood = fitted.number("log_likelihood")
    n_obs = fitted.number("n_obs", low=0, low_open=True)
    n_unique = fitted.number("n_unique", integer=True, low=1)
    opt = fitted.child("optimizer")
    success = opt.raw("success")
    if not isinstance(success, bool):
        opt.fail("success", f"must be true or false, got {success!r}")
    optimizer = {
        "message": opt.string("message"),
        "success": success,
        "iterations": opt.number("iterations", integer=True, low=0),
        "function_calls": opt.number("function_calls", integer=True, low=0),
        "gradient": opt.array("gradient", shape=(k,)).tolist(),
    }
    return cov, log_likelihood, n_obs, n_unique, optimizer


class _PredictionData:
    """Validated prediction inputs, with lazily computed distinct (x, T) pairs."""

    def __init__(self, x, t_x, T, index):
        self.x, self.t_x, self.T, self.index = x, t_x, T, index
        self._xT = None
        #: per-parameter results reused across prediction horizons (e.g. P(alive) in CLV steps)
        self.cache: dict = {}

    @property
    def xT(self):
        """(unique x, unique T, inverse) over distinct (x, T) pairs."""
        if self._xT is None:
            unique, _, inv = compress({"x": self.x, "T": self.T})
            self._xT = (unique["x"], unique["T"], inv)
        return self._xT


class RepeatPurchaseModel(BaseModel):
    """Base of the models of one row per customer: repeat purchases, recency, length of observation.

    This is the contract :mod:`crm_models.clv.diagnostics` works with. A model of this kind has

    * hyper-parameters ``penalizer``, ``frequency_col`` (repeat purchases), ``recency_col``
      (time of the last repeat purchase since the first purchase) and a column for the length of
      observation since the first purchase, whose name :attr:`length_col` returns (``T_col`` in
      continuous time, ``n_opportunities_col`` in discrete time);
    * :meth:`validate_data`, ``fit(data, *, weights_col=None, initial_params=None)`` and four
      predictions: :meth:`expected_purchases`, :meth:`probability_alive`,
      :meth:`expected_purchases_new_customer`, :meth:`probability_of_n_purchases`.

    Subclasses implement, on the natural-scale parameters ``p`` (a dict):
    ``_expected(p, pdata, t)`` (E[X(t) | x, t_x, T] per row), ``_p_alive(p, pdata)``,
    ``_expected_new(p, ts)`` (E[X(t)] of a new customer, ``ts`` an array) and
    ``_p_n(p, t, ns)`` (P(X(t) = n) for an array of whole numbers), plus ``_check_time``.

    Examples
    --------
    >>> from crm_models.clv import BetaGeo, BetaGeoBetaBinom
    >>> BetaGeo().length_col, BetaGeoBetaBinom().length_col
    ('T', 'n_opportunities')
    """

    _predictions = (
        "expected_purchases",
        "probability_alive",
        "expected_purchases_new_customer",
        "probability_of_n_purchases",
    )

    @property
    def length_col(self) -> str:
        """Name of the column holding each customer's length of observation since the first purchase."""
        raise NotImplementedError

    def _check_time(self, t, name: str = "t"):
        raise NotImplementedError

    def _validate(self, data: pd.DataFrame, what: str = "data"):
        raise NotImplementedError

    def validate_data(self, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Check a customer summary against this model's rules and return its three columns.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer with the columns named by ``frequency_col``, ``recency_col``
            and :attr:`length_col`.

        Returns
        -------
        tuple of numpy.ndarray
            ``(frequency, recency, length)`` as float arrays, in the data's time unit.

        Examples
        --------
        >>> from crm_models.clv import BetaGeo
        >>> d = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 5.0], "T": [10.0, 8.0]})
        >>> [a.tolist() for a in BetaGeo().validate_data(d)]
        [[0.0, 2.0], [0.0, 5.0], [10.0, 8.0]]
        """
        return self._validate(data)

    def fit(
        self,
        data: pd.DataFrame,
        *,
        weights_col: str | None = None,
        initial_params: Mapping[str, float] | None = None,
    ):
        """Fit by maximum likelihood to one row per customer (or per group, with ``weights_col``).

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency_col`` (repeat purchases), ``recency_col`` and the length of
            observation :attr:`length_col`, as made by :func:`crm_models.rfm_summary`.
        weights_col : str, optional
            Column with the number of customers each row stands for (aggregated data).
        initial_params : mapping, optional
            Starting values on the natural scale, keyed by the paper's names.

        Returns
        -------
        self

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = BetaGeo().fit(data)
        >>> truth = pd.Series({"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5})
        >>> model.n_obs_, bool(((model.params_ - truth).abs() < 3 * model.standard_errors_).all())
        (2000, True)
        >>> grouped = data.groupby(["frequency", "recency", "T"]).size().rename("n").reset_index()
        >>> bool(np.allclose(BetaGeo().fit(grouped, weights_col="n").params_, model.params_))
        True
        """
        self._check_params()
        x, t_x, T = self._validate(data)
        weights = None
        if weights_col is not None:
            require_columns(data, [weights_col])
            weights = _as_float_array(data, weights_col, "data")
            fail_rows(data, weights < 0, weights_col, "must not be negative (customer counts)")
            if weights.sum() <= 0:
                raise DataError(weights_col, "sums to 0: there is nothing to fit")
        unique, counts, _ = compress({"x": x, "t_x": t_x, "T": T}, weights)
        keep = counts > 0
        arrays = self._make_arrays(unique["x"][keep], unique["t_x"][keep], unique["T"][keep])
        return self._fit_prepared(arrays, counts[keep], float(counts.sum()), initial_params)

    def _make_arrays(self, x, t_x, T) -> dict:
        """Arrays for the likelihood: the three columns, plus the distinct values of each and the
        positions of every row in them (``xu[xinv] == x``, ``Tu[Tinv] == T``, ``txu[txinv] == t_x``),
        so that functions of one column are evaluated once per distinct value."""
        xinv, xu = pd.factorize(x)
        Tinv, Tu = pd.factorize(T)
        txinv, txu = pd.factorize(t_x)
        return {"x": x, "t_x": t_x, "T": T, "xu": np.asarray(xu, dtype=float), "xinv": xinv,
                "Tu": np.asarray(Tu, dtype=float), "Tinv": Tinv, "txu": np.asarray(txu, dtype=float), "txinv": txinv}

    def _prediction_data(self, data: pd.DataFrame) -> _PredictionData:
        x, t_x, T = self._validate(data)
        return _PredictionData(x, t_x, T, data.index)

    def _series(self, values, index, name: str) -> pd.Series:
        return pd.Series(np.asarray(values, dtype=float), index=index, name=name)

    # ------------------------------------------------------------------- predictions
    def expected_purchases(self, data: pd.DataFrame, t) -> pd.Series:
        """Conditional expected number of repeat purchases in the next ``t`` periods, per customer.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary (columns as for ``fit``), indexed by customer id.
        t : float
            Length of the future period, in the data's time unit (a whole number of
            opportunities for a discrete-time model).

        Returns
        -------
        pandas.Series
            ``expected_purchases`` indexed like ``data``.

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> BetaGeo().fit(data).expected_purchases(data.head(3), 10).round(3).tolist()
        [0.383, 0.059, 1.486]
        """
        self._check_fitted()
        t = self._check_time(t)
        pdata = self._prediction_data(data)
        return self._series(self._expected(self.params_.to_dict(), pdata, t), pdata.index, "expected_purchases")

    def probability_alive(self, data: pd.DataFrame) -> pd.Series:
        """Probability that each customer is still active at the end of observation.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary (columns as for ``fit``), indexed by customer id.

        Returns
        -------
        pandas.Series
            ``p_alive`` (0-1) indexed like ``data``.

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> BetaGeo().fit(data).probability_alive(data.head(3)).round(3).tolist()
        [0.782, 1.0, 0.851]
        """
        self._check_fitted()
        pdata = self._prediction_data(data)
        return self._series(self._p_alive(self.params_.to_dict(), pdata), pdata.index, "p_alive")

    def expected_purchases_new_customer(self, t) -> pd.Series:
        """Unconditional E[X(t)]: expected repeat purchases of a newly acquired customer within ``t``.

        Parameters
        ----------
        t : float or array_like
            Length(s) of time since the first purchase, in the data's time unit (whole numbers
            of opportunities for a discrete-time model).

        Returns
        -------
        pandas.Series
            ``expected_purchases`` indexed by ``t`` (one entry for a single ``t``).

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> BetaGeo().fit(data).expected_purchases_new_customer([10, 39]).round(3).to_dict()
        {10.0: 0.447, 39.0: 1.259}
        """
        self._check_fitted()
        ts = np.array([self._check_time(v) for v in np.atleast_1d(np.asarray(t, dtype=object))])
        return self._series(self._expected_new(self.params_.to_dict(), ts.astype(float)), pd.Index(ts, name="t"),
                            "expected_purchases")

    def probability_of_n_purchases(self, t, n) -> pd.Series:
        """Probability that a newly acquired customer makes exactly ``n`` repeat purchases within ``t``.

        Parameters
        ----------
        t : float
            Length of time since the first purchase, in the data's time unit (a whole number of
            opportunities for a discrete-time model). At ``t = 0`` the probability is 1 for
            ``n = 0`` and 0 otherwise.
        n : int or array_like of int
            Numbers of repeat purchases (whole numbers >= 0).

        Returns
        -------
        pandas.Series
            ``probability`` (0-1) indexed by ``n`` (one entry for a single ``n``).

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = BetaGeo().fit(data)
        >>> model.probability_of_n_purchases(39, [0, 1, 2]).round(3).tolist()
        [0.557, 0.198, 0.091]
        >>> model.probability_of_n_purchases(0, [0, 1]).tolist()    # nothing happens in no time
        [1.0, 0.0]
        """
        self._check_fitted()
        t = self._check_time(t)
        ns = np.atleast_1d(np.asarray(n))
        if ns.dtype == bool or not np.issubdtype(ns.dtype, np.number) or np.any(~np.isfinite(ns)) or np.any(ns < 0) \
                or np.any(ns != np.floor(ns)):
            raise ValueError(f"n must be whole numbers >= 0, got {n!r}")
        ns = ns.astype(np.int64)
        return self._series(self._p_n(self.params_.to_dict(), t, ns), pd.Index(ns, name="n"), "probability")


def _check_time(t, name: str = "t") -> float:
    if isinstance(t, bool):
        raise ValueError(f"{name} must be a number of periods in the data's time unit, got {t!r}")
    try:
        value = float(t)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of periods in the data's time unit, got {t!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative number of periods, got {t!r}")
    return value


class ContinuousTimeModel(ForwardLooking, RepeatPurchaseModel):
    """Base of the continuous-time models of ``(frequency, recency, T)`` data (BG/NBD, MBG/NBD, Pareto/NBD).

    Recency and T are lengths of time since each customer's first purchase in one time unit
    (whatever :func:`crm_models.rfm_summary` was asked for, weeks by default); rate parameters
    and every ``t`` of a prediction are in that unit. These are the models
    :func:`crm_models.clv.customer_lifetime_value` values. Besides the four predictions of
    :class:`RepeatPurchaseModel` they predict forward from the end of observation
    (:class:`crm_models.clv._forward.ForwardLooking`): P(alive) at T + t, P(no purchase in the
    next t), expected purchases in a window, each customer's distribution of purchases and its
    predictive interval.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col, recency_col, T_col : str
        Column names of the customer summary.

    Examples
    --------
    >>> from crm_models.clv import BetaGeo, ParetoNBD
    >>> issubclass(BetaGeo, ContinuousTimeModel), issubclass(ParetoNBD, ContinuousTimeModel)
    (True, True)
    """

    _predictions = RepeatPurchaseModel._predictions + (
        "probability_alive_at",
        "probability_no_purchase",
        "expected_purchases_between",
    )

    def __init__(
        self,
        penalizer: float = 0.0,
        frequency_col: str = "frequency",
        recency_col: str = "recency",
        T_col: str = "T",
    ):
        self.penalizer = penalizer
        self.frequency_col = frequency_col
        self.recency_col = recency_col
        self.T_col = T_col

    @property
    def length_col(self) -> str:
        """``T_col``: the column of each customer's time since the first purchase."""
        return self.T_col

    def _check_time(self, t, name: str = "t") -> float:
        return _check_time(t, name)

    def _validate(self, data: pd.DataFrame, what: str = "data"):
        return validate_frequency_recency(data, self.frequency_col, self.recency_col, self.T_col, what=what)


def _whole(value, name: str, what: str = "opportunities") -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number of {what}, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number of {what}, got {value!r}") from None
    if not np.isfinite(v) or v < 0 or v != np.floor(v):
        raise ValueError(f"{name} must be a whole number of {what} >= 0, got {value!r}")
    return int(v)


class DiscreteTimeModel(BaseModel):
    """Base of the discrete-time models: time counts whole opportunities or periods.

    BG/BB (:class:`~crm_models.clv.BetaGeoBetaBinom`) counts transaction opportunities and sBG
    (:class:`~crm_models.clv.ShiftedBetaGeo`) contract periods; every horizon given to them
    is a whole number of those, checked as such. They are not continuous-time models, so
    :func:`crm_models.clv.customer_lifetime_value` refuses them and says what to use instead.

    Examples
    --------
    >>> from crm_models.clv import BetaGeoBetaBinom, ShiftedBetaGeo, ContinuousTimeModel
    >>> issubclass(ShiftedBetaGeo, DiscreteTimeModel), issubclass(BetaGeoBetaBinom, ContinuousTimeModel)
    (True, False)
    """

    #: What one step of time is called in messages.
    _step_name: ClassVar[str] = "periods"

    def _check_time(self, t, name: str = "t") -> int:
        return _whole(t, name, self._step_name)

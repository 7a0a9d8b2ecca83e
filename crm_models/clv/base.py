"""The shared contract of every lifetime-value model in :mod:`crm_models.clv`.

A model is written once, next to its paper, by subclassing :class:`BaseModel` (or
:class:`FrequencyRecencyModel` for models of ``(frequency, recency, T)`` data) and supplying

* ``_param_names``: the paper's parameter names, in order (all parameters are positive and
  are optimised as their logarithms);
* ``_hyper_names``: the names of the ``__init__`` arguments (hyper-parameters only; ``__init__``
  stores them and does nothing else);
* ``fit(data, ...)``: validate the DataFrame (helpers in :mod:`crm_models._validation`, or
  :func:`validate_frequency_recency`), turn it into a dict of numpy arrays (use
  :func:`compress` so identical rows are evaluated once, with a weight) and return
  ``self._fit_prepared(arrays, weights, n_obs, initial_params)``;
* ``_neg_log_likelihood(log_params, arrays, weights) -> (value, gradient)``: the *total*
  negative log-likelihood (weighted sum over rows) and its exact gradient with respect to
  ``log_params`` (analytic or exact automatic differentiation, never finite differences);
* ``_initial_params(arrays, weights)``: a starting point on the natural scale.

* ``_title`` (optional): the model's name and reference, shown by ``summary()``.

:meth:`BaseModel._fit_prepared` does the rest for every model:

1. maximise ``log_likelihood / n_obs - penalizer * sum(log(params) ** 2)`` with L-BFGS-B in log
   space (the optional ``penalizer`` is an L2 penalty on the log-parameters, scaled per row);
2. raise :class:`ConvergenceError`, saying what to try, when the optimiser fails or a
   parameter runs away to the edge of the search box;
3. compute the observed information (a central-difference Hessian of the analytic gradient in
   log space, of the penalised objective), invert it to ``covariance_log_`` and map it to the
   natural scale by the delta method (``covariance_``, ``standard_errors_``); a likelihood that
   is flat at the optimum (information not positive definite) raises :class:`ConvergenceError`.

Fitted attributes (all end in ``_``; the training data is never kept):

``params_``            pandas Series keyed by the paper's names (natural scale)
``log_likelihood_``    total log-likelihood at ``params_`` (without the penalty)
``covariance_``        DataFrame, asymptotic covariance of ``params_`` (delta method)
``covariance_log_``    DataFrame, asymptotic covariance of ``log(params_)``
``standard_errors_``   Series, square roots of the diagonal of ``covariance_``
``n_obs_``             number of observations (customers, or weighted rows) used in the fit
``n_unique_``          number of distinct rows after compression
``optimizer_result_``  dict with the optimiser's message, iterations and function calls

Methods every model gets:

``summary()``                         :class:`ModelSummary`: text in a terminal, HTML in Jupyter
``sample_params(n, seed)``            DataFrame of ``n`` draws of the parameters from their
                                      asymptotic normal in log space (log-normal on the natural
                                      scale), for intervals on predictions
``save(path)`` / ``Model.load(path)`` versioned JSON; loading validates and never runs code
``aic_``, ``bic_`` (properties)       information criteria from ``log_likelihood_``
``get_params()``                      the hyper-parameters as a dict

Prediction helpers for subclasses: :meth:`BaseModel._predict` evaluates a function of the
parameters at ``params_`` and, when ``interval`` is given, at ``n_samples`` parameter draws,
returning a Series (point estimates) or a DataFrame with columns ``estimate``, ``lower``,
``upper``. Predictions keep the input's index (customer id).

:class:`FrequencyRecencyModel` adds the column names (``frequency_col``, ``recency_col``,
``T_col``; hyper-parameters) and :func:`validate_frequency_recency` for the shared input
rules of ``(frequency, recency, T)`` data, and the public predictions ``expected_purchases``,
``probability_alive``, ``expected_purchases_new_customer`` and ``probability_of_n_purchases``
built on four hooks each such model implements (``_expected``, ``_p_alive``,
``_expected_new``, ``_p_n``). Using an unfitted model raises
:class:`NotFittedError` (a ``ValueError`` and ``AttributeError``).

Example of a new model (sketch)::

    class MyModel(BaseModel):
        _param_names = ("alpha", "beta")
        _hyper_names = ("penalizer",)

        def __init__(self, penalizer: float = 0.0):
            self.penalizer = penalizer

        def fit(self, data, *, initial_params=None):
            require_columns(data, ["k", "n"])            # + fail_rows(...) checks
            unique, counts, _ = compress({"k": data["k"].to_numpy(), "n": data["n"].to_numpy()})
            return self._fit_prepared(unique, counts, float(counts.sum()), initial_params)

        def _neg_log_likelihood(self, log_params, arrays, weights):
            alpha, beta = np.exp(log_params)
            ll = ...                                     # per distinct row
            dll = ...                                    # (2, n) d ll / d (alpha, beta)
            return -(weights * ll).sum(), -(dll @ weights) * np.array([alpha, beta])

    Predictions should call ``self._check_fitted()`` first, or go through ``self._predict``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize

from crm_models._validation import fail_rows, require_columns

#: Version of the JSON format written by :meth:`BaseModel.save`.
FORMAT_VERSION = 1
_FORMAT_NAME = "crm_models.clv"

#: Box for the log-parameters; a parameter reaching it is reported as not identified.
_LOG_BOUND = 25.0

_REGISTRY: dict[str, type[BaseModel]] = {}


class NotFittedError(ValueError, AttributeError):
    """A prediction, summary or save was asked of a model that has not been fitted."""


class ConvergenceError(RuntimeError):
    """Maximum likelihood estimation did not converge; the message says what to try."""


def compress(columns: Mapping[str, np.ndarray], weights: np.ndarray | None = None):
    """Group identical rows of ``columns`` and add up their weights.

    Parameters
    ----------
    columns : mapping of name -> 1-d array, all of the same length
        The values that define a row (for example frequency, recency and T). Rows are
        identical when all values are exactly equal: no rounding, so the data's own time
        grid is kept.
    weights : array, optional
        Weight of each input row (default 1).

    Returns
    -------
    unique : dict of name -> array
        One entry per distinct row, in order of first appearance.
    counts : ndarray of float
        The summed weights of each distinct row.
    inverse : ndarray of int
        For each input row, the position of its distinct row (``unique[c][inverse]`` gives
        the input back).
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


def validate_frequency_recency(
    data: pd.DataFrame,
    frequency_col: str = "frequency",
    recency_col: str = "recency",
    T_col: str = "T",
    *,
    what: str = "data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check ``(frequency, recency, T)`` data and return the three columns as float arrays.

    Rules (each error names the column, the rule and shows a few offending rows): the
    columns exist; the data is not empty; values are numeric and not NaN; frequency is a
    non-negative whole number; T >= 0; 0 <= recency <= T; recency == 0 when frequency == 0.
    Recency and T are in the data's own time unit (whatever ``rfm_summary`` was asked for).
    T == 0 is a customer whose first purchase fell on the last day observed: valid, it adds
    nothing to the likelihood and is alive for sure.
    """
    require_columns(data, [frequency_col, recency_col, T_col], what=what)
    if len(data) == 0:
        raise ValueError(f"{what} is empty: a model needs at least one customer row.")
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


def _check_time(t, name: str = "t") -> float:
    try:
        value = float(t)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of periods in the data's time unit, got {t!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative number of periods, got {t!r}")
    return value


class ModelSummary:
    """A fitted model's parameter table and fit statistics, statsmodels style.

    ``table`` is a DataFrame (rows: parameters; columns: estimate, std_err, lower_95,
    upper_95) and ``stats`` a dict (log-likelihood, AIC, BIC, n). Renders as text with
    ``print`` and as an HTML table in Jupyter.
    """

    def __init__(self, title: str, table: pd.DataFrame, stats: dict[str, Any], notes: list[str]):
        self.title = title
        self.table = table
        self.stats = stats
        self.notes = notes

    def __repr__(self) -> str:
        width = 64
        lines = [self.title.center(width), "=" * width]
        items = list(self.stats.items())
        for i in range(0, len(items), 2):
            pair = items[i : i + 2]
            lines.append("".join(f"{k + ':':<18}{_fmt(v):>13}" + " " * 1 for k, v in pair))
        lines.append("-" * width)
        lines.append(self.table.to_string(float_format=lambda v: f"{v:.4f}"))
        lines.append("=" * width)
        lines.extend(f"[{i + 1}] {n}" for i, n in enumerate(self.notes))
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        stats = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in self.stats.items()
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<div><strong>{html.escape(self.title)}</strong>"
            f"<table>{stats}</table>"
            f"{self.table.to_html(float_format=lambda v: f'{v:.4f}')}"
            f"<ol style='font-size:smaller'>{notes}</ol></div>"
        )


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.3f}"
    return str(v)


class BaseModel:
    """Maximum-likelihood machinery shared by every model (see the module docstring)."""

    _param_names: ClassVar[tuple[str, ...]] = ()
    _hyper_names: ClassVar[tuple[str, ...]] = ("penalizer",)
    #: Human-readable name and reference for ``summary()``.
    _title: ClassVar[str] = ""

    penalizer: float = 0.0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    # ----------------------------------------------------------------- to implement
    def _neg_log_likelihood(self, log_params: np.ndarray, arrays: dict, weights: np.ndarray):
        raise NotImplementedError

    def _initial_params(self, arrays: dict, weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self._param_names))

    # ------------------------------------------------------------------ hyper-params
    def get_params(self) -> dict[str, Any]:
        """The hyper-parameters given to ``__init__``."""
        return {name: getattr(self, name) for name in self._hyper_names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ----------------------------------------------------------------------- fitting
    def _check_penalizer(self) -> float:
        pen = self.penalizer
        if not isinstance(pen, (int, float, np.floating, np.integer)) or not np.isfinite(pen) or pen < 0:
            raise ValueError(f"penalizer must be a finite number >= 0, got {pen!r}")
        return float(pen)

    def _fit_prepared(
        self,
        arrays: dict,
        weights: np.ndarray,
        n_obs: float,
        initial_params: Mapping[str, float] | np.ndarray | None = None,
        *,
        maxiter: int = 2000,
    ) -> BaseModel:
        """Maximise the likelihood of prepared (compressed) data and set the fitted attributes."""
        penalizer = self._check_penalizer()
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
                bounds=[(-_LOG_BOUND, _LOG_BOUND)] * k,
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
        theta = np.exp(z)
        self.params_ = pd.Series(theta, index=names, name="estimate", dtype=float)
        ll_total = -self._neg_log_likelihood(z, arrays, weights)[0]
        self.log_likelihood_ = float(ll_total)
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
        """Covariance of the log-parameters; a flat likelihood raises :class:`ConvergenceError`."""
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
        return cov_log

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

    # ------------------------------------------------------------------- fitted state
    def _is_fitted(self) -> bool:
        return hasattr(self, "params_")

    def _check_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet: call .fit(data) (or {type(self).__name__}.load(path)) "
                "before predicting, summarising or saving."
            )

    @property
    def aic_(self) -> float:
        """Akaike information criterion, ``2k - 2 log L``."""
        self._check_fitted()
        return 2 * len(self._param_names) - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        """Bayesian information criterion, ``k log n - 2 log L``."""
        self._check_fitted()
        return len(self._param_names) * math.log(self.n_obs_) - 2 * self.log_likelihood_

    def summary(self) -> ModelSummary:
        """Estimates, standard errors and 95% intervals, with log-likelihood, AIC, BIC and n."""
        self._check_fitted()
        z = 1.959963984540054
        se_log = np.sqrt(np.diag(self.covariance_log_.to_numpy()))
        est = self.params_.to_numpy()
        table = pd.DataFrame(
            {
                "estimate": est,
                "std_err": self.standard_errors_.to_numpy(),
                "lower_95": est * np.exp(-z * se_log),
                "upper_95": est * np.exp(z * se_log),
            },
            index=self.params_.index,
        )
        stats = {
            "Model": type(self).__name__,
            "No. observations": self.n_obs_,
            "Log-likelihood": self.log_likelihood_,
            "AIC": self.aic_,
            "BIC": self.bic_,
            "Penalizer": float(self.penalizer),
        }
        notes = [
            "Std. errors from the observed information (numerical Hessian of the exact gradient), "
            "mapped to the natural scale by the delta method.",
            "95% intervals are exp(log estimate +/- 1.96 se) from the normal approximation in log space.",
        ]
        if self.penalizer:
            notes.append("Fitted with an L2 penalty on the log-parameters: estimates are shrunk towards 1.")
        return ModelSummary(self._title or type(self).__name__, table, stats, notes)

    def sample_params(self, n: int = 1000, seed: int | np.random.Generator | None = 0) -> pd.DataFrame:
        """``n`` draws of the parameters from their asymptotic distribution.

        log(params) ~ Normal(log(params_), covariance_log_), so draws are positive. Rows are
        draws, columns the paper's parameter names.
        """
        self._check_fitted()
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive whole number, got {n!r}")
        cov = self.covariance_log_.to_numpy()
        if not np.all(np.isfinite(cov)):
            raise ValueError("standard errors are unavailable for this fit, so parameters cannot be sampled")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        draws = rng.multivariate_normal(np.log(self.params_.to_numpy()), cov, size=int(n), method="cholesky")
        return pd.DataFrame(np.exp(draws), columns=self.params_.index)

    def _predict(
        self,
        fn: Callable[[dict[str, float]], np.ndarray],
        index,
        name: str,
        interval: float | None,
        n_samples: int,
        seed,
    ):
        """Point prediction ``fn(params)``; with ``interval``, add quantiles over parameter draws."""
        self._check_fitted()
        est = np.asarray(fn(self.params_.to_dict()), dtype=float)
        if interval is None:
            return pd.Series(est, index=index, name=name)
        if not (0 < float(interval) < 1):
            raise ValueError(f"interval must be a probability in (0, 1), e.g. 0.9, got {interval!r}")
        draws = self.sample_params(n_samples, seed)
        vals = np.stack([np.asarray(fn(row), dtype=float) for row in draws.to_dict("records")])
        lo, hi = np.quantile(vals, [(1 - interval) / 2, (1 + interval) / 2], axis=0)
        return pd.DataFrame({"estimate": est, "lower": lo, "upper": hi}, index=index)

    # ------------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain JSON-able data (see :meth:`save`)."""
        self._check_fitted()
        return {
            "format": _FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "model": type(self).__name__,
            "hyper_parameters": {k: _jsonable(v) for k, v in self.get_params().items()},
            "params": {k: float(v) for k, v in self.params_.items()},
            "covariance_log": [[_jsonable(float(v)) for v in row] for row in self.covariance_log_.to_numpy()],
            "log_likelihood": self.log_likelihood_,
            "n_obs": self.n_obs_,
            "n_unique": self.n_unique_,
        }

    def save(self, path: str | Path) -> Path:
        """Write the fitted model as versioned JSON (no pickle) and return the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False))
        return path

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> BaseModel:
        """Rebuild a fitted model from :meth:`to_dict` output, validating every field."""
        if not isinstance(doc, Mapping) or doc.get("format") != _FORMAT_NAME:
            raise ValueError(f"not a {_FORMAT_NAME} model file (missing 'format': '{_FORMAT_NAME}')")
        version = doc.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"unsupported format_version {version!r}; this version reads {FORMAT_VERSION}")
        model_name = doc.get("model")
        target = _REGISTRY.get(model_name) if isinstance(model_name, str) else None
        if target is None:
            raise ValueError(f"unknown model {model_name!r}; known: {sorted(_REGISTRY)}")
        if cls is not BaseModel and not issubclass(target, cls):
            raise ValueError(f"the file holds a {model_name}, not a {cls.__name__}; load it with {model_name}.load")
        hyper = doc.get("hyper_parameters", {})
        if not isinstance(hyper, Mapping) or set(hyper) - set(target._hyper_names):
            raise ValueError(f"hyper_parameters must be a subset of {list(target._hyper_names)}, got {hyper!r}")
        for k, v in hyper.items():
            if not isinstance(v, (str, int, float, bool, type(None))):
                raise ValueError(f"hyper-parameter {k!r} must be a plain value, got {v!r}")
        model = target(**hyper)
        params = doc.get("params")
        names = list(target._param_names)
        if not isinstance(params, Mapping) or list(params) != names:
            raise ValueError(f"params must have keys {names} in that order, got {params!r}")
        theta = np.array([params[p] for p in names], dtype=float)
        if not np.all(np.isfinite(theta)) or np.any(theta <= 0):
            raise ValueError(f"params must be finite and positive, got {params!r}")
        cov = np.array(doc.get("covariance_log"), dtype=float)
        if cov.shape != (len(names), len(names)):
            raise ValueError(f"covariance_log must be a {len(names)}x{len(names)} matrix")
        ll = doc.get("log_likelihood")
        n_obs = doc.get("n_obs")
        if not isinstance(ll, (int, float)) or not np.isfinite(ll):
            raise ValueError(f"log_likelihood must be a finite number, got {ll!r}")
        if not isinstance(n_obs, (int, float)) or n_obs <= 0:
            raise ValueError(f"n_obs must be a positive number, got {n_obs!r}")
        model.params_ = pd.Series(theta, index=names, name="estimate", dtype=float)
        model.log_likelihood_ = float(ll)
        model.n_obs_ = n_obs
        model.n_unique_ = int(doc.get("n_unique", n_obs))
        model.optimizer_result_ = {"message": "loaded from file"}
        cov_nat = cov * np.outer(theta, theta)
        model.covariance_log_ = pd.DataFrame(cov, index=names, columns=names)
        model.covariance_ = pd.DataFrame(cov_nat, index=names, columns=names)
        model.standard_errors_ = pd.Series(np.sqrt(np.diag(cov_nat)), index=names, name="std_err")
        return model

    @classmethod
    def load(cls, path: str | Path) -> BaseModel:
        """Read a model written by :meth:`save` (plain JSON, validated; never executes code)."""
        try:
            doc = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from None
        return cls.from_dict(doc)


def _jsonable(v):
    if isinstance(v, (np.floating,)):
        v = float(v)
    if isinstance(v, (np.integer,)):
        v = int(v)
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


class FrequencyRecencyModel(BaseModel):
    """Base for models of ``(frequency, recency, T)`` data (BG/NBD, MBG/NBD, Pareto/NBD).

    Hyper-parameters: ``penalizer`` and the column names ``frequency_col``, ``recency_col``,
    ``T_col``. ``fit(data, weights_col=None, initial_params=None)`` validates the data with
    :func:`validate_frequency_recency`, compresses identical rows (the optional
    ``weights_col`` holds counts of customers per row, for data already aggregated) and
    maximises the likelihood. Subclasses implement ``_neg_log_likelihood`` on the arrays
    ``x``, ``t_x``, ``T`` (unique rows) and the predictions.
    """

    _hyper_names = ("penalizer", "frequency_col", "recency_col", "T_col")

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

    def _validate(self, data: pd.DataFrame, what: str = "data"):
        return validate_frequency_recency(data, self.frequency_col, self.recency_col, self.T_col, what=what)

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
        data : DataFrame
            Columns ``frequency`` (repeat purchases), ``recency`` and ``T`` (time of the last
            purchase and of the end of observation, both since the first purchase, in one time
            unit, e.g. weeks), as made by :func:`crm_models.rfm_summary`.
        weights_col : str, optional
            Column with the number of customers each row stands for.
        initial_params : mapping, optional
            Starting values on the natural scale, keyed by the paper's names.

        Returns
        -------
        self
        """
        x, t_x, T = self._validate(data)
        weights = None
        if weights_col is not None:
            require_columns(data, [weights_col])
            weights = _as_float_array(data, weights_col, "data")
            fail_rows(data, weights < 0, weights_col, "must not be negative (customer counts)")
            if weights.sum() <= 0:
                raise ValueError(f"column '{weights_col}' sums to 0: there is nothing to fit")
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

    # ------------------------------------------------------------------- predictions
    # Subclasses implement, on the natural-scale parameters ``p`` (a dict):
    #   _expected(p, pdata, t) -> E[X(t) | x, t_x, T] per row
    #   _p_alive(p, pdata)     -> P(alive at T | x, t_x, T) per row
    #   _expected_new(p, t)    -> E[X(t)] for a customer just acquired (t an array)
    #   _p_n(p, t, n)          -> P(X(t) = n) for an array of whole numbers n

    def _prediction_data(self, data: pd.DataFrame) -> _PredictionData:
        x, t_x, T = self._validate(data)
        return _PredictionData(x, t_x, T, data.index)

    def expected_purchases(
        self,
        data: pd.DataFrame,
        t: float,
        *,
        interval: float | None = None,
        n_samples: int = 200,
        seed: int | None = 0,
    ) -> pd.Series | pd.DataFrame:
        """Conditional expected number of purchases in the next ``t`` periods, per customer.

        ``t`` is in the data's time unit (e.g. weeks). Returns a Series named
        ``expected_purchases`` indexed like ``data``; with ``interval`` (e.g. 0.9), a DataFrame
        with ``estimate``, ``lower``, ``upper`` from ``n_samples`` parameter draws.
        """
        self._check_fitted()
        t = _check_time(t)
        pdata = self._prediction_data(data)
        return self._predict(
            lambda p: self._expected(p, pdata, t), pdata.index, "expected_purchases", interval, n_samples, seed
        )

    def probability_alive(
        self, data: pd.DataFrame, *, interval: float | None = None, n_samples: int = 200, seed: int | None = 0
    ) -> pd.Series | pd.DataFrame:
        """Probability that each customer is still active at the end of observation (time T)."""
        self._check_fitted()
        pdata = self._prediction_data(data)
        return self._predict(lambda p: self._p_alive(p, pdata), pdata.index, "probability_alive", interval, n_samples, seed)

    def expected_purchases_new_customer(
        self, t, *, interval: float | None = None, n_samples: int = 200, seed: int | None = 0
    ):
        """Unconditional E[X(t)]: expected repeat purchases of a newly acquired customer in ``t`` periods.

        ``t`` a number (returns a float) or an array (returns a Series indexed by ``t``).
        """
        self._check_fitted()
        scalar = np.ndim(t) == 0
        ts = np.array([_check_time(v) for v in np.atleast_1d(t)])
        index = pd.Index(ts, name="t")
        out = self._predict(lambda p: self._expected_new(p, ts), index, "expected_purchases", interval, n_samples, seed)
        return _scalarise(out, scalar)

    def probability_of_n_purchases(
        self, t: float, n, *, interval: float | None = None, n_samples: int = 200, seed: int | None = 0
    ):
        """Population probability of exactly ``n`` repeat purchases in a period of length ``t``.

        ``n`` a whole number (returns a float) or an array (returns a Series indexed by ``n``).
        """
        self._check_fitted()
        t = _check_time(t)
        scalar = np.ndim(n) == 0
        ns = np.atleast_1d(np.asarray(n))
        if not np.issubdtype(ns.dtype, np.number) or np.any(ns < 0) or np.any(ns != np.floor(ns)):
            raise ValueError(f"n must be whole numbers >= 0, got {n!r}")
        ns = ns.astype(np.int64)
        index = pd.Index(ns, name="n")
        out = self._predict(lambda p: self._p_n(p, t, ns), index, "probability", interval, n_samples, seed)
        return _scalarise(out, scalar)


def _scalarise(out, scalar: bool):
    if not scalar:
        return out
    if isinstance(out, pd.Series):
        return float(out.iloc[0])
    return out.iloc[0].rename(None)


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

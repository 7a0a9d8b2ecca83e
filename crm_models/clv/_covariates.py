"""Covariates in the lifetime-value models: specification, data checks, fitting and inference.

A model with covariates keeps its paper's parameters (``params_``) as the values for a customer
whose covariates are all 0, and each covariate column ``z`` moves some of them through
``exp(g z)``. Which parameters move, and in which direction, is the model's *link* table (set
by its :class:`CovariateFamily`); for BG/NBD, MBG/NBD and Pareto/NBD it is CLVTools'
parameterisation (Fader & Hardie 2007, "Incorporating time-invariant covariates into the
Pareto/NBD and BG/NBD models", http://brucehardie.com/notes/019/; Bachmann, Meierer & Näf
2021). With several covariates the effects add up in the exponent: for customer i and a
linked parameter ``theta``, ``theta_i = theta exp(sign * g' z_i)``.

A coefficient belongs to a *process*: ``purchase``, ``dropout`` (``shared``: one coefficient
acting on both, CLVTools' equality constraint) or ``spend``. Every coefficient is signed so
that a positive value means *more of the process*: more purchases, more (or earlier) dropout,
more spend.

This module holds what all models share: :class:`CovariateSpec` (the hyper-parameters),
:func:`covariate_matrix` (the data checks: missing, non-numeric, constant and collinear
columns raise :class:`~crm_models.errors.DataError`), :class:`CovariateMixin` (fit, standard
errors, summary, draws, intervals, persistence and new-customer predictions of a model with
covariates) and the generic maximum-likelihood routine :func:`fit_covariates`. The
likelihoods and predictions of each model are in :mod:`crm_models.clv._covariate_models`.

The parameter vector optimised is ``(log theta_1, ..., log theta_k, g_1, ..., g_K)``: the
paper's parameters in logs (as without covariates) and the coefficients as they are. For the
optimiser (L-BFGS-B) and for the numerical Hessian, each covariate is internally centred and
scaled (a linear change of variables that leaves the maximum and the reported standard errors
unchanged); the gradient is exact (analytic) throughout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import optimize, stats

from crm_models._validation import fail_rows, require_columns
from crm_models.base import FieldReader, Summary, as_generator
from crm_models.clv.base import (
    _LOG_BOUND,
    _as_float_array,
    _check_alpha,
    _check_count,
    _level,
    _PredictionData,
    compress,
    read_fit_record,
    read_params,
)
from crm_models.errors import ConvergenceError, DataError

__all__: list[str] = []

#: The processes a coefficient can act on, with what a positive coefficient means.
PROCESS_MEANING = {
    "purchase": "more purchases",
    "dropout": "more dropout (customers leave sooner)",
    "shared": "the same effect on purchase and dropout",
    "spend": "more spend per purchase",
}


# ---------------------------------------------------------------------------------------------
# the specification: which columns act on which process
# ---------------------------------------------------------------------------------------------


class CovariateSpec:
    """The covariate hyper-parameters of a model, checked: columns per process and L2 penalties.

    ``columns[process]`` is a tuple of column names (empty when the process has none) for each
    process of the model's family; ``penalty[process]`` the L2 penalty on its coefficients
    (per customer, as ``penalizer``). A ``shared`` coefficient is penalised with the sum of the
    purchase and dropout penalties (it stands for both, as in CLVTools).
    """

    def __init__(self, columns: dict[str, tuple[str, ...]], penalty: dict[str, float]):
        self.columns = columns
        self.penalty = penalty

    @property
    def active(self) -> bool:
        return any(self.columns.values())

    @property
    def processes(self) -> list[str]:
        return [p for p, cols in self.columns.items() if cols]

    @property
    def names(self) -> list[str]:
        """Coefficient names, ``process.column``, in the order of the parameter vector."""
        return [f"{p}.{c}" for p, cols in self.columns.items() for c in cols]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(p, c) for p, cols in self.columns.items() for c in cols]

    @property
    def all_columns(self) -> list[str]:
        """Every covariate column, once, in order of appearance."""
        return list(dict.fromkeys(c for cols in self.columns.values() for c in cols))

    def penalty_vector(self) -> np.ndarray:
        out = []
        for p, c in self.pairs:
            if p == "shared":
                out.append(self.penalty.get("purchase", 0.0) + self.penalty.get("dropout", 0.0))
            else:
                out.append(self.penalty.get(p, 0.0))
        return np.asarray(out, dtype=float)

    @classmethod
    def from_model(cls, model) -> CovariateSpec:
        """Read and check the covariate hyper-parameters of ``model`` (plain ``ValueError`` if wrong)."""
        family = model._covariate_family
        columns: dict[str, tuple[str, ...]] = {}
        for process in family.processes:
            name = f"{process}_covariates"
            value = getattr(model, name)
            columns[process] = _column_list(value, name)
        if "shared" in columns:
            for other in ("purchase", "dropout"):
                both = sorted(set(columns["shared"]) & set(columns.get(other, ())))
                if both:
                    raise ValueError(
                        f"shared_covariates {both} also appear in {other}_covariates: a shared covariate has one "
                        "coefficient for both processes; list it only in shared_covariates (or drop it from "
                        "shared_covariates to give each process its own coefficient)"
                    )
        penalty = _penalty(model.covariate_penalizer, [p for p in family.processes if p != "shared"])
        return cls(columns, penalty)


def _column_list(value, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be None or a list of column names, got {value!r}")
    if not all(isinstance(c, str) and c for c in value):
        raise ValueError(f"{name} must hold column names (non-empty strings), got {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{name} repeats a column: {list(value)}")
    return tuple(value)


def _penalty(value, processes: list[str]) -> dict[str, float]:
    def number(v, what):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not (
            math.isfinite(v) and v >= 0
        ):
            raise ValueError(f"{what} must be a finite number >= 0 (an L2 penalty on the covariate coefficients), "
                             f"got {v!r}")
        return float(v)

    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(processes))
        if unknown:
            raise ValueError(f"covariate_penalizer has unknown process(es) {unknown}; this model's processes are "
                             f"{processes}")
        return {p: number(value.get(p, 0.0), f"covariate_penalizer[{p!r}]") for p in processes}
    v = number(value, "covariate_penalizer")
    return {p: v for p in processes}


# ---------------------------------------------------------------------------------------------
# covariate data
# ---------------------------------------------------------------------------------------------


def covariate_matrix(data: pd.DataFrame, columns: Sequence[str], what: str = "data") -> np.ndarray:
    """The covariate columns of ``data`` as an (n, k) float matrix, every value checked.

    Missing columns, non-numeric values (text, categories: encode them as 0/1 indicator
    columns, e.g. with ``pandas.get_dummies``), missing values and infinities raise
    :class:`~crm_models.errors.DataError`; booleans count as 0/1.
    """
    require_columns(data, list(columns), what=what)
    out = np.empty((len(data), len(columns)))
    for j, col in enumerate(columns):
        s = data[col]
        fail_rows(data, s.isna().to_numpy(), col,
                  "must not be missing (a covariate needs a value for every customer)", what=what)
        if pd.api.types.is_bool_dtype(s):
            out[:, j] = s.astype(float).to_numpy()
            continue
        if not pd.api.types.is_numeric_dtype(s):
            values = pd.to_numeric(s, errors="coerce")
            fail_rows(data, values.isna().to_numpy(), col,
                      "must be numeric (a covariate is a number per customer)", what=what,
                      hint="Encode a categorical attribute as 0/1 indicator columns (e.g. pandas.get_dummies, "
                           "leaving one level out as the reference).")
            s = values
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        fail_rows(data, ~np.isfinite(arr), col, "must be finite", what=what)
        out[:, j] = arr
    return out


def check_identifiable(data: pd.DataFrame, spec: CovariateSpec, Z: np.ndarray, keep: np.ndarray,
                       what: str = "data") -> None:
    """Refuse constant and collinear covariates, process by process.

    Each process's coefficients must be identified next to its base parameters: the columns
    acting on it (its own and the shared ones) must not be constant, and none may be a linear
    combination of a constant and the columns before it. ``Z`` holds the columns of
    ``spec.all_columns``; ``keep`` flags the rows that carry information (positive weight).
    """
    position = {c: j for j, c in enumerate(spec.all_columns)}
    Zk = Z[keep]
    for process in [p for p in spec.columns if p != "shared"]:
        cols = list(spec.columns.get(process, ())) + list(spec.columns.get("shared", ()))
        if not cols:
            continue
        basis = [np.ones(len(Zk))]
        for col in cols:
            v = Zk[:, position[col]]
            if len(v) == 0 or np.all(v == v[0]):
                value = v[0] if len(v) else float("nan")
                raise DataError(
                    col, f"is constant ({value:g} for every customer), so its effect cannot be told apart from the "
                    "model's base parameters",
                    rows=data.loc[np.asarray(keep), [col]].head(), n_rows=int(keep.sum()), n_total=len(data),
                    what=what, hint="Drop the column from the covariates.",
                )
            M = np.column_stack(basis)
            coef, *_ = np.linalg.lstsq(M, v, rcond=None)
            resid = v - M @ coef
            scale = max(float(np.abs(v - v.mean()).max()), 1e-300)
            if float(np.abs(resid).max()) <= 1e-9 * scale:
                others = [c for c in cols[: cols.index(col)]]
                shown = [c for c in others] + [col]
                raise DataError(
                    col, f"is a linear combination of a constant and {others} (collinear covariates on the "
                    f"{process} process: their effects cannot be told apart)",
                    rows=data.loc[np.asarray(keep), shown].head(), n_rows=int(keep.sum()), n_total=len(data),
                    what=what,
                    hint="Drop one of the collinear columns (for indicator columns of one attribute, leave one "
                         "level out as the reference).",
                )
            basis.append((v - v.mean()) / scale)


def patterns(Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``Z``: ``(values (G, k), inverse (n,))``."""
    if Z.shape[1] == 0:
        return np.zeros((1, 0)), np.zeros(len(Z), dtype=np.int64)
    unique, _, inv = compress({str(j): Z[:, j] for j in range(Z.shape[1])})
    return np.column_stack([unique[str(j)] for j in range(Z.shape[1])]), inv


# ---------------------------------------------------------------------------------------------
# a family: the model-specific part (likelihood and predictions with per-customer parameters)
# ---------------------------------------------------------------------------------------------


class CovariateFamily:
    """What a model needs to have covariates: its processes, links, likelihood and predictions.

    ``links[process]`` lists ``(parameter, sign)``: the parameter becomes
    ``theta exp(sign * g' z)``. ``neg_log_likelihood(pg, arrays, weights)`` takes ``pg``, the
    paper's parameters with the linked ones given per covariate pattern (arrays of length G) and
    the others as numbers, and returns the total negative log-likelihood and its gradient with
    respect to each entry of ``pg`` (same shapes), exactly.
    """

    processes: tuple[str, ...] = ()
    links: ClassVar[dict[str, tuple[tuple[str, int], ...]]] = {}

    def process_links(self, process: str) -> tuple[tuple[str, int], ...]:
        if process == "shared":
            return self.links["purchase"] + self.links["dropout"]
        return self.links[process]

    def linked_params(self) -> list[str]:
        return list(dict.fromkeys(p for links in self.links.values() for p, _ in links))

    def neg_log_likelihood(self, pg: dict, arrays: dict, weights: np.ndarray):
        raise NotImplementedError


def offsets(family: CovariateFamily, spec: CovariateSpec, coef: np.ndarray, Zp: dict[str, np.ndarray]):
    """``sum over processes of sign * Z_process @ g_process`` for every linked parameter (arrays over rows of Zp)."""
    n = len(next(iter(Zp.values()))) if Zp else 1
    out = {p: np.zeros(n) for p in family.linked_params()}
    i = 0
    for process, cols in spec.columns.items():
        k = len(cols)
        if not k:
            continue
        eta = Zp[process] @ coef[i: i + k]
        for param, sign in family.process_links(process):
            out[param] = out[param] + sign * eta
        i += k
    return out


def process_matrices(spec: CovariateSpec, Z: np.ndarray) -> dict[str, np.ndarray]:
    """Split a matrix over ``spec.all_columns`` into one matrix per process."""
    position = {c: j for j, c in enumerate(spec.all_columns)}
    return {p: Z[:, [position[c] for c in cols]] for p, cols in spec.columns.items() if cols}


# ---------------------------------------------------------------------------------------------
# maximum likelihood
# ---------------------------------------------------------------------------------------------


class _Problem:
    """The objective of a covariate fit over theta = (log params, coefficients)."""

    def __init__(self, model, family, spec, arrays, weights, n_obs, Zg: np.ndarray):
        self.model, self.family, self.spec = model, family, spec
        self.arrays, self.weights = arrays, weights
        self.names0 = list(model._param_names)
        self.k0 = len(self.names0)
        self.K = self.k0 + len(spec.names)
        self.Zp = process_matrices(spec, Zg)  # per pattern
        self.scale = float(n_obs)
        self.pen0 = float(model.penalizer)
        self.pen_cov = spec.penalty_vector()

    def pattern_params(self, theta):
        base = dict(zip(self.names0, np.exp(theta[: self.k0])))
        off = offsets(self.family, self.spec, theta[self.k0:], self.Zp)
        return {p: (base[p] * np.exp(off[p]) if p in off else base[p]) for p in self.names0}

    def nll(self, theta):
        """Total negative log-likelihood and its exact gradient in theta."""
        pg = self.pattern_params(theta)
        value, grads = self.family.neg_log_likelihood(pg, self.arrays, self.weights)
        g = np.zeros(self.K)
        # d/dlog theta_p = sum_g dNLL/dtheta_pg * theta_pg; d/dg_k = sum over linked params of sign * z_k * that
        contrib = {}
        for j, p in enumerate(self.names0):
            gp = np.asarray(grads[p], dtype=float) * np.asarray(pg[p], dtype=float)
            g[j] = float(np.sum(gp))
            contrib[p] = gp
        i = self.k0
        for process, cols in self.spec.columns.items():
            k = len(cols)
            if not k:
                continue
            acc = np.zeros(len(self.Zp[process]))
            for param, sign in self.family.process_links(process):
                acc = acc + sign * np.broadcast_to(contrib[param], acc.shape)
            g[i: i + k] = self.Zp[process].T @ acc
            i += k
        return float(value), g

    def objective(self, theta):
        value, grad = self.nll(theta)
        lp, cf = theta[: self.k0], theta[self.k0:]
        value = value / self.scale + self.pen0 * float(lp @ lp) + float(self.pen_cov @ (cf * cf))
        grad = grad / self.scale
        grad[: self.k0] += 2.0 * self.pen0 * lp
        grad[self.k0:] += 2.0 * self.pen_cov * cf
        return value, grad


def preconditioner(family: CovariateFamily, spec: CovariateSpec, names0: list[str],
                   Zrows: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
    """A with theta = A @ phi: phi's coefficients are per standard deviation of their (centred) covariate.

    For a covariate with weighted mean m and standard deviation s, g = g' / s, and each linked
    log-parameter absorbs the centring, log theta = log theta' - sign * g m.
    """
    k0 = len(names0)
    K = k0 + len(spec.names)
    A = np.eye(K)
    w = weights / weights.sum()
    i = k0
    position = {p: j for j, p in enumerate(names0)}
    for process, cols in spec.columns.items():
        for j, _ in enumerate(cols):
            v = Zrows[process][:, j]
            m = float(w @ v)
            s = float(np.sqrt(w @ (v - m) ** 2)) or 1.0
            A[i, i] = 1.0 / s
            for param, sign in family.process_links(process):
                A[position[param], i] += -sign * m / s
            i += 1
    return A


def fit_covariates(model, arrays: dict, weights: np.ndarray, n_obs: float, Zg: np.ndarray, Zrows: np.ndarray,
                   initial_params=None, *, maxiter: int = 3000):
    """Maximise a covariate model's penalised likelihood and set every fitted attribute of ``model``.

    ``arrays`` must hold ``gid``, the covariate pattern of each (compressed) row, with ``Zg``
    the (G, columns) values of the patterns; ``Zrows`` the same per row, for centring.
    """
    family, spec = model._covariate_family, model._covariate_spec_
    problem = _Problem(model, family, spec, arrays, weights, n_obs, Zg)
    A = preconditioner(family, spec, problem.names0, process_matrices(spec, Zrows), weights)
    return maximise(model, problem, A, initial_params, n_unique=len(weights), n_obs=n_obs,
                    initial=lambda: model._initial_params(arrays, weights), maxiter=maxiter)


def maximise(model, problem, A: np.ndarray, initial_params, *, n_unique: int, n_obs: float, initial,
             maxiter: int = 3000):
    """Maximise ``problem`` (``objective(theta)``, ``nll(theta)``, ``names0``, ``k0``, ``K``, ``scale``) over
    theta = A phi with L-BFGS-B, compute the observed information and set ``model``'s fitted attributes."""
    spec = model._covariate_spec_
    k0, K = problem.k0, problem.K
    Ainv = np.linalg.inv(A)
    theta0 = np.zeros(K)
    if initial_params is None:
        theta0[:k0] = np.log(np.asarray(initial(), dtype=float))
    else:
        if not isinstance(initial_params, Mapping):
            raise ValueError(f"initial_params must be a mapping keyed by {problem.names0} (and optionally the "
                             f"coefficients {spec.names}), got {initial_params!r}")
        missing = [p for p in problem.names0 if p not in initial_params]
        unknown = sorted(set(initial_params) - set(problem.names0) - set(spec.names))
        if missing or unknown:
            raise ValueError(f"initial_params needs {problem.names0} and may give the coefficients {spec.names}; "
                             f"missing {missing}, unknown {unknown}")
        vals = np.array([float(initial_params[p]) for p in problem.names0])
        if not np.all(np.isfinite(vals)) or np.any(vals <= 0):
            raise ValueError(f"initial_params must be finite and positive for {problem.names0}, got {vals}")
        theta0[:k0] = np.log(vals)
        for j, name in enumerate(spec.names):
            if name in initial_params:
                v = float(initial_params[name])
                if not math.isfinite(v):
                    raise ValueError(f"initial_params[{name!r}] must be finite, got {v}")
                theta0[k0 + j] = v
    phi0 = Ainv @ theta0

    def objective(phi):
        theta = A @ phi
        with np.errstate(all="ignore"):
            value, grad = problem.objective(theta)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e100, np.zeros_like(phi)
        return value, A.T @ grad

    res = optimize.minimize(
        objective, phi0, jac=True, method="L-BFGS-B", bounds=[(-_LOG_BOUND - 5, _LOG_BOUND + 5)] * K,
        options={"maxiter": maxiter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 30},
    )
    phi = res.x
    theta = A @ phi
    value, grad_phi = objective(phi)
    name = type(model).__name__
    labels = problem.names0 + spec.names
    if not np.isfinite(value) or value >= 1e99:
        raise ConvergenceError(
            f"{name}.fit: the log-likelihood is not finite at the optimiser's solution. Check the time unit of "
            "recency and T and the scale of the covariates, or pass initial_params."
        )
    edge = np.abs(theta) >= _LOG_BOUND - 1e-6
    if edge.any():
        which = [labels[i] for i in np.flatnonzero(edge)]
        raise ConvergenceError(
            f"{name}.fit: {which} ran off to the edge of the search box (the data do not identify them: for a "
            "coefficient, a covariate value whose customers all behave alike, e.g. none of them ever buys again). "
            "Try covariate_penalizer=0.01 (an L2 penalty on the coefficients), penalizer=0.001, fewer covariates "
            "or more data."
        )
    grad_ok = np.all(np.abs(grad_phi) < 1e-4)
    if not (res.success or grad_ok):
        raise ConvergenceError(
            f"{name}.fit did not converge: {res.message} (gradient {np.round(grad_phi, 6)}). Try other "
            "initial_params, a small penalizer or covariate_penalizer, or check the covariates' scale."
        )
    # observed information in phi (well scaled), then back to theta = A phi
    H = _hessian(lambda p: objective(p)[1] * problem.scale, phi)
    cov_phi = _invert(H, name, labels, A)
    cov = A @ cov_phi @ A.T
    cov = 0.5 * (cov + cov.T)
    model.params_ = pd.Series(np.exp(theta[:k0]), index=problem.names0, name="estimate", dtype=float)
    model.coefficients_ = pd.Series(theta[k0:], index=pd.Index(spec.names), name="estimate", dtype=float)
    model.log_likelihood_ = float(-problem.nll(theta)[0])
    model.n_obs_ = int(round(n_obs)) if abs(n_obs - round(n_obs)) < 1e-9 else float(n_obs)
    model.n_unique_ = int(n_unique)
    model.optimizer_result_ = {
        "message": str(res.message), "success": bool(res.success), "iterations": int(res.nit),
        "function_calls": int(res.nfev), "gradient": [float(g) for g in (A.T @ problem.objective(theta)[1])],
    }
    set_joint_covariance(model, cov)
    return model


def _hessian(gradient, z) -> np.ndarray:
    """Forward differences of an exact gradient (step 1e-6 relative), symmetrised."""
    k = len(z)
    H = np.empty((k, k))
    g0 = gradient(z)
    for i in range(k):
        h = 1e-6 * max(1.0, abs(z[i]))
        e = np.zeros(k)
        e[i] = h
        H[i] = (gradient(z + e) - g0) / h
    return 0.5 * (H + H.T)


def _invert(H: np.ndarray, name: str, labels: Sequence[str] = (), A: np.ndarray | None = None) -> np.ndarray:
    try:
        if not np.all(np.isfinite(H)):
            raise np.linalg.LinAlgError
        np.linalg.cholesky(H)
        cov = np.linalg.inv(H)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        which = ""
        if labels and np.all(np.isfinite(H)):
            direction = np.linalg.eigh(H)[1][:, 0]
            if A is not None:
                direction = A @ direction
            loads = np.abs(direction) / np.abs(direction).max()
            which = f" (the flat direction involves {[labels[i] for i in np.flatnonzero(loads > 0.3)]})"
        raise ConvergenceError(
            f"{name}.fit: the likelihood is flat at the optimum (the observed information is not positive definite), "
            f"so the data do not identify every parameter and coefficient{which}. Try covariate_penalizer=0.01, "
            "penalizer=0.001, fewer covariates or more data."
        ) from None
    return 0.5 * (cov + cov.T)


def set_joint_covariance(model, cov: np.ndarray) -> None:
    """Set ``covariance_log_`` (log parameters and coefficients), ``covariance_`` and ``standard_errors_``."""
    names0 = list(model.params_.index)
    labels = names0 + list(model.coefficients_.index)
    jac = np.concatenate([model.params_.to_numpy(), np.ones(len(model.coefficients_))])
    model.covariance_log_ = pd.DataFrame(cov, index=labels, columns=labels)
    model.covariance_ = pd.DataFrame(cov * np.outer(jac, jac), index=labels, columns=labels)
    model.standard_errors_ = pd.Series(np.sqrt(np.diag(model.covariance_.to_numpy())), index=labels,
                                       name="std_err")


# ---------------------------------------------------------------------------------------------
# the mixin: what a model with covariates does differently
# ---------------------------------------------------------------------------------------------


_COVARIATE_ATTRIBUTES = ("coefficients_", "_covariate_spec_", "_time_varying_")


class _CovariatePredictionData(_PredictionData):
    """Prediction inputs with each customer's covariates (one matrix per process)."""

    def __init__(self, x, t_x, T, index, Z: dict[str, np.ndarray]):
        super().__init__(x, t_x, T, index)
        self.Z = Z


class _DynamicPredictionData(_PredictionData):
    """Prediction inputs with each customer's covariate periods (time-varying covariates)."""

    def __init__(self, dyn, arrays):
        super().__init__(arrays.x, arrays.t_x, arrays.T, dyn.summary.index)
        self.dyn, self.arrays = dyn, arrays


class CovariateMixin:
    """Covariates for a :class:`~crm_models.clv.base.BaseModel` (see the module docstring).

    A model class lists this mixin before its base and sets ``_covariate_family``; its
    ``__init__`` takes ``<process>_covariates`` for each process of the family and
    ``covariate_penalizer``. Without covariates every method defers to the base class, so the
    model behaves exactly as it does without the mixin.
    """

    _covariate_family: ClassVar[CovariateFamily]

    # -- state -----------------------------------------------------------------------------
    def _uses_covariates(self) -> bool:
        return "coefficients_" in self.__dict__

    def _time_varying(self) -> bool:
        return bool(self.__dict__.get("_time_varying_", False))

    def _covariate_p_alive(self, p, pdata):
        """P(alive) per customer with covariates (static: per-customer parameters; time-varying: periods)."""
        if isinstance(pdata, _DynamicPredictionData):
            from crm_models.clv import _dynamic_covariates as dynamic

            params = [p[k] for k in self._param_names]
            return dynamic.log_likelihood(pdata.arrays, params, self.coefficients_.to_numpy())[1]
        key = ("p_alive", *p.values(), *self.coefficients_.to_numpy())
        return self._covariate_family.p_alive(self._row_params(p, pdata.Z), pdata, key)

    def _covariate_expected(self, p, pdata, t):
        """Conditional expected purchases per customer with covariates."""
        if isinstance(pdata, _DynamicPredictionData):
            from crm_models.clv import _dynamic_covariates as dynamic

            params = [p[k] for k in self._param_names]
            return dynamic.expected(pdata.arrays, pdata.dyn, self._covariate_spec_, params,
                                    self.coefficients_.to_numpy(), t)
        key = ("p_alive", *p.values(), *self.coefficients_.to_numpy())
        return self._covariate_family.expected(self._row_params(p, pdata.Z), pdata, t, key)

    def _covariate_spec(self) -> CovariateSpec:
        return CovariateSpec.from_model(self)

    def _forget_covariates(self) -> None:
        for name in _COVARIATE_ATTRIBUTES:
            self.__dict__.pop(name, None)

    def _check_params(self) -> None:
        super()._check_params()
        CovariateSpec.from_model(self)

    def _start_covariate_fit(self) -> CovariateSpec | None:
        """Check the hyper-parameters and return the spec when covariates are configured (else forget them)."""
        self._check_params()
        spec = self._covariate_spec()
        if not spec.active:
            self._forget_covariates()
            return None
        self._covariate_spec_ = spec
        return spec

    # -- data ------------------------------------------------------------------------------
    def _covariate_rows(self, data: pd.DataFrame, what: str = "data") -> dict[str, np.ndarray]:
        spec = self._covariate_spec_
        Z = covariate_matrix(data, spec.all_columns, what)
        return process_matrices(spec, Z)

    def _row_params(self, p: Mapping[str, float], Z: dict[str, np.ndarray]) -> dict[str, Any]:
        """The paper's parameters per customer (arrays for the linked ones) from ``p`` and the coefficients."""
        family, spec = self._covariate_family, self._covariate_spec_
        off = offsets(family, spec, self.coefficients_.to_numpy(), Z)
        return {k: (float(v) * np.exp(off[k]) if k in off else float(v)) for k, v in p.items()}

    def _profile_params(self, covariates, what: str = "covariates") -> dict[str, float]:
        """The paper's parameters (numbers) of one customer profile given as a mapping of covariate values."""
        spec = self._covariate_spec_
        if self._time_varying():
            raise ValueError(
                f"this {type(self).__name__} was fitted with time-varying covariates: predictions for a new customer "
                "would need the covariates of every future period; fit the model with static covariates for them"
            )
        if covariates is None:
            raise ValueError(
                f"this {type(self).__name__} was fitted with covariates {spec.all_columns}: pass covariates, a "
                "mapping of each covariate to its value for the new customer, e.g. "
                f"covariates={{{', '.join(repr(c) + ': 0' for c in spec.all_columns)}}}"
            )
        if isinstance(covariates, pd.DataFrame):
            if len(covariates) != 1:
                raise ValueError(f"{what} as a DataFrame must have exactly one row (one customer profile), "
                                 f"got {len(covariates)}")
            covariates = covariates.iloc[0].to_dict()
        if isinstance(covariates, pd.Series):
            covariates = covariates.to_dict()
        if not isinstance(covariates, Mapping):
            raise ValueError(f"{what} must be a mapping of covariate name to value, got {covariates!r}")
        missing = [c for c in spec.all_columns if c not in covariates]
        if missing:
            raise ValueError(f"{what} lacks the covariate(s) {missing} (this model uses {spec.all_columns})")
        values = []
        for c in spec.all_columns:
            v = covariates[c]
            if isinstance(v, (bool, np.bool_)):
                v = float(v)
            if not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(float(v)):
                raise ValueError(f"{what}[{c!r}] must be a finite number, got {v!r}")
            values.append(float(v))
        Z = process_matrices(spec, np.asarray(values, dtype=float)[None, :])
        rows = self._row_params(self.params_.to_dict(), Z)
        return {k: float(np.asarray(v).ravel()[0]) for k, v in rows.items()}

    def _no_profile(self, covariates) -> None:
        if covariates is not None:
            raise ValueError(f"covariates were given, but this {type(self).__name__} was fitted without covariates")

    # -- statistics ------------------------------------------------------------------------
    def _n_free(self) -> int:
        return len(self._param_names) + (len(self.coefficients_) if self._uses_covariates() else 0)

    @property
    def aic_(self) -> float:
        """Akaike information criterion, ``2k - 2 log L`` (float; lower is better; k counts the coefficients).

        Returns
        -------
        float
        """
        self._check_fitted()
        return 2 * self._n_free() - 2 * self.log_likelihood_

    @property
    def bic_(self) -> float:
        """Bayesian information criterion, ``k log n - 2 log L`` (float; lower is better; k counts the coefficients).

        Returns
        -------
        float
        """
        self._check_fitted()
        return self._n_free() * math.log(self.n_obs_) - 2 * self.log_likelihood_

    def summary(self, alpha: float = 0.05) -> Summary:
        """Estimates, standard errors and intervals, with log-likelihood, AIC, BIC and n.

        With covariates the table also holds each coefficient (``process.column``) with its
        ``z`` statistic and two-sided ``p_value`` for "no effect" (coefficient = 0), and a
        normal interval; ``z`` and ``p_value`` are not defined for the base parameters (NaN).

        Parameters
        ----------
        alpha : float
            1 - the coverage of the intervals (0.05 gives 95% intervals).

        Returns
        -------
        crm_models.base.Summary
            Columns ``estimate``, ``std_err``, ``lower``, ``upper`` (and ``z``, ``p_value`` with
            covariates).
        """
        if not self._uses_covariates():
            return super().summary(alpha)
        self._check_fitted()
        alpha = _check_alpha(alpha)
        zq = float(stats.norm.ppf(1 - alpha / 2))
        k0 = len(self._param_names)
        se_all = np.sqrt(np.diag(self.covariance_log_.to_numpy()))
        est0 = self.params_.to_numpy()
        coef = self.coefficients_.to_numpy()
        se_c = se_all[k0:]
        z = coef / se_c
        table = pd.DataFrame(
            {
                "estimate": np.concatenate([est0, coef]),
                "std_err": self.standard_errors_.to_numpy(),
                "z": np.concatenate([np.full(k0, np.nan), z]),
                "p_value": np.concatenate([np.full(k0, np.nan), 2 * stats.norm.sf(np.abs(z))]),
                "lower": np.concatenate([est0 * np.exp(-zq * se_all[:k0]), coef - zq * se_c]),
                "upper": np.concatenate([est0 * np.exp(zq * se_all[:k0]), coef + zq * se_c]),
            },
            index=pd.Index(list(self.params_.index) + list(self.coefficients_.index), name="parameter"),
        )
        spec = self._covariate_spec_
        stats_ = {
            "Model": type(self).__name__,
            "No. observations": self.n_obs_,
            "Log-likelihood": self.log_likelihood_,
            "AIC": self.aic_,
            "BIC": self.bic_,
            "Penalizer": float(self.penalizer),
            "Covariate penalizer": (next(iter(spec.penalty.values())) if len(set(spec.penalty.values())) == 1
                                    else ", ".join(f"{p} {v:g}" for p, v in spec.penalty.items())),
            "Interval level": _level(alpha),
        }
        family = self._covariate_family
        links = "; ".join(
            f"{p}: " + ", ".join(f"{param} x exp({'-' if s < 0 else ''}g'z)" for param, s in family.process_links(p))
            for p in spec.processes
        )
        notes = [
            f"Base parameters are those of a customer whose covariates are all 0; a coefficient g acts as {links}. "
            "A positive coefficient means " + "; ".join(f"{p}: {PROCESS_MEANING[p]}" for p in spec.processes) + ".",
            "z and p_value test 'no effect' (coefficient = 0); they are not defined for the base parameters (NaN).",
            "Std. errors from the observed information (numerical Hessian of the exact gradient), mapped to the "
            "natural scale of the base parameters by the delta method.",
            f"lower and upper bound {_level(alpha)} intervals: exp(log estimate -/+ {zq:.3f} se) for the base "
            f"parameters, estimate -/+ {zq:.3f} se for the coefficients.",
        ]
        if self.penalizer or any(spec.penalty.values()):
            notes.append("Fitted with an L2 penalty: estimates are shrunk (log-parameters towards 0, coefficients "
                         "towards no effect), so the tests and intervals are approximate.")
        if self._time_varying():
            notes.insert(1, "Time-varying covariates (Bachmann, Meierer & Näf 2021): z changes from period to period; "
                            "the coefficients scale the purchase rate and the dropout rate of each period.")
        kind = "time-varying covariates" if self._time_varying() else "covariates"
        return Summary(f"{self._title or type(self).__name__} with {kind}", table, stats_, notes)

    def sample_params(self, n_draws: int = 1000, random_state=0) -> pd.DataFrame:
        """Draws of the parameters (and coefficients) from their asymptotic distribution.

        (log params, coefficients) ~ Normal(estimates, ``covariance_log_``), so every drawn
        base parameter is positive.

        Parameters
        ----------
        n_draws : int
            Number of draws.
        random_state : None, int or numpy.random.Generator
            Seed or generator.

        Returns
        -------
        pandas.DataFrame
            One row per draw; the paper's parameters, then the coefficients (``process.column``).
        """
        if not self._uses_covariates():
            return super().sample_params(n_draws, random_state)
        self._check_fitted()
        n_draws = _check_count(n_draws, "n_draws")
        rng = as_generator(random_state)
        mean = np.concatenate([np.log(self.params_.to_numpy()), self.coefficients_.to_numpy()])
        draws = rng.multivariate_normal(mean, self.covariance_log_.to_numpy(), size=n_draws, method="cholesky")
        k0 = len(self._param_names)
        draws[:, :k0] = np.exp(draws[:, :k0])
        return pd.DataFrame(draws, columns=list(self.params_.index) + list(self.coefficients_.index))

    def interval(self, quantity: str, *args, alpha: float = 0.1, n_draws: int = 200, random_state=0, **kwargs):
        """Parameter-uncertainty interval of a prediction: quantiles over parameter (and coefficient) draws.

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
            Columns ``estimate``, ``lower``, ``upper``, indexed like the point prediction.
        """
        if not self._uses_covariates():
            return super().interval(quantity, *args, alpha=alpha, n_draws=n_draws, random_state=random_state,
                                    **kwargs)
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
        draws = self.sample_params(n_draws, random_state).to_numpy()
        k0 = len(self._param_names)
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        values = np.empty((len(draws), len(est)))
        for i, row in enumerate(draws):
            twin.params_ = pd.Series(row[:k0], index=self.params_.index, name="estimate")
            twin.coefficients_ = pd.Series(row[k0:], index=self.coefficients_.index, name="estimate")
            values[i] = np.asarray(method(twin, *args, **kwargs), dtype=float)
        lower, upper = np.quantile(values, [alpha / 2, 1 - alpha / 2], axis=0)
        return pd.DataFrame({"estimate": est, "lower": lower, "upper": upper}, index=index)

    # -- persistence -----------------------------------------------------------------------
    def _fitted_state(self) -> dict[str, Any]:
        if not self._uses_covariates():
            return super()._fitted_state()
        return {
            "params": {k: float(v) for k, v in self.params_.items()},
            "coefficients": {k: float(v) for k, v in self.coefficients_.items()},
            "covariance_log": self.covariance_log_.to_numpy(),
            "log_likelihood": float(self.log_likelihood_),
            "n_obs": self.n_obs_,
            "n_unique": int(self.n_unique_),
            "optimizer": dict(self.optimizer_result_),
            "time_varying": self._time_varying(),
        }

    def _restore(self, fitted: FieldReader) -> None:
        spec = CovariateSpec.from_model(self)
        if not spec.active:
            if fitted.has("coefficients"):
                fitted.fail("coefficients", "must be absent: the hyper-parameters name no covariates")
            self._forget_covariates()
            super()._restore(fitted)
            return
        names = list(self._param_names)
        theta = read_params(fitted, names)
        coefs = fitted.child("coefficients")
        if coefs.keys() != spec.names:
            fitted.fail("coefficients", f"must hold the coefficients {spec.names} (from the hyper-parameters) in "
                                        f"that order, got {coefs.keys()}")
        gamma = np.array([coefs.number(c) for c in spec.names], dtype=float)
        cov, log_likelihood, n_obs, n_unique, optimizer = read_fit_record(fitted, len(names) + len(spec.names))
        time_varying = fitted.raw("time_varying")
        allowed = (False, True) if getattr(self._covariate_family, "dynamic", False) else (False,)
        if not isinstance(time_varying, bool) or time_varying not in allowed:
            fitted.fail("time_varying", f"must be {' or '.join(str(a).lower() for a in allowed)}, got {time_varying!r}")
        self._covariate_spec_ = spec
        self._time_varying_ = time_varying
        self.params_ = pd.Series(theta, index=names, name="estimate", dtype=float)
        self.coefficients_ = pd.Series(gamma, index=pd.Index(spec.names), name="estimate", dtype=float)
        self.log_likelihood_ = float(log_likelihood)
        self.n_obs_ = int(n_obs) if float(n_obs).is_integer() else float(n_obs)
        self.n_unique_ = n_unique
        self.optimizer_result_ = optimizer
        set_joint_covariance(self, cov)


class RepeatPurchaseCovariateMixin(CovariateMixin):
    """Covariates for the one-row-per-customer models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB).

    ``fit`` reads the covariate columns from the data; every per-customer prediction uses each
    customer's covariates (from the same columns of the data it is given); the new-customer
    predictions take the new customer's covariates.
    """

    def fit(self, data: pd.DataFrame, *, weights_col: str | None = None,
            initial_params: Mapping[str, float] | None = None):
        """Fit by maximum likelihood to one row per customer (or per group, with ``weights_col``).

        With covariates (the ``*_covariates`` hyper-parameters) the covariate columns are read
        from ``data`` too; rows that share frequency, recency, length and covariates are
        evaluated once.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns ``frequency_col``, ``recency_col``, the length of observation
            :attr:`length_col` and the covariate columns.
        weights_col : str, optional
            Column with the number of customers each row stands for (aggregated data).
        initial_params : mapping, optional
            Starting values on the natural scale, keyed by the paper's names (and, with
            covariates, optionally by coefficient names ``process.column``).

        Returns
        -------
        self
        """
        from crm_models.clv.covariates import DynamicCovariates

        dynamic = isinstance(data, DynamicCovariates)
        spec = self._start_covariate_fit()
        if dynamic:
            if not getattr(self._covariate_family, "dynamic", False):
                raise TypeError(f"{type(self).__name__} has no time-varying covariates; only ParetoNBD fits a "
                                "DynamicCovariates")
            if spec is None:
                raise ValueError("a DynamicCovariates needs covariates: set purchase_covariates, dropout_covariates "
                                 "or shared_covariates to columns of its periods")
            if weights_col is not None:
                raise ValueError("weights_col does not apply to a DynamicCovariates (one row per customer)")
            from crm_models.clv import _dynamic_covariates

            return _dynamic_covariates.fit(self, data, spec, initial_params)
        self.__dict__.pop("_time_varying_", None)
        if spec is None:
            return super().fit(data, weights_col=weights_col, initial_params=initial_params)
        x, t_x, T = self._validate(data)
        weights = None
        if weights_col is not None:
            require_columns(data, [weights_col])
            weights = _as_float_array(data, weights_col, "data")
            fail_rows(data, weights < 0, weights_col, "must not be negative (customer counts)")
            if weights.sum() <= 0:
                raise DataError(weights_col, "sums to 0: there is nothing to fit")
        Z = covariate_matrix(data, spec.all_columns)
        w = np.ones(len(x)) if weights is None else weights
        check_identifiable(data, spec, Z, w > 0)
        cols = {"x": x, "t_x": t_x, "T": T, **{f"z{j}": Z[:, j] for j in range(Z.shape[1])}}
        unique, counts, _ = compress(cols, weights)
        keep = counts > 0
        Zu = np.column_stack([unique[f"z{j}"][keep] for j in range(Z.shape[1])])
        Zg, gid = patterns(Zu)
        arrays = self._covariate_family.make_arrays(unique["x"][keep], unique["t_x"][keep], unique["T"][keep], gid)
        return fit_covariates(self, arrays, counts[keep], float(counts.sum()), Zg, Zu, initial_params)

    def _prediction_data(self, data: pd.DataFrame):
        from crm_models.clv.covariates import DynamicCovariates

        if isinstance(data, DynamicCovariates):
            if not self._time_varying():
                raise TypeError(f"this {type(self).__name__} was not fitted with time-varying covariates: pass a "
                                "DataFrame of customers")
            from crm_models.clv._dynamic_covariates import DynamicArrays

            return _DynamicPredictionData(data, DynamicArrays(data, self._covariate_spec_))
        if self._time_varying():
            raise TypeError(f"this {type(self).__name__} was fitted with time-varying covariates: pass a "
                            "DynamicCovariates (crm_models.clv.dynamic_covariates) with the customers' periods")
        if not self._uses_covariates():
            return super()._prediction_data(data)
        x, t_x, T = self._validate(data)
        return _CovariatePredictionData(x, t_x, T, data.index, self._covariate_rows(data))

    def expected_purchases_new_customer(self, t, covariates: Mapping[str, float] | None = None) -> pd.Series:
        """Unconditional E[X(t)]: expected repeat purchases of a newly acquired customer within ``t``.

        Parameters
        ----------
        t : float or array_like
            Length(s) of time since the first purchase, in the data's time unit (whole numbers
            of opportunities for a discrete-time model).
        covariates : mapping, optional
            The new customer's value of every covariate of the model (required when it was
            fitted with covariates), e.g. ``{"female": 1, "online": 0}``.

        Returns
        -------
        pandas.Series
            ``expected_purchases`` indexed by ``t`` (one entry for a single ``t``).
        """
        self._check_fitted()
        if not self._uses_covariates():
            self._no_profile(covariates)
            return super().expected_purchases_new_customer(t)
        p = self._profile_params(covariates)
        ts = np.array([self._check_time(v) for v in np.atleast_1d(np.asarray(t, dtype=object))])
        return self._series(self._expected_new(p, ts.astype(float)), pd.Index(ts, name="t"), "expected_purchases")

    def probability_of_n_purchases(self, t, n, covariates: Mapping[str, float] | None = None) -> pd.Series:
        """Probability that a newly acquired customer makes exactly ``n`` repeat purchases within ``t``.

        Parameters
        ----------
        t : float
            Length of time since the first purchase, in the data's time unit.
        n : int or array_like of int
            Numbers of repeat purchases (whole numbers >= 0).
        covariates : mapping, optional
            The new customer's value of every covariate of the model (required when it was
            fitted with covariates).

        Returns
        -------
        pandas.Series
            ``probability`` (0-1) indexed by ``n``.
        """
        self._check_fitted()
        if not self._uses_covariates():
            self._no_profile(covariates)
            return super().probability_of_n_purchases(t, n)
        p = self._profile_params(covariates)
        t = self._check_time(t)
        ns = np.atleast_1d(np.asarray(n))
        if ns.dtype == bool or not np.issubdtype(ns.dtype, np.number) or np.any(~np.isfinite(ns)) or np.any(ns < 0) \
                or np.any(ns != np.floor(ns)):
            raise ValueError(f"n must be whole numbers >= 0, got {n!r}")
        ns = ns.astype(np.int64)
        return self._series(self._p_n(p, t, ns), pd.Index(ns, name="n"), "probability")

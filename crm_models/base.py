"""One estimator contract, one result type and one save format for every model of crm_models.

:class:`CRMEstimator`
    scikit-learn's ``BaseEstimator`` plus what every model, scorer and segmenter here shares:
    ``__init__`` stores hyper-parameters unchanged (so ``get_params``, ``set_params`` and
    ``sklearn.base.clone`` work); ``fit`` validates, learns and returns ``self``; everything learned
    ends in ``_``; using an estimator before ``fit`` raises :class:`~crm_models.errors.NotFittedError`;
    ``save(path)`` / ``Class.load(path)`` write and read the one versioned JSON format below.
:class:`Summary`
    what every ``summary()`` returns: a titled table with statistics and notes that prints as
    text, renders as HTML in Jupyter and converts with ``to_frame()``.

The JSON format (``format_version`` :data:`FORMAT_VERSION`)::

    {"format": "crm_models", "format_version": 1, "class": "BetaGeo",
     "crm_models_version": "0.2.0",
     "hyper_parameters": {...},     # get_params(deep=False), the arguments of __init__
     "fitted": {...}}               # what the class learned, written by _fitted_state()

Loading checks the format, the version and the class, rebuilds the estimator from its
hyper-parameters and hands ``fitted`` to the class's ``_restore`` through a :class:`FieldReader`,
which validates every field (type, shape, finiteness, range; covariances symmetric and
positive semi-definite) and raises :class:`~crm_models.errors.ModelFileError` naming the field.
Nothing is unpickled, nothing runs, and no third-party private state is written.
pandas objects, numpy arrays, tuples and ranges are written as tagged JSON objects
(``{"$frame": ...}``, ``{"$series": ...}``, ``{"$ndarray": ...}``, ``{"$tuple": [...]}``,
``{"$range": [...]}``) and non-finite numbers as ``{"$float": "inf"}`` (or ``"-inf"``, ``"nan"``),
so a string that happens to read "inf" stays a string.

A subclass supplies ``_fitted_attribute`` (an attribute that exists once fitted),
``_fitted_state()`` (a dict of what it learned) and ``_restore(reader)`` (the inverse, reading
every field through the reader).

Examples
--------
>>> from sklearn.base import clone
>>> from crm_models.clv import BetaGeo
>>> model = BetaGeo(penalizer=0.01)
>>> clone(model).get_params()["penalizer"]
0.01
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from crm_models.errors import ModelFileError, NotFittedError

__all__ = [
    "CRMEstimator",
    "Summary",
    "FieldReader",
    "FORMAT",
    "FORMAT_VERSION",
    "load",
    "as_generator",
    "encode",
]

FORMAT = "crm_models"
#: Version of the JSON format; files of another version are refused at load.
FORMAT_VERSION = 1

_REGISTRY: dict[str, type[CRMEstimator]] = {}


def as_generator(random_state) -> np.random.Generator:
    """A numpy ``Generator`` from a ``random_state`` argument (scikit-learn's semantics).

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        ``None`` draws fresh entropy; an int seeds a new generator (the same int, the same
        draws); a ``Generator`` is used as it is; a legacy ``RandomState`` seeds a new generator
        from its next draw.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> as_generator(0).integers(10, size=3).tolist() == as_generator(0).integers(10, size=3).tolist()
    True
    """
    if random_state is None or isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


# ----------------------------------------------------------------------------------------------
# Summary: the one result type of summary()
# ----------------------------------------------------------------------------------------------


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.3f}" if math.isfinite(v) else str(float(v))
    return str(v)


class Summary:
    """A titled table with statistics and notes: text in a terminal, HTML in Jupyter, a DataFrame on demand.

    Every ``summary()`` in crm_models returns one (statsmodels style).

    Parameters
    ----------
    title : str
        What the table is about.
    table : pandas.DataFrame
        The body.
    stats : mapping, optional
        Label -> value pairs shown above the table (fit statistics, counts).
    notes : sequence of str, optional
        Caveats and definitions, numbered below the table.
    digits : int
        Decimals of floating-point cells in the text and HTML renderings.

    Examples
    --------
    >>> s = Summary("Two numbers", pd.DataFrame({"value": [1.0, 2.5]}, index=["a", "b"]), {"n": 2})
    >>> s.to_frame()["value"].tolist()
    [1.0, 2.5]
    """

    def __init__(
        self,
        title: str,
        table: pd.DataFrame,
        stats: Mapping[str, Any] | None = None,
        notes: Sequence[str] = (),
        *,
        digits: int = 4,
    ) -> None:
        self.title = title
        self.table = table
        self.stats = dict(stats or {})
        self.notes = list(notes)
        self.digits = digits

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (a copy).

        Returns
        -------
        pandas.DataFrame
        """
        return self.table.copy()

    def _float(self, v) -> str:
        return f"{v:,.{self.digits}f}"

    def __repr__(self) -> str:
        body = self.table.to_string(float_format=self._float)
        width = max(64, max((len(line) for line in body.splitlines()), default=0))
        lines = [self.title.center(width), "=" * width]
        items = list(self.stats.items())
        for i in range(0, len(items), 2):
            lines.append("".join(f"{k + ':':<20}{_fmt(v):>12}  " for k, v in items[i : i + 2]).rstrip())
        if items:
            lines.append("-" * width)
        lines.append(body)
        lines.append("=" * width)
        lines.extend(f"[{i + 1}] {n}" for i, n in enumerate(self.notes))
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self) -> str:
        stats = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in self.stats.items()
        )
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<div><strong>{html.escape(self.title)}</strong>"
            + (f"<table>{stats}</table>" if stats else "")
            + self.table.to_html(float_format=self._float)
            + (f"<ol style='font-size:smaller'>{notes}</ol>" if notes else "")
            + "</div>"
        )


# ----------------------------------------------------------------------------------------------
# JSON encoding
# ----------------------------------------------------------------------------------------------


_NONFINITE = ("inf", "-inf", "nan")


def _float_out(v: float):
    v = float(v)
    if math.isfinite(v):
        return v
    return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}


def _scalar_out(v):
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return _float_out(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def _list_out(values) -> list:
    return [_scalar_out(v) for v in values]


def encode(value, path: str = "value"):
    """``value`` as plain JSON-able data, with pandas objects, arrays, tuples and ranges tagged.

    Parameters
    ----------
    value : object
        None, bool, int, float, str, list, tuple, range, dict with str keys, numpy array or
        scalar, pandas Series or DataFrame (with scalar cells), or a nesting of these.
    path : str
        Where the value sits, for the error message.

    Returns
    -------
    object
        Plain data that :func:`json.dumps` writes without ``NaN`` or ``Infinity``.

    Examples
    --------
    >>> encode((12, "M"))
    {'$tuple': [12, 'M']}
    >>> encode(float("inf"))
    {'$float': 'inf'}
    """
    try:
        if isinstance(value, pd.DataFrame):
            return {
                "$frame": {
                    "index": _list_out(value.index),
                    "index_name": _scalar_out(value.index.name),
                    "columns": _list_out(value.columns),
                    "data": [_list_out(row) for row in value.itertuples(index=False, name=None)],
                }
            }
        if isinstance(value, pd.Series):
            return {
                "$series": {
                    "name": _scalar_out(value.name),
                    "index": _list_out(value.index),
                    "index_name": _scalar_out(value.index.name),
                    "values": _list_out(value.tolist()),
                }
            }
        if isinstance(value, np.ndarray):
            return {"$ndarray": {"shape": list(value.shape), "data": _list_out(value.ravel().tolist())}}
        if isinstance(value, range):
            return {"$range": [value.start, value.stop, value.step]}
        if isinstance(value, tuple):
            return {"$tuple": [encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [encode(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise TypeError(f"key {k!r} is not a string")
                out[k] = encode(v, f"{path}.{k}")
            return out
        return _scalar_out(value)
    except TypeError as exc:
        raise TypeError(f"{path}: cannot be saved as JSON ({exc})") from None


def _is_nonfinite_tag(v) -> bool:
    return isinstance(v, Mapping) and len(v) == 1 and v.get("$float") in _NONFINITE


def _scalar_in(v, where: str, source: str, *, allow_nonfinite: bool = True):
    if _is_nonfinite_tag(v):
        if not allow_nonfinite:
            raise ModelFileError(where, f"must be finite, got {v['$float']!r}", source=source)
        return float(v["$float"])
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    raise ModelFileError(where, f"must be a plain value (number, string, true/false or null), got {v!r}", source=source)


def _decode(value, where: str, source: str):
    """Inverse of :func:`encode` for hyper-parameters and generic fields (structure checked)."""
    if isinstance(value, list):
        return [_decode(v, f"{where}[{i}]", source) for i, v in enumerate(value)]
    if _is_nonfinite_tag(value):
        return float(value["$float"])
    if isinstance(value, Mapping):
        if len(value) == 1:
            (tag, body), = value.items()
            if tag == "$tuple":
                if not isinstance(body, list):
                    raise ModelFileError(where, "$tuple must hold a list", source=source)
                return tuple(_decode(v, f"{where}[{i}]", source) for i, v in enumerate(body))
            if tag == "$range":
                if not (isinstance(body, list) and len(body) == 3 and all(type(b) is int for b in body)):
                    raise ModelFileError(where, "$range must hold [start, stop, step] as integers", source=source)
                if body[2] == 0:
                    raise ModelFileError(where, "$range step must not be 0", source=source)
                return range(*body)
            if tag == "$ndarray":
                return _ndarray_in(body, where, source)
            if tag == "$series":
                return _series_in(body, where, source)
            if tag == "$frame":
                return _frame_in(body, where, source)
        return {str(k): _decode(v, f"{where}.{k}", source) for k, v in value.items()}
    return _scalar_in(value, where, source)


def _ndarray_in(body, where, source) -> np.ndarray:
    if not isinstance(body, Mapping) or set(body) != {"shape", "data"}:
        raise ModelFileError(where, "$ndarray must hold exactly 'shape' and 'data'", source=source)
    shape, data = body["shape"], body["data"]
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise ModelFileError(where, f"$ndarray shape must be a list of non-negative integers, got {shape!r}", source=source)
    if not isinstance(data, list) or len(data) != math.prod(shape):
        raise ModelFileError(where, f"$ndarray data must be a flat list of {math.prod(shape)} values", source=source)
    values = [_scalar_in(v, f"{where}.data[{i}]", source) for i, v in enumerate(data)]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        arr = np.array(values, dtype=float)
    else:
        arr = np.array(values, dtype=object)
    return arr.reshape(shape)


def _index_in(values, name, where, source) -> pd.Index:
    if not isinstance(values, list):
        raise ModelFileError(where, "must be a list", source=source)
    vals = [_scalar_in(v, f"{where}[{i}]", source) for i, v in enumerate(values)]
    return pd.Index(vals, name=_scalar_in(name, where, source), dtype=object if vals else None).infer_objects()


def _series_in(body, where, source) -> pd.Series:
    keys = {"name", "index", "index_name", "values"}
    if not isinstance(body, Mapping) or set(body) != keys:
        raise ModelFileError(where, f"$series must hold exactly {sorted(keys)}", source=source)
    index = _index_in(body["index"], body["index_name"], f"{where}.index", source)
    values = body["values"]
    if not isinstance(values, list) or len(values) != len(index):
        raise ModelFileError(where, f"$series values must be a list of {len(index)} values (one per index entry)",
                             source=source)
    vals = [_scalar_in(v, f"{where}.values[{i}]", source) for i, v in enumerate(values)]
    return pd.Series(vals, index=index, name=_scalar_in(body["name"], where, source), dtype=object).infer_objects()


def _frame_in(body, where, source) -> pd.DataFrame:
    keys = {"index", "index_name", "columns", "data"}
    if not isinstance(body, Mapping) or set(body) != keys:
        raise ModelFileError(where, f"$frame must hold exactly {sorted(keys)}", source=source)
    index = _index_in(body["index"], body["index_name"], f"{where}.index", source)
    columns = _index_in(body["columns"], None, f"{where}.columns", source)
    data = body["data"]
    if not isinstance(data, list) or len(data) != len(index):
        raise ModelFileError(where, f"$frame data must be a list of {len(index)} rows", source=source)
    rows = []
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            raise ModelFileError(f"{where}.data[{i}]", f"must be a list of {len(columns)} values", source=source)
        rows.append([_scalar_in(v, f"{where}.data[{i}][{j}]", source) for j, v in enumerate(row)])
    frame = pd.DataFrame(rows, index=index, columns=columns, dtype=object)
    return frame.infer_objects()


class FieldReader:
    """Validated access to the fields of a saved document; every failure names the field.

    Parameters
    ----------
    doc : mapping
        The (part of the) JSON document to read.
    path : str
        Where ``doc`` sits in the whole document, for messages.
    source : str
        Where the document came from (a path), for messages.

    Examples
    --------
    >>> r = FieldReader({"n": 3, "p": [0.2, 0.8]}, "fitted")
    >>> r.number("n", integer=True, low=1), r.array("p", shape=(2,), low=0, high=1).tolist()
    (3, [0.2, 0.8])
    >>> r.number("p")
    Traceback (most recent call last):
    ...
    crm_models.errors.ModelFileError: document: field fitted.p must be a number, got [0.2, 0.8]
    """

    def __init__(self, doc: Mapping, path: str = "", source: str = "document") -> None:
        if not isinstance(doc, Mapping):
            raise ModelFileError(path or "(top level)", f"must be a JSON object, got {type(doc).__name__}", source=source)
        self.doc = doc
        self.path = path
        self.source = source

    def where(self, key: str) -> str:
        """The full path of ``key`` in the document.

        Parameters
        ----------
        key : str
            A key of this reader's object.

        Returns
        -------
        str
            E.g. ``"fitted.params"``.
        """
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, rule: str):
        """Raise :class:`~crm_models.errors.ModelFileError` for ``key`` breaking ``rule``.

        Parameters
        ----------
        key : str
            The offending key.
        rule : str
            The rule it breaks, e.g. ``"must be positive, got -1"``.
        """
        raise ModelFileError(self.where(key), rule, source=self.source)

    def keys(self) -> list[str]:
        """The keys present.

        Returns
        -------
        list of str
        """
        return list(self.doc)

    def raw(self, key: str):
        """The raw JSON value of ``key`` (a missing key is refused).

        Parameters
        ----------
        key : str
            The key.

        Returns
        -------
        object
            The JSON value as parsed (dict, list, str, number, bool or None).
        """
        if key not in self.doc:
            self.fail(key, "is missing")
        return self.doc[key]

    def has(self, key: str) -> bool:
        """Whether ``key`` is present.

        Parameters
        ----------
        key : str
            The key.

        Returns
        -------
        bool
        """
        return key in self.doc

    def child(self, key: str) -> FieldReader:
        """A reader of the JSON object at ``key``.

        Parameters
        ----------
        key : str
            The key of a nested object.

        Returns
        -------
        FieldReader
        """
        value = self.raw(key)
        if not isinstance(value, Mapping):
            self.fail(key, f"must be a JSON object, got {value!r}")
        return FieldReader(value, self.where(key), self.source)

    def estimator(self, key: str, cls: type[CRMEstimator]) -> CRMEstimator:
        """A nested estimator saved with ``to_dict`` at ``key``, rebuilt and validated by ``cls.from_dict``.

        Parameters
        ----------
        key : str
            The key of the nested document.
        cls : type
            The class it must hold (or a subclass of it).

        Returns
        -------
        CRMEstimator
            The fitted estimator.
        """
        return cls.from_dict(self.raw(key), source=f"{self.source} (in {self.where(key)})")

    def value(self, key: str):
        """The decoded value of ``key``: tagged objects rebuilt and their structure checked, no range checks.

        Parameters
        ----------
        key : str
            The key.

        Returns
        -------
        object
            Plain values, lists, dicts, tuples, ranges, numpy arrays, pandas Series or DataFrames.
        """
        return _decode(self.raw(key), self.where(key), self.source)

    def number(
        self,
        key: str,
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        high_open: bool = False,
        integer: bool = False,
        allow_none: bool = False,
        allow_inf: bool = False,
    ):
        """A number in ``[low, high]`` (open ends as asked), finite unless ``allow_inf``.

        Parameters
        ----------
        key : str
            The key.
        low, high : float, optional
            Bounds.
        low_open, high_open : bool
            Exclude the bound itself.
        integer : bool
            Require a whole number (returned as ``int``).
        allow_none : bool
            Accept ``null`` (returned as ``None``).
        allow_inf : bool
            Accept a tagged infinity.

        Returns
        -------
        int, float or None
        """
        v = self.raw(key)
        if v is None and allow_none:
            return None
        if allow_inf and _is_nonfinite_tag(v) and v["$float"] != "nan":
            v = float(v["$float"])
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(key, f"must be a number, got {v!r}")
        if integer and not (isinstance(v, int) or (math.isfinite(v) and float(v).is_integer())):
            self.fail(key, f"must be a whole number, got {v!r}")
        if not allow_inf and not math.isfinite(v):
            self.fail(key, f"must be finite, got {v!r}")
        if low is not None and (v < low or (low_open and v == low)):
            self.fail(key, f"must be {'>' if low_open else '>='} {low}, got {v!r}")
        if high is not None and (v > high or (high_open and v == high)):
            self.fail(key, f"must be {'<' if high_open else '<='} {high}, got {v!r}")
        return int(v) if integer and math.isfinite(v) else v

    def string(self, key: str, choices: Sequence[str] | None = None, *, allow_none: bool = False):
        """A string (one of ``choices`` if given).

        Parameters
        ----------
        key : str
            The key.
        choices : sequence of str, optional
            The values allowed.
        allow_none : bool
            Accept ``null`` (returned as ``None``).

        Returns
        -------
        str or None
        """
        v = self.raw(key)
        if v is None and allow_none:
            return None
        if not isinstance(v, str):
            self.fail(key, f"must be a string, got {v!r}")
        if choices is not None and v not in choices:
            self.fail(key, f"must be one of {list(choices)}, got {v!r}")
        return v

    def strings(self, key: str, *, length: int | None = None, unique: bool = False) -> list[str]:
        """A list of strings.

        Parameters
        ----------
        key : str
            The key.
        length : int, optional
            The number of strings required.
        unique : bool
            Refuse repeated values.

        Returns
        -------
        list of str
        """
        v = self.raw(key)
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            self.fail(key, f"must be a list of strings, got {v!r}")
        if length is not None and len(v) != length:
            self.fail(key, f"must hold {length} strings, got {len(v)}")
        if unique and len(set(v)) != len(v):
            self.fail(key, "must not repeat a value")
        return list(v)

    def _check_values(self, key: str, arr: np.ndarray, finite: bool, low, high) -> None:
        if arr.dtype == object:
            self.fail(key, "must hold numbers only")
        if finite and not np.all(np.isfinite(arr)):
            self.fail(key, "must hold finite numbers only")
        if low is not None and np.any(arr < low):
            self.fail(key, f"must hold numbers >= {low}, found {float(np.nanmin(arr))!r}")
        if high is not None and np.any(arr > high):
            self.fail(key, f"must hold numbers <= {high}, found {float(np.nanmax(arr))!r}")

    def array(
        self,
        key: str,
        *,
        shape: tuple | None = None,
        ndim: int | None = None,
        finite: bool = True,
        low: float | None = None,
        high: float | None = None,
    ) -> np.ndarray:
        """A float array (a ``$ndarray`` or a nested list), with shape and range checks.

        Parameters
        ----------
        key : str
            The key.
        shape : tuple, optional
            The shape required.
        ndim : int, optional
            The number of dimensions required.
        finite : bool
            Refuse infinities and NaN.
        low, high : float, optional
            Bounds on every value.

        Returns
        -------
        numpy.ndarray
        """
        v = self.raw(key)
        if isinstance(v, Mapping) and set(v) == {"$ndarray"}:
            arr = _ndarray_in(v["$ndarray"], self.where(key), self.source)
        elif isinstance(v, list):
            try:
                arr = np.array(
                    [
                        [float(_scalar_in(c, self.where(key), self.source)) for c in row]
                        if isinstance(row, list)
                        else float(_scalar_in(row, self.where(key), self.source))
                        for row in v
                    ],
                    dtype=float,
                )
            except (TypeError, ValueError):
                self.fail(key, "must be a list (or list of lists) of numbers")
        else:
            self.fail(key, f"must be an array of numbers, got {v!r}")
        if shape is not None and arr.shape != tuple(shape):
            self.fail(key, f"must have shape {tuple(shape)}, got {arr.shape}")
        if ndim is not None and arr.ndim != ndim:
            self.fail(key, f"must have {ndim} dimension(s), got {arr.ndim}")
        self._check_values(key, arr, finite, low, high)
        return arr.astype(float)

    def covariance(self, key: str, k: int) -> np.ndarray:
        """A ``k x k`` covariance matrix: finite, symmetric and positive semi-definite.

        Parameters
        ----------
        key : str
            The key.
        k : int
            The number of rows and columns.

        Returns
        -------
        numpy.ndarray
        """
        cov = self.array(key, shape=(k, k))
        scale = max(1.0, float(np.max(np.abs(cov)))) if cov.size else 1.0
        if not np.allclose(cov, cov.T, rtol=1e-8, atol=1e-12 * scale):
            self.fail(key, "must be symmetric (a covariance matrix)")
        if k and np.min(np.linalg.eigvalsh(cov)) < -1e-10 * scale:
            self.fail(key, "must be positive semi-definite (a covariance matrix has no negative variance)")
        return cov

    def series(self, key: str, *, finite: bool = True, low=None, high=None, numeric: bool = True) -> pd.Series:
        """A pandas Series (``$series``), numeric with range checks unless ``numeric=False``.

        Parameters
        ----------
        key : str
            The key.
        finite : bool
            Refuse infinities and NaN.
        low, high : float, optional
            Bounds on every value.
        numeric : bool
            Require numbers (returned as float).

        Returns
        -------
        pandas.Series
        """
        v = self.raw(key)
        if not (isinstance(v, Mapping) and set(v) == {"$series"}):
            self.fail(key, "must be a $series object")
        s = _series_in(v["$series"], self.where(key), self.source)
        if numeric:
            try:
                arr = s.to_numpy(dtype=float)
            except (TypeError, ValueError):
                self.fail(key, "must hold numbers only")
            self._check_values(key, arr, finite, low, high)
            s = s.astype(float)
        return s

    def frame(self, key: str, *, finite: bool = True, numeric: bool = True, columns: Sequence | None = None) -> pd.DataFrame:
        """A pandas DataFrame (``$frame``), all-numeric and finite unless told otherwise.

        Parameters
        ----------
        key : str
            The key.
        finite : bool
            Refuse infinities and NaN.
        numeric : bool
            Require numbers (returned as float).
        columns : sequence, optional
            The columns required, in order.

        Returns
        -------
        pandas.DataFrame
        """
        v = self.raw(key)
        if not (isinstance(v, Mapping) and set(v) == {"$frame"}):
            self.fail(key, "must be a $frame object")
        f = _frame_in(v["$frame"], self.where(key), self.source)
        if columns is not None and list(f.columns) != list(columns):
            self.fail(key, f"must have columns {list(columns)}, got {list(f.columns)}")
        if numeric:
            try:
                arr = f.to_numpy(dtype=float)
            except (TypeError, ValueError):
                self.fail(key, "must hold numbers only")
            self._check_values(key, arr, finite, None, None)
            f = f.astype(float)
        return f


# ----------------------------------------------------------------------------------------------
# the estimator contract
# ----------------------------------------------------------------------------------------------


class CRMEstimator(BaseEstimator):
    """scikit-learn's estimator contract plus crm_models' save format (see the module docstring).

    Subclasses set ``_fitted_attribute`` and implement ``_fitted_state`` and ``_restore``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from crm_models.segment import ValueTiers
    >>> tiers = ValueTiers(top_share=0.1).fit(pd.Series([5.0, 1.0, 9.0, 3.0]))
    >>> path = tiers.save(pathlib.Path(tempfile.mkdtemp()) / "tiers.json")
    >>> type(CRMEstimator.load(path)).__name__, ValueTiers.load(path).get_params()["top_share"]
    ('ValueTiers', 0.1)
    """

    #: An attribute that exists once the estimator is fitted.
    _fitted_attribute: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        known = _REGISTRY.get(cls.__name__)
        if known is not None and known.__module__ != cls.__module__:
            raise TypeError(f"two estimators are named {cls.__name__} ({known.__module__}, {cls.__module__})")
        _REGISTRY[cls.__name__] = cls

    # -- fitted state ---------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return bool(self._fitted_attribute) and hasattr(self, self._fitted_attribute)

    def _check_fitted(self) -> None:
        """Raise :class:`~crm_models.errors.NotFittedError` unless fitted."""
        if not self.__sklearn_is_fitted__():
            name = type(self).__name__
            raise NotFittedError(
                f"This {name} is not fitted yet: call {name}(...).fit(data) (or {name}.load(path)) before using it."
            )

    def _check_params(self) -> None:
        """Validate the hyper-parameters (called by ``fit`` and at load); subclasses extend."""

    # -- persistence ----------------------------------------------------------------------
    def _fitted_state(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} cannot be saved")

    def _restore(self, fitted: FieldReader) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot be loaded")

    def to_dict(self) -> dict[str, Any]:
        """The fitted estimator as plain JSON-able data (the format of :meth:`save`).

        Returns
        -------
        dict
        """
        from crm_models import __version__

        self._check_fitted()
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "class": type(self).__name__,
            "crm_models_version": __version__,
            "hyper_parameters": encode(self.get_params(deep=False), "hyper_parameters"),
            "fitted": encode(self._fitted_state(), "fitted"),
        }

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fitted estimator as versioned JSON (never pickle).

        Parameters
        ----------
        path : str or pathlib.Path
            The file to write.
        overwrite : bool
            Replace an existing file; by default an existing file is never overwritten. The
            file is written atomically (a temporary file renamed into place).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        from crm_models._files import check_output, write_text_atomic

        path = check_output(path, overwrite=overwrite, what="model file")
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        return write_text_atomic(path, text)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "document"):
        """Rebuild a fitted estimator from :meth:`to_dict` output, validating every field.

        Parameters
        ----------
        doc : mapping
            The document.
        source : str
            Where it came from, for error messages.

        Returns
        -------
        CRMEstimator
            An instance of the class named in the document (a subclass of ``cls``).
        """
        top = FieldReader(doc, "", source)
        fmt = top.raw("format")
        if fmt != FORMAT:
            top.fail("format", f"must be {FORMAT!r} (this is not a crm_models file), got {fmt!r}")
        version = top.raw("format_version")
        if version != FORMAT_VERSION:
            top.fail("format_version", f"must be {FORMAT_VERSION} (the version this crm_models reads), got {version!r}")
        name = top.string("class")
        target = _REGISTRY.get(name)
        if target is None:
            top.fail("class", f"must name a crm_models estimator ({', '.join(sorted(_REGISTRY))}), got {name!r}")
        if cls is not CRMEstimator and not issubclass(target, cls):
            top.fail("class", f"holds a {name}, not a {cls.__name__}; load it with {name}.load or crm_models.load")
        hyper = top.child("hyper_parameters")
        allowed = set(target._get_param_names())
        unknown = sorted(set(hyper.keys()) - allowed)
        if unknown:
            hyper.fail(unknown[0], f"is not a parameter of {name} (its parameters: {sorted(allowed)})")
        params = {k: hyper.value(k) for k in hyper.keys()}
        try:
            est = target(**params)
            est._check_params()
        except (TypeError, ValueError) as exc:
            raise ModelFileError("hyper_parameters", f"are not valid for {name}: {exc}", source=source) from None
        est._restore(top.child("fitted"))
        return est

    @classmethod
    def load(cls, path: str | Path):
        """Read an estimator written by :meth:`save` (plain JSON, validated; never executes code).

        Parameters
        ----------
        path : str or pathlib.Path
            The file.

        Returns
        -------
        CRMEstimator
            The fitted estimator.
        """
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelFileError("", f"is not valid JSON ({exc})", source=str(path)) from None
        except UnicodeDecodeError:
            raise ModelFileError("", "is not a UTF-8 text file", source=str(path)) from None
        return cls.from_dict(doc, source=str(path))


def load(path: str | Path) -> CRMEstimator:
    """Read any estimator saved by crm_models, whatever its class.

    Parameters
    ----------
    path : str or pathlib.Path
        A file written by ``save``.

    Returns
    -------
    CRMEstimator
        The fitted estimator, of the class the file names.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from crm_models.clv import GammaGamma
    >>> from crm_models.datasets import load_cdnow
    >>> from crm_models import rfm_summary
    >>> model = GammaGamma().fit(rfm_summary(load_cdnow()))
    >>> path = model.save(pathlib.Path(tempfile.mkdtemp()) / "spend.json")
    >>> load(path).params_.equals(model.params_)
    True
    """
    return CRMEstimator.load(path)

"""The package reads as one package: one vocabulary, one estimator contract, one save format, docstrings.

Every public callable is found by introspection (modules of crm_models, their ``__all__`` or public
names, and the public methods of public classes), so a new function is checked without being listed.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from dataclasses import is_dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import crm_models
from crm_models.base import CRMEstimator
from crm_models.errors import ModelFileError, NotFittedError
from crm_models.vocabulary import COLUMNS, RETIRED


def _modules():
    out = []
    for info in pkgutil.walk_packages(crm_models.__path__, "crm_models."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        out.append(importlib.import_module(info.name))
    return [crm_models, *out]


MODULES = _modules()


def _public_objects():
    """(qualified name, object) of every public function, class and method defined in crm_models."""
    seen, out = set(), []
    for mod in MODULES:
        listed = getattr(mod, "__all__", None)
        names = listed if listed is not None else [n for n in vars(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name, None)
            if listed is None and getattr(obj, "__module__", None) != mod.__name__:
                continue  # a module without __all__ exports only what it defines
            if obj is None or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            home = getattr(obj, "__module__", "") or ""
            if not home.startswith("crm_models") or any(p.startswith("_") for p in home.split(".")) or id(obj) in seen:
                continue
            seen.add(id(obj))
            qual = f"{obj.__module__}.{obj.__qualname__}"
            out.append((qual, obj))
            if inspect.isclass(obj):
                for mname, member in vars(obj).items():
                    if mname.startswith("_") and mname != "__init__":
                        continue
                    func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                    if inspect.isfunction(func) and id(func) not in seen:
                        seen.add(id(func))
                        out.append((f"{qual}.{mname}", func))
    return sorted(out, key=lambda t: t[0])


PUBLIC = _public_objects()


def _parameters(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters if p not in ("self", "cls")]


def test_the_walk_finds_the_package():
    names = {q.rsplit(".", 1)[-1] for q, _ in PUBLIC}
    assert {"rfm_summary", "BetaGeo", "RFMScorer", "resolve_customers", "customer_timeline"} <= names
    assert len(PUBLIC) > 150


def test_no_retired_name_and_every_column_argument_in_the_vocabulary():
    problems = []
    for qual, obj in PUBLIC:
        for p in _parameters(obj):
            if p in RETIRED:
                problems.append(f"{qual}({p}): retired, use {RETIRED[p]}")
            elif p.endswith("_col") and p not in COLUMNS:
                problems.append(f"{qual}({p}): a column argument outside crm_models.vocabulary.COLUMNS")
    assert not problems, "\n".join(problems)


def test_column_defaults_follow_the_vocabulary():
    """A ``*_col`` default is the vocabulary's default (or the summary default for money)."""
    allowed = {"monetary_value_col": {"amount", "monetary_value", None}}
    problems = []
    for qual, obj in PUBLIC:
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            continue
        for p in params:
            if not p.name.endswith("_col") or p.name not in COLUMNS or p.default is inspect.Parameter.empty:
                continue
            ok = allowed.get(p.name, {COLUMNS[p.name].default, None})
            if p.default not in ok and not (p.name in ("frequency_col", "recency_col", "T_col") and
                                            str(p.default).endswith("_cal")):
                problems.append(f"{qual}({p.name}={p.default!r}): vocabulary default is {COLUMNS[p.name].default!r}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ docstrings
_CHECKS = {"GL08", "SS01", "PR01", "PR02", "RT01"}


def test_every_public_callable_has_a_numpydoc_docstring():
    from numpydoc.validate import validate

    problems = []
    for qual, obj in PUBLIC:
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue
        name = qual if not qual.endswith(".__init__") else None
        if name is None:
            continue
        try:
            result = validate(name)
        except Exception as exc:  # numpydoc cannot import some nested names; skip them, but not silently
            problems.append(f"{qual}: numpydoc could not validate ({type(exc).__name__}: {exc})")
            continue
        is_top_level = qual.count(".") == len(obj.__module__.split("."))
        wanted = _CHECKS | ({"EX01"} if is_top_level else set())
        if inspect.isclass(obj):
            wanted -= {"PR01", "PR02"}  # a class documents its parameters; checked on __init__ below
        problems += [f"{qual}: {code} {msg}" for code, msg in result["errors"] if code in wanted]
    assert not problems, f"{len(problems)} docstring problems:\n" + "\n".join(problems)


def test_class_docstrings_document_init_parameters():
    from numpydoc.docscrape import ClassDoc

    problems = []
    for qual, obj in PUBLIC:
        if not inspect.isclass(obj) or issubclass(obj, BaseException) or "__init__" not in vars(obj):
            continue
        params = [p for p in _parameters(obj.__init__) if p not in ("args", "kwargs")]
        doc = ClassDoc(obj)
        entries = doc["Parameters"] + (doc["Attributes"] if is_dataclass(obj) or issubclass(obj, tuple) else [])
        documented = {n.strip().lstrip("*") for entry in entries for n in entry.name.split(",")}
        missing = [p for p in params if p not in documented]
        if missing:
            problems.append(f"{qual}: parameters not documented: {missing}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------- estimator contract
def _estimators():
    """Every public estimator a user fits: CRMEstimator subclasses of crm_models that no other public
    class derives from (bases such as clv.BaseModel are contracts, not models)."""
    found = set()
    for mod in MODULES:
        for obj in vars(mod).values():
            if (inspect.isclass(obj) and issubclass(obj, CRMEstimator) and obj is not CRMEstimator
                    and obj.__module__.startswith("crm_models") and not obj.__name__.startswith("_")):
                found.add(obj)
    leaves = [c for c in found if not any(o is not c and issubclass(o, c) for o in found)]
    return sorted(leaves, key=lambda c: c.__name__)


ESTIMATORS = _estimators()


@pytest.fixture(scope="module")
def fitted():
    """A fitted instance of every public estimator (a new estimator must be added here)."""
    from estimator_zoo import fitted_estimators

    return fitted_estimators()


def test_every_estimator_has_a_fitted_example(fitted):
    missing = [c.__name__ for c in ESTIMATORS if c.__name__ not in fitted]
    assert not missing, f"add a fitted example of {missing} to tests/estimator_zoo.py"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_clone_and_params(cls):
    est = cls()
    params = est.get_params(deep=False)
    assert set(params) == set(cls._get_param_names())
    again = clone(est)
    assert type(again) is cls and again.get_params(deep=False).keys() == params.keys()
    est.set_params(**params)
    with pytest.raises(NotFittedError):
        est._check_fitted()


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_save_load_round_trip_and_tampering(cls, fitted, tmp_path):
    est = fitted[cls.__name__]
    path = est.save(tmp_path / "model.json")
    back = crm_models.load(path)
    assert type(back) is cls
    assert json.dumps(back.to_dict(), sort_keys=True) == json.dumps(est.to_dict(), sort_keys=True)
    # a string where a number belongs, anywhere in the fitted state, is refused at load
    doc = json.loads(path.read_text())

    def first_number(node, trail):
        if isinstance(node, dict):
            for k, v in node.items():
                found = first_number(v, trail + [k])
                if found:
                    return found
        elif isinstance(node, list):
            for i, v in enumerate(node):
                found = first_number(v, trail + [i])
                if found:
                    return found
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            return trail
        return None

    trail = first_number(doc["fitted"], ["fitted"])
    assert trail is not None, f"{cls.__name__} saves no number in its fitted state"
    node = doc
    for key in trail[:-1]:
        node = node[key]
    node[trail[-1]] = "not a number"
    (tmp_path / "tampered.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError):
        cls.load(tmp_path / "tampered.json")


def test_summaries_are_one_type(fitted):
    from crm_models.base import Summary

    for name, est in fitted.items():
        if hasattr(est, "summary") and not inspect.signature(est.summary).parameters:
            assert isinstance(est.summary(), Summary), name
        elif hasattr(est, "summary") and "alpha" in inspect.signature(est.summary).parameters:
            assert isinstance(est.summary(alpha=0.1), Summary), name


def test_numbers_survive_json_exactly():
    """Floats written by save() read back bit for bit (json round-trips repr)."""
    values = np.random.default_rng(0).random(100)
    assert np.array_equal(np.array(json.loads(json.dumps(values.tolist()))), values)
    assert isinstance(pd.Series(values), pd.Series)

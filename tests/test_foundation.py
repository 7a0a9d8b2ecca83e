"""The shared foundation: units, the structured errors, the estimator contract and the JSON format."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crm_models.base import CRMEstimator, FieldReader, Summary, as_generator, encode, load
from crm_models.errors import DataError, ModelFileError, NotFittedError
from crm_models.units import TIME_UNITS, as_discount_rate, as_duration, unit_days


# ------------------------------------------------------------------------------------ units
def test_one_time_unit_table():
    assert TIME_UNITS["M"] == pytest.approx(365.25 / 12)
    assert unit_days("W") == 7.0
    with pytest.raises(ValueError, match=r"time_unit must be one of .*months of 365.25/12"):
        unit_days("month")


@pytest.mark.parametrize(
    "value, message",
    [
        (12, r"\(length, unit\) pair"),
        ("12M", r"\(length, unit\) pair"),
        ((12,), r"\(length, unit\) pair"),
        ((0, "M"), "length must be > 0"),
        ((-1, "D"), "length must be > 0"),
        ((float("nan"), "D"), "must be finite"),
        (("12", "M"), "must be a number"),
        ((12, "months"), "horizon's unit must be one of"),
    ],
)
def test_horizons_have_one_spelling(value, message):
    with pytest.raises(ValueError, match=message):
        as_duration(value)


def test_duration_converts_between_units():
    d = as_duration((12, "M"))
    assert d.days == pytest.approx(365.25)
    assert d.in_unit("W") == pytest.approx(365.25 / 7)
    assert as_duration((0, "D"), allow_zero=True).days == 0
    with pytest.raises(ValueError, match="longer than"):
        as_duration((2000, "Y"), max_days=1000 * 365.25)


@pytest.mark.parametrize(
    "value, message",
    [((10, "Y"), r"\[0, 1\).*0.10"), ((-0.1, "Y"), r"\[0, 1\)"), (0.1, r"\(rate, unit\) pair"), ((0.1, "year"), "unit")],
)
def test_one_discount_rate_rule(value, message):
    with pytest.raises(ValueError, match=message):
        as_discount_rate(value)


def test_discount_factors():
    rate = as_discount_rate((0.10, "Y"))
    assert rate.factor(365.25) == pytest.approx(1 / 1.1)
    assert rate.factor(0) == 1.0
    monthly = as_discount_rate((0.01, "M"))
    assert monthly.factor(365.25) == pytest.approx(1.01**-12)


def test_random_state_semantics():
    a = as_generator(3).random(4)
    assert np.array_equal(a, as_generator(3).random(4))
    g = np.random.default_rng(1)
    assert as_generator(g) is g
    assert isinstance(as_generator(np.random.RandomState(0)), np.random.Generator)
    with pytest.raises(ValueError, match="random_state"):
        as_generator("seven")


# ----------------------------------------------------------------------------------- errors
def test_data_error_carries_its_structure():
    rows = pd.DataFrame({"amount": [-1.0, -2.0]}, index=[3, 7])
    err = DataError("amount", "must not be negative", rows=rows, n_rows=10, n_total=100, what="transactions",
                    hint="Net returns first.")
    assert isinstance(err, ValueError)
    assert (err.column, err.rule, err.n_rows, err.n_total) == ("amount", "must not be negative", 10, 100)
    assert err.rows.index.tolist() == [3, 7]
    text = str(err)
    assert text.startswith("transactions: column 'amount' must not be negative; 10 of 100 rows")
    assert text.endswith("Net returns first.")
    back = pickle.loads(pickle.dumps(err))
    assert (back.column, back.rule, str(back)) == (err.column, err.rule, str(err))


def test_model_file_error_names_the_field():
    err = ModelFileError("fitted.params.r", "must be positive", source="m.json")
    assert str(err) == "m.json: field fitted.params.r must be positive"
    assert pickle.loads(pickle.dumps(err)).field == "fitted.params.r"


# ------------------------------------------------------------------------------- summaries
def test_summary_renders_three_ways():
    s = Summary("Title", pd.DataFrame({"estimate": [0.25]}, index=["r"]), {"Log-likelihood": -1.5, "n": 10},
                ["a note"])
    text = repr(s)
    assert "Title" in text and "0.2500" in text and "[1] a note" in text and "-1.500" in text
    assert "<table>" in s._repr_html_() and "a note" in s._repr_html_()
    frame = s.to_frame()
    frame.loc["r", "estimate"] = 9.0
    assert s.table.loc["r", "estimate"] == 0.25  # a copy


# ------------------------------------------------------------------------- encode / readers
def test_encode_round_trips_tagged_values():
    frame = pd.DataFrame({"a": [1.0, np.inf], "b": ["x", "y"]}, index=pd.Index([10, 20], name="id"))
    value = {"t": (12, "M"), "r": range(2, 9), "f": frame, "s": pd.Series([0.5, 1.5], index=["u", "v"], name="s"),
             "arr": np.arange(6.0).reshape(2, 3), "n": float("nan")}
    doc = json.loads(json.dumps(encode(value), allow_nan=False))
    back = FieldReader(doc).value
    assert back("t") == (12, "M")
    assert back("r") == range(2, 9)
    pd.testing.assert_frame_equal(back("f"), frame)
    pd.testing.assert_series_equal(back("s"), value["s"])
    assert np.array_equal(back("arr"), value["arr"])
    assert np.isnan(back("n"))
    with pytest.raises(TypeError, match=r"value\.bad: cannot be saved"):
        encode({"bad": object()})


def test_field_reader_checks_every_rule():
    r = FieldReader({"x": -1, "s": "a", "cov": [[1.0, 2.0], [2.0, 1.0]], "asym": [[1.0, 0.5], [0.0, 1.0]],
                     "arr": [1.0, {"$float": "inf"}], "word": "inf"}, "fitted", source="f.json")
    with pytest.raises(ModelFileError, match=r"f.json: field fitted.x must be >= 0"):
        r.number("x", low=0)
    with pytest.raises(ModelFileError, match="must be a number"):
        r.number("s")
    with pytest.raises(ModelFileError, match="fitted.missing is missing"):
        r.raw("missing")
    with pytest.raises(ModelFileError, match="positive semi-definite"):
        r.covariance("cov", 2)
    with pytest.raises(ModelFileError, match="symmetric"):
        r.covariance("asym", 2)
    with pytest.raises(ModelFileError, match="finite"):
        r.array("arr")
    assert np.isinf(r.array("arr", finite=False)[1])
    with pytest.raises(ModelFileError, match="one of"):
        r.string("s", choices=["b"])
    assert r.string("word") == "inf" and r.value("word") == "inf"  # a string that reads "inf" stays a string
    with pytest.raises(ModelFileError, match="must be a number"):
        r.number("word", allow_inf=True)


# ---------------------------------------------------------------------- estimator contract
class _Toy(CRMEstimator):
    """A one-parameter model: the mean of its data."""

    _fitted_attribute = "mean_"

    def __init__(self, scale: float = 1.0, horizon=(12, "M")):
        self.scale = scale
        self.horizon = horizon

    def _check_params(self):
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale!r}")

    def fit(self, values):
        self._check_params()
        self.mean_ = float(np.mean(values)) * self.scale
        self.cov_ = np.array([[1.0, 0.2], [0.2, 2.0]])
        return self

    def _fitted_state(self):
        return {"mean": self.mean_, "cov": self.cov_}

    def _restore(self, fitted):
        self.mean_ = fitted.number("mean")
        self.cov_ = fitted.covariance("cov", 2)


def test_estimator_contract(tmp_path):
    toy = _Toy(scale=2.0)
    assert clone(toy).get_params() == {"scale": 2.0, "horizon": (12, "M")}
    with pytest.raises(NotFittedError, match=r"_Toy is not fitted yet"):
        toy.save(tmp_path / "x.json")
    toy.fit([1.0, 2.0])
    path = toy.save(tmp_path / "toy.json")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        toy.save(path)
    toy.save(path, overwrite=True)
    back = _Toy.load(path)
    assert back.get_params() == toy.get_params() and back.mean_ == toy.mean_
    assert type(load(path)) is _Toy


def _tamper(path, edit):
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(format="pickle"), "field format must be 'crm_models'"),
        (lambda d: d.update(format_version=99), "field format_version must be 1"),
        (lambda d: d.update({"class": "Nope"}), "field class must name a crm_models estimator"),
        (lambda d: d["fitted"].update(mean="7"), "field fitted.mean must be a number"),
        (lambda d: d["fitted"].update(mean="inf"), "field fitted.mean must be a number"),
        (lambda d: d["fitted"].update(mean={"$float": "inf"}), "field fitted.mean must be a number"),
        (lambda d: d["fitted"].update(cov=[[1.0, 3.0], [3.0, 1.0]]), "fitted.cov must be positive semi-definite"),
        (lambda d: d["hyper_parameters"].update(scale=-1), "hyper_parameters are not valid for _Toy: scale must be"),
        (lambda d: d["hyper_parameters"].update(evil="x"), "hyper_parameters.evil is not a parameter of _Toy"),
        (lambda d: d["hyper_parameters"].update(scale={"__reduce__": "os.system"}), "not valid"),
    ],
)
def test_tampered_files_are_refused_at_load(tmp_path, edit, message):
    path = _Toy().fit([1.0]).save(tmp_path / "toy.json")
    with pytest.raises(ModelFileError, match=message):
        _Toy.load(_tamper(path, edit))


def test_not_json_is_refused(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ModelFileError, match="is not valid JSON"):
        load(path)

"""The shipped datasets load as tidy frames with the sizes and dtypes their papers state."""

import pandas as pd
import pytest

from crm_models.datasets import data_path, load_cdnow, load_donations, load_retention_cohorts


def test_cdnow_sample_shape_and_dtypes():
    df = load_cdnow(sample=True)
    assert list(df.columns) == ["customer_id", "timestamp", "cds", "amount"]
    assert len(df) == 6919
    assert df["customer_id"].nunique() == 2357
    assert pd.api.types.is_datetime64_any_dtype(df["timestamp"])
    assert df["cds"].dtype == "int64" and df["customer_id"].dtype == "int64"
    assert df["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert df["timestamp"].max() == pd.Timestamp("1998-06-30")
    # every customer of the sample made their first purchase in the first quarter of 1997
    assert df.groupby("customer_id")["timestamp"].min().max() <= pd.Timestamp("1997-03-31")


def test_cdnow_master_shape():
    df = load_cdnow(sample=False)
    assert df["customer_id"].nunique() == 23570
    assert len(df) == 69659
    assert (df["amount"] >= 0).all()


def test_sample_is_a_subset_of_master():
    master = load_cdnow(sample=False)
    sample = load_cdnow(sample=True)
    merged = sample.merge(master, how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


def test_donations_repeat_patterns():
    df = load_donations()
    assert list(df.columns) == ["frequency", "recency", "n_opportunities", "n_donors"]
    assert df["n_donors"].sum() == 11104
    assert (df["n_opportunities"] == 6).all()
    assert (df.dtypes == "int64").all()
    assert ((df["frequency"] == 0) == (df["recency"] == 0)).all()
    assert (df["frequency"] <= df["recency"]).all()


def test_retention_cohorts():
    df = load_retention_cohorts()
    assert df["year"].tolist() == list(range(13))
    assert df.loc[0, ["regular", "high_end"]].tolist() == [100.0, 100.0]
    assert df.loc[7, ["regular", "high_end"]].tolist() == [24.1, 49.1]
    assert (df[["regular", "high_end"]].diff().dropna() < 0).all().all()


def test_every_dataset_folder_has_a_readme():
    for name in ["cdnow", "donations", "retention"]:
        text = data_path(name, "README.md").read_text()
        assert "Source" in text and "Columns" in text


def test_missing_file_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="not shipped"):
        data_path("nope.csv")


def test_every_data_file_is_shipped_in_the_wheel():
    """pyproject's package-data ships only these suffixes from datasets/; anything else would be
    missing from an installed wheel (checked by hand with `pip wheel`: loaders work from it)."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    suffixes = {p.rsplit(".", 1)[1] for p in patterns["crm_models._data"]} | {"py"}
    stray = [p for p in (root / "datasets").rglob("*") if p.is_file() and "__pycache__" not in p.parts
             and p.suffix.lstrip(".") not in suffixes]
    assert not stray, f"add these suffixes to package-data in pyproject.toml: {stray}"


def test_crm_world_readme_documents_every_table_and_the_new_names():
    text = data_path("crm_world", "README.md").read_text()
    assert "The generative story" in text and "make_crm_world(random_state=42)" in text
    for name in ["people", "records", "record_truth", "transactions", "interactions", "campaign", "future",
                 "future_transactions", "truth_params", "truth_effects"]:
        assert f"### `{name}.csv`" in text, name
    assert "observation_period_end" in text and "holdout_period_end" in text and "seed" not in text


def _public_callables():
    """Every public function, class and public method of crm_models.datasets and its world package."""
    import inspect

    import crm_models.datasets as ds
    from crm_models.datasets import world

    for module in (ds, world):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                yield obj
                yield from (m for k, m in vars(obj).items() if inspect.isfunction(m) and not k.startswith("_"))
            elif callable(obj):
                yield obj


def test_every_public_callable_has_a_numpydoc_docstring_with_examples():
    import inspect

    checked = []
    for f in _public_callables():
        doc = inspect.getdoc(f) or ""
        assert "Examples\n--------\n>>> " in doc, f"{f.__qualname__} lacks a runnable Examples section"
        if inspect.signature(f).parameters and not inspect.isclass(f):
            assert "Parameters\n----------" in doc, f.__qualname__
        checked.append(f.__qualname__)
    assert {"make_crm_world", "load_crm_world", "save_crm_world", "CRMWorld.transactions_by_person",
            "load_cdnow", "default_world_config", "nickname_table"} <= set(checked)


def test_public_signatures_follow_the_vocabulary():
    import inspect

    from crm_models.vocabulary import COLUMNS, RETIRED

    params = [(f.__qualname__, p) for f in _public_callables() for p in inspect.signature(f).parameters]
    assert len(params) > 10
    for name, param in params:
        assert param not in RETIRED, f"{name}: {param} -> {RETIRED.get(param)}"
        assert not param.endswith("_col") or param in COLUMNS, f"{name}: {param}"


def test_simulated_company_is_importable_where_it_always_was():
    from crm_models.datasets import CRMWorld, load_crm_world, make_crm_world
    from crm_models.datasets.world import CATEGORIES, SOURCES, default_world_config, nickname_table

    assert isinstance(load_crm_world(), CRMWorld) and callable(make_crm_world)
    assert SOURCES == ("web", "store", "call_centre", "mail") and len(CATEGORIES) == 8
    assert "segments" in default_world_config() and "Robert" in nickname_table()

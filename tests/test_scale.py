"""Out of core on one machine: chunked scoring equals whole scoring; DuckDB with a memory limit
gives the in-memory summary; the files written are safe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models import calibration_holdout_split, rfm_summary
from crm_models.datasets import load_cdnow
from crm_models.pipeline import CustomerScorer
from crm_models.scale import compress_parquet_summary, score_in_chunks, write_scores
from crm_models.transactions import write_rfm_summary


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


@pytest.fixture(scope="module")
def scorer(cdnow):
    return CustomerScorer().fit(cdnow)


def test_a_memory_limit_changes_nothing_but_memory(cdnow, tmp_path):
    log = tmp_path / "log.parquet"
    cdnow.to_parquet(log)
    config = {"memory_limit": "100MB", "threads": 1, "temp_directory": str(tmp_path / "spill")}
    pd.testing.assert_frame_equal(rfm_summary(log, duckdb_config=config), rfm_summary(cdnow, engine="pandas"),
                                  check_index_type=False, rtol=1e-12)
    split = calibration_holdout_split(log, calibration_period_end="1997-09-30", duckdb_config=config)
    pd.testing.assert_frame_equal(split, calibration_holdout_split(cdnow, calibration_period_end="1997-09-30",
                                                                   engine="pandas"), check_index_type=False, rtol=1e-12)
    with pytest.raises(TypeError, match="duckdb_config"):
        rfm_summary(log, duckdb_config="2GB")


def test_the_summary_file_is_the_summary(cdnow, tmp_path):
    path = write_rfm_summary(cdnow, tmp_path / "summary.parquet", duckdb_config={"memory_limit": "200MB"})
    written = pd.read_parquet(path).set_index("customer_id")
    pd.testing.assert_frame_equal(written, rfm_summary(cdnow, engine="duckdb"), check_index_type=False)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_rfm_summary(cdnow, path)
    source = tmp_path / "log.parquet"
    cdnow.to_parquet(source)
    with pytest.raises(FileExistsError, match="over the input file"):
        write_rfm_summary(source, source, overwrite=True)


def test_chunks_score_exactly_like_the_whole(cdnow, scorer, tmp_path):
    summary = rfm_summary(cdnow, observation_period_end=scorer.observation_period_end_)
    whole = scorer.transform(cdnow)
    chunks = list(score_in_chunks(scorer, summary, chunk_size=700))
    assert [len(c) for c in chunks] == [700, 700, 700, 257]
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)
    # the same from a summary file made by DuckDB (whose sums of money may differ from pandas' in the
    # last bits, so it is compared with that file scored whole)
    path = write_rfm_summary(cdnow, tmp_path / "summary.parquet")
    whole = scorer.score_summary(pd.read_parquet(path).set_index("customer_id"))
    out = write_scores(scorer, path, tmp_path / "scores.parquet", chunk_size=500)
    pd.testing.assert_frame_equal(pd.read_parquet(out).set_index("customer_id"), whole, check_index_type=False)
    import duckdb

    relation = duckdb.connect().read_parquet(str(path))
    pd.testing.assert_frame_equal(pd.concat(score_in_chunks(scorer, relation, chunk_size=1000)), whole,
                                  check_index_type=False)
    with pytest.raises(FileExistsError):
        write_scores(scorer, path, out)
    with pytest.raises(ValueError, match="chunk_size must be a whole number >= 1"):
        next(score_in_chunks(scorer, summary, chunk_size=0))


def test_the_compressed_summary_teaches_what_the_summary_teaches(cdnow, scorer, tmp_path):
    path = write_rfm_summary(cdnow, tmp_path / "summary.parquet")
    counted = compress_parquet_summary(path)
    assert counted["n_customers"].sum() == 2357 and len(counted) < 2357
    learned = CustomerScorer().fit_summary(counted, observation_period_end=scorer.observation_period_end_,
                                           weights_col="n_customers")
    np.testing.assert_allclose(learned.transaction_model_.params_, scorer.transaction_model_.params_, rtol=1e-6)
    np.testing.assert_allclose(learned.spend_model_.params_, scorer.spend_model_.params_, rtol=1e-6)
    assert learned.n_customers_ == scorer.n_customers_

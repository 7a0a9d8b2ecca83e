"""Out of core on one machine: score more customers than fit in memory, chunk by chunk.

A customer's scores depend only on their own summary row and the fitted models
(:meth:`crm_models.pipeline.CustomerScorer.score_summary`), so a summary of ten million
customers is scored a chunk at a time with exactly the result of scoring it whole, in memory
bounded by the chunk size. The pieces, each with bounded memory:

1. :func:`crm_models.transactions.write_rfm_summary`: a log of any size (a Parquet file) to a
   summary Parquet file, inside DuckDB with a memory limit;
2. :func:`compress_parquet_summary`: the summary's unique rows with their counts, all a fit
   needs (:meth:`~crm_models.pipeline.CustomerScorer.fit_summary`);
3. :func:`score_in_chunks` / :func:`write_scores`: the scores, chunk by chunk, to a Parquet
   file (written atomically).

``benchmarks/bench_out_of_core.py`` measures time and peak memory of each step on a log of
100,000,000 transactions.

Examples
--------
>>> import tempfile, pathlib
>>> from crm_models.datasets import load_cdnow
>>> from crm_models.pipeline import CustomerScorer
>>> from crm_models.transactions import write_rfm_summary
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> summary = write_rfm_summary(load_cdnow(), folder / "summary.parquet")
>>> scorer = CustomerScorer().fit_summary(compress_parquet_summary(summary), observation_period_end="1998-06-30",
...                                       weights_col="n_customers")
>>> scores = write_scores(scorer, summary, folder / "scores.parquet", chunk_size=1000)
>>> len(pd.read_parquet(scores))
2357
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

__all__ = ["score_in_chunks", "write_scores", "compress_parquet_summary"]

_SUMMARY = ["frequency", "recency", "T", "monetary_value"]


def _check_chunk_size(chunk_size) -> int:
    from crm_models._validation import check_number

    return check_number(chunk_size, "chunk_size", low=1, integer=True, unit="customers per chunk")


def _chunks(summary, chunk_size: int, id_col: str) -> Iterator[pd.DataFrame]:
    """A summary (DataFrame indexed by id, Parquet path or DuckDB relation) chunk by chunk, indexed by id."""
    if isinstance(summary, pd.DataFrame):
        for start in range(0, len(summary), chunk_size):
            yield summary.iloc[start:start + chunk_size]
        return
    if isinstance(summary, (str, os.PathLike)):
        import pyarrow.parquet as pq

        path = Path(summary)
        if not path.is_file():
            raise FileNotFoundError(f"summary file {path} does not exist")
        batches = pq.ParquetFile(path).iter_batches(batch_size=chunk_size)
    elif type(summary).__module__.startswith("duckdb"):
        batches = summary.to_arrow_reader(chunk_size)
    else:
        raise TypeError(f"summary must be a DataFrame, a Parquet path or a DuckDB relation, got {type(summary).__name__}")
    for batch in batches:
        frame = batch.to_pandas()
        if id_col not in frame.columns:
            from crm_models._validation import require_columns

            require_columns(frame, [id_col, *_SUMMARY], what="summary")
        yield frame.set_index(id_col)


def score_in_chunks(scorer, summary, *, chunk_size: int = 500_000) -> Iterator[pd.DataFrame]:
    """Score a customer summary chunk by chunk: the scores of each chunk as it is read.

    Parameters
    ----------
    scorer : crm_models.pipeline.CustomerScorer
        A fitted scorer.
    summary : pandas.DataFrame, str, os.PathLike or duckdb.DuckDBPyRelation
        ``frequency``, ``recency``, ``T`` (weeks) and ``monetary_value`` per customer, as of
        ``scorer.observation_period_end_``: a DataFrame indexed by customer id, or a Parquet
        file or DuckDB relation with the id in column ``scorer.customer_id_col``.
    chunk_size : int
        Customers per chunk: memory is bounded by it, not by the number of customers.

    Yields
    ------
    pandas.DataFrame
        The scores of one chunk (as :meth:`~crm_models.pipeline.CustomerScorer.transform`).

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> from crm_models.pipeline import CustomerScorer
    >>> scorer = CustomerScorer().fit(load_cdnow())
    >>> summary = rfm_summary(load_cdnow(), observation_period_end=scorer.observation_period_end_)
    >>> chunks = list(score_in_chunks(scorer, summary, chunk_size=1000))
    >>> [len(c) for c in chunks], pd.concat(chunks).equals(scorer.score_summary(summary))
    ([1000, 1000, 357], True)
    """
    scorer._check_fitted()
    chunk_size = _check_chunk_size(chunk_size)
    for chunk in _chunks(summary, chunk_size, scorer.customer_id_col):
        yield scorer.score_summary(chunk)


def write_scores(scorer, summary, path, *, chunk_size: int = 500_000, overwrite: bool = False) -> Path:
    """Score a customer summary chunk by chunk into a Parquet file, in bounded memory.

    Parameters
    ----------
    scorer : crm_models.pipeline.CustomerScorer
        A fitted scorer.
    summary : pandas.DataFrame, str, os.PathLike or duckdb.DuckDBPyRelation
        As in :func:`score_in_chunks` (a Parquet file from
        :func:`crm_models.transactions.write_rfm_summary` keeps everything out of memory).
    path : str or os.PathLike
        The Parquet file to write (its folder must exist); written atomically.
    chunk_size : int
        Customers per chunk.
    overwrite : bool
        Replace an existing file (never the summary).

    Returns
    -------
    pathlib.Path
        ``path``: the id column and :data:`crm_models.pipeline.SCORE_COLUMNS`, one row per customer.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> from crm_models.pipeline import CustomerScorer
    >>> scorer = CustomerScorer().fit(load_cdnow())
    >>> summary = rfm_summary(load_cdnow(), observation_period_end=scorer.observation_period_end_)
    >>> out = write_scores(scorer, summary, pathlib.Path(tempfile.mkdtemp()) / "s.parquet", chunk_size=1000)
    >>> pd.read_parquet(out).set_index("customer_id").equals(scorer.score_summary(summary))
    True
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crm_models._files import atomic_path, check_output

    scorer._check_fitted()
    chunk_size = _check_chunk_size(chunk_size)
    inputs = [summary] if isinstance(summary, (str, os.PathLike)) else []
    path = check_output(path, overwrite=overwrite, inputs=inputs, what="scores")
    with atomic_path(path) as tmp:
        writer = None
        try:
            for scores in score_in_chunks(scorer, summary, chunk_size=chunk_size):
                table = pa.Table.from_pandas(scores.reset_index(), preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError("the summary holds no customer: nothing to score")
    return path


def compress_parquet_summary(summary, *, duckdb_config=None) -> pd.DataFrame:
    """The unique rows of a summary Parquet file with how many customers each stands for.

    Computed by DuckDB (with ``duckdb_config``, e.g. ``{"memory_limit": "2GB"}``); the result
    is small (a few hundred thousand rows for millions of customers) and is all
    :meth:`~crm_models.pipeline.CustomerScorer.fit_summary` needs.

    Parameters
    ----------
    summary : str or os.PathLike
        A Parquet file with ``frequency``, ``recency``, ``T`` (and ``monetary_value``).
    duckdb_config : dict, optional
        Settings of the DuckDB connection.

    Returns
    -------
    pandas.DataFrame
        The unique rows and ``n_customers``, the number of customers with that row (pass
        ``weights_col="n_customers"`` to ``fit_summary``), sorted.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "s.parquet"
    >>> pd.DataFrame({"customer_id": [1, 2, 3], "frequency": [0, 0, 1], "recency": [0.0, 0.0, 2.0],
    ...               "T": [4.0, 4.0, 4.0], "monetary_value": [0.0, 0.0, 9.5]}).to_parquet(path)
    >>> compress_parquet_summary(path)
       frequency  recency    T  monetary_value  n_customers
    0          0      0.0  4.0             0.0            2
    1          1      2.0  4.0             9.5            1
    """
    import duckdb

    path = Path(summary)
    if not path.is_file():
        raise FileNotFoundError(f"summary file {path} does not exist")
    con = duckdb.connect(config=dict(duckdb_config or {}))
    rel = con.read_parquet(str(path))
    keys = [c for c in _SUMMARY if c in rel.columns]
    cols = ", ".join(f'"{c}"' for c in keys)
    out = rel.query("s", f'SELECT {cols}, count(*) AS n_customers FROM s GROUP BY ALL ORDER BY {cols}').df()
    out["n_customers"] = out["n_customers"].astype("int64")
    return out

"""Vectorised draws and column builders shared by every step of the simulated company.

Times inside the generator are floats in weeks after each person's acquisition; they become
timestamps (whole seconds) only when the tables are assembled (:func:`weeks_to_timestamps`).
Ids and labels are built in Arrow, which keeps millions of strings fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DATETIME = "datetime64[ns]"
WEEK_SECONDS = 7 * 86400


def categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category index per row of ``probs`` (rows of probabilities or non-negative weights)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def poisson_events(rng: np.random.Generator, owner: np.ndarray, lo: np.ndarray, hi: np.ndarray, rate: np.ndarray):
    """A Poisson process of ``rate`` (per week) on ``[lo, hi]`` for each owner: (owner position, time)."""
    span = np.maximum(hi - lo, 0.0)
    counts = rng.poisson(rate * span)
    idx = np.repeat(np.arange(len(owner)), counts)
    t = lo[idx] + rng.random(idx.size) * span[idx]
    return idx, t


def weeks_to_timestamps(base: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """``base`` (datetime64[s]) plus ``weeks``, rounded to whole seconds."""
    return base + np.round(weeks * WEEK_SECONDS).astype("timedelta64[s]")


def ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """String ids: ``prefix`` followed by ``numbers`` zero-padded to ``width`` digits."""
    import pyarrow as pa
    import pyarrow.compute as pc

    padded = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width, "0")
    return pd.Series(pd.array(pc.binary_join_element_wise(prefix, padded, ""), dtype="str"))


def labels(codes: np.ndarray, vocab) -> pd.Series:
    """Strings ``vocab[code]`` (missing where ``code < 0``)."""
    import pyarrow as pa

    codes = np.asarray(codes, dtype=np.int32)
    missing = codes < 0
    arr = pa.DictionaryArray.from_arrays(pa.array(np.where(missing, 0, codes), mask=missing),
                                         pa.array(list(vocab), type=pa.string()))
    return pd.Series(pd.array(arr.cast(pa.string()), dtype="str"))

"""Datasets shipped with crm_models, loaded as tidy DataFrames, and the simulated company.

Real data: :func:`load_cdnow` (CDNOW purchase log), :func:`load_donations` (BG/BB repeat
patterns), :func:`load_retention_cohorts` (contract cohorts). Reference data of CLVTools:
:func:`load_apparel` (a simulated apparel retailer with static and time-varying covariates). Person records from
elsewhere, for identity resolution: :func:`load_febrl` (the FEBRL synthetic Australian person
data sets, with their true duplicates). The files live in the repository's
``datasets/`` folder and are installed with the package as ``crm_models._data``; each folder
there has a README with source, citation, columns and units.

Simulated data with ground truth: :func:`make_crm_world` builds a multi-channel company
(:class:`CRMWorld`), :func:`load_crm_world` loads the frozen default one and
:func:`save_crm_world` writes one to disk; :func:`default_world_config` lists every setting.
The generator lives in :mod:`crm_models.datasets.world`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = [
    "data_path",
    "load_cdnow",
    "load_donations",
    "load_retention_cohorts",
    "load_apparel",
    "load_febrl",
    "CRMWorld",
    "make_crm_world",
    "load_crm_world",
    "save_crm_world",
    "default_world_config",
]


def data_path(*parts: str) -> Path:
    """Path of a data file or folder shipped with crm_models.

    Parameters
    ----------
    *parts : str
        The path inside the ``datasets/`` folder, one part per argument.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If nothing is shipped under that path.

    Examples
    --------
    >>> data_path("cdnow", "CDNOW_sample.txt").name
    'CDNOW_sample.txt'
    """
    path = Path(str(resources.files("crm_models._data").joinpath(*parts)))
    if not path.exists():
        raise FileNotFoundError(f"data file {'/'.join(parts)} is not shipped with crm_models ({path})")
    return path


def load_cdnow(sample: bool = True) -> pd.DataFrame:
    """CDNOW purchase log (Fader, Hardie & Lee 2005): one row per transaction line.

    Parameters
    ----------
    sample : bool
        ``True`` gives the 1/10 sample (2,357 customers, 6,919 lines); ``False`` the full master
        log (23,570 customers, 69,659 lines).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (int; the sample keeps its master-file id), ``timestamp`` (datetime, day
        resolution, 1997-01-01 to 1998-06-30), ``cds`` (number of CDs, int) and ``amount`` (US
        dollars, float).

    Examples
    --------
    >>> df = load_cdnow()
    >>> df.shape, df["customer_id"].nunique()
    ((6919, 4), 2357)
    """
    names = ["customer_id", "timestamp", "cds", "amount"]
    if sample:
        df = pd.read_csv(
            data_path("cdnow", "CDNOW_sample.txt"),
            sep=r"\s+",
            header=None,
            names=["customer_id", "sample_id", "timestamp", "cds", "amount"],
            dtype={"timestamp": str},
        ).drop(columns="sample_id")
    else:
        df = pd.read_csv(
            data_path("cdnow", "CDNOW_master.txt"), sep=r"\s+", header=0, names=names, dtype={"timestamp": str}
        )
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="%Y%m%d")
    return df.astype({"customer_id": "int64", "cds": "int64", "amount": "float64"})[names]


def load_donations() -> pd.DataFrame:
    """Donations to a US non-profit (Fader, Hardie & Shang 2010) as BG/BB's repeat-pattern table.

    11,104 first-time supporters of 1995 observed over the six annual opportunities 1996-2001.

    Returns
    -------
    pandas.DataFrame
        One row per (frequency, recency) pattern: ``frequency`` (repeat donations, 0-6),
        ``recency`` (year of the last donation, 0 = none after the first), ``n_opportunities``
        (6) and ``n_donors`` (how many donors share the pattern); all int.

    Examples
    --------
    >>> df = load_donations()
    >>> int(df["n_donors"].sum()), int(df["n_opportunities"].max())
    (11104, 6)
    """
    df = pd.read_csv(data_path("donations", "donations_repeat_patterns.csv"))
    df = df.rename(columns={"periods": "n_opportunities", "weights": "n_donors"})
    return df.astype("int64")


def load_retention_cohorts() -> pd.DataFrame:
    """Percentage of a contract cohort still active, years 0-12 (Fader & Hardie 2007, Table 1).

    Returns
    -------
    pandas.DataFrame
        ``year`` (int, 0-12), ``regular`` and ``high_end`` (percent of the starting cohort
        surviving, float). Both cohorts start at 100%.

    Examples
    --------
    >>> load_retention_cohorts().loc[7, ["regular", "high_end"]].tolist()
    [24.1, 49.1]
    """
    return pd.read_csv(data_path("retention", "retention_cohorts.csv")).astype(
        {"year": "int64", "regular": "float64", "high_end": "float64"}
    )


_APPAREL = {
    "transactions": ("transactions.csv", {"Id": "customer_id", "Date": "timestamp", "Price": "amount"}),
    "static_covariates": ("static_covariates.csv", {"Id": "customer_id", "Gender": "gender", "Channel": "channel"}),
    "dynamic_covariates": ("dynamic_covariates.csv", {"Id": "customer_id", "Cov.Date": "period_start",
                                                      "High.Season": "high_season", "Gender": "gender",
                                                      "Channel": "channel"}),
}


def load_apparel(table: str = "transactions") -> pd.DataFrame:
    """The apparel retailer of CLVTools (R): 600 customers, their purchases and covariates.

    A simulated cohort of 600 customers who made their first purchase at an apparel retailer on
    2005-01-02, with 3,187 transactions up to the end of 2010, shipped with the R package
    CLVTools (``apparelTrans``, ``apparelStaticCov``, ``apparelDynCov``); CLVTools' vignettes fit
    the Pareto/NBD with static covariates to it (``datasets/apparel/README.md``).

    Parameters
    ----------
    table : {"transactions", "static_covariates", "dynamic_covariates"}
        ``transactions``: ``customer_id`` (int), ``timestamp`` (datetime, day resolution) and
        ``amount`` (float, currency units); ``static_covariates``: ``customer_id``, ``gender``
        (1 = female, 0 = male) and ``channel`` (acquisition channel, 1 = offline, 0 = online),
        ints; ``dynamic_covariates``: one row per customer and week, ``customer_id``,
        ``period_start`` (datetime, the Sunday the week starts), ``high_season`` (1 in a high
        season week), ``gender`` and ``channel``.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> tx = load_apparel()
    >>> tx.shape, tx["customer_id"].nunique(), str(tx["timestamp"].min().date())
    ((3187, 3), 600, '2005-01-02')
    >>> load_apparel("static_covariates")[["gender", "channel"]].mean().round(3).tolist()
    [0.493, 0.38]
    """
    if table not in _APPAREL:
        raise ValueError(f"table must be one of {sorted(_APPAREL)}, got {table!r}")
    name, columns = _APPAREL[table]
    df = pd.read_csv(data_path("apparel", name)).rename(columns=columns)
    for col in ("timestamp", "period_start"):
        if col in df:
            df[col] = pd.to_datetime(df[col], format="%Y-%m-%d")
    ints = [c for c in df.columns if c in ("customer_id", "gender", "channel", "high_season")]
    return df.astype({c: "int64" for c in ints})[list(columns.values())]


#: The FEBRL data sets and their files.
_FEBRL_FILES = {1: ("dataset1.csv",), 2: ("dataset2.csv",), 3: ("dataset3.csv",), 4: ("dataset4a.csv", "dataset4b.csv")}


def load_febrl(number: int = 1) -> pd.DataFrame:
    """One of the four FEBRL person data sets (Christen 2008), with the true duplicates.

    Synthetic Australian person records made by the FEBRL data generator: originals and
    duplicates with typing errors, swapped and missing values; no e-mail or phone. Data set 4
    is two files (originals, then one duplicate each) stacked into one table. Every column is
    read as text (``date_of_birth`` "19151111", ``postcode`` "0800" keep their digits).

    Parameters
    ----------
    number : {1, 2, 3, 4}
        1: 1,000 records (500 originals, one duplicate each); 2: 5,000 (4,000 originals, up to 5
        duplicates); 3: 5,000 (2,000 originals, up to 5 duplicates); 4: 10,000 (5,000 pairs).

    Returns
    -------
    pandas.DataFrame
        ``record_id`` (e.g. "rec-223-org", "rec-223-dup-0"), ``given_name``, ``surname``,
        ``street_number``, ``address_1``, ``address_2``, ``suburb``, ``postcode``, ``state``,
        ``date_of_birth`` (YYYYMMDD), ``soc_sec_id`` (all text, missing as NA) and ``entity_id``
        (the truth: records with the same ``entity_id`` are one person).

    Examples
    --------
    >>> febrl = load_febrl(1)
    >>> len(febrl), febrl["entity_id"].nunique()
    (1000, 500)
    >>> febrl.loc[0, ["record_id", "surname", "date_of_birth", "postcode"]].tolist()
    ['rec-223-org', 'waller', '19081209', '4011']
    """
    if number not in _FEBRL_FILES:
        raise ValueError(f"number must be one of {sorted(_FEBRL_FILES)}, got {number!r}")
    frames = [pd.read_csv(data_path("febrl", name), skipinitialspace=True, dtype=str, keep_default_na=False,
                          na_values=[""]) for name in _FEBRL_FILES[number]]
    df = pd.concat(frames, ignore_index=True).rename(columns={"rec_id": "record_id"})
    df["entity_id"] = df["record_id"].str.extract(r"^rec-(\d+)-", expand=False)
    return df


from crm_models.datasets.world import (  # noqa: E402
    CRMWorld,
    default_world_config,
    load_crm_world,
    make_crm_world,
    save_crm_world,
)

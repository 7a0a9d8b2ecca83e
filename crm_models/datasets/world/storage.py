"""The simulated company on disk: CSV tables, ``truth_params.csv``, ``truth_effects.csv``, ``data_dictionary.csv``
and ``config.json``.

The frozen default world ships in the repository's ``datasets/crm_world/`` folder (installed as
``crm_models._data/crm_world``) and is read by :func:`load_crm_world`; :func:`save_crm_world`
writes any world in the same layout, and ``scripts/freeze_crm_world.py`` re-freezes the
default one. :data:`CSV_SCHEMA` fixes every column's dtype, so a loaded world has exactly the
dtypes of a generated one (strings as pandas ``str``, timestamps as ``datetime64[ns]``,
survey answers as nullable ``Int64``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from crm_models._files import write_atomic, write_text_atomic
from crm_models._validation import require_columns
from crm_models.datasets.world._arrays import DATETIME
from crm_models.datasets.world.container import CRMWorld
from crm_models.errors import DataError

__all__ = ["save_crm_world", "load_crm_world", "CSV_SCHEMA", "FROZEN_RANDOM_STATE", "schema_of"]

#: The ``random_state`` of the frozen default world (the other arguments are the defaults).
FROZEN_RANDOM_STATE = 42

#: The settings ``config.json`` must hold besides the generator's configuration.
_CONFIG_KEYS = ("n_customers", "start", "observation_period_end", "holdout_period_end", "random_state")

_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

_TRANSACTIONS = {
    'transaction_id': 'str',
    'record_id': 'str',
    'timestamp': 'datetime64[ns]',
    'channel': 'str',
    'category': 'str',
    'amount': 'float64',
    'discount': 'float64',
}

#: The column dtypes of the CSV tables (the tests check them against the generator); the
#: observed and the future transactions share one layout.
CSV_SCHEMA: dict[str, dict[str, str]] = {
    'people': {
        'person_id': 'str',
        'first_name': 'str',
        'last_name': 'str',
        'email': 'str',
        'phone': 'str',
        'date_of_birth': 'datetime64[ns]',
        'street': 'str',
        'city': 'str',
        'postcode': 'str',
        'acquisition_date': 'datetime64[ns]',
        'acquisition_channel': 'str',
        'acquired_on_promotion': 'bool',
        'age_band': 'str',
        'needs_segment': 'str',
        'purchase_rate': 'float64',
        'dropout_prob': 'float64',
        'spend_level': 'float64',
        'spend_shape': 'float64',
        'preferred_category': 'str',
        'price_sensitivity': 'float64',
        'preferred_channel': 'str',
        'satisfaction_propensity': 'float64',
        'campaign_response_prob': 'float64',
        'dropout_date': 'datetime64[ns]',
        'household_id': 'str',
        'n_systems': 'int64',
        'has_duplicate_account': 'bool',
        'moved_at': 'datetime64[ns]',
        'previous_street': 'str',
        'previous_city': 'str',
        'previous_postcode': 'str',
    },
    'records': {
        'record_id': 'str',
        'source': 'str',
        'first_name': 'str',
        'last_name': 'str',
        'email': 'str',
        'phone': 'str',
        'date_of_birth': 'str',
        'street': 'str',
        'city': 'str',
        'postcode': 'str',
        'created_at': 'datetime64[ns]',
    },
    'record_truth': {
        'record_id': 'str',
        'person_id': 'str',
        'source': 'str',
        'is_duplicate_account': 'bool',
        'first_name_variant': 'str',
        'last_name_typo': 'bool',
        'name_layout': 'str',
        'email_typo': 'bool',
        'alternative_email': 'bool',
        'phone_typo': 'bool',
        'dob_error': 'bool',
        'old_address': 'bool',
        'street_typo': 'bool',
        'postcode_typo': 'bool',
    },
    'transactions': _TRANSACTIONS,
    'interactions': {
        'interaction_id': 'str',
        'record_id': 'str',
        'timestamp': 'datetime64[ns]',
        'type': 'str',
        'reason': 'str',
        'satisfaction': 'Int64',
        'nps': 'Int64',
        'channel': 'str',
    },
    'campaign': {
        'person_id': 'str',
        'record_id': 'str',
        'group': 'str',
        'sent_at': 'datetime64[ns]',
        'cost': 'float64',
        'responded': 'bool',
        'revenue_after': 'float64',
        'needs_segment': 'str',
        'alive_at_sent': 'bool',
        'true_uplift': 'float64',
        'true_revenue_uplift': 'float64',
        'induced_transaction_id': 'str',
    },
    'future': {
        'person_id': 'str',
        'alive_at_end': 'bool',
        'alive_at_holdout_end': 'bool',
        'dropout_date': 'datetime64[ns]',
        'n_purchases': 'int64',
        'spend': 'float64',
        'expected_purchases': 'float64',
        'expected_spend': 'float64',
        'treatment_extra_purchase_prob': 'float64',
        'treatment_extra_revenue': 'float64',
    },
    'future_transactions': _TRANSACTIONS,
}


def _files() -> list[str]:
    return [f"{name}.csv" for name in CSV_SCHEMA] + ["truth_params.csv", "truth_effects.csv", "data_dictionary.csv",
                                                    "config.json"]


def schema_of(df: pd.DataFrame) -> dict[str, str]:
    """Column -> dtype name of ``df``, strings of any storage as ``"str"`` (the form of :data:`CSV_SCHEMA`).

    Parameters
    ----------
    df : pandas.DataFrame

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> schema_of(pd.DataFrame({"a": pd.Series(["x"], dtype="str"), "b": [1.5]}))
    {'a': 'str', 'b': 'float64'}
    """
    return {c: "str" if pd.api.types.is_string_dtype(d) else str(d) for c, d in df.dtypes.items()}


def save_crm_world(world: CRMWorld, path, *, overwrite: bool = False) -> Path:
    """Write a simulated company as the CSV files and ``config.json`` that :func:`load_crm_world` reads.

    Timestamps are written to the second (``%Y-%m-%d %H:%M:%S``), floats at full precision;
    ``truth_params.csv`` keeps its ``needs_segment`` index and ``truth_effects.csv`` its ``attribute``
    index. The frozen default world is written
    by ``scripts/freeze_crm_world.py`` with this function.

    Parameters
    ----------
    world : CRMWorld
        The world to write.
    path : str or pathlib.Path
        The folder (created if needed).
    overwrite : bool
        Replace files of an earlier save in ``path``; without it, existing files are an error.

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    FileExistsError
        If ``path`` already holds one of the files and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile
    >>> from crm_models.datasets import make_crm_world
    >>> folder = save_crm_world(make_crm_world(n_customers=50), tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())[:3]
    ['campaign.csv', 'config.json', 'data_dictionary.csv']
    >>> len(load_crm_world(folder).people)
    50
    """
    if not isinstance(world, CRMWorld):
        raise TypeError(f"world must be a CRMWorld, got {type(world).__name__}")
    folder = Path(path)
    existing = [name for name in _files() if (folder / name).exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{folder} already holds {existing}; pass overwrite=True to replace them")
    folder.mkdir(parents=True, exist_ok=True)
    for name in CSV_SCHEMA:  # each file written atomically: an interrupted save leaves no half file
        write_atomic(folder / f"{name}.csv",
                     lambda tmp, name=name: getattr(world, name).to_csv(tmp, index=False, date_format=_DATE_FORMAT))
    write_atomic(folder / "truth_params.csv", world.truth_params.to_csv)
    write_atomic(folder / "truth_effects.csv", world.truth_effects.to_csv)
    write_atomic(folder / "data_dictionary.csv", lambda tmp: world.data_dictionary.to_csv(tmp, index=False))
    write_text_atomic(folder / "config.json", json.dumps(world.config, indent=1, sort_keys=False) + "\n")
    return folder


def load_crm_world(path=None) -> CRMWorld:
    """The frozen default simulated company, or a world written by :func:`save_crm_world`.

    The default world is ``make_crm_world(random_state=42)`` with every other argument at its
    default (3,000 people, observation 2023-01-01 to 2024-12-31, holdout to 2025-06-30),
    shipped as CSV in ``datasets/crm_world/``; its README tells the generative story and
    documents every column. Loading takes well under a second.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A folder written by :func:`save_crm_world`; ``None`` (default) loads the frozen world.

    Returns
    -------
    CRMWorld
        The same tables and dtypes as :func:`~crm_models.datasets.make_crm_world` produces.

    Raises
    ------
    FileNotFoundError
        If a file of the world is missing.
    crm_models.errors.DataError
        If a table lacks a column or ``config.json`` lacks a setting.

    Examples
    --------
    >>> world = load_crm_world()
    >>> len(world.people), world.config["random_state"], world.config["observation_period_end"]
    (3000, 42, '2024-12-31')
    >>> world.transactions["amount"].dtype
    dtype('float64')
    """
    if path is None:
        from crm_models.datasets import data_path

        folder = data_path("crm_world")
    else:
        folder = Path(path)
    absent = [name for name in _files() if not (folder / name).is_file()]
    if absent:
        raise FileNotFoundError(f"{folder} is not a saved simulated company: it lacks {absent}")
    cfg = json.loads((folder / "config.json").read_text())
    what = str(folder / "config.json")
    if not isinstance(cfg, dict):
        raise DataError(None, "must hold a JSON object", what=what)
    for key in _CONFIG_KEYS:
        if key not in cfg:
            raise DataError(key, "is missing", what=what,
                            message=f"{what} lacks the setting '{key}'; it holds {sorted(cfg)}.",
                            hint="Write worlds with crm_models.datasets.save_crm_world.")
    tables = {name: _read_table(folder / f"{name}.csv", spec) for name, spec in CSV_SCHEMA.items()}
    tp = pd.read_csv(folder / "truth_params.csv")
    require_columns(tp, ["needs_segment"], what="truth_params.csv")
    tp = tp.astype({"needs_segment": "str"}).set_index("needs_segment")
    te = pd.read_csv(folder / "truth_effects.csv", dtype={"attribute": "str", "reference": "str"})
    require_columns(te, ["attribute", "purchase", "dropout", "spend", "reference"], what="truth_effects.csv")
    te = te.set_index("attribute")
    dd = pd.read_csv(folder / "data_dictionary.csv", dtype=str, keep_default_na=False)
    require_columns(dd, ["table", "column", "kind", "unit", "meaning"], what="data_dictionary.csv")
    return CRMWorld(truth_params=tp, truth_effects=te, data_dictionary=dd, config=cfg, **tables)


def _read_table(path: Path, spec: dict[str, str]) -> pd.DataFrame:
    str_cols = [c for c, d in spec.items() if d == "str"]
    df = pd.read_csv(path, dtype={c: "str" for c in str_cols}, keep_default_na=False, na_values=[""])
    require_columns(df, spec, what=path.name)
    for c, d in spec.items():
        if d == DATETIME:
            df[c] = pd.to_datetime(df[c], format="ISO8601").astype(DATETIME)
        elif d == "bool":
            df[c] = df[c].astype(bool)
        else:
            df[c] = df[c].astype(d)
    return df[list(spec)]

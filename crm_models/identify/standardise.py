"""Standardise contact data so that records from different systems can be compared.

Every cleaner works on one value and returns either the canonical form or ``None``; the table
function :func:`standardise_records` applies them column by column (each distinct raw value is
cleaned once), and reports every value it could not use in a ``problems`` table rather than
dropping it silently. The raw value stays in the problems table; the cleaned column holds a
missing value, so linkage treats it as unknown rather than as a mismatch.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
from nicknames import NickNamer

from crm_models._validation import require_columns
from crm_models.errors import DataError

__all__ = [
    "IDENTIFYING_COLUMNS",
    "STANDARD_COLUMNS",
    "DOB_FORMATS",
    "StandardisedRecords",
    "clean_name",
    "split_full_name",
    "canonical_first_name",
    "first_name_variants",
    "clean_email",
    "clean_phone",
    "clean_postcode",
    "clean_date_of_birth",
    "infer_dob_formats",
    "standardise_records",
]

#: Columns that identify a person; at least one must be present for linkage.
IDENTIFYING_COLUMNS = ("first_name", "last_name", "email", "phone", "date_of_birth", "street", "city", "postcode")
#: All columns :func:`standardise_records` understands (``loyalty_id`` is decisive when shared).
STANDARD_COLUMNS = (*IDENTIFYING_COLUMNS, "loyalty_id", "created_at")

#: Date-of-birth formats tried in order when a source has no stated format. Day-first
#: formats come before month-first ones (ties go to the first); state the
#: format per source with ``dob_formats`` to remove the ambiguity of ``03/04/1980``.
DOB_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%Y%m%d",
    "%Y/%m/%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%m/%d/%Y",
    "%d/%m/%y",
)

_NAME_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "rev"}
_NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md"}
_EMAIL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
_UK_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_NAME_JOINERS = re.compile(r"['’`-]")
_NON_LETTERS = re.compile(r"[^a-z ]+")
_MISSING_TOKENS = {"", "na", "n/a", "none", "null", "nan", "-", "unknown", "?"}


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _MISSING_TOKENS


def _ascii_fold(text: str) -> str:
    """Remove accents: 'Zoë Šťastná' -> 'Zoe Stastna'."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clean_name(value) -> str | None:
    """One name field in canonical form: lower case, accents and punctuation removed.

    Titles (Mr, Dr, ...) and suffixes (Jr, III, ...) are dropped, hyphens and apostrophes
    join the parts ("O'Brien" -> "obrien", "Smith-Jones" -> "smithjones"), and an initial
    keeps its letter ("J." -> "j").

    Parameters
    ----------
    value : object
        A raw name (missing values: None, NaN, "", "n/a", "unknown", ...).

    Returns
    -------
    str or None
        The canonical name, or ``None`` when nothing is left.

    Examples
    --------
    >>> clean_name("  Dr. Zoë O'Brien-Smith Jr ")
    'zoe obriensmith'
    >>> clean_name("n/a") is None
    True
    """
    if _is_missing(value):
        return None
    text = _ascii_fold(str(value)).lower()
    text = _NAME_JOINERS.sub("", text)
    text = _NON_LETTERS.sub(" ", text)
    parts = [p for p in text.split() if p not in _NAME_TITLES and p not in _NAME_SUFFIXES]
    return " ".join(parts) or None


def split_full_name(value) -> tuple[str | None, str | None]:
    """Split a combined name field into (first, last).

    "Smith, John" -> ("john", "smith"); "John A. Smith" -> ("john", "smith") (middle names are
    dropped); a single word is taken as the last name.

    Parameters
    ----------
    value : object
        A raw combined name.

    Returns
    -------
    tuple of (str or None, str or None)
        ``(first, last)`` in canonical form (see :func:`clean_name`).

    Examples
    --------
    >>> split_full_name("Smith, John")
    ('john', 'smith')
    >>> split_full_name("Smith")
    (None, 'smith')
    """
    if _is_missing(value):
        return None, None
    text = str(value)
    if "," in text:
        last, _, first = text.partition(",")
        first_clean, last_clean = clean_name(first), clean_name(last)
        first_clean = first_clean.split()[0] if first_clean else None
        return first_clean, last_clean
    cleaned = clean_name(text)
    if cleaned is None:
        return None, None
    parts = cleaned.split()
    if len(parts) == 1:
        return None, parts[0]
    return parts[0], parts[-1]


@lru_cache(maxsize=262144)
def _names(first_raw, last_raw, full_raw) -> tuple[str | None, str | None]:
    """(first, last) from the first, last and combined name fields of one record."""
    first_raw = None if _is_missing(first_raw) else str(first_raw)
    last_raw = None if _is_missing(last_raw) else str(last_raw)
    full_raw = None if _is_missing(full_raw) else str(full_raw)
    if last_raw is not None and "," in last_raw and first_raw is None:
        first, last = split_full_name(last_raw)
    elif first_raw is not None and "," in first_raw and last_raw is None:
        first, last = split_full_name(first_raw)
    elif first_raw is not None and last_raw is None and len(first_raw.split()) > 1:
        first, last = split_full_name(first_raw)
    elif last_raw is not None and first_raw is None and len(last_raw.split()) > 1:
        first, last = split_full_name(last_raw)
    elif first_raw is None and last_raw is None and full_raw is not None:
        first, last = split_full_name(full_raw)
    else:
        first, last = clean_name(first_raw), clean_name(last_raw)
    # "mary ann" -> "mary"; a single letter is an initial and stays one letter
    first = first.split()[0] if first else None
    last = last.replace(" ", "") if last else None
    return first, last


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=65536)
def canonical_first_name(name: str | None) -> str | None:
    """A nickname-canonical first name: "bob" -> "robert", "liz" -> "elizabeth".

    Among the name and the formal names the ``nicknames`` package lists for it, the one with
    the most known nicknames wins (ties: alphabetical), so a formal name maps to itself.
    The nickname relation is not transitive, so this is a blocking key and one comparison level;
    :func:`first_name_variants` covers the remaining pairs.

    Parameters
    ----------
    name : str or None
        A cleaned first name (see :func:`clean_name`).

    Returns
    -------
    str or None

    Examples
    --------
    >>> canonical_first_name("bob"), canonical_first_name("liz")
    ('robert', 'elizabeth')
    """
    if not name:
        return None
    nn = _nicknamer()
    candidates = nn.canonicals_of(name) | {name}
    return min(candidates, key=lambda s: (-len(nn.nicknames_of(s)), s))


@lru_cache(maxsize=65536)
def first_name_variants(name: str | None) -> tuple[str, ...] | None:
    """The name with every formal name it may be a nickname of, sorted.

    Parameters
    ----------
    name : str or None
        A cleaned first name (see :func:`clean_name`).

    Returns
    -------
    tuple of str or None

    Examples
    --------
    >>> "robert" in first_name_variants("bob")
    True
    """
    if not name:
        return None
    return tuple(sorted(_nicknamer().canonicals_of(name) | {name}))


def clean_email(value) -> str | None:
    """Lower-cased, trimmed e-mail address, or ``None`` if it is missing or not an address.

    Parameters
    ----------
    value : object
        A raw e-mail address (a ``mailto:`` prefix and spaces are removed).

    Returns
    -------
    str or None

    Examples
    --------
    >>> clean_email(" Jane.Doe@Example.COM ")
    'jane.doe@example.com'
    >>> clean_email("jane@") is None
    True
    """
    if _is_missing(value):
        return None
    text = str(value).strip().lower().replace(" ", "")
    text = text.removeprefix("mailto:")
    return text if _EMAIL_RE.match(text) and ".." not in text else None


def clean_phone(value, default_region: str = "US") -> str | None:
    """Phone number in E.164 ("+447700900123"), or ``None`` if it cannot be a phone number.

    National numbers are read in ``default_region`` (ISO 3166 code); extensions are dropped.
    A number is kept when ``phonenumbers`` calls it possible for its country (the fictional
    ranges Ofcom reserves for drama, which simulated data use, are possible but not "valid").

    Parameters
    ----------
    value : object
        A raw phone number (text, or digits read as a number).
    default_region : str
        ISO 3166 region of numbers written without a country code.

    Returns
    -------
    str or None

    Examples
    --------
    >>> clean_phone("(212) 555-0123")
    '+12125550123'
    >>> clean_phone("07700 900123", "GB")
    '+447700900123'
    """
    if _is_missing(value):
        return None
    text = str(value).strip()
    if isinstance(value, (int, np.integer)) or re.fullmatch(r"\d+\.0", text):
        text = text.removesuffix(".0")  # a phone column read as numbers
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_postcode(value) -> str | None:
    """Upper-case postcode with single spacing; UK postcodes as "SW1A 1AA".

    Anything that is not a UK postcode keeps its letters and digits, upper-cased, so other
    countries' codes still compare exactly.

    Parameters
    ----------
    value : object
        A raw postcode or ZIP code.

    Returns
    -------
    str or None

    Examples
    --------
    >>> clean_postcode("sw1a1aa"), clean_postcode(" 90210-1234")
    ('SW1A 1AA', '902101234')
    """
    if _is_missing(value):
        return None
    compact = re.sub(r"[^A-Z0-9]", "", _ascii_fold(str(value)).upper())
    if not compact:
        return None
    m = _UK_POSTCODE_RE.match(compact)
    if m:
        return f"{m.group(1)} {m.group(2)}"
    return compact


def clean_date_of_birth(
    value, formats: tuple[str, ...] | list[str] = DOB_FORMATS, *, min_year: int = 1900, today: date | None = None
) -> str | None:
    """Date of birth as ISO "YYYY-MM-DD", trying ``formats`` in order; ``None`` if none fits.

    Dates before ``min_year`` or after ``today`` are impossible birth dates and give ``None``.

    Parameters
    ----------
    value : object
        A raw date (text, ``datetime``, ``date`` or ``Timestamp``).
    formats : sequence of str
        strptime formats tried in order.
    min_year : int
        Earliest possible year of birth.
    today : datetime.date, optional
        Latest possible date of birth (default: today).

    Returns
    -------
    str or None

    Examples
    --------
    >>> clean_date_of_birth("24 Mar 1980"), clean_date_of_birth("03/24/1980", ("%m/%d/%Y",))
    ('1980-03-24', '1980-03-24')
    >>> clean_date_of_birth("31/02/1980") is None
    True
    """
    if _is_missing(value):
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        parsed = pd.Timestamp(value).date()
    else:
        text = re.sub(r"\s+", " ", str(value).strip())
        parsed = None
        for fmt in formats:
            try:
                parsed = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        if parsed is None:
            return None
    today = today or date.today()
    if parsed.year < min_year or parsed > today:
        return None
    return parsed.isoformat()


def infer_dob_formats(values: pd.Series, candidates: tuple[str, ...] = DOB_FORMATS, n_sample: int = 2000) -> tuple[str, ...]:
    """``candidates`` reordered so the format that parses most of ``values`` comes first.

    One source writes its dates one way: a month-first source has many dates with a "day" above
    12 that a day-first format rejects, so counting successes picks "%m/%d/%Y" for it and
    "%d/%m/%Y" for a day-first source (ties keep the order of ``candidates``).

    Parameters
    ----------
    values : pandas.Series
        The raw dates of birth of one source.
    candidates : sequence of str
        strptime formats, in order of preference.
    n_sample : int
        At most this many distinct values are tried.

    Returns
    -------
    tuple of str
        ``candidates`` with the most successful format first.

    Examples
    --------
    >>> infer_dob_formats(pd.Series(["03/24/1960", "12/31/1999"]))[0]
    '%m/%d/%Y'
    """
    distinct = pd.Series(values.dropna().astype(str).unique()[:n_sample])
    if distinct.empty:
        return tuple(candidates)

    def hits(fmt: str) -> int:
        return int(pd.to_datetime(distinct, format=fmt, errors="coerce").notna().sum())

    counts = [hits(f) for f in candidates]
    best = int(np.argmax(counts))
    return (candidates[best], *[f for i, f in enumerate(candidates) if i != best])


@dataclass
class StandardisedRecords:
    """Result of :func:`standardise_records`.

    Attributes
    ----------
    data : DataFrame
        One row per input record, in input order, with ``record_id``, ``source`` and the
        standardised columns (absent ones are all missing) plus ``first_name_canon`` and
        ``first_name_variants`` for nickname matching and ``created_at`` (datetime).
    problems : DataFrame
        One row per value that was present but could not be used: ``record_id``, ``source``,
        ``column``, ``value`` (raw, as text) and ``reason``.

    Examples
    --------
    >>> std = standardise_records(pd.DataFrame({"record_id": [1], "source": ["web"], "email": ["x@"]}))
    >>> std.problems[["column", "reason"]].to_dict("records")
    [{'column': 'email', 'reason': 'not an e-mail address'}]
    """

    data: pd.DataFrame
    problems: pd.DataFrame


def _map_unique(series: pd.Series, func: Callable) -> pd.Series:
    """Apply ``func`` once per distinct value (raw values repeat a lot in contact data)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    cleaned = np.array([func(u) for u in uniques] + [None], dtype=object)
    return pd.Series(cleaned[codes], index=series.index, dtype=object)


def standardise_records(
    records: pd.DataFrame,
    *,
    record_id_col: str = "record_id",
    source_col: str | None = "source",
    columns: Mapping[str, str] | None = None,
    default_region: str = "US",
    dob_formats: Mapping[str, str | list[str]] | None = None,
    today: date | None = None,
) -> StandardisedRecords:
    """Standardise the contact columns of ``records``.

    Parameters
    ----------
    records : DataFrame
        One row per source record.
    record_id_col, source_col : str
        Names of the record id and source-system columns (``source_col=None``: one source).
    columns : mapping, optional
        Standard name -> column name in ``records`` for any of :data:`STANDARD_COLUMNS` whose
        name differs (e.g. ``{"postcode": "zip"}``); a standard name absent from ``records``
        is simply unavailable. ``full_name`` may map to a combined name column, used where
        first or last name is missing.
    default_region : str
        Region (ISO 3166 alpha-2) for phone numbers written without a country code.
    dob_formats : mapping, optional
        Source -> strptime format(s) for dates of birth from that source; for other sources
        the format that parses most of their values is found by :func:`infer_dob_formats`.
    today : date, optional
        Latest possible date of birth (default: today).

    Returns
    -------
    StandardisedRecords
        ``data`` and ``problems`` tables (see :class:`StandardisedRecords`).

    Raises
    ------
    crm_models.errors.DataError
        A column named by ``record_id_col``, ``source_col`` or ``columns`` is missing.

    Examples
    --------
    >>> raw = pd.DataFrame({"id": [1, 2], "src": ["web", "store"], "name": ["Smith, Bob", "Liz Lee"],
    ...                     "tel": ["(212) 555-0123", "42"]})
    >>> std = standardise_records(raw, record_id_col="id", source_col="src",
    ...                           columns={"full_name": "name", "phone": "tel"})
    >>> std.data[["first_name", "last_name", "first_name_canon", "phone"]]
      first_name last_name first_name_canon         phone
    0        bob     smith           robert  +12125550123
    1        liz       lee        elizabeth          None
    >>> std.problems["value"].tolist()
    ['42']
    """
    require_columns(records, [record_id_col] + ([source_col] if source_col else []), what="records")
    cols = {c: c for c in (*STANDARD_COLUMNS, "full_name") if c in records.columns}
    for std, given in (columns or {}).items():
        if std not in (*STANDARD_COLUMNS, "full_name"):
            raise ValueError(
                f"columns: unknown standard column {std!r}; use any of {[*STANDARD_COLUMNS, 'full_name']}"
            )
        if given not in records.columns:
            raise DataError(
                given,
                "is missing",
                what="records",
                message=f"columns maps {std!r} to {given!r}, which is not a column of records; "
                f"the columns present are {list(map(str, records.columns))}",
            )
        cols[std] = given
    n = len(records)
    index = pd.RangeIndex(n)
    raw = {std: records[col].reset_index(drop=True) for std, col in cols.items()}
    out = pd.DataFrame(
        {
            "record_id": records[record_id_col].to_numpy(),
            "source": records[source_col].astype(str).to_numpy() if source_col else np.full(n, "records"),
        },
        index=index,
    )
    problems: list[pd.DataFrame] = []

    def note(std: str, raw_values: pd.Series, cleaned: pd.Series, reason: str) -> None:
        text = raw_values.astype("string").str.strip().str.lower()
        present = (raw_values.notna() & ~text.isin(_MISSING_TOKENS).fillna(True)).to_numpy(bool)
        bad = present & cleaned.isna()
        if bad.any():
            problems.append(
                pd.DataFrame(
                    {
                        "record_id": out.loc[bad, "record_id"].to_numpy(),
                        "source": out.loc[bad, "source"].to_numpy(),
                        "column": cols[std],
                        "value": raw_values[bad].astype(str).to_numpy(),
                        "reason": reason,
                    }
                )
            )

    # Names: a comma or an empty partner field marks a combined "Last, First" / "First Last" field.
    def col(std):
        return raw[std].to_numpy(object) if std in raw else np.full(n, None, dtype=object)

    pairs = [_names(f, l, u) for f, l, u in zip(col("first_name"), col("last_name"), col("full_name"))]
    first = pd.Series([p[0] for p in pairs], index=index, dtype=object)
    last = pd.Series([p[1] for p in pairs], index=index, dtype=object)
    for std, cleaned in (("first_name", first), ("last_name", last)):
        if std in raw:
            note(std, raw[std], cleaned, "no name left after cleaning")
    out["first_name"] = first
    out["last_name"] = last
    full_first = first.where(first.str.len() > 1)
    out["first_name_canon"] = _map_unique(full_first, canonical_first_name)
    out["first_name_variants"] = _map_unique(full_first, first_name_variants).map(
        lambda t: list(t) if isinstance(t, tuple) else None
    )

    if "email" in raw:
        out["email"] = _map_unique(raw["email"], clean_email)
        note("email", raw["email"], out["email"], "not an e-mail address")
    else:
        out["email"] = None
    if "phone" in raw:
        # one parse per number however it was written: key = optional "+" and the digits
        as_text = raw["phone"].astype("string")
        key = as_text.str.strip().str[:1].where(as_text.str.strip().str.startswith("+"), "") + as_text.str.replace(
            r"(?i)(ext|x)\.?\s*\d+$", "", regex=True).str.replace(r"\D", "", regex=True)
        key = key.where(key.str.len() >= 3, as_text)  # keep odd values whole
        parsed = _map_unique(key.astype(object).where(key.notna(), None), lambda v: clean_phone(v, default_region))
        out["phone"] = parsed.where(raw["phone"].notna(), None)
        note("phone", raw["phone"], out["phone"], f"not a possible phone number (default region {default_region})")
    else:
        out["phone"] = None
    if "date_of_birth" in raw:
        dob = pd.Series(None, index=index, dtype=object)
        per_source = dict(dob_formats or {})
        for src, pos in out.groupby("source", sort=True).indices.items():
            values = raw["date_of_birth"].iloc[pos]
            fmts = per_source.get(src)
            fmts = infer_dob_formats(values) if fmts is None else ((fmts,) if isinstance(fmts, str) else tuple(fmts))
            dob.iloc[pos] = _map_unique(values, lambda v, f=fmts: clean_date_of_birth(v, f, today=today)).to_numpy()
        out["date_of_birth"] = dob
        note("date_of_birth", raw["date_of_birth"], dob, "not a possible date of birth in the known formats")
    else:
        out["date_of_birth"] = None
    for std in ("street", "city"):
        if std in raw:
            out[std] = _map_unique(raw[std], clean_name)
            note(std, raw[std], out[std], "no letters left after cleaning")
        else:
            out[std] = None
    if "street" in raw:  # keep house numbers: they tell neighbours apart
        out["street"] = _map_unique(
            raw["street"],
            lambda v: None if _is_missing(v) else (
                " ".join(re.sub(r"[^a-z0-9 ]+", " ", _ascii_fold(str(v)).lower()).split()) or None),
        )
    if "postcode" in raw:
        out["postcode"] = _map_unique(raw["postcode"], clean_postcode)
        note("postcode", raw["postcode"], out["postcode"], "no letters or digits")
    else:
        out["postcode"] = None
    if "loyalty_id" in raw:
        out["loyalty_id"] = _map_unique(raw["loyalty_id"], lambda v: None if _is_missing(v) else str(v).strip().upper())
    else:
        out["loyalty_id"] = None
    if "created_at" in raw:
        created = pd.to_datetime(raw["created_at"], errors="coerce", format="mixed")
        bad = raw["created_at"].notna() & created.isna()
        if bad.any():
            note("created_at", raw["created_at"], created.astype(object).where(~bad, None), "not a date")
        out["created_at"] = created
    else:
        out["created_at"] = pd.NaT
    problems_df = (
        pd.concat(problems, ignore_index=True)
        if problems
        else pd.DataFrame({k: pd.Series(dtype=object) for k in ("record_id", "source", "column", "value", "reason")})
    )
    return StandardisedRecords(data=out, problems=problems_df)

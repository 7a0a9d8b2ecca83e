"""Standardise contact data so that records from different systems can be compared.

Every cleaner works on one value and returns either the canonical form or ``None``; the table
function :func:`standardise_records` applies them column by column (each distinct raw value is
cleaned once), and reports every value it could not use in a ``problems`` table rather than
dropping it silently. The raw value stays in the problems table; the cleaned column holds a
missing value, so linkage treats it as unknown rather than as a mismatch.

Names from any script are transliterated to Latin letters with ``anyascii`` ("Søren Ødegård" ->
"soren odegard", "Ægir" -> "aegir", "Иван" -> "ivan", "王小明" -> "wangxiaoming"), so they stay
comparable instead of losing letters; every value changed beyond case, spacing and punctuation
is listed in a ``changes`` table, and so is every number recovered from a column a spreadsheet or
``pandas.read_csv`` read as numbers (dates of birth as ``19151111.0``, postcodes without their
leading zeros).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
from anyascii import anyascii
from nicknames import NickNamer

from crm_models._validation import require_columns
from crm_models.errors import N_SHOWN, DataError

__all__ = [
    "IDENTIFYING_COLUMNS",
    "STANDARD_COLUMNS",
    "ROLES",
    "DOB_FORMATS",
    "MAX_SHARED",
    "StandardisedRecords",
    "column_roles",
    "transliterate",
    "clean_name",
    "split_full_name",
    "canonical_first_name",
    "first_name_variants",
    "clean_email",
    "clean_phone",
    "clean_postcode",
    "clean_date_of_birth",
    "clean_gender",
    "clean_identifier",
    "identifier_column",
    "infer_dob_formats",
    "standardise_records",
]

#: Columns that identify a person; at least one of them (or an identifier) must hold values.
IDENTIFYING_COLUMNS = ("first_name", "last_name", "email", "phone", "date_of_birth", "street", "city", "postcode")
#: All standardised columns :func:`standardise_records` writes under a fixed name (``loyalty_id``
#: is an identifier: decisive when shared; ``gender`` is compared but identifies nobody alone).
STANDARD_COLUMNS = (*IDENTIFYING_COLUMNS, "gender", "loyalty_id", "created_at")

#: The roles a column of contact data can play, as keys of ``columns={role: column}``. A column
#: named like a role is used for it without a mapping (except ``identifier``, which is always
#: named). ``identifier`` takes any number of columns (a list): loyalty numbers, national ids,
#: account numbers; each is standardised to ``id_<column name>``.
ROLES = {
    "first_name": "given name",
    "last_name": "family name",
    "full_name": "combined name ('Smith, John' or 'John Smith'), used where first or last name is missing",
    "email": "e-mail address",
    "phone": "phone number (any format; E.164 after cleaning)",
    "date_of_birth": "date of birth (text in any listed format, a date, or a number such as 19151111)",
    "street": "street address with house number",
    "city": "town or city",
    "postcode": "postcode or ZIP code (numbers that lost leading zeros are restored)",
    "gender": "gender or sex (m/f/other); evidence, not an identifier",
    "loyalty_id": "loyalty-card number (an identifier)",
    "identifier": "any number of identifier columns: national id, account or customer number",
    "created_at": "when the record was created (a date; ties in golden records go to the latest)",
}

#: A value of an e-mail, phone or identifier column shared by more records than this is a
#: placeholder ("none@none.com", "0000000"), not a person's own value: it is left out (listed in
#: ``problems``) so that it neither links nor blocks thousands of records together.
MAX_SHARED = 50

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
    "%d%m%Y",
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


def transliterate(text: str) -> str:
    """Text in ASCII letters, whatever its script (``anyascii``: one mapping per character).

    Accents go ("Zoë Šťastná" -> "Zoe Stastna"), letters that are not accented forms become
    their usual Latin spelling ("ø" -> "o", "æ" -> "ae", "ß" -> "ss", "þ" -> "th") and other
    scripts are romanised ("Иван" -> "Ivan", "Γιώργος" -> "Giorgos", "王小明" -> "WangXiaoMing").

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        ASCII text (unchanged if it already was).

    Examples
    --------
    >>> transliterate("Søren Ødegård"), transliterate("Ægir"), transliterate("Straße"), transliterate("Þórunn")
    ('Soren Odegard', 'Aegir', 'Strasse', 'Thorunn')
    >>> transliterate("Иван Петров")
    'Ivan Petrov'
    """
    if text.isascii():
        return text
    return anyascii(unicodedata.normalize("NFC", text))


def clean_name(value) -> str | None:
    """One name field in canonical form: lower case, accents and punctuation removed.

    Titles (Mr, Dr, ...) and suffixes (Jr, III, ...) are dropped, hyphens and apostrophes
    join the parts ("O'Brien" -> "obrien", "Smith-Jones" -> "smithjones"), an initial
    keeps its letter ("J." -> "j"), and letters of any script are transliterated
    (:func:`transliterate`: "Søren" -> "soren", "Ægir" -> "aegir", "Иван" -> "ivan").

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
    >>> clean_name("Søren Ødegård"), clean_name("Ægir"), clean_name("Иван")
    ('soren odegard', 'aegir', 'ivan')
    >>> clean_name("n/a") is None
    True
    """
    if _is_missing(value):
        return None
    text = transliterate(str(value)).lower()
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
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)  # a postcode column read as numbers
    compact = re.sub(r"[^A-Z0-9]", "", transliterate(str(value)).upper())
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
    A whole number (``19151111`` or ``19151111.0``, as a spreadsheet or ``pandas.read_csv`` reads a
    column of dates written ``YYYYMMDD``) is read as its digits.

    Parameters
    ----------
    value : object
        A raw date (text, ``datetime``, ``date``, ``Timestamp`` or a whole number).
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
    >>> clean_date_of_birth(19151111.0)
    '1915-11-11'
    >>> clean_date_of_birth("31/02/1980") is None
    True
    """
    if _is_missing(value):
        return None
    if isinstance(value, (datetime, date, pd.Timestamp)):
        parsed = pd.Timestamp(value).date()
    else:
        text = _whole_number_text(value)
        text = re.sub(r"\s+", " ", text.strip())
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


def _whole_number_text(value) -> str:
    """``str(value)``, except that a whole number loses the ``.0`` a float column gives it."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    text = str(value)
    if _WHOLE_FLOAT.match(text):
        return text.strip()[:-2]
    return text


_WHOLE_FLOAT = re.compile(r"^\s*\d+\.0\s*$")

_GENDERS = {
    "m": "m", "male": "m", "man": "m", "mr": "m", "masculine": "m", "homme": "m", "mann": "m",
    "f": "f", "female": "f", "woman": "f", "w": "f", "mrs": "f", "ms": "f", "miss": "f", "feminine": "f",
    "femme": "f", "frau": "f", "weiblich": "f", "maennlich": "m", "mannlich": "m",
}


def clean_gender(value) -> str | None:
    """Gender as ``"m"``, ``"f"`` or another value in lower-case ASCII; ``None`` if missing.

    Common spellings in English, French and German map to ``"m"`` and ``"f"`` ("Male", "F",
    "woman", "Frau"); any other value (for example "x" or "non-binary") is kept, so two records
    agree when they say the same.

    Parameters
    ----------
    value : object
        A raw gender or sex.

    Returns
    -------
    str or None

    Examples
    --------
    >>> clean_gender("Female"), clean_gender(" M "), clean_gender("X"), clean_gender("n/a")
    ('f', 'm', 'x', None)
    """
    if _is_missing(value):
        return None
    text = " ".join(re.sub(r"[^a-z0-9]+", " ", transliterate(str(value)).lower()).split())
    if not text:
        return None
    return _GENDERS.get(text, text)


def clean_identifier(value) -> str | None:
    """An identifier (loyalty number, national id, account) as upper-case letters and digits.

    Spaces, hyphens, dots and slashes are formatting, not part of the identifier
    ("ab-123 45" -> "AB12345"); a whole number read as a float loses its ``.0``.

    Parameters
    ----------
    value : object
        A raw identifier (text or a whole number).

    Returns
    -------
    str or None
        ``None`` if missing or nothing is left.

    Examples
    --------
    >>> clean_identifier("ab-123 45"), clean_identifier(6988048.0), clean_identifier("--")
    ('AB12345', '6988048', None)
    """
    if _is_missing(value):
        return None
    text = re.sub(r"[^A-Z0-9]", "", transliterate(_whole_number_text(value)).upper())
    return text or None


_IDENTIFIER_NAME = re.compile(r"^id_[a-z0-9_]{1,60}$")


def identifier_column(name) -> str:
    """The standardised column name of an identifier column: ``"id_"`` + its name in snake case.

    Parameters
    ----------
    name : object
        The identifier column's name in the records.

    Returns
    -------
    str
        ``id_<name>``: lower-case ASCII letters, digits and underscores.

    Raises
    ------
    ValueError
        Nothing usable is left of the name.

    Examples
    --------
    >>> identifier_column("Loyalty No."), identifier_column("soc_sec_id")
    ('id_loyalty_no', 'id_soc_sec_id')
    """
    slug = re.sub(r"[^a-z0-9]+", "_", transliterate(str(name)).lower()).strip("_")[:60]
    out = f"id_{slug}"
    if not _IDENTIFIER_NAME.match(out):
        raise ValueError(f"identifier column {name!r} has no letters or digits to name it by")
    return out


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
    distinct = pd.Series([_whole_number_text(v) for v in values.dropna().unique()[:n_sample]], dtype=object)
    if distinct.empty:
        return tuple(candidates)

    def hits(fmt: str) -> int:
        return int(pd.to_datetime(distinct, format=fmt, errors="coerce").notna().sum())

    counts = [hits(f) for f in candidates]
    best = int(np.argmax(counts))
    return (candidates[best], *[f for i, f in enumerate(candidates) if i != best])


_PROBLEM_COLUMNS = ("record_id", "source", "column", "value", "reason")
_CHANGE_COLUMNS = ("record_id", "source", "column", "value", "standardised", "change")


def _empty(columns) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(dtype=object) for k in columns})


@dataclass
class StandardisedRecords:
    """Result of :func:`standardise_records`.

    Attributes
    ----------
    data : DataFrame
        One row per input record, in input order, with ``record_id``, ``source`` and the
        standardised columns (absent ones are all missing) plus ``first_name_canon`` and
        ``first_name_variants`` for nickname matching, ``created_at`` (datetime) and one
        ``id_<name>`` column per identifier column.
    problems : DataFrame
        One row per value that was present but could not be used: ``record_id``, ``source``,
        ``column``, ``value`` (raw, as text) and ``reason``.
    changes : DataFrame
        One row per value changed beyond case, spacing and punctuation: ``record_id``,
        ``source``, ``column``, ``value`` (raw), ``standardised`` and ``change``
        ("transliterated to Latin letters", "leading zeros restored ...").

    Examples
    --------
    >>> std = standardise_records(pd.DataFrame({"record_id": [1], "source": ["web"], "email": ["x@"]}))
    >>> std.problems[["column", "reason"]].to_dict("records")
    [{'column': 'email', 'reason': 'not an e-mail address'}]
    """

    data: pd.DataFrame
    problems: pd.DataFrame
    changes: pd.DataFrame = field(default_factory=lambda: _empty(_CHANGE_COLUMNS))


def _map_unique(series: pd.Series, func: Callable) -> pd.Series:
    """Apply ``func`` once per distinct value (raw values repeat a lot in contact data)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    cleaned = np.array([func(u) for u in uniques] + [None], dtype=object)
    return pd.Series(cleaned[codes], index=series.index, dtype=object)


def column_roles(records: pd.DataFrame, columns: Mapping[str, str | list[str]] | None = None) -> dict:
    """Which column of ``records`` plays which role (see :data:`ROLES`).

    A column named like a role plays it unless ``columns`` maps the role elsewhere;
    ``identifier`` columns are always named in ``columns`` (a column name or a list of them).

    Parameters
    ----------
    records : pandas.DataFrame
        The records.
    columns : mapping, optional
        Role -> column name, e.g. ``{"email": "mail", "identifier": ["loyalty_no", "ssn"]}``.

    Returns
    -------
    dict
        Role -> column name (``identifier`` -> a list of column names), only the roles present.

    Raises
    ------
    ValueError
        An unknown role, or an identifier list that is not a list of column names.
    crm_models.errors.DataError
        A mapped column is not in ``records``.

    Examples
    --------
    >>> records = pd.DataFrame(columns=["id", "first_name", "mail", "ssn"])
    >>> column_roles(records, {"email": "mail", "identifier": "ssn"})
    {'first_name': 'first_name', 'email': 'mail', 'identifier': ['ssn']}
    """
    if columns is not None and not isinstance(columns, Mapping):
        raise ValueError(f"columns must map roles to column names, e.g. {{'email': 'mail'}}; got {columns!r}")
    out: dict = {role: role for role in ROLES if role != "identifier" and role in records.columns}
    present = list(map(str, records.columns))
    for role, given in (columns or {}).items():
        if role not in ROLES:
            raise ValueError(f"columns: unknown standard column (role) {role!r}; the roles are {list(ROLES)}")
        names = given if role == "identifier" else [given]
        if role == "identifier":
            names = [given] if isinstance(given, str) else given
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
                raise ValueError(f"columns['identifier'] must be a column name or a list of them, got {given!r}")
        for name in names:
            if name not in records.columns:
                raise DataError(
                    name,
                    "is missing",
                    what="records",
                    message=f"columns maps {role!r} to {name!r}, which is not a column of records; "
                    f"the columns present are {present}",
                )
        out[role] = list(dict.fromkeys(names)) if role == "identifier" else given
    return {role: out[role] for role in ROLES if role in out}


def _numbers_as_text(raw: pd.Series, column: str, role: str) -> tuple[pd.Series, bool]:
    """A column read as numbers, as the text it was written as (whole numbers; ``None`` missing).

    Returns the text and whether the column was numeric. A fraction or a number too large for a
    float to hold exactly cannot be the digits of a date, postcode, phone or identifier.
    """
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return raw, False
    if pd.api.types.is_integer_dtype(raw):
        text = raw.astype("Int64").astype("string").astype(object)
        return text.where(raw.notna(), None), True
    values = raw.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    hint = (f"Read the file with the column as text, e.g. pandas.read_csv(path, dtype={{{column!r}: str}}), "
            "so its digits arrive as written.")
    frac = finite & (values != np.floor(np.where(finite, values, 0.0)))
    if frac.any():
        raise DataError(column, f"was read as numbers with a fractional part, which cannot be a {ROLES[role]} "
                        "(expected whole numbers such as 19151111 or 2600)",
                        rows=raw[frac].to_frame().head(N_SHOWN), n_rows=int(frac.sum()), n_total=len(raw),
                        what="records", hint=hint)
    big = finite & (np.abs(values) >= 2.0**53)
    if big.any():
        raise DataError(column, "was read as floating-point numbers too large to keep every digit exactly "
                        "(2**53 and above)", rows=raw[big].to_frame().head(N_SHOWN), n_rows=int(big.sum()),
                        n_total=len(raw), what="records", hint=hint)
    text = pd.Series(np.where(finite, values, 0.0).astype(np.int64), index=raw.index).astype(str).astype(object)
    return text.where(finite, None), True


def _restore_leading_zeros(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Digits of a numeric postcode column padded with zeros to the most common length.

    A postcode column read as numbers loses leading zeros ("02134" -> 2134, "0800" -> 800); when
    the most common length has at least 4 digits, shorter values are padded to it.
    """
    lengths = text.str.len()
    padded = np.zeros(len(text), dtype=bool)
    if lengths.notna().sum() == 0:
        return text, padded
    common = int(lengths.mode().iloc[0])
    short = (lengths < common).fillna(False).to_numpy(bool) & (text.str.fullmatch(r"\d+").fillna(False).to_numpy(bool))
    if common < 4 or not short.any():
        return text, padded
    out = text.copy()
    out[short] = text[short].str.zfill(common)
    return out, short


def _missing_mask(raw: pd.Series) -> np.ndarray:
    text = raw.astype("string").str.strip().str.lower()
    return (raw.isna() | text.isin(_MISSING_TOKENS).fillna(True)).to_numpy(bool)


def _clean_names(first_raw: pd.Series, last_raw: pd.Series, full_raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(first, last) per record from the first, last and combined name fields (see :func:`_names`).

    Vectorised: the common case (each field cleaned on its own) cleans each distinct value once;
    only records with a combined field are split one by one.
    """
    n = len(first_raw)
    f_miss, l_miss, u_miss = _missing_mask(first_raw), _missing_mask(last_raw), _missing_mask(full_raw)
    f_text = first_raw.astype("string").fillna("")
    l_text = last_raw.astype("string").fillna("")
    f_multi = (f_text.str.strip().str.contains(r"\s", regex=True)).to_numpy(bool)
    l_multi = (l_text.str.strip().str.contains(r"\s", regex=True)).to_numpy(bool)
    f_comma = f_text.str.contains(",", regex=False).to_numpy(bool)
    l_comma = l_text.str.contains(",", regex=False).to_numpy(bool)
    special = ((~l_miss & l_comma & f_miss) | (~f_miss & f_comma & l_miss) | (~f_miss & l_miss & f_multi)
               | (~l_miss & f_miss & l_multi) | (f_miss & l_miss & ~u_miss))

    def first_token(v):
        c = clean_name(v)
        return c.split()[0] if c else None

    def joined(v):
        c = clean_name(v)
        return c.replace(" ", "") if c else None

    first = _map_unique(first_raw.where(~f_miss, None), first_token)
    last = _map_unique(last_raw.where(~l_miss, None), joined)
    if special.any():
        idx = np.flatnonzero(special)
        fr, lr, ur = (s.to_numpy(object)[idx] for s in (first_raw, last_raw, full_raw))
        pairs = [_names(*(None if _is_missing(v) else str(v) for v in t)) for t in zip(fr, lr, ur)]
        first.iloc[idx] = [p[0] for p in pairs]
        last.iloc[idx] = [p[1] for p in pairs]
    return first.reset_index(drop=True), last.reset_index(drop=True)


def standardise_records(
    records: pd.DataFrame,
    *,
    record_id_col: str = "record_id",
    source_col: str | None = "source",
    columns: Mapping[str, str | list[str]] | None = None,
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
        Role -> column name in ``records`` for any role of :data:`ROLES` whose column is named
        differently (e.g. ``{"postcode": "zip", "identifier": ["loyalty_no", "ssn"]}``); a
        role absent from ``records`` is simply unavailable. ``full_name`` may map to a combined
        name column, used where first or last name is missing.
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
        ``data``, ``problems`` and ``changes`` tables (see :class:`StandardisedRecords`).

    Raises
    ------
    crm_models.errors.DataError
        A column named by ``record_id_col``, ``source_col`` or ``columns`` is missing; a date of
        birth, postcode, phone or identifier column read as numbers with fractions (or with more
        digits than a float holds exactly).

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
    >>> nordic = pd.DataFrame({"record_id": [1], "source": "web", "first_name": ["Søren"], "postcode": [800]})
    >>> standardise_records(nordic).changes[["value", "standardised", "change"]].to_dict("records")[0]
    {'value': 'Søren', 'standardised': 'soren', 'change': 'transliterated to Latin letters'}
    """
    require_columns(records, [record_id_col] + ([source_col] if source_col else []), what="records")
    roles = column_roles(records, columns)
    n = len(records)
    index = pd.RangeIndex(n)
    raw: dict[str, pd.Series] = {}
    numeric: dict[str, bool] = {}
    for role, col in roles.items():
        if role == "identifier":
            continue
        series = records[col].reset_index(drop=True)
        if role in ("date_of_birth", "postcode", "phone", "loyalty_id"):
            series, numeric[role] = _numbers_as_text(series, col, role)
        raw[role] = series
    identifiers: dict[str, tuple[str, pd.Series]] = {}
    for col in roles.get("identifier", []):
        name = identifier_column(col)
        if name in identifiers or name == "id_":
            raise ValueError(f"identifier columns {identifiers[name][0]!r} and {col!r} have the same "
                             f"standardised name {name!r}; rename one of them")
        identifiers[name] = (col, _numbers_as_text(records[col].reset_index(drop=True), col, "identifier")[0])
    out = pd.DataFrame(
        {
            "record_id": records[record_id_col].to_numpy(),
            "source": records[source_col].astype(str).to_numpy() if source_col else np.full(n, "records"),
        },
        index=index,
    )
    problems: list[pd.DataFrame] = []
    changes: list[pd.DataFrame] = []
    column_of = {role: col for role, col in roles.items() if role != "identifier"}

    def note(role: str, raw_values: pd.Series, cleaned: pd.Series, reason: str, column: str | None = None) -> None:
        present = ~_missing_mask(raw_values)
        bad = present & cleaned.isna().to_numpy(bool)
        if bad.any():
            problems.append(
                pd.DataFrame(
                    {
                        "record_id": out.loc[bad, "record_id"].to_numpy(),
                        "source": out.loc[bad, "source"].to_numpy(),
                        "column": column or column_of[role],
                        "value": raw_values[bad].astype(str).to_numpy(),
                        "reason": reason,
                    }
                )
            )

    def changed(column: str, mask: np.ndarray, raw_values: pd.Series, cleaned: pd.Series, what: str) -> None:
        if mask.any():
            changes.append(
                pd.DataFrame(
                    {
                        "record_id": out.loc[mask, "record_id"].to_numpy(),
                        "source": out.loc[mask, "source"].to_numpy(),
                        "column": column,
                        "value": raw_values[mask].astype(str).to_numpy(),
                        "standardised": cleaned[mask].to_numpy(object),
                        "change": what,
                    }
                )
            )

    def transliterated(role: str, cleaned: pd.Series) -> None:
        values = raw[role]
        text = values.astype("string")
        mask = (~text.str.isascii()).fillna(False).to_numpy(bool) & cleaned.notna().to_numpy(bool)
        changed(column_of[role], mask, values, cleaned, "transliterated to Latin letters")

    def unshared(role: str, name: str, cleaned: pd.Series, column: str) -> pd.Series:
        """``cleaned`` without values shared by more than MAX_SHARED records (placeholders)."""
        counts = cleaned.map(cleaned.value_counts(dropna=True))
        crowded = (counts > MAX_SHARED).fillna(False).to_numpy(bool)
        if crowded.any():
            problems.append(
                pd.DataFrame(
                    {
                        "record_id": out.loc[crowded, "record_id"].to_numpy(),
                        "source": out.loc[crowded, "source"].to_numpy(),
                        "column": column,
                        "value": cleaned[crowded].astype(str).to_numpy(),
                        "reason": [f"shared by {int(c):,} records: a placeholder, not one person's {name}"
                                   for c in counts[crowded]],
                    }
                )
            )
            cleaned = cleaned.where(~crowded, None)
        return cleaned

    def col(role):
        return raw[role] if role in raw else pd.Series(None, index=index, dtype=object)

    # Names: a comma or an empty partner field marks a combined "Last, First" / "First Last" field.
    first, last = _clean_names(col("first_name"), col("last_name"), col("full_name"))
    for role, cleaned in (("first_name", first), ("last_name", last)):
        if role in raw:
            note(role, raw[role], cleaned, "no name left after cleaning")
            transliterated(role, cleaned)
    if "full_name" in raw:
        transliterated("full_name", (first.fillna("") + " " + last.fillna("")).str.strip().replace("", None))
    out["first_name"] = first
    out["last_name"] = last
    full_first = first.where(first.str.len() > 1)
    out["first_name_canon"] = _map_unique(full_first, canonical_first_name)
    out["first_name_variants"] = _map_unique(full_first, first_name_variants).map(
        lambda t: list(t) if isinstance(t, tuple) else None
    )

    if "email" in raw:
        email = _map_unique(raw["email"], clean_email)
        note("email", raw["email"], email, "not an e-mail address")
        out["email"] = unshared("email", "e-mail address", email, column_of["email"])
    else:
        out["email"] = None
    if "phone" in raw:
        # one parse per number however it was written: key = optional "+" and the digits
        as_text = raw["phone"].astype("string")
        key = as_text.str.strip().str[:1].where(as_text.str.strip().str.startswith("+"), "") + as_text.str.replace(
            r"(?i)(ext|x)\.?\s*\d+$", "", regex=True).str.replace(r"\D", "", regex=True)
        key = key.where(key.str.len() >= 3, as_text)  # keep odd values whole
        parsed = _map_unique(key.astype(object).where(key.notna(), None), lambda v: clean_phone(v, default_region))
        phone = parsed.where(raw["phone"].notna(), None)
        note("phone", raw["phone"], phone, f"not a possible phone number (default region {default_region})")
        out["phone"] = unshared("phone", "phone number", phone, column_of["phone"])
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
    if "street" in raw:  # keep house numbers: they tell neighbours apart
        out["street"] = _map_unique(
            raw["street"],
            lambda v: None if _is_missing(v) else (
                " ".join(re.sub(r"[^a-z0-9 ]+", " ", transliterate(str(v)).lower()).split()) or None),
        )
        note("street", raw["street"], out["street"], "no letters left after cleaning")
        transliterated("street", out["street"])
    else:
        out["street"] = None
    if "city" in raw:
        out["city"] = _map_unique(raw["city"], clean_name)
        note("city", raw["city"], out["city"], "no letters left after cleaning")
        transliterated("city", out["city"])
    else:
        out["city"] = None
    if "postcode" in raw:
        values = raw["postcode"]
        if numeric.get("postcode"):
            values, padded = _restore_leading_zeros(values.astype("string"))
            values = values.astype(object).where(values.notna(), None)
            changed(column_of["postcode"], padded, raw["postcode"], values,
                    "leading zeros restored (the column was read as numbers)")
        out["postcode"] = _map_unique(values, clean_postcode)
        note("postcode", raw["postcode"], out["postcode"], "no letters or digits")
    else:
        out["postcode"] = None
    if "gender" in raw:
        out["gender"] = _map_unique(raw["gender"], clean_gender)
    else:
        out["gender"] = None
    if "loyalty_id" in raw:
        loyalty = _map_unique(raw["loyalty_id"], clean_identifier)
        out["loyalty_id"] = unshared("loyalty_id", "loyalty id", loyalty, column_of["loyalty_id"])
    else:
        out["loyalty_id"] = None
    for name, (column, values) in identifiers.items():
        cleaned = _map_unique(values, clean_identifier)
        note("identifier", values, cleaned, "no letters or digits", column=column)
        out[name] = unshared("identifier", column, cleaned, column)
    if "created_at" in raw:
        created = pd.to_datetime(raw["created_at"], errors="coerce", format="mixed")
        bad = raw["created_at"].notna() & created.isna()
        if bad.any():
            note("created_at", raw["created_at"], created.astype(object).where(~bad, None), "not a date")
        out["created_at"] = created
    else:
        out["created_at"] = pd.NaT
    ordered = ["record_id", "source", "first_name", "last_name", "first_name_canon", "first_name_variants", "email",
               "phone", "date_of_birth", "street", "city", "postcode", "gender", "loyalty_id", *identifiers, "created_at"]
    problems_df = pd.concat(problems, ignore_index=True) if problems else _empty(_PROBLEM_COLUMNS)
    changes_df = pd.concat(changes, ignore_index=True) if changes else _empty(_CHANGE_COLUMNS)
    return StandardisedRecords(data=out[ordered], problems=problems_df, changes=changes_df)

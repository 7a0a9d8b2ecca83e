"""How one person's data gets written differently: phone layouts, street abbreviations, nicknames, typos.

The tools the source systems' records are made with (:mod:`.records`): US phone numbers that
``phonenumbers`` accepts, formatted the way each system stores them; street suffixes
abbreviated as a till system does; real nickname pairs from the ``nicknames`` package; and
keyboard-style typos (a neighbouring key, a dropped, swapped or doubled letter).
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["nickname_table"]

_KEYBOARD = {
    "a": "qswz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
    "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji",
    "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}

_SUFFIX_ABBR = {
    "Street": "St", "Avenue": "Ave", "Road": "Rd", "Drive": "Dr", "Lane": "Ln", "Court": "Ct",
    "Boulevard": "Blvd", "Place": "Pl", "Square": "Sq", "Terrace": "Ter", "Parkway": "Pkwy",
    "Highway": "Hwy", "Circle": "Cir", "Mountain": "Mtn", "Heights": "Hts", "Trail": "Trl",
    "Crossing": "Xing", "Point": "Pt", "Ridge": "Rdg", "Valley": "Vly", "Junction": "Jct",
}


# -- typos ----------------------------------------------------------------------------------------


def typo(s: str, kind: int, u: float, v: float) -> str:
    """One keyboard-style edit of ``s``: ``kind`` 0 substitutes a neighbouring key, 1 deletes, 2 swaps
    two letters, 3 doubles one; ``u`` (0-1) picks the position and ``v`` (0-1) the neighbour key."""
    if not isinstance(s, str) or len(s) < 2:
        return s
    n = len(s)
    i = min(int(u * n), n - 1)
    if kind == 2 and n >= 3:
        i = min(i, n - 2)
        if s[i] != s[i + 1]:
            return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        kind = 0
    if kind == 1 and n >= 4:
        return s[:i] + s[i + 1 :]
    if kind == 3:
        return s[: i + 1] + s[i] + s[i + 1 :]
    ch = s[i]
    near = _KEYBOARD.get(ch.lower())
    if not near:
        return s[:i] + ("x" if ch != "x" else "y") + s[i + 1 :]
    rep = near[min(int(v * len(near)), len(near) - 1)]
    return s[:i] + (rep.upper() if ch.isupper() else rep) + s[i + 1 :]


def apply_typos(rng: np.random.Generator, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of ``values`` with one random :func:`typo` in each entry where ``mask`` holds."""
    out = values.copy()
    idx = np.flatnonzero(mask)
    kinds = rng.integers(0, 4, idx.size)
    u, v = rng.random(idx.size), rng.random(idx.size)
    for j, i in enumerate(idx):
        out[i] = typo(out[i], kinds[j], u[j], v[j])
    return out


# -- nicknames ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _nickname_table() -> dict[str, tuple[str, ...]]:
    from faker.providers.person.en_US import Provider
    from nicknames import NickNamer

    nn = NickNamer()
    names = set(Provider.first_names_male) | set(Provider.first_names_female)
    table = {}
    for name in sorted(names):
        # shorter forms only (Bob for Robert, not the related full name Rupert)
        nicks = sorted(n for n in nn.nicknames_of(name.lower()) if 2 <= len(n) < len(name))
        if nicks:
            table[name] = tuple(x.capitalize() for x in nicks)
    return table


def nickname_table() -> dict[str, tuple[str, ...]]:
    """The nicknames the simulated company's records may use for each first name.

    Real nickname pairs from the ``nicknames`` package, restricted to shorter forms (Bob for
    Robert), for every first name Faker's en_US provider can draw.

    Returns
    -------
    dict of str to tuple of str
        First name -> its nicknames, sorted and capitalised (a new dict each call).

    Examples
    --------
    >>> table = nickname_table()
    >>> "Bob" in table["Robert"]
    True
    """
    return dict(_nickname_table())


# -- phone numbers --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def us_area_codes() -> np.ndarray:
    """US area codes that ``phonenumbers`` accepts as valid geographic numbers."""
    import phonenumbers as pn

    codes = []
    for ac in range(201, 990):
        if ac % 100 == 11 or ac // 10 % 10 == 9:
            continue
        if pn.is_valid_number(pn.PhoneNumber(country_code=1, national_number=ac * 10_000_000 + 2_345_678)):
            codes.append(ac)
    return np.array(codes, dtype=np.int64)


@functools.lru_cache(maxsize=None)
def _phone_template(fmt: str) -> tuple[str, tuple[int, ...]]:
    """``phonenumbers``' layout of a US number in ``fmt``: the formatted probe number and, per
    character, the index (0-9) of the national digit it shows or -1 for a literal character."""
    import phonenumbers as pn

    probe = 2_125_550_123
    text = pn.format_number(pn.PhoneNumber(country_code=1, national_number=probe), getattr(pn.PhoneNumberFormat, fmt))
    digit_pos = [i for i, ch in enumerate(text) if ch.isdigit()][-10:]
    slots = [-1] * len(text)
    for k, i in enumerate(digit_pos):
        slots[i] = k
    return text, tuple(slots)


def format_phones(numbers: np.ndarray, fmt: str) -> np.ndarray:
    """Format national US numbers (10-digit ints) as ``phonenumbers`` does in the named format.

    ``fmt`` is a ``phonenumbers.PhoneNumberFormat`` name (E164, NATIONAL, INTERNATIONAL) or
    DIGITS. US numbers share one layout, so the layout is taken from ``phonenumbers`` once and
    applied to all numbers at numpy speed; a sample is checked against ``phonenumbers`` itself.
    """
    import phonenumbers as pn

    numbers = np.asarray(numbers, dtype=np.int64)
    digits = (numbers[:, None] // 10 ** np.arange(9, -1, -1)) % 10
    if fmt == "DIGITS":
        text, slots = "0123456789", tuple(range(10))
    else:
        text, slots = _phone_template(fmt)
    chars = np.empty((numbers.size, len(slots)), dtype=np.uint8)
    for i, k in enumerate(slots):
        chars[:, i] = ord(text[i]) if k < 0 else 48 + digits[:, k]
    out = chars.view(f"S{len(slots)}").ravel().astype(str).astype(object)
    if fmt != "DIGITS":
        f = getattr(pn.PhoneNumberFormat, fmt)
        for j in range(min(numbers.size, 25)):
            if out[j] != pn.format_number(pn.PhoneNumber(country_code=1, national_number=int(numbers[j])), f):
                return np.array([pn.format_number(pn.PhoneNumber(country_code=1, national_number=int(x)), f)
                                 for x in numbers], dtype=object)
    return out


def format_phones_where(numbers: np.ndarray, fmt: str, present: np.ndarray) -> np.ndarray:
    """:func:`format_phones` where ``present`` holds, ``None`` elsewhere."""
    out = np.full(numbers.size, None, dtype=object)
    out[present] = format_phones(numbers[present], fmt)
    return out


# -- streets --------------------------------------------------------------------------------------


def abbreviate_streets(values: np.ndarray) -> np.ndarray:
    """Street suffixes abbreviated the way a till system stores them (Street -> St)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values, type=pa.string())
    for word, abbr in _SUFFIX_ABBR.items():
        arr = pc.replace_substring_regex(arr, pattern=rf"\b{word}\b", replacement=abbr)
    return np.array(arr.to_pylist(), dtype=object)

"""Numbers in a notebook's prose that no computation backs: the sentences a re-run can leave stale.

A number written in a Markdown cell is a claim about a result. It stays true across re-runs only
if it is *rendered* from the computation (a Markdown display built from variables, which is an
output, not a Markdown cell) or *bound* to code beside it. :func:`unbound_numbers` lists the
numbers of a notebook's Markdown cells that are neither.

What counts as a number
    A run of digits with optional thousands separators, decimals, sign and percent sign
    (``1,200``, ``-9582.4``, ``0.412``, ``12%``), in the prose of a Markdown cell, after removing
    code (fenced blocks and inline code), HTML tags and comments, link targets and URLs.

What does not count (structure, not results)
    - years (a four-digit whole number from 1800 to 2100) and dates (``1997-01-01``,
      ``30.09.1997``);
    - whole numbers from 0 to 10 (counts of panels, segments and steps, and the 0 and 1 of
      probabilities, are set by design);
    - numbers of headings (``## 2 · Fitting``), list markers (``1.``) and references: a number
      after *exercise, section, notebook, chapter, table, figure, fig., eq., equation, step,
      part, page, p., pp., appendix, question, version*, a bracketed citation ``[12]``, and
      everything under a heading *References*, *Bibliography*, *Further reading* or *Sources*;
    - numbers glued to letters, as in identifiers (``F1``, ``P000001``, ``02b``, ``x2``) and
      ordinals (``2nd``);
    - whole numbers inside LaTeX math (``$x^2$``, ``$(1 + d)^{t}$``); a decimal inside math
      (``$\\alpha = 4.277$``) does count;
    - every number of a Markdown cell tagged ``prose-constants`` (published values or
      definitions quoted from a source, not computed here; the tag says so in the notebook).

When a number is bound
    Its value appears as a numeric literal in the code of the nearest code cell before or
    after the Markdown cell (an input the code sets, such as ``budget = 600``, or an
    ``assert`` that checks a result, such as ``assert round(share, 2) == 0.41``), to the
    precision written: ``0.41`` matches any literal that rounds to 0.41; ``41%`` matches 41 or
    0.41.

Examples
--------
>>> nb = {"cells": [
...     {"cell_type": "markdown", "metadata": {}, "source": "In 2005 the model fitted 2,357 customers; alpha is 4.28."},
...     {"cell_type": "code", "metadata": {}, "source": "assert round(alpha, 2) == 4.28", "outputs": []}]}
>>> unbound_numbers(nb)[["text", "value"]].to_dict("records")
[{'text': '2,357', 'value': 2357.0}]
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["ProseNumber", "prose_numbers", "code_numbers", "unbound_numbers", "EXEMPT_TAG"]

#: Cell tag that exempts a Markdown cell (its numbers are quoted constants, not results).
EXEMPT_TAG = "prose-constants"

_REFERENCE_WORDS = (
    "exercise", "exercises", "section", "sections", "notebook", "notebooks", "chapter", "chapters", "table",
    "tables", "figure", "figures", "fig", "eq", "eqs", "equation", "equations", "step", "steps", "part", "parts",
    "page", "pages", "p", "pp", "appendix", "question", "questions", "version", "lesson", "item",
)
_NUMBER = re.compile(
    r"(?<![\w./])(?P<sign>[-−])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<pct>\s?%)?(?![\w])"
)
_REFERENCE = re.compile(r"\b(?:" + "|".join(_REFERENCE_WORDS) + r")\.?\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class ProseNumber:
    """A number written in prose: its text, value, decimals and whether it is a percentage.

    Parameters
    ----------
    text : str
        As written (``"1,200"``, ``"12%"``).
    value : float
        The number (``1200.0``, ``12.0``).
    decimals : int
        Decimals written (the precision a bound literal must match).
    percent : bool
        Written with a percent sign.
    context : str
        The line of prose it stands in.

    Examples
    --------
    >>> ProseNumber("12%", 12.0, 0, True, "a 12% gap").matches(0.12)
    True
    """

    text: str
    value: float
    decimals: int
    percent: bool
    context: str

    def matches(self, literal: float) -> bool:
        """Whether a code literal is this number to the precision written.

        Parameters
        ----------
        literal : float
            A number from code.

        Returns
        -------
        bool

        Examples
        --------
        >>> ProseNumber("0.41", 0.41, 2, False, "").matches(0.4132)
        True
        """
        half = 0.5 * 10.0 ** (-self.decimals) + 1e-12
        candidates = [literal, literal * 100.0] if self.percent else [literal]
        return any(math.isfinite(c) and abs(c - self.value) <= half for c in candidates)


def _strip(text: str) -> tuple[str, str]:
    """(prose, math): the text without code, markup and links; and the LaTeX math, separately."""
    text = re.split(r"(?im)^#+\s*(?:references|bibliography|further reading|sources)\b", text)[0]
    text = re.sub(r"```.*?```|~~~.*?~~~", " ", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    text = re.sub(r"`[^`]*`", " ", text)
    math_parts = re.findall(r"\$\$.*?\$\$|\$[^$]*\$", text, flags=re.DOTALL)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"\]\([^)]*\)", "] ", text)  # link targets
    text = re.sub(r"https?://\S+|www\.\S+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\[\d+(?:\s*[,–-]\s*\d+)*\]", " ", text)  # citations [12], [3, 4]
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\b", " ", text)  # ISO dates
    text = re.sub(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b|\b\d{1,2}/\d{1,2}/\d{4}\b", " ", text)  # other dates
    return text, " ".join(math_parts)


def _structural(line: str, start: int, match: re.Match) -> bool:
    before = line[:start]
    if re.match(r"^\s*#+\s*[\d.\s·:)-]*$", before):  # heading numbers
        return True
    if re.match(r"^\s*(?:[-*+]\s+)?$", before) and re.match(r"[.)]\s", line[match.end():match.end() + 2] or "x"):
        return True  # list markers "1. " / "2) "
    if _REFERENCE.search(before):
        return True
    return False


def _parse(match: re.Match, context: str) -> ProseNumber:
    num = match.group("num")
    value = float(num.replace(",", ""))
    if match.group("sign"):
        value = -value
    decimals = len(num.split(".")[1]) if "." in num else 0
    text = (match.group("sign") or "") + num + (match.group("pct") or "").strip()
    return ProseNumber(text, value, decimals, bool(match.group("pct")), context.strip())


def _counts(n: ProseNumber, in_math: bool) -> bool:
    whole = n.decimals == 0 and not n.percent
    if whole and ("," not in n.text) and 1800 <= n.value <= 2100:
        return False  # a year
    if whole and 0 <= abs(n.value) <= 10:
        return False
    if in_math and n.decimals == 0:
        return False
    return True


def prose_numbers(markdown: str) -> list[ProseNumber]:
    """The numbers of a Markdown text that count as claims (see the module docstring for the rules).

    Parameters
    ----------
    markdown : str
        The source of a Markdown cell.

    Returns
    -------
    list of ProseNumber
        In order of appearance (numbers inside math last).

    Examples
    --------
    >>> [n.text for n in prose_numbers("## 3 · Results\\nSee exercise 12: 64 customers (12.5%) in 1997; F1 is $0.91$.")]
    ['64', '12.5%', '0.91']
    """
    prose, math_text = _strip(markdown)
    out = []
    for line in prose.splitlines():
        for m in _NUMBER.finditer(line):
            if _structural(line, m.start(), m):
                continue
            n = _parse(m, line)
            if _counts(n, in_math=False):
                out.append(n)
    for m in _NUMBER.finditer(math_text):
        n = _parse(m, math_text)
        if _counts(n, in_math=True):
            out.append(n)
    return out


def code_numbers(source: str) -> list[float]:
    """Every numeric literal of a piece of Python code (negative literals included).

    Parameters
    ----------
    source : str
        Python source; IPython magics (lines starting with ``%`` or ``!``) are ignored, and so
        is code that does not parse.

    Returns
    -------
    list of float

    Examples
    --------
    >>> code_numbers("budget = 1_200\\nassert round(share, 2) == 0.41 and x > -3")
    [1200.0, 2.0, 0.41, -3.0]
    """
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    negated = set()
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
                and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool)):
            negated.add(id(node.operand))
            out.append((node.operand.lineno, node.operand.col_offset, -float(node.operand.value)))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                and not isinstance(node.value, bool) and id(node) not in negated):
            out.append((node.lineno, node.col_offset, float(node.value)))
    return [v for _, _, v in sorted(out)]


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _load(notebook) -> dict:
    if isinstance(notebook, (str, Path)):
        return json.loads(Path(notebook).read_text(encoding="utf-8"))
    if isinstance(notebook, dict) and "cells" in notebook:
        return notebook
    raise TypeError(f"notebook must be a path to an .ipynb file or a notebook dict, got {type(notebook).__name__}")


def unbound_numbers(notebook) -> pd.DataFrame:
    """Numbers in a notebook's Markdown cells that are neither rendered from code nor bound to it.

    Parameters
    ----------
    notebook : str, pathlib.Path or dict
        An ``.ipynb`` file or a loaded notebook (nbformat 4).

    Returns
    -------
    pandas.DataFrame
        One row per unbound number: ``cell`` (index of the Markdown cell), ``text`` (as
        written), ``value``, ``context`` (its line); empty when every number is bound.

    Examples
    --------
    >>> nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "budget = 600", "outputs": []},
    ...                 {"cell_type": "markdown", "metadata": {}, "source": "With 600 USD we reach 245 people."}]}
    >>> unbound_numbers(nb)["text"].tolist()
    ['245']
    """
    cells = _load(notebook)["cells"]
    code_at = [i for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    literals = {i: code_numbers(_source(cells[i])) for i in code_at}
    rows = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown" or EXEMPT_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        before = [j for j in code_at if j < i]
        after = [j for j in code_at if j > i]
        nearby = ([literals[before[-1]]] if before else []) + ([literals[after[0]]] if after else [])
        values = [v for lits in nearby for v in lits]
        for n in prose_numbers(_source(cell)):
            if not any(n.matches(v) for v in values):
                rows.append({"cell": i, "text": n.text, "value": n.value, "context": n.context[:160]})
    return pd.DataFrame(rows, columns=["cell", "text", "value", "context"])

"""Exercises that teach: a scaffold to fill, a hint, and a check that never gives the answer away.

An exercise in a notebook is a prompt (Markdown), a scaffold cell in which the answer is still
``...``, and a call of :func:`check` that passes, by keyword, the notebook objects the answer is
computed from::

    favourite_share = ...
    check("09.1", favourite_share, history=history, preferences=preferences)

:func:`check` looks the exercise up by its id (``"<notebook prefix>.<number>"``; the exercises are
declared in ``crm_models/course/checks/notebook_<prefix>.py``, one module per notebook), checks
the answer's shape (a number between 0 and 1, one of the offers, ...), compares it with the right
answer computed from the context and returns a :class:`CheckResult`:

- ``correct``;
- ``wrong``: what is wrong, the exercise's hint, and a specific hint when the answer is the
  one a typical mistake gives (:class:`Mistake`); the right answer is never shown;
- ``unanswered``: the answer is still ``...``. Nothing is raised, so a stored notebook keeps
  its scaffolds and re-runs to the same outputs under nbval.

Solutions live apart, in ``notebooks/solutions/<notebook>.py`` (``SOLUTIONS = {"09.1": f}``, where
``f(**context)`` returns the answer from the same keyword arguments the check receives).
:func:`grade_notebook` runs a notebook in-process and, at every :func:`check` call, grades the
solution (it must pass), each registered mistake (each must fail and show its hint) and a
perturbed answer (it must fail); ``tests/test_exercises.py`` runs it on every notebook that
calls :func:`check`.

Examples
--------
>>> _ = register(Exercise("doc.1", "What is 6 x 7?", "Multiply.", Number(integer=True),
...                       expected=lambda: 42, mistakes=(Mistake("That is 6 + 7.", lambda: 13),)),
...              replace=True)
>>> check("doc.1", ...).status
'unanswered'
>>> check("doc.1", 42).passed
True
>>> check("doc.1", 13)
Exercise doc.1: not yet right. That is 6 + 7. Hint: Multiply.
"""

from __future__ import annotations

import contextlib
import html
import importlib
import importlib.util
import io
import math
import os
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CheckResult",
    "Hint",
    "AnswerKind",
    "Number",
    "Choice",
    "Members",
    "Values",
    "Mistake",
    "Exercise",
    "register",
    "get_exercise",
    "exercise_table",
    "check",
    "hint",
    "GradingRecord",
    "grading_session",
    "grade_notebook",
    "check_calls",
]

#: Status of a :class:`CheckResult`.
CORRECT, WRONG, UNANSWERED = "correct", "wrong", "unanswered"

_EXERCISE_ID = re.compile(r"^[0-9A-Za-z]+\.[0-9]+[a-z]?$")


def _inherit_docs(cls):
    """Give each method that overrides a documented base method the base's docstring (without its examples)."""
    for name, member in vars(cls).items():
        if callable(member) and not name.startswith("_") and not member.__doc__:
            for base in cls.__mro__[1:]:
                doc = getattr(getattr(base, name, None), "__doc__", None)
                if doc:
                    member.__doc__ = re.split(r"\n\s*Examples\n\s*-+\n", doc)[0].rstrip() + "\n"
                    break
    return cls


# ----------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CheckResult:
    """The verdict of :func:`check`: text in a terminal, a coloured box in Jupyter.

    Parameters
    ----------
    exercise_id : str
        The exercise checked, e.g. ``"09.1"``.
    status : str
        ``"correct"``, ``"wrong"`` or ``"unanswered"``.
    message : str
        What to do next; never contains the right answer.

    Examples
    --------
    >>> r = CheckResult("09.1", "wrong", "Hint: count the rounds.")
    >>> r.passed, repr(r)
    (False, 'Exercise 09.1: not yet right. Hint: count the rounds.')
    """

    exercise_id: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        """Whether the answer is right."""
        return self.status == CORRECT

    def _headline(self) -> str:
        return {CORRECT: "correct", WRONG: "not yet right", UNANSWERED: "not answered yet"}[self.status]

    def __repr__(self) -> str:
        return f"Exercise {self.exercise_id}: {self._headline()}. {self.message}".strip()

    def _repr_html_(self) -> str:
        colour = {CORRECT: "#2e7d32", WRONG: "#c62828", UNANSWERED: "#616161"}[self.status]
        mark = {CORRECT: "&#10004;", WRONG: "&#10008;", UNANSWERED: "&#8230;"}[self.status]
        return (f'<div style="border-left: 4px solid {colour}; padding: 4px 8px;">'
                f'<b style="color: {colour};">{mark} Exercise {html.escape(self.exercise_id)}: '
                f"{self._headline()}.</b> {html.escape(self.message)}</div>")


@dataclass(frozen=True)
class Hint:
    """An exercise's hint, as :func:`hint` shows it.

    Parameters
    ----------
    exercise_id : str
        The exercise.
    text : str
        The hint.

    Examples
    --------
    >>> Hint("09.1", "Count the rounds.")
    Hint for exercise 09.1: Count the rounds.
    """

    exercise_id: str
    text: str

    def __repr__(self) -> str:
        return f"Hint for exercise {self.exercise_id}: {self.text}"

    def _repr_html_(self) -> str:
        return f"<p><b>Hint for exercise {html.escape(self.exercise_id)}:</b> {html.escape(self.text)}</p>"


# ------------------------------------------------------------------------------ answer kinds
class AnswerKind:
    """The shape of a valid answer, how two answers are compared, and a nearby wrong answer.

    Subclasses implement :meth:`problem`, :meth:`same` and :meth:`perturb`.

    Examples
    --------
    >>> isinstance(Number(), AnswerKind)
    True
    """

    def describe(self) -> str:
        """The kind of answer asked for, in words.

        Returns
        -------
        str
            For example ``"a number between 0 and 1"``.

        Examples
        --------
        >>> Number(low=0, high=1).describe()
        'a number between 0 and 1'
        """
        return "an answer"

    def problem(self, answer) -> str | None:
        """What is wrong with the answer's shape, or None if it has the right shape.

        Parameters
        ----------
        answer : object
            The student's answer.

        Returns
        -------
        str or None
            A message that describes the shape asked for, never the right answer.

        Examples
        --------
        >>> Number(low=0, high=1).problem(1.5)
        'Your answer (1.5) should be a number between 0 and 1.'
        """
        return None

    def same(self, answer, expected) -> bool:
        """Whether ``answer`` counts as equal to ``expected``.

        Parameters
        ----------
        answer, expected : object
            Two answers of this kind.

        Returns
        -------
        bool

        Examples
        --------
        >>> Number(rtol=0.01).same(1.005, 1.0)
        True
        """
        return bool(answer == expected)

    def perturb(self, expected):
        """A wrong answer near ``expected``, for tests that prove the check can fail.

        Parameters
        ----------
        expected : object
            The right answer.

        Returns
        -------
        object
            An answer of the right shape that :meth:`same` rejects.

        Examples
        --------
        >>> Number(low=0, high=1).perturb(0.5) != 0.5
        True
        """
        raise NotImplementedError


def _as_number(answer) -> float | None:
    if isinstance(answer, (bool, np.bool_)):
        return None
    if isinstance(answer, (int, float, np.integer, np.floating)):
        return float(answer)
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        return _as_number(answer.item())
    return None


def _shape_of(answer) -> str:
    if isinstance(answer, pd.DataFrame):
        return f"a DataFrame with {answer.shape[0]} rows and {answer.shape[1]} columns"
    if isinstance(answer, pd.Series):
        return f"a Series of {len(answer)} values"
    if isinstance(answer, np.ndarray):
        return f"an array of shape {answer.shape}"
    if isinstance(answer, (bool, np.bool_)):
        return f"True/False ({answer})"
    if isinstance(answer, str):
        return f"the text {answer!r}"
    if answer is None:
        return "None (did the cell assign the answer, or does a function return nothing?)"
    return f"a {type(answer).__name__}"


@_inherit_docs
class Number(AnswerKind):
    """A single number, optionally whole and within bounds, compared within a tolerance.

    Parameters
    ----------
    low, high : float, optional
        Bounds a valid answer lies within (inclusive).
    integer : bool
        The answer must be a whole number (compared exactly).
    rtol, atol : float
        Relative and absolute tolerance of the comparison: ``|answer - expected| <= atol +
        rtol * |expected|``.

    Examples
    --------
    >>> kind = Number(low=0, high=1, rtol=1e-3)
    >>> kind.same(0.5004, 0.5), kind.same(0.52, 0.5)
    (True, False)
    >>> print(kind.problem(pd.Series([0.1, 0.2])))
    Your answer is a Series of 2 values; the question asks for a number between 0 and 1. Pick one value (.loc[...], .iloc[0]) or aggregate (.sum(), .mean()).
    """

    def __init__(self, *, low: float | None = None, high: float | None = None, integer: bool = False,
                 rtol: float = 1e-4, atol: float = 1e-9) -> None:
        self.low, self.high, self.integer, self.rtol, self.atol = low, high, integer, rtol, atol

    def describe(self) -> str:
        what = "a whole number" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} between {self.low:g} and {self.high:g}"
        if self.low is not None:
            return f"{what} of at least {self.low:g}"
        if self.high is not None:
            return f"{what} of at most {self.high:g}"
        return what

    def problem(self, answer) -> str | None:
        value = _as_number(answer)
        if value is None:
            advice = ""
            if isinstance(answer, (pd.Series, pd.DataFrame, np.ndarray, list, tuple)):
                advice = " Pick one value (.loc[...], .iloc[0]) or aggregate (.sum(), .mean())."
            return f"Your answer is {_shape_of(answer)}; the question asks for {self.describe()}.{advice}"
        if math.isnan(value):
            return "Your answer is NaN: look for a division by zero or a missing value."
        if math.isinf(value):
            return "Your answer is infinite: look for a division by zero."
        if self.integer and value != round(value):
            return f"Your answer ({value:g}) should be {self.describe()}."
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            return f"Your answer ({value:g}) should be {self.describe()}."
        return None

    def same(self, answer, expected) -> bool:
        a, e = _as_number(answer), _as_number(expected)
        if a is None or e is None:
            return False
        if self.integer:
            return round(a) == round(e)
        return abs(a - e) <= self.atol + self.rtol * abs(e)

    def perturb(self, expected):
        e = float(expected)
        if self.integer:
            candidates = [e + 1, e - 1]
        else:
            step = max(50 * (self.atol + self.rtol * abs(e)), 0.05 * abs(e), 1e-6)
            candidates = [e + step, e - step]
        for c in candidates:
            if self.problem(c) is None and not self.same(c, e):
                return c
        return candidates[0]


def _label(answer) -> str | None:
    """A choice as text: strings stripped, numbers written with ``:g`` (so 0.5 and "0.5" agree)."""
    if isinstance(answer, (str, np.str_)):
        return str(answer).strip()
    value = _as_number(answer)
    return None if value is None else f"{value:g}"


@_inherit_docs
class Choice(AnswerKind):
    """One label out of a known list (a model name, an offer, a setting), compared case-insensitively.

    A number counts as its text (``0.5`` is the option ``"0.5"``).

    Parameters
    ----------
    options : sequence of str or float
        The labels a valid answer is one of.

    Examples
    --------
    >>> kind = Choice(["BG/NBD", "Pareto/NBD"])
    >>> kind.same("bg/nbd", "BG/NBD"), kind.problem("BG")
    (True, "Your answer ('BG') should be one of ['BG/NBD', 'Pareto/NBD'].")
    >>> Choice([0.5, 2, 10]).same(0.5, "0.5")
    True
    """

    def __init__(self, options: Iterable) -> None:
        self.options = [_label(o) if _label(o) is not None else str(o) for o in options]

    def describe(self) -> str:
        return f"one of {self.options}"

    def problem(self, answer) -> str | None:
        label = _label(answer)
        if label is None:
            return f"Your answer is {_shape_of(answer)}; the question asks for {self.describe()}."
        if label.lower() not in {o.lower() for o in self.options}:
            return f"Your answer ({label!r}) should be {self.describe()}."
        return None

    def same(self, answer, expected) -> bool:
        a, e = _label(answer), _label(expected)
        return a is not None and e is not None and a.lower() == e.lower()

    def perturb(self, expected):
        others = [o for o in self.options if o.lower() != str(expected).lower()]
        return others[0] if others else str(expected) + "?"


def _labels(answer) -> list | None:
    if isinstance(answer, (str, bytes)) or answer is None or answer is Ellipsis:
        return None
    if isinstance(answer, pd.DataFrame):
        return None
    if isinstance(answer, pd.Series) and answer.dtype == bool:
        return answer.index[answer.to_numpy()].tolist()
    try:
        return [a.item() if isinstance(a, np.generic) else a for a in answer]
    except TypeError:
        return None


@_inherit_docs
class Members(AnswerKind):
    """A set of labels (customer ids, segments), compared as a set; order and repeats do not matter.

    A boolean Series counts as the set of its index labels where it is True.

    Parameters
    ----------
    min_size : int
        Fewest members of a valid answer.

    Examples
    --------
    >>> Members().same(["b", "a", "a"], {"a", "b"})
    True
    """

    def __init__(self, *, min_size: int = 0) -> None:
        self.min_size = min_size

    def describe(self) -> str:
        return "a collection of labels (a list, set or Index)"

    def problem(self, answer) -> str | None:
        labels = _labels(answer)
        if labels is None:
            return f"Your answer is {_shape_of(answer)}; the question asks for {self.describe()}."
        if len(set(labels)) < self.min_size:
            return f"Your answer has {len(set(labels))} distinct members; the question asks for at least {self.min_size}."
        return None

    def same(self, answer, expected) -> bool:
        a, e = _labels(answer), _labels(expected)
        return a is not None and e is not None and set(a) == set(e)

    def perturb(self, expected):
        e = list(dict.fromkeys(_labels(expected) or []))
        return e[1:] if e else ["(nobody)"]


@_inherit_docs
class Values(AnswerKind):
    """Several numbers labelled by an index (a pandas Series), compared label by label within a tolerance.

    Parameters
    ----------
    rtol, atol : float
        Relative and absolute tolerance of each value.

    Examples
    --------
    >>> kind = Values(rtol=1e-3)
    >>> kind.same(pd.Series([1.0, 2.0], index=["a", "b"]), pd.Series([2.0, 1.0], index=["b", "a"]))
    True
    """

    def __init__(self, *, rtol: float = 1e-4, atol: float = 1e-9) -> None:
        self.rtol, self.atol = rtol, atol

    def describe(self) -> str:
        return "a pandas Series of numbers"

    def problem(self, answer) -> str | None:
        if isinstance(answer, pd.DataFrame) and answer.shape[1] == 1:
            return (f"Your answer is {_shape_of(answer)}; the question asks for {self.describe()}: "
                    "take the column (df['name'] or df.iloc[:, 0]).")
        if not isinstance(answer, pd.Series):
            return f"Your answer is {_shape_of(answer)}; the question asks for {self.describe()}."
        values = pd.to_numeric(answer, errors="coerce")
        if values.isna().any():
            return "Your Series holds missing or non-numeric values."
        return None

    def same(self, answer, expected) -> bool:
        if not isinstance(answer, pd.Series) or not isinstance(expected, pd.Series):
            return False
        if len(answer) != len(expected) or set(answer.index) != set(expected.index):
            return False
        a = answer.loc[expected.index].to_numpy(dtype=float)
        e = expected.to_numpy(dtype=float)
        return bool(np.all(np.abs(a - e) <= self.atol + self.rtol * np.abs(e)))

    def perturb(self, expected):
        out = expected.astype(float).copy()
        out.iloc[0] = out.iloc[0] * 1.1 + 1.0
        return out


# ---------------------------------------------------------------------------------- exercises
@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and the hint a student who made it needs.

    Parameters
    ----------
    hint : str
        What the mistake probably was, in words (never the right answer).
    answer : callable
        ``answer(**context)`` returns the answer the mistake gives, from the check's context.

    Examples
    --------
    >>> m = Mistake("You divided by the customers, not by the purchases.", lambda n: n / 2)
    >>> m.answer(n=10)
    5.0
    """

    hint: str
    answer: Callable[..., Any]


@dataclass(frozen=True)
class Exercise:
    """One exercise: its question, hint, kind of answer, right answer and typical mistakes.

    Parameters
    ----------
    exercise_id : str
        ``"<notebook prefix>.<number>"``, e.g. ``"09.1"`` for the first exercise of
        ``09_learning_relationship.ipynb``.
    question : str
        The question in one sentence (the notebook's prompt says it at length).
    hint : str
        A hint that helps without giving the answer away.
    kind : AnswerKind
        The shape of a valid answer and how answers are compared.
    expected : callable, optional
        ``expected(**context)`` returns the right answer from the check's context.
    mistakes : tuple of Mistake
        Typical wrong answers, each with its hint.
    verify : callable, optional
        For answers without a single right value: ``verify(answer, **context)`` returns None
        when the answer is right, else a message (never the answer). Used instead of
        ``expected`` (a test then needs at least one mistake to prove the check can fail).
    context : tuple of str
        Keyword arguments :func:`check` must receive (the notebook objects the answer is
        computed from).

    Examples
    --------
    >>> ex = Exercise("doc.2", "Half of n?", "Divide by two.", Number(), expected=lambda n: n / 2,
    ...               context=("n",))
    >>> ex.grade(5.0, n=10).passed, ex.grade(4.0, n=10).status
    (True, 'wrong')
    """

    exercise_id: str
    question: str
    hint: str
    kind: AnswerKind
    expected: Callable[..., Any] | None = None
    mistakes: tuple[Mistake, ...] = ()
    verify: Callable[..., str | None] | None = None
    context: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.exercise_id, str) or not _EXERCISE_ID.match(self.exercise_id):
            raise ValueError(f"exercise_id must look like '09.1' (notebook prefix, dot, number), "
                             f"got {self.exercise_id!r}")
        if (self.expected is None) == (self.verify is None):
            raise ValueError(f"exercise {self.exercise_id}: give exactly one of expected= and verify=")
        if not isinstance(self.kind, AnswerKind):
            raise TypeError(f"exercise {self.exercise_id}: kind must be an AnswerKind (Number(), Choice([...]), ...)")

    def _context(self, context: Mapping[str, Any]) -> None:
        missing = [c for c in self.context if c not in context]
        if missing:
            raise TypeError(
                f"check({self.exercise_id!r}, answer, ...) needs the keyword argument(s) {missing}: "
                f"pass the notebook's objects, e.g. check({self.exercise_id!r}, answer, "
                + ", ".join(f"{c}={c}" for c in self.context) + ")"
            )

    def right_answer(self, **context):
        """The right answer for this context (for tests; never shown to a student).

        Parameters
        ----------
        **context
            The keyword arguments of :func:`check`.

        Returns
        -------
        object
            What ``expected`` returns (None for an exercise checked by ``verify``).

        Examples
        --------
        >>> Exercise("doc.3", "n + 1?", "Add one.", Number(), expected=lambda n: n + 1).right_answer(n=1)
        2
        """
        self._context(context)
        return None if self.expected is None else self.expected(**context)

    def grade(self, answer, **context) -> CheckResult:
        """Grade an answer in a context.

        Parameters
        ----------
        answer : object
            The student's answer (``...`` while unanswered).
        **context
            The notebook objects the answer is computed from.

        Returns
        -------
        CheckResult

        Examples
        --------
        >>> ex = Exercise("doc.4", "n squared?", "Multiply n by itself.", Number(), expected=lambda n: n * n)
        >>> ex.grade(..., n=3).status, ex.grade(9, n=3).status
        ('unanswered', 'correct')
        """
        self._context(context)
        if _unanswered(answer):
            return CheckResult(self.exercise_id, UNANSWERED,
                               f"Replace the ... with your answer and run the cell again "
                               f'(hint("{self.exercise_id}") shows a hint).')
        shape = self.kind.problem(answer)
        if shape is not None:
            return CheckResult(self.exercise_id, WRONG, f"{shape} Hint: {self.hint}")
        if self.verify is not None:
            trouble = self.verify(answer, **context)
            if trouble is None:
                return CheckResult(self.exercise_id, CORRECT, "Well done.")
        elif self.kind.same(answer, self.expected(**context)):
            return CheckResult(self.exercise_id, CORRECT, "Well done.")
        else:
            trouble = ""
        for mistake in self.mistakes:
            try:
                wrong = mistake.answer(**context)
            except Exception:  # a mistake that cannot be computed in this context is not the one made
                continue
            if self.kind.problem(wrong) is None and self.kind.same(answer, wrong):
                return CheckResult(self.exercise_id, WRONG, f"{mistake.hint} Hint: {self.hint}")
        text = f"{trouble} " if trouble else ""
        return CheckResult(self.exercise_id, WRONG, f"{text}Hint: {self.hint}")


def _unanswered(answer) -> bool:
    if answer is Ellipsis:
        return True
    if isinstance(answer, (tuple, list)):
        return any(a is Ellipsis for a in answer)
    if isinstance(answer, dict):
        return any(a is Ellipsis for a in answer.values())
    return False


# ----------------------------------------------------------------------------------- registry
_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


def _load_checks() -> None:
    """Import every module of crm_models.course.checks once (each registers its notebook's exercises)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import crm_models.course.checks as checks

    for info in pkgutil.iter_modules(checks.__path__, checks.__name__ + "."):
        importlib.import_module(info.name)


def register(exercise: Exercise, *, replace: bool = False) -> Exercise:
    """Add an exercise to the registry :func:`check` reads.

    Parameters
    ----------
    exercise : Exercise
        The exercise.
    replace : bool
        Replace an exercise registered under the same id (otherwise a repeated id is an error).

    Returns
    -------
    Exercise
        ``exercise`` itself.

    Raises
    ------
    ValueError
        If the id is taken and ``replace`` is False.

    Examples
    --------
    >>> ex = register(Exercise("doc.5", "1 + 1?", "Add.", Number(), expected=lambda: 2), replace=True)
    >>> get_exercise("doc.5") is ex
    True
    """
    if not isinstance(exercise, Exercise):
        raise TypeError(f"register() takes an Exercise, got {type(exercise).__name__}")
    if exercise.exercise_id in _REGISTRY and not replace:
        raise ValueError(f"exercise {exercise.exercise_id!r} is registered twice")
    _REGISTRY[exercise.exercise_id] = exercise
    return exercise


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise registered under ``exercise_id``.

    Parameters
    ----------
    exercise_id : str
        For example ``"09.1"``.

    Returns
    -------
    Exercise

    Raises
    ------
    ValueError
        If no exercise has that id (the message lists the ids of the same notebook).

    Examples
    --------
    >>> get_exercise("09.1").kind.describe()
    'a number between 0 and 1'
    """
    _load_checks()
    if exercise_id not in _REGISTRY:
        prefix = str(exercise_id).split(".")[0]
        same = sorted(k for k in _REGISTRY if k.split(".")[0] == prefix)
        raise ValueError(f"no exercise {exercise_id!r}; exercises of notebook {prefix!r}: {same or 'none'}")
    return _REGISTRY[exercise_id]


def exercise_table() -> pd.DataFrame:
    """Every registered exercise: its question, kind of answer, context and number of known mistakes.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``exercise_id`` (sorted): ``question``, ``answer``, ``context`` and
        ``mistakes``.

    Examples
    --------
    >>> table = exercise_table()
    >>> "09.1" in table.index
    True
    """
    _load_checks()
    rows = [{"exercise_id": e.exercise_id, "question": e.question, "answer": e.kind.describe(),
             "context": ", ".join(e.context), "mistakes": len(e.mistakes)} for e in _REGISTRY.values()]
    return pd.DataFrame(rows, columns=["exercise_id", "question", "answer", "context", "mistakes"]
                        ).set_index("exercise_id").sort_index()


# ------------------------------------------------------------------------------ check & hint
_SESSIONS: list[_Session] = []


def check(exercise_id: str, answer, **context) -> CheckResult:
    """Check an answer to a notebook exercise without revealing the right one.

    Parameters
    ----------
    exercise_id : str
        For example ``"09.1"``.
    answer : object
        Your answer; ``...`` while you have not answered (the check then reports "not
        answered yet" and raises nothing).
    **context
        The notebook objects the answer is computed from, as the scaffold cell passes them.

    Returns
    -------
    CheckResult
        ``status`` is ``"correct"``, ``"wrong"`` (with a message and hints) or ``"unanswered"``.

    Raises
    ------
    ValueError
        If no exercise has that id.
    TypeError
        If a keyword argument the exercise needs is missing.

    Examples
    --------
    >>> check("09.1", ..., history=None, preferences=None).status
    'unanswered'
    """
    exercise = get_exercise(exercise_id)
    result = exercise.grade(answer, **context)
    for session in _SESSIONS:
        session.grade(exercise, context)
    return result


def hint(exercise_id: str) -> Hint:
    """The hint of an exercise.

    Parameters
    ----------
    exercise_id : str
        For example ``"09.1"``.

    Returns
    -------
    Hint

    Examples
    --------
    >>> hint("09.1").exercise_id
    '09.1'
    """
    return Hint(exercise_id, get_exercise(exercise_id).hint)


# --------------------------------------------------------------------------- grading (tests)
@dataclass
class GradingRecord:
    """How one :func:`check` call fared against its solution and its typical mistakes.

    Parameters
    ----------
    exercise_id : str
        The exercise.
    solution : CheckResult or None
        The verdict on the solution (None when there is no solution).
    wrong : list of tuple
        ``(label, CheckResult)`` for every wrong answer tried (each mistake, and a perturbed
        answer when the exercise has an ``expected``).
    problems : list of str
        Everything that is not as it should be; empty when the exercise is sound.

    Examples
    --------
    >>> GradingRecord("09.1", None).ok
    True
    """

    exercise_id: str
    solution: CheckResult | None
    wrong: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


def _reveals(message: str, expected, kind: AnswerKind) -> bool:
    """Whether ``message`` spells out ``expected`` (numbers at 1-4 decimals; labels by name)."""
    if expected is None:
        return False
    value = _as_number(expected)
    if isinstance(kind, Choice):  # naming every option reveals nothing; naming the right one alone does
        named = [o for o in kind.options
                 if re.search(rf"(?<![\w.]){re.escape(o)}(?![\w])", message, flags=re.IGNORECASE)]
        return _label(expected) is not None and _label(expected).lower() in {o.lower() for o in named} \
            and len(named) < len(kind.options)
    if value is not None:
        allowed = set(re.findall(r"-?\d+(?:\.\d+)?", kind.describe()))
        forms = {f"{value:g}"} | {f"{value:.{d}f}" for d in range(1, 5)} | {f"{value:,.{d}f}" for d in range(0, 3)}
        if float(value).is_integer():
            forms.add(str(int(value)))
        forms = {f for f in forms if f not in allowed and len(f.lstrip("-").replace(".", "").replace(",", "")) >= 2}
        numbers = set(re.findall(r"-?\d[\d,]*(?:\.\d+)?", message))
        return bool(forms & numbers)
    if isinstance(expected, str):
        return re.search(rf"(?<![\w]){re.escape(expected)}(?![\w])", message, flags=re.IGNORECASE) is not None
    return False


class _Session:
    def __init__(self, solutions: Mapping[str, Callable[..., Any]]) -> None:
        self.solutions = solutions
        self.records: list[GradingRecord] = []

    def grade(self, exercise: Exercise, context: Mapping[str, Any]) -> None:
        eid = exercise.exercise_id
        record = GradingRecord(eid, None)
        self.records.append(record)
        solve = self.solutions.get(eid)
        expected = exercise.right_answer(**context)
        if solve is None:
            record.problems.append(f"{eid}: no solution (add it to SOLUTIONS in notebooks/solutions/)")
        else:
            try:
                record.solution = exercise.grade(solve(**context), **context)
            except Exception as exc:
                record.problems.append(f"{eid}: the solution raised {type(exc).__name__}: {exc}")
            else:
                if not record.solution.passed:
                    record.problems.append(f"{eid}: the solution does not pass: {record.solution!r}")
        tried = []
        for i, mistake in enumerate(exercise.mistakes):
            try:
                tried.append((f"mistake {i + 1}", mistake.answer(**context), mistake.hint))
            except Exception as exc:
                record.problems.append(f"{eid}: mistake {i + 1} cannot be computed ({type(exc).__name__}: {exc})")
        if exercise.expected is not None:
            tried.append(("perturbed answer", exercise.kind.perturb(expected), None))
        if not tried:
            record.problems.append(f"{eid}: no wrong answer to prove the check can fail (add a Mistake)")
        for label, wrong, its_hint in tried:
            result = exercise.grade(wrong, **context)
            record.wrong.append((label, result))
            if result.passed:
                record.problems.append(f"{eid}: the {label} passes the check (indistinguishable from the right answer)")
            elif result.status != WRONG:
                record.problems.append(f"{eid}: the {label} is reported {result.status}")
            elif its_hint is not None and its_hint not in result.message:
                record.problems.append(f"{eid}: the {label} does not get its hint: {result.message!r}")
            if _reveals(result.message, expected, exercise.kind):
                record.problems.append(f"{eid}: the message for the {label} reveals the answer: {result.message!r}")
        for name, text in (("hint", exercise.hint), ("question", exercise.question)):
            if _reveals(text, expected, exercise.kind):
                record.problems.append(f"{eid}: the {name} reveals the answer")


@contextlib.contextmanager
def grading_session(solutions: Mapping[str, Callable[..., Any]]) -> Iterator[list[GradingRecord]]:
    """While active, every :func:`check` call also grades the solution and the typical mistakes.

    Parameters
    ----------
    solutions : mapping
        Exercise id -> ``f(**context)`` returning the right answer.

    Yields
    ------
    list of GradingRecord
        Filled as :func:`check` is called, one record per call.

    Examples
    --------
    >>> with grading_session({"doc.1": lambda: 42}) as records:
    ...     _ = check("doc.1", ...)
    >>> [r.ok for r in records]
    [True]
    """
    session = _Session(dict(solutions))
    _SESSIONS.append(session)
    try:
        yield session.records
    finally:
        _SESSIONS.remove(session)


_CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([0-9A-Za-z]+\.[0-9]+[a-z]?)["']""")


def check_calls(source: str) -> list[str]:
    """Exercise ids of the :func:`check` calls in a piece of code, in order.

    Parameters
    ----------
    source : str
        Python source (a notebook cell).

    Returns
    -------
    list of str

    Examples
    --------
    >>> check_calls('x = ...\\ncheck("09.2", x, history=history)')
    ['09.2']
    """
    return _CHECK_CALL.findall(source)


def _load_solutions(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"_solutions_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    solutions = getattr(module, "SOLUTIONS", None)
    if not isinstance(solutions, Mapping):
        raise ValueError(f"{path} must define SOLUTIONS = {{exercise id: function(**context)}}")
    return dict(solutions)


def grade_notebook(notebook: str | Path, solutions: str | Path | Mapping | None = None) -> list[GradingRecord]:
    """Run a notebook in-process and grade every :func:`check` call against its solution and mistakes.

    The code cells run in order in a fresh IPython shell, from the notebook's folder, with a
    non-interactive matplotlib backend and explorers drawn statically. At each :func:`check`
    call the solution is graded (it must pass), then each registered mistake and a perturbed
    answer (each must fail, with its hint, without revealing the answer).

    Parameters
    ----------
    notebook : str or pathlib.Path
        The ``.ipynb`` file.
    solutions : str, pathlib.Path or mapping, optional
        The solutions: a mapping, or a ``.py`` file defining ``SOLUTIONS``; default
        ``solutions/<notebook stem>.py`` beside the notebook.

    Returns
    -------
    list of GradingRecord
        One per :func:`check` call, in order.

    Raises
    ------
    RuntimeError
        If a cell fails.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
    ...         "source": "from crm_models.course import check\\ncheck('doc.1', ...)"}
    >>> _ = (folder / "toy.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {},
    ...                                                   "nbformat": 4, "nbformat_minor": 4}))
    >>> [r.ok for r in grade_notebook(folder / "toy.ipynb", {"doc.1": lambda: 42})]
    [True]
    """
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    path = Path(notebook).resolve()
    if solutions is None:
        solutions = path.parent / "solutions" / f"{path.stem}.py"
    if not isinstance(solutions, Mapping):
        solutions = _load_solutions(Path(solutions))
    nb = nbformat.read(path, as_version=4)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shell = InteractiveShell.instance()
    shell.reset(new_session=True)
    old_cwd, old_env = os.getcwd(), os.environ.get("CRM_MODELS_STATIC_EXPLORERS")
    os.environ["CRM_MODELS_STATIC_EXPLORERS"] = "1"
    try:
        os.chdir(path.parent)
        with grading_session(solutions) as records:
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    result = shell.run_cell(cell.source, store_history=False, silent=False)
                plt.close("all")
                if not result.success:
                    err = result.error_in_exec or result.error_before_exec
                    raise RuntimeError(f"{path.name}: cell {i} failed: {type(err).__name__}: {err}")
    finally:
        os.chdir(old_cwd)
        if old_env is None:
            os.environ.pop("CRM_MODELS_STATIC_EXPLORERS", None)
        else:
            os.environ["CRM_MODELS_STATIC_EXPLORERS"] = old_env
        shell.reset(new_session=True)
    return records

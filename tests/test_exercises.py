"""Every exercise check passes its solution, fails typical wrong answers, and never reveals the answer.

Notebooks that call crm_models.course.check are found automatically; each runs in-process once with
its solutions (notebooks/solutions/<notebook>.py) graded at every check call. The stored notebooks keep
their scaffolds: every stored check output says "not answered yet".
"""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from course_notebooks import COURSE_READY

from crm_models.course import exercises as ex
from crm_models.course.exercises import (
    Choice,
    Exercise,
    Members,
    Mistake,
    Number,
    Values,
    check,
    check_calls,
    exercise_table,
    get_exercise,
    grade_notebook,
    grading_session,
    hint,
    register,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = ROOT / "notebooks" / "solutions"


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _ids(path):
    return [i for c in _cells(path) if c["cell_type"] == "code" for i in check_calls(_source(c))]


WITH_CHECKS = [p for p in NOTEBOOKS if _ids(p)]


# ------------------------------------------------------------------------ the notebooks
@pytest.mark.parametrize("path", WITH_CHECKS, ids=lambda p: p.name)
def test_every_check_passes_its_solution_and_fails_typical_mistakes(path):
    records = grade_notebook(path)
    assert [r.exercise_id for r in records] == _ids(path), "every check call is graded, in order"
    problems = [p for r in records for p in r.problems]
    assert not problems, "\n".join(problems)
    for r in records:
        assert r.solution.passed and r.wrong and all(not w.passed for _, w in r.wrong)


@pytest.mark.parametrize("path", WITH_CHECKS, ids=lambda p: p.name)
def test_stored_notebooks_keep_their_scaffolds(path):
    for cell in _cells(path):
        if cell["cell_type"] != "code" or not check_calls(_source(cell)):
            continue
        text = "".join("".join(o.get("data", {}).get("text/plain", "")) + "".join(o.get("text", ""))
                       for o in cell.get("outputs", []))
        for eid in check_calls(_source(cell)):
            assert f"Exercise {eid}: not answered yet" in text, (
                f"{path.name}: the stored output of check({eid!r}) is not 'not answered yet': the notebook must be "
                f"stored with the scaffold (...), the solution kept in notebooks/solutions/{path.stem}.py")


@pytest.mark.parametrize("path", WITH_CHECKS, ids=lambda p: p.name)
def test_solutions_and_registry_match_the_notebook(path):
    ids = _ids(path)
    assert len(ids) == len(set(ids)), f"{path.name} checks an exercise twice"
    prefix = path.name.split("_")[0]
    assert all(i.split(".")[0] == prefix for i in ids), f"{path.name}: exercise ids must start with {prefix!r}"
    registered = {i for i in exercise_table().index if i.split(".")[0] == prefix}
    assert registered == set(ids), "every exercise registered for the notebook is checked in it, and only those"
    solutions = ex._load_solutions(SOLUTIONS / f"{path.stem}.py")
    assert set(solutions) == set(ids), "notebooks/solutions has one solution per exercise"


@pytest.mark.parametrize("name", COURSE_READY)
def test_course_ready_notebooks_check_every_exercise(name):
    cells = _cells(ROOT / "notebooks" / name)
    prompts = [m for c in cells if c["cell_type"] == "markdown"
               for m in re.findall(r"\*\*Exercise (\d+)[.:*]", _source(c))]
    ids = _ids(ROOT / "notebooks" / name)
    assert prompts and len(prompts) == len(ids), f"{name}: {len(prompts)} exercise prompts, {len(ids)} checks"


def test_every_solution_file_belongs_to_a_notebook():
    stems = {p.stem for p in NOTEBOOKS}
    assert [p.name for p in SOLUTIONS.glob("*.py") if p.stem not in stems] == []


# ---------------------------------------------------------------------- the mechanism
@pytest.fixture()
def toy():
    exercise = Exercise(
        "toy.1", "Share of heavy buyers' purchases?", "Divide the heavy buyers' purchases by everyone's.",
        Number(low=0, high=1, rtol=1e-6),
        expected=lambda purchases: purchases[purchases >= 7].sum() / purchases.sum(),
        mistakes=(Mistake("You divided by the number of customers.",
                          lambda purchases: purchases[purchases >= 7].sum() / len(purchases)),
                  Mistake("That is the share of heavy buyers among customers.",
                          lambda purchases: float((purchases >= 7).mean()))),
        context=("purchases",),
    )
    register(exercise, replace=True)
    yield pd.Series([0, 1, 2, 8, 9, 0, 0, 3], dtype=float)
    ex._REGISTRY.pop("toy.1", None)


def test_a_scaffold_is_not_answered_and_raises_nothing(toy):
    result = check("toy.1", ..., purchases=toy)
    assert result.status == "unanswered" and not result.passed
    assert repr(result).startswith("Exercise toy.1: not answered yet.")
    assert "not answered" in result._repr_html_()


def test_the_right_answer_passes_and_typical_mistakes_get_their_hint(toy):
    assert check("toy.1", 17 / 23, purchases=toy).passed
    wrong = check("toy.1", 17 / 8, purchases=toy)
    assert wrong.status == "wrong" and "between 0 and 1" in wrong.message
    heavy = check("toy.1", 2 / 8, purchases=toy)
    assert "share of heavy buyers among customers" in heavy.message and "Divide" in heavy.message
    assert "0.739" not in heavy.message and "0.74" not in heavy.message


@pytest.mark.parametrize("answer, words", [
    (pd.Series([0.5, 0.2]), "Series of 2 values"),
    (pd.DataFrame({"a": [1.0]}), "DataFrame"),
    (np.nan, "NaN"),
    (True, "True/False"),
    ("0.7", "text"),
    (None, "None"),
])
def test_answers_of_the_wrong_shape_say_so(toy, answer, words):
    result = check("toy.1", answer, purchases=toy)
    assert result.status == "wrong" and words in result.message


def test_missing_context_and_unknown_ids_are_clear(toy):
    with pytest.raises(TypeError, match="purchases=purchases"):
        check("toy.1", 0.5)
    with pytest.raises(ValueError, match="no exercise 'toy.9'"):
        check("toy.9", 0.5)


def test_hint_and_table(toy):
    assert hint("toy.1").text.startswith("Divide")
    assert exercise_table().loc["toy.1", "mistakes"] == 2


def test_grading_session_flags_unsound_exercises(toy):
    with grading_session({"toy.1": lambda purchases: 0.1}) as records:
        check("toy.1", ..., purchases=toy)
    assert any("solution does not pass" in p for p in records[0].problems)
    register(Exercise("toy.2", "Anything?", "Say 0.5.", Number(), expected=lambda: 0.5,
                      mistakes=(Mistake("Same as right.", lambda: 0.5),)), replace=True)
    try:
        with grading_session({"toy.2": lambda: 0.5}) as records:
            check("toy.2", ...)
        assert any("mistake 1 passes" in p for p in records[0].problems)
        assert any("hint reveals" in p for p in records[0].problems)
    finally:
        ex._REGISTRY.pop("toy.2", None)


def test_exercise_declarations_are_validated():
    with pytest.raises(ValueError, match="look like"):
        Exercise("first", "q", "h", Number(), expected=lambda: 1)
    with pytest.raises(ValueError, match="exactly one"):
        Exercise("x.1", "q", "h", Number())
    with pytest.raises(TypeError, match="AnswerKind"):
        Exercise("x.1", "q", "h", "number", expected=lambda: 1)
    register(Exercise("x.1", "q", "h", Number(), expected=lambda: 1), replace=True)
    try:
        with pytest.raises(ValueError, match="twice"):
            register(Exercise("x.1", "q", "h", Number(), expected=lambda: 1))
    finally:
        ex._REGISTRY.pop("x.1", None)


def test_answer_kinds():
    assert Number(integer=True).problem(2.5) and Number(integer=True).same(3.0, 3)
    assert Number(low=0).problem(-1) and Number(high=1).problem(2)
    assert not Number(rtol=1e-3).same(Number(rtol=1e-3).perturb(10.0), 10.0)
    assert Choice(["a", "b"]).perturb("a") == "b" and Choice(["a"]).problem(3)
    assert Members().same(pd.Series([True, False, True], index=["x", "y", "z"]), ["z", "x"])
    assert Members(min_size=2).problem(["a"]) and Members().problem("abc")
    assert not Members().same(Members().perturb(["a", "b"]), ["a", "b"])
    s = pd.Series([1.0, 2.0], index=["a", "b"])
    assert Values().same(s * (1 + 1e-6), s) and not Values().same(Values().perturb(s), s)
    assert Values().problem(s.to_frame()) and Values().problem([1, 2])
    assert "one of" in Choice(["a", "b"]).describe()


def test_verify_exercises_use_their_message():
    exercise = Exercise("x.2", "An even number?", "Try 2.", Number(integer=True),
                        verify=lambda answer: None if answer % 2 == 0 else "It is odd.",
                        mistakes=(Mistake("Three is odd.", lambda: 3),))
    assert exercise.grade(4).passed
    assert exercise.grade(5).message.startswith("It is odd.")
    assert "Three is odd." in exercise.grade(3).message
    assert exercise.right_answer() is None


def test_unanswered_in_containers():
    exercise = get_exercise("09.2")
    assert exercise.grade((0.1, ...), history=None, customer=None, offer=None, prior_strength=2).status == "unanswered"

"""The course's machinery: exercises with checks, prose bound to numbers, explorers, one CLV definition.

- :mod:`~crm_models.course.exercises`: :func:`check` an answer to a notebook exercise (passes the
  right answer, explains typical mistakes, never reveals the answer, reports "not answered yet"
  for a scaffold), :func:`hint`, and :func:`grade_notebook` for the tests that run every check
  against its solution (kept in ``notebooks/solutions/``) and against typical wrong answers.
- :mod:`~crm_models.course.prose`: :func:`unbound_numbers` finds numbers written in a notebook's
  prose that no computation renders or asserts.
- :mod:`~crm_models.course.explorers`: interactive figures (BG/NBD parameters, the linkage
  threshold, a retention budget) that draw statically where no live kernel runs.
- :mod:`~crm_models.course.definitions`: :data:`COURSE_CLV`, the one definition of CLV, and its
  units box.
- :mod:`~crm_models.course.derivations`: the BG/NBD likelihood, P(alive) and purchase
  distribution written from the paper's equations.

The exercises themselves are declared in ``crm_models/course/checks/notebook_<prefix>.py``, one
module per notebook.
"""

from crm_models.course.definitions import COURSE_CLV, CLVDefinition, UnitsBox
from crm_models.course.exercises import (
    Choice,
    Exercise,
    Members,
    Mistake,
    Number,
    Values,
    check,
    exercise_table,
    grade_notebook,
    hint,
    register,
)
from crm_models.course.explorers import BetaGeoExplorer, LinkageExplorer, RetentionBudgetExplorer
from crm_models.course.prose import unbound_numbers

__all__ = [
    "check",
    "hint",
    "exercise_table",
    "register",
    "Exercise",
    "Mistake",
    "Number",
    "Choice",
    "Members",
    "Values",
    "grade_notebook",
    "unbound_numbers",
    "BetaGeoExplorer",
    "LinkageExplorer",
    "RetentionBudgetExplorer",
    "COURSE_CLV",
    "CLVDefinition",
    "UnitsBox",
]

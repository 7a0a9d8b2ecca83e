"""Check notebooks against the course standard: exercises graded against their solutions, prose bound to code.

    python scripts/check_course.py                      # every notebook in notebooks/
    python scripts/check_course.py notebooks/00_start_here.ipynb

For each notebook: every check() call is graded in-process against notebooks/solutions/<notebook>.py
(the solution must pass; each registered mistake and a perturbed answer must fail with their hints,
without revealing the answer), and every number in its Markdown prose that is neither rendered from
code nor bound to a literal in the code cell beside it is listed (crm_models.course.prose). Exits 1 if
anything is wrong. The tests run the same checks (tests/test_exercises.py, tests/test_prose_numbers.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from crm_models.course.exercises import check_calls, grade_notebook
    from crm_models.course.prose import unbound_numbers

    import nbformat

    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    failed = False
    for path in paths:
        print(f"== {path.name}")
        cells = nbformat.read(path, as_version=4).cells
        ids = [i for c in cells if c.cell_type == "code" for i in check_calls(c.source)]
        if ids:
            for record in grade_notebook(path):
                print(f"  exercise {record.exercise_id}: {'ok' if record.ok else 'PROBLEMS'}")
                for problem in record.problems:
                    print(f"    - {problem}")
                failed |= not record.ok
        else:
            print("  no check() calls")
        found = unbound_numbers(path)
        print(f"  prose: {len(found)} unbound number(s)")
        for row in found.itertuples(index=False):
            print(f"    - cell {row.cell}: {row.text!r} in: {row.context}")
        failed |= bool(len(found))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Notebook 06's self-checks pass the solutions and fail typical wrong answers, without giving them away.

The notebook's code runs once in one namespace with each exercise's ``...`` replaced by a worked
solution (every check must print "correct"); then each check cell runs again after a typical
wrong answer and must raise an AssertionError whose message does not contain the solution.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_is_the_model_right.ipynb"

SOLUTIONS = {
    "my_auc = ...": "my_auc = 2.5 / 6",
    "my_p_alive = ...": "my_p_alive = 1 / (1 + a / b * ((alpha + 30) / alpha) ** r)",
    "hardest_baseline = ...": (
        "_b = result.aggregate().xs('brier', level='metric')['mean']\n"
        "hardest_baseline = _b[['past rate', 'RFM segment mean', 'same as last period']].idxmin()"),
    "brier_gain_pct = ...": "brier_gain_pct = 100 * (_b[hardest_baseline] - _b[choice.model]) / _b[hardest_baseline]",
    "my_coverage = ...": (
        "_iv = wmbg.predictive_interval(wsum, t_future, alpha=0.05)\n"
        "_y = truth['holdout_purchases'].reindex(wsum.index)\n"
        "my_coverage = float(((_iv['lower'] <= _y) & (_y <= _iv['upper'])).mean())"),
}
WRONG = {
    "my_auc": "my_auc = 3 / 6",
    "my_p_alive": "my_p_alive = 1 / (1 + a / b * ((alpha + 30) / alpha) ** (r + 1))",
    "brier_gain_pct": "brier_gain_pct = brier_gain_pct + 1",
    "hardest_baseline": "hardest_baseline = 'RFM segment mean'",
    "my_coverage": "my_coverage = 0.95",
}


def _answered(src: str) -> str:
    lines = []
    for line in src.split("\n"):
        key = line.split("#")[0].strip()
        lines.append(SOLUTIONS.get(key, line))
    return "\n".join(lines)


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="notebook 06 is not there")
def test_checks_pass_the_solutions_and_fail_wrong_answers(monkeypatch):
    monkeypatch.chdir(NOTEBOOK.parent)
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    checks = [c for c in cells if c.startswith("# self-check")]
    assert len(checks) == 4
    ns: dict = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for src in cells:
            exec(compile(_answered(src).replace("display(", "(lambda *a, **k: None)("), "<cell>", "exec"), ns)
    assert printed.getvalue().count(": correct") == 4, printed.getvalue()[-2000:]
    solved = {name: ns[name] for name in WRONG}
    for name, wrong in WRONG.items():
        exec(wrong, ns)
        check = next(c for c in checks if name in c)
        with pytest.raises(AssertionError) as info, contextlib.redirect_stdout(io.StringIO()):
            exec(compile(check, "<check>", "exec"), ns)
        message = str(info.value)
        assert message.startswith(("Not yet", "The baseline is right")), message
        assert f"{solved[name]:.3f}" not in message if not isinstance(solved[name], str) else solved[name] not in message
        ns[name] = solved[name]

"""Notebooks are product: each is stored executed, top to bottom, without errors.

nbval (run by the same pytest command) re-executes every notebook and compares outputs; this
test refuses notebooks that nbval could not meaningfully check: never run, run out of order, or
stored with an error.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(nb.name == "00_start_here.ipynb" for nb in NOTEBOOKS)


def _expects_error(cell) -> bool:
    src = "".join(cell.get("source", ""))
    tags = cell.get("metadata", {}).get("tags", [])
    return "NBVAL_RAISES_EXCEPTION" in src or "raises-exception" in tags


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_stored_after_clean_run(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    code = [c for c in cells if "".join(c["source"]).strip()]
    assert code, f"{path.name} has no code"
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name} was not stored after a clean top-to-bottom run (execution counts {counts}); "
        "re-run it with scripts/run_notebooks.py"
    )
    assert sum(bool(c.get("outputs")) for c in code) >= len(code) // 2, f"{path.name} is stored without outputs"
    errors = [c for c in code if not _expects_error(c) for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{path.name} stores an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_kernel_is_generic(path):
    meta = json.loads(path.read_text())["metadata"]
    assert meta.get("kernelspec", {}).get("name") == "python3", "notebooks must not leak a local kernel name"

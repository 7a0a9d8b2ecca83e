"""Re-execute notebooks in place, top to bottom in a fresh kernel, deterministically.

    python scripts/run_notebooks.py                 # every notebook in notebooks/
    python scripts/run_notebooks.py notebooks/00_start_here.ipynb

Each notebook runs in a new kernel of the current Python environment with PYTHONHASHSEED=0
and a non-interactive matplotlib backend, from the notebooks/ folder, with timing metadata off,
so re-running an unchanged notebook leaves the file unchanged. Interactive explorers
(crm_models.course.explorers) store the figure of their default state, not a live widget. A failing cell stops with its error.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path, timeout: int = 1200) -> None:
    nb = nbformat.read(path, as_version=4)
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ["CRM_MODELS_STATIC_EXPLORERS"] = "1"  # explorers store a static figure, not a live widget
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        t0 = time.perf_counter()
        print(f"running {path} ...", flush=True)
        run(path.resolve())
        print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

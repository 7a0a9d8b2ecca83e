"""Test-session settings shared by the unit tests, the doctests and nbval.

nbval starts each notebook's kernel with this process's environment: explorers
(crm_models.course.explorers) then draw the same static figure and numbers as the stored
notebooks (scripts/run_notebooks.py sets the same variable), never a live widget.

Spark's Python workers must run the interpreter that runs the tests (the one with crm_models and
pyarrow installed), not whatever ``python3`` is first on the PATH.
"""

import os
import sys

os.environ["CRM_MODELS_STATIC_EXPLORERS"] = "1"
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

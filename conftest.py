"""Test-run settings shared by the test suite and the doctests.

Spark's Python workers must run the interpreter that runs the tests (the one with crm_models and
pyarrow installed), not whatever ``python3`` is first on the PATH.
"""

import os
import sys

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

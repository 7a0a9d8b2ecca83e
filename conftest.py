"""Test-session settings shared by the unit tests, the doctests and nbval.

nbval starts each notebook's kernel with this process's environment: explorers
(crm_models.course.explorers) then draw the same static figure and numbers as the stored
notebooks (scripts/run_notebooks.py sets the same variable), never a live widget.
"""

import os

os.environ["CRM_MODELS_STATIC_EXPLORERS"] = "1"

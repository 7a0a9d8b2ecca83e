"""Sphinx configuration of the crm_models site: the course (the stored notebooks) and the API reference.

Build (from the repository root; warnings are errors):

    .venv/bin/python -m sphinx -W --keep-going -b html docs docs/_build/html

Everything the pages load is shipped with the build: the theme's assets, MathJax
(sphinx-mathjax-offline) and the notebooks' figures, so the site works without internet.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import crm_models  # noqa: E402

project = "crm_models"
author = "crm_models maintainers"
copyright = "crm_models maintainers, MIT licence"
release = version = crm_models.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax from the build's _static folder, not from a CDN
    "myst_nb",
    "crm_docs",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# -- the notebooks: rendered from their stored outputs, never executed by the build
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

# -- the API reference
autosummary_generate = False  # docs/_ext/crm_docs.py writes the pages; autosummary draws the tables
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections state types and units
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks = set()  # validated by tests/test_api_conventions.py

crm_api_package = "crm_models"
# (page, title, introduction, module prefixes): every public module must fall under one of them
crm_api_sections = [
    ("identify", "Identify: who is who",
     "Resolve the records of every system to one stable customer id: standardise contact data, link "
     "records with a Fellegi-Sunter model trained by Splink, golden records, and the evaluation of a "
     "resolution. Course: :doc:`/notebooks/01_identify_customers`.",
     ["crm_models.identify"]),
    ("differentiate", "Differentiate: value and needs",
     "What each customer is worth (lifetime-value models that reproduce their papers, with the "
     ":doc:`model pages </models/index>` giving the equations) and what each customer needs (RFM, "
     "value tiers, needs segments, matrices, migration).",
     ["crm_models.clv", "crm_models.segment"]),
    ("interact", "Interact: every interaction in context",
     "The single customer view, the agent's context card and service-queue priority.",
     ["crm_models.interact"]),
    ("customize", "Customize: treat each customer accordingly",
     "Next best action by expected value and budgeted retention targeting.",
     ["crm_models.customize"]),
    ("measure", "Measure: did it work",
     "Customers won, lost and grown, retention, cohorts, customer equity, satisfaction and NPS, and "
     "the evaluation of a randomised campaign.",
     ["crm_models.measure"]),
    ("transactions", "From a transaction log to a customer summary",
     "Everything starts from a transaction log: the frequency / recency / T / monetary value summary "
     "every lifetime-value model needs (pandas, DuckDB out of core, or Spark), the calibration / holdout "
     "split, and first looks at a log.",
     ["crm_models.transactions", "crm_models.explore"]),
    ("pipeline", "Scoring, report and command line",
     "One call from a transaction log to a scores table, the self-contained HTML report, and the "
     "``crm-models`` command; scoring more customers than memory holds (chunked, or on Spark).",
     ["crm_models.pipeline", "crm_models.report", "crm_models.cli", "crm_models.scale", "crm_models.spark"]),
    ("truth", "Grading against the simulated truth",
     "The only module that reads the simulated company's known truth: grade policies, uplift capture "
     "and needs segments against it.",
     ["crm_models.truth"]),
    ("course", "Course helpers: exercises, explorers, definitions",
     "What the notebooks use to teach: exercise checks that never reveal the answer, interactive "
     "explorers that render statically without a kernel, the course's one definition of CLV, and "
     "derivations written from the papers' equations.",
     ["crm_models.course"]),
    ("datasets", "Datasets and the simulated company",
     "Loaders of the shipped data and the generator of the simulated company (see "
     ":doc:`/datasets`).",
     ["crm_models.datasets"]),
    ("foundation", "Foundation: errors, units, vocabulary, estimators",
     "The conventions every module follows (``CONTRIBUTING.md``, shown under :doc:`/contributing`): "
     "structured errors, ``(length, unit)`` durations and ``(rate, unit)`` discount rates, the one "
     "vocabulary, the estimator contract and its JSON save format.",
     ["crm_models", "crm_models.errors", "crm_models.units", "crm_models.vocabulary", "crm_models.base"]),
]
# model classes -> their page of equations and published figures
crm_model_pages = {
    "crm_models.clv.BetaGeo": "models/bg_nbd",
    "crm_models.clv.ParetoNBD": "models/pareto_nbd",
    "crm_models.clv.ModifiedBetaGeo": "models/mbg_nbd",
    "crm_models.clv.GammaGamma": "models/gamma_gamma",
    "crm_models.clv.BetaGeoBetaBinom": "models/bg_bb",
    "crm_models.clv.ShiftedBetaGeo": "models/sbg",
    "crm_models.clv.customer_lifetime_value": "models/clv",
}

# -- HTML: a theme that ships its own assets (no web fonts, no CDN)
html_theme = "furo"
html_title = f"crm_models {release}"
html_static_path = ["_static"]
html_css_files = ["crm.css"]
html_theme_options = {"navigation_with_keys": True}
html_show_sourcelink = False
html_copy_source = False

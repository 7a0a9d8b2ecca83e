"""crm_models: customer relationship management models and teaching notebooks.

The package follows the IDIC framework (Peppers & Rogers): identify customers,
differentiate them by value and needs, interact with them in context, and customise
treatment, then measure the result.
"""

from crm_models.rfm import calibration_holdout_split, rfm_summary

__version__ = "0.1.0"

__all__ = ["rfm_summary", "calibration_holdout_split", "__version__"]

"""crm_models: customer relationship management models and teaching notebooks.

The package follows the IDIC framework (Peppers & Rogers): identify customers,
differentiate them by value and needs, interact with them in context, and customise
treatment, then measure the result.
"""

__version__ = "0.2.0"

from crm_models.base import load  # noqa: E402
from crm_models.transactions import calibration_holdout_split, rfm_summary  # noqa: E402

__all__ = ["rfm_summary", "calibration_holdout_split", "load", "__version__"]

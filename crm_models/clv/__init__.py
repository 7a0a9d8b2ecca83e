"""Probabilistic customer lifetime-value models (issue 3), each next to its paper.

Non-contractual purchase models on ``(frequency, recency, T)`` data: :class:`BetaGeo`
(BG/NBD), :class:`ModifiedBetaGeo` (MBG/NBD), :class:`ParetoNBD`; spend per transaction:
:class:`GammaGamma`; value: :func:`customer_lifetime_value`; simulators in
:mod:`crm_models.clv.simulate`. The shared contract lives in :mod:`crm_models.clv.base`.
"""

from crm_models.clv.base import (
    BaseModel,
    ConvergenceError,
    FrequencyRecencyModel,
    ModelSummary,
    NotFittedError,
    compress,
    validate_frequency_recency,
)

from crm_models.clv.beta_geo import BetaGeo
from crm_models.clv.gamma_gamma import GammaGamma
from crm_models.clv.modified_beta_geo import ModifiedBetaGeo
from crm_models.clv.pareto_nbd import ParetoNBD
from crm_models.clv.simulate import (
    simulate_beta_geo,
    simulate_gamma_gamma,
    simulate_modified_beta_geo,
    simulate_pareto_nbd,
)
from crm_models.clv.value import customer_lifetime_value, unit_days

__all__ = [
    "BetaGeo",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "GammaGamma",
    "customer_lifetime_value",
    "unit_days",
    "simulate_beta_geo",
    "simulate_modified_beta_geo",
    "simulate_pareto_nbd",
    "simulate_gamma_gamma",
    "BaseModel",
    "FrequencyRecencyModel",
    "ModelSummary",
    "NotFittedError",
    "ConvergenceError",
    "compress",
    "validate_frequency_recency",
]

# --- discrete-time / contractual models and diagnostics (branch clv-discrete) -----------
from crm_models.clv.beta_geo_beta_binom import BetaGeoBetaBinom, simulate_beta_geo_beta_binom  # noqa: E402
from crm_models.clv.shifted_beta_geo import ShiftedBetaGeo, simulate_shifted_beta_geo  # noqa: E402
from crm_models.clv.diagnostics import compare_models  # noqa: E402

__all__ += ["BetaGeoBetaBinom", "ShiftedBetaGeo", "simulate_beta_geo_beta_binom", "simulate_shifted_beta_geo", "compare_models"]

"""Probabilistic customer lifetime-value models, each next to its paper.

Continuous-time models of one row per customer (``frequency``, ``recency``, ``T``):
:class:`BetaGeo` (BG/NBD), :class:`ModifiedBetaGeo` (MBG/NBD), :class:`ParetoNBD`,
:class:`GammaGompertzNBD` (GGom/NBD), and for regular buyers :class:`BetaGeoCNBD` and
:class:`ModifiedBetaGeoCNBD` ((M)BG/CNBD-k, which also read ``log_interpurchase``; how regular a
base is: :func:`estimate_regularity`). Discrete-time models: :class:`BetaGeoBetaBinom` (BG/BB,
transactions at discrete opportunities), :class:`ShiftedBetaGeo` (sBG, one contract cohort's
survival table), and from per-customer contract rows over several cohorts
:class:`ShiftedBetaGeoContracts` and :class:`BetaDiscreteWeibull` (BdW). Spend per transaction:
:class:`GammaGamma`. BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, sBG and Gamma-Gamma take covariates
(customer attributes that shift their parameters; :mod:`crm_models.clv.covariates`). Value:
:func:`customer_lifetime_value`. Simulators with known parameters: ``simulate_*``. Diagnostics: :mod:`crm_models.clv.diagnostics` (tables) and
:mod:`crm_models.clv.plotting` (figures). Is the model right? :func:`backtest` and
:func:`select_model` (:mod:`crm_models.clv.backtest`); intervals on every per-customer number
(:mod:`crm_models.clv.uncertainty`); one customer's scores in words (:func:`explain_customer`).
The bases every model shares are in :mod:`crm_models.clv.base`.

Examples
--------
>>> from crm_models import rfm_summary
>>> from crm_models.datasets import load_cdnow
>>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
>>> bg, gg = BetaGeo().fit(rfm), GammaGamma().fit(rfm)
>>> clv = customer_lifetime_value(bg, gg, rfm, horizon=(12, "M"), time_unit="W", discount_rate=(0.10, "Y"))
>>> round(clv.sum())
72403
"""

from crm_models.clv.base import (
    BaseModel,
    ContinuousTimeModel,
    DiscreteTimeModel,
    RepeatPurchaseModel,
    validate_frequency_recency,
)
from crm_models.clv.beta_geo import BetaGeo
from crm_models.clv.beta_geo_beta_binom import BetaGeoBetaBinom, validate_discrete_patterns
from crm_models.clv.covariates import (
    DynamicCovariates,
    dynamic_covariates,
    join_covariates,
    likelihood_ratio_test,
    simulate_with_covariates,
)
from crm_models.clv.beta_geo_cnbd import BetaGeoCNBD, ModifiedBetaGeoCNBD
from crm_models.clv.contracts import BetaDiscreteWeibull, ShiftedBetaGeoContracts, contracts_from_survivors
from crm_models.clv.diagnostics import compare_models
from crm_models.clv.gamma_gamma import GammaGamma
from crm_models.clv.gamma_gompertz_nbd import GammaGompertzNBD
from crm_models.clv.modified_beta_geo import ModifiedBetaGeo
from crm_models.clv.pareto_nbd import ParetoNBD
from crm_models.clv.regularity import estimate_regularity, normalized_interpurchase_times, wheat_morrison_statistic
from crm_models.clv.shifted_beta_geo import ShiftedBetaGeo
from crm_models.clv.simulate import (
    simulate_beta_geo,
    simulate_beta_geo_beta_binom,
    simulate_beta_geo_cnbd,
    simulate_beta_geo_cnbd_log,
    simulate_beta_geo_log,
    simulate_contracts,
    simulate_gamma_gamma,
    simulate_gamma_gompertz_nbd,
    simulate_modified_beta_geo,
    simulate_pareto_nbd,
    simulate_shifted_beta_geo,
)
from crm_models.clv.value import customer_lifetime_value, customer_lifetime_value_by_period
from crm_models.clv.backtest import BacktestResult, ModelChoice, backtest, select_model  # noqa: E402
from crm_models.clv.explain import CustomerExplanation, explain_customer  # noqa: E402
from crm_models.clv.uncertainty import (  # noqa: E402
    clv_draws,
    clv_interval,
    interval_coverage,
    pit_coverage,
    spend_predictive_interval,
)

__all__ = [
    # models
    "BetaGeo",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "GammaGompertzNBD",
    "BetaGeoCNBD",
    "ModifiedBetaGeoCNBD",
    "BetaGeoBetaBinom",
    "ShiftedBetaGeo",
    "ShiftedBetaGeoContracts",
    "BetaDiscreteWeibull",
    "GammaGamma",
    # value
    "customer_lifetime_value",
    "customer_lifetime_value_by_period",
    # is the model right? backtests, model choice, uncertainty, explanations
    "backtest",
    "select_model",
    "BacktestResult",
    "ModelChoice",
    "clv_interval",
    "clv_draws",
    "spend_predictive_interval",
    "interval_coverage",
    "pit_coverage",
    "explain_customer",
    "CustomerExplanation",
    # simulators
    "simulate_beta_geo",
    "simulate_modified_beta_geo",
    "simulate_pareto_nbd",
    "simulate_gamma_gamma",
    "simulate_beta_geo_beta_binom",
    "simulate_shifted_beta_geo",
    "simulate_beta_geo_log",
    "simulate_beta_geo_cnbd",
    "simulate_beta_geo_cnbd_log",
    "simulate_gamma_gompertz_nbd",
    "simulate_contracts",
    "contracts_from_survivors",
    # regularity of purchase timing
    "estimate_regularity",
    "wheat_morrison_statistic",
    "normalized_interpurchase_times",
    # diagnostics
    "compare_models",
    # covariates
    "join_covariates",
    "likelihood_ratio_test",
    "simulate_with_covariates",
    "dynamic_covariates",
    "DynamicCovariates",
    # bases and input checks, for writing and checking models
    "BaseModel",
    "RepeatPurchaseModel",
    "ContinuousTimeModel",
    "DiscreteTimeModel",
    "validate_frequency_recency",
    "validate_discrete_patterns",
]

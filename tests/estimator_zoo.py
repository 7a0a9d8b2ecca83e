"""One fitted, cheap example of every public estimator, for the contract tests in test_api_conventions.py.

A new estimator class must be added here (the contract test fails until it is).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def fitted_estimators() -> dict:
    from crm_models import rfm_summary
    from crm_models.clv import (
        BetaGeo,
        BetaGeoBetaBinom,
        GammaGamma,
        ModifiedBetaGeo,
        ParetoNBD,
        ShiftedBetaGeo,
    )
    from crm_models.datasets import load_cdnow, load_donations, load_retention_cohorts
    from crm_models.pipeline import CustomerScorer
    from crm_models.segment import NeedsSegmenter, RFMScorer, ValueTiers

    cd = load_cdnow()
    rfm = rfm_summary(cd, observation_period_end="1997-09-30", after_end="drop")
    cohorts = load_retention_cohorts()
    out = {
        "BetaGeo": BetaGeo().fit(rfm),
        "ModifiedBetaGeo": ModifiedBetaGeo().fit(rfm),
        "ParetoNBD": ParetoNBD().fit(rfm),
        "GammaGamma": GammaGamma().fit(rfm),
        "BetaGeoBetaBinom": BetaGeoBetaBinom().fit(load_donations(), weights_col="n_donors"),
        "ShiftedBetaGeo": ShiftedBetaGeo().fit(
            pd.DataFrame({"period": cohorts["year"].iloc[:8], "survivors": cohorts["regular"].iloc[:8] * 10})
        ),
        "RFMScorer": RFMScorer().fit(rfm),
        **_new_clv_models(),
        "ValueTiers": ValueTiers().fit(pd.Series(np.linspace(0.0, 100.0, 50), index=range(50))),
        "CustomerScorer": CustomerScorer().fit(cd),
    }
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        np.vstack([rng.normal(m, 0.3, size=(40, 3)) for m in (0.0, 2.0, 4.0)]), columns=["a", "b", "c"]
    )
    out["NeedsSegmenter"] = NeedsSegmenter(n_segments=3, log_columns=[]).fit(features)
    from crm_models.segment import LookalikeScorer

    prospects = features.assign(channel=np.where(features["a"] > 2.0, "store", "web"))
    out["LookalikeScorer"] = LookalikeScorer(seed_share=0.3).fit(prospects, features["b"] + features["c"])
    try:
        from crm_models.identify import CustomerResolver
    except ImportError:
        pass
    else:
        from crm_models.datasets import load_crm_world

        records = load_crm_world().records.head(300)
        out["CustomerResolver"] = CustomerResolver().fit(records)
    return out


def _new_clv_models() -> dict:
    """GGom/NBD, the regularity models and the per-customer contract models, on small simulations."""
    from crm_models.clv import (
        BetaDiscreteWeibull,
        BetaGeoCNBD,
        GammaGompertzNBD,
        ModifiedBetaGeoCNBD,
        ShiftedBetaGeoContracts,
        simulate_beta_geo_cnbd,
        simulate_contracts,
        simulate_gamma_gompertz_nbd,
    )

    regular = simulate_beta_geo_cnbd(800, {"k": 2, "r": 1.0, "alpha": 4.0, "a": 0.8, "b": 3.0}, T=52.0)
    ggom = simulate_gamma_gompertz_nbd(800, {"r": 0.8, "alpha": 4.0, "b": 0.05, "s": 1.5, "beta": 3.0}, T=52.0)
    contracts = simulate_contracts({"2022": 600, "2023": 600}, {"alpha": 1.0, "beta": 2.0, "c": 1.3},
                                   {"2022": 5, "2023": 4})
    return {
        "GammaGompertzNBD": GammaGompertzNBD().fit(ggom),
        "BetaGeoCNBD": BetaGeoCNBD(max_k=3).fit(regular),
        "ModifiedBetaGeoCNBD": ModifiedBetaGeoCNBD(k=2).fit(regular),
        "ShiftedBetaGeoContracts": ShiftedBetaGeoContracts(cohort_params="separate").fit(contracts),
        "BetaDiscreteWeibull": BetaDiscreteWeibull().fit(contracts),
    }

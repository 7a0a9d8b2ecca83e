"""Exercises of 08_regular_buyers_and_contracts.ipynb (regular buyers; contracts with duration dependence)."""

from __future__ import annotations

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []


def _expected(model, shoppers, who, horizon):
    return float(model.expected_purchases(shoppers.loc[[who]], horizon).iloc[0])


def _fewer(bgnbd, cnbd, shoppers, horizon, who="12 weeks"):
    return _expected(bgnbd, shoppers, who, horizon) - _expected(cnbd, shoppers, who, horizon)


register(Exercise(
    "08.1",
    "Over the holdout year, how many fewer purchases does the BG/CNBD-k expect than the BG/NBD from the shopper "
    "silent for 12 weeks?",
    "Each model's expected_purchases(shoppers.loc[['12 weeks']], horizon) gives a Series of one value (.iloc[0]); "
    "subtract the BG/CNBD-k's expectation from the BG/NBD's.",
    Number(rtol=1e-6),
    expected=lambda bgnbd, cnbd, shoppers, horizon: _fewer(bgnbd, cnbd, shoppers, horizon),
    mistakes=(
        Mistake("That subtracts the other way round: the question asks how many *fewer* the regularity model "
                "expects (BG/NBD minus BG/CNBD-k).",
                lambda bgnbd, cnbd, shoppers, horizon: -_fewer(bgnbd, cnbd, shoppers, horizon)),
        Mistake("That forecasts 12 weeks ahead, the length of the silence; the holdout year is the horizon.",
                lambda bgnbd, cnbd, shoppers, horizon: _fewer(bgnbd, cnbd, shoppers, 12)),
        Mistake("That forecasts 1 time unit ahead: the models count in weeks, so a year is the horizon in weeks.",
                lambda bgnbd, cnbd, shoppers, horizon: _fewer(bgnbd, cnbd, shoppers, 1)),
        Mistake("That is the shopper silent for 4 weeks; the question is about the one silent for 12.",
                lambda bgnbd, cnbd, shoppers, horizon: _fewer(bgnbd, cnbd, shoppers, horizon, who="4 weeks")),
        Mistake("That is the shopper silent for 24 weeks; the question is about the one silent for 12.",
                lambda bgnbd, cnbd, shoppers, horizon: _fewer(bgnbd, cnbd, shoppers, horizon, who="24 weeks")),
    ),
    context=("bgnbd", "cnbd", "shoppers", "horizon"),
))


def _lr(sbg, bdw):
    return 2.0 * (bdw.log_likelihood_ - sbg.log_likelihood_)


def _p_value(sbg, bdw):
    from scipy import stats

    return float(stats.chi2.sf(_lr(sbg, bdw), 1))


register(Exercise(
    "08.2",
    "What is the likelihood-ratio statistic of the sBG against the BdW fitted to the same contracts?",
    "The statistic is twice the log-likelihood of the larger model minus that of the model it nests; both fitted "
    "models carry their log_likelihood_.",
    Number(rtol=1e-6),
    expected=lambda sbg, bdw: _lr(sbg, bdw),
    mistakes=(
        Mistake("That is the difference of the log-likelihoods; the statistic is twice it.",
                lambda sbg, bdw: _lr(sbg, bdw) / 2),
        Mistake("The BdW nests the sBG, so its log-likelihood is the higher one: subtract the sBG's from the BdW's.",
                lambda sbg, bdw: -_lr(sbg, bdw)),
        Mistake("That is the p-value (chi-squared, 1 degree of freedom); the question asks for the statistic.",
                lambda sbg, bdw: _p_value(sbg, bdw)),
    ),
    context=("sbg", "bdw"),
))


def _mean_derl(model, contracts, discount_rate, cohort="2021", active_only=True):
    derl = model.discounted_expected_residual_lifetime(contracts, discount_rate)
    keep = (contracts["cohort"].astype(str) == cohort) if cohort is not None else derl.notna()
    if active_only:
        keep &= ~contracts["churned"].astype(bool)
    return float(derl[keep].mean())


register(Exercise(
    "08.3",
    "What is the BdW's mean DERL of the 2021 cohort's active customers at the discount rate given in the cell?",
    "bdw.discounted_expected_residual_lifetime(contracts, discount_rate) gives one DERL per customer; average it "
    "over the rows of cohort '2021' that have not churned.",
    Number(low=0, rtol=1e-6),
    expected=lambda bdw, sbg, contracts, discount_rate: _mean_derl(bdw, contracts, discount_rate),
    mistakes=(
        Mistake("That is at 10% a year, the rate of the table above; use the rate given in the cell.",
                lambda bdw, sbg, contracts, discount_rate: _mean_derl(bdw, contracts, (0.10, "Y"))),
        Mistake("That averages over every 2021 customer; a churned one has no payments left (DERL 0): keep the "
                "active ones.",
                lambda bdw, sbg, contracts, discount_rate: _mean_derl(bdw, contracts, discount_rate,
                                                                      active_only=False)),
        Mistake("That is the sBG's DERL; the question asks for the BdW's.",
                lambda bdw, sbg, contracts, discount_rate: _mean_derl(sbg, contracts, discount_rate)),
        Mistake("That averages the active customers of every cohort; keep the 2021 cohort.",
                lambda bdw, sbg, contracts, discount_rate: _mean_derl(bdw, contracts, discount_rate, cohort=None)),
    ),
    context=("bdw", "sbg", "contracts", "discount_rate"),
))

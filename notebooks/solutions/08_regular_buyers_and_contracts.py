"""Solutions of 08_regular_buyers_and_contracts.ipynb's exercises (keyword arguments as passed to ``check``)."""


def exercise_1(bgnbd, cnbd, shoppers, horizon):
    shopper = shoppers.loc[["12 weeks"]]
    return bgnbd.expected_purchases(shopper, horizon).iloc[0] - cnbd.expected_purchases(shopper, horizon).iloc[0]


def exercise_2(sbg, bdw):
    return 2 * (bdw.log_likelihood_ - sbg.log_likelihood_)


def exercise_3(bdw, sbg, contracts, discount_rate):
    derl = bdw.discounted_expected_residual_lifetime(contracts, discount_rate)
    active_2021 = (contracts["cohort"] == "2021") & ~contracts["churned"]
    return derl[active_2021].mean()


SOLUTIONS = {"08.1": exercise_1, "08.2": exercise_2, "08.3": exercise_3}

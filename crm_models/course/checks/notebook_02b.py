"""Exercises of 02b_contractual_retention.ipynb (the sBG's rising retention, the BG/BB's expected donations)."""

from __future__ import annotations

import pandas as pd

from crm_models.course.exercises import Exercise, Mistake, Number, Values, register

__all__: list[str] = []


def _churn(model, year, shift=0):
    a, b = (float(v) for v in model.params_[["alpha", "beta"]])
    return a / (a + b + year - 1 + shift)


register(Exercise(
    "02b.1",
    "Of the customers of a cohort still active at the start of a given year, what share does the fitted sBG "
    "expect to churn in that year?",
    "In year t the survivors have renewed t - 1 times; the model's retention rate then is r_t = (beta + t - 1) / "
    "(alpha + beta + t - 1), and churn among them is 1 - r_t (the model's retention_rate(t) gives r_t).",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda sbg, cohorts, cohort, year: 1.0 - float(sbg[cohort].retention_rate([year]).iloc[0]),
    mistakes=(
        Mistake("That is alpha / (alpha + beta), the churn of a brand-new cohort in its first year; the survivors "
                "of several years churn less.", lambda sbg, cohorts, cohort, year: _churn(sbg[cohort], 1)),
        Mistake("Check the index: in year t the survivors have renewed t - 1 times, so the formula has beta + t - 1.",
                lambda sbg, cohorts, cohort, year: _churn(sbg[cohort], year, shift=1)),
        Mistake("That is the share of the *original* cohort lost in that year, P(T = t); the question asks about "
                "the customers still active at its start.",
                lambda sbg, cohorts, cohort, year: float(sbg[cohort].churn_probability([year]).iloc[0])),
        Mistake("That is the retention rate; churn is one minus it.",
                lambda sbg, cohorts, cohort, year: float(sbg[cohort].retention_rate([year]).iloc[0])),
        Mistake("That is what the data show for that year; the question asks what the model fitted on the earlier "
                "years expects.",
                lambda sbg, cohorts, cohort, year: 1.0 - float(cohorts.set_index("year")[cohort].loc[year]
                                                               / cohorts.set_index("year")[cohort].loc[year - 1])),
        Mistake("That uses the other cohort's parameters.",
                lambda sbg, cohorts, cohort, year: 1.0 - float(
                    next(m for k, m in sbg.items() if k != cohort).retention_rate([year]).iloc[0])),
    ),
    context=("sbg", "cohorts", "cohort", "year"),
))


def _donations(model, history, n_opportunities, drives_ahead, what="expected"):
    names = list(history)
    data = pd.DataFrame({"frequency": [history[n][0] for n in names], "recency": [history[n][1] for n in names],
                         "n_opportunities": n_opportunities}, index=pd.Index(names, name="customer_id"))
    if what == "alive":
        return model.probability_alive(data)
    return model.expected_purchases(data, drives_ahead)


register(Exercise(
    "02b.2",
    "How many donations does the BG/BB expect from Dana and from Eli over the next drives?",
    "Build a DataFrame with columns frequency (x), recency (t_x) and n_opportunities (the drives observed, 1996-2001), "
    "one row per donor indexed by name, and pass it to bgbb.expected_purchases with the number of drives ahead.",
    Values(rtol=1e-6),
    expected=lambda model, history, n_opportunities, drives_ahead: _donations(model, history, n_opportunities,
                                                                             drives_ahead),
    mistakes=(
        Mistake("That is over the next five drives, the horizon of the matrix above; the question asks about more.",
                lambda model, history, n_opportunities, drives_ahead: _donations(model, history, n_opportunities, 5)),
        Mistake("That counts 1995 as an opportunity; the first donation is not one: the drives observed are "
                "1996-2001.",
                lambda model, history, n_opportunities, drives_ahead: _donations(model, history, n_opportunities + 1,
                                                                                drives_ahead)),
        Mistake("That is P(alive), not the expected number of donations.",
                lambda model, history, n_opportunities, drives_ahead: _donations(model, history, n_opportunities,
                                                                                drives_ahead, what="alive")),
        Mistake("The values are right but under the wrong names: check which row is Dana's and which Eli's.",
                lambda model, history, n_opportunities, drives_ahead: (
                    lambda s: pd.Series(s.to_numpy()[::-1], index=s.index))(
                    _donations(model, history, n_opportunities, drives_ahead))),
    ),
    context=("model", "history", "n_opportunities", "drives_ahead"),
))

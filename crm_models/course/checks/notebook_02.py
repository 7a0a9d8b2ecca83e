"""Exercises of 02_lifetime_value.ipynb (the BG/NBD on CDNOW, model comparison, the time grain)."""

from __future__ import annotations

import pandas as pd

from crm_models.course.exercises import Exercise, Mistake, Number, Values, register

__all__: list[str] = []


def _p_alive(model, last_purchase_week, T, repeat_purchases=5, since_last=False):
    names = list(last_purchase_week)
    weeks = [float(last_purchase_week[n]) for n in names]
    recency = [T - w for w in weeks] if since_last else weeks
    data = pd.DataFrame({"frequency": [repeat_purchases] * len(names), "recency": recency, "T": [T] * len(names)},
                        index=pd.Index(names, name="customer_id"))
    return model.probability_alive(data)


def _swapped(series):
    return pd.Series(series.to_numpy()[::-1], index=series.index)


register(Exercise(
    "02.1",
    "What is P(alive) of Ann and Bob (5 repeat purchases each, observed for T weeks, last purchase at the given "
    "week after their first)?",
    "Build a DataFrame with columns frequency, recency and T and one row per customer (index 'Ann', 'Bob'), then "
    "call bgnbd.probability_alive on it. Recency t_x is the time of the last repeat purchase, counted from the "
    "first purchase.",
    Values(rtol=1e-6),
    expected=lambda model, last_purchase_week, T: _p_alive(model, last_purchase_week, T),
    mistakes=(
        Mistake("Recency in the BTYD summary is *when* the last purchase happened (weeks after the first), not how "
                "long ago it was.",
                lambda model, last_purchase_week, T: _p_alive(model, last_purchase_week, T, since_last=True)),
        Mistake("Frequency counts repeat purchases only: the first purchase is not one of them.",
                lambda model, last_purchase_week, T: _p_alive(model, last_purchase_week, T, repeat_purchases=6)),
        Mistake("The values are right but under the wrong names: check which row is Ann's and which Bob's.",
                lambda model, last_purchase_week, T: _swapped(_p_alive(model, last_purchase_week, T))),
    ),
    context=("model", "last_purchase_week", "T"),
))


def _zero_repeat_error(models, split, mask=lambda s: s["frequency_cal"] == 0, column="holdout_total_error_pct"):
    from crm_models.clv import compare_models

    subset = split if mask is None else split[mask(split)]
    return compare_models(models, subset)[column].astype(float)


register(Exercise(
    "02.2",
    "By how many percent does each model miss the holdout purchases of the customers with no repeat purchase in "
    "calibration (predicted minus actual total, relative to actual)?",
    "Keep the rows of split with frequency_cal == 0 and pass them to compare_models with the three models; the "
    "column holdout_total_error_pct is the error of the total in percent.",
    Values(rtol=1e-4, atol=1e-6),
    expected=lambda models, split: _zero_repeat_error(models, split),
    mistakes=(
        Mistake("That is the error over all customers; keep only those without a repeat purchase in calibration.",
                lambda models, split: _zero_repeat_error(models, split, mask=None)),
        Mistake("Those are the customers with one repeat purchase; 'bought only once' means frequency_cal == 0.",
                lambda models, split: _zero_repeat_error(models, split, mask=lambda s: s["frequency_cal"] == 1)),
        Mistake("The sign is reversed: the error is predicted minus actual, so an under-forecast is negative.",
                lambda models, split: -_zero_repeat_error(models, split)),
        Mistake("That is the mean absolute error per customer, in purchases; the question asks for the error of the "
                "group's total, in percent.",
                lambda models, split: _zero_repeat_error(models, split, column="holdout_mae")),
    ),
    context=("models", "split"),
))


def _lost(by_day, by_week, kept=False, per_week=False, with_first=False):
    day, week = float(by_day["frequency"].sum()), float(by_week["frequency"].sum())
    if with_first:
        day, week = day + len(by_day), week + len(by_week)
    if kept:
        return week / day
    return (day - week) / (week if per_week else day)


register(Exercise(
    "02.3",
    "What share of the day-grain repeat purchases disappears when purchases are bucketed into calendar weeks?",
    "Add up the frequency column of each summary; the share lost is the difference divided by the day-grain total.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda by_day, by_week: _lost(by_day, by_week),
    mistakes=(
        Mistake("That is the share of repeat purchases that *survive* the bucketing; the question asks for the "
                "share lost.", lambda by_day, by_week: _lost(by_day, by_week, kept=True)),
        Mistake("That divides by the calendar-week total; the share is of the day-grain repeat purchases.",
                lambda by_day, by_week: _lost(by_day, by_week, per_week=True)),
        Mistake("That counts every customer's first purchase too; frequency holds repeat purchases only, and the "
                "question is about them.", lambda by_day, by_week: _lost(by_day, by_week, with_first=True)),
    ),
    context=("by_day", "by_week"),
))

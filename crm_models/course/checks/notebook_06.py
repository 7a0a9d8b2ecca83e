"""Exercises of 06_is_the_model_right.ipynb (AUC by hand, P(alive) of a one-time buyer, baselines, coverage)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []

BASELINES = ("past rate", "RFM segment mean", "same as last period")


def _pairs(bought, score, tie=0.5, all_pairs=False):
    bought, score = np.asarray(bought, dtype=bool), np.asarray(score, dtype=float)
    diff = score[bought][:, None] - score[~bought][None, :]
    wins = float((diff > 0).sum() + tie * (diff == 0).sum())
    n = len(score) * (len(score) - 1) / 2 if all_pairs else diff.size
    return wins / n


def _auc(bought, score):
    from crm_models.clv.backtest import roc_auc

    return float(roc_auc(np.asarray(bought, dtype=bool), np.asarray(score, dtype=float)))


register(Exercise(
    "06.1",
    "What is the AUC of the five customers' scores for 'bought again', counted by pairs?",
    "Take every (buyer, non-buyer) pair: count 1 when the buyer scored higher, one half for a tie, 0 otherwise, "
    "and divide by the number of such pairs (buyers times non-buyers).",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda bought, score: _auc(bought, score),
    mistakes=(
        Mistake("A tie counts one half, not zero.", lambda bought, score: _pairs(bought, score, tie=0.0)),
        Mistake("A tie counts one half, not one.", lambda bought, score: _pairs(bought, score, tie=1.0)),
        Mistake("That is the share of pairs in which the non-buyer scored higher: AUC counts the pairs the buyer "
                "wins.", lambda bought, score: 1.0 - _auc(bought, score)),
        Mistake("Divide by the number of (buyer, non-buyer) pairs, not by every pair of customers.",
                lambda bought, score: _pairs(bought, score, all_pairs=True)),
    ),
    context=("bought", "score"),
))


def _p_alive_once(model, T, exponent_shift=0.0, swap=False, inverted=False):
    r, alpha, a, b = (float(model.params_[k]) for k in ("r", "alpha", "a", "b"))
    odds = (b / a if swap else a / b) * ((alpha / (alpha + T)) if inverted else ((alpha + T) / alpha)) ** (r + exponent_shift)
    return 1.0 / (1.0 + odds)


register(Exercise(
    "06.2",
    "Under the fitted MBG/NBD, what is P(alive) of a one-time buyer whose only purchase was T weeks ago?",
    "With x = 0 and t_x = 0 the MBG/NBD's P(alive) is 1 / (1 + a / b * ((alpha + T) / alpha) ** r): use the fitted "
    "r, alpha, a and b, with T in weeks.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda model, T: float(model.probability_alive(
        pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [float(T)]})).iloc[0]),
    mistakes=(
        Mistake("The exponent is r + x, and x = 0 for a one-time buyer: it is r, not r + 1.",
                lambda model, T: _p_alive_once(model, T, exponent_shift=1.0)),
        Mistake("That is BG/NBD's answer for every one-time buyer; MBG/NBD lets them drop out after the first "
                "purchase.", lambda model, T: 1.0),
        Mistake("The ratio is a / b (the odds of dropping out right after a purchase), not b / a.",
                lambda model, T: _p_alive_once(model, T, swap=True)),
        Mistake("T enters as (alpha + T) / alpha, which grows with the silence; you have its inverse.",
                lambda model, T: _p_alive_once(model, T, inverted=True)),
        Mistake("That is the probability that the customer has left; P(alive) is one minus it.",
                lambda model, T: 1.0 - _p_alive_once(model, T)),
    ),
    context=("model", "T"),
))


def _brier(result):
    return result.aggregate().xs("brier", level="metric")["mean"]


def _gain(result, choice, baseline_rank=0, relative_to_model=False, other_model=False):
    brier = _brier(result)
    baseline = brier[list(BASELINES)].sort_values().iloc[baseline_rank]
    if other_model:
        models = brier.drop(list(BASELINES)).drop(choice.model)
        model = models.min()
    else:
        model = brier[choice.model]
    return float(100 * (baseline - model) / (model if relative_to_model else baseline))


register(Exercise(
    "06.3",
    "By how many percent is the chosen model's mean Brier score lower than that of the hardest naive baseline?",
    "In result.aggregate().xs('brier', level='metric')['mean'], the hardest baseline is the one of the three "
    "baselines with the lowest score; the gain is 100 * (baseline - model) / baseline, with the model of "
    "choice.model.",
    Number(rtol=1e-6),
    expected=lambda result, choice: _gain(result, choice),
    mistakes=(
        Mistake("That compares with a baseline that is not the hardest: the hardest has the lowest Brier score of "
                "the three.", lambda result, choice: _gain(result, choice, baseline_rank=1)),
        Mistake("That compares with the easiest baseline (the highest Brier score); the hardest has the lowest.",
                lambda result, choice: _gain(result, choice, baseline_rank=2)),
        Mistake("The percentage is relative to the baseline's score, not to the model's.",
                lambda result, choice: _gain(result, choice, relative_to_model=True)),
        Mistake("That uses another model; the question asks about the one chosen in section 3 (choice.model).",
                lambda result, choice: _gain(result, choice, other_model=True)),
        Mistake("That is a share; the question asks for percent.",
                lambda result, choice: _gain(result, choice) / 100),
        Mistake("The sign is reversed: a model better than the baseline has a positive gain.",
                lambda result, choice: -_gain(result, choice)),
    ),
    context=("result", "choice"),
))


def _coverage(model, data, truth, t_future, level, strict=False, stated=False):
    iv = model.predictive_interval(data, t_future, alpha=round(1.0 - level, 12))
    if stated:
        return float(iv["probability"].mean())
    y = truth["holdout_purchases"].reindex(data.index)
    inside = (iv["lower"] < y) & (y < iv["upper"]) if strict else (iv["lower"] <= y) & (y <= iv["upper"])
    return float(inside.mean())


register(Exercise(
    "06.4",
    "What share of the simulated company's customers have their true holdout purchases inside their predictive "
    "interval at the given level?",
    "model.predictive_interval(data, t_future, alpha=1 - level) gives lower and upper per customer; a customer is "
    "inside when lower <= truth <= upper, with the truth aligned to the interval's index.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda model, data, truth, t_future, level: _coverage(model, data, truth, t_future, level),
    mistakes=(
        Mistake("The bounds belong to the interval: inside means lower <= truth <= upper.",
                lambda model, data, truth, t_future, level: _coverage(model, data, truth, t_future, level, strict=True)),
        Mistake("That is the probability the intervals hold on average (what they promise), not the share of "
                "customers whose truth fell inside.",
                lambda model, data, truth, t_future, level: _coverage(model, data, truth, t_future, level, stated=True)),
        Mistake("That is the coverage at the other level of the table above; check alpha = 1 - level.",
                lambda model, data, truth, t_future, level: _coverage(model, data, truth, t_future, 0.95)),
        Mistake("alpha is the share of probability the interval leaves out, not its level: alpha = 1 - level.",
                lambda model, data, truth, t_future, level: _coverage(model, data, truth, t_future, 1.0 - level)),
        Mistake("That is the nominal level itself: count the customers whose truth is inside.",
                lambda model, data, truth, t_future, level: float(level)),
    ),
    context=("model", "data", "truth", "t_future", "level"),
))

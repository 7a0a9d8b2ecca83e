"""Exercises of 12_capstone_real_data.ipynb (``crm-models score`` on the CDNOW master log, read and criticised)."""

from __future__ import annotations

import pandas as pd

from crm_models.clv.backtest import METRICS
from crm_models.course.exercises import Exercise, Members, Mistake, Number, register

__all__: list[str] = []

#: Backtest metrics where lower is better (``total_error_pct`` by its absolute value), as the report says.
LOWER_IS_BETTER = tuple(m for m, (_, higher_is_better) in METRICS.items() if not higher_is_better)


def _beaten(backtest: pd.DataFrame, chosen: str, baselines, *, signed=False, flipped=False, rivals=None):
    """Metrics on which at least one row of ``rivals`` (the baselines) does strictly better than ``chosen``."""
    rivals = list(baselines if rivals is None else rivals)
    out = []
    for metric in backtest.columns:
        values = backtest[metric].astype(float)
        if metric == "total_error_pct" and not signed:
            values = values.abs()
        lower = (metric in LOWER_IS_BETTER) != flipped
        mine, others = values[chosen], values[rivals]
        if (others < mine).any() if lower else (others > mine).any():
            out.append(metric)
    return out


register(Exercise(
    "12.1",
    "On which metrics of the report's backtest table does at least one naive baseline do better than the "
    "transaction model the backtest chose?",
    "For each column of the backtest table, compare the chosen model's row with the baselines' rows. Errors "
    "(mae, rmse, brier) are better when lower, total_error_pct when closer to 0 (its absolute value), and auc, "
    "spearman_value and top_decile_lift when higher.",
    Members(),
    expected=lambda backtest, chosen, baselines: _beaten(backtest, chosen, baselines),
    mistakes=(
        Mistake("total_error_pct is an error in either direction: compare its absolute value (an under-forecast "
                "is as wrong as an over-forecast of the same size).",
                lambda backtest, chosen, baselines: _beaten(backtest, chosen, baselines, signed=True)),
        Mistake("That compares the chosen model with every other row, the other models included; the question "
                "asks about the naive baselines only.",
                lambda backtest, chosen, baselines: _beaten(
                    backtest, chosen, baselines, rivals=[m for m in backtest.index if m != chosen])),
        Mistake("The directions are reversed: errors are better when lower, auc, spearman_value and "
                "top_decile_lift when higher.",
                lambda backtest, chosen, baselines: _beaten(backtest, chosen, baselines, flipped=True)),
    ),
    context=("backtest", "chosen", "baselines"),
))


def _equity_share(scores: pd.DataFrame, *, at_most: int = 0, customers: bool = False) -> float:
    once = scores["frequency"] <= at_most
    if customers:
        return float(once.mean())
    return float(scores.loc[once, "clv"].sum() / scores["clv"].sum())


register(Exercise(
    "12.2",
    "What share of the customer equity (the sum of CLV) in the scores file belongs to one-time buyers, the "
    "customers the log says least about?",
    "A one-time buyer made no repeat purchase: frequency counts repeat purchases, so it is 0. Add up their clv "
    "and divide by the clv of everyone.",
    Number(low=0, high=1, rtol=1e-6),
    expected=lambda scores: _equity_share(scores),
    mistakes=(
        Mistake("That is the share of *customers* who bought once, not their share of the equity.",
                lambda scores: _equity_share(scores, customers=True)),
        Mistake("That counts customers with one repeat purchase too: frequency counts *repeat* purchases, so a "
                "one-time buyer has frequency 0.",
                lambda scores: _equity_share(scores, at_most=1)),
    ),
    context=("scores",),
))


def _revenue(scores: pd.DataFrame, *, spend: str = "expected_spend") -> float:
    return float((scores["expected_purchases"] * scores[spend]).sum())


register(Exercise(
    "12.3",
    "A manager asks for the expected revenue over the horizon, undiscounted. What is it, from the scores file?",
    "CLV is discounted profit, not revenue. The scores file also holds each customer's expected purchases over "
    "the horizon and expected spend per purchase: multiply and add up.",
    Number(low=0, rtol=1e-6),
    expected=lambda scores, margin: _revenue(scores),
    mistakes=(
        Mistake("That is the customer equity: discounted profit at the margin, not revenue.",
                lambda scores, margin: float(scores["clv"].sum())),
        Mistake("That divides the equity by the margin: it is revenue, but still discounted to today.",
                lambda scores, margin: float(scores["clv"].sum() / margin)),
        Mistake("monetary_value is the average spend of the *past* repeat purchases (0 for a one-time buyer); "
                "use the model's expected spend per purchase.",
                lambda scores, margin: _revenue(scores, spend="monetary_value")),
    ),
    context=("scores", "margin"),
))

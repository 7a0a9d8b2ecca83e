"""Exercises of 00_start_here.ipynb (the CDNOW purchase log)."""

from __future__ import annotations

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []


def _share(calibration, at_least=7):
    heavy = calibration["frequency"] >= at_least
    return float(calibration.loc[heavy, "frequency"].sum() / calibration["frequency"].sum())


register(Exercise(
    "00.1",
    "What share of the calibration period's repeat purchases did the customers with 7 or more make?",
    "Add up the frequency of the customers with frequency >= 7 and divide by the frequency of everyone.",
    Number(low=0, high=1, rtol=1e-9),
    expected=lambda calibration: _share(calibration),
    mistakes=(
        Mistake("That is the share of *customers* in the 7+ group, not the share of their purchases.",
                lambda calibration: float((calibration["frequency"] >= 7).mean())),
        Mistake("That counts customers with more than 7 (> 7); the group is 7 or more (>= 7).",
                lambda calibration: _share(calibration, at_least=8)),
        Mistake("That divides by every purchase, first purchases included; the question is about repeat purchases "
                "only (the frequency column).",
                lambda calibration: float(calibration.loc[calibration["frequency"] >= 7, "frequency"].sum()
                                          / (calibration["frequency"].sum() + len(calibration)))),
    ),
    context=("calibration",),
))

"""Notebook 07's self-checks pass the worked solutions (kept here, apart from the notebook) and fail typical
wrong answers; an unanswered exercise (``...``) only says so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_covariates.ipynb"


@pytest.fixture(scope="module")
def ns():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(NOTEBOOK.parent)
    try:
        for cell in json.loads(NOTEBOOK.read_text())["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] != "code" or "= ...\n" in src:
                continue
            exec(compile(src.replace("display(", "print("), str(NOTEBOOK), "exec"), namespace)
            plt.close("all")
    finally:
        os.chdir(cwd)
    return namespace


def test_unanswered_exercises_only_say_so(ns, capsys):
    for name in ("check_rate_ratio", "check_same_effect", "check_clv_gap"):
        ns[name](...)
    assert capsys.readouterr().out.count("not answered yet") == 3


def test_exercise_1(ns):
    coef = ns["big_both"].coefficients_["purchase.promo"]
    ns["check_rate_ratio"](float(np.exp(coef)))
    for wrong in (float(np.exp(-coef)), float(coef), 1 + float(coef)):
        with pytest.raises(AssertionError) as err:
            ns["check_rate_ratio"](wrong)
        assert f"{np.exp(coef):.3f}" not in str(err.value)


def test_exercise_2(ns):
    BetaGeo, lrt = ns["BetaGeo"], ns["likelihood_ratio_test"]
    big, big_both = ns["big"], ns["big_both"]
    solution = lrt(BetaGeo(shared_covariates=["promo"]).fit(big), big_both).stats["p-value"]
    ns["check_same_effect"](solution)
    assert solution < 0.01  # the notebook's question: "the same effect on both" is rejected
    with pytest.raises(AssertionError):
        ns["check_same_effect"](lrt(BetaGeo().fit(big), big_both).stats["p-value"])  # the wrong restricted model


def test_exercise_3(ns):
    row = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [26.0, 26.0], "monetary_value": [0.0, 0.0],
                        "promo": [0, 1]})
    v = ns["customer_lifetime_value"](ns["big_both"], ns["spend"], row, horizon=(2, "Y"), time_unit="W",
                                      discount_rate=(0.10, "Y"))
    ns["check_clv_gap"](1 - v.iloc[1] / v.iloc[0])
    for wrong in (v.iloc[1] / v.iloc[0], (v.iloc[0] - v.iloc[1]) / v.iloc[1]):
        with pytest.raises(AssertionError):
            ns["check_clv_gap"](wrong)

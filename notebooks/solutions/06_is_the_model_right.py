"""Solutions of 06_is_the_model_right.ipynb's exercises (keyword arguments as passed to ``check``)."""


def exercise_1(bought, score):
    buyers, others = score[bought], score[~bought]
    wins = sum(1.0 if b > o else 0.5 if b == o else 0.0 for b in buyers for o in others)
    return wins / (len(buyers) * len(others))


def exercise_2(model, T):
    r, alpha, a, b = model.params_[["r", "alpha", "a", "b"]]
    return 1 / (1 + a / b * ((alpha + T) / alpha) ** r)


def exercise_3(result, choice):
    brier = result.aggregate().xs("brier", level="metric")["mean"]
    baseline = brier[["past rate", "RFM segment mean", "same as last period"]].min()
    return 100 * (baseline - brier[choice.model]) / baseline


def exercise_4(model, data, truth, t_future, level):
    iv = model.predictive_interval(data, t_future, alpha=1 - level)
    y = truth["holdout_purchases"].reindex(iv.index)
    return ((iv["lower"] <= y) & (y <= iv["upper"])).mean()


SOLUTIONS = {"06.1": exercise_1, "06.2": exercise_2, "06.3": exercise_3, "06.4": exercise_4}

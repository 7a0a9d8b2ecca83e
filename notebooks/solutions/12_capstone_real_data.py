"""Solutions of 12_capstone_real_data.ipynb's exercises (keyword arguments as passed to ``check``)."""


def exercise_1(backtest, chosen, baselines):
    lower_is_better = {"mae_purchases", "rmse_purchases", "mae_spend", "total_error_pct", "brier"}
    table = backtest.astype(float).copy()
    table["total_error_pct"] = table["total_error_pct"].abs()
    beaten = []
    for metric in table.columns:
        mine, theirs = table.loc[chosen, metric], table.loc[list(baselines), metric]
        if metric in lower_is_better:
            better = (theirs < mine).any()
        else:
            better = (theirs > mine).any()
        if better:
            beaten.append(metric)
    return beaten


def exercise_2(scores):
    one_time = scores["frequency"] == 0
    return scores.loc[one_time, "clv"].sum() / scores["clv"].sum()


def exercise_3(scores, margin):
    return (scores["expected_purchases"] * scores["expected_spend"]).sum()


SOLUTIONS = {"12.1": exercise_1, "12.2": exercise_2, "12.3": exercise_3}

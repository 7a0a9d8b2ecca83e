"""Solutions of 00_start_here.ipynb's exercises (keyword arguments as passed to ``check``)."""


def exercise_1(calibration):
    heavy = calibration["frequency"] >= 7
    return calibration.loc[heavy, "frequency"].sum() / calibration["frequency"].sum()


SOLUTIONS = {"00.1": exercise_1}

"""Exercises of 05_customer_strategy_end_to_end.ipynb (the capstone: NPS by hand; a bigger retention budget)."""

from __future__ import annotations

from crm_models.course.exercises import Exercise, Mistake, Number, register

__all__: list[str] = []


def _nps(answers, promoter=9, detractor=6, passives_count=True, percent=True):
    promoters = sum(a >= promoter for a in answers)
    detractors = sum(a <= detractor for a in answers)
    total = len(answers) if passives_count else promoters + detractors
    share = (promoters - detractors) / total
    return 100 * share if percent else share


register(Exercise(
    "05.1",
    "What is the net promoter score of the segment's latest survey answers?",
    "NPS = % promoters (9-10) minus % detractors (0-6), both as percentages of every answer, passives included; "
    "the score runs from -100 to 100.",
    Number(low=-100, high=100, rtol=1e-9),
    expected=lambda answers: _nps(answers),
    mistakes=(
        Mistake("That is a share between -1 and 1; NPS is stated in percentage points (multiply by 100).",
                lambda answers: _nps(answers, percent=False)),
        Mistake("A 6 is a detractor too: detractors answer 0 to 6.",
                lambda answers: _nps(answers, detractor=5)),
        Mistake("The passives (7-8) count in the total: divide by every answer, not by promoters plus detractors.",
                lambda answers: _nps(answers, passives_count=False)),
    ),
    context=("answers",),
))


def _plan(candidates, budget, cost):
    from crm_models.customize import target_retention

    return target_retention(candidates, budget, uplift="uplift", cost=cost, value="value_at_stake")


def _created(world, crosswalk, plan, margin):
    from crm_models.truth import compare_policies

    table = compare_policies(world, crosswalk, {"plan": plan.targeted.index}, margin=margin)
    return float(table.loc["plan", "expected_value_created"])


def _extra(candidates, budget, cost, world, crosswalk, margin, factor=2.0, promised=False):
    small, big = _plan(candidates, budget, cost), _plan(candidates, factor * budget, cost)
    if promised:
        return float(big.expected_net_value - small.expected_net_value)
    return _created(world, crosswalk, big, margin) - _created(world, crosswalk, small, margin)


def _big_alone(candidates, budget, cost, world, crosswalk, margin):
    return _created(world, crosswalk, _plan(candidates, 2 * budget, cost), margin)


register(Exercise(
    "05.2",
    "Against the simulated future, how much more value (USD) does the plan with twice the budget create than "
    "the plan with the budget given?",
    "Build the bigger plan with target_retention exactly as the plan above, only with 2 * BUDGET; grade each plan "
    "with compare_policies (same margin) and subtract the plan's expected_value_created from the bigger one's.",
    Number(rtol=1e-6, atol=1e-6),
    expected=lambda candidates, budget, cost, world, crosswalk, margin: _extra(
        candidates, budget, cost, world, crosswalk, margin),
    mistakes=(
        Mistake("That is what the plans *promised* (their expected net value); the question asks what the future "
                "delivers: grade both plans with compare_policies.",
                lambda candidates, budget, cost, world, crosswalk, margin: _extra(
                    candidates, budget, cost, world, crosswalk, margin, promised=True)),
        Mistake("That is the value the bigger plan creates on its own; subtract what the plan with the budget "
                "given creates.",
                lambda candidates, budget, cost, world, crosswalk, margin: _big_alone(
                    candidates, budget, cost, world, crosswalk, margin)),
        Mistake("That grades the plans at a 50% margin; use the course's margin, MARGIN.",
                lambda candidates, budget, cost, world, crosswalk, margin: _extra(
                    candidates, budget, cost, world, crosswalk, 0.5)),
        Mistake("That subtracts the other way round: the bigger plan's value minus the plan's.",
                lambda candidates, budget, cost, world, crosswalk, margin: -_extra(
                    candidates, budget, cost, world, crosswalk, margin)),
    ),
    context=("candidates", "budget", "cost", "world", "crosswalk", "margin"),
))

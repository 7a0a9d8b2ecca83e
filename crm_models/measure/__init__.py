"""Measure a customer strategy: customers won, lost and grown, retention, cohorts, equity, NPS, campaigns.

"What gets measured gets managed": a CRM strategy is judged by what happens to the customer
base (Peppers & Rogers: customers won, kept and grown; their lifetime value), not only by
efficiency. Every KPI here states its definition in its docstring, so two analysts computing
"churn" get the same number.

- :mod:`~crm_models.measure.movement`: :func:`customer_movement` (won, won back, grown, stable,
  declined, lost), :func:`retention_rate`, :func:`churn_rate`;
- :mod:`~crm_models.measure.cohorts`: :func:`cohort_retention` and :func:`plot_cohort_heatmap`;
- :mod:`~crm_models.measure.equity`: :func:`customer_equity` (USD) and
  :func:`customer_equity_by_segment`;
- :mod:`~crm_models.measure.satisfaction`: :func:`net_promoter_score` and
  :func:`satisfaction_by_segment`;
- :mod:`~crm_models.measure.campaigns`: :func:`evaluate_campaign`, the uplift of a randomised test, and
  :func:`shrink_uplift`, per-segment uplifts shrunk toward their common mean (empirical Bayes);
- :mod:`~crm_models.measure.scorecard`: :func:`team_scorecard`, efficiency measures (talk time,
  hand-offs) beside relationship measures (customers kept, lost, grown; satisfaction) per team.

Conventions: periods are half-open intervals ``[start, end)`` of timestamps (a purchase on
``end`` belongs to the next period); a customer is *active* in a period if they have at least
one transaction in it; outputs are indexed by customer id (or by segment / cohort), pandas in
and out. Everything here works on real data; nothing reads the simulated company's truth.
"""

from crm_models.measure.campaigns import evaluate_campaign, shrink_uplift
from crm_models.measure.cohorts import cohort_retention, plot_cohort_heatmap
from crm_models.measure.equity import customer_equity, customer_equity_by_segment
from crm_models.measure.movement import STATUSES, CustomerMovement, churn_rate, customer_movement, retention_rate
from crm_models.measure.satisfaction import net_promoter_score, satisfaction_by_segment
from crm_models.measure.scorecard import SCORECARD_MEASURES, rank_teams, team_scorecard

__all__ = [
    "STATUSES",
    "CustomerMovement",
    "customer_movement",
    "retention_rate",
    "churn_rate",
    "cohort_retention",
    "plot_cohort_heatmap",
    "customer_equity",
    "customer_equity_by_segment",
    "net_promoter_score",
    "satisfaction_by_segment",
    "evaluate_campaign",
    "shrink_uplift",
    "SCORECARD_MEASURES",
    "team_scorecard",
    "rank_teams",
]

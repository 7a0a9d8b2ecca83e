"""Interact: the single customer view, the agent's context card and service-queue priority (the I of IDIC).

"Each successive interaction with a customer should take place in the context of all previous
interactions" (Peppers & Rogers). Three tools make that concrete:

- :mod:`~crm_models.interact.timeline`: :func:`customer_timeline` puts every transaction and
  touchpoint of one resolved customer, from all source systems, on one time-ordered table;
  :func:`plot_timeline` draws it; :func:`attach_customer` adds the resolved customer id to a log.
- :mod:`~crm_models.interact.context`: :func:`customer_context` is the card a call-centre agent
  sees when the customer calls (value tier, segment, P(alive), expected next purchase, last
  contact and its reason, open complaints, satisfaction trend); it renders as HTML in Jupyter.
- :mod:`~crm_models.interact.queue`: :class:`QueuePriority` states a rule for ordering waiting
  callers by value and risk, :func:`prioritise_queue` applies it, and :func:`simulate_queue`
  measures, with a seeded discrete-event simulation, what it does to each tier's waiting time
  compared with first come, first served.
- :mod:`~crm_models.interact.one_face`: one face to the customer: :func:`visible_value` is what
  each channel sees of its customer (silo or resolved), :func:`treatment_consistency` whether
  every channel treats the same customer alike.
- :mod:`~crm_models.interact.learning`: the learning relationship: policies that choose each
  customer's next offer from their past answers (:class:`ThompsonSampling` against
  :class:`FixedScript` and :class:`PopulationGreedy`), run on simulated customers whose
  preferences are known (:func:`simulate_offer_preferences`, :func:`simulate_learning_relationship`,
  :func:`compare_learning`).
- :mod:`~crm_models.interact.service_teams`: a simulated service centre whose teams differ in style
  (talk time, resolution, hand-offs), with the truth of what each style costs in customers
  (:func:`simulate_service_centre`).

Every function takes plain DataFrames: a crosswalk ``record_id -> customer_id`` (from
:func:`crm_models.identify.resolve_customers`), the transaction and interaction logs keyed by
``record_id``, and a per-customer ``scores`` table indexed by customer id (CLV in USD, P(alive),
tiers, segments: from :mod:`crm_models.clv` and :mod:`crm_models.segment`, or from anywhere else).
Nothing here reads the simulated company's truth.
"""

from crm_models.interact.context import CustomerContext, customer_context
from crm_models.interact.learning import (
    FixedScript,
    PopulationGreedy,
    ThompsonSampling,
    compare_learning,
    learning_curve,
    posterior_table,
    simulate_learning_relationship,
    simulate_offer_preferences,
)
from crm_models.interact.one_face import treatment_consistency, visible_value
from crm_models.interact.service_teams import DEFAULT_TEAMS, ServiceCentre, simulate_service_centre
from crm_models.interact.queue import QueuePriority, prioritise_queue, simulate_queue
from crm_models.interact.timeline import TIMELINE_COLUMNS, attach_customer, customer_timeline, plot_timeline

__all__ = [
    "TIMELINE_COLUMNS",
    "attach_customer",
    "customer_timeline",
    "plot_timeline",
    "CustomerContext",
    "customer_context",
    "QueuePriority",
    "prioritise_queue",
    "simulate_queue",
    "visible_value",
    "treatment_consistency",
    "simulate_offer_preferences",
    "FixedScript",
    "PopulationGreedy",
    "ThompsonSampling",
    "simulate_learning_relationship",
    "learning_curve",
    "compare_learning",
    "posterior_table",
    "DEFAULT_TEAMS",
    "ServiceCentre",
    "simulate_service_centre",
]

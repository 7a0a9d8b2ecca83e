"""Identify customers: resolve records from every channel to one stable customer id.

The first task of CRM (Peppers & Rogers' "Identify") is to recognise the same party across the
company's systems. This package standardises contact data, links records with a Fellegi-Sunter
model trained by Splink through its public API (DuckDB backend by default, Spark optional),
clusters linked records into customers with stable ids, builds golden records and grades the
result against truth.

:class:`CustomerResolver` is the identity model: ``fit`` learns it, ``save`` writes it as
crm_models JSON (a Splink settings dictionary with its m and u probabilities, validated field by
field at load), ``resolve`` links any batch of records with it without retraining.
:func:`resolve_customers` fits and resolves in one call. :class:`CustomerRegister` keeps
records, crosswalk, golden records, model and an audit log in one DuckDB file that lives on:
``add`` links each new batch to the customers already known, ``lookup`` finds a caller.

Any schema: map your columns to roles (``columns={"email": "mail", "identifier":
["loyalty_no"]}``, see :data:`ROLES`); one identifying column is enough to resolve.

>>> from crm_models.datasets import load_crm_world
>>> from crm_models.identify import CustomerResolver, evaluate
>>> world = load_crm_world()                                              # doctest: +SKIP
>>> resolver = CustomerResolver().fit(world.records)                      # doctest: +SKIP
>>> result = resolver.resolve(world.records)                              # doctest: +SKIP
>>> evaluate(result, world.record_truth.set_index("record_id")["person_id"])  # doctest: +SKIP
>>> resolver.save("resolver.json")                                        # doctest: +SKIP
>>> with CustomerRegister("customers.duckdb") as register:                # doctest: +SKIP
...     register.add(world.records)
...     register.lookup(first_name="Ann", last_name="Lee", phone="+1 212 555 0123")
"""

from crm_models.identify.evaluate import (
    bcubed_metrics,
    cluster_metrics,
    evaluate,
    explain_pair,
    pairwise_metrics,
    plot_threshold_sweep,
    plot_waterfall,
    suggested_threshold,
    threshold_guidance,
    threshold_sweep,
)
from crm_models.identify.golden import SURVIVORSHIP_RULES, golden_records
from crm_models.identify.resolve import (
    DEFAULT_THRESHOLD,
    CustomerResolver,
    Resolution,
    resolve_customers,
    resolve_exact,
)
from crm_models.identify.register import CustomerRegister, RegisterUpdate
from crm_models.identify.standardise import ROLES, StandardisedRecords, column_roles, standardise_records

__all__ = [
    "CustomerResolver",
    "resolve_customers",
    "resolve_exact",
    "Resolution",
    "CustomerRegister",
    "RegisterUpdate",
    "ROLES",
    "column_roles",
    "DEFAULT_THRESHOLD",
    "standardise_records",
    "StandardisedRecords",
    "golden_records",
    "SURVIVORSHIP_RULES",
    "evaluate",
    "pairwise_metrics",
    "bcubed_metrics",
    "cluster_metrics",
    "threshold_sweep",
    "threshold_guidance",
    "suggested_threshold",
    "plot_threshold_sweep",
    "explain_pair",
    "plot_waterfall",
]

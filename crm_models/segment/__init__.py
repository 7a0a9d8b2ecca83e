"""Differentiate customers by value and needs (the D of IDIC).

- :mod:`~crm_models.segment.rfm`: RFM scores and named segments (:class:`RFMScorer`).
- :mod:`~crm_models.segment.value`: value tiers after Peppers & Rogers (:class:`ValueTiers`)
  and concentration curves.
- :mod:`~crm_models.segment.needs`: behaviour features and needs-based clusters
  (:func:`behaviour_features`, :class:`NeedsSegmenter`).
- :mod:`~crm_models.segment.matrix`: the value x needs matrix (:func:`segment_matrix`);
  :mod:`~crm_models.segment.migration`: transition matrices between two dates.
- :mod:`~crm_models.segment.lookalike`: look-alike acquisition, prospects scored by their
  resemblance to the most valuable customers (:class:`LookalikeScorer`, :func:`gains_table`).
- :mod:`~crm_models.segment.plotting`: the pictures.
"""

from crm_models.segment.lookalike import LookalikeScorer, gains_table
from crm_models.segment.matrix import SegmentMatrix, segment_matrix
from crm_models.segment.migration import Migration, migration_matrix
from crm_models.segment.needs import NeedsSegmenter, behaviour_features
from crm_models.segment.rfm import RFMScorer, assign_segments, check_segment_rules, default_segment_rules
from crm_models.segment.value import TIER_STRATEGIES, ValueTiers, concentration_curve, concentration_table

__all__ = [
    "RFMScorer",
    "assign_segments",
    "check_segment_rules",
    "default_segment_rules",
    "ValueTiers",
    "TIER_STRATEGIES",
    "concentration_curve",
    "concentration_table",
    "behaviour_features",
    "NeedsSegmenter",
    "segment_matrix",
    "SegmentMatrix",
    "migration_matrix",
    "Migration",
    "LookalikeScorer",
    "gains_table",
]

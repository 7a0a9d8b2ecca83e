"""The simulated company as one object: the observed silo tables and the truth kept beside them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

__all__ = ["CRMWorld"]


@dataclass
class CRMWorld:
    """A simulated company: observed silo tables plus the truth behind them.

    Observed (what the company's systems hold): ``records``, ``transactions``,
    ``interactions``, and the ``campaign`` design and outcome columns. Truth: ``people``,
    ``record_truth``, ``truth_params``, ``truth_effects``, the ``true_*``, ``alive_at_sent`` and
    ``induced_transaction_id`` campaign columns, ``future`` and ``future_transactions``.
    ``data_dictionary`` documents every column (kind, unit, meaning) and ``config`` holds the
    full configuration, dates and ``random_state`` that reproduce the world. Build one with
    :func:`~crm_models.datasets.make_crm_world` or load the frozen default with
    :func:`~crm_models.datasets.load_crm_world`.

    Attributes
    ----------
    people : pandas.DataFrame
        One row per real person: true identity, latent traits (purchase rate per week, dropout
        probability, spend level in USD...), household, move and dropout date.
    records : pandas.DataFrame
        One row per source-system record, as the system stores it.
    record_truth : pandas.DataFrame
        Per record: the person it belongs to and every corruption applied.
    transactions : pandas.DataFrame
        Purchases in the observation period (``timestamp``, ``amount`` in USD, ``discount``).
    interactions : pandas.DataFrame
        Touchpoints in the observation period.
    campaign : pandas.DataFrame
        The randomised retention campaign, one row per person randomised.
    future : pandas.DataFrame
        Per person: what happened in the holdout period and what a perfect model would expect.
    future_transactions : pandas.DataFrame
        Purchases in the holdout period.
    truth_params : pandas.DataFrame
        Population parameters per needs segment (index ``needs_segment``), those of a customer
        whose observable attributes are all at their reference level.
    truth_effects : pandas.DataFrame
        The observable attributes' true coefficients on the purchase, dropout and spend
        processes (index ``attribute``), in the parameterisation of :mod:`crm_models.clv`'s
        covariate models.
    data_dictionary : pandas.DataFrame
        ``table``, ``column``, ``kind`` (observed or truth), ``unit`` and ``meaning`` of every column.
    config : dict
        The configuration the world was made with (JSON-able).

    Examples
    --------
    >>> from crm_models.datasets import load_crm_world
    >>> world = load_crm_world()
    >>> len(world.people), world.transactions.columns[:3].tolist()
    (3000, ['transaction_id', 'record_id', 'timestamp'])
    >>> world.TABLES[:3]
    ('people', 'records', 'record_truth')
    """

    people: pd.DataFrame
    records: pd.DataFrame
    record_truth: pd.DataFrame
    transactions: pd.DataFrame
    interactions: pd.DataFrame
    campaign: pd.DataFrame
    future: pd.DataFrame
    future_transactions: pd.DataFrame
    truth_params: pd.DataFrame
    truth_effects: pd.DataFrame
    data_dictionary: pd.DataFrame
    config: dict[str, Any] = field(default_factory=dict)

    #: The tables, in the order of the data dictionary.
    TABLES: ClassVar[tuple[str, ...]] = (
        "people", "records", "record_truth", "transactions", "interactions", "campaign", "future",
        "future_transactions", "truth_params", "truth_effects", "data_dictionary",
    )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{t}={len(getattr(self, t)):,}" for t in self.TABLES)
        c = self.config
        return (f"CRMWorld({c.get('start')}..{c.get('observation_period_end')}, "
                f"holdout to {c.get('holdout_period_end')}, random_state={c.get('random_state')}: {sizes})")

    def transactions_by_person(self, future: bool = False) -> pd.DataFrame:
        """Transactions joined to the true ``person_id`` (truth: a perfect identity resolution).

        Parameters
        ----------
        future : bool
            ``False`` for the observed ``transactions``, ``True`` for ``future_transactions``
            (the holdout period).

        Returns
        -------
        pandas.DataFrame
            The transactions' columns (``amount`` in USD) plus ``person_id``, one row per transaction.

        Examples
        --------
        >>> from crm_models.datasets import load_crm_world
        >>> tx = load_crm_world().transactions_by_person()
        >>> tx[["transaction_id", "person_id"]].head(2).to_dict("list")
        {'transaction_id': ['T00000001', 'T00000002'], 'person_id': ['P000001', 'P000002']}
        """
        tx = self.future_transactions if future else self.transactions
        return tx.merge(self.record_truth[["record_id", "person_id"]], on="record_id", how="left")

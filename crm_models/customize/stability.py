"""How sure is a decision? Each customer's tier or action made again at every draw of the model's parameters.

A value tier or a next best action is computed from estimates (P(alive), CLV) of models whose
parameters are themselves estimated. :func:`crm_models.clv.clv_draws` redraws the parameters and
recomputes the scores; :func:`decision_stability` makes the same decision at every draw and says,
per customer, how often it agrees with the decision made at the estimates. A customer whose
action changes from draw to draw sits near a threshold that the data cannot place precisely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from crm_models.errors import N_SHOWN, DataError

__all__ = ["decision_stability"]


def _labels(decide: Callable, scores: pd.DataFrame, name: str, what: str) -> pd.Series:
    labels = decide(scores)
    if not isinstance(labels, pd.Series):
        raise TypeError(f"decision_stability: decide[{name!r}] must return a pandas Series of decisions indexed like "
                        f"the scores it receives, got {type(labels).__name__} ({what})")
    if not labels.index.equals(scores.index):
        labels = labels.reindex(scores.index)
    if labels.isna().any():
        missing = labels.index[labels.isna().to_numpy()]
        raise DataError(name, f"has no decision for some customers ({what})",
                        rows=pd.DataFrame({"customer_id": list(missing[:N_SHOWN])}), n_rows=len(missing),
                        n_total=len(labels), what="decision_stability")
    return pd.Series(labels.to_numpy(dtype=object), index=scores.index, name=name)  # plain labels, no attrs


def decision_stability(
    draws: pd.DataFrame,
    decide: Mapping[str, Callable[[pd.DataFrame], pd.Series]],
    point: pd.DataFrame,
) -> pd.DataFrame:
    """How often each customer's decisions at parameter draws agree with the decisions at the estimates.

    Parameters
    ----------
    draws : pandas.DataFrame
        Scores at parameter draws, indexed by (draw, customer id) as
        :func:`crm_models.clv.clv_draws` returns them, every draw holding the customers of
        ``point``.
    decide : mapping
        Decision name -> ``f(scores)``: takes the scores of one draw (a DataFrame indexed by
        customer id, the columns of ``draws``) and returns the decision of every customer (a
        Series of labels indexed like it), e.g. a value tier from the CLV's quantiles or the
        ``action`` column of :func:`next_best_action`.
    point : pandas.DataFrame
        The scores at the estimates, indexed by customer id, with the columns the decisions use.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``point``; for each decision ``name``: ``name`` (the decision at the
        estimates), ``name_agreement`` (the share of draws whose decision is the same, 0-1) and
        ``name_modal`` (the decision most draws make; ties to the first in sorted order).

    Raises
    ------
    TypeError
        If ``decide`` is empty or a decision does not return a Series.
    crm_models.errors.DataError
        If ``draws`` is not indexed by (draw, customer id), a draw lacks a customer of ``point``,
        or a decision leaves a customer undecided.

    Examples
    --------
    >>> point = pd.DataFrame({"clv": [10.0, 52.0, 90.0]}, index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> draws = pd.DataFrame({"clv": [12.0, 49.0, 95.0, 8.0, 55.0, 80.0, 11.0, 51.0, 70.0]},
    ...                      index=pd.MultiIndex.from_product([range(3), point.index], names=["draw", "customer_id"]))
    >>> grow = lambda s: pd.Series(np.where(s["clv"] >= 50, "grow", "keep"), index=s.index)
    >>> decision_stability(draws, {"action": grow}, point).round(3)
                action  action_agreement action_modal
    customer_id                                      
    a             keep             1.000         keep
    b             grow             0.667         grow
    c             grow             1.000         grow
    """
    if not isinstance(decide, Mapping) or not decide:
        raise TypeError("decision_stability: decide must be a non-empty mapping of decision name -> f(scores)")
    for name, f in decide.items():
        if not callable(f):
            raise TypeError(f"decision_stability: decide[{name!r}] must be callable (scores -> Series of decisions)")
    if not isinstance(draws, pd.DataFrame) or not isinstance(point, pd.DataFrame):
        raise TypeError("decision_stability: draws and point must be pandas DataFrames")
    if draws.index.nlevels != 2:
        raise DataError("draw", "must index draws together with the customer id (a two-level index, as "
                        "crm_models.clv.clv_draws returns)", rows=draws.head(N_SHOWN), n_rows=len(draws),
                        n_total=len(draws), what="draws")
    draw_ids = pd.unique(draws.index.get_level_values(0))
    out = pd.DataFrame(index=point.index)
    at_point = {name: _labels(f, point, name, "at the estimates") for name, f in decide.items()}
    agree = {name: np.zeros(len(point)) for name in decide}
    tallies: dict[str, list[np.ndarray]] = {name: [] for name in decide}
    for d in draw_ids:
        scores = draws.xs(d, level=0)
        missing = point.index.difference(scores.index)
        if len(missing):
            raise DataError("customer_id", f"must hold every customer of point in every draw (draw {d!r} lacks "
                            "some)", rows=pd.DataFrame({"customer_id": list(missing[:N_SHOWN])}),
                            n_rows=len(missing), n_total=len(point), what="draws")
        scores = scores.loc[point.index]
        for name, f in decide.items():
            labels = _labels(f, scores, name, f"at draw {d!r}")
            agree[name] += (labels.to_numpy() == at_point[name].to_numpy())
            tallies[name].append(labels.to_numpy())
    for name in decide:
        out[name] = at_point[name].to_numpy()
        out[f"{name}_agreement"] = agree[name] / len(draw_ids)
        out[f"{name}_modal"] = _modal(np.stack(tallies[name]), len(point))
    return out


def _modal(labels: np.ndarray, n_customers: int) -> np.ndarray:
    """The most frequent label of each column of a draws x customers array; ties to the first in sorted order."""
    frame = pd.DataFrame({"customer": np.tile(np.arange(n_customers), labels.shape[0]), "label": labels.ravel()})
    counts = frame.groupby(["customer", "label"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values(["customer", "n"], ascending=[True, False], kind="stable")
    return counts.drop_duplicates("customer").set_index("customer")["label"].reindex(range(n_customers)).to_numpy()

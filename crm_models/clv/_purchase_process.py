"""The BG/NBD purchase process in continuous time: when each customer buys again, and when they leave.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2), section 2: while active, a customer buys at the
times of a Poisson process with rate ``lambda``; after each repeat purchase they drop out for
good with probability ``p``, so the number of repeat purchases before dropping out is
geometric, ``J ~ Geometric(p)`` on 1, 2, ...

Given ``N`` Poisson events in a window of length ``w``, their times are ``N`` sorted uniform
draws on ``[0, w)``. The process in the window is therefore drawn in three vectorised steps:
``N ~ Poisson(lambda w)``, ``J ~ Geometric(p)``, ``N`` uniform times; the customer keeps the
first ``min(N, J)`` of them and has dropped out (right after the last one kept) when
``J <= N``. Every dated BG/NBD simulation of the package (the transaction-log simulator and the
simulated company) draws its purchases here, so both follow one definition of the story.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["PurchaseTimes", "beta_geo_purchase_times"]


class PurchaseTimes(NamedTuple):
    """Repeat purchases of a BG/NBD population in a window after each first purchase.

    Attributes
    ----------
    owner : numpy.ndarray of int64
        For each repeat purchase, the position (0 .. n-1) of the customer who made it.
    time : numpy.ndarray of float
        For each repeat purchase, its time after the customer's first purchase, in the unit of
        the purchase rate; sorted by ``owner``, then by ``time``.
    dropout_time : numpy.ndarray of float
        Per customer: the time of the repeat purchase right after which they dropped out, or
        ``inf`` for a customer still active at the end of their window.
    """

    owner: np.ndarray
    time: np.ndarray
    dropout_time: np.ndarray

    @property
    def dropped(self) -> np.ndarray:
        """Per customer: whether they dropped out within their window (bool)."""
        return np.isfinite(self.dropout_time)


def beta_geo_purchase_times(lam, p, window, rng: np.random.Generator) -> PurchaseTimes:
    """Draw the BG/NBD repeat purchases of each customer within a window after the first purchase.

    The random draws, in this order: ``rng.poisson(lam * window)`` (purchases the Poisson
    process would make in the window), ``rng.geometric(p)`` (the repeat purchase after which the
    customer drops out), then one ``rng.random`` per Poisson event (its time as a fraction of
    the window). Callers that draw these themselves in the same order get identical purchases.

    Parameters
    ----------
    lam : array_like of float
        Purchase rate of each customer while active, per unit of time (> 0).
    p : array_like of float
        Probability of each customer dropping out after each repeat purchase (in (0, 1]).
    window : array_like of float
        Length of each customer's window after their first purchase, in the unit of ``lam``
        (>= 0), e.g. from the first purchase to the end of observation.
    rng : numpy.random.Generator
        The source of every draw.

    Returns
    -------
    PurchaseTimes
        ``owner`` and ``time`` of every repeat purchase (first purchases are not included; they
        are at time 0), and each customer's ``dropout_time`` (``inf`` if still active).

    Examples
    --------
    Two customers buying about every other week for 10 weeks; the first always leaves after
    a repeat purchase (p = 1), the second practically never:

    >>> rng = np.random.default_rng(0)
    >>> draws = beta_geo_purchase_times([0.5, 0.5], [1.0, 1e-9], [10.0, 10.0], rng)
    >>> np.bincount(draws.owner).tolist(), draws.dropped.tolist()
    ([1, 7], [True, False])
    >>> bool(draws.dropout_time[0] == draws.time[0]), bool((draws.time < 10.0).all())
    (True, True)
    """
    lam, p, window = (np.asarray(x, dtype=float) for x in (lam, p, window))
    if not lam.ndim == 1 or lam.shape != p.shape or lam.shape != window.shape:
        raise ValueError(f"lam, p and window must be 1-d arrays of one length, got shapes "
                         f"{lam.shape}, {p.shape}, {window.shape}")
    n = lam.size
    n_poisson = rng.poisson(lam * window)  # repeat purchases in the window if the customer never left
    n_before_dropout = rng.geometric(p)  # dropout right after this repeat purchase
    n_kept = np.minimum(n_poisson, n_before_dropout)
    owner = np.repeat(np.arange(n), n_poisson)
    time = rng.random(owner.size) * window[owner]
    order = np.lexsort((time, owner))
    owner, time = owner[order], time[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(n_poisson) - n_poisson, n_poisson)
    keep = rank < n_kept[owner]
    dropped = n_before_dropout <= n_poisson
    last = keep & (rank == n_kept[owner] - 1) & dropped[owner]
    dropout_time = np.full(n, np.inf)
    dropout_time[owner[last]] = time[last]
    return PurchaseTimes(owner[keep], time[keep], dropout_time)

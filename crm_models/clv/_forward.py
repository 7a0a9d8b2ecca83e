"""Forward-looking predictions of the continuous-time models: the shared machinery.

:class:`ForwardLooking` is mixed into :class:`~crm_models.clv.base.ContinuousTimeModel`. It
turns three formulas a model supplies (see :mod:`crm_models.clv._forward_math`) into
per-customer predictions of what happens in the next ``t`` periods after the end of
observation T:

* ``_alive_posterior(p, x, T)``: the parameters of a customer alive at T with history (x, T);
* ``_still_alive(post, t)``: P(alive at T + t | alive at T);
* ``_alive_pmf(post, t, ks)``: P(X(t) = k | alive at T), rows x ks.

A customer is dead at T with probability 1 - P(alive) and then buys nothing, so every
distribution is a mixture: P(X(t) = k | x, t_x, T) = (1 - P(alive)) [k = 0] + P(alive) P(X(t) = k
| alive at T). The formulas depend on (x, T) only, so they are evaluated once per distinct
pair; P(alive) is per customer. Nothing is simulated: intervals and probabilities are exact up
to a tail of 1e-10 (BG/NBD, MBG/NBD) or a numerical integral over the lifetime (Pareto/NBD).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.base import as_generator
from crm_models.clv import _forward_math as fm

#: The purchase distribution is tabulated up to K with P(N(t) > K) <= _TAIL (N >= X).
_TAIL = 1e-10
#: Most table cells (customers' distinct (x, T) pairs x purchase counts) evaluated at once.
_CELLS = 2_000_000
#: Longest purchase table of one customer (a longer one means t is in the wrong unit).
_MAX_PURCHASES = 1_000_000


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1) (0.2 gives 80% intervals), got {alpha!r}")
    return float(alpha)


class _PurchaseTable:
    """The alive-at-T purchase distribution of every distinct (x, T) pair, tabulated to its own K.

    ``cdf`` is flat: pair g holds G_g(0..K_g) at ``start[g]:start[g+1]``; ``p_alive`` and
    ``group`` are per customer."""

    def __init__(self, model, p, pdata, t: float):
        xu, Tu, inv = pdata.xT
        self.p_alive = np.asarray(model._p_alive(p, pdata), dtype=float)
        self.group = inv
        post = model._alive_posterior(p, xu, Tu)
        K = fm.nbd_quantile_bound(post["r"], post["alpha"], t, _TAIL) if t > 0 else np.zeros(len(xu), np.int64)
        if len(K) and K.max() > _MAX_PURCHASES:
            raise ValueError(
                f"t = {t:g} is so long for these customers that their purchases could number more than "
                f"{_MAX_PURCHASES:,}: is t in the data's time unit (that of recency and T)?")
        self.K = K
        self.start = np.concatenate([[0], np.cumsum(K + 1)])
        cdf = np.empty(int(self.start[-1]))
        order = np.argsort(K, kind="stable")
        i = 0
        while i < len(order):
            width = int(K[order[min(len(order) - 1, i + max(1, _CELLS // (int(K[order[i]]) + 1)) - 1)]]) + 1
            rows = order[i : i + max(1, _CELLS // width)]
            kmax = int(K[rows].max())
            sub = {name: np.asarray(v)[rows] for name, v in post.items()}
            pmf = np.asarray(model._alive_pmf(sub, t, np.arange(kmax + 1, dtype=float)))
            c = np.minimum(np.cumsum(pmf, axis=1), 1.0)
            ks = np.arange(kmax + 1)
            keep = ks[None, :] <= K[rows][:, None]
            cdf[(self.start[rows][:, None] + ks[None, :])[keep]] = c[keep]
            i += len(rows)
        self.cdf = cdf
        self._keys = None

    def alive_cdf(self, k: np.ndarray) -> np.ndarray:
        """G_g(k) per customer (k may be negative: 0; beyond the table: 1)."""
        g = self.group
        k = np.asarray(k)
        inside = (k >= 0) & (k <= self.K[g])
        pos = self.start[g] + np.clip(k, 0, self.K[g])
        return np.where(k < 0, 0.0, np.where(inside, self.cdf[pos], 1.0))

    def cdf_at(self, k: np.ndarray) -> np.ndarray:
        """F_i(k) = (1 - P(alive)) + P(alive) G(k) per customer; F(-1) = 0."""
        k = np.asarray(k)
        return np.where(k < 0, 0.0, (1 - self.p_alive) + self.p_alive * self.alive_cdf(k))

    def quantile(self, level: float, strict: bool) -> np.ndarray:
        """Per customer the smallest k with F(k) > level (``strict``) or F(k) >= level."""
        pa = self.p_alive
        with np.errstate(divide="ignore", invalid="ignore"):
            thr = np.where(pa > 0, (level - (1 - pa)) / pa, -np.inf)
        g = self.group
        lo, hi = self.start[g], self.start[g + 1] - 1
        key = g + np.clip(thr, 0.0, 1.0)
        if self._keys is None:  # pair g's table as g + G_g(k): one sorted array for every customer
            self._keys = np.repeat(np.arange(len(self.K), dtype=float), self.K + 1) + self.cdf
        pos = np.searchsorted(self._keys, key, side="right" if strict else "left")
        pos = np.clip(pos, lo, hi)

        def ok(j):  # does table position j satisfy the condition?
            return self.cdf[j] > thr if strict else self.cdf[j] >= thr

        # the offset keys lose a few bits: correct by one step on exact comparisons
        back = (pos > lo) & ok(np.maximum(pos - 1, lo))
        pos = np.where(back, pos - 1, pos)
        fwd = (pos < hi) & ~ok(pos)
        pos = np.where(fwd, pos + 1, pos)
        k = pos - lo
        return np.where(thr < 0 if strict else thr <= 0, 0, k).astype(np.int64)


class ForwardLooking:
    """Forward-looking predictions for BG/NBD, MBG/NBD and Pareto/NBD (see the module docstring).

    Every ``t`` is a length of time after the end of observation T, in the data's time unit
    (that of recency and T, weeks by default).
    """

    def _forward_ready(self):
        self._check_fitted()
        if not hasattr(self, "_alive_posterior"):
            raise NotImplementedError(
                f"{type(self).__name__} does not implement the forward-looking predictions (the distribution of "
                "purchases of a customer alive at T); they exist for BetaGeo, ModifiedBetaGeo and ParetoNBD"
            )
        return self.params_.to_dict()

    def probability_alive_at(self, data: pd.DataFrame, t) -> pd.Series:
        """Probability that each customer is still active ``t`` periods after the end of observation.

        P(alive at T + t | x, t_x, T) = P(alive at T) x P(no drop-out in (T, T + t] | alive at T).
        At ``t = 0`` it is :meth:`probability_alive`; it falls to 0 as ``t`` grows.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary (columns as for ``fit``), indexed by customer id.
        t : float
            Length of time after T, in the data's time unit.

        Returns
        -------
        pandas.Series
            ``p_alive`` (0-1) indexed like ``data``.

        Examples
        --------
        >>> import pandas as pd
        >>> from crm_models.clv import ModifiedBetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = ModifiedBetaGeo().fit(data)
        >>> model.probability_alive_at(data.head(3), 52).round(3).tolist()   # a year on, in weeks
        [0.546, 0.428, 0.487]
        >>> bool((model.probability_alive_at(data, 0) == model.probability_alive(data)).all())
        True
        """
        p = self._forward_ready()
        t = self._check_time(t)
        pdata = self._prediction_data(data)
        pa = self._p_alive(p, pdata)
        xu, Tu, inv = pdata.xT
        still = np.asarray(self._still_alive(self._alive_posterior(p, xu, Tu), t))[inv] if t > 0 else 1.0
        return self._series(pa * still, pdata.index, "p_alive")

    def probability_no_purchase(self, data: pd.DataFrame, t) -> pd.Series:
        """Probability that each customer makes no purchase in the next ``t`` periods.

        P(X(T, T + t) = 0 | x, t_x, T) = 1 - P(alive) + P(alive) P(no purchase in t | alive at T).
        1 at ``t = 0``; as ``t`` grows it tends to the probability of never buying again.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary (columns as for ``fit``), indexed by customer id.
        t : float
            Length of the future period, in the data's time unit.

        Returns
        -------
        pandas.Series
            ``probability`` (0-1) indexed like ``data``.

        Examples
        --------
        >>> from crm_models.clv import ParetoNBD, simulate_pareto_nbd
        >>> data = simulate_pareto_nbd(2000, {"r": 0.5, "alpha": 10.0, "s": 0.6, "beta": 12.0}, T=39.0)
        >>> model = ParetoNBD().fit(data)
        >>> model.probability_no_purchase(data.head(3), 26).round(3).tolist()   # next 26 weeks
        [0.949, 0.949, 0.459]
        """
        p = self._forward_ready()
        t = self._check_time(t)
        pdata = self._prediction_data(data)
        pa = self._p_alive(p, pdata)
        if t == 0:
            return self._series(np.ones(len(pa)), pdata.index, "probability")
        xu, Tu, inv = pdata.xT
        none = np.asarray(self._alive_pmf(self._alive_posterior(p, xu, Tu), t, np.zeros(1)))[:, 0][inv]
        return self._series(1 - pa + pa * none, pdata.index, "probability")

    def expected_purchases_between(self, data: pd.DataFrame, t_start, t_end) -> pd.Series:
        """Expected purchases in the window (T + ``t_start``, T + ``t_end``], per customer.

        E[X(T + t_end)] - E[X(T + t_start)], each the conditional expectation of
        :meth:`expected_purchases`: e.g. ``(13, 26)`` is the second quarter after the end of
        observation in weeks.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary (columns as for ``fit``), indexed by customer id.
        t_start, t_end : float
            Start and end of the window after T, in the data's time unit (0 <= t_start <= t_end).

        Returns
        -------
        pandas.Series
            ``expected_purchases`` indexed like ``data``.

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = BetaGeo().fit(data)
        >>> model.expected_purchases_between(data.head(3), 13, 26).round(3).tolist()
        [0.435, 0.071, 1.587]
        """
        self._forward_ready()
        t0 = self._check_time(t_start, "t_start")
        t1 = self._check_time(t_end, "t_end")
        if t1 < t0:
            raise ValueError(f"t_end ({t_end!r}) must not be before t_start ({t_start!r})")
        p = self.params_.to_dict()
        pdata = self._prediction_data(data)
        out = self._expected(p, pdata, t1) - self._expected(p, pdata, t0)
        return self._series(np.maximum(out, 0.0), pdata.index, "expected_purchases")

    def conditional_probability_of_n_purchases(self, data: pd.DataFrame, t, n) -> pd.DataFrame:
        """Each customer's distribution of purchases in the next ``t`` periods: P(X(T, T + t) = n | x, t_x, T).

        The exact mixture of "dropped out before T" (no purchase) and "alive at T" (the model's
        story from T on, with the parameters updated by the customer's history). At ``t = 0`` it
        is 1 for ``n = 0``; the probabilities over all ``n`` sum to 1 and their mean is
        :meth:`expected_purchases`.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary (columns as for ``fit``), indexed by customer id.
        t : float
            Length of the future period, in the data's time unit.
        n : int or array_like of int
            Numbers of purchases (whole numbers >= 0).

        Returns
        -------
        pandas.DataFrame
            Probabilities (0-1) indexed like ``data``, one column per ``n`` (columns named ``n``).

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = BetaGeo().fit(data)
        >>> model.conditional_probability_of_n_purchases(data.head(2), 26, [0, 1, 2]).round(3)
        n                0      1      2
        customer_id
        0            0.490  0.271  0.134
        1            0.884  0.093  0.017
        """
        p = self._forward_ready()
        t = self._check_time(t)
        ns = np.atleast_1d(np.asarray(n))
        if ns.dtype == bool or not np.issubdtype(ns.dtype, np.number) or np.any(~np.isfinite(ns)) or np.any(ns < 0) \
                or np.any(ns != np.floor(ns)):
            raise ValueError(f"n must be whole numbers >= 0, got {n!r}")
        ns = ns.astype(np.int64)
        pdata = self._prediction_data(data)
        pa = self._p_alive(p, pdata)[:, None]
        xu, Tu, inv = pdata.xT
        if t == 0:
            alive = np.broadcast_to((ns == 0).astype(float), (len(xu), len(ns)))
        else:
            alive = np.asarray(self._alive_pmf(self._alive_posterior(p, xu, Tu), t, ns.astype(float)))
        out = pa * alive[inv] + (1 - pa) * (ns == 0)[None, :]
        return pd.DataFrame(out, index=pdata.index, columns=pd.Index(ns, name="n"))

    def predictive_interval(self, data: pd.DataFrame, t, *, alpha: float = 0.2) -> pd.DataFrame:
        """Predictive interval of each customer's number of purchases in the next ``t`` periods.

        From the exact distribution :meth:`conditional_probability_of_n_purchases` (no
        simulation): ``lower`` is the smallest k with P(X <= k) > alpha/2 and ``upper`` the
        smallest k with P(X <= k) >= 1 - alpha/2, so at most alpha/2 of the probability lies on
        each side. Purchases are whole numbers, so an interval holds *at least* 1 - alpha of the
        probability; ``probability`` says how much. The interval describes the randomness of the
        customer's behaviour given the fitted parameters (for the uncertainty in the parameters
        themselves see :meth:`interval`).

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary (columns as for ``fit``), indexed by customer id.
        t : float
            Length of the future period, in the data's time unit.
        alpha : float
            1 - the nominal coverage (0.2 gives 80% intervals).

        Returns
        -------
        pandas.DataFrame
            Indexed like ``data``: ``estimate`` (expected purchases), ``lower`` and ``upper``
            (whole numbers of purchases) and ``probability`` (P(lower <= X <= upper), >= 1 - alpha).

        Examples
        --------
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = BetaGeo().fit(data)
        >>> model.predictive_interval(data.head(3), 26, alpha=0.2).round(3)
                     estimate  lower  upper  probability
        customer_id
        0               0.926      0      3        0.956
        1               0.146      0      1        0.977
        2               3.479      0      7        0.910
        """
        p = self._forward_ready()
        t = self._check_time(t)
        alpha = _check_alpha(alpha)
        pdata = self._prediction_data(data)
        table = _PurchaseTable(self, p, pdata, t)
        lower = table.quantile(alpha / 2, strict=True)
        upper = table.quantile(1 - alpha / 2, strict=False)
        prob = table.cdf_at(upper) - table.cdf_at(lower - 1)
        return pd.DataFrame(
            {"estimate": self._expected(p, pdata, t), "lower": lower, "upper": upper, "probability": prob},
            index=pdata.index,
        )

    def probability_integral_transform(self, data: pd.DataFrame, t, purchases, *, random_state=0) -> pd.Series:
        """Randomised PIT of observed purchases: uniform on (0, 1) when the model is right.

        For a customer who made k purchases in the ``t`` periods after T, u = F(k - 1) + v (F(k) -
        F(k - 1)) with F the customer's predicted distribution function and v uniform on (0, 1)
        (Czado, Gneiting & Held 2009). Whatever the customers' differences, the u of a correct
        model are independent uniforms: a histogram of u is flat, and the share of u between
        alpha/2 and 1 - alpha/2 is 1 - alpha, the nominal coverage of a central interval.

        Parameters
        ----------
        data : pandas.DataFrame
            The customers' summary at T (columns as for ``fit``), indexed by customer id.
        t : float
            Length of the period the purchases were counted in, in the data's time unit.
        purchases : pandas.Series
            Purchases each customer made in (T, T + t], indexed like ``data``.
        random_state : None, int or numpy.random.Generator
            Seed or generator of v.

        Returns
        -------
        pandas.Series
            ``pit`` in (0, 1), indexed like ``data``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from crm_models.clv import BetaGeo, simulate_beta_geo
        >>> data = simulate_beta_geo(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)
        >>> model = BetaGeo().fit(data)
        >>> u = model.probability_integral_transform(data.head(3), 26, pd.Series([0, 0, 4], index=data.index[:3]))
        >>> u.round(3).tolist()
        [0.312, 0.238, 0.559]
        """
        p = self._forward_ready()
        t = self._check_time(t)
        pdata = self._prediction_data(data)
        if not isinstance(purchases, pd.Series) or not purchases.index.equals(pdata.index):
            raise ValueError("purchases must be a pandas Series indexed exactly like data (customer id)")
        k = pd.to_numeric(purchases, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(k) | (k < 0) | (k != np.floor(k))
        if bad.any():
            from crm_models._validation import fail_rows

            fail_rows(purchases.to_frame("purchases"), bad, "purchases", "must be whole numbers of purchases >= 0")
        k = k.astype(np.int64)
        table = _PurchaseTable(self, p, pdata, t)
        below, upto = table.cdf_at(k - 1), table.cdf_at(k)
        v = as_generator(random_state).uniform(size=len(k))
        return self._series(np.clip(below + v * (upto - below), 0.0, 1.0), pdata.index, "pit")

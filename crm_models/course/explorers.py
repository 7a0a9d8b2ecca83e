"""Interactive explorers: move a slider, watch a model's picture and the numbers behind it change.

Each explorer is a figure with controls (:class:`Slider`), built from the package's own plotting
functions, and the numbers behind it (:meth:`Explorer.numbers`):

- :class:`BetaGeoExplorer`: BG/NBD's four parameters against the repeat-purchase histogram, the
  log-likelihood and the P(alive) surface;
- :class:`LinkageExplorer`: the match-probability threshold of identity resolution against
  precision, recall and the number of customers found;
- :class:`RetentionBudgetExplorer`: a retention budget against the value it creates (expected,
  and true where the truth is known).

:meth:`Explorer.show` adapts to where the notebook runs. In a live Jupyter kernel with ipywidgets
it shows the controls and redraws on every change. Anywhere else (a notebook viewed on GitHub, run
by ``scripts/run_notebooks.py`` or checked by nbval, both of which set the environment variable
``CRM_MODELS_STATIC_EXPLORERS=1``) it draws the figure of the default state as a plain image and
prints the numbers behind it, so the stored notebook shows a picture and its outputs compare
exactly on every re-run.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> sweep = pd.DataFrame({"linked_pairs": [10, 8], "customers": [90, 92], "pairwise_precision": [0.9, 1.0],
...                       "pairwise_recall": [1.0, 0.8], "pairwise_f1": [0.95, 0.89], "bcubed_f1": [0.97, 0.93]},
...                      index=pd.Index([0.5, 0.9], name="threshold"))
>>> float(LinkageExplorer(sweep).numbers(threshold=0.9)["pairwise_recall"])
0.8
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crm_models.course.derivations import bgnbd_log_likelihood, bgnbd_p_alive, bgnbd_probability_of_n_purchases

__all__ = ["Slider", "Explorer", "BetaGeoExplorer", "LinkageExplorer", "RetentionBudgetExplorer", "live_widgets"]

def _inherit_docs(cls):
    """Give each method that overrides a documented base method the base's docstring (without its examples)."""
    for name, member in vars(cls).items():
        if callable(member) and not name.startswith("_") and not member.__doc__:
            for base in cls.__mro__[1:]:
                doc = getattr(getattr(base, name, None), "__doc__", None)
                if doc:
                    member.__doc__ = re.split(r"\n\s*Examples\n\s*-+\n", doc)[0].rstrip() + "\n"
                    break
    return cls


_UNIT_PLURAL = {"h": "hours", "D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}

#: Environment variable that makes every explorer draw statically (set by the notebook runners).
STATIC_ENV = "CRM_MODELS_STATIC_EXPLORERS"


def live_widgets() -> bool:
    """Whether explorers can be interactive here: a live Jupyter kernel with ipywidgets, not a runner.

    Returns
    -------
    bool
        False when ``CRM_MODELS_STATIC_EXPLORERS`` is set (not ``""`` or ``"0"``), when
        ipywidgets is not installed, or outside a Jupyter kernel.

    Examples
    --------
    >>> live_widgets()
    False
    """
    if os.environ.get(STATIC_ENV, "") not in ("", "0"):
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


@dataclass(frozen=True)
class Slider:
    """One control of an explorer: a number between two bounds, or one value out of a list.

    Parameters
    ----------
    name : str
        The keyword it sets in :meth:`Explorer.numbers` and :meth:`Explorer.figure`.
    default : float
        The starting value (the state the static figure shows).
    low, high : float
        Bounds (ignored when ``options`` is given).
    options : tuple of float, optional
        The values to choose from.
    log : bool
        A logarithmic scale (for positive parameters spanning orders of magnitude).
    description : str
        The label beside the control.

    Examples
    --------
    >>> Slider("r", 0.24, 0.024, 2.4, log=True).clip(10.0)
    2.4
    """

    name: str
    default: float
    low: float = 0.0
    high: float = 1.0
    options: tuple | None = None
    log: bool = False
    description: str = ""

    def clip(self, value: float) -> float:
        """``value`` brought within the control's range (the nearest option when there are options).

        Parameters
        ----------
        value : float
            A requested value.

        Returns
        -------
        float

        Examples
        --------
        >>> Slider("t", 0.5, options=(0.1, 0.5, 0.9)).clip(0.8)
        0.9
        """
        if self.options is not None:
            opts = np.asarray(self.options, dtype=float)
            return float(opts[np.argmin(np.abs(opts - float(value)))])
        return float(min(max(float(value), self.low), self.high))

    def widget(self):
        """The ipywidgets control.

        Returns
        -------
        ipywidgets.Widget

        Examples
        --------
        >>> Slider("r", 0.24, 0.024, 2.4, log=True).widget().value
        0.24
        """
        import ipywidgets as w

        label = self.description or self.name
        style = {"description_width": "initial"}
        if self.options is not None:
            return w.SelectionSlider(options=list(self.options), value=self.clip(self.default), description=label,
                                     continuous_update=False, style=style)
        if self.log:
            return w.FloatLogSlider(value=self.default, base=10, min=np.log10(self.low), max=np.log10(self.high),
                                    step=0.01, description=label, continuous_update=False, style=style)
        return w.FloatSlider(value=self.default, min=self.low, max=self.high, step=(self.high - self.low) / 100,
                             description=label, continuous_update=False, style=style)


class Explorer:
    """An interactive figure: controls, the numbers behind the picture, and the picture.

    Subclasses define :meth:`controls`, :meth:`numbers` and :meth:`figure`; the state is passed
    as keyword arguments named after the controls.

    Examples
    --------
    >>> issubclass(BetaGeoExplorer, Explorer)
    True
    """

    title = "Explorer"

    def controls(self) -> list[Slider]:
        """The controls, in the order they are shown.

        Returns
        -------
        list of Slider
        """
        raise NotImplementedError

    def defaults(self) -> dict:
        """The default state: each control's default value.

        Returns
        -------
        dict
        """
        return {c.name: c.default for c in self.controls()}

    def _state(self, state: Mapping) -> dict:
        names = {c.name: c for c in self.controls()}
        unknown = [k for k in state if k not in names]
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown control(s) {unknown}; controls are {list(names)}")
        out = self.defaults()
        out.update({k: names[k].clip(v) for k, v in state.items()})
        return out

    def numbers(self, **state) -> pd.Series:
        """The numbers behind the figure in a state.

        Parameters
        ----------
        **state
            Control values (missing ones take their default).

        Returns
        -------
        pandas.Series
        """
        raise NotImplementedError

    def figure(self, **state):
        """The figure in a state.

        Parameters
        ----------
        **state
            Control values (missing ones take their default).

        Returns
        -------
        matplotlib.figure.Figure
        """
        raise NotImplementedError

    def update(self, **state) -> tuple:
        """The callback run on every change: the figure and the numbers of a state.

        Parameters
        ----------
        **state
            Control values.

        Returns
        -------
        tuple
            ``(figure, numbers)``.
        """
        return self.figure(**state), self.numbers(**state)

    def widget(self):
        """The live explorer: the controls above an output area that redraws on every change.

        Returns
        -------
        ipywidgets.VBox
            ``children[0]`` holds the controls, ``children[1]`` the output area.
        """
        import ipywidgets as w
        from IPython.display import display

        controls = {c.name: c.widget() for c in self.controls()}
        out = w.Output()

        def redraw(change=None):
            fig, numbers = self.update(**{k: v.value for k, v in controls.items()})
            with out:
                out.clear_output(wait=True)
                display(fig)
                print(numbers.round(4).to_string())
            plt.close(fig)

        for control in controls.values():
            control.observe(redraw, names="value")
        redraw()
        return w.VBox([w.VBox(list(controls.values())), out])

    def show(self) -> None:
        """Show the explorer: live controls in a Jupyter kernel, else the default state's figure and numbers.

        Returns
        -------
        None
        """
        if live_widgets():
            from IPython.display import display

            display(self.widget())
            return
        fig, numbers = self.update()
        plt.show()
        plt.close(fig)
        state = ", ".join(f"{k} = {v:g}" for k, v in self.defaults().items())
        print(f"{self.title} at {state} (run the notebook in Jupyter to move the controls)")
        print(numbers.round(4).to_string())


# ----------------------------------------------------------------------------------- BG/NBD
@_inherit_docs
class BetaGeoExplorer(Explorer):
    """BG/NBD's parameters against the repeat-purchase histogram, the log-likelihood and P(alive).

    Parameters
    ----------
    data : pandas.DataFrame
        A customer summary in one time unit (``frequency``, ``recency``, ``T``), e.g. the
        calibration period of CDNOW in weeks.
    params : mapping
        Starting parameters ``r``, ``alpha``, ``a``, ``b`` (e.g. a fitted model's ``params_``).
    max_frequency : int
        First pooled bucket of the histogram.
    T : float, optional
        Length of observation of the P(alive) surface (default: the longest ``T`` in ``data``).
    time_unit : str
        The data's time unit, a code of :data:`crm_models.units.TIME_UNITS` (for the axes).
    frequency_col, recency_col, T_col : str
        Columns of ``data``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> data = pd.DataFrame({"frequency": [0, 2, 5], "recency": [0.0, 20.0, 35.0], "T": [39.0, 39.0, 39.0]})
    >>> ex = BetaGeoExplorer(data, {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4})
    >>> bool(ex.numbers()["log_likelihood"] == ex.numbers(r=0.3)["log_likelihood_at_start"])
    True
    """

    title = "BG/NBD explorer"

    def __init__(self, data: pd.DataFrame, params: Mapping[str, float], *, max_frequency: int = 7,
                 T: float | None = None, time_unit: str = "W", frequency_col: str = "frequency",
                 recency_col: str = "recency", T_col: str = "T") -> None:
        from crm_models._validation import require_columns
        from crm_models.units import check_time_unit

        self.unit_words = _UNIT_PLURAL[check_time_unit(time_unit)]

        require_columns(data, [frequency_col, recency_col, T_col], what="data")
        self.x = data[frequency_col].to_numpy(dtype=float)
        self.t_x = data[recency_col].to_numpy(dtype=float)
        self.T_obs = data[T_col].to_numpy(dtype=float)
        self.start = {k: float(params[k]) for k in ("r", "alpha", "a", "b")}
        bgnbd_log_likelihood(self.start, self.x, self.t_x, self.T_obs)  # validates data and parameters
        if isinstance(max_frequency, bool) or not isinstance(max_frequency, (int, np.integer)) or max_frequency < 1:
            raise ValueError(f"max_frequency must be a whole number >= 1, got {max_frequency!r}")
        self.max_frequency = int(max_frequency)
        self.T = float(self.T_obs.max() if T is None else T)
        if not np.isfinite(self.T) or self.T <= 0:
            raise ValueError(f"T must be a positive length of observation, got {T!r}")
        self.frequency_col = frequency_col
        self.T_values, self.T_counts = np.unique(self.T_obs, return_counts=True)

    def controls(self) -> list[Slider]:
        return [Slider(k, v, v / 10, v * 10, log=True, description=k) for k, v in self.start.items()]

    def histogram(self, **state) -> pd.DataFrame:
        """Customers by repeat purchases, actual and expected under the state's parameters.

        Parameters
        ----------
        **state
            ``r``, ``alpha``, ``a``, ``b`` (missing ones take their default).

        Returns
        -------
        pandas.DataFrame
            Indexed by bucket (``"0"``, ``"1"``, ..., ``"7+"``): ``actual`` and ``model``
            (customers).

        Examples
        --------
        >>> data = pd.DataFrame({"frequency": [0, 1], "recency": [0.0, 5.0], "T": [10.0, 10.0]})
        >>> ex = BetaGeoExplorer(data, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 3.0}, max_frequency=2)
        >>> float(ex.histogram()["model"].sum())
        2.0
        """
        p = self._state(state)
        k = self.max_frequency
        actual = np.bincount(np.minimum(self.x, k).astype(int), minlength=k + 1)[: k + 1].astype(float)
        expected = np.zeros(k + 1)
        for t, n in zip(self.T_values, self.T_counts):
            probs = bgnbd_probability_of_n_purchases(p, t, np.arange(k))
            expected[:k] += n * probs
            expected[k] += n * max(0.0, 1.0 - probs.sum())
        labels = [str(i) for i in range(k)] + [f"{k}+"]
        return pd.DataFrame({"actual": actual, "model": expected}, index=pd.Index(labels, name=self.frequency_col))

    def p_alive_matrix(self, **state) -> pd.DataFrame:
        """P(alive) over repeat purchases (rows) and time of the last one (columns), at ``T``.

        Parameters
        ----------
        **state
            ``r``, ``alpha``, ``a``, ``b``.

        Returns
        -------
        pandas.DataFrame
            P(alive) (0-1); NaN where no customer can be (no repeat purchase but a recency > 0).

        Examples
        --------
        >>> data = pd.DataFrame({"frequency": [0, 1], "recency": [0.0, 5.0], "T": [10.0, 10.0]})
        >>> BetaGeoExplorer(data, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 3.0}).p_alive_matrix().shape
        (21, 11)
        """
        p = self._state(state)
        freq = np.arange(0, 21)
        rec = np.linspace(0.0, self.T, min(int(np.floor(self.T)) + 1, 60))
        F, R = np.meshgrid(freq, rec, indexing="ij")
        values = bgnbd_p_alive(p, F.ravel(), R.ravel(), self.T).reshape(F.shape)
        values[(F == 0) & (R > 0)] = np.nan
        return pd.DataFrame(values, index=pd.Index(freq, name="repeat purchases"),
                            columns=pd.Index(rec.round(2), name="time of the last purchase"))

    def numbers(self, **state) -> pd.Series:
        p = self._state(state)
        hist = self.histogram(**p)
        with np.errstate(divide="ignore", invalid="ignore"):
            chi = float(np.sum(np.where(hist["model"] > 0, (hist["actual"] - hist["model"]) ** 2 / hist["model"], 0)))
        return pd.Series({
            **{k: float(v) for k, v in p.items()},
            "log_likelihood": float(bgnbd_log_likelihood(p, self.x, self.t_x, self.T_obs).sum()),
            "log_likelihood_at_start": float(bgnbd_log_likelihood(self.start, self.x, self.t_x, self.T_obs).sum()),
            "chi_square": chi,
            "mean_purchase_rate": p["r"] / p["alpha"],
            "mean_dropout_probability": p["a"] / (p["a"] + p["b"]),
        }, name="value")

    def figure(self, **state):
        from crm_models.clv.diagnostics import HistogramCheck
        from crm_models.clv.plotting import plot_matrix, plot_repeat_purchase_histogram

        p = self._state(state)
        numbers = self.numbers(**p)
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
        check = HistogramCheck(self.histogram(**p), numbers["chi_square"], max(1, self.max_frequency - 4), float("nan"))
        plot_repeat_purchase_histogram(check, ax=left, title=(
            f"Repeat purchases: actual vs BG/NBD (chi-square {numbers['chi_square']:.0f}; "
            f"log-likelihood {numbers['log_likelihood']:,.1f})"))
        left.set_xlabel("repeat purchases in the observation period")
        left.set_ylabel("customers")
        plot_matrix(self.p_alive_matrix(**p), ax=right, label="P(alive)", vmin=0, vmax=1,
                    title=f"P(alive) of a customer observed for T = {self.T:.1f} {self.unit_words}")
        right.set_xlabel(f"time of the last purchase ({self.unit_words} after the first)")
        right.set_ylabel("repeat purchases")
        fig.suptitle(", ".join(f"{k} = {v:.3g}" for k, v in p.items()))
        fig.tight_layout()
        return fig


# ---------------------------------------------------------------------------------- linkage
@_inherit_docs
class LinkageExplorer(Explorer):
    """The match-probability threshold against precision, recall and the customers found.

    Parameters
    ----------
    sweep : pandas.DataFrame
        :func:`crm_models.identify.threshold_sweep`'s table, indexed by ``threshold``, with
        ``pairwise_precision``, ``pairwise_recall``, ``pairwise_f1``, ``bcubed_f1`` and
        ``customers`` (other columns are shown among the numbers).
    chosen : float, optional
        The starting threshold (default: the one with the highest pairwise F1).
    n_true : int, optional
        The true number of customers, drawn as a line when known.

    Examples
    --------
    >>> sweep = pd.DataFrame({"linked_pairs": [10, 8], "customers": [90, 92], "pairwise_precision": [0.9, 1.0],
    ...                       "pairwise_recall": [1.0, 0.8], "pairwise_f1": [0.95, 0.89], "bcubed_f1": [0.97, 0.93]},
    ...                      index=pd.Index([0.5, 0.9], name="threshold"))
    >>> LinkageExplorer(sweep).defaults()
    {'threshold': 0.5}
    """

    title = "Linkage threshold explorer"
    _needed = ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1", "customers")

    def __init__(self, sweep: pd.DataFrame, *, chosen: float | None = None, n_true: int | None = None) -> None:
        from crm_models._validation import require_columns

        require_columns(sweep, list(self._needed), what="sweep")
        if len(sweep) == 0:
            raise ValueError("sweep has no threshold")
        self.sweep = sweep.sort_index()
        self.chosen = float(self.sweep["pairwise_f1"].idxmax() if chosen is None else chosen)
        self.n_true = n_true

    def controls(self) -> list[Slider]:
        options = tuple(float(t) for t in self.sweep.index)
        nearest = options[int(np.argmin(np.abs(np.asarray(options) - self.chosen)))]
        return [Slider("threshold", nearest, options=options, description="match probability threshold")]

    def numbers(self, **state) -> pd.Series:
        th = self._state(state)["threshold"]
        row = self.sweep.loc[th].astype(float)
        row["threshold"] = th
        if self.n_true is not None:
            row["true_customers"] = float(self.n_true)
        return row

    def figure(self, **state):
        from crm_models.identify import plot_threshold_sweep

        th = self._state(state)["threshold"]
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
        plot_threshold_sweep(self.sweep, ax=left, chosen=th)
        left.set_ylabel("score (0-1)")
        x = self.sweep.index.to_numpy(dtype=float)
        right.plot(x, self.sweep["customers"].to_numpy(), "-o", color="#1f77b4", label="customers found")
        if self.n_true is not None:
            right.axhline(self.n_true, color="black", ls="--", lw=1, label="real people (truth)")
        right.axvline(th, color="grey", ls=":", lw=1)
        right.set_xscale("logit")
        right.set_xlabel("match probability threshold")
        right.set_ylabel("customers (resolved identities)")
        right.set_title(f"At {th:g}: precision {self.sweep.loc[th, 'pairwise_precision']:.3f}, "
                        f"recall {self.sweep.loc[th, 'pairwise_recall']:.3f}")
        right.legend(loc="best")
        fig.tight_layout()
        return fig


# -------------------------------------------------------------------------- retention budget
@_inherit_docs
class RetentionBudgetExplorer(Explorer):
    """A retention budget against the value it creates: expected by the plan, and true when known.

    Every budget is planned with :func:`crm_models.customize.target_retention` (greedy by
    expected incremental value per dollar).

    Parameters
    ----------
    scores : pandas.DataFrame
        Per-customer scores indexed by customer id, as :func:`~crm_models.customize.target_retention`
        reads them.
    uplift : float or str
        As in :func:`~crm_models.customize.target_retention` (0-1, or a column).
    cost : float or str
        Cost of one contact (USD, or a column).
    value : str, optional
        Column holding the value at stake (USD); default the value at risk.
    true_value : str, optional
        Column of ``scores`` holding the true incremental value of contacting each customer (USD),
        where a simulation knows it.
    max_budget : float, optional
        Right end of the budget range (USD; default what contacting every candidate costs).
    budget : float, optional
        The starting budget (USD; default a quarter of ``max_budget``).
    require_profit : bool
        As in :func:`~crm_models.customize.target_retention`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> scores = pd.DataFrame({"clv": [100.0, 300.0, 50.0], "p_alive": [0.5, 0.5, 0.5]}, index=["a", "b", "c"])
    >>> ex = RetentionBudgetExplorer(scores, uplift=0.2, cost=2.0, budget=2.0)
    >>> ex.numbers()[["contacts", "expected_value_created"]].tolist()
    [1.0, 30.0]
    """

    title = "Retention budget explorer"

    def __init__(self, scores: pd.DataFrame, *, uplift: float | str = 0.15, cost: float | str = 2.0,
                 value: str | None = None, true_value: str | None = None, max_budget: float | None = None,
                 budget: float | None = None, require_profit: bool = True) -> None:
        from crm_models._validation import parse_amounts, require_columns
        from crm_models.customize import target_retention

        self.scores = scores
        self.kwargs = {"uplift": uplift, "cost": cost, "value": value, "require_profit": require_profit}
        if max_budget is None:
            max_budget = float(target_retention(scores, budget=0.0, **self.kwargs).candidates["cost"].sum())
        self.max_budget = float(max_budget)
        if not np.isfinite(self.max_budget) or self.max_budget <= 0:
            raise ValueError(f"max_budget must be a positive number of USD (is there any candidate?), got {max_budget!r}")
        self.budget = float(self.max_budget / 4 if budget is None else budget)
        self.true_value = None
        if true_value is not None:
            require_columns(scores, [true_value], what="scores")
            self.true_value = parse_amounts(scores, true_value, what="scores", allow_negative=True)
        self.grid = np.linspace(0.0, self.max_budget, 41)
        self._curve = pd.DataFrame([self._plan_numbers(b) for b in self.grid])

    def _plan_numbers(self, budget: float) -> dict:
        from crm_models.customize import target_retention

        plan = target_retention(self.scores, budget=budget, **self.kwargs)
        out = {"budget": float(budget), "contacts": float(plan.n_targeted), "spent": plan.spent,
               "expected_value_created": plan.expected_incremental_value,
               "expected_net_value": plan.expected_net_value}
        if self.true_value is not None:
            true = float(self.true_value.loc[plan.targeted.index].sum())
            out["true_value_created"] = true
            out["true_net_value"] = true - plan.spent
        return out

    def controls(self) -> list[Slider]:
        return [Slider("budget", self.budget, 0.0, self.max_budget, description="budget (USD)")]

    def numbers(self, **state) -> pd.Series:
        return pd.Series(self._plan_numbers(self._state(state)["budget"]), name="value")

    def figure(self, **state):
        budget = self._state(state)["budget"]
        now = self.numbers(budget=budget)
        fig, ax = plt.subplots(figsize=(8, 4.5))
        c = self._curve
        ax.plot(c["spent"], c["expected_value_created"], color="#1f77b4", label="value created, expected by the plan")
        if "true_value_created" in c:
            ax.plot(c["spent"], c["true_value_created"], color="#2ca02c", label="value created, true")
        top = float(c["spent"].max())
        ax.plot([0, top], [0, top], color="grey", ls="--", lw=1, label="break-even (value = money spent)")
        ax.axvline(now["spent"], color="black", ls=":", lw=1)
        ax.plot([now["spent"]], [now["expected_value_created"]], "o", color="#1f77b4")
        ax.set_xlabel("money spent on retention contacts (USD)")
        ax.set_ylabel("incremental value created (USD)")
        ax.set_title(f"Budget {budget:,.0f} USD: {now['contacts']:,.0f} contacts, expected net value "
                     f"{now['expected_net_value']:,.0f} USD")
        ax.legend(loc="best")
        fig.tight_layout()
        return fig

"""Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value Curves
for Customer Base Analysis", *Journal of Marketing Research* 42(4), 415-430; and Fader, P. S.
and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value"
(http://brucehardie.com/notes/025/), referred to as FH13.

Story: a customer's transaction values z_1, ..., z_x are gamma(p, nu) (shape p, rate nu), so
their mean spend is p/nu; across customers nu ~ gamma(q, gamma) (shape q, rate gamma). The
average of x transactions, m_x, is gamma(p x, nu x), and integrating nu out gives the density of m_x (its log is FH13 eq. 1a)

    f(m_x | p, q, gamma, x) = G(p x + q) / (G(p x) G(q)) * gamma^q m_x^(p x - 1) x^(p x)
                              / (gamma + m_x x)^(p x + q).

``gamma`` here is lifetimes' ``v``: both are the rate of the gamma distribution of nu. On the
946 CDNOW repeaters FH13 report p = 6.25, q = 3.74, gamma = 15.44 and log-likelihood
-4055.9 (the log-density of the mean spends above).

Only customers with at least one repeat purchase carry information on spend (``frequency``
> 0; their ``monetary_value`` is the mean of the repeat purchases, as ``rfm_summary`` gives
it); the fit uses them, and predictions for customers without repeat purchases are the
population mean.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from crm_models._validation import fail_rows, require_columns
from crm_models.clv._covariate_models import GammaGammaCovariates
from crm_models.clv._covariates import CovariateMixin
from crm_models.clv.base import BaseModel, _as_float_array, _require_rows, compress
from crm_models.errors import DataError


class GammaGamma(CovariateMixin, BaseModel):
    """Gamma-Gamma model of average spend per transaction (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col : str
        Column of repeat purchases.
    monetary_value_col : str
        Column of the mean spend per repeat purchase (currency units), as
        :func:`crm_models.rfm_summary` writes it.
    spend_covariates : list of str, optional
        Columns of per-customer covariates z that move the spend scale:
        ``gamma_i = gamma exp(g' z_i)``, so a customer's expected spend, and the population mean
        ``p gamma_i / (q - 1)``, are multiplied by ``exp(g' z_i)`` (a positive coefficient: more
        spend). Read from the data by ``fit`` and every prediction.
    covariate_penalizer : float
        L2 penalty on the coefficients (per customer, as ``penalizer``; 0 = none).

    Attributes
    ----------
    params_ : pandas.Series
        ``p`` (shape of a customer's transaction values), ``q`` and ``gamma`` (shape and rate of
        the heterogeneity in the transaction-value rate nu; ``gamma`` in currency units).

    Notes
    -----
    On the 946 CDNOW repeaters FH13 report p = 6.25, q = 3.74, gamma = 15.44 and
    log-likelihood -4055.9.

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> model = GammaGamma().fit(rfm)
    >>> model.params_.round(2).to_dict(), round(model.log_likelihood_, 1)
    ({'p': 6.25, 'q': 3.74, 'gamma': 15.44}, -4055.9)
    >>> model.expected_spend(rfm.head(3)).round(2).tolist()    # USD per transaction
    [24.65, 35.17, 18.91]
    """

    _title = "Gamma-Gamma spend model (Fader, Hardie & Lee 2005; Fader & Hardie 2013)"
    _param_names = ("p", "q", "gamma")
    _predictions = ("expected_spend", "expected_spend_new_customer")
    _covariate_family = GammaGammaCovariates()

    def __init__(
        self,
        penalizer: float = 0.0,
        frequency_col: str = "frequency",
        monetary_value_col: str = "monetary_value",
        spend_covariates: list[str] | None = None,
        covariate_penalizer: float = 0.0,
    ):
        self.penalizer = penalizer
        self.frequency_col = frequency_col
        self.monetary_value_col = monetary_value_col
        self.spend_covariates = spend_covariates
        self.covariate_penalizer = covariate_penalizer

    def _validate(self, data: pd.DataFrame, what: str = "data"):
        f, mcol = self.frequency_col, self.monetary_value_col
        require_columns(data, [f, mcol], what=what)
        _require_rows(data, what)
        x = _as_float_array(data, f, what)
        m = _as_float_array(data, mcol, what)
        fail_rows(data, x < 0, f, "must not be negative (it counts repeat purchases)", what=what)
        fail_rows(data, x != np.floor(x), f, "must be a whole number of repeat purchases", what=what)
        fail_rows(
            data,
            (x > 0) & (m <= 0),
            mcol,
            f"must be positive for customers with '{f}' > 0 (it is their mean spend per repeat purchase)",
            what=what,
            hint="Remove returns or zero-value transactions before building the summary.",
        )
        return x, m

    def fit(
        self,
        data: pd.DataFrame,
        *,
        weights_col: str | None = None,
        initial_params: Mapping[str, float] | None = None,
    ) -> GammaGamma:
        """Fit by maximum likelihood to the customers with ``frequency`` > 0.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer with ``frequency_col`` (repeat purchases) and
            ``monetary_value_col`` (mean value of the repeat purchases, currency units), as
            from :func:`crm_models.rfm_summary`. Rows with frequency 0 carry no spend
            information and are not used.
        weights_col : str, optional
            Column with the number of customers each row stands for (aggregated data, e.g.
            the unique rows of a summary with their counts).
        initial_params : mapping, optional
            Starting values keyed by ``p``, ``q``, ``gamma``.

        Returns
        -------
        self

        Examples
        --------
        >>> from crm_models.clv import simulate_beta_geo, simulate_gamma_gamma
        >>> x = simulate_beta_geo(5000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)["frequency"]
        >>> data = x.to_frame().assign(monetary_value=simulate_gamma_gamma(x, {"p": 6, "q": 4, "gamma": 15}))
        >>> GammaGamma().fit(data).n_obs_ == int((x > 0).sum())
        True
        >>> counted = data.value_counts().rename("n").reset_index()    # unique rows with their counts
        >>> bool(np.allclose(GammaGamma().fit(counted, weights_col="n").params_, GammaGamma().fit(data).params_))
        True
        """
        if self._start_covariate_fit() is not None:  # covariate columns read from data too
            return self._covariate_family.fit(self, data, initial_params)
        x, m = self._validate(data)
        weights = None
        if weights_col is not None:
            require_columns(data, [weights_col])
            weights = _as_float_array(data, weights_col, "data")
            fail_rows(data, weights < 0, weights_col, "must not be negative (customer counts)")
        rep = (x > 0) if weights is None else (x > 0) & (weights > 0)
        if not rep.any():
            raise DataError(
                self.frequency_col,
                "has no customer with a value > 0: the spend model needs repeat purchases",
                message=f"data has no customer with '{self.frequency_col}' > 0: the spend model needs repeat purchases",
            )
        unique, counts, _ = compress({"x": x[rep], "m": m[rep]}, None if weights is None else weights[rep])
        arrays = {"x": unique["x"], "m": unique["m"]}
        return self._fit_prepared(arrays, counts, float(counts.sum()), initial_params)

    def _initial_params(self, arrays, weights):
        mbar = float((weights * arrays["m"]).sum() / weights.sum())
        return np.array([1.0, 2.0, mbar])

    def _neg_log_likelihood(self, log_params, arrays, weights):
        """-sum w log f(m_x | p, q, gamma, x) (FH13 eq. 1a) and its gradient in log-parameters."""
        p, q, g = np.exp(log_params)
        x, m = arrays["x"], arrays["m"]
        px = p * x
        lxm = np.log(x * m + g)
        lm, lx = np.log(m), np.log(x)
        ll = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * lm + px * lx - (px + q) * lxm
        dpq = digamma(px + q)
        d_p = x * (dpq - digamma(px) + lm + lx - lxm)
        d_q = dpq - digamma(q) + np.log(g) - lxm
        d_g = q / g - (px + q) / (x * m + g)
        grad = np.array([(weights * d_p).sum(), (weights * d_q).sum(), (weights * d_g).sum()])
        return -(weights * ll).sum(), -grad * np.array([p, q, g])

    @staticmethod
    def _spend(prm, x, m):
        """E[M | p, q, gamma, m_x, x] = (gamma + m_x x) p / (p x + q - 1) (FH13 eq. 5).

        A weighted average of the population mean p gamma / (q - 1) and the customer's mean m_x.
        """
        p, q, g = prm["p"], prm["q"], prm["gamma"]
        return (g + m * x) * p / (p * x + q - 1)

    def expected_spend(self, data: pd.DataFrame) -> pd.Series:
        """Conditional expected average spend per transaction, per customer (FH13 eq. 5).

        Customers without repeat purchases get the population mean ``p gamma / (q - 1)``.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer with ``frequency_col`` and ``monetary_value_col``.

        Returns
        -------
        pandas.Series
            ``expected_spend`` (currency units per transaction) indexed like ``data``.

        Examples
        --------
        >>> from crm_models.clv import simulate_beta_geo, simulate_gamma_gamma
        >>> x = simulate_beta_geo(3000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0)["frequency"]
        >>> data = x.to_frame().assign(monetary_value=simulate_gamma_gamma(x, {"p": 6, "q": 4, "gamma": 15}))
        >>> spend = GammaGamma().fit(data).expected_spend(data)
        >>> spend.name, spend.index.equals(data.index)
        ('expected_spend', True)
        """
        self._check_fitted()
        x, m = self._validate(data)
        m = np.where(x > 0, m, 0.0)
        if (x == 0).any() and self.params_["q"] <= 1:
            raise ValueError(
                f"q = {self.params_['q']:.3f} <= 1, so the population mean spend is infinite and customers "
                "without repeat purchases have no finite expected spend"
            )
        prm = self.params_
        if self._uses_covariates():  # per-customer gamma
            prm = self._row_params(self.params_.to_dict(), self._covariate_rows(data))
        return pd.Series(self._spend(prm, x, m), index=data.index, name="expected_spend")

    def expected_spend_new_customer(self, covariates=None) -> float:
        """Population mean spend per transaction, ``p gamma / (q - 1)`` (FH13 eq. 4).

        Parameters
        ----------
        covariates : mapping, optional
            The new customer's value of every spend covariate (required when the model was
            fitted with covariates; ``gamma`` is then the customer's ``gamma_i``).

        Returns
        -------
        float
            Currency units per transaction; infinite when q <= 1.

        Examples
        --------
        >>> from crm_models import rfm_summary
        >>> from crm_models.datasets import load_cdnow
        >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
        >>> round(GammaGamma().fit(rfm).expected_spend_new_customer(), 2)
        35.17
        """
        self._check_fitted()
        prm = self.params_.to_dict()
        if self._uses_covariates():
            prm = self._profile_params(covariates)
        else:
            self._no_profile(covariates)
        p, q, g = prm["p"], prm["q"], prm["gamma"]
        return float(p * g / (q - 1)) if q > 1 else float("inf")

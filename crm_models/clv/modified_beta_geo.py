"""MBG/NBD: the modified BG/NBD of Batislam, Denizel & Filiztekin (2007).

Batislam, E. P., Denizel, M. and Filiztekin, A. (2007), "Empirical validation and comparison
of models for customer base analysis", *International Journal of Research in Marketing*
24(3), 201-209.

Same story as BG/NBD (:mod:`crm_models.clv.beta_geo`) except that a customer may also drop
out right after the *first* purchase (at time 0), so a customer with no repeat purchase is no
longer certainly alive. In the formulas the beta-function arguments shift by one
(``m = 1``): the likelihood is

    L = B(a, b+x+1)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + B(a+1, b+x)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)),

P(alive | x, t_x, T) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)), and the conditional
expectation is eq. (10) of FHL (2005) with b+x replaced by b+x+1 and a+b+x-1 by a+b+x.
"""

from __future__ import annotations

from crm_models.clv._covariate_models import BetaGeoCovariates
from crm_models.clv.beta_geo import _BetaGeoFamily


class ModifiedBetaGeo(_BetaGeoFamily):
    """MBG/NBD model (Batislam et al. 2007): BG/NBD with possible drop-out at the first purchase.

    Parameters
    ----------
    penalizer : float
        L2 penalty on the log-parameters (0 = plain maximum likelihood).
    frequency_col, recency_col, T_col : str
        Column names of the customer summary (times in the data's time unit, e.g. weeks).
    purchase_covariates : list of str, optional
        Columns z acting on the purchase process, ``alpha_i = alpha exp(-g' z_i)`` (mean
        purchase rate times ``exp(g' z_i)``), as in :class:`~crm_models.clv.BetaGeo`.
    dropout_covariates : list of str, optional
        Columns z acting on the dropout process, ``a_i = a exp(g' z_i)``,
        ``b_i = b exp(g' z_i)`` (a positive coefficient: more dropout), as in
        :class:`~crm_models.clv.BetaGeo`.
    shared_covariates : list of str, optional
        Columns with one coefficient acting on both processes as above (CLVTools' equality
        constraint ``names.cov.constr``); a column listed here is not listed in the other two.
    covariate_penalizer : float or dict
        L2 penalty on the coefficients, per customer as ``penalizer`` (CLVTools'
        ``reg.lambdas``): one number for all, or ``{"purchase": ..., "dropout": ...}``; a shared
        coefficient is penalised with the sum of the two.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b`` as in :class:`~crm_models.clv.BetaGeo`.
    coefficients_ : pandas.Series
        Only with covariates: one coefficient per ``process.column``.

    Notes
    -----
    On the CDNOW sample in weeks lifetimes and BTYDplus give r = 0.525, alpha = 6.183,
    a = 0.891, b = 1.614.

    Examples
    --------
    >>> from crm_models import rfm_summary
    >>> from crm_models.datasets import load_cdnow
    >>> rfm = rfm_summary(load_cdnow(), observation_period_end="1997-09-30", after_end="drop")
    >>> ModifiedBetaGeo().fit(rfm).params_.round(3).to_dict()
    {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
    """

    _title = "MBG/NBD (Batislam, Denizel & Filiztekin 2007)"
    _m = 1
    _covariate_family = BetaGeoCovariates(m=1)

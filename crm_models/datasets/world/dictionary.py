"""The data dictionary of the simulated company: every table and column, its kind, unit and meaning.

The dates the meanings call ``start``, ``end`` and ``holdout_end`` are the arguments ``start``,
``observation_period_end`` and ``holdout_period_end`` of
:func:`~crm_models.datasets.make_crm_world`.
"""

from __future__ import annotations

import pandas as pd

#: Internal steps of :func:`crm_models.datasets.make_crm_world`; nothing here is public API.
__all__: list[str] = []

# (table, column, kind, unit, meaning); kind is "observed" (what the company's systems hold) or
# "truth" (known only because the world is simulated).
_ROWS: list[tuple[str, str, str, str, str]] = [
    # people
    ("people", "person_id", "truth", "", "the real person, 'P000001'..; numbered by acquisition time"),
    ("people", "first_name", "truth", "", "true first name (Faker en_US name frequencies)"),
    ("people", "last_name", "truth", "", "true last name"),
    ("people", "email", "truth", "", "main email address (a few household members share one)"),
    ("people", "phone", "truth", "", "phone number in E.164, e.g. '+12125550123' (some household members share one)"),
    ("people", "date_of_birth", "truth", "date", "true date of birth"),
    ("people", "street", "truth", "", "current street address (at `end`), shared within a household"),
    ("people", "city", "truth", "", "current city"),
    ("people", "postcode", "truth", "", "current 5-digit ZIP code (string, keeps leading zeros)"),
    ("people", "acquisition_date", "truth", "timestamp", "first purchase, the start of the relationship (BG/NBD time 0)"),
    ("people", "acquisition_channel", "truth", "", "source system of the first purchase and first record"),
    ("people", "acquired_on_promotion", "truth", "", "the first purchase was on promotion (observable: its discount > 0); shifts purchase rate, dropout and spend (truth_effects)"),
    ("people", "age_band", "truth", "", "age at `start`: under_35, 35_to_54 or 55_plus (observable from the date of birth); shifts purchase rate, dropout and spend (truth_effects)"),
    ("people", "needs_segment", "truth", "", "true needs segment, drives every trait below (with the attributes above)"),
    ("people", "purchase_rate", "truth", "purchases per week", "BG/NBD lambda: Poisson purchase rate while alive"),
    ("people", "dropout_prob", "truth", "probability", "BG/NBD p: probability of dropping out after each repeat purchase"),
    ("people", "spend_level", "truth", "USD", "mean amount per purchase (gamma-gamma p / nu)"),
    ("people", "spend_shape", "truth", "", "gamma-gamma p: shape of the amount distribution (segment value)"),
    ("people", "preferred_category", "truth", "", "product category bought most often"),
    ("people", "price_sensitivity", "truth", "0-1", "price sensitivity (higher = more deal-driven)"),
    ("people", "preferred_channel", "truth", "", "channel with the highest personal weight"),
    ("people", "satisfaction_propensity", "truth", "z-score", "latent satisfaction, higher for low dropout_prob; drives surveys and complaints"),
    ("people", "campaign_response_prob", "truth", "probability", "P(extra purchase within the response window | sent a retention campaign while alive): segment campaign_uplift * (spend_level / segment median spend level) ** value_elasticity"),
    ("people", "dropout_date", "truth", "timestamp", "when the person silently stopped being a customer; NaT if alive at `end`"),
    ("people", "household_id", "truth", "", "household, 'H' + the host person's number; shared address"),
    ("people", "n_systems", "truth", "count", "number of distinct source systems holding an account (1-4)"),
    ("people", "has_duplicate_account", "truth", "", "whether the person opened a second account in one system"),
    ("people", "moved_at", "truth", "timestamp", "when the person moved house; NaT if never"),
    ("people", "previous_street", "truth", "", "address before the move (empty if never moved)"),
    ("people", "previous_city", "truth", "", "city before the move"),
    ("people", "previous_postcode", "truth", "", "ZIP code before the move"),
    # records
    ("records", "record_id", "observed", "", "record key, unique across sources: WEB-, STR-, CC-, ML- + 6 digits, numbered by creation within a source"),
    ("records", "source", "observed", "", "source system: web (web shop account), store (loyalty card), call_centre (contact), mail (direct-mail responder)"),
    ("records", "first_name", "observed", "", "as entered: nicknames, initials, typos, swapped or combined with the last name; UPPER CASE in store"),
    ("records", "last_name", "observed", "", "as entered: typos, swapped, or 'Last, First' combined; empty when the full name sits in first_name"),
    ("records", "email", "observed", "", "email (second web accounts use another address); often empty outside web"),
    ("records", "phone", "observed", "", "phone as formatted by the source: web E.164, store national '(212) 555-0123', call_centre international '+1 212-555-0123', mail digits"),
    ("records", "date_of_birth", "observed", "", "string in the source's format: web %Y-%m-%d, store %d.%m.%Y, call_centre %m/%d/%Y, mail '%d %b %Y'"),
    ("records", "street", "observed", "", "street address at record creation (old address if the person moved later); store abbreviates suffixes, mail in UPPER CASE"),
    ("records", "city", "observed", "", "city (UPPER CASE in mail)"),
    ("records", "postcode", "observed", "", "5-digit ZIP code as a string"),
    ("records", "created_at", "observed", "timestamp", "when the record was opened"),
    # record_truth
    ("record_truth", "record_id", "truth", "", "record key"),
    ("record_truth", "person_id", "truth", "", "the person the record belongs to"),
    ("record_truth", "source", "truth", "", "source system (as in records)"),
    ("record_truth", "is_duplicate_account", "truth", "", "the person's second account in this system"),
    ("record_truth", "first_name_variant", "truth", "", "none, nickname, initial or typo"),
    ("record_truth", "last_name_typo", "truth", "", "last name carries one typo"),
    ("record_truth", "name_layout", "truth", "", "normal, swapped (first and last exchanged), combined_first ('First Last' in first_name) or combined_last ('Last, First' in last_name)"),
    ("record_truth", "email_typo", "truth", "", "email local part carries one typo"),
    ("record_truth", "alternative_email", "truth", "", "second web account registered with another email"),
    ("record_truth", "phone_typo", "truth", "", "one digit of the phone number is wrong"),
    ("record_truth", "dob_error", "truth", "", "date of birth off by one day or day and month swapped"),
    ("record_truth", "old_address", "truth", "", "record holds the address from before a move"),
    ("record_truth", "street_typo", "truth", "", "street carries one typo"),
    ("record_truth", "postcode_typo", "truth", "", "last two ZIP digits swapped (or last digit changed)"),
    # transactions
    ("transactions", "transaction_id", "observed", "", "'T' + 8 digits, in time order"),
    ("transactions", "record_id", "observed", "", "the source account that made the purchase"),
    ("transactions", "timestamp", "observed", "timestamp", "time of purchase (to the second), in [start, end]"),
    ("transactions", "channel", "observed", "", "web, store, call_centre or mail (the record's source)"),
    ("transactions", "category", "observed", "", "product category"),
    ("transactions", "amount", "observed", "USD", "amount paid, in cents precision"),
    ("transactions", "discount", "observed", "fraction", "promotion depth off the list price (0 = full price); price-sensitive customers buy on promotion more often; campaign purchases carry the campaign discount"),
    # interactions
    ("interactions", "interaction_id", "observed", "", "'I' + 8 digits, in time order"),
    ("interactions", "record_id", "observed", "", "the source account involved"),
    ("interactions", "timestamp", "observed", "timestamp", "time of the touchpoint, in [start, end]"),
    ("interactions", "type", "observed", "", "web_visit, call, email_open, mail_response or survey"),
    ("interactions", "reason", "observed", "", "for calls: inquiry, complaint or order (one per call-centre purchase); empty otherwise"),
    ("interactions", "satisfaction", "observed", "1-5", "survey answer: satisfaction; empty for other types"),
    ("interactions", "nps", "observed", "0-10", "survey answer: likelihood to recommend; empty for other types"),
    ("interactions", "channel", "observed", "", "web, call_centre, email or mail"),
    # campaign
    ("campaign", "person_id", "truth", "", "the person randomised (randomisation is per person)"),
    ("campaign", "record_id", "observed", "", "the record the campaign was sent to (the person's newest record at sending)"),
    ("campaign", "group", "observed", "", "treatment (contacted) or control (held out), assigned at random"),
    ("campaign", "sent_at", "observed", "timestamp", "when the campaign went out"),
    ("campaign", "cost", "observed", "USD", "contact cost (0 for control)"),
    ("campaign", "responded", "observed", "", "the person bought anything within the response window after sent_at"),
    ("campaign", "revenue_after", "observed", "USD", "the person's spend within the response window after sent_at (all their records)"),
    ("campaign", "needs_segment", "truth", "", "true needs segment"),
    ("campaign", "alive_at_sent", "truth", "", "the person had not dropped out when the campaign was sent"),
    ("campaign", "true_uplift", "truth", "probability", "P(responded | treatment) - P(responded | control) for this person"),
    ("campaign", "true_revenue_uplift", "truth", "USD", "expected extra revenue in the window caused by treatment"),
    ("campaign", "induced_transaction_id", "truth", "", "the extra purchase the campaign caused (in transactions), empty if none"),
    # future
    ("future", "person_id", "truth", "", "person"),
    ("future", "alive_at_end", "truth", "", "not dropped out at `end`"),
    ("future", "alive_at_holdout_end", "truth", "", "not dropped out at `holdout_end`"),
    ("future", "dropout_date", "truth", "timestamp", "dropout time if before `holdout_end` (also those before `end`), else NaT"),
    ("future", "n_purchases", "truth", "count", "purchases in (end, holdout_end]"),
    ("future", "spend", "truth", "USD", "spend in (end, holdout_end]"),
    ("future", "expected_purchases", "truth", "count", "expected purchases in the holdout given the person's true traits and state at `end`: alive * (1 - exp(-lambda p t)) / p"),
    ("future", "expected_spend", "truth", "USD", "expected_purchases * spend_level"),
    ("future", "treatment_extra_purchase_prob", "truth", "probability", "if a campaign like the past one were sent at `end`: the probability it causes an extra purchase (alive_at_end * campaign_response_prob)"),
    ("future", "treatment_extra_revenue", "truth", "USD", "expected extra revenue such a campaign would cause (after its discount)"),
    # future_transactions
    ("future_transactions", "transaction_id", "truth", "", "'F' + 8 digits, in time order"),
    ("future_transactions", "record_id", "truth", "", "the source account that made the purchase"),
    ("future_transactions", "timestamp", "truth", "timestamp", "time of purchase, in (end, holdout_end]"),
    ("future_transactions", "channel", "truth", "", "as in transactions"),
    ("future_transactions", "category", "truth", "", "as in transactions"),
    ("future_transactions", "amount", "truth", "USD", "as in transactions"),
    ("future_transactions", "discount", "truth", "fraction", "as in transactions"),
    # truth_params
    ("truth_params", "needs_segment", "truth", "", "segment (index); the parameters are those of the reference customer (not acquired on promotion, aged 35 to 54)"),
    ("truth_params", "share", "truth", "fraction", "share of people in the segment"),
    ("truth_params", "r", "truth", "", "BG/NBD r: shape of the purchase-rate gamma"),
    ("truth_params", "alpha", "truth", "weeks", "BG/NBD alpha: rate (inverse scale) of the purchase-rate gamma"),
    ("truth_params", "a", "truth", "", "BG/NBD a of the dropout-probability beta"),
    ("truth_params", "b", "truth", "", "BG/NBD b of the dropout-probability beta"),
    ("truth_params", "p", "truth", "", "gamma-gamma p: shape of each amount"),
    ("truth_params", "q", "truth", "", "gamma-gamma q: shape of the nu gamma"),
    ("truth_params", "v", "truth", "USD", "gamma-gamma v: rate of the nu gamma"),
    ("truth_params", "mean_purchase_rate", "truth", "purchases per week", "r / alpha"),
    ("truth_params", "mean_dropout_prob", "truth", "probability", "a / (a + b)"),
    ("truth_params", "mean_spend", "truth", "USD", "p v / (q - 1), population mean amount"),
    ("truth_params", "campaign_uplift", "truth", "probability", "extra-purchase probability of a treated, alive customer at the segment's median spend level"),
    ("truth_params", "median_spend_level", "truth", "USD", "population median of the spend level p / nu: p v / median(Gamma(q, 1))"),
    # truth_effects
    ("truth_effects", "attribute", "truth", "", "0/1 indicator of an observable attribute (index): acquired_on_promotion, age_under_35, age_55_plus"),
    ("truth_effects", "purchase", "truth", "log-multiplier", "g in lambda ~ Gamma(r, alpha exp(-g z)): the mean purchase rate is exp(g) times that of the reference customer"),
    ("truth_effects", "dropout", "truth", "log-multiplier", "g in p ~ Beta(a exp(g z), b exp(g z)): both beta parameters times exp(g); g > 0 leaves the mean dropout probability but removes long-lived customers"),
    ("truth_effects", "spend", "truth", "log-multiplier", "g in nu ~ Gamma(q, v exp(g z)): the mean amount per purchase is exp(g) times that of the reference customer"),
    ("truth_effects", "reference", "truth", "", "the level the attribute is compared with"),
]


def data_dictionary() -> pd.DataFrame:
    """Every column of every table of a :class:`~crm_models.datasets.CRMWorld`.

    Returns
    -------
    pandas.DataFrame
        Columns ``table``, ``column``, ``kind`` (``observed``: what the company's systems hold;
        ``truth``: known only because the world is simulated), ``unit`` (e.g. ``USD``,
        ``purchases per week``, ``0-1``; empty when none) and ``meaning``, all strings.

    Examples
    --------
    >>> dd = data_dictionary()
    >>> dd.loc[(dd["table"] == "transactions") & (dd["column"] == "amount"), ["kind", "unit"]].values.tolist()
    [['observed', 'USD']]
    """
    return pd.DataFrame(_ROWS, columns=["table", "column", "kind", "unit", "meaning"]).astype("str")

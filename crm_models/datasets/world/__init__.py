"""A simulated company with ground truth: customers, their silo records, purchases and touchpoints.

:func:`make_crm_world` simulates a retailer selling through four channels (web shop, stores with
loyalty cards, a call centre and direct mail). Each channel keeps its own customer table
without a shared key, so one person appears as several differently spelled records: the
"silo problem". Because the world is simulated, the truth is known and kept apart from the
observed tables: who is who, each customer's purchase rate and dropout probability, their
future after the observation period and the true effect of a past retention campaign.
:func:`load_crm_world` loads the frozen default world shipped with the package (its README
in ``datasets/crm_world/`` tells the story in full).

The generative story, module by module:

:mod:`.config`
    the settings: needs segments with their BG/NBD and gamma-gamma parameters, the observable
    attributes (acquisition on promotion, age band) and their true effects on those parameters,
    corruption rates, source formats, the campaign (:func:`default_world_config`).
:mod:`.behaviour`
    people, their attributes and latent traits, BG/NBD purchases (Fader, Hardie & Lee 2005) with
    gamma-gamma spend, promotions, touchpoints, the randomised campaign and the true future.
:mod:`.identities`
    who people really are: names, dates of birth, addresses, phones, emails, households, moves.
:mod:`.records`
    the source systems' accounts and records, with their formats and corruption.
:mod:`.formats`
    the text tools of corruption: phone layouts, street abbreviations, nicknames, typos.
:mod:`.generate`
    :func:`make_crm_world`: the steps above in the order of their random draws.
:mod:`.container`, :mod:`.storage`, :mod:`.dictionary`
    the :class:`CRMWorld` object, its CSV files, and the documentation of every column.

Examples
--------
>>> world = make_crm_world(n_customers=50)
>>> world.people["person_id"].head(2).tolist()
['P000001', 'P000002']
"""

from crm_models.datasets.world.config import CATEGORIES, SOURCES, default_world_config
from crm_models.datasets.world.container import CRMWorld
from crm_models.datasets.world.formats import nickname_table
from crm_models.datasets.world.generate import make_crm_world
from crm_models.datasets.world.storage import FROZEN_RANDOM_STATE, load_crm_world, save_crm_world

__all__ = [
    "CRMWorld",
    "make_crm_world",
    "load_crm_world",
    "save_crm_world",
    "default_world_config",
    "nickname_table",
    "FROZEN_RANDOM_STATE",
    "SOURCES",
    "CATEGORIES",
]

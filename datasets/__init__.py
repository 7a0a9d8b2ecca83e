"""Data files shipped with crm_models (installed as the package ``crm_models._data``)."""

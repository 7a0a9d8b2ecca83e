"""Package layout that pyproject.toml alone cannot express.

The top-level ``datasets/`` folder (data files plus their READMEs) is shipped inside the
wheel as the package ``crm_models._data``, so ``crm_models.datasets`` loaders work from an
installed wheel exactly as from a checkout, without a second copy of the data.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["crm_models", "crm_models.*"]) + ["crm_models._data"],
    package_dir={"crm_models._data": "datasets"},
)

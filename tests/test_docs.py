"""The documentation site builds with no warning, covers the package and the course, and works offline.

The build is the README's command (``python -m sphinx -W --keep-going -b html docs ...``) into a
temporary folder, so a broken docstring, a notebook that no longer renders, a dangling link or a
remote script fails the test suite.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import crm_docs  # noqa: E402  (docs/_ext/crm_docs.py)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DATASETS = sorted(p.parent.name for p in (ROOT / "datasets").glob("*/README.md"))
MODEL_PAGES = sorted(p.stem for p in (DOCS / "models").glob("*.md") if p.stem != "index")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    html = out / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(out / "doctrees"), str(DOCS), str(html)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONWARNINGS="ignore::DeprecationWarning")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, f"sphinx failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr[-5000:]
    return html


def _page(site: Path, rel: str) -> str:
    path = site / rel
    assert path.is_file(), f"missing page {rel}"
    return path.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ the pages
def test_key_pages_exist(site):
    for rel in ["index.html", "course.html", "models/index.html", "api/index.html", "datasets.html",
                "benchmarks.html", "changelog.html", "contributing.html", "search.html", "genindex.html"]:
        _page(site, rel)
    for key, *_ in crm_docs_sections():
        _page(site, f"api/_sections/{key}.html")
    for stem in MODEL_PAGES:
        _page(site, f"models/{stem}.html")
    for name in DATASETS:
        title = (ROOT / "datasets" / name / "README.md").read_text(encoding="utf-8").splitlines()[0]
        title = re.sub(r"[#`*]", "", title).strip()
        assert title in _html_text(_strip_tags(_page(site, f"datasets/{name}/README.html")))


def test_landing_page_shows_the_idic_map_and_the_two_commands(site):
    text = _page(site, "index.html")
    for step in ["Identify", "Differentiate", "Interact", "Customize", "Measure"]:
        assert f"<strong>{step}</strong>" in text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(python3 -m venv[^\n]*)\n```", section)
    assert len(commands) == 2
    for command in commands:
        assert _html_text(command) in _html_text(_strip_tags(text))


def test_every_notebook_is_a_page_with_its_stored_outputs(site):
    assert NOTEBOOKS
    for nb in NOTEBOOKS:
        text = _page(site, f"notebooks/{nb.stem}.html")
        n_images = sum(1 for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
                       for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
        assert text.count("<img ") >= n_images
        assert nb.stem in _page(site, "course.html")


def test_every_public_callable_has_an_api_page(site):
    api = crm_docs.public_api("crm_models")
    assert len(api.objects) > 150
    missing = []
    for name, obj in api.objects.items():
        page = site / "api" / "generated" / f"{name}.html"
        if not page.is_file():
            missing.append(name)
            continue
        text = page.read_text(encoding="utf-8")
        if f'id="{name}"' not in text:
            missing.append(name)
        if obj.is_class:
            for mname, member in vars(obj.obj).items():
                func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
                if mname.startswith("_") or not (inspect.isfunction(func)):
                    continue
                if f'id="{name}.{mname}"' not in text:
                    missing.append(f"{name}.{mname}")
    assert not missing, "no API entry for: " + ", ".join(missing)


def test_inherited_methods_are_documented_on_the_model_pages(site):
    text = _page(site, "api/generated/crm_models.clv.ParetoNBD.html")
    for meth in ["fit", "expected_purchases", "probability_alive", "summary", "save", "load"]:
        assert f'id="crm_models.clv.ParetoNBD.{meth}"' in text
    # scikit-learn's own methods are left to scikit-learn's documentation
    assert 'id="crm_models.clv.ParetoNBD.get_params"' not in text


# ------------------------------------------------------------------------------ cross-references
def test_notebooks_link_to_the_api_and_the_api_back_to_the_notebooks(site):
    nb02 = _page(site, "notebooks/02_lifetime_value.html")
    assert "crm_models used in this notebook" in nb02
    assert "../api/generated/crm_models.clv.BetaGeo.html" in nb02
    assert "../api/generated/crm_models.clv.BetaGeo.html#crm_models.clv.BetaGeo.fit" in nb02
    bg = _page(site, "api/generated/crm_models.clv.BetaGeo.html")
    assert "../../notebooks/02_lifetime_value.html" in bg
    assert "../../models/bg_nbd.html" in bg
    resolver = _page(site, "api/generated/crm_models.identify.resolve_customers.html")
    assert "../../notebooks/01_identify_customers.html" in resolver


def test_every_link_of_every_page_resolves(site):
    broken = []
    for page in site.rglob("*.html"):
        for href in _LinkCollector.collect(page.read_text(encoding="utf-8"))["a"]:
            if re.match(r"^[a-z]+:", href) or href.startswith(("#", "//")):
                continue
            target = (page.parent / href.split("#")[0].split("?")[0]).resolve()
            if href.split("#")[0] and not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
    assert not broken, "\n".join(broken[:20])


# ------------------------------------------------------------------------------ offline
def test_no_page_loads_anything_from_the_network(site):
    remote = []
    for page in site.rglob("*.html"):
        tags = _LinkCollector.collect(page.read_text(encoding="utf-8"))
        for kind in ("script", "link", "img", "iframe", "source", "style-url"):
            for url in tags[kind]:
                if _is_remote(url):
                    remote.append(f"{page.relative_to(site)}: <{kind}> {url}")
    for css in site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)", css.read_text(encoding="utf-8")):
            url = url[0] or url[1]
            if _is_remote(url):
                remote.append(f"{css.relative_to(site)}: {url}")
    assert not remote, "\n".join(remote[:20])


def test_math_is_rendered_by_a_local_mathjax(site):
    text = _page(site, "models/bg_nbd.html")
    scripts = _LinkCollector.collect(text)["script"]
    mathjax = [s for s in scripts if "mathjax" in s.lower()]
    assert mathjax and all(not _is_remote(s) for s in mathjax), scripts
    for src in mathjax:
        assert (site / "models" / src.split("?")[0]).resolve().is_file()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert r"\tag{6}" in text and r"\tag{10}" in text  # the paper's equation numbers


# ------------------------------------------------------------------------------ model pages
def test_model_pages_quote_the_figures_the_tests_assert():
    """Every number in a model page's crm_models column is a literal of tests/test_clv_*.py."""
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_clv_*.py"))
    literals = {float(x) for x in re.findall(r"-?\d+\.\d+", tests)}
    checked = 0
    for stem in MODEL_PAGES:
        text = (DOCS / "models" / f"{stem}.md").read_text(encoding="utf-8")
        if "## Published figures reproduced" not in text:
            continue
        table = text.split("## Published figures reproduced", 1)[1]
        for row in re.findall(r"^\|(.+)\|\s*$", table, flags=re.M):
            cells = [c.strip() for c in row.split("|")]
            value = cells[-1].replace(",", "")
            if re.fullmatch(r"-?\d+\.\d+", value):
                assert float(value) in literals, f"models/{stem}.md quotes {cells[-1]}, which no test asserts"
                checked += 1
    assert checked >= 25


def test_every_model_class_has_a_model_page():
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    pages = dict(re.findall(r'"(crm_models\.clv\.\w+)": "(models/\w+)"', conf))
    for name in ["BetaGeo", "ParetoNBD", "ModifiedBetaGeo", "GammaGamma", "BetaGeoBetaBinom", "ShiftedBetaGeo"]:
        assert (DOCS / f"{pages[f'crm_models.clv.{name}']}.md").is_file()


# ------------------------------------------------------------------------------ the notebook scan
def test_the_scan_follows_imports_aliases_and_fitted_objects(tmp_path):
    cells = [
        "%matplotlib inline\nimport crm_models as cm\nfrom crm_models.clv import BetaGeo, GammaGamma\n"
        "from crm_models.clv import diagnostics as dg",
        "summary = cm.rfm_summary(log)\nbg = BetaGeo(penalizer=0.0).fit(summary)\ngg = GammaGamma()\n"
        "gg.fit(summary)",
        "bg.expected_purchases(summary, 10)\ndg.tracking_data(bg, log)\ncm.segment.RFMScorer()",
        "answer = ...  # an exercise scaffold\nimport numpy as np\nnp.mean([1])",
        "this is not python (",
    ]
    nb = {"cells": [{"cell_type": "code", "source": c, "outputs": [], "metadata": {}} for c in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "09_example.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    api = crm_docs.public_api("crm_models")
    used = crm_docs.scan_notebook(path, api, "crm_models")
    assert {"crm_models.rfm_summary", "crm_models.clv.BetaGeo", "crm_models.clv.BetaGeo.fit",
            "crm_models.clv.BetaGeo.expected_purchases", "crm_models.clv.GammaGamma",
            "crm_models.clv.diagnostics.tracking_data", "crm_models.segment.RFMScorer"} <= used
    # gg.fit(...) on a separate line: the variable holds the GammaGamma built above
    assert "crm_models.clv.GammaGamma.fit" in used
    assert not any(name.startswith("numpy") for name in used)


def test_every_public_module_has_a_section():
    api = crm_docs.public_api("crm_models")
    orphans = [m for m in api.modules if crm_docs._section_of(m, crm_docs_sections()) is None]
    assert not orphans, f"add these modules to crm_api_sections in docs/conf.py: {orphans}"


# ------------------------------------------------------------------------------ helpers
def crm_docs_sections():
    namespace: dict = {}
    source = (DOCS / "conf.py").read_text(encoding="utf-8")
    start = source.index("crm_api_sections = [")
    end = source.index("\n]\n", start) + 3
    exec(source[start:end], namespace)  # the literal list only, without importing Sphinx's config
    return namespace["crm_api_sections"]


def _is_remote(url: str) -> bool:
    return bool(re.match(r"^\s*(https?:)?//", url, flags=re.I))


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def _html_text(text: str) -> str:
    import html

    return re.sub(r"\s+", " ", html.unescape(text)).strip()


class _LinkCollector(HTMLParser):
    """URLs a page loads (scripts, stylesheets, images, frames, inline style urls) and links it offers."""

    def __init__(self):
        super().__init__()
        self.found = {k: [] for k in ("a", "script", "link", "img", "iframe", "source", "style-url")}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.found["a"].append(attrs["href"])
        elif tag in ("script", "img", "iframe", "source") and attrs.get("src"):
            self.found[tag].append(attrs["src"])
        elif tag == "link" and attrs.get("href") and attrs.get("rel") not in ("index", "search", "next", "prev",
                                                                              "canonical"):
            self.found["link"].append(attrs["href"])
        style = attrs.get("style") or ""
        self.found["style-url"] += re.findall(r"url\(\s*['\"]?([^'\")]+)", style)

    def handle_data(self, data):
        if self.lasttag == "style":
            self.found["style-url"] += re.findall(r"url\(\s*['\"]?([^'\")]+)|@import\s+['\"]([^'\"]+)", data)

    @classmethod
    def collect(cls, text: str) -> dict:
        parser = cls()
        parser.feed(text)
        found = parser.found
        found["style-url"] = [u if isinstance(u, str) else (u[0] or u[1]) for u in found["style-url"]]
        return found

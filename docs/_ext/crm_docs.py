"""Sphinx extension of the crm_models site: the API pages and the links between course and reference.

* The API reference is generated from the package itself: every public function and class
  (the same walk as ``tests/test_api_conventions.py``: each module's ``__all__``, or what a module
  without ``__all__`` defines) is documented once, under the shortest public import path, on a
  section page per IDIC step (``crm_api_sections`` in ``conf.py``). A module that no section
  claims is a build warning, so a new module cannot silently miss the reference.
* The notebooks are scanned (code cells, statically) for what they use from crm_models: imports,
  calls, attribute access and the methods called on objects built from crm_models classes. Each
  notebook page gets a "crm_models used here" box linking to the API pages; each API page of a
  class or function gets a "Taught in" list of the notebooks that use it (``crm-taught-in``).
  New notebooks are picked up by the glob; nothing is listed by hand.

Generated sources go to ``api/_sections``, ``api/_modules`` and ``api/generated`` (one page per
object); all three are rewritten when their content changes and ignored by git.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

NOTEBOOK_DIR = "notebooks"
SECTIONS_DIR = "api/_sections"
MODULES_DIR = "api/_modules"
OBJECTS_DIR = "api/generated"


# --------------------------------------------------------------------------- the public API
@dataclass
class ApiObject:
    """One documented function or class."""

    name: str  # the documented (shortest public) path, e.g. crm_models.clv.BetaGeo
    home: str  # the module that defines it
    obj: object
    is_class: bool


@dataclass
class PublicApi:
    """Public modules and objects of a package, each object under one documented name."""

    modules: dict = field(default_factory=dict)  # name -> module
    objects: dict = field(default_factory=dict)  # documented name -> ApiObject
    by_id: dict = field(default_factory=dict)  # id(obj) -> documented name

    def name_of(self, obj) -> str | None:
        return self.by_id.get(id(obj))


def _is_private(module_name: str) -> bool:
    return any(part.startswith("_") for part in module_name.split(".")[1:])


def public_api(package_name: str) -> PublicApi:
    """Walk ``package_name`` as the conventions test does and name every public object once."""
    package = importlib.import_module(package_name)
    api = PublicApi()
    api.modules[package_name] = package
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        if not _is_private(info.name):
            api.modules[info.name] = importlib.import_module(info.name)
    candidates: dict[int, list[tuple[str, str, object]]] = {}
    for mod_name, mod in api.modules.items():
        listed = getattr(mod, "__all__", None)
        names = listed if listed is not None else [n for n in vars(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            home = getattr(obj, "__module__", "") or ""
            if listed is None and home != mod_name:
                continue  # a module without __all__ exports only what it defines
            if not home.startswith(package_name) or _is_private(home) or home.split(".")[0] != package_name:
                continue
            candidates.setdefault(id(obj), []).append((mod_name, name, obj))
    for entries in candidates.values():
        obj = entries[0][2]
        home = obj.__module__
        # the shortest path among the home module and the packages above it that export it
        own = [e for e in entries if home == e[0] or home.startswith(e[0] + ".")]
        mod_name, name, _ = min(own or entries, key=lambda e: (e[0].count("."), len(e[0])))
        full = f"{mod_name}.{name}"
        api.objects[full] = ApiObject(full, home, obj, inspect.isclass(obj))
        api.by_id[id(obj)] = full
    return api


def _section_of(module_name: str, sections) -> str | None:
    """Key of the section whose module prefix matches ``module_name`` most specifically."""
    best, best_len = None, -1
    for key, _title, _intro, prefixes in sections:
        for p in prefixes:
            root = "." not in p
            hit = module_name == p if root else (module_name == p or module_name.startswith(p + "."))
            if hit and len(p) > best_len:
                best, best_len = key, len(p)
    return best


def _first_paragraph(doc: str | None) -> str:
    doc = inspect.cleandoc(doc or "")
    return doc.split("\n\n", 1)[0].strip()


def _underline(text: str, char: str) -> str:
    return f"{text}\n{char * len(text)}\n"


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _clear_stale(folder: Path, keep: set[str]) -> None:
    if folder.is_dir():
        for f in folder.glob("*.rst"):
            if f.name not in keep:
                f.unlink()


def write_api_sources(srcdir: Path, api: PublicApi, sections, package_name: str) -> None:
    """Section pages (one per IDIC step) and module pages, as reStructuredText for autosummary."""
    by_section: dict[str, dict[str, list[ApiObject]]] = {key: {} for key, *_ in sections}
    module_section: dict[str, str] = {}
    for mod_name in api.modules:
        key = _section_of(mod_name, sections)
        if key is None:
            logger.warning(
                "crm_docs: module %s belongs to no section of the API reference; add its package to "
                "crm_api_sections in docs/conf.py", mod_name)
            continue
        module_section[mod_name] = key
    for obj in api.objects.values():
        key = module_section.get(obj.home)
        if key is None:
            continue
        # group under the package the user imports it from
        group = obj.name.rsplit(".", 1)[0]
        by_section[key].setdefault(group, []).append(obj)

    order = {name: i for i, name in enumerate(api.modules)}
    section_files, module_files, object_files = set(), set(), set()
    for key, title, intro, _prefixes in sections:
        groups = by_section[key]
        lines = [f".. This page is generated by docs/_ext/crm_docs.py from {package_name}; do not edit.", "",
                 _underline(title, "="), intro.strip(), ""]
        for group in sorted(groups, key=lambda g: order.get(g, 0)):
            mod = api.modules[group]
            lines += [_underline(group, "-"), f"Module page: :mod:`{group}`. " + _first_paragraph(mod.__doc__), "",
                      ".. autosummary::", "   :nosignatures:", ""]
            listed = list(getattr(mod, "__all__", []) or [])
            rank = {n: i for i, n in enumerate(listed)}
            for obj in sorted(groups[group], key=lambda o: (rank.get(o.name.rsplit(".", 1)[1], len(rank)), o.name)):
                lines.append(f"   ~{obj.name}")
            lines.append("")
        mods = [m for m in api.modules if module_section.get(m) == key]
        if mods:
            lines += [_underline("Modules", "-"), ".. toctree::", "   :maxdepth: 1", ""]
            lines += [f"   {m} <../_modules/{m}>" for m in mods]
            lines.append("")
        name = f"{key}.rst"
        section_files.add(name)
        _write_if_changed(srcdir / SECTIONS_DIR / name, "\n".join(lines))
        for group, objs in groups.items():
            for obj in objs:
                object_files.add(f"{obj.name}.rst")
                _write_if_changed(srcdir / OBJECTS_DIR / f"{obj.name}.rst", _object_page(obj, group, key, title))

    for mod_name, mod in api.modules.items():
        if mod_name not in module_section:
            continue
        defined = sorted((o for o in api.objects.values() if o.home == mod_name), key=lambda o: o.name)
        lines = [f".. This page is generated by docs/_ext/crm_docs.py from {package_name}; do not edit.", "",
                 _underline(mod_name, "="), f".. automodule:: {mod_name}", "   :no-members:"]
        if mod_name in api.objects:  # a module shadowed by a function of the same name (identify.evaluate)
            lines.append("   :no-index:")
        lines.append("")
        if defined:
            lines += [".. rubric:: Functions and classes defined here", "", ".. autosummary::", "   :nosignatures:", ""]
            # names inside the current module are written relative to it, as autosummary asks
            lines += [f"   {o.name[len(mod_name) + 1:]}" if o.name.startswith(mod_name + ".") else f"   ~{o.name}"
                      for o in defined]
            lines.append("")
        name = f"{mod_name}.rst"
        module_files.add(name)
        _write_if_changed(srcdir / MODULES_DIR / name, "\n".join(lines))
    _clear_stale(srcdir / SECTIONS_DIR, section_files)
    _clear_stale(srcdir / MODULES_DIR, module_files)
    _clear_stale(srcdir / OBJECTS_DIR, object_files)


def _object_page(obj: ApiObject, group: str, section: str, section_title: str) -> str:
    """One function or class: its docstring (members of a class inline) and the notebooks that teach it.

    The pages are orphans (reached from the section tables, the module pages and the notebooks), so
    the sidebar lists sections and modules rather than hundreds of objects.
    """
    objname = obj.name[len(group) + 1:]
    directive = "autoclass" if obj.is_class else "autofunction"
    options = ["   :members:", "   :inherited-members:"] if obj.is_class else []
    return "\n".join([
        ":orphan:", "", f".. This page is generated by docs/_ext/crm_docs.py; do not edit.", "",
        _underline(obj.name, "="),
        ".. container:: crm-breadcrumb", "",
        f"   In the API reference: :doc:`/{SECTIONS_DIR}/{section}`, module :mod:`{group}`", "",
        f".. crm-taught-in:: {obj.name}", "",
        f".. currentmodule:: {group}", "",
        f".. {directive}:: {objname}", *options, "",
    ])


# --------------------------------------------------------------------------- notebook scanning
def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    return ["".join(c["source"]) if isinstance(c.get("source"), list) else c.get("source", "")
            for c in cells if c.get("cell_type") == "code"]


def _python_of(cell: str) -> ast.Module | None:
    """The cell as Python (IPython magics turned into calls); None if it does not parse."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        cell = TransformerManager().transform_cell(cell)
    except Exception:  # IPython missing or a transform error: fall back to dropping magic lines
        cell = "\n".join(line for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        return ast.parse(cell)
    except SyntaxError:
        return None


class _Instance:
    """Marks a variable that holds an instance of a crm_models class."""

    def __init__(self, cls):
        self.cls = cls


def _return_class(func, package_name: str):
    """The crm_models class a function or method is annotated to return, if any."""
    try:
        hint = typing.get_type_hints(func).get("return")
    except Exception:
        return None
    if inspect.isclass(hint) and (hint.__module__ or "").startswith(package_name):
        return hint
    return None


class _Scanner(ast.NodeVisitor):
    """Resolve names to crm_models objects through imports and simple assignments, in cell order."""

    def __init__(self, api: PublicApi, package_name: str):
        self.api, self.package = api, package_name
        self.env: dict[str, object] = {}
        self.used: set[str] = set()

    # -- resolution
    def resolve(self, node):
        """A module, a crm_models object, an _Instance, or None."""
        if isinstance(node, ast.Name):
            return self.env.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if base is None:
                return None
            if isinstance(base, _Instance):
                member = inspect.getattr_static(base.cls, node.attr, None)
                if member is None:
                    return None
                self._use_member(base.cls, node.attr)
                return ("method", base.cls, node.attr)
            if inspect.ismodule(base) or inspect.isclass(base):
                try:
                    value = getattr(base, node.attr)
                except AttributeError:
                    return None
                if inspect.isclass(base):
                    self._use_member(base, node.attr)
                    return ("method", base, node.attr)
                return value
            return None
        if isinstance(node, ast.Call):
            func = self.resolve(node.func)
            if inspect.isclass(func) and self.api.name_of(func):
                return _Instance(func)
            if isinstance(func, tuple) and func[0] == "method":
                _, cls, attr = func
                if attr in ("fit", "set_params"):
                    return _Instance(cls)  # the estimator contract: fit returns self
                if attr == "load":
                    return _Instance(cls)
                ret = _return_class(getattr(cls, attr, None), self.package)
                return _Instance(ret) if ret is not None else None
            if inspect.isfunction(func):
                ret = _return_class(func, self.package)
                return _Instance(ret) if ret is not None and self.api.name_of(ret) else None
        return None

    def _use(self, value) -> None:
        if inspect.ismodule(value) or isinstance(value, (_Instance, tuple)) or value is None:
            return
        name = self.api.name_of(value)
        if name:
            self.used.add(name)

    def _use_member(self, cls, attr: str) -> None:
        owner = self.api.name_of(cls)
        if owner is None or attr.startswith("_"):
            return
        member = inspect.getattr_static(cls, attr, None)
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if isinstance(member, property) or inspect.isfunction(member):
            self.used.add(owner)
            self.used.add(f"{owner}.{attr}")

    # -- statements
    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] != self.package:
                continue
            if alias.asname:
                self.env[alias.asname] = importlib.import_module(alias.name)
            else:
                self.env[alias.name.split(".")[0]] = importlib.import_module(self.package)

    def visit_ImportFrom(self, node):
        if not node.module or node.module.split(".")[0] != self.package or node.level:
            return
        mod = importlib.import_module(node.module)
        for alias in node.names:
            try:
                value = getattr(mod, alias.name)
            except AttributeError:
                try:
                    value = importlib.import_module(f"{node.module}.{alias.name}")
                except ImportError:
                    continue
            self.env[alias.asname or alias.name] = value
            self._use(value)

    def visit_Assign(self, node):
        self.generic_visit(node)
        value = self.resolve(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if isinstance(value, _Instance) or inspect.ismodule(value) or (
                        value is not None and not isinstance(value, tuple) and self.api.name_of(value)):
                    self.env[target.id] = value
                else:
                    self.env.pop(target.id, None)

    def visit_Call(self, node):
        self._use(self.resolve(node.func))
        self.generic_visit(node)

    def visit_Attribute(self, node):
        self._use(self.resolve(node))
        self.generic_visit(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self._use(self.env.get(node.id))


def scan_notebook(path: Path, api: PublicApi, package_name: str) -> set[str]:
    """Documented names (objects and ``Class.method``) a notebook's code cells use."""
    scanner = _Scanner(api, package_name)
    for cell in _code_cells(path):
        tree = _python_of(cell)
        if tree is not None:
            scanner.visit(tree)
    return scanner.used


# --------------------------------------------------------------------------- Sphinx wiring
def _notebooks(srcdir: Path) -> list[Path]:
    return sorted((srcdir / NOTEBOOK_DIR).glob("*.ipynb"))


def on_config_inited(app, config):
    srcdir = Path(app.srcdir)
    package = config.crm_api_package
    api = public_api(package)
    write_api_sources(srcdir, api, config.crm_api_sections, package)
    uses: dict[str, set[str]] = {}
    for nb in _notebooks(srcdir):
        uses[f"{NOTEBOOK_DIR}/{nb.stem}"] = scan_notebook(nb, api, package)
    taught: dict[str, set[str]] = {}
    for docname, names in uses.items():
        for name in names:
            taught.setdefault(name, set()).add(docname)
            # a method's use also teaches its class
            owner = name.rsplit(".", 1)[0]
            if owner in api.objects:
                taught.setdefault(owner, set()).add(docname)
    app.crm_api = api
    app.crm_uses = uses
    app.crm_taught = taught


def on_env_get_outdated(app, env, added, changed, removed):
    """Re-read the API pages whose "Taught in" list changed since the last build (a notebook changed)."""
    before = getattr(env, "crm_taught", {})
    after = app.crm_taught
    env.crm_taught = {k: set(v) for k, v in after.items()}
    pages = set()
    for name in set(before) | set(after):
        if before.get(name) != after.get(name):
            page = name if name in app.crm_api.objects else name.rsplit(".", 1)[0]
            pages.add(f"{OBJECTS_DIR}/{page}")
    return sorted(p for p in pages if p in env.found_docs)


class TaughtIn(SphinxDirective):
    """``.. crm-taught-in:: crm_models.clv.BetaGeo``: the notebooks (and model page) that teach it."""

    required_arguments = 1

    def run(self):
        from docutils.statemachine import StringList

        name = self.arguments[0]
        notebooks = sorted(getattr(self.env.app, "crm_taught", {}).get(name, ()))
        model = self.config.crm_model_pages.get(name)
        lines = []
        if notebooks:
            lines.append("Taught in " + ", ".join(f":doc:`/{d}`" for d in notebooks) + ".")
        if model:
            lines.append(f"Equations and the published figures it reproduces: :doc:`/{model}`.")
        if not lines:
            return []
        container = nodes.container(classes=["crm-taught-in"])
        text = []
        for line in lines:
            text += [line, ""]
        self.state.nested_parse(StringList(text, source=self.get_source_info()[0]), self.content_offset, container)
        return [container]


class Docstring(SphinxDirective):
    """``.. crm-docstring:: crm_models.clv.beta_geo``: a module's docstring, up to its first numpydoc section."""

    required_arguments = 1

    def run(self):
        from docutils.statemachine import StringList

        mod = importlib.import_module(self.arguments[0])
        text = inspect.cleandoc(mod.__doc__ or "")
        text = re.split(r"\n[A-Z][A-Za-z ]+\n-{3,}\n", "\n" + text, maxsplit=1)[0].strip("\n")
        container = nodes.container(classes=["crm-docstring"])
        self.state.nested_parse(StringList(text.splitlines(), source=f"docstring of {self.arguments[0]}"),
                                self.content_offset, container)
        return container.children


def on_doctree_read(app, doctree):
    """On a notebook page, a box right under the title that links to the API pages it uses."""
    docname = app.env.docname
    names = getattr(app, "crm_uses", {}).get(docname)
    if not names:
        return
    api = app.crm_api
    owners = sorted(n for n in names if n in api.objects)
    methods: dict[str, list[str]] = {}
    for n in names:
        owner, attr = n.rsplit(".", 1)
        if n not in api.objects and owner in api.objects:
            methods.setdefault(owner, []).append(attr)
    by_group: dict[str, list[str]] = {}
    for n in owners:
        by_group.setdefault(n.rsplit(".", 1)[0], []).append(n)

    def xref(target: str, text: str):
        ref = addnodes.pending_xref("", refdomain="py", reftype="obj", reftarget=target, refexplicit=True,
                                    refwarn=True)
        ref += nodes.literal(text, text, classes=["xref", "py", "py-obj"])
        return ref

    box = nodes.admonition(classes=["crm-uses"])
    box += nodes.title("", "crm_models used in this notebook")
    items = nodes.bullet_list()
    for group in sorted(by_group):
        para = nodes.paragraph()
        para += nodes.strong("", group)
        para += nodes.Text(": ")
        for i, n in enumerate(by_group[group]):
            if i:
                para += nodes.Text(", ")
            para += xref(n, n.rsplit(".", 1)[1])
            meths = sorted(methods.get(n, []))
            if meths:
                para += nodes.Text(" (")
                for j, m in enumerate(meths):
                    if j:
                        para += nodes.Text(", ")
                    para += xref(f"{n}.{m}", m)
                para += nodes.Text(")")
        items += nodes.list_item("", para)
    box += items
    box += nodes.paragraph("", "", nodes.Text(
        "Each name links to its page in the API reference; each API page lists the notebooks that use it."))
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        doctree.insert(0, box)
        return
    title = next(iter(section.findall(nodes.title)), None)
    section.insert(section.index(title) + 1 if title is not None else 0, box)


def on_skip_member(app, what, name, obj, skip, options):
    """Leave out members inherited from outside the package (scikit-learn's get_params, Exception's...)."""
    target = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
    if not (inspect.isroutine(target) or inspect.ismethoddescriptor(obj) or inspect.isdatadescriptor(obj)):
        return None
    home = getattr(target, "__module__", None) or ""
    if home.split(".")[0] != app.config.crm_api_package:
        return True
    return None


def setup(app):
    app.add_config_value("crm_api_package", "crm_models", "env")
    app.add_config_value("crm_api_sections", [], "env")
    app.add_config_value("crm_model_pages", {}, "env")
    app.connect("config-inited", on_config_inited, priority=400)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("doctree-read", on_doctree_read)
    app.connect("autodoc-skip-member", on_skip_member)
    app.add_directive("crm-taught-in", TaughtIn)
    app.add_directive("crm-docstring", Docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

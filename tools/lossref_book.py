"""Sphinx extension of the book (``sphinx: local_extensions`` in _config.yml).

It generates, at build time and from :data:`lossref.registry.LOSSES` and ``lossref.__all__``, so
that they cannot drift from the code:

- ``.. loss-atlas::`` (atlas.rst): every registry loss, one section per family (module), with its
  textbook form and a gradient to check by hand (sympy, from :mod:`lossref.symbolic`), its input
  domain, torch counterpart, peer-library equivalents, paper, chapter and API entries;
- ``.. loss-api::`` (api.rst): one autodoc entry per public name of lossref, grouped by module
  (the loss family), each registry loss with a line linking its chapter and atlas entry;
- in each chapter, a "lossref API" box after the title linking the API entries and atlas entries
  of the chapter's losses.

A loss's chapter, peers and papers are its registry entry's (``chapter``, ``peers``, ``papers``).

It also works around two theme quirks that the browser check (tools/check_browser.py) reports as
console errors: inline scripts registered twice under Sphinx 7.4 (``const THEBE_JS_URL`` declared
twice: a SyntaxError on every page) and pydata-sphinx-theme's empty default colour mode.
"""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util.docstrings import prepare_docstring
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

ROOT = Path(__file__).resolve().parent.parent
ATLAS_DOC, API_DOC = "atlas", "api"

#: Section titles of the loss atlas and the API reference, by module (the loss family); other
#: modules use their docstring's first line.
FAMILIES = {
    "bce": "Binary cross-entropy",
    "cross_entropy": "Cross-entropy",
    "focal": "Focal",
    "poly": "Poly-1",
    "regression": "Regression",
    "overlap": "Overlap (Dice, Jaccard, Tversky)",
    "lovasz": "Lovász",
    "boundary": "Boundary and distance",
    "margin": "Score margins",
    "embedding": "Embedding margins (cosine, triplet)",
    "angular": "Angular margins (ArcFace, CosFace)",
    "contrastive": "Contrastive (InfoNCE, NT-Xent, supervised, CLIP, SigLIP)",
}

#: Modules documented without their members at the end of the API reference: the region losses'
#: shared conventions (their docstrings point there), the accurate primitives the losses are built on,
#: and the modules the book is generated from. (lossref._validation's docstring heads the section of
#: its public function, set_value_checks.)
INTERNALS = [
    "lossref._primitives",
    "lossref._region",
    "lossref.registry",
    "lossref.symbolic",
]


# -- what the book knows about the registry ----------------------------------------------------------


def chapter_losses() -> dict[str, str]:
    """Registry name -> docname of the chapter that teaches it (the registry's ``chapter``)."""
    from lossref.registry import LOSSES

    return {spec.name: spec.chapter for spec in LOSSES if spec.chapter}


def api_target(obj: Any) -> str:
    """The documented (public) path of a lossref function or class."""
    import lossref

    if obj.__name__ in lossref.__all__ and getattr(lossref, obj.__name__) is obj:
        return f"lossref.{obj.__name__}"
    return f"{obj.__module__}.{obj.__qualname__}"


def qualified(function: Any) -> str:
    module = function.__module__
    if module.startswith("torch.nn.functional"):
        module = "torch.nn.functional"
    return f"{module}.{function.__name__}"


def family_title(module: str) -> str:
    """The section title of a module's losses: its entry in ``FAMILIES``, or its docstring's first line."""
    title = FAMILIES.get(module.rsplit(".", 1)[-1])
    return (title or (importlib.import_module(module).__doc__ or module).strip().splitlines()[0]).rstrip(".:")


def _factor_place(factor: Any) -> int:
    """A product's factors in textbook order: numbers, symbols (2 t_k, w_c q_c log p_c), the rest,
    named quantities (alpha FP, 2 t_k D)."""
    if factor.is_Number:
        return 0
    if factor.is_Symbol and factor.name.isupper():
        return 3
    return 1 if factor.is_Symbol or factor.is_Indexed else 2


def _term_place(term: Any) -> tuple[bool, int]:
    """A sum's terms in textbook order: those with a plus sign first, a number first and a lone
    symbol last among them (1 + eps p, 2 TP + s, C - 1)."""
    return term.could_extract_minus_sign(), 0 if term.is_Number else 2 if term.is_Symbol else 1


def _latex(expr: Any) -> str:
    """sympy's LaTeX, with sums and products in the order textbooks write them and named quantities
    (TP) upright."""
    import sympy as sp
    from sympy.printing.latex import LatexPrinter

    class Printer(LatexPrinter):
        def _print_Add(self, expr: Any, order: Any = None) -> str:
            terms = sorted(expr.as_ordered_terms(), key=_term_place)
            return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")

        def _print_Mul(self, expr: Any) -> str:
            if expr.could_extract_minus_sign():  # the sign, then the product in order
                return "- " + self._print(-expr) if (-expr).is_Mul else super()._print_Mul(expr)
            if expr.is_Mul:  # sympy also prints some powers (1 / x) here
                expr = sp.Mul(*sorted(expr.as_ordered_factors(), key=_factor_place), evaluate=False)
            return super()._print_Mul(expr)

        def _print_Symbol(self, expr: Any, style: str = "plain") -> str:
            if len(expr.name) > 1 and expr.name.isupper():  # a name, not a product: TP
                return rf"\mathrm{{{expr.name}}}"
            return super()._print_Symbol(expr, style)

    return Printer({"order": "none"}).doprint(expr)


def formula_and_gradient(spec: Any) -> tuple[str, str, str, list[tuple[str, str]]]:
    """LaTeX of the loss's textbook form, of what it is differentiated by, of its gradient, and of
    its shorthands with their definitions (such as a class's probability, the softmax of the logits)."""
    book = spec.symbolic.textbook
    where = [(_latex(short), _latex(definition)) for short, definition in book.where]
    return _latex(book.form), _latex(book.variable), _latex(book.gradient), where


# -- generated reStructuredText ---------------------------------------------------------------------


def _title(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def atlas_rst(chapters: dict[str, str]) -> list[str]:
    from lossref.registry import LOSSES

    # two columns, so that the longest names fit a narrow page
    lines: list[str] = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 50 50",
        "",
        "   * - loss",
        "     - in torch",
    ]
    for spec in LOSSES:
        torch = f"``F.{spec.torch_function.__name__}``" if spec.torch_function else "none"
        lines += [f"   * - |atlas-{spec.name}|_", f"     - {torch}"]
    lines += ["", "``F`` is ``torch.nn.functional``.", ""]
    # the names link to their entries, in code font (a :ref: would show them as plain text)
    lines += [f".. |atlas-{spec.name}| replace:: ``{spec.name}``" for spec in LOSSES] + [""]

    families: dict[str, list[Any]] = {}
    for spec in LOSSES:
        families.setdefault(spec.function.__module__, []).append(spec)
    for module, specs in families.items():
        lines += _title(family_title(module), "-")
        docs = list(dict.fromkeys(chapters[spec.name] for spec in specs if spec.name in chapters))
        if docs:
            label = "Chapters" if len(docs) > 1 else "Chapter"
            lines += [f"{label}: {', '.join(f':doc:`/{doc}`' for doc in docs)}.", ""]
        for spec in specs:
            lines += _atlas_entry(spec, chapters.get(spec.name))
    return lines


def _arguments(spec: Any) -> str:
    """The call as the registry describes it: tensors (differentiable ones marked), options, parameters."""
    parts = [f"``{a.name}``" + (" (differentiable)" if a.differentiable else "") for a in spec.args]
    parts += [f"option ``{o.name}``" for o in spec.options]
    parts += [f"learnable ``{p.name}``, {p.init}" for p in spec.parameters]
    return ", ".join(parts) + ("; couples the samples of a batch" if spec.couples_batch else "")


def _atlas_entry(spec: Any, chapter: str | None) -> list[str]:
    torch = f"``{qualified(spec.torch_function)}``" if spec.torch_function else "none"
    libraries = [peer for peer in spec.peers if peer.library != "formula"]
    peers = "; ".join(f"{peer.library}: ``{peer.call}``" for peer in libraries) or "none known"
    papers = ", ".join(f":cite:t:`{key}`" for key in spec.papers)
    lines = [f".. _atlas-{spec.name}:", ""]
    lines += _title(f"``{spec.name}``", "~")
    lines += [
        f":API: :func:`{api_target(spec.function)}`, :class:`{api_target(spec.module)}`",
        f":chapter: :doc:`/{chapter}`" if chapter else ":chapter: none yet",
        f":input: {spec.domain}; target: {spec.target}",
        f":arguments: {_arguments(spec)}",
        f":torch: {torch}",
        f":peers: {peers}",
        ":torch.compile: "
        + (
            "whole (``fullgraph=True``)"
            if spec.no_fullgraph is None
            else f"with a graph break: {spec.no_fullgraph}"
        ),
        ":torch.func: "
        + (
            "``grad``, ``vmap``, ``jacrev``"
            if spec.no_vmap is None
            else f"``grad``, ``jacrev``; not ``vmap``: {spec.no_vmap}"
        ),
        ":data parallelism: "
        + ("the local loss only" if spec.sync is None else f"``sync=True`` makes global: {spec.sync}"),
    ]
    if papers:
        lines.append(f":paper: {papers}")
    if spec.no_symbolic is not None:
        reference = f"``{spec.oracle.function.__module__}.{spec.oracle.function.__name__}``"
        return lines + [
            ":sympy: none",
            f":oracle: the written-out reference {reference}",
            "",
            f"No sympy definition in :mod:`lossref.symbolic`: {spec.no_symbolic}.",
            "",
        ]
    from lossref.symbolic import NUM_CLASSES, PIXELS

    form, variable, gradient, where = formula_and_gradient(spec)
    symbolic = spec.symbolic
    lines += [f":sympy: ``lossref.symbolic.{spec.oracle.name}``", ""]
    if spec.target == "region":
        per = "of one image (and class), a sum over its :math:`n` pixels"
        size = f" (written out for :math:`n = {PIXELS}`)"
    elif symbolic.vector_input:
        per = "of one sample, a sum over its :math:`C` classes"
        size = f" (written out for :math:`C = {NUM_CLASSES}`)"
    else:
        per, size = "of one element", ""
    defaults = ", ".join(f"``{k}={v}``" for k, v in symbolic.defaults.items())
    lines += [
        f"The loss {per}" + (f"; defaults {defaults}" if defaults else "") + ":",
        "",
        ".. math::",
        "",
        f"   \\ell = {form}",
        "",
    ]
    if where:
        lines += ["where", "", ".. math::", ""]
        # Sphinx aligns equations separated by blank lines: at their = signs
        equals = " &= " if len(where) > 1 else " = "
        for short, definition in where:
            lines += [f"   {short}{equals}{definition}", ""]
    lines += [
        "Its gradient with respect to the input, in a form to check by hand:",
        "",
        ".. math::",
        "",
        f"   \\frac{{\\partial \\ell}}{{\\partial {variable}}} = {gradient}",
        "",
        f"The tests prove both equal to the definition the oracle evaluates{size} and to its derivative.",
        "",
    ]
    return lines


def api_rst(chapters: dict[str, str]) -> list[str]:
    import lossref
    from lossref.registry import LOSSES

    by_object = {}
    for spec in LOSSES:
        by_object[spec.function] = spec
        by_object[spec.module] = spec
    modules: dict[str, list[str]] = {}
    for name in lossref.__all__:
        modules.setdefault(getattr(lossref, name).__module__, []).append(name)
    lines: list[str] = []
    for module, names in modules.items():
        lines += _title(family_title(module), "-")
        # a target for :mod: roles (unless a function has the module's name, as lossref.cross_entropy),
        # then the module's docstring (the family's shared conventions), read relative to lossref
        if module.removeprefix("lossref.") not in lossref.__all__:
            lines += [f".. py:module:: {module}", ""]
        lines += [".. currentmodule:: lossref", ""]
        lines += prepare_docstring(importlib.import_module(module).__doc__ or "")
        lines += [""]
        lines += [f"Defined in ``{module}``; import them from ``lossref``.", ""]
        for name in names:
            obj = getattr(lossref, name)
            kind = "autoclass" if isinstance(obj, type) else "autofunction"
            lines += [f".. {kind}:: lossref.{name}"]
            if kind == "autoclass":
                lines += ["   :members:"]
            spec = by_object.get(obj)
            if spec is not None:
                links = [f":ref:`atlas entry <atlas-{spec.name}>`"]
                if spec.name in chapters:
                    links.insert(0, f"chapter :doc:`/{chapters[spec.name]}`")
                lines += ["", f"   **In the book:** {', '.join(links)}."]
            lines.append("")
    lines += _title("Data parallelism", "-")
    lines += [
        ".. automodule:: lossref.distributed",
        "   :no-members:",
        "",
        # a type alias: declared as a class, the target the losses' signatures link to
        ".. py:class:: lossref.distributed.Sync",
        "",
        "   The type of ``sync``: ``bool | torch.distributed.ProcessGroup``. ``False``: the local loss;"
        " ``True``: global over the default process group; a ``ProcessGroup``: global over that group.",
        "",
    ]
    lines += [
        f".. autofunction:: lossref.distributed.{name}"
        for name in ("all_gather_with_grad", "all_sum", "group_of")
    ]
    lines += [""]
    lines += _title("Shared conventions and the registry", "-")
    lines += [
        "What the loss families above share, and the modules the tests, benchmarks and this book are "
        "driven by.",
        "",
    ]
    for module in INTERNALS:
        lines += [f".. automodule:: {module}", "   :no-members:", ""]
    lines += [
        ".. autodata:: lossref.registry.LOSSES",
        "   :no-value:",
        "",
        # the methods only: the fields are described by #: comments meant for the source reader
        ".. autoclass:: lossref.registry.LossSpec",
        "   :members: keywords, differentiable, output_shape, symbolic, no_symbolic, make_inputs, call,"
        " build_module",
        "",
        ".. autoclass:: lossref.registry.LossInputs",
        "   :members: input, target, replace, to",
        "",
        ".. autoclass:: lossref.registry.Arg",
        "",
        ".. autoclass:: lossref.registry.Parameter",
        "",
        ".. autoclass:: lossref.registry.Peer",
        "",
        ".. autoclass:: lossref.registry.Symbolic",
        "",
        ".. autoclass:: lossref.registry.Reference",
        "",
        ".. autodata:: lossref.registry.UTILITIES",
        "",
        ".. autofunction:: lossref.registry.get",
        "",
        ".. autoclass:: lossref.symbolic.SymbolicLoss",
        "   :members:",
        "   :undoc-members:",
        "",
        ".. autoclass:: lossref.symbolic.Textbook",
        "   :members:",
        "",
        ".. autoclass:: lossref.symbolic.OracleResult",
        "",
    ]
    return lines


class _Generated(SphinxDirective):
    has_content = False

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(ROOT / "lossref" / "registry.py"))
        source = self.get_source_info()[0]
        content = StringList([*self.lines()], source=source)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, content, node)
        return node.children


class LossAtlas(_Generated):
    def lines(self) -> list[str]:
        return atlas_rst(chapter_losses())


class LossApi(_Generated):
    def lines(self) -> list[str]:
        return api_rst(chapter_losses())


# -- chapter -> API ---------------------------------------------------------------------------------


def add_chapter_links(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not docname.startswith("chapters/"):
        return
    from lossref.registry import get

    names = [name for name, chapter in chapter_losses().items() if chapter == docname]
    sections = list(doctree.findall(nodes.section))
    if not names or not sections:
        return
    para = nodes.paragraph()
    para += nodes.strong(text="lossref API: ")
    first = True
    for name in names:
        spec = get(name)
        for obj, reftype in ((spec.function, "func"), (spec.module, "class")):
            if not first:
                para += nodes.Text(", ")
            first = False
            target = api_target(obj)
            ref = addnodes.pending_xref(
                "",
                refdomain="py",
                reftype=reftype,
                reftarget=target,
                refexplicit=True,
                refwarn=True,
                refdoc=docname,
            )
            ref["py:module"] = None
            ref["py:class"] = None
            ref += nodes.literal(
                target.removeprefix("lossref."),
                target.removeprefix("lossref."),
                classes=["xref", "py", f"py-{reftype}"],
            )
            para += ref
    para += nodes.Text(". ")
    para += nodes.strong(text="In the loss atlas: ")
    for i, name in enumerate(names):
        if i:
            para += nodes.Text(", ")
        ref = addnodes.pending_xref(
            "",
            refdomain="std",
            reftype="ref",
            reftarget=f"atlas-{name}",
            refexplicit=True,
            refwarn=True,
            refdoc=docname,
        )
        ref += nodes.inline(name, name, classes=["xref", "std", "std-ref"])
        para += ref
    para += nodes.Text(".")
    box = nodes.admonition(classes=["seealso", "lossref-api"])
    box += nodes.title(text="Reference")
    box += para
    title_index = next(
        (i for i, child in enumerate(sections[0].children) if isinstance(child, nodes.title)), 0
    )
    sections[0].insert(title_index + 1, box)


def always_regenerate(
    app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """The generated pages read the registry and the chapters: re-read them on every build."""
    return [doc for doc in (ATLAS_DOC, API_DOC) if doc in env.found_docs]


# -- theme quirks -----------------------------------------------------------------------------------


def _asset_key(asset: Any) -> tuple:
    attributes = getattr(asset, "attributes", {}) or {}
    # an inline script is registered once with filename None and once with '': the same script
    filename = getattr(asset, "filename", asset) or ""
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def dedupe_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Each script and stylesheet once: Sphinx 7.4 lists assets added at builder-inited twice."""
    for key in ("script_files", "css_files"):
        if key in context:
            seen: set[tuple] = set()
            unique = []
            for asset in context[key]:
                k = _asset_key(asset)
                if k not in seen:
                    seen.add(k)
                    unique.append(asset)
            context[key] = unique


def default_colour_mode(app: Sphinx, config: Any) -> None:
    """pydata-sphinx-theme reads ``html_context['default_mode']``; left empty, its script logs
    'Got invalid theme mode' as a console error on a reader's first visit."""
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def page_last_updated(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """The date of the last commit that changed the page's source, for the theme's footer ("Last
    updated on ..."); Sphinx's own html_last_updated_fmt would give the build's date on every page.
    Generated pages and a source outside git (an unpacked archive) show none."""
    source = app.env.doc2path(pagename, base=True) if pagename in app.env.found_docs else None
    if source is None or not Path(source).is_file():
        return
    try:
        date = subprocess.run(
            ["git", "log", "-1", "--format=%cs", "--", str(source)],
            cwd=Path(source).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return
    if date:
        context["last_updated"] = date


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("loss-atlas", LossAtlas)
    app.add_directive("loss-api", LossApi)
    app.connect("doctree-read", add_chapter_links)
    app.connect("env-get-outdated", always_regenerate)
    app.connect("html-page-context", dedupe_assets, priority=900)
    app.connect("config-inited", default_colour_mode)
    app.connect("html-page-context", page_last_updated)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

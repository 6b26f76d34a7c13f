"""Sphinx extension: mark Chinese text in the built pages as ``lang="zh-Hans"``.

The book is English (``<html lang="en">``); the errata quote Chinese blog posts, in prose, in their
code's comments and in printed output. A browser picks the font for a run of text by its language:
marked as Simplified Chinese, the quotes are drawn with a Simplified Chinese font (and read by a
screen reader in Chinese) instead of an English fallback that may show empty boxes. Marking at build
time covers code and outputs too, which a source cannot mark.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

LANG = "zh-Hans"

# Han ideographs (with extension A and the compatibility block) and the CJK and full-width
# punctuation between them, so that a quoted sentence is one run.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{_HAN}][{_HAN}\u3000-\u303f\uff00-\uffef]*")
_TAG = re.compile(r"(<[^>]*>)")
# elements whose text is not drawn as text: left alone
_RAW = ("script", "style", "textarea", "title")


def mark_chinese(html: str) -> str:
    """``html`` with every run of Chinese characters in its text wrapped in a span marked
    ``lang="zh-Hans"``; tags, attributes and the content of script, style, textarea and title are
    left as they are.

    >>> mark_chinese('<p title="标题">BCE 的公式: <code>x</code>。</p>')
    '<p title="标题">BCE <span lang="zh-Hans">的公式</span>: <code>x</code>。</p>'
    """
    parts, raw = [], None
    for part in _TAG.split(html):
        if part.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9-]+)", part)
            tag = name.group(1).lower() if name else ""
            if raw is None and tag in _RAW and not part.startswith("</"):
                raw = tag
            elif raw == tag and part.startswith("</"):
                raw = None
        elif raw is None:
            part = _RUN.sub(lambda m: f'<span lang="{LANG}">{m.group(0)}</span>', part)
        parts.append(part)
    return "".join(parts)


def mark_pages(app: Sphinx, exception: Exception | None) -> None:
    """Every written page, once the build is done: the page's table of contents and navigation
    repeat headings outside its body, so the whole file is marked."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        marked = mark_chinese(html)
        if marked != html:
            page.write_text(marked, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", mark_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

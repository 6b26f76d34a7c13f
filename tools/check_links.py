"""Check that every internal link of the built book resolves (stdlib only).

Usage: python tools/check_links.py [HTML_DIR]   (default: _build/html)

For every ``*.html`` under HTML_DIR, every ``href``/``src`` (and a redirect's ``<meta http-equiv=
"refresh">`` target) without a scheme or host must name an existing file under HTML_DIR, and its
``#fragment``, if any, an element ``id`` (or ``<a name>``) of the page it points to. External links
(http:, https:, mailto:, ...) are not followed. Fails (exit 1, one line per broken link).
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
LINK_ATTRIBUTES = {"href", "src"}
# pages that are templates shipped by the theme, not pages of the book
SKIP_DIRS = {"_static"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, int]] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in ("id", "name" if tag == "a" else ""):
            if name and a.get(name):
                self.anchors.add(a[name] or "")
        line = self.getpos()[0]
        for name in LINK_ATTRIBUTES & a.keys():
            if tag == "link" and (a.get("rel") or "") in ("canonical",):
                continue
            self.links.append((a[name] or "", line))
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url=(.+)", a.get("content") or "", flags=re.I)
            if match:
                self.links.append((match.group(1).strip().strip("'\""), line))


def parse(path: Path, cache: dict[Path, Page]) -> Page:
    if path not in cache:
        page = Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return cache[path]


def check(html: Path) -> tuple[list[str], int]:
    """The broken links, and how many internal links were checked."""
    if not html.is_dir():
        return [f"{html} does not exist: build the book first"], 0
    html = html.resolve()
    cache: dict[Path, Page] = {}
    problems, checked = [], 0
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] in SKIP_DIRS:
            continue
        for link, line in parse(path, cache).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("javascript:", "data:")) or not link:
                continue
            checked += 1
            where = f"{rel.as_posix()}:{line}: {link}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if html not in target.parents and target != html:
                problems.append(f"{where}: points outside the book ({target})")
                continue
            if not target.is_file():
                problems.append(f"{where}: no such file {target.relative_to(html).as_posix()}")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in parse(target, cache).anchors:
                problems.append(f"{where}: no anchor #{fragment} in {target.relative_to(html).as_posix()}")
    return problems, checked


def main(argv: list[str]) -> int:
    html = Path(argv[1]) if len(argv) > 1 else ROOT / "_build" / "html"
    problems, checked = check(html)
    for problem in problems:
        print(f"check_links: FAIL: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_links: OK ({checked} internal links in {html})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

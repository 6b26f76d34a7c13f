"""Check a built book: run after `jupyter-book build .` (stdlib only).

Usage: python .ci/check_book.py [HTML_DIR]   (default: _build/html next to this folder)

Fails (exit 1, one line per problem) unless
- the landing page exists;
- MathJax is the vendored copy: no page loads a script from a CDN, every page with math loads
  _static/tex-chtml-full.js, and that file and its woff-v2 fonts are in _static/;
- each chapter page exists and shows no error output (traceback or stderr from an executed cell);
- no cell of a chapter shows its printed output in many boxes: at most twice one per gap between its
  other outputs (the book merges a cell's printed output, nb_merge_streams; the cells whose text
  alternates with figures are not merged, and the kernel may split a print there; a progress bar
  printed piece by piece would be hundreds of boxes);
- no folded cell keeps myst-nb's generic label: solutions say they are solutions;
- each chapter page has an "edit this page" link and the date its source last changed;
- no page shows the theme's second, empty header (pydata-sphinx-theme's navbar, ``#pst-header``, kept
  empty and not displayed by _templates/layout.html).
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

MATHJAX = "tex-chtml-full.js"
# MathJax resolves its fonts relative to the script: [mathjax]/output/chtml/fonts/woff-v2.
FONTS = Path("output", "chtml", "fonts", "woff-v2")
CDN_MARKERS = ("cdn.jsdelivr", "mathjax@", "unpkg", "cdnjs", "polyfill.io")
ROOT = Path(__file__).resolve().parent.parent
# Every chapter notebook must become a page of the book.
CHAPTERS = sorted(
    p.relative_to(ROOT).with_suffix(".html").as_posix()
    for p in (ROOT / "chapters").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)
# How myst-nb marks outputs that must not appear in the book (class tokens on the output block).
ERROR_OUTPUTS = {"traceback": "a traceback", "stderr": "output on stderr"}
# myst-nb's label of a folded cell when the cell sets none (code_prompt_show)
GENERIC_PROMPT = "Show code cell"


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.has_math = False
        self.error_outputs: set[str] = set()
        self.traceback_text = False
        self.generic_prompt = False
        self.edit_link = False
        self.second_header = False
        self.last_updated = False
        #: per code cell, the number of printed-output (stream) boxes and of other output boxes
        self.stream_boxes: list[int] = []
        self.other_boxes: list[int] = []
        self._cell_depth = 0  # open <div>s of the current cell; 0 outside cells

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if tag == "header" and a.get("id") == "pst-header":
            self.second_header = "display: none" not in (a.get("style") or "")
        if tag == "a" and "/edit/" in (a.get("href") or ""):
            self.edit_link = True
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"] or "")
        if tag in ("span", "div") and "math" in classes:
            self.has_math = True
        if tag == "div" and "cell" in classes:
            self.stream_boxes.append(0)
            self.other_boxes.append(0)
            self._cell_depth = 0
        if tag == "div" and (self._cell_depth or "cell" in classes):
            self._cell_depth += 1
        if "output" in classes:
            self.error_outputs |= classes & ERROR_OUTPUTS.keys()
            if self._cell_depth:
                (self.stream_boxes if "stream" in classes else self.other_boxes)[-1] += 1
        elif tag == "img" and self._cell_depth:  # a figure among the cell's outputs
            self.other_boxes[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._cell_depth:
            self._cell_depth -= 1

    def handle_data(self, data: str) -> None:
        if "Traceback (most recent call last)" in data:
            self.traceback_text = True
        if GENERIC_PROMPT in data:
            self.generic_prompt = True
        if "Last updated on" in data:
            self.last_updated = True


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def check(html: Path) -> list[str]:
    if not html.is_dir():
        return [f"{html} does not exist: build the book first (jupyter-book build . -W -n --keep-going)"]
    problems = []
    if not (html / "index.html").is_file() and not (html / "intro.html").is_file():
        problems.append(f"no landing page: neither {html}/index.html nor {html}/intro.html exists")

    mathjax = html / "_static" / MATHJAX
    if not mathjax.is_file():
        problems.append(f"vendored MathJax missing: {mathjax} (html_static_path should list _vendor/mathjax)")
    if not any((html / "_static" / FONTS).glob("*.woff")):
        problems.append(f"no MathJax fonts in {html / '_static' / FONTS}")

    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html).as_posix()
        page = parse(path)
        for src in page.scripts:
            if any(marker in src for marker in CDN_MARKERS):
                problems.append(f"{rel}: loads a script from a CDN: {src}")
        if page.second_header:
            problems.append(
                f"{rel}: has the theme's second, empty header (#pst-header; _templates/layout.html)"
            )
        if page.has_math:
            local = [
                (path.parent / urlsplit(src).path).resolve()
                for src in page.scripts
                if not urlsplit(src).scheme and urlsplit(src).path.endswith(MATHJAX)
            ]
            if mathjax.resolve() not in local:
                problems.append(f"{rel}: has math but does not load the vendored _static/{MATHJAX}")

    for chapter in CHAPTERS:
        path = html / chapter
        if not path.is_file():
            problems.append(f"chapter page missing: {path} (is it in _toc.yml?)")
            continue
        page = parse(path)
        for cls in sorted(page.error_outputs):
            problems.append(f"{chapter}: an executed cell shows {ERROR_OUTPUTS[cls]} (class 'output {cls}')")
        if page.traceback_text and "traceback" not in page.error_outputs:
            problems.append(f"{chapter}: contains 'Traceback (most recent call last)'")
        for streams, others in zip(page.stream_boxes, page.other_boxes, strict=True):
            if streams > 2 * (others + 1):
                problems.append(
                    f"{chapter}: a cell shows its printed output in {streams} boxes around {others} other "
                    "outputs (nb_merge_streams)"
                )
                break
        if not page.edit_link:
            problems.append(f"{chapter}: no 'edit this page' link (html.use_edit_page_button)")
        if not page.last_updated:
            problems.append(f"{chapter}: no 'Last updated on' date (tools/lossref_book.py, from git)")
        if page.generic_prompt:
            problems.append(
                f"{chapter}: a folded cell is labelled '{GENERIC_PROMPT} ...' (set code_prompt_show)"
            )
    return problems


def main(argv: list[str]) -> int:
    html = Path(argv[1]) if len(argv) > 1 else ROOT / "_build" / "html"
    problems = check(html)
    for problem in problems:
        print(f"check_book: FAIL: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_book: OK ({html})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

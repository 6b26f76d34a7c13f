"""tools/check_browser.py fails on pages a reader would see broken, and passes a good one.

Synthetic pages in a temporary folder, loaded in headless Chromium like the built book: one whose
math MathJax renders (vendored copy), one whose MathJax path is broken, one with a TeX error, one
with a missing image, one that calls out to the network, one with a console error; and the layout:
code that scrolls instead of fitting, a box that clips, a page wider than a phone, a wide equation
that scrolls in its own box (allowed), Chinese text unmarked and marked. Skipped when no
Chromium is installed, unless LOSSREF_REQUIRE_BROWSER=1 (set by .ci/run and the workflows).
"""

from __future__ import annotations

import os
import struct
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MATHJAX = ROOT / "_vendor" / "mathjax" / "tex-chtml-full.js"

sys.path.insert(0, str(ROOT / "tools"))
import book_lang  # noqa: E402
import check_browser  # noqa: E402

BROWSER = check_browser.find_browser()
if BROWSER is None and os.environ.get("LOSSREF_REQUIRE_BROWSER") != "1":
    pytest.skip("no Chromium installed (apt-get install chromium)", allow_module_level=True)


def png(width: int, height: int) -> bytes:
    """A valid grey PNG, so the passing page has an image that loads."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


MATHJAX_CLASSES = "tex2jax_process|mathjax_process|math|output_area"
WIDE = "x" * 120  # a word no box of the page holds
WIDE_TEX = " + ".join(f"x_{{{i}}}" for i in range(60))
BCE_TEX = "\\ell(p, y) = -\\left[ y \\log p + (1 - y) \\log(1 - p) \\right]"


def page(mathjax_src: str, body: str) -> str:
    # what Sphinx writes: the MathJax options, then the deferred script; math in class="math" elements
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title>
<script>window.MathJax = {{"options": {{"processHtmlClass": "{MATHJAX_CLASSES}"}}}}</script>
<script defer="defer" src="{mathjax_src}"></script></head>
<body><p>Inline <span class="math notranslate nohighlight">\\(\\sigma(x) - y\\)</span>, and</p>
<div class="math notranslate nohighlight">\\[{BCE_TEX}\\]</div>
<pre>code may show \\( and $$ verbatim</pre>
{body}</body></html>"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, check_browser.PageResult]:
    site = tmp_path_factory.mktemp("site")
    (site / "plot.png").write_bytes(png(40, 30))
    good = MATHJAX.as_uri()
    pages = {
        "good": page(good, '<img src="plot.png" alt="a plot">'),
        "broken_mathjax_path": page("_static/no-such-mathjax.js", ""),
        "tex_error": page(good, '<span class="math">\\(\\frac{1}\\)</span>'),
        "undefined_macro": page(good, '<span class="math">\\(\\undefinedmacro x\\)</span>'),
        "missing_image": page(good, '<img src="missing.png" alt="gone">'),
        "network": page(good, '<img src="https://example.com/plot.png" alt="remote">'),
        "console_error": page(good, "<script>console.error('boom')</script>"),
        # the layout, in a 600 px column as the book's
        "code_scrolls": page(
            good, f'<main style="max-width:600px"><pre style="overflow:auto">{WIDE}</pre></main>'
        ),
        "clipped": page(good, f'<main><div style="width:300px;overflow:hidden"><p>{WIDE}</p></div></main>'),
        "too_wide_for_a_phone": page(good, '<main><div style="width:500px">a fixed width</div></main>'),
        "wide_equation": page(
            good,
            f'<main style="width:300px"><div class="math" style="overflow:auto">'
            f"\\[{WIDE_TEX}\\]</div></main>",
        ),
        "package_source": page(
            good,
            '<main style="max-width:600px"><div class="package-source">'
            f'<pre style="overflow:auto">{WIDE}</pre></div></main>',
        ),
        "chinese_unmarked": page(good, "<p>默认为True</p>"),
        "chinese_marked": page(good, f"<p>{book_lang.mark_chinese('默认为True')}</p>"),
    }
    for name, html in pages.items():
        (site / f"{name}.html").write_text(html, encoding="utf-8")
    found = check_browser.check_pages(
        sorted(site.glob("*.html")), site, tmp_path_factory.mktemp("shots"), BROWSER
    )
    return {Path(r.path).stem: r for r in found}


def test_a_page_whose_math_renders_passes(results):
    good = results["good"]
    assert good.problems == []
    assert good.info["mathjax"] == "typeset"
    assert good.info["typeset"] == 2  # both equations became mjx-container elements
    assert good.info["images"] == 1 and good.info["broken"] == []
    assert good.screenshot is not None and good.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_broken_mathjax_path_fails(results):
    problems = results["broken_mathjax_path"].problems
    assert any("MathJax did not typeset the page" in p for p in problems), problems
    assert any("raw TeX delimiter" in p and "\\(" in p for p in problems), problems
    assert any("no-such-mathjax.js" in p for p in problems), problems  # the failed load is logged


def test_a_tex_error_fails(results):
    problems = results["tex_error"].problems
    assert any(p == "MathJax error: Missing argument for \\frac" for p in problems), problems


def test_an_undefined_macro_fails(results):
    problems = results["undefined_macro"].problems
    assert any("undefined control sequence \\undefinedmacro" in p for p in problems), problems


def test_a_missing_image_fails(results):
    problems = results["missing_image"].problems
    assert any("image did not load: missing.png" in p for p in problems), problems


def test_a_request_off_the_machine_fails_and_is_blocked(results):
    problems = results["network"].problems
    assert any("request leaves the machine: https://example.com/plot.png" in p for p in problems), problems
    assert any("image did not load: https://example.com/plot.png" in p for p in problems), problems


def test_a_console_error_fails(results):
    problems = results["console_error"].problems
    assert any(p == "console error: boom" for p in problems), problems


def test_code_that_scrolls_instead_of_fitting_fails_at_the_desktop_width_only(results):
    problems = results["code_scrolls"].problems
    assert any(
        p.startswith("1 element(s) scroll instead of fitting at 1280 px, e.g. pre") for p in problems
    ), problems
    assert not any("at 390 px" in p for p in problems), problems  # on a phone, code may scroll


def test_a_box_that_hides_what_overflows_it_fails_at_both_widths(results):
    problems = results["clipped"].problems
    for width in check_browser.WIDTHS:
        assert any(p.startswith(f"1 element(s) clipped at {width} px, e.g. div") for p in problems), problems


def test_a_page_wider_than_a_phone_fails_and_names_the_element(results):
    problems = results["too_wide_for_a_phone"].problems
    assert problems == ["the page is 508 px wide at 390 px: div (500 px in 500): a fixed width"], problems


def test_a_wide_display_equation_may_scroll_in_its_own_box(results):
    result = results["wide_equation"]
    assert result.problems == []
    assert [layout["scrolling"] for layout in result.info["layout"]] == [1, 1]  # it does scroll


def test_unmarked_chinese_fails(results):
    problems = results["chinese_unmarked"].problems
    assert problems == ["1 run(s) of Chinese text not marked lang=zh-Hans, e.g. '默认为True'"], problems


def test_marked_chinese_passes_drawn_with_a_chinese_font(results):
    result = results["chinese_marked"]
    assert result.problems == []
    ((html, fonts),) = result.info["chinese"]
    assert html == '<span lang="zh-Hans">默认为</span>'
    assert check_browser.chinese_fonts().intersection(fonts), fonts


def test_mark_chinese_wraps_runs_in_text_and_leaves_tags_and_scripts():
    html = '<p title="标题">损失 loss，函数</p><script>var s = "中文";</script><pre># 注释</pre>'
    assert book_lang.mark_chinese(html) == (
        '<p title="标题"><span lang="zh-Hans">损失</span> loss，<span lang="zh-Hans">函数</span></p>'
        '<script>var s = "中文";</script><pre># <span lang="zh-Hans">注释</span></pre>'
    )


def test_chinese_drawn_with_a_font_that_lacks_it_fails():
    """What the check reports on a machine without a Chinese font: Chromium's fallback, whose empty
    boxes stand in for the characters, is not a font fontconfig lists for Chinese."""
    info = {"mathElements": 0, "rawCount": 0, "mathErrors": [], "broken": []}
    info["chinese"] = [('<span lang="zh-Hans">默认为</span>', ["DejaVu Sans"])]
    info["chinese"].append(('<span lang="zh-Hans">元素</span>', []))  # not drawn: not counted
    assert check_browser.page_problems(info) == [
        "1 run(s) of Chinese text drawn without a Chinese font (DejaVu Sans), e.g. "
        '<span lang="zh-Hans">默认为</span>'
    ]


def test_the_packages_source_quoted_at_its_own_width_may_scroll(results):
    result = results["package_source"]
    assert result.problems == []
    assert [layout["scrolling"] for layout in result.info["layout"]] == [1, 1]

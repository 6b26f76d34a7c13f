"""tools/check_links.py: internal links of a built book must resolve to files and anchors."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import check_links  # noqa: E402


def test_good_links_pass_and_broken_ones_fail(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />')
    (tmp_path / "intro.html").write_text(
        '<h1 id="top">t</h1><a href="sub/page.html#sec">ok</a><a href="#top">ok</a>'
        '<img src="sub/plot.png"><a href="https://example.com/x#y">external, not followed</a>'
        '<a href="sub/page.html#nowhere">bad anchor</a><a href="gone.html">bad file</a>'
        '<script src="../outside.js"></script>'
    )
    (tmp_path / "sub" / "page.html").write_text(
        '<section id="sec"><a href="../intro.html#top">up</a></section>'
    )
    (tmp_path / "sub" / "plot.png").write_bytes(b"png")
    problems, checked = check_links.check(tmp_path)
    assert checked == 8
    assert len(problems) == 3, problems
    assert "intro.html:1: sub/page.html#nowhere: no anchor #nowhere in sub/page.html" in problems
    assert "intro.html:1: gone.html: no such file gone.html" in problems
    assert any("../outside.js: points outside the book" in p for p in problems)


def test_a_missing_redirect_target_fails(tmp_path):
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />')
    problems, _ = check_links.check(tmp_path)
    assert problems == ["index.html:1: intro.html: no such file intro.html"]

"""The landing page's figure (tools/book_figure.py) draws every per-element and per-sample registry
loss of a score or a prediction, with the values the losses have."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from lossref.registry import LOSSES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import book_figure  # noqa: E402


@pytest.fixture(scope="module")
def curves() -> dict[str, dict]:
    return {
        domain: {
            name: (x, loss, grad) for name, x, loss, grad in book_figure.curves(domain, lo, hi, points=9)
        }
        for domain, (_, (lo, hi)) in book_figure.PANELS.items()
    }


def test_every_loss_that_scores_one_number_is_drawn_and_no_other(curves):
    for spec in LOSSES:
        drawn = (
            spec.target in ("elementwise", "class indices")
            and spec.domain in book_figure.PANELS
            and [a.name for a in spec.args] == ["input", "target"]
        )
        assert (spec.name in curves.get(spec.domain, {})) == drawn, spec.name


def test_the_curves_hold_the_losses_values(curves):
    """Hand-worked points: at a logit of 0 (p = 1/2) binary and two-class cross-entropy are ln 2 with
    gradient -1/2; at a residual of -3 the L1 loss is 3 with gradient -1, the squared error 9 with -6."""
    x, loss, grad = curves["logits"]["binary_cross_entropy_with_logits"]
    assert x[4] == 0 and math.isclose(loss[4], math.log(2)) and math.isclose(grad[4], -0.5)
    x, loss, grad = curves["logits"]["cross_entropy"]
    assert math.isclose(loss[4], math.log(2)) and math.isclose(grad[4], -0.5)
    x, loss, grad = curves["predictions"]["l1_loss"]
    assert x[0] == -3 and loss[0] == 3 and grad[0] == -1
    x, loss, grad = curves["predictions"]["mse_loss"]
    assert loss[0] == 9 and grad[0] == -6


def test_the_curves_that_the_caption_says_coincide_do_along_the_whole_curve(curves):
    """intro.md's caption: binary cross-entropy with logits is two-class cross-entropy, and the Huber
    loss is smooth L1 at 1. Loss and gradient agree at every drawn point; a logit-only coincidence
    at 0 (or a shared residual of 0) would not be enough."""
    caption = (ROOT / "intro.md").read_text(encoding="utf-8")
    assert "binary cross-entropy with logits is\ntwo-class cross-entropy" in caption
    assert "the Huber loss is smooth L1 at 1" in caption
    for domain, a, b in [
        ("logits", "binary_cross_entropy_with_logits", "cross_entropy"),
        ("predictions", "huber_loss", "smooth_l1_loss"),
    ]:
        (xa, la, ga), (xb, lb, gb) = curves[domain][a], curves[domain][b]
        assert list(xa) == list(xb) and len(xa) == 9
        for u, v in [*zip(la, lb, strict=True), *zip(ga, gb, strict=True)]:
            assert math.isclose(u, v, rel_tol=1e-6, abs_tol=1e-12), (a, b)
    # and two losses that do not coincide are told apart by the same comparison
    assert not all(
        math.isclose(u, v, rel_tol=1e-6)
        for u, v in zip(
            curves["predictions"]["l1_loss"][1], curves["predictions"]["mse_loss"][1], strict=True
        )
    )


def test_the_figure_is_drawn(tmp_path):
    book_figure.draw(tmp_path / "losses.png")
    assert (tmp_path / "losses.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

"""Sphinx extension: the landing page's figure, drawn from the registry each time the book is built.

Every per-element and per-sample loss of :data:`lossref.registry.LOSSES` whose input is a score or a
prediction, and its gradient by autograd, on one figure: the classification losses against the
score of the true class (an elementwise loss's logit with target 1; for a class-index loss, the logit
of the true class over a second class at 0), the regression losses against the residual (prediction
minus a target of 0). Region losses score a whole image, not a number, and are left out. A loss
added to the registry appears at the next build. The image is written to _generated/ (not tracked),
where intro.md shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

#: where intro.md finds the image, relative to the book's source folder
FIGURE = Path("_generated") / "losses.png"
#: the axes: for each panel, which losses (by what their input holds) and the x axis
PANELS = {
    "logits": ("classification: score of the true class", (-4.0, 4.0)),
    "predictions": ("regression: residual (prediction - target)", (-3.0, 3.0)),
}

STYLES = ("-", "--", "-.", ":")


def curves(domain: str, lo: float, hi: float, points: int = 401) -> list[tuple[str, Any, Any, Any]]:
    """``(name, x, loss, gradient)`` of every per-element or per-sample registry loss of ``domain``."""
    import torch

    from lossref.registry import LOSSES

    found = []
    for spec in LOSSES:
        # a third tensor (a variance) has no axis on this figure
        two_tensors = [a.name for a in spec.args] == ["input", "target"]
        if spec.domain != domain or spec.target not in ("elementwise", "class indices") or not two_tensors:
            continue
        x = torch.linspace(lo, hi, points, dtype=torch.float64, requires_grad=True)
        if spec.target == "class indices":  # two classes, the true one first, the other at 0
            scores = torch.stack([x, torch.zeros_like(x)], dim=1)
            target = torch.zeros(points, dtype=torch.long)
        else:
            scores, target = x, torch.full_like(x, 1.0 if domain == "logits" else 0.0)
        loss = spec.function(scores, target, reduction="none")
        (grad,) = torch.autograd.grad(loss.sum(), x)
        found.append((spec.name, x.detach().numpy(), loss.detach().numpy(), grad.numpy()))
    return found


def draw(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharex="col", layout="constrained")
    for column, (domain, (label, (lo, hi))) in enumerate(PANELS.items()):
        for i, (name, x, loss, grad) in enumerate(curves(domain, lo, hi)):
            # some losses coincide here (BCE with logits and two-class cross-entropy; Huber and
            # smooth L1 at 1): a dash pattern each keeps both visible
            style = {"label": name, "linestyle": STYLES[i % len(STYLES)], "linewidth": 1.6}
            axes[0, column].plot(x, loss, **style)
            axes[1, column].plot(x, grad, **style)
        axes[0, column].set_ylim(-0.1, 4.0)
        axes[1, column].set_ylim(-1.6, 1.6)
        axes[0, column].set_title(label, fontsize=10)
        axes[0, column].legend(fontsize=7, loc="upper center" if column else "upper right")
        axes[1, column].set_xlabel(label.split(": ")[1])
        for row in axes[:, column]:
            row.axhline(0, color="grey", linewidth=0.5)
            row.grid(alpha=0.3)
    axes[0, 0].set_ylabel("loss")
    axes[1, 0].set_ylabel("gradient")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_figure(app: Sphinx) -> None:
    draw(Path(app.srcdir) / FIGURE)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", draw_figure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""The ways to call the backward of the softmax losses (cross-entropy, Poly-1, softmax focal), for their
tests.

Each loss has one numerical path, which must give the same numbers without a per-class weight, with
one, with one that requires a gradient, and with a differentiable gradient (create_graph). Tests that a
behaviour holds in every mode run each case through :func:`loss_and_gradients` once per entry of
:data:`PATHS`.
"""

import torch

PATHS = ["unweighted", "weighted", "weight requires grad", "create_graph"]


def loss_and_gradients(fn, x, t, path, weight_name="weight", low=0.5, high=2.0, **options):
    """The loss and its gradients for x (and the class weight, when it requires grad) through one
    backward path, and the class weight used (None on the unweighted path). The weight, passed as
    ``weight_name``, runs linearly from ``low`` to ``high`` over the classes."""
    x = x.clone().requires_grad_(True)
    weight = None
    if path != "unweighted":
        weight = torch.linspace(low, high, x.shape[1], dtype=x.dtype).requires_grad_(
            path == "weight requires grad"
        )
    loss = fn(x, t, **{weight_name: weight}, **options)
    wrt = [x, weight] if path == "weight requires grad" else [x]
    grads = torch.autograd.grad(loss.sum(), wrt, create_graph=path == "create_graph")
    return loss.detach(), [g.detach() for g in grads], None if weight is None else weight.detach()

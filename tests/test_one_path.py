"""One numerical path per loss: the same numbers in every autograd mode, and every loss under torch.func.

A loss written twice (a derived backward, and a composite that autograd differentiates for
``create_graph`` or for a weight's gradient) drifts: the accuracy it advertises then depends on
autograd flags. These tests call every registry loss, at the oracle grid's points (confident ones
included) and on random inputs scaled up to confident ones, in each mode a user meets:

- plain ``backward()``;
- ``torch.autograd.grad(..., create_graph=True)`` (gradient penalties, second derivatives);
- every other differentiable tensor (weight, pos_weight, alpha, a soft target) requiring a gradient;
- ``torch.func.vjp`` and ``torch.func.grad`` (the functional API of Opacus and meta-learning code);

and require the value and each gradient to agree to 2 ulp. Per-sample gradients by
``vmap(grad(...))`` and ``jacrev`` are compared with loops of eager autograd.
"""

import importlib
import inspect
import math
import pkgutil

import pytest
import torch
from conftest import SPECS
from test_oracle import (
    LOGITS,
    PREDICTIONS,
    REGION_LOGITS,
    REGRESSION_TARGETS,
    TARGETS,
    grid_points,
    grid_tensors,
)
from torch.func import grad, jacrev, vjp, vmap

import lossref
from lossref._inputs import LossInputs
from lossref.registry import Symbolic

SYMBOLIC = [s for s in SPECS if isinstance(s.oracle, Symbolic)]
DTYPES = [torch.float32, torch.float64]


def assert_within_ulps(a, b, what, ulps=2):
    """``a`` and ``b`` equal, NaN where the other is NaN, or within ``ulps`` units in the last place."""
    a, b = a.detach(), b.detach()
    assert a.shape == b.shape, f"{what}: shapes {tuple(a.shape)} and {tuple(b.shape)}"
    same = (a == b) | (a.isnan() & b.isnan())
    big = torch.maximum(a.abs(), b.abs())
    spacing = torch.nextafter(big, torch.full_like(big, math.inf)) - big
    bad = ~(same | ((a - b).abs() <= ulps * spacing))
    assert not bad.any(), (
        f"{what}: {int(bad.sum())} of {a.numel()} differ by more than {ulps} ulp, "
        f"e.g. {a[bad][0].item()!r} and {b[bad][0].item()!r}"
    )


def in_every_mode(fn, x, others):
    """(value, gradients) of ``fn(x, **others)`` (elementwise, summed for the gradients) in each mode:
    the gradient of ``x`` alone, then of ``x`` and every tensor in ``others``."""
    results = {}
    for name, wrt in (("x", ()), ("all", tuple(others))):

        def call(x_, *extra, wrt=wrt):
            return fn(x_, **{**others, **dict(zip(wrt, extra, strict=True))})

        primals = (x, *(others[k] for k in wrt))
        leaves = [t.detach().clone().requires_grad_(True) for t in primals]
        value = call(*leaves)
        value.sum().backward()
        results[f"backward, wrt {name}"] = (value, *(t.grad for t in leaves))
        leaves = [t.detach().clone().requires_grad_(True) for t in primals]
        value = call(*leaves)
        results[f"create_graph, wrt {name}"] = (
            value,
            *torch.autograd.grad(value.sum(), leaves, create_graph=True),
        )
        value, pullback = vjp(call, *primals)
        results[f"torch.func.vjp, wrt {name}"] = (value, *pullback(torch.ones_like(value)))
        summed = grad(lambda *a: call(*a).sum(), argnums=tuple(range(len(primals))))(*primals)
        results[f"torch.func.grad, wrt {name}"] = (None, *summed)
    return results


def assert_one_path(fn, x, others, where):
    results = in_every_mode(fn, x, others)
    first = results["backward, wrt x"]
    full = results["backward, wrt all"]
    for mode, parts in results.items():
        reference = full if mode.endswith("all") else first
        if parts[0] is not None:
            assert_within_ulps(parts[0], first[0], f"{where}: value, {mode}")
        for k, (got, expected) in enumerate(zip(parts[1:], reference[1:], strict=True)):
            assert_within_ulps(got, expected, f"{where}: gradient {k}, {mode}")
        assert_within_ulps(parts[1], first[1], f"{where}: gradient of input, {mode}")


def differentiable_options(spec, options):
    return {k: v for k, v in options.items() if isinstance(v, torch.Tensor) and k in spec.differentiable}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("spec", SYMBOLIC, ids=lambda s: s.name)
def test_oracle_grid_gives_the_same_numbers_in_every_mode(spec, dtype):
    inputs, targets = (PREDICTIONS, REGRESSION_TARGETS) if spec.domain == "predictions" else (LOGITS, TARGETS)
    if spec.target == "region":
        inputs = REGION_LOGITS
    inputs, targets = spec.oracle.inputs or inputs, spec.oracle.targets or targets  # as the oracle's grid
    for setting in spec.oracle.settings:
        x, target, options = grid_tensors(spec, dtype, grid_points(spec, inputs, targets, setting))
        others = differentiable_options(spec, options)
        if "target" in spec.differentiable:
            others["target"] = target
        fixed = {k: v for k, v in options.items() if k not in others}
        if "target" not in others:
            fixed["target"] = target

        def fn(x_, fixed=fixed, **kw):
            kw = {**fixed, **kw}
            return spec.function(x_, kw.pop("target"), reduction="none", **kw, **spec.keywords)

        assert_one_path(fn, x.detach(), others, f"{spec.name} {setting}")


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("scale", [1.0, 30.0], ids=["moderate", "confident"])
def test_random_inputs_give_the_same_numbers_in_every_mode(spec, scale, reduction):
    inputs = spec.make_inputs((4, 3, 5) if spec.target == "region" else (6, 4), seed=7, weighted=True)
    x = inputs.input * scale if spec.domain == "logits" else inputs.input
    tensors = {**inputs.args, **inputs.options, **inputs.parameters}
    first = next(iter(inputs.args))
    others = {k: v for k, v in tensors.items() if k in spec.differentiable and k != first}

    def fn(x_, **kw):
        return spec.call(inputs.replace(**{first: x_}, **kw), reduction=reduction)

    assert_one_path(fn, x, others, f"{spec.name} x {scale}")


# -- torch.func ---------------------------------------------------------------------------------------


def leaves_and_call(spec, inputs, reduction):
    """The differentiable tensors of ``inputs`` by name, and the loss as a function of them."""
    present = {**inputs.args, **inputs.options, **inputs.parameters}
    wrt = [name for name in spec.differentiable if name in present]

    def f(*tensors):
        return spec.call(inputs.replace(**dict(zip(wrt, tensors, strict=True))), reduction=reduction)

    return [present[n] for n in wrt], f


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_torch_func_grad_equals_autograd(spec, reduction):
    inputs = spec.make_inputs((3, 4), seed=5, dtype=torch.float64, weighted=True)
    primals, f = leaves_and_call(spec, inputs, reduction)
    leaves = [t.clone().requires_grad_(True) for t in primals]
    value = f(*leaves)
    expected = torch.autograd.grad(value, leaves)
    got, got_value = torch.func.grad_and_value(f, argnums=tuple(range(len(primals))))(*primals)
    assert_within_ulps(got_value, value, f"{spec.name}: value")
    for name, g, e in zip(spec.differentiable, got, expected, strict=False):
        assert_within_ulps(g, e, f"{spec.name}: gradient of {name}")


def test_jacrev_equals_the_autograd_jacobian(spec):
    inputs = spec.make_inputs((2, 3), seed=6, dtype=torch.float64, weighted=True)
    name = next(iter(inputs.args))

    def f(x):
        return spec.call(inputs.replace(**{name: x}), reduction="none")

    expected = torch.autograd.functional.jacobian(f, inputs.input)
    torch.testing.assert_close(jacrev(f)(inputs.input), expected, rtol=1e-13, atol=1e-15)


def per_sample(spec, inputs):
    """The tensors vmap runs over (the positional arguments and the options computed from the target),
    and the loss of one sample as a function of them, the sample kept as a batch of one."""
    precomputed = spec.precompute(inputs) if spec.precompute else {}
    batched = {**inputs.args, **precomputed}
    names = list(batched)
    wrt = tuple(k for k, name in enumerate(names) if name in spec.differentiable)
    # the loss's keyword options include the precomputed ones, one sample's each
    inputs = LossInputs(inputs.args, {**inputs.options, **precomputed}, inputs.parameters)

    def loss(*tensors):
        one = {name: t.unsqueeze(0) for name, t in zip(names, tensors, strict=True)}
        return spec.call(inputs.replace(**one), reduction="sum")

    return list(batched.values()), wrt, loss


def test_per_sample_gradients_by_vmap(spec):
    inputs = spec.make_inputs((4, 3, 5) if spec.target == "region" else (4, 3), seed=8, dtype=torch.float64)
    tensors, wrt, loss = per_sample(spec, inputs)
    per_sample_grad = vmap(grad(loss, argnums=wrt))
    if spec.no_vmap:
        with pytest.raises(ValueError, match="vmap"):
            per_sample_grad(*tensors)
        return
    got = per_sample_grad(*tensors)
    for i in range(tensors[0].shape[0]):
        leaves = [t[i].clone().requires_grad_(k in wrt) for k, t in enumerate(tensors)]
        expected = torch.autograd.grad(loss(*leaves), [leaves[k] for k in wrt])
        for g, e in zip(got, expected, strict=True):
            torch.testing.assert_close(g[i], e, rtol=1e-12, atol=1e-15)


# -- the Functions ----------------------------------------------------------------------------------


def functions():
    """Every ``autograd.Function`` defined in lossref's modules."""
    found = []
    for info in pkgutil.iter_modules(lossref.__path__):
        module = importlib.import_module(f"lossref.{info.name}")
        for obj in vars(module).values():
            defined_here = inspect.isclass(obj) and obj.__module__ == module.__name__
            if defined_here and issubclass(obj, torch.autograd.Function):
                found.append(obj)
    return found


def test_every_function_supports_torch_func():
    """setup_context (torch.func refuses a forward that takes ctx) and a vmap rule, on every Function."""
    found = functions()
    assert found, "lossref has autograd.Functions: _primitives' sigmoid pair and log-softmax at least"
    for fn in found:
        assert "setup_context" in vars(fn), f"{fn.__qualname__} has no setup_context"
        assert "ctx" not in inspect.signature(fn.forward).parameters, f"{fn.__qualname__}.forward takes ctx"
        assert vars(fn).get("generate_vmap_rule") or "vmap" in vars(fn), f"{fn.__qualname__} has no vmap rule"

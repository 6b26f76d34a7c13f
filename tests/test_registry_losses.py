"""The checks every registered loss gets (kornia's per-loss template), driven by the registry.

smoke, cardinality per reduction, gradcheck in float64, module == function, state of the module
(buffers, parameters, device moves), batch independence, the shared exceptions, and differential
tests against torch's kernel. Every test reads what it needs from the loss's registry entry (its
arguments, options, parameters, layout); none branches on a loss's name. The fixture entries of
tests/fixture_losses.py (lengths, a learnable parameter) run through the same tests.
Losses with class-index targets get their option-by-option torch comparison in tests/test_cross_entropy.py.
"""

import inspect
import re
import typing
import warnings
from typing import Optional

import pytest
import torch
from conftest import SPECS
from hypothesis import given
from hypothesis import strategies as st
from torch import Tensor

import lossref
from lossref.registry import LOSSES, UTILITIES, Reference, Symbolic

REDUCTIONS = ["none", "mean", "sum"]
TORCH_BACKED = [s for s in SPECS if s.torch_function is not None]
ELEMENTWISE = [s for s in LOSSES if s.target == "elementwise"]
# elementwise losses with an elementwise ``weight`` option (smooth_l1_loss, for one, has none)
WEIGHTED_ELEMENTWISE = [s for s in ELEMENTWISE if "weight" in [o.name for o in s.options]]
# input shapes: () is an elementwise scalar; (7,) is one sample of 7 class scores for class losses
SHAPES = [(), (7,), (4, 3), (2, 3, 4, 5)]


def supports(spec, shape) -> bool:
    """Whether the loss's layout takes an input of this shape (the generators follow the layout)."""
    if spec.target == "sample":
        return len(shape) == 2
    if spec.target == "region":
        return len(shape) >= (2 if spec.region_classes else 1)
    return spec.target == "elementwise" or len(shape) >= 1


SPEC_SHAPES = [
    pytest.param(s, shape, id=f"{s.name}-{shape}") for s in SPECS for shape in SHAPES if supports(s, shape)
]


def small(spec) -> tuple[int, ...]:
    """A small input shape for the checks of argument types."""
    return (3, 2) if spec.target == "sample" else (3,)


def option_names(spec) -> list[str]:
    return [o.name for o in spec.options]


def for_torch(spec, options, shape):
    """torch's weighted l1_loss, mse_loss and huber_loss need a weight of exactly the input's shape
    (lossref broadcasts it); for the other elementwise losses expanding it changes nothing."""
    if spec.target != "elementwise":
        return options
    return {k: v.expand(shape) if k == "weight" else v for k, v in options.items()}


# -- the registry is the one place ------------------------------------------------------------------


def test_every_public_loss_is_registered_and_every_registered_loss_is_public():
    registered = {obj.__name__ for s in LOSSES for obj in (s.function, s.module)}
    losses = set(lossref.__all__) - set(UTILITIES)
    assert losses - registered == set(), "public but not in lossref.registry.LOSSES"
    assert registered - losses == set(), "registered but not in lossref.__all__"
    for s in LOSSES:
        assert getattr(lossref, s.function.__name__) is s.function
        assert getattr(lossref, s.module.__name__) is s.module
    assert set(UTILITIES) <= set(lossref.__all__)


def test_entries_are_consistent_with_their_code():
    names = [s.name for s in SPECS]
    assert len(set(names)) == len(names)
    for s in SPECS:
        assert s.function.__name__ == s.name
        params = list(inspect.signature(s.function).parameters)
        # positional tensors first, then the parameters the module owns, in the function's order
        ordered = [a.name for a in s.args] + [p.name for p in s.parameters]
        assert params[: len(ordered)] == ordered, s.name
        assert set(option_names(s)) <= set(params), s.name
        if isinstance(s.oracle, Symbolic):
            assert s.symbolic.name == s.name
        else:
            assert isinstance(s.oracle, Reference) and s.oracle.why and s.no_symbolic == s.oracle.why


# -- smoke, cardinality, empty input ----------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_smoke(spec, device, weighted):
    inputs = spec.make_inputs((5, 3), seed=1, device=device, weighted=weighted)
    loss = spec.call(inputs, reduction="mean")
    assert loss.shape == () and loss.dtype == torch.float32 and loss.device.type == device
    assert torch.isfinite(loss) and (loss >= 0 or not spec.nonnegative)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_warns_only_as_the_registry_says(spec, reduction):
    """A call warns only where the registry says it does by design (``spec.mean_warning``, torch's
    kl_div's 'mean'), exactly once, with that message; the function and the module alike."""
    inputs = spec.make_inputs((5, 3), seed=1)
    expected = [spec.mean_warning] if reduction == "mean" and spec.mean_warning else []
    module = spec.build_module(inputs, reduction=reduction)
    for call in (lambda: spec.call(inputs, reduction=reduction), lambda: module(*inputs.args.values())):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert [str(w.message) for w in caught] == expected


def counted_weight(spec, inputs):
    """The denominator of 'mean': the number of elements or samples, or the weight of the counted
    class targets (a class ``weight`` normalises, as in torch; softmax_focal_loss's ``alpha`` does
    not); for a region loss, the number of (image, class) losses, or their total class weight."""
    if spec.target == "region":
        shape = spec.output_shape(inputs.input.shape)
        if "weight" in inputs.options:
            return inputs.options["weight"].expand(shape).sum()
        return torch.Size(shape).numel()
    if spec.target == "sample":
        return inputs.input.shape[0]
    if spec.target == "elementwise":
        if spec.mean_by_weight and "weight" in inputs.options:
            return inputs.options["weight"].expand(inputs.input.shape).sum()
        return inputs.input.numel()
    keep = inputs.target != -100
    if "weight" not in inputs.options:
        return keep.sum()
    return inputs.options["weight"][inputs.target[keep]].sum()


@pytest.mark.parametrize("spec, shape", SPEC_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cardinality(spec, shape, reduction):
    inputs = spec.make_inputs(shape, seed=2, weighted=len(shape) > 0)
    loss = spec.call(inputs, reduction=reduction)
    assert loss.shape == (spec.output_shape(shape) if reduction == "none" else ())
    each = spec.call(inputs, reduction="none")
    expected = {"none": each, "mean": each.sum() / counted_weight(spec, inputs), "sum": each.sum()}[reduction]
    torch.testing.assert_close(loss, expected.to(loss.dtype))


def test_empty_input_reduces_like_torch(spec):
    inputs = spec.make_inputs((0, 3), seed=0)
    assert torch.isnan(spec.call(inputs, reduction="mean")).item()
    assert spec.call(inputs, reduction="sum").item() == 0.0
    assert spec.call(inputs, reduction="none").shape == spec.output_shape((0, 3))


def test_a_sub_batch_gives_the_slice_of_the_losses(spec):
    """Unless the registry says the loss couples the samples of a batch, the losses of the first
    samples do not depend on the others."""
    inputs = spec.make_inputs((6, 4), seed=9)
    full = spec.call(inputs, reduction="none")
    head = inputs.replace(**{k: v[:2] for k, v in inputs.args.items()})
    sliced = spec.call(head, reduction="none")
    if spec.couples_batch:
        assert not torch.allclose(sliced, full[:2])
    else:
        torch.testing.assert_close(sliced, full[:2], rtol=0, atol=0)


# -- gradients --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_float64(spec, reduction):
    inputs = spec.make_inputs((3, 4), seed=3, dtype=torch.float64, weighted=True)
    present = {**inputs.args, **inputs.options, **inputs.parameters}
    wrt = [name for name in spec.differentiable if name in present]
    assert wrt, "every loss is differentiable in something"

    def f(*tensors):
        return spec.call(inputs.replace(**dict(zip(wrt, tensors, strict=True))), reduction=reduction)

    leaves = tuple(present[n].clone().requires_grad_(True) for n in wrt)
    assert torch.autograd.gradcheck(f, leaves)
    # second derivatives (create_graph=True), e.g. for gradient penalties and Hessian-vector products
    assert torch.autograd.gradgradcheck(f, leaves)


# -- the module form --------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_equals_function(spec, reduction, device):
    inputs = spec.make_inputs((6, 4), seed=4, device=device, weighted=True)
    module = spec.build_module(inputs, reduction=reduction).to(device)
    torch.testing.assert_close(module(*inputs.args.values()), spec.call(inputs, reduction=reduction))


def test_module_keeps_options_as_buffers_and_owns_its_parameters(spec):
    inputs = spec.make_inputs((6, 4), seed=5, weighted=True)
    module = spec.build_module(inputs)
    state = module.state_dict()
    assert set(state) == set(inputs.options) | {p.name for p in spec.parameters}
    zeros = {k: torch.zeros_like(v) for k, v in inputs.options.items()}
    restored = spec.module(**spec.sizes(inputs), **zeros, **spec.keywords)
    restored.load_state_dict(state)
    args = inputs.args.values()
    torch.testing.assert_close(restored(*args), module(*args))
    double = [a.double() if a.is_floating_point() else a for a in args]
    assert module.to(torch.float64)(*double).dtype == torch.float64
    assert "reduction='mean'" in repr(module)


def test_module_creates_and_trains_its_parameters(spec):
    inputs = spec.make_inputs((6, 4), seed=5)
    module = spec.module(**spec.sizes(inputs), **spec.keywords)
    owned = dict(module.named_parameters())
    assert set(owned) == {p.name for p in spec.parameters}
    for p in spec.parameters:
        assert owned[p.name].requires_grad and p.init
        if p.initial is not None:
            assert bool((owned[p.name] == p.initial).all())
    if not owned:
        return
    module(*inputs.args.values()).backward()
    for name, parameter in owned.items():
        assert parameter.grad is not None and bool(parameter.grad.ne(0).any()), name


def test_module_rejects_unknown_reduction(spec):
    with pytest.raises(ValueError, match="reduction must be one of .* got 'avg'"):
        spec.module(reduction="avg", **spec.sizes(spec.make_inputs((6, 4))), **spec.keywords)


# -- shared exceptions: each names the argument and what was found --------------------------------


def test_rejects_unknown_reduction(spec):
    inputs = spec.make_inputs(small(spec))
    with pytest.raises(ValueError, match="reduction must be one of .* got 'max'"):
        spec.call(inputs, reduction="max")


def test_rejects_non_tensors(spec):
    inputs = spec.make_inputs(small(spec))
    for name, value in inputs.args.items():
        with pytest.raises(TypeError, match=f"{name} must be a torch.Tensor, got list"):
            spec.call(inputs.replace(**{name: [value.tolist()]}))
    if "target" in inputs.args:
        with pytest.raises(TypeError, match="target must be a torch.Tensor, got float"):
            spec.call(inputs.replace(target=1.0))


def test_rejects_integer_values(spec):
    """Every argument of real values refuses an integer tensor, naming itself."""
    inputs = spec.make_inputs(small(spec))
    for arg in spec.args:
        if arg.integer or arg.labels:  # labels may come as integers (test_takes_integer_labels)
            continue
        bad = inputs.args[arg.name].round().long()
        with pytest.raises(TypeError, match=f"{arg.name} must have a floating-point dtype, got torch.int64"):
            spec.call(inputs.replace(**{arg.name: bad}))


def test_rejects_options_of_another_dtype(spec):
    # every optional tensor argument: weight, pos_weight, the per-class alpha, a distance map (an
    # optional positional argument, distillation_loss's target, is one of the args, checked with them)
    positional = {a.name for a in spec.args}
    hints = typing.get_type_hints(spec.function).items()
    names = [k for k, t in hints if t == Optional[Tensor] and k not in positional]
    if not names:
        pytest.skip(f"{spec.name} has no optional tensor argument")
    inputs = spec.make_inputs(small(spec))
    first = spec.args[0].name
    for name in names:
        expected = f"{name} has dtype torch.float64 but {first} has dtype torch.float32"
        with pytest.raises(TypeError, match=expected):
            spec.call(inputs, **{name: torch.ones(3, dtype=torch.float64)})


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=lambda s: s.name)
def test_rejects_target_of_another_dtype(spec):
    inputs = spec.make_inputs((3,))
    first = spec.args[0].name
    with pytest.raises(
        TypeError, match=f"target has dtype torch.float64 but {first} has dtype torch.float32"
    ):
        spec.call(inputs.replace(target=inputs.target.double()))


def label_args(spec) -> list[str]:
    return [a.name for a in spec.args if a.labels]


@pytest.mark.parametrize("spec", [s for s in ELEMENTWISE if not label_args(s)], ids=lambda s: s.name)
def test_rejects_integer_targets_with_the_fix(spec):
    inputs = spec.make_inputs((3,))
    with pytest.raises(
        TypeError, match=r"target must have a floating-point dtype, got torch.int64.*target.float\(\)"
    ):
        spec.call(inputs.replace(target=inputs.target.round().long()))


@pytest.mark.parametrize("spec", [s for s in LOSSES if label_args(s)], ids=lambda s: s.name)
def test_takes_integer_labels(spec):
    """Labels (1 and -1, or 0 and 1) give the same loss as integers, as torch's own tests pass them,
    and refuse bool (whose False torch reads as a third label) with the fix."""
    inputs = spec.make_inputs(small(spec), seed=2)
    for name in label_args(spec):
        labels = inputs.args[name]
        torch.testing.assert_close(spec.call(inputs.replace(**{name: labels.long()})), spec.call(inputs))
        with pytest.raises(TypeError, match=rf"{name} must hold labels as numbers.*got torch.bool; "):
            spec.call(inputs.replace(**{name: labels > 0}))


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=lambda s: s.name)
def test_rejects_shape_mismatch(spec):
    inputs = spec.make_inputs((3, 2))
    expected = f"target must have the shape of {spec.args[0].name} (3, 2), got (3, 1)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        spec.call(inputs.replace(target=inputs.target[:, :1]))


@pytest.mark.parametrize("spec", WEIGHTED_ELEMENTWISE, ids=lambda s: s.name)
@pytest.mark.parametrize("shape", [(4,), (4, 2), (2, 4, 3)])
def test_rejects_weight_that_does_not_broadcast(spec, shape):
    inputs = spec.make_inputs((4, 3))
    expected = f"weight of shape {shape} cannot be broadcast to the input's shape (4, 3)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        spec.call(inputs, weight=torch.ones(shape))


# -- differential test against torch's own kernel ---------------------------------------------------


@st.composite
def shapes_with_broadcastable(draw):
    """A shape and a weight shape that broadcasts to it (dims dropped from the left or set to 1)."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=4)))
    keep = draw(st.integers(0, len(shape)))
    wshape = tuple(d if draw(st.booleans()) else 1 for d in shape[len(shape) - keep :])
    return shape, wshape


LAYOUTS = ["contiguous", "transposed", "strided", "expanded", "channels_last"]


def laid_out(t: Tensor, layout: str, requires_grad: bool) -> tuple[Tensor, Tensor]:
    """A leaf tensor and a view of it in ``layout`` holding ``t``'s values ('expanded': the first row
    of ``t`` repeated). Layouts that need more dimensions than ``t`` has fall back to contiguous."""
    if layout == "transposed" and t.dim() >= 2:
        leaf = t.mT.contiguous().requires_grad_(requires_grad)
        return leaf, leaf.mT
    if layout == "strided" and t.dim() >= 1:
        leaf = t.repeat_interleave(2, dim=-1).requires_grad_(requires_grad)
        return leaf, leaf[..., ::2]
    if layout == "expanded" and t.dim() >= 1 and t.shape[0] > 0:
        leaf = t[:1].clone().requires_grad_(requires_grad)
        return leaf, leaf.expand(t.shape)
    if layout == "channels_last" and t.dim() == 4:
        leaf = t.contiguous(memory_format=torch.channels_last).requires_grad_(requires_grad)
        return leaf, leaf
    leaf = t.clone().requires_grad_(requires_grad)
    return leaf, leaf


def torch_differentiable_options(spec) -> set[str]:
    """The differentiable options of the loss that torch's kernel also differentiates (torch's
    binary_cross_entropy has no gradient for ``weight``, nor the logits form for ``pos_weight``)."""
    inputs = spec.make_inputs((2, 3), seed=0, dtype=torch.float64, weighted=True)
    found = set()
    for name in inputs.options:
        options = dict(for_torch(spec, inputs.options, inputs.input.shape))
        options[name] = options[name].clone().requires_grad_(True)
        try:
            spec.torch_function(*inputs.args.values(), **options).backward()
            found.add(name)
        except RuntimeError:
            pass
    return found & set(spec.differentiable)


def gradients_against_torch(spec, args, options, reduction, seed, layout):
    """Loss and the gradient of every differentiable leaf (arguments in ``layout``, options), lossref
    and torch, for a random upstream gradient."""
    results = []
    differentiable_options = torch_differentiable_options(spec)
    for fn in (spec.function, spec.torch_function):
        leaves, views = [], {}
        for arg in spec.args:
            leaf, views[arg.name] = laid_out(
                args[arg.name], "contiguous" if arg.integer else layout, arg.differentiable
            )
            leaves += [leaf] if arg.differentiable else []
        opts = {k: v.clone().requires_grad_(k in differentiable_options) for k, v in options.items()}
        leaves += [v for v in opts.values() if v.requires_grad]
        if fn is spec.torch_function:  # torch sees contiguous copies (its nll_loss backward cannot
            # write a channels_last gradient); the gradient flows back through the copy to the same leaf
            views = {k: v.contiguous() for k, v in views.items()}
            opts = for_torch(spec, opts, views[spec.args[0].name].shape)
        loss = fn(*views.values(), reduction=reduction, **opts)
        upstream = torch.rand(loss.shape, generator=torch.Generator().manual_seed(seed), dtype=loss.dtype)
        results.append((loss, *torch.autograd.grad(loss, leaves, upstream)))
    return results


@pytest.mark.parametrize("spec", [s for s in ELEMENTWISE if s.torch_function], ids=lambda s: s.name)
@given(
    shapes=shapes_with_broadcastable(),
    seed=st.integers(0, 2**31 - 1),
    reduction=st.sampled_from(REDUCTIONS),
    layout=st.sampled_from(LAYOUTS),
    use_weight=st.booleans(),
    use_pos_weight=st.booleans(),
)
def test_matches_torch_float64(spec, shapes, seed, reduction, layout, use_weight, use_pos_weight):
    """Value and every gradient (input, a differentiable target, weight, pos_weight) against torch's
    kernel: any shape, a broadcast weight, inputs that are not contiguous, a random upstream gradient."""
    shape, wshape = shapes
    inputs = spec.make_inputs(shape, seed=seed, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    options = {}
    if use_weight and "weight" in option_names(spec):
        options["weight"] = torch.rand(wshape, generator=g, dtype=torch.float64) * 2
    if use_pos_weight and "pos_weight" in option_names(spec):
        options["pos_weight"] = torch.rand(wshape, generator=g, dtype=torch.float64) * 4
    ours, theirs = gradients_against_torch(spec, inputs.args, options, reduction, seed, layout)
    # a weight's gradient can be 0 up to rounding (a uniform weight under 'mean'): judged on the loss's scale
    scale = 1 + float(ours[0].detach().abs().max()) if ours[0].numel() else 1.0
    torch.testing.assert_close(ours, theirs, rtol=1e-11, atol=1e-14 * scale)


@pytest.mark.parametrize(
    "spec", [s for s in TORCH_BACKED if s.target == "class indices"], ids=lambda s: s.name
)
@given(
    n=st.integers(0, 5),
    c=st.integers(1, 5),
    spatial=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    seed=st.integers(0, 2**31 - 1),
    reduction=st.sampled_from(REDUCTIONS),
    layout=st.sampled_from(LAYOUTS),
    weighted=st.booleans(),
)
def test_class_losses_match_torch_float64(spec, n, c, spatial, seed, reduction, layout, weighted):
    """The same for class-index targets: (N, C, d...) logits in any layout (channels_last included),
    ignored targets, a class weight and its gradient, a random upstream gradient."""
    inputs = spec.make_inputs((n, c, *spatial), seed=seed, dtype=torch.float64, weighted=weighted)
    ours, theirs = gradients_against_torch(spec, inputs.args, inputs.options, reduction, seed, layout)
    torch.testing.assert_close(ours, theirs, rtol=1e-11, atol=1e-14, equal_nan=True)


@pytest.mark.parametrize("spec", TORCH_BACKED, ids=lambda s: s.name)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch_on_device_float32(spec, device, reduction):
    """Value and the gradient of every differentiable argument, against torch's kernel."""
    inputs = spec.make_inputs((64, 10), seed=6, device=device, weighted=True)
    grads = {}
    for name, fn, options in (
        ("ours", spec.function, inputs.options),
        ("torch", spec.torch_function, for_torch(spec, inputs.options, inputs.input.shape)),
    ):
        args = {
            k: v.clone().requires_grad_(True) if k in spec.differentiable else v
            for k, v in inputs.args.items()
        }
        loss = fn(*args.values(), reduction=reduction, **options)
        loss.sum().backward()
        grads[name] = (loss, *(v.grad for v in args.values() if v.requires_grad))
    torch.testing.assert_close(grads["ours"], grads["torch"])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_same_numbers_on_every_device(spec, device, reduction):
    cpu = spec.make_inputs((32, 8), seed=7, dtype=torch.float64, weighted=True)
    torch.testing.assert_close(
        spec.call(cpu.to(device), reduction=reduction).cpu(),
        spec.call(cpu, reduction=reduction),
        rtol=1e-12,
        atol=1e-14,
    )

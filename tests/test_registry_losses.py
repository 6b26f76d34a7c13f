"""The checks every registered loss gets (kornia's per-loss template), driven by the registry.

smoke, cardinality per reduction, gradcheck in float64, module == function, state of the module
(buffers, device moves), the shared exceptions, and differential tests against torch's kernel. Losses
with class-index targets get their option-by-option torch comparison in tests/test_cross_entropy.py.
"""

import inspect
import re
import typing
from typing import Optional

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import Tensor

from lossref.registry import LOSSES

REDUCTIONS = ["none", "mean", "sum"]
TORCH_BACKED = [s for s in LOSSES if s.torch_function is not None]
ELEMENTWISE = [s for s in LOSSES if s.target == "elementwise"]
# elementwise losses with an elementwise ``weight`` argument (smooth_l1_loss, for one, has none)
WEIGHTED_ELEMENTWISE = [s for s in ELEMENTWISE if "weight" in inspect.signature(s.function).parameters]
# input shapes: () is an elementwise scalar; (7,) is one sample of 7 class scores for class losses
SHAPES = [(), (7,), (4, 3), (2, 3, 4, 5)]
# a region loss with classes needs (N, C, *): at least two dimensions
SPEC_SHAPES = [
    pytest.param(s, shape, id=f"{s.name}-{shape}")
    for s in LOSSES
    for shape in SHAPES
    if s.target == "elementwise" or (shape and not (s.region_classes and len(shape) < 2))
]


def call(spec, inputs, **kw):
    return spec.function(inputs.input, inputs.target, **inputs.options, **kw)


def for_torch(spec, options, shape):
    """torch's weighted l1_loss, mse_loss and huber_loss need a weight of exactly the input's shape
    (lossref broadcasts it); for the other elementwise losses expanding it changes nothing."""
    if spec.target != "elementwise":
        return options
    return {k: v.expand(shape) if k == "weight" else v for k, v in options.items()}


def test_registry_names_are_unique_and_match_functions():
    names = [s.name for s in LOSSES]
    assert len(set(names)) == len(names)
    for s in LOSSES:
        assert s.function.__name__ == s.name
        if s.symbolic_name is None:  # no silent gaps: the reason is stated
            assert s.no_symbolic
        else:
            assert s.symbolic.name == s.name


@pytest.mark.parametrize("weighted", [False, True])
def test_smoke(spec, device, weighted):
    inputs = spec.make_inputs((5, 3), seed=1, device=device, weighted=weighted)
    loss = call(spec, inputs, reduction="mean")
    assert loss.shape == () and loss.dtype == torch.float32 and loss.device.type == device
    assert torch.isfinite(loss) and loss >= 0


def counted_weight(spec, inputs):
    """The denominator of 'mean': the number of elements, or the weight of the counted class targets
    (a class ``weight`` normalises, as in torch; softmax_focal_loss's ``alpha`` does not); for a region
    loss, the number of (image, class) losses, or their total class weight."""
    if spec.target == "region":
        shape = spec.output_shape(inputs.input.shape)
        if "weight" in inputs.options:
            return inputs.options["weight"].expand(shape).sum()
        return torch.Size(shape).numel()
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
    loss = call(spec, inputs, reduction=reduction)
    assert loss.shape == (spec.output_shape(shape) if reduction == "none" else ())
    each = call(spec, inputs, reduction="none")
    expected = {"none": each, "mean": each.sum() / counted_weight(spec, inputs), "sum": each.sum()}[reduction]
    torch.testing.assert_close(loss, expected.to(loss.dtype))


def test_empty_input_reduces_like_torch(spec):
    inputs = spec.make_inputs((0, 3), seed=0)
    assert torch.isnan(call(spec, inputs, reduction="mean")).item()
    assert call(spec, inputs, reduction="sum").item() == 0.0
    assert call(spec, inputs, reduction="none").shape == spec.output_shape((0, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_float64(spec, reduction):
    inputs = spec.make_inputs((3, 4), seed=3, dtype=torch.float64, weighted=True)
    wrt = [name for name in spec.differentiable if name in ("input", "target", *inputs.options)]
    tensors = {"input": inputs.input, "target": inputs.target, **inputs.options}
    for name in wrt:
        tensors[name] = tensors[name].clone().requires_grad_(True)

    def f(*args):
        kw = dict(tensors, **dict(zip(wrt, args, strict=True)))
        return spec.function(kw.pop("input"), kw.pop("target"), reduction=reduction, **kw)

    assert torch.autograd.gradcheck(f, tuple(tensors[n] for n in wrt))
    # second derivatives (create_graph=True), e.g. for gradient penalties and Hessian-vector products
    assert torch.autograd.gradgradcheck(f, tuple(tensors[n] for n in wrt))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_module_equals_function(spec, reduction, device):
    inputs = spec.make_inputs((6, 4), seed=4, device=device, weighted=True)
    module = spec.module(**inputs.options, reduction=reduction)
    torch.testing.assert_close(module(inputs.input, inputs.target), call(spec, inputs, reduction=reduction))


def test_module_keeps_options_as_buffers(spec):
    inputs = spec.make_inputs((6, 4), seed=5, weighted=True)
    module = spec.module(**inputs.options)
    state = module.state_dict()
    assert set(state) == set(inputs.options)
    restored = spec.module(**{k: torch.zeros_like(v) for k, v in inputs.options.items()})
    restored.load_state_dict(state)
    torch.testing.assert_close(restored(inputs.input, inputs.target), module(inputs.input, inputs.target))
    target = inputs.target.double() if inputs.target.is_floating_point() else inputs.target
    assert module.to(torch.float64)(inputs.input.double(), target).dtype == torch.float64
    assert "reduction='mean'" in repr(module)


def test_module_rejects_unknown_reduction(spec):
    with pytest.raises(ValueError, match="reduction must be one of .* got 'avg'"):
        spec.module(reduction="avg")


# -- shared exceptions: each names the argument and what was found --------------------------------


def test_rejects_unknown_reduction(spec):
    inputs = spec.make_inputs((3,))
    with pytest.raises(ValueError, match="reduction must be one of .* got 'max'"):
        call(spec, inputs, reduction="max")


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_rejects_non_tensors(spec):
    inputs = spec.make_inputs((3,))
    with pytest.raises(TypeError, match="input must be a torch.Tensor, got list"):
        spec.function([0.5, 0.5, 0.5], inputs.target)
    with pytest.raises(TypeError, match="target must be a torch.Tensor, got float"):
        spec.function(inputs.input, 1.0)


def test_rejects_integer_input(spec):
    inputs = spec.make_inputs((3,))
    with pytest.raises(TypeError, match="input must have a floating-point dtype, got torch.int64"):
        spec.function(inputs.input.round().long(), inputs.target)


def test_rejects_weights_of_another_dtype(spec):
    # every optional tensor argument: weight, pos_weight, or the per-class alpha of softmax_focal_loss
    if not any(p.default is None for p in inspect.signature(spec.function).parameters.values()):
        pytest.skip(f"{spec.name} has no optional tensor argument")
    names = [k for k, t in typing.get_type_hints(spec.function).items() if t == Optional[Tensor]]
    assert names
    inputs = spec.make_inputs((3,))
    for name in names:
        expected = f"{name} has dtype torch.float64 but input has dtype torch.float32"
        with pytest.raises(TypeError, match=expected):
            spec.function(inputs.input, inputs.target, **{name: torch.ones(3, dtype=torch.float64)})


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=lambda s: s.name)
def test_rejects_integer_targets(spec):
    inputs = spec.make_inputs((3,))
    with pytest.raises(
        TypeError, match=r"target must have a floating-point dtype, got torch.int64.*target.float\(\)"
    ):
        spec.function(inputs.input, inputs.target.round().long())


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=lambda s: s.name)
def test_rejects_target_of_another_dtype(spec):
    inputs = spec.make_inputs((3,))
    with pytest.raises(TypeError, match="target has dtype torch.float64 but input has dtype torch.float32"):
        spec.function(inputs.input, inputs.target.double())


@pytest.mark.parametrize("spec", ELEMENTWISE, ids=lambda s: s.name)
def test_rejects_shape_mismatch(spec):
    inputs = spec.make_inputs((3, 2))
    with pytest.raises(ValueError, match=r"target must have the shape of input \(3, 2\), got \(3, 1\)"):
        spec.function(inputs.input, inputs.target[:, :1])


@pytest.mark.parametrize("spec", WEIGHTED_ELEMENTWISE, ids=lambda s: s.name)
@pytest.mark.parametrize("shape", [(4,), (4, 2), (2, 4, 3)])
def test_rejects_weight_that_does_not_broadcast(spec, shape):
    inputs = spec.make_inputs((4, 3))
    expected = f"weight of shape {shape} cannot be broadcast to the input's shape (4, 3)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        spec.function(inputs.input, inputs.target, weight=torch.ones(shape))


# -- differential test against torch's own kernel ---------------------------------------------------


@st.composite
def shapes_with_broadcastable(draw):
    """A shape and a weight shape that broadcasts to it (dims dropped from the left or set to 1)."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=4)))
    keep = draw(st.integers(0, len(shape)))
    wshape = tuple(d if draw(st.booleans()) else 1 for d in shape[len(shape) - keep :])
    return shape, wshape


@pytest.mark.parametrize("spec", [s for s in ELEMENTWISE if s.torch_function], ids=lambda s: s.name)
@given(
    shapes=shapes_with_broadcastable(),
    seed=st.integers(0, 2**31 - 1),
    reduction=st.sampled_from(REDUCTIONS),
    use_weight=st.booleans(),
    use_pos_weight=st.booleans(),
)
def test_matches_torch_float64(spec, shapes, seed, reduction, use_weight, use_pos_weight):
    shape, wshape = shapes
    inputs = spec.make_inputs(shape, seed=seed, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    options = {}
    if use_weight and spec in WEIGHTED_ELEMENTWISE:
        options["weight"] = torch.rand(wshape, generator=g, dtype=torch.float64) * 2
    if use_pos_weight and spec.domain == "logits":
        options["pos_weight"] = torch.rand(wshape, generator=g, dtype=torch.float64) * 4
    x = inputs.input.clone().requires_grad_(True)
    x_ref = inputs.input.clone().requires_grad_(True)
    ours = spec.function(x, inputs.target, reduction=reduction, **options)
    ref = spec.torch_function(x_ref, inputs.target, reduction=reduction, **for_torch(spec, options, shape))
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("spec", TORCH_BACKED, ids=lambda s: s.name)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch_on_device_float32(spec, device, reduction):
    inputs = spec.make_inputs((64, 10), seed=6, device=device, weighted=True)
    x = inputs.input.clone().requires_grad_(True)
    x_ref = inputs.input.clone().requires_grad_(True)
    ours = call(spec, type(inputs)(x, inputs.target, inputs.options), reduction=reduction)
    ref_options = for_torch(spec, inputs.options, x.shape)
    ref = spec.torch_function(x_ref, inputs.target, reduction=reduction, **ref_options)
    torch.testing.assert_close(ours, ref)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_same_numbers_on_every_device(spec, device, reduction):
    cpu = spec.make_inputs((32, 8), seed=7, dtype=torch.float64, weighted=True)
    here = cpu.to(device)
    torch.testing.assert_close(
        call(spec, here, reduction=reduction).cpu(),
        call(spec, cpu, reduction=reduction),
        rtol=1e-12,
        atol=1e-14,
    )

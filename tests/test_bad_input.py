"""The bad-input table: every registered loss against every kind of bad or extreme input.

Each cell is either a clear error that names the argument, or a documented result: NaN in gives NaN
out; infinities give what torch gives where torch has the loss; empty inputs reduce as torch's do
(tests/test_registry_losses.py); a ``meta`` tensor gives a ``meta`` loss of the right shape; an
input whose every target is ignored gives a zero gradient. The table reads the registry (layout,
arguments, torch counterpart), so a loss added there is covered without a new test. Under
``torch.compile`` a bad value still raises.
"""

import inspect

import pytest
import torch
from conftest import SPECS

from lossref import set_value_checks
from lossref.registry import LOSSES

REDUCTIONS = ["none", "mean", "sum"]
TORCH_BACKED = [s for s in LOSSES if s.torch_function is not None]
# losses that leave out the targets equal to ``ignore_index``
IGNORING = [s for s in LOSSES if "ignore_index" in inspect.signature(s.function).parameters]
# losses whose input has a class dimension (a class-index target, or a region loss with classes)
WITH_CLASSES = [s for s in LOSSES if s.target == "class indices" or s.region_classes]


def shape_of(spec) -> tuple[int, ...]:
    """A small batch in the loss's layout: (N, C, H, W) images for region losses, (N, C) otherwise."""
    return (3, 4, 5, 2) if spec.target == "region" else (6, 4)


def with_value(spec, inputs, value: float):
    """The inputs with one element of the prediction (its first argument) set to ``value``."""
    first = next(iter(inputs.args))
    x = inputs.args[first].clone()
    x.view(-1)[1] = value
    return inputs.replace(**{first: x})


def test_the_table_covers_every_loss():
    assert {s.name for s in SPECS} >= {s.name for s in LOSSES}


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nan_in_gives_nan_out(spec, reduction):
    """A NaN prediction is never scored (a diverging model must not log a perfect loss): the loss is
    NaN, or, where the input's domain is checked (probabilities), the check names the input."""
    inputs = with_value(spec, spec.make_inputs(shape_of(spec), seed=0, dtype=torch.float64), float("nan"))
    if spec.domain == "probabilities":
        with pytest.raises(ValueError, match=f"{spec.args[0].name} must hold values in"):
            spec.call(inputs, reduction=reduction)
        return
    loss = spec.call(inputs, reduction=reduction)
    if spec.torch_function is not None:  # NaN where torch's kernel has it (nll_loss reads one class)
        theirs = spec.torch_function(*inputs.args.values(), reduction=reduction, **inputs.options)
        if spec.nan_where_torch_drops_it is None:
            assert torch.equal(loss.isnan(), theirs.isnan())
            return
        # the registry says torch's kernel drops the NaN: lossref keeps it, and the claim is not stale
        assert bool((loss.isnan() >= theirs.isnan()).all()) and not torch.equal(loss.isnan(), theirs.isnan())
        return
    assert bool(loss.isnan().any()), "NaN in, but no NaN out"
    if reduction == "none" and not spec.couples_batch:  # the NaN stays with its sample (or image)
        clean = spec.call(spec.make_inputs(shape_of(spec), seed=0, dtype=torch.float64), reduction="none")
        assert bool(loss[0].isnan().any()) and torch.equal(loss[1:], clean[1:])


@pytest.mark.parametrize("spec", TORCH_BACKED, ids=lambda s: s.name)
@pytest.mark.parametrize("value", [float("inf"), -float("inf")], ids=["+inf", "-inf"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_infinities_give_what_torch_gives(spec, value, reduction):
    """Where torch's kernel gives a number (inf included), lossref gives the same. Where torch gives
    NaN, lossref may give the limit instead: BCE with logits at x = -inf and a soft target is inf,
    where torch's log-sum-exp form computes inf - inf."""
    inputs = with_value(spec, spec.make_inputs(shape_of(spec), seed=0, dtype=torch.float64), value)
    if spec.domain == "probabilities":  # outside [0, 1]: refused, as torch refuses it
        with pytest.raises(ValueError, match="input must hold values in"):
            spec.call(inputs, reduction=reduction)
        return
    ours = spec.call(inputs, reduction=reduction)
    theirs = spec.torch_function(*inputs.args.values(), reduction=reduction, **inputs.options)
    defined = ~theirs.isnan()
    torch.testing.assert_close(ours[defined], theirs[defined], rtol=1e-12, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_meta_tensors_give_a_meta_loss_and_gradient_of_the_right_shape(spec, reduction):
    """Shape inference (and ``torch.compile``'s tracing) runs losses on tensors without data."""
    inputs = spec.make_inputs(shape_of(spec), seed=0, weighted=True)
    first = spec.args[0].name
    x = inputs.input.to("meta").requires_grad_(True)
    loss = spec.call(inputs.to("meta").replace(**{first: x}), reduction=reduction)
    assert loss.device.type == "meta" and loss.dtype == inputs.input.dtype
    assert loss.shape == spec.call(inputs, reduction=reduction).shape
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert grad.device.type == "meta" and grad.shape == x.shape


def test_a_zero_dimensional_input_is_refused_or_scored_like_torch(spec):
    inputs = spec.make_inputs(shape_of(spec), seed=0)
    scalar = inputs.replace(**{k: v.reshape(-1)[0] for k, v in inputs.args.items()})
    if spec.target == "elementwise":  # one element, as torch's elementwise losses take it
        assert spec.call(scalar, reduction="none").shape == ()
        return
    with pytest.raises((ValueError, TypeError), match=spec.args[0].name):
        spec.call(scalar)


@pytest.mark.parametrize("spec", IGNORING, ids=lambda s: s.name)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_target_ignored_gives_a_zero_gradient(spec, reduction):
    """One all-ignored crop must not poison the parameters: the gradient is 0, as torch's is. The
    value of 'mean' over no target is torch's NaN (class losses) or the empty-mask 0 (region losses)."""
    inputs = spec.make_inputs(shape_of(spec), seed=0, dtype=torch.float64)
    inputs = inputs.replace(target=torch.full_like(inputs.target, -100))
    x = inputs.input.clone().requires_grad_(True)
    loss = spec.call(inputs.replace(input=x), reduction=reduction)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    assert bool((grad == 0).all()), "an ignored target moved the input"
    if spec.torch_function is not None:
        theirs = spec.torch_function(inputs.input, inputs.target, reduction=reduction, **inputs.options)
        torch.testing.assert_close(loss.detach(), theirs, equal_nan=True)


@pytest.mark.parametrize("spec", WITH_CLASSES, ids=lambda s: s.name)
def test_zero_classes_are_refused_naming_the_class_dimension(spec):
    inputs = spec.make_inputs(shape_of(spec), seed=0)
    empty = inputs.input[:, :0]
    target = torch.zeros(inputs.target.shape, dtype=inputs.target.dtype)
    with pytest.raises(ValueError, match="input .*class"):
        spec.call(inputs.replace(input=empty, target=target), **{k: v[:0] for k, v in inputs.options.items()})


def test_mixed_dtypes_are_refused_naming_the_argument(spec):
    """lossref refuses what torch would promote silently (documented on the API page)."""
    inputs = spec.make_inputs(shape_of(spec), seed=0)
    for arg in spec.args[1:]:
        if arg.integer:
            continue
        with pytest.raises(TypeError, match=f"{arg.name} has dtype torch.float64 but"):
            spec.call(inputs.replace(**{arg.name: inputs.args[arg.name].double()}))


def bad_value(spec, inputs):
    """Inputs with a value the loss's checks refuse: a NaN probability, or a class index out of range."""
    if spec.domain == "probabilities":
        return with_value(spec, inputs, float("nan"))
    target = inputs.target.clone()
    target.view(-1)[0] = inputs.input.shape[1]
    return inputs.replace(target=target)


@pytest.mark.parametrize(
    "spec",
    [s for s in LOSSES if s.domain == "probabilities" or s.target == "class indices"],
    ids=lambda s: s.name,
)
def test_a_bad_value_still_raises_under_torch_compile(spec):
    """Compiled (dynamo's tracing, the eager backend), the value checks still refuse bad values."""
    inputs = bad_value(spec, spec.make_inputs(shape_of(spec), seed=0))
    with pytest.raises(ValueError):
        spec.call(inputs)
    compiled = torch.compile(spec.function, backend="eager")
    with pytest.raises(Exception, match="input|target"):
        compiled(*inputs.args.values(), **inputs.options)


@pytest.mark.parametrize(
    "spec",
    [s for s in LOSSES if s.domain == "probabilities" or s.target == "class indices"],
    ids=lambda s: s.name,
)
def test_without_value_checks_a_bad_value_is_not_caught(spec):
    """What ``lossref.set_value_checks(False)`` costs (its docstring): a bad probability gives a
    number (NaN here) instead of an error, and a class index out of range fails inside torch."""
    inputs = bad_value(spec, spec.make_inputs(shape_of(spec), seed=0))
    set_value_checks(False)
    try:
        if spec.domain == "probabilities":
            assert spec.call(inputs, reduction="sum").isnan()
        else:
            with pytest.raises((IndexError, RuntimeError)):
                spec.call(inputs)
    finally:
        set_value_checks(True)

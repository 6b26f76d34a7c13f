"""Under torch.autocast every lossref loss computes in float32, as torch's own losses do."""

import pytest
import torch

import lossref
from lossref._autocast import float32_under_autocast
from lossref.registry import LOSSES, get

UPCAST = [spec for spec in LOSSES if spec.autocast == "float32"]
REFUSED = [spec for spec in LOSSES if spec.autocast == "refuses"]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("spec", UPCAST, ids=lambda s: s.name)
def test_loss_is_float32_under_autocast_and_equals_the_float32_loss_of_the_rounded_input(spec, dtype):
    inputs = spec.make_inputs((4, 3, 5, 6) if spec.target == "region" else (6, 5), seed=1)
    first = spec.args[0].name  # input, or distillation_loss's student
    low = inputs.input.to(dtype).requires_grad_()
    with torch.autocast("cpu", dtype=dtype):
        loss = spec.call(inputs.replace(**{first: low}))
    assert loss.dtype == torch.float32
    exact = low.detach().float().requires_grad_()
    expected = spec.call(inputs.replace(**{first: exact}))
    assert torch.equal(loss, expected)  # the same float32 computation, not merely close
    loss.sum().backward()
    expected.sum().backward()
    assert low.grad is not None and low.grad.dtype == dtype
    assert torch.equal(low.grad, exact.grad.to(dtype))


@pytest.mark.parametrize("spec", REFUSED, ids=lambda s: s.name)
def test_a_loss_unsafe_in_reduced_precision_refuses_autocast(spec):
    inputs = spec.make_inputs((6, 5), seed=1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with pytest.raises(RuntimeError, match="autocast"):
            spec.call(inputs)


def test_reduced_precision_without_autocast_is_left_alone():
    """Outside autocast the caller chose the dtype: no silent upcast."""
    spec = get("binary_cross_entropy_with_logits")
    inputs = spec.make_inputs((6, 5))
    assert spec.function(inputs.input.bfloat16(), inputs.target.bfloat16()).dtype == torch.bfloat16


def test_autocast_for_another_device_does_not_upcast():
    @float32_under_autocast
    def dtype_of(input):
        return input.dtype

    x = torch.zeros(3, dtype=torch.bfloat16)
    with torch.autocast("cuda", enabled=torch.cuda.is_available()):  # the CPU tensor is unaffected
        assert dtype_of(x) == torch.bfloat16
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert dtype_of(x) == torch.float32
        assert dtype_of(input=x) == torch.float32


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_bce_on_probabilities_is_refused_under_autocast(dtype):
    """In reduced precision sigmoid(x) is exactly 1 from x = 9 (float16) / 7 (bfloat16): the BCE of
    label 0 is then the clamp, 100, with gradient 0, whatever x is."""
    x = torch.tensor([4.0, 10.0, 12.0])
    assert bool((torch.sigmoid(x.to(dtype))[1:] == 1).all())
    p, y = torch.sigmoid(x), torch.zeros(3)
    with torch.autocast("cpu", dtype=dtype):
        with pytest.raises(RuntimeError, match="binary_cross_entropy_with_logits"):
            lossref.binary_cross_entropy(p, y)
        with pytest.raises(RuntimeError, match="unsafe under autocast"):
            lossref.BCELoss()(p, y)
        with torch.autocast("cpu", enabled=False):  # the way out the message names
            assert lossref.binary_cross_entropy(p, y).dtype == torch.float32

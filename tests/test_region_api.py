"""The region losses as a user meets them, for every region loss of the registry: ``mode`` is required
(segmentation_models_pytorch's convention: the module takes it first, the function third) and a
wrong one gets an error that lists the modes and what each expects; ``'binary'`` on an input with C
> 1 channels is one mask per image, as asked; the module and the function take the same arguments;
the distance losses name the extra to install when scipy is missing, before a tensor meets numpy.
(Every module's signature and Args: tests/test_drop_in.py.) No test branches on a loss's name."""

import inspect
import re
import subprocess
import sys

import pytest
import torch

from lossref import signed_distance_map
from lossref.registry import LOSSES

REGION = [s for s in LOSSES if s.target == "region"]
MODES = ("binary", "multiclass", "multilabel")
#: what the error of a wrong mode says each mode expects
EXPECTS = {
    "binary": r"input \(N, \*\) or \(N, 1, \*\)",
    "multiclass": r"input \(N, C, \*\).*class indices \(N, \*\)",
    "multilabel": r"input \(N, C, \*\), one mask per channel",
}
DISTANCE_EXTRA = 'pip install "lossref[distance]"'


def parameters(callable_) -> list[inspect.Parameter]:
    """The parameters of a function, or of a class's constructor (without ``self``)."""
    return list(inspect.signature(callable_).parameters.values())


def small(spec):
    return spec.make_inputs((2, 3, 4), seed=0)


@pytest.fixture(params=REGION, ids=lambda s: s.name)
def spec(request):
    return request.param


# -- mode is required ------------------------------------------------------------------------------


def test_mode_is_required_third_in_the_function_and_first_in_the_module(spec):
    mode = parameters(spec.function)[2]
    assert (mode.name, mode.default, mode.kind) == ("mode", mode.empty, mode.POSITIONAL_OR_KEYWORD)
    first = parameters(spec.module)[0]
    assert (first.name, first.default, first.kind) == ("mode", first.empty, first.POSITIONAL_OR_KEYWORD)
    inputs = small(spec)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'mode'"):
        spec.function(*inputs.args.values(), **inputs.options)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'mode'"):
        spec.module(**inputs.options)
    # positionally, the same call
    mode_value = spec.keywords["mode"]
    torch.testing.assert_close(spec.function(*inputs.args.values(), mode_value), spec.call(inputs))
    module = spec.module(mode_value)
    torch.testing.assert_close(module(*inputs.args.values()), spec.call(inputs))


@pytest.mark.parametrize("wrong", ["multi", "Binary", 0.3, None], ids=repr)
def test_a_wrong_mode_lists_the_modes_and_what_each_expects(spec, wrong):
    """0.3: an old positional call with ``alpha`` where ``mode`` now is."""
    inputs = small(spec)
    got = re.escape(f"got {wrong!r}")
    with pytest.raises(
        ValueError, match=rf"mode must be one of \('binary', 'multiclass', 'multilabel'\), {got}"
    ):
        spec.call(inputs, mode=wrong)
    with pytest.raises(ValueError) as error:
        spec.module(wrong)
    for mode, expects in EXPECTS.items():
        assert re.search(rf"'{mode}': {expects}", str(error.value)), (mode, str(error.value))


def test_binary_mode_with_channels_is_one_mask_per_image(spec):
    """``mode='binary'`` with an (N, C, H, W) input, C > 1: every dimension after the batch is
    spatial, so the C channels form one mask per image (as (N, 1, C, H, W) would), one loss per
    image; ``'multilabel'`` gives one per channel. The user chose the mode: it is kept, not refused."""
    g = torch.Generator().manual_seed(1)
    x = 3 * torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64)
    t = (torch.rand(2, 3, 4, 5, generator=g) < 0.4).to(torch.float64)
    t[:, :, 0, 0], t[:, :, -1, -1] = 1.0, 0.0  # foreground and background in every mask
    pooled = spec.function(x, t, "binary", reduction="none")
    assert pooled.shape == (2, 1)
    torch.testing.assert_close(pooled, spec.function(x[:, None], t[:, None], "binary", reduction="none"))
    per_channel = spec.function(x, t, "multilabel", reduction="none")
    assert per_channel.shape == (2, 3)
    assert not torch.allclose(per_channel.mean(1, keepdim=True), pooled)


def test_module_and_function_take_the_same_arguments(spec):
    """The constructor's arguments and ``forward``'s beyond the input and the target are the
    function's, with the same defaults (what the docstrings call "the module form")."""
    function = {p.name: p.default for p in parameters(spec.function)[2:]}
    module = {p.name: p.default for p in parameters(spec.module) + parameters(spec.module.forward)[3:]}
    assert module == function


# -- the distance losses without scipy -------------------------------------------------------------


@pytest.fixture
def without_scipy(monkeypatch):
    """scipy cannot be imported, and a tensor converted to numpy fails as in torch without numpy."""
    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.")] + ["scipy"]:
        monkeypatch.setitem(sys.modules, name, None)

    def no_numpy(self):
        raise RuntimeError("Numpy is not available")

    monkeypatch.setattr(torch.Tensor, "numpy", no_numpy)


def test_without_scipy_a_distance_loss_names_the_extra_up_front(spec, without_scipy):
    """Each loss either needs no scipy or raises an ImportError naming it, the distance transform
    and the extra, before any tensor is converted; a precomputed map needs no scipy."""
    inputs = spec.make_inputs((2, 3, 4), seed=0, weighted=True)
    for call in (lambda: spec.call(inputs), lambda: spec.build_module(inputs)(*inputs.args.values())):
        try:
            call()
        except ImportError as e:
            message = str(e)
            assert spec.name in message and "distance transform" in message and DISTANCE_EXTRA in message
            assert isinstance(e.__cause__, ImportError)


@pytest.mark.parametrize("loss", [s for s in REGION if s.precompute is not None], ids=lambda s: s.name)
def test_without_scipy_a_precomputed_distance_map_still_works(loss, monkeypatch):
    inputs = loss.make_inputs((2, 3, 4), seed=0)
    precomputed = loss.precompute(inputs)  # where scipy is
    expected = loss.call(inputs, **precomputed)
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.ndimage", None)
    torch.testing.assert_close(loss.call(inputs, **precomputed), expected)
    with pytest.raises(ImportError, match=re.escape(DISTANCE_EXTRA)):
        loss.call(inputs)


def test_without_scipy_signed_distance_map_names_the_extra(without_scipy):
    with pytest.raises(ImportError, match=rf"signed_distance_map needs scipy.*{re.escape(DISTANCE_EXTRA)}"):
        signed_distance_map(torch.tensor([[0.0, 1.0]]), "binary")


def test_importing_lossref_imports_no_scipy():
    """scipy is an optional extra, imported at the first distance map."""
    code = "import sys, lossref; print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"

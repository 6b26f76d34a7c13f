"""torch's own test cases for its loss modules, replayed on lossref's module of the same name.

torch describes how it tests each of its modules in ``torch.testing._internal.common_modules.module_db``:
one ``ModuleInfo`` per module, whose ``module_inputs_func`` yields the samples torch's ``TestModule`` runs
(constructor arguments, forward arguments, a description) and whose ``module_error_inputs_func`` yields
inputs the module must reject. This file takes every ``ModuleInfo`` whose class has a lossref namesake --
read from :data:`lossref.registry.LOSSES` (the entries with a ``torch_function``), not from a list written
here -- and replays torch's samples on lossref's module:

- ``test_torch_sample``: both modules built with the same constructor arguments, run on clones of the same
  inputs (requiring grad where torch's do), in float64; the values must agree to float64 precision, and so
  must the gradients, for the same seeded upstream gradient, of every tensor that requires grad (the
  input, the target where torch makes it differentiable, constructor tensors that require grad).
- ``test_torch_error_sample``: an input torch rejects is rejected by lossref too, at the same stage
  (construction or forward), with lossref's convention (lossref._validation): a ``TypeError`` or
  ``ValueError`` whose message names the offending argument, where torch often raises a kernel's
  ``RuntimeError``.

torch's modules without a ``ModuleInfo`` (the triplet losses') have an ``OpInfo`` for their function in
``common_methods_invocations.op_db``: its samples and error inputs are replayed on lossref's function
the same way (``test_torch_op_sample``, ``test_torch_op_error_sample``).

Why: it is a test suite nobody here wrote. The shapes, options and edge cases are torch's choice, so it
finds what our own tests did not think of. torch's samples are random: they are generated once on the
CPU with :data:`SEED` and moved to the device, so every device replays the same numbers. A sample lossref
cannot replay is never skipped silently: a deliberate difference is listed in :data:`DELIBERATE` with its
reason and lossref's error is asserted; a lossref bug is listed in :data:`BUGS`, a strict xfail naming its
item of issue 13.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal, Optional

import pytest
import torch
from torch.testing._internal.common_methods_invocations import op_db
from torch.testing._internal.common_modules import ModuleErrorEnum, module_db

from lossref.registry import LOSSES

#: seeds torch's random samples; with 13, CrossEntropyLoss's ``2d_ignore_index_mean`` ignores both of its
#: targets, an edge case a random sample hits one time in nine, where lossref's gradient was NaN and
#: torch's 0 (issue 13 item 1)
SEED = 13
DTYPE = torch.float64
#: float64: a few ulp of the loss's size (lossref's formulas are not torch's kernels, so not bitwise)
TOLERANCE = {"rtol": 1e-12, "atol": 1e-14, "equal_nan": True}

#: the registry entries of lossref's modules that torch has, by class name
SPECS_BY_MODULE = {spec.module.__name__: spec for spec in LOSSES if spec.torch_function is not None}
LOSSREF_MODULES: dict[str, type[torch.nn.Module]] = {name: s.module for name, s in SPECS_BY_MODULE.items()}

#: torch's ModuleInfo for each of them
MODULE_INFOS = {
    info.module_cls.__name__: info for info in module_db if info.module_cls.__name__ in LOSSREF_MODULES
}


@dataclass(frozen=True)
class Deliberate:
    """lossref refuses a sample of torch's on purpose, or rejects a bad one at another stage."""

    error: type[Exception]
    #: regex on lossref's message
    match: str
    #: where lossref raises
    stage: Literal["construction", "forward"]
    reason: str


#: deliberate differences: (module, regex on the case's description) -> what lossref does instead, and why
DELIBERATE: dict[tuple[str, str], Deliberate] = {
    ("CrossEntropyLoss", "error_label_smoothing_must_be_between.*"): Deliberate(
        ValueError,
        r"label_smoothing must be in \[0, 1\], got 1.5",
        "construction",
        "lossref checks its options in the constructor, so CrossEntropyLoss(label_smoothing=1.5) fails "
        "where it is written; torch accepts it and raises at the first forward",
    ),
}

#: lossref bugs: (module, regex on the case's description) -> the strict xfail's reason
BUGS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Case:
    """One of torch's samples: its module, its position in torch's list and its description."""

    module: str
    index: int
    desc: str

    @property
    def spec(self):
        """The registry entry (tests/conftest.py reads its ``mean_warning``)."""
        return SPECS_BY_MODULE[self.module]

    @property
    def id(self) -> str:
        return f"{self.module}-{self.index}-{self.desc or 'default'}"


def _lookup(table: dict[tuple[str, str], Any], case: Case) -> Optional[Any]:
    for (module, pattern), value in table.items():
        if module == case.module and re.fullmatch(pattern, case.desc):
            return value
    return None


@functools.lru_cache(maxsize=None)
def _samples(name: str) -> tuple[Any, ...]:
    """torch's samples (``ModuleInput``) of module ``name``, generated on the CPU from :data:`SEED`."""
    info = MODULE_INFOS[name]
    torch.manual_seed(SEED)
    return tuple(info.module_inputs_func(info, device="cpu", dtype=DTYPE, requires_grad=True, training=True))


@functools.lru_cache(maxsize=None)
def _error_samples(name: str) -> tuple[Any, ...]:
    """torch's inputs that its module rejects (``ErrorModuleInput``), generated like :func:`_samples`."""
    info = MODULE_INFOS[name]
    if info.module_error_inputs_func is None:
        return ()
    torch.manual_seed(SEED)
    return tuple(
        info.module_error_inputs_func(info, device="cpu", dtype=DTYPE, requires_grad=True, training=True)
    )


def _error_desc(error: Any) -> str:
    """torch's error samples have no description: ``error_`` and the message torch must raise, as a slug."""
    slug = re.sub(r"[^0-9A-Za-z]+", "_", error.error_regex).strip("_")
    return f"error_{slug[:50]}"


def _params(cases: list[Case]) -> list[Any]:
    params = []
    for case in cases:
        reason = _lookup(BUGS, case)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason is not None else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


SAMPLE_CASES = [
    Case(name, i, sample.desc) for name in MODULE_INFOS for i, sample in enumerate(_samples(name))
]
ERROR_CASES = [
    Case(name, i, _error_desc(error)) for name in MODULE_INFOS for i, error in enumerate(_error_samples(name))
]


def _clone(value: Any, device: str) -> Any:
    """A fresh leaf on ``device`` with the same values and ``requires_grad``; other values as they are."""
    if isinstance(value, torch.Tensor):
        return value.detach().to(device, copy=True).requires_grad_(value.requires_grad)
    return value


def _build(module_cls: type[torch.nn.Module], sample: Any, device: str) -> torch.nn.Module:
    ctor = sample.constructor_input
    return module_cls(
        *(_clone(a, device) for a in ctor.args), **{k: _clone(v, device) for k, v in ctor.kwargs.items()}
    )


def _forward_inputs(sample: Any, device: str) -> tuple[list[Any], dict[str, Any]]:
    forward = sample.forward_input
    return [_clone(a, device) for a in forward.args], {
        k: _clone(v, device) for k, v in forward.kwargs.items()
    }


def _leaves(module: torch.nn.Module, args: list[Any], kwargs: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Every tensor that requires grad: forward arguments, then the module's parameters and buffers."""
    tensors = {f"forward arg {i}": a for i, a in enumerate(args)}
    tensors.update({f"forward {k}": v for k, v in kwargs.items()})
    tensors.update(module.named_parameters())
    tensors.update(module.named_buffers())
    return {name: t for name, t in tensors.items() if isinstance(t, torch.Tensor) and t.requires_grad}


@pytest.mark.parametrize("case", _params(SAMPLE_CASES))
def test_torch_sample(case: Case, device: str) -> None:
    """lossref's module gives torch's value and gradients on torch's own sample."""
    sample = _samples(case.module)[case.index]
    deliberate = _lookup(DELIBERATE, case)
    if deliberate is not None:
        args, kwargs = _forward_inputs(sample, device)
        with pytest.raises(deliberate.error, match=deliberate.match):
            _build(LOSSREF_MODULES[case.module], sample, device)(*args, **kwargs)
        return

    theirs = _build(MODULE_INFOS[case.module].module_cls, sample, device)
    ours = _build(LOSSREF_MODULES[case.module], sample, device)
    t_args, t_kwargs = _forward_inputs(sample, device)
    o_args, o_kwargs = _forward_inputs(sample, device)
    expected = theirs(*t_args, **t_kwargs)
    actual = ours(*o_args, **o_kwargs)
    torch.testing.assert_close(actual, expected, **TOLERANCE)

    t_leaves, o_leaves = _leaves(theirs, t_args, t_kwargs), _leaves(ours, o_args, o_kwargs)
    assert list(o_leaves) == list(t_leaves)
    assert t_leaves, "torch's samples all require grad"
    generator = torch.Generator().manual_seed(SEED + case.index)
    upstream = torch.randn(expected.shape, generator=generator, dtype=DTYPE).to(device)
    t_grads = torch.autograd.grad(expected, list(t_leaves.values()), upstream, allow_unused=True)
    o_grads = torch.autograd.grad(actual, list(o_leaves.values()), upstream, allow_unused=True)
    for name, t_grad, o_grad in zip(t_leaves, t_grads, o_grads, strict=True):
        if t_grad is None:  # torch's loss does not depend on it
            assert o_grad is None or not o_grad.any(), name
        else:
            assert o_grad is not None, name
            torch.testing.assert_close(o_grad, t_grad, **TOLERANCE, msg=lambda m, name=name: f"{name}: {m}")


def _names(sample: Any) -> list[str]:
    """The arguments an error message may name: the constructor's keywords, ``input`` and ``target``."""
    return [*sample.constructor_input.kwargs, "input", "target"]


@pytest.mark.parametrize("case", _params(ERROR_CASES))
def test_torch_error_sample(case: Case, device: str) -> None:
    """An input torch rejects is rejected by lossref too, at the same stage, with an error naming it."""
    error = _error_samples(case.module)[case.index]
    sample = error.module_error_input
    module_cls = LOSSREF_MODULES[case.module]
    deliberate = _lookup(DELIBERATE, case)
    at_construction = error.error_on == ModuleErrorEnum.CONSTRUCTION_ERROR
    if deliberate is not None:
        at_construction = deliberate.stage == "construction"
    if at_construction:
        with pytest.raises((TypeError, ValueError)) as raised:
            _build(module_cls, sample, device)
    else:
        module = _build(module_cls, sample, device)
        args, kwargs = _forward_inputs(sample, device)
        with pytest.raises((TypeError, ValueError)) as raised:
            module(*args, **kwargs)
    message = str(raised.value)
    if deliberate is not None:
        assert isinstance(raised.value, deliberate.error) and re.search(deliberate.match, message), message
    names = _names(sample)
    assert any(re.search(rf"\b{name}\b", message) for name in names), f"names none of {names}: {message}"


def test_every_module_is_replayed() -> None:
    """Each lossref module that torch has has a ModuleInfo in torch's module_db, with samples in it,
    or else its function has an OpInfo in torch's op_db, replayed below."""
    assert sorted([*MODULE_INFOS, *OP_INFOS]) == sorted(LOSSREF_MODULES)
    assert all(_samples(name) for name in MODULE_INFOS)
    assert all(list(info.sample_inputs("cpu", torch.float64)) for info in OP_INFOS.values())


# -- torch's losses without a ModuleInfo: the OpInfo samples of their functions ---------------------

#: torch's OpInfo of each lossref function whose module has no ModuleInfo (the triplet losses')
OP_INFOS = {
    name: info
    for name, spec in SPECS_BY_MODULE.items()
    if name not in MODULE_INFOS
    for info in op_db
    if info.name == f"nn.functional.{spec.torch_function.__name__}"
}
OP_SAMPLES = [
    pytest.param(name, index, id=f"{name}-{index}")
    for name, info in OP_INFOS.items()
    for index, _ in enumerate(info.sample_inputs("cpu", torch.float64))
]
OP_ERRORS = [
    pytest.param(name, index, id=f"{name}-{index}")
    for name, info in OP_INFOS.items()
    for index, _ in enumerate(info.error_inputs("cpu"))
]


@pytest.mark.parametrize("name, index", OP_SAMPLES)
def test_torch_op_sample(name: str, index: int) -> None:
    """The function gives torch's value and input gradients on torch's OpInfo sample, in float64."""
    torch.manual_seed(SEED)
    sample = list(OP_INFOS[name].sample_inputs("cpu", torch.float64, requires_grad=True))[index]
    spec = SPECS_BY_MODULE[name]
    results = []
    for fn in (spec.function, spec.torch_function):
        leaves = [t.detach().clone().requires_grad_(True) for t in (sample.input, *sample.args)]
        loss = fn(*leaves, **sample.kwargs)
        results.append((loss, *torch.autograd.grad(loss.sum(), leaves)))
    torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, index", OP_ERRORS)
def test_torch_op_error_sample(name: str, index: int) -> None:
    """An input torch's OpInfo rejects is rejected by lossref too, with a TypeError or ValueError
    naming an argument (torch raises RuntimeError for shapes)."""
    error = list(OP_INFOS[name].error_inputs("cpu"))[index]
    sample = error.sample_input
    spec = SPECS_BY_MODULE[name]
    with pytest.raises((TypeError, ValueError)) as raised:
        spec.function(sample.input, *sample.args, **sample.kwargs)
    message = str(raised.value)
    names = [a.name for a in spec.args] + list(sample.kwargs)
    assert any(re.search(rf"\b{n}\b", message) for n in names), message


@pytest.mark.parametrize("table", [DELIBERATE, BUGS], ids=["DELIBERATE", "BUGS"])
def test_no_stale_entries(table: dict[tuple[str, str], Any]) -> None:
    """Every entry of DELIBERATE and BUGS still matches one of torch's samples."""
    cases = SAMPLE_CASES + ERROR_CASES
    for module, pattern in table:
        assert any(c.module == module and re.fullmatch(pattern, c.desc) for c in cases), (module, pattern)

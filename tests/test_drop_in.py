"""lossref as a drop-in for torch.nn: a call written for torch means the same here.

For every registry loss with a torch counterpart (``spec.torch_function``, and the torch module of
the same class name), the function and the module take torch's arguments in torch's positional order
with torch's defaults, lossref's own extras after them; a positional call with values other than the
defaults gives torch's numbers, also under ``torch.compile(fullgraph=True)``; and torch's deprecated
``size_average``/``reduce`` give torch's reduction and torch's warning. Every registry module shows
its real constructor signature (no ``*args``/``**kwargs``) and documents every argument. The tests
read the registry and the signatures; none branches on a loss's name.
"""

import inspect
import itertools
import re
import warnings

import pytest
import torch

from lossref.registry import LOSSES

TORCH_BACKED = [s for s in LOSSES if s.torch_function is not None]
LEGACY = ("size_average", "reduce")
#: the torch-backed losses whose torch signatures still take the deprecated arguments
WITH_LEGACY = [s for s in TORCH_BACKED if "size_average" in inspect.signature(s.torch_function).parameters]


def _l1(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return (u - v).abs().sum(-1)


#: for each of torch's non-tensor arguments, values to try, the first that is not its default
#: (``reduction`` is parametrized; the legacy arguments stay ``None`` here and get their own test)
OTHER_THAN_DEFAULT = {
    "ignore_index": 1,
    "label_smoothing": 0.2,
    "beta": 0.5,
    "delta": 0.5,
    "log_target": True,
    "log_input": False,
    "full": True,
    "eps": 1e-3,
    "margin": 0.5,
    "p": (2, 1),
    "swap": True,
    "distance_function": _l1,
}
SHAPE = (4, 3)


def torch_module(spec) -> type[torch.nn.Module]:
    return getattr(torch.nn, spec.module.__name__)


def parameters(callable_) -> list[inspect.Parameter]:
    """The parameters of a function, or of a class's constructor (without ``self``)."""
    return list(inspect.signature(callable_).parameters.values())


def described(params: list[inspect.Parameter]) -> list[tuple[str, object, inspect._ParameterKind]]:
    return [(p.name, p.default, p.kind) for p in params]


def inputs_for(spec):
    """Seeded float64 inputs with every tensor option; with a non-default ``ignore_index``, the
    targets that held the default one hold the new one (torch refuses -100 as a class otherwise);
    with ``log_input=False``, log-rates become the rates it reads."""
    inputs = spec.make_inputs(SHAPE, seed=3, dtype=torch.float64, weighted=True)
    if spec.domain == "log-rates":  # the other-than-default log_input=False reads rates
        inputs = inputs.replace(input=inputs.input.exp())
    if "ignore_index" in inspect.signature(spec.torch_function).parameters:
        target = inputs.target
        inputs = inputs.replace(target=target.where(target != -100, OTHER_THAN_DEFAULT["ignore_index"]))
    return inputs


def positional(params: list[inspect.Parameter], inputs, reduction: str) -> list[object]:
    """A value for each of ``params``, in order: the inputs' tensor options, ``None`` for the legacy
    arguments, ``reduction``, and otherwise a value other than the default."""
    values: list[object] = []
    for p in params:
        if p.name in inputs.options:
            values.append(inputs.options[p.name])
        elif p.name in LEGACY:
            values.append(None)
        elif p.name == "reduction":
            values.append(reduction)
        else:
            tries = OTHER_THAN_DEFAULT[p.name]
            tries = tries if isinstance(tries, tuple) else (tries,)
            values.append(next(v for v in tries if v != p.default))
    return values


def call_in_order(fn, params: list[inspect.Parameter], values: list[object], *args: object) -> object:
    """``fn(*args, *values)``, the keyword-only ``params`` (GaussianNLLLoss's, the triplet with a
    distance's) by keyword, the others in order."""
    keywords = {p.name: v for p, v in zip(params, values, strict=True) if p.kind == p.KEYWORD_ONLY}
    ordered = [v for p, v in zip(params, values, strict=True) if p.kind != p.KEYWORD_ONLY]
    return fn(*args, *ordered, **keywords)


def warned(call):
    """The value of ``call()`` and the warnings it raised, as (category, message) pairs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("spec", TORCH_BACKED, ids=lambda s: s.name)
def test_function_takes_torchs_parameters_first(spec):
    theirs = parameters(spec.torch_function)
    ours = parameters(spec.function)
    assert described(ours[: len(theirs)]) == described(theirs)


@pytest.mark.parametrize("spec", TORCH_BACKED, ids=lambda s: s.name)
def test_module_takes_torchs_parameters_first(spec):
    theirs = parameters(torch_module(spec))
    ours = parameters(spec.module)
    assert described(ours[: len(theirs)]) == described(theirs)


@pytest.mark.parametrize("reduction", ["none", "sum"])
@pytest.mark.parametrize("spec", TORCH_BACKED, ids=lambda s: s.name)
def test_positional_call_in_torchs_order_equals_torch(spec, reduction):
    inputs = inputs_for(spec)
    args = list(inputs.args.values())
    params = parameters(spec.torch_function)[len(args) :]
    values = positional(params, inputs, reduction)
    ours = call_in_order(spec.function, params, values, *args)
    torch.testing.assert_close(ours, call_in_order(spec.torch_function, params, values, *args))

    params = parameters(torch_module(spec))
    values = positional(params, inputs, reduction)
    ours = call_in_order(spec.module, params, values)(*args)
    torch.testing.assert_close(ours, call_in_order(torch_module(spec), params, values)(*args))


@pytest.mark.parametrize(
    "size_average, reduce", list(itertools.product([None, True, False], repeat=2)), ids=str
)
@pytest.mark.parametrize("spec", WITH_LEGACY, ids=lambda s: s.name)
def test_legacy_size_average_and_reduce_as_torch(spec, size_average, reduce):
    """torch's reduction and warning (or none) for every combination, function and module; the
    legacy arguments override ``reduction`` whenever one of them is given."""
    inputs = inputs_for(spec)
    args = list(inputs.args.values())
    legacy = {"size_average": size_average, "reduce": reduce, "reduction": "none"}
    ours, our_warnings = warned(lambda: spec.function(*args, **legacy, **inputs.options))
    theirs, their_warnings = warned(lambda: spec.torch_function(*args, **legacy, **inputs.options))
    torch.testing.assert_close(ours, theirs)
    assert our_warnings == their_warnings

    module_parameters = inspect.signature(torch_module(spec)).parameters
    options = {k: v for k, v in inputs.options.items() if k in module_parameters}
    ours, our_warnings = warned(lambda: spec.module(**legacy, **options))
    theirs, their_warnings = warned(lambda: torch_module(spec)(**legacy, **options))
    assert ours.reduction == theirs.reduction
    assert our_warnings == their_warnings
    torch.testing.assert_close(ours(*args), theirs(*args))


def documented_arguments(doc: str) -> list[str]:
    """The names of the entries of a Google-style ``Args:`` section."""
    section = re.search(r"^Args:\n((?:    .*\n|\n)+)", doc + "\n", re.MULTILINE)
    assert section is not None, "no Args section"
    return re.findall(r"^    (\w+):", section.group(1), re.MULTILINE)


def test_documented_arguments_are_parsed_as_entries():
    doc = "Summary.\n\nArgs:\n    mode: a\n        continued: not an entry\n    smooth: b\n\nShape:\n    x\n"
    assert documented_arguments(doc) == ["mode", "smooth"]


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_module_shows_and_documents_every_argument(spec):
    """``help()`` shows the constructor's real signature (no ``*args``/``**kwargs`` that hide its
    arguments from ``help()`` and autodoc) and, in the docstring, every argument in order, with the
    Shape and Examples sections of torch's modules."""
    params = parameters(spec.module)
    hidden = [p.name for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert hidden == [], f"{spec.module.__name__}.__init__ hides its arguments behind {hidden}"
    doc = inspect.getdoc(spec.module)
    assert documented_arguments(doc) == [p.name for p in params], spec.module.__name__
    for section in ("Shape:", "Examples:"):
        assert f"\n{section}\n" in doc, f"{spec.module.__name__} has no {section} section"


# torch 2.13's own deprecation warning while dynamo traces a custom autograd.Function (tests/test_compile.py)
@pytest.mark.filterwarnings("ignore:<class 'torch.autograd.function.Function'>:DeprecationWarning")
@pytest.mark.parametrize("size_average", [None, False], ids=["size_average=None", "size_average=False"])
@pytest.mark.parametrize("spec", WITH_LEGACY, ids=lambda s: s.name)
def test_torchs_positional_call_compiles_whole(spec, size_average):
    """``torch.compile(fullgraph=True)`` captures a call in torch's order, with the legacy arguments
    unset (the usual call) or set (torch's losses compile with them too), and gives torch's value."""
    inputs = inputs_for(spec)
    args = list(inputs.args.values())
    params = parameters(spec.torch_function)[len(args) :]
    values = positional(params, inputs, "none")
    values[[p.name for p in params].index("size_average")] = size_average
    torch._dynamo.reset()
    compiled = torch.compile(spec.function, backend="aot_eager", fullgraph=True)
    expected, _ = warned(lambda: spec.torch_function(*args, *values))
    torch.testing.assert_close(compiled(*args, *values), expected)

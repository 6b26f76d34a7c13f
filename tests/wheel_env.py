"""What tests/test_wheel.py runs inside the fresh virtual environment it installs the wheel into.

``python wheel_env.py bare README``: the Python block of the README file, one loss per family of
the registry, and which of sympy, mpmath, numpy, scipy ``import lossref`` imported.
``python wheel_env.py symbolic``: one oracle of :mod:`lossref.symbolic` and torch's value there.
``python wheel_env.py losses NAME...``: the named registry losses.
``python wheel_env.py imports MODULE...``: which of the modules import. Each prints a JSON object.
"""

import importlib
import json
import re
import sys
from pathlib import Path

import torch

OPTIONAL = ("sympy", "mpmath", "numpy", "scipy")


def outcome(name: str) -> str:
    """``"ok"`` when the registry loss ``name`` gives a finite loss, else its error."""
    from lossref.registry import get

    spec = get(name)
    try:
        loss = spec.call(spec.make_inputs((4, 3, 5, 6) if spec.target == "region" else (6, 5)))
    except Exception as e:  # reported to the test, which says which error it expected
        return f"{type(e).__name__}: {e}"
    return "ok" if bool(torch.isfinite(loss).all()) else f"not finite: {loss}"


def bare(readme: str) -> dict:
    before = set(sys.modules)
    import lossref
    from lossref.registry import LOSSES

    imported = sorted({m.partition(".")[0] for m in set(sys.modules) - before} & set(OPTIONAL))
    (block,) = re.findall(r"```python\n(.*?)```", Path(readme).read_text(), flags=re.S)
    namespace: dict = {}
    exec(block, namespace)
    first = {}  # the first loss of each module, in registry order
    for spec in LOSSES:
        first.setdefault(spec.function.__module__, spec.name)
    return {
        "location": lossref.__file__,
        "imported": imported,
        "readme_grad": namespace["logits"].grad is not None,
        "families": {module: [name, outcome(name)] for module, name in first.items()},
    }


def symbolic() -> dict:
    from lossref.symbolic import BCE_WITH_LOGITS

    result = BCE_WITH_LOGITS.oracle(input=3.0, target=0.25)
    x, y = torch.tensor(3.0, dtype=torch.float64), torch.tensor(0.25, dtype=torch.float64)
    return {
        "oracle": float(result.value),
        "torch": torch.nn.functional.binary_cross_entropy_with_logits(x, y).item(),
    }


def imports(module: str) -> str:
    """``"ok"`` when ``module`` imports, else its error."""
    try:
        importlib.import_module(module)
    except Exception as e:  # reported to the test
        return f"{type(e).__name__}: {e}"
    return "ok"


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "bare":
        report = bare(*rest)
    elif command == "symbolic":
        report = symbolic()
    elif command == "imports":
        report = {name: imports(name) for name in rest}
    else:
        report = {name: outcome(name) for name in rest}
    print(json.dumps(report))

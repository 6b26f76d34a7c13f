import os
import re
import warnings

import pytest
import torch
from fixture_losses import FIXTURE_LOSSES
from hypothesis import settings
from xdist.scheduler import LoadScopeScheduling

from lossref.registry import LOSSES

# CI runs a bounded sample of the property tests; `HYPOTHESIS_PROFILE=exhaustive` runs many more.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None)
settings.register_profile("exhaustive", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")

#: lossref's losses, and the fixture entries of families it does not ship yet (tests/fixture_losses.py)
SPECS = LOSSES + FIXTURE_LOSSES


#: test files kept on one worker like a notebook: their tests read one module fixture that is costly
#: to make (the spawn of the processes, once per world size), which a second worker would make again
ONE_SCOPE = {"tests/test_distributed.py"}


class _NotebookScheduling(LoadScopeScheduling):
    """``--dist loadscope`` with a notebook as the one scope that stays together: its cells share
    one kernel, so they run in order on one worker; every other test is a scope of its own and goes
    to whichever worker is free, so no long test file runs alone at the end. Scopes start largest
    first (pytest-xdist's default), so the notebooks start first and the unit tests fill in."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return path if path.endswith(".ipynb") or path in ONE_SCOPE else nodeid


def pytest_xdist_make_scheduler(config, log):
    # tests/ is a test path, so pytest loads this file before the session starts, in time for xdist
    if config.getvalue("dist") == "loadscope":
        return _NotebookScheduling(config, log)
    return None


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=CUDA)])
def device(request) -> str:
    return request.param


@pytest.fixture(params=SPECS, ids=lambda s: s.name)
def spec(request):
    return request.param


@pytest.fixture(autouse=True)
def expected_mean_warning(request):
    """The warning a registry loss gives by design for ``reduction='mean'`` (``spec.mean_warning``,
    torch's ``kl_div``'s) is expected in the tests of that loss; any other warning is an error
    (pyproject.toml), and tests/test_registry_losses.py checks which losses warn."""
    params = request.node.callspec.params if hasattr(request.node, "callspec") else {}
    # the entry itself, or a case of torch's that names it (tests/test_torch_module_db.py)
    spec = params.get("spec", getattr(params.get("case"), "spec", None))
    message = getattr(spec, "mean_warning", None)
    if message is None:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=re.escape(message), category=UserWarning)
        yield

"""Hooks for every test path (tests/, the package's doctests, the chapters' notebooks)."""

from xdist.scheduler import LoadScopeScheduling


class _NotebookScheduling(LoadScopeScheduling):
    """``--dist loadscope`` with a notebook as the one scope that stays together: its cells share
    one kernel, so they run in order on one worker; every other test is a scope of its own and goes
    to whichever worker is free, so no long test file runs alone at the end. Scopes start largest
    first (pytest-xdist's default), so the notebooks start first and the unit tests fill in."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return path if path.endswith(".ipynb") else nodeid


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadscope":
        return _NotebookScheduling(config, log)
    return None

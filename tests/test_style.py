"""Style is enforced, not only configured: ruff's lint rules (pyflakes, pycodestyle, bugbear, isort and
McCabe complexity at 20, as kornia) and ruff's formatter, over the package, the tests, the tools, the
benchmarks and the chapters' code cells (chapters/ruff.toml sets the book's code column)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command", [["check", "--no-cache"], ["format", "--check", "--no-cache"]], ids=["check", "format"]
)
def test_ruff(command):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_pinned():
    """The requirements pin the ruff that the rules above are checked with."""
    pins = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    version = subprocess.run(
        [sys.executable, "-m", "ruff", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    assert f"ruff=={version}" in pins

"""lossref's type hints are checked, not just written."""

import subprocess
import sys
from pathlib import Path


def test_mypy_finds_no_errors():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr

"""The package as a user installs it. The wheel, built from the package's own files, declares an
SPDX licence with its LICENSE file, the repository's URLs, its own README (install, the five
lines, the book) and, as its torch floor, the torch this suite runs. Installed into a fresh
virtual environment that holds only torch, it runs the README's five lines and one loss per family
(the distance losses fail with an ImportError that names the ``distance`` extra), and
``import lossref`` imports none of sympy, mpmath, numpy, scipy; with each extra, its losses run,
and with ``book`` every module a chapter imports imports.

The fresh environment gets the torch of the environment running the suite, linked in rather than
downloaded: pip would fetch torch from the network, and PyPI's torch is a CUDA build of several GB.
pip then installs the wheel with ``--no-index``, so every requirement it declares (torch, each
extra's) has to be met by the linked distributions: the versions this suite tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from email import message_from_string
from email.message import Message
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
import tomllib
import torch
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import setup_cell  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = ROOT / PYPROJECT["project"]["readme"]
ENV_SCRIPT = Path(__file__).resolve().parent / "wheel_env.py"
PYTHON_BLOCK = r"```python\n(.*?)```"


def run(*command: str | Path, cwd: Path) -> str:
    """Run ``command``; its stdout, or a failure that shows its output."""
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of what pyproject.toml names (setuptools would leave build/ and
    stale files in the repository). No build isolation: it would download setuptools; pip checks
    instead that this environment's setuptools (torch requires one) meets ``build-system.requires``."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    for package in PYPROJECT["tool"]["setuptools"]["packages"]:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ["pyproject.toml", PYPROJECT["project"]["readme"], *PYPROJECT["project"]["license-files"]]:
        shutil.copy(ROOT / name, source / name)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--no-build-isolation"]
    run(*pip_wheel, "--check-build-dependencies", "--quiet", "-w", tmp / "dist", cwd=tmp)
    (built,) = (tmp / "dist").glob("lossref-*.whl")
    return built


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return message_from_string(archive.read(name).decode("utf-8"))


def test_wheel_declares_licence_urls_readme_and_the_tested_torch(wheel):
    meta = wheel_metadata(wheel)
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    with zipfile.ZipFile(wheel) as archive:
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())

    repository = setup_cell.repository_url()
    owner, name = repository.split("/")[-2:]
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL"))
    assert urls == {
        "Homepage": repository,
        "Documentation": f"https://{owner}.github.io/{name}/",
        "Source": repository,
        "Issues": f"{repository}/issues",
    }

    # The description is the package's README: it installs with pip from the repository (no make
    # targets), runs the book README's five lines, and links to the book.
    description = meta.get_payload()
    assert description.strip() == README.read_text(encoding="utf-8").strip()
    commands = re.findall(r"```bash\n(.*?)```", description, flags=re.S)
    assert commands == [f'pip install "lossref @ git+{repository}"\n'], commands
    book_readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.findall(PYTHON_BLOCK, description, flags=re.S) == re.findall(
        PYTHON_BLOCK, book_readme, flags=re.S
    )
    assert urls["Documentation"] in description

    # The torch floor is the torch the suite runs (requirements.txt pins it).
    requirements = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    (runtime,) = [r for r in requirements if r.marker is None]
    (floor,) = [s.version for s in runtime.specifier if s.operator == ">="]
    assert runtime.name == "torch" and Version(floor) == Version(Version(torch.__version__).base_version)
    assert {"symbolic", "distance", "book"} <= set(meta.get_all("Provides-Extra"))


def link_distributions(requirements: list[Requirement], target: Path) -> None:
    """Link the installed distributions that ``requirements`` name, with everything they require
    (with the extras asked for: ``bleach[css]`` needs tinycss2), into ``target``: their files and
    metadata, as pip and importlib see them."""
    linked = {canonicalize_name(p.name.split("-")[0]) for p in target.glob("*.dist-info")}
    done: set[tuple[str, str]] = set()
    todo = [(r.name, extra) for r in requirements for extra in ["", *r.extras]]
    while todo:
        name, extra = todo.pop()
        dist = metadata.distribution(name)
        key = canonicalize_name(dist.name)
        if (key, extra) in done:
            continue
        done.add((key, extra))
        if key not in linked:
            linked.add(key)
            for top in {Path(f).parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
                (target / top).symlink_to(dist.locate_file(top))
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                todo += [(requirement.name, e) for e in ["", *requirement.extras]]


def wheel_requires(wheel: Path, extra: str) -> list[str]:
    """The wheel's requirements with those of ``extra`` (``""``: no extra)."""
    requirements = [Requirement(r) for r in wheel_metadata(wheel).get_all("Requires-Dist")]
    return [str(r) for r in requirements if r.marker is None or r.marker.evaluate({"extra": extra})]


def test_wheel_in_a_fresh_environment_with_only_torch_then_each_extra(wheel, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip()
    )
    linked = tmp_path / "linked"
    linked.mkdir()
    (site / "linked.pth").write_text(f"{linked}\n")

    def install(extra: str = "") -> None:
        """Install the wheel, with ``extra``'s requirements linked in first."""
        link_distributions([Requirement(r) for r in wheel_requires(wheel, extra)], linked)
        pip = [sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--quiet"]
        run(*pip, f"{wheel}[{extra}]" if extra else wheel, cwd=tmp_path)

    def in_env(*args: str | Path) -> dict:
        return json.loads(run(python, ENV_SCRIPT, *args, cwd=tmp_path))

    install()
    bare = in_env("bare", README)
    assert Path(bare["location"]).is_relative_to(site), bare["location"]
    assert bare["imported"] == [], f"import lossref imported {bare['imported']}"
    assert bare["readme_grad"]
    for module, (name, result) in bare["families"].items():
        assert result == "ok" or (result.startswith("ImportError") and "lossref[distance]" in result), (
            f"{module}: {name} without scipy gave {result}"
        )
    need_scipy = [name for name, result in bare["families"].values() if result != "ok"]
    assert need_scipy, "every family ran without scipy: which losses does the distance extra serve?"

    install("symbolic")
    symbolic = in_env("symbolic")
    assert symbolic["oracle"] == pytest.approx(symbolic["torch"], rel=1e-12)

    install("distance")
    assert in_env("losses", *need_scipy) == dict.fromkeys(need_scipy, "ok")

    # the book extra: every module a chapter needs (its setup cell's list) and JupyterLab
    install("book")
    chapters = sorted((ROOT / "chapters").rglob("*.ipynb"))
    needed = sorted({m for path in chapters for m in setup_cell.needed(nbformat.read(path, as_version=4))})
    assert "lossref" in needed and "sympy" in needed, needed
    modules = needed + ["jupyterlab"]
    assert in_env("imports", *modules) == dict.fromkeys(modules, "ok")

"""The built distributions are what a user installs: they carry the licence and the PEP 561
``py.typed`` marker, and the installed ``micrograd-like`` command starts in a clean virtualenv.

The wheel and the sdist are built once per module, from the repository root, with
``python -m build --no-isolation`` (the backend, hatchling, comes from the ``dev`` extra, so no
download) into a temporary directory, never into the tree's ``dist/``.
"""

from __future__ import annotations

import email.parser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "micrograd_like"
SUBCOMMANDS = ("grad", "gradcheck", "demo")
TIMEOUT = 180  # seconds per subprocess; the whole module normally takes well under 30 s


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, sdist) built from the working tree."""
    for module in ("build", "hatchling"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--sdist", "--no-isolation", "--outdir", out],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, _output(result)
    wheels = sorted(out.glob("*.whl"))
    sdists = sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return wheels[0], sdists[0]


def _name_version(dist: Path) -> str:
    """``micrograd_like-0.1.0`` from ``micrograd_like-0.1.0-py3-none-any.whl`` or ``.tar.gz``."""
    name, version = dist.name.removesuffix(".tar.gz").split("-")[:2]
    return f"{name}-{version}"


def test_wheel_ships_py_typed_licence_and_metadata(dists: tuple[Path, Path]) -> None:
    wheel, _ = dists
    dist_info = f"{_name_version(wheel)}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert f"{PACKAGE}/py.typed" in names
        assert f"{dist_info}/licenses/LICENSE" in names
        licence = archive.read(f"{dist_info}/licenses/LICENSE")
        metadata = email.parser.BytesParser().parsebytes(archive.read(f"{dist_info}/METADATA"))

    assert licence == (ROOT / "LICENSE").read_bytes()
    assert licence.startswith(b"MIT License")
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    # PEP 639: the licence is the expression above, never also a "License ::" classifier.
    assert not [c for c in classifiers if c.startswith("License ::")]
    labels = {entry.split(", ", 1)[0] for entry in metadata.get_all("Project-URL") or []}
    assert labels >= {"Homepage", "Documentation", "Source", "Issues"}


def test_sdist_ships_licence_and_py_typed(dists: tuple[Path, Path]) -> None:
    _, sdist = dists
    top = _name_version(sdist)
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
        licence = archive.extractfile(f"{top}/LICENSE")
        assert licence is not None
        assert licence.read() == (ROOT / "LICENSE").read_bytes()
    assert f"{top}/{PACKAGE}/py.typed" in names
    assert f"{top}/pyproject.toml" in names


def _base_python() -> str:
    """The interpreter the test's own virtualenv was made from (not the virtualenv itself)."""
    base = getattr(sys, "_base_executable", None)
    if base and os.path.exists(base):
        return base
    found = shutil.which("python3")
    if found is None:
        pytest.skip("no base python3 interpreter to create a clean virtualenv with")
    return found


def _clean_env() -> dict[str, str]:
    """The current environment without anything that could leak this tree's packages in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    }
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def test_cli_help_in_a_clean_virtualenv(dists: tuple[Path, Path], tmp_path: Path) -> None:
    """Installed alone (no numpy, graphviz or tqdm), ``micrograd-like --help`` still works:
    the help must load only the standard library."""
    wheel, _ = dists
    python = _base_python()
    probe = subprocess.run(
        [python, "-c", "import venv, ensurepip"], capture_output=True, text=True, timeout=TIMEOUT
    )
    if probe.returncode != 0:
        pytest.skip(f"{python} cannot create virtualenvs (python3-venv missing?): {probe.stderr}")

    env = _clean_env()
    venv_dir = tmp_path / "venv"
    created = subprocess.run(
        [python, "-m", "venv", venv_dir], capture_output=True, text=True, timeout=TIMEOUT, env=env
    )
    assert created.returncode == 0, _output(created)
    bindir = venv_dir / ("Scripts" if os.name == "nt" else "bin")
    venv_python = bindir / ("python.exe" if os.name == "nt" else "python")

    installed = subprocess.run(
        [venv_python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        cwd=tmp_path,
    )
    assert installed.returncode == 0, _output(installed)

    # The package comes from the clean virtualenv, with its marker, and numpy is really absent
    # (find_spec locates without importing, so this needs no dependency).
    where = subprocess.run(
        [
            venv_python,
            "-c",
            "import importlib.util as u; print(u.find_spec('micrograd_like').origin);"
            " print(u.find_spec('numpy') is None)",
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        cwd=tmp_path,
    )
    assert where.returncode == 0, _output(where)
    origin, numpy_absent = where.stdout.split()
    assert Path(origin).resolve().is_relative_to(venv_dir.resolve()), origin
    assert (Path(origin).parent / "py.typed").is_file()
    assert numpy_absent == "True"

    script = bindir / ("micrograd-like.exe" if os.name == "nt" else "micrograd-like")
    helped = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=tmp_path
    )
    assert helped.returncode == 0, _output(helped)
    for command in SUBCOMMANDS:
        assert re.search(rf"^\s+{command}\b", helped.stdout, re.MULTILINE), helped.stdout

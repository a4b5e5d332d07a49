"""Every example in the guides runs and prints exactly the output shown under it.

A ```python block is executed (the blocks of one guide share a namespace, in order, in a
temporary directory); a ```console block runs each ``$ command`` line. When a ```text block
follows, or the console block holds lines after the command, that is the expected output.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from micrograd_like.engine import OPS

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ["README.md", "README.es.md"]
BLOCK = re.compile(r"^```(python|console)\n(.*?)^```\n(?:\n```text\n(.*?)^```\n)?", re.S | re.M)


@dataclass
class Example:
    kind: str
    code: str
    expected: str | None
    line: int


def examples(text: str) -> list[Example]:
    found = []
    for match in BLOCK.finditer(text):
        kind, code, expected = match.groups()
        line = text.count("\n", 0, match.start()) + 1
        found.append(Example(kind, code, expected, line))
    return found


def run_python(example: Example, namespace: dict, name: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example.code, f"{name}:{example.line}", "exec"), namespace)
    return out.getvalue()


def run_console(example: Example) -> tuple[str, str]:
    """(expected, actual) for a console block: the lines after each ``$`` command."""
    expected, actual = [], []
    for line in example.code.splitlines():
        if line.startswith("$ "):
            argv = shlex.split(line[2:])
            argv[0] = str(Path(sys.executable).parent / argv[0])
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            actual.append(done.stdout + done.stderr)
        else:
            expected.append(line + "\n")
    return "".join(expected), "".join(actual)


def run_guide(name: str) -> list[tuple[Example, str | None, str]]:
    """Run every example of guide ``name`` in the current directory; (example, expected,
    actual) for each."""
    namespace: dict = {"__name__": "__readme__"}
    results = []
    ops_before = dict(OPS)
    try:
        for example in examples((ROOT / name).read_text(encoding="utf-8")):
            if example.kind == "python":
                results.append((example, example.expected, run_python(example, namespace, name)))
            else:
                results.append((example, *run_console(example)))
    finally:  # the guides declare ops in the global table: forget them afterwards
        OPS.clear()
        OPS.update(ops_before)
    return results


@pytest.mark.parametrize("name", GUIDES)
def test_every_example_prints_what_the_guide_shows(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results = run_guide(name)
    assert len(results) >= 10
    for example, expected, actual in results:
        if expected is not None:
            assert actual == expected, f"{name} line {example.line}"

"""Smoke test of the benchmark harness: ``benchmarks/bench.py --quick`` runs end to end and
its report has the promised structure. Timings are never asserted (--quick measures nothing);
the loss agreement between micrograd and micrograd_like is, since it is exact arithmetic."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"
COLUMNS = ["Measurement", "micrograd_like", "Reference", "Ratio", "Target", "Result"]


def run_bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(stdout, --out file) of one quick run with the profile."""
    pytest.importorskip("micrograd")
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("bench") / "table.md"
    result = run_bench("--quick", "--profile", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return result.stdout, out


def table_rows(text: str) -> list[list[str]]:
    """The cells of every markdown table line, the separator line excluded."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[:1] + lines[2:]]


def row(rows: list[list[str]], prefix: str) -> list[str]:
    matches = [r for r in rows if r[0].startswith(prefix)]
    assert len(matches) == 1, f"expected one row starting with {prefix!r}, got {matches}"
    return matches[0]


def leading_number(cell: str) -> float:
    """The number a cell starts with, after an optional "name: " prefix."""
    return float(cell.split(": ")[-1].split()[0].rstrip("%x"))


def test_written_report_is_the_printed_one_and_no_temporary_file_is_left(quick):
    stdout, out = quick
    written = out.read_text(encoding="utf-8")
    assert stdout.startswith(written)
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_report_names_the_machine_and_versions(quick):
    text = quick[1].read_text(encoding="utf-8")
    header = text.split("\n\n")[0]
    assert header.startswith("Machine:")
    assert "cores" in header and "Python 3." in header
    for library in ("micrograd_like", "micrograd", "numpy", "torch"):
        assert f"{library} " in header
    assert "--quick" in text  # the quick run says its numbers measure nothing


def test_table_has_every_measurement_with_a_verdict_for_each_target(quick):
    rows = table_rows(quick[1].read_text(encoding="utf-8"))
    assert rows[0] == COLUMNS
    assert all(len(r) == len(COLUMNS) for r in rows)
    body = rows[1:]
    for prefix in (
        "Demo step, gc on",
        "Demo step, gc off",
        "Time in the cyclic collector",
        "Demo losses",
        "train_on_batch vs PyTorch eager step, hinge +",
        "train_on_batch vs PyTorch eager step, hinge, no L2",
        "Training step losses vs the demo",
        "Training step losses without L2",
        "MNIST-shaped epoch, fit vs PyTorch",
        "MNIST-shaped epoch losses",
        "Recording the replay",
        "Digits to 97% test accuracy",
        "Memory per node",
        "Memory of one demo step",
        "`micrograd-like demo` end to end",
    ):
        row(body, prefix)
    assert len([r for r in body if r[0].startswith("Backward per node")]) == 4
    for r in body:
        assert (r[5] in ("PASS", "FAIL")) == bool(r[4]), r


def test_measured_numbers_are_positive_and_finite(quick):
    body = table_rows(quick[1].read_text(encoding="utf-8"))[1:]
    timed = [
        r
        for r in body
        if r[0].startswith(("Demo step", "Memory", "Backward", "train_on", "MNIST", "Recording"))
    ]
    for r in timed:
        value = leading_number(r[1])
        assert math.isfinite(value) and value > 0, r
    for prefix in (
        "Demo step, gc on",
        "Memory per node",
        "train_on_batch vs PyTorch eager step, hinge +",
        "MNIST-shaped epoch, fit",
    ):
        value = leading_number(row(body, prefix)[2])
        assert math.isfinite(value) and value > 0


def test_timed_rows_show_the_peak_memory_of_their_process(quick):
    body = table_rows(quick[1].read_text(encoding="utf-8"))[1:]
    for prefix in ("Demo step, gc on", "train_on_batch vs PyTorch eager step, hinge, no L2"):
        for cell in row(body, prefix)[1:3]:
            megabytes = float(cell.split("(")[1].split(" MB)")[0])
            assert 1 < megabytes < 10_000, cell


def test_both_engines_compute_the_same_demo_losses(quick):
    body = table_rows(quick[1].read_text(encoding="utf-8"))[1:]
    demo = row(body, "Demo losses")
    assert float(demo[1]) <= 1e-9 and demo[5] == "PASS"
    training = row(body, "Training step losses vs the demo")
    assert float(training[1]) <= 1e-9
    assert leading_number(training[2]) <= 1e-9  # PyTorch's step is the same computation
    assert float(row(body, "Training step losses without L2")[1]) <= 1e-9


def test_profile_lists_the_engine_functions_by_own_time(quick):
    stdout = quick[0]
    assert "Ordered by: internal time" in stdout
    assert "engine/value.py" in stdout


def test_unknown_option_is_a_usage_error():
    result = run_bench("--no-such-option")
    assert result.returncode == 2
    assert "usage:" in result.stderr

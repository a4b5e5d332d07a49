"""External tools fail in one line (issue 11, point 4): a `dot` that fails or hangs, Ctrl-C
anywhere in the command line, labels dot cannot read, TensorBoard on a diverging fit."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from micrograd_like import MLP, Value, cli, draw_dot, render
from micrograd_like.errors import GraphvizError, GraphvizNotFoundError
from micrograd_like.optim import SGD

REPO = Path(__file__).resolve().parent.parent
SMALL_DEMO = ("--epochs", "1", "--samples", "30", "--hidden", "4")


def fake_dot(tmp_path: Path, body: str) -> Path:
    """A directory holding a `dot` shell script with ``body``; put it first on PATH."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "dot"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return bin_dir


@pytest.fixture
def failing_dot(tmp_path, monkeypatch):
    bin_dir = fake_dot(tmp_path, 'echo "Warning: ignored" >&2\necho "Error: bad graph" >&2\nexit 7')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


@pytest.fixture
def hanging_dot(tmp_path, monkeypatch):
    """A dot that starts a child and waits for it: both must be stopped."""
    pids = tmp_path / "pids"
    bin_dir = fake_dot(tmp_path, f"sleep 60 &\necho $! > {pids}\nwait")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return pids


def graph() -> Value:
    x = Value(3.0, label="x")
    return x * x + 1


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_dot_that_fails_is_a_one_line_graphviz_error(failing_dot, tmp_path):
    target = tmp_path / "graph.svg"
    with pytest.raises(GraphvizError) as info:
        render(graph(), target)
    message = str(info.value)
    assert "(exit code 7): Error: bad graph" in message and "\n" not in message
    assert not isinstance(info.value, GraphvizNotFoundError)
    assert not target.exists()


def test_the_cli_exits_3_with_one_line_when_dot_fails(failing_dot, tmp_path, capsys):
    code, out, err = run(capsys, "grad", "x*x", "x=3", "--svg", str(tmp_path / "g.svg"))
    assert code == cli.EXIT_GRAPHVIZ == 3
    assert "d/dx = 6" in out  # the results are printed first
    assert err.count("\n") == 1 and "Error: bad graph" in err and "Traceback" not in err


def test_a_dot_that_hangs_is_stopped_after_the_timeout(hanging_dot, tmp_path, capsys):
    started = time.monotonic()
    with pytest.raises(GraphvizError, match=r"did not finish drawing .* within 0.5 s"):
        render(graph(), tmp_path / "graph.svg", timeout=0.5)
    assert time.monotonic() - started < 20
    assert not (tmp_path / "graph.svg").exists()
    child = int(hanging_dot.read_text())
    for _ in range(100):  # killed with its parent (a zombie until init reaps it)
        if not Path(f"/proc/{child}").exists() or "Z" in _state(child):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the child of the hanging dot is still running")
    code, _, err = run(
        capsys, "grad", "x", "x=1", "--svg", str(tmp_path / "g.svg"), "--timeout", "0.3"
    )
    assert code == 3 and err.count("\n") == 1 and "within 0.3 s" in err


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "gone"


def test_timeout_is_checked(capsys, tmp_path):
    with pytest.raises(ValueError, match="timeout must be a finite number > 0"):
        render(graph(), tmp_path / "g.svg", timeout=0)
    code, _, err = run(
        capsys, "grad", "x", "x=1", "--svg", str(tmp_path / "g.svg"), "--timeout", "-1"
    )
    assert code == 2 and "--timeout must be" in err
    with pytest.raises(SystemExit):
        cli.main(["demo", "--timeout", "nan"])
    assert "timeout must be" in capsys.readouterr().err


def test_the_demo_keeps_everything_else_and_exits_3_when_dot_fails(failing_dot, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = run(capsys, "demo", *SMALL_DEMO, "--out", str(out))
    assert code == 3
    # the two graphs and the backpropagation page's layout
    assert stderr.count("Error: bad graph") == 3 and "Traceback" not in stderr
    assert not (out / "backprop.html").exists()
    assert "Graphviz's dot failed" in stdout
    for name in ("graph", "network"):
        assert not (out / f"{name}.svg").exists()
        assert (out / f"{name}.dot").read_text().startswith("digraph")
    for name in ("model.json", "gradcheck.txt"):
        assert (out / name).is_file()


def test_ctrl_c_anywhere_in_the_cli_is_one_line_and_exit_130(monkeypatch, capsys):
    import micrograd_like.demo

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(micrograd_like.demo, "run_demo", interrupted)
    code, _, err = run(capsys, "demo", "--out", "unused")
    assert (code, err) == (130, "micrograd-like demo: interrupted\n")
    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert run(capsys, "grad", "x", "x=1")[::2] == (130, "micrograd-like: interrupted\n")


def test_ctrl_c_during_a_real_demo_run(tmp_path):
    """SIGINT once training has started: the progress line is ended, then one line."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "micrograd_like",
            "demo",
            "--epochs",
            "5000",
            "--out",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout.readline().startswith(b"Training an MLP")
    err = b""
    deadline = time.monotonic() + 60
    while b"Epoch 1/" not in err and time.monotonic() < deadline:  # the progress shows
        if select.select([process.stderr], [], [], 1)[0]:
            err += os.read(process.stderr.fileno(), 4096)
    time.sleep(0.5)  # past the bar's own start-up (a thread), into the training
    process.send_signal(signal.SIGINT)
    try:
        err += process.communicate(timeout=15)[1]
    except subprocess.TimeoutExpired:
        # Python drops a KeyboardInterrupt raised inside a finalizer (__del__, a weakref
        # callback), as it drops any exception there; a user then presses Ctrl-C again
        process.send_signal(signal.SIGINT)
        err += process.communicate(timeout=60)[1]
    assert process.returncode == 130
    assert b"Epoch 1/" in err and b"Traceback" not in err
    assert err.endswith(b"\nmicrograd-like demo: interrupted\n")


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("a\x00b", "NUL character"),
        ("x" * 16_001, "16001 bytes once escaped"),
        ("|" * 8_001, "16002 bytes once escaped"),
        ("\ud800", "not valid Unicode"),
    ],
)
def test_labels_dot_cannot_read_are_a_clear_value_error(label, message, tmp_path):
    y = Value(1.0, label=label) * 2
    with pytest.raises(ValueError, match=message):
        draw_dot(y)
    with pytest.raises(ValueError, match=message):
        render(y, tmp_path / "g.svg")
    assert "x" * 16_000 in draw_dot(Value(1.0, label="x" * 16_000) * 2).source


def test_tensorboard_histograms_of_a_diverging_fit(tmp_path):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    from micrograd_like.callbacks import TensorBoard

    X = np.random.default_rng(0).normal(size=(40, 2))
    model = MLP(2, [4, 1], seed=0)
    model.compile(SGD(lr=1e100), "mse")  # the weights jump to about 1e100, beyond 1e20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(
            X,
            100 * X[:, 0],
            epochs=3,
            batch_size=8,
            verbose=0,
            callbacks=[TensorBoard(tmp_path, histogram_freq=1)],
        )
    run = event_accumulator.EventAccumulator(
        str(tmp_path / "train"), size_guidance={"histograms": 0}
    )
    run.Reload()
    weights = run.Histograms("parameters/layers.0.w")
    assert weights and max(abs(h.histogram_value.max) for h in weights) > 1e20

"""The command line: grad, gradcheck, injection attempts, exit codes, Graphviz present or not."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from micrograd_like import cli, define_op

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")
REPO = Path(__file__).resolve().parent.parent


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "micrograd_like", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


def parse_lines(out: str) -> dict[str, float]:
    """'name = number' lines -> {name: number}."""
    return {
        left.strip(): float(right)
        for left, sep, right in (line.partition(" = ") for line in out.splitlines())
        if sep
    }


def test_grad_prints_the_value_and_each_gradient(capsys):
    code, out, err = run(capsys, "grad", "tanh(x*w + b)", "x=1", "w=-2", "b=0.5")
    assert (code, err) == (0, "")
    t = math.tanh(1 * -2 + 0.5)
    printed = parse_lines(out)
    assert printed["tanh(x*w + b)"] == pytest.approx(t, abs=1e-9)
    # d tanh(u) = (1 - tanh(u)^2) du with u = x*w + b
    assert printed["d/dx"] == pytest.approx((1 - t * t) * -2, abs=1e-9)
    assert printed["d/dw"] == pytest.approx((1 - t * t) * 1, abs=1e-9)
    assert printed["d/db"] == pytest.approx(1 - t * t, abs=1e-9)


def test_grad_of_a_repeated_variable_and_an_unused_one(capsys):
    code, out, _ = run(capsys, "grad", "x*x*x + 2*x", "x=2", "unused=7")
    assert code == 0
    assert parse_lines(out) == {"x*x*x + 2*x": 12.0, "d/dx": 14.0, "d/dunused": 0.0}


def test_gradcheck_prints_the_table_and_exits_0(capsys):
    code, out, _ = run(capsys, "gradcheck", "sigmoid(x*y) + log(y) - x**3", "x=0.3", "y=1.7")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "gradient check: passed"
    assert lines[1].split() == ["input", "analytic", "numeric", "abs", "err", "rel", "err", "ok"]
    rows = {line.split()[0]: line.split() for line in lines[2:4]}
    assert set(rows) == {"x", "y"} and all(row[-1] == "yes" for row in rows.values())
    s = 1 / (1 + math.exp(-0.3 * 1.7))
    assert float(rows["x"][1]) == pytest.approx(s * (1 - s) * 1.7 - 3 * 0.3**2, abs=1e-8)


def test_gradcheck_exits_1_and_names_a_wrong_op(capsys, scratch_ops):
    define_op("wrong_sin", math.sin, lambda x, out: (-math.cos(x),))
    code, out, _ = run(capsys, "gradcheck", "wrong_sin(x) * 2", "x=0.5")
    assert code == 1
    assert "FAILED" in out and "'wrong_sin'" in out


def test_gradcheck_reports_a_kink_and_passes(capsys):
    code, out, _ = run(capsys, "gradcheck", "relu(x - 1)", "x=1")
    assert code == 0 and "kink" in out


INJECTIONS = [
    "__import__('os').system('echo hi')",
    "x.__class__",
    "[x for x in ()]",
    "lambda: 1",
    "x[0]",
    "'a'",
    "1e308**1e308",
    "2**99999999",
    "(" * 5000 + "x" + ")" * 5000,
    "(" * 150 + "x" + ")" * 150 + "+x" * 200,
    "exp(exp(exp(exp(x))))*1e308",
    "y",
    "open('/etc/passwd')",
]


@pytest.mark.parametrize("command", ["grad", "gradcheck"])
@pytest.mark.parametrize("expression", INJECTIONS)
def test_injection_attempts_are_one_line_errors_with_exit_2(capsys, command, expression):
    code, out, err = run(capsys, command, expression, "x=3")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"micrograd-like {command}: error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "assignments, fragment",
    [
        (["x=1", "x=2"], "assigned twice"),
        (["x"], "NAME=NUMBER"),
        (["=1"], "NAME=NUMBER"),
        (["x=abc"], "expected a number"),
        (["x=nan"], "finite"),
        (["x=1e999"], "finite"),
        (["tanh=1"], "function name"),
        ([], "unknown name 'x'"),
    ],
)
def test_bad_assignments_exit_2(capsys, assignments, fragment):
    code, out, err = run(capsys, "grad", "x + 1", *assignments)
    assert code == 2 and out == "" and fragment in err and err.count("\n") == 1


def test_domain_errors_and_bad_options_exit_2(capsys):
    assert run(capsys, "grad", "log(x)", "x=-1")[0] == 2
    assert run(capsys, "grad", "sqrt(x)", "x=0")[0] == 2  # derivative undefined at 0
    assert run(capsys, "gradcheck", "x", "x=1", "--eps", "0")[0] == 2
    code, out, err = run(capsys, "grad", "x", "x=1", "--svg", "graph.txt")
    assert code == 2 and out == "" and "expected a path ending in" in err


def test_usage(capsys):
    assert run(capsys, "grad", "1 + 2")[1] == "1 + 2 = 3\n"
    assert cli.main([]) == 0 and "gradcheck" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0 and "micrograd-like" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2


def test_another_subcommand_registers_with_one_function(capsys, monkeypatch):
    def add_hello_command(subparsers):
        parser = subparsers.add_parser("hello", help="say hello")
        parser.add_argument("name")
        parser.set_defaults(run=lambda args: print(f"hello {args.name}") or 0)

    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, add_hello_command])
    assert run(capsys, "hello", "world") == (0, "hello world\n", "")
    assert run(capsys, "grad", "x", "x=1")[0] == 0


@needs_dot
def test_grad_svg_with_the_real_dot(capsys, tmp_path):
    path = tmp_path / "graph.svg"
    code, out, _ = run(capsys, "grad", "x*x + w", "x=3", "w=0.5", "--svg", str(path))
    assert code == 0 and f"graph written to {path}" in out
    texts = [t.text for t in ET.parse(path).getroot().iter("{http://www.w3.org/2000/svg}text")]
    for expected in ("x", "data 3.0000", "grad 6.0000", "w", "data 9.5000", "*", "+"):
        assert expected in texts


def test_missing_dot_in_process(capsys, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    path = tmp_path / "graph.svg"
    code, out, err = run(capsys, "grad", "x*x", "x=3", "--svg", str(path))
    assert code == cli.EXIT_NO_GRAPHVIZ == 3
    assert parse_lines(out)["d/dx"] == 6.0  # the results are still printed
    assert err.count("\n") == 1 and "apt-get install graphviz" in err and "Traceback" not in err
    assert not path.exists() and "digraph" in (tmp_path / "graph.dot").read_text()


def test_subprocess_missing_dot_and_injection(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    path = tmp_path / "g.svg"
    done = run_process("grad", "tanh(x)", "x=0.5", "--svg", str(path), env=env)
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "brew install graphviz" in done.stderr
    assert (tmp_path / "g.dot").exists()
    done = run_process("grad", "__import__('os').system('echo hi')", "x=1")
    assert done.returncode == 2 and "hi" not in done.stdout and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_subprocess_grad_and_gradcheck_exit_codes():
    done = run_process("grad", "tanh(x*w + b)", "x=1", "w=-2", "b=0.5")
    assert done.returncode == 0 and done.stderr == ""
    assert parse_lines(done.stdout)["d/db"] == pytest.approx(1 - math.tanh(-1.5) ** 2)
    done = run_process("gradcheck", "exp(x) * sin(x)", "x=0.25")
    assert done.returncode == 0 and "passed" in done.stdout

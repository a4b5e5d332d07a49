"""gradcheck never blames an op for float resolution (issue 11, point 3): a step relative
to each input, and "inconclusive" where rounding swamps the finite difference."""

from __future__ import annotations

import math

import pytest

from micrograd_like import MLP, OPS, Value, cli, define_op
from micrograd_like.gradcheck import check_model, compare_gradients, numerical_grad

SMALL_DEMO = ("--epochs", "3", "--samples", "30", "--hidden", "4")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_step_below_the_output_s_resolution_is_inconclusive_not_a_wrong_add(capsys):
    report = compare_gradients(lambda x: x + 1e25, [0.0])
    (row,) = report.rows
    assert (row.analytic, row.numeric, row.status) == (1.0, 0.0, "inconclusive")
    assert report.ok and report.faulty_ops == () and report.inconclusive == 1
    code, out, _ = run(capsys, "gradcheck", "x + 1e25", "x=0")
    assert code == 0 and "has a wrong derivative" not in out
    assert "1 entry inconclusive" in out and out.splitlines()[2].endswith("?")


def test_cancellation_inside_the_graph_is_inconclusive_too():
    (row,) = compare_gradients(lambda x: (x + 1e25) - 1e25, [1.0]).rows
    assert (row.numeric, row.status) == (0.0, "inconclusive")


def test_the_step_is_relative_to_each_input(capsys):
    report = compare_gradients(lambda x, y: x * y, [1e20, 1.0])
    assert [row.status for row in report.rows] == ["ok", "ok"]
    assert report.rows[1].numeric == pytest.approx(1e20, rel=1e-9)
    assert run(capsys, "gradcheck", "x*y", "x=1e20", "y=1")[0] == 0
    assert numerical_grad(lambda x: x**3, [1e100]) == [pytest.approx(3e200, rel=1e-9)]


def test_a_wrong_derivative_at_a_large_magnitude_is_still_a_failure_naming_the_op(scratch_ops):
    wrong = define_op("wrong_double", lambda x: 2 * x, lambda x, out: (3.0,))
    report = compare_gradients(lambda x: wrong(x) * 1e200, [1e100])
    assert [row.status for row in report.rows] == ["FAIL"]
    assert [finding.op for finding in report.faulty_ops] == ["wrong_double"]
    report = compare_gradients(lambda x, y: wrong(x) + (y + 1e25), [1e20, 0.0])
    assert [row.status for row in report.rows] == ["FAIL", "inconclusive"]
    assert [finding.op for finding in report.faulty_ops] == ["wrong_double"]  # not add


def test_check_model_of_huge_weights_blames_no_op():
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    for p in model.parameters():
        p.data *= 1e12
    rows = [[0.3, -0.2], [0.1, 0.4]]
    report = check_model(model, lambda m: sum((m(r) - 1) ** 2 for r in rows))
    assert report.ok and report.faulty_ops == ()
    assert {row.status for row in report.rows} <= {"ok", "inconclusive"}
    assert math.isfinite(report.max_rel_error)


def test_demo_with_a_huge_learning_rate_passes_its_check(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", *SMALL_DEMO, "--lr", "1e12", "--out", str(tmp_path))
    assert code == 0
    assert "Gradient check of the trained model: passed" in out
    assert "has a wrong derivative" not in (tmp_path / "gradcheck.txt").read_text()


def test_a_real_failure_at_an_ordinary_scale_is_not_excused():
    value = Value(2.0)
    report = compare_gradients(lambda x: x * value.data, [1.0])  # a constant factor: fine
    assert report.rows[0].status == "ok"
    report = compare_gradients(lambda x: Value(x.data * x.data), [3.0])  # .data cuts the graph
    assert report.rows[0].status == "FAIL" and not report.ok


def test_a_step_spanning_many_periods_is_inconclusive_and_sin_is_not_blamed():
    report = compare_gradients(lambda x: x.sin(), [1e16])  # the step, 1e10, spans periods
    assert [row.status for row in report.rows] == ["inconclusive"]
    assert report.ok and report.faulty_ops == ()
    assert compare_gradients(lambda x: x.sin(), [1e3]).rows[0].status == "ok"


def test_logsumexp_partials_sum_to_one_at_large_magnitudes():
    for x in (1e16, -4.6e232):
        leaf = Value(x)
        out = OPS["logsumexp"](leaf, leaf, leaf)
        out.backward()
        assert leaf.grad == 1.0  # 3 partials of 1/3, once e^(x - out) = 1 each
        assert compare_gradients(lambda v: OPS["logsumexp"](v, v, v), [x]).ok

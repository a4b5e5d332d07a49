"""Check gradients against finite differences, and find the op whose derivative is wrong.

The numeric derivative is the central difference with a step relative to each input

    df/dx_i ~ (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i),    h_i = eps * max(1, |x_i|)

(divided by the step as the floats actually took it), and an analytic value ``a`` passes
against a numeric value ``n`` when ``|a - n| <= atol + rtol * |n|`` (PyTorch's criterion and
defaults: eps 1e-6, atol 1e-5, rtol 1e-3, meant for double precision, which Python floats are).

Float resolution. Each evaluation of f is off by rounding, at most about
``E = u * sum_v |v * df/dv|`` over the graph's values v (u = 2^-53, each op's result rounded
once and carried to the output by its gradient), so the difference quotient is uncertain by
``U = 2 E / h_i`` (two evaluations each off by E, over a step of 2 h_i, and a safety factor
of 2). When ``a`` and ``n``
disagree by no more than the tolerance plus U, the finite difference cannot tell: the entry
is ``inconclusive`` (x + 1e25 at x = 0, where a step of 1e-6 is below the resolution of
1e25), not a failure, and no op is blamed for it. So is an entry whose step is too coarse
for the function: the central difference is the mean of f' over x - h_i .. x + h_i, which is
f'(x) only while f' is about linear there, so when (f'(x - h_i) + f'(x + h_i)) / 2 (by
backpropagation) itself misses f'(x) (sin at x = 1e16, where the step spans many periods)
the entry is inconclusive. Move to a smaller scale, or change eps, to check it.

When a check fails, every node of the graph is examined on its own: the op's local partials
``op.local_partials(parents, out)`` are compared with central differences of ``op.forward``
at the same point, so the error names the op whose derivative rule is wrong (a user op made
with ``define_op`` included).

Kinks. At a point where an op is not differentiable (``relu`` and ``abs`` at 0, declared in
the op table as ``kinks``) the engine uses the derivative 0, like PyTorch, while a central
difference whose interval straddles the kink averages the two one-sided slopes (0.5 for
relu at 0). Such a disagreement is not a bug, so when the two evaluations ``x - eps`` and
``x + eps`` put some input of a kinked op on different sides of (or exactly on) one of its
kinks, the entry is reported with status ``kink`` instead of ``FAIL`` and does not fail the
check. Move the point off the kink to check that entry.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

from .checks import finite_number
from .engine import Op, Value, grad, no_grad, topological_order
from .engine.graph import reverse_sweep

__all__ = [
    "GradcheckError",
    "GradcheckReport",
    "GradcheckRow",
    "OpFinding",
    "check_model",
    "compare_gradients",
    "gradcheck",
    "gradgradcheck",
    "numerical_grad",
]

# evaluate(i, shift) -> the output with input i moved by shift (every other input as given)
Evaluate = Callable[[int, float], "Value | float"]
# slope(i, shift) -> the analytic d(output)/d(input i) with input i moved by shift
Slope = Callable[[int, float], float]

_UNIT_ROUNDOFF = 2.0**-53
_SKIPPED = ("kink", "inconclusive")  # statuses of entries that were not decided


class GradcheckError(RuntimeError):
    """Analytic and numeric derivatives disagree; ``report`` holds the full table."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class GradcheckRow:
    """One compared derivative: ``status`` is "ok", "FAIL", "kink" or "inconclusive" (see
    the module doc);
    ``rel_error`` is |a - n| / max(|a|, |n|, atol), so a derivative that is zero up to
    rounding does not show a huge relative error."""

    name: str
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    status: str


@dataclass(frozen=True)
class OpFinding:
    """An op whose local derivative disagrees with finite differences of its forward."""

    op: str
    inputs: tuple[float, ...]
    input_index: int
    analytic: float
    numeric: float
    partial_index: int | None = None  # for second derivatives: which local partial

    def __str__(self) -> str:
        at = ", ".join(f"{x:.6g}" for x in self.inputs)
        if self.partial_index is None:
            return (
                f"op {self.op!r} has a wrong derivative: d(out)/d(input {self.input_index}) "
                f"at ({at}) is {self.analytic:.6g} by its derivative rule but "
                f"{self.numeric:.6g} by finite differences of its forward"
            )
        return (
            f"op {self.op!r} has a derivative rule that is not differentiable as written: "
            f"d(partial {self.partial_index})/d(input {self.input_index}) at ({at}) is "
            f"{self.analytic:.6g} through Values but {self.numeric:.6g} by finite differences "
            "of the rule on floats"
        )


@dataclass(frozen=True)
class GradcheckReport:
    """The compared derivatives, the ops found faulty and a summary; ``str()`` is a table."""

    rows: tuple[GradcheckRow, ...]
    faulty_ops: tuple[OpFinding, ...] = ()
    title: str = "gradient check"
    entry: str = "input"  # what a row is: the table's first column header
    total: int | None = None  # how many entries there were when only some were checked

    @property
    def ok(self) -> bool:
        return all(row.status != "FAIL" for row in self.rows)

    @property
    def worst(self) -> GradcheckRow | None:
        """The checked row (status ok or FAIL) with the largest relative error."""
        checked = [row for row in self.rows if row.status not in _SKIPPED]
        return max(checked, key=lambda row: _nan_last(row.rel_error), default=None)

    @property
    def inconclusive(self) -> int:
        """How many entries float resolution left undecided."""
        return sum(row.status == "inconclusive" for row in self.rows)

    @property
    def max_rel_error(self) -> float:
        worst = self.worst
        return worst.rel_error if worst is not None else 0.0

    def __str__(self) -> str:
        lines = [
            f"{self.title}: {'passed' if self.ok else 'FAILED'}",
            *_table(self.rows, self.entry),
        ]
        if self.total is not None and self.total > len(self.rows):
            lines.append(f"checked a random subset: {len(self.rows)} of {self.total}")
        worst = self.worst
        if worst is not None:
            lines.append(f"worst relative error: {worst.rel_error:.3g} ({worst.name})")
        kinks = sum(row.status == "kink" for row in self.rows)
        if kinks:
            lines.append(
                f"{_entries(kinks)} not checked: the finite-difference "
                "interval crosses a kink (e.g. relu at 0), where the engine uses derivative 0"
            )
        unresolved = self.inconclusive
        if unresolved:
            lines.append(
                f"{_entries(unresolved)} inconclusive: at these magnitudes float rounding "
                "swamps the finite difference, or the step spans changes of the derivative "
                "(check at a smaller scale, or with another eps)"
            )
        lines.extend(str(finding) for finding in self.faulty_ops)
        if not self.ok and not self.faulty_ops:
            lines.append(
                "no op's local derivative is refuted by finite differences: check that the "
                "function builds its result from Values only (no .data or float() inside)"
            )
        return "\n".join(lines)


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _nan_last(x: float) -> float:
    return math.inf if math.isnan(x) else x


def _table(rows: Sequence[GradcheckRow], entry: str) -> list[str]:
    header = (entry, "analytic", "numeric", "abs err", "rel err", "ok")
    cells = [header] + [
        (
            row.name,
            f"{row.analytic:.10g}",
            f"{row.numeric:.10g}",
            f"{row.abs_error:.3g}",
            f"{row.rel_error:.3g}",
            {"ok": "yes", "FAIL": "NO", "kink": "kink", "inconclusive": "?"}[row.status],
        )
        for row in rows
    ]
    widths = [max(len(line[c]) for line in cells) for c in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in cells]


# ---------------------------------------------------------------- arguments


def _checked_inputs(inputs: object) -> list[float]:
    """The inputs as finite floats (a lone number is one input)."""
    if isinstance(inputs, numbers.Real) and not isinstance(inputs, bool):
        inputs = [inputs]
    if not isinstance(inputs, Sequence) or isinstance(inputs, str):
        raise TypeError(f"inputs must be a sequence of numbers, got {type(inputs).__name__}")
    values = []
    for i, x in enumerate(inputs):
        if isinstance(x, Value):
            x = x.data
        values.append(finite_number(x, f"inputs[{i}]"))
    return values


def _checked_tolerances(eps: float, atol: float, rtol: float) -> None:
    for name, value, low_ok in (("eps", eps, False), ("atol", atol, True), ("rtol", rtol, True)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not math.isfinite(value) or value < 0 or (value == 0 and not low_ok):
            bound = ">= 0" if low_ok else "> 0"
            raise ValueError(f"{name} must be finite and {bound}, got {value!r}")


def _scalar(out: object) -> float:
    """The float value of ``f``'s result: a Value or a plain number."""
    if type(out) is Value:
        return out.data
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        return float(out)
    raise TypeError(f"the function must return one Value (a scalar), got {type(out).__name__}")


def _names(names: Sequence[str] | None, n: int) -> list[str]:
    if names is None:
        return [f"x{i}" for i in range(n)]
    names = [str(name) for name in names]
    if len(names) != n:
        raise ValueError(f"expected {n} names (one per input), got {len(names)}")
    return names


# ---------------------------------------------------------------- finite differences


def _steps(xs: Sequence[float], eps: float) -> list[float]:
    """The finite-difference step of each input: h_i = eps * max(1, |x_i|)."""
    return [eps * max(1.0, abs(x)) for x in xs]


def _central_differences(
    evaluate: Evaluate, xs: Sequence[float], steps: Sequence[float]
) -> list[float]:
    """(f(x + h_i e_i) - f(x - h_i e_i)) / ((x_i + h_i) - (x_i - h_i)) for each input, the
    step as the floats took it, without recording graphs."""
    with no_grad():
        return [
            (_scalar(evaluate(i, h)) - _scalar(evaluate(i, -h))) / ((x + h) - (x - h))
            for i, (x, h) in enumerate(zip(xs, steps))
        ]


def _rounding_error(out: object) -> float:
    """u * sum_v |v * d(out)/dv| over the graph of ``out``: about how far rounding may have
    moved it (0 for a plain number)."""
    if type(out) is not Value:
        return 0.0
    order = topological_order(out)
    grads = reverse_sweep(order, 1.0)
    return _UNIT_ROUNDOFF * math.fsum(abs(node.data * grads[node]) for node in order)


def _uncertainty(error: float, x: float, h: float) -> float:
    """How far rounding (``error`` on each evaluation) may move the difference quotient over
    x - h .. x + h: U = 4 E / (2 h), a factor 2 for safety."""
    return 4 * error / ((x + h) - (x - h))


def _uncertainties(error: float, xs: Sequence[float], steps: Sequence[float]) -> list[float]:
    return [_uncertainty(error, x, h) for x, h in zip(xs, steps)]


def _shifted(f: Callable[..., Value], inputs: list[float]) -> Evaluate:
    """evaluate(i, shift) = f(inputs with inputs[i] + shift), on fresh leaf Values."""

    def evaluate(i: int, shift: float) -> Value | float:
        values = [Value(x) for x in inputs]
        values[i] = Value(inputs[i] + shift)
        return f(*values)

    return evaluate


def numerical_grad(
    f: Callable[..., Value], inputs: Sequence[float], eps: float = 1e-6
) -> list[float]:
    """Central differences (f(x + h e_i) - f(x - h e_i)) / (2 h) for every input, with the
    step h = eps * max(1, |x_i|) relative to the input.

    ``f`` takes one Value per input and returns a Value; ``inputs`` are numbers.
    """
    xs = _checked_inputs(inputs)
    _checked_tolerances(eps, 0.0, 0.0)
    return _central_differences(_shifted(f, xs), xs, _steps(xs, eps))


# ---------------------------------------------------------------- comparing


def _compare(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    """|a - n| <= atol + rtol * |n| (False when either is nan)."""
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _row(name: str, analytic: float, numeric: float, atol: float, status: str) -> GradcheckRow:
    """A table row, with the relative error described in GradcheckRow."""
    error = abs(analytic - numeric)
    scale = max(abs(analytic), abs(numeric), atol)
    rel = error / scale if scale > 0 else (0.0 if error == 0 else math.inf)
    return GradcheckRow(name, analytic, numeric, error, rel, status)


def _crosses_kink(evaluate: Evaluate, i: int, eps: float) -> bool:
    """True when moving input i from -eps to +eps moves an input of a kinked op across (or
    onto) one of its kinks. The two graphs are compared node by node; graphs of different
    shapes (data-dependent branching) give False."""
    low, high = evaluate(i, -eps), evaluate(i, eps)
    if type(low) is not Value or type(high) is not Value:
        return False
    nodes_low, nodes_high = topological_order(low), topological_order(high)
    if len(nodes_low) != len(nodes_high):
        return False
    for a, b in zip(nodes_low, nodes_high):
        if a.rule is not b.rule or len(a.parents) != len(b.parents):
            return False
        if a.rule is None or not a.rule.kinks:
            continue
        for pa, pb in zip(a.parents, b.parents):
            for kink in a.rule.kinks:
                if _straddles(pa.data - kink, pb.data - kink):
                    return True
    return False


def _straddles(below: float, above: float) -> bool:
    """The interval between the two offsets from a kink contains the kink (an input that
    stays exactly on the kink does not move, so it cannot explain a mismatch)."""
    if below == 0 and above == 0:
        return False
    return min(below, above) <= 0 <= max(below, above)


def _compare_all(
    evaluate: Evaluate,
    analytic: Sequence[float],
    numeric: Sequence[float],
    names: Sequence[str],
    steps: Sequence[float],
    uncertainties: Sequence[float],
    atol: float,
    rtol: float,
    kink_input: Callable[[int], int] = lambda k: k,
    slope: Slope | None = None,
) -> list[GradcheckRow]:
    """Rows for each (analytic, numeric) pair. A mismatch is a "kink" row when moving input
    ``kink_input(k)`` by its step crosses a kink, "inconclusive" when it is within the
    rounding uncertainty ``uncertainties[k]`` of the numeric value or when the step is too
    coarse (``slope`` given: see the module doc), else "FAIL"."""
    rows = []
    for k, (a, n) in enumerate(zip(analytic, numeric)):
        i = kink_input(k)
        if _compare(a, n, atol, rtol):
            status = "ok"
        elif _crosses_kink(evaluate, i, steps[i]):
            status = "kink"
        elif not math.isfinite(n) or _compare(a, n, atol + uncertainties[k], rtol):
            status = "inconclusive"
        elif slope is not None and _too_coarse(a, partial(slope, i), steps[i], atol, rtol):
            status = "inconclusive"
        else:
            status = "FAIL"
        rows.append(_row(names[k], a, n, atol, status))
    return rows


def _too_coarse(
    analytic: float, slope: Callable[[float], float], h: float, atol: float, rtol: float
) -> bool:
    """Whether the derivative is far from linear over the step: the mean of the analytic
    slopes at the two ends of the interval misses the slope at its middle (or they cannot
    be computed there)."""
    try:
        ends = (slope(h) + slope(-h)) / 2
    except (ArithmeticError, ValueError, TypeError):
        return True
    return not _compare(ends, analytic, atol, rtol)


# ---------------------------------------------------------------- finding the faulty op


def _first_order(op: Op, inputs: list[float]) -> tuple[list[list[float]], Callable]:
    """The analytic Jacobian of op.forward (one row) and the function it differentiates."""
    partials = op.local_partials(inputs, op.forward(*inputs))
    return [[float(p) for p in partials]], lambda *xs: [op.forward(*xs)]


def _second_order(op: Op, inputs: list[float]) -> tuple[list[list[float]], Callable]:
    """The analytic Jacobian of the local partials (built on Values) and the float partials."""
    leaves = [Value(x) for x in inputs]
    partials = op.local_partials(leaves, op(*leaves))
    rows = [
        [g.data for g in grad(p, leaves)] if type(p) is Value else [0.0] * len(leaves)
        for p in partials
    ]
    return rows, lambda *xs: [float(p) for p in op.local_partials(list(xs), op.forward(*xs))]


def _op_finding(op: Op, inputs: list[float], order: int, eps: float, atol: float, rtol: float):
    """The first local derivative of ``op`` at ``inputs`` that finite differences refute."""
    jacobian = _first_order if order == 1 else _second_order
    try:
        analytic, function = jacobian(op, inputs)
        base = function(*inputs)
    except (ArithmeticError, ValueError, TypeError):
        return None  # undefined here (domain edge): nothing to compare
    # the rounding error of each output of ``function``, as in the module doc (with one
    # rounding per input, for ops such as linear that sum many terms)
    errors = [
        _UNIT_ROUNDOFF
        * len(inputs)
        * math.fsum([abs(y), *(abs(x * d) for x, d in zip(inputs, row))])
        for y, row in zip(base, analytic)
    ]

    def partial_at(j: int, x: float) -> Callable[[float], float]:
        """shift -> the op's partial j with input j at x + shift."""

        def at(shift: float) -> float:
            moved = [*inputs[:j], x + shift, *inputs[j + 1 :]]
            return float(op.local_partials(moved, op.forward(*moved))[j])

        return at

    for j, (x, h) in enumerate(zip(inputs, _steps(inputs, eps))):
        if any(abs(x - kink) <= h for kink in op.kinks):
            continue
        try:
            plus = function(*inputs[:j], x + h, *inputs[j + 1 :])
            minus = function(*inputs[:j], x - h, *inputs[j + 1 :])
        except (ArithmeticError, ValueError, TypeError):
            continue
        for k, row in enumerate(analytic):
            numeric = (plus[k] - minus[k]) / ((x + h) - (x - h))
            if _compare(row[j], numeric, atol + _uncertainty(errors[k], x, h), rtol):
                continue
            if order == 1 and _too_coarse(row[j], partial_at(j, x), h, atol, rtol):
                continue  # the step is too coarse for the op here: no evidence against it
            partial = None if order == 1 else k
            return OpFinding(op.name, tuple(inputs), j, row[j], numeric, partial)
    return None


def _faulty_ops(
    root: object, order: int, eps: float, atol: float, rtol: float
) -> tuple[OpFinding, ...]:
    """One finding per op whose local derivative (order 1) or whose derivative rule's own
    derivative (order 2) disagrees with finite differences somewhere in the graph."""
    if type(root) is not Value:
        return ()
    findings: dict[Op, OpFinding] = {}
    seen: set[tuple[Op, tuple[float, ...]]] = set()
    for node in topological_order(root):
        op = node.rule
        if op is None or op in findings:
            continue
        inputs = [p.data for p in node.parents]
        key = (op, tuple(inputs))
        if key in seen:
            continue
        seen.add(key)
        finding = _op_finding(op, inputs, order, eps, atol, rtol)
        if finding is not None:
            findings[op] = finding
    return tuple(findings.values())


# ---------------------------------------------------------------- public checks


def compare_gradients(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    names: Sequence[str] | None = None,
) -> GradcheckReport:
    """The report behind :func:`gradcheck`: analytic d f/d x_i (reverse mode) against
    central differences, one row per input (named ``names`` or x0, x1, ...)."""
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    xs = _checked_inputs(inputs)
    _checked_tolerances(eps, atol, rtol)
    labels = _names(names, len(xs))
    leaves = [Value(x, label=name) for x, name in zip(xs, labels)]
    out = f(*leaves)
    _scalar(out)
    analytic = [g.data for g in grad(out, leaves)] if type(out) is Value else [0.0] * len(xs)
    evaluate, steps = _shifted(f, xs), _steps(xs, eps)
    numeric = _central_differences(evaluate, xs, steps)
    uncertainties = _uncertainties(_rounding_error(out), xs, steps)
    rows = _compare_all(
        evaluate,
        analytic,
        numeric,
        labels,
        steps,
        uncertainties,
        atol,
        rtol,
        slope=lambda i, shift: _first_derivatives(f, xs, i, shift)[i],
    )
    report = GradcheckReport(tuple(rows))
    if report.ok:
        return report
    return GradcheckReport(report.rows, _faulty_ops(out, 1, eps, atol, rtol))


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when every d f/d x_i from backpropagation matches its central difference:
    ``|analytic - numeric| <= atol + rtol * |numeric|``. On a mismatch raises
    :class:`GradcheckError` (a table, plus the op whose derivative is wrong), or returns
    False when ``raise_exception`` is False. ``f`` takes one Value per input."""
    report = compare_gradients(f, inputs, eps, atol, rtol)
    if not report.ok and raise_exception:
        raise GradcheckError(report)
    return report.ok


def gradgradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Second derivatives: d2f/(dx_i dx_j) from ``grad(..., create_graph=True)`` differentiated
    again, against central differences in x_j of the analytic first derivatives df/dx_i.
    Same criterion and errors as :func:`gradcheck`; the faulty op is the one whose derivative
    rule is not differentiable as written (e.g. it reads ``.data``)."""
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    xs = _checked_inputs(inputs)
    _checked_tolerances(eps, atol, rtol)
    n = len(xs)
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    _scalar(out)
    if type(out) is Value:
        firsts = grad(out, leaves, create_graph=True)
        analytic = [g.data for first in firsts for g in grad(first, leaves)]
    else:
        firsts, analytic = [], [0.0] * (n * n)
    steps = _steps(xs, eps)
    numeric = [0.0] * (n * n)
    for j, (x, h) in enumerate(zip(xs, steps)):
        plus, minus = _first_derivatives(f, xs, j, h), _first_derivatives(f, xs, j, -h)
        for i in range(n):
            numeric[i * n + j] = (plus[i] - minus[i]) / ((x + h) - (x - h))
    errors = [_rounding_error(first) for first in firsts] or [0.0] * n
    uncertainties = [u for error in errors for u in _uncertainties(error, xs, steps)]
    names = [f"d2/dx{i}dx{j}" for i in range(n) for j in range(n)]
    evaluate = _shifted(f, xs)
    rows = _compare_all(
        evaluate, analytic, numeric, names, steps, uncertainties, atol, rtol, lambda k: k % n
    )
    report = GradcheckReport(tuple(rows), title="second-derivative check", entry="derivative")
    if not report.ok:
        findings = _faulty_ops(out, 2, eps, atol, rtol)
        report = GradcheckReport(report.rows, findings, report.title, report.entry)
        if raise_exception:
            raise GradcheckError(report)
    return report.ok


def _first_derivatives(f: Callable[..., Value], xs: list[float], j: int, shift: float) -> list:
    """The analytic df/dx_i at x + shift e_j."""
    leaves = [Value(x) for x in xs]
    leaves[j] = Value(xs[j] + shift)
    out = f(*leaves)
    if type(out) is not Value:
        return [0.0] * len(xs)
    return [g.data for g in grad(out, leaves)]


def check_model(
    model,
    loss_fn: Callable[[object], Value],
    max_params: int | None = None,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> GradcheckReport:
    """Check d loss/d p for the parameters p of ``model`` against central differences of
    ``loss_fn(model)`` (each p moved by +-eps in place, then restored). ``max_params``
    checks a random subset (chosen with ``seed``) of a large model. Returns the report
    (``.ok``, ``.worst``, ``.max_rel_error``); parameter gradients are left untouched."""
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    _checked_tolerances(eps, atol, rtol)
    named = _named_parameters(model)
    chosen = _subset(len(named), max_params, seed)
    params = [named[i][1] for i in chosen]
    loss = loss_fn(model)
    if type(loss) is not Value:
        raise TypeError(f"loss_fn(model) must return a Value, got {type(loss).__name__}")
    analytic = [g.data for g in grad(loss, params)]
    evaluate = _moving_parameters(model, loss_fn, params)
    xs = [p.data for p in params]
    steps = _steps(xs, eps)
    numeric = _central_differences(evaluate, xs, steps)
    uncertainties = _uncertainties(_rounding_error(loss), xs, steps)
    names = [named[i][0] for i in chosen]
    slope = _moving_slopes(model, loss_fn, params)
    rows = _compare_all(
        evaluate, analytic, numeric, names, steps, uncertainties, atol, rtol, slope=slope
    )
    report = GradcheckReport(tuple(rows), (), "model gradient check", "parameter", len(named))
    if report.ok:
        return report
    findings = _faulty_ops(loss, 1, eps, atol, rtol)
    return GradcheckReport(report.rows, findings, report.title, report.entry, report.total)


def _named_parameters(model) -> list[tuple[str, Value]]:
    """(name, parameter) pairs: the module's own names when it has them."""
    if hasattr(model, "named_parameters"):
        return list(model.named_parameters())
    if not hasattr(model, "parameters"):
        raise TypeError(f"model must have parameters(), got {type(model).__name__}")
    return [(f"parameters()[{i}]", p) for i, p in enumerate(model.parameters())]


def _subset(total: int, max_params: int | None, seed: int) -> list[int]:
    """Indices of the parameters to check: all, or ``max_params`` of them at random."""
    if total == 0:
        raise ValueError("the model has no parameters to check")
    if max_params is not None and (
        isinstance(max_params, bool) or not isinstance(max_params, int) or max_params < 1
    ):
        raise ValueError(f"max_params must be a positive int or None, got {max_params!r}")
    if max_params is None or max_params >= total:
        return list(range(total))
    return sorted(random.Random(seed).sample(range(total), max_params))


def _moving_slopes(model, loss_fn: Callable, params: list[Value]) -> Slope:
    """slope(i, shift) = d loss_fn(model)/d params[i] with params[i].data moved by shift."""

    def slope(i: int, shift: float) -> float:
        with _moved(params[i], shift):
            loss = loss_fn(model)
            return grad(loss, [params[i]])[0].data if type(loss) is Value else 0.0

    return slope


def _moving_parameters(model, loss_fn: Callable, params: list[Value]) -> Evaluate:
    """evaluate(i, shift) = loss_fn(model) with params[i].data moved by shift (restored)."""

    def evaluate(i: int, shift: float) -> Value | float:
        with _moved(params[i], shift):
            return loss_fn(model)

    return evaluate


@contextlib.contextmanager
def _moved(p: Value, shift: float) -> Iterator[None]:
    """``p.data`` moved by ``shift`` inside the block, and restored after it."""
    original = p.data
    p.data = original + shift
    try:
        yield
    finally:
        p.data = original

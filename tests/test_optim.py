"""Optimizers against torch.optim, both usage styles, validation, learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd_like import MLP, Value
from micrograd_like.optim import (
    OPTIMIZERS,
    SGD,
    Adam,
    CosineDecay,
    ExponentialDecay,
    LinearDecay,
    LRScheduler,
    Optimizer,
    StepDecay,
    get_optimizer,
)

START = [0.5, -1.2, 2.0, 0.3, -0.7]
X = [1.5, -0.5, 0.8, 2.0]
T = [0.3, -0.6, 0.9, 0.1]


def objective(p):
    """A small non-quadratic loss written with ops Values and torch tensors share."""
    fit = sum((((p[i] * x + p[i + 1]).tanh() - t) ** 2 for i, (x, t) in enumerate(zip(X, T))))
    return fit + 0.05 * sum(q**4 for q in p) + p[0] * p[4]


CONFIGURATIONS = [
    ("sgd", {"lr": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("sgd", {"lr": 0.1, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "nesterov": True, "weight_decay": 0.01}),
    ("adam", {"lr": 0.05}),
    ("adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adam", {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-6}),
]


@pytest.mark.parametrize("name, kwargs", CONFIGURATIONS)
def test_twenty_steps_match_torch_optim(name, kwargs) -> None:
    torch = pytest.importorskip("torch")
    params = [Value(v) for v in START]
    ours = get_optimizer(name, **kwargs).bind(params)
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
    theirs = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name](tensors, **kwargs)
    for _ in range(20):
        ours.zero_grad()
        objective(params).backward()
        ours.step()
        theirs.zero_grad()
        objective(tensors).backward()
        theirs.step()
        expected = [t.item() for t in tensors]
        np.testing.assert_allclose([p.data for p in params], expected, rtol=0, atol=1e-12)
    assert max(abs(p.data - s) for p, s in zip(params, START)) > 0.1  # they really moved


def test_plain_sgd_is_the_lecture_s_update_exactly() -> None:
    params = [Value(v) for v in START]
    for p, g in zip(params, [0.1, -0.2, 0.3, 0.0, 5.0]):
        p.grad = g
    SGD(params, lr=0.5).step()
    assert [p.data for p in params] == [s - 0.5 * g for s, g in zip(START, [0.1, -0.2, 0.3, 0, 5])]


def test_momentum_buffer_starts_at_the_gradient() -> None:
    p = Value(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = 2.0
    opt.step()  # b = 2
    assert p.data == 1.0 - 0.1 * 2.0
    opt.step()  # b = 0.9 * 2 + 2
    assert p.data == pytest.approx(0.8 - 0.1 * 3.8, abs=1e-15)
    opt.bind([p])  # forgets the buffer
    opt.step()
    assert p.data == pytest.approx(0.42 - 0.2, abs=1e-15)


def test_adam_first_step_moves_each_parameter_by_lr() -> None:
    """With bias correction, m_hat = g and v_hat = g^2 at t = 1: the step is lr * sign(g)."""
    params = [Value(0.0), Value(0.0), Value(0.0)]
    for p, g in zip(params, [3.0, -1e-3, 250.0]):
        p.grad = g
    Adam(params, lr=0.01, eps=1e-12).step()
    assert [p.data for p in params] == pytest.approx([-0.01, 0.01, -0.01], rel=1e-8)


# ---------------------------------------------------------------- both usage styles


def test_pytorch_style_training_loop_reduces_the_loss() -> None:
    model = MLP(2, [4, 1], seed=0)
    data = [([1.0, 2.0], 1.0), ([-1.0, 0.5], -1.0), ([0.3, -2.0], 1.0)]
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(30):
        loss = sum((model(x) - t) ** 2 for x, t in data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.1 * losses[0]


def test_unbound_optimizer_then_bind() -> None:
    opt = Adam(lr=0.1)
    assert opt.params == []
    with pytest.raises(ValueError, match=r"Adam\.step\(\): the optimizer has no parameters.*bind"):
        opt.step()
    with pytest.raises(ValueError, match=r"zero_grad\(\): the optimizer has no parameters"):
        opt.zero_grad()
    model = MLP(2, [3, 1], seed=0)
    assert opt.bind(p for p in model.parameters()) is opt  # any iterable
    assert opt.params == model.parameters()
    for p in opt.params:
        p.grad = 1.0
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_bad_parameter_lists() -> None:
    p = Value(1.0)
    with pytest.raises(ValueError, match="empty list of parameters"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="appears more than once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value, got float"):
        SGD([p, 1.0], lr=0.1)
    with pytest.raises(TypeError, match="params must be an iterable of Values"):
        SGD(p, lr=0.1)


def test_a_non_finite_gradient_changes_nothing() -> None:
    params = [Value(1.0), Value(2.0)]
    params[0].grad, params[1].grad = 0.5, math.nan
    with pytest.raises(ValueError, match=r"SGD\.step\(\): the gradient of parameter 1 is nan"):
        SGD(params, lr=0.1).step()
    assert [p.data for p in params] == [1.0, 2.0]


# ---------------------------------------------------------------- hyper-parameters


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD(lr=-0.1), r"SGD: lr must be a finite number >= 0, got -0.1"),
        (lambda: SGD(lr=math.nan), "SGD: lr must be a finite number >= 0"),
        (lambda: SGD(lr=math.inf), "SGD: lr must be a finite number >= 0"),
        (lambda: SGD(lr="0.1"), "SGD: lr must be a finite number"),
        (lambda: SGD(lr=0.1, momentum=-0.5), "SGD: momentum must be a finite number >= 0"),
        (lambda: SGD(lr=0.1, weight_decay=-1), "SGD: weight_decay must be"),
        (lambda: SGD(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum > 0"),
        (lambda: Adam(lr=-1.0), "Adam: lr must be"),
        (lambda: Adam(betas=(1.0, 0.999)), r"Adam: betas\[0\] must be a number in \[0, 1\)"),
        (lambda: Adam(betas=(0.9, -0.1)), r"Adam: betas\[1\] must be a number in \[0, 1\)"),
        (lambda: Adam(betas=0.9), r"Adam: betas must be a pair"),
        (lambda: Adam(eps=0.0), "Adam: eps must be a finite number > 0"),
        (lambda: Adam(weight_decay=-1e-4), "Adam: weight_decay must be"),
    ],
)
def test_bad_hyper_parameters(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_nesterov_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="nesterov must be True or False"):
        SGD(lr=0.1, momentum=0.9, nesterov="yes")


def test_lr_can_be_changed_and_is_checked() -> None:
    opt = SGD(lr=0.1)
    opt.lr = 0.5
    assert opt.lr == 0.5
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0"):
        opt.lr = -1.0
    assert opt.lr == 0.5


def test_get_optimizer() -> None:
    assert set(OPTIMIZERS) == {"sgd", "adam"}
    sgd = get_optimizer("SGD", lr=0.3, momentum=0.5)
    assert isinstance(sgd, SGD) and (sgd.lr, sgd.momentum) == (0.3, 0.5)
    adam = get_optimizer("adam")
    assert isinstance(adam, Adam) and adam.lr == 1e-3 and adam.betas == (0.9, 0.999)
    assert get_optimizer(sgd) is sgd
    assert SGD().lr == 0.01
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; known: adam, sgd"):
        get_optimizer("rmsprop")
    with pytest.raises(TypeError, match="an optimizer is a name or an Optimizer"):
        get_optimizer(None)
    with pytest.raises(TypeError, match="keyword arguments only apply"):
        get_optimizer(sgd, lr=0.1)


def test_a_custom_optimizer_implements_update() -> None:
    class SignSGD(Optimizer):
        def _update(self, data, grads):
            return data - self.lr * np.sign(grads)

    p = Value(1.0)
    p.grad = -3.0
    SignSGD([p], lr=0.25).step()
    assert p.data == 1.25


# ---------------------------------------------------------------- schedules


def test_linear_decay_is_micrograd_s_schedule_exactly() -> None:
    schedule = LinearDecay(1.0, 100, 0.1)
    assert [schedule(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]
    assert schedule(100) == schedule(250) == pytest.approx(0.1, abs=1e-15)


def test_schedule_formulas() -> None:
    step = StepDecay(0.5, step_size=3, gamma=0.1)
    assert [step(e) for e in range(7)] == pytest.approx([0.5] * 3 + [0.05] * 3 + [0.005])
    exponential = ExponentialDecay(0.2, gamma=0.9)
    assert [exponential(e) for e in range(5)] == pytest.approx([0.2 * 0.9**e for e in range(5)])
    cosine = CosineDecay(1.0, total_epochs=10, min_lr=0.1)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    assert [cosine(e) for e in range(11)] == pytest.approx(expected)
    assert cosine(0) == 1.0 and cosine(5) == pytest.approx(0.55) and cosine(40) == 0.1
    assert LinearDecay(0.3, 4)(2) == pytest.approx(0.15)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: StepDecay(0.1, 0), "StepDecay: step_size must be an int >= 1"),
        (lambda: StepDecay(-0.1, 2), "StepDecay: initial_lr must be"),
        (lambda: StepDecay(0.1, 2, gamma=0.0), "StepDecay: gamma must be a finite number > 0"),
        (lambda: ExponentialDecay(0.1, -0.5), "ExponentialDecay: gamma must be"),
        (lambda: CosineDecay(0.1, 2.5), "CosineDecay: total_epochs must be an int >= 1"),
        (lambda: CosineDecay(0.1, 5, min_lr=math.nan), "CosineDecay: min_lr must be"),
        (lambda: LinearDecay(0.1, 0), "LinearDecay: total_epochs must be an int >= 1"),
        (lambda: LinearDecay(1.0, 10)(-1), r"an epoch number \(an int >= 0\), got -1"),
        (lambda: StepDecay(1.0, 10)(1.5), "an epoch number"),
    ],
)
def test_bad_schedule_arguments(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_lr_scheduler_drives_the_optimizer() -> None:
    opt = SGD([Value(1.0)], lr=123.0)
    scheduler = LRScheduler(opt, StepDecay(1.0, step_size=2, gamma=0.5))
    seen = [opt.lr]
    for _ in range(5):
        scheduler.step()
        seen.append(opt.lr)
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert scheduler.epoch == 5


def test_lr_scheduler_errors() -> None:
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        LRScheduler("sgd", LinearDecay(1.0, 10))
    with pytest.raises(TypeError, match="schedule must be callable"):
        LRScheduler(SGD(lr=0.1), 0.5)
    opt = SGD(lr=0.1)
    scheduler = LRScheduler(opt, lambda epoch: 1.0 - epoch)
    with pytest.raises(ValueError, match="the schedule's learning rate for epoch 2 must be"):
        scheduler.step()
        scheduler.step()
    assert opt.lr == 0.0

"""Measurement 7: time to 97% test accuracy on the digits, fit against PyTorch eager.

The recipe is demos/digits.py's (imported from there): the stratified split and the
Standardizer fitted on the training images, ``MLP(64, [128, 10])`` with Glorot-scaled
weights, Adam (lr 0.002), crossentropy on the logits, minibatches of 32 in a new order each
epoch. PyTorch starts from the same weights (float64, one thread). After every epoch each
side measures its test accuracy and stops at 97%; the time covers the training and those
evaluations, from the first step to the epoch that reached it (at most ``MAX_EPOCHS``).
The two sides take turns, a process each, for several rounds.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from harness import Row, isolated, median, pooled, taking_turns, timed, with_memory

TARGET = 0.97
MAX_EPOCHS = 50
SIDES = ("ours", "theirs")
"""The functions that run each side (in this order in every round)."""
DEMO = Path(__file__).resolve().parents[1] / "demos" / "digits.py"


def recipe() -> ModuleType:
    """demos/digits.py, imported."""
    spec = importlib.util.spec_from_file_location("digits_recipe", DEMO)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _data(digits: ModuleType) -> tuple[np.ndarray, ...]:
    X_train, X_test, y_train, y_test = digits.split()
    standardizer = digits.Standardizer().fit(X_train)
    return standardizer.transform(X_train), standardizer.transform(X_test), y_train, y_test


def ours(repeats: int) -> dict[str, Any]:
    """Seconds and epochs of ``repeats`` runs of ``fit`` stopped at the target accuracy."""
    from micrograd_like.callbacks import Callback

    digits = recipe()
    X_train, X_test, y_train, y_test = _data(digits)

    class StopAtTarget(Callback):
        batch_hooks_read_logs_only = True

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if (logs or {}).get("val_accuracy", 0.0) >= TARGET:
                self.model.stop_training = True

    seconds, epochs, reached = [], [], []
    for _ in range(repeats):
        model = digits.new_model()
        elapsed, history = timed(
            lambda model=model: model.fit(
                X_train,
                y_train,
                epochs=MAX_EPOCHS,
                batch_size=digits.BATCH_SIZE,
                validation_data=(X_test, y_test),
                callbacks=[StopAtTarget()],
                verbose=0,
                seed=digits.SEED,
            )
        )
        seconds.append(elapsed)
        epochs.append(len(history.epoch))
        reached.append(history.history["val_accuracy"][-1])
    return {"seconds": seconds, "epochs": epochs, "accuracy": reached}


def theirs(repeats: int) -> dict[str, Any]:
    """The same recipe in PyTorch eager (float64, one thread), from the same weights."""
    import torch

    torch.set_num_threads(1)
    digits = recipe()
    X_train, X_test, y_train, y_test = (torch.from_numpy(a) for a in _data(digits))
    initial = digits.new_model()
    layers = []
    for layer in initial.layers:
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons]))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons]))
        layers += [linear, torch.nn.ReLU()]
    criterion = torch.nn.CrossEntropyLoss()

    def run(generator: torch.Generator) -> tuple[int, float]:
        net = torch.nn.Sequential(*(_copy(module) for module in layers[:-1]))
        optimizer = torch.optim.Adam(net.parameters(), lr=digits.LEARNING_RATE)
        epochs = 0
        while epochs < MAX_EPOCHS:
            epochs += 1
            order = torch.randperm(len(X_train), generator=generator)
            for start in range(0, len(X_train), digits.BATCH_SIZE):
                rows = order[start : start + digits.BATCH_SIZE]
                loss = criterion(net(X_train[rows]), y_train[rows])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                accuracy = (net(X_test).argmax(dim=1) == y_test).double().mean().item()
            if accuracy >= TARGET:
                break
        return epochs, accuracy

    seconds, epochs, reached = [], [], []
    for k in range(repeats):
        elapsed, (n, accuracy) = timed(lambda k=k: run(torch.Generator().manual_seed(k)))
        seconds.append(elapsed)
        epochs.append(n)
        reached.append(accuracy)
    return {"seconds": seconds, "epochs": epochs, "accuracy": reached}


def _copy(module: Any) -> Any:
    """A fresh copy of a layer (each run starts from the same weights)."""
    import copy

    return copy.deepcopy(module)


def measure(repeats: int, rounds: int = 1) -> list[Row]:
    """One row: both sides' median time to the target, with their epochs. Each side runs
    ``repeats`` times in a process, alternately for ``rounds`` rounds (a run is short, so
    the other jobs of a shared machine hit both sides alike)."""
    jobs = {side: partial(isolated, "digits_race", side, repeats=repeats) for side in SIDES}
    results = taking_turns(jobs, rounds)
    mine, reference = (pooled(results[side], ("seconds", "epochs", "accuracy")) for side in SIDES)
    t_mine, t_reference = median(mine["seconds"]), median(reference["seconds"])

    def reached(result: dict[str, Any]) -> str:
        epochs = sorted(set(result["epochs"]))
        missed = "" if min(result["accuracy"]) >= TARGET else f", missed {TARGET:.0%}"
        return f"{'/'.join(map(str, epochs))} epochs{missed}"

    return [
        Row(
            f"Digits to {TARGET:.0%} test accuracy, demos/digits.py's recipe (s; median of "
            f"{repeats * rounds}; float64, 1 thread)",
            with_memory(f"{t_mine:.3f}, {reached(mine)}", mine),
            with_memory(f"PyTorch: {t_reference:.3f}, {reached(reference)}", reference),
            f"{t_mine / t_reference:.3g}x PyTorch's time",
        )
    ]

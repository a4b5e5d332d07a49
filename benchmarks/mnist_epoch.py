"""Measurement 6: one MNIST-shaped epoch with ``fit``, against the same epoch in PyTorch eager.

Synthetic data of MNIST's shape: ``samples`` images of 784 pixels in [0, 1] (k / 255 for
random k) with labels 0..9 given by a random linear "teacher" (so the loss falls and the
two engines' epoch losses can be compared). The network is 784 -> 128 relu -> 10 logits
with ``sparse_categorical_crossentropy`` (PyTorch: ``nn.CrossEntropyLoss``), batches of 128
in a new random order every epoch, plain SGD, both starting from the same Glorot-uniform
weights (zero biases). PyTorch runs in float64 on one thread. Each side runs ``repeats``
one-epoch ``fit`` calls in a process, the sides taking turns for a few rounds, and the
table shows the median of all a side's epochs.

Also measured: recording the replay for this model, the first ``evaluate`` of one sample
on a newly compiled model (almost all of it the recording).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from harness import Row, isolated, median, pooled, taking_turns, timed, with_memory

INPUTS, HIDDEN, CLASSES = 784, 128, 10
BATCH = 128
LR = 0.05
TIME_RATIO_TARGET = 1.2
RECORDING_TARGET = 2.0


def synthetic_mnist(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): pixels k / 255 and labels argmax(X @ T + c) for a random teacher T, c."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (samples, INPUTS)).astype(float) / 255.0
    teacher = rng.normal(size=(INPUTS, CLASSES))
    scores = (X - 0.5) @ teacher
    return X, np.argmax(scores, axis=1)


def glorot_weights(seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer, W of shape (out, in) ~ U(-l, l) with l = sqrt(6 / (in + out))."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in ((INPUTS, HIDDEN), (HIDDEN, CLASSES)):
        limit = np.sqrt(6.0 / (n_in + n_out))
        layers.append((rng.uniform(-limit, limit, (n_out, n_in)), np.zeros(n_out)))
    return layers


def our_model(weights: list[tuple[np.ndarray, np.ndarray]]) -> Any:
    """``MLP(784, [128, 10])`` holding ``weights``, compiled with SGD and the crossentropy."""
    import micrograd_like
    from micrograd_like.optim import SGD

    model = micrograd_like.MLP(INPUTS, [HIDDEN, CLASSES], seed=0)
    for layer, (W, b) in zip(model.layers, weights):
        for neuron, row, bias in zip(layer.neurons, W.tolist(), b.tolist()):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = bias
    model.compile(SGD(lr=LR), "sparse_categorical_crossentropy")
    return model


def ours(samples: int, repeats: int) -> dict[str, Any]:
    """Seconds of ``repeats`` one-epoch ``fit`` calls and their epoch losses."""
    X, y = synthetic_mnist(samples)
    model = our_model(glorot_weights())
    seconds, losses = [], []
    for epoch in range(repeats):
        elapsed, history = timed(
            lambda epoch=epoch: model.fit(X, y, epochs=1, batch_size=BATCH, verbose=0, seed=epoch)
        )
        seconds.append(elapsed)
        losses.append(history.history["loss"][0])
    return {"seconds": seconds, "losses": losses}


def theirs(samples: int, repeats: int) -> dict[str, Any]:
    """The same epochs in PyTorch eager: float64, one thread, a new permutation per epoch."""
    import torch

    torch.set_num_threads(1)
    X_np, y_np = synthetic_mnist(samples)
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
    layers = []
    for W, b in glorot_weights():
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    criterion = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)

    def epoch() -> float:
        order = torch.randperm(len(X), generator=generator)
        total = 0.0
        for start in range(0, len(X), BATCH):
            rows = order[start : start + BATCH]
            loss = criterion(net(X[rows]), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        return total / len(X)

    seconds, losses = [], []
    for _ in range(repeats):
        elapsed, loss = timed(epoch)
        seconds.append(elapsed)
        losses.append(loss)
    return {"seconds": seconds, "losses": losses}


def recording(repeats: int) -> dict[str, Any]:
    """Seconds of the first ``evaluate`` on one sample of newly compiled models."""
    X, y = synthetic_mnist(1)
    weights = glorot_weights()
    seconds = []
    for _ in range(repeats):
        model = our_model(weights)
        seconds.append(timed(lambda model=model: model.evaluate(X, y, verbose=0))[0])
    return {"seconds": seconds}


def measure(samples: int, repeats: int, rounds: int) -> list[Row]:
    """Rows for the epoch against PyTorch, the epoch losses, and the recording time. Each
    side runs ``repeats`` epochs in a process, the two taking turns for ``rounds`` rounds;
    the time is the median of all a side's epochs, the losses the first round's."""
    jobs = {
        side: partial(isolated, "mnist_epoch", side, samples=samples, repeats=repeats)
        for side in ("ours", "theirs")
    }
    turns = taking_turns(jobs, rounds)
    mine, reference = (pooled(turns[side], ("seconds",)) for side in ("ours", "theirs"))
    first_loss, first_reference_loss = (turns[side][0]["losses"][0] for side in ("ours", "theirs"))
    record = isolated("mnist_epoch", "recording", repeats=repeats)
    t_mine, t_reference = median(mine["seconds"]), median(reference["seconds"])
    ratio = t_mine / t_reference
    shape = f"{samples} x 784 -> 128 relu -> 10, batch {BATCH}, SGD"
    return [
        Row(
            f"MNIST-shaped epoch, fit vs PyTorch eager (s; median of {repeats} x {rounds} "
            f"alternating processes; {shape}; float64, 1 thread)",
            with_memory(f"{t_mine:.2f}", mine),
            with_memory(f"PyTorch: {t_reference:.2f}", reference),
            f"{ratio:.3g}x PyTorch's time",
            f"<= {TIME_RATIO_TARGET:g}x PyTorch's time",
            ratio <= TIME_RATIO_TARGET,
        ),
        Row(
            "MNIST-shaped epoch losses (first epoch, same initial weights)",
            f"{first_loss:.4f}",
            f"PyTorch: {first_reference_loss:.4f}",
        ),
        Row(
            f"Recording the replay of 784 -> 128 -> 10 + crossentropy (s; median of {repeats})",
            with_memory(f"{median(record['seconds']):.3f}", record),
            target=f"< {RECORDING_TARGET:g} s",
            passed=median(record["seconds"]) < RECORDING_TARGET,
        ),
    ]

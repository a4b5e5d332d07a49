"""Code written the way a PyTorch training loop writes it runs: a Module with only
forward(), an optimizer bound to some parameters, state_dict, .item(), and the way out to
PyTorch itself (to_torch / from_torch, compared with torch's own outputs)."""

from __future__ import annotations

import numpy as np
import pytest

from micrograd_like import MLP, Dense, Layer, Module, Sequential, Value, datasets, losses, optim

X, Y = datasets.make_moons(120, noise=0.1, random_state=1)


class Net(Module):
    """PyTorch's way: parts as attributes, and forward()."""

    def __init__(self):
        self.hidden = Layer(2, 8, seed=0)
        self.out = Layer(8, 1, nonlin=False, seed=1)

    def forward(self, x):
        return self.out(self.hidden(x))


def test_a_module_with_only_forward_is_callable_and_trains() -> None:
    net = Net()
    assert isinstance(net([0.5, -0.5]), Value)
    assert (
        len(net.parameters()) == 8 * 3 + 9 and list(net.state_dict())[0] == "hidden.neurons.0.w.0"
    )
    opt = optim.SGD(net.parameters(), lr=0.1)
    first = None
    for _ in range(5):
        loss = losses.binary_crossentropy(Y, [net(list(x)) for x in X])
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert type(loss.item()) is float and loss.item() < first
    net.compile(optim.Adam(learning_rate=0.05), "binary_crossentropy", metrics=["accuracy"])
    history = net.fit(X, Y, epochs=30, verbose=0, seed=0)
    loss, accuracy = net.evaluate(X, Y, verbose=0)
    assert loss < history.history["loss"][0] / 2 and accuracy >= 0.85


def test_a_module_without_forward_says_what_is_missing() -> None:
    class Empty(Module):
        pass

    with pytest.raises(TypeError, match=r"Empty is not callable: define forward\(self, x\)"):
        Empty()([1.0])


def test_a_module_extending_super_parameters() -> None:
    class WithScale(Net):
        def __init__(self):
            super().__init__()
            self._scale = Value(2.0)  # private: found only through parameters()

        def parameters(self):
            return super().parameters() + [self._scale]

        def forward(self, x):
            return super().forward(x) * self._scale

    model = WithScale()
    assert model.parameters()[-1] is model._scale and len(model.parameters()) == 34
    assert list(model.state_dict())[-1] == "parameters.33"
    model.compile(optim.SGD(learning_rate=0.1), "mse")
    model.fit(X, Y, epochs=1, verbose=0)
    assert model._scale.data != 2.0  # it trains


def test_state_dict_round_trip_of_a_custom_module() -> None:
    a, b = Net(), Net()
    for p in b.parameters():
        p.data += 1.0
    b.load_state_dict(a.state_dict())
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


# ---------------------------------------------------------------- to and from PyTorch


def test_to_torch_gives_the_same_outputs_in_float64() -> None:
    torch = pytest.importorskip("torch")
    model = Sequential(
        [
            Dense(8, activation="tanh", seed=0),
            Dense(8, activation="relu", seed=1),
            Dense(3, activation="softmax", seed=2),
        ]
    )
    model.build(2)
    net = model.to_torch()
    assert [type(m).__name__ for m in net] == [
        "Linear",
        "Tanh",
        "Linear",
        "ReLU",
        "Linear",
        "Softmax",
    ]
    with torch.no_grad():
        theirs = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.predict(X, verbose=0), theirs, rtol=1e-12, atol=1e-15)
    sigmoid = MLP(2, [4, 1], seed=0).to_torch()
    assert [type(m).__name__ for m in sigmoid] == ["Linear", "ReLU", "Linear"]


def test_from_torch_reads_a_torch_sequential_back() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(
        nn.Linear(2, 6), nn.ReLU(), nn.Identity(), nn.Linear(6, 1), nn.Sigmoid()
    ).double()
    model = Sequential.from_torch(net)
    assert [layer.activation for layer in model.layers] == ["relu", "sigmoid"]
    with torch.no_grad():
        theirs = net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(model.predict(X, verbose=0), theirs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        Sequential.from_torch(model.to_torch()).get_weights()[0], model.get_weights()[0]
    )
    with pytest.raises(ValueError, match="module 1 is Dropout"):
        Sequential.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)))
    with pytest.raises(ValueError, match="an activation that follows no Linear layer"):
        Sequential.from_torch(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    with pytest.raises(TypeError, match="expects a torch.nn.Sequential"):
        Sequential.from_torch(nn.Linear(2, 2))

"""To PyTorch and back: a Sequential of layers <-> a ``torch.nn.Sequential``.

For users who outgrow a scalar engine. Each layer becomes a float64 ``torch.nn.Linear``
(its weight is our kernel transposed, shape (nout, nin)) followed by its activation module
(``ReLU``, ``Tanh``, ``Sigmoid``, ``Softmax(dim=-1)``; none for a linear layer), so both
compute the same outputs. PyTorch is optional: it is imported only here, when called.
"""

from __future__ import annotations

from typing import Any

from .layers import Layer

__all__ = ["from_torch", "to_torch"]


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:
        raise ModuleNotFoundError(
            "to_torch and from_torch need PyTorch: pip install torch"
        ) from err
    return torch


def _activation_modules(torch: Any) -> dict[str, Any]:
    """Our activation name -> the torch module class that computes it."""
    nn = torch.nn
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softmax": nn.Softmax}


def to_torch(layers: list[Layer]) -> Any:
    """A model's ``layers`` as a ``torch.nn.Sequential`` with the same weights, in float64."""
    torch = _torch()
    modules = _activation_modules(torch)
    parts = []
    for i, layer in enumerate(layers):
        activation = layer.activation
        if activation is None:
            raise ValueError(
                f"layer {i} mixes activations; torch.nn.Sequential needs one per layer"
            )
        kernel, bias = layer.get_weights()
        linear = torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(kernel.T.copy()))
            linear.bias.copy_(torch.from_numpy(bias))
        parts.append(linear)
        if activation == "softmax":
            parts.append(modules["softmax"](dim=-1))
        elif activation != "linear":
            parts.append(modules[activation]())
    return torch.nn.Sequential(*parts)


def from_torch(module: Any) -> list[Layer]:
    """The layers, with their weights, of ``module``, a ``torch.nn.Sequential`` of
    ``Linear`` layers each optionally followed by one activation (ReLU, Tanh, Sigmoid, or
    Softmax over the last dimension); ``Identity`` modules are skipped."""
    torch = _torch()
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(f"from_torch expects a torch.nn.Sequential, got {type(module).__name__}")
    names = {cls: name for name, cls in _activation_modules(torch).items()}
    parts = [m for m in module if not isinstance(m, torch.nn.Identity)]
    layers: list[Layer] = []
    for position, part in enumerate(parts):
        if isinstance(part, torch.nn.Linear):
            if part.bias is None:
                raise ValueError(
                    f"module {position}: a Linear layer without a bias is not supported"
                )
            layer = Layer(part.in_features, part.out_features, activation="linear", seed=0)
            layer.set_weights(
                [part.weight.detach().double().numpy().T, part.bias.detach().double().numpy()]
            )
            layers.append(layer)
            continue
        name = names.get(type(part))
        follows_linear = (
            bool(layers) and position > 0 and isinstance(parts[position - 1], torch.nn.Linear)
        )
        if name is None or not follows_linear:
            what = "an activation that follows no Linear layer" if name else type(part).__name__
            raise ValueError(
                f"module {position} is {what}; from_torch reads Linear layers, each optionally "
                "followed by ReLU, Tanh, Sigmoid or Softmax(dim=-1)"
            )
        if name == "softmax" and part.dim not in (-1, 1):
            raise ValueError(f"module {position}: Softmax must be over the last dimension (dim=-1)")
        layers[-1] = _with_activation(layers[-1], name)
    if not layers:
        raise ValueError("from_torch: the module has no Linear layer")
    return layers


def _with_activation(layer: Layer, activation: str) -> Layer:
    """A layer like ``layer`` (same weights) with ``activation``."""
    kernel, bias = layer.get_weights()
    nin, nout = kernel.shape
    twin = Layer(nin, nout, activation=activation, seed=0)
    twin.set_weights([kernel, bias])
    return twin

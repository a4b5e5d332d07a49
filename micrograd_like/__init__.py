"""micrograd_like: a scalar reverse-mode autodiff engine with neural networks on top.

The front door is lazy (PEP 562): ``import micrograd_like`` loads nothing else, and each
public name is imported from its module on first use, so ``from micrograd_like import
Value`` costs what the engine costs. The layers, from the bottom: ``engine``, ``checks``
and ``files``, the numeric parts (``losses``, ``metrics``, ``optim``, ``datasets``, the
replay), ``callbacks``, ``training``, ``serialization``, ``nn``, the tools (``gradcheck``,
``viz``, ``plot``, ``expr``, ``demo``) and ``cli``; see docs/architecture.md.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms)

_PUBLIC: dict[str, str] = {
    # the engine
    "OPS": "engine",
    "Op": "engine",
    "Value": "engine",
    "define_op": "engine",
    "enable_grad": "engine",
    "grad": "engine",
    "is_grad_enabled": "engine",
    "no_grad": "engine",
    # models
    "Dense": "nn",
    "MLP": "nn",
    "Layer": "nn",
    "Module": "nn",
    "Neuron": "nn",
    "Sequential": "nn",
    "load_model": "nn",
    "save_model": "nn",
    # tools
    "GradcheckError": "gradcheck",
    "check_model": "gradcheck",
    "gradgradcheck": "gradcheck",
    "numerical_grad": "gradcheck",
    "draw_dot": "viz",
    "draw_network": "viz",
    "render": "viz",
    "to_dot": "viz",
    "explain": "explanation",
}
"""Public name -> the module (under micrograd_like) that defines it."""

_SUBMODULES = ("callbacks", "datasets", "losses", "metrics", "optim", "training")
"""Modules offered as attributes: ``micrograd_like.losses.mse``."""

__all__ = sorted([*_PUBLIC, *_SUBMODULES, "__version__"])


def _version() -> str:
    """The installed distribution's version (read lazily: importlib.metadata is slow)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("micrograd_like")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def __getattr__(name: str) -> object:
    if name == "__version__":
        value: object = _version()
    elif name in _PUBLIC:
        value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and IDEs see (``X as X`` marks a re-export)
    from . import callbacks as callbacks
    from . import datasets as datasets
    from . import losses as losses
    from . import metrics as metrics
    from . import optim as optim
    from . import training as training
    from .engine import OPS as OPS
    from .engine import Op as Op
    from .engine import Value as Value
    from .engine import define_op as define_op
    from .engine import enable_grad as enable_grad
    from .engine import grad as grad
    from .engine import is_grad_enabled as is_grad_enabled
    from .engine import no_grad as no_grad
    from .explanation import explain as explain
    from .gradcheck import GradcheckError as GradcheckError
    from .gradcheck import check_model as check_model
    from .gradcheck import gradgradcheck as gradgradcheck
    from .gradcheck import numerical_grad as numerical_grad
    from .nn import MLP as MLP
    from .nn import Dense as Dense
    from .nn import Layer as Layer
    from .nn import Module as Module
    from .nn import Neuron as Neuron
    from .nn import Sequential as Sequential
    from .nn import load_model as load_model
    from .nn import save_model as save_model
    from .viz import draw_dot as draw_dot
    from .viz import draw_network as draw_network
    from .viz import render as render
    from .viz import to_dot as to_dot

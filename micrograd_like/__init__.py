"""micrograd_like: a scalar reverse-mode autodiff engine with neural networks on top."""

from importlib.metadata import PackageNotFoundError, version

from . import callbacks, datasets, losses, optim, training
from .engine import OPS, Op, Value, define_op, grad, is_grad_enabled, no_grad
from .nn import MLP, Layer, Module, Neuron, Sequential
from .serialization import load_model

try:
    __version__ = version("micrograd_like")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "MLP",
    "OPS",
    "Layer",
    "Module",
    "Neuron",
    "Op",
    "Sequential",
    "Value",
    "__version__",
    "callbacks",
    "datasets",
    "define_op",
    "grad",
    "is_grad_enabled",
    "load_model",
    "losses",
    "no_grad",
    "optim",
    "training",
]

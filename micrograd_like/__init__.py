"""micrograd_like: a scalar reverse-mode autodiff engine with neural networks on top."""

from importlib.metadata import PackageNotFoundError, version

from . import callbacks, datasets, losses, optim, training
from .engine import OPS, Op, Value, define_op, grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, check_model, gradgradcheck, numerical_grad
from .nn import MLP, Layer, Module, Neuron, Sequential
from .serialization import load_model
from .viz import draw_dot, draw_network, render, to_dot

try:
    __version__ = version("micrograd_like")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# ``gradcheck`` (the function) stays in micrograd_like.gradcheck, so that the module of the
# same name is not hidden: ``from micrograd_like.gradcheck import gradcheck``.
__all__ = [
    "GradcheckError",
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
    "check_model",
    "datasets",
    "define_op",
    "draw_dot",
    "draw_network",
    "grad",
    "gradgradcheck",
    "is_grad_enabled",
    "load_model",
    "losses",
    "no_grad",
    "numerical_grad",
    "optim",
    "render",
    "to_dot",
    "training",
]

"""Neurons, layers and multi-layer perceptrons, compatible with micrograd's ``nn``.

- :mod:`.module`: :class:`Module`, parameters found through attributes, ``state_dict``,
  and Keras' ``compile``/``fit``/``evaluate``/``predict`` (from :mod:`micrograd_like.training`);
- :mod:`.layers`: :class:`Neuron` and :class:`Layer`, and the activations;
- :mod:`.models`: :class:`Sequential` and :class:`MLP`, ``save`` and :func:`load_model`.

``from micrograd_like.nn import MLP`` is micrograd's import path.
"""

from .layers import ACTIVATIONS, Layer, Neuron, as_inputs
from .models import MLP, Sequential, load_model, save_model
from .module import Module

__all__ = [
    "ACTIVATIONS",
    "Layer",
    "MLP",
    "Module",
    "Neuron",
    "Sequential",
    "as_inputs",
    "load_model",
    "save_model",
]

"""Neurons, layers and models, compatible with micrograd's ``nn`` and Keras' names.

- :mod:`.module`: :class:`Module`, parameters found through attributes, ``state_dict``,
  and Keras' ``compile``/``fit``/``evaluate``/``predict`` (from :mod:`micrograd_like.training`);
- :mod:`.layers`: :class:`Neuron`, :class:`Layer`, Keras' :class:`Dense`, and the activations;
- :mod:`.initializers`: initial weights (``glorot_uniform``, ``he_uniform``, ``uniform``, ...);
- :mod:`.models`: :class:`Sequential` and :class:`MLP`, ``save`` and :func:`load_model`;
- :mod:`.torch_bridge`: ``Sequential.to_torch()`` and ``Sequential.from_torch(module)``.

``from micrograd_like.nn import MLP`` is micrograd's import path.
"""

from . import initializers
from .layers import ACTIVATIONS, Dense, Layer, Neuron, as_inputs
from .models import MLP, Sequential, load_model, save_model
from .module import Module

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Dense",
    "Layer",
    "Module",
    "Neuron",
    "Sequential",
    "as_inputs",
    "initializers",
    "load_model",
    "save_model",
]

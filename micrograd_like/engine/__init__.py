"""The scalar reverse-mode autodiff engine (standard library only).

- :mod:`.value`: :class:`Value`, the graph's node, and the op table (:data:`OPS`,
  :class:`Op`, :func:`define_op`);
- :mod:`.rules`: the math of the built-in ops, forwards and local partials;
- :mod:`.graph`: topological order and the reverse sweep of the chain rule;
- :mod:`.autodiff`: :func:`grad`, gradients as values (higher derivatives too);
- :mod:`.recording`: :func:`no_grad` and :func:`enable_grad`.

``from micrograd_like.engine import Value`` is micrograd's import path.
"""

from .autodiff import grad
from .graph import topological_order
from .recording import enable_grad, is_grad_enabled, no_grad
from .value import OPS, Op, Rule, Value, define_op, power_op

__all__ = [
    "OPS",
    "Op",
    "Rule",
    "Value",
    "define_op",
    "enable_grad",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "power_op",
    "topological_order",
]

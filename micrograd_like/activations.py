"""The output activations a loss reads through: sigmoid and softmax, made and recognised here.

A crossentropy loss needs to know whether a model's outputs are probabilities (after a
sigmoid or a softmax) or logits (a linear output), and it is most accurate when it reads
the logits behind the probabilities, as Keras 3 does. Both are read from the graph itself:

- a sigmoid output is a ``sigmoid`` node; its logit is the node's input;
- a softmax output, made by :func:`softmax`, is softmax(z)_i = exp(z_i - logsumexp(z)):
  an ``exp`` node whose input is the log-probability log softmax(z)_i = z_i - logsumexp(z).

So any model, whatever its class, is recognised by the nodes it returns.
"""

from __future__ import annotations

from collections.abc import Sequence

from .engine import OPS, Value

__all__ = ["log_probabilities", "output_activation", "softmax"]

_LOGSUMEXP, _SIGMOID, _EXP, _ADD, _MUL = (
    OPS[name] for name in ("logsumexp", "sigmoid", "exp", "add", "mul")
)


def softmax(values: Sequence[Value]) -> list[Value]:
    """softmax(z)_i = exp(z_i - logsumexp(z)): each in (0, 1], together summing to 1, and
    never overflowing (z_i - logsumexp(z) <= 0)."""
    values = list(values)
    if len(values) < 2:
        raise ValueError(
            f"softmax needs at least 2 values (over 1 it is always 1), got {len(values)}"
        )
    minus_lse = -_LOGSUMEXP(*values)
    return [(z + minus_lse).exp() for z in values]


def log_probabilities(outputs: Sequence[Value]) -> list[Value] | None:
    """log softmax(z)_i for outputs made by :func:`softmax` (one call, in order), else None."""
    logs = []
    for out in outputs:
        if out.rule is not _EXP or out.parents[0].rule is not _ADD:
            return None
        logs.append(out.parents[0])
    minus_lse = logs[0].parents[1]
    if minus_lse.rule is not _MUL or minus_lse.parents[0].rule is not _LOGSUMEXP:
        return None
    if minus_lse.parents[1].parents or minus_lse.parents[1].data != -1.0:
        return None  # not -logsumexp(z) but some other multiple of it
    logits = minus_lse.parents[0].parents
    if len(logits) != len(logs) or any(
        log.parents != (z, minus_lse) for log, z in zip(logs, logits)
    ):
        return None
    return logs


def output_activation(outputs: Sequence[Value]) -> str:
    """ "sigmoid" when every output is a sigmoid node, "softmax" when the outputs are one
    :func:`softmax`, else "linear" (the outputs are read as logits)."""
    if outputs and all(out.rule is _SIGMOID for out in outputs):
        return "sigmoid"
    if len(outputs) >= 2 and log_probabilities(outputs) is not None:
        return "softmax"
    return "linear"

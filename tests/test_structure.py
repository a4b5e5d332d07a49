"""Module._parameter_structure(): the parameter walk, kept so that training can tell
without walking that the model still holds the same parameters and modules. Every change
that makes a new walk find other parameters or modules must make ``describes`` False; a
change of values only must not."""

from __future__ import annotations

import pytest

from micrograd_like import MLP, Layer, Module, Neuron, Value


def model_and_structure():
    model = MLP(2, [3, 2, 1], seed=0)
    return model, model._parameter_structure()


def test_a_structure_holds_the_walk_and_describes_its_model() -> None:
    model, structure = model_and_structure()
    assert structure.parameters == model.parameters()
    assert all(map(lambda a, b: a is b, structure.parameters, model.parameters()))
    assert structure.modules[0] is model
    assert len(structure.modules) == 1 + 3 + (3 + 2 + 1)  # the MLP, its layers, neurons
    assert structure.describes(model)


def test_values_changed_in_place_leave_the_structure_valid() -> None:
    model, structure = model_and_structure()
    for p in model.parameters():
        p.data += 1.0
        p.grad = 3.0
    model.zero_grad()
    model([0.5, -0.5])  # a forward pass changes nothing either
    assert structure.describes(model)


def _replace_a_weight(model: MLP) -> None:
    model.layers[1].neurons[0].w[1] = Value(0.5)


def _replace_a_bias(model: MLP) -> None:
    model.layers[0].neurons[2].b = Value(0.5)


def _swap_two_weights(model: MLP) -> None:
    w = model.layers[0].neurons[0].w
    w[0], w[1] = w[1], w[0]


def _move_a_weight_between_neurons(model: MLP) -> None:
    """The concatenation of the two lists stays the same; their lengths do not."""
    first, second = model.layers[1].neurons[0], model.layers[1].neurons[1]
    second.w.insert(0, first.w.pop())


def _append_a_layer(model: MLP) -> None:
    model.add(Layer(1, 1, seed=1))


def _drop_a_neuron(model: MLP) -> None:
    model.layers[0].neurons.pop()


def _replace_a_list_by_an_equal_one(model: MLP) -> None:
    neuron = model.layers[0].neurons[0]
    neuron.w = list(neuron.w)


def _add_a_public_value(model: MLP) -> None:
    model.layers[1].scale = Value(2.0)


def _replace_a_neuron(model: MLP) -> None:
    model.layers[2].neurons[0] = Neuron(2, nonlin=False, seed=3)


class _Other(Neuron):
    """A class of its own, even one that finds the same parameters, may compute otherwise."""


def _change_a_class(model: MLP) -> None:
    model.layers[0].neurons[0].__class__ = _Other


@pytest.mark.parametrize(
    "change",
    [
        _replace_a_weight,
        _replace_a_bias,
        _swap_two_weights,
        _move_a_weight_between_neurons,
        _append_a_layer,
        _drop_a_neuron,
        _replace_a_list_by_an_equal_one,
        _add_a_public_value,
        _replace_a_neuron,
        _change_a_class,
    ],
)
def test_a_change_of_what_the_walk_finds_makes_the_structure_stale(change) -> None:
    model, structure = model_and_structure()
    change(model)
    assert not structure.describes(model)
    again = model._parameter_structure()
    assert again.describes(model)
    assert again.parameters == model.parameters()


def test_a_list_replaced_by_an_equal_one_is_followed_from_then_on() -> None:
    model = MLP(2, [2, 1], seed=0)
    neuron = model.layers[0].neurons[0]
    neuron.w = list(neuron.w)
    structure = model._parameter_structure()
    neuron.w[0] = Value(1.0)  # in place, in the new list
    assert not structure.describes(model)


def test_a_private_value_made_public_is_seen_though_only_a_key_changes() -> None:
    model = MLP(2, [2, 1], seed=0)
    neuron = model.layers[0].neurons[1]
    neuron._spare = Value(1.0)
    structure = model._parameter_structure()
    neuron.spare = neuron.__dict__.pop("_spare")  # the same values, in the same order
    assert not structure.describes(model)
    assert model.parameters()[-1] is not neuron.spare  # (the last layer's bias)
    assert neuron.spare in model.parameters()


def test_an_equal_dict_in_place_of_a_modules_dict_changes_nothing() -> None:
    model, structure = model_and_structure()
    neuron = model.layers[0].neurons[0]
    neuron.__dict__ = dict(neuron.__dict__)
    assert structure.describes(model)  # a walk would find the same objects ...
    neuron.__dict__["b"] = Value(2.0)  # ... and the new dict is the one read from then on
    assert not structure.describes(model)


def test_a_class_that_starts_overriding_parameters_makes_the_structure_stale(
    monkeypatch,
) -> None:
    model, structure = model_and_structure()
    monkeypatch.setattr(Layer, "parameters", lambda self: [], raising=False)
    assert not structure.describes(model)


def test_a_tree_with_a_parameters_override_is_walked_every_time() -> None:
    class Scaled(Module):
        def __init__(self) -> None:
            self.inner = Neuron(1, seed=0)
            self._scale = Value(2.0)

        def parameters(self) -> list[Value]:
            return super().parameters() + [self._scale]

    model = Scaled()
    structure = model._parameter_structure()
    assert structure.parameters == [model.inner.w[0], model.inner.b, model._scale]
    assert not structure.describes(model)  # its own code may find others next time

    class Holder(Module):
        def __init__(self) -> None:
            self.part = Scaled()

    holder = Holder()
    assert not holder._parameter_structure().describes(holder)


def test_a_structure_describes_only_the_model_it_walked() -> None:
    model, structure = model_and_structure()

    class Wrapper(Module):
        def __init__(self) -> None:
            self.layers = model.layers  # the same layers, in another model

    assert not structure.describes(Wrapper())
    assert not structure.describes(MLP(2, [3, 2, 1], seed=0))

"""A bad seed is refused with an error naming the argument (issue 11, point 8)."""

from __future__ import annotations

import numpy as np
import pytest

from micrograd_like import MLP, datasets


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True])
def test_fit_names_a_bad_seed(seed):
    model = MLP(2, [2, 1], seed=0)
    model.compile("sgd", "mse")
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 2\*\*32\), got"):
        model.fit(np.zeros((4, 2)), np.zeros(4), seed=seed, verbose=0)
    assert model.state_dict() == before


def test_the_data_sets_name_a_bad_random_state():
    with pytest.raises(ValueError, match=r"random_state must be an int in \[0, 2\*\*32\)"):
        datasets.make_moons(10, random_state=-1)

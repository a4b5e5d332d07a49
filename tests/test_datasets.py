"""Data sets: bit-identical to scikit-learn, toy problems, splits and minibatches."""

from __future__ import annotations

import numpy as np
import pytest

from micrograd_like.datasets import (
    iterate_minibatches,
    make_blobs,
    make_circles,
    make_moons,
    make_spiral,
    make_xor,
    train_test_split,
)


def assert_identical(ours, theirs) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert np.array_equal(a, b)


# ---------------------------------------------------------------- against scikit-learn


@pytest.mark.parametrize("random_state", [0, 1, 42, 2**32 - 1])
@pytest.mark.parametrize("n_samples", [1, 2, 7, 100, (3, 8), (0, 4)])
@pytest.mark.parametrize("noise", [None, 0.0, 0.1, 0.35])
@pytest.mark.parametrize("shuffle", [True, False])
def test_moons_and_circles_are_bit_identical_to_sklearn(
    random_state, n_samples, noise, shuffle
) -> None:
    sk = pytest.importorskip("sklearn.datasets")
    kwargs = {"n_samples": n_samples, "noise": noise, "shuffle": shuffle}
    assert_identical(
        make_moons(**kwargs, random_state=random_state),
        sk.make_moons(**kwargs, random_state=random_state),
    )
    assert_identical(
        make_circles(**kwargs, random_state=random_state, factor=0.5),
        sk.make_circles(**kwargs, random_state=random_state, factor=0.5),
    )


@pytest.mark.parametrize("random_state", [0, 3, 1234])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"n_samples": 101, "centers": 4},
        {"n_samples": 50, "n_features": 5, "centers": 2, "center_box": (-1.0, 3.0)},
        {"n_samples": [3, 0, 5], "n_features": 3},
        {"n_samples": 60, "centers": [[0, 0], [5, 5.5]], "cluster_std": [0.5, 2.0]},
        {"n_samples": [10, 20], "centers": np.array([[1.0, 2, 3], [4, 5, 6]]), "shuffle": False},
        {"n_samples": 31, "centers": 3, "cluster_std": np.array([0.1, 1.0, 3.0])},
        {"n_samples": 20, "centers": 2, "cluster_std": 0.0},
    ],
)
def test_blobs_are_bit_identical_to_sklearn(random_state, kwargs) -> None:
    sk = pytest.importorskip("sklearn.datasets")
    assert_identical(
        make_blobs(**kwargs, random_state=random_state),
        sk.make_blobs(**kwargs, random_state=random_state),
    )


def test_random_state_none_and_random_state_objects_follow_sklearn() -> None:
    sk = pytest.importorskip("sklearn.datasets")
    np.random.seed(5)
    ours = make_moons(30, noise=0.2)
    np.random.seed(5)
    assert_identical(ours, sk.make_moons(30, noise=0.2))
    mine, theirs = np.random.RandomState(9), np.random.RandomState(9)
    for _ in range(2):  # the same object is advanced by each call
        assert_identical(make_blobs(40, random_state=mine), sk.make_blobs(40, random_state=theirs))
    first, second = make_circles(20, random_state=mine), make_circles(20, random_state=mine)
    assert not np.array_equal(first[0], second[0])


def test_moons_geometry_without_noise() -> None:
    X, y = make_moons(6, shuffle=False)
    t = np.linspace(0, np.pi, 3)
    np.testing.assert_allclose(X[:3], np.column_stack([np.cos(t), np.sin(t)]))
    np.testing.assert_allclose(X[3:], np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)]))
    assert y.tolist() == [0, 0, 0, 1, 1, 1]


def test_circles_radii() -> None:
    X, y = make_circles(9, factor=0.3, random_state=0)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.where(y == 0, 1.0, 0.3))
    assert np.bincount(y).tolist() == [4, 5]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: make_moons(0), r"make_moons: n_samples must be an int >= 1"),
        (lambda: make_moons(-3), r"make_moons: n_samples must be an int >= 1"),
        (lambda: make_moons(2.5), "make_moons: n_samples must be an int >= 1 or a pair"),
        (lambda: make_moons((1, 2, 3)), "make_moons: n_samples must be an int >= 1 or a pair"),
        (lambda: make_moons((0, 0)), "make_moons: n_samples must be an int >= 1 or a pair"),
        (lambda: make_moons((-1, 3)), r"n_samples\[0\] must be an int >= 0"),
        (lambda: make_moons(10, noise=-0.1), "noise must be a finite number >= 0"),
        (lambda: make_moons(10, noise=float("nan")), "noise must be a finite number >= 0"),
        (lambda: make_circles(10, factor=1.0), r"factor must be a number in \[0, 1\)"),
        (lambda: make_circles(0), "make_circles: n_samples must be"),
        (lambda: make_moons(10, random_state=-1), r"random_state must be an int in \[0, 2\*\*32\)"),
        (lambda: make_moons(10, random_state=2**32), "random_state must be an int in"),
        (lambda: make_blobs(0), "make_blobs: n_samples must be an int >= 1"),
        (lambda: make_blobs([0, 0]), "make_blobs: n_samples must be an int >= 1 or a sequence"),
        (lambda: make_blobs(10, n_features=0), "make_blobs: n_features must be an int >= 1"),
        (lambda: make_blobs(10, centers=0), "make_blobs: centers must be an int >= 1"),
        (lambda: make_blobs(10, centers=[1, 2]), r"centers must be .* \(n_centers, n_features\)"),
        (lambda: make_blobs([5, 5], centers=3), "with one size per cluster in n_samples"),
        (lambda: make_blobs([5, 5], centers=[[0, 0]]), "gives 2 cluster sizes but there are 1"),
        (lambda: make_blobs(10, cluster_std=-1.0), "cluster_std must be a finite number >= 0"),
        (lambda: make_blobs(10, cluster_std=[1.0, 2.0]), r"or one per center \(3\)"),
        (lambda: make_blobs(10, center_box=(1, -1)), "center_box must be a pair"),
        (lambda: make_xor(0), "make_xor: n_samples must be an int >= 1"),
        (lambda: make_xor(10, noise=-1), "make_xor: noise must be"),
        (lambda: make_spiral(10, 0), "make_spiral: n_classes must be an int >= 1"),
        (lambda: make_spiral(2, 3), "make_spiral: n_samples must be an int >= 3"),
        (lambda: make_spiral(30, 3, noise=-0.2), "make_spiral: noise must be"),
    ],
)
def test_bad_generator_arguments(make, message) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_random_state_and_shuffle_types() -> None:
    with pytest.raises(TypeError, match="random_state must be an int, a numpy RandomState"):
        make_moons(10, random_state="seed")
    with pytest.raises(TypeError, match="random_state must be an int"):
        make_moons(10, random_state=np.random.default_rng(0))
    with pytest.raises(TypeError, match="shuffle must be True or False"):
        make_moons(10, shuffle="yes")


# ---------------------------------------------------------------- xor and spirals


def test_xor_labels_are_the_xor_of_the_signs() -> None:
    X, y = make_xor(500, random_state=0)
    assert X.shape == (500, 2) and y.shape == (500,) and set(y.tolist()) == {0, 1}
    assert np.all(np.abs(X) <= 1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    assert 200 < y.sum() < 300
    noisy_X, noisy_y = make_xor(500, noise=0.1, random_state=0)
    np.testing.assert_array_equal(noisy_y, y)  # the same clean points, then jittered
    jitter = noisy_X - X
    assert 0.08 < jitter.std() < 0.12


@pytest.mark.parametrize("n_samples, n_classes", [(300, 3), (100, 2), (50, 7), (5, 5)])
def test_spiral_shapes_and_balance(n_samples, n_classes) -> None:
    X, y = make_spiral(n_samples, n_classes, random_state=1)
    assert X.shape == (n_samples, 2) and y.shape == (n_samples,)
    counts = np.bincount(y, minlength=n_classes)
    assert len(counts) == n_classes and counts.max() - counts.min() <= 1
    assert np.all(np.hypot(X[:, 0], X[:, 1]) <= 1 + 1e-12)


def test_spiral_arms_without_noise() -> None:
    X, y = make_spiral(12, 3, noise=0.0, shuffle=False)
    assert y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    r = np.tile(np.linspace(0, 1, 4), 3)
    t = 2 * np.pi * y / 3 + 4 * r
    np.testing.assert_allclose(X, np.column_stack([r * np.sin(t), r * np.cos(t)]), atol=1e-15)


def test_generators_are_reproducible() -> None:
    for make in (make_xor, make_spiral, make_moons, make_blobs):
        first, again, other = make(random_state=3), make(random_state=3), make(random_state=4)
        assert_identical(first, again)
        assert not np.array_equal(first[0], other[0])


# ---------------------------------------------------------------- train_test_split


def test_train_test_split_sizes_alignment_and_reproducibility() -> None:
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    assert (len(X_train), len(X_test)) == (15, 5)
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)  # rows stay aligned
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)
    assert sorted([*y_train, *y_test]) == list(range(20))
    again = train_test_split(X, y, random_state=0)
    assert all(np.array_equal(a, b) for a, b in zip(again, [X_train, X_test, y_train, y_test]))
    assert [len(part) for part in train_test_split(X, y, test_size=7)] == [13, 7, 13, 7]
    assert [len(part) for part in train_test_split(y, test_size=0.33)] == [13, 7]  # ceil


def test_train_test_split_without_shuffle_keeps_the_order() -> None:
    y = np.arange(10)
    train, test = train_test_split(y, test_size=0.3, shuffle=False)
    assert train.tolist() == list(range(7)) and test.tolist() == [7, 8, 9]


@pytest.mark.parametrize("test_size", [0.25, 0.3, 0.5, 1, 3, 9])
@pytest.mark.parametrize("random_state", [0, 7])
def test_train_test_split_picks_sklearn_s_rows(test_size, random_state) -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    X, y = np.arange(30.0).reshape(10, 3), list(range(10))
    ours = train_test_split(X, y, test_size=test_size, random_state=random_state)
    theirs = model_selection.train_test_split(X, y, test_size=test_size, random_state=random_state)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "arrays, kwargs, message",
    [
        ((), {}, "needs at least one array"),
        (([1, 2, 3], [1, 2]), {}, r"different numbers of samples: \[3, 2\]"),
        ((5,), {}, "argument 0 is a scalar"),
        ((list(range(10)),), {"test_size": 0.0}, r"test_size must be a number in \(0, 1\)"),
        ((list(range(10)),), {"test_size": 1.5}, r"test_size must be a number in \(0, 1\)"),
        ((list(range(10)),), {"test_size": 10}, "gives 10 test row"),
        ((list(range(10)),), {"test_size": 0}, "gives 0 test row"),
        ((list(range(10)),), {"test_size": "0.2"}, "test_size must be a fraction"),
        (([1],), {}, "both be non-empty"),
    ],
)
def test_bad_splits(arrays, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        train_test_split(*arrays, **kwargs)


# ---------------------------------------------------------------- minibatches


@pytest.mark.parametrize(
    "n, batch_size", [(10, 3), (10, 5), (10, 1), (10, 10), (10, 64), (7, None)]
)
def test_minibatches_cover_every_sample_once(n, batch_size) -> None:
    X = np.arange(2 * n).reshape(n, 2)
    y = np.arange(n)
    batches = list(iterate_minibatches(X, y, batch_size, rng=0))
    size = n if batch_size is None else batch_size
    assert [len(yb) for _, yb in batches] == [min(size, n - s) for s in range(0, n, size)]
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(n))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], 2 * yb)


def test_minibatches_reshuffle_with_the_generator() -> None:
    X, y = np.zeros((50, 1)), np.arange(50)
    rng = np.random.default_rng(0)
    first = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 8, rng=rng)])
    second = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 8, rng=rng)])
    assert not np.array_equal(first, second)  # a new order each epoch
    replay = np.random.default_rng(0)
    np.testing.assert_array_equal(first, replay.permutation(50))
    np.testing.assert_array_equal(second, replay.permutation(50))
    seeded = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 8, rng=0)])
    np.testing.assert_array_equal(seeded, first)
    ordered = [yb.tolist() for _, yb in iterate_minibatches(X, y, 20, shuffle=False)]
    assert ordered == [list(range(20)), list(range(20, 40)), list(range(40, 50))]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"y": np.arange(4)}, ValueError, r"different numbers of samples: \[5, 4\]"),
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1"),
        ({"batch_size": 2.5}, ValueError, "batch_size must be an int >= 1"),
        ({"batch_size": True}, ValueError, "batch_size must be an int >= 1"),
        ({"rng": "seed"}, TypeError, "rng must be a numpy Generator, an int seed"),
        ({"rng": -1}, TypeError, "rng must be a numpy Generator"),
    ],
)
def test_bad_minibatch_arguments(kwargs, error, message) -> None:
    arguments = {"X": np.zeros((5, 2)), "y": np.arange(5), **kwargs}
    with pytest.raises(error, match=message):
        iterate_minibatches(**arguments)  # checked at the call, before any iteration

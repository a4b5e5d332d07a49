"""Standardizer (equal to scikit-learn's StandardScaler, saved and loaded bit for bit),
one_hot, and train_test_split's stratify option."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from micrograd_like import datasets, preprocessing
from micrograd_like.datasets import train_test_split
from micrograd_like.preprocessing import NotFittedError, Standardizer, one_hot


def sklearn_module(name: str) -> Any:
    """The scikit-learn module ``name``, or skip the comparison that needs it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        pytest.skip(f"scikit-learn is not importable ({error}): nothing to compare with")


def matrices() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    awkward = np.column_stack(
        [
            rng.normal(1e6, 1e-3, 200),  # large offset, tiny spread
            np.full(200, 0.1),  # constant, whose mean is not exactly 0.1
            np.full(200, -7.0),  # constant, exactly representable
            rng.normal(size=200) * 1e-9,
            rng.integers(0, 5, 200),
        ]
    )
    return {
        "normal": rng.normal(2.0, 3.0, size=(50, 4)),
        "awkward": awkward,
        "one row": rng.normal(size=(1, 3)),
        "fortran order": np.asfortranarray(rng.uniform(-5, 5, size=(31, 6))),
    }


# ---------------------------------------------------------------- Standardizer


@pytest.mark.parametrize("name", sorted(matrices()))
def test_standardizer_equals_standard_scaler(name: str) -> None:
    StandardScaler = sklearn_module("sklearn.preprocessing").StandardScaler

    X = matrices()[name]
    ours, theirs = Standardizer().fit(X), StandardScaler().fit(X)
    assert np.array_equal(ours.mean_, theirs.mean_)
    assert np.array_equal(ours.scale_, theirs.scale_)
    assert ours.n_features_in_ == theirs.n_features_in_
    assert np.array_equal(ours.transform(X), theirs.transform(X))
    assert np.array_equal(ours.fit_transform(X), theirs.fit_transform(X))
    assert np.array_equal(ours.inverse_transform(X), theirs.inverse_transform(X))


def test_standardizer_fit_on_train_transform_test_equals_standard_scaler() -> None:
    StandardScaler = sklearn_module("sklearn.preprocessing").StandardScaler

    X, y = datasets.load_breast_cancer()
    X_train, X_test, _, _ = train_test_split(X, y, random_state=0, stratify=y)
    ours, theirs = Standardizer().fit(X_train), StandardScaler().fit(X_train)
    assert np.array_equal(ours.transform(X_test), theirs.transform(X_test))


def test_standardizer_constant_column_gets_scale_one() -> None:
    X = matrices()["awkward"]
    scaler = Standardizer().fit(X)
    assert scaler.scale_[1] == 1.0 and scaler.scale_[2] == 1.0
    Z = scaler.transform(X)
    assert np.abs(Z[:, 1:3]).max() < 1e-15
    assert np.allclose(Z[:, [0, 3, 4]].mean(axis=0), 0, atol=1e-6)  # 1e6 +- 1e-3: rounding
    assert np.allclose(Z[:, [0, 3, 4]].std(axis=0), 1)
    assert np.allclose(scaler.inverse_transform(Z), X, rtol=1e-12, atol=1e-15)


def test_standardizer_uses_only_the_data_given_to_fit() -> None:
    rng = np.random.default_rng(0)
    X_train, X_test = rng.normal(5, 2, size=(40, 3)), rng.normal(-3, 9, size=(10, 3))
    scaler = Standardizer().fit(X_train)
    mean, scale = scaler.mean_.copy(), scaler.scale_.copy()
    expected = (X_test - X_train.mean(axis=0)) / X_train.std(axis=0)
    assert np.allclose(scaler.transform(X_test), expected, rtol=1e-12)
    assert np.array_equal(scaler.mean_, mean) and np.array_equal(scaler.scale_, scale)
    # the test rows are not standardized by their own statistics
    assert not np.allclose(scaler.transform(X_test).mean(axis=0), 0, atol=0.1)


def test_standardizer_leaves_its_input_alone_and_takes_lists() -> None:
    X = np.array([[1.0, 2.0], [3.0, 6.0]])
    copy = X.copy()
    scaler = Standardizer()
    assert np.array_equal(scaler.fit_transform(X), [[-1, -1], [1, 1]])
    assert np.array_equal(X, copy)
    assert np.array_equal(scaler.transform([[2, 4]]), [[0.0, 0.0]])
    assert scaler.transform(np.empty((0, 2))).shape == (0, 2)
    assert "not fitted" in repr(Standardizer()) and "2 feature" in repr(scaler)


@pytest.mark.parametrize("method", ["transform", "inverse_transform", "to_dict"])
def test_standardizer_before_fit(method: str, tmp_path: Path) -> None:
    scaler = Standardizer()
    args = () if method == "to_dict" else ([[1.0]],)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(scaler, method)(*args)
    with pytest.raises(ValueError, match="not fitted yet"):  # NotFittedError is a ValueError
        scaler.save(tmp_path / "scaler.json")
    assert not (tmp_path / "scaler.json").exists()
    assert not hasattr(scaler, "mean_")


@pytest.mark.parametrize(
    "X, message",
    [
        ([[1.0, 2.0, 3.0, 4.0]], r"X has 4 column\(s\) but the Standardizer was fitted on 3"),
        ([[1.0, 2.0]], r"X has 2 column\(s\) but the Standardizer was fitted on 3"),
        ([[1.0, 2.0, 3.0], [4.0, 5.0, np.nan]], "non-finite value nan at row 1, column 2"),
        ([[1.0, -np.inf, 3.0]], "non-finite value -inf at row 0, column 1"),
        ([1.0, 2.0, 3.0], r"must be 2-D \(samples, features\), got shape \(3,\); use X.reshape"),
        ([["a", "b", "c"]], "must hold real numbers, got dtype <U1"),
        ([[1.0, None, 3.0]], "non-finite value nan at row 0, column 1"),
        ([[1.0, 2.0, 3.0], [4.0]], "must be a 2-D array of numbers"),
    ],
)
def test_standardizer_bad_input(X: object, message: str) -> None:
    scaler = Standardizer().fit(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=message):
        scaler.transform(X)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.empty((0, 3)), "X has no rows"),
        (np.empty((4, 0)), "X has no columns"),
        (
            [[1.0, 2.0], [np.inf, 1.0]],
            "Standardizer.fit: X has the non-finite value inf at row 1, column 0",
        ),
        (np.ones((2, 2, 2)), r"got shape \(2, 2, 2\)"),
        ([[1 + 2j]], "must hold real numbers, got dtype complex128"),
    ],
)
def test_standardizer_bad_fit(X: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Standardizer().fit(X)


def test_standardizer_save_load_round_trip_bit_for_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    X = np.column_stack([rng.normal(size=30) / 3, rng.normal(1e8, 1e-4, 30), np.full(30, -0.0)])
    scaler = Standardizer().fit(X)
    path = scaler.save(tmp_path / "sub" / "scaler.json")
    assert path == tmp_path / "sub" / "scaler.json"
    assert sorted(p.name for p in path.parent.iterdir()) == ["scaler.json"]  # no temp file
    loaded = Standardizer.load(path)
    for a, b in ((loaded.mean_, scaler.mean_), (loaded.scale_, scaler.scale_)):
        assert a.dtype == b.dtype == np.float64
        assert a.view(np.uint64).tolist() == b.view(np.uint64).tolist()
    assert loaded.n_features_in_ == 3
    assert np.array_equal(loaded.transform(X), scaler.transform(X))
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["format"] == "micrograd_like.Standardizer" and saved["version"] == 1
    again = Standardizer.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert np.array_equal(again.scale_, scaler.scale_)
    Standardizer().fit(X[:, :2]).save(path)  # replaces the file
    assert Standardizer.load(str(path)).n_features_in_ == 2


def good_dict() -> dict:
    return Standardizer().fit([[1.0, 2.0], [3.0, 8.0]]).to_dict()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format": "keras"}, "not a saved Standardizer"),
        ({"version": 2}, 'unsupported Standardizer "version" 2'),
        ({"version": True}, 'unsupported Standardizer "version" True'),
        ({"scale": None}, '"scale" must be a list of n_features = 2 numbers, got NoneType'),
        ({"mean": [1.0]}, '"mean" must be a list of n_features = 2 numbers, got 1 values'),
        ({"mean": [1.0, "2"]}, r"mean\[1\] must be a finite real number, got '2'"),
        ({"mean": [1.0, True]}, r"mean\[1\] must be a finite real number"),
        ({"mean": [1.0, float("inf")]}, r"mean\[1\] must be a finite real number"),
        ({"scale": [1.0, 0.0]}, r"scale\[1\] must be a finite number > 0"),
        ({"scale": [-1.0, 2.0]}, r"scale\[0\] must be a finite number > 0"),
        ({"n_features": 0}, "n_features must be an int >= 1"),
        ({"n_features": 3}, '"mean" must be a list of n_features = 3'),
        ({"extra": 1}, "unexpected extra"),
    ],
)
def test_standardizer_from_dict_checks_every_field(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Standardizer.from_dict({**good_dict(), **change})


def test_standardizer_from_dict_missing_field_and_wrong_type() -> None:
    data = good_dict()
    del data["scale"]
    with pytest.raises(ValueError, match="missing scale"):
        Standardizer.from_dict(data)
    with pytest.raises(TypeError, match="needs a dict"):
        Standardizer.from_dict([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", r"is not valid JSON \(Expecting property name .* at line 1, column 2\)"),
        (b"[1, 2]", "holds a JSON list, not the object"),
        (b'{"format": NaN}', "NaN is not a finite number"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
        (b'{"format": "micrograd_like.Standardizer", "version": 9}', '"version" 9'),
    ],
)
def test_standardizer_load_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "scaler.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        Standardizer.load(path)
    assert str(path) in str(error.value)


def test_standardizer_load_refuses_missing_big_and_odd_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing.json does not exist"):
        Standardizer.load(tmp_path / "nothing.json")
    with pytest.raises(ValueError, match="is not a regular file"):
        Standardizer.load(tmp_path)
    path = Standardizer().fit([[1.0], [2.0]]).save(tmp_path / "scaler.json")
    with pytest.raises(ValueError, match="more than max_bytes=10;"):
        Standardizer.load(path, max_bytes=10)
    with pytest.raises(ValueError, match="max_bytes must be an int >= 1"):
        Standardizer.load(path, max_bytes=0)
    assert preprocessing.DEFAULT_STANDARDIZER_MAX_BYTES == 16 * 1024 * 1024
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.json"
        os.mkfifo(fifo)
        with pytest.raises(ValueError, match="fifo.json is not a regular file"):
            Standardizer.load(fifo)  # would block if the FIFO were opened


def test_reexported_from_datasets() -> None:
    assert datasets.Standardizer is Standardizer and datasets.one_hot is one_hot
    assert {"Standardizer", "one_hot"} <= set(datasets.__all__)


# ---------------------------------------------------------------- one_hot


def test_one_hot() -> None:
    encoded = one_hot([2, 0, 1, 2])
    assert encoded.dtype == np.float64
    assert np.array_equal(encoded, np.eye(3)[[2, 0, 1, 2]])
    assert np.array_equal(one_hot(np.array([[1], [0]], dtype=np.uint8)), [[0, 1], [1, 0]])
    assert np.array_equal(one_hot([1.0, 0.0], num_classes=4), [[0, 1, 0, 0], [1, 0, 0, 0]])
    assert one_hot([], num_classes=3).shape == (0, 3)
    y = datasets.load_iris()[1]
    assert np.array_equal(one_hot(y).argmax(axis=1), y) and one_hot(y).sum() == len(y)


@pytest.mark.parametrize(
    "y, kwargs, message",
    [
        ([0, -1, 2], {}, r"non-negative integers, got y\[1\] = -1"),
        ([0, 1.5], {}, r"got y\[1\] = 1.5"),
        ([0.0, np.nan], {}, r"got y\[1\] = nan"),
        ([True, False], {}, "got an array of dtype bool"),
        (["a", "b"], {}, "got an array of dtype <U1"),
        ([0, 3, 1], {"num_classes": 3}, r"y\[1\] = 3 is not below num_classes=3"),
        ([[0, 1], [1, 0]], {}, r"1-D array of class labels .* got shape \(2, 2\)"),
        ([], {}, "y is empty; pass num_classes"),
        ([[0], [1, 2]], {}, "y must be a 1-D array of class labels"),
        ([0, 1], {"num_classes": 0}, "num_classes must be an int >= 1"),
        ([0, 1], {"num_classes": 2.0}, "num_classes must be an int >= 1"),
    ],
)
def test_one_hot_errors(y: object, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        one_hot(y, **kwargs)


# ---------------------------------------------------------------- stratify

IMBALANCED = np.array([0] * 80 + [1] * 15 + [2] * 5)


@pytest.mark.parametrize("test_size", [0.25, 0.1, 0.5, 0.33, 7, 40])
@pytest.mark.parametrize("random_state", [0, 1])
def test_stratify_keeps_class_proportions(test_size: float, random_state: int) -> None:
    n = len(IMBALANCED)
    X = np.arange(2.0 * n).reshape(n, 2)
    X_train, X_test, y_train, y_test = train_test_split(
        X, IMBALANCED, test_size=test_size, random_state=random_state, stratify=IMBALANCED
    )
    plain = train_test_split(IMBALANCED, test_size=test_size, random_state=random_state)
    assert len(y_test) == len(plain[1]) and len(y_train) == len(plain[0])
    sizes = np.bincount(IMBALANCED)
    exact = sizes * len(y_test) / n
    in_test = np.bincount(y_test, minlength=3)
    assert (np.abs(in_test - exact) < 1).all(), (in_test, exact)
    assert np.array_equal(in_test + np.bincount(y_train, minlength=3), sizes)
    # the same rows in every array, each row in exactly one part
    rows = np.concatenate([X_train[:, 0], X_test[:, 0]]) // 2
    assert sorted(rows.astype(int).tolist()) == list(range(n))
    assert np.array_equal(IMBALANCED[(X_test[:, 0] // 2).astype(int)], y_test)


def test_stratify_test_counts() -> None:
    _, y_test = train_test_split(IMBALANCED, test_size=0.25, random_state=0, stratify=IMBALANCED)
    assert np.bincount(y_test).tolist() == [20, 4, 1]  # 20, 3.75, 1.25 -> 25 in all
    _, y_test = train_test_split(IMBALANCED, test_size=0.1, random_state=0, stratify=IMBALANCED)
    assert np.bincount(y_test).tolist() == [
        8,
        1,
        1,
    ]  # 8, 1.5, 0.5: the tie goes to the class with fewer


def test_stratify_rounds_each_share_down_or_up() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        k = int(rng.integers(2, 6))
        y = np.repeat(np.arange(k), rng.integers(2, 30, size=k))
        n = len(y)
        n_test = int(rng.integers(k, n - k + 1))
        y_train, y_test = train_test_split(y, test_size=n_test, random_state=0, stratify=y)
        assert len(y_test) == n_test
        exact = np.bincount(y) * n_test / n
        in_test = np.bincount(y_test, minlength=k)
        assert (np.floor(exact) <= in_test).all() and (in_test <= np.ceil(exact)).all()


def test_stratify_keeps_a_training_row_when_it_can() -> None:
    # shares 1.5, 1.5 and 6: one row is rounded up, from a class of 2 (the third's share
    # is whole), and the other class of 2 keeps a training row
    y = np.array([0, 0, 1, 1] + [2] * 8)
    y_train, y_test = train_test_split(y, test_size=9, random_state=0, stratify=y)
    assert np.bincount(y_test).tolist() == [2, 1, 6]
    # shares 1.67 (of 2) and 8.33 (of 10): the class of 2 keeps its training row although
    # its remainder is the larger
    y = np.array([0, 0] + [1] * 10)
    y_train, y_test = train_test_split(y, test_size=10, random_state=0, stratify=y)
    assert np.bincount(y_test).tolist() == [1, 9]
    assert np.bincount(y_train).tolist() == [1, 1]


@pytest.mark.parametrize("test_size", [0.25, 0.35, 0.15, 33])
def test_stratify_class_counts_match_sklearn(test_size: float) -> None:
    """Where no rounding tie arises, each class gives as many test rows as with
    scikit-learn (the rows themselves are drawn differently)."""
    sk_split = sklearn_module("sklearn.model_selection").train_test_split

    ours = train_test_split(IMBALANCED, test_size=test_size, random_state=0, stratify=IMBALANCED)
    theirs = sk_split(IMBALANCED, test_size=test_size, random_state=0, stratify=IMBALANCED)
    for a, b in zip(ours, theirs):
        assert np.bincount(a).tolist() == np.bincount(b).tolist()


def test_stratify_is_reproducible_and_shuffled() -> None:
    X = np.arange(100)
    first = train_test_split(X, random_state=5, stratify=IMBALANCED)
    again = train_test_split(X, random_state=np.random.RandomState(5), stratify=IMBALANCED)
    other = train_test_split(X, random_state=6, stratify=IMBALANCED)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])
    assert not np.array_equal(np.sort(first[1]), first[1])  # not grouped by class


def test_stratify_without_shuffle_takes_each_class_s_last_rows() -> None:
    y = np.array([0, 1, 0, 0, 1, 0, 1, 1, 0, 0])
    train, test = train_test_split(np.arange(10), test_size=0.4, shuffle=False, stratify=y)
    assert test.tolist() == [6, 7, 8, 9] and train.tolist() == [0, 1, 2, 3, 4, 5]


def test_stratify_with_one_hot_rows() -> None:
    labels = train_test_split(IMBALANCED, random_state=3, stratify=IMBALANCED)
    rows = train_test_split(IMBALANCED, random_state=3, stratify=one_hot(IMBALANCED))
    assert [np.bincount(p).tolist() for p in labels] == [np.bincount(p).tolist() for p in rows]


@pytest.mark.parametrize(
    "stratify, kwargs, message",
    [
        (np.array([0] * 10 + [7]), {}, "class 7 of stratify has only 1 member"),
        (np.array(["a"] * 10 + ["rare"]), {}, "class 'rare' of stratify has only 1 member"),
        (np.zeros(10), {}, r"one class label per sample \(11\), got shape \(10,\)"),
        (np.zeros((11, 2, 2)), {}, "one class label per sample"),
        (np.array([0] * 5 + [1] * 3 + [2] * 3), {"test_size": 2}, "at least one row per class"),
        (np.array([0] * 5 + [1] * 3 + [2] * 3), {"test_size": 9}, "training part"),
    ],
)
def test_stratify_errors(stratify: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_test_split(np.arange(11), stratify=stratify, random_state=0, **kwargs)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (
            {"test_size": 0.3, "random_state": 42},
            [[11, 3, 18, 16, 13, 2, 9, 19, 4, 12, 7, 10, 14, 6], [0, 17, 15, 1, 8, 5]],
        ),
        (
            {"test_size": 7, "random_state": 0},
            [[13, 4, 2, 5, 14, 9, 7, 16, 11, 3, 0, 15, 12], [18, 1, 19, 8, 10, 17, 6]],
        ),
        ({"test_size": 0.25, "shuffle": False}, [list(range(15)), [15, 16, 17, 18, 19]]),
    ],
)
def test_split_without_stratify_is_unchanged(kwargs: dict, expected: list) -> None:
    """What train_test_split returned before stratify was added."""
    extras: list[dict[str, Any]] = [{}, {"stratify": None}]
    for extra in extras:
        parts = train_test_split(np.arange(20), **kwargs, **extra)
        assert [p.tolist() for p in parts] == expected

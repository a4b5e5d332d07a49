"""Toy data sets, train/test splits and shuffled minibatches (numpy only).

``make_moons``, ``make_circles`` and ``make_blobs`` take scikit-learn's arguments and,
drawing from numpy's legacy ``RandomState`` in the same order, return bit-identical arrays
for the same ``random_state``, which may be an int seed, a ``np.random.RandomState`` (which
is advanced) or None (numpy's global RandomState, as seeded by ``np.random.seed``).
``train_test_split`` picks the same rows as scikit-learn's for a given ``test_size``, and
with ``stratify=y`` splits each class in the same proportion.
Every generator returns ``X`` (n, features) of floats and ``y`` (n,) of int labels.

Also here, from :mod:`micrograd_like.example_data` and :mod:`micrograd_like.preprocessing`:
the offline example data sets ``load_iris``, ``load_digits``, ``load_wine``,
``load_breast_cancer``, the MNIST reader ``load_mnist``, ``Standardizer`` and ``one_hot``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeGuard, cast

import numpy as np

from .checks import count, flag, nonnegative_number, positive_number, seed
from .example_data import load_breast_cancer, load_digits, load_iris, load_mnist, load_wine
from .preprocessing import Standardizer, one_hot

__all__ = [
    "Standardizer",
    "iterate_minibatches",
    "load_breast_cancer",
    "load_digits",
    "load_iris",
    "load_mnist",
    "load_wine",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spiral",
    "make_xor",
    "one_hot",
    "train_test_split",
]

RandomStateLike = int | np.random.RandomState | None


# ---------------------------------------------------------------- argument checks


def _random_state(random_state: RandomStateLike) -> np.random.RandomState:
    """A RandomState: a new one seeded with an int, the one given, or numpy's global one."""
    if random_state is None:
        return np.random.mtrand._rand  # the generator behind np.random.seed / np.random.*
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if _is_int(random_state):
        return np.random.RandomState(seed(random_state, "random_state"))
    raise TypeError(
        f"random_state must be an int, a numpy RandomState or None, got {random_state!r}"
    )


def _is_int(value: object) -> TypeGuard[numbers.Integral]:
    """Whether ``value`` is an int (a numpy integer too), not a bool: which of an argument's
    forms it is (the value itself is checked by :mod:`micrograd_like.checks`)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _two_groups(n_samples: object, name: str) -> tuple[int, int]:
    """An int n -> (n // 2, n - n // 2); a pair (n_outer, n_inner) is taken as given."""
    if _is_int(n_samples):
        n = count(n_samples, f"{name}: n_samples")
        return n // 2, n - n // 2
    if isinstance(n_samples, (tuple, list)) and len(n_samples) == 2:
        n_outer = count(n_samples[0], f"{name}: n_samples[0]", minimum=0)
        n_inner = count(n_samples[1], f"{name}: n_samples[1]", minimum=0)
        if n_outer + n_inner >= 1:
            return n_outer, n_inner
    raise ValueError(
        f"{name}: n_samples must be an int >= 1 or a pair (n_outer, n_inner) of ints >= 0 "
        f"with a positive sum, got {n_samples!r}"
    )


def _balanced_counts(n: int, k: int) -> list[int]:
    """n split into k groups: n // k each, one more for the first n % k groups."""
    return [n // k + (i < n % k) for i in range(k)]


def _shuffle_and_jitter(
    X: np.ndarray, y: np.ndarray, shuffle: bool, noise: float | None, rs: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Permute the rows (if shuffle), then add Gaussian noise of std ``noise`` (if not None):
    the order in which scikit-learn draws them."""
    if shuffle:
        order = rs.permutation(len(X))
        X, y = X[order], y[order]
    if noise is not None:
        X = X + rs.normal(scale=noise, size=X.shape)
    return X, y


def _group_labels(counts: Sequence[int]) -> np.ndarray:
    """0 repeated counts[0] times, then 1 repeated counts[1] times, ..."""
    return np.repeat(np.arange(len(counts), dtype=np.intp), counts)


# ---------------------------------------------------------------- scikit-learn's generators


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: label 0 at (cos t, sin t), label 1 at
    (1 - cos t, 1/2 - sin t), t evenly spaced in [0, pi] (n // 2 outer points, the rest
    inner, or a pair (n_outer, n_inner)); then optional shuffling and Gaussian noise."""
    n_outer, n_inner = _two_groups(n_samples, "make_moons")
    noise = None if noise is None else nonnegative_number(noise, "noise")
    shuffle = flag(shuffle, "shuffle")
    rs = _random_state(random_state)
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    X = np.column_stack(
        [
            np.append(np.cos(t_outer), 1 - np.cos(t_inner)),
            np.append(np.sin(t_outer), 1 - np.sin(t_inner) - 0.5),
        ]
    )
    return _shuffle_and_jitter(X, _group_labels([n_outer, n_inner]), shuffle, noise, rs)


def make_circles(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomStateLike = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 1 (label 0) around one of radius ``factor`` in [0, 1) (label 1),
    points at angles evenly spaced in [0, 2 pi); then optional shuffling and noise."""
    n_outer, n_inner = _two_groups(n_samples, "make_circles")
    noise = None if noise is None else nonnegative_number(noise, "noise")
    shuffle = flag(shuffle, "shuffle")
    factor = nonnegative_number(factor, "make_circles: factor", below=1)
    rs = _random_state(random_state)
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    X = np.column_stack(
        [
            np.append(np.cos(t_outer), np.cos(t_inner) * factor),
            np.append(np.sin(t_outer), np.sin(t_inner) * factor),
        ]
    )
    return _shuffle_and_jitter(X, _group_labels([n_outer, n_inner]), shuffle, noise, rs)


def make_blobs(
    n_samples: int | Sequence[int] = 100,
    n_features: int = 2,
    *,
    centers: int | Any | None = None,
    cluster_std: float | Sequence[float] = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: RandomStateLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian clusters: cluster i has label i, points drawn from
    N(centers[i], cluster_std[i]^2 I). ``centers``: an int k (centers drawn uniformly in
    ``center_box``; 3 by default) or a (k, n_features) array. ``n_samples``: a total split
    evenly (the first n % k clusters get one more) or one count per cluster."""
    rs = _random_state(random_state)
    n_features = count(n_features, "make_blobs: n_features")
    shuffle = flag(shuffle, "shuffle")
    counts = _blob_counts(n_samples)
    centers = _blob_centers(centers, counts, n_features, center_box, rs)
    k = len(centers)
    counts = _balanced_counts(counts, k) if isinstance(counts, int) else counts
    if len(counts) != k:
        raise ValueError(
            f"make_blobs: n_samples gives {len(counts)} cluster sizes but there are {k} centers"
        )
    stds = _blob_stds(cluster_std, k)
    X = np.concatenate(
        [
            rs.normal(loc=center, scale=std, size=(count, centers.shape[1]))
            for center, std, count in zip(centers, stds, counts)
        ]
    )
    return _shuffle_and_jitter(X, _group_labels(counts), shuffle, None, rs)


def _blob_counts(n_samples: object) -> int | list[int]:
    """The total (an int >= 1) or the list of per-cluster sizes (ints >= 0, sum >= 1)."""
    if _is_int(n_samples):
        return count(n_samples, "make_blobs: n_samples")
    counts: list[int] = []
    if isinstance(n_samples, Iterable):
        try:
            counts = [count(c, "make_blobs: each cluster size", minimum=0) for c in n_samples]
        except TypeError:
            counts = []
    if sum(counts) < 1:
        raise ValueError(
            "make_blobs: n_samples must be an int >= 1 or a sequence of cluster sizes "
            f"(ints >= 0, at least one positive), got {n_samples!r}"
        )
    return counts


def _blob_centers(
    centers: object,
    counts: int | list[int],
    n_features: int,
    center_box: object,
    rs: np.random.RandomState,
) -> np.ndarray:
    """The (k, features) centers: given, or k drawn uniformly in center_box."""
    if centers is None:
        k = 3 if isinstance(counts, int) else len(counts)
    elif _is_int(centers):
        if not isinstance(counts, int):
            raise ValueError(
                "make_blobs: with one size per cluster in n_samples, centers must be None "
                f"or an array of centers, got {centers!r}"
            )
        k = count(centers, "make_blobs: centers")
    else:
        try:
            array = np.asarray(centers, dtype=float)
        except (TypeError, ValueError):
            array = np.empty(0)
        if array.ndim != 2 or array.size == 0 or not np.isfinite(array).all():
            raise ValueError(
                "make_blobs: centers must be an int >= 1 or a non-empty (n_centers, "
                f"n_features) array of finite numbers, got {centers!r}"
            )
        return array
    low, high = _box(center_box)
    return rs.uniform(low, high, size=(k, n_features))


def _box(center_box: object) -> tuple[float, float]:
    low = high = math.nan
    if isinstance(center_box, Iterable):
        try:
            low, high = (float(v) for v in center_box)
        except (TypeError, ValueError):
            low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(
            f"make_blobs: center_box must be a pair (low, high) with low < high, got {center_box!r}"
        )
    return low, high


def _blob_stds(cluster_std: object, k: int) -> np.ndarray:
    """One standard deviation (finite, >= 0) per cluster."""
    try:
        stds = np.asarray(cluster_std, dtype=float)
    except (TypeError, ValueError):
        stds = np.full(1, math.nan)
    if stds.ndim == 0:
        stds = np.full(k, float(stds))
    if stds.shape != (k,) or not (np.isfinite(stds) & (stds >= 0)).all():
        raise ValueError(
            f"make_blobs: cluster_std must be a finite number >= 0 or one per center ({k}), "
            f"got {cluster_std!r}"
        )
    return stds


# ---------------------------------------------------------------- more toy problems


def make_xor(
    n_samples: int = 200, *, noise: float = 0.0, random_state: RandomStateLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in the square [-1, 1)^2, label 1 where exactly one coordinate is
    positive (the XOR of the signs), else 0; then Gaussian noise of std ``noise`` is added
    to the points (labels keep the clean quadrant)."""
    n = count(n_samples, "make_xor: n_samples")
    noise = nonnegative_number(noise, "make_xor: noise")
    rs = _random_state(random_state)
    X = rs.uniform(-1.0, 1.0, size=(n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.intp)
    if noise > 0:
        X = X + rs.normal(scale=noise, size=X.shape)
    return X, y


def make_spiral(
    n_samples: int = 300,
    n_classes: int = 3,
    *,
    noise: float = 0.2,
    random_state: RandomStateLike = None,
    shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """K interleaved spiral arms, one per class (cs231n's example): in arm j, point i of N
    has radius r = i / (N - 1) and angle t = 2 pi j / K + 4 r + noise * N(0, 1), at
    (r sin t, r cos t). The classes get n // K points each (one more for the first
    n % K); rows are shuffled unless ``shuffle=False`` (then ordered by class)."""
    k = count(n_classes, "make_spiral: n_classes")
    n = count(n_samples, "make_spiral: n_samples", minimum=k)
    noise = nonnegative_number(noise, "make_spiral: noise")
    shuffle = flag(shuffle, "shuffle")
    rs = _random_state(random_state)
    counts = _balanced_counts(n, k)
    radius = np.concatenate([np.linspace(0.0, 1.0, count) for count in counts])
    y = _group_labels(counts)
    angle = 2 * np.pi * y / k + 4 * radius + noise * rs.standard_normal(n)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return _shuffle_and_jitter(X, y, shuffle, None, rs)


# ---------------------------------------------------------------- splits and batches


def _same_length_arrays(arrays: Sequence[Any], name: str) -> list[np.ndarray]:
    arrays = [np.asarray(a) for a in arrays]
    for i, a in enumerate(arrays):
        if a.ndim == 0:
            raise ValueError(f"{name}: argument {i} is a scalar, not an array of samples")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"{name}: the arrays have different numbers of samples: {lengths}")
    return arrays


def train_test_split(
    *arrays: Any,
    test_size: float | int = 0.25,
    shuffle: bool = True,
    random_state: RandomStateLike = None,
    stratify: Any = None,
) -> list[np.ndarray]:
    """Split each array's rows into a training and a test part, the same rows for every
    array: ``X_train, X_test, y_train, y_test = train_test_split(X, y)``.

    ``test_size``: a fraction in (0, 1) (ceil(test_size * n) test rows) or a number of
    rows. With ``shuffle`` the test rows are the first n_test of a random permutation and
    the training rows the rest (scikit-learn's choice); without, the last n_test rows.

    ``stratify``: class labels, one per row (usually ``y``; for 2-D labels such as one-hot
    rows, each distinct row is a class). Each class then gets its share of the n_test test
    rows, n_test * class size / n, rounded down or up so that the shares add up to n_test:
    the largest remainders are rounded up, except that a class keeps a training row when
    another class can be rounded up instead, and a tie goes to the class with fewer test
    rows. Every class needs at least 2 members, and each part at least as many rows as
    there are classes. With ``shuffle`` the rows of each class are drawn at random (not
    the rows scikit-learn would pick) and each part is shuffled; without, each class gives
    its last rows to the test part and both parts keep the original order.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    checked = _same_length_arrays(arrays, "train_test_split")
    n = len(checked[0])
    n_test = _test_count(test_size, n)
    if stratify is not None:
        train, test = _stratified_rows(stratify, n, n_test, flag(shuffle, "shuffle"), random_state)
    elif shuffle:
        order = _random_state(random_state).permutation(n)
        train, test = order[n_test:], order[:n_test]
    else:
        train, test = np.arange(n - n_test), np.arange(n - n_test, n)
    return [part for a in checked for part in (a[train], a[test])]


def _stratified_rows(
    stratify: Any, n: int, n_test: int, shuffle: bool, random_state: RandomStateLike
) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows) with each class of ``stratify`` split in proportion."""
    labels = np.asarray(stratify)
    if labels.ndim not in (1, 2) or len(labels) != n:
        got = f"shape {labels.shape}"
        raise ValueError(
            f"train_test_split: stratify must hold one class label per sample ({n}), got {got}"
        )
    try:
        classes, inverse, sizes = np.unique(
            labels, axis=0 if labels.ndim == 2 else None, return_inverse=True, return_counts=True
        )
    except TypeError:
        raise ValueError("train_test_split: the stratify labels cannot be compared") from None
    inverse = inverse.reshape(-1)
    k = len(classes)
    for label, size in zip(classes, sizes):
        if size < 2:
            shown = label.tolist()  # a plain int or str (a list for a 2-D label)
            raise ValueError(
                f"train_test_split: class {shown!r} of stratify has only {size} member; each "
                "class needs at least 2, one for the training and one for the test part"
            )
    if not k <= n_test <= n - k:
        raise ValueError(
            f"train_test_split: with stratify, the test part ({n_test} rows) and the training "
            f"part ({n - n_test} rows) must each have at least one row per class ({k} classes)"
        )
    # Each class's exact share n_test * size / n, rounded down; the rows still missing go
    # to classes with a fractional share: first those that keep a training row when rounded
    # up, by largest remainder, then fewer test rows, then class order.
    share, remainder = np.divmod(sizes * n_test, n)
    empties_train = share + 1 >= sizes

    def priority(i: int) -> tuple[bool, bool, int, int, int]:
        return (remainder[i] == 0, bool(empties_train[i]), -remainder[i], share[i], i)

    order = sorted(range(k), key=priority)
    share[order[: n_test - int(share.sum())]] += 1
    rs = _random_state(random_state) if shuffle else None
    trains, tests = [], []
    # each class's rows in increasing order, from one stable sort (not a scan per class)
    by_class = np.split(np.argsort(inverse, kind="stable"), np.cumsum(sizes)[:-1])
    for i, rows in enumerate(by_class):
        if rs is not None:
            rows = rs.permutation(rows)
            tests.append(rows[: share[i]])
            trains.append(rows[share[i] :])
        else:
            tests.append(rows[len(rows) - share[i] :])
            trains.append(rows[: len(rows) - share[i]])
    train, test = np.concatenate(trains), np.concatenate(tests)
    if rs is not None:
        return rs.permutation(train), rs.permutation(test)
    return np.sort(train), np.sort(test)


def _test_count(test_size: object, n: int) -> int:
    """The number of test rows; both parts must be non-empty."""
    if _is_int(test_size):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, bool):
        positive_number(test_size, "train_test_split: a fractional test_size", below=1)
        # a real number times an int is a real number; ceil gives an integral
        n_test = int(math.ceil(cast(numbers.Real, test_size * n)))
    else:
        raise ValueError(
            f"train_test_split: test_size must be a fraction in (0, 1) or a number of rows, "
            f"got {test_size!r}"
        )
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} gives {n_test} test row(s) of {n}; "
            "the training and the test part must both be non-empty"
        )
    return n_test


def iterate_minibatches(
    X: Any,
    y: Any,
    batch_size: int | None = None,
    *,
    shuffle: bool = True,
    rng: np.random.Generator | int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X_batch, y_batch)`` pairs covering every row once: batches of
    ``batch_size`` rows (the last may be smaller), or one batch of all rows for None (the
    lecture's batch mode). With ``shuffle`` the rows are visited in the order of
    ``rng.permutation(n)`` (``rng``: a numpy Generator, advanced at each call, or an int
    seed); it is drawn when this function is called."""
    X, y = _same_length_arrays([X, y], "iterate_minibatches")
    n = len(X)
    size = n if batch_size is None else count(batch_size, "iterate_minibatches: batch_size")
    if shuffle:
        order = _generator(rng).permutation(n)
    else:
        order = np.arange(n)
    return _batches(X, y, order, max(size, 1))


def _generator(rng: object) -> np.random.Generator:
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if _is_int(rng) and int(rng) >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator, an int seed >= 0 or None, got {rng!r}")


def _batches(
    X: np.ndarray, y: np.ndarray, order: np.ndarray, size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        yield X[rows], y[rows]

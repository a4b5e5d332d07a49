"""Example data sets that work offline, and a reader for MNIST files you already have.

``load_iris``, ``load_digits``, ``load_wine`` and ``load_breast_cancer`` return ``(X, y)``:
``X`` a float64 array (samples, features), ``y`` the integer class labels. The arrays are
read from small archives shipped inside the package (``micrograd_like/data/*.npz``, no
pickles), exported from scikit-learn's bundled copies, so they equal what
``sklearn.datasets.load_<name>(return_X_y=True)`` returns, without needing scikit-learn or a
network. ``micrograd_like/data/README.md`` gives the sources and licences.

``load_mnist(path)`` reads MNIST from files you downloaded yourself: Keras' ``mnist.npz`` or
a directory holding the four IDX files of the original distribution (plain or gzipped), and
returns them as Keras does, ``((x_train, y_train), (x_test, y_test))``. Nothing is
downloaded, every file is checked before its content is trusted, and nothing is unpickled.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import stat
import zipfile
import zlib
from importlib import resources
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

from .checks import count, flag

__all__ = [
    "DEFAULT_MNIST_MAX_BYTES",
    "load_breast_cancer",
    "load_digits",
    "load_iris",
    "load_mnist",
    "load_wine",
]

Split = tuple[np.ndarray, np.ndarray]

DEFAULT_MNIST_MAX_BYTES = 200 * 1024 * 1024
"""``load_mnist``'s default limit, per file, on both its size and its decompressed content
(the full MNIST is about 55 MB uncompressed)."""


# ---------------------------------------------------------------- bundled example data

# name -> (samples, features, classes): what each shipped archive must hold
_BUNDLED = {
    "iris": (150, 4, 3),
    "digits": (1797, 64, 10),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
}


def _bundled(name: str, return_X_y: object) -> tuple[np.ndarray, np.ndarray]:
    """The (X, y) arrays of the archive ``micrograd_like/data/<name>.npz``."""
    if not flag(return_X_y, f"load_{name}: return_X_y"):
        raise ValueError(
            f"load_{name}: return_X_y=False is not supported: this function returns the pair "
            "(X, y) of numpy arrays only; a scikit-learn Bunch (with feature names and a "
            "description) is not offered"
        )
    shown = f"micrograd_like/data/{name}.npz"
    resource = resources.files("micrograd_like") / "data" / f"{name}.npz"
    try:
        with resource.open("rb") as file, np.load(file, allow_pickle=False) as archive:
            X, y = archive["X"], archive["y"]
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the example data file {shown} is missing; reinstall micrograd_like"
        ) from None
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(
            f"the example data file {shown} is damaged ({error}); reinstall micrograd_like"
        ) from None
    n, features, classes = _BUNDLED[name]
    if (
        X.shape != (n, features)
        or X.dtype != np.float64
        or y.shape != (n,)
        or y.dtype.kind not in "iu"
        or not set(np.unique(y).tolist()) <= set(range(classes))
    ):
        raise ValueError(
            f"the example data file {shown} does not hold the expected arrays X "
            f"({n}, {features}) float64 and y ({n},) of labels 0..{classes - 1} "
            f"(found X {X.shape} {X.dtype}, y {y.shape} {y.dtype}); reinstall micrograd_like"
        )
    # scikit-learn's labels have numpy's default int type (int64, except int32 on Windows
    # with numpy < 2); the archives store int64.
    return X, y.astype(np.dtype(int), copy=False)


def load_iris(*, return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris flowers: ``X`` (150, 4) float64, the sepal length, sepal width, petal
    length and petal width in cm; ``y`` (150,) labels 0, 1, 2 (setosa, versicolor,
    virginica), 50 of each.

    Equal to ``sklearn.datasets.load_iris(return_X_y=True)``. ``return_X_y=True`` is
    accepted, and ignored, for scikit-learn habit; ``False`` (a Bunch) is refused.
    """
    return _bundled("iris", return_X_y)


def load_digits(*, return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Handwritten digits: ``X`` (1797, 64) float64, 8x8 images flattened row by row, each
    pixel a count from 0 to 16; ``y`` (1797,) the digits 0 to 9.

    Equal to ``sklearn.datasets.load_digits(return_X_y=True)`` (all ten classes).
    ``return_X_y=True`` is accepted, and ignored; ``False`` (a Bunch) is refused.
    """
    return _bundled("digits", return_X_y)


def load_wine(*, return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Wines: ``X`` (178, 13) float64, results of a chemical analysis; ``y`` (178,) labels
    0, 1, 2, the cultivar (59, 71 and 48 wines).

    Equal to ``sklearn.datasets.load_wine(return_X_y=True)``. ``return_X_y=True`` is
    accepted, and ignored; ``False`` (a Bunch) is refused.
    """
    return _bundled("wine", return_X_y)


def load_breast_cancer(*, return_X_y: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Breast Cancer Wisconsin (Diagnostic): ``X`` (569, 30) float64, features of cell
    nuclei measured in images of breast masses; ``y`` (569,) labels 0 = malignant (212),
    1 = benign (357).

    Equal to ``sklearn.datasets.load_breast_cancer(return_X_y=True)``. ``return_X_y=True``
    is accepted, and ignored; ``False`` (a Bunch) is refused.
    """
    return _bundled("breast_cancer", return_X_y)


# ---------------------------------------------------------------- MNIST from local files

_SIDE = 28  # MNIST images are 28 x 28 pixels
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_IDX_MAGIC = {"images": 0x00000803, "labels": 0x00000801}  # unsigned bytes, 3 or 1 dims
# (split, kind) -> the spellings of its IDX file, each also tried with ".gz"
_IDX_NAMES = {
    ("train", "images"): ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    ("train", "labels"): ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    ("test", "images"): ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}
_EXPECTED = (
    "Keras' mnist.npz (arrays x_train, y_train, x_test, y_test) or a directory holding the "
    "four MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz)"
)


def load_mnist(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MNIST_MAX_BYTES
) -> tuple[Split, Split]:
    """MNIST from files you already have: ``((x_train, y_train), (x_test, y_test))``, as
    Keras' ``mnist.load_data()`` returns it: images uint8 (n, 28, 28), labels uint8 (n,).

    ``path`` is either Keras' ``mnist.npz`` file or a directory holding the four IDX files
    ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte`` (also spelt ``train-images.idx3-ubyte`` and so on), each
    plain or gzipped (``.gz``; a plain file is taken first when both are present).

    Each file must be a regular file of at most ``max_bytes`` bytes, and decompress to at
    most that much. The content is checked: IDX magic numbers (0x00000803 for images,
    0x00000801 for labels), 28x28 images, a size that matches the header exactly, labels
    0 to 9, and as many labels as images in each split. A missing file raises
    FileNotFoundError, anything else wrong ValueError, naming the file and what was
    expected. Nothing is downloaded and nothing is unpickled.
    """
    max_bytes = count(max_bytes, "load_mnist: max_bytes")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"load_mnist: path must be a str or a path, got {path!r}")
    where = Path(os.fspath(path))
    try:
        mode = os.stat(where).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(
            f"load_mnist: {where} does not exist; expected {_EXPECTED}"
        ) from None
    except OSError as error:
        raise ValueError(f"load_mnist: cannot read {where}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        return _mnist_from_directory(where, max_bytes)
    if stat.S_ISREG(mode):
        return _mnist_from_npz(where, max_bytes)
    raise ValueError(
        f"load_mnist: {where} is not a regular file or a directory; expected {_EXPECTED}"
    )


def _open_regular(path: Path, max_bytes: int) -> IO[bytes]:
    """``path`` opened for reading, once it is known to be a regular file of at most
    ``max_bytes`` bytes: checked before opening, so that a FIFO or a device is never
    opened, and again on the open file."""
    try:
        _check_regular(path, os.stat(path), max_bytes)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"load_mnist: {path} does not exist") from None
    except OSError as error:
        raise ValueError(f"load_mnist: cannot read {path}: {error.strerror or error}") from None
    try:
        _check_regular(path, os.fstat(fd), max_bytes)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_regular(path: Path, info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"load_mnist: {path} is not a regular file")
    if info.st_size > max_bytes:
        raise ValueError(
            f"load_mnist: {path} is {info.st_size:,} bytes, more than "
            f"max_bytes={max_bytes:,}; pass a larger max_bytes if the file is trusted"
        )


def _mnist_from_directory(directory: Path, max_bytes: int) -> tuple[Split, Split]:
    found: dict[tuple[str, str], Path] = {}
    missing = []
    for role, names in _IDX_NAMES.items():
        candidates = [directory / (name + suffix) for name in names for suffix in ("", ".gz")]
        present = [candidate for candidate in candidates if os.path.lexists(candidate)]
        if present:
            found[role] = present[0]
        else:
            missing.append(f"{names[0]} (or {', '.join(c.name for c in candidates[1:])})")
    if missing:
        raise FileNotFoundError(
            f"load_mnist: {directory} has no {' and no '.join(missing)}; expected {_EXPECTED}"
        )
    splits = []
    for split in ("train", "test"):
        images_path, labels_path = found[(split, "images")], found[(split, "labels")]
        images = _parse_idx(_read_idx_file(images_path, max_bytes), images_path, "images")
        labels = _parse_idx(_read_idx_file(labels_path, max_bytes), labels_path, "labels")
        if len(images) != len(labels):
            raise ValueError(
                f"load_mnist: {images_path} holds {len(images):,} images but {labels_path} "
                f"holds {len(labels):,} labels; expected one label per image"
            )
        splits.append((images, labels))
    return splits[0], splits[1]


def _read_idx_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of an IDX file, gunzipped when it is a gzip file (at most max_bytes)."""
    try:
        with _open_regular(path, max_bytes) as file:
            raw = file.read(max_bytes + 1)
    except OSError as error:
        raise ValueError(f"load_mnist: cannot read {path}: {error.strerror or error}") from None
    if len(raw) > max_bytes:  # the file grew after it was checked
        raise ValueError(f"load_mnist: {path} is more than max_bytes={max_bytes:,} bytes")
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                data = unzipped.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
            raise ValueError(
                f"load_mnist: {path} is not a valid gzip file (corrupt or truncated: {error})"
            ) from None
        if len(data) > max_bytes:
            raise ValueError(
                f"load_mnist: {path} decompresses to more than max_bytes={max_bytes:,} bytes"
            )
        return data
    if path.name.endswith(".gz") and raw[:2] != b"\x00\x00":
        raise ValueError(
            f"load_mnist: {path} is not a gzip file (it does not start with the gzip "
            "signature 1f 8b) nor a plain IDX file"
        )
    return raw  # a plain IDX file (also when a browser already unzipped a ".gz" download)


def _parse_idx(data: bytes, path: Path, kind: str) -> np.ndarray:
    """The uint8 array of an IDX file: images (n, 28, 28) or labels (n,) in 0..9."""
    ndim = 3 if kind == "images" else 1
    magic = _IDX_MAGIC[kind]
    header = 4 + 4 * ndim
    what = f"an IDX {kind} file (magic number 0x{magic:08X})"
    if len(data) < 4:
        raise ValueError(f"load_mnist: {path} has only {len(data)} byte(s); expected {what}")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        other = {v: k for k, v in _IDX_MAGIC.items()}.get(found)
        note = f", that of an IDX {other} file" if other else ""
        raise ValueError(
            f"load_mnist: {path} has the magic number 0x{found:08X}{note}; expected {what}"
        )
    if len(data) < header:
        raise ValueError(
            f"load_mnist: {path} is truncated: {len(data)} bytes, less than its "
            f"{header}-byte header; expected {what}"
        )
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if kind == "images" and dims[1:] != [_SIDE, _SIDE]:
        raise ValueError(
            f"load_mnist: {path} holds images of {dims[1]}x{dims[2]} pixels; "
            f"expected {_SIDE}x{_SIDE}"
        )
    expected = math.prod(dims)
    body = len(data) - header
    if body != expected:
        problem = "is truncated" if body < expected else "has extra bytes at the end"
        shape = f"{dims[0]:,} images of {_SIDE}x{_SIDE}" if ndim == 3 else f"{dims[0]:,} labels"
        raise ValueError(
            f"load_mnist: {path} {problem}: {body:,} bytes of data after the header, "
            f"expected exactly {expected:,} for {shape}"
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()
    if kind == "labels":
        _check_labels(array, f"{path}")
    return array


def _check_labels(labels: np.ndarray, where: str) -> None:
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise ValueError(
            f"load_mnist: {where} has the label {labels[bad[0]]} at index {bad[0]:,}; "
            "expected digits 0 to 9"
        )


def _mnist_from_npz(path: Path, max_bytes: int) -> tuple[Split, Split]:
    with _open_regular(path, max_bytes) as file:
        if file.read(4) != b"PK\x03\x04":
            raise ValueError(
                f"load_mnist: {path} is not an .npz (zip) archive; expected {_EXPECTED}"
            )
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                arrays = _npz_arrays(archive, path, max_bytes)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as error:
            raise ValueError(f"load_mnist: {path} is a damaged zip archive ({error})") from None
    splits = []
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y):
            raise ValueError(
                f"load_mnist: {path} holds {len(x):,} images in x_{split} but {len(y):,} "
                f"labels in y_{split}; expected one label per image"
            )
        splits.append((x, y))
    return splits[0], splits[1]


def _npz_arrays(archive: zipfile.ZipFile, path: Path, max_bytes: int) -> dict[str, np.ndarray]:
    """x_train, y_train, x_test, y_test from the archive, checked and as uint8."""
    members = {info.filename: info for info in archive.infolist()}
    missing = [key for key in _NPZ_KEYS if f"{key}.npy" not in members]
    if missing:
        held = sorted(name.removesuffix(".npy") for name in members)
        raise ValueError(
            f"load_mnist: {path} has no array {', '.join(missing)}; expected Keras' mnist.npz "
            f"with arrays {', '.join(_NPZ_KEYS)} (it holds: {', '.join(held) or 'nothing'})"
        )
    unpacked = sum(members[f"{key}.npy"].file_size for key in _NPZ_KEYS)
    if unpacked > max_bytes:
        raise ValueError(
            f"load_mnist: {path} unpacks to {unpacked:,} bytes, more than "
            f"max_bytes={max_bytes:,}; pass a larger max_bytes if the file is trusted"
        )
    arrays = {}
    for key in _NPZ_KEYS:
        info = members[f"{key}.npy"]
        with archive.open(info) as member:
            array = _read_npy(member, info.file_size, f"{path} (array {key})")
        arrays[key] = _mnist_array(array, key, path)
    return arrays


def _read_npy(member: IO[bytes], size: int, where: str) -> np.ndarray:
    """An array in .npy format, read without unpickling: its header is parsed first, and
    the data must be exactly as long as the header says."""
    try:
        version = npy_format.read_magic(member)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as error:
        raise ValueError(f"load_mnist: {where} is not a valid .npy array ({error})") from None
    if dtype.hasobject:
        raise ValueError(
            f"load_mnist: {where} holds Python objects, which would have to be unpickled; "
            "refused (expected an array of unsigned bytes)"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > size:
        raise ValueError(
            f"load_mnist: {where} claims shape {shape} of {dtype}, {nbytes:,} bytes, but the "
            f"member is only {size:,} bytes"
        )
    data = member.read(nbytes + 1)
    if len(data) != nbytes:
        raise ValueError(
            f"load_mnist: {where} has {len(data):,} bytes of data, expected exactly {nbytes:,} "
            f"for shape {shape} of {dtype}"
        )
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(shape[::-1]).T if fortran_order else flat.reshape(shape)


def _mnist_array(array: np.ndarray, key: str, path: Path) -> np.ndarray:
    """The array as uint8 after checking its shape and values (images 0..255, labels 0..9)."""
    where = f"{path} (array {key})"
    images = key.startswith("x")
    expected = f"(n, {_SIDE}, {_SIDE})" if images else "(n,)"
    ok_shape = array.shape[1:] == (_SIDE, _SIDE) if images else array.ndim == 1
    if array.ndim != (3 if images else 1) or not ok_shape:
        raise ValueError(f"load_mnist: {where} has shape {array.shape}; expected {expected}")
    if array.dtype.kind not in "iu":
        raise ValueError(f"load_mnist: {where} has dtype {array.dtype}; expected integers (uint8)")
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError(f"load_mnist: {where} has values outside 0..255; expected uint8 pixels")
    result = np.ascontiguousarray(array, dtype=np.uint8)
    if not images:
        _check_labels(result, where)
    return result

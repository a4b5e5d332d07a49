"""The bundled example data sets (equal to scikit-learn's, usable without it) and the MNIST
reader ``load_mnist`` on small files written here, well-formed and malformed."""

from __future__ import annotations

import gzip
import importlib
import importlib.util
import os
import subprocess
import sys
import textwrap
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import micrograd_like
from micrograd_like import datasets, example_data
from micrograd_like.example_data import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_mnist,
    load_wine,
)

LOADERS = {
    "iris": load_iris,
    "digits": load_digits,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}
# name -> (X shape, samples per class)
FACTS = {
    "iris": ((150, 4), [50, 50, 50]),
    "digits": ((1797, 64), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]),
    "wine": ((178, 13), [59, 71, 48]),
    "breast_cancer": ((569, 30), [212, 357]),
}
ROOT = Path(__file__).resolve().parent.parent


def sklearn_module(name: str) -> Any:
    """The scikit-learn module ``name``, or skip the comparison that needs it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        pytest.skip(f"scikit-learn is not importable ({error}): nothing to compare with")


# ---------------------------------------------------------------- bundled data sets


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loader_returns_scikit_learn_s_arrays(name: str) -> None:
    sklearn_datasets = sklearn_module("sklearn.datasets")
    X, y = LOADERS[name]()
    X_ref, y_ref = getattr(sklearn_datasets, f"load_{name}")(return_X_y=True)
    for ours, theirs in ((X, X_ref), (y, y_ref)):
        assert ours.dtype == theirs.dtype
        assert ours.shape == theirs.shape
        assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loader_shapes_and_classes(name: str) -> None:
    X, y = LOADERS[name](return_X_y=True)
    shape, per_class = FACTS[name]
    assert X.shape == shape and X.dtype == np.float64 and np.isfinite(X).all()
    assert y.shape == (shape[0],) and y.dtype == np.dtype(int)
    assert np.bincount(y).tolist() == per_class
    # each call gives fresh arrays that the caller may modify
    X[0, 0] = -1.0
    assert LOADERS[name]()[0][0, 0] != -1.0


def test_return_x_y_false_is_refused() -> None:
    with pytest.raises(ValueError, match="Bunch"):
        load_iris(return_X_y=False)
    with pytest.raises(TypeError, match="return_X_y must be True or False"):
        load_wine(return_X_y="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        load_digits(as_frame=True)  # type: ignore[call-arg]


def test_data_files_are_package_resources() -> None:
    folder = resources.files("micrograd_like") / "data"
    for name in LOADERS:
        resource = folder / f"{name}.npz"
        assert resource.is_file(), name
        with resource.open("rb") as file:
            data = file.read()
        assert len(data) < 100_000, f"{name}.npz is {len(data)} bytes"
        with zipfile.ZipFile(resource.open("rb")) as archive:
            assert sorted(archive.namelist()) == ["X.npy", "y.npy"]
    assert "CC BY 4.0" in (folder / "README.md").read_text(encoding="utf-8")


def test_data_files_are_in_the_wheel(tmp_path: Path) -> None:
    for module in ("build", "hatchling"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed: pip install -e '.[dev]'")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    for name in [*(f"{name}.npz" for name in LOADERS), "README.md"]:
        assert f"micrograd_like/data/{name}" in shipped, name


def test_reexported_from_datasets() -> None:
    for name in ("load_iris", "load_digits", "load_wine", "load_breast_cancer", "load_mnist"):
        assert getattr(datasets, name) is getattr(example_data, name)
        assert name in datasets.__all__


def test_loaders_work_with_scikit_learn_blocked(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import importlib.abc
        import sys

        class BlockScikitLearn(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "sklearn" or name.startswith("sklearn."):
                    raise ImportError(f"{name} is blocked for this test")
                return None

        sys.meta_path.insert(0, BlockScikitLearn())
        try:
            import sklearn  # noqa: F401
        except ImportError:
            pass
        else:
            raise SystemExit("scikit-learn was not blocked")

        from micrograd_like import datasets

        for name, rows in [("iris", 150), ("digits", 1797), ("wine", 178),
                           ("breast_cancer", 569)]:
            X, y = getattr(datasets, "load_" + name)()
            assert X.shape[0] == rows and y.shape == (rows,), name
        assert not [m for m in sys.modules if m.split(".")[0] == "sklearn"]
        print("loaded all four")
        """
    )
    # the subprocess imports micrograd_like from wherever this process found it
    where = str(Path(micrograd_like.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [where, os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded all four" in result.stdout


# ---------------------------------------------------------------- MNIST: helpers

IMAGES, LABELS = 0x00000803, 0x00000801
Arrays = dict[str, Any]  # name -> numpy array
NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


@pytest.fixture
def mnist() -> Arrays:
    """5 training and 3 test images of 28x28 with their labels."""
    rng = np.random.default_rng(12)
    return {
        "x_train": rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
        "y_train": np.array([5, 0, 4, 1, 9], dtype=np.uint8),
        "x_test": rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
        "y_test": np.array([7, 2, 1], dtype=np.uint8),
    }


def idx(array: np.ndarray, magic: int | None = None) -> bytes:
    """``array`` in IDX format (unsigned bytes, big-endian dimensions)."""
    if magic is None:
        magic = IMAGES if array.ndim == 3 else LABELS
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return magic.to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()


def write_idx(
    folder: Path,
    arrays: Arrays,
    *,
    gz: bool = False,
    dotted: bool = False,
    replace: dict[str, bytes] | None = None,
) -> Path:
    """The four IDX files in ``folder``; ``replace`` gives some files' bytes instead."""
    folder.mkdir(exist_ok=True)
    for key, name in NAMES.items():
        if dotted:
            name = name.replace("-idx", ".idx")  # train-images.idx3-ubyte
        data = (replace or {}).get(key, idx(arrays[key]))
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def assert_mnist_equal(result: Any, arrays: Arrays) -> None:
    (x_train, y_train), (x_test, y_test) = result
    for key, got in zip(NAMES, (x_train, y_train, x_test, y_test)):
        expected = arrays[key]
        assert got.dtype == np.uint8 and got.shape == expected.shape, key
        assert np.array_equal(got, expected), key


# ---------------------------------------------------------------- MNIST: good files


@pytest.mark.parametrize("compressed", [True, False])
def test_mnist_npz(tmp_path: Path, mnist: Arrays, compressed: bool) -> None:
    path = tmp_path / "mnist.npz"
    (np.savez_compressed if compressed else np.savez)(path, **mnist)
    assert_mnist_equal(load_mnist(path), mnist)
    assert_mnist_equal(datasets.load_mnist(str(path)), mnist)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dotted", [False, True])
def test_mnist_idx_directory(tmp_path: Path, mnist: Arrays, gz: bool, dotted: bool) -> None:
    folder = write_idx(tmp_path / "mnist", mnist, gz=gz, dotted=dotted)
    result = load_mnist(folder)
    assert_mnist_equal(result, mnist)
    result[0][0][0, 0, 0] ^= 1  # the arrays are writable copies


def test_mnist_plain_file_is_preferred_to_gz(tmp_path: Path, mnist: Arrays) -> None:
    folder = write_idx(tmp_path / "mnist", mnist)
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"not even gzip")
    assert_mnist_equal(load_mnist(folder), mnist)


def test_mnist_gz_name_holding_plain_idx(tmp_path: Path, mnist: Arrays) -> None:
    """A browser may unzip a download but keep its .gz name: the content decides."""
    folder = write_idx(tmp_path / "mnist", mnist)
    plain = folder / "t10k-labels-idx1-ubyte"
    plain.rename(folder / "t10k-labels-idx1-ubyte.gz")
    assert_mnist_equal(load_mnist(folder), mnist)


# ---------------------------------------------------------------- MNIST: bad files


def _truncated(arrays: Arrays) -> bytes:
    return idx(arrays["x_train"])[:-10]


BAD_IDX = {
    # case -> (file that is bad, its bytes, expected message)
    "wrong magic": (
        "y_train",
        lambda a: idx(a["y_train"], magic=IMAGES),
        r"magic number 0x00000803.*expected an IDX labels file \(magic number 0x00000801\)",
    ),
    "not IDX at all": ("x_test", lambda a: b"<html>404</html>", "magic number"),
    "short header": ("x_test", lambda a: idx(a["x_test"])[:10], "truncated: 10 bytes"),
    "truncated data": ("x_train", _truncated, "is truncated.*expected exactly 3,920"),
    "extra bytes": (
        "y_test",
        lambda a: idx(a["y_test"]) + b"\x00",
        "has extra bytes at the end: 4 bytes of data after the header, expected exactly 3",
    ),
    "label 11": (
        "y_train",
        lambda a: idx(np.array([5, 0, 11, 1, 9])),
        "label 11 at index 2; expected digits 0 to 9",
    ),
    "images not 28x28": (
        "x_test",
        lambda a: idx(np.zeros((3, 27, 27), np.uint8)),
        "images of 27x27 pixels; expected 28x28",
    ),
    "empty file": ("y_test", lambda a: b"", "only 0 byte"),
}


@pytest.mark.parametrize("case", sorted(BAD_IDX))
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_malformed_idx(tmp_path: Path, mnist: Arrays, case: str, gz: bool) -> None:
    key, make, message = BAD_IDX[case]
    folder = write_idx(tmp_path / "mnist", mnist, gz=gz, replace={key: make(mnist)})
    with pytest.raises(ValueError, match=message) as error:
        load_mnist(folder)
    assert NAMES[key] in str(error.value)


def test_mnist_count_mismatch_names_both_files(tmp_path: Path, mnist: Arrays) -> None:
    folder = write_idx(tmp_path / "mnist", mnist, replace={"y_test": idx(np.array([7, 2]))})
    with pytest.raises(ValueError, match="3 images but .* 2 labels") as error:
        load_mnist(folder)
    assert NAMES["x_test"] in str(error.value) and NAMES["y_test"] in str(error.value)


@pytest.mark.parametrize("damage", ["flipped bytes", "cut short", "bad header"])
def test_mnist_corrupt_gzip(tmp_path: Path, mnist: Arrays, damage: str) -> None:
    folder = write_idx(tmp_path / "mnist", mnist, gz=True)
    path = folder / "train-images-idx3-ubyte.gz"
    data = bytearray(path.read_bytes())
    if damage == "flipped bytes":
        for i in range(20, len(data) - 20, 97):
            data[i] ^= 0xFF
    elif damage == "cut short":
        data = data[: len(data) // 2]
    else:
        data[2] = 7  # compression method 7 instead of 8 (deflate)
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a valid gzip file") as error:
        load_mnist(folder)
    assert "train-images-idx3-ubyte.gz" in str(error.value)


def test_mnist_gz_name_holding_garbage(tmp_path: Path, mnist: Arrays) -> None:
    folder = write_idx(tmp_path / "mnist", mnist, gz=True)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"PK\x03\x04 something else")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz is not a gzip file"):
        load_mnist(folder)


def test_mnist_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.npz does not exist; expected"):
        load_mnist(tmp_path / "nowhere.npz")


def test_mnist_directory_missing_a_file(tmp_path: Path, mnist: Arrays) -> None:
    folder = write_idx(tmp_path / "mnist", mnist)
    (folder / NAMES["y_test"]).unlink()
    with pytest.raises(FileNotFoundError, match="has no t10k-labels-idx1-ubyte \\(or ") as error:
        load_mnist(folder)
    assert "train-images" not in str(error.value).split("; expected")[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="has no train-images-idx3-ubyte .* and no t10k"):
        load_mnist(empty)


def test_mnist_npz_missing_an_array(tmp_path: Path, mnist: Arrays) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **{k: v for k, v in mnist.items() if k != "y_test"})
    with pytest.raises(ValueError, match="mnist.npz has no array y_test; expected"):
        load_mnist(path)


class _Trap:
    """Unpickling this creates the file ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_mnist_npz_with_a_pickle_is_refused(tmp_path: Path, mnist: Arrays) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / "mnist.npz"
    objects = np.empty(5, dtype=object)
    objects[:] = [_Trap(marker)] * 5
    np.savez(path, **{**mnist, "y_train": objects})  # numpy pickles object arrays
    with pytest.raises(ValueError, match=r"mnist.npz \(array y_train\) holds Python objects"):
        load_mnist(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        ({"x_train": np.zeros((5, 784), np.uint8)}, r"\(array x_train\) has shape \(5, 784\)"),
        ({"x_test": np.zeros((3, 28, 28), np.float32)}, r"\(array x_test\) has dtype float32"),
        ({"y_test": np.array([7, 2, 10])}, r"\(array y_test\) has the label 10 at index 2"),
        ({"x_test": np.full((3, 28, 28), 300)}, r"\(array x_test\) has values outside 0..255"),
        ({"y_train": np.array([1, 2, 3])}, "5 images in x_train but 3 labels in y_train"),
    ],
)
def test_mnist_npz_bad_arrays(tmp_path: Path, mnist: Arrays, change: dict, message: str) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **{**mnist, **change})
    with pytest.raises(ValueError, match=message):
        load_mnist(path)


@pytest.mark.parametrize("convert", [lambda a: a.astype(">i4"), np.asfortranarray])
def test_mnist_npz_other_integer_dtypes_and_orders(
    tmp_path: Path, mnist: Arrays, convert: Any
) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **{k: convert(v) for k, v in mnist.items()})
    result = load_mnist(path)
    assert_mnist_equal(result, mnist)
    assert result[0][0].flags["C_CONTIGUOUS"]


def test_mnist_not_an_npz(tmp_path: Path) -> None:
    path = tmp_path / "mnist.npz"
    path.write_text("x_train,y_train\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mnist.npz is not an .npz"):
        load_mnist(path)


def test_mnist_damaged_npz(tmp_path: Path, mnist: Arrays) -> None:
    path = tmp_path / "mnist.npz"
    np.savez_compressed(path, **mnist)
    data = bytearray(path.read_bytes())
    for i in range(200, len(data) - 400, 50):
        data[i] ^= 0x55
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="mnist.npz"):
        load_mnist(path)


def test_mnist_npz_lying_about_its_shape(tmp_path: Path) -> None:
    """A .npy header claiming far more data than the member holds is refused before any
    allocation."""
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (10000000, 28, 28), }"
    header += " " * (117 - len(header)) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 64
    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key in NAMES:
            archive.writestr(f"{key}.npy", npy)
    with pytest.raises(ValueError, match=r"\(array x_train\) claims shape \(10000000, 28, 28\)"):
        load_mnist(path)


def test_mnist_size_cap(tmp_path: Path, mnist: Arrays) -> None:
    path = tmp_path / "mnist.npz"
    np.savez(path, **mnist)
    with pytest.raises(ValueError, match="mnist.npz is .* bytes, more than max_bytes=1,000"):
        load_mnist(path, max_bytes=1000)
    np.savez_compressed(path, **{k: np.zeros_like(v) for k, v in mnist.items()})
    assert path.stat().st_size < 3000
    with pytest.raises(ValueError, match="mnist.npz unpacks to .* more than max_bytes=3,000"):
        load_mnist(path, max_bytes=3000)
    folder = write_idx(tmp_path / "idx", {k: np.zeros_like(v) for k, v in mnist.items()}, gz=True)
    with pytest.raises(
        ValueError, match="train-images-idx3-ubyte.gz decompresses to more than max_bytes=3,000"
    ):
        load_mnist(folder, max_bytes=3000)
    for bad in (0, -5, True, 1.5):
        with pytest.raises(ValueError, match="max_bytes must be an int >= 1"):
            load_mnist(folder, max_bytes=bad)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo (POSIX)")
def test_mnist_refuses_non_regular_files(tmp_path: Path, mnist: Arrays) -> None:
    fifo = tmp_path / "mnist.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="mnist.npz is not a regular file or a directory"):
        load_mnist(fifo)  # would block forever if the FIFO were opened
    folder = write_idx(tmp_path / "idx", mnist)
    (folder / NAMES["x_test"]).unlink()
    os.mkfifo(folder / NAMES["x_test"])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte is not a regular file"):
        load_mnist(folder)


def test_mnist_path_type() -> None:
    with pytest.raises(TypeError, match="path must be a str or a path"):
        load_mnist(42)  # type: ignore[arg-type]

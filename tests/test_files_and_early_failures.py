"""Files (issue 11, point 5) and failing before training (point 6): capped reads of model
files, saves through symlinks keeping permissions, a CSVLogger that appends, and callbacks
whose mistakes stop fit before any weight changes."""

from __future__ import annotations

import csv
import os
import stat
import threading
import tracemalloc

import numpy as np
import pytest

from micrograd_like import MLP, Layer, load_model
from micrograd_like.callbacks import Callback, CSVLogger, EarlyStopping, ModelCheckpoint
from micrograd_like.files import DEFAULT_MAX_BYTES, atomic_write, read_capped

X = np.random.default_rng(0).normal(size=(16, 2))
Y = (X[:, 0] > 0).astype(float)


def compiled(model=None):
    model = model or MLP(2, [3, 1], seed=0)
    model.compile("sgd", "mse")
    return model


# ---------------------------------------------------------------- reading with a cap


def test_a_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as file:
        file.truncate(200 * 2**20)  # 200 MB, sparse: reading it would take 200 MB of memory
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=f"larger than max_bytes={DEFAULT_MAX_BYTES}"):
            load_model(huge)
        assert tracemalloc.get_traced_memory()[1] < 2**20  # nothing of it was read
    finally:
        tracemalloc.stop()
    saved = tmp_path / "model.json"
    compiled().save(saved)
    with pytest.raises(ValueError, match="pass a larger max_bytes"):
        load_model(saved, max_bytes=100)
    assert load_model(saved, max_bytes=10**6).state_dict() == compiled().state_dict()
    with pytest.raises(ValueError, match="max_bytes must be an int >= 1"):
        load_model(saved, max_bytes=0)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda tmp: "/dev/zero", "a character device"),
        (lambda tmp: str(tmp), "a directory"),
        (lambda tmp: (os.mkfifo(tmp / "fifo"), str(tmp / "fifo"))[1], "a FIFO"),
    ],
)
def test_what_is_not_a_regular_file_is_refused_without_waiting(tmp_path, make, kind):
    path = make(tmp_path)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_model(path)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001  (reported to the test thread)
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), f"load_model({path!r}) hangs"
    assert isinstance(outcome[0], ValueError) and f"not a regular file ({kind})" in str(outcome[0])


def test_read_capped_reads_exactly_the_file(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"0123456789")
    assert read_capped(path) == b"0123456789" == read_capped(path, max_bytes=10)
    with pytest.raises(ValueError, match="it holds 10 bytes"):
        read_capped(path, max_bytes=9)


# ---------------------------------------------------------------- writing atomically


def test_saving_over_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "models" / "real.json"
    link = tmp_path / "current.json"
    compiled(MLP(2, [3, 1], seed=1)).save(target)
    link.symlink_to(target)
    model = compiled()
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load_model(target).state_dict() == model.state_dict()
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.json"]  # no temp left
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "new" / "made.json")
    model.save(dangling)
    assert dangling.is_symlink() and load_model(tmp_path / "new" / "made.json")


def test_replacing_a_file_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "secret.json"
    compiled().save(path)
    path.chmod(0o600)
    compiled(MLP(2, [3, 1], seed=2)).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    atomic_write(path, lambda file: file.write("text"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == "text"
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.json"
    atomic_write(fresh, lambda file: file.write("new"))
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


# ---------------------------------------------------------------- CSVLogger


class Snapshot(Callback):
    """Reads the CSV file at each epoch's end (after the logger, which comes first)."""

    def __init__(self, path) -> None:
        super().__init__()
        self.path, self.seen = path, []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((os.stat(self.path).st_ino, self.path.read_text()))


def test_csv_logger_appends_and_flushes_one_line_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    snapshot = Snapshot(path)
    compiled().fit(X, Y, epochs=4, verbose=0, callbacks=[CSVLogger(path), snapshot])
    inodes = {inode for inode, _ in snapshot.seen}
    texts = [text for _, text in snapshot.seen]
    assert len(inodes) == 1  # one file, written in place, not replaced every epoch
    assert [text.count("\n") for text in texts] == [2, 3, 4, 5]  # header + one row per epoch
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:]))
    assert path.read_text() == texts[-1]


def test_csv_logger_refuses_to_append_under_other_columns(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n0,1.0,2.0")  # no final newline
    before = path.read_text()
    model = compiled()
    with pytest.raises(ValueError, match=r"has the columns \['epoch', 'loss', 'val_loss'\]"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[CSVLogger(path, append=True)])
    assert path.read_text() == before
    path.write_text("epoch,loss\n0,1.0")
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[CSVLogger(path, append=True)])
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["epoch", "loss"] and [row[0] for row in rows[1:]] == ["0", "0", "1"]


# ---------------------------------------------------------------- failing before training


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: CSVLogger("log.csv", separator=";;"), ValueError, "separator must be one"),
        (lambda: CSVLogger("log.csv", separator="\n"), ValueError, "separator must be one"),
        (lambda: CSVLogger("log.csv", append="yes"), TypeError, "append must be True or False"),
        (lambda: ModelCheckpoint("m-{epoch:03q}.json"), ValueError, "not a valid pattern"),
        (lambda: ModelCheckpoint("m-{epoch.json"), ValueError, "not a valid pattern"),
        (lambda: ModelCheckpoint("m-{}.json"), ValueError, "not a valid pattern"),
        (lambda: ModelCheckpoint("m-{loss:03d}.json"), ValueError, "not a valid pattern"),
        (lambda: ModelCheckpoint("m.json", save_best_only=1), TypeError, "save_best_only"),
        (lambda: EarlyStopping(monitor=3), ValueError, "monitor must be"),
        (lambda: EarlyStopping(min_delta="0.1"), ValueError, "min_delta must be"),
    ],
)
def test_bad_callback_settings_are_refused_when_the_callback_is_made(make, error, message):
    with pytest.raises(error, match=message):
        make()


def assert_fit_fails_before_any_step(model, callback, error, message):
    before = model.state_dict()
    with pytest.raises(error, match=message or None):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[callback])
    assert model.state_dict() == before


def test_a_csv_logger_that_cannot_write_stops_fit_before_any_step(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    assert_fit_fails_before_any_step(compiled(), CSVLogger(blocker / "log.csv"), OSError, "")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_csv_logger_in_a_read_only_directory_stops_fit_before_any_step(tmp_path):
    tmp_path.chmod(0o555)
    try:
        assert_fit_fails_before_any_step(compiled(), CSVLogger(tmp_path / "l.csv"), OSError, "")
    finally:
        tmp_path.chmod(0o755)


def test_model_checkpoint_of_a_model_that_cannot_be_saved_stops_fit_before_any_step(tmp_path):
    layer = compiled(Layer(2, 1, seed=0))
    checkpoint = ModelCheckpoint(tmp_path / "m-{epoch}.json")
    assert_fit_fails_before_any_step(layer, checkpoint, TypeError, "a Layer cannot be saved")
    assert list(tmp_path.iterdir()) == []


def test_model_checkpoint_into_an_unwritable_place_stops_fit_before_any_step(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    checkpoint = ModelCheckpoint(blocker / "m-{epoch}.json")
    assert_fit_fails_before_any_step(compiled(), checkpoint, OSError, "")

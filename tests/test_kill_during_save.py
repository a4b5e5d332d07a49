"""Saves are atomic (issue 11): a process killed with SIGKILL at random points while it
saves a large model, 50 saves in all, always leaves a file that loads as the model before
the interrupted save or the model after it, never anything else.

A child process saves versions v = k + 1, k + 2, ... of one model (every parameter of
version v is v + j * 1e-9, j its index), printing ``saving v`` before and ``saved v`` after
each save. It is killed during a randomly chosen one of its saves (1 to 8), at a random
moment of it. The file must then hold version k (the last one it reported saved) or k + 1
(saved, but killed before it could say so). The counts are reported in the README.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from micrograd_like import MLP, load_model

SAVES = 50
SEED = 11
ARCHITECTURE = (20, [300, 1])  # 6,601 parameters: a file of about 330 kB
REPO = Path(__file__).resolve().parent.parent
CHILD = """
import sys
from micrograd_like import MLP
model = MLP({nin}, {nouts}, seed=0)
params = model.parameters()
print("ready", flush=True)
for version in range({first}, {first} + {saves}):
    for j, p in enumerate(params):
        p.data = version + j * 1e-9
    print("saving", version, flush=True)
    model.save(sys.argv[1])
    print("saved", version, flush=True)
"""


def version_of(path: Path) -> int:
    """The version the file holds (every parameter tells it; they must all agree)."""
    values = list(load_model(path).state_dict().values())
    version = round(values[0])
    assert values == [version + j * 1e-9 for j in range(len(values))]
    return version


def versioned_model(version: int) -> MLP:
    model = MLP(*ARCHITECTURE, seed=0)
    for j, p in enumerate(model.parameters()):
        p.data = version + j * 1e-9
    return model


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_save_killed_at_random_points_leaves_the_old_or_the_new_model(tmp_path):
    path = tmp_path / "model.json"
    model = versioned_model(0)
    model.save(path)
    started = time.monotonic()
    model.save(path)
    save_time = time.monotonic() - started
    rng = random.Random(SEED)
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    done = kills = 0  # the version on disk; how many children were killed
    while done < SAVES:
        code = CHILD.format(
            nin=ARCHITECTURE[0], nouts=ARCHITECTURE[1], first=done + 1, saves=SAVES - done
        )
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, env=env
        )
        target = done + rng.randint(1, min(8, SAVES - done))  # the save to interrupt
        lines = [child.stdout.readline() for _ in range(2 * (target - done))]
        assert lines[-1] == f"saving {target}\n"
        time.sleep(rng.uniform(0.0, 1.5 * save_time))  # usually before its rename
        child.send_signal(signal.SIGKILL)
        lines += child.communicate(timeout=60)[0].splitlines(keepends=True)
        saved = [int(line.split()[1]) for line in lines if line.startswith("saved")]
        last = saved[-1] if saved else done
        now = version_of(path)
        assert now in (last, last + 1)  # the old model, or the new one
        kills += child.returncode == -signal.SIGKILL
        done = now
    assert kills >= 5
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.json"]
    assert all(name.startswith(".model.json.") and name.endswith(".tmp") for name in leftovers)

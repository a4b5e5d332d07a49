"""Saves are atomic (issue 11): a process killed with SIGKILL at random points while it
saves a large model, 50 saves in all, always leaves a file that loads as the model before
the interrupted save or the model after it, never anything else.

A child process saves versions v = k + 1, k + 2, ... of one model (every parameter of
version v is v + j * 1e-9, j its index) and prints ``saved v`` after each save; it is killed
after a random delay. The file must then hold version k (the last one it reported) or k + 1
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
    model.save(sys.argv[1])
    print("saved", version, flush=True)
"""


def version_of(path: Path) -> int:
    """The version the file holds (every parameter tells it; they must all agree)."""
    values = list(load_model(path).state_dict().values())
    version = round(values[0])
    assert values == [version + j * 1e-9 for j in range(len(values))]
    return version


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_save_killed_at_random_points_leaves_the_old_or_the_new_model(tmp_path):
    path = tmp_path / "model.json"
    model = MLP(*ARCHITECTURE, seed=0)
    for j, p in enumerate(model.parameters()):
        p.data = 0 + j * 1e-9
    model.save(path)
    rng = random.Random(SEED)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    saved = kills = 0
    while saved < SAVES:
        done = version_of(path)
        code = CHILD.format(
            nin=ARCHITECTURE[0], nouts=ARCHITECTURE[1], first=done + 1, saves=SAVES - saved
        )
        child = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        output = child.communicate(timeout=30)[0]
        reported = [int(line.split()[1]) for line in output.splitlines()]
        last = reported[-1] if reported else done
        assert version_of(path) in (last, last + 1)
        saved += version_of(path) - done
        kills += child.returncode == -signal.SIGKILL
    assert kills >= 5  # most runs ended by the kill, mid-save, not by finishing
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.json"]
    assert all(name.startswith(".model.json.") and name.endswith(".tmp") for name in leftovers)

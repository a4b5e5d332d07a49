"""Run one measurement in this process and print its result as one JSON line.

``python benchmarks/job.py MODULE FUNCTION KWARGS_JSON`` imports ``MODULE`` from this
directory, calls ``FUNCTION(**kwargs)`` (which returns a dict of JSON values) and prints
the dict with ``peak_mb`` added: this process's peak resident set size in MB, from
``resource.getrusage`` (Linux reports ``ru_maxrss`` in kilobytes). The numpy BLAS is
limited to one thread, as PyTorch is (``torch.set_num_threads(1)``), so both compute on one
core. Used by ``harness.isolated``.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    module_name, function_name, kwargs = argv[1], argv[2], json.loads(argv[3])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import numpy  # noqa: F401  (loaded first: threadpoolctl limits only loaded libraries)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        result = getattr(importlib.import_module(module_name), function_name)(**kwargs)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""gunicorn settings for a benchmark's server: the served ones (config/gunicorn.py) plus a record of
the garbage collector's pauses in each worker (generation, start on the monotonic clock, ms),
written to GC_PROBE_DIR/<pid>.json when the worker exits. GC_PROBE_UNFREEZE=1 undoes
config/wsgi.py's gc.freeze() once the worker has loaded the application, to show the pauses
without it. Used by `bench_submit.py --gc-probe`."""

import gc
import json
import os
import time
from pathlib import Path

from config.gunicorn import threads, worker_class, workers  # noqa: F401 - gunicorn reads them here

_pauses: list[tuple[int, float, float]] = []


def post_worker_init(worker) -> None:
    if os.environ.get("GC_PROBE_UNFREEZE") == "1":
        gc.unfreeze()
    started: dict[int, float] = {}

    def record(phase: str, info: dict) -> None:
        generation = info["generation"]
        if phase == "start":
            started[generation] = time.monotonic()
        elif generation in started:
            t0 = started.pop(generation)
            _pauses.append((generation, t0, (time.monotonic() - t0) * 1000))

    gc.callbacks.append(record)


def worker_exit(server, worker) -> None:
    path = Path(os.environ["GC_PROBE_DIR"]) / f"{os.getpid()}.json"
    path.write_text(json.dumps({"frozen": gc.get_freeze_count(), "pauses": _pauses}))

"""gunicorn's settings for serving Signpost: `gunicorn -c python:config.gunicorn config.wsgi:application`.

The Dockerfile, docker-compose.yml, `make serve` and the submission benchmark all serve with this
file, so the benchmarked server is the deployed one. Command-line options override it.

- gthread workers, one per core, 4 threads each: a request's database round trips overlap other
  requests' Python work in the same process, and each process has a core for its Python (one
  interpreter lock per process). Connections beyond the threads wait their turn in the worker's
  poller, first come first served.
- `WEB_WORKERS` and `WEB_THREADS` change the two counts (a bad value stops gunicorn: exit 2, one
  line).

A keep-alive connection stays with the worker that accepted it, and which worker accepts a new
connection is a race, so the clients are not always split evenly between the workers (the
submission benchmark prints the split). Measured on 2 cores with 32 clients: 2 workers of 8 threads
did as well as 4 of 4, and 2 of 4 had shorter tails than 2 of 8 for both the submission and the
bare view, at the same throughput (BENCHMARKS.md, "Forecast submission").
"""

from __future__ import annotations

import os
import sys


def _count(name: str, default: int) -> int:
    """A positive whole number from the environment; a bad value stops gunicorn (exit 2, one line)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        print(f"error: {name} must be a whole number of at least 1, not {raw!r}", file=sys.stderr)
        raise SystemExit(2)
    return int(raw)


worker_class = "gthread"
workers = _count("WEB_WORKERS", getattr(os, "process_cpu_count", os.cpu_count)() or 1)
threads = _count("WEB_THREADS", 4)

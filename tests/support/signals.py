"""Switching off what the layers above listen for, through the signals' public API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from questions.signals import resolution_changed
from scoring.receivers import rescore_on_resolution_change


@contextmanager
def rescoring_paused() -> Iterator[None]:
    """Resolutions made inside do not enqueue scoring (the test or benchmark scores them itself)."""
    uid = "scoring.rescore_on_resolution_change"
    resolution_changed.disconnect(dispatch_uid=uid)
    try:
        yield
    finally:
        resolution_changed.connect(rescore_on_resolution_change, dispatch_uid=uid)

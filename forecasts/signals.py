"""Signals forecasts sends to the layers above it, which it never imports.

`crowd_changed(sender=CrowdPoint, question_id=...)` is sent after the transaction that changed a
question's crowd history (crowd.question_crowd_write appended points or rewrote the history) has
committed, never for a rolled-back one. The strategy app's receivers recompute the composites the
question is an indicator of. A receiver must not assume the history actually differs (a full
rewrite announces itself even when it reproduced the same points): the work it triggers must be
idempotent."""

from django.dispatch import Signal

crowd_changed = Signal()

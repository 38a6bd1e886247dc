"""How notifications hears about the layers below it: questions sends `resolution_changed` once a
resolution, correction, annulment or un-resolution has committed, and each forecaster of the
question is notified by the resolution_notify job. Connected in NotificationsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from config.enqueue import enqueue
from questions.signals import resolution_changed

from .tasks import notify_resolution


@receiver(resolution_changed, dispatch_uid="notifications.notify_on_resolution_change")
def notify_on_resolution_change(sender: Any, question_id: int, **kwargs: Any) -> None:
    # Sent after commit: a broker outage is logged and beat's notifications_reconcile catches up.
    enqueue(notify_resolution, question_id)

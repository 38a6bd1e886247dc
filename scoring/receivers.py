"""How scoring hears about the layers below it: questions sends `resolution_changed` once a
resolution, annulment, correction or un-resolution has committed, and the question is rescored
(or its scores cleared). Connected in ScoringConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from config.enqueue import enqueue
from questions.signals import resolution_changed

from .tasks import question_score


@receiver(resolution_changed, dispatch_uid="scoring.rescore_on_resolution_change")
def rescore_on_resolution_change(sender: Any, question_id: int, **kwargs: Any) -> None:
    # Sent after commit: a broker outage is logged and beat's scores_reconcile catches up.
    enqueue(question_score, question_id)

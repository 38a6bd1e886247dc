"""How scoring hears about the layers below it: questions sends `resolution_changed` once a
resolution, annulment, correction or un-resolution has committed, and the question is rescored
(or its scores cleared). Connected in ScoringConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from config.enqueue import enqueue
from questions.models import Series
from questions.signals import resolution_changed

from .cache import scope_key, scopes_invalidate
from .tasks import question_score


@receiver(resolution_changed, dispatch_uid="scoring.rescore_on_resolution_change")
def rescore_on_resolution_change(sender: Any, question_id: int, **kwargs: Any) -> None:
    # Sent after commit: a broker outage is logged and beat's scores_reconcile catches up.
    enqueue(question_score, question_id)


@receiver([post_save, post_delete], sender=Series, dispatch_uid="scoring.series_pages_on_change")
def series_pages_on_change(sender: Any, instance: Series, created: bool = False, **kwargs: Any) -> None:
    # The API finds a series' cached pages by slug (scoring.selectors.series_scope_hint): a new
    # version token, after commit, keeps them from being served for a renamed or deleted series.
    if not created:
        key = scope_key("series", instance.pk)
        transaction.on_commit(lambda: scopes_invalidate([key]))

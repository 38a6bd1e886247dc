"""How strategy hears about the layers below it: a linked question's crowd history changed
(forecasts.signals.crowd_changed, after commit), its resolution changed
(questions.signals.resolution_changed, after commit), or one of its fields that the composite
reads was edited (Django's post_save of Question: publication, crowd reveal time, open time,
type, ordering). Each enqueues the recompute of every strategic question the question is an
indicator of. Connected in StrategyConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from forecasts.signals import crowd_changed
from questions.models import Question
from questions.signals import resolution_changed

from .services import strategic_recompute_for_question

#: The Question columns the composite's history depends on (besides resolution and crowd).
COMPOSITE_INPUTS = frozenset({"published_at", "crowd_reveal_time", "open_time", "type", "ordered"})


@receiver(resolution_changed, dispatch_uid="strategy.recompute_on_resolution_change")
def recompute_on_resolution_change(sender: Any, question_id: int, **kwargs: Any) -> None:
    # Sent after commit: a broker outage is logged (config.enqueue) and the next change catches up.
    strategic_recompute_for_question(question_id=question_id)


@receiver(crowd_changed, dispatch_uid="strategy.recompute_on_crowd_change")
def recompute_on_crowd_change(sender: Any, question_id: int, **kwargs: Any) -> None:
    strategic_recompute_for_question(question_id=question_id)


@receiver(post_save, sender=Question, dispatch_uid="strategy.recompute_on_question_edit")
def recompute_on_question_edit(
    sender: Any, instance: Question, created: bool, update_fields=None, **kwargs: Any
) -> None:
    # Inside the editing transaction: the recompute is enqueued once it commits.
    if created or kwargs.get("raw"):
        return
    if update_fields is not None and not COMPOSITE_INPUTS.intersection(update_fields):
        return
    strategic_recompute_for_question(question_id=instance.pk)

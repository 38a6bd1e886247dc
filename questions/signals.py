"""Signals questions sends to the layers above it, which it never imports.

`resolution_changed(sender=Question, question_id=...)` is sent after the transaction that
resolved, corrected, annulled or un-resolved a question has committed (never for a rolled-back
one). Scoring's receivers rescore the question.

`terms_frozen_query(sender=Question, question_id=...)` asks the layers above whether anything
they hold depends on the question's terms (type, options, ordered, open and close times, scoring
mode). It is sent by `services.question_update` while it holds the question's row lock (so no
forecast can be added between the answer and the change), and by `services.question_terms_frozen`
for display. A receiver returns True when the terms must no longer change (forecasts' receiver:
the question has at least one forecast); any True answer freezes them. Receivers must only read,
and an exception in one propagates (the change is refused rather than let through)."""

from django.dispatch import Signal

resolution_changed = Signal()

terms_frozen_query = Signal()

"""Signals questions sends to the layers above it, which it never imports.

`resolution_changed(sender=Question, question_id=...)` is sent after the transaction that
resolved, corrected, annulled or un-resolved a question has committed (never for a rolled-back
one). Scoring's receivers rescore the question."""

from django.dispatch import Signal

resolution_changed = Signal()

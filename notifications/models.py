"""Notifications (the in-site inbox, the source of e-mail digests and webhook posts), each user's
preferences, and the record of webhook deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from questions.models import Question


class Kind(models.TextChoices):
    QUESTION_RESOLVED = "question_resolved", "Question resolved"
    FORECAST_STALE = "forecast_stale", "Forecast stale"
    CROWD_MOVED = "crowd_moved", "Crowd moved"
    QUESTION_CLOSING = "question_closing", "Question closing"


KINDS: tuple[str, ...] = tuple(Kind.values)

DEFAULT_STALE_DAYS = 14
DEFAULT_MOVE_THRESHOLD = 10
STALE_DAYS_RANGE = (1, 365)
MOVE_THRESHOLD_RANGE = (1, 99)
WEBHOOK_URL_MAX = 500


class Notification(models.Model):
    """One thing a user is told about a question. `event_key` says which event, per kind, so that
    a job that runs twice (or concurrently, or is redelivered) creates nothing twice:

    - question_resolved: the question's `resolution_version` (one per resolution change);
    - forecast_stale and crowd_moved: the id of the standing forecast (once per forecast: a new
      forecast starts a new reminder);
    - question_closing: the question's effective close as Unix seconds."""

    class EmailState(models.TextChoices):
        PENDING = "pending", "Not yet considered by a digest"
        SENT = "sent", "Sent in a digest"
        SKIPPED = "skipped", "Not e-mailed (kind off, or no address)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="notifications")
    event_key = models.BigIntegerField()
    message = models.TextField(max_length=1000)
    created = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(max_length=8, choices=EmailState.choices, default=EmailState.PENDING)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["user", "-created", "-id"], name="notification_inbox"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
            models.Index(fields=["user"], condition=Q(email_state="pending"), name="notification_email_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "question", "event_key"], name="notification_once"),
            models.CheckConstraint(condition=Q(kind__in=KINDS), name="notification_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id} on {self.question_id} ({self.event_key})"

    @property
    def read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """A user's notification settings. Created on the first change (preferences_update); until
    then the defaults below apply, and the jobs read them the same way."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_question_resolved = models.BooleanField(default=True)
    email_forecast_stale = models.BooleanField(default=True)
    email_crowd_moved = models.BooleanField(default=True)
    email_question_closing = models.BooleanField(default=True)
    stale_days = models.PositiveSmallIntegerField(
        default=DEFAULT_STALE_DAYS, help_text="Remind me when my standing forecast is older than this."
    )
    move_threshold = models.PositiveSmallIntegerField(
        default=DEFAULT_MOVE_THRESHOLD,
        help_text="Tell me when the crowd moves by more than this many probability points since my forecast.",
    )
    webhook_url = models.CharField(max_length=WEBHOOK_URL_MAX, blank=True, help_text="https only; empty: none.")
    webhook_set_at = models.DateTimeField(
        null=True, blank=True, help_text="When webhook_url was last changed: older notifications are never posted."
    )
    last_digest_at = models.DateTimeField(null=True, blank=True, help_text="When the last e-mail digest was sent.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(stale_days__gte=STALE_DAYS_RANGE[0], stale_days__lte=STALE_DAYS_RANGE[1]),
                name="preference_stale_days_range",
            ),
            models.CheckConstraint(
                condition=Q(move_threshold__gte=MOVE_THRESHOLD_RANGE[0], move_threshold__lte=MOVE_THRESHOLD_RANGE[1]),
                name="preference_move_threshold_range",
            ),
            models.CheckConstraint(
                condition=Q(webhook_url="") | Q(webhook_url__startswith="https://"), name="preference_webhook_https"
            ),
        ]

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    def email_on(self, kind: str) -> bool:
        return bool(getattr(self, f"email_{kind}"))


class WebhookDelivery(models.Model):
    """The POSTs of one notification to its user's webhook: attempts, the last answer, and when it
    was delivered (or given up). The delivery task locks this row, so a duplicate job never posts
    a delivered notification twice."""

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="webhook_delivery")
    url = models.CharField(max_length=WEBHOOK_URL_MAX)
    attempts = models.PositiveIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The last HTTP status, if any.")
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        state = "delivered" if self.delivered_at else "gave up" if self.gave_up_at else "pending"
        return f"webhook for notification {self.notification_id}: {state} after {self.attempts}"

"""Serializers of the notification endpoints (contracts.md, "Notifications and exports"): the
inbox items, the preferences as shown, and the PATCH body (strict JSON types: a value of the wrong
type is refused, never coerced; an unknown field or kind is refused). The rules (ranges, the
webhook address) are notifications.services'."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from notifications.models import (
    KINDS,
    MOVE_THRESHOLD_RANGE,
    STALE_DAYS_RANGE,
    WEBHOOK_URL_MAX,
    Kind,
    Notification,
    Preference,
)

from .strategy_serializers import StrictBooleanField, StrictCharField, StrictIntegerField


class NotificationSerializer(serializers.Serializer):
    """One notification of the caller's inbox."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    created = serializers.DateTimeField()
    read = serializers.BooleanField()
    question = serializers.IntegerField(source="question_id", help_text="The question's id.")
    message = serializers.CharField()

    def to_representation(self, n: Notification) -> dict[str, Any]:
        return {
            "id": n.pk,
            "kind": n.kind,
            "created": serializers.DateTimeField().to_representation(n.created),
            "read": n.read_at is not None,
            "question": n.question_id,
            "message": n.message,
        }


KIND_HELP = {
    "question_resolved": "A question you forecast resolved, or its resolution changed.",
    "forecast_stale": "Your standing forecast is older than stale_days on a question still open.",
    "crowd_moved": "The crowd moved by more than move_threshold since your last forecast.",
    "question_closing": "A question you follow closes within 48 hours and you have no standing forecast.",
}


class EmailSettingsSerializer(serializers.Serializer):
    """E-mail on or off, per kind of notification."""

    question_resolved = serializers.BooleanField(help_text=KIND_HELP["question_resolved"])
    forecast_stale = serializers.BooleanField(help_text=KIND_HELP["forecast_stale"])
    crowd_moved = serializers.BooleanField(help_text=KIND_HELP["crowd_moved"])
    question_closing = serializers.BooleanField(help_text=KIND_HELP["question_closing"])


class PreferencesSerializer(serializers.Serializer):
    """The caller's notification preferences."""

    email = EmailSettingsSerializer(help_text="E-mail (in a digest) on or off, per kind of notification.")
    stale_days = serializers.IntegerField(help_text="Remind me when my standing forecast is older than this (days).")
    move_threshold = serializers.IntegerField(
        help_text="Tell me when the crowd moves by more than this many probability points since my forecast."
    )
    webhook_url = serializers.CharField(
        allow_null=True, help_text='Each new notification is POSTed here as {"text": ...} (Slack-compatible).'
    )


def preferences_body(pref: Preference) -> dict[str, Any]:
    return {
        "email": {kind: pref.email_on(kind) for kind in KINDS},
        "stale_days": pref.stale_days,
        "move_threshold": pref.move_threshold,
        "webhook_url": pref.webhook_url or None,
    }


class NoUnknownFieldsMixin:
    """Refuse fields the serializer does not declare (a typo must not be silently ignored)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = [k for k in data if k not in self.fields]
            if unknown:
                raise serializers.ValidationError({str(k): ["unknown field"] for k in unknown})
        return super().to_internal_value(data)


class EmailSettingsInSerializer(NoUnknownFieldsMixin, serializers.Serializer):
    """E-mail on (true) or off (false) for some kinds; an unknown kind is refused."""

    question_resolved = StrictBooleanField(required=False, help_text=KIND_HELP["question_resolved"])
    forecast_stale = StrictBooleanField(required=False, help_text=KIND_HELP["forecast_stale"])
    crowd_moved = StrictBooleanField(required=False, help_text=KIND_HELP["crowd_moved"])
    question_closing = StrictBooleanField(required=False, help_text=KIND_HELP["question_closing"])


class PreferencesUpdateSerializer(NoUnknownFieldsMixin, serializers.Serializer):
    """Any subset of the preferences; `email` may name some kinds only."""

    email = EmailSettingsInSerializer(required=False, help_text="true or false per kind; kinds left out are kept.")
    stale_days = StrictIntegerField(
        required=False, min_value=STALE_DAYS_RANGE[0], max_value=STALE_DAYS_RANGE[1], help_text="Days, 1 to 365."
    )
    move_threshold = StrictIntegerField(
        required=False,
        min_value=MOVE_THRESHOLD_RANGE[0],
        max_value=MOVE_THRESHOLD_RANGE[1],
        help_text="Probability points, 1 to 99.",
    )
    webhook_url = StrictCharField(
        required=False,
        allow_null=True,
        max_length=WEBHOOK_URL_MAX,
        trim_whitespace=False,
        validators=[RegexValidator(r"^https://", message="must be an https:// URL")],
        help_text="An https URL of a public host, or null to remove the webhook.",
    )

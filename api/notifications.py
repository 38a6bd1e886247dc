"""Notification endpoints (contracts.md, "Notifications and exports"): the caller's inbox and
preferences, thin views over notifications.services and notifications.selectors. Everything is
the caller's own: another user's notification is a 404, and nobody reads anyone else's
preferences (there is no path naming another user)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from config.parsers import LimitedJSONParser
from config.schema import error_responses
from notifications import selectors, services
from notifications.models import Notification

from .notifications_serializers import (
    NotificationSerializer,
    PreferencesSerializer,
    PreferencesUpdateSerializer,
    preferences_body,
)
from .strategy_serializers import validated

ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The notification's id.")


class MyNotificationsView(generics.ListAPIView):
    """The caller's notifications, newest first."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = NotificationSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notifications_for_user(user=self.request.user)

    @extend_schema(
        tags=["notifications"],
        responses={200: NotificationSerializer(many=True), **error_responses(401)},
        description="Your notifications, newest first: question_resolved, forecast_stale, crowd_moved, "
        "question_closing. `question` is the question's id.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationReadView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["notifications"],
        parameters=[ID_PARAM],
        request=None,
        responses={200: NotificationSerializer, **error_responses(401, 404)},
        description="Mark one of your notifications read (again: no change). Another user's is a 404.",
    )
    def post(self, request, pk: int):
        n = selectors.notification_for(user=request.user, pk=pk)
        if n is None:
            raise Http404
        return Response(NotificationSerializer(services.notification_read(notification=n)).data)


class MyPreferencesView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        tags=["notifications"],
        responses={200: PreferencesSerializer, **error_responses(401)},
        description="Your notification preferences (the defaults until you change one).",
    )
    def get(self, request):
        return Response(preferences_body(selectors.preference_for(user=request.user)))

    @extend_schema(
        tags=["notifications"],
        request=PreferencesUpdateSerializer,
        responses={200: PreferencesSerializer, **error_responses(400, 401)},
        description='Change some of your preferences, e.g. `{"email": {"crowd_moved": false}, "stale_days": 7}`. '
        "A bad value is a 400 naming the field (`stale_days`, `email.crowd_moved`, `webhook_url`): "
        "stale_days 1..365, move_threshold 1..99, webhook_url an https URL of a public host (or null).",
    )
    def patch(self, request):
        changes = validated(PreferencesUpdateSerializer, request.data)
        if "email" in changes:
            changes["email"] = dict(changes["email"])
        pref = services.preferences_update(user=request.user, changes=changes)
        return Response(preferences_body(pref))

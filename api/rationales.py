"""Rationales as a discussion (issue 14): others' rationales on a question, readable once the reader
has forecast on it or it has closed (forecasts.selectors.rationales_visible), never hidden ones;
and staff moderation (forecasts.services.forecast_rationale_hide). Thin views."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import Conflict
from config.schema import error_responses
from forecasts import selectors, services
from forecasts.models import Forecast

from .forecasts import visible_question
from .serializers import QUARTILES_SCHEMA, by_label, documented, quartiles
from .strategy_serializers import validated


class RationaleUserOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The public display name.")


class RationaleSerializer(serializers.Serializer):
    """One forecast's rationale, with who made it, when, and what they forecast."""

    forecast = serializers.IntegerField(help_text="The forecast's id.")
    user = RationaleUserOut()
    time = serializers.DateTimeField()
    probability = serializers.FloatField(allow_null=True, help_text="P(yes) on a binary question; else null.")
    probabilities = serializers.DictField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text="Option label -> probability; null on numeric and date questions (see quartiles).",
    )
    rationale = serializers.CharField()
    quartiles = documented(
        {
            **QUARTILES_SCHEMA,
            "description": "Numeric and date questions: the forecast's 25%, 50% and 75% quantiles in the "
            "question's units; null on binary and multiple-choice questions.",
        }
    )

    def to_representation(self, f: Forecast) -> dict[str, Any]:
        q = self.context["question"]
        probs = f.probabilities
        return {
            "forecast": f.pk,
            "user": {"id": f.user_id, "name": f.user.public_name},
            "time": serializers.DateTimeField().to_representation(f.created_at),
            "probability": probs[0] if q.type == "binary" else None,
            "probabilities": by_label(self.context["labels"], probs),
            "rationale": f.rationale,
            "quartiles": quartiles(q, f.cdf),
        }


class QuestionRationalesView(generics.ListAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = RationaleSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Forecast.objects.none()
        q = visible_question(self.request, self.kwargs["pk"])
        user = self.request.user if self.request.user.is_authenticated else None
        if not selectors.rationales_visible(question=q, user=user, now=timezone.now()):
            raise Conflict(
                "forecast on this question first: others' rationales show once you have (or once it closes)",
                field="question",
                code="forecast_first",
            )
        self.question = q
        return selectors.rationales_for_question(question=q, reader=user)

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        q = getattr(self, "question", None)
        if q is not None:
            ctx["labels"] = [o.label for o in q.options.all()]
            ctx["question"] = q
        return ctx

    @extend_schema(
        tags=["forecasts"],
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The question's id.")],
        responses={200: RationaleSerializer(many=True), **error_responses(404, 409)},
        description="Other forecasters' rationales on a question, newest first (public name, time, "
        "probability, or quartiles on a numeric or date question). Readable once you have forecast on it, or once it has closed; before that a 409 "
        "(`forecast_first`). Rationales hidden by a moderator are never shown.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class HideRationaleIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the rationale is hidden (kept for the audit).")


class RationaleHideOut(serializers.Serializer):
    forecast = serializers.IntegerField()
    hidden_by = serializers.IntegerField(help_text="The moderator's user id.")
    hidden_at = serializers.DateTimeField()
    reason = serializers.CharField()


class HideRationaleView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        tags=["forecasts"],
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The forecast's id.")],
        request=HideRationaleIn,
        responses={200: RationaleHideOut, **error_responses(400, 401, 403, 404, 409)},
        description="Staff: hide a forecast's rationale from other forecasters. The forecast and its text are "
        "kept and the hide is audited (who, when, why). A forecast without a rationale, or one already "
        "hidden, is a 409.",
    )
    def post(self, request, pk: int):
        data = validated(HideRationaleIn, request.data)
        forecast = get_object_or_404(Forecast, pk=pk)
        hide = services.forecast_rationale_hide(forecast=forecast, by=request.user, reason=data["reason"])
        body = {
            "forecast": hide.forecast_id,
            "hidden_by": hide.hidden_by_id,
            "hidden_at": serializers.DateTimeField().to_representation(hide.hidden_at),
            "reason": hide.reason,
        }
        return Response(body)

"""Question endpoints: thin views over questions.services and questions.selectors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.exceptions import DomainError, ValidationFailed
from config.params import reject_empty
from config.permissions import IsStaffOrReadOnly
from config.schema import error_responses
from forecasts.selectors import with_crowd
from questions import selectors, services
from questions.models import CONTINUOUS_TYPES, Question

from .serializers import (
    NoteSerializer,
    QuestionCreateSerializer,
    QuestionSerializer,
    ResolveSerializer,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=list(selectors.STATUSES),
                description="open (accepting forecasts), closing_soon (open, closes within 7 days), closed (past close, unresolved), resolved, annulled, draft (staff).",
            ),
            OpenApiParameter("series", OpenApiTypes.STR, description="Series slug."),
            OpenApiParameter("article", OpenApiTypes.INT, description="Article id."),
            OpenApiParameter("search", OpenApiTypes.STR, description="Words in the title or description."),
        ],
        responses={200: QuestionSerializer(many=True), **error_responses(400)},
    ),
    retrieve=extend_schema(responses={200: QuestionSerializer, **error_responses(404)}),
)
class QuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = QuestionSerializer
    permission_classes = [IsStaffOrReadOnly]
    filter_backends: list = []

    def get_queryset(self):
        params = self.request.query_params
        reject_empty(params, "status", "article")
        status_ = params.get("status")
        if status_ and status_ not in selectors.STATUSES:
            raise DomainError(f"must be one of {', '.join(selectors.STATUSES)}", field="status")
        article = params.get("article")
        if article is not None and not article.isdigit():
            raise DomainError("must be an integer article id", field="article")
        return with_crowd(
            selectors.question_list(
                user=self.request.user,
                status=status_,
                series=params.get("series"),
                article=int(article) if article else None,
                search=params.get("search"),
            )
        )

    def get_serializer_context(self):
        ctx = super().get_serializer_context()
        ctx["with_history"] = self.action == "retrieve"
        return ctx

    @extend_schema(
        request=QuestionCreateSerializer,
        responses={201: QuestionSerializer, **error_responses(400, 401, 403)},
        description="Staff: a new question. Binary: no options (they are yes and no); multiple choice: 2 to 50 "
        "`options`; numeric and date: `lower` < `upper` (numbers; ISO 8601 instants for date), optionally "
        "`open_lower` / `open_upper` (the outcome may fall beyond that bound) and, numeric only, a `unit`.",
    )
    def create(self, request):
        s = QuestionCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        published = data.pop("published", True)
        with api_field_names():
            data.update(_range(data))
            question = services.question_create(**data, published=published)
        return Response(
            QuestionSerializer(self._fresh(question), context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def _fresh(self, question: Question) -> Question:
        return with_crowd(selectors.question_list(user=self.request.user)).get(pk=question.pk)

    def _target(self, pk) -> Question:
        return get_object_or_404(Question, pk=pk)

    @extend_schema(
        request=ResolveSerializer,
        responses={200: QuestionSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAdminUser])
    def resolve(self, request, pk=None):
        """Resolve (or correct a resolution, or annul with "annulled"). Scores follow by a Celery job.

        The outcome: "yes" / "no" or an option label; on a numeric question the value, on a date
        question the ISO 8601 instant, or "below" / "above" past an open bound (a value beyond an
        open bound counts as that; beyond a closed one it is refused)."""
        s = ResolveSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        q = services.question_resolve(
            question=self._target(pk),
            outcome=s.validated_data["resolution"],
            known_at=s.validated_data.get("known_at"),
            note=s.validated_data["note"],
            by=request.user,
        )
        return Response(QuestionSerializer(self._fresh(q), context=self.get_serializer_context()).data)

    @extend_schema(
        request=NoteSerializer, responses={200: QuestionSerializer, **error_responses(400, 401, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAdminUser])
    def unresolve(self, request, pk=None):
        """Undo a resolution or annulment; the scores are removed."""
        s = NoteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        q = services.question_unresolve(question=self._target(pk), note=s.validated_data["note"], by=request.user)
        return Response(QuestionSerializer(self._fresh(q), context=self.get_serializer_context()).data)


# The service names a range's bounds after its columns (range_lower, range_upper); the API, like
# score_json and import_history, calls them lower and upper.
_API_NAMES = {"range_lower": "lower", "range_upper": "upper"}


@contextmanager
def api_field_names() -> Iterator[None]:
    """Re-raise the service's refusals with the API's names of the range fields."""
    try:
        yield
    except ValidationFailed as e:
        fields = {_API_NAMES.get(k, k): rules for k, rules in e.fields.items()}
        raise ValidationFailed(fields, message=e.message) from None
    except DomainError as e:
        if e.field not in _API_NAMES:
            raise
        raise type(e)(e.message, field=_API_NAMES[e.field], code=e.code) from None


def range_values(data: dict, question_type: str | None) -> dict[str, Any]:
    """`lower` and `upper` as the API takes them (popped from `data`; None when absent), in the
    units questions.services stores: numbers, a date question's ISO 8601 instants parsed to POSIX
    seconds by questions.selectors.continuous_value, so the API refuses a bare number there (every
    endpoint that takes a range: new questions and approved candidates). A refusal names the field."""
    out = {}
    errors: dict[str, list[str]] = {}
    for name in ("lower", "upper"):
        value = data.pop(name, None)
        if value is not None and question_type in CONTINUOUS_TYPES:
            try:
                value = selectors.continuous_value(question_type=question_type, value=value, field=name)
            except DomainError as e:
                errors[name] = [e.message]
        out[name] = value
    if errors:
        raise ValidationFailed(errors, message=next(f"{k}: {v[0]}" for k, v in errors.items()))
    return out


def _range(data: dict) -> dict:
    """`lower` and `upper` of a new question as questions.services takes them: range_lower and
    range_upper (range_values)."""
    return {f"range_{name}": value for name, value in range_values(data, data.get("type")).items()}

"""Strategic-question endpoints (contracts.md, "Strategic questions"): thin views over
strategy.services and strategy.selectors.

Anyone reads the published ones (staff also the drafts); staff create them and replace their
links. Bodies are JSON only."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.params import parse_when
from config.parsers import LimitedJSONParser
from config.permissions import IsStaffOrReadOnly
from config.schema import error_responses
from strategy import selectors, services
from strategy.models import StrategicQuestion

from .strategy_serializers import (
    LinksInSerializer,
    StrategicQuestionCreateSerializer,
    StrategicQuestionDetailSerializer,
    StrategicQuestionListItemSerializer,
    validated,
)

SLUG_PARAM = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The strategic question's slug.")
SINCE_PARAM = OpenApiParameter(
    "since",
    OpenApiTypes.DATETIME,
    required=False,
    description="An ISO 8601 date or date-time (UTC), not in the future: adds `moved`, what moved the "
    "composite from then to now.",
)


def _visible(request, slug: str) -> StrategicQuestion:
    sq = selectors.strategic_question_for(slug=slug, user=request.user)
    if sq is None:
        raise Http404
    return sq


def _detail(request, sq: StrategicQuestion, since=None) -> dict:
    return selectors.strategic_question_detail(strategic_question=sq, user=request.user, since=since)


class StrategicQuestionListCreateView(generics.GenericAPIView):
    permission_classes = [IsStaffOrReadOnly]
    parser_classes = [LimitedJSONParser]
    serializer_class = StrategicQuestionListItemSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.strategic_question_list(user=self.request.user)

    @extend_schema(
        tags=["strategic questions"],
        responses={200: StrategicQuestionListItemSerializer(many=True), **error_responses(400)},
        description="The strategic questions (published ones; staff also see drafts), each with its composite now.",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(StrategicQuestionListItemSerializer(page, many=True).data)

    @extend_schema(
        tags=["strategic questions"],
        request=StrategicQuestionCreateSerializer,
        responses={201: StrategicQuestionDetailSerializer, **error_responses(400, 401, 403)},
        description="Create a strategic question (staff), optionally with its drivers and indicator links "
        "(as in PUT .../links/). Errors name the field, e.g. `drivers[0].indicators[1].weight`.",
    )
    def post(self, request):
        sq = services.strategic_question_create(**validated(StrategicQuestionCreateSerializer, request.data))
        return Response(_detail(request, sq), status=status.HTTP_201_CREATED)


class StrategicQuestionDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["strategic questions"],
        parameters=[SLUG_PARAM, SINCE_PARAM],
        responses={200: StrategicQuestionDetailSerializer, **error_responses(400, 404)},
        description="A strategic question: its poles, drivers and indicators (with passage, crowd and "
        "resolution), its composite now and the composite's history; with `since`, what moved it.",
    )
    def get(self, request, slug: str):
        sq = _visible(request, slug)
        since = parse_when(request.query_params.get("since"), "since")
        return Response(_detail(request, sq, since))


class StrategicLinksView(APIView):
    permission_classes = [permissions.IsAdminUser]
    parser_classes = [LimitedJSONParser]

    @extend_schema(
        tags=["strategic questions"],
        parameters=[SLUG_PARAM],
        request=LinksInSerializer,
        responses={200: StrategicQuestionDetailSerializer, **error_responses(400, 401, 403, 404)},
        description="Replace every driver and indicator link of a strategic question (staff). Refused, naming "
        "the field (`drivers[0].indicators[1].weight`): a direction other than 1 or -1, a weight not in "
        "(0, 1000], an unknown question, a question linked twice, an unordered multiple-choice question.",
    )
    def put(self, request, slug: str):
        sq = _visible(request, slug)
        data = validated(LinksInSerializer, request.data)
        sq = services.strategic_links_replace(strategic_question=sq, drivers=data["drivers"])
        return Response(_detail(request, sq))

"""Forecast and score endpoints: thin views over forecasts.services and forecasts.selectors."""

from __future__ import annotations

import functools
import threading

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status, throttling
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import token_secret
from accounts.services import token_owner_hint, token_user
from config.exceptions import Conflict
from config.jsonlimits import loads_limited
from config.renderers import CSVMixin, csv_errors
from config.schema import error_responses
from config.throttles import WindowRateThrottle
from forecasts import selectors, services, window
from forecasts.models import Forecast
from questions.models import Question
from questions.selectors import question_visible
from scoring.models import Score
from scoring.selectors import scores_for_question, scores_for_user

from .leaderboards import FORMAT_PARAM, SCORE_FILTER_PARAMS, score_filter_args
from .serializers import (
    FORECAST_REQUEST,
    ForecastInputSerializer,
    ForecastSerializer,
    ScoreSerializer,
)


class ForecastThrottle(WindowRateThrottle, throttling.UserRateThrottle):
    """The forecast submissions' throttle. On PostgreSQL its windows are in the database
    (forecasts.window), where the fast path's statement counts a request itself; elsewhere in
    Redis or the cache, as the other throttles."""

    scope = "forecast"

    def window_count(self, key: str, now: float) -> tuple[bool, float | None, int] | None:
        if not window.windows_available():
            return super().window_count(key, now)
        return window.window_count(key=key, now=now, duration=self.duration, num_requests=self.num_requests)


class QuestionForecastsView(APIView):
    """The caller's forecasts on a question (GET), or a new forecast (POST).

    A POST in the common shape (token authentication, a JSON body, a JSON answer) first tries the
    fast path, `fast_submit`; anything it does not store goes to the DRF view below, which answers
    exactly as it always has."""

    permission_classes = [permissions.IsAuthenticated]

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)

        @functools.wraps(view)  # keeps cls, initkwargs and csrf_exempt for URL introspection (the schema)
        def submit_or_view(request, *args, **kwargs):
            if request.method == "POST":
                response = fast_submit(request, kwargs["pk"])
                if response is not None:
                    return response
            return view(request, *args, **kwargs)

        return submit_or_view

    def get_throttles(self):
        if self.request.method == "POST":
            return [ForecastThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=FORECAST_REQUEST,
        responses={201: ForecastSerializer, **error_responses(400, 401, 404, 409, 429)},
        tags=["forecasts"],
        description='Exactly one shape. Binary: `{"probability": 0.7}`. Multiple choice: `{"probabilities": '
        '{"A": 0.6, "B": 0.4}}`. Numeric and date questions, a distribution over the range, given as the CDF '
        'itself (`{"cdf": [201 numbers]}`, on the grid lower + i (upper - lower) / 200), as a mixture of 1 to 3 '
        'logistic components (`{"components": [{"centre": 42, "scale": 5, "weight": 1}]}`, in the question\'s '
        'units, the scale in days for a date question), or as five quantiles (`{"quantiles": {"5": v, "25": v, '
        '"50": v, "75": v, "95": v}}`); the last two are made into the CDF on the server, and the response '
        "carries the stored `cdf` and its `quartiles`. A date question's values are ISO 8601 instants. Optional "
        "`rationale`. A rule broken is a 400 naming the field (e.g. `cdf[17]`, `components[0].scale`, "
        "`quantiles`); refused (409) at or after the close, and on resolved or annulled questions.",
    )
    def post(self, request, pk: int):
        # One locked fetch answers existence, visibility and the open check, and gives the options;
        # the checks run in the order they always have: 404, then 400, then 409.
        def check(q: Question):
            if not question_visible(question=q, user=request.user):
                raise Http404
            s = ForecastInputSerializer(data=request.data)
            s.is_valid(raise_exception=True)
            return s.validated_data["payload"], s.validated_data["rationale"]

        try:
            f, q, labels = services.forecast_submit_checked(user=request.user, question_id=pk, check=check)
        except Question.DoesNotExist:
            raise Http404 from None
        f.question = q
        data = ForecastSerializer(f, context={"_labels": {q.pk: labels}}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: ForecastSerializer(many=True), **error_responses(401, 404)}, tags=["forecasts"])
    def get(self, request, pk: int):
        q = _get_visible(request, pk)
        rows = list(selectors.forecasts_for_user(user=request.user).filter(question=q))
        for f in rows:
            f.question = q
        return Response(ForecastSerializer(rows, many=True).data)


_JSON = "application/json"
_created_headers: dict[str, str] = {}
_per_thread = threading.local()


def _forecast_created(request, f: Forecast, q: Question, labels: list[str]) -> HttpResponse:
    """The 201 answer to a stored forecast, as QuestionForecastsView.post gives it through DRF:
    the same serializer and renderer, and the headers DRF's view adds (Allow, Vary).

    The serializer is built once per thread (building a ModelSerializer's fields costs more than
    the rest of the answer) and given this forecast's labels through its context."""
    serializer = getattr(_per_thread, "serializer", None)
    if serializer is None:
        serializer = _per_thread.serializer = ForecastSerializer(context={"_labels": {}})
        view = QuestionForecastsView()
        view.setup(request, pk=q.pk)  # as as_view() sets a view up (it adds HEAD for GET)
        _created_headers.update(view.default_response_headers)
    f.question = q
    serializer.context["_labels"] = {q.pk: labels}
    data = serializer.to_representation(f)
    response = HttpResponse(JSONRenderer().render(data, _JSON), status=status.HTTP_201_CREATED, content_type=_JSON)
    for name, value in _created_headers.items():
        response[name] = value
    return response


def fast_submit(request, pk: int) -> HttpResponse | None:
    """The fast path of a forecast POST: `Authorization: Token`, a UTF-8 JSON body, no query
    string, a JSON answer accepted; then the input (the serializer's own rules) and
    forecasts.services.forecast_submit_fast: one SQL statement that checks the token, locks the
    question, counts the request in the forecast throttle's window of the token's user (counted
    once even when the request goes on to DRF) and inserts. The token's user id comes from accounts.services'
    token_owner_hint, or on a token new to this process from token_user (one query more).
    Returns the 201, or None with nothing written: the DRF view then answers the request (every
    refusal, session and forced authentication, form bodies, other formats)."""
    if (
        request.GET
        or request.content_type != _JSON
        or request.content_params.get("charset", "utf-8").lower() != "utf-8"
    ):
        return None
    if request.META.get("HTTP_ACCEPT", "*/*") not in ("*/*", _JSON) or len(request.content_params) > 1:
        return None
    try:
        raw = token_secret(request)
        if raw is None:
            return None
        data = loads_limited(request.body.decode())
        payload = ForecastInputSerializer().to_internal_value(data)
    except (AuthenticationFailed, RequestDataTooBig, UnicodeDecodeError, ValueError, ValidationError):
        return None
    key_hash, user_id = token_owner_hint(raw=raw)
    if user_id is None:  # a token this process has not seen yet: check it on its own first
        user = token_user(raw=raw)
        if user is None:
            return None
        user_id = user.pk
    throttle = ForecastThrottle()
    key, now = throttle.ident_key(user_id), throttle.timer()
    rate = (None, None) if throttle.rate is None else (throttle.duration, throttle.num_requests)
    done = services.forecast_submit_fast(
        user_id=user_id, token_hash=key_hash, question_id=pk, payload=payload["payload"],
        rationale=payload["rationale"], throttle=(key, now, *rate),
    )  # fmt: skip
    if done.throttle is not None:  # counted by the statement: the DRF view must not count it again
        throttle.remember(request, key, now, *done.throttle)
    if done.stored is None:
        return None
    return _forecast_created(request, *done.stored)


def _get_visible(request, pk: int) -> Question:
    q = get_object_or_404(Question.objects.prefetch_related("options"), pk=pk)
    if not question_visible(question=q, user=request.user):
        raise Http404
    return q


def visible_question(request, pk: int) -> Question:
    """The question `pk` if the caller may see it, else a 404 (with its options prefetched)."""
    return _get_visible(request, pk)


class WithdrawView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=None,
        responses={201: ForecastSerializer, **error_responses(401, 404, 409)},
        tags=["forecasts"],
        description="End your standing forecast without making a new one (history is kept).",
    )
    def post(self, request, pk: int):
        q = _get_visible(request, pk)
        f = services.forecast_withdraw(user=request.user, question=q)
        f.question = q
        return Response(ForecastSerializer(f).data, status=status.HTTP_201_CREATED)


class MyForecastsView(generics.ListAPIView):
    """All of the caller's forecasts and withdrawals, newest first."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ForecastSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Forecast.objects.none()
        return selectors.forecasts_for_user(user=self.request.user).prefetch_related("question__options")

    @extend_schema(tags=["forecasts"], responses={200: ForecastSerializer(many=True), **error_responses(401)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class QuestionScoresView(generics.ListAPIView):
    """Every forecaster's scores on a resolved question, and the crowd's benchmark rows."""

    permission_classes = [permissions.AllowAny]
    serializer_class = ScoreSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Score.objects.none()
        q = _get_visible(self.request, self.kwargs["pk"])
        if q.state != Question.State.RESOLVED:
            raise Conflict("the question is not resolved: it has no scores", field="question", code="not_resolved")
        return scores_for_question(question=q)

    @extend_schema(tags=["scores"], responses={200: ScoreSerializer(many=True), **error_responses(404, 409)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


MY_SCORES_CSV_HEADER = [
    "question", "question_title", "resolved_at", "brier_final", "brier_mean", "participation", "relative_brier",
    "baseline", "peer", "coverage", "computed_at", "crps_final", "crps_mean", "relative_crps",
]  # fmt: skip


class MyScoresView(CSVMixin, generics.ListAPIView):
    """The caller's scores, newest resolution first; `?format=csv` gives them all as CSV."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ScoreSerializer
    csv_header = MY_SCORES_CSV_HEADER

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Score.objects.none()
        return scores_for_user(user=self.request.user, **score_filter_args(self.request))

    @extend_schema(
        tags=["scores"],
        parameters=[FORMAT_PARAM, *SCORE_FILTER_PARAMS],
        description="Your scores, newest resolution first; optionally only one series' questions "
        "(`series`, a slug) or those resolved in [resolved_after, resolved_before).",
        responses={
            (200, "application/json"): ScoreSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="With format=csv: every score, one row each."
            ),
            **csv_errors(400, 401),
        },
    )
    def get(self, request, *args, **kwargs):
        if self.wants_csv(request):
            self.paginator.get_page_size(request)  # the paging parameters are checked, then unused:
            self.paginator.page_number(request)  # the CSV holds every score
            rows = [
                {"question": s.question_id, "question_title": s.question.title, "resolved_at": s.resolved_at.isoformat(),
                 "brier_final": s.brier_final, "brier_mean": s.brier_mean, "participation": s.participation,
                 "relative_brier": s.relative_brier, "baseline": s.baseline, "peer": s.peer, "coverage": s.coverage,
                 "computed_at": s.computed_at.isoformat(), "crps_final": s.crps_final, "crps_mean": s.crps_mean,
                 "relative_crps": s.relative_crps}
                for s in self.get_queryset()
            ]  # fmt: skip
            return self.csv_response(rows, "my-scores.csv")
        return super().get(request, *args, **kwargs)

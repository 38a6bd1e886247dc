"""Leaderboard and calibration endpoints: thin views over scoring.selectors.

Public reads (anyone may see them); users appear only by id and public name. `?format=csv` gives
a leaderboard's every entry (and the crowd row) as CSV instead of a JSON page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.params import parse_int, reject_empty
from config.renderers import CSV, JSON, CSVMixin, csv_errors
from config.schema import error_responses
from forecast_math import AGGREGATES, DEFAULT_AGGREGATE
from questions.models import Question, Series
from questions.selectors import question_visible
from scoring.cache import page_get, page_set, scope_key
from scoring.figures import RANK_KEYS
from scoring.selectors import (
    calibration_for_crowd,
    calibration_for_user,
    leaderboard_read,
    leaderboard_read_versioned,
    series_scope_hint,
)

FORMAT_PARAM = OpenApiParameter(
    "format", str, enum=["json", "csv"], required=False,
    description="`csv`: every entry as CSV (text/csv) instead of a JSON page.",
)  # fmt: skip


# --- Schema serializers (output only) -------------------------------------------------------


class PublicUserOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The public display name.")


class _Figures(serializers.Serializer):
    questions = serializers.IntegerField(help_text="Scored questions in scope (of every type).")
    relative_brier_sum = serializers.FloatField(
        help_text="Sum of relative Brier (0..2 scale; negative beats the crowd median) over the binary and "
        "multiple-choice questions only (0 with none): relative CRPS is never added to it."
    )
    relative_brier_mean = serializers.FloatField(
        allow_null=True,
        help_text="Mean relative Brier over the binary and multiple-choice questions; null with none.",
    )
    relative_brier_mean_ci = serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, allow_null=True,
        help_text="95% percentile bootstrap interval of the mean (1,999 replicates over questions, seeded); "
        "null when relative_brier_mean is.",
    )  # fmt: skip
    brier_mean = serializers.FloatField(
        allow_null=True,
        help_text="Mean time-averaged two-sided Brier (0..2, lower is better) over the binary and multiple-choice "
        "questions; null with none.",
    )
    brier_mean_ci = serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, allow_null=True,
        help_text="95% bootstrap interval of brier_mean.",
    )  # fmt: skip
    participation_mean = serializers.FloatField(
        help_text="Mean share of each question's window with a standing forecast."
    )
    baseline_sum = serializers.FloatField(
        help_text="Sum of baseline (log) scores over every question, numeric and date included; higher is better."
    )
    peer_sum = serializers.FloatField(
        help_text="Sum of peer (log) scores over every question, numeric and date included; higher is better."
    )
    crps_questions = serializers.IntegerField(help_text="Numeric and date questions among `questions`.")
    relative_crps_sum = serializers.FloatField(
        help_text="Sum of relative CRPS over the numeric and date questions (0 with none). CRPS is measured in "
        "range units (the outcome's distance divided by upper - lower; 0 is best); relative CRPS is the "
        "time-integrated difference between the CRPS and the median CRPS of the forecasters active at each moment, "
        "divided by the window (negative beats the crowd). It is never added to relative Brier."
    )
    relative_crps_mean = serializers.FloatField(
        allow_null=True, help_text="Mean relative CRPS over the numeric and date questions; null with none."
    )


class LeaderboardEntryOut(_Figures):
    rank = serializers.IntegerField(
        help_text="Competition rank: ties (within 1e-9) share a rank, the next skips (1, 1, 3)."
    )
    user = PublicUserOut()


class CrowdEntryOut(_Figures):
    user = serializers.JSONField(allow_null=True, help_text="Always null: the crowd is a benchmark, never ranked.")
    method = serializers.CharField(help_text="The crowd aggregate (median).")


class ScopeOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["global", "series", "question"])
    series = serializers.CharField(allow_null=True)
    question = serializers.IntegerField(allow_null=True)


class LeaderboardOut(serializers.Serializer):
    scope = ScopeOut()
    rank_by = serializers.ChoiceField(choices=list(RANK_KEYS))
    min_questions = serializers.IntegerField()
    resolved_after = serializers.DateTimeField(allow_null=True)
    resolved_before = serializers.DateTimeField(allow_null=True)
    scale = serializers.CharField(
        help_text='"brier_0_2": Brier figures are two-sided, 0..2, lower is better. (CRPS figures, on numeric '
        "and date questions, are in range units, 0 best.)"
    )
    count = serializers.IntegerField(help_text="Entries in the whole leaderboard (all pages).")
    entries = LeaderboardEntryOut(many=True)
    crowd = CrowdEntryOut(allow_null=True)
    me = LeaderboardEntryOut(
        allow_null=True, help_text="The caller's entry, wherever it falls; null when anonymous or not eligible."
    )


class CalibrationBinOut(serializers.Serializer):
    lower = serializers.FloatField()
    upper = serializers.FloatField()
    count = serializers.IntegerField()
    mean_forecast = serializers.FloatField(allow_null=True)
    observed_frequency = serializers.FloatField(allow_null=True)
    wilson_low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval of the observed frequency.")
    wilson_high = serializers.FloatField(allow_null=True)


class MurphyOut(serializers.Serializer):
    brier = serializers.FloatField(help_text="One-sided Brier (0..1) over the events.")
    reliability = serializers.FloatField()
    resolution = serializers.FloatField()
    uncertainty = serializers.FloatField()


class SubjectOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["user", "crowd"])
    user = PublicUserOut(allow_null=True)
    method = serializers.CharField(allow_null=True)


class PitBinOut(serializers.Serializer):
    lower = serializers.FloatField()
    upper = serializers.FloatField(help_text="Exclusive, except for the last bin, which holds 1.0.")
    count = serializers.IntegerField(help_text="PIT values in [lower, upper).")


class PitOut(serializers.Serializer):
    n = serializers.IntegerField(help_text="PIT values: one per resolved numeric or date question.")
    bins = PitBinOut(
        many=True,
        help_text="Ten bins of width 0.1. A calibrated forecaster's PIT values are uniform: about n / 10 in "
        "each; a hump in the middle means too-wide distributions, humps at the ends too-narrow ones.",
    )


class CalibrationOut(serializers.Serializer):
    subject = SubjectOut()
    n_events = serializers.IntegerField(
        help_text="Binary events: one per binary question, one per option of a multiple-choice question "
        "(numeric and date questions are counted under `pit`)."
    )
    bins = CalibrationBinOut(many=True, help_text="Ten bins of width 0.1, not folded at 50%.")
    murphy = MurphyOut(allow_null=True, help_text="Murphy (1973) decomposition; null with no events.")
    pit = PitOut(
        help_text="Numeric and date questions: the histogram of the PIT values of the final forecasts, the "
        "forecast CDF at the outcome (an outcome below the range counts cdf[0] / 2, above it "
        "(1 + cdf[200]) / 2)."
    )


# --- Leaderboards ----------------------------------------------------------------------------

LEADERBOARD_CSV_HEADER = [
    "rank", "user_id", "user_name", "crowd_method", "questions", "relative_brier_sum", "relative_brier_mean",
    "relative_brier_mean_ci_low", "relative_brier_mean_ci_high", "brier_mean", "brier_mean_ci_low",
    "brier_mean_ci_high", "participation_mean", "baseline_sum", "peer_sum", "crps_questions", "relative_crps_sum",
    "relative_crps_mean",
]  # fmt: skip

LEADERBOARD_PARAMS = [
    OpenApiParameter("rank_by", str, enum=list(RANK_KEYS), required=False,
                     description="Rank key. Default: relative_brier_sum (series, question), relative_brier_mean (global). "
                     "Lower is better for the Brier keys, higher for peer_sum and baseline_sum."),
    OpenApiParameter("min_questions", int, required=False,
                     description="Entries need at least this many scored questions in scope. Default: 1 (series, question), 10 (global)."),
    OpenApiParameter("resolved_after", OpenApiTypes.DATETIME, required=False,
                     description="Only questions resolved at or after this date or date-time (UTC)."),
    OpenApiParameter("resolved_before", OpenApiTypes.DATETIME, required=False,
                     description="Only questions resolved before this date or date-time (UTC)."),
    OpenApiParameter("page", int, required=False, description="Page number, from 1."),
    OpenApiParameter("page_size", int, required=False, description="Entries per page, 1..500 (default 50)."),
    FORMAT_PARAM,
]  # fmt: skip


def _page_params(request) -> tuple[int, int]:
    qp = request.query_params
    page = parse_int(qp.get("page", 1), "page", minimum=1)
    page_size = parse_int(qp.get("page_size", 50), "page_size", minimum=1, maximum=500)
    return page, page_size


def _csv_rows(body: dict) -> list[dict]:
    def flat(e: dict, rank: Any, uid: Any, name: Any, method: str) -> dict:
        # the entry's figures as they are (the renderer takes the header's columns), the intervals split
        rel = e["relative_brier_mean_ci"] or [None, None]
        bm = e["brier_mean_ci"] or [None, None]
        return {
            **e, "rank": rank, "user_id": uid, "user_name": name, "crowd_method": method,
            "relative_brier_mean_ci_low": rel[0], "relative_brier_mean_ci_high": rel[1],
            "brier_mean_ci_low": bm[0], "brier_mean_ci_high": bm[1],
        }  # fmt: skip

    rows = [flat(e, e["rank"], e["user"]["id"], e["user"]["name"], "") for e in body["entries"]]
    if body["crowd"]:
        rows.append(flat(body["crowd"], None, None, "Crowd", body["crowd"]["method"]))
    return rows


_FILTERS = ("rank_by", "min_questions", "resolved_after", "resolved_before")


class _LeaderboardView(CSVMixin, APIView):
    """An anonymous caller's JSON page (the same bytes for everyone: `me` is null) is cached
    rendered, per scope version (scoring.cache.page_get): a warm read is one Redis round trip and
    no query for the global and series boards, and no rendering. Callers signed in (their `me`),
    CSV and the browsable renderer take leaderboard_read and DRF's rendering as before."""

    permission_classes = [permissions.AllowAny]
    csv_header = LEADERBOARD_CSV_HEADER
    kind = "global"

    def scope_args(self, **kwargs) -> dict:
        return {}

    def cached_scope(self, **kwargs) -> str | None:
        """The scope key to look a cached page up under, without a query where possible; None:
        none known (the page is read, then cached). Raises Http404 as scope_args would."""
        return "global"

    def filename(self, **kwargs) -> str:
        return "leaderboard-global.csv"

    def get(self, request, **kwargs):
        qp = request.query_params
        reject_empty(qp, *_FILTERS)
        page, page_size = _page_params(request)  # checked in CSV too, where every entry is returned
        if self.wants_csv(request):
            body = leaderboard_read(**self.read_args(request, **kwargs), offset=0, limit=None)
            return self.csv_response(_csv_rows(body), self.filename(**kwargs))
        window = {"offset": (page - 1) * page_size, "limit": page_size}
        shared = not request.user.is_authenticated and isinstance(request.accepted_renderer, JSONRenderer)
        if not shared:
            return Response(leaderboard_read(**self.read_args(request, **kwargs), **window))
        # The page's identity: scope, the filters as given (a page is stored only once they have
        # been accepted), the page and the accepted media type (`indent` changes the bytes).
        variant = repr((self.kind, kwargs, [qp.get(name) for name in _FILTERS], page, page_size,
                        request.accepted_media_type))  # fmt: skip
        key = self.cached_scope(**kwargs)
        data = page_get(key, variant) if key is not None else None
        if data is None:
            key, version, body = leaderboard_read_versioned(**self.read_args(request, **kwargs), **window)
            data = request.accepted_renderer.render(body, request.accepted_media_type, self.get_renderer_context())
            page_set(key, variant, version, data)
        # What DRF's Response would give: the renderer's bytes, with the accepted media type
        return HttpResponse(data, content_type=request.accepted_media_type)

    def read_args(self, request, **kwargs) -> dict:
        qp = request.query_params
        return {
            "scope": self.kind,
            **{name: qp.get(name) or None for name in _FILTERS},
            "user": request.user,
            **self.scope_args(**kwargs),
        }


_LB_RESPONSES = {
    (200, JSON): OpenApiResponse(LeaderboardOut, description="A page of the leaderboard."),
    (200, CSV): OpenApiResponse(OpenApiTypes.STR, description="With format=csv: every entry, then the crowd row."),
}


class GlobalLeaderboardView(_LeaderboardView):
    """Every scored question (min_questions defaults to 10)."""

    kind = "global"

    @extend_schema(tags=["leaderboards"], parameters=LEADERBOARD_PARAMS,
                   responses={**_LB_RESPONSES, **csv_errors(400)},
                   description="The global leaderboard (scoring.md section 5). Ranked by mean relative Brier among users "
                   "with at least 10 scored questions by default; the crowd row is a benchmark, never ranked.")  # fmt: skip
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class SeriesLeaderboardView(_LeaderboardView):
    kind = "series"

    def scope_args(self, slug: str) -> dict:
        return {"series": get_object_or_404(Series, slug=slug)}

    def cached_scope(self, slug: str) -> str | None:
        return series_scope_hint(slug)

    def filename(self, slug: str) -> str:
        return f"leaderboard-series-{slug}.csv"

    @extend_schema(tags=["leaderboards"],
                   parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The series' slug."), *LEADERBOARD_PARAMS],
                   responses={**_LB_RESPONSES, **csv_errors(400, 404)},
                   description="A series (tournament) leaderboard, ranked by the sum of relative Brier by default.")  # fmt: skip
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class QuestionLeaderboardView(_LeaderboardView):
    kind = "question"

    def scope_args(self, pk: int) -> dict:
        if getattr(self, "scope_question", None) is None:
            q = get_object_or_404(Question, pk=pk)
            if not question_visible(question=q, user=self.request.user):
                raise Http404
            self.scope_question = q
        return {"question": self.scope_question}

    def cached_scope(self, pk: int) -> str | None:
        # Its visibility is checked first, and the question kept for scope_args on a miss
        return scope_key("question", self.scope_args(pk=pk)["question"].pk)

    def filename(self, pk: int) -> str:
        return f"leaderboard-question-{pk}.csv"

    @extend_schema(tags=["leaderboards"],
                   parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The question's id."), *LEADERBOARD_PARAMS],
                   responses={**_LB_RESPONSES, **csv_errors(400, 404)},
                   description="One question's leaderboard (empty until it is resolved and scored).")  # fmt: skip
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


# --- Calibration -----------------------------------------------------------------------------

SCORE_FILTER_PARAMS = [
    OpenApiParameter("series", str, required=False, description="Only questions of this series (its slug)."),
    OpenApiParameter("resolved_after", OpenApiTypes.DATETIME, required=False,
                     description="Only questions resolved at or after this date or date-time (UTC)."),
    OpenApiParameter("resolved_before", OpenApiTypes.DATETIME, required=False,
                     description="Only questions resolved before this date or date-time (UTC)."),
]  # fmt: skip


def score_filter_args(request) -> dict[str, Any]:
    """The score filters of the query (scoring.selectors.score_filters parses them: a bad value
    is a 400 naming the parameter; an empty one is refused here)."""
    qp = request.query_params
    reject_empty(qp, "series", "resolved_after", "resolved_before")
    return {name: qp.get(name) for name in ("series", "resolved_after", "resolved_before")}


class UserCalibrationView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=["calibration"],
                   parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="The user's id."),
                               *SCORE_FILTER_PARAMS],
                   responses={200: CalibrationOut, **error_responses(400, 404)},
                   description="Calibration of a forecaster's final forecasts on resolved questions (scoring.md section 6): "
                   "ten bins with Wilson 95% intervals and the Murphy decomposition of the one-sided Brier; for "
                   "numeric and date questions the PIT histogram (`pit`). "
                   "Optionally only one series' questions, or those resolved in [resolved_after, resolved_before).")  # fmt: skip
    def get(self, request, pk: int):
        filters = score_filter_args(request)
        user = get_object_or_404(get_user_model().objects.only("id", "username", "display_name"), pk=pk, is_active=True)
        return Response(calibration_for_user(user=user, **filters))


class CrowdCalibrationView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(tags=["calibration"],
                   parameters=[OpenApiParameter("method", str, enum=list(AGGREGATES), required=False,
                                                description="The crowd aggregate (default median).")],
                   responses={200: CalibrationOut, **error_responses(400)},
                   description="Calibration of the crowd's final forecasts on resolved questions (scoring.md section 6), "
                   "with the PIT histogram of its numeric and date questions (`pit`).")  # fmt: skip
    def get(self, request):
        return Response(calibration_for_crowd(method=request.query_params.get("method", DEFAULT_AGGREGATE)))

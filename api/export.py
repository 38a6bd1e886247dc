"""`GET /api/v1/me/export/` (contracts.md, "Notifications and exports"): every forecast the caller
made and every score they received, as JSON (an object with `forecasts` and `scores`) or as CSV
(`?format=csv`: one table, a `record` column saying `forecast` or `score`). Only ever the caller's
own: there is no path naming another user. A thin view over forecasts.selectors.forecasts_for_user
and scoring.selectors.scores_for_user."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.renderers import CSV, JSON, CSVMixin, csv_errors
from forecasts.models import Forecast
from forecasts.selectors import forecasts_for_user
from scoring.selectors import scores_for_user

from .leaderboards import FORMAT_PARAM
from .serializers import CDF_SCHEMA, CrpsFields, by_label, documented

EXPORT_CSV_HEADER = [
    "record", "question", "question_title", "time", "probability", "probabilities", "rationale", "withdrawn",
    "resolved_at", "brier_final", "brier_mean", "participation", "relative_brier", "baseline", "peer", "coverage",
    "computed_at", "cdf", "crps_final", "crps_mean", "relative_crps",
]  # fmt: skip

SCORE_FIELDS = (
    "brier_final", "brier_mean", "participation", "relative_brier", "baseline", "peer", "coverage", "crps_final",
    "crps_mean", "relative_crps",
)  # fmt: skip


class ExportForecastOut(serializers.Serializer):
    question = serializers.IntegerField(help_text="The question's id.")
    question_title = serializers.CharField()
    time = serializers.DateTimeField(help_text="When the forecast (or withdrawal) was made.")
    probability = serializers.FloatField(allow_null=True, help_text="P(yes) on a binary question; else null.")
    probabilities = serializers.DictField(
        child=serializers.FloatField(), allow_null=True, help_text="Option label -> probability; null for a withdrawal."
    )
    rationale = serializers.CharField(allow_blank=True)
    withdrawn = serializers.BooleanField(help_text="True for a withdrawal (the end of a standing forecast).")
    cdf = documented(
        {
            **CDF_SCHEMA,
            "nullable": True,
            "description": "Numeric and date questions: the forecast CDF (201 numbers on the range's grid); null "
            "for a withdrawal and on binary and multiple-choice questions.",
        }
    )


class ExportScoreOut(CrpsFields):
    question = serializers.IntegerField(help_text="The question's id.")
    question_title = serializers.CharField()
    resolved_at = serializers.DateTimeField()
    brier_final = serializers.FloatField(allow_null=True)
    brier_mean = serializers.FloatField(allow_null=True)
    participation = serializers.FloatField()
    relative_brier = serializers.FloatField(allow_null=True, help_text="Null on numeric and date questions.")
    baseline = serializers.FloatField(allow_null=True)
    peer = serializers.FloatField(allow_null=True)
    coverage = serializers.FloatField(allow_null=True)
    computed_at = serializers.DateTimeField()


class ExportOut(serializers.Serializer):
    forecasts = ExportForecastOut(many=True, help_text="Every forecast and withdrawal you made, oldest first.")
    scores = ExportScoreOut(many=True, help_text="Every score you received, by resolution time.")


def _iso(dt) -> str | None:
    return None if dt is None else dt.isoformat().replace("+00:00", "Z")


def export_body(user: Any) -> dict[str, list[dict[str, Any]]]:
    forecasts = []
    rows = forecasts_for_user(user=user).prefetch_related("question__options").order_by("created_at", "id")
    for f in rows:
        labels = [o.label for o in f.question.options.all()]
        probs = by_label(labels, f.probabilities)
        forecasts.append(
            {
                "question": f.question_id,
                "question_title": f.question.title,
                "time": _iso(f.created_at),
                "probability": f.probabilities[0]
                if f.probabilities is not None and f.question.type == "binary"
                else None,
                "probabilities": probs,
                "rationale": f.rationale,
                "withdrawn": f.kind == Forecast.Kind.WITHDRAWAL,
                "cdf": f.cdf,
            }
        )
    scores = [
        {
            "question": s.question_id,
            "question_title": s.question.title,
            "resolved_at": _iso(s.resolved_at),
            **{name: getattr(s, name) for name in SCORE_FIELDS},
            "computed_at": _iso(s.computed_at),
        }
        for s in scores_for_user(user=user).order_by("resolved_at", "question_id")
    ]
    return {"forecasts": forecasts, "scores": scores}


def export_csv_rows(body: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One table: forecast rows (record=forecast), then score rows (record=score)."""
    rows = []
    for f in body["forecasts"]:
        rows.append(
            {
                "record": "forecast",
                **{k: f[k] for k in ("question", "question_title", "time", "probability", "rationale")},
                "probabilities": None if f["probabilities"] is None else json.dumps(f["probabilities"]),
                "withdrawn": "true" if f["withdrawn"] else "false",
                "cdf": None if f["cdf"] is None else json.dumps(f["cdf"]),
            }
        )
    for s in body["scores"]:
        rows.append({"record": "score", **s})
    return rows


class MyExportView(CSVMixin, APIView):
    """Your own data: every forecast you made and every score you received."""

    permission_classes = [permissions.IsAuthenticated]
    csv_header = EXPORT_CSV_HEADER

    @extend_schema(
        tags=["forecasts"],
        parameters=[FORMAT_PARAM],
        responses={
            (200, JSON): OpenApiResponse(ExportOut, description="`forecasts` and `scores`."),
            (200, CSV): OpenApiResponse(
                OpenApiTypes.STR,
                description="With format=csv: one table; `record` is `forecast` or `score`, "
                "`probabilities` a JSON object (label -> probability), `cdf` a JSON array (numeric and date "
                "questions), `withdrawn` true or false.",
            ),
            **csv_errors(401),
        },
        description="Everything you forecast (question id and title, time, probabilities or, on numeric and "
        "date questions, the CDF, rationale, withdrawn) and every score you received (Brier or CRPS figures), "
        "as a download (JSON by default, `format=csv`).",
    )
    def get(self, request):
        body = export_body(request.user)
        if self.wants_csv(request):
            return self.csv_response(export_csv_rows(body), "signpost-export.csv")
        return Response(body, headers={"Content-Disposition": 'attachment; filename="signpost-export.json"'})

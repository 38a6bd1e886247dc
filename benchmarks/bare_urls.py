"""The product URLs plus bare Django views, for the benchmarks only (benchmarks/bench_settings.py).

`bare_series_page` does the database work of an uncached leaderboard page with no framework
around it: look the series up, read the first page of its materialised rows in one indexed query,
and return them with JsonResponse. No DRF, no cache, no throttling, no `me`, no crowd row.

`bare_forecast` is the baseline of a submission: parse the JSON body and INSERT one forecast row
with raw SQL, then answer 201. No DRF, no authentication, no throttle, no lock, no validation."""

import json

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as product_urlpatterns
from questions.models import Series
from scoring.models import LeaderboardEntry


def bare_series_page(request, slug: str):
    series = Series.objects.get(slug=slug)
    rows = list(
        LeaderboardEntry.objects.filter(scope_key=f"series:{series.pk}", user__isnull=False)
        .order_by("rank_relative_brier_sum", "user_id")
        .values("rank_relative_brier_sum", "user_id", "user__display_name", "questions", "relative_brier_sum",
                "relative_brier_mean", "brier_mean", "participation_mean", "baseline_sum", "peer_sum")[:50]
    )  # fmt: skip
    return JsonResponse({"entries": rows})


@csrf_exempt
def bare_forecast(request, question_id: int, user_id: int):
    p = float(json.loads(request.body)["probability"])
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO forecasts_forecast (question_id, user_id, kind, created_at, probabilities, p_min, p_max,"
            " p_sum, rationale) VALUES (%s, %s, 'forecast', %s, %s, %s, %s, 1.0, '') RETURNING id",
            [question_id, user_id, timezone.now(), json.dumps([p, 1 - p]), min(p, 1 - p), max(p, 1 - p)],
        )
        (fid,) = cur.fetchone()
    return JsonResponse({"id": fid, "probability": p}, status=201)


urlpatterns = [
    path("bench/bare/series/<slug:slug>/", bare_series_page),
    path("bench/bare/forecast/<int:question_id>/<int:user_id>/", bare_forecast),
    *product_urlpatterns,
]

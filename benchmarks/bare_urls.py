"""The product URLs plus a bare Django JSON view, for benchmarks/bench_leaderboard.py only.

The bare view does the database work of an uncached leaderboard page with no framework around
it: look the series up, read the first page of its materialised rows in one indexed query, and
return them with JsonResponse. No DRF, no cache, no throttling, no `me`, no crowd row."""

from django.http import JsonResponse
from django.urls import path

from config.urls import urlpatterns as product_urlpatterns
from forecasts.models import LeaderboardEntry
from questions.models import Series


def bare_series_page(request, slug: str):
    series = Series.objects.get(slug=slug)
    rows = list(
        LeaderboardEntry.objects.filter(scope_key=f"series:{series.pk}", user__isnull=False)
        .order_by("rank_relative_brier_sum", "user_id")
        .values("rank_relative_brier_sum", "user_id", "user__display_name", "questions", "relative_brier_sum",
                "relative_brier_mean", "brier_mean", "participation_mean", "baseline_sum", "peer_sum")[:50]
    )  # fmt: skip
    return JsonResponse({"entries": rows})


urlpatterns = [path("bench/bare/series/<slug:slug>/", bare_series_page), *product_urlpatterns]

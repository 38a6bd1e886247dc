from django.contrib import admin

from .models import Forecast, Score


class ReadOnlyAdmin(admin.ModelAdmin):
    """Forecasts are people's work and scores are derived: the admin may look, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    list_display = ("id", "question", "user", "kind", "created_at", "probabilities")
    list_filter = ("kind",)
    search_fields = ("question__title", "user__username")
    list_select_related = ("question", "user")


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ("question", "user", "crowd_method", "brier_final", "brier_mean", "relative_brier", "computed_at")
    list_select_related = ("question", "user")

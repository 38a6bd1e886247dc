from django.contrib import admin

from config.admin import ReadOnlyAdmin

from .models import Score


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = (
        "question", "user", "crowd_method", "brier_final", "brier_mean", "relative_brier", "crps_final", "relative_crps",
        "computed_at",
    )  # fmt: skip
    list_select_related = ("question", "user")

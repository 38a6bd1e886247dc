from django.contrib import admin

from config.admin import ReadOnlyAdmin

from .models import Score


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ("question", "user", "crowd_method", "brier_final", "brier_mean", "relative_brier", "computed_at")
    list_select_related = ("question", "user")

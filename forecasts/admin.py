from django.contrib import admin

from config.admin import ReadOnlyAdmin

from .models import Forecast


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    list_display = ("id", "question", "user", "kind", "created_at", "probabilities")
    list_filter = ("kind",)
    search_fields = ("question__title", "user__username")
    list_select_related = ("question", "user")

from django.contrib import admin, messages

from config.admin import ReadOnlyAdmin
from config.exceptions import DomainError

from .models import Forecast, RationaleHide
from .services import forecast_rationale_hide


@admin.register(Forecast)
class ForecastAdmin(ReadOnlyAdmin):
    list_display = ("id", "question", "user", "kind", "created_at", "probabilities")
    list_filter = ("kind",)
    search_fields = ("question__title", "user__username")
    list_select_related = ("question", "user")
    actions = ["hide_rationale"]

    @admin.action(description="Hide the selected rationales from other forecasters (kept, audited)")
    def hide_rationale(self, request, queryset):
        """Through forecasts.services.forecast_rationale_hide; the reason is the admin's fixed note
        (use the API's hide-rationale endpoint to give a specific one)."""
        done = 0
        for forecast in queryset:
            try:
                forecast_rationale_hide(forecast=forecast, by=request.user, reason="Hidden by a moderator (admin).")
            except DomainError as e:
                self.message_user(request, f"Forecast {forecast.pk}: {e.message}", level=messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, f"Hid {done} rationale{'s' if done != 1 else ''}.")


@admin.register(RationaleHide)
class RationaleHideAdmin(ReadOnlyAdmin):
    list_display = ("forecast", "hidden_by", "hidden_at", "reason")
    list_select_related = ("forecast", "hidden_by")

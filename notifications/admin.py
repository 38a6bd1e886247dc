from django.contrib import admin

from .models import Notification, Preference, WebhookDelivery


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created", "user", "kind", "question", "read_at", "email_state")
    list_filter = ("kind", "email_state")
    search_fields = ("user__username", "question__title", "message")
    raw_id_fields = ("user", "question")
    readonly_fields = ("user", "kind", "question", "event_key", "message", "created", "emailed_at")


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "stale_days", "move_threshold", "webhook_url", "last_digest_at")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "attempts", "last_status", "delivered_at", "gave_up_at")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

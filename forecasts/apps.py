from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    name = "forecasts"
    verbose_name = "Forecasts"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the terms-frozen answer for questions)

from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "strategy"
    verbose_name = "Strategic questions"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (recompute composites on crowd and resolution changes)

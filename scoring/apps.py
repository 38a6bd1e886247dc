from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scores and leaderboards"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the resolution-change receivers)

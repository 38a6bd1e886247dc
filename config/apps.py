"""config as an installed app, only so that Django's start-up loads the Celery app."""

from django.apps import AppConfig


class ConfigConfig(AppConfig):
    name = "config"
    verbose_name = "Configuration"

    def ready(self) -> None:
        # The Celery app (config/celery.py), in every process that sets Django up, so that the
        # tasks' @shared_task enqueue through it; `celery -A config` finds it as config.celery. A
        # command run without django.setup() (manage.py STANDALONE_COMMANDS) never pays for it.
        from . import celery  # noqa: F401

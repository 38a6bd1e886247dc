"""`manage.py demo [--no-serve]`: the seed article's story end to end (see demo/story.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from demo.story import demo_load, demo_report


class Command(BaseCommand):
    help = "Load the seed series, replay a simulated crowd, resolve and score, print the results, then serve the site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="stop after printing the results")
        parser.add_argument("--seed", type=int, default=2021, help="random seed of the simulated crowd")
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, **options) -> None:
        result = demo_load(seed=options["seed"], log=lambda line: self.stdout.write(line))
        self.stdout.write(demo_report(result))
        self.stdout.write("")
        self.stdout.write(f"Database: {settings.DATABASES['default']['NAME']}. Admin log-in: admin / signpost-demo.")
        if options["no_serve"]:
            return
        self.stdout.write(
            f"Serving the site at http://{options['addrport']}/ (API docs at /api/docs/). Ctrl-C to stop."
        )
        call_command("runserver", options["addrport"], use_reloader=False)

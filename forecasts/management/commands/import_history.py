"""`manage.py import_history FILE`: load series, questions, users, time-stamped forecasts and
resolutions from JSON (contracts.md). The rules and the writes are forecasts.importing's
history_import; a fault exits 2 with one line naming it, and nothing is written."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.cli import fail, read_json
from forecasts.importing import ImportFault, history_import


class Command(BaseCommand):
    help = "Import series, questions, users, forecasts and resolutions from a JSON file (validated whole first; idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a JSON file in the import_history format, or - for standard input")

    def handle(self, *args, **options) -> None:
        document = read_json(options["file"])
        try:
            created = history_import(document)
        except ImportFault as e:
            fail(str(e))
        summary = ", ".join(f"{n} {k}" for k, n in created.items())
        self.stdout.write(f"created: {summary}")

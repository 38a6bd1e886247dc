"""`manage.py score_json FILE|-`: score one question from JSON, with no database (contracts.md).

manage.py runs it without django.setup() (STANDALONE_COMMANDS there: no app is loaded, which is
most of Django's start-up), so this module imports only config.cli and forecast_math: no model,
no other app. call_command runs it as any command."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from config.cli import fail, read_json
from forecast_math import ScoringInputError, score_json_document


class Command(BaseCommand):
    help = "Score one question described in JSON (FILE, or - for standard input) and print the scores as JSON."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a JSON file, or - for standard input")

    def handle(self, *args, **options) -> None:
        doc = read_json(options["file"])
        try:
            result = score_json_document(doc)
        except ScoringInputError as e:
            fail(str(e))
        self.stdout.write(json.dumps(result, allow_nan=False))

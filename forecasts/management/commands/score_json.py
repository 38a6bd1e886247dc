"""`manage.py score_json FILE|-`: score one question from JSON, with no database (contracts.md)."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from forecasts.scoring import ScoringInputError, score_json_document


class Command(BaseCommand):
    help = "Score one question described in JSON (FILE, or - for standard input) and print the scores as JSON."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a JSON file, or - for standard input")

    def handle(self, *args, **options) -> None:
        path = options["file"]
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
        except FileNotFoundError:
            self._fail(f"file: {path} does not exist")
        except (OSError, UnicodeDecodeError) as e:
            self._fail(f"file: cannot be read as UTF-8 text ({e.__class__.__name__})")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            self._fail(f"input: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})")
        try:
            result = score_json_document(doc)
        except ScoringInputError as e:
            self._fail(str(e))
        self.stdout.write(json.dumps(result, allow_nan=False))

    def _fail(self, line: str) -> None:
        sys.stderr.write(line.replace("\n", " ") + "\n")
        sys.exit(2)

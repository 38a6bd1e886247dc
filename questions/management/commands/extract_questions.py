"""`manage.py extract_questions FILE [--json]`: the candidate forecastable questions of an article,
best first. Reads nothing from and writes nothing to the database."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from config.cli import fail, read_bytes
from questions.extraction import (
    DEFAULT_HORIZON_DAYS,
    ExtractionInputError,
    extract_candidates,
    load_document,
    render_table,
)


class Command(BaseCommand):
    help = "Print the candidate forecastable questions of an article (plain text, Markdown or HTML, UTF-8)."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the article, or - for standard input")
        parser.add_argument("--json", action="store_true", help="print JSON (the contract) instead of a table")
        parser.add_argument(
            "--horizon-days",
            type=int,
            default=DEFAULT_HORIZON_DAYS,
            help="close date = article date + this (default 4 years)",
        )
        parser.add_argument("--limit", type=int, default=None, help="at most this many candidates")

    def handle(self, *args, **options) -> None:
        if options["horizon_days"] <= 0:
            fail("--horizon-days: must be a positive number of days")
        data = read_bytes(options["file"])
        try:
            doc = load_document(data, filename=options["file"])
        except ExtractionInputError as e:
            fail(f"{options['file']}: {e}")
        cands = extract_candidates(doc, horizon_days=options["horizon_days"], limit=options["limit"])
        if options["json"]:
            self.stdout.write(json.dumps([c.to_dict() for c in cands], ensure_ascii=False, indent=2))
        else:
            self.stdout.write(render_table(cands))

"""`manage.py extract_questions FILE [--json]`: the candidate forecastable questions of an article,
best first, each with the linter's findings, and the article's strategic question when it states
one. Reads nothing from and writes nothing to the database.

With --json the output is the contract's list of candidates (each with an added `lint` list; a
numeric or date draft also carries `lower`, `upper`, `open_lower`, `open_upper` and `unit`), or,
when the article has a thesis question, `{"candidates": [...the same list...], "strategic": {...}}`
(README.md, "Extensions to the contracts")."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from config.cli import fail, read_bytes
from questions.extraction import (
    DEFAULT_HORIZON_DAYS,
    ExtractionInputError,
    extract_candidates,
    lint_candidate,
    load_document,
    propose_strategic,
    render_strategic,
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
        strategic = propose_strategic(doc, cands)
        if options["json"]:
            rows = [{**c.to_dict(), "lint": [f.to_dict() for f in lint_candidate(c)]} for c in cands]
            body = rows if strategic is None else {"candidates": rows, "strategic": strategic.to_dict()}
            self.stdout.write(json.dumps(body, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(render_table(cands))
            if strategic is not None:
                self.stdout.write("")
                self.stdout.write(render_strategic(strategic, cands))

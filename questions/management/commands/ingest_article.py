"""`manage.py ingest_article FILE`: store an article and its candidates for review in the admin."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.cli import fail, read_bytes
from config.exceptions import DomainError
from questions.articles import article_ingest
from questions.extraction import DEFAULT_HORIZON_DAYS


class Command(BaseCommand):
    help = "Store an article (plain text, Markdown or HTML, UTF-8) and its candidate questions for review."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--title", default=None)
        parser.add_argument("--source-url", default="")
        parser.add_argument("--horizon-days", type=int, default=DEFAULT_HORIZON_DAYS)

    def handle(self, *args, **options) -> None:
        data = read_bytes(options["file"])
        try:
            article, created = article_ingest(
                data=data,
                filename=options["file"],
                title=options["title"],
                source_url=options["source_url"],
                horizon_days=options["horizon_days"],
            )
        except DomainError as e:
            fail(f"{options['file']}: {e.message}")
        verb = "stored" if created else "already stored"
        self.stdout.write(
            f"Article {article.pk} {verb}: {article.title!r}, {article.candidates.count()} candidate questions "
            f"(review them at /admin/questions/candidate/?article__id__exact={article.pk})"
        )

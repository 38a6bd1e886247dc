"""The CSV renderer shared by every export (leaderboards, a forecaster's scores): `?format=csv`."""

from __future__ import annotations

import csv
import io
from typing import Any

from rest_framework import renderers
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.schema import error_responses

JSON = "application/json"
CSV = "text/csv"


class CSVRenderer(renderers.BaseRenderer):
    """Renders a list of flat dicts as CSV; the view names the columns (`csv_header`).

    Text cells that a spreadsheet would read as a formula (=, +, -, @ first) get a leading quote."""

    media_type = CSV
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        view = (renderer_context or {}).get("view")
        header = list(getattr(view, "csv_header", None) or (data[0].keys() if data else []))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in data or []:
            writer.writerow([_cell(row.get(col)) for col in header])
        return out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class CSVMixin:
    """JSON by default, CSV with `?format=csv` (DRF's format override). Errors and OPTIONS stay JSON."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    csv_header: list[str] = []

    def wants_csv(self, request) -> bool:
        return getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv"

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors and OPTIONS metadata are not tables: they stay JSON whatever the format asked.
        if self.wants_csv(request) and (response.status_code >= 400 or request.method == "OPTIONS"):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = JSON
        return super().finalize_response(request, response, *args, **kwargs)

    def csv_response(self, rows: list[dict], filename: str) -> Response:
        return Response(rows, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def csv_errors(*codes: int) -> dict:
    return {(code, JSON): resp for code, resp in error_responses(*codes).items()}

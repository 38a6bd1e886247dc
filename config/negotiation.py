"""Content negotiation that answers an unknown `?format=` with a 400 naming the parameter and the
formats the endpoint offers (DRF's default answers it with a 404)."""

from __future__ import annotations

from django.http import Http404
from rest_framework.negotiation import DefaultContentNegotiation

from .exceptions import DomainError


class StrictContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if request.query_params.get(self.settings.URL_FORMAT_OVERRIDE, None) == "":
            raise DomainError("must not be empty", field="format")
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            offered = sorted({r.format for r in renderers if r.format != "api"})
            raise DomainError(f"must be one of {', '.join(offered)}", field="format") from None

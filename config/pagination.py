"""Page-number pagination whose bad parameters are a 400 in the contract error shape naming the
parameter (DRF's own answers a malformed page with a 404 and ignores a malformed page_size)."""

from __future__ import annotations

from rest_framework import pagination

from .exceptions import DomainError
from .params import parse_int


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return parse_int(raw, self.page_size_query_param, minimum=1, maximum=self.max_page_size)

    def page_number(self, request) -> int:
        raw = request.query_params.get(self.page_query_param)
        return 1 if raw is None else parse_int(raw, self.page_query_param, minimum=1)

    def paginate_queryset(self, queryset, request, view=None):
        page_size = self.get_page_size(request)
        number = self.page_number(request)
        paginator = self.django_paginator_class(queryset, page_size)
        if number > paginator.num_pages:
            raise DomainError(f"must be at most {paginator.num_pages} (the last page)", field=self.page_query_param)
        self.page = paginator.page(number)
        self.request = request
        return list(self.page)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for p in params:
            if p["name"] == self.page_query_param:
                p["schema"] = {"type": "integer", "minimum": 1}
            elif p["name"] == self.page_size_query_param:
                p["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params

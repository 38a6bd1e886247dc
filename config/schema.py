"""Shared pieces of the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorBody",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        )
    },
)


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    text = {
        400: "Invalid input: `fields` names each field and the rule it broke.",
        401: "Not authenticated.",
        403: "Not allowed for this user.",
        404: "Not found.",
        409: "Not possible in the object's current state (closed, resolved, ...).",
        429: "Too many requests (throttled or locked out).",
    }
    return {c: OpenApiResponse(ErrorSerializer, description=text[c]) for c in codes}

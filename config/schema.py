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


THROTTLED = {
    "description": "Too many requests (throttled).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
UNSUPPORTED_MEDIA = {
    "description": "The body's Content-Type is missing or not one the operation parses (JSON, or a "
    "form where the operation says so).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
OPTIONS_BODY = {
    "description": "What the endpoint is and accepts (name, description, renders, parses, and the "
    "writable fields of its POST for staff).",
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
}


def _error_ref(code: int) -> dict:
    text = {
        400: "A bad parameter (page, page_size, format...): `fields` names it and the rule it broke.",
        401: "Not authenticated.",
        403: "Not allowed for this user.",
        404: "Not found.",
    }
    return {
        "description": text[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document_every_method(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the schema describes every method the API answers.

    Every operation may be throttled (429), and every operation with a body refused for its
    Content-Type (415). Every path also answers OPTIONS (DRF's metadata, JSON)
    and, where it answers GET, HEAD (the GET's statuses and headers without a body)."""
    for item in result.get("paths", {}).values():
        for method, op in list(item.items()):
            if method in ("get", "post", "put", "patch", "delete"):
                op.setdefault("responses", {}).setdefault("429", THROTTLED)
                if "requestBody" in op:  # DRF's parsers refuse an unknown Content-Type with a 415
                    op["responses"].setdefault("415", UNSUPPORTED_MEDIA)
                query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
                if query & {"page", "page_size", "format"}:  # config.pagination, config.negotiation
                    op["responses"].setdefault("400", _error_ref(400))
        base = next((op for m, op in item.items() if m in ("get", "post")), None)
        if base is None:
            continue
        tags = base.get("tags", [])
        security = base.get("security")
        params = [p for p in base.get("parameters", []) if p.get("in") == "path"]
        item["options"] = {
            "operationId": f"{base['operationId']}_options",
            "description": "The endpoint's metadata.",
            "tags": tags,
            "parameters": params,
            "responses": {
                "200": OPTIONS_BODY,
                **{str(code): _error_ref(code) for code in (401, 403, 404)},
                "429": THROTTLED,
            },
            **({"security": security} if security else {}),
        }
        get = item.get("get")
        if get is not None:
            item["head"] = {
                "operationId": f"{get['operationId']}_head",
                "description": "As GET, without the body.",
                "tags": tags,
                "parameters": get.get("parameters", []),
                "responses": {code: {"description": r.get("description", "")} for code, r in get["responses"].items()},
                **({"security": get["security"]} if "security" in get else {}),
            }
    return result

"""Serializers of the strategic-question endpoints: the request bodies (strict: a value of the
wrong JSON type is refused, never coerced) and the response shapes documented in the schema.

The rules (directions, weights, known and unique questions, unordered multiple choice) are
strategy.services'; these only check the JSON types, with the same field names
(`drivers[0].indicators[1].weight`)."""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.exceptions import ValidationFailed
from questions.models import Question
from strategy.services import MAX_DRIVERS, MAX_INDICATORS_PER_DRIVER, MAX_RATIONALE, MAX_WEIGHT


def error_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """A serializer's errors as the contract's `fields`, with list positions in brackets like
    strategy.services names them: {"drivers[0].indicators[1].weight": ["rule"]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif key == "non_field_errors":
                name = prefix or "non_field_errors"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in error_fields(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list) and any(isinstance(d, dict | list) for d in detail):
        for i, value in enumerate(detail):
            for k, v in error_fields(value, f"{prefix}[{i}]").items():
                out.setdefault(k, []).extend(v)
    else:
        out[prefix or "non_field_errors"] = [str(d) for d in (detail if isinstance(detail, list) else [detail])]
    return out


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The serializer's validated data, or ValidationFailed (HTTP 400) naming each field."""
    s = serializer_class(data=data)
    if not s.is_valid():
        fields = error_fields(s.errors)
        name, rules = next(iter(fields.items()))
        raise ValidationFailed(fields, message=f"{name}: {rules[0]}")
    return dict(s.validated_data)


# --- Strict input fields -------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """Text only: a number or a boolean is refused rather than turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false only (not "true", 1 or "yes")."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "integer", "enum": [1, -1]})
class DirectionField(serializers.Field):
    """1 or -1, as JSON integers."""

    default_error_messages = {"invalid": "must be 1 (towards the 'more' pole) or -1 (towards the 'less' pole)"}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int) or data not in (1, -1):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(
    {"type": "number", "format": "double", "minimum": 0, "exclusiveMinimum": True, "maximum": MAX_WEIGHT}
)
class WeightField(serializers.Field):
    """A JSON number in (0, MAX_WEIGHT]."""

    default_error_messages = {
        "invalid": "must be a number",
        "range": f"must be greater than 0 and at most {MAX_WEIGHT:g}",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid")
        if not 0 < data <= MAX_WEIGHT:
            self.fail("range")
        return data

    def to_representation(self, value):
        return value


# --- Request bodies ------------------------------------------------------------------------------


class IndicatorInSerializer(serializers.Serializer):
    question = StrictIntegerField(min_value=1, help_text="The indicator question's id.")
    direction = DirectionField(help_text="1: a YES (a higher option) moves towards the 'more' pole; -1: away from it.")
    weight = WeightField(required=False, default=1.0, help_text="Its weight in the composite (default 1).")
    rationale = StrictCharField(
        required=False, allow_blank=True, default="", max_length=MAX_RATIONALE, trim_whitespace=False
    )


class DriverInSerializer(serializers.Serializer):
    title = StrictCharField(max_length=300)
    indicators = IndicatorInSerializer(many=True, required=False, max_length=MAX_INDICATORS_PER_DRIVER)


class LinksInSerializer(serializers.Serializer):
    """Every driver and indicator link of the strategic question (they replace the stored ones)."""

    drivers = DriverInSerializer(many=True, max_length=MAX_DRIVERS)


class StrategicQuestionCreateSerializer(serializers.Serializer):
    slug = StrictSlugField(max_length=100)
    title = StrictCharField(max_length=300)
    description = StrictCharField(required=False, allow_blank=True, default="", max_length=20000)
    pole_less = StrictCharField(max_length=100, help_text='The -1 end of the axis, e.g. "Less coordination".')
    pole_more = StrictCharField(max_length=100, help_text='The +1 end of the axis, e.g. "More coordination".')
    published = StrictBooleanField(required=False, default=True, help_text="False: a draft, seen by staff only.")
    drivers = DriverInSerializer(many=True, required=False, max_length=MAX_DRIVERS)


# --- Responses (output only) -----------------------------------------------------------------------


class StrategicQuestionListItemSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    pole_less = serializers.CharField()
    pole_more = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    composite = serializers.FloatField(
        source="composite_now", allow_null=True, help_text="The composite now, in [-1, 1]; null without a value."
    )
    indicator_count = serializers.IntegerField()


class IndicatorOutSerializer(serializers.Serializer):
    question = serializers.IntegerField(help_text="The indicator question's id.")
    title = serializers.CharField()
    type = serializers.ChoiceField(choices=Question.Type.choices)
    direction = serializers.ChoiceField(choices=[1, -1])
    weight = serializers.FloatField()
    rationale = serializers.CharField(allow_blank=True)
    passage = serializers.CharField(allow_null=True, help_text="The article passage the question was drawn from.")
    article = serializers.IntegerField(allow_null=True, help_text="The article's id.")
    crowd_probability = serializers.FloatField(
        allow_null=True,
        help_text="The crowd's P(yes), binary questions only; null while the crowd is hidden or too thin.",
    )
    resolution = serializers.CharField(
        allow_null=True, help_text='Null while unresolved (or annulled); "yes", "no" or the option label.'
    )
    value = serializers.FloatField(
        allow_null=True, help_text="Its value in the composite now, direction applied, in [-1, 1]; null: not counted."
    )
    contribution = serializers.FloatField(
        allow_null=True, help_text="weight * value / total weight of the counted indicators; null: not counted."
    )


class DriverOutSerializer(serializers.Serializer):
    title = serializers.CharField()
    indicators = IndicatorOutSerializer(many=True)


class HistoryPointSerializer(serializers.Serializer):
    time = serializers.DateTimeField()
    composite = serializers.FloatField(allow_null=True, help_text="Null while no indicator has a value.")


class MoveSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    title = serializers.CharField()
    value_before = serializers.FloatField(allow_null=True)
    value_after = serializers.FloatField(allow_null=True)
    contribution_before = serializers.FloatField()
    contribution_after = serializers.FloatField()
    change = serializers.FloatField(help_text="contribution_after - contribution_before.")


class StrategicQuestionDetailSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    pole_less = serializers.CharField(help_text="The label of the -1 end of the axis.")
    pole_more = serializers.CharField(help_text="The label of the +1 end of the axis.")
    published_at = serializers.DateTimeField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True, help_text="When the history was last recomputed.")
    composite = serializers.FloatField(
        allow_null=True,
        help_text="Now: the weighted mean of the indicators' values in [-1, 1] (-1: pole_less, +1: pole_more); "
        "null while no indicator has a value.",
    )
    drivers = DriverOutSerializer(many=True)
    history = HistoryPointSerializer(
        many=True, help_text="The composite as a step function since the first indicator opened, up to now."
    )
    since = serializers.DateTimeField(allow_null=True, help_text="The `since` asked for, or null.")
    composite_since = serializers.FloatField(allow_null=True, help_text="The composite at `since`.")
    moved = MoveSerializer(
        many=True,
        allow_null=True,
        help_text="With `since`: what moved the composite from then to now, largest change first; null without it.",
    )

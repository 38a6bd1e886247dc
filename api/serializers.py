"""The API's serializers: input validation of request bodies and the shape of responses.

Numeric and date questions ("continuous"): values are shown and taken in the question's units, a
number for numeric and an ISO 8601 instant for date (stored as POSIX seconds); forecasts are CDFs
on the range's 201-point grid (forecast_math.continuous)."""

from __future__ import annotations

import math
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from forecast_math import DEFAULT_AGGREGATE
from forecast_math.continuous import GRID
from forecasts.models import Forecast
from forecasts.selectors import cdf_summary, crowd_history, crowd_latest, crowd_visible
from forecasts.validation import FORECAST_SHAPES, QUANTILE_KEYS
from questions.models import Question, ScoringMode, Series
from questions.selectors import outcome_json, question_status, value_json
from scoring.models import Score


class PassThroughField(serializers.Field):
    """Passes the JSON value through untouched, both ways: the service applies the rules (so that a
    string such as "0.5" is refused rather than coerced), and output values are already JSON."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


def documented(schema: dict[str, Any], **kwargs: Any) -> PassThroughField:
    """A PassThroughField described by `schema` in the OpenAPI document."""
    cls = extend_schema_field(schema)(type("DocumentedField", (PassThroughField,), {}))
    return cls(**kwargs)


@extend_schema_field(OpenApiTypes.DOUBLE)
class RawValueField(PassThroughField):
    """A number passed through untouched (forecasts.validation refuses anything else)."""


# --- Values in a numeric or date question's units ------------------------------------------------

#: A value in a question's units: a number (numeric) or an ISO 8601 instant (date).
VALUE_SCHEMA = {"oneOf": [{"type": "number", "format": "double"}, {"type": "string", "format": "date-time"}]}
QUARTILE_KEYS = ("25", "50", "75")
QUARTILES_SCHEMA = {
    "type": "object",
    "properties": dict.fromkeys(QUARTILE_KEYS, VALUE_SCHEMA),
    "required": list(QUARTILE_KEYS),
    "additionalProperties": False,
    "nullable": True,
    "description": "Numeric and date questions: the 25%, 50% and 75% quantiles of the CDF in the question's units "
    '("50" is the median); null on binary and multiple-choice questions, for a withdrawal and without a CDF.',
}
CDF_SCHEMA = {
    "type": "array",
    "items": {"type": "number", "format": "double", "minimum": 0, "maximum": 1},
    "minItems": GRID,
    "maxItems": GRID,
}


def quartiles(q: Question, cdf: list[float] | None) -> dict[str, float | str] | None:
    """The 25/50/75% quantiles of a CDF on q's grid in q's units (forecasts.selectors.cdf_summary);
    None without a CDF."""
    if cdf is None or not q.is_continuous:
        return None
    return cdf_summary(question=q, cdf=cdf)["quartiles"]


# --- Questions -------------------------------------------------------------------------------


class OptionSerializer(serializers.Serializer):
    label = serializers.CharField()
    position = serializers.IntegerField()


class ResolutionSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Question.State.choices)
    outcome = documented(
        {
            "oneOf": [{"type": "string"}, {"type": "number", "format": "double"}],
            "nullable": True,
            "description": "Null unless resolved. Binary and multiple choice: the true option's label. Numeric: "
            'the value (a number); date: the ISO 8601 instant; past an open bound: "below" or "above".',
        },
        allow_null=True,
    )
    resolved_at = serializers.DateTimeField(allow_null=True)
    known_at = serializers.DateTimeField(allow_null=True, help_text="Early close: when the answer became public.")


class SourceSerializer(serializers.Serializer):
    article = serializers.IntegerField()
    article_title = serializers.CharField()
    start = serializers.IntegerField(help_text="Character offset of the passage in the article text.")
    end = serializers.IntegerField()
    passage = serializers.CharField()


class CrowdPointSerializer(serializers.Serializer):
    time = serializers.DateTimeField()
    probabilities = serializers.DictField(
        child=serializers.FloatField(), allow_null=True, help_text="Null on numeric and date questions (see median)."
    )
    n_forecasters = serializers.IntegerField()
    median = documented(
        {
            **VALUE_SCHEMA,
            "nullable": True,
            "description": "Numeric and date questions only: the crowd's median at that time, in the question's "
            "units; null while fewer forecasts stood than the crowd needs to be shown (CROWD_MIN_FORECASTERS, default 3).",
        },
        required=False,
    )


class CrowdSerializer(serializers.Serializer):
    revealed = serializers.BooleanField(help_text="False before crowd_reveal_time (admins always see it).")
    method = serializers.CharField()
    probabilities = serializers.DictField(
        child=serializers.FloatField(), allow_null=True, help_text="Null on numeric and date questions (see cdf)."
    )
    n_forecasters = serializers.IntegerField()
    cdf = documented(
        {
            **CDF_SCHEMA,
            "nullable": True,
            "description": "Numeric and date questions only: the crowd CDF, cdf[i] = P(value <= lower + i (upper - "
            "lower) / 200) for i = 0..200; null while hidden or while fewer forecasts stand than the crowd needs to be "
            "shown (CROWD_MIN_FORECASTERS, default 3).",
        },
        required=False,
    )
    quartiles = documented(QUARTILES_SCHEMA, required=False)
    history = CrowdPointSerializer(many=True, required=False)


def _labels(q: Question) -> list[str]:
    return [o.label for o in q.options.all()]


def by_label(labels: list[str], probs: list[float] | None) -> dict[str, float] | None:
    """A probability vector as the API shows it, option label -> probability (None stays None)."""
    return None if probs is None else dict(zip(labels, probs, strict=True))


class QuestionSerializer(serializers.ModelSerializer):
    series = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    options = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text="open, closed, resolved, annulled or draft.")
    resolution = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    crowd = serializers.SerializerMethodField()
    forecaster_count = serializers.IntegerField(read_only=True, default=0)
    lower = serializers.SerializerMethodField()
    upper = serializers.SerializerMethodField()
    open_lower = serializers.BooleanField(
        read_only=True,
        help_text='Numeric and date questions: the outcome may fall below `lower` (resolution "below"). Always '
        "false on binary and multiple-choice questions.",
    )
    open_upper = serializers.BooleanField(
        read_only=True,
        help_text='Numeric and date questions: the outcome may fall above `upper` (resolution "above"). Always '
        "false on binary and multiple-choice questions.",
    )
    unit = serializers.SerializerMethodField()

    class Meta:
        model = Question
        fields = [
            "id",
            "slug",
            "series",
            "type",
            "ordered",
            "title",
            "description",
            "resolution_criteria",
            "options",
            "open_time",
            "close_time",
            "known_at",
            "crowd_reveal_time",
            "scoring_mode",
            "status",
            "resolution",
            "source",
            "indicator",
            "crowd",
            "forecaster_count",
            "lower",
            "upper",
            "open_lower",
            "open_upper",
            "unit",
        ]

    @extend_schema_field(OptionSerializer(many=True))
    def get_options(self, q: Question):
        return [{"label": o.label, "position": o.position} for o in q.options.all()]

    @extend_schema_field(
        {
            **VALUE_SCHEMA,
            "nullable": True,
            "description": "Numeric and date questions: the range's lower bound (a number; an ISO 8601 instant for "
            "date). Null on binary and multiple-choice questions.",
        }
    )
    def get_lower(self, q: Question):
        return value_json(q, q.range_lower) if q.is_continuous else None

    @extend_schema_field(
        {**VALUE_SCHEMA, "nullable": True, "description": "The range's upper bound, as `lower`; null likewise."}
    )
    def get_upper(self, q: Question):
        return value_json(q, q.range_upper) if q.is_continuous else None

    @extend_schema_field(
        serializers.CharField(
            allow_null=True,
            help_text='Numeric and date questions: the unit of the values ("" when none). Null on binary and '
            "multiple-choice questions.",
        )
    )
    def get_unit(self, q: Question):
        return q.unit if q.is_continuous else None

    def get_status(self, q: Question) -> str:
        return question_status(q)

    @extend_schema_field(ResolutionSerializer)
    def get_resolution(self, q: Question):
        return {
            "state": q.state,
            "outcome": outcome_json(q),
            "resolved_at": q.resolved_at,
            "known_at": q.known_at,
        }

    @extend_schema_field(SourceSerializer(allow_null=True))
    def get_source(self, q: Question):
        if not q.article_id or q.source_start is None:
            return None
        return {
            "article": q.article_id,
            "article_title": q.article.title,
            "start": q.source_start,
            "end": q.source_end,
            "passage": q.source_passage,
        }

    @extend_schema_field(CrowdSerializer(allow_null=True))
    def get_crowd(self, q: Question):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not crowd_visible(question=q, user=user, now=timezone.now()):
            return {"revealed": False, "method": DEFAULT_AGGREGATE, "n_forecasters": 0, **_crowd_values(q, [], None)}
        with_history = self.context.get("with_history", False)
        if with_history:
            points = list(crowd_history(question=q))
            last = points[-1] if points else None
        else:
            points = []
            latest = getattr(q, "crowd_latest", None)
            if latest is None:
                latest = crowd_latest(question=q)
            last = latest[0] if latest else None
        labels = [] if q.is_continuous else _labels(q)
        body = {
            "revealed": True,
            "method": DEFAULT_AGGREGATE,
            "n_forecasters": last.n_forecasters if last else 0,
            **_crowd_values(q, labels, last.probabilities if last else None),
        }
        if with_history:
            body["history"] = [
                {
                    "time": p.time,
                    "n_forecasters": p.n_forecasters,
                    **_crowd_values(q, labels, p.probabilities, point=True),
                }
                for p in points
            ]
        return body


def _crowd_values(q: Question, labels: list[str], probs: list[float] | None, *, point: bool = False) -> dict:
    """A crowd's values: `probabilities` by label; on a numeric or date question (probs is the CDF)
    `probabilities` null and the `cdf` with its `quartiles`, or for a history point only the
    `median` in the question's units (not 201 numbers per point)."""
    if not q.is_continuous:
        return {"probabilities": by_label(labels, probs)}
    if point:
        return {"probabilities": None, "median": None if probs is None else quartiles(q, probs)["50"]}
    return {"probabilities": None, "cdf": probs, "quartiles": quartiles(q, probs)}


VALUE_INPUT_SCHEMA = {
    **VALUE_SCHEMA,
    "description": "In the question's units: a number (numeric), or an ISO 8601 instant (date).",
}


class QuestionCreateSerializer(serializers.Serializer):
    """The fields of a new question (POST /api/v1/questions/, staff)."""

    slug = serializers.SlugField(max_length=120, required=False, allow_null=True)
    series = serializers.SlugRelatedField(
        slug_field="slug", queryset=Series.objects.all(), required=False, allow_null=True
    )
    type = serializers.ChoiceField(choices=Question.Type.choices)
    options = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)
    ordered = serializers.BooleanField(default=False)
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    resolution_criteria = serializers.CharField(required=False, allow_blank=True, default="")
    open_time = serializers.DateTimeField()
    close_time = serializers.DateTimeField()
    known_at = serializers.DateTimeField(required=False, allow_null=True)
    crowd_reveal_time = serializers.DateTimeField(required=False, allow_null=True)
    scoring_mode = serializers.ChoiceField(choices=ScoringMode.choices, required=False)
    published = serializers.BooleanField(default=True)
    lower = documented(
        VALUE_INPUT_SCHEMA,
        required=False,
        help_text="Numeric and date questions (required there, refused elsewhere): the range's lower bound, a "
        "number (numeric) or an ISO 8601 instant (date).",
    )
    upper = documented(
        VALUE_INPUT_SCHEMA, required=False, help_text="The range's upper bound, as `lower`; greater than `lower`."
    )
    open_lower = serializers.BooleanField(
        required=False,
        help_text='Numeric and date questions: the outcome may fall below `lower` (resolved as "below"). Default '
        "false: the bound is closed.",
    )
    open_upper = serializers.BooleanField(
        required=False, help_text='As open_lower, above `upper` (resolved as "above"). Default false.'
    )
    unit = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text='Numeric questions: the unit of the values, e.g. "million t" (at most 40 characters).',
    )


RESOLUTION_SCHEMA = {
    "oneOf": [{"type": "string", "maxLength": 200}, {"type": "number", "format": "double"}],
    "description": 'Binary: "yes" or "no"; multiple choice: an option label; numeric: the value (a number); date: '
    'the ISO 8601 instant; past an open bound of a numeric or date question: "below" or "above"; any question: '
    '"annulled".',
}


@extend_schema_field(RESOLUTION_SCHEMA)
class ResolutionInput(PassThroughField):
    """The outcome as given, text (at most 200 characters) or a number; questions.services checks it."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            if len(data) > 200:
                raise serializers.ValidationError("must be at most 200 characters")
            return data
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            raise serializers.ValidationError("must be text (a label, an instant, ...) or a finite number")
        return data


class ResolveSerializer(serializers.Serializer):
    resolution = ResolutionInput()
    known_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the answer became public (early close)."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


# --- Forecasts and scores ---------------------------------------------------------------------


# Parses a forecast body: the rationale here, and the shape keys passed on raw to the service, which
# applies every rule of the forecast itself (forecasts.validation). The schema shows FORECAST_REQUEST.
class ForecastInputSerializer(serializers.Serializer):
    probability = RawValueField(required=False, help_text="Binary questions: P(yes), between 0.001 and 0.999.")
    probabilities = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="Multiple choice: every option label once, each in [0.001, 0.999], summing to 1 within 1e-6.",
    )
    rationale = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10000, trim_whitespace=False
    )

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["expected a JSON object"]})
        rationale = data.get("rationale", "")
        if rationale is None:
            rationale = ""
        if not isinstance(rationale, str):
            raise serializers.ValidationError({"rationale": ["must be text"]})
        given = [k for k in FORECAST_SHAPES if k in data]  # forecasts.validation refuses two at once
        return {"payload": {k: data[k] for k in given}, "rationale": rationale}


# The request shapes of POST /questions/{id}/forecasts/ as the schema documents them (oneOf).


def _rationale() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=10000,
        trim_whitespace=False,
        help_text="Optional: why. Others read it once they have forecast on the question or it has closed.",
    )


class BinaryForecastInput(serializers.Serializer):
    probability = serializers.FloatField(
        min_value=0.001, max_value=0.999, help_text="Binary questions: P(yes), between 0.001 and 0.999 inclusive."
    )
    rationale = _rationale()


class MultipleChoiceForecastInput(serializers.Serializer):
    probabilities = serializers.DictField(
        child=serializers.FloatField(min_value=0.001, max_value=0.999),
        help_text="Multiple choice: every option label once, each in [0.001, 0.999], summing to 1 within 1e-6.",
    )
    rationale = _rationale()


class CdfForecastInput(serializers.Serializer):
    cdf = documented(
        {
            **CDF_SCHEMA,
            "description": "Numeric and date questions: the CDF itself, 201 numbers, cdf[i] = P(value <= lower + i "
            "(upper - lower) / 200). Strictly increasing, every step at least 0.00005; a closed lower bound has "
            "cdf[0] = 0 and a closed upper bound cdf[200] = 1; an open bound keeps at least 0.001 beyond it, and "
            "at most 0.2 lies outside the range in all. Nothing is clamped.",
        }
    )
    rationale = _rationale()


COMPONENT_SCHEMA = {
    "type": "object",
    "properties": {
        "centre": {
            **VALUE_SCHEMA,
            "description": "Where the component peaks, in the question's units, within the range.",
        },
        "scale": {
            "type": "number",
            "format": "double",
            "minimum": 0,
            "exclusiveMinimum": True,
            "description": "Its spread, greater than 0: in the question's units (numeric), in days (date).",
        },
        "weight": {
            "type": "number",
            "format": "double",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 1,
            "description": "Its share, greater than 0; the weights sum to 1 within 1e-6 (a lone component may "
            "leave it out).",
        },
    },
    "required": ["centre", "scale"],
    "additionalProperties": False,
}


class MixtureForecastInput(serializers.Serializer):
    components = documented(
        {
            "type": "array",
            "items": COMPONENT_SCHEMA,
            "minItems": 1,
            "maxItems": 3,
            "description": "Numeric and date questions: a mixture of 1 to 3 logistic components, made into the CDF "
            "on the server (a closed bound cuts off the mass beyond it; an open bound keeps a tail).",
        }
    )
    rationale = _rationale()


class QuantilesForecastInput(serializers.Serializer):
    quantiles = documented(
        {
            "type": "object",
            "properties": dict.fromkeys(QUANTILE_KEYS, VALUE_SCHEMA),
            "required": list(QUANTILE_KEYS),
            "additionalProperties": False,
            "description": "Numeric and date questions: the 5%, 25%, 50%, 75% and 95% quantiles in the question's "
            "units, strictly increasing; the CDF through them (piecewise linear) is made on the server.",
        }
    )
    rationale = _rationale()


FORECAST_REQUEST = PolymorphicProxySerializer(
    component_name="ForecastInput",
    serializers=[
        BinaryForecastInput,
        MultipleChoiceForecastInput,
        CdfForecastInput,
        MixtureForecastInput,
        QuantilesForecastInput,
    ],
    resource_type_field_name=None,
)


class ForecastSerializer(serializers.ModelSerializer):
    probability = serializers.SerializerMethodField(help_text="P(yes) on binary questions; null otherwise.")
    probabilities = serializers.SerializerMethodField(
        help_text="Option label -> probability; null for a withdrawal and on numeric and date questions."
    )
    question_title = serializers.CharField(source="question.title", read_only=True)
    cdf = documented(
        {
            **CDF_SCHEMA,
            "nullable": True,
            "description": "Numeric and date questions: the stored CDF (201 numbers on the range's grid); null for "
            "a withdrawal and on binary and multiple-choice questions.",
        },
        read_only=True,
    )
    quartiles = serializers.SerializerMethodField()

    class Meta:
        model = Forecast
        fields = [
            "id", "question", "question_title", "kind", "created_at", "probability", "probabilities", "rationale",
            "cdf", "quartiles",
        ]  # fmt: skip

    def _labels(self, f: Forecast) -> list[str]:
        cache = self.context.setdefault("_labels", {})
        if f.question_id not in cache:
            cache[f.question_id] = [o.label for o in f.question.options.all()]
        return cache[f.question_id]

    @extend_schema_field(serializers.FloatField(allow_null=True))  # null: multiple choice, withdrawal
    def get_probability(self, f: Forecast):
        if f.probabilities is None or f.question.type != "binary":
            return None
        return f.probabilities[0]

    @extend_schema_field(serializers.DictField(child=serializers.FloatField(), allow_null=True))
    def get_probabilities(self, f: Forecast):
        return None if f.probabilities is None else by_label(self._labels(f), f.probabilities)

    @extend_schema_field(QUARTILES_SCHEMA)
    def get_quartiles(self, f: Forecast):
        return quartiles(f.question, f.cdf)


class PublicUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="public_name")


# The CRPS figures of a score row (numeric and date questions; null on the others).
class CrpsFields(serializers.Serializer):
    crps_final = serializers.FloatField(
        allow_null=True,
        help_text="Numeric and date questions: the CRPS of the standing forecast at close, in range units (the "
        "distance to the outcome measured as a fraction of upper - lower; 0 is best, at most 1). Null on binary "
        "and multiple-choice questions.",
    )
    crps_mean = serializers.FloatField(
        allow_null=True,
        help_text="Numeric and date questions: the time-averaged CRPS (range units, 0 best) over the time the user "
        "was active; null on binary and multiple-choice questions.",
    )
    relative_crps = serializers.FloatField(
        allow_null=True,
        help_text="Numeric and date questions: integral of (CRPS - crowd median CRPS) over active time / window "
        "length, in range units; negative beats the crowd. Never added to relative Brier. Null on binary and "
        "multiple-choice questions.",
    )


class ScoreSerializer(CrpsFields, serializers.ModelSerializer):
    user = PublicUserSerializer(allow_null=True, help_text="Null for a crowd benchmark row.")
    crowd_method = serializers.CharField(help_text="The crowd aggregate for a benchmark row; empty for a person.")
    brier_final = serializers.FloatField(
        allow_null=True,
        help_text="Two-sided Brier (0..2, lower is better) of the standing forecast at close; null on numeric and "
        "date questions (see crps_final).",
    )
    brier_mean = serializers.FloatField(
        allow_null=True,
        help_text="Time-averaged two-sided Brier (0..2) over the time the user was active; null on numeric and "
        "date questions.",
    )
    relative_brier = serializers.FloatField(
        allow_null=True,
        help_text="Integral of (Brier - crowd median Brier) over active time / window length. Negative beats the "
        "crowd. Null on numeric and date questions (see relative_crps).",
    )
    question_title = serializers.CharField(source="question.title", read_only=True)

    class Meta:
        model = Score
        fields = [
            "question",
            "question_title",
            "user",
            "crowd_method",
            "brier_final",
            "brier_mean",
            "participation",
            "relative_brier",
            "baseline",
            "peer",
            "coverage",
            "resolved_at",
            "computed_at",
            "crps_final",
            "crps_mean",
            "relative_crps",
        ]

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Forecast, Score


@extend_schema_field(OpenApiTypes.DOUBLE)
class RawValueField(serializers.Field):
    """Passes the JSON value through untouched: forecasts.validation applies the rules, so that a
    string such as "0.5" is refused rather than coerced."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


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
        # Validate only the rationale here; the vector is validated by the service on raw input.
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["expected a JSON object"]})
        rationale = data.get("rationale", "")
        if rationale is None:
            rationale = ""
        if not isinstance(rationale, str):
            raise serializers.ValidationError({"rationale": ["must be text"]})
        payload = {k: data[k] for k in ("probability", "probabilities") if k in data}
        return {"payload": payload, "rationale": rationale}


class ForecastSerializer(serializers.ModelSerializer):
    probability = serializers.SerializerMethodField(help_text="P(yes) on binary questions; null otherwise.")
    probabilities = serializers.SerializerMethodField(help_text="Option label -> probability; null for a withdrawal.")
    question_title = serializers.CharField(source="question.title", read_only=True)

    class Meta:
        model = Forecast
        fields = ["id", "question", "question_title", "kind", "created_at", "probability", "probabilities", "rationale"]

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
        if f.probabilities is None:
            return None
        return dict(zip(self._labels(f), f.probabilities, strict=True))


class PublicUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="public_name")


class ScoreSerializer(serializers.ModelSerializer):
    user = PublicUserSerializer(allow_null=True, help_text="Null for a crowd benchmark row.")
    crowd_method = serializers.CharField(help_text="The crowd aggregate for a benchmark row; empty for a person.")
    brier_final = serializers.FloatField(
        allow_null=True, help_text="Two-sided Brier (0..2, lower is better) of the standing forecast at close."
    )
    brier_mean = serializers.FloatField(
        allow_null=True, help_text="Time-averaged two-sided Brier (0..2) over the time the user was active."
    )
    relative_brier = serializers.FloatField(
        help_text="Integral of (Brier - crowd median Brier) over active time / window length. Negative beats the crowd."
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
        ]

"""The API's serializers: input validation of request bodies and the shape of responses."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from forecast_math import DEFAULT_AGGREGATE
from forecasts.models import Forecast
from forecasts.selectors import crowd_history, crowd_latest, crowd_visible
from questions.models import Question, ScoringMode, Series
from questions.selectors import question_status
from scoring.models import Score


class OptionSerializer(serializers.Serializer):
    label = serializers.CharField()
    position = serializers.IntegerField()


class ResolutionSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Question.State.choices)
    outcome = serializers.CharField(allow_null=True, help_text="The true option's label; null unless resolved.")
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
    probabilities = serializers.DictField(child=serializers.FloatField(), allow_null=True)
    n_forecasters = serializers.IntegerField()


class CrowdSerializer(serializers.Serializer):
    revealed = serializers.BooleanField(help_text="False before crowd_reveal_time (admins always see it).")
    method = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField(), allow_null=True)
    n_forecasters = serializers.IntegerField()
    history = CrowdPointSerializer(many=True, required=False)


def _labels(q: Question) -> list[str]:
    return [o.label for o in q.options.all()]


def _as_dict(labels: list[str], probs: list[float] | None) -> dict[str, float] | None:
    return None if probs is None else dict(zip(labels, probs, strict=True))


class QuestionSerializer(serializers.ModelSerializer):
    series = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    options = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text="open, closed, resolved, annulled or draft.")
    resolution = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    crowd = serializers.SerializerMethodField()
    forecaster_count = serializers.IntegerField(read_only=True, default=0)

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
        ]

    @extend_schema_field(OptionSerializer(many=True))
    def get_options(self, q: Question):
        return [{"label": o.label, "position": o.position} for o in q.options.all()]

    def get_status(self, q: Question) -> str:
        return question_status(q)

    @extend_schema_field(ResolutionSerializer)
    def get_resolution(self, q: Question):
        return {
            "state": q.state,
            "outcome": q.resolved_option.label if q.resolved_option_id else None,
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
        labels = _labels(q)
        if not crowd_visible(question=q, user=user, now=timezone.now()):
            return {"revealed": False, "method": DEFAULT_AGGREGATE, "probabilities": None, "n_forecasters": 0}
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
        body = {
            "revealed": True,
            "method": DEFAULT_AGGREGATE,
            "probabilities": _as_dict(labels, last.probabilities) if last else None,
            "n_forecasters": last.n_forecasters if last else 0,
        }
        if with_history:
            body["history"] = [
                {"time": p.time, "probabilities": _as_dict(labels, p.probabilities), "n_forecasters": p.n_forecasters}
                for p in points
            ]
        return body


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


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(help_text='"yes", "no", an option label, or "annulled".', max_length=200)
    known_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the answer became public (early close)."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


# --- Forecasts and scores ---------------------------------------------------------------------


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

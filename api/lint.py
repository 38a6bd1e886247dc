"""The question linter over the API (staff): `POST /api/v1/questions/lint/` with a question's
terms returns the findings of questions/lint.py, the same the admin shows."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.parsers import LimitedJSONParser
from config.schema import error_responses
from questions.extraction import LINT_CODES
from questions.lint import question_lint

TEXT_FIELDS = ("title", "resolution_criteria", "description")


class LintInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, help_text="The question as it would be published.")
    resolution_criteria = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    close_time = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="The scheduled close, when already chosen."
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    options = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        max_length=50,
        help_text="A multiple-choice question's option labels (they count for the actor and the event).",
    )
    question = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**63 - 1,
        help_text="The id of the question being edited: left out of the near-duplicate check.",
    )

    def to_internal_value(self, data):
        # Text must be text: DRF would otherwise turn a number into a title.
        if hasattr(data, "get"):
            for name in TEXT_FIELDS:
                value = data.get(name)
                if value is not None and not isinstance(value, str):
                    raise serializers.ValidationError({name: ["must be a string"]})
        return super().to_internal_value(data)


class LintFindingSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=list(LINT_CODES), help_text="Stable: what the finding is about.")
    message = serializers.CharField(help_text="One line, for people.")


class LintOutputSerializer(serializers.Serializer):
    findings = LintFindingSerializer(many=True, help_text="Empty when the linter found nothing.")


class QuestionLintView(APIView):
    permission_classes = [permissions.IsAdminUser]
    parser_classes = [LimitedJSONParser]  # a JSON body only (a form adds nothing here)

    @extend_schema(
        request=LintInputSerializer,
        responses={200: LintOutputSerializer, **error_responses(400, 401, 403)},
        tags=["questions"],
        summary="Lint a question's terms",
        description="Flags what would make a question hard to resolve: `no_deadline` (no dated deadline in the "
        "title or criteria and no close time), `no_actor` (no named actor), `no_observable` (no concrete event "
        "or number), `no_source` (the criteria name no resolution source), `vague_words` and `near_duplicate` "
        "(close to a stored question's title). Nothing is stored.",
        examples=[
            OpenApiExample(
                "A vague question",
                value={"title": "Will relations improve significantly soon?"},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        s = LintInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        findings = question_lint(
            title=d["title"],
            resolution_criteria=d["resolution_criteria"],
            close_time=d["close_time"],
            description=d["description"],
            options=d["options"],
            exclude=[d["question"]],
        )
        return Response({"findings": [f.to_dict() for f in findings]})

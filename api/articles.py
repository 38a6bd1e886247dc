"""Article and candidate endpoints: upload, review (approve / reject), and the article view."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import DomainError
from config.params import reject_empty
from config.schema import error_responses
from forecasts.selectors import with_crowd
from questions import articles, selectors
from questions.extraction import DEFAULT_HORIZON_DAYS
from questions.models import Article, Candidate, Question

from .questions import api_field_names, range_values
from .serializers import VALUE_INPUT_SCHEMA, QuestionSerializer, documented

CONTEXT_CHARS = 240


class ArticleSerializer(serializers.ModelSerializer):
    candidate_count = serializers.IntegerField(source="candidates.count", read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "title",
            "author",
            "source_url",
            "published_on",
            "sha256",
            "format",
            "created_at",
            "candidate_count",
        ]


class ArticleDetailSerializer(ArticleSerializer):
    text = serializers.CharField()
    questions = serializers.SerializerMethodField(
        help_text="Published questions drawn from this article, with crowd and resolution."
    )

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "text", "questions"]

    @extend_schema_field(QuestionSerializer(many=True))
    def get_questions(self, article: Article) -> list[dict]:
        qs = with_crowd(selectors.question_list(user=self.context["request"].user, article=article.pk)).order_by(
            "indicator", "source_start", "id"
        )
        return QuestionSerializer(qs, many=True, context=self.context).data


class ArticleUploadSerializer(serializers.Serializer):
    text = serializers.CharField(
        required=False, trim_whitespace=False, help_text="The article as text, Markdown or HTML."
    )
    file = serializers.FileField(required=False, help_text="Or the article as a file (UTF-8).")
    title = serializers.CharField(required=False, max_length=300)
    source_url = serializers.URLField(required=False, allow_blank=True, default="")
    horizon_days = serializers.IntegerField(required=False, min_value=1, max_value=36500, default=DEFAULT_HORIZON_DAYS)

    def validate(self, attrs):
        if bool(attrs.get("text")) == bool(attrs.get("file")):
            raise serializers.ValidationError({"text": ["give exactly one of 'text' or 'file'"]})
        return attrs


class CandidateSerializer(serializers.ModelSerializer):
    context_before = serializers.SerializerMethodField()
    context_after = serializers.SerializerMethodField()

    class Meta:
        model = Candidate
        fields = [
            "id",
            "article",
            "rank",
            "start",
            "end",
            "section",
            "kind",
            "score",
            "context_before",
            "passage",
            "context_after",
            "draft",
            "status",
            "question",
        ]

    def get_context_before(self, c: Candidate) -> str:
        return c.article.text[max(0, c.start - CONTEXT_CHARS) : c.start]

    def get_context_after(self, c: Candidate) -> str:
        return c.article.text[c.end : c.end + CONTEXT_CHARS]


class ApproveSerializer(serializers.Serializer):
    """The edited draft; every field is optional and defaults to the candidate's draft."""

    title = serializers.CharField(required=False, max_length=300)
    type = serializers.ChoiceField(choices=Question.Type.choices, required=False)
    options = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=50)
    description = serializers.CharField(required=False, allow_blank=True)
    resolution_criteria = serializers.CharField(required=False, allow_blank=True)
    open_time = serializers.DateTimeField(required=False)
    close_time = serializers.DateTimeField(required=False)
    series = serializers.SlugField(required=False)
    indicator = serializers.CharField(required=False, allow_blank=True, max_length=200)
    published = serializers.BooleanField(required=False, default=True)
    lower = documented(
        VALUE_INPUT_SCHEMA, required=False, help_text="Numeric and date questions: the range's lower bound."
    )
    upper = documented(VALUE_INPUT_SCHEMA, required=False, help_text="The range's upper bound.")
    open_lower = serializers.BooleanField(required=False, help_text="The outcome may fall below `lower`.")
    open_upper = serializers.BooleanField(required=False, help_text="The outcome may fall above `upper`.")
    unit = serializers.CharField(required=False, allow_blank=True, max_length=40, help_text="Numeric: the unit.")


class ArticleListCreateView(APIView):
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    def get_permissions(self):
        return [permissions.IsAdminUser()] if self.request.method == "POST" else [permissions.AllowAny()]

    @extend_schema(responses={200: ArticleSerializer(many=True)}, tags=["articles"])
    def get(self, request):
        return Response(ArticleSerializer(Article.objects.order_by("-created_at")[:200], many=True).data)

    @extend_schema(
        request={"application/json": ArticleUploadSerializer, "multipart/form-data": ArticleUploadSerializer},
        responses={201: ArticleSerializer, 200: ArticleSerializer, **error_responses(400, 401, 403)},
        tags=["articles"],
        description="Upload an article; its candidate questions are extracted for review. The same bytes "
        "uploaded again return the stored article (200).",
    )
    def post(self, request):
        s = ArticleUploadSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        if d.get("file") is not None:
            data, filename = d["file"].read(), d["file"].name
        else:
            data, filename = d["text"].encode("utf-8"), None
        article, created = articles.article_ingest(
            data=data,
            filename=filename,
            by=request.user,
            title=d.get("title"),
            source_url=d["source_url"],
            horizon_days=d["horizon_days"],
        )
        return Response(
            ArticleSerializer(article).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ArticleDetailView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(responses={200: ArticleDetailSerializer, **error_responses(404)}, tags=["articles"])
    def get(self, request, pk: int):
        article = get_object_or_404(Article, pk=pk)
        return Response(ArticleDetailSerializer(article, context={"request": request}).data)


class ArticleCandidatesView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses={200: CandidateSerializer(many=True), **error_responses(401, 403, 404)}, tags=["articles"])
    def get(self, request, pk: int):
        article = get_object_or_404(Article, pk=pk)
        qs = article.candidates.select_related("article").order_by("rank")
        reject_empty(request.query_params, "status")
        status_ = request.query_params.get("status")
        if status_:
            if status_ not in Candidate.Status.values:
                raise DomainError(f"must be one of {', '.join(Candidate.Status.values)}", field="status")
            qs = qs.filter(status=status_)
        return Response(CandidateSerializer(qs, many=True).data)


class CandidateApproveView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request=ApproveSerializer,
        responses={201: QuestionSerializer, **error_responses(400, 401, 403, 404, 409)},
        tags=["articles"],
    )
    def post(self, request, pk: int):
        candidate = get_object_or_404(Candidate.objects.select_related("article"), pk=pk)
        s = ApproveSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        edits = dict(s.validated_data)
        # An edited range is read as POST /questions/ reads one (a date question's bounds are instants)
        question_type = edits.get("type") or (candidate.draft or {}).get("type", Question.Type.BINARY)
        edits.update({k: v for k, v in range_values(edits, question_type).items() if v is not None})
        with api_field_names():
            question = articles.candidate_approve(candidate=candidate, by=request.user, edits=edits)
        fresh = with_crowd(selectors.question_list(user=request.user)).get(pk=question.pk)
        return Response(QuestionSerializer(fresh, context={"request": request}).data, status=status.HTTP_201_CREATED)


class CandidateRejectView(APIView):
    permission_classes = [permissions.IsAdminUser]

    @extend_schema(
        request=None, responses={200: CandidateSerializer, **error_responses(401, 403, 404, 409)}, tags=["articles"]
    )
    def post(self, request, pk: int):
        candidate = get_object_or_404(Candidate.objects.select_related("article"), pk=pk)
        return Response(CandidateSerializer(articles.candidate_reject(candidate=candidate, by=request.user)).data)

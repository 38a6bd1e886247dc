"""Admin for series, questions and options. Resolution actions go through the same services
(and so the same audit trail and scoring jobs) as the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html

from config.exceptions import DomainError

from . import services
from .models import Article, Candidate, Option, Question, ResolutionEvent, Series


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "scoring_mode")
    prepopulated_fields = {"slug": ("title",)}


class OptionInline(admin.TabularInline):
    model = Option
    extra = 0
    fields = ("position", "label")

    def has_delete_permission(self, request, obj=None) -> bool:
        # Options of a question with forecasts are part of the forecasts' meaning.
        return obj is None or not obj.forecasts.exists()


class ResolutionEventInline(admin.TabularInline):
    model = ResolutionEvent
    extra = 0
    can_delete = False
    fields = (
        "version",
        "action",
        "at",
        "by",
        "from_state",
        "from_outcome",
        "to_state",
        "to_outcome",
        "known_at",
        "note",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(help_text="The true outcome, or 'annulled'.")
    known_at = forms.DateTimeField(required=False, help_text="When the answer became public (early close), UTC.")
    note = forms.CharField(widget=forms.Textarea, required=False)

    def __init__(self, *args, question: Question, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(o.label, o.label) for o in question.options.all()] + [("annulled", "Annulled")]
        self.fields["resolution"].choices = choices


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "series", "type", "state", "close_time", "published_at")
    list_filter = ("state", "type", "series")
    search_fields = ("title", "slug")
    inlines = [OptionInline, ResolutionEventInline]
    readonly_fields = ("state", "resolved_option", "resolved_at", "resolution_version", "scored_version", "created_at")
    actions = ["annul_selected", "unresolve_selected"]
    change_form_template = "admin/questions/question/change_form.html"

    def get_urls(self):
        custom = [
            path("<int:pk>/resolve/", self.admin_site.admin_view(self.resolve_view), name="questions_question_resolve"),
        ]
        return custom + super().get_urls()

    def resolve_view(self, request, pk: int):
        question = get_object_or_404(Question, pk=pk)
        if not request.user.has_perm("questions.change_question"):
            messages.error(request, "You may not resolve questions.")
            return redirect(reverse("admin:questions_question_change", args=[pk]))
        form = ResolveForm(request.POST or None, question=question)
        if request.method == "POST" and form.is_valid():
            try:
                services.question_resolve(
                    question=question,
                    outcome=form.cleaned_data["resolution"],
                    known_at=form.cleaned_data["known_at"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except DomainError as e:
                form.add_error(None, f"{e.field or 'resolution'}: {e.message}")
            else:
                messages.success(request, f"Resolved as {form.cleaned_data['resolution']}; scoring is queued.")
                return redirect(reverse("admin:questions_question_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "question": question,
            "opts": self.model._meta,
            "title": f"Resolve: {question.title}",
        }
        return render(request, "admin/questions/question/resolve.html", context)

    @admin.action(description="Annul selected questions", permissions=["change"])
    def annul_selected(self, request, queryset):
        self._apply(request, queryset, services.question_annul, "annulled")

    @admin.action(description="Un-resolve selected questions", permissions=["change"])
    def unresolve_selected(self, request, queryset):
        self._apply(request, queryset, services.question_unresolve, "un-resolved")

    def _apply(self, request, queryset, fn, verb: str) -> None:
        done = 0
        for question in queryset:
            try:
                fn(question=question, by=request.user, note=f"{verb} in the admin")
                done += 1
            except DomainError as e:
                self.message_user(request, f"{question}: {e.message}", messages.WARNING)
        self.message_user(request, f"{done} question(s) {verb}.")


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "author", "published_on", "candidate_count", "created_at")
    readonly_fields = ("sha256", "format", "created_at", "created_by")
    search_fields = ("title", "author")

    @admin.display(description="Candidates")
    def candidate_count(self, obj: Article) -> int:
        return obj.candidates.count()


class ApproveForm(forms.Form):
    title = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 100}))
    type = forms.ChoiceField(choices=Question.Type.choices)
    options = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text="One option per line (multiple choice)."
    )
    resolution_criteria = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 100}), required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 100}), required=False)
    close_time = forms.DateTimeField(help_text="UTC")
    series = forms.ModelChoiceField(queryset=Series.objects.all(), required=False)
    indicator = forms.CharField(required=False, max_length=200)


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ("rank", "article", "kind", "score", "status", "draft_title", "question")
    list_filter = ("status", "kind", "article")
    readonly_fields = (
        "article",
        "start",
        "end",
        "section",
        "kind",
        "score",
        "rank",
        "passage_in_context",
        "status",
        "question",
        "reviewed_by",
        "reviewed_at",
    )
    exclude = ("passage", "draft")
    actions = ["reject_selected"]
    change_form_template = "admin/questions/candidate/change_form.html"

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Draft title")
    def draft_title(self, obj: Candidate) -> str:
        return (obj.draft or {}).get("title", "")

    @admin.display(description="Passage in context")
    def passage_in_context(self, obj: Candidate):
        text = obj.article.text
        before = text[max(0, obj.start - 300) : obj.start]
        after = text[obj.end : obj.end + 300]
        return format_html(
            '<div style="max-width:60em;line-height:1.5">…{}<mark style="background:#ffe58a;padding:0 2px">{}</mark>{}…</div>',
            before,
            obj.passage,
            after,
        )

    def get_urls(self):
        custom = [
            path("<int:pk>/approve/", self.admin_site.admin_view(self.approve_view), name="questions_candidate_approve")
        ]
        return custom + super().get_urls()

    def approve_view(self, request, pk: int):
        from .articles import candidate_approve

        candidate = get_object_or_404(Candidate.objects.select_related("article"), pk=pk)
        draft = candidate.draft or {}
        initial = {
            "title": draft.get("title", ""),
            "type": draft.get("type", "binary"),
            "options": "\n".join(draft.get("options") or []),
            "resolution_criteria": draft.get("resolution_criteria", ""),
            "close_time": draft.get("close_time"),
            "indicator": candidate.section,
        }
        form = ApproveForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            edits = {
                k: d[k]
                for k in ("title", "type", "resolution_criteria", "description", "close_time", "series", "indicator")
            }
            edits["options"] = [line.strip() for line in d["options"].splitlines() if line.strip()] or None
            try:
                question = candidate_approve(candidate=candidate, by=request.user, edits=edits)
            except DomainError as e:
                form.add_error(None, f"{e.field or 'candidate'}: {e.message}")
            else:
                messages.success(request, "Approved: the question is published and keeps its source passage.")
                return redirect(reverse("admin:questions_question_change", args=[question.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "candidate": candidate,
            "opts": self.model._meta,
            "title": "Approve candidate",
            "passage_html": self.passage_in_context(candidate),
        }
        return render(request, "admin/questions/candidate/approve.html", context)

    @admin.action(description="Reject selected candidates", permissions=["change"])
    def reject_selected(self, request, queryset):
        from .articles import candidate_reject

        done = 0
        for c in queryset:
            try:
                candidate_reject(candidate=c, by=request.user)
                done += 1
            except DomainError as e:
                self.message_user(request, f"{c}: {e.message}", messages.WARNING)
        self.message_user(request, f"{done} candidate(s) rejected.")

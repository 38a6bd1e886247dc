"""Admin for series, questions and options. Every write goes through the same services (and so
the same validation, row lock, audit trail and scoring jobs) as the API: creating a question through
question_create, editing one (its options included) through question_update, resolving through
question_resolve, question_annul and question_unresolve."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.exceptions import DomainError
from forecast_math import parse_instant

from . import services
from .lint import candidate_lint, question_lint_stored
from .models import CONTINUOUS_TYPES, Article, Candidate, Option, Question, ResolutionEvent, ScoringMode, Series
from .selectors import outcome_text, value_json, value_text

#: The range bounds are edited as text in the form fields "lower" and "upper" (a number, or an
#: ISO 8601 instant for a date question), not as the float columns (a date's POSIX seconds).
RANGE_FORM_FIELDS = {"range_lower": "lower", "range_upper": "upper"}
#: The terms on the form (the options are the inline's rows), the bounds by their form names.
TERMS_COLUMNS = tuple(RANGE_FORM_FIELDS.get(name, name) for name in services.QUESTION_TERMS_FIELDS if name != "options")
#: The range's fields, shown in their own fieldset (all terms except the unit, which is wording).
RANGE_FIELDS = ("lower", "upper", "open_lower", "open_upper", "unit")
TERMS_MAIN = tuple(name for name in TERMS_COLUMNS if name not in RANGE_FIELDS)
#: The resolution as the change form shows it, read-only ("outcome": QuestionAdmin.outcome).
RESOLUTION_SHOWN = ("state", "known_at", "outcome", "resolved_at", "resolution_version", "scored_version")
#: Where QuestionAdmin.changeform_view keeps a service's refusal while it shows the form again.
REFUSAL_ATTR = "question_admin_refusal"
#: Where terms_frozen keeps its answers for the rest of the request.
FROZEN_CACHE_ATTR = "question_admin_terms_frozen"


def range_text(question: Question) -> str:
    """The range of a numeric or date question for the resolve page: "0 kt (closed) .. 200 kt
    (open: the outcome may be above)"; "" for other questions."""
    if not question.is_continuous:
        return ""
    low = value_text(question, question.range_lower)
    high = value_text(question, question.range_upper)
    low += " (open: the outcome may be below)" if question.open_lower else " (closed)"
    high += " (open: the outcome may be above)" if question.open_upper else " (closed)"
    return f"{low} .. {high}"


def lint_html(findings) -> str:
    """The question linter's findings as a read-only list (questions/lint.py)."""
    if not findings:
        return format_html('<p style="margin:0">{}</p>', "No findings.")
    items = format_html_join("", "<li><code>{}</code> {}</li>", ((f.code, f.message) for f in findings))
    return format_html('<ul style="margin:0;padding-left:1.2em">{}</ul>', items)


def terms_frozen(request, question: Question | None) -> bool:
    """services.question_terms_frozen for display, asked once per request and question (the admin
    asks it for every read-only field list and inline permission). The question_update call that
    saves asks again, under the row lock."""
    if question is None or question.pk is None:
        return False
    answers = getattr(request, FROZEN_CACHE_ATTR, None)
    if answers is None:
        answers = {}
        setattr(request, FROZEN_CACHE_ATTR, answers)
    if question.pk not in answers:
        answers[question.pk] = services.question_terms_frozen(question)
    return answers[question.pk]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "scoring_mode")
    prepopulated_fields = {"slug": ("title",)}


class OptionInline(admin.TabularInline):
    """The options, in position order. Never saved by the formset: QuestionAdmin passes the labels
    to question_create / question_update. Read-only once the question's terms are frozen: the
    options of a question with forecasts are part of the forecasts' meaning. (In the permission
    checks `obj` is the question, None on the add form.)"""

    model = Option
    extra = 0
    fields = ("position", "label")

    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and not terms_frozen(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not terms_frozen(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not terms_frozen(request, obj)


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
        self.question = question
        if question.is_continuous:
            # A value (a number; an ISO 8601 instant for a date question), or below/above/annulled:
            # question_resolve reads it (a value beyond an open bound resolves as below/above).
            what = "the value (a number)" if question.type == "numeric" else "the date (ISO 8601, UTC)"
            extra = "".join(
                f", '{word}'"
                for word, is_open in (("below", question.open_lower), ("above", question.open_upper))
                if is_open
            )
            self.fields["resolution"] = forms.CharField(
                max_length=100, help_text=f"The true outcome: {what}{extra}, or 'annulled'."
            )
            return
        choices = [(o.label, o.label) for o in question.options.all()] + [("annulled", "Annulled")]
        self.fields["resolution"].choices = choices

    def clean_resolution(self):
        value = self.cleaned_data["resolution"]
        if not self.question.is_continuous:
            return value
        value = value.strip()
        if value in ("below", "above", "annulled") or self.question.type == "date":
            return value
        try:
            return float(value)
        except ValueError:
            raise forms.ValidationError("must be a number, or one of 'below', 'above', 'annulled'") from None


class QuestionAdminForm(forms.ModelForm):
    """The question form. It only validates input: QuestionAdmin saves through the services.

    QuestionAdmin.get_form sets, for one request:
    - `refusal`: a DomainError the service raised for this same POST, shown as the form's errors
      (which also keeps the form from being saved again);
    - `keep_if_omitted`: the frozen terms of the question. The change page shows them read-only,
      so its POST carries no value for them and they keep the stored one; a POST that does carry
      one (a page loaded before the first forecast) reaches question_update, which refuses it."""

    refusal: DomainError | None = None
    keep_if_omitted: tuple[str, ...] = ()

    lower = forms.CharField(
        required=False,
        max_length=64,
        help_text="Numeric and date questions: the lower bound, a number (a date question: an ISO 8601 "
        "instant such as 2025-03-01T00:00:00Z).",
    )
    upper = forms.CharField(
        required=False,
        max_length=64,
        help_text="Numeric and date questions: the upper bound (as the lower one).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            for column, name in RANGE_FORM_FIELDS.items():
                value = value_json(self.instance, getattr(self.instance, column))
                if name in self.fields:
                    self.fields[name].initial = self.initial[name] = "" if value is None else str(value)
        for name in self.keep_if_omitted:
            field = self.fields.get(name)
            if field is None or not self.is_bound:
                continue
            key = self.add_prefix(name)
            if isinstance(field.widget, forms.CheckboxInput):
                omitted = key not in self.data  # an unticked box is never posted: read as omitted
            else:
                omitted = field.widget.value_omitted_from_data(self.data, self.files, key)
            if omitted:
                field.disabled = True  # a disabled field takes the stored value and never changes
        if self.instance.pk is None and "scoring_mode" in self.fields:
            # As in question_create: no choice means the series' mode.
            field = self.fields["scoring_mode"]
            field.required = False
            field.choices = [("", "The series' mode (continuous without a series)"), *ScoringMode.choices]
            field.initial = self.initial["scoring_mode"] = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        qtype = cleaned.get("type", self.instance.type)
        for column, name in RANGE_FORM_FIELDS.items():
            if name not in self.fields or self.fields[name].disabled:
                continue
            text = (cleaned.get(name) or "").strip()
            if not text:
                cleaned[column] = None
            elif qtype == "date":
                try:
                    cleaned[column] = parse_instant(text, allow_date=True)
                except ValueError:
                    self.add_error(name, "must be an ISO 8601 date-time such as 2025-03-01T00:00:00Z")
            else:
                try:
                    cleaned[column] = float(text)
                except ValueError:
                    self.add_error(name, "must be a number")
        if self.refusal is not None:
            fields = self.refusal.fields or {None: [self.refusal.message]}
            for name, rules in fields.items():
                name = RANGE_FORM_FIELDS.get(name, name)
                if name in self.fields:
                    self.add_error(name, rules)
                else:
                    self.add_error(None, [f"{name}: {rule}" if name else rule for rule in rules])
        return cleaned


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    """Questions. The change form saves through question_update and the add form through
    question_create; a refusal is shown on the form and nothing is saved. Once the question has
    forecasts (services.question_terms_frozen) its terms are shown read-only."""

    form = QuestionAdminForm
    list_display = ("id", "title", "series", "type", "state", "close_time", "published_at")
    list_filter = ("state", "type", "series")
    search_fields = ("title", "slug")
    inlines = [OptionInline, ResolutionEventInline]
    fieldsets = (
        (None, {"fields": ("title", "slug", "series", "description", "resolution_criteria", "indicator")}),
        (
            "Question check",
            {"fields": ("lint_findings",), "description": "The linter's findings on the saved question."},
        ),
        (
            "Terms",
            {
                "fields": TERMS_MAIN,
                "description": "What forecasts answer. Frozen, with the options, once the question has forecasts.",
            },
        ),
        (
            "Range (numeric and date questions)",
            {
                "fields": RANGE_FIELDS,
                "description": "Instead of options. The bounds and open/closed are frozen once the question has "
                "forecasts; an open bound lets the outcome fall beyond it.",
            },
        ),
        ("Visibility", {"fields": ("published_at", "crowd_reveal_time")}),
        (
            "Resolution",
            {
                "fields": RESOLUTION_SHOWN,
                "description": "Changed only by Resolve…, and the annul and un-resolve actions.",
            },
        ),
        ("Source", {"fields": ("article", "source_start", "source_end", "source_passage", "created_at")}),
    )
    add_fieldsets = (
        (None, {"fields": ("title", "slug", "series", "description", "resolution_criteria", "indicator")}),
        ("Terms", {"fields": TERMS_MAIN}),
        ("Range (numeric and date questions)", {"fields": RANGE_FIELDS}),
        ("Visibility", {"fields": ("published_at", "crowd_reveal_time")}),
        ("Source", {"fields": ("article", "source_start", "source_end")}),
    )
    readonly_fields = (
        *RESOLUTION_SHOWN,
        "source_passage",
        "created_at",
        "lint_findings",
    )
    actions = ["annul_selected", "unresolve_selected"]
    change_form_template = "admin/questions/question/change_form.html"

    @admin.display(description="Outcome")
    def outcome(self, obj: Question) -> str:
        return (outcome_text(obj) or "—") if obj is not None and obj.pk else "—"

    @admin.display(description="Lower")
    def lower(self, obj: Question) -> str:
        """The lower bound as text (shown read-only once the terms are frozen)."""
        return "—" if obj is None or obj.range_lower is None else str(value_json(obj, obj.range_lower))

    @admin.display(description="Upper")
    def upper(self, obj: Question) -> str:
        return "—" if obj is None or obj.range_upper is None else str(value_json(obj, obj.range_upper))

    @admin.display(description="Linter")
    def lint_findings(self, obj: Question):
        return lint_html(question_lint_stored(obj)) if obj is not None and obj.pk else "—"

    # --- Saving through the services -----------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def terms_locked(self, request, obj: Question | None) -> bool:
        """Whether the terms are read-only on this request: the question has forecasts, and this
        is not the first pass of a POST (which must see any term the POST changes, to refuse it)."""
        if not terms_frozen(request, obj):
            return False
        return request.method != "POST" or getattr(request, REFUSAL_ATTR, None) is not None

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["article", "source_start", "source_end"]  # provenance: question_link_source
            if self.terms_locked(request, obj):
                readonly += TERMS_COLUMNS
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.refusal = getattr(request, REFUSAL_ATTR, None)
        frozen = request.method == "POST" and terms_frozen(request, obj)
        form.keep_if_omitted = TERMS_COLUMNS if frozen else ()
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            if request.method != "POST" or getattr(request, REFUSAL_ATTR, None) is not None:
                raise
            # The service refused inside super()'s transaction, which the error rolled back, so
            # nothing was saved. Show the same POST again with the refusal as the form's errors.
            setattr(request, REFUSAL_ATTR, refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Nothing here: save_related saves the question and its options in one service call."""

    def save_related(self, request, form, formsets, change) -> None:
        labels = self.option_labels(formsets)
        data = form.cleaned_data
        if change:
            editable = services.QUESTION_TERMS_FIELDS + services.QUESTION_FREE_FIELDS
            changes = {name: data[name] for name in form.changed_data if name in editable}
            for column, name in RANGE_FORM_FIELDS.items():
                if name in form.changed_data:
                    changes[column] = data.get(column)
            if "type" in changes and changes["type"] in CONTINUOUS_TYPES:
                for column in RANGE_FORM_FIELDS:  # a type changed to numeric/date takes the range on the form
                    if column in data:
                        changes.setdefault(column, data[column])
            if labels is not None:
                changes["options"] = labels
            question = services.question_update(question=form.instance, by=request.user, changes=changes)
        else:
            question = services.question_create(
                type=data["type"],
                title=data["title"],
                open_time=data["open_time"],
                close_time=data["close_time"],
                options=labels,
                ordered=data["ordered"],
                series=data["series"],
                slug=data["slug"] or None,
                description=data["description"],
                resolution_criteria=data["resolution_criteria"],
                crowd_reveal_time=data["crowd_reveal_time"],
                scoring_mode=data["scoring_mode"] or None,
                published=data["published_at"] is not None,
                article=data["article"],
                source_start=data["source_start"],
                source_end=data["source_end"],
                indicator=data["indicator"],
                range_lower=data.get("range_lower"),
                range_upper=data.get("range_upper"),
                open_lower=data["open_lower"],
                open_upper=data["open_upper"],
                unit=data["unit"],
            )
            if data["published_at"] is not None and data["published_at"] != question.published_at:
                question = services.question_update(
                    question=question, by=request.user, changes={"published_at": data["published_at"]}
                )
        form.options_changed = labels is not None
        # The admin goes on with form.instance (the log entry, the redirect): make it the saved row.
        form.instance.pk = question.pk
        form.instance.refresh_from_db()

    @staticmethod
    def option_labels(formsets) -> list[str] | None:
        """The option labels the inline asks for, in position order; None when it changed nothing."""
        for formset in formsets:
            if formset.model is not Option or not formset.has_changed():
                continue
            rows = []
            for index, row in enumerate(formset.forms):
                cleaned = getattr(row, "cleaned_data", None) or {}
                if cleaned and not cleaned.get("DELETE"):
                    rows.append((cleaned["position"], index, cleaned["label"]))
            return [label for _position, _index, label in sorted(rows)]
        return None

    def construct_change_message(self, request, form, formsets, add=False):
        # The option formset is never saved itself (its rows went through the service).
        message = construct_change_message(form, [], add)
        if getattr(form, "options_changed", False) and not add:
            message.append({"changed": {"fields": ["options"]}})
        return message

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
                question.refresh_from_db()
                done = f"Resolved as {outcome_text(question)}" if question.state == "resolved" else "Annulled"
                messages.success(request, f"{done}; scoring is queued.")
                return redirect(reverse("admin:questions_question_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "question": question,
            "outcome": outcome_text(question),
            "range_text": range_text(question),
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
        "lint_findings",
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

    @admin.display(description="Linter (the draft)")
    def lint_findings(self, obj: Candidate):
        return lint_html(candidate_lint(obj))

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
            # The linter's findings on the draft as edited (read-only), under the passage.
            "passage_html": format_html(
                "{}<h2>Linter</h2>{}",
                self.passage_in_context(candidate),
                lint_html(candidate_lint(candidate, self.edited_draft(request, candidate))),
            ),
        }
        return render(request, "admin/questions/candidate/approve.html", context)

    @staticmethod
    def edited_draft(request, candidate: Candidate) -> dict:
        """The draft as the approve form last posted it (the stored draft on a GET)."""
        if request.method != "POST":
            return candidate.draft or {}
        data = request.POST
        return {
            "title": data.get("title", ""),
            "resolution_criteria": data.get("resolution_criteria", ""),
            "description": data.get("description", ""),
            "close_time": data.get("close_time") or None,
            "options": [line.strip() for line in data.get("options", "").splitlines() if line.strip()],
        }

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

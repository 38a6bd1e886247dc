"""Admin for strategic questions, with their drivers and indicator links as inlines.

Nothing here writes rows itself: the strategic question is created and edited through
strategic_question_create / strategic_question_update, and the inlines' rows are turned into one
payload for strategic_links_replace, so the admin and the API share the same rules (directions,
weights, unknown and duplicate questions, unordered multiple choice). A refusal is shown on the
form and nothing is saved. The indicator links are edited on the change page (a link names one of
the drivers already saved)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import ValidationError

from config.exceptions import DomainError

from . import history, selectors, services
from .models import ArticleProposal, Driver, IndicatorLink, StrategicPoint, StrategicQuestion

#: Where changeform_view keeps a service's refusal (and how to name its fields) while it shows
#: the form again.
REFUSAL_ATTR = "strategy_admin_refusal"
_LINK_FIELD = re.compile(r"^drivers\[(\d+)\](?:\.indicators\[(\d+)\])?(?:\.(\w+))?$")


class StrategicQuestionAdminForm(forms.ModelForm):
    """Validates input only; StrategicQuestionAdmin saves through the services. `refusal` is set
    by the admin for the second pass of a refused POST: a DomainError and a function that names
    its fields for people."""

    refusal: tuple[DomainError, Any] | None = None

    class Meta:
        model = StrategicQuestion
        fields = ("slug", "title", "description", "pole_less", "pole_more", "published_at")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.refusal is not None:
            error, describe = self.refusal
            for name, rules in (error.fields or {None: [error.message]}).items():
                if name in self.fields:
                    self.add_error(name, rules)
                else:
                    self.add_error(None, [f"{describe(name)}: {rule}" if name else rule for rule in rules])
        return cleaned


class DriverInline(admin.TabularInline):
    """The drivers, in `order`. Saved with the links through strategic_links_replace."""

    model = Driver
    extra = 1
    fields = ("order", "title")


class IndicatorLinkForm(forms.ModelForm):
    """A links row. Its checks on direction and weight run as usual; one link per question is
    checked across the rows by the formset and, over the whole payload, by
    strategic_links_validate, not row by row against the saved links, which would refuse moving a
    question from a row being deleted to a new one."""

    def validate_constraints(self) -> None:
        try:
            self.instance.validate_constraints(exclude=self._get_validation_exclusions() | {"question"})
        except ValidationError as e:
            self._update_errors(e)


class IndicatorLinkInline(admin.TabularInline):
    """The indicator links. `driver` is one of this strategic question's saved drivers (save new
    drivers first). Saved through strategic_links_replace."""

    model = IndicatorLink
    form = IndicatorLinkForm
    fk_name = "strategic_question"
    extra = 1
    fields = ("driver", "order", "question", "direction", "weight", "rationale")
    raw_id_fields = ("question",)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields.get("driver")
        if field is not None:
            field.queryset = Driver.objects.filter(strategic_question=obj) if obj else Driver.objects.none()
        return formset


@admin.register(StrategicQuestion)
class StrategicQuestionAdmin(admin.ModelAdmin):
    form = StrategicQuestionAdminForm
    list_display = ("slug", "title", "published_at", "composite_now", "indicator_count", "computed_at")
    search_fields = ("slug", "title")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("created_at", "computed_at", "composite_now")
    actions = ["recompute_selected"]

    def get_queryset(self, request):
        return selectors.strategic_question_list(user=request.user)

    def get_inlines(self, request, obj):
        return [DriverInline, IndicatorLinkInline] if obj is not None else [DriverInline]

    @admin.display(description="Composite now")
    def composite_now(self, obj: StrategicQuestion) -> str:
        value = getattr(obj, "composite_now", None)
        if value is None and obj.pk is not None and not hasattr(obj, "indicator_count"):
            point = StrategicPoint.objects.filter(strategic_question=obj).order_by("-time").first()
            value = point.composite if point else None
        return "—" if value is None else f"{value:+.3f}"

    @admin.display(description="Indicators")
    def indicator_count(self, obj: StrategicQuestion) -> int:
        return getattr(obj, "indicator_count", 0)

    # --- Saving through the services -----------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.refusal = getattr(request, REFUSAL_ATTR, None)
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            if request.method != "POST" or getattr(request, REFUSAL_ATTR, None) is not None:
                raise
            # Refused inside super()'s transaction, which the error rolled back: nothing was saved.
            # Show the same POST again with the refusal as the form's errors.
            setattr(request, REFUSAL_ATTR, (refusal, getattr(request, "_strategy_describe", str)))
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Nothing here: save_related saves the strategic question and its links."""

    def save_related(self, request, form, formsets, change) -> None:
        data = form.cleaned_data
        payload, describe = self.links_payload(formsets, form.instance if change else None)
        request._strategy_describe = describe
        if change:
            changes = {name: data[name] for name in form.changed_data if name in services.EDITABLE_FIELDS}
            sq = services.strategic_question_update(strategic_question=form.instance, changes=changes)
            services.strategic_links_replace(strategic_question=sq, drivers=payload)
        else:
            sq = services.strategic_question_create(
                slug=data["slug"],
                title=data["title"],
                description=data["description"],
                pole_less=data["pole_less"],
                pole_more=data["pole_more"],
                published=data["published_at"] is not None,
                drivers=payload,
            )
            if data["published_at"] is not None and data["published_at"] != sq.published_at:
                sq = services.strategic_question_update(
                    strategic_question=sq, changes={"published_at": data["published_at"]}
                )
        # The admin goes on with form.instance (the log entry, the redirect): make it the saved row.
        form.instance.pk = sq.pk
        form.instance.refresh_from_db()

    @staticmethod
    def links_payload(formsets, sq: StrategicQuestion | None) -> tuple[list[dict], Any]:
        """The drivers-and-links payload the inlines ask for, and a function that names a payload
        field (`drivers[0].indicators[1].weight`) for people. Without a links inline (the add
        page) the saved links are kept."""
        driver_rows: list[tuple[int, int, int | None, str]] = []
        deleted: set[int] = set()
        link_rows: list[tuple[int, int, dict]] = []
        has_links_inline = False
        for formset in formsets:
            for index, row in enumerate(formset.forms):
                cleaned = getattr(row, "cleaned_data", None) or {}
                if formset.model is Driver:
                    if cleaned.get("DELETE"):
                        if row.instance.pk:
                            deleted.add(row.instance.pk)
                    elif cleaned:
                        driver_rows.append((cleaned.get("order") or 0, index, row.instance.pk, cleaned["title"]))
                elif formset.model is IndicatorLink:
                    has_links_inline = True
                    if cleaned and not cleaned.get("DELETE"):
                        link_rows.append((cleaned.get("order") or 0, index, cleaned))
        driver_rows.sort(key=lambda r: (r[0], r[1]))
        payload: list[dict] = [{"title": title, "indicators": []} for _, _, _, title in driver_rows]
        position = {pk: i for i, (_, _, pk, _) in enumerate(driver_rows) if pk is not None}
        names: dict[tuple[int, int | None], str] = {
            (i, None): f"Driver “{title}”" for i, (_, _, _, title) in enumerate(driver_rows)
        }
        if not has_links_inline and sq is not None:
            link_rows = [
                (link.order, n, {"driver": link.driver, "question": link.question, "direction": link.direction,
                                 "weight": link.weight, "rationale": link.rationale})
                for n, link in enumerate(IndicatorLink.objects.filter(strategic_question=sq).select_related("driver"))
            ]  # fmt: skip
        placed: list[tuple[int, int, int, dict]] = []
        for order, index, cleaned in link_rows:
            driver = cleaned["driver"]
            if driver.pk in deleted or driver.pk not in position:
                raise DomainError(
                    f"the link to question {cleaned['question'].pk} is under the driver “{driver.title}”, which "
                    "is being deleted: move the link to another driver or delete it too",
                    field="links",
                )
            placed.append((position[driver.pk], order, index, cleaned))
        placed.sort(key=lambda r: (r[0], r[1], r[2]))
        for i, _order, _index, cleaned in placed:
            j = len(payload[i]["indicators"])
            q = cleaned["question"]
            names[(i, j)] = f"{names[(i, None)]}, question {q.pk} (“{q.title[:60]}”)"
            payload[i]["indicators"].append(
                {
                    "question": q.pk,
                    "direction": cleaned["direction"],
                    "weight": cleaned["weight"],
                    "rationale": cleaned.get("rationale") or "",
                }
            )

        def describe(field: str | None) -> str:
            m = _LINK_FIELD.match(field or "")
            if not m:
                return field or ""
            i, j, attr = int(m.group(1)), m.group(2), m.group(3)
            where = names.get((i, int(j) if j is not None else None), field)
            return f"{where}: {attr}" if attr else where

        return payload, describe

    def construct_change_message(self, request, form, formsets, add=False):
        # The inline formsets are never saved themselves (their rows went through the service).
        message = construct_change_message(form, [], add)
        if not add and any(fs.has_changed() for fs in formsets):
            message.append({"changed": {"fields": ["drivers and indicator links"]}})
        return message

    @admin.action(description="Recompute the composite of the selected strategic questions", permissions=["change"])
    def recompute_selected(self, request, queryset):
        for sq in queryset:
            history.strategic_recompute(strategic_question_id=sq.pk)
        self.message_user(request, f"{queryset.count()} composite(s) recomputed.", messages.SUCCESS)


@admin.register(ArticleProposal)
class ArticleProposalAdmin(admin.ModelAdmin):
    """The articles whose extractor proposed a strategic question. Staff approve the proposed
    indicators' candidates (Questions > Candidates), then run the action: it creates the strategic
    question (unpublished) with links to the approved ones, or adds the newly approved ones."""

    list_display = ("title", "proposed_question", "indicators", "made")
    fields = ("title", "proposal")
    readonly_fields = ("title", "proposal")
    actions = ["make_strategic_question"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(strategic_proposal__isnull=False)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="proposed strategic question")
    def proposed_question(self, obj: ArticleProposal) -> str:
        return (obj.strategic_proposal or {}).get("title", "")

    @admin.display(description="proposed indicators")
    def indicators(self, obj: ArticleProposal) -> int:
        return sum(len(d.get("indicators", [])) for d in (obj.strategic_proposal or {}).get("drivers", []))

    @admin.display(description="strategic question")
    def made(self, obj: ArticleProposal) -> str:
        sq = obj.strategic_questions.order_by("id").first()
        return sq.title if sq else "—"

    @admin.display(description="proposal")
    def proposal(self, obj: ArticleProposal) -> str:
        from django.utils.html import format_html, format_html_join

        p = obj.strategic_proposal or {}
        ranks = {c.rank - 1: c for c in obj.candidates.all()}
        rows = format_html_join(
            "",
            "<li><strong>{}</strong>: {} ({}, weight {}): {} <em>[{}]</em></li>",
            (
                (d["title"], ranks[i["candidate"]].draft.get("title", "") if i["candidate"] in ranks else "?",
                 "+1" if i["direction"] > 0 else "-1", i["weight"], i.get("rationale", ""),
                 ranks[i["candidate"]].status if i["candidate"] in ranks else "?")
                for d in p.get("drivers", []) for i in d.get("indicators", [])
            ),
        )  # fmt: skip
        return format_html(
            "<p>{} <br>Poles: {} / {}</p><p>From: “{}”</p><ul>{}</ul>",
            p.get("title", ""), p.get("pole_less", ""), p.get("pole_more", ""), p.get("passage", ""), rows,
        )  # fmt: skip

    @admin.action(description="Create or update the strategic question from the proposal")
    def make_strategic_question(self, request, queryset) -> None:
        for article in queryset:
            try:
                sq, added = services.strategic_question_from_article(article=article)
            except DomainError as e:
                self.message_user(request, f"{article.title}: {e.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{article.title}: “{sq.title}” has {added} new indicator link(s); approve more candidates "
                "and run this again to add theirs. Publish it on its own page.",
                messages.SUCCESS,
            )

"""The forecaster-facing site: thin views over the services and selectors.

Writes go through forecasts.services (the same rules as the API); a refusal is a DomainError
whose message is shown next to the input it names. Successful writes redirect (POST-redirect-GET)
with a message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from config.exceptions import DomainError
from config.params import parse_int, parse_when
from forecasts import services as forecast_services
from forecasts.selectors import question_blind_now, with_crowd
from notifications import selectors as notification_selectors
from notifications import services as notification_services
from questions.models import Article, Question, Series
from questions.selectors import question_list, question_status, question_visible
from scoring.selectors import calibration_for_user, leaderboard_read
from strategy import selectors as strategy_selectors

from . import distributions, selectors
from .forms import ForecastForm, LoginForm, NotificationSettingsForm, SignupForm, forecast_form

LIST_FILTERS = [
    ("open", "Open"),
    ("closing_soon", "Closing soon"),
    ("resolved", "Resolved"),
    ("all", "All"),
]
PAGE_SIZE = 25


# --- Accounts --------------------------------------------------------------------------------


class SiteLoginView(LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:question_list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.public_name}. Your account is ready.")
        return redirect(_safe_next(request, reverse("web:question_list")))
    return render(request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")})


# --- Questions -------------------------------------------------------------------------------


def question_list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "open"
    if status not in dict(LIST_FILTERS):
        status = "open"
    series = request.GET.get("series") or None
    article_raw = request.GET.get("article") or ""
    article = int(article_raw) if article_raw.isdigit() else None
    search = (request.GET.get("q") or "").strip()[:200] or None
    now = timezone.now()
    qs = with_crowd(
        question_list(
            user=request.user,
            status=None if status == "all" else status,
            series=series,
            article=article,
            search=search,
            now=now,
        )
    )
    if status == "resolved":
        qs = qs.order_by("-resolved_at", "id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    cards = selectors.question_cards(list(page.object_list), user=request.user, now=now)
    params = request.GET.copy()
    params.pop("page", None)
    filter_links = []
    for key, label in LIST_FILTERS:
        p = params.copy()
        p["status"] = key
        filter_links.append({"key": key, "label": label, "query": p.urlencode(), "current": key == status})
    context = {
        "cards": cards,
        "page": page,
        "status": status,
        "filter_links": filter_links,
        "series_slug": series or "",
        "article_id": article,
        "search": search or "",
        "page_query": params.urlencode(),
        **selectors.filter_choices(user=request.user),
    }
    return render(request, "web/question_list.html", context)


def _visible_question(request: HttpRequest, pk: int) -> Question:
    question = get_object_or_404(
        Question.objects.select_related("series", "article", "resolved_option").prefetch_related("options"), pk=pk
    )
    if not question_visible(question=question, user=request.user):
        raise Http404("No such question.")
    return question


def _question_context(request: HttpRequest, question: Question, form: ForecastForm | None = None) -> dict[str, Any]:
    now = timezone.now()
    user = request.user if request.user.is_authenticated else None
    history = selectors.forecast_history(question=question, user=request.user)
    standing = next((row for row in history), None)
    standing = standing if standing is not None and not standing.withdrawn else None
    continuous = question.is_continuous
    if form is None and continuous:
        form = forecast_form(
            question, initial=distributions.editor_initial(question, standing.forecast.cdf if standing else None)
        )
    if form is None:
        initial: dict[str, str] = {}
        if standing is not None:
            from .templatetags.signpost import pct_number

            if question.type == Question.Type.BINARY:
                initial["probability"] = pct_number(standing.cells[0]["p"])
            else:
                for option, cell in zip(question.options.all(), standing.cells, strict=False):
                    initial[f"p_{option.position}"] = pct_number(cell["p"])
        form = ForecastForm(question, initial=initial)
    status = question_status(question, now)
    card = selectors.question_card(question, user=user, now=now)
    visible = card.crowd_visible
    series = selectors.crowd_series(question=question) if visible else []
    context = {
        "question": question,
        "options": list(question.options.all()),
        "status": status,
        "status_label": selectors.STATUS_LABELS.get(status, status),
        "accepts_forecasts": status == "open",
        "form": form,
        "history": history,
        "standing": standing,
        "crowd_visible": visible,
        "crowd_before_reveal": visible and now < question.reveal_time,
        "card": card,
        "chart": selectors.crowd_chart_data(question=question, now=now, series=series, history=history)
        if visible
        else None,
        "crowd_rows": selectors.crowd_table(series),
        "my_score": selectors.score_for(question=question, user=request.user),
        "crowd_score": selectors.crowd_score_for(question=question)
        if question.state == Question.State.RESOLVED
        else None,
        "strategic_links": selectors.question_strategic_links(question=question, user=request.user),
        "blind": question_blind_now(question=question, now=now),
    }
    context.update(selectors.question_rationales(question=question, user=user, now=now))
    if continuous:
        context.update(
            {
                "range": distributions.range_text(question),
                "dist_meta": distributions.meta(
                    question,
                    standing=standing.forecast.cdf if standing else None,
                    crowd=card.crowd_cdf,
                ),
            }
        )
    return context


def question_detail(request: HttpRequest, pk: int) -> HttpResponse:
    question = _visible_question(request, pk)
    return render(request, "web/question_detail.html", _question_context(request, question))


@login_required
@require_POST
def forecast_submit(request: HttpRequest, pk: int) -> HttpResponse:
    question = _visible_question(request, pk)
    form = forecast_form(question, data=request.POST)
    try:
        forecast_services.forecast_submit(
            user=request.user, question=question, payload=form.payload(), rationale=form.rationale
        )
    except DomainError as e:
        form.add_domain_error(e)
        context = _question_context(request, question, form=form)
        return render(request, "web/question_detail.html", context, status=e.http_status)
    messages.success(request, "Your forecast is saved.")
    return redirect(reverse("web:question_detail", args=[question.pk]) + "#your-forecasts")


@login_required
@require_POST
def forecast_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    question = _visible_question(request, pk)
    try:
        forecast_services.forecast_withdraw(user=request.user, question=question)
    except DomainError as e:
        messages.error(request, f"Not withdrawn: {e.message}.")
    else:
        messages.success(request, "Your forecast is withdrawn. Your history is kept.")
    return redirect(reverse("web:question_detail", args=[question.pk]) + "#your-forecasts")


# --- Articles --------------------------------------------------------------------------------


def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article, pk=pk)
    now = timezone.now()
    questions = selectors.article_questions(article=article, user=request.user)
    cards = selectors.question_cards(questions, user=request.user, now=now)
    numbers = selectors.passage_numbers(article, questions)
    for card in cards:
        card.number = numbers.get(card.question.pk)
    context = {
        "article": article,
        "segments": selectors.article_segments(article, questions),
        "groups": selectors.group_by_indicator(cards),
        "n_questions": len(cards),
        "strategic_questions": selectors.article_strategic_questions(article=article, user=request.user),
    }
    return render(request, "web/article_detail.html", context)


# --- Strategic questions -----------------------------------------------------------------------


def strategic_list(request: HttpRequest) -> HttpResponse:
    items = list(strategy_selectors.strategic_question_list(user=request.user))
    for sq in items:
        sq.axis_left = selectors.axis_pct(sq.composite_now)
    return render(request, "web/strategic_list.html", {"items": items})


def _since_param(raw: str) -> tuple[datetime | None, str | None]:
    """The `since` the reader typed, or a message saying why it cannot be used."""
    if not raw:
        return None, None
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    try:
        return parse_when(raw[:64], "since"), None
    except (DomainError, OverflowError):  # OverflowError: an offset pushing year 1 or 9999 out of range
        pass
    return None, f"“{shown}” is not a date this page can use. Give a date such as 2024-01-01."


def strategic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    sq = strategy_selectors.strategic_question_for(slug=slug, user=request.user)
    if sq is None:
        raise Http404("No such strategic question.")
    now = timezone.now()
    default = selectors.strategic_default_since(strategic_question=sq, now=now)
    since, since_error = _since_param((request.GET.get("since") or "").strip())
    if since is not None and since > now:
        since, since_error = None, f"{since:%Y-%m-%d} is in the future: choose a date up to today."
    since = since or default
    body = strategy_selectors.strategic_question_detail(strategic_question=sq, user=request.user, since=since, now=now)
    bounds = selectors.strategic_history_bounds(strategic_question=sq, now=now)
    context = {
        "sq": sq,
        "body": body,
        "axis_left": selectors.axis_pct(body["composite"]),
        "since": since,
        "since_value": since.date().isoformat() if since else "",
        "since_error": since_error,
        "since_min": bounds[0].date().isoformat() if bounds else "",
        "today": now.date().isoformat(),
        "composite_change": None
        if body["composite"] is None or body["composite_since"] is None
        else body["composite"] - body["composite_since"],
        "moved": selectors.strategic_moved_rows(body=body),
        "chart": selectors.strategic_chart_data(body=body, now=now) if body["history"] else None,
        "history_rows": selectors.strategic_history_table(body=body),
        "drivers": selectors.strategic_drivers(body=body),
        "n_indicators": sum(len(d["indicators"]) for d in body["drivers"]),
    }
    return render(request, "web/strategic_detail.html", context)


# --- Leaderboards and profiles ----------------------------------------------------------------


def _int_or(raw: str | None, field: str, *, default: int | None, minimum: int) -> int | None:
    try:
        return default if raw in (None, "") else parse_int(raw, field, minimum=minimum)
    except DomainError:
        return default


def _leaderboard_page(request: HttpRequest, **scope: Any) -> dict[str, Any]:
    # A page's links carry these; a hand-edited bad value falls back to the default, as in the list.
    offset = _int_or(request.GET.get("offset"), "offset", default=0, minimum=0)
    limit = 50
    board = leaderboard_read(
        **scope,
        user=request.user if request.user.is_authenticated else None,
        offset=offset,
        limit=limit,
        min_questions=_int_or(request.GET.get("min_questions"), "min_questions", default=None, minimum=1),
    )
    me = board.get("me")
    my_id = me["user"]["id"] if me else None
    me_on_page = any(e["user"]["id"] == my_id for e in board["entries"]) if my_id is not None else False
    return {
        "board": board,
        "my_id": my_id,
        "me_on_page": me_on_page,
        "offset": offset,
        "prev_offset": max(0, offset - limit) if offset > 0 else None,
        "next_offset": offset + limit if offset + limit < board["count"] else None,
        "mean_ranked": (board.get("rank_by") or "").endswith("mean"),
    }


def leaderboard_global(request: HttpRequest) -> HttpResponse:
    context = _leaderboard_page(request, scope="global")
    context["title"] = "Global leaderboard"
    return render(request, "web/leaderboard.html", context)


def series_detail(request: HttpRequest, slug: str) -> HttpResponse:
    series = get_object_or_404(Series, slug=slug)
    now = timezone.now()
    context = _leaderboard_page(request, scope="series", series=series)
    questions = list(with_crowd(question_list(user=request.user, series=series.slug, now=now)))
    context.update(
        {
            "series": series,
            "title": f"{series.title}: leaderboard",
            "cards": selectors.question_cards(questions, user=request.user, now=now),
        }
    )
    return render(request, "web/leaderboard.html", context)


CALIBRATION_FILTERS = ("series", "resolved_after", "resolved_before")


def _calibration_filtered(request: HttpRequest, subject: User) -> tuple[dict, dict[str, str], dict[str, str]]:
    """The subject's calibration with the page's filters; a bad value is shown next to its field
    and the calibration is read without the filters."""
    values = {name: (request.GET.get(name) or "").strip()[:64] for name in CALIBRATION_FILTERS}
    try:
        return calibration_for_user(user=subject, **{k: v or None for k, v in values.items()}), values, {}
    except DomainError as e:
        field = e.field if e.field in CALIBRATION_FILTERS else "series"
        shown = values[field]
        message = (
            f"“{shown}” is not a date: give one such as 2024-01-01."
            if field != "series"
            else f"There is no series “{shown}”."
        )
        if field == "resolved_before" and "later" in e.message:
            message = "Must be later than “resolved after”."
        return calibration_for_user(user=subject), values, {field: message}


def _profile(request: HttpRequest, subject: User, *, own: bool) -> HttpResponse:
    calibration, filters, filter_errors = _calibration_filtered(request, subject)
    context = {
        "subject": subject,
        "own": own,
        "scores": selectors.user_scores(user=subject),
        "calibration": calibration,
        "filters": filters,
        "filter_errors": filter_errors,
        "filtered": any(filters.values()) and not filter_errors,
        "series_choices": selectors.scored_series(user=subject),
        "recent": selectors.user_recent_forecasts(user=subject) if own else [],
    }
    return render(request, "web/profile.html", context)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return _profile(request, request.user, own=True)


def user_profile(request: HttpRequest, pk: int) -> HttpResponse:
    subject = get_object_or_404(User, pk=pk, is_active=True)
    if request.user.is_authenticated and request.user.pk == subject.pk:
        return redirect("web:profile")
    return _profile(request, subject, own=False)


# --- Notifications: the inbox and the settings --------------------------------------------------

INBOX_PAGE_SIZE = 30


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    qs = notification_selectors.notifications_for_user(user=request.user).select_related("question")
    page = Paginator(qs, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/inbox.html", {"page": page, "items": list(page.object_list)})


@login_required
@require_POST
def notification_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    n = notification_selectors.notification_for(user=request.user, pk=pk)
    if n is None:
        raise Http404("No such notification.")
    notification_services.notification_read(notification=n)
    return redirect(_safe_next(request, reverse("web:inbox")))


@login_required
@require_POST
def notifications_mark_all_read(request: HttpRequest) -> HttpResponse:
    n = notification_services.notifications_read_all(user=request.user)
    messages.success(request, f"Marked {n} notification{'s' if n != 1 else ''} read." if n else "Nothing was unread.")
    return redirect("web:inbox")


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            try:
                notification_services.preferences_update(user=request.user, changes=form.changes())
            except DomainError as e:
                form.add_service_errors(e)
            else:
                messages.success(request, "Your notification settings are saved.")
                return redirect("web:notification_settings")
        status = 400
    else:
        pref = notification_selectors.preference_for(user=request.user)
        form = NotificationSettingsForm(initial=NotificationSettingsForm.initial_from(pref))
        status = 200
    context = {
        "form": form,
        "email_fields": [form[name] for name in NotificationSettingsForm.EMAIL_FIELDS],
        "other_fields": [form[name] for name in ("stale_days", "move_threshold", "webhook_url")],
    }
    return render(request, "web/notification_settings.html", context, status=status)

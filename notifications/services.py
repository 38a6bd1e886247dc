"""Notification writes: storing notifications once per event, reading them, preferences, the
resolution notices and the three scans (stale forecasts, crowd moves, questions closing soon),
the e-mail digest and unsubscribing. Every job here is idempotent: a notification is stored at
most once per (user, kind, question, event_key), so a job that runs twice, concurrently, or is
redelivered after a crash stores nothing twice and posts no webhook twice."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.enqueue import enqueue_on_commit
from config.exceptions import ValidationFailed
from forecast_math.continuous import GRID, from_range_units, quantile
from questions.models import CONTINUOUS_TYPES, Option, Question, ResolutionEvent
from questions.selectors import outcome_text, value_text

from . import emails, selectors
from .models import (
    KINDS,
    MOVE_THRESHOLD_RANGE,
    STALE_DAYS_RANGE,
    Kind,
    Notification,
    Preference,
)
from .unsubscribe import ALL
from .webhooks import webhook_deliver, webhook_url_problem

logger = logging.getLogger(__name__)

#: question_closing: how long before the close a user without a standing forecast is told.
CLOSING_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class Notice:
    """A notification to store: who, about which question, which event (see Notification)."""

    user_id: int
    question_id: int
    event_key: int
    message: str


# --- Storing and reading -------------------------------------------------------------------------


def notifications_create(*, kind: str, notices: Sequence[Notice], now: datetime | None = None) -> list[int]:
    """Store `notices` of `kind`, skipping any already stored (the unique constraint, so two
    concurrent runs cannot both store one). Returns the ids this call stored, and enqueues after
    commit the webhook delivery of each whose user has a webhook."""
    if not notices:
        return []
    now = now or timezone.now()
    users = {n.user_id for n in notices}
    with transaction.atomic():
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=n.user_id,
                    kind=kind,
                    question_id=n.question_id,
                    event_key=n.event_key,
                    message=n.message[:1000],
                    created=now,
                )
                for n in notices
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        # The rows this call inserted carry its instant (an existing one kept its own).
        wanted = {(n.user_id, n.question_id, n.event_key) for n in notices}
        stored = [
            (i, user_id)
            for i, user_id, question_id, key in Notification.objects.filter(
                user_id__in=users, kind=kind, created=now, question_id__in={n.question_id for n in notices}
            ).values_list("id", "user_id", "question_id", "event_key")
            if (user_id, question_id, key) in wanted
        ]
        hooked = set(
            Preference.objects.filter(user_id__in=users).exclude(webhook_url="").values_list("user_id", flat=True)
        )
        for notification_id, user_id in stored:
            if user_id in hooked:
                enqueue_on_commit(webhook_deliver, notification_id)
    return [i for i, _ in stored]


def notification_read(*, notification: Notification, at: datetime | None = None) -> Notification:
    """Mark a notification read (keeps the first read time)."""
    if notification.read_at is None:
        notification.read_at = at or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_read_all(*, user: Any, at: datetime | None = None) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=at or timezone.now())


# --- Preferences ---------------------------------------------------------------------------------

PREFERENCE_FIELDS = ("email", "stale_days", "move_threshold", "webhook_url")


def preferences_update(*, user: Any, changes: dict[str, Any]) -> Preference:
    """Apply a partial change of the user's preferences (creating their row on the first change):
    `email` {kind: bool} for some kinds, `stale_days` (1..365), `move_threshold` (1..99 probability
    points), `webhook_url` (an https URL, or None to remove it). Refuses (ValidationFailed, naming
    each field) an unknown field or kind, a value out of range, or a webhook address that is not
    https or points to a non-public host; nothing is changed then."""
    errors: dict[str, list[str]] = {}
    for name in changes:
        if name not in PREFERENCE_FIELDS:
            errors[name] = ["unknown field"]
    email = changes.get("email") or {}
    for kind in email:
        if kind not in KINDS:
            errors[f"email.{kind}"] = [f"unknown kind; kinds: {', '.join(KINDS)}"]
    for name, (low, high) in (("stale_days", STALE_DAYS_RANGE), ("move_threshold", MOVE_THRESHOLD_RANGE)):
        value = changes.get(name)
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            errors[name] = [f"must be an integer from {low} to {high}"]
    if "stale_days" in changes and changes["stale_days"] is None:
        errors["stale_days"] = ["must not be null"]
    if "move_threshold" in changes and changes["move_threshold"] is None:
        errors["move_threshold"] = ["must not be null"]
    url = changes.get("webhook_url")
    if url is not None:
        problem = webhook_url_problem(url)
        if problem:
            errors["webhook_url"] = [problem]
    if errors:
        name, rules = next(iter(errors.items()))
        raise ValidationFailed(errors, message=f"{name}: {rules[0]}")
    with transaction.atomic():
        pref, _ = Preference.objects.select_for_update().get_or_create(user=user)
        for kind, on in email.items():
            setattr(pref, f"email_{kind}", bool(on))
        for name in ("stale_days", "move_threshold"):
            if name in changes:
                setattr(pref, name, changes[name])
        if "webhook_url" in changes and (url or "") != pref.webhook_url:
            pref.webhook_url, pref.webhook_set_at = url or "", timezone.now()
        pref.save()
    return pref


def email_unsubscribe(*, user_id: int, kind: str) -> Preference | None:
    """Turn e-mail off for one kind of notification (or all, kind "all"): the unsubscribe link.
    None when the user no longer exists. Pending notifications of that kind are no longer mailed."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return None
    kinds = KINDS if kind == ALL else (kind,)
    with transaction.atomic():
        pref, _ = Preference.objects.select_for_update().get_or_create(user=user)
        for k in kinds:
            setattr(pref, f"email_{k}", False)
        pref.save()
    return pref


# --- Resolution changes --------------------------------------------------------------------------


def _quoted(title: str) -> str:
    return f"\u201c{title}\u201d"


def resolution_message(question: Question, event: ResolutionEvent | None) -> str:
    title = _quoted(question.title)
    if event is None or event.action == ResolutionEvent.Action.RESOLVE:
        outcome = event.to_outcome if event else outcome_text(question)
        if event is None or event.from_state == Question.State.OPEN:
            return f"{title} resolved as {outcome}. Your score is on its page."
        was = event.from_outcome or event.from_state
        if was == outcome:
            return f"{title}: its resolution ({outcome}) was corrected (the time the answer became known changed)."
        return f"{title}: the resolution was corrected to {outcome} (it was {was}). Your score is updated."
    if event.action == ResolutionEvent.Action.ANNUL:
        return f"{title} was annulled: it will not be scored."
    was = event.from_outcome or event.from_state
    return f"{title} is unresolved again (it was {was}): its scores are withdrawn until it resolves."


def resolution_notify(*, question_id: int, now: datetime | None = None) -> int:
    """Tell each forecaster of the question about its latest resolution change (resolve, correct,
    annul, un-resolve): one notification per user and resolution_version. A forecaster is anyone
    who made a forecast on it, withdrawn or not. Unpublished questions are skipped. Returns the
    number stored (0 when this version was already announced)."""
    q = Question.objects.select_related("resolved_option").filter(pk=question_id).first()
    if q is None or q.published_at is None or q.resolution_version == 0:
        return 0
    version = q.resolution_version
    users = selectors.forecasters_of(q) - selectors.already_notified(
        kind=Kind.QUESTION_RESOLVED, question_id=q.pk, event_key=version
    )
    if not users:
        return 0
    event = ResolutionEvent.objects.filter(question=q, version=version).first()
    message = resolution_message(q, event)
    notices = [Notice(u, q.pk, version, message) for u in sorted(users)]
    return len(notifications_create(kind=Kind.QUESTION_RESOLVED, notices=notices, now=now))


# --- The scans (beat) ----------------------------------------------------------------------------


def stale_notify(*, now: datetime | None = None) -> int:
    """Remind each user whose standing forecast on an open question is older than their
    stale_days (default 14): once per forecast (a new forecast starts a new reminder)."""
    now = now or timezone.now()
    notices = []
    for r in selectors.stale_candidates(now):
        age = (now - r["created_at"]).days
        message = (
            f"Your forecast on {_quoted(r['question__title'])} is {age} days old. "
            f"The question closes {r['question__close_time']:%Y-%m-%d %H:%M} UTC: is it still your view?"
        )
        notices.append(Notice(r["user_id"], r["question_id"], r["id"], message))
    return len(notifications_create(kind=Kind.FORECAST_STALE, notices=notices, now=now))


def _pct(p: float) -> str:
    return f"{p * 100:.0f}%"


def crowd_moves_notify(*, now: datetime | None = None) -> int:
    """Tell each user whose question's published crowd moved by more than their move_threshold
    (default 10 probability points, on any option) since their standing forecast: from the crowd
    as first published at or after that forecast to the current crowd. On a numeric or date
    question: the crowd's median moved by more than move_threshold percent of the range. Once per
    forecast. Only open questions, and only crowds the user may see
    (selectors.crowd_move_candidates)."""
    now = now or timezone.now()
    moved = []
    continuous = []
    for r in selectors.crowd_move_candidates(now):
        then, current = r["crowd_then"], r["crowd_now"]
        if not (isinstance(then, list) and isinstance(current, list) and len(then) == len(current)):
            continue
        if r["question__type"] in CONTINUOUS_TYPES:
            if (
                len(then) == GRID
                and abs(quantile(current, 0.5) - quantile(then, 0.5)) * 100 > r["move_threshold"] + 1e-9
            ):
                continuous.append(r)
            continue
        diffs = [abs(b - a) for a, b in zip(then, current, strict=True)]
        i = max(range(len(diffs)), key=lambda j: (diffs[j], -j))
        if diffs[i] * 100 > r["move_threshold"] + 1e-9:
            moved.append((r, i))
    labels: dict[tuple[int, int], str] = {}
    if moved:
        for qid, pos, label in Option.objects.filter(question_id__in={r["question_id"] for r, _ in moved}).values_list(
            "question_id", "position", "label"
        ):
            labels[(qid, pos)] = label
    notices = []
    for r, i in moved:
        a, b = r["crowd_then"][i], r["crowd_now"][i]
        title = _quoted(r["question__title"])
        if len(r["crowd_now"]) == 2 and labels.get((r["question_id"], 0)) == "yes":
            a, b = r["crowd_then"][0], r["crowd_now"][0]
            what = f"from {_pct(a)} to {_pct(b)} yes"
        else:
            what = f"on {_quoted(labels.get((r['question_id'], i), str(i)))} from {_pct(a)} to {_pct(b)}"
        message = f"The crowd on {title} moved {what} since your last forecast."
        notices.append(Notice(r["user_id"], r["question_id"], r["id"], message))
    notices += _median_moves(continuous)
    return len(notifications_create(kind=Kind.CROWD_MOVED, notices=notices, now=now))


def _median_moves(rows: list[dict]) -> list[Notice]:
    """crowd_moved on numeric and date questions: the crowd's median moved by more than the user's
    threshold, read as percentage points of the question's range (10: a tenth of the range)."""
    if not rows:
        return []
    questions = Question.objects.in_bulk({r["question_id"] for r in rows})
    notices = []
    for r in rows:
        q = questions[r["question_id"]]
        a, b = (
            from_range_units(quantile(r[name], 0.5), q.range_lower, q.range_upper)
            for name in ("crowd_then", "crowd_now")
        )
        message = (
            f"The crowd's median on {_quoted(q.title)} moved from {value_text(q, a, approximate=True)} "
            f"to {value_text(q, b, approximate=True)} "
            "since your last forecast."
        )
        notices.append(Notice(r["user_id"], r["question_id"], r["id"], message))
    return notices


def closing_notify(*, now: datetime | None = None) -> int:
    """Tell users without a standing forecast on a question that closes within 48 hours, if they
    are interested in it: they forecast on it before (and withdrew), or they forecast on another
    question of its series. Once per question and close time (a moved close tells them again)."""
    now = now or timezone.now()
    notices = []
    for q in selectors.closing_questions(now, CLOSING_WINDOW):
        close = q.effective_close
        key = int(close.timestamp())
        users = selectors.closing_interested_users(q) - selectors.already_notified(
            kind=Kind.QUESTION_CLOSING, question_id=q.pk, event_key=key
        )
        hours = max(1, round((close - now).total_seconds() / 3600))
        message = (
            f"{_quoted(q.title)} closes in {hours} hour{'s' if hours != 1 else ''} "
            f"({close:%Y-%m-%d %H:%M} UTC) and you have no standing forecast on it."
        )
        notices += [Notice(u, q.pk, key, message) for u in sorted(users)]
    return len(notifications_create(kind=Kind.QUESTION_CLOSING, notices=notices, now=now))


def notifications_reconcile(*, now: datetime | None = None) -> dict[str, list[int]]:
    """The safety net (beat): questions whose latest resolution change (in the last 7 days) was
    never announced are announced, and notifications of the last day whose user had a webhook
    but whose delivery was never enqueued (the broker was down) are enqueued."""
    now = now or timezone.now()
    questions = selectors.questions_missing_resolution_notices(now - timedelta(days=7))
    for question_id in questions:
        resolution_notify(question_id=question_id, now=now)
    waiting = selectors.notifications_awaiting_webhook(now - timedelta(days=1))
    for notification_id in waiting:
        enqueue_on_commit(webhook_deliver, notification_id)
    return {"questions": questions, "webhooks": waiting}


# --- E-mail --------------------------------------------------------------------------------------


def digest_send(*, now: datetime | None = None) -> int:
    """Send each user one e-mail with their notifications not yet considered by a digest, of the
    kinds they have e-mail on (the others, and everything of a user without an address, are
    marked skipped and never mailed later). Returns the number of e-mails sent. A user whose
    e-mail fails to send (SMTP down) keeps their notifications pending for the next run; the
    others are unaffected. The notifications are locked while their e-mail is sent and marked sent
    in the same transaction, so two concurrent runs never mail them twice."""
    now = now or timezone.now()
    sent = 0
    for user_id in selectors.users_with_pending_email():
        try:
            sent += digest_send_one(user_id=user_id, now=now)
        except (smtplib.SMTPException, OSError):
            logger.exception("e-mail digest for user %s not sent; it stays pending", user_id)
    return sent


def digest_send_one(*, user_id: int, now: datetime | None = None) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(user_id=user_id, email_state=Notification.EmailState.PENDING)
            .select_related("user")
            .order_by("created", "id")
        )
        if not rows:
            return 0
        user = rows[0].user
        pref = selectors.preference_for(user=user)
        mailable = bool(user.email) and user.is_active
        to_send = [n for n in rows if mailable and pref.email_on(n.kind)]
        skipped = [n.pk for n in rows if not (mailable and pref.email_on(n.kind))]
        if skipped:
            Notification.objects.filter(pk__in=skipped).update(email_state=Notification.EmailState.SKIPPED)
        if not to_send:
            return 0
        emails.digest_message(user=user, notifications=to_send).send()
        Notification.objects.filter(pk__in=[n.pk for n in to_send]).update(
            email_state=Notification.EmailState.SENT, emailed_at=now
        )
        Preference.objects.update_or_create(user=user, defaults={"last_digest_at": now})
    return 1

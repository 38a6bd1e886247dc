"""The e-mail digest: one message per user listing their new notifications, with a signed
one-click unsubscribe link per kind in the body and, in the headers, List-Unsubscribe (all
notification e-mail) with List-Unsubscribe-Post (RFC 8058: mail clients unsubscribe with one POST,
no page to visit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from .links import question_url, unsubscribe_url
from .models import KINDS, Notification
from .unsubscribe import ALL, unsubscribe_token

#: how the body names each kind ("Stop e-mails about ...")
ABOUT = {
    "question_resolved": "resolved questions",
    "forecast_stale": "stale forecasts",
    "crowd_moved": "crowd moves",
    "question_closing": "questions closing soon",
}


def digest_message(*, user: Any, notifications: Sequence[Notification]) -> EmailMessage:
    n = len(notifications)
    subject = f"Signpost: {n} new notification{'s' if n != 1 else ''}"
    lines = [f"Hello {user.public_name},", ""]
    for item in notifications:
        lines += [f"- {item.message}", f"  {question_url(item.question_id)}", ""]
    lines += ["Your notification settings are on your profile page.", ""]
    kinds = [k for k in KINDS if any(item.kind == k for item in notifications)]
    for kind in kinds:
        lines.append(
            f"Stop e-mails about {ABOUT[kind]}: {unsubscribe_url(unsubscribe_token(user_id=user.pk, kind=kind))}"
        )
    everything = unsubscribe_url(unsubscribe_token(user_id=user.pk, kind=ALL))
    lines.append(f"Stop all notification e-mails: {everything}")
    return EmailMessage(
        subject=subject,
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{everything}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )

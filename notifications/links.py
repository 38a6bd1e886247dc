"""Absolute links put in e-mails and webhook posts: the site's address (SITE_URL) and a path."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def question_url(question_id: int) -> str:
    return absolute(reverse("web:question_detail", args=[question_id]))


def unsubscribe_url(token: str) -> str:
    return absolute(reverse("notifications:unsubscribe", args=[token]))

"""Webhooks: the https-only address rule, the Slack-compatible POST, and the Celery task that
delivers one notification, retried with backoff, always from a worker (never in a request).

Server-side request forgery: a webhook address is the user's to choose, so the worker refuses to
post to loopback, private, link-local or otherwise non-public addresses, checked on every address
the host name resolves to at delivery time, and connects to the address it checked (a DNS answer
that changes between the check and the connection cannot redirect it). Redirects are not followed.
NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE lifts the address rule (a receiver on the local network, the
tests); https stays required."""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import random
import socket
import ssl
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from .links import question_url
from .models import WEBHOOK_URL_MAX, Notification, Preference, WebhookDelivery

logger = logging.getLogger(__name__)

LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".localdomain")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook address, or None when it can: an absolute https URL of at
    most 500 characters, without credentials, to a host that is not a local name or a non-public
    IP address (unless NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE)."""
    if len(url) > WEBHOOK_URL_MAX:
        return f"must be at most {WEBHOOK_URL_MAX} characters"
    if not url.lower().startswith("https://"):
        return "must be an https:// URL"
    try:
        URLValidator(schemes=["https"])(url)
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except (ValidationError, ValueError):
        return "must be a valid https:// URL"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password"
    host = (parts.hostname or "").lower()
    if not host:
        return "must name a host"
    if settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE:
        return None
    if host == "localhost" or host.endswith(LOCAL_NAMES):
        return "must not point to a local host"
    try:
        if not _public(host):
            return "must not point to a private, loopback or reserved address"
    except ValueError:
        pass  # a host name: its addresses are checked when the webhook is called
    return None


class WebhookRefused(Exception):
    """The address may not be called (non-public) or could not be resolved."""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address` (already checked), with the certificate checked for the URL's host."""

    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self.pinned_address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise WebhookRefused(f"cannot resolve {host}: {e}") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise WebhookRefused(f"cannot resolve {host}")
    if not settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE:
        bad = [a for a in addresses if not _public(a)]
        if bad:
            raise WebhookRefused(f"{host} resolves to a non-public address ({bad[0]})")
    return addresses[0]


def webhook_post(url: str, payload: dict) -> tuple[int | None, str]:
    """POST `payload` as JSON to `url`; returns (HTTP status or None, error text or "")."""
    problem = webhook_url_problem(url)
    if problem:
        return None, f"refused: {problem}"
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = json.dumps(payload).encode()
    timeout = settings.NOTIFICATIONS_WEBHOOK_TIMEOUT
    try:
        conn = _PinnedHTTPSConnection(
            host, port, _address(host, port), timeout=timeout, context=ssl.create_default_context()
        )
        try:
            conn.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": "Signpost-Webhook/1"},
            )
            response = conn.getresponse()
            response.read(65536)
        finally:
            conn.close()
    except WebhookRefused as e:
        return None, str(e)[:500]
    except (OSError, http.client.HTTPException) as e:
        return None, f"{type(e).__name__}: {e}"[:500]
    if 200 <= response.status < 300:
        return response.status, ""
    return response.status, f"HTTP {response.status} {response.reason}"[:500]


def webhook_payload(notification: Notification) -> dict:
    """Slack-compatible: {"text": ...} (Mattermost, Rocket.Chat and others read it too)."""
    return {"text": f"{notification.message}\n{question_url(notification.question_id)}"}


def webhook_attempt(*, notification_id: int) -> str:
    """One delivery attempt of a notification to its user's webhook, recorded on its
    WebhookDelivery (created on the first attempt). Locks the delivery row for the attempt, so a
    duplicate job waits and then finds it delivered. Returns "delivered", "failed" (retry later),
    or "done" (delivered before, given up, no webhook any more, notification gone)."""
    n = Notification.objects.filter(pk=notification_id).first()
    if n is None:
        return "done"
    url = Preference.objects.filter(user_id=n.user_id).values_list("webhook_url", flat=True).first() or ""
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.get_or_create(notification=n, defaults={"url": url})
        d = WebhookDelivery.objects.select_for_update().get(notification=n)
        if d.delivered_at is not None or d.gave_up_at is not None:
            return "done"
        if not url:
            d.gave_up_at, d.last_error = now, "the user removed their webhook"
            d.save(update_fields=["gave_up_at", "last_error"])
            return "done"
        status, error = webhook_post(url, webhook_payload(n))
        d.url, d.attempts, d.last_status, d.last_error = url, d.attempts + 1, status, error
        d.last_attempt_at = timezone.now()
        if not error:
            d.delivered_at = d.last_attempt_at
        d.save()
    return "failed" if error else "delivered"


def webhook_give_up(*, notification_id: int) -> None:
    WebhookDelivery.objects.filter(notification_id=notification_id, delivered_at__isnull=True).update(
        gave_up_at=timezone.now()
    )


def retry_countdown(retries: int) -> float:
    """Exponential backoff with jitter: BACKOFF x 2^retries, at most half the broker's visibility
    timeout (a longer countdown would have Redis hand the waiting job to a second worker)."""
    base = settings.NOTIFICATIONS_WEBHOOK_BACKOFF * (2**retries)
    cap = max(1.0, settings.CELERY_VISIBILITY_TIMEOUT / 2)
    return min(base, cap) * random.uniform(0.75, 1.0)


RETRYABLE = (DatabaseError, OperationalError, BrokerError)


@shared_task(bind=True, autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=120, max_retries=8)
def webhook_deliver(self, notification_id: int) -> str:
    """Deliver one notification to its user's webhook; on failure (an error, a timeout, a non-2xx
    answer) retry after retry_countdown, NOTIFICATIONS_WEBHOOK_RETRIES times, then give up.
    Without a worker (tasks run eagerly, the demo without Redis) nothing is posted: the post
    would run inside the request that created the notification."""
    if self.request.is_eager:
        logger.warning("webhook for notification %s not posted: webhooks need a Celery worker", notification_id)
        return "skipped"
    outcome = webhook_attempt(notification_id=notification_id)
    if outcome != "failed":
        return outcome
    retries = self.request.retries
    if retries >= settings.NOTIFICATIONS_WEBHOOK_RETRIES:
        webhook_give_up(notification_id=notification_id)
        return "gave up"
    raise self.retry(countdown=retry_countdown(retries), max_retries=retries + 1)

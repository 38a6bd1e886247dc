"""Request helpers shared by the API and the site."""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str:
    """The client's address for lock-outs and throttles. Behind N trusted reverse proxies
    (TRUSTED_PROXY_COUNT), the Nth address from the right of X-Forwarded-For; never a value the
    client could choose for itself."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.META.get("REMOTE_ADDR", "")

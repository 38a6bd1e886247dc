"""The one HTTP page of notifications: the e-mails' signed unsubscribe link. GET shows what the
link turns off and a button (link scanners and previews fetch links with GET, so GET changes
nothing); POST applies it. The POST is also RFC 8058's one-click unsubscribe, which mail clients
send from the List-Unsubscribe header without a CSRF token: the signed token is the credential,
so the view is exempt from CSRF (a forged request needs the token, and can only turn e-mail off)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .emails import ABOUT
from .services import email_unsubscribe
from .unsubscribe import ALL, unsubscribe_read


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    found = unsubscribe_read(token)
    user = get_user_model().objects.filter(pk=found[0]).first() if found else None
    if found is None or user is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    kind = found[1]
    context = {"about": "any notifications" if kind == ALL else ABOUT[kind], "name": user.public_name}
    if request.method == "POST":
        email_unsubscribe(user_id=user.pk, kind=kind)
        context["done"] = True
    response = render(request, "notifications/unsubscribe.html", context)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response

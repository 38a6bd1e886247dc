"""The e-mail digest (beat's email_digest task, run here so its e-mails land in this process's
locmem outbox) and the signed one-click unsubscribe link it carries, followed with the test client."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from forecasts.services import forecast_submit
from notifications.models import Notification, Preference
from notifications.selectors import preference_for
from notifications.services import Notice, notifications_create, preferences_update
from notifications.tasks import email_digest
from notifications.unsubscribe import unsubscribe_token
from questions.services import question_resolve

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.notifications.urls")]


def _digest() -> int:
    return email_digest.delay().get()


@pytest.fixture
def ana_notified(make_user, make_question, staff, django_capture_on_commit_callbacks):
    """ana forecast on a question that resolved (the receiver's job stored her notice on commit),
    and has a stale-forecast notice; ben has a crowd move, with crowd-move e-mails off."""
    ana, ben = make_user("mail-ana"), make_user("mail-ben")
    q = make_question(title="Will the treaty be signed?")
    forecast_submit(user=ana, question=q, payload={"probability": 0.7})
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=q, outcome="yes", by=staff)
    other = make_question(title="Will the talks resume?")
    notifications_create(
        kind="forecast_stale",
        notices=[Notice(ana.pk, other.pk, 1, "Your forecast on \u201cWill the talks resume?\u201d is 20 days old.")],
    )
    preferences_update(user=ben, changes={"email": {"crowd_moved": False}})
    notifications_create(kind="crowd_moved", notices=[Notice(ben.pk, other.pk, 2, "The crowd moved.")])
    return ana, ben, q


def test_a_digest_mails_each_user_once_with_a_working_unsubscribe_link(ana_notified, settings):
    ana, ben, q = ana_notified
    settings.SITE_URL = "https://signpost.example.org"
    assert Notification.objects.filter(user=ana).count() == 2
    assert _digest() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [ana.email]
    assert message.subject == "Signpost: 2 new notifications"
    assert "\u201cWill the treaty be signed?\u201d resolved as yes." in message.body
    assert "is 20 days old" in message.body
    assert f"https://signpost.example.org/questions/{q.pk}/" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # ben's only notice is of a kind he has e-mail off for: no e-mail, and it is never mailed later.
    assert set(Notification.objects.filter(user=ben).values_list("email_state", flat=True)) == {"skipped"}
    assert set(Notification.objects.filter(user=ana).values_list("email_state", flat=True)) == {"sent"}
    assert Preference.objects.get(user=ana).last_digest_at is not None
    assert _digest() == 0 and len(mail.outbox) == 1  # a second run sends nothing

    # The link for resolved questions: GET asks (and changes nothing), POST turns that kind off.
    link = re.search(r"Stop e-mails about resolved questions: (\S+)", message.body).group(1)
    assert link.startswith("https://signpost.example.org/notifications/unsubscribe/")
    browser = Client(enforce_csrf_checks=True)  # as a mail reader's browser: no session, no CSRF cookie
    page = browser.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Stop e-mails about resolved questions?" in page.content.decode()
    assert preference_for(user=ana).email_question_resolved is True
    done = browser.post(urlsplit(link).path)
    assert done.status_code == 200 and "Unsubscribed" in done.content.decode()
    pref = preference_for(user=ana)
    assert pref.email_question_resolved is False
    assert pref.email_forecast_stale and pref.email_crowd_moved and pref.email_question_closing

    # A new resolved-question notice is no longer mailed; a stale one still is.
    notifications_create(kind="question_resolved", notices=[Notice(ana.pk, q.pk, 99, "Resolved again.")])
    assert _digest() == 0
    notifications_create(kind="forecast_stale", notices=[Notice(ana.pk, q.pk, 100, "Stale again.")])
    assert _digest() == 1 and "Stale again." in mail.outbox[1].body and "Resolved again." not in mail.outbox[1].body


def test_the_list_unsubscribe_header_is_one_click(ana_notified):
    ana, _, _ = ana_notified
    assert _digest() == 1
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    url = re.fullmatch(r"<(\S+)>", header).group(1)
    # RFC 8058: the mail client POSTs this body to the URL, with no cookie and no CSRF token.
    resp = Client(enforce_csrf_checks=True).post(
        urlsplit(url).path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert resp.status_code == 200
    pref = preference_for(user=ana)
    assert not any(pref.email_on(k) for k in ("question_resolved", "forecast_stale", "crowd_moved", "question_closing"))


def test_a_tampered_or_foreign_token_changes_nothing(make_user):
    ana = make_user("mail-tamper")
    token = unsubscribe_token(user_id=ana.pk, kind="crowd_moved")
    for bad in (token[:-2] + ("aa" if not token.endswith("aa") else "bb"), "nonsense", token.replace(":", ":x", 1)):
        assert Client().post(f"/notifications/unsubscribe/{bad}/").status_code == 404
    assert not Preference.objects.filter(user=ana).exists()
    # A token made with another salt (say, a password-reset style signature) is not accepted either.
    from django.core import signing

    assert Client().post(f"/notifications/unsubscribe/{signing.dumps([ana.pk, 'all'])}/").status_code == 404


def test_users_without_an_address_get_no_mail(make_user, make_question):
    nobody = make_user("mail-none")
    nobody.email = ""
    nobody.save(update_fields=["email"])
    q = make_question(title="Q")
    notifications_create(kind="question_closing", notices=[Notice(nobody.pk, q.pk, 1, "Closes soon.")])
    assert _digest() == 0 and mail.outbox == []
    assert Notification.objects.get(user=nobody).email_state == "skipped"


def test_the_site_mounts_the_unsubscribe_page():
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("notifications:unsubscribe", args=["x"], urlconf="config.urls")
    except NoReverseMatch:
        pytest.skip('config/urls.py does not mount it yet: path("notifications/", include("notifications.urls"))')
    assert path == "/notifications/unsubscribe/x/"

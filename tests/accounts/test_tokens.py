from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import APIToken

pytestmark = pytest.mark.django_db


def _token(api, username="ana", password="correct-horse-battery-9"):
    return api.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_token_is_issued_with_expiry_and_stored_only_as_a_hash(api, forecaster):
    resp = _token(api)
    assert resp.status_code == 200, resp.content
    raw = resp.json()["token"]
    assert resp.json()["expires"]
    row = APIToken.objects.get()
    assert raw not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/me/forecasts/").status_code == 200


def test_expired_token_is_refused(api, forecaster):
    raw = _token(api).json()["token"]
    APIToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    resp = api.get("/api/v1/me/forecasts/")
    assert resp.status_code == 401
    assert "expired" in resp.json()["error"]["message"]


def test_unknown_token_is_refused(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get("/api/v1/questions/").status_code == 401


def test_wrong_password_is_refused_naming_the_field(api, forecaster):
    resp = _token(api, password="wrong")
    assert resp.status_code == 400
    assert "password" in resp.json()["error"]["fields"]


def test_missing_fields_are_named(api):
    resp = api.post("/api/v1/auth/token/", {}, format="json")
    assert resp.status_code == 400
    assert set(resp.json()["error"]["fields"]) == {"username", "password"}


def test_repeated_failures_lock_the_account_out_even_with_the_right_password(api, forecaster, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert _token(api, password="guess").status_code == 400
    resp = _token(api)
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "locked_out"

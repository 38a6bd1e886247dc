"""The permission matrix: every endpoint for anonymous, forecaster and staff callers.

Expected codes: 401 = must log in; 403 = logged in but not allowed; anything 2xx (or a domain
refusal such as 409) = allowed through the permission layer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ALLOWED = "allowed"


def _matrix(q, resolved_q):
    from strategy.services import strategic_question_create

    sq = strategic_question_create(slug="matrix-strategic", title="Strategic", pole_less="Less", pole_more="More")
    links = {"drivers": [{"title": "Driver", "indicators": [{"question": q.pk, "direction": 1, "weight": 1}]}]}
    # (method, path, body, anonymous, forecaster, staff)
    return [
        ("get", "/api/v1/questions/", None, ALLOWED, ALLOWED, ALLOWED),
        ("get", f"/api/v1/questions/{q.pk}/", None, ALLOWED, ALLOWED, ALLOWED),
        (
            "post",
            "/api/v1/questions/",
            {
                "type": "binary",
                "title": "New",
                "open_time": "2026-01-01T00:00:00Z",
                "close_time": "2030-01-01T00:00:00Z",
            },
            401,
            403,
            ALLOWED,
        ),
        ("post", f"/api/v1/questions/{q.pk}/forecasts/", {"probability": 0.6}, 401, ALLOWED, ALLOWED),
        ("get", f"/api/v1/questions/{q.pk}/forecasts/", None, 401, ALLOWED, ALLOWED),
        ("post", f"/api/v1/questions/{q.pk}/withdraw/", None, 401, ALLOWED, ALLOWED),
        ("get", "/api/v1/me/forecasts/", None, 401, ALLOWED, ALLOWED),
        ("get", "/api/v1/me/scores/", None, 401, ALLOWED, ALLOWED),
        ("get", "/api/v1/me/notifications/", None, 401, ALLOWED, ALLOWED),
        ("post", "/api/v1/me/notifications/999999/read/", None, 401, ALLOWED, ALLOWED),
        ("get", "/api/v1/me/preferences/", None, 401, ALLOWED, ALLOWED),
        ("patch", "/api/v1/me/preferences/", {"stale_days": 7}, 401, ALLOWED, ALLOWED),
        ("get", "/api/v1/me/export/", None, 401, ALLOWED, ALLOWED),
        ("get", f"/api/v1/questions/{q.pk}/rationales/", None, ALLOWED, ALLOWED, ALLOWED),
        ("post", "/api/v1/forecasts/999999/hide-rationale/", {"reason": "spam"}, 401, 403, ALLOWED),
        ("get", "/api/v1/me/export/?format=csv", None, 401, ALLOWED, ALLOWED),
        ("get", f"/api/v1/questions/{resolved_q.pk}/scores/", None, ALLOWED, ALLOWED, ALLOWED),
        ("post", f"/api/v1/questions/{q.pk}/resolve/", {"resolution": "yes"}, 401, 403, ALLOWED),
        ("post", f"/api/v1/questions/{resolved_q.pk}/unresolve/", {}, 401, 403, ALLOWED),
        ("post", "/api/v1/questions/lint/", {"title": "Will Russia sign it by 2030?"}, 401, 403, ALLOWED),
        ("get", "/api/schema/", None, ALLOWED, ALLOWED, ALLOWED),
        ("get", "/api/v1/strategic-questions/", None, ALLOWED, ALLOWED, ALLOWED),
        ("get", f"/api/v1/strategic-questions/{sq.slug}/", None, ALLOWED, ALLOWED, ALLOWED),
        (
            "post",
            "/api/v1/strategic-questions/",
            {"slug": "matrix-new", "title": "New", "pole_less": "Less", "pole_more": "More"},
            401,
            403,
            ALLOWED,
        ),
        ("put", f"/api/v1/strategic-questions/{sq.slug}/links/", links, 401, 403, ALLOWED),
    ]


@pytest.mark.parametrize("role", ["anonymous", "forecaster", "staff"])
def test_permission_matrix(role, client_for, make_user, make_question):
    from questions.services import question_resolve

    admin = make_user("matrix-admin", staff=True)
    user = {"anonymous": None, "forecaster": make_user("matrix-user"), "staff": make_user("matrix-staff", staff=True)}[
        role
    ]
    column = {"anonymous": 3, "forecaster": 4, "staff": 5}[role]
    for row in _matrix(make_question(title="open"), _resolved(make_question, question_resolve, admin)):
        method, path, body = row[:3]
        expected = row[column]
        c = client_for(user)
        resp = getattr(c, method)(path, body, format="json") if body is not None else getattr(c, method)(path)
        assert resp.status_code < 500, (role, method, path, resp.status_code)
        if expected == ALLOWED:
            assert resp.status_code not in (401, 403), (role, method, path, resp.status_code, resp.content[:200])
        else:
            assert resp.status_code == expected, (role, method, path, resp.status_code, resp.content[:200])
            assert "error" in resp.json()


def _resolved(make_question, question_resolve, admin):
    q = make_question(title="resolved")
    question_resolve(question=q, outcome="no", by=admin)
    return q

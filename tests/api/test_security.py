"""Security: who may call what (every operation of the generated schema, for an anonymous caller,
a forecaster, another forecaster and an admin), object-level privacy, the crowd's reveal time,
hashed expiring tokens, log-in lock-out, throttles, CSRF, secrets and private fields.

The matrix is checked against the schema itself: an endpoint added without a row here fails."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OK = "ok"  # allowed through the permission layer: anything but 401 and 403
ROLES = ("anonymous", "forecaster", "other", "staff")

# (METHOD, path template) -> expected status per role (anonymous, forecaster, other forecaster, staff)
MATRIX: dict[tuple[str, str], tuple] = {
    ("POST", "/api/v1/auth/token/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/questions/"): (OK, OK, OK, OK),
    ("POST", "/api/v1/questions/"): (401, 403, 403, OK),
    ("GET", "/api/v1/questions/{id}/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/questions/{id}/forecasts/"): (401, OK, OK, OK),
    ("POST", "/api/v1/questions/{id}/forecasts/"): (401, OK, OK, OK),
    ("POST", "/api/v1/questions/{id}/withdraw/"): (401, OK, OK, OK),
    ("POST", "/api/v1/questions/{id}/resolve/"): (401, 403, 403, OK),
    ("POST", "/api/v1/questions/{id}/unresolve/"): (401, 403, 403, OK),
    ("GET", "/api/v1/questions/{id}/scores/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/me/forecasts/"): (401, OK, OK, OK),
    ("GET", "/api/v1/me/scores/"): (401, OK, OK, OK),
    ("GET", "/api/v1/me/notifications/"): (401, OK, OK, OK),
    ("POST", "/api/v1/me/notifications/{id}/read/"): (401, OK, OK, OK),
    ("GET", "/api/v1/me/preferences/"): (401, OK, OK, OK),
    ("PATCH", "/api/v1/me/preferences/"): (401, OK, OK, OK),
    ("GET", "/api/v1/me/export/"): (401, OK, OK, OK),
    ("GET", "/api/v1/questions/{id}/rationales/"): (OK, OK, OK, OK),
    ("POST", "/api/v1/forecasts/{id}/hide-rationale/"): (401, 403, 403, OK),
    ("GET", "/api/v1/leaderboards/global/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/leaderboards/series/{slug}/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/leaderboards/questions/{id}/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/users/{id}/calibration/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/crowd/calibration/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/articles/"): (OK, OK, OK, OK),
    ("POST", "/api/v1/articles/"): (401, 403, 403, OK),
    ("GET", "/api/v1/articles/{id}/"): (OK, OK, OK, OK),
    ("GET", "/api/v1/articles/{id}/candidates/"): (401, 403, 403, OK),
    ("POST", "/api/v1/candidates/{id}/approve/"): (401, 403, 403, OK),
    ("POST", "/api/v1/candidates/{id}/reject/"): (401, 403, 403, OK),
    ("POST", "/api/v1/questions/lint/"): (401, 403, 403, OK),
    ("GET", "/api/v1/strategic-questions/"): (OK, OK, OK, OK),
    ("POST", "/api/v1/strategic-questions/"): (401, 403, 403, OK),
    ("GET", "/api/v1/strategic-questions/{slug}/"): (OK, OK, OK, OK),
    ("PUT", "/api/v1/strategic-questions/{slug}/links/"): (401, 403, 403, OK),
}

BODIES = {
    ("POST", "/api/v1/auth/token/"): {"username": "nobody", "password": "wrong"},
    ("POST", "/api/v1/questions/"): {
        "type": "binary",
        "title": "New",
        "open_time": "2026-01-01T00:00:00Z",
        "close_time": "2030-01-01T00:00:00Z",
    },  # fmt: skip
    ("POST", "/api/v1/questions/{id}/forecasts/"): {"probability": 0.6},
    ("POST", "/api/v1/questions/{id}/resolve/"): {"resolution": "yes"},
    ("POST", "/api/v1/questions/{id}/unresolve/"): {},
    ("POST", "/api/v1/articles/"): {"title": "A", "text": "Will it rain by 2030?"},
    ("POST", "/api/v1/candidates/{id}/approve/"): {},
    ("POST", "/api/v1/questions/lint/"): {"title": "Will Russia sign it by 2030?"},
    ("PATCH", "/api/v1/me/preferences/"): {"stale_days": 7},
    ("POST", "/api/v1/forecasts/{id}/hide-rationale/"): {"reason": "off-topic"},
    ("POST", "/api/v1/strategic-questions/"): {
        "slug": "sec-strategic",
        "title": "S",
        "pole_less": "L",
        "pole_more": "M",
    },
    ("PUT", "/api/v1/strategic-questions/{slug}/links/"): {"drivers": []},
}


def _schema(client) -> dict:
    resp = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert resp.status_code == 200
    return resp.json() if "json" in resp["Content-Type"] else yaml.safe_load(resp.content)


def _operations(schema: dict) -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops if m in methods}


def test_the_matrix_covers_every_operation_of_the_schema(client):
    ops = _operations(_schema(client))
    assert ops == set(MATRIX), {"missing from the matrix": ops - set(MATRIX), "gone from the schema": set(MATRIX) - ops}


@pytest.fixture
def world(make_user, make_question, django_capture_on_commit_callbacks):
    from forecasts.services import forecast_submit
    from questions.articles import article_ingest
    from questions.services import question_resolve, series_create

    users = {
        "anonymous": None,
        "forecaster": make_user("sec-ana"),
        "other": make_user("sec-ben"),
        "staff": make_user("sec-admin", staff=True),
    }
    series = series_create(slug="sec-series", title="Security series")
    q = make_question(title="Security open", series=series)
    resolved = make_question(title="Security resolved", series=series)
    with django_capture_on_commit_callbacks(execute=True):
        forecast_submit(user=users["forecaster"], question=q, payload={"probability": 0.61})
        forecast_submit(user=users["other"], question=q, payload={"probability": 0.33})  # crowd median: 0.47
    forecast_submit(user=users["forecaster"], question=resolved, payload={"probability": 0.7})
    question_resolve(question=resolved, outcome="no", by=users["staff"])
    text = "# Outlook\n\nWhat to look for: whether Russia recognises the Taliban government by the end of 2025.\n"
    article, _ = article_ingest(data=text.encode(), filename="sec.md", title="Security article", by=users["staff"])
    candidate = article.candidates.first()
    from strategy.services import strategic_question_create

    # {slug} in the matrix is the series' slug: a strategic question shares it, with the resolved
    # question as an indicator (its outcome shows on the public page, its forecasters never do).
    strategic_question_create(
        slug=series.slug, title="Security strategic", pole_less="Less", pole_more="More",
        drivers=[{"title": "Driver", "indicators": [{"question": resolved.pk, "direction": 1, "weight": 1.0,
                                                      "rationale": "Why"}]}],
    )  # fmt: skip
    return {"users": users, "q": q, "resolved": resolved, "series": series, "article": article, "candidate": candidate}


def _url(template: str, world) -> str:
    ids = {
        "/api/v1/articles/": world["article"].pk,
        "/api/v1/candidates/": world["candidate"].pk if world["candidate"] else 0,
        "/api/v1/users/": world["users"]["forecaster"].pk,
        "/api/v1/leaderboards/questions/": world["resolved"].pk,
    }
    pk = next((v for prefix, v in ids.items() if template.startswith(prefix)), None)
    if pk is None:
        pk = world["resolved"].pk if template.endswith(("/scores/", "/unresolve/", "/rationales/")) else world["q"].pk
    return template.replace("{id}", str(pk)).replace("{slug}", world["series"].slug)


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix_for_every_operation(role, world, client_for):
    column = ROLES.index(role)
    c = client_for(world["users"][role])
    for (method, template), expected in MATRIX.items():
        url = _url(template, world)
        body = BODIES.get((method, template))
        resp = c.get(url) if method == "GET" else getattr(c, method.lower())(url, body or {}, format="json")
        want = expected[column]
        where = (role, method, url, resp.status_code, resp.content[:200])
        assert resp.status_code < 500, where
        if want == OK:
            assert resp.status_code not in (401, 403), where
        else:
            assert resp.status_code == want, where
            assert set(resp.json()["error"]) == {"code", "message", "fields"}, where


# --- Object level ----------------------------------------------------------------------------


def test_nobody_reads_another_users_forecasts_on_an_open_question(world, client_for):
    from django.test import Client

    q, ana, ben = world["q"], world["users"]["forecaster"], world["users"]["other"]
    assert [f["probability"] for f in client_for(ana).get(f"/api/v1/questions/{q.pk}/forecasts/").json()] == [0.61]
    assert [f["probability"] for f in client_for(ben).get(f"/api/v1/questions/{q.pk}/forecasts/").json()] == [0.33]
    assert {f["probability"] for f in client_for(ben).get("/api/v1/me/forecasts/").json()["results"]} == {0.33}
    # Nor through the question list, the leaderboards or the site's forecast history.
    for c in (client_for(ben), client_for(None)):
        for url in ("/api/v1/questions/", f"/api/v1/leaderboards/questions/{q.pk}/"):
            assert "0.61" not in c.get(url).content.decode(), url
    site = Client()
    site.force_login(ben)
    page = site.get(f"/questions/{q.pk}/").content.decode()
    history = page.split("crowd-h")[0]  # everything before the crowd section: the reader's own data
    assert "33%" in history and "61%" not in history


def test_the_crowd_history_does_not_expose_a_lone_forecaster(world, client_for):
    q = world["q"]
    body = client_for(world["users"]["other"]).get(f"/api/v1/questions/{q.pk}/").content.decode()
    assert "0.61" not in body


def test_the_crowd_stays_hidden_before_its_reveal_time_in_the_api_and_the_site(
    make_user, make_question, client_for, django_capture_on_commit_callbacks
):
    from django.test import Client

    from forecasts.models import CrowdPoint
    from forecasts.services import forecast_submit

    now = datetime.now(UTC)
    q = make_question(title="Hidden crowd", crowd_reveal_time=now + timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):  # the crowd history is written
        for i, p in enumerate((0.23, 0.27, 0.25)):
            forecast_submit(user=make_user(f"hid{i}"), question=q, payload={"probability": p})
    assert CrowdPoint.objects.filter(question=q, is_latest=True).exists()
    ana, admin = make_user("hid-reader"), make_user("hid-admin", staff=True)
    for user in (None, ana):
        body = client_for(user).get(f"/api/v1/questions/{q.pk}/").json()
        assert body["crowd"]["revealed"] is False and body["crowd"]["probabilities"] is None
        listed = next(x for x in client_for(user).get("/api/v1/questions/").json()["results"] if x["id"] == q.pk)
        assert listed["crowd"]["probabilities"] is None
    staff_view = client_for(admin).get(f"/api/v1/questions/{q.pk}/").json()["crowd"]
    assert staff_view["revealed"] is True and staff_view["probabilities"]["yes"] == pytest.approx(0.25)
    site = Client()
    site.force_login(ana)
    page = site.get(f"/questions/{q.pk}/").content.decode()
    assert "crowd-chart" not in page and "25%" not in page
    site.force_login(admin)
    assert "crowd-chart" in site.get(f"/questions/{q.pk}/").content.decode()


# --- Tokens, log-in, throttles ---------------------------------------------------------------


def test_tokens_are_stored_hashed_and_expire(api, make_user, settings):
    from django.utils import timezone

    from accounts.models import APIToken

    make_user("tok-user")
    resp = api.post(
        "/api/v1/auth/token/", {"username": "tok-user", "password": "correct-horse-battery-9"}, format="json"
    )
    raw = resp.json()["token"]
    row = APIToken.objects.get()
    assert (
        raw not in (row.key_hash, row.prefix) and row.key_hash == __import__("hashlib").sha256(raw.encode()).hexdigest()
    )
    assert abs((row.expires_at - row.created_at) - settings.API_TOKEN_LIFETIME) < timedelta(seconds=1)
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/me/forecasts/").status_code == 200
    APIToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/me/forecasts/").status_code == 401


def test_login_brute_force_is_locked_out_per_username_and_ip(api, make_user, settings):
    make_user("brute")
    for _ in range(settings.LOGIN_MAX_FAILURES):
        assert (
            api.post("/api/v1/auth/token/", {"username": "brute", "password": "guess"}, format="json").status_code
            == 400
        )
    right = {"username": "brute", "password": "correct-horse-battery-9"}
    assert api.post("/api/v1/auth/token/", right, format="json").status_code == 429


def test_login_and_forecast_submission_are_throttled(api, make_user, make_question, client_for, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "login", "3/min")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "forecast", "4/min")
    codes = [
        api.post("/api/v1/auth/token/", {"username": f"u{i}", "password": "x"}, format="json").status_code
        for i in range(5)
    ]
    assert codes[:3] == [400, 400, 400] and codes[3:] == [429, 429]
    q = make_question(title="Throttled")
    c = client_for(make_user("throttled"))
    codes = [
        c.post(f"/api/v1/questions/{q.pk}/forecasts/", {"probability": 0.5}, format="json").status_code
        for _ in range(6)
    ]
    assert codes[:4] == [201] * 4 and codes[4:] == [429, 429]


def test_default_throttles_count_anonymous_and_signed_in_reads_in_redis(api, make_user, client_for, monkeypatch):
    # The default anon and user throttles are config.throttles' window throttles: DRF's rule, one
    # Redis sorted set per client, so every web process counts the same requests.
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "3/min")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "4/min")  # it counts anonymous clients too
    codes = [api.get("/api/v1/questions/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = api.get("/api/v1/questions/")
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["code"] == "throttled"
    anon_keys = cache.redis_client().keys(cache.make_key("throttle_anon_*"))
    assert len(anon_keys) == 1 and cache.redis_client().zcard(anon_keys[0]) == 3  # the refused are not recorded
    c = client_for(make_user("reader"))
    assert [c.get("/api/v1/questions/").status_code for _ in range(5)] == [200] * 4 + [429]


# --- CSRF, deployment, secrets, private fields -----------------------------------------------


def test_every_site_form_carries_a_csrf_token_and_posts_without_one_are_refused(world):
    from django.test import Client

    ana = world["users"]["forecaster"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ana)
    pages = ["/", f"/questions/{world['q'].pk}/", "/login/", "/signup/", "/profile/", "/leaderboard/"]
    forms = 0
    for url in pages:
        c = browser if url not in ("/login/", "/signup/") else Client(enforce_csrf_checks=True)
        html = c.get(url).content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if re.search(r'method=["\']?post', form, flags=re.I):
                forms += 1
                assert "csrfmiddlewaretoken" in form, (url, form[:200])
    assert forms >= 3
    for url in (f"/questions/{world['q'].pk}/forecast/", f"/questions/{world['q'].pk}/withdraw/", "/logout/"):
        assert browser.post(url, {"probability": "60"}).status_code == 403, url
    assert Client(enforce_csrf_checks=True).post("/login/", {"username": "x", "password": "y"}).status_code == 403


def test_check_deploy_is_clean_with_production_settings():
    # The test itself is tests/test_deployment.py::test_production_settings_pass_check_deploy_at_warning_level.
    from tests.test_deployment import test_production_settings_pass_check_deploy_at_warning_level as check

    check()


SECRET_PATTERNS = [
    re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"gh[pousr]_[A-Za-z0-9]{30,}"),
    re.compile(r"xox[abpr]-[A-Za-z0-9-]{10,}"),
    re.compile(r"""SECRET_KEY\s*[:=]\s*["'](?!dev-only)[^"'$]{20,}["']"""),
    re.compile(r"postgres(ql)?://[^:\s/]+:(?!signpost@)[^@\s]{6,}@"),
]


def test_no_secret_is_committed_to_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = []
    scanned = set()
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000 or name.startswith("tests/"):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        scanned.add(name)
        hits += [f"{name}: {m.group(0)[:40]}" for p in SECRET_PATTERNS for m in p.finditer(text)]
    assert {"config/settings/base.py", "docker-compose.yml"} <= scanned, "the scan read the repository"
    assert not hits, hits
    assert not any(Path(n).name in {".env", "id_rsa", "id_ed25519"} or n.endswith((".pem", ".key")) for n in files)


PRIVATE = ("email", "password", "key_hash", "last_login", "is_superuser", "@example.org", "rationale_private")


def test_no_private_field_in_any_public_response(world, client_for):
    client = client_for(None)
    ops = [(m, t) for (m, t) in MATRIX if m == "GET"]
    names = {u.display_name for u in world["users"].values() if u is not None}
    for role in ("anonymous", "other"):
        c = client_for(world["users"][role])
        read, with_people = [], []
        for _, template in ops:
            resp = c.get(_url(template, world))
            if resp.status_code != 200:
                continue
            read.append(template)
            text = resp.content.decode()
            with_people += [template] if any(n in text for n in names) else []
            for word in PRIVATE:
                if word == "email" and template == "/api/v1/me/preferences/":
                    continue  # the caller's own e-mail settings (contracts.md: `email` on/off per kind)
                assert word not in text, (role, template, word)
        # Every read the matrix lets this caller through was checked, and some carried users.
        allowed = {t for (m, t), row in MATRIX.items() if m == "GET" and row[ROLES.index(role)] == OK}
        assert set(read) == allowed, (role, allowed - set(read))
        assert with_people, (role, "no public response named a user: nothing was checked")
    # The site's public pages too.
    from django.test import Client

    anon = Client()
    for url in (
        "/",
        f"/questions/{world['resolved'].pk}/",
        "/leaderboard/",
        f"/users/{world['users']['forecaster'].pk}/",
    ):
        assert "@example.org" not in anon.get(url).content.decode(), url
    assert client.get("/api/schema/").status_code == 200

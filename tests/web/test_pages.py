"""The forecaster site through Django's test client: every page renders, forms post to the
services and show their refusals next to the inputs, and the crowd stays hidden before reveal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from forecasts.crowd import question_crowd_write
from forecasts.models import Forecast
from forecasts.services import forecast_submit
from questions.models import Article
from questions.services import question_resolve, series_create

pytestmark = pytest.mark.django_db


def _article(text: str, title: str = "Signposts for 2025") -> Article:
    import hashlib

    return Article.objects.create(
        title=title,
        author="A. Analyst",
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        source_url="https://example.org/article",
    )


# --- Pages render ------------------------------------------------------------------------------


def test_question_list_shows_open_questions_and_filters_by_status(client_as, make_question, make_user):
    open_q = make_question(title="Will the open one happen?")
    done = make_question(title="Was the resolved one true?")
    question_resolve(question=done, outcome="yes", by=make_user(staff=True))
    c = client_as()
    page = c.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    assert open_q.title in body and done.title not in body
    resolved = c.get("/", {"status": "resolved"}).content.decode()
    assert done.title in resolved and open_q.title not in resolved
    everything = c.get("/", {"status": "all"}).content.decode()
    assert done.title in everything and open_q.title in everything


def test_question_list_filters_by_closing_soon_series_article_and_search(client_as, make_question):
    now = datetime.now(UTC)
    soon = make_question(title="Closing in three days?", close_time=now + timedelta(days=3))
    later = make_question(title="Closing in a month?", close_time=now + timedelta(days=30))
    s = series_create(slug="afghanistan", title="Afghanistan signposts")
    in_series = make_question(title="A series question?", series=s)
    art = _article("Some text about recognition of the Taliban.")
    from_article = make_question(title="An article question?", article=art, source_start=0, source_end=9)
    c = client_as()

    body = c.get("/", {"status": "closing_soon"}).content.decode()
    assert soon.title in body and later.title not in body
    body = c.get("/", {"series": "afghanistan"}).content.decode()
    assert in_series.title in body and soon.title not in body
    body = c.get("/", {"article": str(art.pk)}).content.decode()
    assert from_article.title in body and in_series.title not in body
    body = c.get("/", {"q": "three days"}).content.decode()
    assert soon.title in body and later.title not in body
    # The filter form offers the series and article that have questions.
    assert "Afghanistan signposts" in body and "Signposts for 2025" in body


def test_every_page_renders(client_as, make_question, make_user, binary_q):
    user = make_user()
    s = series_create(slug="s1", title="Series one")
    make_question(title="In a series?", series=s)
    art = _article("Text of the article, long enough.")
    anon, me = client_as(), client_as(user)
    for path in [
        "/",
        f"/questions/{binary_q.pk}/",
        f"/articles/{art.pk}/",
        "/series/s1/",
        "/leaderboard/",
        "/login/",
        "/signup/",
        f"/users/{user.pk}/",
    ]:
        assert anon.get(path).status_code == 200, path
    assert me.get("/profile/").status_code == 200
    assert anon.get("/profile/").status_code == 302


def test_draft_questions_are_not_found_for_forecasters(client_as, make_question, make_user):
    draft = make_question(title="A draft?", published=False)
    assert client_as(make_user()).get(f"/questions/{draft.pk}/").status_code == 404
    assert client_as(make_user(staff=True)).get(f"/questions/{draft.pk}/").status_code == 200


def test_static_assets_are_served_locally(client_as):
    body = client_as().get("/").content.decode()
    refs = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert any(ref.startswith("/static/") for ref in refs), refs  # the page does load assets
    for ref in refs:
        assert not ref.startswith("//") and not re.match(r"https?://", ref), ref


# --- Accounts ----------------------------------------------------------------------------------


def test_signup_creates_the_account_and_logs_in(client_as):
    c = client_as()
    r = c.post(
        "/signup/",
        {
            "username": "newbie",
            "display_name": "New Bie",
            "password1": "a-long-pass-phrase-77",
            "password2": "a-long-pass-phrase-77",
        },
    )
    assert r.status_code == 302
    from accounts.models import User

    user = User.objects.get(username="newbie")
    assert user.display_name == "New Bie"
    assert "New Bie" in c.get("/").content.decode()


def test_signup_refuses_mismatched_passwords_next_to_the_field(client_as):
    r = client_as().post(
        "/signup/", {"username": "x1", "password1": "a-long-pass-phrase-77", "password2": "other-pass-phrase-77"}
    )
    assert r.status_code == 200
    assert 'id="id_password2_error"' in r.content.decode()


def test_login_locks_out_after_repeated_failures(client_as, make_user, settings):
    user = make_user("lockme")
    c = client_as()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        r = c.post("/login/", {"username": "lockme", "password": "wrong"})
        assert r.status_code == 200 and "Unable to log in" in r.content.decode()
    # Now even the right password is refused for this username and address.
    r = c.post("/login/", {"username": "lockme", "password": "correct-horse-battery-9"})
    assert "Too many failed log-ins" in r.content.decode()
    assert "_auth_user_id" not in c.session
    # The lock-out is per username and address: another user from here still logs in.
    make_user("notlocked")
    r = c.post("/login/", {"username": "notlocked", "password": "correct-horse-battery-9"})
    assert r.status_code == 302 and c.session["_auth_user_id"] != str(user.pk)


def test_login_and_logout(client_as, make_user):
    make_user("loginok")
    c = client_as()
    r = c.post("/login/", {"username": "loginok", "password": "correct-horse-battery-9"})
    assert r.status_code == 302 and "_auth_user_id" in c.session
    assert c.post("/logout/").status_code == 302
    assert "_auth_user_id" not in c.session


# --- Forecasting -------------------------------------------------------------------------------


def test_anonymous_forecast_is_redirected_to_login(client_as, binary_q):
    r = client_as().post(f"/questions/{binary_q.pk}/forecast/", {"probability": "70"})
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert not Forecast.objects.exists()
    assert "Log in</a> or" in client_as().get(f"/questions/{binary_q.pk}/").content.decode()


def test_binary_forecast_is_saved_as_p_yes_and_shown_in_the_history(client_as, make_user, binary_q):
    user = make_user()
    c = client_as(user)
    r = c.post(f"/questions/{binary_q.pk}/forecast/", {"probability": "70", "rationale": "Base rates."})
    assert r.status_code == 302
    f = Forecast.objects.get(user=user)
    assert f.probabilities == pytest.approx([0.7, 0.3]) and f.rationale == "Base rates."
    page = c.get(r["Location"]).content.decode()
    assert "Your forecast is saved." in page
    history = page[page.index('id="your-forecasts"') :]
    assert "70%" in history and "Base rates." in history
    # The form is pre-filled with the standing forecast for an update.
    assert re.search(r'id="probability" name="probability"[^>]*value="70"', page)


def test_binary_out_of_bounds_is_refused_next_to_the_input(client_as, make_user, binary_q):
    c = client_as(make_user())
    r = c.post(f"/questions/{binary_q.pk}/forecast/", {"probability": "100"})
    assert r.status_code == 400
    body = r.content.decode()
    error = re.search(r'<div class="field-error" id="probability-error" role="alert">([^<]*)</div>', body)
    assert error and "must be between 0.001 and 0.999" in error.group(1)
    assert not Forecast.objects.exists()
    r = c.post(f"/questions/{binary_q.pk}/forecast/", {"probability": "seventy"})
    assert r.status_code == 400 and "must be a number" in r.content.decode()


def test_multiple_choice_sum_of_90_is_refused_with_the_message_beside_the_inputs(client_as, make_user, mc_q):
    c = client_as(make_user())
    r = c.post(f"/questions/{mc_q.pk}/forecast/", {"p_0": "50", "p_1": "20", "p_2": "20"})
    assert r.status_code == 400
    body = r.content.decode()
    error = re.search(r'<div class="field-error" id="mc-error" role="alert">([^<]*)</div>', body)
    assert error and "must sum to 1" in error.group(1)
    # What was typed is kept.
    assert re.search(r'name="p_0"[^>]*value="50"', body)
    assert not Forecast.objects.exists()


def test_multiple_choice_option_error_names_the_option(client_as, make_user, mc_q):
    r = client_as(make_user()).post(f"/questions/{mc_q.pk}/forecast/", {"p_0": "100", "p_1": "0", "p_2": "0"})
    assert r.status_code == 400
    assert 'id="p_0-error"' in r.content.decode()


def test_multiple_choice_forecast_is_saved_in_option_order(client_as, make_user, mc_q):
    user = make_user()
    r = client_as(user).post(f"/questions/{mc_q.pk}/forecast/", {"p_0": "60", "p_1": "10", "p_2": "30"})
    assert r.status_code == 302
    assert Forecast.objects.get(user=user).probabilities == pytest.approx([0.6, 0.1, 0.3])


def test_update_then_withdraw_keeps_the_history(client_as, make_user, binary_q):
    user = make_user()
    c = client_as(user)
    c.post(f"/questions/{binary_q.pk}/forecast/", {"probability": "70"})
    c.post(f"/questions/{binary_q.pk}/forecast/", {"probability": "55"})
    r = c.post(f"/questions/{binary_q.pk}/withdraw/")
    assert r.status_code == 302
    kinds = list(Forecast.objects.filter(user=user).order_by("created_at", "id").values_list("kind", flat=True))
    assert kinds == ["forecast", "forecast", "withdrawal"]
    page = c.get(f"/questions/{binary_q.pk}/").content.decode()
    assert "Your forecast is withdrawn." in page and "Withdrawn" in page and "55%" in page
    # Nothing left to withdraw: the service's refusal comes back as a message.
    r = c.post(f"/questions/{binary_q.pk}/withdraw/", follow=True)
    assert "no standing forecast" in r.content.decode()


def test_forecast_on_a_resolved_question_is_refused(client_as, make_user, binary_q):
    question_resolve(question=binary_q, outcome="no", by=make_user(staff=True))
    r = client_as(make_user()).post(f"/questions/{binary_q.pk}/forecast/", {"probability": "70"})
    assert r.status_code == 409 and "resolved" in r.content.decode()


def test_forms_enforce_csrf(client_as, make_user, binary_q):
    c = client_as(make_user(), enforce_csrf_checks=True)
    assert c.post(f"/questions/{binary_q.pk}/forecast/", {"probability": "70"}).status_code == 403
    assert c.post(f"/questions/{binary_q.pk}/withdraw/").status_code == 403
    assert client_as(enforce_csrf_checks=True).post("/login/", {"username": "a", "password": "b"}).status_code == 403
    assert not Forecast.objects.exists()
    page = c.get(f"/questions/{binary_q.pk}/").content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 2  # the forecast form and log out


def test_get_on_a_write_url_is_not_allowed(client_as, make_user, binary_q):
    assert client_as(make_user()).get(f"/questions/{binary_q.pk}/forecast/").status_code == 405


# --- The crowd -----------------------------------------------------------------------------------


def _with_crowd(question, users):
    for i, u in enumerate(users):
        forecast_submit(user=u, question=question, payload={"probability": 0.6 + 0.1 * i})
    question_crowd_write(question_id=question.pk)


def test_crowd_is_hidden_before_reveal_except_for_staff(client_as, make_question, make_user):
    now = datetime.now(UTC)
    q = make_question(title="Hidden crowd?", crowd_reveal_time=now + timedelta(days=5))
    _with_crowd(q, [make_user(), make_user(), make_user()])
    page = client_as(make_user()).get(f"/questions/{q.pk}/").content.decode()
    assert "crowd-data" not in page and "crowd forecast is hidden until" in page
    assert "70%" not in page
    listing = client_as(make_user()).get("/").content.decode()
    assert "70%" not in listing
    staff_page = client_as(make_user(staff=True)).get(f"/questions/{q.pk}/").content.decode()
    assert 'id="crowd-data"' in staff_page and "Shown to staff only" in staff_page


def test_crowd_chart_data_after_reveal(client_as, make_user, binary_q):
    _with_crowd(binary_q, [make_user(), make_user(), make_user()])
    page = client_as().get(f"/questions/{binary_q.pk}/").content.decode()
    import json

    data = json.loads(re.search(r'<script id="crowd-data" type="application/json">(.*?)</script>', page, re.S).group(1))
    assert data["labels"] == ["yes", "no"]
    assert data["points"][-1]["p"][0] == pytest.approx(0.7)
    assert "70%" in page and "vendor/chartjs/chart.umd.min.js" in page


# --- Articles --------------------------------------------------------------------------------------


def test_article_page_anchors_each_passage_and_groups_by_indicator(client_as, make_question, make_user):
    text = "Intro. Watch whether Russia recognises the Taliban. Then, trade: will China sign a mining deal? End."
    art = _article(text)
    a_start = text.index("Watch")
    b_start = text.index("will China")
    qa = make_question(
        title="Russia recognises?", article=art, source_start=a_start, source_end=a_start + 44, indicator="Diplomacy"
    )
    qb = make_question(
        title="Mining deal?", article=art, source_start=b_start, source_end=b_start + 33, indicator="Trade"
    )
    _with_crowd(qa, [make_user(), make_user(), make_user()])
    question_resolve(question=qa, outcome="yes", by=make_user(staff=True))
    page = client_as().get(f"/articles/{art.pk}/").content.decode()
    assert f'id="passage-{qa.pk}"' in page and f'id="passage-{qb.pk}"' in page
    assert page.index("Diplomacy") < page.index("Trade")
    assert "Crowd gave <strong>70%</strong> to “yes”, which happened" in page
    # The question page links to its passage.
    qpage = client_as().get(f"/questions/{qa.pk}/").content.decode()
    assert f"/articles/{art.pk}/#passage-{qa.pk}" in qpage


def test_article_text_is_escaped_and_overlapping_passages_keep_both_anchors(client_as, make_question):
    text = "<script>alert(1)</script> The passage one overlaps passage two here."
    art = _article(text, title="Escaping")
    s = text.index("The passage")
    q1 = make_question(title="One?", article=art, source_start=s, source_end=s + 25)
    q2 = make_question(title="Two?", article=art, source_start=s + 10, source_end=len(text))
    page = client_as().get(f"/articles/{art.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert f'id="passage-{q1.pk}"' in page and f'id="passage-{q2.pk}"' in page


# --- Scores, leaderboards and calibration -----------------------------------------------------------


@pytest.fixture
def scored_series(make_question, make_user, django_capture_on_commit_callbacks):
    """A series with one question two forecasters answered, resolved and scored in-process."""
    now = datetime.now(UTC)
    s = series_create(slug="scored", title="Scored series")
    q = make_question(title="Scored question?", series=s, open_time=now - timedelta(days=10))
    ana, ben = make_user("ana"), make_user("ben")
    forecast_submit(user=ana, question=q, payload={"probability": 0.8}, at=now - timedelta(days=9))
    forecast_submit(user=ben, question=q, payload={"probability": 0.3}, at=now - timedelta(days=8))
    with django_capture_on_commit_callbacks(execute=True):
        question_resolve(question=q, outcome="yes", by=make_user(staff=True))
    return {"series": s, "question": q, "ana": ana, "ben": ben}


def test_series_leaderboard_highlights_the_readers_row(client_as, scored_series):
    page = client_as(scored_series["ben"]).get("/series/scored/").content.decode()
    rows = re.findall(r"<tr([^>]*)>\s*<td class=\"num\">(\d+)</td>\s*<th scope=\"row\"><a[^>]*>([^<]+)</a>", page)
    assert [(r[1], r[2]) for r in rows] == [("1", "Ana"), ("2", "Ben")]
    assert 'class="is-me"' in rows[1][0] and 'class="is-me"' not in rows[0][0]
    assert "(you)" in page and "Crowd" in page and "Scored question?" in page


def test_global_leaderboard_respects_min_questions(client_as, scored_series):
    c = client_as(scored_series["ana"])
    assert "Ana" not in c.get("/leaderboard/").content.decode().split("<tbody>")[-1].split("</tbody>")[0]
    page = c.get("/leaderboard/", {"min_questions": "1"}).content.decode()
    assert 'class="is-me"' in page


def test_profile_shows_scores_and_calibration(client_as, scored_series):
    page = client_as(scored_series["ana"]).get("/profile/").content.decode()
    assert "Scored question?" in page and 'id="calibration-data"' in page and 'id="calibration-chart"' in page
    assert "0.080" in page  # final Brier of 80% on yes: (0.2)^2 * 2
    public = client_as().get(f"/users/{scored_series['ana'].pk}/").content.decode()
    assert "Scored question?" in public and "ana@example.org" not in public


def test_resolved_question_page_shows_the_outcome_and_my_score(client_as, scored_series):
    page = client_as(scored_series["ana"]).get(f"/questions/{scored_series['question'].pk}/").content.decode()
    assert "Resolved: Yes" in page and "Your final Brier" in page and "0.080" in page
    assert "no longer takes forecasts" in page

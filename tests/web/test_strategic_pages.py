"""The strategic question pages through Django's test client: the list and the detail render with
the drivers, indicators (passage linked to the article, crowd, outcome, direction), composite and
history; "what moved it" follows the reader's date and answers a bad one with a message; the pages
are linked from the article, the question pages and the navigation; drafts stay with staff."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from forecasts.crowd import question_crowd_write
from forecasts.services import forecast_submit
from questions.models import Article
from questions.services import question_create, question_resolve
from strategy.history import strategic_recompute
from strategy.services import strategic_question_create

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TEXT = (
    "Will the two capitals act together?\n\n"
    "A joint recognition of the Taliban would show real policy coordination. "
    "Russia keeping India at its Afghan talks would show the older partnership comes first. "
    "Watch the border too."
)
SLUG = "coordination"


def _span(phrase: str) -> dict:
    start = TEXT.index(phrase)
    return {"source_start": start, "source_end": start + len(phrase)}


@pytest.fixture
def world(make_user):
    """An article, four indicator questions (one resolved, one whose crowd is hidden until a
    reveal time still to come, one draft), a crowd of three and the strategic question over them,
    its history computed."""
    now = datetime.now(UTC)
    article = Article.objects.create(
        title="Signposts of coordination", text=TEXT, sha256=hashlib.sha256(TEXT.encode()).hexdigest()
    )

    def make(title, **kw):
        fields = {"type": "binary", "open_time": T0, "close_time": now + timedelta(days=365), "article": article}
        fields.update(kw)
        return question_create(title=title, **fields)

    joint = make(
        "Will Moscow and Beijing recognise the Taliban together?",
        **_span("A joint recognition of the Taliban would show real policy coordination."),
    )
    india = make(
        "Will India keep its seat at Moscow's Afghan talks?",
        close_time=T0 + timedelta(days=100),
        **_span("Russia keeping India at its Afghan talks would show the older partnership comes first."),
    )
    hidden = make(
        "Will they patrol the Tajik border together?",
        crowd_reveal_time=now + timedelta(days=30),
        **_span("Watch the border too."),
    )
    draft = make("Will a draft indicator stay hidden?", published=False)
    unlinked = make("Is this question linked to nothing?")
    crowd = [make_user(f"crowd-{i}") for i in range(3)]
    for user, p in zip(crowd, [0.2, 0.3, 0.4], strict=True):
        forecast_submit(user=user, question=joint, payload={"probability": p}, at=T0 + timedelta(days=1))
    for user, p in zip(crowd, [0.6, 0.7, 0.8], strict=True):
        forecast_submit(user=user, question=joint, payload={"probability": p}, at=T0 + timedelta(days=150))
    for user, p in zip(crowd, [0.5, 0.6, 0.7], strict=True):
        forecast_submit(user=user, question=india, payload={"probability": p}, at=T0 + timedelta(days=2))
        forecast_submit(user=user, question=hidden, payload={"probability": 0.9}, at=T0 + timedelta(days=3))
    staff = make_user("editor", staff=True)
    question_resolve(question=india, outcome="yes", by=staff, at=T0 + timedelta(days=120))
    for q in (joint, india, hidden):
        question_crowd_write(question_id=q.pk)
    sq = strategic_question_create(
        slug=SLUG,
        title="Will Sino-Russian coordination in Afghanistan deepen?",
        pole_less="Less coordination",
        pole_more="More coordination",
        drivers=[
            {
                "title": "Recognition of the Taliban",
                "indicators": [
                    {"question": joint.pk, "direction": 1, "weight": 1, "rationale": "Acting together in our words."},
                    {"question": draft.pk, "direction": 1, "weight": 1},
                ],
            },
            {
                "title": "Russia's partnership with India",
                "indicators": [
                    {"question": india.pk, "direction": -1, "weight": 1, "rationale": "India first."},
                    {"question": hidden.pk, "direction": 1, "weight": 0.5},
                ],
            },
        ],
    )
    strategic_recompute(strategic_question_id=sq.pk)  # the on-commit job does not run inside the test's transaction
    return {
        "article": article,
        "joint": joint,
        "india": india,
        "hidden": hidden,
        "draft": draft,
        "unlinked": unlinked,
        "sq": sq,
        "staff": staff,
    }


def _page(client, path, **params) -> str:
    r = client.get(path, params)
    assert r.status_code == 200, r.status_code
    return r.content.decode()


def _moved_section(body: str) -> str:
    return body.split('id="moved"', 1)[1].split('id="drivers-h"', 1)[0]


def _chart(body: str) -> dict:
    m = re.search(r'<script id="strategic-data" type="application/json">(.*?)</script>', body, re.S)
    assert m, "no chart data on the page"
    return json.loads(m.group(1))


# --- The pages render ---------------------------------------------------------------------------


def test_the_list_shows_the_strategic_question_with_its_composite(client_as, world):
    body = _page(client_as(), "/strategic/")
    assert f'href="/strategic/{SLUG}/"' in body
    assert "Will Sino-Russian coordination in Afghanistan deepen?" in body
    assert "Less coordination" in body and "More coordination" in body
    assert "Composite now:" in body


def test_the_detail_shows_drivers_indicators_passages_crowd_outcome_and_directions(client_as, world):
    joint, india, article = world["joint"], world["india"], world["article"]
    body = _page(client_as(), f"/strategic/{SLUG}/")
    assert "<h1>Will Sino-Russian coordination in Afghanistan deepen?</h1>" in body
    for driver in ("Recognition of the Taliban", "Russia&#x27;s partnership with India"):
        assert driver in body
    # Each indicator links to its question, and its passage to the article's anchor.
    assert f'href="/questions/{joint.pk}/"' in body and f'href="/questions/{india.pk}/"' in body
    assert f'href="/articles/{article.pk}/#passage-{joint.pk}"' in body
    assert "A joint recognition of the Taliban would show real policy coordination." in body
    assert "Acting together in our words." in body
    # Direction as a colour (class) and a sign with words.
    card = body.split(f'id="indicator-{india.pk}"', 1)[1].split("</li>", 1)[0]
    assert "dir-less" in card and "YES pushes towards Less coordination" in card and "−" in card
    card = body.split(f'id="indicator-{joint.pk}"', 1)[1].split("</li>", 1)[0]
    assert "dir-more" in card and "YES pushes towards More coordination" in card
    assert "Crowd: <strong>70%</strong> yes" in card
    # The resolved one shows its outcome.
    card = body.split(f'id="indicator-{india.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Resolved: Yes" in card
    # The composite now: joint at 0.7 -> +0.4 (weight 1), india resolved YES, direction -1 -> -1
    # (weight 1); the hidden one's crowd has no public value yet: (0.4 - 1) / 2 = -0.30.
    assert 'id="composite-value">−0.30<' in body
    assert "leaning towards Less coordination" in body
    # The history chart and its table.
    chart = _chart(body)
    assert chart["pole_less"] == "Less coordination" and chart["pole_more"] == "More coordination"
    assert [p["c"] for p in chart["points"]][-1] == pytest.approx(-0.3)
    assert 'id="strategic-chart"' in body and "vendor/chartjs/chart.umd.min.js" in body
    assert "The composite’s history as a table" in body


def test_a_hidden_crowd_and_a_draft_indicator_are_shown_to_staff_only(client_as, world):
    hidden, draft = world["hidden"], world["draft"]
    anon = _page(client_as(), f"/strategic/{SLUG}/")
    card = anon.split(f'id="indicator-{hidden.pk}"', 1)[1].split("</li>", 1)[0]
    assert "No public crowd forecast yet" in card and "90%" not in card
    assert draft.title not in anon
    staff = _page(client_as(world["staff"]), f"/strategic/{SLUG}/")
    card = staff.split(f'id="indicator-{hidden.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Crowd: <strong>90%</strong> yes" in card
    assert draft.title in staff


# --- What moved it ------------------------------------------------------------------------------


def test_what_moved_it_follows_the_date_the_reader_chooses(client_as, world):
    joint, india = world["joint"], world["india"]
    c = client_as()
    body = _page(c, f"/strategic/{SLUG}/", since="2024-03-01")
    moved = _moved_section(body)
    assert 'value="2024-03-01"' in moved
    # On 1 March: joint at 0.3 -> -0.4, india's crowd 0.6 -> -(0.2): composite -0.30. Now -0.30
    # as well, but both indicators moved: joint +0.8 / 2, india -0.8 / 2.
    assert "From <strong>−0.30</strong> on 1 Mar 2024" in moved
    titles = re.findall(r'class="moved-title">([^<]+)<', moved)
    assert set(titles) == {joint.title.replace("'", "&#x27;"), india.title.replace("'", "&#x27;")}
    assert "+0.400" in moved and "−0.400" in moved
    # A later date: only what happened after it.
    later = _moved_section(_page(c, f"/strategic/{SLUG}/", since="2024-05-01"))
    assert "From <strong>−0.70</strong> on 1 May 2024" in later  # joint -0.4, india resolved YES at day 120: -1
    assert re.findall(r'class="moved-title">([^<]+)<', later) == [joint.title]
    # Before anything had a value.
    early = _moved_section(_page(c, f"/strategic/{SLUG}/", since="2023-06-01"))
    assert "no indicator had a value yet" in early


def test_what_moved_it_defaults_to_90_days_before_the_last_point(client_as, world):
    body = _page(client_as(), f"/strategic/{SLUG}/")
    last = datetime.fromtimestamp(_chart(body)["points"][-1]["t"] / 1000, tz=UTC)
    expected = (last - timedelta(days=90)).date().isoformat()
    assert f'value="{expected}"' in _moved_section(body)
    assert 'role="alert"' not in body


@pytest.mark.parametrize(
    "since",
    ["not-a-date", "2024-02-30", "2999-01-01", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9" * 500],
)
def test_a_bad_since_is_a_message_not_an_error(client_as, world, since):
    r = client_as().get(f"/strategic/{SLUG}/", {"since": since})
    assert r.status_code == 200
    moved = _moved_section(r.content.decode())
    assert 'role="alert"' in moved and 'aria-invalid="true"' in moved
    assert "is not a date this page can use" in moved or "is in the future" in moved
    assert "Showing the changes since" in moved


# --- Links to it ----------------------------------------------------------------------------------


def test_the_article_the_linked_questions_and_the_navigation_link_to_it(client_as, world):
    c = client_as()
    article = _page(c, f"/articles/{world['article'].pk}/")
    assert f'href="/strategic/{SLUG}/"' in article and "The question behind this article" in article
    question = _page(c, f"/questions/{world['joint'].pk}/")
    assert "Part of:" in question
    assert f'href="/strategic/{SLUG}/#indicator-{world["joint"].pk}"' in question
    assert "YES pushes towards More coordination" in question
    india = _page(c, f"/questions/{world['india'].pk}/")
    assert "YES pushes towards Less coordination" in india
    assert "Part of:" not in _page(c, f"/questions/{world['unlinked'].pk}/")
    assert 'href="/strategic/"' in _page(c, "/")


# --- Drafts -------------------------------------------------------------------------------------


def test_a_draft_strategic_question_is_hidden_from_everyone_but_staff(client_as, world, make_user):
    draft = strategic_question_create(
        slug="draft-one",
        title="Will a draft strategic question stay hidden?",
        pole_less="Less",
        pole_more="More",
        published=False,
        drivers=[{"title": "Only driver", "indicators": [{"question": world["unlinked"].pk, "direction": 1}]}],
    )
    strategic_recompute(strategic_question_id=draft.pk)
    for client in (client_as(), client_as(make_user("reader"))):
        assert draft.title not in _page(client, "/strategic/")
        assert client.get("/strategic/draft-one/").status_code == 404
        assert "Part of:" not in _page(client, f"/questions/{world['unlinked'].pk}/")
        assert "draft-one" not in _page(client, f"/articles/{world['article'].pk}/")
    staff = client_as(world["staff"])
    assert draft.title in _page(staff, "/strategic/")
    body = _page(staff, "/strategic/draft-one/")
    assert "Draft: staff only" in body
    assert 'href="/strategic/draft-one/' in _page(staff, f"/questions/{world['unlinked'].pk}/")


def test_an_unknown_strategic_question_is_a_404(client_as, world):
    assert client_as().get("/strategic/no-such-thing/").status_code == 404


def test_a_strategic_question_without_indicators_renders_without_a_chart(client_as, db):
    strategic_question_create(slug="empty", title="Will an empty one render?", pole_less="Less", pole_more="More")
    body = _page(client_as(), "/strategic/empty/", since="2024-01-01")
    assert "No value yet" in body and "No drivers yet." in body
    assert 'id="strategic-chart"' not in body and "The composite has no history yet." not in body
    assert "no indicator had a value yet" in body
    assert "The composite has no history yet." in _page(client_as(), "/strategic/empty/")

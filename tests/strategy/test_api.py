"""The strategic-question endpoints: who may do what, bad input refused with the field named in
the contract's error shape, and the body of contracts.md."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forecasts.services import forecast_submit
from questions.models import Article
from questions.services import question_create, question_resolve, question_update
from strategy.models import IndicatorLink, StrategicQuestion
from strategy.services import strategic_question_create

from .conftest import T0

pytestmark = pytest.mark.django_db

LIST = "/api/v1/strategic-questions/"


def _detail(sq, since=None):
    return f"{LIST}{sq.slug}/" + (f"?since={since}" if since else "")


def _links(sq):
    return f"{LIST}{sq.slug}/links/"


def _refused(resp, field: str, status: int = 400) -> list[str]:
    assert resp.status_code == status, resp.content[:500]
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert field in body["error"]["fields"], body
    return body["error"]["fields"][field]


def _one_link(question, **link):
    return {"drivers": [{"title": "Diplomacy", "indicators": [{"question": question.pk, "direction": 1, **link}]}]}


# --- Permissions -----------------------------------------------------------------------------------


def test_anyone_reads_published_ones_and_only_staff_see_drafts(client_for, make_user, staff, strategic):
    draft = strategic_question_create(slug="draft", title="Draft", pole_less="L", pole_more="M", published=False)
    for user in (None, make_user("reader")):
        c = client_for(user)
        assert [r["slug"] for r in c.get(LIST).json()["results"]] == ["sino-russian"]
        assert c.get(_detail(strategic)).status_code == 200
        assert c.get(_detail(draft)).status_code == 404
    c = client_for(staff)
    assert [r["slug"] for r in c.get(LIST).json()["results"]] == ["draft", "sino-russian"]
    assert c.get(_detail(draft)).status_code == 200


def test_only_staff_write(client_for, make_user, staff, strategic, indicators):
    body = {"slug": "new-one", "title": "New", "pole_less": "Less", "pole_more": "More"}
    links = _one_link(indicators["recognise"])
    for user, code in ((None, 401), (make_user("writer"), 403)):
        c = client_for(user)
        _ = c.post(LIST, body, format="json")
        assert _.status_code == code and "error" in _.json()
        resp = c.put(_links(strategic), links, format="json")
        assert resp.status_code == code and "error" in resp.json()
    assert not StrategicQuestion.objects.filter(slug="new-one").exists()
    assert IndicatorLink.objects.filter(strategic_question=strategic).count() == 3
    c = client_for(staff)
    assert c.post(LIST, body, format="json").status_code == 201
    assert c.put(_links(strategic), links, format="json").status_code == 200
    assert IndicatorLink.objects.filter(strategic_question=strategic).count() == 1
    assert c.put(f"{LIST}no-such-thing/links/", links, format="json").status_code == 404


# --- Bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", [0, 2, -2, "1", 1.0, True, None])
def test_a_bad_direction_is_named(client_for, staff, strategic, indicators, direction):
    resp = client_for(staff).put(
        _links(strategic), _one_link(indicators["recognise"], direction=direction), format="json"
    )
    _refused(resp, "drivers[0].indicators[0].direction")


@pytest.mark.parametrize("weight", [0, -1, 1001, "2", True, None])
def test_a_bad_weight_is_named(client_for, staff, strategic, indicators, weight):
    body = {
        "drivers": [
            {"title": "D0", "indicators": []},
            {
                "title": "D1",
                "indicators": [
                    {"question": indicators["sanctions"].pk, "direction": -1, "weight": 1.5},
                    {"question": indicators["recognise"].pk, "direction": 1, "weight": weight},
                ],
            },
        ]
    }
    _refused(client_for(staff).put(_links(strategic), body, format="json"), "drivers[1].indicators[1].weight")
    assert IndicatorLink.objects.filter(strategic_question=strategic).count() == 3  # nothing changed


def test_unknown_duplicate_and_unordered_questions_are_named(client_for, staff, strategic, indicators):
    unordered = question_create(
        type="multiple_choice", options=["A", "B", "C"], title="Which?", open_time=T0, close_time=T0 + timedelta(days=9)
    )
    q = indicators["recognise"]
    body = {
        "drivers": [
            {"title": "D0", "indicators": [{"question": q.pk, "direction": 1}, {"question": 999999, "direction": 1}]},
            {
                "title": "D1",
                "indicators": [{"question": q.pk, "direction": -1}, {"question": unordered.pk, "direction": 1}],
            },
        ]
    }
    resp = client_for(staff).put(_links(strategic), body, format="json")
    assert _refused(resp, "drivers[0].indicators[1].question") == ["unknown question 999999"]
    assert "already linked at drivers[0].indicators[0]" in _refused(resp, "drivers[1].indicators[0].question")[0]
    assert "unordered" in _refused(resp, "drivers[1].indicators[1].question")[0]
    assert "drivers[0].indicators[0].question" not in resp.json()["error"]["fields"]


def test_create_refuses_bad_fields_and_a_taken_slug(client_for, staff, strategic, indicators):
    c = client_for(staff)
    base = {"slug": "fresh", "title": "T", "pole_less": "L", "pole_more": "M"}
    _refused(c.post(LIST, {**base, "slug": "not a slug"}, format="json"), "slug")
    _refused(c.post(LIST, {**base, "title": 42}, format="json"), "title")
    _refused(c.post(LIST, {**base, "published": "yes"}, format="json"), "published")
    _refused(c.post(LIST, {k: v for k, v in base.items() if k != "pole_more"}, format="json"), "pole_more")
    assert _refused(c.post(LIST, {**base, "slug": strategic.slug}, format="json"), "slug")[0].startswith(
        "a strategic question with this slug"
    )
    bad_links = {**base, **_one_link(indicators["recognise"], weight=0)}
    _refused(c.post(LIST, bad_links, format="json"), "drivers[0].indicators[0].weight")
    assert not StrategicQuestion.objects.filter(slug="fresh").exists()  # nothing half-created


def test_a_bad_since_is_named(client_for, strategic):
    c = client_for(None)
    _refused(c.get(_detail(strategic, "yesterday")), "since")
    _refused(c.get(_detail(strategic, "2999-01-01")), "since")


# --- The body --------------------------------------------------------------------------------------

INDICATOR_KEYS = {
    "question", "title", "type", "direction", "weight", "rationale", "passage", "article", "crowd_probability",
    "resolution", "value", "contribution",
}  # fmt: skip


def test_the_detail_body_is_the_contracts(client_for, staff, crowd, indicators, django_capture_on_commit_callbacks):
    text = "Outlook. Russia may formally recognise the Taliban government by 2026. More text."
    article = Article.objects.create(title="Seed", text=text, sha256="0" * 64)
    start = text.index("Russia")
    with_passage = question_create(
        type="binary", title="Will Russia recognise?", open_time=T0, close_time=T0 + timedelta(days=3650),
        article=article, source_start=start, source_end=text.index(" More"),
    )  # fmt: skip
    sanctions, exercises = indicators["sanctions"], indicators["exercises"]
    with django_capture_on_commit_callbacks(execute=True):
        sq = strategic_question_create(
            slug="sr",
            title="Will Sino-Russian coordination deepen?",
            pole_less="Less coordination",
            pole_more="More coordination",
            drivers=[
                {
                    "title": "Diplomacy",
                    "indicators": [
                        {
                            "question": with_passage.pk,
                            "direction": 1,
                            "weight": 2,
                            "rationale": "Recognition is a signal.",
                        },
                        {"question": sanctions.pk, "direction": -1},
                    ],
                },
                {"title": "Security", "indicators": [{"question": exercises.pk, "direction": 1, "weight": 0.5}]},
            ],
        )
    for i, (user, p) in enumerate(zip(crowd, [0.6, 0.7, 0.8], strict=True)):
        with django_capture_on_commit_callbacks(execute=True):
            forecast_submit(
                user=user, question=with_passage, payload={"probability": p}, at=T0 + timedelta(days=1, hours=i)
            )
    with django_capture_on_commit_callbacks(execute=True):
        forecast_submit(user=crowd[0], question=sanctions, payload={"probability": 0.4}, at=T0 + timedelta(days=2))
        question_resolve(question=exercises, outcome="3+", by=staff, at=T0 + timedelta(days=3))

    body = client_for(None).get(_detail(sq, "2024-01-02")).json()
    assert {
        "slug", "title", "description", "pole_less", "pole_more", "published_at", "computed_at", "composite",
        "drivers", "history", "since", "composite_since", "moved",
    } == set(body)  # fmt: skip
    assert (body["title"], body["pole_less"], body["pole_more"]) == (
        "Will Sino-Russian coordination deepen?",
        "Less coordination",
        "More coordination",
    )
    assert [d["title"] for d in body["drivers"]] == ["Diplomacy", "Security"]
    first, second = body["drivers"][0]["indicators"]
    (third,) = body["drivers"][1]["indicators"]
    assert all(set(i) == INDICATOR_KEYS for i in (first, second, third))
    assert first["question"] == with_passage.pk and first["title"] == "Will Russia recognise?"
    assert (first["direction"], first["weight"], first["rationale"]) == (1, 2.0, "Recognition is a signal.")
    assert first["passage"] == "Russia may formally recognise the Taliban government by 2026."
    assert first["crowd_probability"] == pytest.approx(0.7) and first["resolution"] is None
    # One forecaster on sanctions: the crowd is too thin to publish, so it is null and not counted.
    assert second["crowd_probability"] is None and second["value"] is None and second["passage"] is None
    assert third["crowd_probability"] is None and third["resolution"] == "3+" and third["value"] == 1.0
    # composite: recognise 0.4 (weight 2), exercises resolved at the top option 1.0 (weight 0.5)
    assert body["composite"] == pytest.approx((2 * 0.4 + 0.5 * 1.0) / 2.5)
    assert first["contribution"] + third["contribution"] == pytest.approx(body["composite"])
    # history: from the first open time (no value yet), then the crowd, then the resolution
    history = [(h["time"], h["composite"]) for h in body["history"]]
    assert history[0] == ("2024-01-01T00:00:00Z", None)
    assert history[-2:] == [
        ("2024-01-02T02:00:00Z", pytest.approx(0.4)),
        ("2024-01-04T00:00:00Z", pytest.approx(1.3 / 2.5)),
    ]
    # what moved it since 2024-01-02 (no value then): exercises' 0.2 beats recognise's 0.32
    assert body["since"] == "2024-01-02T00:00:00Z" and body["composite_since"] is None
    assert [(m["question"], m["change"]) for m in body["moved"]] == [
        (with_passage.pk, pytest.approx(0.8 / 2.5)),
        (exercises.pk, pytest.approx(0.5 / 2.5)),
    ]
    assert client_for(None).get(_detail(sq)).json()["moved"] is None

    listed = client_for(None).get(LIST).json()["results"]
    assert listed == [
        {
            "slug": "sr",
            "title": "Will Sino-Russian coordination deepen?",
            "description": "",
            "pole_less": "Less coordination",
            "pole_more": "More coordination",
            "published_at": body["published_at"],
            "composite": pytest.approx(body["composite"]),
            "indicator_count": 3,
        }
    ]


def test_a_hidden_crowd_is_null_for_the_public_and_drafts_are_hidden(
    client_for, staff, strategic, indicators, crowd, now, django_capture_on_commit_callbacks
):
    recognise, sanctions = indicators["recognise"], indicators["sanctions"]
    for i, (user, p) in enumerate(zip(crowd, [0.6, 0.7, 0.8], strict=True)):
        with django_capture_on_commit_callbacks(execute=True):
            forecast_submit(
                user=user, question=recognise, payload={"probability": p}, at=T0 + timedelta(days=1, hours=i)
            )
    with django_capture_on_commit_callbacks(execute=True):
        question_update(question=recognise, by=staff, changes={"crowd_reveal_time": now + timedelta(days=30)})
        question_update(question=sanctions, by=staff, changes={"published": False})

    def indicator(user, q):
        body = client_for(user).get(_detail(strategic)).json()
        found = [i for d in body["drivers"] for i in d["indicators"] if i["question"] == q.pk]
        return body, (found[0] if found else None)

    body, public = indicator(None, recognise)
    assert public["crowd_probability"] is None and public["value"] is None and body["composite"] is None
    assert indicator(None, sanctions)[1] is None  # a draft question is not shown to the public
    _, seen_by_staff = indicator(staff, recognise)
    assert seen_by_staff["crowd_probability"] == pytest.approx(0.7)
    assert indicator(staff, sanctions)[1] is not None

"""The admin saves strategic questions and their links through the services: the same rules as
the API, a refusal shown on the form with nothing saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from questions.services import question_create
from strategy.models import Driver, IndicatorLink, StrategicQuestion

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_user):
    user = make_user("strategy-admin", staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    c = Client()
    c.force_login(user)
    return c


def _management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _change_form(sq: StrategicQuestion, links: list[dict]) -> dict:
    """The change page's POST: the strategic question's fields, its saved drivers unchanged, and
    `links` as the links inline (replacing the saved ones, which are marked for deletion)."""
    data = {
        "slug": sq.slug,
        "title": sq.title,
        "description": sq.description,
        "pole_less": sq.pole_less,
        "pole_more": sq.pole_more,
        "published_at_0": sq.published_at.strftime("%Y-%m-%d"),
        "published_at_1": sq.published_at.strftime("%H:%M:%S"),
    }
    drivers = list(Driver.objects.filter(strategic_question=sq).order_by("order"))
    data |= _management("drivers", len(drivers), len(drivers))
    for i, d in enumerate(drivers):
        data |= {
            f"drivers-{i}-id": str(d.pk),
            f"drivers-{i}-strategic_question": str(sq.pk),
            f"drivers-{i}-title": d.title,
            f"drivers-{i}-order": str(d.order),
        }
    saved = list(IndicatorLink.objects.filter(strategic_question=sq).order_by("id"))
    data |= _management("links", len(saved) + len(links), len(saved))
    for i, link in enumerate(saved):
        data |= {
            f"links-{i}-id": str(link.pk),
            f"links-{i}-strategic_question": str(sq.pk),
            f"links-{i}-driver": str(link.driver_id),
            f"links-{i}-order": str(link.order),
            f"links-{i}-question": str(link.question_id),
            f"links-{i}-direction": str(link.direction),
            f"links-{i}-weight": str(link.weight),
            f"links-{i}-rationale": link.rationale,
            f"links-{i}-DELETE": "on",
        }
    for n, link in enumerate(links, start=len(saved)):
        data |= {f"links-{n}-strategic_question": str(sq.pk), f"links-{n}-order": "0", f"links-{n}-rationale": ""}
        data |= {f"links-{n}-{k}": str(v) for k, v in link.items()}
    return data


def _links(sq) -> list[tuple]:
    return [
        (link.driver.title, link.question_id, link.direction, link.weight)
        for link in IndicatorLink.objects.filter(strategic_question=sq)
        .select_related("driver")
        .order_by("driver__order", "order")
    ]


def test_the_add_page_creates_through_the_service(admin_client):
    data = {
        "slug": "from-admin",
        "title": "From the admin",
        "description": "",
        "pole_less": "Less",
        "pole_more": "More",
        "published_at_0": "2024-02-01",
        "published_at_1": "00:00:00",
        **_management("drivers", 2, 0),
        "drivers-0-title": "Security",
        "drivers-0-order": "2",
        "drivers-1-title": "Diplomacy",
        "drivers-1-order": "1",
    }
    resp = admin_client.post("/admin/strategy/strategicquestion/add/", data)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    sq = StrategicQuestion.objects.get(slug="from-admin")
    assert [(d.title, d.order) for d in sq.drivers.order_by("order")] == [("Diplomacy", 0), ("Security", 1)]
    assert sq.published_at == T0 + timedelta(days=31)


def test_the_change_page_replaces_the_links(admin_client, strategic, indicators):
    diplomacy = strategic.drivers.get(title="Diplomacy")
    security = strategic.drivers.get(title="Security")
    new = [
        {"driver": security.pk, "question": indicators["sanctions"].pk, "direction": -1, "weight": 2.5},
        {"driver": diplomacy.pk, "question": indicators["recognise"].pk, "direction": 1, "weight": 1},
    ]
    resp = admin_client.post(f"/admin/strategy/strategicquestion/{strategic.pk}/change/", _change_form(strategic, new))
    assert resp.status_code == 302, resp.content.decode()[:3000]
    assert _links(strategic) == [
        ("Diplomacy", indicators["recognise"].pk, 1, 1.0),
        ("Security", indicators["sanctions"].pk, -1, 2.5),
    ]


def test_the_change_page_refuses_what_the_api_refuses(admin_client, strategic, indicators):
    before = _links(strategic)
    unordered = question_create(
        type="multiple_choice", options=["A", "B"], title="Which one?", open_time=T0, close_time=T0 + timedelta(days=9)
    )
    diplomacy = strategic.drivers.get(title="Diplomacy")
    url = f"/admin/strategy/strategicquestion/{strategic.pk}/change/"
    # The service's rule (unordered multiple choice), shown on the form, nothing saved.
    new = [{"driver": diplomacy.pk, "question": unordered.pk, "direction": 1, "weight": 1}]
    resp = admin_client.post(url, _change_form(strategic, new))
    page = resp.content.decode()
    assert resp.status_code == 200 and "unordered multiple-choice question has no direction" in page
    assert "Driver “Diplomacy”, question" in page
    # The database's rule on weights, as a field error of the row.
    new = [{"driver": diplomacy.pk, "question": indicators["recognise"].pk, "direction": 1, "weight": 0}]
    resp = admin_client.post(url, _change_form(strategic, new))
    assert resp.status_code == 200 and "errorlist" in resp.content.decode()
    assert _links(strategic) == before


def test_the_list_and_the_recompute_action(admin_client, strategic):
    assert admin_client.get("/admin/strategy/strategicquestion/").status_code == 200
    assert admin_client.get(f"/admin/strategy/strategicquestion/{strategic.pk}/change/").status_code == 200
    resp = admin_client.post(
        "/admin/strategy/strategicquestion/",
        {"action": "recompute_selected", "_selected_action": [str(strategic.pk)]},
    )
    assert resp.status_code == 302
    strategic.refresh_from_db()
    assert strategic.computed_at is not None and strategic.points.exists()

"""The admin with numeric and date questions: the add form creates one with its range (a date
question's bounds typed as ISO instants), the change form shows the bounds as text and freezes
them with the other terms once the question has forecasts, and Resolve… takes a value, a date,
"below"/"above" or "annulled", naming the service's refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from forecasts.services import forecast_submit
from questions.models import Question, ResolutionEvent
from questions.selectors import value_json
from questions.services import question_create

pytestmark = pytest.mark.django_db


def form_fields(response) -> set[str]:
    """The editable fields of the admin page's question form (read-only ones are not form fields)."""
    assert response.status_code == 200, response.status_code
    return set(response.context["adminform"].form.fields)


def post_data(q: Question | None = None, **fields: str) -> dict[str, str]:
    """What the question form posts: the stored question's fields (none on the add page), the
    inlines' management forms, and `fields`."""
    data = {"scoring_mode": "", "title": "", "type": "binary", "unit": ""}
    n_options = n_events = 0
    if q is not None:
        data.update(title=q.title, type=q.type, scoring_mode=q.scoring_mode, unit=q.unit)
        for name in ("open_time", "close_time", "published_at"):
            value = getattr(q, name)
            if value is not None:
                data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        for column, name in (("range_lower", "lower"), ("range_upper", "upper")):
            data[name] = "" if getattr(q, column) is None else str(value_json(q, getattr(q, column)))
        for flag in ("open_lower", "open_upper"):
            if getattr(q, flag):
                data[flag] = "on"
        n_options, n_events = q.options.count(), q.resolution_events.count()
    for prefix, n in (("options", n_options), ("resolution_events", n_events)):
        data.update({f"{prefix}-TOTAL_FORMS": str(n), f"{prefix}-INITIAL_FORMS": str(n)})
    data.update(fields)
    return data


def _base(**extra: str) -> dict[str, str]:
    return post_data(open_time_0="2026-01-01", open_time_1="00:00:00", close_time_0="2030-01-01",
                     close_time_1="00:00:00", **extra)  # fmt: skip


def test_add_form_creates_a_numeric_question(admin_client):
    url = reverse("admin:questions_question_add")
    assert {"lower", "upper", "open_lower", "open_upper", "unit"} <= form_fields(admin_client.get(url))
    data = _base(title="Grain exports in March?", type="numeric", lower="0", upper="2.5e3", unit="kt", open_upper="on")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    q = Question.objects.get(title="Grain exports in March?")
    assert (q.type, q.range_lower, q.range_upper, q.open_lower, q.open_upper, q.unit) == (
        "numeric", 0.0, 2500.0, False, True, "kt",
    )  # fmt: skip
    assert q.options.count() == 0


def test_add_form_creates_a_date_question_from_iso_bounds(admin_client):
    url = reverse("admin:questions_question_add")
    data = _base(title="When will the embassy reopen?", type="date", lower="2026-01-01", upper="2027-06-30T12:00:00Z")
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    q = Question.objects.get(title="When will the embassy reopen?")
    assert q.range_lower == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert q.range_upper == datetime(2027, 6, 30, 12, tzinfo=UTC).timestamp()
    # the change form shows the bounds as instants, not seconds
    form = admin_client.get(reverse("admin:questions_question_change", args=[q.pk])).context["adminform"].form
    assert (form.initial["lower"], form.initial["upper"]) == ("2026-01-01T00:00:00Z", "2027-06-30T12:00:00Z")


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ({"type": "numeric", "lower": "ten", "upper": "20"}, "must be a number"),
        ({"type": "date", "lower": "soon", "upper": "2027-01-01"}, "must be an ISO 8601 date-time"),
        ({"type": "numeric", "lower": "30", "upper": "20"}, "must be greater than the lower bound"),
        ({"type": "numeric", "upper": "20"}, "is required for a numeric or date question"),
        ({"type": "binary", "lower": "1", "upper": "2"}, "only numeric and date questions have a range"),
    ],
)
def test_add_form_shows_range_refusals(admin_client, extra, shown):
    url = reverse("admin:questions_question_add")
    response = admin_client.post(url, _base(title="A refused range", **extra))
    assert response.status_code == 200
    assert shown in response.content.decode()
    assert not Question.objects.filter(title="A refused range").exists()


def test_range_is_frozen_once_the_question_has_forecasts(admin_client, forecaster):
    q = question_create(
        type="numeric",
        title="Refugees registered by June?",
        open_time=datetime(2026, 1, 1, tzinfo=UTC),
        close_time=datetime.now(UTC) + timedelta(days=300),
        range_lower=0.0,
        range_upper=1e6,
    )
    url = reverse("admin:questions_question_change", args=[q.pk])
    assert admin_client.post(url, post_data(q, upper="2000000", unit="people")).status_code == 302
    q.refresh_from_db()
    assert (q.range_upper, q.unit) == (2e6, "people")

    forecast_submit(user=forecaster, question=q, payload={"components": [{"centre": 5e5, "scale": 1e5}]})
    response = admin_client.get(url)
    fields = form_fields(response)
    assert not {"lower", "upper", "open_lower", "open_upper", "type"} & fields  # read-only now
    assert "unit" in fields  # wording stays editable
    assert "2000000" in response.content.decode()  # the frozen bound is shown as text
    data = {k: v for k, v in post_data(q, unit="persons").items() if k not in ("lower", "upper", "type")}
    assert admin_client.post(url, data).status_code == 302
    crafted = post_data(q, upper="3000000")  # a page loaded before the first forecast
    response = admin_client.post(url, crafted)
    assert response.status_code == 200
    assert "upper: cannot change once the question has forecasts" in response.content.decode()
    q.refresh_from_db()
    assert q.range_upper == 2e6 and q.unit == "persons"


def _resolve(admin_client, q, resolution: str):
    url = reverse("admin:questions_question_resolve", args=[q.pk])
    return admin_client.post(url, {"resolution": resolution, "known_at": "", "note": ""})


def test_resolve_page_takes_a_value_below_above_and_annulled(admin_client):
    q = question_create(
        type="numeric",
        title="Grain exports in March?",
        open_time=datetime(2026, 1, 1, tzinfo=UTC),
        close_time=datetime(2026, 3, 1, tzinfo=UTC),
        range_lower=0.0,
        range_upper=200.0,
        open_upper=True,
        unit="kt",
    )
    page = admin_client.get(reverse("admin:questions_question_resolve", args=[q.pk])).content.decode()
    assert "0 kt (closed) .. 200 kt (open: the outcome may be above)" in page
    response = _resolve(admin_client, q, "42.5")
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.resolved_value == 42.5
    follow = admin_client.get(response["Location"]).content.decode()
    assert "Resolved as 42.5 kt" in follow

    response = _resolve(admin_client, q, "below")  # the lower bound is closed
    assert response.status_code == 200
    assert "resolution: the lower bound is closed" in response.content.decode()
    response = _resolve(admin_client, q, "lots")
    assert response.status_code == 200 and "must be a number" in response.content.decode()

    assert _resolve(admin_client, q, "above").status_code == 302
    q.refresh_from_db()
    assert q.resolved_outside == "above"
    assert _resolve(admin_client, q, "annulled").status_code == 302
    q.refresh_from_db()
    assert q.state == "annulled"
    assert [e.to_outcome for e in ResolutionEvent.objects.filter(question=q).order_by("version")] == [
        "42.5 kt",
        "above 200 kt",
        "",
    ]


def test_resolve_page_takes_a_date(admin_client):
    q = question_create(
        type="date",
        title="When will the embassy reopen?",
        open_time=datetime(2026, 1, 1, tzinfo=UTC),
        close_time=datetime(2026, 3, 1, tzinfo=UTC),
        range_lower=datetime(2026, 1, 1, tzinfo=UTC),
        range_upper=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert _resolve(admin_client, q, "2026-02-03T04:05:06Z").status_code == 302
    q.refresh_from_db()
    assert q.resolved_value == datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC).timestamp()
    response = _resolve(admin_client, q, "2028-01-01")
    assert response.status_code == 200 and "closed upper bound" in response.content.decode()

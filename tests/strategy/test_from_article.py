"""An ingested article's strategic proposal, reviewed by staff: approving candidates and running
the admin action creates the strategic question with links to the approved ones (issue 12)."""

from __future__ import annotations

import pytest

from config.exceptions import DomainError
from questions.articles import article_ingest, candidate_approve
from strategy.models import StrategicQuestion
from strategy.services import strategic_question_from_article
from tests.questions.extraction.test_strategic import THINK_TANK_BRIEF

pytestmark = pytest.mark.django_db


@pytest.fixture
def brief(staff):
    article, _ = article_ingest(data=THINK_TANK_BRIEF.encode(), filename="brief.md", by=staff)
    proposal = article.strategic_proposal
    assert proposal and proposal["drivers"], "the brief states a central question with indicators"
    indices = [i["candidate"] for d in proposal["drivers"] for i in d["indicators"]]
    candidates = {c.rank - 1: c for c in article.candidates.all()}
    return article, [candidates[i] for i in indices]


def _links(sq: StrategicQuestion) -> dict[int, tuple[int, float]]:
    return {link.question_id: (link.direction, link.weight) for link in sq.links.all()}


def test_ingestion_stores_the_proposal_and_approval_creates_the_links(brief, staff):
    article, proposed = brief
    q1 = candidate_approve(candidate=proposed[0], by=staff)
    sq, added = strategic_question_from_article(article=article)
    assert added == 1 and _links(sq).keys() == {q1.pk}
    assert sq.title == article.strategic_proposal["title"] and sq.published_at is None and sq.article == article
    direction = next(
        i["direction"] for d in article.strategic_proposal["drivers"] for i in d["indicators"]
        if i["candidate"] == proposed[0].rank - 1
    )  # fmt: skip
    assert _links(sq)[q1.pk][0] == direction


def test_running_it_again_adds_newly_approved_links_and_keeps_staff_edits(brief, staff):
    article, proposed = brief
    if len(proposed) < 2:
        pytest.skip("the brief's proposal has a single indicator")
    q1 = candidate_approve(candidate=proposed[0], by=staff)
    sq, _ = strategic_question_from_article(article=article)
    sq.links.filter(question=q1).update(weight=7.5)  # staff changed the weight in the admin
    q2 = candidate_approve(candidate=proposed[1], by=staff)
    sq2, added = strategic_question_from_article(article=article)
    assert sq2.pk == sq.pk and added == 1
    assert _links(sq2)[q1.pk][1] == 7.5 and q2.pk in _links(sq2)
    assert strategic_question_from_article(article=article)[1] == 0, "a third run adds nothing"
    assert StrategicQuestion.objects.filter(article=article).count() == 1


def test_an_article_without_a_thesis_has_no_proposal_and_is_refused(staff):
    text = "# Notes\n\nWhether Russia formally recognises the Taliban government by the end of 2025 is open.\n"
    article, _ = article_ingest(data=text.encode(), filename="notes.md", by=staff)
    assert article.strategic_proposal is None
    with pytest.raises(DomainError) as e:
        strategic_question_from_article(article=article)
    assert e.value.field == "article"


def test_the_admin_lists_the_proposal_and_its_action_makes_the_question(brief, staff, client):
    article, proposed = brief
    candidate_approve(candidate=proposed[0], by=staff)
    staff.is_superuser = True  # the admin's model permissions
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    listing = client.get("/admin/strategy/articleproposal/")
    assert listing.status_code == 200 and article.strategic_proposal["title"] in listing.content.decode()
    page = client.get(f"/admin/strategy/articleproposal/{article.pk}/change/")
    assert page.status_code == 200 and article.strategic_proposal["pole_more"] in page.content.decode()
    r = client.post(
        "/admin/strategy/articleproposal/",
        {"action": "make_strategic_question", "_selected_action": [article.pk]},
        follow=True,
    )
    assert r.status_code == 200 and "new indicator link" in r.content.decode()
    sq = StrategicQuestion.objects.get(article=article)
    assert sq.links.count() == 1

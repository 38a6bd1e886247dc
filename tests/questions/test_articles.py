"""Articles: the commands, ingestion, review over the API, and provenance.

The commands run in this process through call_command; a refusal (exit 2 and one line on stderr)
is config.cli.fail's SystemExit(2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from questions.models import Article, Candidate, Question

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ROOT / "tests" / "questions" / "extraction" / "texts"
BRIEF = TEXTS / "think_tank_brief.md"


@pytest.fixture
def manage(capsys):
    """manage(*args) -> (exit code, stdout, stderr) of `manage.py <args>`, run in this process."""

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            call_command(*args)
            code = 0
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_extract_questions_json_follows_the_contract(manage):
    code, stdout, stderr = manage("extract_questions", str(BRIEF), "--json")
    assert code == 0, stderr
    cands = json.loads(stdout)
    assert cands, "the brief has a watch list"
    text = BRIEF.read_text(encoding="utf-8")
    for c in cands:
        assert set(c) == {"start", "end", "passage", "section", "kind", "score", "draft", "lint"}
        assert set(c["draft"]) == {"title", "type", "options", "resolution_criteria", "close_time"}
        assert text[c["start"] : c["end"]] == c["passage"]
    assert [c["score"] for c in cands] == sorted((c["score"] for c in cands), reverse=True)


def test_extract_questions_prints_a_table_without_json(manage):
    code, stdout, _ = manage("extract_questions", str(BRIEF))
    assert code == 0 and "Will" in stdout
    titles = [c["draft"]["title"] for c in json.loads(manage("extract_questions", str(BRIEF), "--json")[1])]
    assert titles and all(t in stdout for t in titles), "every candidate is in the table"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload, words",
    [
        (b"", "empty"),
        (b"   \n\t  ", "empty"),
        (b"\xff\xfe\xfa not utf-8 \xc3\x28", "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", "binary"),
    ],
)
@pytest.mark.parametrize("command", ["extract_questions", "ingest_article"])
def test_bad_input_exits_2_with_one_line(manage, tmp_path, payload, words, command):
    f = tmp_path / "bad.txt"
    f.write_bytes(payload)
    code, stdout, stderr = manage(command, str(f))
    assert code == 2, (stdout, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and words.lower() in lines[0].lower(), lines
    assert stdout == "" and not Article.objects.exists()


@pytest.mark.parametrize("command", ["extract_questions", "ingest_article"])
def test_missing_file_exits_2(manage, command):
    code, stdout, stderr = manage(command, "/no/such/article.txt")
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "/no/such/article.txt" in lines[0], lines


@pytest.mark.django_db
def test_ingest_article_stores_the_article_once(manage):
    code, stdout, stderr = manage("ingest_article", str(BRIEF), "--title", "A brief")
    assert code == 0, stderr
    article = Article.objects.get()
    assert article.title == "A brief" and article.candidates.exists()
    assert f"Article {article.pk} stored" in stdout
    code, stdout, _ = manage("ingest_article", str(BRIEF))
    assert code == 0 and f"Article {article.pk} already stored" in stdout
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_ingest_is_idempotent_on_the_article_bytes(staff):
    from questions.articles import article_ingest

    data = BRIEF.read_bytes()
    article, created = article_ingest(data=data, filename="brief.md", by=staff)
    again, created_again = article_ingest(data=data, filename="brief.md", by=staff)
    assert created and not created_again and again.pk == article.pk
    assert Article.objects.count() == 1
    assert article.candidates.count() > 0
    for c in article.candidates.all():
        assert article.text[c.start : c.end] == c.passage


@pytest.mark.django_db
def test_upload_review_and_approve_over_the_api(client_for, staff, forecaster):
    c = client_for(staff)
    resp = c.post("/api/v1/articles/", {"text": BRIEF.read_text(encoding="utf-8"), "title": "A brief"}, format="json")
    assert resp.status_code == 201, resp.content
    article_id = resp.json()["id"]
    cands = c.get(f"/api/v1/articles/{article_id}/candidates/").json()
    assert cands and cands[0]["rank"] == 1
    first = cands[0]
    assert first["passage"] and "context_before" in first and "context_after" in first

    edited = {"title": "Will the edited question resolve yes by 2030?", "close_time": "2030-01-01T00:00:00Z"}
    resp = c.post(f"/api/v1/candidates/{first['id']}/approve/", edited, format="json")
    assert resp.status_code == 201, resp.content
    q = resp.json()
    assert q["title"] == edited["title"]
    assert q["source"]["article"] == article_id
    assert (q["source"]["start"], q["source"]["end"], q["source"]["passage"]) == (
        first["start"],
        first["end"],
        first["passage"],
    )
    # Approving twice is refused; the question stays single.
    again = c.post(f"/api/v1/candidates/{first['id']}/approve/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_approved"
    assert Question.objects.count() == 1
    assert Candidate.objects.get(pk=first["id"]).status == "approved"

    # Rejecting another; a rejected one cannot be approved.
    second = cands[1]
    assert c.post(f"/api/v1/candidates/{second['id']}/reject/").json()["status"] == "rejected"
    assert c.post(f"/api/v1/candidates/{second['id']}/approve/", {}, format="json").status_code == 409

    # The article view lists its published questions, for anyone.
    body = client_for(None).get(f"/api/v1/articles/{article_id}/").json()
    assert [x["id"] for x in body["questions"]] == [q["id"]]
    # Forecasters cannot upload or review.
    f = client_for(forecaster)
    assert f.post("/api/v1/articles/", {"text": "Will it?"}, format="json").status_code == 403
    assert f.get(f"/api/v1/articles/{article_id}/candidates/").status_code == 403
    assert f.post(f"/api/v1/candidates/{second['id']}/approve/", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_upload_refuses_unreadable_text_naming_the_field(client_for, staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client_for(staff)
    resp = c.post(
        "/api/v1/articles/", {"file": SimpleUploadedFile("x.txt", b"\xff\xfe\x00\x00bin")}, format="multipart"
    )
    assert resp.status_code == 400 and "text" in resp.json()["error"]["fields"]
    assert c.post("/api/v1/articles/", {}, format="json").status_code == 400
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_approve_with_bad_edits_names_the_field_and_writes_nothing(client_for, staff):
    from questions.articles import article_ingest

    article, _ = article_ingest(data=BRIEF.read_bytes(), by=staff)
    cand = article.candidates.first()
    resp = client_for(staff).post(
        f"/api/v1/candidates/{cand.pk}/approve/",
        {"open_time": "2031-01-01T00:00:00Z", "close_time": "2030-01-01T00:00:00Z"},
        format="json",
    )
    assert resp.status_code == 400 and "close_time" in resp.json()["error"]["fields"]
    cand.refresh_from_db()
    assert cand.status == "new" and not Question.objects.exists()

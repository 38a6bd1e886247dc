"""The command-line contracts: score_json and the demo.

score_json runs in this process through call_command (what it prints, and its refusals: exit 2
and one line on stderr, raised as SystemExit(2) by config.cli.fail); one test runs it as a real
process, for the exit status and streams a shell sees. The demo runs as `make demo` runs it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]

DOC = {
    "question": {
        "type": "binary",
        "open_time": "2024-01-01T00:00:00Z",
        "close_time": "2024-01-11T00:00:00Z",
        "resolution": "yes",
        "scoring_mode": "continuous",
    },
    "forecasts": [
        {"user": "ana", "time": "2023-12-20T00:00:00Z", "probability": 0.7},
        {"user": "ben", "time": "2024-01-06T00:00:00Z", "probability": 0.4},
        {"user": "ben", "time": "2024-01-09T00:00:00Z", "withdraw": True},
    ],
}


def _run(*args: str, stdin: str | None = None, env: dict | None = None, timeout: int = 120):
    """`manage.py <args>` as a separate process."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture
def score_json(capsys, monkeypatch):
    """score_json(doc or None, *args) -> (exit code, stdout, stderr) of `manage.py score_json`
    run in this process, with `doc` (JSON text) on standard input and "-" as the file by default."""

    def run(stdin: str | None, *args: str) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
        capsys.readouterr()
        try:
            call_command("score_json", *(args or ("-",)))
            code = 0
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_score_json_prints_the_contract_shape_with_hand_computed_values(score_json):
    code, stdout, stderr = score_json(json.dumps(DOC))
    assert code == 0, stderr
    out = json.loads(stdout)
    assert out["scale"] == "brier_0_2"
    ana, ben = out["users"]["ana"], out["users"]["ben"]
    keys = {"brier_final", "brier_mean", "relative_brier", "participation", "baseline", "peer", "coverage"}
    assert set(ana) == keys and set(out["crowd"]["median"]) == keys
    assert ana["brier_final"] == pytest.approx(0.18) and ana["participation"] == pytest.approx(1.0)
    assert (
        ben["brier_final"] is None
        and ben["brier_mean"] == pytest.approx(0.72)
        and ben["participation"] == pytest.approx(0.3)
    )
    # Both active for 3 of 10 days; crowd-median Brier then (0.18 + 0.72) / 2.
    assert ana["relative_brier"] == pytest.approx((0.18 - 0.45) * 0.3)
    # Baseline for a 70% standing over the whole window: 100 * log2(1.4).
    assert ana["baseline"] == pytest.approx(48.542682717024164)


def test_score_json_reads_a_file_and_prints_annulled(score_json, tmp_path):
    doc = json.loads(json.dumps(DOC))
    doc["question"]["resolution"] = "annulled"
    f = tmp_path / "annulled.json"
    f.write_text(json.dumps(doc))
    code, stdout, stderr = score_json(None, str(f))
    assert code == 0 and json.loads(stdout) == {"annulled": True, "users": {}}, stderr


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["forecasts"][0].update(probability=1.0), "forecasts[0].probability"),
        (lambda d: d["forecasts"][0].update(probability="0.5"), "forecasts[0].probability"),
        (lambda d: d["question"].update(type="scalar"), "question.type"),
        (lambda d: d["question"].update(resolution="maybe"), "question.resolution"),
        (lambda d: d["question"].update(close_time="2023-01-01T00:00:00Z"), "question.close_time"),
        (
            lambda d: d["forecasts"].append({"user": "cy", "time": "2024-01-12T00:00:00Z", "probability": 0.5}),
            "forecasts[3]",
        ),
    ],
)
def test_score_json_refuses_bad_input_with_exit_2_and_one_line_naming_the_field(score_json, mutate, field):
    doc = json.loads(json.dumps(DOC))
    mutate(doc)
    code, stdout, stderr = score_json(json.dumps(doc))
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(field), lines


def test_score_json_refuses_what_is_not_json(score_json, tmp_path):
    f = tmp_path / "x.json"
    f.write_text("{not json")
    code, stdout, stderr = score_json(None, str(f))
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "not valid JSON" in lines[0], lines


def test_score_json_as_a_real_process_exits_2_with_one_line_on_stderr_and_nothing_on_stdout():
    # A subprocess on purpose: the exit status and the streams of the real process are the
    # contract here (no traceback, nothing on stdout), which call_command cannot show.
    doc = json.loads(json.dumps(DOC))
    doc["forecasts"][0]["probability"] = 1.0
    r = _run("score_json", "-", stdin=json.dumps(doc))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forecasts[0].probability"), r.stderr
    ok = _run("score_json", "-", stdin=json.dumps(DOC))
    assert ok.returncode == 0 and ok.stderr == "" and json.loads(ok.stdout)["scale"] == "brier_0_2"


@pytest.mark.slow
def test_demo_without_serving_prints_the_leaderboard_and_the_indicator_summary(tmp_path):
    # Subprocesses on purpose: `make demo` is the embedded demo (SQLite, no Redis, tasks run
    # in-process, manage.py's default settings), a configuration this test process cannot switch to.
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert _run("migrate", "--noinput", "-v", "0", env=env).returncode == 0
    r = _run("demo", "--no-serve", env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "Series leaderboard" in out and "Crowd (median, benchmark)" in out
    assert "What the crowd said, and what happened" in out
    assert "Indicator 3: Joint Russia-China recognition of the Taliban" in out
    assert out.count("outcome: YES") + out.count("outcome: NO") == 18
    # The seed article's strategic question, linked after the replay: its composite on the axis
    # between the poles, its path over the years, and the indicators that moved it since 2024.
    import re

    assert "Linked 12 questions under 5 drivers to the strategic question" in out
    report = out.split("Strategic question: Will Sino-Russian coordination in Afghanistan deepen?", 1)[1]
    axis = re.search(r"Less coordination  \[([-|*]{41})\]  More coordination", report)
    composite = re.search(r"Composite now: ([+-]\d\.\d\d), towards 'Less coordination'", report)
    assert axis and composite, report[:800]
    assert axis.group(1).index("*") == round((float(composite.group(1)) + 1) / 2 * 40)
    assert re.search(r"Over time: 20\d\d-\d\d-\d\d [+-]\d\.\d\d;.*2024-01-01 [+-]\d\.\d\d;", report)
    moved = report.split("What moved it most since 2024-01-01", 1)[1].splitlines()[1:7]
    assert len(moved) == 6 and all(re.match(r"\s+[+-]\d\.\d{3}  Will ", line) for line in moved), moved
    assert "Will Moscow and Beijing recognise the Taliban government together" in "\n".join(moved)
    again = _run("demo", "--no-serve", env=env, timeout=300)  # a second run loads nothing new
    assert again.returncode == 0 and "already loaded" in again.stdout
    assert again.stdout.split("Series leaderboard")[1] == out.split("Series leaderboard")[1]

"""The command-line contracts: score_json and the demo, run as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_score_json_prints_the_contract_shape_with_hand_computed_values():
    r = _run("score_json", "-", stdin=json.dumps(DOC))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
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


def test_score_json_reads_a_file_and_prints_annulled():
    doc = json.loads(json.dumps(DOC))
    doc["question"]["resolution"] = "annulled"
    r = _run("score_json", "-", stdin=json.dumps(doc))
    assert r.returncode == 0 and json.loads(r.stdout) == {"annulled": True, "users": {}}


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["forecasts"][0].update(probability=1.0), "forecasts[0].probability"),
        (lambda d: d["forecasts"][0].update(probability="0.5"), "forecasts[0].probability"),
        (lambda d: d["question"].update(type="numeric"), "question.type"),
        (lambda d: d["question"].update(resolution="maybe"), "question.resolution"),
        (lambda d: d["question"].update(close_time="2023-01-01T00:00:00Z"), "question.close_time"),
        (
            lambda d: d["forecasts"].append({"user": "cy", "time": "2024-01-12T00:00:00Z", "probability": 0.5}),
            "forecasts[3]",
        ),
    ],
)
def test_score_json_refuses_bad_input_with_exit_2_and_one_line_naming_the_field(mutate, field):
    doc = json.loads(json.dumps(DOC))
    mutate(doc)
    r = _run("score_json", "-", stdin=json.dumps(doc))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(field), lines


def test_score_json_refuses_what_is_not_json(tmp_path):
    f = tmp_path / "x.json"
    f.write_text("{not json")
    r = _run("score_json", str(f))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_demo_without_serving_prints_the_leaderboard_and_the_indicator_summary(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert _run("migrate", "--noinput", "-v", "0", env=env).returncode == 0
    r = _run("demo", "--no-serve", env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "Series leaderboard" in out and "Crowd (median, benchmark)" in out
    assert "What the crowd said, and what happened" in out
    assert "Indicator 3: Joint Russia-China recognition of the Taliban" in out
    assert out.count("outcome: YES") + out.count("outcome: NO") == 18
    again = _run("demo", "--no-serve", env=env, timeout=300)  # a second run loads nothing new
    assert again.returncode == 0 and "already loaded" in again.stdout
    assert again.stdout.split("Series leaderboard")[1] == out.split("Series leaderboard")[1]

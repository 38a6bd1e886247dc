"""`manage.py score_json` on numeric and date questions (contracts.md "Numeric and date
questions"): the JSON it prints, and its refusals (exit 2, one line naming the field)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.forecast_math.test_jsonio_continuous import KEYS, UNIFORM, date_doc, numeric_doc

ROOT = Path(__file__).resolve().parents[2]


def run_score_json(doc: dict, tmp_path: Path) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `manage.py score_json FILE`, run in this process."""
    path = tmp_path / "question.json"
    path.write_text(json.dumps(doc))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            call_command("score_json", str(path), stdout=out)
            code = 0
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def score_json(tmp_path):
    return lambda doc: run_score_json(doc, tmp_path)


def test_numeric_question_prints_crps_and_log_scores(score_json):
    code, stdout, stderr = score_json(numeric_doc())
    assert code == 0, stderr
    out = json.loads(stdout)
    assert out["accuracy"] == "crps_range_units"
    ana = out["users"]["ana"]
    assert set(ana) == KEYS and set(out["crowd"]) == {"median", "recency_weighted_median", "mean"}
    # the contract's example: uniform forecast, outcome at 42% of the range
    assert ana["crps"] == pytest.approx(0.08973, abs=5e-6) and ana["crps_final"] == pytest.approx(0.08973, abs=5e-6)
    assert ana["baseline"] == pytest.approx(0.0, abs=1e-9) and ana["coverage"] == 1.0
    assert out["crowd"]["median"]["coverage"] == 1.0


def test_date_question_resolved_above_the_open_bound(score_json):
    doc = date_doc()
    doc["question"]["resolution"] = "above"
    code, stdout, stderr = score_json(doc)
    assert code == 0, stderr
    users = json.loads(stdout)["users"]
    above = 1 - doc["forecasts"][1]["cdf"][200]
    # ben stands from 1 July to the close, 153 of the 183 scheduled days: ln(above / 0.05) / 2
    assert users["ben"]["baseline"] == pytest.approx(153 / 183 * 50 * math.log(above / 0.05), rel=1e-9)
    assert users["ana"]["crps_final"] is None  # withdrawn


def _resolve(value):
    return lambda d: d["question"].update(resolution=value)


@pytest.mark.parametrize(
    "doc, mutate, field",
    [
        (numeric_doc, _resolve(101), "question.resolution"),
        (numeric_doc, _resolve("above"), "question.resolution"),
        (numeric_doc, lambda d: d["question"].update(upper=0), "question.upper"),
        (numeric_doc, lambda d: d["forecasts"][0].update(cdf=UNIFORM[:200]), "forecasts[0].cdf"),
        (numeric_doc, lambda d: d["forecasts"][0].update(cdf=[0.0] * 201), "forecasts[0].cdf[1]"),
        (numeric_doc, lambda d: d["forecasts"][0].update(probability=0.4), "forecasts[0].probability"),
        (date_doc, lambda d: d["question"].update(lower="01/01/2025"), "question.lower"),
        (date_doc, _resolve("2024-12-31T00:00:00Z"), "question.resolution"),  # before the closed lower bound
        (date_doc, lambda d: d["question"].update(open_upper=False, resolution="above"), "question.resolution"),
        (date_doc, lambda d: d["question"].update(open_upper=False), "forecasts[0].cdf[200]"),
    ],
)
def test_refusals_exit_2_with_one_line_naming_the_field(score_json, doc, mutate, field):
    d = doc()
    mutate(d)
    code, stdout, stderr = score_json(d)
    assert code == 2 and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(field + ": "), lines


def test_as_a_real_process():
    # The exit status and the streams of a real process are the contract here.
    d = numeric_doc()
    d["forecasts"][0]["cdf"] = UNIFORM[::-1]
    r = subprocess.run(
        [sys.executable, "manage.py", "score_json", "-"],
        cwd=ROOT, input=json.dumps(d), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert r.stderr.startswith("forecasts[0].cdf[1]: ")

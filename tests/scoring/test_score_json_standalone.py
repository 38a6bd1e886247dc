"""`python manage.py score_json` runs without django.setup() (manage.py STANDALONE_COMMANDS, issue
11): it loads no app, and prints exactly what the command prints through call_command."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.forecast_math.test_jsonio import binary_doc, mc_doc
from tests.forecast_math.test_jsonio_continuous import date_doc, numeric_doc

ROOT = Path(__file__).resolve().parents[2]

#: Runs manage.py as `python manage.py score_json FILE` does, then reports on standard error
#: whether Django's apps were loaded and which heavy modules were imported.
PROBE = """
import runpy, sys
sys.argv = ["manage.py", "score_json", sys.argv[1]]
runpy.run_path("manage.py", run_name="__main__")
from django.apps import apps
heavy = sorted(m for m in ("rest_framework", "drf_spectacular", "django.contrib.admin", "questions.models",
                           "scoring.models", "psycopg") if m in sys.modules)
sys.stderr.write(repr((apps.ready, heavy)))
"""


def in_process(path: Path) -> str:
    out = io.StringIO()
    call_command("score_json", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("make_doc", [binary_doc, mc_doc, numeric_doc, date_doc])
def test_the_process_prints_what_call_command_prints(make_doc, tmp_path):
    path = tmp_path / "question.json"
    path.write_text(json.dumps(make_doc()))
    r = subprocess.run(
        [sys.executable, "manage.py", "score_json", str(path)], cwd=ROOT, capture_output=True, timeout=120
    )
    assert r.returncode == 0 and r.stderr == b"", r.stderr
    assert r.stdout.decode() == in_process(path)
    assert set(json.loads(r.stdout)) >= {"users", "crowd"}


def test_the_process_loads_no_app(tmp_path):
    path = tmp_path / "question.json"
    path.write_text(json.dumps(binary_doc()))
    r = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr == repr((False, [])), r.stderr
    assert json.loads(r.stdout)["scale"] == "brier_0_2"


def test_the_process_refuses_bad_input_with_exit_2_and_one_line(tmp_path):
    path = tmp_path / "question.json"
    doc = binary_doc()
    doc["forecasts"][1]["time"] = "2024-01-01T00:00:10"  # no timezone
    path.write_text(json.dumps(doc))
    r = subprocess.run(
        [sys.executable, "manage.py", "score_json", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == "forecasts[1].time: must be an ISO-8601 time with a timezone\n"
    missing = subprocess.run(
        [sys.executable, "manage.py", "score_json", str(tmp_path / "absent.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2 and missing.stdout == "" and missing.stderr.count("\n") == 1

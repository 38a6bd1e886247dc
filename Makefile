# Signpost: `make demo` (embedded SQLite, no services) and `make test` (PostgreSQL + Redis).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.13 || command -v python3.12 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
LOCK_HASH := $(shell sha256sum requirements.lock | cut -c1-12)
STAMP := $(VENV)/.installed-$(LOCK_HASH)

TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/signpost)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)

.PHONY: help install demo test lint serve worker beat bench browser clean

help:
	@echo "make demo        load the seed article's questions, replay a crowd, score, serve on :8000 (NO_SERVE=1 to skip serving)"
	@echo "make test        the whole test suite against PostgreSQL and Redis, with a real Celery worker"
	@echo "make serve       gunicorn on :8000 with the environment's DATABASE_URL/REDIS_URL"
	@echo "make worker      a Celery worker (needs REDIS_URL)"
	@echo "make bench       every benchmark; writes benchmarks/results.json"
	@echo "make lint        ruff"

$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

# The browser tests drive Debian's chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

demo: install
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py demo $(if $(NO_SERVE),--no-serve,)

test: install browser
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  CELERY_QUEUE=signpost-test-$$$$ CACHE_PREFIX=signpost-test-$$$$ $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

serve: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(VENV)/bin/gunicorn -c python:config.gunicorn config.wsgi:application --bind 127.0.0.1:8000 --access-logfile -

worker: install
	$(VENV)/bin/celery -A config worker --loglevel INFO --concurrency 2

beat: install
	$(VENV)/bin/celery -A config beat --loglevel INFO

# bench_submit's load generator is wrk when it is installed (a C program in a process of its own);
# without it, the benchmark's own client threads.
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk for the submission benchmark"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	  || echo "warning: could not install wrk; bench_submit will use its own client threads"; }
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache

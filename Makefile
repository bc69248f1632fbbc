# Fulfillment Desk. The two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test install install-dev messages lint format check-deploy bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make messages: compile the translation catalogues (locale/*/LC_MESSAGES/django.po → .mo)
messages: install
	$(PY) scripts/messages.py compile

## make run: install, migrate, load demo data, start web + worker + beat (embedded default)
run: install messages
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	@# the embedded broker's folders, so the demo's staff notices queue for the worker
	mkdir -p "$${FD_DATA_DIR:-var}/broker/queue" "$${FD_DATA_DIR:-var}/broker/processed"
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo_inquiries
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo_escalations
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo_scheduled
	DJANGO_DEBUG=1 $(PY) manage.py seed_demo_help
	DJANGO_DEBUG=1 $(PY) scripts/run_local.py

## make test: install test tools and run the whole suite (lint, migrations, deploy check, pytest)
test: install-dev messages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=1 $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(MAKE) --no-print-directory check-deploy
	$(PY) -m pytest $(PYTEST_ARGS)

check-deploy: install
	DJANGO_SECRET_KEY=check-deploy-$$(date +%s)-not-a-real-secret-but-long-enough-for-the-check \
	DJANGO_ALLOWED_HOSTS=desk.example.com $(PY) manage.py check --deploy --fail-level WARNING

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: generate N orders on Postgres and measure the list and order pages (see bench/README.md)
bench: install-dev
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache

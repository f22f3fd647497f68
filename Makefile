# Selfkind: two commands for a fresh machine.
#   make run   set up, migrate, seed the demo data and serve at http://127.0.0.1:8000 (SQLite),
#              with the task consumer beside the web server; make run PORT=8080 HOST=0.0.0.0
#              serves elsewhere (README, "Two commands")
#   make test  set up and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install run test lint format check-deploy bench clean

$(STAMP): pyproject.toml
	@command -v "$(PYTHON)" >/dev/null 2>&1 || { echo "Selfkind needs Python 3.11, and there is no Python at '$(PYTHON)': install Python 3.11 and run make again with PYTHON=/path/to/python3.11." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Selfkind needs Python 3.11, but $(PYTHON) is Python " + sys.version.split()[0] + ": install Python 3.11 and run make again with PYTHON=/path/to/python3.11.")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing Selfkind's dependencies into $(VENV) (about a minute on a fresh machine)..."
	$(BIN)/python -m pip install --progress-bar on ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Selfkind is running at http://$(HOST):$(PORT) with its task consumer (Ctrl+C stops both)"
	@echo "Demo logins, password selfkind-demo: casey (clinic admin), alex and blair (clinicians),"
	@echo "jules (clinic admin) and drew (clinician) at another clinic, sam (client portal)"
	@echo "Emails are not sent in development: each one is written to a file in var/mail/"
	$(BIN)/python manage.py serve $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-deploy: install
	SELFKIND_ENV=production DJANGO_ALLOWED_HOSTS=selfkind.example.org \
	REDIS_URL=redis://127.0.0.1:6379/0 \
	EMAIL_HOST=smtp.example.org DEFAULT_FROM_EMAIL=selfkind@example.org \
	DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))') \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Selfkind: two commands for a fresh machine.
#   make run   set up, migrate, seed the demo data and serve at http://127.0.0.1:8000 (SQLite),
#              with the task consumer beside the web server
#   make test  set up and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

.PHONY: install run test lint format check-deploy bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Selfkind needs Python 3.11, found " + sys.version'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Selfkind is running at http://127.0.0.1:8000 with its task consumer (Ctrl+C stops both)"
	@echo "Demo logins, password selfkind-demo: casey (clinic admin), alex and blair (clinicians),"
	@echo "drew (clinician at another clinic), sam (client portal)"
	@echo "Emails are not sent in development: each one is written to a file in var/mail/"
	$(BIN)/python manage.py serve 127.0.0.1:8000

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

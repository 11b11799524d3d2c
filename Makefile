# Switchboard: every command a person needs. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt functions/*/requirements.txt | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv test test-unit lint format constraints

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP) ## create .venv and install everything (idempotent)

test: venv ## the whole suite: unit tests and emulator tests (emulators are started by the tests)
	$(PY) -m pytest

test-unit: venv ## only the fast offline tests
	$(PY) -m pytest -m "not emulator"

lint: venv ## ruff check and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv ## apply ruff fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

constraints: ## re-pin constraints.txt to what .venv has now
	@(echo "# Exact versions the suite was last run with (pip freeze). Regenerate: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable | grep -v '^pip==') > constraints.txt

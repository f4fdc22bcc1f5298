# Two commands on a fresh machine: `make run` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run chat test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev,st]'
	touch $(STAMP)

## Set up, load the demo shop, the policy knowledge base and the demo staff accounts (first run
## only), then serve the product on http://127.0.0.1:8000 (/demo, /console, /admin, /docs).
run: $(STAMP)
	@if [ ! -f "$${HELLOWORD_DATA_DIR:-data}/helloword.db" ] || [ -n "$$DEMO_RESET" ]; then $(BIN)/helloword demo-data; fi
	$(BIN)/helloword kb ingest
	$(BIN)/helloword status
	$(BIN)/helloword policy check
	$(BIN)/helloword users demo
	$(BIN)/helloword demo-customers
	$(BIN)/helloword serve --demo --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

## An interactive terminal chat with the agent, on the same data.
chat: $(STAMP)
	$(BIN)/helloword chat

## Set up and run every check: lint, types, tests.
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

## Benchmarks print figures; they are not pass/fail.
bench: $(STAMP)
	$(BIN)/python bench/bench_tools.py
	$(BIN)/python bench/bench_agent.py
	$(BIN)/python bench/bench_language.py
	$(BIN)/python bench/bench_retrieval.py
	$(BIN)/python bench/bench_llm.py
	$(BIN)/python bench/bench_server.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

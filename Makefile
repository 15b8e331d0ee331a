# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install install-test lint typecheck bench bench-tui serve reliability services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# editable_mode=compat: a plain path entry, so start-up imports no finder (about 25 ms), and
# byte-compiled sources, since PYTHONDONTWRITEBYTECODE would make every start compile them.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e . --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q engine tui
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q engine tui
	touch $@ $(STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

## make run: create .venv, install Roost, open the workbench on sample_flows/
run: $(STAMP)
	$(BIN)/roost sample_flows

## make test: install test extras, start the real services the tests use, run pytest
test: $(TEST_STAMP)
	bash tests/services/start.sh
	$(BIN)/python -m pytest -q

## make lint: ruff, mypy, and the layout's rules (layers, cycles, sizes: tests/test_architecture.py)
lint: $(TEST_STAMP)
	$(BIN)/ruff check engine tui tests benchmarks scripts
	$(BIN)/mypy engine tui
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

bench: $(STAMP)
	$(BIN)/python benchmarks/task_overhead.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/template_render.py
	bash tests/services/start.sh && $(BIN)/python benchmarks/docker_overhead.py

bench-tui: $(STAMP)
	$(BIN)/python benchmarks/tui_start.py
	$(BIN)/python benchmarks/tui_hot_reload.py
	$(BIN)/python benchmarks/tui_idle.py
	$(BIN)/python benchmarks/tui_log_flood.py
	$(BIN)/python benchmarks/tui_log_keys.py
	$(BIN)/python benchmarks/log_store.py

## make serve: the workbench in a browser, on 127.0.0.1
serve: $(STAMP)
	$(BIN)/roost serve sample_flows

## make reliability: run tests/reliability/ and regenerate docs/reliability.md
reliability: $(TEST_STAMP)
	bash tests/services/start.sh
	$(BIN)/python scripts/reliability_report.py

clean:
	rm -rf $(VENV) .roost .pytest_cache

# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install install-test lint typecheck bench bench-tui bench-peers serve reliability services clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# editable_mode=compat: a plain path entry, so start-up imports no finder (about 25 ms), and
# byte-compiled sources, since PYTHONDONTWRITEBYTECODE would make every start compile them.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[samples]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q engine tui
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,samples]' --config-settings editable_mode=compat
	$(BIN)/python -m compileall -q engine tui
	touch $@ $(STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

## make run: create .venv, install Roost, open the workbench on sample_flows/
# with scripts/sample_services.py beside it: the local S3 and Slack data_pipeline.yml uses;
# scripts/sample_repos.py first makes the local git repositories sample_flows/roost.toml names
run: $(STAMP)
	@$(BIN)/python scripts/sample_repos.py
	@$(BIN)/python scripts/sample_services.py & services=$$!; \
	$(BIN)/roost sample_flows; status=$$?; kill $$services 2>/dev/null; exit $$status

## make test: install test extras, start the real services the tests use, run pytest
test: $(TEST_STAMP)
	bash tests/services/start.sh
	$(BIN)/python -m pytest -q -n 2

## make lint: ruff, mypy, and the layout's rules (layers, cycles, sizes: tests/test_architecture.py)
lint: $(TEST_STAMP)
	$(BIN)/ruff check engine tui tests benchmarks scripts
	$(BIN)/mypy engine tui
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

## make bench / bench-tui: every benchmark runs (each checks its target and exits 1 on a miss);
# the target fails at the end when any one missed, naming them.
ENGINE_BENCHES := task_overhead core_tasks flow_parse cli_startup template_render subflow_overhead \
	log_throughput python_deps workdir_manifest docker_overhead
TUI_BENCHES := tui_start tui_hot_reload tui_idle tui_log_flood tui_log_keys log_store

bench: $(STAMP)
	bash tests/services/start.sh
	@missed=""; for b in $(ENGINE_BENCHES); do echo "== benchmarks/$$b.py"; \
	  $(BIN)/python benchmarks/$$b.py || missed="$$missed $$b"; done; \
	if [ -n "$$missed" ]; then echo "missed:$$missed"; exit 1; fi

## make bench-peers: Roost, Dagster and Prefect on the same N-shell-task workload (own venv, built once)
bench-peers: $(STAMP)
	$(BIN)/python benchmarks/peers.py

bench-tui: $(STAMP)
	@missed=""; for b in $(TUI_BENCHES); do echo "== benchmarks/$$b.py"; \
	  $(BIN)/python benchmarks/$$b.py || missed="$$missed $$b"; done; \
	if [ -n "$$missed" ]; then echo "missed:$$missed"; exit 1; fi

## make serve: the workbench in a browser, on 127.0.0.1
serve: $(STAMP)
	$(BIN)/roost serve sample_flows

## make reliability: run tests/reliability/ and regenerate docs/reliability.md
reliability: $(TEST_STAMP)
	bash tests/services/start.sh
	$(BIN)/python scripts/reliability_report.py

clean:
	rm -rf $(VENV) .roost .pytest_cache

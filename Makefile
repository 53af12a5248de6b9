# tradepulse — two entry points: `make demo` and `make test`.
# Both bootstrap everything on a fresh Debian machine: system packages (when missing) and a venv in .venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test sysdeps venv serve bench clean

sysdeps:
	@bash scripts/sysdeps.sh

$(BIN)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

venv: $(BIN)/.installed

demo: sysdeps venv
	$(BIN)/tradepulse demo --out $(DEMO_DIR)
	$(BIN)/tradepulse serve --warehouse $(DEMO_DIR)/warehouse.duckdb --groups-db $(DEMO_DIR)/groups.sqlite --host $(HOST) --port $(PORT)

test: sysdeps venv
	@bash scripts/run-tests.sh

bench: sysdeps venv
	@for b in benchmarks/*/run.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache

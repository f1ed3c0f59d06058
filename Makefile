# runpod-typed: every target that needs Python tools depends on `setup`, which
# builds .venv (the project, editable, with its extras) and .official-venv (the
# official `runpod` package, a test and benchmark peer kept out of our venv).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
OFFICIAL_VENV := .official-venv
OFFICIAL_RUNPOD := runpod==1.12.0
URL ?= https://api.runpod.io/graphql

.PHONY: setup test demo generate check-generated pull-schema schema-diff bench bench-quick lint typecheck pytest clean

setup: $(VENV)/.stamp $(OFFICIAL_VENV)/.stamp

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(OFFICIAL_VENV)/.stamp:
	$(PYTHON) -m venv $(OFFICIAL_VENV)
	$(OFFICIAL_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OFFICIAL_VENV)/bin/python -m pip install --quiet '$(OFFICIAL_RUNPOD)'
	touch $@

lint: setup
	$(VENV)/bin/ruff check runpod_typed codegen tests bench examples
	$(VENV)/bin/ruff format --check runpod_typed codegen tests bench examples

typecheck: setup
	$(VENV)/bin/mypy runpod_typed codegen examples

generate: setup
	$(PY) -m codegen.generate --out generated

check-generated: setup
	$(PY) -m codegen.generate --check generated

pull-schema: setup
	$(PY) -m codegen.pull_schema --url '$(URL)' --out schema/runpod.graphql $(if $(OPENAPI_URL),--openapi-url '$(OPENAPI_URL)')

schema-diff: setup
	$(PY) -m codegen.schema_diff $(if $(OLD),--old '$(OLD)') $(if $(NEW),--new '$(NEW)') $(if $(URL_GIVEN),--url '$(URL)')

pytest: setup
	$(PY) -m pytest -q

test: lint typecheck check-generated pytest bench-quick

demo: setup
	$(PY) -m runpod_typed.demo

bench: setup
	$(PY) -m bench.run --out bench/results.md

bench-quick: setup
	$(PY) -m bench.run --quick

clean:
	rm -rf $(VENV) $(OFFICIAL_VENV) .mypy_cache .ruff_cache .pytest_cache

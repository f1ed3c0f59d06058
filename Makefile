# runpod-typed: `make help` lists the targets. Targets that only need the project's
# tools depend on `venv` (.venv: the project, editable, with its extras); those that
# run the official `runpod` package beside ours (pytest's compat tests, the
# benchmarks) also depend on `official-venv` (.official-venv, kept out of our venv).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
OFFICIAL_VENV := .official-venv
OFFICIAL_RUNPOD := runpod==1.12.0
URL ?= https://api.runpod.io/graphql
V2_URL ?= https://api.runpod.io/v2/openapi.json

.PHONY: help setup venv official-venv test demo generate check-generated pull-schema schema-diff contract-check bench bench-quick lint typecheck pytest test-lowest clean

setup: venv official-venv ## build both virtualenvs (.venv and .official-venv)

help: ## list the targets
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z][a-z-]*:[^#]*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(VENV)/.stamp ## build .venv: the project (editable), its extras and the dev tools (group dev)

official-venv: $(OFFICIAL_VENV)/.stamp ## build .official-venv: the official runpod package (compat tests, benchmarks)

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[emulator,progress,aiohttp]' --group dev
	touch $@

$(OFFICIAL_VENV)/.stamp:
	$(PYTHON) -m venv $(OFFICIAL_VENV)
	$(OFFICIAL_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OFFICIAL_VENV)/bin/python -m pip install --quiet '$(OFFICIAL_RUNPOD)'
	touch $@

lint: venv ## ruff check and ruff format --check
	$(VENV)/bin/ruff check runpod_typed codegen tests bench examples
	$(VENV)/bin/ruff format --check runpod_typed codegen tests bench examples

typecheck: venv ## mypy --strict (no pydantic plugin) on the package, codegen and examples; pyright strict on examples/ (pyrightconfig.json) and --verifytypes >= 95%
	$(VENV)/bin/mypy runpod_typed codegen examples
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/pyright
	$(PY) tests/typing/verify_types.py --min-score 0.95

generate: venv ## regenerate generated/ from schema/ and codegen/ (never edit it by hand)
	$(PY) -m codegen.generate --out generated

check-generated: venv ## fail if generated/ differs from a fresh generation
	$(PY) -m codegen.generate --check generated

pull-schema: venv ## GraphQL by introspection from URL (URL= skips it); REST v2 from V2_URL or V2_FILE (V2_URL= skips it)
	$(PY) -m codegen.pull_schema $(if $(URL),--url '$(URL)' --out schema/runpod.graphql,--no-graphql) $(if $(V2_FILE),--v2-file '$(V2_FILE)',$(if $(V2_URL),--v2-url '$(V2_URL)')) $(if $(OPENAPI_URL),--openapi-url '$(OPENAPI_URL)')

schema-diff: venv ## breaking/dangerous changes and additions (OLD=, NEW=, URL_GIVEN=1, URL=; V2_OLD=, V2_FILE=, V2_URL=)
	$(PY) -m codegen.schema_diff $(if $(URL),$(if $(OLD),--old '$(OLD)') $(if $(NEW),--new '$(NEW)') $(if $(URL_GIVEN),--url '$(URL)'),--no-graphql) $(if $(V2_OLD),--v2-old '$(V2_OLD)') $(if $(V2_FILE),--v2-file '$(V2_FILE)',$(if $(V2_URL),--v2-url '$(V2_URL)'))

contract-check: venv ## LIVE (key: RUNPOD_API_KEY or ~/.runpod/config.toml): each operation sent to URL in a form that cannot execute; names what the server does not know; exit 1 on drift
	$(PY) -m codegen.contract_check $(if $(URL),--url '$(URL)')

pytest: venv official-venv ## the whole test suite (unit, integration, typing, examples, compat, reliability)
	$(PY) -m pytest -q

test: lint typecheck check-generated pytest bench-quick ## everything CI checks

test-lowest: venv ## unit + integration tests at the lowest declared dependency versions, oldest Python (.venv-lowest; CI runs it after test)
	$(PY) .ci/lowest_deps.py

demo: venv ## the main job against the embedded emulator (LIVE=1 for RunPod itself)
	$(PY) -m runpod_typed.demo

bench: venv official-venv ## benchmarks against the official package; writes bench/results.md
	$(PY) -m bench.run --out bench/results.md

bench-quick: venv official-venv ## a short benchmark run (part of make test)
	$(PY) -m bench.run --quick

clean: ## remove the virtualenvs and the tool caches
	rm -rf $(VENV) $(OFFICIAL_VENV) .venv-lowest .mypy_cache .ruff_cache .pytest_cache

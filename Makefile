# The one interface a newcomer needs: `make run`, `make test` (`make test-fast`: seconds),
# `make protos`, `make lint`, `make bench`.
# Everything is installed into .venv by these targets; nothing needs installing by hand.

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PROTO_SRC := $(shell find protos -name '*.proto')
PROTO_OUT := services/.protos-generated
# Tests may use a PostgreSQL you already run: OMNI_TEST_POSTGRES_URL=postgresql://...
PYTEST_ARGS ?=

.PHONY: run test test-fast lint protos bench chaos soak clean venv chromium screenshots deploy-config

venv: $(INSTALLED)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

protos: $(PROTO_OUT)

# Generated code lands beside our packages (services/omni/<service>/v1/, git-ignored), so the
# generated absolute imports (`from omni.stock.v1 import ...`) resolve without path tricks.
$(PROTO_OUT): $(PROTO_SRC) $(INSTALLED)
	$(PY) -m grpc_tools.protoc -Iprotos --python_out=services --pyi_out=services \
		--grpc_python_out=services $(PROTO_SRC)
	for d in $$(find services/omni -path '*/v1' -type d); do touch $$d/__init__.py; done
	touch $@

run: protos
	$(PY) -m omni.devrun

lint: protos
	$(VENV)/bin/ruff check services tests
	$(VENV)/bin/ruff format --check services tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo  # the import contracts in pyproject.toml
	$(VENV)/bin/buf lint protos
	@# Once a release is tagged (v*), its protos are the contract: nothing may break them.
	@last=$$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true); \
	if [ -n "$$last" ]; then $(VENV)/bin/buf breaking protos --against ".git#tag=$$last,subdir=protos"; \
	else echo "buf breaking: no release tagged yet, nothing to compare with"; fi

test: lint chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# The fast tier alone: every rule against the domain, no database, NATS or browser (seconds).
test-fast: protos
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

# The console's browser tests drive the system's Chromium (Playwright cannot download its
# own browsers here); installed once with apt-get when missing. OMNI_CHROMIUM names another.
chromium:
	@if [ -n "$$OMNI_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	echo "Installing Chromium for the browser tests (apt-get install chromium)"; \
	sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium

# The console's screenshots in docs/, taken by its browser tests.
screenshots: protos chromium
	OMNI_SCREENSHOTS=docs/screenshots $(PY) -m pytest tests/browser -q

# deploy/'s generated files (deploy/render.py): NATS from the official chart with our values,
# and its users and permissions from the table every test runs under
# (services/omni/platform/nats_access.py); a test fails until this is rerun after a change.
deploy-config: protos
	$(PY) deploy/render.py

# Closed-loop throughput, then the open-loop latency curve (tests/bench/openloop.py);
# BENCH_ARGS="--compare REF" measures commit REF's code the same way in the same run.
bench: protos
	$(PY) -m tests.bench
	$(PY) -m tests.bench.openloop $(BENCH_ARGS)

# First the model-based test of the stock rules (its short form runs in `make test`) for at
# least OMNI_SOAK_STEPS steps (100000); then the whole system (two replicas each of stock and
# orders, PostgreSQL, NATS) for SOAK_MINUTES (10) at half its maximum, printing every 30 s
# the memory, files, database, stream and queue sizes, and their growth per minute.
soak: protos
	$(PY) -m tests.soak.model
	$(PY) -m tests.soak.system

# The fault suite's longer form (its short form runs in `make test`): kill -9 of replicas and
# PostgreSQL and a NATS restart under load, figures per phase. CHAOS_ARGS, e.g. --rounds 1.
chaos: protos
	$(PY) -m tests.chaos $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) $(PROTO_OUT) .omni services/omni/*/v1 .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache

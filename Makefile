# The two commands a user needs: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run run-cluster test check clean install schema browser node loadtest loadtest-sweep loadtest-runs benchmark

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

## Run the whole application: Kafka, registry, PostgreSQL, Redis, then migrations, topology and processes.
run: $(STAMP)
	$(VPY) -m devstack run

## The production shape: three Kafka nodes with mutual TLS and ACLs, two web, handler and projector processes.
run-cluster: $(STAMP)
	$(VPY) -m devstack run --profile cluster

## Debian's Chromium, for the browser tests (Playwright drives it; it downloads no browser of its own).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

## The Node tools the tests run (axe-core, graphql-http's audit), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "The tests need Node.js and npm (for axe-core and graphql-http)" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

node: $(NODE_STAMP)

## Run the whole test suite against stacks of its own (other ports and data than `make run`); the checks first.
## Then the fault tests, on a three-node TLS cluster with the application's processes running.
test: $(STAMP) browser node check
	$(VPY) -m devstack exec --profile test -- $(VPY) -m pytest $(PYTEST_ARGS)
	$(VPY) -m devstack exec --profile cluster-test --with-apps -- $(VPY) -m pytest -m cluster $(PYTEST_ARGS)

## The load test against the original's published runs, RUNS times, each on a stack started for it from empty
## data (like `make run`'s, on other ports; the bank of `make run` is not touched), then the report
## (e.g. make loadtest CONFIG=demo RUNS=2; KAFKA_LINGER_MS=10 for one setting of the original's sweep).
## Every generator logs in and holds its websocket from this one address, so the per-address limits are raised.
CONFIG ?= compare
RUNS ?= 3
loadtest: loadtest-runs
	$(VPY) manage.py loadtest_report --with-original

## The original's linger.ms sweep in one command: RUNS runs per setting of LINGER_MS, then the report.
LINGER_MS ?= 0 10 25 100
loadtest-sweep: $(STAMP) browser
	@for ms in $(LINGER_MS); do KAFKA_LINGER_MS=$$ms $(MAKE) --no-print-directory loadtest-runs || exit 1; done
	$(VPY) manage.py loadtest_report --with-original

loadtest-runs: $(STAMP) browser
	@for run in $$(seq $(RUNS)); do \
	  echo "== load test $(CONFIG), run $$run of $(RUNS), linger.ms $${KAFKA_LINGER_MS:-0}, on a stack started for it from empty data"; \
	  LOGINS_PER_MINUTE_PER_ADDRESS=$${LOGINS_PER_MINUTE_PER_ADDRESS:-1000} WEBSOCKETS_PER_ADDRESS=$${WEBSOCKETS_PER_ADDRESS:-1000} \
	    $(VPY) -m devstack exec --profile loadtest --with-apps -- $(VPY) manage.py loadtest $(CONFIG) \
	    || echo "== run $$run ended early (a ramp ends when the bank cannot keep up: see its last lines)"; \
	done

## The performance goals in one table (docs/performance.md opens with it): 50 closed-loop customers, one customer
## against the Kafka floors, an open loop; on a stack started for it from empty data, like `make run`'s (~8 minutes).
benchmark: $(STAMP)
	LOGINS_PER_MINUTE_PER_ADDRESS=100000 WEBSOCKETS_PER_ADDRESS=1000 GRAPHQL_OPERATIONS_PER_WEBSOCKET=1000 \
	  $(VPY) -m devstack exec --profile loadtest --with-apps -- $(VPY) manage.py benchmark --write docs/performance.md

## Lint, formatting, the import contracts (the domain stays Kafka-free; adapters never import each other) and types.
## The same four checks are pre-commit hooks: `.venv/bin/pre-commit install` runs them before every commit.
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

## Print the GraphQL schema into graphql_api/schema.graphql (a test fails when the two differ).
schema: $(STAMP)
	$(VPY) -c 'import django, os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankproject.settings"); django.setup(); from graphql_api.schema import schema; open("graphql_api/schema.graphql", "w").write(schema.as_str() + "\n")'

## Delete all local state: data, logs, downloaded jars (the virtualenv stays).
clean:
	@if [ -x $(VPY) ]; then $(VPY) -m devstack clean; else rm -rf .stack .stack.env; fi

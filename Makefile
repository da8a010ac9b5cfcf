# Quartier task runner. `make run` serves the demo; `make test` runs the whole suite on PostGIS.
# Both install what they lack (Debian/Ubuntu, as root or with sudo).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000
# What the demo and the tests need from the OS (GeoDjango, SpatiaLite, a Python with venv).
OS_RUN_PKGS := gdal-bin libsqlite3-mod-spatialite python3-venv python3-dev binutils fonts-dejavu-core
# gettext: `make messages` (makemessages, compilemessages); the compiled .mo files are committed.
# curl and jq run docs/api.md's examples (tests/devserver). Node.js and npm compile the TypeScript
# client (make lint); a Node.js from elsewhere (NodeSource, nvm) brings its own npm, which
# Debian's npm package would conflict with.
OS_TEST_PKGS := redis-server gettext curl jq nodejs $(if $(shell command -v npm),,npm)
# Installed when apt offers them (Ubuntu ships Chromium only as a snap): browser tests, benchmarks.
OS_TEST_OPTIONAL_PKGS := chromium wrk
# PostGIS for the installed PostgreSQL, or the distribution's default pair on a fresh machine.
PG_VERSION := $(shell ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
PG_PKGS := $(if $(PG_VERSION),postgresql-$(PG_VERSION)-postgis-3,postgresql postgresql-postgis)

# The catalogues (locale/): our code, not the virtualenv, tests or generated files.
MESSAGES_IGNORE := --ignore=.venv --ignore=tests --ignore=testing --ignore=var --ignore=media \
	--ignore=staticfiles --ignore=bench/results

.PHONY: messages site-test-assets client client-check help run test test-fast lint format check bench bench-city fuzz os-run os-test venv venv-dev services clean lock audit

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

# Both are no-ops (no apt, no sudo) when every package is installed.
os-run:
	@scripts/install-os-packages $(OS_RUN_PKGS)

os-test: os-run
	@scripts/install-os-packages $(PG_PKGS) $(OS_TEST_PKGS) --optional $(OS_TEST_OPTIONAL_PKGS)

# The virtualenv must come from a Python whose sqlite3 can load extensions (SpatiaLite).
$(VENV)/bin/python:
	@python=$$(scripts/find-python); \
	echo "Creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV) && $(PIP) install -q --upgrade pip

# Installed from the lock files: every package pinned, every download checked against the
# hashes pip-compile recorded (docs/deploy.md, "Dependencies"). `make lock` re-makes them.
$(VENV)/.requirements: requirements.lock | $(VENV)/bin/python
	$(PIP) install -q --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.requirements-dev: requirements.lock requirements-dev.lock | $(VENV)/bin/python
	$(PIP) install -q --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.requirements

PIP_COMPILE := $(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

lock: | $(VENV)/bin/python  ## Re-make requirements*.lock from requirements*.txt (pip-compile, hashes)
	$(PIP) install -q "$$(grep -i '^pip-tools==' requirements-dev.txt)"
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	$(PIP_COMPILE) -o requirements-dev.lock requirements-dev.txt

audit: $(VENV)/.requirements-dev  ## Known vulnerabilities in the locked dependencies (pip-audit)
	$(PY) scripts/audit_dependencies.py requirements-dev.lock

venv: os-run $(VENV)/.requirements
venv-dev: os-test $(VENV)/.requirements-dev testing/site/node_modules/.installed

# The site's tests load axe-core and the schema.org vocabulary (schema-dts) from npm, pinned
# in testing/site/package-lock.json; node_modules is not committed. npm comes with Node.js
# (Debian's nodejs + npm, or NodeSource's nodejs, which includes it): not installed here.
testing/site/node_modules/.installed: testing/site/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (tests/site need it)" >&2; exit 1; }
	cd testing/site && npm ci --no-audit --no-fund
	@touch $@

site-test-assets: testing/site/node_modules/.installed  ## npm packages of the site's tests (axe-core, schema-dts)

messages: venv os-test  ## Re-extract the French msgids into locale/*/django.po and compile the .mo files
	$(PY) manage.py makemessages -l fr -l en --no-obsolete --add-location=file --no-wrap $(MESSAGES_IGNORE)
	$(PY) manage.py compilemessages -l fr -l en

services:  ## Start PostgreSQL/PostGIS and Redis if they are not running
	@scripts/ensure-services

# HOST=0.0.0.0 serves the Android emulator (10.0.2.2), the iOS simulator and phones on the LAN;
# SITE_URL and DJANGO_ALLOWED_HOSTS follow HOST and PORT (scripts/dev_server_env.py).
run: venv  ## Serve the demo city on the embedded SpatiaLite database (HOST=127.0.0.1 PORT=8000)
	@set -e; export DJANGO_DEBUG=$${DJANGO_DEBUG:-1}; \
	server_env=$$($(PY) scripts/dev_server_env.py '$(HOST)' '$(PORT)'); eval "$$server_env"; \
	$(PY) manage.py migrate --noinput -v0; \
	$(PY) manage.py seed_demo; \
	echo "Admin: $$SITE_URL/admin/  API docs: $$SITE_URL/api/v1/docs/"; \
	grep '^# ' <<<"$$server_env" | cut -c3-; \
	$(PY) manage.py beat_embedded & beat=$$!; \
	trap 'kill $$beat 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver --noreload $$([[ $$QUARTIER_RUNSERVER_ADDR == \[* ]] && echo -6) "$$QUARTIER_RUNSERVER_ADDR"

test: venv-dev services  ## Run the whole test suite on PostGIS (starts PostGIS and Redis)
	@$(VENV)/bin/pytest $(PYTEST_ARGS); code=$$?; [ $$code -eq 5 ] && code=0; exit $$code

# The inner loop: everything but the slow, worker and browser tests (CI runs `make test`).
FAST_MARKS := not slow and not celery_worker and not browser

test-fast: venv-dev services  ## The suite without `slow`, `celery_worker` and `browser` tests
	@$(VENV)/bin/pytest -m "$(FAST_MARKS)" $(PYTEST_ARGS); code=$$?; [ $$code -eq 5 ] && code=0; exit $$code

lint: venv-dev  ## ruff, mypy, the import contracts (.importlinter), the TypeScript client (tsc)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	@$(MAKE) --no-print-directory client-check

# The typed API client (clients/typescript, docs/api.md "Typed clients"): the OpenAPI schema as
# the backend makes it, TypeScript types generated from it by openapi-typescript, compiled by tsc.
# Node packages come from the registry, exactly as package-lock.json pins them (npm ci).
CLIENT_TS := clients/typescript
SCHEMA_CMD := DJANGO_SETTINGS_MODULE=backend.settings $(PY) manage.py spectacular --skip-checks \
	--lang en --validate --fail-on-warn

$(CLIENT_TS)/node_modules/.package-lock.json: $(CLIENT_TS)/package-lock.json $(CLIENT_TS)/package.json
	cd $(CLIENT_TS) && npm ci --no-audit --no-fund

client: venv-dev $(CLIENT_TS)/node_modules/.package-lock.json  ## Regenerate the TypeScript client from the API schema
	$(SCHEMA_CMD) --file $(CLIENT_TS)/openapi.yaml
	cd $(CLIENT_TS) && npm run -s generate && npm run -s check

client-check: venv-dev $(CLIENT_TS)/node_modules/.package-lock.json  ## The TypeScript client matches the API schema and compiles
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(SCHEMA_CMD) --file "$$tmp/openapi.yaml"; \
	(cd $(CLIENT_TS) && npx --no-install openapi-typescript "$$tmp/openapi.yaml" --output "$$tmp/schema.d.ts" >/dev/null); \
	if ! diff -u $(CLIENT_TS)/openapi.yaml "$$tmp/openapi.yaml" >"$$tmp/diff" || \
	   ! diff -u $(CLIENT_TS)/src/schema.d.ts "$$tmp/schema.d.ts" >>"$$tmp/diff"; then \
		head -40 "$$tmp/diff"; \
		echo "clients/typescript is behind the API schema: run make client and commit it" >&2; exit 1; \
	fi; \
	cd $(CLIENT_TS) && npx --no-install tsc --noEmit && echo "TypeScript client: up to date, compiles"

format: venv-dev  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: lint test  ## What to run before committing
	DJANGO_SETTINGS_MODULE=backend.settings_test $(PY) manage.py makemigrations --check --dry-run

BENCH_DATABASE_URL ?= postgis:///quartier_bench

bench-city: venv-dev services  ## Build the bench city (100,000 devices) in $(BENCH_DATABASE_URL)
	DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=$(BENCH_DATABASE_URL) DATABASE_STATEMENT_TIMEOUT_MS=0 $(PY) manage.py migrate --noinput -v0
	DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=$(BENCH_DATABASE_URL) DATABASE_STATEMENT_TIMEOUT_MS=0 $(PY) manage.py bench_city --reset $(BENCH_CITY_ARGS)

bench: venv-dev services  ## Run every benchmark on the bench city (bench/run_all.py; BENCH_ARGS=--quick)
	DJANGO_SETTINGS_MODULE=bench.settings $(PY) bench/run_all.py $(BENCH_ARGS)

# Examples per API operation: 500 x 44 operations is over 20,000 requests (bench/README.md).
FUZZ_EXAMPLES ?= 500

fuzz: venv-dev services  ## Deep API fuzzing, outside `make test` (FUZZ_EXAMPLES per operation)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/fuzz -q -p no:cacheprovider \
		--timeout=0 $(PYTEST_ARGS)

clean:  ## Remove the embedded database, media and caches
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

# Kefu — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip -q --disable-pip-version-check
KEFU  := $(VENV)/bin/kefu
VENDOR := kefu/static/vendor

# Write bytecode caches even where the environment says not to (PYTHONDONTWRITEBYTECODE=1 on
# this machine): without them every process of the suite (two workers, and the tests that start
# `kefu` as a subprocess) compiled all of Kefu again and re-did pytest's assertion rewriting of
# every test module, 17 s before the first test ran instead of 6 s.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint typecheck pytest check schema bench assets messages deps dev-deps \
        migrate demo serve makemessages lock clean

run: deps assets messages migrate demo serve        ## install, build, migrate, seed once, serve

test: dev-deps assets messages lint typecheck pytest ## lint, type check, the whole suite

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.deps: requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt $(VENV)/.deps
	$(PIP) install -r requirements-dev.txt
	touch $@

deps: $(VENV)/.deps
	@scripts/system-deps.sh run

dev-deps: $(VENV)/.dev-deps
	@scripts/system-deps.sh test

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/.built: node_modules/.package-lock.json
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/tabler/css $(VENDOR)/tabler/js $(VENDOR)/htmx $(VENDOR)/echarts
	cp node_modules/@tabler/core/dist/css/tabler.min.css* $(VENDOR)/tabler/css/
	cp node_modules/@tabler/core/dist/js/tabler.min.js* $(VENDOR)/tabler/js/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	touch $@

assets: $(VENDOR)/.built

messages: deps
	cd kefu && ../$(KEFU) compilemessages --ignore=.venv -v 0

makemessages: deps
	cd kefu && ../$(KEFU) makemessages -l en -l zh_Hans --ignore=tests --no-obsolete -v 0

migrate: deps
	$(KEFU) migrate --noinput -v 0
	$(KEFU) collectstatic --noinput -v 0

demo: deps
	$(KEFU) seed --size demo --if-empty

serve: deps
	@$(KEFU) demo_logins
	KEFU_HTTPS=$${KEFU_HTTPS:-0} $(KEFU) run

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: dev-deps
	$(VENV)/bin/mypy kefu

# --maxschedchunk 1: xdist hands the workers one test at a time. By default a worker near the end
# takes up to a quarter of what is left; once that was all five API fuzz runs (150 s) while the
# other worker sat idle, and the PostgreSQL run went from 364 s to 269 s without it.
pytest: dev-deps assets
	DJANGO_SETTINGS_MODULE=kefu.settings_test $(KEFU) makemigrations --check --dry-run -v 0
	$(VENV)/bin/pytest -n 2 --maxschedchunk 1 -q

schema: deps
	$(KEFU) export_openapi_schema --api kefu.api.api.api --indent 2 --sorted --output docs/api/openapi.json

bench: dev-deps assets
	@scripts/system-deps.sh bench
	$(PY) bench/run.py

lock:
	python3 -m venv /tmp/kefu-lock && /tmp/kefu-lock/bin/pip install -q -r requirements.in
	(echo "# Pinned runtime dependencies (from requirements.in). Regenerate with: make lock"; /tmp/kefu-lock/bin/pip freeze) > requirements.txt

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var/static

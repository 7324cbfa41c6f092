# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format bench clean

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

# The web server, a queue worker and the sandbox platforms together; Ctrl-C stops all three.
run: install
	mkdir -p var
	test -s var/encryption.key || $(BIN)/python -c \
	  "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > var/encryption.key
	test -s var/secret.key || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret.key
	test -s var/demo.env || printf '%s\n' META_APP_SECRET=sandbox-meta-secret META_VERIFY_TOKEN=sandbox \
	  X_CONSUMER_SECRET=sandbox-x-secret TIKTOK_APP_SECRET=sandbox-tiktok-secret \
	  EMAIL_WEBHOOK_SECRET=sandbox-email-secret ALLOW_INSECURE_PLATFORM_URLS=true > var/demo.env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  Outreach CRM: http://$(HOST):$(PORT)/  (sign in as demo / demo; the admin is at /admin/)"
	@echo "  Sandbox platforms on 127.0.0.1:8700-8703; queue worker: manage.py run_queue"
	@echo "  A creator writes: .venv/bin/python manage.py creator_says --handle mayahart '#YesAcme'"
	@echo
	$(BIN)/python manage.py sandbox --setup-demo & sandbox=$$!; \
	$(BIN)/python manage.py run_queue & worker=$$!; \
	trap 'kill $$sandbox $$worker 2>/dev/null; wait' EXIT INT TERM; \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

# One test process per CPU core and one more (pytest-xdist): a fifth of the suite's time is spent
# waiting (Chromium, the processes tests start, a PostgreSQL restart), and the extra process works
# meanwhile; two more cost more CPU than they save. `make test PYTEST_WORKERS=0` runs all in one.
# Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set (they are gitignored): without
# them every test process, and every manage.py a test starts, compiles the project and pytest rewrites
# every test module's asserts again, about 9 s of CPU per test process.
# Schemathesis draws SCHEMATHESIS_EXAMPLES requests per operation: 8 here, 40 in CI (.ci/run).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
SCHEMATHESIS_EXAMPLES ?= 8
test: install
	env -u PYTHONDONTWRITEBYTECODE SCHEMATHESIS_EXAMPLES=$(SCHEMATHESIS_EXAMPLES) \
	  $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/import_creators.py
	$(BIN)/python bench/send_pipeline.py --messages 4000
	$(BIN)/python bench/webhook_ingest.py
	$(BIN)/python bench/send_pipeline.py --latency 0.15 --messages 1000 --workers 1
	$(BIN)/python bench/scale_out.py
	$(BIN)/python bench/api_list.py --no-fail
	$(BIN)/python bench/launch.py
	$(BIN)/python bench/pages.py --no-fail

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# p2c: `make run` serves the admin with demo data and a Celery worker; `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1:8000

.PHONY: run run-two worker test lint bench install install-dev clean messages messages-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Migrate, seed the demo data once, create the superuser once (printing its random password), then serve the
# admin and run a Celery worker and beat (for scheduled synchronisations) until Ctrl-C stops them all.
# bin/worker-and-beat stops beat as soon as the worker ends, however it ends: beat never outlives the worker.
run: install
	$(BIN)/python manage.py migrate_all --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py ensure_superuser
	@echo "Admin: http://$(HOST)/admin/  (Ctrl-C stops the server, the worker and beat)"
	@BIN=$(BIN) bin/worker-and-beat --concurrency=2 & processes=$$!; \
	trap 'kill $$processes 2>/dev/null; wait $$processes' INT TERM EXIT; \
	$(BIN)/python manage.py runserver $(HOST)

# Two p2c on this machine as two machines hold them (X11, docs/features.md), each with its own SQLite database and var
# directory under var/two/: Sales at http://$(SALES_HOST)/ serves its Dataverse Web API, with the application user the
# other signs in as (sales_api_application, an OAuth client-credentials application; its secret made once, in
# var/two/client-secret); the ERP and the integration at http://$(ERP_HOST)/, with a worker and beat, reach it over
# HTTP through SALES_API_*. Plain http:// only because both are on the loopback address (OAUTHLIB_INSECURE_TRANSPORT
# lets the Sales instance's token endpoint answer it). Ctrl-C stops them all.
SALES_HOST ?= 127.0.0.1:8001
ERP_HOST   ?= 127.0.0.1:8002
TWO        := $(CURDIR)/var/two
# Each instance's own database, files and cookies; nothing of a surrounding SALES_API_* or SALES_DATABASE_URL.
TWO_CLEAN  := env -u SALES_DATABASE_URL -u SALES_API_URL -u SALES_API_TOKEN_URL -u SALES_API_TENANT_ID \
	-u SALES_API_CLIENT_ID -u SALES_API_CLIENT_SECRET
SALES_ENV  := $(TWO_CLEAN) P2C_VAR_DIR=$(TWO)/sales DATABASE_URL=sqlite:///$(TWO)/sales/db.sqlite3 \
	P2C_SESSION_COOKIE_NAME=p2c-sales-session P2C_CSRF_COOKIE_NAME=p2c-sales-csrf OAUTHLIB_INSECURE_TRANSPORT=1
ERP_ENV    := $(TWO_CLEAN) P2C_VAR_DIR=$(TWO)/erp DATABASE_URL=sqlite:///$(TWO)/erp/db.sqlite3 \
	P2C_SESSION_COOKIE_NAME=p2c-erp-session P2C_CSRF_COOKIE_NAME=p2c-erp-csrf \
	SALES_API_URL=http://$(SALES_HOST) SALES_API_TOKEN_URL=http://$(SALES_HOST)/o/token/ SALES_API_CLIENT_ID=p2c-integration
run-two: install
	@mkdir -p $(TWO)/sales $(TWO)/erp
	@[ -s $(TWO)/client-secret ] || (umask 077; $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" \
		> $(TWO)/client-secret)
	@echo "== Sales (http://$(SALES_HOST)/)"
	$(SALES_ENV) $(BIN)/python manage.py migrate_all --noinput
	$(SALES_ENV) $(BIN)/python manage.py seed_demo
	$(SALES_ENV) $(BIN)/python manage.py ensure_superuser
	@$(SALES_ENV) SALES_API_CLIENT_SECRET="$$(cat $(TWO)/client-secret)" $(BIN)/python manage.py sales_api_application
	@echo "== ERP and the integration (http://$(ERP_HOST)/)"
	$(ERP_ENV) $(BIN)/python manage.py migrate_all --noinput
	$(ERP_ENV) $(BIN)/python manage.py seed_demo
	$(ERP_ENV) $(BIN)/python manage.py ensure_superuser
	@echo "Sales: http://$(SALES_HOST)/admin/  ERP and integration: http://$(ERP_HOST)/admin/  (Ctrl-C stops both)"
	@secret="$$(cat $(TWO)/client-secret)"; \
	$(SALES_ENV) $(BIN)/python manage.py runserver --noreload $(SALES_HOST) & sales=$$!; \
	$(ERP_ENV) SALES_API_CLIENT_SECRET="$$secret" BIN=$(BIN) bin/worker-and-beat --concurrency=2 & processes=$$!; \
	trap 'kill $$sales $$processes 2>/dev/null; wait $$sales $$processes' INT TERM EXIT; \
	$(ERP_ENV) SALES_API_CLIENT_SECRET="$$secret" $(BIN)/python manage.py runserver $(ERP_HOST)

# The worker and beat alone, as `make run` starts them (another machine's web server serving the admin).
worker: install
	@BIN=$(BIN) bin/worker-and-beat --concurrency=2

# The suite runs in TEST_WORKERS processes (pytest-xdist; auto: one per core; 0: all in pytest's own process), each
# on test databases and a Redis database of its own (tests/worker_services.py); an idle one takes tests queued for
# another (worksteal), so the slowest tests do not finish one after another on one worker.
# Then, on SQLite, a second pass of the tests marked sqlite_file (two OS processes sharing the database) or
# child_process (a server, worker or command process on the test database) on a test database in a file under var/:
# the first pass keeps the faster in-memory database, where those tests skip. (On PostgreSQL the child_process tests
# run in the first pass, and PostgreSQL variants of the sqlite_file ones.) The second pass follows PYTEST_ARGS' paths
# and -k; none selected is fine. It runs in TEST_WORKERS processes too, each on a file of its own (pytest-django adds
# the worker's name: ..._gw0), a test module on one worker (--dist loadfile), which starts its Sales server once.
TEST_WORKERS ?= auto
test: install-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)
	@case "$${DATABASE_URL:-sqlite:}" in sqlite:*) ;; *) exit 0;; esac; \
	mkdir -p var; db="$(CURDIR)/var/test-sqlite-file-$$$$.sqlite3"; status=0; \
	echo "== the tests that need the SQLite test database in a file (-m 'sqlite_file or child_process')"; \
	P2C_TEST_SQLITE_NAME="$$db" $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS) \
		-m "sqlite_file or child_process" -p no:cacheprovider \
		|| status=$$?; \
	rm -f "$$db" "$$db"-wal "$$db"-shm "$$db"_gw*; \
	[ $$status -eq 0 ] || [ $$status -eq 5 ]

# ruff, then the import contracts of pyproject.toml (imports run one way: p2c <- crm, erp <- integration; no cycles).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo

# The translation catalogues (locale/fr, sv, nl; GLOSSARY.md there). `make messages` extracts the strings of the code
# into the .po files (new ones untranslated, changed ones fuzzy, gone ones removed), compiles the .mo files Django
# reads (both are committed: a fresh clone needs no gettext tools), then lists what is left to translate.
# `make messages-check` (run by .ci/run) fails when a catalogue is incomplete or stale; both need GNU gettext.
MAKEMESSAGES := -l fr -l sv -l nl --no-obsolete --no-location --no-wrap -i '.venv/*' -i 'tests/*' -i 'var/*'
messages: install-dev
	$(BIN)/python manage.py makemessages $(MAKEMESSAGES)
	$(BIN)/python manage.py compilemessages -l fr -l sv -l nl -i .venv -i var
	@$(BIN)/python manage.py messages_check || echo "== translate the entries above in locale/*/LC_MESSAGES/django.po, then run make messages again"

messages-check: install-dev
	$(BIN)/python manage.py messages_check

# The benchmarks also install the peer they compare with (requirements-bench.txt), never needed by the app or tests.
# One of them: PYTEST_ARGS="-k floor" (tests/bench/test_floor_bench.py: "Write paths" in docs/decisions.md); a file's
# path would add to tests/bench, not narrow it.
bench: install-dev
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m pytest tests/bench -s -p no:cacheprovider -o addopts="" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-shm db.sqlite3-wal

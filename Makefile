# The commands: `make run` (set up, seed the demo, serve), `make up` (the production topology on
# this machine: gunicorn, a Celery worker and beat on PostgreSQL and Redis), `make test` (the
# whole suite) and `make lock` (refresh the pinned, hashed dependencies).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
HOST   ?= 127.0.0.1:8000

.PHONY: install run up test bench bench-ops lint format clean lock

$(PY):
	python3 -m venv $(VENV)

# Exactly the pinned versions, each checked against its hash, so a release upstream cannot
# change a fresh machine; then the project itself, built by the locked setuptools without
# fetching anything. Reinstalls when the lock (or the project) changes.
$(STAMP): $(LOCK) pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation .
	@rm -rf build *.egg-info
	@touch $@

# Re-resolve pyproject.toml's ranges (the runtime dependencies and the test, tools and bench groups)
# to their newest versions, for every platform, with the hash of every file.
lock: install
	$(VENV)/bin/uv pip compile pyproject.toml --group test --group tools --group bench --universal \
		--python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
		--quiet -o $(LOCK)

# The laptop's settings: DEBUG on (its fallback keys, console mail). Production sets its
# own environment and has no .env; an existing one is left as its owner made it.
.env:
	@printf '# This machine is a laptop: see dealdesk/settings.py and docs/deploy.md.\nDEBUG=true\n' > $@

install: $(STAMP) .env

# The Debian packages beside Python (fonts for contract PDFs; chromium for the browser
# tests), installed when missing, or the one command to run printed: bin/system-packages.
run: install
	@bin/system-packages run
	@mkdir -p var
	DEBUG=true $(PY) manage.py migrate --noinput
	@# The demo's notification e-mails go to var/mail/ (django-environ reads filemail:///var/mail
	@# as the relative path var/mail), not over the banner below.
	DEBUG=true EMAIL_URL=filemail:///var/mail $(PY) manage.py seed_demo
	DEBUG=true EMAIL_URL=filemail:///var/mail $(PY) manage.py sync_crm
	@DEBUG=true $(PY) manage.py demo_users --url http://$(HOST)/
	DEBUG=true $(PY) manage.py runserver $(HOST)

test: install
	@bin/system-packages test
	@mkdir -p var
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=true $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

# Dealdesk as production runs it, on this machine: bin/up starts PostgreSQL and Redis as
# throwaway services unless DATABASE_URL / REDIS_URL are given, migrates, seeds the demo,
# then honcho runs the Procfile until Ctrl-C, which stops everything (docs/deploy.md).
up: install
	@bin/system-packages up
	bin/up

bench: install
	$(PY) bench/run.py

# Issue 16's load and fault figures alone: 50 users on gunicorn under a CRM sync and Stripe
# webhooks, then a worker killed, Redis stopped and PostgreSQL restarted (docs/load.md).
bench-ops: install
	$(PY) bench/run.py --only bench_load.py bench_faults.py

lint:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var staticfiles

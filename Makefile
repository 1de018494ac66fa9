# The two commands: `make run` (set up, seed the demo, serve) and `make test` (the whole suite).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1:8000

.PHONY: install run test bench lint format clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the declared dependencies change.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet . --group test
	@rm -rf build *.egg-info
	@touch $@

# The laptop's settings: DEBUG on (its fallback keys, console mail). Production sets its
# own environment and has no .env; an existing one is left as its owner made it.
.env:
	@printf '# This machine is a laptop: see dealdesk/settings.py and docs/deployment.md.\nDEBUG=true\n' > $@

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

bench: install
	$(PY) bench/run.py

lint:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var staticfiles

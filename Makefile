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

run: install
	@mkdir -p var
	DEBUG=true $(PY) manage.py migrate --noinput
	DEBUG=true $(PY) manage.py seed_demo
	DEBUG=true $(PY) manage.py sync_crm
	DEBUG=true $(PY) manage.py runserver $(HOST)

test: install
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

# Switchboard. `make run` starts everything; `make test` runs the whole suite.
# Both set up what they need on a fresh machine (a venv under .venv; Debian's chromium).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench fuzz chromium clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py demo_data
	$(PY) manage.py up

# The browser tests drive Debian's chromium (never a browser downloaded by a test tool).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get install -y -q chromium >/dev/null || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium >/dev/null; } || \
	  echo "Could not install chromium: the browser tests will be skipped (and fail under CI)."; }

# The boundary tests (input from outside) run a second time on PostgreSQL: NUL, column
# lengths and jsonb's limits are only enforced there. Skipped where PostgreSQL does not
# answer, except under CI.
BOUNDARY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/switchboard
test: $(VENV)/.installed-dev chromium
	$(PY) -m pytest $(PYTEST_ARGS)
	@if [ -n "$$CI" ] || $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
	  echo "The boundary tests again, on PostgreSQL"; \
	  DATABASE_URL=$(BOUNDARY_DATABASE_URL) $(PY) -m pytest -m boundary $(PYTEST_ARGS); \
	else echo "PostgreSQL does not answer on 127.0.0.1:5432: the boundary tests ran on SQLite only"; fi

# Ten thousand webhooks (FUZZ_WEBHOOKS) against a running stack on PostgreSQL and Redis, then
# a thousand mutes and unmutes watched by a browser (make test runs one hundred).
fuzz: $(VENV)/.installed-dev chromium
	$(PY) -m pytest tests/fuzz -m fuzz -s $(PYTEST_ARGS)
	MANY_MUTES=1000 $(PY) -m pytest tests/e2e/test_many_mutes.py -s $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(PY) -m pytest tests/benchmarks -m benchmark -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var

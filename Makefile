# Switchboard. `make run` starts everything; `make test` runs the whole suite.
# Both set up what they need on a fresh machine (a venv under .venv; Debian's chromium).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-in-process bench fuzz chromium clean

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

# The whole suite, as two runs side by side: the tests that start processes and depend on
# time (whole stacks and a browser, mostly waiting on them; the sandbox on its fast clock),
# and, niced, every other test followed by the boundary tests again on PostgreSQL. Each run has its own Redis database and VAR_DIR (its
# SQLite test database). With PYTEST_ARGS, one pytest run with those arguments instead.
STACK_TESTS := tests/e2e tests/faults tests/integration tests/sandbox
IN_PROCESS_REDIS_URL ?= redis://127.0.0.1:6379/14
test: $(VENV)/.installed-dev chromium
ifdef PYTEST_ARGS
	$(PY) -m pytest $(PYTEST_ARGS)
else
	@other=$$(mktemp -d); \
	( TEST_REDIS_URL=$(IN_PROCESS_REDIS_URL) VAR_DIR=$(CURDIR)/var/in-process-tests nice -n 10 $(MAKE) --no-print-directory test-in-process > $$other/log 2>&1; \
	  echo $$? > $$other/status ) & \
	$(PY) -m pytest $(STACK_TESTS); stacks=$$?; \
	wait; echo "== The in-process tests, run beside the stack tests =="; cat $$other/log; \
	[ $$stacks = 0 ] && [ "$$(cat $$other/status)" = 0 ]
endif

# The boundary tests (input from outside) run a second time on PostgreSQL: NUL, column
# lengths and jsonb's limits are only enforced there. Skipped where PostgreSQL does not
# answer, except under CI.
BOUNDARY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/switchboard
test-in-process: $(VENV)/.installed-dev
	$(PY) -m pytest $(addprefix --ignore=,$(STACK_TESTS))
	@if [ -n "$$CI" ] || $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
	  echo "The boundary tests again, on PostgreSQL"; \
	  DATABASE_URL=$(BOUNDARY_DATABASE_URL) $(PY) -m pytest -m boundary; \
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

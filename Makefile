# Gatehouse: `make run` serves a working server, `make test` runs the whole suite.
# Both create .venv and install everything on a fresh machine (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The mail worker runs beside the server; Ctrl-C, a TERM to make, or the server
# stopping on its own stops both (`wait` lets the trap run at once).
run: install
	$(BIN)/gatehouse init --admin
	$(BIN)/gatehouse worker & worker=$$!; \
	$(BIN)/gatehouse serve --host $(HOST) --port $(PORT) & server=$$!; \
	trap 'kill $$server $$worker 2>/dev/null' INT TERM; \
	wait $$server; status=$$?; kill $$worker 2>/dev/null; wait $$server $$worker; exit $$status

# The browser tests drive Debian's chromium (never a downloaded browser): install it if
# missing and we may (root); otherwise those tests say why they cannot run.
test: install
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "could not install chromium: the browser tests will be skipped" >&2
	$(BIN)/ruff check app tests bench
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
		|| (echo "bench needs wrk: apt-get install wrk" >&2; exit 1)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Gatehouse: `make run` serves a working server, `make test` runs the whole suite.
# Both create .venv and install everything on a fresh machine (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint lock bench soak clean

# Installs the exact versions of constraints.txt (the ranges are in pyproject.toml).
$(STAMP): pyproject.toml constraints.txt
	@echo "Installing into $(VENV) (first run: a minute or two)..."
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# Initialise, then serve with the mail worker beside it; says where the console is
# once it answers, and stops cleanly on Ctrl-C or a TERM to make.
run: install
	@$(BIN)/python scripts/run_local.py --host $(HOST) --port $(PORT)

# Refresh constraints.txt: the newest versions pyproject.toml allows, from a fresh venv.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e '.[test,bench]'
	{ sed -n '1,/^# `make lock`/p' constraints.txt; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .lock-venv

# The browser tests drive Debian's chromium (never a downloaded browser): install it if
# missing and we may (root); otherwise those tests say why they cannot run.
test: install
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "could not install chromium: the browser tests will be skipped" >&2
	$(BIN)/ruff check app tests bench scripts
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check app tests bench scripts
	$(BIN)/ruff format --check app tests bench scripts

# Gatehouse beside node oidc-provider (../shared/peers) and bare Flask, on SQLite, and on
# PostgreSQL when GATEHOUSE_BENCH_DATABASE_URL is set. BENCH_ARGS adds options, e.g.
# BENCH_ARGS="--servers granian,gunicorn,gunicorn-fast" to compare servers. gunicorn-fast's
# C parser (the bench extra) is installed only then: gunicorn's default parser is "auto",
# so once installed it would also change what `gatehouse serve` with gunicorn runs.
bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
		|| (echo "bench needs wrk: apt-get install wrk" >&2; exit 1)
	@case "$(BENCH_ARGS)" in *gunicorn-fast*) \
		$(BIN)/python -c "import gunicorn_h1c" 2>/dev/null || \
		$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,bench]' || \
		echo "could not install gunicorn_h1c: gunicorn-fast will be skipped" >&2;; esac
	$(BIN)/python -m bench $(BENCH_ARGS)

# Does the server hold up: 200,000 requests, SIGKILL of a worker, SIGTERM, JSON logs
# (a few minutes; not part of the test suite). SOAK_ARGS adds options, e.g. "--server gunicorn".
soak: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
		|| (echo "bench needs wrk: apt-get install wrk" >&2; exit 1)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .lock-venv .pytest_cache .ruff_cache

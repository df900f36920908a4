# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
#
# Installs come from the committed lock files in requirements/ (made by uv, with hashes):
#   runtime.txt  what the bot needs              (make run, the Docker image)
#   dev.txt      runtime + maintainers' tools + test tools   (make test, CI)
#   bench.txt    dev + the benchmark's reference (aiogram) and profiler   (make bench)
# pyproject.toml keeps the compatible ranges; `make lock` re-resolves them into the locks.
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
LOCK := $(UV) pip compile --universal --python-version 3.11 --generate-hashes --quiet --no-header
SYNC = $(UV) pip sync --quiet --require-hashes --python $(BIN)/python
EDITABLE = $(UV) pip install --quiet --no-deps --no-build-isolation --python $(BIN)/python -e .

.PHONY: run test test-latest lint check install browser servers lock bench suite

# The installer itself (uv), pinned by hash, into a fresh venv.
$(UV): requirements/bootstrap.txt
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/bootstrap.txt
	touch $(UV)

# The dev set contains the runtime set, so a venv made for the tests also serves `make run`.
$(VENV)/.runtime: requirements/runtime.txt | $(UV)
	$(SYNC) requirements/runtime.txt
	$(EDITABLE)
	touch $@

$(VENV)/.dev: requirements/dev.txt | $(UV)
	$(SYNC) requirements/dev.txt
	$(EDITABLE)
	touch $@ $(VENV)/.runtime

$(VENV)/.bench: requirements/bench.txt | $(UV)
	$(SYNC) requirements/bench.txt
	$(EDITABLE)
	touch $@ $(VENV)/.runtime

install: $(VENV)/.dev

run: $(VENV)/.runtime
	$(BIN)/onboard locales compile >/dev/null
	$(BIN)/onboard run

lock: | $(UV)
	$(LOCK) pyproject.toml requirements/tools.in -o requirements/runtime.txt
	$(LOCK) pyproject.toml requirements/tools.in --extra maint --extra dev -o requirements/dev.txt
	$(LOCK) pyproject.toml requirements/tools.in --extra maint --extra dev --extra bench \
	    -o requirements/bench.txt
	grep '^uv==' requirements/tools.in | $(LOCK) - -o requirements/bootstrap.txt

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: $(VENV)/.dev
	$(BIN)/onboard flows check
	$(BIN)/onboard locales check

# The password-page tests drive Debian's Chromium through Playwright (Playwright downloads
# nothing) and check each page with axe-core (npm ci from tests/web/axe/package-lock.json,
# hashed); the service-PIN PDF embeds DejaVu Sans for non-Latin scripts. Needs root (apt-get).
browser:
	@command -v chromium >/dev/null 2>&1 && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
	|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     --no-install-recommends chromium fonts-dejavu-core >/dev/null; }
	@test -f tests/web/axe/node_modules/axe-core/axe.min.js \
	|| npm ci --prefix tests/web/axe --no-audit --no-fund --ignore-scripts --silent

# The many-machines tests (tests/cluster, marker `cluster`) start Debian's PgBouncer and nginx
# themselves, on free loopback ports; the packages' own services are not started (RUNLEVEL=1).
# Needs root (apt-get).
servers:
	@command -v pgbouncer >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 \
	|| { apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     --no-install-recommends pgbouncer nginx >/dev/null; }

# What `make test` and `make test-latest` both run, with the tools of $(BIN).
suite: browser servers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/onboard flows check
	$(BIN)/onboard locales check
	$(BIN)/onboard locales compile >/dev/null
	$(BIN)/pytest

test: $(VENV)/.dev
	$(MAKE) --no-print-directory suite

# The suite against the newest releases that pyproject's ranges allow, in a venv of its own
# (.venv-latest), ignoring the locks: finds drift on purpose. Not part of CI.
test-latest:
	python3 -m venv .venv-latest
	.venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager \
	    -e '.[maint,dev]'
	$(MAKE) --no-print-directory suite VENV=.venv-latest

# The benchmark (run by hand, ~3 minutes; never part of `make test`). aiogram is only its
# reference line (the `bench` extra); Redis db 12 and a PostgreSQL database of its own are used.
bench: $(VENV)/.bench
	$(BIN)/python -m bench

# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint check install browser

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/onboard locales compile >/dev/null
	$(BIN)/onboard run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: $(STAMP)
	$(BIN)/onboard flows check
	$(BIN)/onboard locales check

# The password-page tests drive Debian's Chromium through Playwright (Playwright downloads
# nothing); the service-PIN PDF embeds DejaVu Sans for non-Latin scripts.
browser:
	@command -v chromium >/dev/null 2>&1 && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
	|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     --no-install-recommends chromium fonts-dejavu-core >/dev/null; }

test: lint check browser
	$(BIN)/onboard locales compile >/dev/null
	$(BIN)/pytest

# The benchmark (run by hand, ~3 minutes; never part of `make test`). aiogram is only its
# reference line (the `bench` extra); Redis db 12 and a PostgreSQL database of its own are used.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet 'aiogram>=3.13,<4'
	$(BIN)/python -m bench

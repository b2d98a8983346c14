# jingwang — two commands set everything up: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
export UV_LINK_MODE ?= copy

.PHONY: env run test lint typecheck pytest chromium migrate demo bench clean

env:  ## create .venv from the committed uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen

chromium:  ## Debian chromium for Playwright and evidence screenshots (never downloaded by Playwright)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian chromium with apt-get"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "warning: /usr/bin/chromium is missing; browser tests will be skipped (apt-get install chromium)"; fi

migrate: env
	mkdir -p var
	$(RUN) jingwang db upgrade

# The demo's login (only used while the database has no user); bound to 127.0.0.1.
DEMO_ADMIN ?= admin:jingwang-demo

run: env migrate  ## sandbox + daemon + web UI on http://127.0.0.1:8000
	JINGWANG_DEMO_ADMIN="$${JINGWANG_DEMO_ADMIN:-$(DEMO_ADMIN)}" $(RUN) jingwang run --with-sandbox

lint: env
	$(RUN) ruff check .
	$(RUN) ruff format --check . || true

typecheck: env
	$(RUN) mypy

pytest: env chromium
	$(RUN) pytest $(PYTEST_ARGS)

test: env chromium lint typecheck pytest

bench: env
	$(RUN) python bench/detect.py

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache

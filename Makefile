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

chromium:  ## Debian chromium + CJK fonts for Playwright, screenshots and certificate images
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || missing="$$missing fonts-noto-cjk"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "warning: missing Debian packages:$$missing (apt-get install$$missing); browser tests will be skipped"; fi

migrate: env
	mkdir -p var
	$(RUN) jingwang db upgrade

# The demo's login (only used while the database has no user); bound to 127.0.0.1.
DEMO_ADMIN ?= admin:jingwang-demo

run: env chromium migrate  ## sandbox + daemon + web UI on http://127.0.0.1:8000
	JINGWANG_DEMO_ADMIN="$${JINGWANG_DEMO_ADMIN:-$(DEMO_ADMIN)}" $(RUN) jingwang run --with-sandbox

lint: env
	$(RUN) ruff check .

typecheck: env
	$(RUN) mypy

pytest: env chromium
	$(RUN) pytest $(PYTEST_ARGS)

test: env chromium lint typecheck pytest

bench: env
	$(RUN) python bench/detect.py

clean:
	rm -rf .venv var .pytest_cache .mypy_cache .ruff_cache

# jingwang image: Debian with its own chromium (Playwright never downloads a browser).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN uv sync --frozen --no-dev
ENV PATH="/app/.venv/bin:$PATH" \
    JINGWANG_CHROMIUM=/usr/bin/chromium \
    PYTHONUNBUFFERED=1
# 8000: web UI (+ /healthz /readyz /metrics); 8001/8002: --ops-port of scheduler/worker
EXPOSE 8000 8001 8002
# SIGTERM lets a running crawl finish its current page (compose: stop_grace_period).
STOPSIGNAL SIGTERM
# One machine by default; docker-compose.yml runs the scheduler/worker/web roles.
CMD ["jingwang", "run"]

# syntax=docker/dockerfile:1
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite+aiosqlite:////data/onboard.db

WORKDIR /app
RUN groupadd --system --gid 10001 onboard \
    && useradd --system --uid 10001 --gid onboard --home-dir /app --shell /usr/sbin/nologin onboard \
    && mkdir /data \
    && chown 10001:10001 /data

# The runtime lock only (requirements/runtime.txt, hashes checked): no test or maintainer tools.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY storage ./storage
COPY locales ./locales
COPY demo ./demo

# Editable install keeps locales/ and demo/ next to the code (no dependencies: all came from
# the lock above); catalogs are compiled here, at build time, so the container never writes /app.
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
    && onboard locales compile

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# Liveness: GET 127.0.0.1:$PORT/healthz (`onboard health`; the slim image has no curl).
# Readiness (Redis, database, migrations) is /readyz, for an orchestrator: see README.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["onboard", "health"]
ENTRYPOINT ["onboard"]
CMD ["run"]

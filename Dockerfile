# prefect-server: the GraphQL API, the towel services and the database migrations in
# one process.
#
#   docker build -t prefect-server .
#   docker run -p 4200:4200 -v prefect-server-data:/data prefect-server
#
# By default the database is a SQLite file in the /data volume. For PostgreSQL set
#   -e PREFECT_SERVER__DATABASE__CONNECTION_URL=postgresql://user:password@host:5432/prefect
# (replicas sharing one PostgreSQL: run `prefect-server database upgrade -y` once and
# start them with PREFECT_SERVER__DATABASE__MIGRATE_ON_START=false).

# Build: `python -m build`, as a release and CI do (tests/test_packaging.py); the image
# runs the wheel it makes, so the image and the published package cannot differ.
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY prefect_server ./prefect_server
COPY alembic ./alembic
RUN pip install build \
    && python -m build --wheel --outdir /dist .

# Run: the wheel and its dependencies, no sources, no build tools.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY --from=build /dist /tmp/dist
RUN pip install /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --create-home --uid 1000 prefect \
    && mkdir -p /data \
    && chown prefect:prefect /data

USER prefect
WORKDIR /home/prefect
ENV PREFECT_SERVER__HOME=/data \
    PREFECT_SERVER__PORT=4200
VOLUME ["/data"]
EXPOSE 4200

# No curl in the slim image: Python checks /health on the configured port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PREFECT_SERVER__PORT', '4200'), timeout=4)"]

CMD ["prefect-server", "start", "--host", "0.0.0.0"]

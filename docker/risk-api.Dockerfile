# syntax=docker/dockerfile:1
# The store's simulator (storepipe[simulator]): by default the risk-score API, a source of the
# pipeline, as the FastAPI app under uvicorn reading the customer DB as the read-only role
# (SOURCE_DB_URL); compose's generator runs `storepipe generate --follow` from it too. The
# pipeline's own image installs none of this. Build context: the repository root.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY storepipe ./storepipe
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check ".[simulator]"

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STOREPIPE_SQL_DIR=/opt/storepipe/sql
RUN useradd --system --uid 10002 --user-group --no-create-home riskapi
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/storepipe
COPY sql ./sql
COPY docker/healthcheck.py ./docker/
USER 10002:10002
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "/opt/storepipe/docker/healthcheck.py", "--http", "http://127.0.0.1:8000/healthz"]
CMD ["uvicorn", "storepipe.simulator.risk_api_app:app", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]

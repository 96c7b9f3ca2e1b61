# syntax=docker/dockerfile:1
# The storepipe pipeline image: one image for luigid, the cron worker and the one-shot jobs
# (migrations, bucket creation, the data generator). Build context: the repository root.

FROM python:3.11-slim-bookworm AS supercronic
# cron for containers: runs as a non-root user, passes the container's environment to its jobs
ARG SUPERCRONIC_VERSION=v0.2.33
ARG TARGETARCH=amd64
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN case "${TARGETARCH}" in \
      amd64) sha1=71b0d58cc53f6bd72cf2f293e09e294b79c666d8 ;; \
      arm64) sha1=e0f0c06ebc5627e43b25475711e694450489ab00 ;; \
      *) echo "no supercronic checksum for ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && python -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], "/supercronic")' \
      "https://github.com/aptible/supercronic/releases/download/${SUPERCRONIC_VERSION}/supercronic-linux-${TARGETARCH}" \
 && echo "${sha1}  /supercronic" | sha1sum -c - \
 && chmod 0755 /supercronic

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY storepipe ./storepipe
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STOREPIPE_SQL_DIR=/opt/storepipe/sql \
    STOREPIPE_HOME=/var/lib/storepipe/home \
    LUIGI_CONFIG_PATH=/opt/storepipe/docker/luigi.cfg
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/storepipe storepipe \
 && mkdir -p /var/lib/storepipe/luigid /var/lib/storepipe/home /var/log/storepipe \
 && chown -R storepipe:storepipe /var/lib/storepipe /var/log/storepipe
COPY --from=supercronic /supercronic /usr/local/bin/supercronic
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/storepipe
# luigi.cfg in the working directory: the [retcode] codes and storepipe's knobs; docker/luigi.cfg adds luigid's
COPY luigi.cfg ./
COPY sql ./sql
COPY docker/luigi.cfg docker/crontab docker/healthcheck.py docker/create_buckets.py ./docker/
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
  CMD ["python", "/opt/storepipe/docker/healthcheck.py", "--postgres", "WAREHOUSE_URL"]
CMD ["supercronic", "/opt/storepipe/docker/crontab"]

"""Apply the forward-only schema migrations in sql/migrations/<db>/ with yoyo."""

from __future__ import annotations

import logging

from yoyo import get_backend, read_migrations

from storepipe import sqlfiles

log = logging.getLogger(__name__)

DATABASES = ("source", "warehouse")


def migrate(url: str, which: str) -> list[str]:
    """Apply what is pending for `which` ("source" or "warehouse"); returns the ids applied (empty: a no-op)."""
    if which not in DATABASES:
        raise ValueError(f"unknown migration set {which!r}")
    backend = get_backend(url)
    migrations = read_migrations(str(sqlfiles.root() / "migrations" / which))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    applied = [m.id for m in pending]
    for migration_id in applied:
        log.info("applied %s migration %s", which, migration_id)
    return applied

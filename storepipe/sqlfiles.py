"""Load the project's .sql files by name (`load("transforms/marts/fct_orders")`); SQL never lives in Python strings.

Names are paths under `sql/` without `.sql`: `transforms/` and `checks/` are the models and audits,
`pipeline/<module>/` the statements each module runs, `devstack/` and `simulator/` the dev stack's.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from psycopg2 import sql as pgsql

from storepipe.errors import ConfigError

_BESIDE_PACKAGE = Path(__file__).resolve().parent.parent / "sql"


def root() -> Path:
    """The `sql/` folder: STOREPIPE_SQL_DIR, else the one beside the package (editable install, image)."""
    override = os.environ.get("STOREPIPE_SQL_DIR")
    return Path(override) if override else _BESIDE_PACKAGE


def path(name: str) -> Path:
    found = root() / f"{name}.sql"
    if not found.is_file():
        raise ConfigError(
            f"SQL file {name}.sql is missing",
            str(root()),
            "run from a checkout of storepipe, or point STOREPIPE_SQL_DIR at its sql/ folder",
        )
    return found


def load(name: str) -> str:
    return _load(root(), name)


@cache
def _load(folder: Path, name: str) -> str:
    # a window runs ~200 statements: each file is found and read once per process, not stat'ed each time
    return path(name).read_text(encoding="utf-8")


def compose(name: str, **parts: pgsql.Composable) -> pgsql.Composed:
    """A statement whose identifiers (`{target}`) are filled in safely; values stay `%(name)s` params."""
    return pgsql.SQL(load(name)).format(**parts)


def qualified(schema: str, table: str) -> pgsql.Identifier:
    return pgsql.Identifier(schema, table)


def forget() -> None:
    """Read the files again on their next use (a test that edits one)."""
    _load.cache_clear()

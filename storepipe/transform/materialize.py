"""Write one model's rows for one window: delete the slice it replaces, insert its SELECT.

A `window` model inserts straight from its SELECT (into a fresh partition that replaces the window's
old one, when its table is partitioned by window); a `by_key` model stages its rows first, because
the keys to delete are only known from them. (An upsert, `on conflict do update`, measured 1.6x the
time of staging then inserting for fct_orders' 1M rows: each row is a speculative insertion.) An
`ephemeral` model writes nothing: its SELECT is inlined into the models and checks that read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg2 import sql as pgsql

from storepipe import sqlfiles
from storepipe.errors import ModelError
from storepipe.transform import models
from storepipe.transform.models import Model
from storepipe.warehouse import db, windows
from storepipe.window import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """The statements that replace a model's slice, their parameters, and which one inserts the rows."""

    steps: list[pgsql.Composable]
    params: dict
    inserts: int


def plan(cur, model: Model, window: Window) -> Plan:
    if model.ephemeral:
        readers = [m.name for m in models.discover().values() if model.name in m.upstream]
        raise ModelError(
            f"{model.name} is ephemeral: it has no table, its SELECT runs inside {', '.join(readers)}",
            model.file,
            f"`storepipe sql show {readers[0] if readers else '<model>'}` shows it inlined",
        )
    names = columns(cur, model, window)
    if model.strategy == "by_key":
        drop = pgsql.SQL(sqlfiles.load("pipeline/materialize/drop_rows"))
        steps = [stage(model), delete_keys(model), insert(model, names), drop]
        return Plan(steps, window.sql_params(), inserts=2)
    replacing = windows.replacement(cur, model.schema, model.name, window)
    steps = [*replacing.before, insert_model(model, names, replacing.target), *replacing.after]
    return Plan(steps, replacing.params, inserts=len(replacing.before))


def stage(model: Model) -> pgsql.Composed:
    return sqlfiles.compose("pipeline/materialize/stage_rows", model=_body(model))


def _body(model: Model) -> pgsql.SQL:
    return pgsql.SQL(model.sql.strip().rstrip(";"))


def columns(cur, model: Model, window: Window) -> list[str]:
    """The model's output columns, read from the planner without computing a row."""
    cur.execute(sqlfiles.compose("pipeline/materialize/describe", model=_body(model)), window.sql_params())
    return [c.name for c in cur.description]


def statements(cur, model: Model, window: Window) -> list[str]:
    """The exact statements a task runs for the window, values bound (for `storepipe sql show`)."""
    planned = plan(cur, model, window)
    return [cur.mogrify(step, planned.params).decode() for step in planned.steps]


def delete_keys(model: Model) -> pgsql.Composed:
    """Delete the rows of the keys just staged (a `by_key` model)."""
    target = sqlfiles.qualified(model.schema, model.name)
    return sqlfiles.compose("pipeline/materialize/delete_keys", target=target, key=pgsql.Identifier(model.key))


def insert(model: Model, columns: list[str]) -> pgsql.Composed:
    """Insert the staged rows."""
    names = pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
    return sqlfiles.compose(
        "pipeline/materialize/insert_rows", target=sqlfiles.qualified(model.schema, model.name), columns=names
    )


def insert_model(model: Model, columns: list[str], target: pgsql.Identifier | None = None) -> pgsql.Composed:
    """Insert the model's SELECT straight (nothing staged), into its table or a fresh partition."""
    names = pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
    target = target or sqlfiles.qualified(model.schema, model.name)
    return sqlfiles.compose("pipeline/materialize/insert_model", target=target, columns=names, model=_body(model))


def materialize(cur, model: Model, window: Window) -> int:
    """Replace the model's slice for `window` inside the caller's transaction; returns rows inserted."""
    planned = plan(cur, model, window)
    for number, step in enumerate(planned.steps):
        cur.execute(step, planned.params)
        if number == planned.inserts:
            rows = cur.rowcount
    analyze_if_due(cur, model, rows)
    log.info("%s %s: %d rows", model.relation, window, rows)
    return rows


def analyze_if_due(cur, model: Model, rows: int) -> None:
    """Analyze the model's table now when autovacuum would after these `rows` (needs_analyze.sql says
    why): the checks that read it next, in this transaction, are then planned for what it holds."""
    cur.execute(sqlfiles.load("pipeline/materialize/needs_analyze"), {"relation": model.relation, "rows": rows})
    if cur.fetchone()[0]:
        db.analyze(cur, sqlfiles.qualified(model.schema, model.name))


def require_columns(cur, window: Window) -> None:
    """Refuse, in one line naming the migration to write, a model that selects a column its table lacks
    (the insert would fail in every window; a migration must add it first)."""
    every = models.built()
    cur.execute(sqlfiles.load("pipeline/versions/table_columns"), {"schemas": sorted({m.schema for m in every})})
    have: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in cur.fetchall():
        have.setdefault((schema, table), set()).add(column)
    for model in every:
        cur.execute(sqlfiles.compose("pipeline/materialize/describe", model=_body(model)), window.sql_params())
        missing = [
            (c.name, c.type_code) for c in cur.description if c.name not in have.get((model.schema, model.name), ())
        ]
        if missing:
            adds = []
            for name, type_code in missing:
                cur.execute(sqlfiles.load("pipeline/versions/type_name"), {"type_oid": type_code})
                adds.append(f"add column {name} {cur.fetchone()[0]}")
            number = 1 + max(int(p.name[:4]) for p in (sqlfiles.root() / "migrations" / "warehouse").glob("[0-9]*.sql"))
            raise ModelError(
                f"{model.name} selects {', '.join(n for n, _ in missing)}, which {model.relation} does not have",
                model.file,
                f"write the migration sql/migrations/warehouse/{number:04d}_{model.name}_columns.sql"
                f" (alter table {model.relation} {', '.join(adds)}) and run `storepipe migrate`",
            )

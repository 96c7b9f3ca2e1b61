"""Replace one window's rows of a table: the one rule every load and every window model goes through.

A table partitioned by window (store.orders: the table that grows with the order
volume) gets a fresh table, created in the caller's transaction and swapped in for the window's
partition at the end, or, once the window's day is rolled up into one partition (`partitions`),
moved into that day's partition in place of the window's old rows; any other table has the window's
rows deleted before the new ones go in.
Either way the caller fills `target` between `before` and `after`, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from psycopg2 import sql as pgsql

from storepipe import sqlfiles
from storepipe.warehouse import db
from storepipe.window import Window

ANALYZE_FROM = 4 * 1024 * 1024  # bytes of a fresh window table (about 35,000 orders) worth analyzing


@dataclass(frozen=True)
class Replacement:
    """Run `before`, fill `target` with the window's rows, run `after`; all with `params`.

    `fresh`: `target` is a table `before` creates in the caller's transaction, so a COPY into it may
    write its rows frozen (`db.copy_csv(freeze=True)`).
    """

    before: list[pgsql.Composable]
    target: pgsql.Identifier
    after: list[pgsql.Composable]
    params: dict
    fresh: bool = False


def is_partitioned(cur, schema: str, table: str) -> bool:
    cur.execute(sqlfiles.load("pipeline/windows/is_partitioned"), {"relation": f"{schema}.{table}"})
    return bool(cur.fetchone()[0])


def replacement(cur, schema: str, table: str, window: Window) -> Replacement:
    """The statements that replace `window`'s rows of `schema.table`."""
    params = window.sql_params()
    parent = sqlfiles.qualified(schema, table)
    if not is_partitioned(cur, schema, table):
        delete = sqlfiles.compose("pipeline/windows/delete_window", target=parent)
        return Replacement([delete], parent, [], params)
    cur.execute(sqlfiles.load("pipeline/windows/window_partition_name"), {**params, "parent": table})
    fresh = f"{cur.fetchone()[0]}_new"
    create = pgsql.SQL(sqlfiles.load("pipeline/windows/create_window_table"))
    target = sqlfiles.qualified(schema, fresh)
    swap = pgsql.SQL(sqlfiles.load("pipeline/windows/swap_in_window"))
    params = {**params, "parent": f"{schema}.{table}", "fresh": fresh}
    return Replacement([create], target, [swap], params, fresh=True)


def analyze_if_large(cur, plan: Replacement) -> None:
    """Statistics for a fresh window table filled with enough rows for plans to go wrong without them
    (pipeline/db/analyze_table.sql says how), before it is swapped in."""
    relation = plan.target.as_string(cur)  # "store"."orders_…_new", as regclass reads it
    cur.execute(sqlfiles.load("pipeline/windows/worth_analyzing"), {"relation": relation, "min_bytes": ANALYZE_FROM})
    if cur.fetchone()[0]:
        db.analyze(cur, plan.target)


@contextmanager
def replace_window(cur, schema: str, table: str, window: Window) -> Iterator[Replacement]:
    """Yield the plan whose `target` to fill with the window's rows; on exit they are the window's rows of
    `schema.table`.

    Filling an unindexed table created in this transaction is as fast as PostgreSQL writes, and a
    partitioned parent is locked only by the final swap, from then until the caller's commit.
    """
    plan = replacement(cur, schema, table, window)
    for statement in plan.before:
        cur.execute(statement, plan.params)
    yield plan
    if plan.fresh:
        analyze_if_large(cur, plan)
    for statement in plan.after:
        cur.execute(statement, plan.params)

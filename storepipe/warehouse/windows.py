"""Replace one window's rows of a table: the one rule every load and every window model goes through.

A table partitioned by window (store.orders: the table that grows with the order
volume) gets a fresh table, created in the caller's transaction and swapped in for the window's
partition at the end, or, once the window's day is rolled up into one partition (`partitions`),
moved into that day's partition in place of the window's old rows; any other table has the window's
rows deleted before the new ones go in.
Either way the caller fills `target` between `before` and `after`, in one transaction.

An extract may have filled the window's table already, as it landed the window's first segment in
the lake (`landed_copy`): the load then swaps that table in and copies only the later segments.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from psycopg2 import sql as pgsql

from storepipe import sqlfiles, streams
from storepipe.warehouse import db
from storepipe.window import Window

log = logging.getLogger(__name__)

ANALYZE_FROM = 4 * 1024 * 1024  # bytes of a fresh window table (about 35,000 orders) worth analyzing


@dataclass(frozen=True)
class Replacement:
    """Run `before`, fill `target` with the window's rows, run `after`; all with `params`.

    `fresh`: `target` is a table `before` creates in the caller's transaction, so a COPY into it may
    write its rows frozen (`db.copy_csv(freeze=True)`). `landed`: `target` is the table an extract
    filled with the window's first segment (`landed_copy`); the caller adds only the segments after it.
    """

    before: list[pgsql.Composable]
    target: pgsql.Identifier
    after: list[pgsql.Composable]
    params: dict
    fresh: bool = False
    landed: bool = False


def is_partitioned(cur, schema: str, table: str) -> bool:
    cur.execute(sqlfiles.load("pipeline/windows/is_partitioned"), {"relation": f"{schema}.{table}"})
    return bool(cur.fetchone()[0])


def replacement(cur, schema: str, table: str, window: Window, first_segment: str | None = None) -> Replacement:
    """The statements that replace `window`'s rows of `schema.table`; with the table an extract filled
    with `first_segment` (the window's first), if it left one."""
    params = window.sql_params()
    parent = sqlfiles.qualified(schema, table)
    if not is_partitioned(cur, schema, table):
        delete = sqlfiles.compose("pipeline/windows/delete_window", target=parent)
        return Replacement([delete], parent, [], params)
    cur.execute(
        sqlfiles.load("pipeline/windows/window_partition_name"),
        {**params, "parent": table, "schema": schema, "segment": first_segment},
    )
    partition, landed_name, landed = cur.fetchone()
    swap = pgsql.SQL(sqlfiles.load("pipeline/windows/swap_in_window"))
    if landed:
        params = {**params, "parent": f"{schema}.{table}", "fresh": landed_name}
        return Replacement([], sqlfiles.qualified(schema, landed_name), [swap], params, landed=True)
    fresh = f"{partition}_new"
    create = pgsql.SQL(sqlfiles.load("pipeline/windows/create_window_table"))
    params = {**params, "parent": f"{schema}.{table}", "fresh": fresh}
    return Replacement([create], sqlfiles.qualified(schema, fresh), [swap], params, fresh=True)


def analyze_if_large(cur, plan: Replacement) -> None:
    """Statistics for a fresh window table filled with enough rows for plans to go wrong without them
    (pipeline/db/analyze_table.sql says how), before it is swapped in."""
    relation = plan.target.as_string(cur)  # "store"."orders_…_new", as regclass reads it
    cur.execute(sqlfiles.load("pipeline/windows/worth_analyzing"), {"relation": relation, "min_bytes": ANALYZE_FROM})
    if cur.fetchone()[0]:
        db.analyze(cur, plan.target)


@contextmanager
def replace_window(
    cur, schema: str, table: str, window: Window, first_segment: str | None = None
) -> Iterator[Replacement]:
    """Yield the plan whose `target` to fill with the window's rows (all but `first_segment`'s when
    `plan.landed`); on exit they are the window's rows of `schema.table`.

    Filling an unindexed table created in this transaction is as fast as PostgreSQL writes, and a
    partitioned parent is locked only by the final swap, from then until the caller's commit.
    """
    plan = replacement(cur, schema, table, window, first_segment)
    for statement in plan.before:
        cur.execute(statement, plan.params)
    yield plan
    if plan.fresh or plan.landed:
        analyze_if_large(cur, plan)
    for statement in plan.after:
        cur.execute(statement, plan.params)


class LandedCopy:
    """What `landed_copy` yields: `write` takes the lake object's bytes as they are written; `rows` is
    set by the caller to the rows it landed, which the copy must hold to be kept."""

    def __init__(self, write=None):
        self.write = write or (lambda chunk: None)
        self.rows: int | None = None


@contextmanager
def landed_copy(cur, schema: str, table: str, window: Window, segment: str, columns: list[str]) -> Iterator[LandedCopy]:
    """Copy the lake object an extract is writing for `segment`, the window's first, into a fresh window
    table of `schema.table` as its bytes are written: a COPY in a thread, on the extract's transaction,
    so PostgreSQL parses the rows on one core while the extract validates them on the other. The load
    then swaps that table in (`replace_window(first_segment=...)`) instead of copying the lake object.

    The copy is kept, committed with the extract's marker, only if it holds as many rows as the caller
    says it landed (`LandedCopy.rows`); a lake object kept from an earlier run streams no bytes, so it
    is never taken for a copy of nothing. A copy that fails is dropped and logged, not raised: the
    extract still commits, and the load reads the lake. An error of the caller's abandons the COPY.
    """
    cur.execute(
        sqlfiles.load("pipeline/windows/create_landed_table"),
        {"parent": f"{schema}.{table}", "window_start": window.start, "segment": segment},
    )
    name = cur.fetchone()[0]
    if name is None:  # not partitioned by window: the load deletes and inserts
        yield LandedCopy()
        return
    target = sqlfiles.qualified(schema, name)
    with streams.pour_into(lambda reader: db.copy_csv(cur, target, columns, reader, freeze=True)) as poured:
        copy = LandedCopy(poured.write)
        yield copy
    if poured.error is None and poured.result == copy.rows:
        return
    if poured.error is not None:
        log.warning(
            "%s %s: the warehouse copy made while landing failed (%s); the load reads the lake instead",
            table,
            window.label,
            str(poured.error).strip().splitlines()[0] if str(poured.error).strip() else type(poured.error).__name__,
        )
    cur.execute(sqlfiles.load("pipeline/windows/drop_landed_copy"))

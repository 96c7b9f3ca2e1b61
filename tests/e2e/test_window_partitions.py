"""Replacing a window costs in proportion to the window: store.orders holds one partition per window,
and a load swaps in a new one without touching any other window's rows."""

from contextlib import closing
from urllib.parse import urlsplit, urlunsplit

import luigi
import psycopg2
from yoyo import get_backend, read_migrations

from storepipe import sqlfiles
from storepipe.cli import main
from storepipe.warehouse import windows
from tests.conftest import _admin
from tests.e2e.test_late_objects import _plant
from tests.helpers import query, run_windows, table_hashes

PARTITIONS = """
select child.relname, child.oid::bigint, pg_get_expr(child.relpartbound, child.oid)
from pg_inherits join pg_class as child on child.oid = pg_inherits.inhrelid
where pg_inherits.inhparent = %s::regclass
order by child.relname
"""


def _partitions(url: str, parent: str) -> dict[str, tuple]:
    return {name: (oid, bound) for name, oid, bound in query(url, PARTITIONS, (parent,))}


def test_a_forced_rerun_swaps_in_only_its_own_windows_partition(pipeline):
    parent = "store.orders"
    windows = [pipeline.window(0), pipeline.window(1)]
    for window in windows:
        pipeline.generate(window, customers=5, orders=40)
    assert run_windows(*windows).name == "SUCCESS"
    before = _partitions(pipeline.warehouse_url, parent)
    table = parent.split(".")[1]
    names = [f"{table}_{w.start:%Y%m%d_%H%M}" for w in windows]
    assert sorted(before) == names
    assert f"'{windows[0].start:%Y-%m-%d %H:%M:%S}'" in before[names[0]][1]
    hashes = table_hashes(pipeline.warehouse_url)

    query(pipeline.warehouse_url, "delete from storepipe.markers where window_start = %s", (windows[0].start,))
    assert run_windows(windows[0]).name == "SUCCESS"

    after = _partitions(pipeline.warehouse_url, parent)
    assert sorted(after) == names, "no fresh table is left behind, no window lost its partition"
    assert after[names[0]][0] != before[names[0]][0], "the re-run window is a new table"
    assert after[names[1]] == before[names[1]], "the other window was not touched"
    assert table_hashes(pipeline.warehouse_url) == hashes


def test_a_loaded_window_is_written_frozen_and_analyzed_when_large(pipeline, monkeypatch):
    """The window's orders are written once: frozen and all-visible as COPY writes them, so no reader
    sets hint bits on every page and no vacuum comes back to freeze them; and, when there are enough
    of them for plans to go wrong, analyzed in the load, so the marts and checks that read them next
    are planned for their real number. A small window is not (ANALYZE would cost more than it saves)."""
    small, large = pipeline.window(0), pipeline.window(1)
    pipeline.generate(small, customers=5, orders=300)
    pipeline.generate(large, customers=5, orders=300)
    stats = "select reltuples, relpages, relallvisible from pg_class where oid = %s::regclass"

    assert run_windows(small).name == "SUCCESS"
    [(estimated, _, _)] = query(pipeline.warehouse_url, stats, (f"store.orders_{small.start:%Y%m%d_%H%M}",))
    assert estimated == -1, "a small window's table is left to autovacuum"

    monkeypatch.setattr(windows, "ANALYZE_FROM", 1)  # as if its 300 orders were 35,000
    assert run_windows(large).name == "SUCCESS"
    partition = f"store.orders_{large.start:%Y%m%d_%H%M}"
    [(rows,)] = query(pipeline.warehouse_url, f"select count(*) from {partition}")
    [(estimated, pages, all_visible)] = query(pipeline.warehouse_url, stats, (partition,))
    assert rows >= 250 and estimated == rows, "the load analyzed the window's rows"
    # ANALYZE reads the visibility map: every page all-visible only if COPY wrote them frozen (a 300-row
    # table is below autovacuum's threshold, so no vacuum set them since)
    assert pages > 0 and all_visible == pages

    # a file filed under the window after it ran: the forced re-run loads a new frozen, analyzed table
    # with the late orders and the others (the backfill first rolled the window's day up into one
    # partition, so its rows move into the day's partition, as a re-run inside a closed day does)
    late = _plant(pipeline, large, "late-upload.csv", 20)
    luigi.task_register.Register.clear_instance_cache()
    assert main(["backfill", "--start", large.label, "--end", f"{large.end:%Y-%m-%dT%H:%M}", "--force"]) == 0
    [(facts,)] = query(
        pipeline.warehouse_url, "select count(*) from analytics.fct_orders where order_id::text = any(%s)", (late,)
    )
    assert facts == len(late)
    [(loaded,)] = query(
        pipeline.warehouse_url, "select count(*) from store.orders where window_start = %s", (large.start,)
    )
    assert loaded == rows + len(late)


def test_a_mart_is_analyzed_in_the_window_when_autovacuum_would_after_it(pipeline):
    """The checks read a mart inside the window's transaction, before autovacuum can analyze it: a
    window that writes enough rows to make autovacuum analyze a mart (never analyzed; or the server's
    threshold + scale factor of its rows) analyzes it itself; a small window leaves it to autovacuum."""
    first, second = pipeline.window(0), pipeline.window(1)
    pipeline.generate(first, customers=60, orders=40)
    pipeline.generate(second, customers=5, orders=40)
    stats = "select relname, reltuples from pg_class where oid in ('analytics.fct_orders'::regclass,"
    stats += " 'analytics.dim_customers'::regclass) order by relname"
    # as autovacuum leaves a new warehouse: dim_customers analyzed holding its unknown member only
    query(pipeline.warehouse_url, "analyze analytics.dim_customers")
    assert query(pipeline.warehouse_url, stats) == [("dim_customers", 1.0), ("fct_orders", -1.0)]
    assert run_windows(first).name == "SUCCESS"
    [(versions,)] = query(pipeline.warehouse_url, "select count(*) from analytics.dim_customers")
    [(facts,)] = query(pipeline.warehouse_url, "select count(*) from analytics.fct_orders")
    assert versions > 50 and query(pipeline.warehouse_url, stats) == [
        ("dim_customers", versions),
        ("fct_orders", facts),
    ]
    assert run_windows(second).name == "SUCCESS"
    # 40 more facts, 5 more customers: below autovacuum's threshold (50 rows), so left to it
    assert query(pipeline.warehouse_url, stats) == [("dim_customers", versions), ("fct_orders", facts)]


def _empty_database(pipeline, database: str) -> str:
    """A new, unmigrated warehouse database (dropped after the test); its URL."""
    admin = _admin(pipeline.env)
    with admin.cursor() as cur:
        cur.execute(f"create database {database} owner sde")
    admin.close()
    pipeline.databases.append(database)
    return urlunsplit(urlsplit(pipeline.warehouse_url)._replace(path=f"/{database}"))


def test_migrations_0008_and_0015_move_loaded_orders_into_one_partition_per_window(pipeline):
    url = _empty_database(pipeline, "warehouse_premigration")
    migrations = read_migrations(str(sqlfiles.root() / "migrations" / "warehouse"))
    backend = get_backend(url)
    try:
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id < "0008")))
        w1, w2 = pipeline.window(0).start, pipeline.window(1).start
        with closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
            cur.execute(
                "insert into store.orders select gen_random_uuid(), n, gen_random_uuid(), 'x', ws, ws"
                " from generate_series(1, 3) as n, unnest(array[%s, %s]::timestamp[]) as ws",
                (w1, w2),
            )
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id < "0015")))
        assert [(name, bound) for name, _, bound in query(url, PARTITIONS, ("store.orders",))] == [
            (f"orders_{w:%Y%m%d_%H%M}", f"FOR VALUES IN ('{w:%Y-%m-%d %H:%M:%S}')") for w in (w1, w2)
        ]
        # migration 0015 re-partitions by range (so that a rolled-up day is one bound), windows kept
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
    finally:
        backend.connection.close()

    assert [(name, bound) for name, _, bound in query(url, PARTITIONS, ("store.orders",))] == [
        (
            f"orders_{w:%Y%m%d_%H%M}",
            f"FOR VALUES FROM ('{w:%Y-%m-%d %H:%M:%S}') TO ('{w:%Y-%m-%d %H}:{w.minute + 1:02}:00')",
        )
        for w in (w1, w2)
    ]
    assert query(url, "select window_start, count(*) from store.orders group by 1 order by 1") == [(w1, 3), (w2, 3)]


def test_migration_0017_drops_stg_orders_with_its_markers_and_failures(pipeline):
    """stg_orders became ephemeral: its table goes, and so do its markers and recorded failures, which no
    task would ever follow with a marker (the failure would stay unresolved); other tasks' rows stay."""
    url = _empty_database(pipeline, "warehouse_pre0017")
    migrations = read_migrations(str(sqlfiles.root() / "migrations" / "warehouse"))
    backend = get_backend(url)
    window = pipeline.window(0).start
    try:
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations.filter(lambda m: m.id < "0017")))
        with closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
            for name in ("transform:stg_orders", "transform:stg_customers"):
                cur.execute(
                    "insert into storepipe.markers (task_name, window_start, task_id, row_count)"
                    " values (%s, %s, 'TransformModel(...)', 1)",
                    (name, window),
                )
                cur.execute(
                    "insert into storepipe.task_failures (task_name, window_start, task_id, error)"
                    " values (%s, %s, 'TransformModel(...)', 'statement timeout')",
                    (name, window),
                )
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
    finally:
        backend.connection.close()
    assert query(url, "select to_regclass('staging.stg_orders')") == [(None,)]
    for table in ("storepipe.markers", "storepipe.task_failures"):
        assert query(url, f"select task_name from {table}") == [("transform:stg_customers",)], table

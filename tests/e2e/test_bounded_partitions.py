"""Bounded partitions (README "Retention and partitions"): the cron path rolls closed days of
store.orders into one partition each and drops days past retention, so after
60 days of 5-minute windows a statement that cannot prune, a catalogue sync and pg_dump all work
with PostgreSQL's default lock settings; a window inside a rolled-up day is still replaced exactly."""

from __future__ import annotations

import datetime as dt
import subprocess
from contextlib import closing
from pathlib import Path

import luigi
import pgserver
import psycopg2
import pytest

from storepipe.cli import main
from storepipe.errors import ConfigError
from storepipe.tasks import ExtractOrders
from storepipe.warehouse import partitions
from storepipe.window import closed_until, grace
from tests.e2e.test_late_objects import _backfill, _plant
from tests.helpers import query, run_windows, storepipe_cli, table_hashes

PARENTS = ("store.orders",)
DAYS = 60
# The newest days get all 288 windows (one is rolled up whole, one stays), earlier ones their first half
# hour's: PostgreSQL makes about 100 partitions a second on a busy 2-core machine, so 60 full days of both
# tables (34,560 partitions) would take about ten minutes. Each day is still created, then rolled up by
# the cron path's own call, one day at a time.
FULL_DAYS = 2
EARLY_WINDOWS = 6
FIRST_DAY = dt.datetime(2025, 1, 1)

# one day's windows of one table: each window's partition (named as every swap names it) and one row in it
MAKE_DAY = """
do $$
declare
    ws timestamp;
begin
    for ws in select generate_series(%(day)s::timestamp, %(last)s::timestamp, interval '5 minutes')
    loop
        execute format('create table %%I.%%I partition of %%s for values from (%%L) to (%%L)', %(schema)s,
            storepipe.window_partition_name(%(table)s, ws), %(parent)s, ws, ws + interval '5 minutes');
    end loop;
end $$;
"""
ORDER_ROWS = """
insert into store.orders
select gen_random_uuid(), 1, gen_random_uuid(), 'x', ws, ws
from generate_series(%(day)s::timestamp, %(last)s::timestamp, interval '5 minutes') as ws
"""
PARTITION_NAMES = """
select child.relname
from pg_inherits join pg_class as child on child.oid = pg_inherits.inhrelid
where pg_inherits.inhparent = %s::regclass
order by 1
"""
# what Metabase's sync does: list every table and its columns, then probe each table it may read
CATALOGUE = """
select tables.table_schema, tables.table_name, count(columns.column_name)
from information_schema.tables
join information_schema.columns using (table_schema, table_name)
where tables.table_schema not in ('pg_catalog', 'information_schema')
group by 1, 2
"""


def _after(day: dt.datetime) -> dt.datetime:
    """The first cron run that can see the whole `day` closed."""
    return day + dt.timedelta(days=1, minutes=5) + grace()


def _pg_dump() -> Path:
    return Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"


def test_sixty_days_of_windows_stay_inside_default_lock_settings(pipeline):
    url = pipeline.warehouse_url
    assert query(url, "show max_locks_per_transaction") == [("64",)], "PostgreSQL's default lock table"
    assert query(url, "show max_prepared_transactions") == [("0",)]
    rows = 0
    with closing(psycopg2.connect(url)) as conn:
        for number in range(DAYS):
            day = FIRST_DAY + dt.timedelta(days=number)
            count = 288 if number >= DAYS - FULL_DAYS else EARLY_WINDOWS
            span = {"day": day, "last": day + dt.timedelta(minutes=5 * (count - 1))}
            with conn, conn.cursor() as cur:  # one day's windows commit together, as a day of cron runs would
                for parent in PARENTS:
                    schema, table = parent.split(".")
                    cur.execute(MAKE_DAY, {**span, "schema": schema, "table": table, "parent": parent})
                cur.execute(ORDER_ROWS, span)
            rows += count
            upkeep = partitions.keep_bounded(now=_after(day))  # what `storepipe backfill` runs after each day
            if number:
                assert upkeep.rolled_up == {p: [(day - dt.timedelta(days=1)).date()] for p in sorted(PARENTS)}

    last = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    windows_per_day = 288
    for parent in PARENTS:
        names = [name for (name,) in query(url, PARTITION_NAMES, (parent,))]
        table = parent.split(".")[1]
        rolled = [n for n in names if len(n) == len(table) + 9]
        assert len(rolled) == DAYS - 1 and rolled[0] == f"{table}_20250101", "every closed day is one partition"
        assert len(names) == DAYS - 1 + windows_per_day, "the last day keeps its windows' partitions"
        assert len(names) <= partitions.bound(retained_days=DAYS)
        assert all(n.startswith(f"{table}_{last:%Y%m%d}_") for n in names if n not in rolled)

    # an analyst's count, a catalogue sync (in one transaction: harder than Metabase's own) and a dump
    for parent in PARENTS:
        assert query(url, f"select count(*) from {parent}") == [(rows,)], "no row lost"
    with closing(psycopg2.connect(url)) as conn, conn, conn.cursor() as cur:
        cur.execute(CATALOGUE)
        tables = cur.fetchall()
        assert len(tables) > 2 * DAYS
        for schema, table, _ in tables:
            cur.execute(f'select true from "{schema}"."{table}" where 1 <> 1 limit 0')
    dumped = subprocess.run(
        [str(_pg_dump()), "--dbname", url, "--file", "/dev/null"], capture_output=True, text=True, timeout=120
    )
    assert dumped.returncode == 0, dumped.stderr

    # the next cron run on the same day changes nothing
    assert not partitions.keep_bounded(now=_after(last) + dt.timedelta(hours=3)).changed


def _orders_partitions(pipeline) -> list[str]:
    return [name for (name,) in query(pipeline.warehouse_url, PARTITION_NAMES, ("store.orders",))]


def test_a_forced_rerun_and_a_late_file_inside_a_rolled_up_day_give_the_same_marts(pipeline, request, capsys):
    windows = [pipeline.window(0), pipeline.window(1)]
    for window in windows:
        pipeline.generate(window, customers=5, orders=40)
    assert run_windows(*windows).name == "SUCCESS"
    hashes = table_hashes(pipeline.warehouse_url)

    # the day is long closed: the cron path rolls it into one partition, rows unchanged
    day = f"orders_{windows[0].start:%Y%m%d}"
    assert partitions.keep_bounded().rolled_up["store.orders"] == [windows[0].start.date()]
    assert _orders_partitions(pipeline) == [day]
    assert table_hashes(pipeline.warehouse_url) == hashes

    # a forced re-run replaces the window inside the day's partition: the same rows, no new partition
    span = ["--start", windows[0].label, "--end", f"{windows[1].end:%Y-%m-%dT%H:%M}", "--local-scheduler"]
    luigi.task_register.Register.clear_instance_cache()
    assert main(["backfill", *span, "--force"]) == 0
    assert table_hashes(pipeline.warehouse_url) == hashes
    assert _orders_partitions(pipeline) == [day]

    # a late file re-opens a window of the rolled-up day: its orders reach the marts once
    late_ids = _plant(pipeline, windows[1], "late-upload.csv", 3)
    settings = luigi.configuration.get_config()
    settings.set(
        "orders_bucket", "late_lookback", f"{int((closed_until() - windows[0].start).total_seconds())} seconds"
    )
    request.addfinalizer(lambda: settings.remove_option("orders_bucket", "late_lookback"))
    capsys.readouterr()
    assert _backfill(windows) == 0
    assert f"{windows[1].label}  re-opened: 1 late object(s)" in capsys.readouterr().err
    assert query(
        pipeline.warehouse_url,
        "select window_start, count(*) from analytics.fct_orders where order_id::text = any(%s) group by 1",
        (late_ids,),
    ) == [(windows[1].start, 3)]
    assert _orders_partitions(pipeline) == [day]
    rolled_up = table_hashes(pipeline.warehouse_url)

    # a warehouse that never rolled anything up, built from the same sources, holds the same rows
    pipeline.new_warehouse()
    assert run_windows(*windows).name == "SUCCESS"
    assert _orders_partitions(pipeline) == [f"orders_{w.start:%Y%m%d_%H%M}" for w in windows]
    assert table_hashes(pipeline.warehouse_url) == rolled_up


@pytest.fixture
def retention(request):
    settings = luigi.configuration.get_config()

    def keep(days: int) -> None:
        settings.set("warehouse", "retention_days", str(days))

    request.addfinalizer(lambda: settings.remove_option("warehouse", "retention_days"))
    return keep


def test_retention_drops_loaded_days_past_the_horizon_and_keeps_marts_and_history(pipeline, retention):
    window = pipeline.window(0)
    pipeline.generate(window, customers=5, orders=40)
    assert run_windows(window).name == "SUCCESS"
    url = pipeline.warehouse_url
    before = table_hashes(url)
    kept = (
        "staging.stg_customers",
        "staging.stg_customer_risk_score",
        "analytics.dim_customers",
        "analytics.fct_orders",
    )

    retention(30)
    soon = partitions.keep_bounded(now=window.start + dt.timedelta(days=29))
    assert not soon.dropped and not any(soon.deleted_rows.values()), "inside the horizon"
    assert table_hashes(url) == before

    later = partitions.keep_bounded(now=window.start + dt.timedelta(days=32))
    assert later.dropped == {p: [window.start.date()] for p in sorted(PARENTS)}
    assert later.deleted_rows["store.customers"] > 0
    for table in ("store.orders", "store.customers", "store.customer_risk_score"):
        assert query(url, f"select count(*) from {table}") == [(0,)], table
    # dim_customers is rebuilt from the whole change history in staging: that stays, as do the marts
    after = table_hashes(url)
    assert {t: after[t] for t in kept} == {t: before[t] for t in kept}
    assert partitions.counts() == {p: 0 for p in sorted(PARENTS)}

    retention(1)  # no longer than the late look-back (a day): refused in one line
    with pytest.raises(ConfigError, match="late_lookback"):
        partitions.keep_bounded(now=window.start + dt.timedelta(days=31))


def test_retention_drops_the_landed_table_of_a_window_extracted_and_never_loaded(pipeline, retention):
    """An extract copies its window's first segment into a table the load swaps in (windows.landed_copy);
    a window whose load never ran keeps that table until retention drops its day."""
    loaded, unloaded = pipeline.window(0), pipeline.window(1)
    for window in (loaded, unloaded):
        pipeline.generate(window, customers=5, orders=40)
    assert run_windows(loaded).name == "SUCCESS"
    luigi.task_register.Register.clear_instance_cache()
    assert luigi.build([ExtractOrders(window=unloaded)], local_scheduler=True, log_level="WARNING")
    landed = "select relname from pg_class where relname like 'orders\\_%\\_landed\\_%' and relkind = 'r'"
    assert [name for (name,) in query(pipeline.warehouse_url, landed)] == [
        f"orders_{unloaded.start:%Y%m%d_%H%M}_landed_{segment}"
        for (segment,) in query(
            pipeline.warehouse_url,
            "select segment from storepipe.lake_segments where window_start = %s",
            (unloaded.start,),
        )
    ]

    retention(30)
    dropped = partitions.keep_bounded(now=loaded.start + dt.timedelta(days=32))
    assert dropped.dropped == {"store.orders": [loaded.start.date()]}
    assert query(pipeline.warehouse_url, landed) == []


def test_backfill_keeps_partitions_bounded_on_every_run(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=3, orders=10)
    assert run_windows(window).name == "SUCCESS"
    end = f"{window.end:%Y-%m-%dT%H:%M}"
    # the window is complete: the run does no window's work, and still rolls its long-closed day up
    ran = storepipe_cli("backfill", "--start", window.label, "--end", end, "--local-scheduler")
    assert ran.returncode == 0, ran.stderr
    assert "store.orders: 1 day(s) rolled up, 1 partitions" in ran.stderr
    assert _orders_partitions(pipeline) == [f"orders_{window.start:%Y%m%d}"]


def test_a_roll_up_waits_for_a_swap_into_its_day_and_leaves_the_day_to_the_next_run(pipeline, monkeypatch):
    window = pipeline.window(0)
    pipeline.generate(window, customers=3, orders=10)
    assert run_windows(window).name == "SUCCESS"
    hashes = table_hashes(pipeline.warehouse_url)
    monkeypatch.setattr(partitions, "UPKEEP_LOCK_TIMEOUT", "1s")
    # a swap into the day holds the day's lock until its commit (storepipe.swap_in_window)
    with closing(psycopg2.connect(pipeline.warehouse_url)) as swap, swap.cursor() as cur:
        cur.execute("select storepipe.lock_day('orders', %s)", (window.start.date(),))
        busy = partitions.keep_bounded()
        assert busy.postponed == [("store.orders", window.start.date())]
        assert not busy.rolled_up.get("store.orders")
        swap.rollback()
    assert _orders_partitions(pipeline) == [f"orders_{window.start:%Y%m%d_%H%M}"]
    assert partitions.keep_bounded().rolled_up["store.orders"] == [window.start.date()]
    assert _orders_partitions(pipeline) == [f"orders_{window.start:%Y%m%d}"]
    assert table_hashes(pipeline.warehouse_url) == hashes

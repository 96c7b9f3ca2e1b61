"""Change capture from the customer DB's log (invariant 12), against the real embedded PostgreSQL.

Each test has its own slot (random suffix), dropped at teardown; test rows use negative customer ids
dated 1990 so that no window of another test sees them.
"""

import logging
import secrets
import threading
import time
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest

from storepipe.devstack import stack
from storepipe.errors import ConfigError, StorepipeError
from storepipe.sources import customer_log
from storepipe.sources.customer_log import (
    COMMIT_LSN,
    OP,
    RELATION,
    UNCHANGED_TOAST,
    VALUES,
    XID,
)

TEXT_ROWS = (
    "select customer_id::text, first_name, last_name, state_code, datetime_created::text, datetime_updated::text"
    " from customers"
)


@pytest.fixture
def capture(stack_env):
    """(capture URL, admin URL, this test's slot); the slot and the test's rows go at teardown."""
    slot = f"storepipe_test_{secrets.token_hex(4)}"
    url, admin = stack_env["SOURCE_DB_CAPTURE_URL"], stack_env["SOURCE_DB_ADMIN_URL"]
    yield url, admin, slot
    customer_log.drop(admin, slot)
    execute(admin, "delete from customers where customer_id < 0")


def execute(url, *statements):
    with closing(psycopg2.connect(url)) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)


def query(url, statement):
    with closing(psycopg2.connect(url, options=customer_log.SESSION_OPTIONS)) as conn, conn.cursor() as cur:
        cur.execute(statement)
        return cur.fetchall()


def insert(customer_id, last_name="Silva"):
    return (
        f"insert into customers values ({customer_id}, 'Ana', '{last_name}', 'SP',"
        " '1990-01-01 10:00', '1990-01-01 10:00')"
    )


def ours(changes):
    return [c for c in changes if int(c[VALUES][0]) < 0]


def test_init_streams_the_table_once_then_is_a_no_op(capture, caplog):
    url, admin, slot = capture
    execute(admin, insert(-1), insert(-2))
    rows = list(customer_log.init(url, slot))
    assert {r[OP] for r in rows} == {"snapshot"}
    assert sorted(r[VALUES] for r in rows) == sorted(query(admin, TEXT_ROWS))
    assert rows[0][RELATION].columns == (
        "customer_id",
        "first_name",
        "last_name",
        "state_code",
        "datetime_created",
        "datetime_updated",
    )
    assert customer_log.position(url, slot) == rows[0][COMMIT_LSN]
    caplog.set_level(logging.INFO, logger=customer_log.__name__)
    assert list(customer_log.init(url, slot)) == []
    assert "exists already" in caplog.text
    assert list(customer_log.read(url, slot)) == []


def test_snapshot_plus_changes_is_the_final_table_with_a_writer_running_during_init(capture):
    url, admin, slot = capture
    stop = threading.Event()
    written = []

    def writer():
        # short transactions of every kind, on rows that exist before, during and after the snapshot
        with closing(psycopg2.connect(admin)) as conn, conn.cursor() as cur:
            n = 0
            while not stop.is_set():
                n += 1
                cur.execute(insert(-n))
                cur.execute(f"update customers set last_name = 'v{n}' where customer_id = {-(n // 2 + 1)}")
                if n % 3 == 0:
                    cur.execute(f"delete from customers where customer_id = {-(n // 3)}")
                conn.commit()
                written.append(n)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            time.sleep(0.01)
        snapshot = {r[VALUES][0]: r[VALUES] for r in customer_log.init(url, slot)}
        during = len(written)
        while len(written) < during + 50:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join()
    changes = list(customer_log.read(url, slot))
    assert changes and len(snapshot) > 0
    state = dict(snapshot)
    for change in changes:
        if change[OP] == "delete":
            del state[change[VALUES][0]]
        else:
            state[change[VALUES][0]] = change[VALUES]
    assert state == {row[0]: row for row in query(admin, TEXT_ROWS)}


def test_two_changes_in_one_transaction_and_a_delete_are_decoded(capture):
    url, admin, slot = capture
    list(customer_log.init(url, slot))
    execute(admin, f"begin; {insert(-1)}; update customers set last_name = 'Souza' where customer_id = -1; commit")
    execute(admin, "delete from customers where customer_id = -1")
    changes = ours(customer_log.read(url, slot))
    assert [(c[OP], c[VALUES][:3]) for c in changes] == [
        ("insert", ("-1", "Ana", "Silva")),
        ("update", ("-1", "Ana", "Souza")),
        # customers are REPLICA IDENTITY FULL (source migration 0003): a delete carries the old row
        ("delete", ("-1", "Ana", "Souza")),
    ]
    assert changes[0][XID] == changes[1][XID] != changes[2][XID]
    assert changes[0][COMMIT_LSN] == changes[1][COMMIT_LSN] < changes[2][COMMIT_LSN]
    assert changes[1][customer_log.COMMITTED_AT] <= changes[2][customer_log.COMMITTED_AT]


def test_read_is_bounded_by_messages_and_by_lsn_in_whole_transactions(capture):
    url, admin, slot = capture
    list(customer_log.init(url, slot))
    for n in range(1, 11):
        execute(admin, f"begin; {insert(-n)}; update customers set last_name = 'x' where customer_id = {-n}; commit")
    everything = list(customer_log.read(url, slot))
    assert len(ours(everything)) == 20
    first = list(customer_log.read(url, slot, upto_messages=1))
    assert len(first) == 2 and first[0][XID] == first[1][XID] == everything[0][XID]
    commits = sorted({c[COMMIT_LSN] for c in everything})
    upto = list(customer_log.read(url, slot, upto_lsn=commits[3]))
    assert {c[COMMIT_LSN] for c in upto} >= set(commits[:3])
    assert max(c[COMMIT_LSN] for c in upto) <= commits[3]
    assert len(upto) % 2 == 0


def test_advance_confirms_landed_changes_and_never_goes_backwards(capture):
    url, admin, slot = capture
    list(customer_log.init(url, slot))
    start = customer_log.position(url, slot)
    for n in range(1, 4):
        execute(admin, insert(-n))
    commits = [c[COMMIT_LSN] for c in customer_log.read(url, slot)]
    moved = customer_log.advance(url, commits[1], slot)
    assert moved > commits[1] > start
    assert [c[COMMIT_LSN] for c in customer_log.read(url, slot)] == commits[2:]
    assert customer_log.advance(url, commits[0], slot) == moved  # behind: a no-op, not an error
    assert customer_log.advance(url, commits[1], slot) == moved  # again: a no-op
    assert customer_log.position(url, slot) == moved
    assert [c[COMMIT_LSN] for c in customer_log.read(url, slot)] == commits[2:]
    assert customer_log.lag_bytes(url, slot) >= 0


def test_a_truncate_fails_the_read_in_one_line(capture):
    url, admin, slot = capture
    table, publication = f"cdc_truncate_{slot[-8:]}", f"cdc_truncate_{slot[-8:]}"
    execute(
        admin, f"create table {table} (id integer primary key)", f"create publication {publication} for table {table}"
    )
    try:
        list(customer_log.init(url, slot, publication=publication))
        execute(admin, f"insert into {table} values (1)", f"truncate {table}")
        with pytest.raises(StorepipeError) as caught:
            list(customer_log.read(url, slot, publication=publication))
        line = str(caught.value)
        assert "\n" not in line
        assert f"public.{table} was truncated" in line and "storepipe cdc init --reset" in line
    finally:
        customer_log.drop(admin, slot)
        execute(admin, f"drop publication {publication}", f"drop table {table}")


def test_real_bytes_carry_unchanged_toast_and_a_relation_resent_after_alter_table(capture):
    _, admin, slot = capture
    table = f"cdc_toast_{slot[-8:]}"
    execute(
        admin,
        f"create table {table} (id integer primary key, big text, note text)",
        # stored out of line uncompressed, so a short value is TOASTed too
        f"alter table {table} alter column big set storage external",
        f"create publication {table} for table {table}",
        f"select pg_create_logical_replication_slot('{slot}', 'pgoutput')",
    )
    try:
        big = "x" * 10_000
        execute(
            admin,
            f"insert into {table} values (1, '{big}', 'a')",
            f"update {table} set note = 'b' where id = 1",
            f"alter table {table} add column email text",
            f"insert into {table} values (2, 'small', 'c', 'c@example.com')",
            f"update {table} set email = 'd@example.com' where id = 1",
        )
        raw = [
            bytes(row[0])
            for row in query(
                admin,
                f"select data from pg_logical_slot_peek_binary_changes('{slot}', null, null,"
                f" 'proto_version', '1', 'publication_names', '{table}')",
            )
        ]
        changes = list(customer_log.decode(raw))
        assert [(c[OP], dict(zip(c[RELATION].columns, c[VALUES], strict=True))) for c in changes] == [
            ("insert", {"id": "1", "big": big, "note": "a"}),
            ("update", {"id": "1", "big": UNCHANGED_TOAST, "note": "b"}),
            ("insert", {"id": "2", "big": "small", "note": "c", "email": "c@example.com"}),
            ("update", {"id": "1", "big": UNCHANGED_TOAST, "note": "b", "email": "d@example.com"}),
        ]
    finally:
        customer_log.drop(admin, slot)
        execute(admin, f"drop publication {table}", f"drop table {table}")


def test_a_missing_publication_or_replication_privilege_gives_one_line(capture, stack_env):
    url, _, slot = capture
    with pytest.raises(ConfigError, match=r"^publication nope_\w+ does not exist .*db-migration"):
        list(customer_log.init(url, slot, publication=f"nope_{slot[-8:]}"))
    with pytest.raises(ConfigError, match=r"^role storepipe_reader has no REPLICATION privilege"):
        list(customer_log.init(stack_env["SOURCE_DB_URL"], slot))
    assert customer_log.position(url, slot) is None


def test_the_capture_role_cannot_write_the_source(stack_env):
    with closing(psycopg2.connect(stack_env["SOURCE_DB_CAPTURE_URL"])) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from customers")
        with pytest.raises(psycopg2.Error, match="read-only"):
            cur.execute(insert(-99))
        conn.rollback()
        cur.execute("set transaction read write")
        with pytest.raises(psycopg2.Error, match="permission denied"):
            cur.execute(insert(-99))
        conn.rollback()
        cur.execute("select rolsuper, rolreplication from pg_roles where rolname = current_user")
        assert cur.fetchone() == (False, True)


@pytest.fixture
def own_server(tmp_path):
    """A throwaway PostgreSQL of this test's own (the session's server keeps its settings)."""
    pgdata = tmp_path / "pg"
    yield pgdata
    stack._stop_postgres(pgdata)


def test_a_server_at_wal_level_replica_gives_one_line(own_server):
    socket_dir = stack._run_postgres(own_server)  # as pgserver starts it: wal_level = replica
    url = stack._pg_url(socket_dir, "postgres", None, "postgres")
    with pytest.raises(ConfigError) as caught:
        list(customer_log.init(url, "never"))
    assert str(caught.value).startswith("the customer DB runs at wal_level = replica; change capture needs logical")
    assert "wal_level = logical" in caught.value.todo and "\n" not in str(caught.value)


def test_a_lost_slot_gives_one_line_with_the_recovery_command(own_server):
    socket_dir = stack._start_postgres(own_server.parent)  # logical, as the dev stack runs it
    url = stack._pg_url(socket_dir, "postgres", None, "postgres")
    execute(
        url,
        "create table customers (customer_id integer primary key, note text, datetime_updated timestamp)",
        "create publication storepipe_customers for table customers",
        # the smallest bound: a slot keeps no WAL segment beyond the current one
        "alter system set max_slot_wal_keep_size = '1MB'",
        "select pg_reload_conf()",
    )
    assert list(customer_log.init(url, "doomed")) == []
    for n in range(4):
        execute(url, f"insert into customers values ({n}, 'x')", "select pg_switch_wal()")
    execute(url, "checkpoint")
    assert query(url, "select wal_status from pg_replication_slots where slot_name = 'doomed'") == [("lost",)]
    for attempt in (
        lambda: list(customer_log.read(url, "doomed")),
        lambda: customer_log.advance(url, 1 << 40, "doomed"),
    ):
        with pytest.raises(StorepipeError) as caught:
            attempt()
        assert str(caught.value) == (
            "replication slot doomed was lost: it fell behind max_slot_wal_keep_size and can no longer get changes"
            " (customer DB); take a new snapshot with `storepipe cdc init --reset`"
        )
    assert customer_log.lag_bytes(url, "doomed") is None


def test_no_free_replication_slot_gives_one_line(own_server):
    socket_dir = stack._start_postgres(own_server.parent)
    url = stack._pg_url(socket_dir, "postgres", None, "postgres")
    execute(
        url,
        "create table customers (customer_id integer primary key, note text, datetime_updated timestamp)",
        "create publication storepipe_customers for table customers",
    )
    (slots,) = query(url, "select setting::integer from pg_settings where name = 'max_replication_slots'")[0]
    for n in range(slots):
        execute(url, f"select pg_create_logical_replication_slot('taken_{n}', 'pgoutput')")
    with pytest.raises(ConfigError) as caught:
        list(customer_log.init(url, "one_too_many"))
    assert str(caught.value).startswith("cannot create replication slot one_too_many: all replication slots are in use")
    assert "max_replication_slots" in str(caught.value) and "\n" not in str(caught.value)


def postmaster_pid(pgdata):
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def test_the_stack_runs_logical_with_a_bounded_slot_wal_and_up_again_does_not_restart(stack_env):
    home = Path(stack_env["STOREPIPE_HOME"])
    settings = "select name, setting from pg_settings where name in ('wal_level', 'max_slot_wal_keep_size')"
    assert dict(query(stack_env["SOURCE_DB_ADMIN_URL"], settings)) == {
        "wal_level": "logical",
        "max_slot_wal_keep_size": "1024",
    }
    before = postmaster_pid(home / "pg")
    stack.up(home, ports={"s3": 0, "risk_api": 0, "luigid": 0}, luigid=True)
    assert postmaster_pid(home / "pg") == before


def test_a_server_at_replica_is_restarted_once_into_logical(own_server):
    stack._run_postgres(own_server)
    replica = postmaster_pid(own_server)
    socket_dir = stack._start_postgres(own_server.parent)
    logical = postmaster_pid(own_server)
    assert logical != replica
    url = stack._pg_url(socket_dir, "postgres", None, "postgres")
    assert query(url, "show wal_level") == [("logical",)]
    stack._start_postgres(own_server.parent)
    assert postmaster_pid(own_server) == logical

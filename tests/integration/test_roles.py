"""Least privilege in the embedded PostgreSQL (invariant 14): each role can do its job and nothing more.

The dev stack makes the same roles the compose stack does: sde (the pipeline: owns the warehouse,
no superuser), storepipe_analyst (reads analytics and store.states), storepipe_luigid (luigid's
task history, in a database of its own), storepipe_reader and storepipe_capture (the source).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import luigi
import psycopg2
import psycopg2.errors
import pytest

from storepipe.devstack import stack
from tests.helpers import query, run_windows

SERVER_POWERS = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")


def _url(stack_env, user: str, password: str, database: str) -> str:
    """A URL of the stack's server (its socket) as `user` on `database`."""
    parts = urlsplit(stack_env["WAREHOUSE_URL"])
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@", path=f"/{database}"))


def _roles(stack_env) -> dict[str, str]:
    """Each non-superuser role of the stack and a URL it logs in with (on a database it may use)."""
    return {
        "sde": stack_env["WAREHOUSE_URL"],
        stack.ANALYST: stack_env["WAREHOUSE_ANALYST_URL"],
        stack.LUIGID_ROLE: _url(stack_env, stack.LUIGID_ROLE, stack.LUIGID_PASSWORD, stack.HISTORY_DB),
        stack.READER: stack_env["SOURCE_DB_URL"],
        stack.CAPTURE: stack_env["SOURCE_DB_CAPTURE_URL"],
    }


def _denied(url: str, statement: str, *, read_write: bool = False) -> str:
    """Run `statement` as the URL's role; returns PostgreSQL's refusal (fails the test if it was allowed)."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            if read_write:
                # past the role's read-only default: the privileges alone must refuse it
                cur.execute("set transaction read write")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege) as refused:
                cur.execute(statement)
        return str(refused.value)
    finally:
        conn.rollback()
        conn.close()


def test_no_role_is_a_superuser_or_holds_the_server_file_and_program_roles(stack_env):
    names = list(_roles(stack_env))
    admin = stack_env["SOURCE_DB_ADMIN_URL"]
    rows = query(
        admin,
        "select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication"
        " from pg_roles where rolname = any(%s) order by rolname",
        (names,),
    )
    assert {r[0] for r in rows} == set(names)
    for name, superuser, createrole, createdb, bypassrls, replication in rows:
        assert not (superuser or createrole or createdb or bypassrls), name
        # only change capture replicates: it creates and reads its slot
        assert replication == (name == stack.CAPTURE), name
        for power in SERVER_POWERS:
            [(member,)] = query(admin, "select pg_has_role(%s, %s, 'member')", (name, power))
            assert not member, f"{name} is a member of {power}"
    assert urlsplit(stack_env["WAREHOUSE_URL"]).username == "sde", "the pipeline runs as its own role"


@pytest.mark.parametrize(
    "statement",
    [
        "copy (select 1) to program 'id'",
        "copy pg_catalog.pg_am from program 'id'",
        "select pg_read_file('/etc/passwd')",
        "copy (select 1) to '/tmp/storepipe-least-privilege'",
    ],
)
def test_no_role_runs_a_program_or_touches_server_files(stack_env, statement):
    for name, url in _roles(stack_env).items():
        refusal = _denied(url, statement)
        assert "permission denied" in refusal or "must be superuser" in refusal, f"{name}: {refusal}"


def test_the_pipeline_role_owns_the_warehouse_schemas(stack_env):
    owners = dict(
        query(
            stack_env["WAREHOUSE_URL"],
            "select nspname, pg_get_userbyid(nspowner) from pg_namespace"
            " where nspname in ('store', 'staging', 'analytics', 'storepipe')",
        )
    )
    assert owners == dict.fromkeys(("store", "staging", "analytics", "storepipe"), "sde")


def test_the_analyst_reads_the_marts_the_pipeline_writes_and_nothing_else(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=4, orders=20)
    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    database = urlsplit(pipeline.warehouse_url).path
    analyst = urlunsplit(urlsplit(pipeline.env["WAREHOUSE_ANALYST_URL"])._replace(path=database))

    # the window's partition and rows were made after the grants: the default privileges cover them
    facts = query(analyst, "select count(*) from analytics.fct_orders where window_start = %s", (window.start,))
    assert facts == [(20,)]
    assert query(analyst, "select count(*) > 0 from analytics.dim_customers") == [(True,)]
    assert query(analyst, "select count(*) from store.states") == [(27,)]

    for table in (
        "store.orders",
        "store.customers",
        "store.customer_risk_score",
        "staging.stg_customers",
        "storepipe.markers",
        "storepipe.quarantine",
    ):
        assert "permission denied" in _denied(analyst, f"select * from {table} limit 1"), table
    writes = [
        "insert into analytics.fct_orders select * from analytics.fct_orders limit 1",
        "update analytics.dim_customers set last_name = 'x'",
        "delete from analytics.fct_orders",
        "truncate analytics.fct_orders",
        "delete from store.states",
        "create table analytics.mine (one int)",
        "create table public.mine (one int)",
        "drop table analytics.fct_orders",
    ]
    for statement in writes:
        _denied(analyst, statement, read_write=True)
    # and its read-only default stops a write before the privileges are even checked
    conn = psycopg2.connect(analyst)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute("create temporary table scratch (one int)")
    finally:
        conn.close()


def test_each_role_reaches_only_its_own_databases(stack_env):
    refused = [
        (stack.ANALYST, stack.ANALYST_PASSWORD, "source"),
        (stack.ANALYST, stack.ANALYST_PASSWORD, stack.HISTORY_DB),
        ("sde", stack.SDE_PASSWORD, stack.HISTORY_DB),
        ("sde", stack.SDE_PASSWORD, "source"),
        (stack.LUIGID_ROLE, stack.LUIGID_PASSWORD, "warehouse"),
        (stack.LUIGID_ROLE, stack.LUIGID_PASSWORD, "source"),
        (stack.READER, stack.READER_PASSWORD, "warehouse"),
    ]
    for user, password, database in refused:
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(_url(stack_env, user, password, database)).close()
    # in the warehouse the analyst may connect, but not make even a temporary table
    _denied(stack_env["WAREHOUSE_ANALYST_URL"], "create temporary table scratch (one int)", read_write=True)


def test_luigid_history_lives_in_its_own_database_owned_by_its_role(stack_env):
    # luigid is up (the session's stack) with history on: it has made its tables as its own role
    history = _url(stack_env, stack.LUIGID_ROLE, stack.LUIGID_PASSWORD, stack.HISTORY_DB)
    owners = query(history, "select tablename, tableowner from pg_tables where schemaname = 'public'")
    assert {"tasks", "task_events", "task_parameters"} <= {name for name, _ in owners}
    assert {owner for _, owner in owners} == {stack.LUIGID_ROLE}
    [(owner,)] = query(
        stack_env["SOURCE_DB_ADMIN_URL"],
        "select pg_get_userbyid(datdba) from pg_database where datname = %s",
        (stack.HISTORY_DB,),
    )
    assert owner == stack.LUIGID_ROLE


def test_the_capture_role_replicates_and_writes_no_application_table(stack_env):
    capture = stack_env["SOURCE_DB_CAPTURE_URL"]
    granted = query(
        stack_env["SOURCE_DB_ADMIN_URL"],
        "select table_name, privilege_type from information_schema.role_table_grants where grantee = %s order by 1, 2",
        (stack.CAPTURE,),
    )
    assert granted == [("customers", "SELECT")]
    for statement in (
        "insert into customers values (-7, 'x', 'y', 'SP', now(), now())",
        "update customers set first_name = 'x'",
        "delete from customers",
        "truncate customers",
        "create table public.mine (one int)",
    ):
        _denied(capture, statement, read_write=True)

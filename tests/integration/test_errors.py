"""A PostgreSQL error or a missing project file reaches the user as the one line it means, never a traceback."""

from __future__ import annotations

import time

import luigi
import psycopg2
import pytest

from storepipe import config, sqlfiles
from storepipe.errors import ConfigError
from storepipe.tasks import ExtractOrders
from storepipe.warehouse import db
from tests.helpers import query, storepipe_cli


def test_a_statement_timeout_is_reported_as_a_timeout(pipeline):
    conn = psycopg2.connect(pipeline.warehouse_url)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.Error) as raised:
            cur.execute("set statement_timeout = '50ms'; select pg_sleep(2)")
    finally:
        conn.close()
    line = db.explain(raised.value).line()
    assert line.startswith("a statement ran past its timeout") and "statement_timeout_s" in line
    assert "cannot reach" not in line


def test_an_unreachable_server_is_reported_as_unreachable(tmp_path):
    with pytest.raises(psycopg2.OperationalError) as raised:
        psycopg2.connect(f"postgresql://nobody@/nothing?host={tmp_path}", connect_timeout=2)
    assert db.explain(raised.value).line().startswith("cannot reach PostgreSQL")


def test_the_cli_shows_a_failed_login_in_one_line(pipeline):
    # a role that cannot log in: PostgreSQL's answer, in one line, exit 2
    url = pipeline.warehouse_url.replace("sde:", "sde_nobody:", 1)
    result = storepipe_cli("checks", "--window", pipeline.window(0).label, env={"WAREHOUSE_URL": url})
    assert result.returncode == 2
    assert result.stderr.startswith("storepipe: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_missing_sql_file_is_one_line(pipeline, tmp_path):
    result = storepipe_cli(
        "checks", "--window", pipeline.window(0).label, env={"STOREPIPE_SQL_DIR": str(tmp_path / "sql")}
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"storepipe: SQL file pipeline/checks/window_results.sql is missing ({tmp_path / 'sql'});"
        " run from a checkout of storepipe, or point STOREPIPE_SQL_DIR at its sql/ folder"
    ]


def test_the_sql_loader_raises_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("STOREPIPE_SQL_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=r"SQL file nothing/here\.sql is missing"):
        sqlfiles.path("nothing/here")


def test_warehouse_sessions_carry_the_lock_timeout_and_a_url_may_override(pipeline, monkeypatch):
    monkeypatch.setattr(config.warehouse(), "lock_timeout_s", 7)
    conn = db.connect()
    try:
        with conn.cursor() as cur:
            cur.execute("select current_setting('lock_timeout'), current_setting('statement_timeout')")
            assert cur.fetchone() == ("7s", "0")
    finally:
        conn.close()
    override = f"{pipeline.warehouse_url}&options=-c%20lock_timeout%3D3s"
    conn = db.connect(override)
    try:
        with conn.cursor() as cur:
            cur.execute("select current_setting('lock_timeout')")
            assert cur.fetchone() == ("3s",)
    finally:
        conn.close()


def test_a_lock_held_too_long_fails_the_task_in_one_line(pipeline, monkeypatch):
    window = pipeline.window(0)
    pipeline.generate(window, customers=2, orders=5)
    luigi.task_register.Register.clear_instance_cache()
    monkeypatch.setattr(config.warehouse(), "lock_timeout_s", 1)
    holder = psycopg2.connect(pipeline.warehouse_url)  # another worker, mid-task on the same window
    try:
        with holder.cursor() as cur:
            cur.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (f"extract:orders@{window.label}",))
        started = time.monotonic()
        result = luigi.build([ExtractOrders(window=window)], local_scheduler=True, log_level="WARNING")
        assert not result and time.monotonic() - started < 30, "gave up after the lock timeout, not the holder"
    finally:
        holder.close()
    [(error,)] = query(
        pipeline.warehouse_url,
        "select error from storepipe.task_failures where task_name = 'extract:orders' and window_start = %s",
        (window.start,),
    )
    assert error.startswith("a lock was not granted in time") and "lock_timeout_s" in error
    # the holder gone, the next run takes the window
    assert luigi.build([ExtractOrders(window=window)], local_scheduler=True, log_level="WARNING")

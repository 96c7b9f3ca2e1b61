"""A PostgreSQL error or a missing project file reaches the user as the one line it means, never a traceback."""

from __future__ import annotations

import psycopg2
import pytest

from storepipe import sqlfiles
from storepipe.errors import ConfigError
from storepipe.warehouse import db
from tests.helpers import storepipe_cli


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

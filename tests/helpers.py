"""Shared test helpers: run windows, hash the warehouse, read expectations from the sources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import luigi
import psycopg2

from storepipe.tasks import RunWindow
from storepipe.window import Window

REPO = Path(__file__).resolve().parent.parent
HASHED_TABLES = [
    "store.customers",
    "store.orders",
    "store.customer_risk_score",
    "staging.stg_customers",
    "staging.stg_customer_risk_score",
    "analytics.dim_customers",
    "analytics.fct_orders",
]


def run_windows(*windows: Window, workers: int = 1) -> luigi.LuigiStatusCode:
    luigi.task_register.Register.clear_instance_cache()
    result = luigi.build(
        [RunWindow(window=w) for w in windows],
        local_scheduler=True,
        detailed_summary=True,
        workers=workers,
        log_level="WARNING",
    )
    return result.status


def luigi_cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The `luigi` console script, as a user runs it."""
    luigi_bin = Path(sys.executable).parent / "luigi"
    return subprocess.run(
        [str(luigi_bin), "--module", "storepipe", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def storepipe_cli(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """The `storepipe` console script, as a user runs it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "storepipe"), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def task_tree(window: Window) -> dict[str, set[str]]:
    """Task id -> the ids of the tasks it requires, for every task of the window's RunWindow."""
    edges, queue = {}, [RunWindow(window=window)]
    while queue:
        task = queue.pop()
        if task.task_id not in edges:
            deps = luigi.task.flatten(task.requires())
            edges[task.task_id] = {dep.task_id for dep in deps}
            queue.extend(deps)
    return edges


def table_hashes(url: str) -> dict[str, tuple[int, str]]:
    """(row count, md5 of the sorted rows) per table: equal hashes mean equal content."""
    hashes = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for table in HASHED_TABLES:
            cur.execute(
                f"select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from {table} as t"
            )
            hashes[table] = cur.fetchone()
        cur.execute(
            "select count(*), coalesce(md5(string_agg(concat_ws(',', source, window_start, location, reason, raw),"
            " '|' order by concat_ws(',', source, window_start, location, reason, raw))), '')"
            " from storepipe.quarantine"
        )
        hashes["storepipe.warehouse.quarantine"] = cur.fetchone()
    conn.close()
    return hashes


def never_extracted(url: str, window: Window) -> None:
    """Make the warehouse forget a window altogether: its markers and what its extracts recorded reading."""
    for table in ("markers", "lake_segments", "extracted_objects"):
        query(url, f"delete from storepipe.{table} where window_start = %s", (window.start,))


def query(url: str, statement: str, params: dict | tuple | None = None) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.commit()
        conn.close()


class ModelFiles:
    """A copy of sql/ that a test edits (STOREPIPE_SQL_DIR points at it), as a user edits a model."""

    def __init__(self, tmp_path: Path, monkeypatch):
        import shutil

        self.root = tmp_path / "sql"
        shutil.copytree(REPO / "sql", self.root)
        monkeypatch.setenv("STOREPIPE_SQL_DIR", str(self.root))
        self.reread()

    def edit(self, name: str, old: str, new: str) -> None:
        """Replace `old` (which must be there) by `new` in sql/<name>.sql, and make this process read it again."""
        path = self.root / f"{name}.sql"
        text = path.read_text()
        assert old in text, f"{old!r} is not in {name}.sql"
        path.write_text(text.replace(old, new, 1))
        self.reread()

    def write(self, name: str, text: str) -> None:
        """Add (or overwrite) sql/<name>.sql, and make this process read it again."""
        (self.root / f"{name}.sql").write_text(text)
        self.reread()

    def reread(self) -> None:
        from storepipe import sqlfiles
        from storepipe.transform import versions

        sqlfiles.forget()
        versions.forget()
        luigi.task_register.Register.clear_instance_cache()

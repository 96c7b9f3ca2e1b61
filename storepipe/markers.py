"""Marker rows: "this task, for this window, is done", written in the data's own transaction."""

from __future__ import annotations

from collections.abc import Iterable

import luigi

from storepipe import sql, warehouse
from storepipe.window import Window


class MarkerTarget(luigi.Target):
    """The output of every storepipe task: one row of storepipe.markers keyed by (task_name, window_start)."""

    def __init__(self, task_name: str, window: Window, task_id: str):
        self.task_name = task_name
        self.window = window
        self.task_id = task_id

    def __str__(self) -> str:
        return f"storepipe.markers[{self.task_name} @ {self.window.label}]"

    def exists(self) -> bool:
        return bool(done_windows([self.task_name], [self.window.start]))

    def exists_in(self, cur) -> bool:
        """Look again inside the writer's transaction, after its lock is held."""
        cur.execute(sql.load("markers/exists"), self._params())
        return cur.fetchone() is not None

    def touch(self, cur, row_count: int, checksum: str | None = None, object_key: str | None = None) -> None:
        cur.execute(
            sql.load("markers/touch"),
            {
                **self._params(),
                "task_id": self.task_id,
                "row_count": row_count,
                "checksum": checksum,
                "object_key": object_key,
            },
        )

    def read(self) -> dict | None:
        cur = warehouse.shared().cursor()
        cur.execute(sql.load("markers/read"), self._params())
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c.name for c in cur.description], row, strict=False))

    def _params(self) -> dict:
        return {"task_name": self.task_name, "window_start": self.window.start}


def done_windows(task_names: Iterable[str], starts: Iterable) -> set:
    """Window starts (of `starts`) for which every one of `task_names` has a marker: one query."""
    names, starts = sorted(set(task_names)), list(starts)
    if not starts or not names:
        return set()
    with warehouse.shared().cursor() as cur:
        cur.execute(
            sql.load("markers/bulk_complete"),
            {"task_names": names, "starts": starts, "name_count": len(names)},
        )
        return {row[0] for row in cur.fetchall()}

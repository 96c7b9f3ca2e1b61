"""Data checks: SQL files under sql/checks that return a window's offending rows, with a severity."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache

from psycopg2 import sql as pgsql

from storepipe import sqlfiles
from storepipe.errors import CheckFailed, ModelError
from storepipe.transform import models
from storepipe.window import Window

log = logging.getLogger(__name__)

SAMPLE_SIZE = 3
_SEVERITY = re.compile(r"^--[ \t]*severity:[ \t]*(error|warn)\b", re.MULTILINE)


@dataclass(frozen=True)
class Check:
    name: str
    model: str
    severity: str
    text: str
    file: str
    sql: str  # the text with the ephemeral models it reads inlined: what runs


@dataclass(frozen=True)
class CheckResult:
    check: Check
    failing_rows: int
    samples: tuple[str, ...]

    @property
    def status(self) -> str:
        if not self.failing_rows:
            return "pass"
        return "fail" if self.check.severity == "error" else "warn"

    def describe(self) -> str:
        text = f"check {self.check.name} found {self.failing_rows} offending row(s)"
        if self.samples:
            text += ", e.g. " + "; ".join(self.samples)
        return text


@cache
def discover() -> dict[str, Check]:
    """Every check by name (`<model>__<what>.sql`); a check on an unknown model is refused."""
    found = {}
    known_models = models.discover()
    for path in sorted((sqlfiles.root() / "checks").glob("*.sql")):
        model, sep, _ = path.stem.partition("__")
        if not sep or model not in known_models:
            raise ModelError(
                f"check {path.stem!r} does not name a model as <model>__<what>",
                str(path),
                f"name it after one of {', '.join(known_models)}",
            )
        text = path.read_text(encoding="utf-8")
        severity = _SEVERITY.search(text)
        if severity is None:
            raise ModelError("check has no `-- severity: error|warn` line", str(path), "add one")
        found[path.stem] = Check(path.stem, model, severity.group(1), text, str(path), models.inline_ephemeral(text))
    # upstream models' checks first, so a failure is reported where the defect entered
    order = list(known_models)
    return dict(sorted(found.items(), key=lambda item: (order.index(item[1].model), item[0])))


def run(cur, window: Window, layer: str | None = None) -> list[CheckResult]:
    """Run the window's checks (of one layer's models, or all) on the caller's transaction (so they
    see unpublished rows), in one statement: a small window's audit is a round trip, not one a check."""
    chosen = [c for c in discover().values() if not layer or models.get(c.model).layer == layer]
    if not chosen:
        return []
    parts = [
        sqlfiles.compose(
            "pipeline/checks/one_check",
            check_name=pgsql.Literal(check.name),
            check=pgsql.SQL(check.sql.strip().rstrip(";")),
        )
        for check in chosen
    ]
    statement = pgsql.SQL("\nunion all\n").join(pgsql.SQL("({})").format(part) for part in parts)
    cur.execute(statement, {**window.sql_params(), "sample_size": SAMPLE_SIZE})
    found: dict[str, list[tuple[int, int, str]]] = {}
    for name, failing_rows, sample, rank in cur.fetchall():
        found.setdefault(name, []).append((rank, failing_rows, sample))
    results = []
    for check in chosen:
        rows = sorted(found.get(check.name, []))
        result = CheckResult(check, rows[0][1] if rows else 0, tuple(sample for _, _, sample in rows))
        if result.status != "pass":
            log.warning("%s %s: %s", check.severity, window, result.describe())
        results.append(result)
    return results


def record(cur, window: Window, results: list[CheckResult]) -> None:
    cur.execute(sqlfiles.load("pipeline/checks/forget_results"), window.sql_params())
    if results:
        cur.execute(
            sqlfiles.load("pipeline/checks/record_result"),
            {
                **window.sql_params(),
                "check_names": [r.check.name for r in results],
                "severities": [r.check.severity for r in results],
                "statuses": [r.status for r in results],
                "failing_rows": [r.failing_rows for r in results],
                "samples": ["\n".join(r.samples) or None for r in results],
            },
        )


def failure(window: Window, results: list[CheckResult]) -> CheckFailed | None:
    failed = [r for r in results if r.status == "fail"]
    if not failed:
        return None
    more = f" (and {len(failed) - 1} more failing check(s))" if len(failed) > 1 else ""
    return CheckFailed(
        failed[0].describe() + more,
        f"window {window.label}",
        f"nothing was published; see `storepipe checks --window {window.label}`",
    )


def window_results(cur, window: Window) -> list[tuple]:
    cur.execute(sqlfiles.load("pipeline/checks/window_results"), window.sql_params())
    return cur.fetchall()

"""Failure alerts through Luigi's notifications: one summary per backfill, however many windows failed.

A single `luigi ... RunWindow` run mails each failing task itself (Luigi's worker does, with the one
line `WindowTask.on_failure` gives). A backfill's builds do not (`QuietWorkers`), so that a range of
100 failing windows is one message listing them, not 100 mails; and a failure is in one such message,
not in every cron run's, until `[alerts] repeat_after` has passed (`storepipe.task_failures.alerted_at`).
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Mapping

from luigi import interface, notifications, worker

from storepipe import config
from storepipe.warehouse import failures
from storepipe.window import LABEL_FORMAT

log = logging.getLogger(__name__)

# windows listed under each failed task; the rest are counted, so a long backfill's mail stays readable
LISTED_PER_REASON = 10


class QuietWorkers(interface._WorkerSchedulerFactory):
    """Workers (of `worker_class`) that send no mail per failed task: the backfill sends one summary of
    all its windows."""

    def __init__(self, worker_class: type[worker.Worker] = worker.Worker):
        self.worker_class = worker_class

    def create_worker(self, scheduler, worker_processes, assistant=False):
        return self.worker_class(
            scheduler=scheduler, worker_processes=worker_processes, assistant=assistant, send_failure_email=False
        )


def backfill_summary(span: str, failed: Mapping[dt.datetime, str]) -> tuple[str, str]:
    """The subject and body of a backfill's alert: the windows grouped by the task that failed (`failed`
    holds `task: reason` per window), each group with its first window's reason, as Luigi's batch mails do."""
    by_task: dict[str, list[tuple[dt.datetime, str]]] = {}
    for start, line in sorted(failed.items()):
        task, _, why = line.partition(": ")
        by_task.setdefault(task, []).append((start, why))
    subject = f"storepipe: {len(failed)} window{'s' if len(failed) != 1 else ''} failed in backfill {span}"
    lines = [f"{len(failed)} windows of backfill {span} (UTC) failed on {socket.gethostname()}.", ""]
    for task, items in sorted(by_task.items(), key=lambda item: (-len(item[1]), item[0])):
        lines.append(f"{len(items)} x {task}, the first: {items[0][1]}")
        lines += [f"  window {start:{LABEL_FORMAT}}" for start, _ in items[:LISTED_PER_REASON]]
        if len(items) > LISTED_PER_REASON:
            lines.append(f"  ... and {len(items) - LISTED_PER_REASON} more")
        lines.append("")
    lines.append("Each window's task and reason: storepipe status --start ... --end ...")
    return subject, "\n".join(lines)


def send_backfill_summary(span: str, failed: Mapping[dt.datetime, str]) -> None:
    """Send the summary of the failed windows no alert named yet (or not for `[alerts] repeat_after`)
    through Luigi's [email] settings, and remember that it did; nothing when alerts are off."""
    # Luigi's own test for "no mail now" (no receiver, format none, a terminal without force_send):
    # a summary it would drop must not count as sent
    if not failed or not notifications.email().receiver or notifications._email_disabled_reason():
        return
    news = sorted(failures.to_alert(failed, config.alerts().repeat_after))
    if not news:
        log.info("%d failed windows, all alerted already", len(failed))
        return
    subject, body = backfill_summary(span, {start: failed[start] for start in news})
    if len(news) < len(failed):
        body += f"\n({len(failed) - len(news)} more failed windows of this backfill were alerted before.)"
    try:
        notifications.send_error_email(subject, body)
    except Exception as err:  # an alert that cannot go out must not change what the backfill did or exits with
        log.error(
            "could not send the failure alert (%s: %s); the failures are in storepipe status", type(err).__name__, err
        )
        return
    failures.mark_alerted(news)

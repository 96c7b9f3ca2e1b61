"""Failure alerts through Luigi's notifications: one summary per backfill, however many windows failed.

A single `luigi ... RunWindow` run mails each failing task itself (Luigi's worker does, with the one
line `WindowTask.on_failure` gives). A backfill's builds do not (`QuietWorkers`), so that a range of
100 failing windows is one message listing them, not 100 mails.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Mapping

from luigi import interface, notifications, worker

from storepipe.window import LABEL_FORMAT

log = logging.getLogger(__name__)

# windows listed under each reason; the rest are counted, so a long backfill's mail stays readable
LISTED_PER_REASON = 10


class QuietWorkers(interface._WorkerSchedulerFactory):
    """Workers that send no mail per failed task: the backfill sends one summary of all its windows."""

    def create_worker(self, scheduler, worker_processes, assistant=False):
        return worker.Worker(
            scheduler=scheduler, worker_processes=worker_processes, assistant=assistant, send_failure_email=False
        )


def backfill_summary(span: str, failed: Mapping[dt.datetime, str]) -> tuple[str, str]:
    """The subject and body of a backfill's alert: the windows grouped by their one-line reason."""
    by_reason: dict[str, list[dt.datetime]] = {}
    for start, why in sorted(failed.items()):
        by_reason.setdefault(why, []).append(start)
    subject = f"storepipe: {len(failed)} window{'s' if len(failed) != 1 else ''} failed in backfill {span}"
    lines = [f"{len(failed)} windows of backfill {span} (UTC) failed on {socket.gethostname()}.", ""]
    for why, starts in sorted(by_reason.items(), key=lambda item: (-len(item[1]), item[0])):
        lines.append(f"{len(starts)} x {why}")
        lines += [f"  window {start:{LABEL_FORMAT}}" for start in starts[:LISTED_PER_REASON]]
        if len(starts) > LISTED_PER_REASON:
            lines.append(f"  ... and {len(starts) - LISTED_PER_REASON} more")
        lines.append("")
    lines.append("Which task failed for each window, and why: storepipe status --start ... --end ...")
    return subject, "\n".join(lines)


def send_backfill_summary(span: str, failed: Mapping[dt.datetime, str]) -> None:
    """Send the summary through Luigi's [email] settings; nothing when no receiver is configured."""
    if not failed:
        return
    subject, body = backfill_summary(span, failed)
    notifications.send_error_email(subject, body)

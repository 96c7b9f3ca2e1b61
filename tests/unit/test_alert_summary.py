"""A backfill's alert: 100 failed windows are one short message, grouped by failed task."""

import datetime as dt

from storepipe.ops import alerts


def test_a_hundred_failed_windows_make_one_short_summary_grouped_by_reason():
    first = dt.datetime(2024, 1, 1, 10, 0)
    failed = {
        first + dt.timedelta(minutes=5 * i): f"extract:risk_scores: the risk API is down (window {i})"
        for i in range(97)
    }
    failed.update(
        {first + dt.timedelta(days=1, minutes=5 * i): "publish: check fct_orders__keys_not_null" for i in range(3)}
    )

    subject, body = alerts.backfill_summary("2024-01-01T10:00 .. 2024-01-02T10:15", failed)

    assert subject == "storepipe: 100 windows failed in backfill 2024-01-01T10:00 .. 2024-01-02T10:15"
    lines = body.splitlines()
    assert len(lines) < 40
    big = lines.index("97 x extract:risk_scores, the first: the risk API is down (window 0)")
    small = lines.index("3 x publish, the first: check fct_orders__keys_not_null")
    assert big < small, "the commonest failure first"
    assert lines[big + 1] == "  window 2024-01-01T10:00"
    assert lines[big + alerts.LISTED_PER_REASON + 1] == f"  ... and {97 - alerts.LISTED_PER_REASON} more"
    assert lines[small + 1 : small + 4] == [
        f"  window 2024-01-02T{10 + (5 * i) // 60:02d}:{(5 * i) % 60:02d}" for i in range(3)
    ]


def test_nothing_failed_sends_nothing(monkeypatch):
    sent = []
    monkeypatch.setattr(alerts.notifications, "send_error_email", lambda *a: sent.append(a))
    alerts.send_backfill_summary("2024-01-01T10:00 .. 2024-01-01T11:00", {})
    assert sent == []

"""Failure alerts through Luigi's notifications, received by a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

from tests.helpers import luigi_cli, query, storepipe_cli
from tests.integration.test_bad_orders import plant

RECEIVER = "oncall@example.com"


def _text(message) -> str:
    """The plain-text part (Luigi sends multipart/related, for an optional image)."""
    return next(part for part in message.walk() if part.get_content_type() == "text/plain").get_content()


def _recorded_error(pipeline, window) -> str:
    [(error,)] = query(
        pipeline.warehouse_url,
        "select error from storepipe.task_failures where window_start = %s and task_name = 'extract:orders'",
        (window.start,),
    )
    return error


def test_a_failing_window_sends_one_mail_naming_window_task_and_reason_and_none_when_off(
    pipeline, smtp_server, monkeypatch
):
    monkeypatch.delenv("ALERT_RECEIVER", raising=False)
    window = pipeline.window(0)
    plant(pipeline, window, "orders.json", b"{}")  # not a CSV object: the window's orders extract fails

    off = luigi_cli("RunWindow", "--window", window.label, "--local-scheduler", env=smtp_server.env(None))
    assert off.returncode == 30, off.stderr
    assert smtp_server.messages == [], "no ALERT_RECEIVER: no mail"

    on = luigi_cli("RunWindow", "--window", window.label, "--local-scheduler", env=smtp_server.env(RECEIVER))
    assert on.returncode == 30, on.stderr
    [message] = smtp_server.messages
    assert message["To"] == RECEIVER
    assert "ExtractOrders" in message["Subject"] and "FAILED" in message["Subject"]
    body = _text(message)
    reason = _recorded_error(pipeline, window)
    assert "not a .csv or .csv.gz object" in reason
    assert f"window {window.label} failed: extract:orders: {reason}" in body
    assert "Traceback" not in body and 'File "' not in body


def test_a_backfill_failing_many_windows_sends_one_summary_and_cron_does_not_repeat_it(pipeline, smtp_server):
    windows = [pipeline.window(i) for i in range(3)]
    for window in windows:
        plant(pipeline, window, "orders.json", b"{}")

    def backfill():
        span = ("--start", windows[0].label, "--end", windows[-1].end.strftime("%Y-%m-%dT%H:%M"))
        result = storepipe_cli("backfill", *span, "--local-scheduler", env=smtp_server.env(RECEIVER))
        assert result.returncode == 1, result.stderr

    backfill()
    [message] = smtp_server.messages  # one summary; the builds' workers sent no mail per task
    span = f"{windows[0].label} .. {windows[-1].end:%Y-%m-%dT%H:%M}"
    assert message["Subject"] == f"storepipe: 3 windows failed in backfill {span}"
    body = _text(message)
    assert f"3 x extract:orders, the first: {_recorded_error(pipeline, windows[0])}" in body
    for window in windows:
        assert f"  window {window.label}\n" in body
    assert "Traceback" not in body

    # the next cron run meets the same failures: no second mail until [alerts] repeat_after has passed
    backfill()
    assert len(smtp_server.messages) == 1
    query(pipeline.warehouse_url, "update storepipe.task_failures set alerted_at = now() - interval '5 hours'")
    backfill()
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[1]["Subject"] == message["Subject"]

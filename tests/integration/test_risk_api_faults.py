"""The risk API client against a fault-injecting HTTP server on 127.0.0.1: retried, bounded, never an empty window."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import luigi
import pytest

from storepipe import config
from storepipe.errors import SourceUnavailable
from storepipe.rows import Rejected
from storepipe.sources import risk_api
from storepipe.tasks import LoadRiskScores
from storepipe.window import Window
from tests.helpers import query

WINDOW = Window(dt.datetime(2024, 1, 1, 10, 0), 5)
IN_WINDOW = "2024-01-01T10:02:00"


def page(items: list, cursor: str | None = None) -> tuple:
    return 200, json.dumps({"items": items, "next_cursor": cursor}).encode(), {}, 0.0


def score(customer_id: int, risk: int = 50, at: str = IN_WINDOW) -> dict:
    return {"customer_id": customer_id, "risk_score": risk, "assessed_at": at}


def status(code: int, headers: dict | None = None) -> tuple:
    return code, b'{"detail": "scripted failure"}', headers or {}, 0.0


def slow(answer: tuple, seconds: float) -> tuple:
    return (*answer[:3], seconds)


class FaultyAPI:
    """Answers each request with the next scripted (status, body, headers, delay); the last one repeats."""

    def __init__(self, *answers: tuple):
        self.answers, self.seen = list(answers), []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                api.seen.append(self.path)
                code, body, headers, delay = api.answers.pop(0) if len(api.answers) > 1 else api.answers[0]
                time.sleep(delay)
                try:
                    self.send_response(code)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FaultyAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def settings(monkeypatch):
    """Fast retries: short waits, three attempts, a one-second timeout."""
    current = config.risk_api()
    for name, value in {"attempts": 3, "max_wait_s": 0.05, "timeout_s": 1.0, "max_retry_time_s": 30.0}.items():
        monkeypatch.setattr(current, name, value)
    return current


def scores(url: str) -> list:
    return list(risk_api.iter_risk_scores(WINDOW, url=url))


def test_5xx_answers_are_retried_until_the_api_recovers(settings):
    with FaultyAPI(status(503), status(500), page([score(1)])) as api:
        assert scores(api.url) == [(1, 50, "2024-01-01 10:02:00")]
    assert len(api.seen) == 3


def test_a_timeout_is_retried(settings):
    settings.timeout_s = 0.3
    with FaultyAPI(slow(page([score(1)]), 1.0), page([score(2)])) as api:
        assert scores(api.url) == [(2, 50, "2024-01-01 10:02:00")]
    assert len(api.seen) == 2


def test_persistent_failure_names_the_source_the_url_and_the_last_error(settings):
    with FaultyAPI(status(502)) as api, pytest.raises(SourceUnavailable) as failure:
        scores(api.url)
    message = str(failure.value)
    assert message.startswith("risk API failed after 3 tries")
    assert "last error: HTTP 502" in message
    assert f"({api.url}/risk-scores?start=2024-01-01T10%3A00%3A00&end=2024-01-01T10%3A05%3A00" in message
    assert "check RISK_API_URL" in message and len(api.seen) == 3


def test_connection_refused_is_retried_then_fails_clearly(settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceUnavailable, match=rf"after 3 tries .* ConnectionError: .*\(http://127.0.0.1:{port}/"):
        scores(f"http://127.0.0.1:{port}")


def test_429_waits_as_long_as_retry_after_asks(settings, caplog):
    settings.max_wait_s = 5.0
    api = FaultyAPI(status(429, {"Retry-After": "1"}), page([score(3)]))
    with api, caplog.at_level(logging.WARNING, logger="storepipe.sources.risk_api"):
        assert scores(api.url) == [(3, 50, "2024-01-01 10:02:00")]
    waits = [float(r.getMessage().split("retrying in ")[1].split(" s")[0]) for r in caplog.records]
    assert len(waits) == 1 and waits[0] >= 1.0, waits


def test_429_asking_for_more_than_the_longest_wait_fails_at_once(settings):
    with (
        FaultyAPI(status(429, {"Retry-After": "3600"})) as api,
        pytest.raises(SourceUnavailable, match=r"after 1 tries .*HTTP 429 Too Many Requests \(Retry-After 3600 s\)"),
    ):
        scores(api.url)
    assert len(api.seen) == 1


def test_the_total_time_bounds_the_retries(settings):
    settings.attempts, settings.max_retry_time_s, settings.max_wait_s = 1000, 1.0, 0.2
    with FaultyAPI(status(503)) as api, pytest.raises(SourceUnavailable, match="last error: HTTP 503"):
        scores(api.url)
    assert 2 <= len(api.seen) < 1000, "stopped by time, not by attempts"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"<html>bad gateway</html>", "invalid JSON"),
        (b"{}", "not a page (no items list)"),
        (b'{"items": {"customer_id": 1}}', "not a page (no items list)"),
        (b'{"items": [], "next_cursor": 7}', "not a page (next_cursor is 7)"),
    ],
)
def test_garbage_is_retried_and_never_taken_for_an_empty_window(settings, body, error):
    api = FaultyAPI((200, body, {}, 0.0))
    with api, pytest.raises(SourceUnavailable, match=rf"after 3 tries .*{re.escape(error)}"):
        scores(api.url)
    assert len(api.seen) == 3


def test_bad_items_are_quarantined_and_good_ones_kept(settings):
    items = [
        score(1),
        {"customer_id": 2, "assessed_at": IN_WINDOW},
        score(3, risk=0),
        score(4, risk=101),
        score(5, risk="50"),
        {"risk_score": 50, "assessed_at": IN_WINDOW},
        score(2**31),
        score(7, at="2023-12-31T23:59:59"),
        score(8, at="not a time"),
        "not an object",
        score(9, risk=100),
    ]
    with FaultyAPI(page(items)) as api:
        out = scores(api.url)
    assert [r for r in out if not isinstance(r, Rejected)] == [
        (1, 50, "2024-01-01 10:02:00"),
        (9, 100, "2024-01-01 10:02:00"),
    ]
    rejected = {int(r.location.rsplit(" ", 1)[1]): r.reason for r in out if isinstance(r, Rejected)}
    assert rejected == {
        1: "risk_score is missing or outside 1..100",
        2: "risk_score is missing or outside 1..100",
        3: "risk_score is missing or outside 1..100",
        4: "risk_score is missing or outside 1..100",
        5: "customer_id is missing or not an integer",
        6: "customer_id is outside the integer range",
        7: "assessed_at 2023-12-31T23:59:59 is outside window 2024-01-01T10:00",
        8: "assessed_at is not a timestamp",
        9: "item is not an object",
    }
    assert all(r.location.startswith(f"{api.url}/risk-scores page 0 item ") for r in out if isinstance(r, Rejected))


def test_a_repeating_cursor_fails_instead_of_looping(settings):
    api = FaultyAPI(page([score(1)], "c1"), page([score(2)], "c2"), page([score(3)], "c1"))
    with api, pytest.raises(SourceUnavailable, match=r"repeated pagination cursor 'c1' on page 2"):
        scores(api.url)
    assert len(api.seen) == 3


def test_a_down_api_fails_the_task_and_marks_nothing(pipeline, monkeypatch):
    window = pipeline.window(0)
    pipeline.generate(window, customers=3, orders=0)

    def load() -> luigi.LuigiStatusCode:
        luigi.task_register.Register.clear_instance_cache()
        task = LoadRiskScores(window=window)
        return luigi.build([task], local_scheduler=True, detailed_summary=True, log_level="WARNING").status

    def done() -> list:
        sql = "select task_name from storepipe.markers where window_start = %s order by 1"
        return [r[0] for r in query(pipeline.warehouse_url, sql, (window.start,))]

    with FaultyAPI(status(503)) as api:
        monkeypatch.setenv("RISK_API_URL", api.url)
        assert load() == luigi.LuigiStatusCode.FAILED
    assert len(api.seen) == 3, "tests/luigi.cfg: [risk_api] attempts = 3"
    assert done() == [], "a source that is down is not an empty window"

    monkeypatch.setenv("RISK_API_URL", pipeline.env["RISK_API_URL"])
    assert load() == luigi.LuigiStatusCode.SUCCESS
    assert done() == ["extract:risk_scores", "load:risk_scores"]
    assert query(pipeline.warehouse_url, "select count(*) from store.customer_risk_score")[0][0] >= 3

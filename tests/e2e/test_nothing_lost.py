"""Invariant 7 (nothing lost silently): bad rows are quarantined and listed, too many fail the window
in one line, and a source that is down fails the run instead of becoming an empty window."""

import datetime as dt
import re
import socket
import subprocess
import sys
import uuid

from tests.helpers import REPO, luigi_cli, query

HEADER = "order_id,customer_id,item_id,item_name,delivered_on\n"


def storepipe(*args: str) -> subprocess.CompletedProcess:
    """The `storepipe` command, as a user runs it (the pipeline fixture exported the stack's settings)."""
    command = [sys.executable, "-m", "storepipe", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)


def run(window, **env) -> subprocess.CompletedProcess:
    return luigi_cli("RunWindow", "--window", window.label, "--local-scheduler", "--log-level", "WARNING", env=env)


def plant_bad_file(pipeline, window, bad_lines: int) -> str:
    when = f"{window.start + dt.timedelta(minutes=1):%Y-%m-%d %H:%M:%S}"
    lines = [f"{uuid.uuid4()},1,not-a-uuid-{n},chair,{when}\n" for n in range(bad_lines)]
    key = f"orders/{window.start:%Y/%m/%d/%H/%M}/zz-bad.csv"
    pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=(HEADER + "".join(lines)).encode())
    return key


def markers(pipeline, window) -> list[str]:
    sql = "select task_name from storepipe.markers where window_start = %s order by task_name"
    return [r[0] for r in query(pipeline.warehouse_url, sql, (window.start,))]


def quarantine_rows(pipeline, window) -> list[tuple]:
    sql = (
        "select source, location, reason, raw, action from storepipe.quarantine where window_start = %s"
        " order by source, location"
    )
    return query(pipeline.warehouse_url, sql, (window.start,))


def one_line_failure(result: subprocess.CompletedProcess, text: str) -> None:
    """A failing exit, no traceback, and the failure said once, on one line that starts `storepipe:`."""
    output = result.stdout + result.stderr
    assert result.returncode == 30, output
    assert "Traceback" not in output, output
    failures = [line for line in result.stderr.splitlines() if "storepipe: " in line]
    assert len(failures) == 1 and text in failures[0], output


def test_bad_rows_are_quarantined_listed_and_replaced_on_rerun(pipeline):
    window = pipeline.window(0)
    counts = pipeline.generate(window, customers=5, orders=60)
    key = plant_bad_file(pipeline, window, bad_lines=3)

    result = run(window)
    assert result.returncode == 0, result.stderr
    assert (
        "orders " + window.label in result.stderr and "3 of 63 rows quarantined (under the 10% limit)" in result.stderr
    )
    facts = query(
        pipeline.warehouse_url, "select count(*) from analytics.fct_orders where window_start = %s", (window.start,)
    )
    assert facts[0][0] == counts["orders"] == 60, "every valid row loads"
    first = quarantine_rows(pipeline, window)
    assert [(r[0], r[1]) for r in first] == [
        ("orders", f"s3://{pipeline.env['ORDERS_BUCKET']}/{key}:{line}") for line in (2, 3, 4)
    ]
    assert all("item_id 'not-a-uuid-" in r[2] and r[4] == "rejected" for r in first)

    listing = storepipe("quarantine", "--window", window.label)
    assert listing.returncode == 0, listing.stderr
    assert f"window {window.label}: orders 3 rejected" in listing.stdout
    assert listing.stdout.count(key) == 3 and "why: item_id 'not-a-uuid-0' is not a UUID" in listing.stdout
    report = storepipe("report", "--window", window.label)
    assert re.search(r"orders\s+60\s+60\s+3\b", report.stdout), report.stdout

    # forced re-run: the window's quarantine rows are replaced, never added to
    query(pipeline.warehouse_url, "delete from storepipe.markers where window_start = %s", (window.start,))
    assert run(window).returncode == 0
    assert quarantine_rows(pipeline, window) == first


def test_too_many_bad_rows_fail_the_window_in_one_line_and_mark_nothing(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=3, orders=10)
    key = plant_bad_file(pipeline, window, bad_lines=5)

    one_line_failure(run(window), "storepipe: 5 of 15 orders rows were rejected (33%, limit 10%)")
    assert not any(m.startswith(("extract:orders", "load:orders")) for m in markers(pipeline, window))
    assert "publish" not in " ".join(markers(pipeline, window))
    listing = storepipe("quarantine", "--window", window.label, "--source", "orders")
    assert "orders 5 rejected" in listing.stdout, "the reason the window failed is listed"

    pipeline.s3().delete_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key)  # fixed at the source
    assert run(window).returncode == 0
    assert [r for r in quarantine_rows(pipeline, window) if r[0] == "orders"] == []


def test_an_unreachable_source_db_or_a_wrong_password_is_one_line(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=3, orders=5)
    url, capture_url = pipeline.env["SOURCE_DB_URL"], pipeline.env["SOURCE_DB_CAPTURE_URL"]
    wrong_password = re.sub(r"://([^:/]+):[^@]*@", r"://\1:wrong@", url)
    wrong_capture_password = re.sub(r"://([^:/]+):[^@]*@", r"://\1:wrong@", capture_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    # pragma: allowlist nextline secret (a wrong password, on purpose)
    unreachable = f"postgresql://reader:secret@127.0.0.1:{closed_port}/source?connect_timeout=3"

    # the customers extract reads the change log through the capture role ([customer_db] capture = log)
    wrong = {"SOURCE_DB_URL": wrong_password, "SOURCE_DB_CAPTURE_URL": wrong_capture_password}
    one_line_failure(run(window, **wrong), "password authentication failed")
    down = {"SOURCE_DB_URL": unreachable, "SOURCE_DB_CAPTURE_URL": unreachable}
    one_line_failure(run(window, **down), "cannot connect to the customer DB")
    assert "extract:customers" not in markers(pipeline, window)
    assert run(window).returncode == 0


def test_a_risk_api_that_is_down_fails_the_run_and_is_never_an_empty_window(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=3, orders=5)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"

    result = run(window, RISK_API_URL=down)
    one_line_failure(result, "risk API failed after 3 tries")
    assert f"({down}/risk-scores?start=" in result.stderr and "ConnectionError" in result.stderr
    assert "extract:risk_scores" not in markers(pipeline, window)
    assert run(window).returncode == 0
    assert "extract:risk_scores" in markers(pipeline, window)

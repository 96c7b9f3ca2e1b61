"""luigid: workers share a backfill through it (each task once, the right graph in its API), and it keeps
its state and its task history (in PostgreSQL) across a restart."""

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import luigi
import psutil
import requests

from storepipe.devstack import stack
from storepipe.tasks import RunWindow
from tests.helpers import query, storepipe_cli, task_tree


def api(env: dict, method: str, **kwargs):
    answer = requests.get(f"{env['LUIGID_URL']}api/{method}", params={"data": json.dumps(kwargs)}, timeout=30)
    answer.raise_for_status()
    return answer.json()["response"]


def runs_per_task(env: dict, task_ids) -> dict[str, int]:
    """How many times luigid's task history saw each task start running."""
    # the history is luigid's own database: the pipeline role may not read it, the admin may
    history = re.sub(r"@/[^?]+\?", f"@/{stack.HISTORY_DB}?", env["SOURCE_DB_ADMIN_URL"])
    rows = query(
        history,
        "select tasks.task_id, count(*) from tasks join task_events on task_events.task_id = tasks.id"
        " where task_events.event_name = 'RUNNING' and tasks.task_id = any(%s) group by tasks.task_id",
        (sorted(task_ids),),
    )
    return dict(rows)


def span(windows) -> list[str]:
    return ["--start", windows[0].label, "--end", f"{windows[-1].end:%Y-%m-%dT%H:%M}"]


def test_a_two_worker_backfill_through_luigid_runs_each_task_once_with_the_right_graph(pipeline):
    windows = [pipeline.window(i) for i in range(12)]
    for window in windows:
        pipeline.generate(window, customers=2, orders=6)

    run = storepipe_cli("backfill", *span(windows), "--workers", "2")
    assert run.returncode == 0, run.stderr
    assert f"luigid at {pipeline.env['LUIGID_URL']}" in run.stderr
    expected = {task_id: deps for window in windows for task_id, deps in task_tree(window).items()}
    assert runs_per_task(pipeline.env, expected) == dict.fromkeys(expected, 1), "every task ran exactly once"

    done = api(pipeline.env, "task_list", status="DONE", upstream_status="")
    assert set(expected) <= set(done)
    for window in windows:
        root = RunWindow(window=window).task_id
        graph = api(pipeline.env, "dep_graph", task_id=root, include_done=True)
        assert {task_id: set(node["deps"]) for task_id, node in graph.items()} == task_tree(window)
        assert {node["status"] for node in graph.values()} == {"DONE"}
        names = {node["name"] for node in graph.values()}
        assert {"RunWindow", "ExtractOrders", "LoadOrders", "TransformModel"} <= names


def test_two_backfill_processes_share_a_range_and_each_task_runs_once(pipeline):
    windows = [pipeline.window(i) for i in range(6)]
    for window in windows:
        pipeline.generate(window, customers=2, orders=6)
    command = [str(Path(sys.executable).parent / "storepipe"), "backfill", *span(windows)]
    procs = [
        subprocess.Popen(command, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err

    expected = {task_id for window in windows for task_id in task_tree(window)}
    assert runs_per_task(pipeline.env, expected) == dict.fromkeys(expected, 1)
    ran = [int(line.split()[1]) for _, err in outputs for line in err.splitlines() if "ran successfully" in line]
    assert len(ran) == 2 and sum(ran) == len(expected) and min(ran) > 0, "both processes did part of the work"


def test_luigid_keeps_state_and_task_history_across_a_restart(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=3, orders=9)
    luigi.task_register.Register.clear_instance_cache()
    result = luigi.build(
        [RunWindow(window=window)],
        scheduler_url=pipeline.env["LUIGID_URL"],
        detailed_summary=True,
        log_level="WARNING",
    )
    assert result.status.name == "SUCCESS"
    ids = set(task_tree(window))

    home = Path(pipeline.env["STOREPIPE_HOME"])
    pid = int((home / "pids" / "luigid.pid").read_text())
    port = int((home / "pids" / "luigid.port").read_text())
    os.kill(pid, signal.SIGTERM)  # luigid writes its state file on SIGTERM
    psutil.Process(pid).wait(30)
    assert (home / "luigid" / "state.pickle").stat().st_size > 0
    env = stack.up(home, ports={"s3": 0, "risk_api": 0, "luigid": port}, luigid=True)
    assert env["LUIGID_URL"] == pipeline.env["LUIGID_URL"]
    assert int((home / "pids" / "luigid.pid").read_text()) != pid

    assert ids <= set(api(pipeline.env, "task_list", status="DONE", upstream_status=""))
    root = RunWindow(window=window).task_id
    page = requests.get(f"{pipeline.env['LUIGID_URL']}history/by_task_id/{root}", timeout=30)
    assert page.status_code == 200
    assert (
        "<td>RunWindow</td>" in page.text and f"<td>{window.label}</td>" in page.text and "<td>DONE</td>" in page.text
    )
    assert runs_per_task(pipeline.env, ids) == dict.fromkeys(ids, 1)

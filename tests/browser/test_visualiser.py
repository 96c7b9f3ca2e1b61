"""The luigid visualiser in headless Chromium (Debian's package; `make test-browser` installs it): after a
run it shows RunWindow's dependency graph with every extract, load and transform task, all done."""

import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import luigi

from storepipe.tasks import RunWindow
from tests.helpers import task_tree

CHROMIUM = Path("/usr/bin/chromium")
# no sandbox: CI runs as root in a container; the rest keeps a headless run quiet and offline
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--run-all-compositor-stages-before-draw",
    "--virtual-time-budget=15000",  # let the page's scripts fetch the graph and draw it
]


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM.exists(), "no /usr/bin/chromium: run `make test-browser` (it installs Debian's chromium)"
    shutil.rmtree(profile, ignore_errors=True)
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


class GraphNodes(HTMLParser):
    """The nodes (task id, status, label) and edge count of the visualiser's SVG dependency graph."""

    def __init__(self):
        super().__init__()
        self.nodes: dict[str, str] = {}
        self.labels: list[str] = []
        self.links = 0
        self._in_node = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "graph-node-a" in (attrs.get("class") or ""):
            self.nodes[attrs["data-task-id"]] = attrs["data-task-status"]
            self._in_node = True
        elif tag == "line" and attrs.get("class") == "link":
            self.links += 1

    def handle_data(self, data):
        if self._in_node and data.strip():
            self.labels.append(data.strip())

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_node = False


def test_visualiser_shows_the_window_graph_with_extract_load_and_transform_tasks(pipeline, tmp_path):
    window = pipeline.window(0)
    pipeline.generate(window, customers=4, orders=12)
    luigi.task_register.Register.clear_instance_cache()
    result = luigi.build(
        [RunWindow(window=window)], scheduler_url=pipeline.env["LUIGID_URL"], detailed_summary=True, log_level="WARNING"
    )
    assert result.status.name == "SUCCESS"
    root = RunWindow(window=window).task_id
    page = f"{pipeline.env['LUIGID_URL']}static/visualiser/index.html#tab=graph&taskId={quote(root)}"

    dom = chromium(tmp_path / "profile", "--dump-dom", page + "&visType=svg")
    assert dom.returncode == 0, dom.stderr[-2000:]
    graph = GraphNodes()
    graph.feed(dom.stdout)
    expected = task_tree(window)
    assert set(graph.nodes) == set(expected), "the graph shows every task of the window, and nothing else"
    assert set(graph.nodes.values()) == {"DONE"}
    assert graph.links == sum(len(deps) for deps in expected.values())
    labels = set(graph.labels)
    assert {"RunWindow", "ExtractCustomers", "ExtractOrders", "ExtractRiskScores"} <= labels
    assert {"LoadCustomers", "LoadOrders", "LoadRiskScores", "TransformModel"} <= labels

    # the README's picture: the D3 view of the same graph (STOREPIPE_SCREENSHOT says where to keep it)
    shot = Path(os.environ.get("STOREPIPE_SCREENSHOT") or tmp_path / "visualiser.png").resolve()
    taken = chromium(tmp_path / "profile", "--window-size=1520,860", f"--screenshot={shot}", page + "&visType=d3")
    assert taken.returncode == 0, taken.stderr[-2000:]
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1520, 860)
    assert shot.stat().st_size > 20_000, "a drawn page, not a blank one"

"""The timed side of the capture benchmark, in a process of its own that imports what a worker running
the capture imports, and no benchmark tooling, so its peak memory is the capture's.

`python -m benchmarks.capture_child SLOT RESULT_PATH`: one `capture.run` of SLOT into LAKE_URL,
recorded in WAREHOUSE_URL; writes seconds, changes, runs and VmHWM (MB) to RESULT_PATH as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from storepipe.lake.objects import Lake
from storepipe.tasks import capture


def main(slot: str, result_path: Path) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    url = os.environ["SOURCE_DB_CAPTURE_URL"]
    lake = Lake(os.environ["LAKE_URL"])
    began = time.perf_counter()
    captured = capture.run(url, lake, slot)
    seconds = time.perf_counter() - began
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    result = {"seconds": seconds, "changes": captured.changes, "runs": captured.runs, "vmhwm_mb": peak}
    result_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))

"""The CI and CD workflows (.github/workflows): actionlint (with shellcheck on their scripts), then
what each promises, read as data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.deploy import files

WORKFLOWS = files.REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(flow: dict) -> dict:
    return flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true


def steps(flow: dict) -> list[dict]:
    return [step for job in flow["jobs"].values() for step in job["steps"]]


def test_actionlint_finds_nothing():
    assert (BIN / "shellcheck").exists(), "actionlint checks the run: scripts with shellcheck (dev extra)"
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color"],
        cwd=files.REPO,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["cd.yml", "ci.yml"]


def test_ci_runs_make_ci_on_every_push_and_pull_request_with_pip_caches():
    flow = workflow("ci.yml")
    assert set(triggers(flow)) == {"push", "pull_request"}
    assert triggers(flow)["push"] is None, "every branch"
    python = next(s for s in steps(flow) if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip"
    assert "setup.cfg" in python["with"]["cache-dependency-path"].split()
    assert [s["run"] for s in steps(flow) if "run" in s] == ["make ci"]
    assert flow["permissions"] == {"contents": "read"}


def test_cd_deploys_a_pinned_commit_over_ssh_with_secrets_and_restarts_the_stack():
    flow = workflow("cd.yml")
    on = triggers(flow)
    assert on["workflow_run"] == {"workflows": ["CI"], "types": ["completed"], "branches": ["main"]}
    assert on["workflow_dispatch"]["inputs"]["commit"]["required"] is True
    [job] = flow["jobs"].values()
    assert "conclusion == 'success'" in job["if"], "only a commit whose CI passed deploys by itself"
    assert job["env"]["COMMIT"].endswith("github.event.workflow_run.head_sha }}")
    text = (WORKFLOWS / "cd.yml").read_text()
    # the host, the key and the host's key come from repository secrets, never from the file
    assert set(re.findall(r"secrets\.(\w+)", text)) == {"EC2_HOST", "EC2_SSH_KEY", "EC2_KNOWN_HOSTS"}
    assert "StrictHostKeyChecking=yes" in text and "ssh-keyscan -t" not in "".join(
        s.get("run", "") for s in steps(flow)
    )
    remote = next(s["run"] for s in steps(flow) if "REMOTE" in s.get("run", ""))
    assert 'git checkout --force --detach "$commit"' in remote
    assert 'test "$(git rev-parse HEAD)" = "$commit"' in remote
    assert "docker compose --project-directory docker -f docker/compose.yaml up -d --build" in remote
    # the directory the host cloned into on first boot
    assert "/opt/storepipe" in (files.REPO / "terraform" / "user_data.sh.tftpl").read_text()
    assert "cd /opt/storepipe" in remote
    # the commit is checked before it goes anywhere near a shell on the host
    check = next(s["run"] for s in steps(flow) if s.get("name") == "Check the commit")
    assert "^[0-9a-f]{40}$" in check

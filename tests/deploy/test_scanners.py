"""The real scanners: checkov on terraform/ and the Dockerfiles, hadolint on the Dockerfiles."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy import files

DOCKERFILES = sorted(files.DOCKER.glob("*.Dockerfile"))


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory) -> list[dict]:
    """One checkov run over terraform/ and docker/, offline; its JSON report, one entry per framework."""
    checkov = files.tool("checkov", files.IAC_VENV / "bin" / "checkov", files.on_path("checkov"))
    home = tmp_path_factory.mktemp("checkov-home")
    result = subprocess.run(
        [
            checkov,
            *("--directory", str(files.TERRAFORM), "--directory", str(files.DOCKER)),
            *("--framework", "terraform", "dockerfile"),
            *("--output", "json", "--skip-download"),
        ],
        env={**os.environ, "HOME": str(home), "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return [framework for document in _json_documents(result.stdout) for framework in _as_list(document)]


def test_checkov_finds_no_failed_check(checkov_report):
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for framework in checkov_report
        for check in framework["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)


def test_checkov_scanned_both_frameworks_and_every_skip_has_a_reason(checkov_report):
    by_type = {framework["check_type"]: framework for framework in checkov_report}
    assert {"terraform", "dockerfile"} <= set(by_type)
    assert by_type["terraform"]["summary"]["passed"] >= 50
    assert by_type["dockerfile"]["summary"]["passed"] >= 20
    for framework in checkov_report:
        for check in framework["results"]["skipped_checks"]:
            comment = (check.get("check_result") or {}).get("suppress_comment", "")
            assert len(comment) >= 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint(dockerfile):
    hadolint = files.tool("hadolint", Path(sys.executable).parent / "hadolint", files.on_path("hadolint"))
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "script",
    [
        files.TERRAFORM / "user_data.sh.tftpl",
        *sorted((files.DOCKER / "source-db-init").glob("*.sh")),
        *sorted((files.DOCKER / "warehouse-db-init").glob("*.sh")),
        *sorted((files.DOCKER / "minio-init").glob("*.sh")),
    ],
    ids=lambda p: p.name,
)
def test_shellcheck(script, tmp_path):
    # a template's ${name} placeholders become plain words, as terraform's templatefile leaves them
    rendered = tmp_path / "script.sh"
    rendered.write_text(re.sub(r"\$\{(\w+)\}", r"template-\1", script.read_text()))
    shellcheck = files.tool("shellcheck", Path(sys.executable).parent / "shellcheck", files.on_path("shellcheck"))
    result = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=style", str(rendered)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_there_are_the_two_images():
    assert [p.name for p in DOCKERFILES] == ["pipeline.Dockerfile", "risk-api.Dockerfile"]


def _json_documents(text: str) -> list:
    """checkov prints one JSON document per directory scanned, one after the other."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while at < len(text.rstrip()):
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
        while at < len(text) and text[at].isspace():
            at += 1
    return documents


def _as_list(document) -> list:
    return document if isinstance(document, list) else [document]

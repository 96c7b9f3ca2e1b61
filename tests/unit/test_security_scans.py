"""The repository holds no secret (detect-secrets against .secrets.baseline) and its Python code no
security smell (bandit); every exception is justified where it stands. `make security` runs the same."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BASELINE = REPO / ".secrets.baseline"
BANDIT_PATHS = ("storepipe", "docker", "benchmarks")


def _tracked() -> list[str]:
    """Every file git tracks, or would (new and not ignored), that is still there."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    # the baseline itself holds hashes, not secrets
    return [name for name in listed if (REPO / name).is_file() and name != BASELINE.name]


def _scan(paths: list[str], cwd: Path) -> dict:
    """detect-secrets over `paths`, with the baseline's own exclusions; its findings by file."""
    excluded = [
        pattern
        for used in json.loads(BASELINE.read_text())["filters_used"]
        if used["path"].endswith("should_exclude_line")
        for pattern in used["pattern"]
    ]
    args = [arg for pattern in excluded for arg in ("--exclude-lines", pattern)]
    result = subprocess.run(
        [str(BIN / "detect-secrets"), "scan", *args, *paths], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["results"]


def test_no_secret_in_the_repository_beyond_the_baseline():
    found = _scan(_tracked(), REPO)
    allowed = json.loads(BASELINE.read_text())["results"]
    new = {
        f"{name}:{hit['line_number']} ({hit['type']})"
        for name, hits in found.items()
        for hit in hits
        if hit["hashed_secret"] not in {a["hashed_secret"] for a in allowed.get(name, [])}
    }
    assert not new, "a secret, or mark a dev-only default `pragma: allowlist secret` saying why: " + ", ".join(
        sorted(new)
    )


def test_the_secret_scan_finds_a_planted_key(tmp_path):
    # a made-up key in AWS's format: proof that the scan above is looking
    planted = tmp_path / "settings.py"
    key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"  # pragma: allowlist secret (AWS's documented example)
    planted.write_text(f'aws_secret_access_key = "{key}"\n')
    assert _scan([planted.name], tmp_path), "detect-secrets found nothing in a file with a key"


def test_bandit_finds_nothing_unjustified():
    result = subprocess.run(
        [str(BIN / "bandit"), "-q", "-r", *BANDIT_PATHS, "-f", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    issues = [f"{i['filename']}:{i['line_number']} {i['test_id']} {i['issue_text']}" for i in report["results"]]
    assert not issues, "\n".join(issues)
    assert result.returncode == 0, result.stderr
    assert report["metrics"]["_totals"]["loc"] > 5000, "bandit read the code"


def test_every_bandit_exception_names_its_test_and_says_why():
    suppressed = 0
    for folder in BANDIT_PATHS:
        for path in (REPO / folder).rglob("*.py"):
            lines = path.read_text().splitlines()
            for number, line in enumerate(lines):
                if "# nosec" not in line:
                    continue
                suppressed += 1
                where = f"{path.relative_to(REPO)}:{number + 1}"
                assert re.search(r"# nosec B\d{3}", line), f"{where}: name the check (# nosec B603)"
                # the reason: after the marker on the line, or a comment just above (`# bandit B603: ...`)
                after = re.search(r"# nosec (?:B\d{3}[ ,]*)+(.*)$", line)[1].strip(" #")
                above = lines[number - 1].strip() if number else ""
                assert len(after) >= 15 or re.match(r"# .{15,}", above), f"{where}: say why"
    assert suppressed, "no exception found: the check looks in the wrong place"

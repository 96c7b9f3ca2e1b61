"""terraform itself on terraform/: fmt, validate (providers from a local mirror when the machine has one),
and the variables' validation rules evaluated by terraform plan on a copy holding only variables.tf."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy import files

# where this project's machines keep the AWS provider, so validate needs no network
PROVIDER_MIRROR = Path(os.environ.get("STOREPIPE_TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
GOOD_VARS = {
    "admin_cidr": "203.0.113.7/32",
    "alert_email": "admin@example.com",
    "repo_url": "https://example.com/storepipe.git",
    "repo_ref": "v1.2.0",
}


@pytest.fixture(scope="module")
def terraform() -> str:
    return files.tool("terraform", files.on_path("terraform"), files.IAC_VENV / "bin" / "terraform")


def run(terraform: str, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", **(env or {})}
    return subprocess.run(
        [terraform, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300, check=False
    )


def copy_module(tmp_path: Path, names: list[str]) -> Path:
    module = tmp_path / "terraform"
    module.mkdir()
    for name in names:
        shutil.copy(files.TERRAFORM / name, module / name)
    return module


def test_fmt_check(terraform):
    result = run(terraform, "fmt", "-check", "-diff", "-recursive", cwd=files.TERRAFORM)
    assert result.returncode == 0, f"run `terraform fmt terraform/`:\n{result.stdout}{result.stderr}"


def test_validate(terraform, tmp_path):
    # a copy, so .terraform/ and the lock file stay out of the checkout
    module = copy_module(tmp_path, [p.name for p in files.TERRAFORM.iterdir() if p.suffix in (".tf", ".tftpl")])
    env = {"TF_DATA_DIR": str(tmp_path / "data")}
    if PROVIDER_MIRROR.is_dir():
        cli = tmp_path / "cli.tfrc"
        cli.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{PROVIDER_MIRROR}"\n  }}\n}}\n')
        env["TF_CLI_CONFIG_FILE"] = str(cli)
    init = run(terraform, "init", "-backend=false", "-input=false", "-no-color", cwd=module, env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    result = run(terraform, "validate", "-no-color", cwd=module, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The configuration is valid" in result.stdout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("admin_cidr", "0.0.0.0/0"),
        ("admin_cidr", "10.0.0.0/8"),
        ("admin_cidr", "203.0.113.7"),
        ("admin_cidr", "::/0"),
        ("repo_url", "git@example.com:storepipe.git"),
        # shell syntax never reaches the boot script
        ("repo_url", "https://example.com/$(touch /tmp/owned).git"),
        ("repo_url", "https://example.com/`id`.git"),
        ("repo_url", "https://example.com/a.git'; id; '"),
        ("repo_url", "https://example.com/a.git x"),
        # a branch moves: the host deploys a tag or a commit
        ("repo_ref", "main"),
        ("repo_ref", "deadbeef"),
        ("lake_retention_days", "0"),
        ("alert_email", "nobody"),
        ("aws_region", "mars-north-1a"),
        ("monthly_budget_usd", "0"),
        ("ssh_public_key_path", ".ssh/storepipe_ec2"),
    ],
)
def test_variables_refuse_bad_values(terraform, tmp_path, name, value):
    result = plan_variables(terraform, tmp_path, {**GOOD_VARS, name: value})
    assert result.returncode != 0
    assert "Invalid value for variable" in result.stderr and name in result.stderr, result.stderr


def test_variables_accept_good_values(terraform, tmp_path):
    result = plan_variables(terraform, tmp_path, {**GOOD_VARS, "admin_cidr": "198.51.100.0/24"})
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "commit").mkdir()
    pinned = {**GOOD_VARS, "repo_ref": "0123456789abcdef" * 2 + "01234567"}  # a full commit id
    commit = plan_variables(terraform, tmp_path / "commit", pinned)
    assert commit.returncode == 0, commit.stdout + commit.stderr


def plan_variables(terraform: str, tmp_path: Path, values: dict[str, str]) -> subprocess.CompletedProcess:
    """terraform plan of variables.tf alone (no provider, no resource): only the validation rules run."""
    module = copy_module(tmp_path, ["variables.tf"])
    env = {"TF_DATA_DIR": str(tmp_path / "data")}
    init = run(terraform, "init", "-backend=false", "-input=false", "-no-color", cwd=module, env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    args = [arg for name, value in values.items() for arg in ("-var", f"{name}={value}")]
    return run(terraform, "plan", "-input=false", "-no-color", "-lock=false", *args, cwd=module, env=env)

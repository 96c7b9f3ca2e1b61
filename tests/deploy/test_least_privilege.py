"""Least privilege in docker/ and terraform/ (invariant 14): the roles compose's services log in as,
the MinIO account, IMDS reached by the host alone, the lake's Object Lock, and the boot script's quoting."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import util
from urllib.parse import quote, urlsplit

import boto3
import psycopg2
import psycopg2.errors
import pytest
import yaml

from storepipe.warehouse.migrate import migrate
from tests.deploy import files
from tests.deploy.test_compose import env_example, environment
from tests.deploy.test_services_run import _pg_bin, fresh_postgres, run  # noqa: F401 (a fixture)
from tests.deploy.test_terraform_rules import ALLOWED_S3_ACTIONS

WAREHOUSE_INIT = files.DOCKER / "warehouse-db-init" / "10-roles.sh"
MINIO_ACCOUNT = files.DOCKER / "minio-init" / "pipeline-account.sh"
AWS_OVERRIDE = files.DOCKER / "compose.aws.yaml"
S3_USERS = {"worker", "generator"}  # the services that read or write a bucket


def _postgres_urls() -> dict:
    found = {}
    for name in files.services():
        for key, value in environment(name).items():
            if value.startswith("postgresql"):
                found[(name, key)] = urlsplit(value)
    return found


# --- the warehouse's roles -------------------------------------------------------------------------


def test_no_service_logs_in_as_the_warehouse_admin():
    warehouse = environment("warehouse-db")
    example = env_example()
    assert files.services()["warehouse-db"]["environment"]["POSTGRES_USER"] == "${WAREHOUSE_ADMIN_USER}"
    assert example["WAREHOUSE_ADMIN_USER"] != example["WAREHOUSE_USER"]
    assert "./warehouse-db-init:/docker-entrypoint-initdb.d:ro" in files.services()["warehouse-db"]["volumes"]
    users = {}
    for (name, key), url in _postgres_urls().items():
        if url.hostname == "warehouse-db":
            assert url.username != warehouse["POSTGRES_USER"], f"{name}.{key} uses the admin"
            users[name] = (url.username, url.path.lstrip("/"))
    for name in files.services():
        if name != "warehouse-db":
            raw = json.dumps(files.services()[name].get("environment", {}))
            assert "WAREHOUSE_ADMIN" not in raw, f"{name} is given the warehouse admin's account"
    assert users == {
        "migrate": ("sde", "warehouse"),
        "worker": ("sde", "warehouse"),
        "luigid": ("storepipe_luigid", "luigi_history"),
    }


def test_metabase_holds_no_database_account_and_is_pointed_at_the_analyst():
    metabase = files.services()["metabase"]
    assert not any(re.search(r"PASSWORD|SECRET|_URL", key) for key in metabase.get("environment", {}))
    text = files.COMPOSE_FILE.read_text()
    block = text[text.index("  metabase:") :]
    assert "user storepipe_analyst" in block and "WAREHOUSE_ANALYST_PASSWORD" in block
    readme = (files.REPO / "README.md").read_text()
    section = readme[readme.index("## Metabase") :]
    section = section[: section.index("\n## ", 4)]
    assert "storepipe_analyst" in section and "WAREHOUSE_ANALYST_PASSWORD" in section
    assert "WAREHOUSE_PASSWORD" not in section, "the pipeline's password is not Metabase's"


def test_the_warehouse_init_script_makes_roles_that_can_do_their_job_only(fresh_postgres, tmp_path):  # noqa: F811
    socket_dir = str(fresh_postgres.get_postmaster_info().socket_dir)
    host = quote(socket_dir, safe="/")
    admin = psycopg2.connect(f"postgresql://postgres@/postgres?host={host}")
    admin.autocommit = True
    with admin.cursor() as cur:
        # what the postgres image does with POSTGRES_USER and POSTGRES_DB before running the script
        cur.execute("create role warehouse_admin superuser login")
        cur.execute("create database warehouse owner warehouse_admin")
    admin.close()
    env = {
        "PATH": f"{_pg_bin()}:/usr/bin:/bin",
        "PGHOST": socket_dir,
        "POSTGRES_USER": "warehouse_admin",
        "POSTGRES_DB": "warehouse",
        "WAREHOUSE_USER": "sde",
        "WAREHOUSE_PASSWORD": "pipeline-secret",  # pragma: allowlist secret (a test password)
        "WAREHOUSE_ANALYST_PASSWORD": "analyst-secret",  # pragma: allowlist secret (a test password)
        "LUIGI_HISTORY_PASSWORD": "luigid-secret",  # pragma: allowlist secret (a test password)
    }
    result = run(["bash", str(WAREHOUSE_INIT)], env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

    def url(user: str, database: str) -> str:
        return f"postgresql://{user}@/{database}?host={host}"

    # the compose stack's migrate job: the pipeline role migrates (and so owns) the warehouse
    assert migrate(url("sde", "warehouse"), "warehouse")
    rows = dict(
        _query(
            url("warehouse_admin", "warehouse"),
            "select rolname, rolsuper or rolcreaterole or rolcreatedb or rolbypassrls from pg_roles"
            " where rolname in ('sde', 'storepipe_analyst', 'storepipe_luigid')",
        )
    )
    assert rows == {"sde": False, "storepipe_analyst": False, "storepipe_luigid": False}
    analyst = url("storepipe_analyst", "warehouse")
    assert _query(analyst, "select count(*) from store.states") == [(27,)]
    assert _query(analyst, "select count(*) from analytics.fct_orders") == [(0,)]
    for statement in ("select * from store.orders", "select * from storepipe.markers", "delete from store.states"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            _query(analyst, statement, read_write=True)
    for user, database in (
        ("sde", "warehouse"),
        ("storepipe_analyst", "warehouse"),
        ("storepipe_luigid", "luigi_history"),
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            _query(url(user, database), "copy (select 1) to program 'id'")
    # luigid makes its tables in its own database, and reaches no other
    _query(url("storepipe_luigid", "luigi_history"), "create table tasks (id int)")
    for user, database in (
        ("storepipe_luigid", "warehouse"),
        ("sde", "luigi_history"),
        ("storepipe_analyst", "luigi_history"),
    ):
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(url(user, database)).close()


def _query(url: str, statement: str, read_write: bool = False) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            if read_write:
                cur.execute("set transaction read write")
            cur.execute(statement)
            rows = cur.fetchall() if cur.description else []
        conn.commit()
        return rows
    finally:
        conn.close()


# --- MinIO ---------------------------------------------------------------------------------------------


def test_the_pipeline_uses_a_minio_account_not_the_root_key():
    example = env_example()
    assert example["MINIO_ROOT_USER"] != example["AWS_ACCESS_KEY_ID"]
    minio = files.services()["minio"]["environment"]
    assert (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"]) == ("${MINIO_ROOT_USER}", "${MINIO_ROOT_PASSWORD}")
    for name, service in files.services().items():
        raw = service.get("environment", {})
        if name in S3_USERS:
            assert (raw["AWS_ACCESS_KEY_ID"], raw["AWS_SECRET_ACCESS_KEY"]) == (
                "${AWS_ACCESS_KEY_ID}",
                "${AWS_SECRET_ACCESS_KEY}",
            ), name
        if "MINIO_ROOT" in json.dumps(raw):
            assert name in ("minio", "create-buckets", "minio-account"), f"{name} is given MinIO's root key"
    account = files.services()["minio-account"]
    assert account["image"] == files.services()["minio"]["image"] and account["profiles"] == ["minio"]
    assert account["entrypoint"] == ["/bin/sh", "/minio-init/pipeline-account.sh"]
    assert "./minio-init:/minio-init:ro" in account["volumes"]


def test_the_minio_accounts_policy_is_the_instance_roles_two_buckets_without_delete():
    script = MINIO_ACCOUNT.read_text()
    heredoc = re.search(r"<<JSON\n(.*?)\nJSON\n", script, flags=re.S)[1]
    policy = json.loads(heredoc.replace("${ORDERS_BUCKET}", "orders").replace("${lake_bucket}", "lake"))
    granted = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow" and set(statement) == {"Sid", "Effect", "Action", "Resource"}
        assert set(statement["Action"]) <= ALLOWED_S3_ACTIONS, statement["Sid"]
        for resource in statement["Resource"]:
            assert resource in (
                "arn:aws:s3:::orders",
                "arn:aws:s3:::lake",
                "arn:aws:s3:::orders/*",
                "arn:aws:s3:::lake/*",
            )
        granted |= set(statement["Action"])
    assert not any(a.startswith("s3:Delete") for a in granted) and "s3:*" not in granted
    # the lake bucket is LAKE_URL's, as create_buckets.py reads it; the root key goes by environment only
    assert "lake_bucket=${LAKE_URL#s3://}" in script and "lake_bucket=${lake_bucket%%/*}" in script
    assert 'MC_HOST_stack="http://${MINIO_ROOT_USER}:${MINIO_ROOT_PASSWORD}@minio:9000"' in script
    assert "mc admin policy attach stack storepipe-pipeline --user" in script
    assert "MINIO_ROOT" not in "".join(line for line in script.splitlines() if line.startswith("mc "))


# --- IMDS and the worker's AWS credentials ----------------------------------------------------------


def test_only_the_host_reaches_imds_and_only_s3_users_get_the_roles_credentials():
    (host,) = files.of_type("resource", "aws_instance").values()
    metadata = host["metadata_options"][0]
    assert metadata["http_tokens"] == "required" and metadata["http_put_response_hop_limit"] == 1
    override = yaml.safe_load(AWS_OVERRIDE.read_text())["services"]
    assert set(override) == S3_USERS, "Metabase, the risk API and luigid get nothing"
    for name, service in override.items():
        assert service["environment"] == {"AWS_CONFIG_FILE": "/run/storepipe-aws/config"}, name
        assert service["volumes"] == ["/run/storepipe-aws:/run/storepipe-aws:ro"], name
        assert "network_mode" not in service
    text = (files.TERRAFORM / "user_data.sh.tftpl").read_text()
    assert "-f docker/compose.yaml -f docker/compose.aws.yaml up" in text
    assert "systemctl enable --now storepipe-aws-credentials.timer" in text
    service = (files.DOCKER / "aws-host" / "storepipe-aws-credentials.service").read_text()
    assert "/opt/storepipe/docker/aws-host/refresh_credentials.py /run/storepipe-aws" in service
    timer = (files.DOCKER / "aws-host" / "storepipe-aws-credentials.timer").read_text()
    assert "OnUnitActiveSec=2min" in timer


def test_the_host_copies_the_role_credentials_as_a_credential_process_boto3_reads(tmp_path, monkeypatch):
    imds = _FakeImds()
    module = _load("refresh_credentials", files.DOCKER / "aws-host" / "refresh_credentials.py")
    monkeypatch.setattr(module, "IMDS", f"http://127.0.0.1:{imds.port}/latest")
    owners = []
    monkeypatch.setattr(module.os, "chown", lambda path, uid, gid: owners.append((uid, gid)))
    folder = tmp_path / "storepipe-aws"
    try:
        assert module.main([str(folder)]) == 0
    finally:
        imds.stop()
    assert imds.token_requests == 1 and all(token == "t0ken" for token in imds.tokens_seen), "IMDSv2 only"
    assert {oct(p.stat().st_mode & 0o777) for p in folder.iterdir()} == {"0o640"}
    assert oct(folder.stat().st_mode & 0o777) == "0o750" and set(owners) == {(0, module.CONTAINER_GID)}
    assert module.CONTAINER_GID == 10001 and "USER 10001:10001" in (files.DOCKER / "pipeline.Dockerfile").read_text()
    assert (folder / "config").read_text() == module.CONFIG
    # boto3 runs the credential process (here over the test's folder) and takes the role's keys
    config = tmp_path / "config"
    config.write_text(module.CONFIG.replace("/run/storepipe-aws", str(folder)))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    credentials = boto3.Session().get_credentials().get_frozen_credentials()
    assert (credentials.access_key, credentials.token) == ("ASIAEXAMPLE", "session-token")


class _FakeImds:
    """IMDSv2 on 127.0.0.1: a PUT for a token, then GETs that must carry it."""

    def __init__(self):
        fake = self
        self.token_requests, self.tokens_seen = 0, []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_PUT(self):
                fake.token_requests += 1
                self._answer("t0ken" if self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") else None)

            def do_GET(self):
                fake.tokens_seen.append(self.headers.get("X-aws-ec2-metadata-token"))
                if self.path == "/latest/meta-data/iam/security-credentials/":
                    self._answer("storepipe-host-role\n")
                elif self.path == "/latest/meta-data/iam/security-credentials/storepipe-host-role":
                    self._answer(
                        json.dumps(
                            {
                                "Code": "Success",
                                "AccessKeyId": "ASIAEXAMPLE",
                                "SecretAccessKey": "example-secret",  # pragma: allowlist secret (a fake IMDS answer)
                                "Token": "session-token",
                                "Expiration": "2099-01-01T00:00:00Z",
                            }
                        )
                    )
                else:
                    self._answer(None)

            def _answer(self, body):
                self.send_response(200 if body else 404)
                self.end_headers()
                self.wfile.write((body or "").encode())

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _load(name: str, path):
    spec = util.spec_from_file_location(name, path)
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the lake's bucket ----------------------------------------------------------------------------------


def test_the_lake_bucket_locks_every_version_and_survives_infra_down():
    buckets = files.of_type("resource", "aws_s3_bucket")
    lake = buckets["aws_s3_bucket.lake"]
    assert lake["object_lock_enabled"] is True and lake.get("force_destroy", False) is False
    (lock,) = files.of_type("resource", "aws_s3_bucket_object_lock_configuration").values()
    assert lock["bucket"] == "${aws_s3_bucket.lake.id}"
    retention = lock["rule"][0]["default_retention"][0]
    assert retention == {"mode": "GOVERNANCE", "days": "${var.lake_retention_days}"}
    assert files.blocks("variable")["lake_retention_days"]["default"] >= 30
    # replaced versions of the lake are never expired by a lifecycle rule
    (lifecycle,) = files.of_type("resource", "aws_s3_bucket_lifecycle_configuration").values()
    rule = lifecycle["rule"][0]
    assert "noncurrent_version_expiration" not in rule
    (expiry,) = rule["dynamic"]
    assert expiry["noncurrent_version_expiration"]["for_each"] == '${each.key == "orders" ? [30] : []}'
    readme = (files.REPO / "README.md").read_text()
    assert "lake_retention_days" in readme and "GOVERNANCE" in readme.upper()


def test_the_lake_bucket_refuses_a_write_that_could_replace_an_object():
    document = files.blocks("data")["aws_iam_policy_document.tls_only"]
    (dynamic,) = document["dynamic"]
    statement = dynamic["statement"]
    assert statement["for_each"] == '${each.key == "lake" ? [each.value.arn] : []}'
    content = statement["content"][0]
    assert content["effect"] == "Deny" and content["actions"] == ["s3:PutObject"]
    assert content["principals"][0] == {"type": "*", "identifiers": ["*"]}
    conditions = {(c["test"], c["variable"], tuple(c["values"])) for c in content["condition"]}
    assert conditions == {
        ("Null", "s3:if-none-match", ("true",)),
        # without it CreateMultipartUpload and UploadPart, which carry no condition, would be refused
        ("Bool", "s3:ObjectCreationOperation", ("true",)),
    }


# --- the boot script's quoting ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def terraform() -> str:
    return files.tool("terraform", files.on_path("terraform"), files.IAC_VENV / "bin" / "terraform")


def test_repo_url_and_ref_reach_the_boot_script_as_single_words(terraform, tmp_path):
    """terraform itself renders user_data.sh.tftpl with deploy_source.tf's quoting; bash reads the result."""
    module = tmp_path / "module"
    module.mkdir()
    for name in ("variables.tf", "deploy_source.tf", "user_data.sh.tftpl"):
        (module / name).write_text((files.TERRAFORM / name).read_text())
    url, ref = "https://example.com/team/store-pipe_v2.git", "v1.2.0-rc.1"
    expression = (
        'jsonencode(templatefile("user_data.sh.tftpl", merge(local.deploy_source,'
        ' {region = "us-east-1", orders_bucket = "orders-x", lake_bucket = "lake-x",'
        ' alerts_topic = "arn:aws:sns:us-east-1:123456789012:alerts-x"})))'
    )
    variables = {"admin_cidr": "203.0.113.7/32", "alert_email": "a@example.com", "repo_url": url, "repo_ref": ref}
    result = subprocess.run(
        [terraform, "console", *[a for n, v in variables.items() for a in ("-var", f"{n}={v}")]],
        input=expression,
        cwd=module,
        env={**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_DATA_DIR": str(tmp_path / "d")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    script = json.loads(json.loads(result.stdout.strip()))
    assert f"git -C /opt/storepipe remote add origin '{url}'\n" in script
    assert f"repo_ref='{ref}'\n" in script
    syntax = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    # what bash makes of the quoted words: exactly the values, one word each
    (remote,) = [line for line in script.splitlines() if "remote add origin" in line]
    assert shlex.split(remote)[-1] == url
    # a single quote in a value stays inside its word (the rule in deploy_source.tf)
    quoted = _deploy_quote("https://example.com/it's.git")
    assert shlex.split(f"git clone {quoted}") == ["git", "clone", "https://example.com/it's.git"]


def _deploy_quote(value: str) -> str:
    """deploy_source.tf's rule, read from the file: the replace() it applies, then single quotes around."""
    text = (files.TERRAFORM / "deploy_source.tf").read_text()
    assert "repo_url = \"'${replace(var.repo_url, \"'\", \"'\\\\''\")}'\"" in text
    return "'" + value.replace("'", "'\\''") + "'"

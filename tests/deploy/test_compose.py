"""docker/compose.yaml read as data: every setting the code reads is provided, ports, health, order, users, files."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy import files

STOREPIPE = files.REPO / "storepipe"
# the port each service listens on inside the stack's network
LISTENS = {"source-db": 5432, "warehouse-db": 5432, "minio": 9000, "risk-api": 8000, "luigid": 8082, "metabase": 3000}
PUBLISHED = {"luigid": 8082, "metabase": 3000}
ONE_SHOT = {"migrate", "create-buckets", "minio-account"}
# third-party images that start as root only to drop to their own user before serving
DROPS_PRIVILEGES = {
    "postgres": "the entrypoint runs the server as the image's `postgres` user (gosu)",
    "metabase/metabase": "run_metabase.sh runs Metabase as the `metabase` user (uid 2000)",
}
# the one exception, and why
RUNS_AS_ROOT = {"minio/minio": "MinIO's image has no non-root user and its /data volume is root-owned; no port"}


def env_example() -> dict[str, str]:
    """docker/.env.example as `make up-docker` fills it: each empty secret gets a stand-in value."""
    values = files.env_file(files.DOCKER / ".env.example")
    return {k: v or f"secret-{k.lower()}" if re.search(r"PASSWORD|SECRET", k) else v for k, v in values.items()}


def environment(service: str) -> dict[str, str]:
    """The service's environment with docker/.env.example's values substituted."""
    raw = files.services()[service].get("environment", {})
    assert isinstance(raw, dict), f"{service}: environment as a mapping, so anchors merge"
    return {name: files.interpolate(str(value), env_example()) for name, value in raw.items()}


def image_env(dockerfile: Path) -> set[str]:
    """Names that the image's ENV instructions set."""
    text = dockerfile.read_text().replace("\\\n", " ")
    return {name for line in text.splitlines() if line.startswith("ENV ") for name in re.findall(r"(\w+)=", line)}


def built_from(service: str) -> Path | None:
    build = files.services()[service].get("build")
    return (files.DOCKER / build["context"] / build["dockerfile"]).resolve() if build else None


def test_services_of_the_stack():
    assert set(files.services()) == {
        "source-db",
        "warehouse-db",
        "minio",
        "create-buckets",
        "minio-account",
        "migrate",
        "risk-api",
        "generator",
        "luigid",
        "worker",
        "metabase",
    }


def test_every_variable_the_compose_file_uses_is_in_the_env_example():
    used = files.variables_used(files.compose())
    defined = set(files.env_file(files.DOCKER / ".env.example"))
    assert used - defined == set(), "add them to docker/.env.example"
    assert defined - used - {"COMPOSE_PROFILES"} == set(), "docker/.env.example lists unused settings"
    for name in files.services():
        environment(name)  # every value resolves


def test_no_secret_is_written_in_the_compose_file():
    for name, service in files.services().items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if re.search(r"PASSWORD|SECRET", key):
                assert re.fullmatch(r"\$\{\w+\}", value), f"{name}.{key} must come from docker/.env"
            for password in re.findall(r"://[^:/@]+:([^@]*)@", value):
                assert re.fullmatch(r"\$\{\w+\}", password), f"{name}.{key} has a literal password"
    example = files.env_file(files.DOCKER / ".env.example")
    assert all(not v for k, v in example.items() if re.search(r"PASSWORD|SECRET", k)), "no secret in .env.example"


def _docker_capture() -> str:
    """How the stack's worker extracts customers (docker/luigi.cfg over the repository's luigi.cfg)."""
    cfg = configparser.ConfigParser()
    cfg.read([files.REPO / "luigi.cfg", files.DOCKER / "luigi.cfg"])
    return cfg.get("customer_db", "capture", fallback="log")


def test_the_worker_gets_every_setting_the_pipeline_reads_and_no_source_write_access():
    pipeline_code = [p for p in STOREPIPE.rglob("*.py") if not {"devstack", "simulator"} & set(p.parts)]
    needed = files.settings_read(*pipeline_code) - image_env(files.DOCKER / "pipeline.Dockerfile")
    # the admin URL is only for migrations and the data generator (invariant 9: sources are read-only)
    needed -= {"SOURCE_DB_ADMIN_URL", "STOREPIPE_HOME"}
    if _docker_capture() == "query":
        needed -= {"SOURCE_DB_CAPTURE_URL"}  # read by the log capture only
    assert {"WAREHOUSE_URL", "SOURCE_DB_URL", "LAKE_URL", "RISK_API_URL", "LUIGID_URL", "ORDERS_BUCKET"} <= needed
    worker = environment("worker")
    assert needed - set(worker) == set()
    assert "SOURCE_DB_ADMIN_URL" not in worker
    assert urlsplit(worker["SOURCE_DB_URL"]).username == "storepipe_reader"


@pytest.mark.parametrize(
    ("service", "code", "functions"),
    [
        ("generator", ["cli/commands.py", "simulator/datagen.py"], ("generate", "_s3")),
        ("migrate", ["cli/commands.py"], ("migrate",)),
        ("risk-api", ["simulator/risk_api_app.py"], ()),
    ],
)
def test_each_job_gets_the_settings_its_code_reads(service, code, functions):
    needed = files.settings_read(*(STOREPIPE / c for c in code), functions=functions)
    assert needed, f"found no setting read by {service}'s code"
    assert needed - set(environment(service)) == set()


def test_luigid_and_create_buckets_get_what_their_config_and_script_read():
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(files.DOCKER / "luigi.cfg")
    # [core] is read by every luigi worker (the cron worker), the rest by luigid alone
    for section, service in (("core", "worker"), ("scheduler", "luigid"), ("task_history", "luigid")):
        wanted = set(re.findall(r"\$\{(\w+)\}", " ".join(cfg[section].values())))
        assert wanted <= set(environment(service)), f"[{section}] needs {wanted} in {service}"
    assert cfg["task_history"]["db_connection"] == "${LUIGI_HISTORY_URL}"
    assert environment("luigid")["LUIGI_HISTORY_URL"].startswith("postgresql+psycopg2://")
    script = (files.DOCKER / "create_buckets.py").read_text()
    assert set(re.findall(r'os\.environ(?:\.get\(|\[)"(\w+)"', script)) <= set(environment("create-buckets"))


def test_urls_point_at_services_of_the_stack():
    for name in files.services():
        for key, value in environment(name).items():
            if not re.match(r"^(postgresql(\+psycopg2)?|http)://", value):
                continue
            parts = urlsplit(value)
            assert LISTENS.get(parts.hostname) == parts.port, f"{name}.{key}={value}: no such service and port"
            if parts.scheme.startswith("postgresql"):
                # a role that the database's init makes, with the password it is made with, on its database
                account = (parts.username, parts.password, parts.path.lstrip("/"))
                assert account in _accounts(parts.hostname), f"{name}.{key}: no such role and database"
    assert environment("worker")["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert urlsplit(environment("worker")["LAKE_URL"]).scheme == "s3"


def test_the_read_only_role_is_created_with_the_password_the_services_use():
    script = (files.DOCKER / "source-db-init" / "10-reader-role.sh").read_text()
    assert "create role storepipe_reader login" in script and "default_transaction_read_only = on" in script
    assert 'reader_password="$SOURCE_DB_READER_PASSWORD"' in script
    source_db = files.services()["source-db"]
    assert "./source-db-init:/docker-entrypoint-initdb.d:ro" in source_db["volumes"]
    reader_password = environment("source-db")["SOURCE_DB_READER_PASSWORD"]
    for name in ("worker", "risk-api"):
        assert urlsplit(environment(name)["SOURCE_DB_URL"]).password == reader_password


def test_only_luigid_and_metabase_publish_ports_and_only_on_loopback():
    published = {}
    for name, service in files.services().items():
        assert "network_mode" not in service, f"{name}: host networking would publish every port"
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: write ports as 127.0.0.1:HOST:CONTAINER"
            parts = files.interpolate(port, env_example()).split(":")
            assert len(parts) == 3 and parts[0] == "127.0.0.1", f"{name} publishes {port} beyond loopback"
            _, host_port, container_port = parts
            published[name] = int(container_port)
            assert host_port.isdigit()
    assert published == PUBLISHED
    luigid = files.services()["luigid"]["command"]
    # inside its container luigid listens on all interfaces; only the loopback publish reaches it from the host
    assert luigid[:3] == ["luigid", "--address", "0.0.0.0"] and luigid[luigid.index("--port") + 1] == "8082"


def test_long_running_services_have_healthchecks_and_restart():
    for name, service in files.services().items():
        check = service.get("healthcheck", {})
        if name in ONE_SHOT:
            assert service["restart"] == "no" and check == {"disable": True}, name
            continue
        assert service["restart"] == "unless-stopped", name
        dockerfile = built_from(name)
        if check:
            assert not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL"), name
        else:
            assert dockerfile and "\nHEALTHCHECK " in dockerfile.read_text(), f"{name} has no healthcheck"


def test_healthcheck_commands_use_files_of_the_image():
    for name, service in files.services().items():
        test = service.get("healthcheck", {}).get("test", [])
        if "/opt/storepipe/docker/healthcheck.py" in test:
            assert "docker/healthcheck.py" in built_from(name).read_text(), name


def test_services_wait_for_what_they_need_to_be_healthy_or_done():
    services = files.services()
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert rule["condition"] == expected, f"{name} -> {dependency}"
            # a service in a profile that may be off (minio on AWS) is an optional dependency
            optional = bool(services[dependency].get("profiles")) and not service.get("profiles")
            assert rule.get("required", True) is not optional, f"{name} -> {dependency}: required"
    needs = {
        "migrate": {"source-db", "warehouse-db"},
        "risk-api": {"migrate"},
        "generator": {"migrate", "create-buckets", "minio-account"},
        "luigid": {"warehouse-db"},
        "worker": {"migrate", "create-buckets", "minio-account", "risk-api", "luigid"},
        "metabase": {"warehouse-db"},
        "create-buckets": {"minio"},
        "minio-account": {"create-buckets"},
    }
    for name, wanted in needs.items():
        assert wanted <= set(services[name].get("depends_on", {})), name


def test_containers_run_as_non_root_users():
    for name, service in files.services().items():
        user = str(service.get("user", ""))
        assert user.split(":")[0] not in ("root", "0"), f"{name} runs as root"
        if user:
            continue
        dockerfile = built_from(name)
        if dockerfile:
            users = re.findall(r"^USER (\S+)", dockerfile.read_text(), flags=re.M)
            assert users and users[-1].split(":")[0] not in ("root", "0"), f"{dockerfile.name} ends as root"
            continue
        image = service["image"].split(":")[0]
        assert image in DROPS_PRIVILEGES or image in RUNS_AS_ROOT, f"{name} ({image}) would run as root"
    minio = files.services()["minio"]
    assert not minio.get("ports") and minio["profiles"] == ["minio"]


def test_images_are_pinned_and_state_lives_in_named_volumes():
    declared = set(files.compose()["volumes"])
    for name, service in files.services().items():
        if not service.get("build"):
            tag = service["image"].partition(":")[2]
            assert tag and tag != "latest", f"{name}: pin the image"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in declared, f"{name}: volume {source} is not declared"
    for db in ("source-db", "warehouse-db"):
        assert any(v.endswith(":/var/lib/postgresql/data") for v in files.services()[db]["volumes"]), db


def test_build_contexts_dockerfiles_and_mounted_files_exist():
    for name, service in files.services().items():
        build = service.get("build")
        if build:
            context = (files.DOCKER / build["context"]).resolve()
            assert context == files.REPO, f"{name}: the context is the repository root"
            assert (context / build["dockerfile"]).is_file(), f"{name}: {build['dockerfile']}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (files.DOCKER / source).exists(), f"{name}: {source}"


@pytest.mark.parametrize("dockerfile", sorted(files.DOCKER.glob("*.Dockerfile")), ids=lambda p: p.name)
def test_every_file_a_dockerfile_copies_exists_and_is_sent_in_the_context(dockerfile):
    ignore = _DockerIgnore(Path(f"{dockerfile}.dockerignore"))
    copied = []
    text = dockerfile.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        words = shlex.split(line) if line.startswith("COPY ") else []
        if words and not any(w.startswith("--from=") for w in words):
            copied += [w for w in words[1:-1] if not w.startswith("--")]
    assert copied
    for source in copied:
        assert (files.REPO / source).exists(), f"{dockerfile.name} copies missing {source}"
        assert ignore.sends(source), f"{dockerfile.name} copies {source}, which its .dockerignore leaves out"
    assert not ignore.sends(".git") and not ignore.sends(".venv") and not ignore.sends("docker/.env")


def test_the_worker_runs_the_crontab_and_its_line_is_the_readme_backfill_command():
    worker = files.services()["worker"]
    assert worker["command"] == ["supercronic", "/opt/storepipe/docker/crontab"]
    assert "docker/crontab" in (files.DOCKER / "pipeline.Dockerfile").read_text()
    jobs = [line for line in (files.DOCKER / "crontab").read_text().splitlines() if line and line[0] != "#"]
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(None, 5)
    # supercronic reads a user crontab: five time fields, then the command (no user field)
    assert len(fields) == 6 and all(re.fullmatch(r"[0-9*/,-]+", f) for f in fields[:5]), jobs[0]
    assert fields[5].split()[0] in ("flock", "storepipe"), f"a command, not a user: {fields[5]}"
    command = re.search(r"(storepipe backfill[^>&|;]*?)\s*(>>|$)", fields[5])
    assert command, fields[5]
    assert command[1] in _readme_code(), f"README.md should show the worker's command `{command[1]}`"
    # its log directory and lock exist for the image's user
    assert "/var/log/storepipe" in (files.DOCKER / "pipeline.Dockerfile").read_text()
    assert "worker-logs:/var/log/storepipe" in worker["volumes"]


def test_env_files_stay_out_of_git():
    ignored = (files.REPO / ".gitignore").read_text().splitlines()
    assert ".env" in ignored  # docker/.env too: a pattern without a slash matches at any depth


def _accounts(service: str) -> set[tuple[str, str, str]]:
    """(user, password, database) that services may log in with on a database service."""
    env = environment(service)
    if service == "source-db":
        database = env["POSTGRES_DB"]
        # the admin is for migrations and the data generator only (test above: not the worker's)
        return {
            (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], database),
            ("storepipe_reader", env["SOURCE_DB_READER_PASSWORD"], database),
            ("storepipe_capture", env["SOURCE_DB_CAPTURE_PASSWORD"], database),
        }
    # the warehouse's admin is no one's: its init script makes these roles (tests/deploy/test_least_privilege.py)
    return {
        (env["WAREHOUSE_USER"], env["WAREHOUSE_PASSWORD"], env["POSTGRES_DB"]),
        ("storepipe_luigid", env["LUIGI_HISTORY_PASSWORD"], "luigi_history"),
    }


def _readme_code() -> str:
    """The README's code blocks and inline code, where commands are written."""
    text = (files.REPO / "README.md").read_text()
    return "\n".join(re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", text))


class _DockerIgnore:
    """A .dockerignore's decision for a path: the last matching pattern wins, `!` re-includes."""

    def __init__(self, path: Path):
        lines = path.read_text().splitlines() if path.exists() else []
        self.rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    def sends(self, relative: str) -> bool:
        parts = Path(relative).parts
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        included = True
        for rule in self.rules:
            negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if any(_match(pattern, c) for c in candidates):
                included = negate
        return included


def _match(pattern: str, path: str) -> bool:
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, path) is not None

"""Session-scoped real servers (embedded PostgreSQL, moto S3 over HTTP, the risk API under uvicorn,
luigid), and per-test isolation: each test gets its own warehouse database, orders bucket and lake."""

from __future__ import annotations

import email
import email.policy
import itertools
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import luigi
import psycopg2
import pytest
from aiosmtpd.controller import Controller

from storepipe import config
from storepipe.devstack import stack
from storepipe.simulator import datagen
from storepipe.sources import customer_log
from storepipe.tasks import capture
from storepipe.warehouse import db
from storepipe.window import Window

os.environ["LUIGI_CONFIG_PATH"] = str(Path(__file__).parent / "luigi.cfg")  # for `luigi` subprocesses
# luigi reads LUIGI_CONFIG_PATH only when it is imported, so add the file to this process by hand
luigi.configuration.add_config_path(os.environ["LUIGI_CONFIG_PATH"])

# Each test takes its own windows from a shared calendar, so tests sharing the session's
# source DB never generate into the same window.
_window_numbers = itertools.count()
FIRST_TEST_WINDOW = Window.parse("2024-03-01T00:00", 5)


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("stack")
    env = stack.up(home, ports={"s3": 0, "risk_api": 0, "luigid": 0}, luigid=True)
    # tests clone their warehouse from a template nobody connects to (CREATE DATABASE needs that)
    admin = _admin(env)
    with admin.cursor() as cur:
        cur.execute("create database warehouse_template template warehouse owner sde")
    admin.close()
    yield {**env, "STOREPIPE_HOME": str(home)}
    stack.down(home)


@dataclass
class Pipeline:
    """One test's world: its own warehouse DB, bucket and lake on the session's servers."""

    env: dict
    windows: list[Window]
    monkeypatch: pytest.MonkeyPatch | None = None
    databases: list[str] = field(default_factory=list)

    @property
    def warehouse_url(self) -> str:
        return self.env["WAREHOUSE_URL"]

    def window(self, offset: int = 0) -> Window:
        return self.windows[offset]

    def generate(self, window: Window, **options) -> dict:
        return datagen.generate(
            window,
            source_admin_url=self.env["SOURCE_DB_ADMIN_URL"],
            s3_endpoint_url=self.env["S3_ENDPOINT_URL"],
            bucket=self.env["ORDERS_BUCKET"],
            **options,
        )

    def s3(self):
        return boto3.client(
            "s3",
            endpoint_url=self.env["S3_ENDPOINT_URL"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )

    def new_warehouse(self, keep_slot: bool = False) -> str:
        """Switch this test to another empty, migrated warehouse database (same lake and sources).

        Each warehouse captures through its own replication slot; the previous warehouse's slot is
        dropped (the server allows ten) unless `keep_slot`.
        """
        if self.databases and not keep_slot:
            drop_slot(self.env, self.databases[-1])
        database = f"warehouse_{secrets.token_hex(4)}"
        admin = _admin(self.env)
        try:
            with admin.cursor() as cur:
                cur.execute(f"create database {database} template warehouse_template owner sde")
        finally:
            admin.close()
        self.databases.append(database)
        self.env["WAREHOUSE_URL"] = urlunsplit(urlsplit(self.env["WAREHOUSE_URL"])._replace(path=f"/{database}"))
        if self.monkeypatch:
            self.monkeypatch.setenv("WAREHOUSE_URL", self.env["WAREHOUSE_URL"])
        db.close_shared()
        luigi.task_register.Register.clear_instance_cache()
        return self.env["WAREHOUSE_URL"]


def drop_slot(stack_env, database: str) -> None:
    """Drop the capture slot of a test warehouse, so that it holds no WAL and no slot of the ten."""
    customer_log.drop(stack_env["SOURCE_DB_ADMIN_URL"], capture.slot_name(f"dbname={database}"))


def _admin(stack_env) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(stack_env["SOURCE_DB_ADMIN_URL"], dbname="postgres")
    conn.autocommit = True
    return conn


@pytest.fixture
def pipeline(stack_env, tmp_path, monkeypatch):
    bucket = f"orders-{secrets.token_hex(4)}"
    env = {**stack_env, "ORDERS_BUCKET": bucket, "LAKE_URL": (tmp_path / "lake").as_uri()}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config.reset()
    start = next(_window_numbers) * 12
    windows = [
        Window(FIRST_TEST_WINDOW.start + (start + i) * (FIRST_TEST_WINDOW.end - FIRST_TEST_WINDOW.start))
        for i in range(12)
    ]
    world = Pipeline(env, windows, monkeypatch)
    world.new_warehouse()
    world.s3().create_bucket(Bucket=bucket)
    yield world
    db.close_shared()
    for database in world.databases:
        drop_slot(stack_env, database)
    admin = _admin(stack_env)
    with admin.cursor() as cur:
        for database in world.databases:
            cur.execute(f"drop database {database} with (force)")
    admin.close()


@dataclass
class Mailbox:
    """What a real SMTP server on 127.0.0.1 received: each message as parsed by the email package."""

    port: int
    messages: list = field(default_factory=list)

    def env(self, receiver: str | None) -> dict[str, str]:
        """The environment that points storepipe's alerts at this server (no receiver: alerts off)."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.port), "ALERT_RECEIVER": receiver or ""}

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it by this name
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """An aiosmtpd SMTP server on 127.0.0.1 for one test; stopped after it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox(port)
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox
    controller.stop()

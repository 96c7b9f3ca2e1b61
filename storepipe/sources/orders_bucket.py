"""Orders bucket: list and stream the CSV objects of one window, validating each row on the way."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import logging
import os
import re
from collections.abc import Iterator

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from storepipe import config
from storepipe.errors import SourceUnavailable
from storepipe.quarantine import Rejected
from storepipe.window import Window

log = logging.getLogger(__name__)

COLUMNS = ["order_id", "customer_id", "item_id", "item_name", "delivered_on"]
MAX_FIELD = 1000  # characters; a longer field is a broken row, not an item name

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_INT = re.compile(r"^[+-]?\d{1,10}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")

_clients: dict[tuple[int, str | None], object] = {}


def s3_client():
    """One client per process and endpoint (boto3 clients are not fork-safe)."""
    endpoint = config.orders_bucket().endpoint_url
    key = (os.getpid(), endpoint)
    if key not in _clients:
        # keys from the environment or .storepipe/env; unset means boto3's own chain (an instance role)
        _clients[key] = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=config.setting("AWS_ACCESS_KEY_ID", "") or None,
            aws_secret_access_key=config.setting("AWS_SECRET_ACCESS_KEY", "") or None,
            region_name=config.setting("AWS_DEFAULT_REGION", "") or None,
            config=BotoConfig(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 5}),
        )
    return _clients[key]


def minute_prefixes(window: Window, prefix: str) -> list[str]:
    """Objects are filed by the minute they were written; a window owns its minutes' prefixes."""
    minutes = [window.start + dt.timedelta(minutes=m) for m in range(window.minutes)]
    return [f"{prefix}{m:%Y/%m/%d/%H/%M}/" for m in minutes]


def list_keys(window: Window, bucket: str | None = None) -> list[str]:
    settings = config.orders_bucket()
    bucket = bucket or settings.bucket
    keys: list[str] = []
    try:
        paginator = s3_client().get_paginator("list_objects_v2")
        for prefix in minute_prefixes(window, settings.prefix):
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                keys.extend(obj["Key"] for obj in page.get("Contents", []))
    except (BotoCoreError, ClientError) as err:
        raise _unavailable(bucket, err) from err
    return sorted(keys)


def iter_orders(window: Window, bucket: str | None = None) -> Iterator[tuple | Rejected]:
    """Every order row of the window's objects, in key order, as a clean tuple or a `Rejected`."""
    bucket = bucket or config.orders_bucket().bucket
    for key in list_keys(window, bucket):
        yield from _iter_object(window, bucket, key)


def _iter_object(window: Window, bucket: str, key: str) -> Iterator[tuple | Rejected]:
    try:
        body = s3_client().get_object(Bucket=bucket, Key=key)["Body"]
    except (BotoCoreError, ClientError) as err:
        raise _unavailable(bucket, err) from err
    chunk = config.orders_bucket().chunk_bytes
    try:
        reader = csv.reader(_iter_text_lines(body.iter_chunks(chunk)))
        header = next(reader, None)
        if header is None:
            return
        where = f"s3://{bucket}/{key}"
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            yield Rejected(f"{where}:1", f"header lacks required columns {missing}", ",".join(header))
            for _ in reader:
                pass
            return
        positions = [header.index(c) for c in COLUMNS]
        for row in reader:
            line = reader.line_num
            if not row or row == [""]:
                continue
            problem = _problem(row, len(header), positions, window)
            if problem:
                yield Rejected(f"{where}:{line}", problem, ",".join(row))
            else:
                yield tuple(row[p].strip() for p in positions)
    finally:
        body.close()


def _problem(row: list[str], width: int, positions: list[int], window: Window) -> str | None:
    if len(row) != width:
        return f"expected {width} fields, found {len(row)}"
    order_id, customer_id, item_id, item_name, delivered_on = (row[p].strip() for p in positions)
    if any(len(field) > MAX_FIELD for field in row):
        return f"a field is longer than {MAX_FIELD} characters"
    if not _UUID.match(order_id):
        return f"order_id {order_id[:40]!r} is not a UUID"
    if not _INT.match(customer_id):
        return f"customer_id {customer_id[:40]!r} is not an integer"
    if not _UUID.match(item_id):
        return f"item_id {item_id[:40]!r} is not a UUID"
    if not item_name:
        return "item_name is empty"
    if not _TIMESTAMP.match(delivered_on):
        return f"delivered_on {delivered_on[:40]!r} is not a timestamp"
    try:
        when = dt.datetime.fromisoformat(delivered_on)
    except ValueError:
        return f"delivered_on {delivered_on!r} is not a valid date"
    if not window.start <= when < window.end:
        return f"delivered_on {delivered_on} is outside window {window.label}"
    return None


def _iter_text_lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Decode a byte stream into lines, keeping line ends so csv can rejoin quoted newlines."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    for chunk in chunks:
        # split on "\n" only: csv itself handles "\r\n" and line breaks inside quotes
        *lines, pending = (pending + decoder.decode(chunk)).split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _unavailable(bucket: str, err: Exception) -> SourceUnavailable:
    return SourceUnavailable(
        f"orders bucket unreadable: {err}",
        f"s3://{bucket} at {config.orders_bucket().endpoint_url or 'AWS'}",
        "check S3_ENDPOINT_URL, ORDERS_BUCKET and the credentials",
    )

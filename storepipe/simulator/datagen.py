"""Deterministic source data for one window: customers in the source DB, order CSVs in the bucket."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import random
import re
import threading
import uuid
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass

import psycopg2
from faker import Faker

from storepipe import sqlfiles
from storepipe.errors import StorepipeError
from storepipe.rows import ORDERS, STATE_CODES
from storepipe.s3 import client as s3_client
from storepipe.window import Window, utcnow

log = logging.getLogger(__name__)

ORDER_COLUMNS = ORDERS.columns
ORDERS_PREFIX = "orders/"
MAX_CUSTOMER_ID = 2_000_000_000
POOL_SIZE = 1000  # existing customers sampled per batch, to update and to place orders for
ROWS_PER_PART = 10_000
_PART = re.compile(r"part-(\d+)\.csv")
CATALOGUE_SIZE = 100
PRODUCTS = (
    "Camiseta",
    "Caneca",
    "Tênis",
    "Mochila",
    "Boné",
    "Livro",
    "Fone de ouvido",
    "Relógio",
    "Garrafa térmica",
    "Jaqueta",
    "Luminária",
    "Almofada",
)


@dataclass(frozen=True)
class _Customer:
    customer_id: int
    created: dt.datetime


def generate(
    window: Window,
    *,
    customers: int = 20,
    orders: int = 200,
    seed: int = 0,
    source_admin_url: str,
    s3_endpoint_url: str,
    bucket: str,
) -> dict[str, int]:
    """Write the window's source data; the same arguments always leave the same source content."""
    counts = _batch(
        window.start,
        window.end,
        tag=f"{seed}:{window.label}",
        seed=seed,
        customers=customers,
        orders=orders,
        source_admin_url=source_admin_url,
        s3=s3_client(s3_endpoint_url),
        bucket=bucket,
        append=False,
    )
    log.info("generated window %s: %s", window.label, counts)
    return counts


def follow(
    *,
    customers: int = 4,
    orders: int = 20,
    seed: int = 0,
    every_s: float = 5.0,
    source_admin_url: str,
    s3_endpoint_url: str,
    bucket: str,
    stop: threading.Event | None = None,
    batches: int | None = None,
) -> dict[str, int]:
    """Add a small batch to the open window every `every_s` seconds until interrupted; returns the totals."""
    stop = stop or threading.Event()
    s3 = s3_client(s3_endpoint_url)
    totals: Counter = Counter()
    since = utcnow().replace(microsecond=0)
    done = 0
    try:
        while not stop.wait(every_s):
            until = utcnow().replace(microsecond=0)
            # one slice per minute, so every file holds orders of the minute it is filed under
            for lo, hi in _minute_slices(since, until):
                totals.update(
                    _batch(
                        lo,
                        hi,
                        tag=f"{seed}:{lo.isoformat()}",
                        seed=seed,
                        customers=customers,
                        orders=orders,
                        source_admin_url=source_admin_url,
                        s3=s3,
                        bucket=bucket,
                        append=True,
                    )
                )
            log.info("generated %s to %s; totals %s", since, until, dict(totals))
            since = until
            done += 1
            if batches is not None and done >= batches:
                break
    except KeyboardInterrupt:
        log.info("stopped following; totals %s", dict(totals))
    return dict(totals)


def _batch(
    since: dt.datetime,
    until: dt.datetime,
    *,
    tag: str,
    seed: int,
    customers: int,
    orders: int,
    source_admin_url: str,
    s3,
    bucket: str,
    append: bool,
) -> dict[str, int]:
    """New and changed customers and orders timed in [since, until); every draw comes from `tag`'s rng."""
    # bandit B311: seeded fake store data: reproducible by design, never a secret
    rng = random.Random(tag)  # nosec B311
    fake = Faker("pt_BR")
    fake.seed_instance(tag)
    seconds = int((until - since).total_seconds())
    if seconds <= 0:
        return {"customers_new": 0, "customers_updated": 0, "orders": 0, "files": 0}

    def moment() -> dt.datetime:
        return since + dt.timedelta(seconds=rng.randrange(seconds))

    with closing(psycopg2.connect(source_admin_url)) as conn, conn, conn.cursor() as cursor:
        cursor.execute(
            sqlfiles.load("simulator/customer_pool"), {"created_before": since, "tag": tag, "pool_size": POOL_SIZE}
        )
        pool = [_Customer(customer_id, created) for customer_id, created, _updated in cursor.fetchall()]
        new = _new_customers(rng, fake, customers, moment)
        cursor.execute(
            sqlfiles.load("simulator/insert_customers"),
            {
                "customer_ids": [row["customer_id"] for row in new],
                "first_names": [row["first_name"] for row in new],
                "last_names": [row["last_name"] for row in new],
                "state_codes": [row["state_code"] for row in new],
                "created": [row["datetime_created"] for row in new],
            },
        )
        updated = 0
        for customer in pool[: customers // 4]:
            change = {
                "customer_id": customer.customer_id,
                "last_name": fake.last_name(),
                "state_code": rng.choice(STATE_CODES),
                "datetime_updated": moment(),
            }
            cursor.execute(sqlfiles.load("simulator/update_customer"), change)
            updated += cursor.rowcount

    buyers = pool + [_Customer(row["customer_id"], row["datetime_created"]) for row in new]
    if orders and not buyers:
        raise StorepipeError(
            "no customers to place orders for", "source customers", "generate with --customers above 0"
        )
    by_minute: dict[dt.datetime, list[tuple]] = defaultdict(list)
    catalogue = _catalogue(seed)
    for _ in range(orders):
        buyer = rng.choice(buyers)
        earliest = max(since, buyer.created)
        delivered = earliest + dt.timedelta(seconds=rng.randrange(int((until - earliest).total_seconds())))
        item_id, item_name = rng.choice(catalogue)
        order_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        by_minute[delivered.replace(second=0)].append((order_id, buyer.customer_id, item_id, item_name, delivered))
    files = 0
    for minute, rows in sorted(by_minute.items()):
        rows.sort(key=lambda row: (row[4], str(row[0])))
        prefix = f"{ORDERS_PREFIX}{minute:%Y/%m/%d/%H/%M}/"
        first = _next_part(s3, bucket, prefix) if append else 0
        for part, start in enumerate(range(0, len(rows), ROWS_PER_PART), start=first):
            _put_csv(s3, bucket, f"{prefix}part-{part:03d}.csv", rows[start : start + ROWS_PER_PART])
            files += 1
    return {"customers_new": len(new), "customers_updated": updated, "orders": orders, "files": files}


def _new_customers(rng: random.Random, fake: Faker, count: int, moment) -> list[dict]:
    ids: list[int] = []
    while len(ids) < count:
        customer_id = rng.randint(1, MAX_CUSTOMER_ID)
        if customer_id not in ids:
            ids.append(customer_id)
    rows = []
    for customer_id in ids:
        rows.append(
            {
                "customer_id": customer_id,
                "first_name": fake.first_name(),
                "last_name": fake.last_name(),
                "state_code": rng.choice(STATE_CODES),
                "datetime_created": moment(),
            }
        )
    return rows


def _catalogue(seed: int) -> list[tuple[uuid.UUID, str]]:
    """The store's items: the same ids and names in every window of a seed, as a real catalogue would be."""
    # bandit B311: seeded fake store data: reproducible by design, never a secret
    rng = random.Random(f"{seed}:catalogue")  # nosec B311
    fake = Faker("pt_BR")
    fake.seed_instance(f"{seed}:catalogue")
    return [
        (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            f"{rng.choice(PRODUCTS)} {fake.color_name().lower()}",
        )
        for _ in range(CATALOGUE_SIZE)
    ]


def _put_csv(s3, bucket: str, key: str, rows: list[tuple]) -> None:
    body = io.BytesIO()
    text = io.TextIOWrapper(body, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(ORDER_COLUMNS)
    for order_id, customer_id, item_id, item_name, delivered in rows:
        writer.writerow((order_id, customer_id, item_id, item_name, f"{delivered:%Y-%m-%d %H:%M:%S}"))
    text.flush()
    text.detach()
    body.seek(0)
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")


def _next_part(s3, bucket: str, prefix: str) -> int:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    found = (_PART.fullmatch(obj["Key"][len(prefix) :]) for obj in listing.get("Contents", []))
    return max((int(match[1]) for match in found if match), default=-1) + 1


def _minute_slices(since: dt.datetime, until: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    slices = []
    while since < until:
        edge = min(since.replace(second=0) + dt.timedelta(minutes=1), until)
        slices.append((since, edge))
        since = edge
    return slices

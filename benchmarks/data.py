"""Orders CSVs for one window, written fast and deterministically (no faker per row), cached in benchmarks/data/."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import random
from collections.abc import Iterator
from pathlib import Path

from storepipe.simulator.datagen import PRODUCTS
from storepipe.window import Window

log = logging.getLogger(__name__)

HEADER = "order_id,customer_id,item_id,item_name,delivered_on\n"
VERSION = 1  # bump when the rows change, so cached files are made again
CUSTOMERS = 300  # customer ids 1..CUSTOMERS; the whole-window case puts these customers in the source
CATALOGUE = 100
CHUNK = 50_000
COLOURS = ("azul", "verde", "preto", "branco", "vermelho", "cinza", "rosa", "amarelo")


def _uuid(hex32: str, variant: str) -> str:
    """A version-4 UUID's text from 32 random hex digits."""
    return f"{hex32[:8]}-{hex32[8:12]}-4{hex32[13:16]}-{variant}{hex32[17:20]}-{hex32[20:32]}"


def catalogue(seed: int) -> list[str]:
    """The store's items as ready CSV text `item_id,item_name`: the same in every file of a seed."""
    # bandit B311: seeded synthetic benchmark data: reproducible by design, never a secret
    rng = random.Random(f"bench-catalogue:{seed}")  # nosec B311
    return [
        f"{_uuid(rng.randbytes(16).hex(), rng.choice('89ab'))},{rng.choice(PRODUCTS)} {rng.choice(COLOURS)}"
        for _ in range(CATALOGUE)
    ]


def lines(window: Window, rows: int, seed: int = 0) -> Iterator[str]:
    """`rows` order lines (no header) delivered in time order across the window, in chunks of text."""
    # bandit B311: seeded synthetic benchmark data: reproducible by design, never a secret
    rng = random.Random(f"bench-orders:{seed}:{rows}")  # nosec B311
    items = catalogue(seed)
    seconds = int((window.end - window.start).total_seconds())
    stamps = [f"{window.start + dt.timedelta(seconds=s):%Y-%m-%d %H:%M:%S}" for s in range(seconds)]
    customers = [str(c) for c in range(1, CUSTOMERS + 1)]
    for first in range(0, rows, CHUNK):
        count = min(CHUNK, rows - first)
        hexes = rng.randbytes(16 * count).hex()
        variants = rng.choices("89ab", k=count)
        buyers = rng.choices(customers, k=count)
        bought = rng.choices(items, k=count)
        out = []
        for i in range(count):
            h = hexes[32 * i : 32 * i + 32]
            out.append(
                f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variants[i]}{h[17:20]}-{h[20:]},"
                f"{buyers[i]},{bought[i]},{stamps[(first + i) * seconds // rows]}\n"
            )
        yield "".join(out)


def orders_csv(folder: Path, window: Window, rows: int, seed: int = 0) -> Path:
    """The cached file of `rows` orders for `window`; written (atomically) only when missing."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"orders-v{VERSION}-s{seed}-{window.start:%Y%m%dT%H%M}-{rows}.csv"
    if path.is_file():
        return path
    log.info("writing %s (%d rows)", path, rows)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="", buffering=1024 * 1024) as out:
        out.write(HEADER)
        for text in lines(window, rows, seed):
            out.write(text)
    os.replace(partial, path)
    return path


def checksum(path: Path) -> str:
    """sha256 of the file, cached beside it (the lake marker records it, as an extract would)."""
    sidecar = path.with_name(path.name + ".sha256")
    if sidecar.is_file():
        return json.loads(sidecar.read_text())["sha256"]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    sidecar.write_text(json.dumps({"sha256": digest.hexdigest()}))
    return digest.hexdigest()


def parts(path: Path, rows_per_part: int) -> Iterator[tuple[dt.datetime, bytes]]:
    """The file cut into CSV objects of `rows_per_part` rows, each with a header and its first row's minute."""
    with open(path, "rb") as f:
        header = f.readline()
        while True:
            body = [line for _, line in zip(range(rows_per_part), f, strict=False)]
            if not body:
                return
            delivered = body[0].rstrip(b"\n").rsplit(b",", 1)[1].decode()
            yield dt.datetime.fromisoformat(delivered).replace(second=0), header + b"".join(body)

"""The versions markers were recorded with: each fingerprint's normalized SQL and what it combined."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from storepipe import config, sqlfiles
from storepipe.warehouse import db


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    node: str
    own_hash: str
    upstream: dict[str, str]
    forward_only: bool
    text: str


# versions this process has kept, per warehouse: a window's tasks would otherwise send the same rows
# a handful of times each (a statement each), though a version, once kept, never changes
_kept: set[tuple[str, str]] = set()


def record(versions: list[Stored]) -> None:
    """Keep these versions (those already kept stay as they are), in a statement of their own.

    Not in the writer's transaction: a version row is immutable and named by its content, so one
    kept before a data transaction that then rolls back is harmless, whereas an uncommitted one would
    hold every other window's writer of the same version until that transaction ends. Sorted, so two
    writers of overlapping versions take their row locks in one order and never deadlock.
    """
    where = config.warehouse().url
    versions = sorted((v for v in versions if (where, v.fingerprint) not in _kept), key=lambda v: v.fingerprint)
    if not versions:
        return
    with db.shared().cursor() as cur:
        cur.execute(
            sqlfiles.load("pipeline/versions/record"),
            {
                "fingerprints": [v.fingerprint for v in versions],
                "nodes": [v.node for v in versions],
                "own_hashes": [v.own_hash for v in versions],
                "upstreams": [json.dumps(v.upstream, sort_keys=True) for v in versions],
                "forward_only": [v.forward_only for v in versions],
                "texts": [v.text for v in versions],
            },
        )
    _kept.update((where, v.fingerprint) for v in versions)


def read(fingerprints: Iterable[str]) -> dict[str, Stored]:
    """The kept versions among `fingerprints` and, transitively, those they were combined with."""
    found: dict[str, Stored] = {}
    wanted, asked = set(fingerprints), set()
    with db.shared().cursor() as cur:
        while wanted:
            cur.execute(sqlfiles.load("pipeline/versions/read"), {"fingerprints": sorted(wanted)})
            for fingerprint, node, own_hash, upstream, forward_only, text in cur.fetchall():
                found[fingerprint] = Stored(fingerprint, node, own_hash, dict(upstream), forward_only, text)
            asked |= wanted
            # a version's upstreams are kept with it, so this ends after one more round at most
            wanted = {fp for v in found.values() for fp in v.upstream.values()} - asked
    return found

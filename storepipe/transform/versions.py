"""Model versions: a fingerprint per model, check and publish, so a marker says which SQL built it.

A model's fingerprint hashes its SQL with comments and whitespace removed (so neither counts as a
change), its materialization, and the fingerprints of the models it reads (so a change propagates
downstream). A check's hashes its SQL and severity; `publish` (the marker of PublishMarts) combines
every mart's and every check's, since PublishMarts builds the marts and runs all the checks.
Versions are keyed by the marker name they are recorded with (`transform:stg_customers`, `publish`);
checks, which have no marker of their own, as `check:<name>`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

from storepipe.transform import checks, models
from storepipe.warehouse import model_versions
from storepipe.warehouse.markers import PUBLISH, TRANSFORM, MarkerTarget, marker_name

# a header line, like `-- materialized:`, but it must not change the fingerprint (it is a comment)
_FORWARD_ONLY = re.compile(r"^--[ \t]*changes:[ \t]*forward-only\b", re.MULTILINE | re.IGNORECASE)
# string literals and quoted identifiers are kept whole (a `--` inside one is not a comment)
_TOKEN = re.compile(
    r"""(?P<skip>--[^\n]*|/\*.*?\*/|\s+)|(?P<keep>'(?:[^']|'')*'|"(?:[^"]|"")*"|[A-Za-z0-9_$]+|.)""",
    re.DOTALL,
)
CHECK = "check"


def tokens(text: str) -> list[str]:
    """The SQL's tokens without comments and whitespace: what the fingerprint hashes."""
    return [m.group("keep") for m in _TOKEN.finditer(text) if m.group("keep") is not None]


def normalized(text: str) -> str:
    """The SQL without comments and runs of whitespace, its tokens kept on the lines they were on:
    what a plan's diff shows."""
    lines: dict[int, list[str]] = {}
    line = 0
    for match in _TOKEN.finditer(text):
        if match.group("keep") is not None:
            lines.setdefault(line, []).append(match.group("keep"))
        line += match.group(0).count("\n")
    return "\n".join(" ".join(words) for _, words in sorted(lines.items()))


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Version:
    """One version of a node (a model, a check, or publish): its fingerprint and what it was made of."""

    node: str
    fingerprint: str
    own_hash: str  # the node's own normalized SQL (and header settings), without its upstreams
    upstream: tuple[tuple[str, str], ...]  # (node, fingerprint) it was combined with
    forward_only: bool
    text: str  # the normalized SQL, line by line

    @property
    def short(self) -> str:
        return self.fingerprint[:8]


def _version(node: str, own: tuple[str, ...], upstream: dict[str, str], forward_only: bool, text: str) -> Version:
    own_hash = _hash(node, *own)
    pairs = tuple(sorted(upstream.items()))
    fingerprint = _hash(own_hash, *(f"{name}={fp}" for name, fp in pairs))
    return Version(node, fingerprint, own_hash, pairs, forward_only, text)


@cache
def current() -> dict[str, Version]:
    """Every node's version from the SQL files as they are now, models in dependency order, then checks and publish."""
    found: dict[str, Version] = {}
    for model in models.discover().values():
        upstream = {
            marker_name(TRANSFORM, name): found[marker_name(TRANSFORM, name)].fingerprint for name in model.upstream
        }
        own = (model.strategy, model.key or "", *tokens(model.text))
        found[marker_name(TRANSFORM, model.name)] = _version(
            marker_name(TRANSFORM, model.name),
            own,
            upstream,
            bool(_FORWARD_ONLY.search(model.text)),
            normalized(model.text),
        )
    ephemeral = {marker_name(TRANSFORM, m.name) for m in models.discover().values() if m.ephemeral}
    for check in checks.discover().values():
        node = f"{CHECK}:{check.name}"
        own = (check.severity, *tokens(check.text))
        # a check that reads an ephemeral model runs its SQL: it changes when that model does
        upstream = {name: found[name].fingerprint for name in ephemeral if _reads(check, name)}
        found[node] = _version(node, own, upstream, bool(_FORWARD_ONLY.search(check.text)), normalized(check.text))
    parts = {node: v.fingerprint for node, v in found.items() if _is_mart(node) or node.startswith(f"{CHECK}:")}
    found[PUBLISH] = _version(PUBLISH, (), parts, False, "")
    return found


def _reads(check: checks.Check, node: str) -> bool:
    model = models.get(node.partition(":")[2])
    return model.relation in {".".join(r).lower() for r in models.relations(check.text)}


def _is_mart(node: str) -> bool:
    name = node.partition(":")[2]
    return node.startswith(f"{TRANSFORM}:") and models.get(name).layer == "marts"


def forget() -> None:
    """Read the SQL files again (after they changed under a running process: tests, a long-lived shell)."""
    current.cache_clear()
    models.discover.cache_clear()
    checks.discover.cache_clear()


def versioned_markers() -> list[str]:
    """The markers that record a version: every built model's `transform:<model>`, and `publish` (an
    ephemeral model has no marker: its version is part of its readers')."""
    built = {marker_name(TRANSFORM, m.name) for m in models.built()}
    return [node for node in current() if node in built or node == PUBLISH]


def closure(node: str) -> list[Version]:
    """A node's version and those of everything it was combined with, transitively."""
    every = current()
    seen, queue = {}, [node]
    while queue:
        name = queue.pop()
        if name not in seen:
            seen[name] = every[name]
            queue.extend(up for up, _ in every[name].upstream)
    return list(seen.values())


def touch(cur, target: MarkerTarget, row_count: int) -> None:
    """Write a transform's or publish's marker with the version it was built with (in the caller's
    transaction), having kept that version's text and its upstreams' for later diffs."""
    versions = closure(target.task_name)
    model_versions.record(
        [
            model_versions.Stored(v.fingerprint, v.node, v.own_hash, dict(v.upstream), v.forward_only, v.text)
            for v in versions
        ],
    )
    target.touch(cur, row_count, version=current()[target.task_name].fingerprint)

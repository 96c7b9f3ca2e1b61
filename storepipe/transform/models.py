"""The transform graph, read from sql/transforms: a model's upstreams are the relations its SQL reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from storepipe import sqlfiles
from storepipe.errors import ModelError
from storepipe.rows import SOURCES

LAYER_SCHEMAS = {"staging": "staging", "marts": "analytics"}
# store.* tables and the source whose load fills each; store.states is static reference data
LOADED_TABLES = {source.table: source.name for source in SOURCES.values()}
STATIC_TABLES = {"states"}

_RELATION = re.compile(r"\b(store|staging|analytics)\.([a-z_][a-z0-9_]*)\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_MATERIALIZED = re.compile(
    r"^--[ \t]*materialized:[ \t]*(window|by_key|ephemeral)\b[ \t]*([a-z_][a-z0-9_]*)?", re.MULTILINE
)
# a reference to a relation, and the explicit alias after it if any (sqlfluff's AL01 makes aliases
# explicit); comments and string literals are matched first so that a name inside one stays as it is
_REFERENCE = r"(?P<kept>--[^\n]*|/\*.*?\*/|'(?:[^']|'')*')|\b{schema}\.{name}\b(?P<aliased>\s+as\s+)?"


@dataclass(frozen=True)
class Model:
    name: str
    layer: str
    schema: str
    file: str
    text: str
    upstream: tuple[str, ...]
    loads: tuple[str, ...]
    strategy: str  # "window": replace the window's rows; "by_key": replace the rows of the keys it returns;
    # "ephemeral": no table, its SELECT is inlined where it is read (dbt's word for it)
    key: str | None
    sql: str = ""  # the text with every ephemeral model it reads inlined: what runs

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def ephemeral(self) -> bool:
        return self.strategy == "ephemeral"


def relations(text: str) -> list[tuple[str, str]]:
    """The (schema, table) pairs SQL text reads, comments left out."""
    return _RELATION.findall(_COMMENT.sub("", text))


def _parse(path) -> Model:
    layer = path.parent.name
    if layer not in LAYER_SCHEMAS:
        raise ModelError(f"model in unknown layer {layer!r}", str(path), f"put it under {sorted(LAYER_SCHEMAS)}")
    text = path.read_text(encoding="utf-8")
    header = _MATERIALIZED.search(text)
    if header is None:
        raise ModelError(
            "model has no `-- materialized: window` or `-- materialized: by_key <column>` header",
            str(path),
            "add one below the purpose line",
        )
    strategy, key = header.group(1), header.group(2)
    if strategy == "by_key" and not key:
        raise ModelError("`by_key` needs a key column", str(path), "write `-- materialized: by_key <column>`")
    upstream, loads = set(), set()
    for schema, table in relations(text):
        schema, table = schema.lower(), table.lower()
        if schema == "store":
            if table in LOADED_TABLES:
                loads.add(LOADED_TABLES[table])
            elif table not in STATIC_TABLES:
                raise ModelError(f"model reads unknown table store.{table}", str(path), "fix the reference")
        else:
            upstream.add((schema, table))
    return Model(
        name=path.stem,
        layer=layer,
        schema=LAYER_SCHEMAS[layer],
        file=str(path),
        text=text,
        sql=text,
        upstream=tuple(sorted(upstream)),  # resolved to names in discover()
        loads=tuple(sorted(loads)),
        strategy=strategy,
        key=key,
    )


@cache
def discover() -> dict[str, Model]:
    """All models by name, in dependency order; refuses unknown references and cycles."""
    found = {m.name: m for m in map(_parse, sorted((sqlfiles.root() / "transforms").glob("*/*.sql")))}
    resolved = {}
    for model in found.values():
        if model.strategy == "ephemeral" and model.layer != "staging":
            raise ModelError(
                "only a staging model can be ephemeral", model.file, "materialize it as `window` or `by_key`"
            )
        names = []
        for schema, table in model.upstream:
            target = found.get(table)
            if target is None or target.schema != schema:
                raise ModelError(
                    f"model reads {schema}.{table}, which no model builds",
                    model.file,
                    f"add sql/transforms/<layer>/{table}.sql or fix the reference",
                )
            if table == model.name:
                # a by_key model stages its rows before it deletes any, so it may read what it replaces
                if model.strategy != "by_key":
                    raise ModelError("model reads its own output", model.file, "remove the self-reference")
                continue
            names.append(table)
        resolved[model.name] = Model(**{**model.__dict__, "upstream": tuple(sorted(names))})
    ordered: dict[str, Model] = {}
    for name in _topological(resolved):  # an ephemeral model is inlined before whatever reads it
        model = resolved[name]
        inlined = [ordered[up] for up in model.upstream if ordered[up].ephemeral]
        loads = set(model.loads).union(*(up.loads for up in inlined))
        ordered[name] = Model(**{**model.__dict__, "sql": inline(model.sql, inlined), "loads": tuple(sorted(loads))})
    return ordered


def inline(text: str, ephemerals: list[Model]) -> str:
    """`text` with each reference to an ephemeral model replaced by its SELECT, as a subquery under the
    model's name (or under the alias the reference gives it)."""
    for model in ephemerals:
        body = model.sql.strip().rstrip(";")
        pattern = re.compile(_REFERENCE.format(schema=model.schema, name=model.name), re.IGNORECASE | re.DOTALL)

        def subquery(match: re.Match, body=body, name=model.name) -> str:
            if match.group("kept"):
                return match.group("kept")
            return f"(\n{body}\n)" + (match.group("aliased") or f" as {name}")

        text = pattern.sub(subquery, text)
    return text


def inline_ephemeral(text: str) -> str:
    """A check's or any other SQL's text with the ephemeral models it reads inlined."""
    return inline(text, [m for m in discover().values() if m.ephemeral])


def needs(model: Model) -> list[str]:
    """The built models `model` reads, directly or through the ephemeral models it inlines."""
    every = discover()
    found: list[str] = []
    for name in model.upstream:
        for need in needs(every[name]) if every[name].ephemeral else [name]:
            if need not in found:
                found.append(need)
    return found


def built() -> list[Model]:
    """The models that have a table, a task and a marker (every one but the ephemeral), in dependency order."""
    return [m for m in discover().values() if not m.ephemeral]


def _topological(models: dict[str, Model]) -> list[str]:
    order, state = [], {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ModelError(f"models form a cycle: {cycle}", models[name].file, "break the cycle")
        state[name] = "visiting"
        for upstream in models[name].upstream:
            visit(upstream, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in sorted(models):
        visit(name, [])
    return order


def get(name: str) -> Model:
    models = discover()
    if name not in models:
        raise ModelError(f"no model named {name!r}", "--model", f"choose one of {', '.join(models)}")
    return models[name]

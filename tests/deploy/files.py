"""What the deploy checks read: the compose file, the Dockerfiles, the .tf files, and the tools that check them."""

from __future__ import annotations

import ast
import os
import re
import shutil
from functools import cache
from pathlib import Path

import hcl2
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
TERRAFORM = REPO / "terraform"
COMPOSE_FILE = DOCKER / "compose.yaml"
IAC_VENV = REPO / ".venv-iac"

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal dollar
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict]:
    return compose()["services"]


def env_file(path: Path) -> dict[str, str]:
    """NAME=value lines of an env file (the format compose reads for docker/.env)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's variable substitution of one string, as `docker compose config` would do it."""

    def one(match: re.Match) -> str:
        name, op, arg = match[1], match[2], match[3]
        value = values.get(name)
        if (op in (":-", ":?") and not value) or (op in ("-", "?") and value is None):
            if op.endswith("?"):
                raise KeyError(f"{name}: {arg}")
            return arg
        if value is None:
            raise KeyError(f"{name} is not set")
        return value

    return INTERPOLATION.sub(one, text.replace("$$", "\0")).replace("\0", "$")


def variables_used(node) -> set[str]:
    """Every variable that a compose value (any nesting) interpolates."""
    if isinstance(node, dict):
        return set().union(*(variables_used(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(variables_used(v) for v in node)) if node else set()
    if isinstance(node, str):
        return {m[1] for m in INTERPOLATION.finditer(node.replace("$$", ""))}
    return set()


@cache
def terraform_files() -> dict[str, dict]:
    """Every .tf file of terraform/, parsed by python-hcl2 (plain strings, no comments)."""
    options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    parsed = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        with path.open() as f:
            parsed[path.name] = hcl2.load(f, serialization_options=options)
    return parsed


def blocks(kind: str) -> dict[str, dict]:
    """`resource`/`data` blocks as {"type.name": body}, or `variable`/`output` as {name: body}."""
    found = {}
    for parsed in terraform_files().values():
        for entry in parsed.get(kind, []):
            for key, body in entry.items():
                if kind in ("resource", "data"):
                    for name, inner in body.items():
                        found[f"{key}.{name}"] = inner
                else:
                    found[key] = body
    return found


def of_type(kind: str, type_name: str) -> dict[str, dict]:
    return {k: v for k, v in blocks(kind).items() if k.startswith(f"{type_name}.")}


def settings_read(*paths: Path, functions: tuple[str, ...] = ()) -> set[str]:
    """Environment settings that storepipe code reads: `setting("NAME")` calls, `os.environ` lookups,
    and NAME constants handed to them indirectly (e.g. a dict of NAMEs), limited to `functions` if given."""
    known = _known_settings()
    found: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text())
        roots = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in functions] or [tree]
        for root in roots:
            for node in ast.walk(root):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
                    found.add(node.value)
    return found


@cache
def _known_settings() -> frozenset[str]:
    """Names passed to `config.setting(...)` or `os.environ` anywhere in storepipe/, plus .env.example's."""
    names = set(env_file(REPO / ".env.example"))
    for path in (REPO / "storepipe").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str) and ENV_NAME.match(first.value)):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("setting", "get", "getenv") or _is_environ(func):
                names.add(first.value)
    return frozenset(names)


def _is_environ(func) -> bool:
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "environ"


def tool(name: str, *candidates: Path | None) -> str:
    """A checking tool: $<NAME>_BIN if set, else the first candidate that exists; fails saying what to run."""
    override = os.environ.get(f"{name.upper()}_BIN")
    for path in [Path(override)] if override else [c for c in candidates if c]:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise AssertionError(f"{name} is not installed; run `make iac-tools` (or `make test`, which does it)")


def on_path(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None

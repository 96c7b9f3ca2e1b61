"""Write docker/.env for the compose stack: docker/.env.example's settings, random secrets, your overrides.

    python3 docker/make_env.py docker/.env [NAME=VALUE ...]

Values already in the target file are kept, so running it again never changes a password; a name
from .env.example that is missing is added. An empty value whose name ends in _PASSWORD or
_SECRET_ACCESS_KEY gets a random URL-safe secret. NAME=VALUE arguments win over both.
Standard library only: it runs on a fresh host before anything is installed.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

EXAMPLE = Path(__file__).with_name(".env.example")
SECRET_NAME = re.compile(r".*(_PASSWORD|_SECRET_ACCESS_KEY)$")
LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def parse(text: str) -> dict[str, str]:
    """NAME=value lines in order; comments and blank lines are skipped, values are taken literally."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        match = LINE.match(raw.strip())
        if match:
            values[match[1]] = match[2]
    return values


def render(example: str, values: dict[str, str]) -> str:
    """The example's text with each NAME=... line carrying its value; names not in it are appended."""
    seen: set[str] = set()
    out = []
    for raw in example.splitlines():
        match = LINE.match(raw.strip())
        if match:
            seen.add(match[1])
            out.append(f"{match[1]}={values[match[1]]}")
        else:
            out.append(raw)
    out += [f"{name}={value}" for name, value in values.items() if name not in seen]
    return "\n".join(out) + "\n"


def build(example: str, existing: dict[str, str], overrides: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The settings to write, and the names whose secret was generated now."""
    values = {**parse(example), **existing, **overrides}
    generated = []
    for name, value in values.items():
        if not value and SECRET_NAME.match(name) and name not in overrides:
            values[name] = secrets.token_urlsafe(24)
            generated.append(name)
    return values, generated


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    target = Path(argv[0])
    overrides = {}
    for arg in argv[1:]:
        name, sep, value = arg.partition("=")
        if not sep or not LINE.match(arg):
            print(
                f"make_env: {arg!r} is not NAME=VALUE (make_env.py arguments); write it as NAME=VALUE", file=sys.stderr
            )
            return 2
        overrides[name] = value
    existing = parse(target.read_text()) if target.exists() else {}
    values, generated = build(EXAMPLE.read_text(), existing, overrides)
    target.touch(mode=0o600, exist_ok=True)
    os.chmod(target, 0o600)
    target.write_text(render(EXAMPLE.read_text(), values))
    what = f"; generated {', '.join(generated)}" if generated else ""
    print(f"wrote {target}{what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

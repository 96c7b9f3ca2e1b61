"""Container healthcheck: exit 0 when an HTTP endpoint answers below 500, or a PostgreSQL URL accepts a login."""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 5.0


def http_ok(url: str) -> str | None:
    """None when the server answers with a status below 500, else why not."""
    try:
        # bandit B310: URLs are the compose file's own healthcheck arguments (http://), not input
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # nosec B310
            status = response.status
    except urllib.error.HTTPError as err:
        status = err.code
    except (urllib.error.URLError, OSError) as err:
        return f"{url}: {err}"
    return None if status < 500 else f"{url}: HTTP {status}"


def postgres_ok(variable: str) -> str | None:
    """None when the database named by the environment variable accepts a login, else why not."""
    url = os.environ.get(variable)
    if not url:
        return f"{variable} is not set"
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=int(TIMEOUT_S)).close()
    except psycopg2.Error as err:
        lines = str(err).strip().splitlines()
        return f"{variable}: {lines[0] if lines else type(err).__name__}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http", action="append", default=[], metavar="URL", help="an endpoint that must answer")
    parser.add_argument("--postgres", action="append", default=[], metavar="VAR", help="env var holding a DB URL")
    args = parser.parse_args(argv)
    if not args.http and not args.postgres:
        parser.error("nothing to check: give --http URL or --postgres VAR")
    problems = [p for p in [*map(http_ok, args.http), *map(postgres_ok, args.postgres)] if p]
    for problem in problems:
        print(f"unhealthy: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

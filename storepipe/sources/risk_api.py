"""Risk-score API: page through one window's scores, retrying transient failures with backoff."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import requests
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from storepipe import config
from storepipe.errors import SourceUnavailable
from storepipe.quarantine import Rejected
from storepipe.window import Window, parse_datetime

log = logging.getLogger(__name__)

COLUMNS = ["customer_id", "risk_score", "assessed_at"]
PATH = "/risk-scores"


class _Transient(Exception):
    """A failure worth retrying: connection trouble, a timeout, 429 or 5xx."""


def iter_risk_scores(window: Window, url: str | None = None) -> Iterator[tuple | Rejected]:
    settings = config.risk_api()
    endpoint = (url or settings.url).rstrip("/") + PATH
    params = {"start": window.start.isoformat(), "end": window.end.isoformat(), "limit": settings.page_size}
    seen_cursors: set[str] = set()
    page = 0
    with requests.Session() as session:
        while True:
            body = _get_page(session, endpoint, params, settings)
            for index, item in enumerate(body.get("items") or []):
                yield _validate(item, f"{endpoint} page {page} item {index}", window)
            cursor = body.get("next_cursor")
            if not cursor:
                return
            if cursor in seen_cursors:
                raise SourceUnavailable(
                    f"risk API repeated pagination cursor {cursor!r}",
                    endpoint,
                    "the API is misbehaving; retry later or report it to its owners",
                )
            seen_cursors.add(cursor)
            params["cursor"] = cursor
            page += 1


def _get_page(session: requests.Session, endpoint: str, params: dict, settings) -> dict:
    retrying = Retrying(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(settings.attempts),
        wait=wait_exponential_jitter(multiplier=0.5, max=settings.max_wait_s),
        reraise=False,
    )
    try:
        for attempt in retrying:
            with attempt:
                return _fetch(session, endpoint, params, settings.timeout_s)
    except RetryError as err:
        last = err.last_attempt.exception()
        raise SourceUnavailable(
            f"risk API failed after {settings.attempts} tries: {last}",
            endpoint,
            "check RISK_API_URL and that the service runs",
        ) from err
    raise AssertionError("unreachable")


def _fetch(session: requests.Session, endpoint: str, params: dict, timeout: float) -> dict:
    try:
        response = session.get(endpoint, params=params, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise _Transient(f"{type(err).__name__}: {err}") from err
    if response.status_code == 429 or response.status_code >= 500:
        raise _Transient(f"HTTP {response.status_code}")
    if response.status_code != 200:
        raise SourceUnavailable(
            f"risk API answered HTTP {response.status_code}: {response.text[:200]}",
            response.url,
            "check RISK_API_URL and the request",
        )
    try:
        body = response.json()
    except ValueError as err:
        raise _Transient(f"invalid JSON: {response.text[:100]!r}") from err
    if not isinstance(body, dict) or not isinstance(body.get("items", []), list):
        raise _Transient(f"unexpected body: {response.text[:100]!r}")
    return body


def _validate(item, location: str, window: Window) -> tuple | Rejected:
    if not isinstance(item, dict):
        return Rejected(location, "item is not an object", repr(item))
    customer_id, score, assessed = item.get("customer_id"), item.get("risk_score"), item.get("assessed_at")
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        return Rejected(location, "customer_id is missing or not an integer", repr(item))
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 100:
        return Rejected(location, "risk_score is missing or outside 1..100", repr(item))
    if not isinstance(assessed, str):
        return Rejected(location, "assessed_at is missing", repr(item))
    try:
        assessed_at = parse_datetime(assessed)
    except ValueError:
        return Rejected(location, "assessed_at is not a timestamp", repr(item))
    if not window.start <= assessed_at < window.end:
        return Rejected(location, f"assessed_at {assessed} is outside window {window.label}", repr(item))
    return customer_id, score, assessed_at.isoformat(sep=" ")

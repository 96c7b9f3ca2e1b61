"""Risk-score API: page through one window's scores, retrying transient failures with backoff.

Connection errors, timeouts, HTTP 429 and 5xx, and answers that are not a page (invalid JSON, no
`items`) are retried with exponential backoff and jitter, at most `[risk_api] attempts` times and
`max_retry_time_s` seconds per page; a 429's Retry-After is honoured up to `max_wait_s`. Then the
task fails naming the URL and the last error, so a source that is down is never an empty window.
A bad item (missing field, score outside 1..100) is quarantined as `<url> page P item I`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Iterator

import requests
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from storepipe import config
from storepipe.errors import SourceUnavailable
from storepipe.rows import INT4, Rejected
from storepipe.window import Window, parse_datetime, utcnow

log = logging.getLogger(__name__)

PATH = "/risk-scores"
TODO = "check RISK_API_URL and that the service runs, then re-run the window"


class _Transient(Exception):
    """A failure worth retrying: connection trouble, a timeout, 429, 5xx or an answer that is not a page."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def iter_risk_scores(window: Window, url: str | None = None) -> Iterator[tuple | Rejected]:
    settings = config.risk_api()
    endpoint = (url or settings.url).rstrip("/") + PATH
    params = {"start": window.start.isoformat(), "end": window.end.isoformat(), "limit": settings.page_size}
    seen_cursors: set[str] = set()
    page = 0
    with requests.Session() as session:
        while True:
            body = _get_page(session, endpoint, params, settings)
            for index, item in enumerate(body["items"]):
                yield _validate(item, f"{endpoint} page {page} item {index}", window)
            cursor = body["next_cursor"]
            if not cursor:
                return
            if cursor in seen_cursors:
                raise SourceUnavailable(
                    f"risk API repeated pagination cursor {cursor!r} on page {page} (it would loop forever)",
                    _url(endpoint, params),
                    "the API is misbehaving; retry later or report it to its owners",
                )
            seen_cursors.add(cursor)
            params["cursor"] = cursor
            page += 1


def _get_page(session: requests.Session, endpoint: str, params: dict, settings) -> dict:
    started = time.monotonic()
    retrying = Retrying(
        retry=retry_if_exception_type(_Transient),
        stop=(
            stop_after_attempt(settings.attempts)
            | stop_before_delay(settings.max_retry_time_s)
            | _asked_to_wait_too_long(settings.max_wait_s)
        ),
        wait=_backoff(settings.max_wait_s),
        before_sleep=_log_retry,
        reraise=False,
    )
    try:
        for attempt in retrying:
            with attempt:
                return _fetch(session, endpoint, params, settings.timeout_s)
    except RetryError as err:
        tries = err.last_attempt.attempt_number
        raise SourceUnavailable(
            f"risk API failed after {tries} tries in {time.monotonic() - started:.1f} s;"
            f" last error: {err.last_attempt.exception()}",
            _url(endpoint, params),
            TODO,
        ) from err
    raise AssertionError("unreachable")


def _backoff(max_wait: float):
    """Exponential backoff with full jitter, but never sooner than a 429's Retry-After asks."""
    exponential = wait_random_exponential(multiplier=0.5, max=max_wait)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None) or 0.0
        return max(exponential(state), asked)

    return wait


def _asked_to_wait_too_long(max_wait: float):
    """Give up at once when Retry-After asks for longer than `max_wait_s`."""

    def stop(state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        return (getattr(error, "retry_after", None) or 0.0) > max_wait

    return stop


def _log_retry(state: RetryCallState) -> None:
    log.warning(
        "risk API: %s; retrying in %.1f s (try %d)",
        state.outcome.exception(),
        state.upcoming_sleep,
        state.attempt_number + 1,
    )


def _fetch(session: requests.Session, endpoint: str, params: dict, timeout: float) -> dict:
    try:
        response = session.get(endpoint, params=params, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise _Transient(f"{type(err).__name__}: {err}") from err
    if response.status_code == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        shown = "" if retry_after is None else f" (Retry-After {retry_after:.0f} s)"
        raise _Transient(f"HTTP 429 Too Many Requests{shown}", retry_after)
    if response.status_code >= 500:
        raise _Transient(f"HTTP {response.status_code}: {response.text[:100]!r}")
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
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise _Transient(f"not a page (no items list): {response.text[:100]!r}")
    cursor = body.get("next_cursor")
    if cursor is not None and not (isinstance(cursor, str) and cursor):
        raise _Transient(f"not a page (next_cursor is {cursor!r}): {response.text[:100]!r}")
    return {"items": body["items"], "next_cursor": cursor}


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is not None:  # HTTP dates are GMT
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return max(0.0, (when - utcnow()).total_seconds())


def _url(endpoint: str, params: dict) -> str:
    return requests.Request("GET", endpoint, params=params).prepare().url


def _validate(item, location: str, window: Window) -> tuple | Rejected:
    if not isinstance(item, dict):
        return Rejected(location, "item is not an object", repr(item))
    customer_id, score, assessed = item.get("customer_id"), item.get("risk_score"), item.get("assessed_at")
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        return Rejected(location, "customer_id is missing or not an integer", repr(item))
    if not INT4[0] <= customer_id <= INT4[1]:
        return Rejected(location, "customer_id is outside the integer range", repr(item))
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

"""The dev stack's risk-score service: deterministic scores for the customers changed in a time range."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import threading
from typing import Annotated

import psycopg2
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel

from storepipe import config, sqlfiles

log = logging.getLogger(__name__)

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
_CURSOR_PREFIX = "after:"
# FastAPI runs this sync endpoint in a thread pool: one kept source connection per thread
_kept = threading.local()

app = FastAPI(
    title="storepipe risk scores (dev stack)",
    description="Risk scores of the customers changed in [start, end), keyset-paginated by customer_id.",
    version="1",
)


class RiskScore(BaseModel):
    customer_id: int
    risk_score: int
    assessed_at: str


class Page(BaseModel):
    items: list[RiskScore]
    next_cursor: str | None


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process serves HTTP (the database is checked per request)."""
    return {"status": "ok"}


@app.get("/risk-scores", response_model=Page)
def risk_scores(
    start: Annotated[dt.datetime, Query(description="Inclusive lower bound on the change time (UTC).")],
    end: Annotated[dt.datetime, Query(description="Exclusive upper bound on the change time (UTC).")],
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.")] = 100,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> Page:
    """One page of scores, ordered by customer_id; `next_cursor` is null on the last page."""
    start, end = _naive_utc(start), _naive_utc(end)
    if start >= end:
        raise HTTPException(status_code=422, detail="start must be before end")
    after = _decode_cursor(cursor) if cursor else 0
    params = {"range_start": start, "range_end": end, "after_customer_id": after, "page_size": limit}
    try:
        found = _query(params)
    except psycopg2.OperationalError as err:
        log.warning("source database unavailable: %s", err)
        raise HTTPException(status_code=503, detail="source database unavailable") from err
    page = found[:limit]
    items = [
        RiskScore(customer_id=customer_id, risk_score=score(customer_id, start), assessed_at=f"{at:{TIME_FORMAT}}")
        for customer_id, at in page
    ]
    next_cursor = _encode_cursor(page[-1][0]) if len(found) > limit else None
    return Page(items=items, next_cursor=next_cursor)


def _query(params: dict) -> list[tuple]:
    """The page's rows, on this thread's kept connection: a new one per request cost a password exchange
    (5-7 ms), most of a small page's answer. A kept connection that broke (the database restarted) is
    replaced once; if the new one fails too, the caller answers 503."""
    for attempt in (1, 2):
        conn = getattr(_kept, "conn", None)
        if conn is None or conn.closed:
            conn = _kept.conn = psycopg2.connect(config.setting("SOURCE_DB_URL"))
            conn.set_session(readonly=True, autocommit=True)
        try:
            with conn.cursor() as rows:
                rows.execute(sqlfiles.load("simulator/risk_scores_page"), params)
                return rows.fetchall()
        except psycopg2.OperationalError:
            conn.close()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def score(customer_id: int, start: dt.datetime) -> int:
    """1..100, the same for a customer and range start every time it is asked."""
    digest = hashlib.sha256(f"{customer_id}:{start.isoformat()}".encode()).hexdigest()
    return 1 + int(digest, 16) % 100


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _encode_cursor(customer_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{customer_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith(_CURSOR_PREFIX):
            return int(text[len(_CURSOR_PREFIX) :])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise HTTPException(status_code=422, detail="cursor is not one this API issued; start without it")

"""Orders bucket: list and stream the CSV objects (`.csv`, `.csv.gz`) of one window, validating each row on the way.

Rules (README "When data is bad"): columns are read by header name (extra ones ignored with a
warning; a missing one sets the file aside and fails the window); blank lines are skipped; a row
that fails a check is quarantined with `s3://bucket/key:line` and a reason. A gzip object that does
not decompress to its end, or an object that is not `.csv`/`.csv.gz` (any case) and not ignored by
name (`_SUCCESS`, names starting with `.` or `_`: listed as notes), fails the window until it is
fixed. Duplicate order_ids all land in store.orders; fct_orders keeps one per order_id (the latest
delivery, then the lowest item_id: stg_orders' rule, inlined into it).

A file in the usual layout is first read by a fast path (see `_CleanBlocks`), and by the
row-by-row path from its first line that is not plainly clean.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import itertools
import logging
import operator
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from typing import NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from storepipe import config, s3, streams
from storepipe.errors import SourceUnavailable
from storepipe.rows import FLAGGED, INT4, ORDERS, RAW_LIMIT, Block, Rejected
from storepipe.window import Window

log = logging.getLogger(__name__)

COLUMNS = ORDERS.columns
MAX_FIELD = 1000  # characters; a longer item_name is a broken row, not an item name
MAX_LINE = 1_000_000  # characters; a longer line is skipped unread so memory stays flat, and quarantined
GZIP_OUT_BYTES = 256 * 1024  # decompressed bytes per step, whatever the compression ratio

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_INT = re.compile(r"^[+-]?\d{1,10}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
_SUSPECT = re.compile("[\x00\udc80-\udcff]")  # NUL, or a byte that was not UTF-8 (kept as a surrogate)
_OVERLONG = "\x00overlong\n"  # stands in for a line over MAX_LINE, so csv counts it and its record is set aside


def s3_client():
    return s3.client(config.orders_bucket().endpoint_url)


def minute_prefixes(window: Window, prefix: str) -> list[str]:
    """Objects are filed by the minute they were written; a window owns its minutes' prefixes."""
    minutes = [window.start + dt.timedelta(minutes=m) for m in range(window.minutes)]
    return [f"{prefix}{m:%Y/%m/%d/%H/%M}/" for m in minutes]


class Object(NamedTuple):
    """An object as a listing shows it: a new ETag is a new version of the file."""

    key: str
    etag: str
    size: int


def list_objects(window: Window, bucket: str | None = None) -> list[Object]:
    """The objects filed under the window's minutes, in key order: from the listing `listed_together`
    made for it, if inside one, else a listing of its own."""
    bucket = bucket or config.orders_bucket().bucket
    made = _listed.get((bucket, window))
    return list(made) if made is not None else _list_windows([window], bucket)[window]


def _list_windows(windows: Sequence[Window], bucket: str) -> dict[Window, list[Object]]:
    """The objects filed under each window's minutes, in key order, from one listing.

    One listing, not one per minute (a LIST costs a round trip to S3, 10-50 ms): from the first
    window's first minute's folder up to the first key past the last one's last minute, in the
    folder those minutes share, keeping the keys inside a wanted minute's folder
    (`orders/2024/01/01/10/00-x.csv` sorts among them too).
    """
    prefix = config.orders_bucket().prefix
    first, last = min(windows, key=lambda w: w.start), max(windows, key=lambda w: w.start)
    owner = {minute: window for window in windows for minute in minute_prefixes(window, prefix)}
    start = minute_prefixes(first, prefix)[0]
    after_last = minute_prefixes(Window(last.end, last.minutes), prefix)[0]
    pairs = zip(start.split("/"), after_last.split("/"), strict=True)
    same = itertools.takewhile(lambda pair: pair[0] == pair[1], pairs)
    shared = "".join(f"{part}/" for part, _ in same)
    width = len(start)
    found: dict[Window, list[Object]] = {window: [] for window in windows}
    for item in _listing(bucket, [shared], start_after=start[:-1]):
        if item.key >= after_last:
            break
        window = owner.get(item.key[:width])
        if window is not None:
            found[window].append(item)
    return found


# listings made ahead for windows about to run: (bucket, window) -> its objects
_listed: dict[tuple[str, Window], list[Object]] = {}
LIST_TOGETHER_SPAN = 4  # list windows together while they cover at most this many times their own minutes


@contextmanager
def listed_together(windows: Sequence[Window], bucket: str | None = None) -> Iterator[None]:
    """Inside the block, `list_objects` answers for `windows` (closed ones, about to be extracted) from
    one listing made on entry, instead of one LIST each: a backfill's build of 12 windows lists the
    bucket once. The listing is as of the block's start, as a window's own would be as of its
    extract's: an object filed under a window afterwards is late, found by the next backfill's look-back.
    Windows spread thinly over a long span (the gaps of a long range) keep a listing each, and so do
    all of them when the bucket does not answer: each extract then fails on its own, as it would.
    """
    bucket = bucket or config.orders_bucket().bucket
    covered = sum((w.end - w.start for w in windows), dt.timedelta(0))
    span = max(w.end for w in windows) - min(w.start for w in windows) if windows else covered
    keys = []
    if len(windows) > 1 and span <= LIST_TOGETHER_SPAN * covered:
        try:
            listed = _list_windows(windows, bucket)
        except SourceUnavailable as err:
            log.info("orders bucket: no listing ahead for %d windows (%s); each lists its own", len(windows), err)
        else:
            keys = [(bucket, window) for window in windows]
            _listed.update({(bucket, window): listed[window] for window in windows})
    try:
        yield
    finally:
        for key in keys:
            _listed.pop(key, None)


def list_keys(window: Window, bucket: str | None = None) -> list[str]:
    return [found.key for found in list_objects(window, bucket)]


def list_days(days: Iterable[dt.date], bucket: str | None = None) -> Iterator[tuple[dt.datetime, Object]]:
    """Every object filed under these days, with the minute it is filed under: one listing per day,
    however many windows and minutes it holds."""
    settings = config.orders_bucket()
    for day in days:
        for found in _listing(bucket or settings.bucket, [f"{settings.prefix}{day:%Y/%m/%d}/"]):
            minute = filed_minute(found.key, settings.prefix)
            if minute is not None:
                yield minute, found


def filed_minute(key: str, prefix: str) -> dt.datetime | None:
    """The minute `prefix/YYYY/MM/DD/HH/MM/name` is filed under; None for a key outside that layout."""
    parts = key[len(prefix) :].split("/")
    if not key.startswith(prefix) or len(parts) < 6:
        return None
    try:
        return dt.datetime(*(int(p) for p in parts[:5]))
    except ValueError:
        return None


def _listing(bucket: str, prefixes: list[str], start_after: str = "") -> Iterator[Object]:
    """The objects under each prefix in key order (S3 lists by UTF-8 bytes), after `start_after`."""
    try:
        paginator = s3_client().get_paginator("list_objects_v2")
        for prefix in prefixes:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix, StartAfter=start_after):
                for item in page.get("Contents", []):
                    yield Object(item["Key"], item["ETag"].strip('"'), item["Size"])
    except (BotoCoreError, ClientError) as err:
        raise _unavailable(bucket, err) from err


OPEN_AHEAD = 4  # objects whose GET is under way while one is read: a small object costs a round trip


def iter_orders(
    window: Window, bucket: str | None = None, objects: list[Object] | None = None
) -> Iterator[tuple | Rejected]:
    """Every order row of the window's objects (or of `objects`), in key order, as a clean tuple or a `Rejected`.

    The next OPEN_AHEAD plain CSV objects are requested while one is read, so a window of many small
    objects waits for S3's first byte (10-50 ms a GET) a few times, not once an object; each holds at
    most its read-ahead (2 MB) until its turn.
    """
    bucket = bucket or config.orders_bucket().bucket
    found = list_objects(window, bucket) if objects is None else objects
    upcoming = iter([item.key for item in found if kind(item.key) == "csv"])
    opened: dict[str, streams.ReadAhead] = {}
    with ExitStack() as stack:

        def open_next() -> None:
            key = next(upcoming, None)
            if key is not None:
                opened[key] = stack.enter_context(closing(streams.ReadAhead(_object_chunks(bucket, key))))

        for _ in range(OPEN_AHEAD):
            open_next()
        for item in found:
            reading = opened.pop(item.key, None)
            if reading is not None:
                open_next()
            yield from _iter_object(window, bucket, item.key, reading)


def kind(key: str) -> str:
    """What an object is, by its name: `csv`, `csv.gz`, `ignored` (a marker, a hidden or temporary
    file, a folder placeholder) or `unknown`. Suffixes match whatever their case (`part-000.CSV`)."""
    name = key.rsplit("/", 1)[-1]
    if not name or name.startswith((".", "_")):
        return "ignored"  # `_SUCCESS`, `_temporary`, `.part-000.csv.crc`, a `folder/` placeholder
    lowered = name.lower()
    if lowered.endswith(".csv.gz"):
        return "csv.gz"
    return "csv" if lowered.endswith(".csv") else "unknown"


def _iter_object(
    window: Window, bucket: str, key: str, reading: streams.ReadAhead | None = None
) -> Iterator[tuple | Rejected]:
    where = f"s3://{bucket}/{key}"
    found = kind(key)
    if found == "ignored":
        # listed in the window's quarantine as a note, so `storepipe quarantine` shows what was passed over
        if not key.endswith("/"):
            yield Rejected(where, "not an order file by its name (starts with '.' or '_'); ignored", "", FLAGGED)
        return
    if found == "unknown":
        # an unknown object may hold orders: the window waits until it is renamed, moved or removed
        log.warning("%s is neither .csv nor .csv.gz; the window fails until it is renamed or removed", where)
        yield Rejected(where, "not a .csv or .csv.gz object; rename it, move it or remove it", "", fails_window=True)
        return
    if found == "csv.gz":
        # a truncated gzip is only found at its end, after rows were read: check it first so
        # the file is never half loaded (a second read of the object); it fails the window, since
        # the rows it lost are unknown, until it is replaced whole or removed
        problem = _gzip_problem(_chunks(bucket, key))
        if problem:
            log.warning("%s: %s; the window fails until the file is replaced", where, problem)
            yield Rejected(where, f"{problem}; replace the file whole, or remove it", "", fails_window=True)
            return
        yield from parse_rows(window, where, gunzip(_chunks(bucket, key)))
    else:
        yield from parse_rows(window, where, _chunks(bucket, key, reading))


def _chunks(bucket: str, key: str, reading: streams.ReadAhead | None = None) -> Iterator[bytes]:
    """The object's bytes as they arrive (from `reading`, if its read has begun already); a failure
    mid-stream, or of the GET, is the source being unavailable."""
    reading = reading or streams.ReadAhead(_object_chunks(bucket, key))
    try:
        yield from reading
    except (BotoCoreError, ClientError) as err:
        raise _unavailable(bucket, err) from err
    finally:
        reading.close()


def _object_chunks(bucket: str, key: str) -> Iterator[bytes]:
    """GET the object and read it (in a `ReadAhead`'s thread)."""
    body = s3_client().get_object(Bucket=bucket, Key=key)["Body"]
    try:
        yield from body.iter_chunks(config.orders_bucket().chunk_bytes)
    finally:
        body.close()


def gunzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Stream-decompress gzip (several members allowed); raises `zlib.error` if it is corrupt or cut short."""
    inflate, started = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16), False
    for chunk in chunks:
        while chunk:
            if inflate.eof:  # the next member of a concatenated gzip
                inflate = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
            started = True
            out = inflate.decompress(chunk, GZIP_OUT_BYTES)
            if out:
                yield out
            chunk = inflate.unused_data if inflate.eof else inflate.unconsumed_tail
    while started and not inflate.eof:
        out = inflate.decompress(b"", GZIP_OUT_BYTES)
        if not out:
            raise zlib.error("the gzip stream ends before its end marker (a truncated file)")
        yield out


def _gzip_problem(chunks: Iterable[bytes]) -> str | None:
    try:
        for _ in gunzip(chunks):
            pass
    except zlib.error as err:
        return f"not a complete gzip file: {err}"
    return None


class _Lines:
    """The text lines of a byte stream, remembering the lines of the record csv is reading.

    Bytes are decoded as UTF-8 (a leading BOM dropped) with undecodable bytes kept as surrogates;
    `suspect` turns on once a chunk held one of those or a NUL, and only then are rows checked for them.
    """

    def __init__(self, chunks: Iterable[bytes], bom: bool = True):
        self.chunks = chunks
        self.encoding = "utf-8-sig" if bom else "utf-8"  # no BOM to drop mid-file, after the fast path
        self.record: list[str] = []
        self.suspect = False
        self.overlong_head = ""

    def __iter__(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.encoding)(errors="surrogateescape")
        record, pending, skipping = self.record, "", False
        for chunk in self.chunks:
            text = decoder.decode(chunk)
            if not self.suspect and _SUSPECT.search(text):
                self.suspect = True
            if skipping:  # inside a line over MAX_LINE: drop it up to its end
                cut = text.find("\n")
                if cut < 0:
                    continue
                text, skipping = text[cut + 1 :], False
                record.append(_OVERLONG)
                yield _OVERLONG
            # split on "\n" only: csv itself handles "\r\n" and line breaks inside quotes
            lines = (pending + text).split("\n")
            pending = lines.pop()
            for line in lines:
                line += "\n"
                record.append(line)
                yield line
            if len(pending) > MAX_LINE:
                self.suspect, skipping = True, True
                self.overlong_head, pending = pending[:RAW_LIMIT], ""
        pending += decoder.decode(b"", final=True)
        if _SUSPECT.search(pending):
            self.suspect = True
        if skipping or len(pending) > MAX_LINE:
            self.suspect = True
            self.overlong_head = self.overlong_head or pending[:RAW_LIMIT]
            pending = _OVERLONG
        if pending:
            record.append(pending)
            yield pending


def parse_rows(
    window: Window, where: str, chunks: Iterable[bytes], *, fast: bool = True
) -> Iterator[tuple | Block | Rejected]:
    """One CSV file's rows: a clean 5-tuple per valid row, a `Rejected` per bad record or for the whole file,
    and a `Block` per run of clean lines the fast path took whole (`fast=False` turns it off, for tests).
    """
    chunks, base = iter(chunks), 0  # base: the physical lines read before the row-by-row path starts
    if fast and _fast_path_applies(window):
        clean = _CleanBlocks(_block_pattern(window, MAX_FIELD), chunks)
        yield from clean
        chunks, base = itertools.chain(clean.rest, chunks), clean.lines
    lines = _Lines(chunks, bom=not base)
    reader = csv.reader(lines)
    record = lines.record
    if base:
        names = COLUMNS  # the fast path read the header: exactly these
    else:
        header = _read_header(reader, record)
        if header is None:
            return  # an empty file, or blank lines only
        names = [name.strip().lower() for name in header]
        missing = [c for c in COLUMNS if c not in names]
        repeated = sorted({c for c in COLUMNS if names.count(c) > 1})
        if missing or repeated:
            reason = f"header lacks required columns {missing}" if missing else f"header repeats columns {repeated}"
            yield Rejected(where, f"{reason}; the whole file is set aside", _raw(record, lines), fails_window=True)
            return
        unknown = [n for n in names if n not in COLUMNS]
        if unknown:
            log.warning("%s: ignoring unknown columns %s", where, unknown)
    width, pick = len(names), operator.itemgetter(*(names.index(c) for c in COLUMNS))
    start, end = window.start, window.end
    done = base + reader.line_num  # the last line of the previous record
    record.clear()
    while True:
        try:
            for row in reader:
                checked = _check(row, width, pick, start, end)
                if isinstance(checked, tuple) and lines.suspect:
                    checked = _bytes_problem(record) or checked
                if not isinstance(checked, str):  # a valid row, or a blank line
                    if checked is not None:
                        yield checked
                    done = base + reader.line_num
                    record.clear()
                    continue
                problem = checked
                yield from _set_aside(where, done + 1, problem, record, lines, width, pick, start, end)
                done = base + reader.line_num
                record.clear()
            return
        except csv.Error as err:
            yield from _set_aside(where, done + 1, f"not valid CSV: {err}", record, lines, width, pick, start, end)
            done = base + reader.line_num
            record.clear()


# --- the fast path -------------------------------------------------------------------------------
# Checking rows one by one in Python costs ~5 µs a row, most of a window's extract. Files are nearly
# always clean and in the usual layout, so whole blocks of lines are checked by one bytes regex that
# accepts only rows the row-by-row path would load unchanged, and are copied to the lake as they are.
# The first block it does not accept hands the rest of the file, from that block's first line, to
# the row-by-row path, which then gives exactly the results it gives for the whole file.

HEADER_LINE = ",".join(COLUMNS).encode() + b"\n"
_BOM = codecs.BOM_UTF8
_UUID_BYTES = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# up to 9 digits, or 10 digits up to 2147483647 (ids are often that long); the row-by-row path takes
# whatever else it accepts (a leading zero, -2147483648)
_INT4_BYTES = (
    rb"[+-]?(?:[0-9]{1,9}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}"
    rb"|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])"
)
_NAME_EDGE = rb"[\x21\x23-\x2b\x2d-\x7e]"  # printable ASCII but space, '"' and ',': strip() keeps it
_NAME_INSIDE = rb'[^,"\r\n\x00]'


def _fraction_bytes() -> bytes:
    """The fractions of a second `fromisoformat` reads: 1 to 6 digits since Python 3.11, 3 or 6 before."""
    try:
        dt.datetime.fromisoformat("2000-01-01 00:00:00.1")
    except ValueError:
        return rb"\.(?:[0-9]{3}|[0-9]{6})"
    return rb"\.[0-9]{1,6}"


_FRACTION_BYTES = _fraction_bytes()


def _fast_path_applies(window: Window) -> bool:
    """The regex spells out the window's minutes, whole ones."""
    return window.minutes <= 60 and not (window.start.second or window.start.microsecond)


@functools.lru_cache(maxsize=16)
def _block_pattern(window: Window, max_field: int) -> re.Pattern[bytes]:
    """Lines `order_id,customer_id,item_id,item_name,delivered_on` that load byte for byte as they are."""
    minutes = [window.start + dt.timedelta(minutes=m) for m in range(window.minutes)]
    days_hours = []
    for (day, hour), group in itertools.groupby(minutes, key=lambda m: (m.date(), m.hour)):
        in_hour = b"|".join(b"%02d" % m.minute for m in group)
        days_hours.append(b"%04d-%02d-%02d[ T]%02d:(?:%s)" % (day.year, day.month, day.day, hour, in_hour))
    when = rb"(?:%s)(?::[0-5][0-9](?:%s)?)?" % (b"|".join(days_hours), _FRACTION_BYTES)
    name = rb"%s(?:%s{0,%d}%s)?" % (_NAME_EDGE, _NAME_INSIDE, max(max_field - 2, 0), _NAME_EDGE)
    line = b",".join([_UUID_BYTES, _INT4_BYTES, _UUID_BYTES, name, when]) + b"\n"
    return re.compile(rb"(?:%s)*" % line)


class _CleanBlocks:
    """Iterated, yields each chunk's complete lines as one `Block` while they are clean.

    Once exhausted, `rest` holds the bytes not taken, in the chunks they came in (so the row-by-row
    path reads them exactly as it would have), and `lines` the physical lines taken, header
    included: 0 if not even the header.
    """

    def __init__(self, pattern: re.Pattern[bytes], chunks: Iterator[bytes]):
        self.pattern, self.chunks = pattern, chunks
        self.rest: list[bytes] = []
        self.lines = 0

    def __iter__(self) -> Iterator[Block]:
        pieces: list[bytes] = []  # the bytes after the last complete line
        size = 0
        for chunk in self.chunks:
            end = chunk.rfind(b"\n") + 1
            if not end:
                pieces.append(chunk)
                size += len(chunk)
                if size > MAX_LINE:  # never hold a whole overlong line; the row-by-row path skips it just here
                    break
                continue
            block = b"".join([*pieces, chunk[:end]])
            start = _rows_start(block) if not self.lines else 0
            if start is None or not self.pattern.fullmatch(block, start) or not _is_utf8(block):
                pieces = [*pieces, chunk]
                break
            rows = block.count(b"\n", start)
            if rows:
                yield Block(block[start:] if start else block, rows)
            self.lines += rows + (1 if start else 0)
            pieces, size = ([chunk[end:]] if end < len(chunk) else []), len(chunk) - end
            if size > MAX_LINE:
                break
        self.rest = pieces


def _rows_start(first: bytes) -> int | None:
    """Where the rows begin after the file's header line, or None if it is not exactly `HEADER_LINE`."""
    skip = len(_BOM) if first.startswith(_BOM) else 0
    return skip + len(HEADER_LINE) if first.startswith(HEADER_LINE, skip) else None


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_header(reader, record: list[str]) -> list[str] | None:
    """The first non-blank record; a header csv cannot parse is read as no header at all."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return None
        except csv.Error:
            return []
        if row and any(field.strip() for field in row):
            return row


def _set_aside(where, first, problem, record, lines, width, pick, start, end) -> Iterator[tuple | Rejected]:
    """Quarantine a bad record; if it spans lines, read them one by one first.

    A stray quote opens a field that swallows the lines after it; any of them that is a valid row
    on its own loads, and then each other line is quarantined alone. Otherwise the record is one entry.
    """
    if lines.suspect:
        problem = _bytes_problem(record) or problem
    if len(record) > 1:
        alone = [_line_alone(text, width, pick, start, end) for text in record]
        if any(isinstance(result, tuple) for result in alone):
            for offset, result in enumerate(alone):
                if isinstance(result, tuple):
                    yield result
                elif result is not None:
                    yield Rejected(f"{where}:{first + offset}", result, _raw([record[offset]], lines))
            return
    last = first + len(record) - 1
    location = f"{where}:{first}" if last <= first else f"{where}:{first}-{last}"
    yield Rejected(location, problem, _raw(record, lines))


def _line_alone(text: str, width, pick, start, end) -> tuple | str | None:
    """One physical line read as a whole record: the row, the reason it is bad, or None when blank."""
    problem = _bytes_problem([text])
    try:
        row = next(csv.reader([text]), [])
    except csv.Error as err:
        return problem or f"not valid CSV: {err}"
    checked = _check(row, width, pick, start, end)
    return problem if problem and checked is not None else checked


def _check(row: list[str], width: int, pick, start: dt.datetime, end: dt.datetime) -> tuple | str | None:
    """The one row check: the row's stripped values if it loads, the reason if it cannot, None if blank."""
    if len(row) == width:
        order_id, customer_id, item_id, item_name, delivered_on = pick(row)
        values = (order_id.strip(), customer_id.strip(), item_id.strip(), item_name.strip(), delivered_on.strip())
        return _fields_problem(*values, start, end) or values
    if not row or (len(row) == 1 and not row[0].strip()):
        return None
    return f"expected {width} fields, found {len(row)}"


def _raw(record: list[str], lines: _Lines) -> str:
    text = "".join(lines.overlong_head + "…" if line is _OVERLONG else line for line in record)
    return text.rstrip("\r\n")


def _bytes_problem(record: list[str]) -> str | None:
    for line in record:
        if line is _OVERLONG:
            return f"a line is longer than {MAX_LINE} characters"
        found = _SUSPECT.search(line)
        if found:
            if found.group() == "\x00":
                return "holds a NUL byte, which PostgreSQL text cannot store"
            return "holds bytes that are not UTF-8"
    return None


def _fields_problem(order_id, customer_id, item_id, item_name, delivered_on, start, end) -> str | None:
    """Why these (stripped) values cannot load, or None; cheap on purpose: it runs for every row."""
    if not _UUID.match(order_id):
        return f"order_id {order_id[:40]!r} is not a UUID"
    if not _INT.match(customer_id):
        return f"customer_id {customer_id[:40]!r} is not an integer"
    if len(customer_id) > 9 and not INT4[0] <= int(customer_id) <= INT4[1]:
        return f"customer_id {customer_id} is outside the integer range"
    if not _UUID.match(item_id):
        return f"item_id {item_id[:40]!r} is not a UUID"
    if not item_name:
        return "item_name is empty"
    if len(item_name) > MAX_FIELD:
        return f"item_name is longer than {MAX_FIELD} characters"
    if not _TIMESTAMP.match(delivered_on):
        return f"delivered_on {delivered_on[:40]!r} is not a timestamp"
    try:
        when = dt.datetime.fromisoformat(delivered_on)
    except ValueError:
        return f"delivered_on {delivered_on!r} is not a valid date"
    if not start <= when < end:
        return f"delivered_on {delivered_on} is outside window [{start:%Y-%m-%dT%H:%M}, {end:%Y-%m-%dT%H:%M})"
    return None


def _unavailable(bucket: str, err: Exception) -> SourceUnavailable:
    return SourceUnavailable(
        f"orders bucket unreadable: {err}",
        f"s3://{bucket} at {config.orders_bucket().endpoint_url or 'AWS'}",
        "check S3_ENDPOINT_URL, ORDERS_BUCKET and the credentials",
    )

"""The orders fast path lands exactly what the row-by-row path lands, only faster, whatever the file holds."""

import datetime as dt
import gzip
import io
import logging
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storepipe.lake import landing
from storepipe.lake.landing import Tally
from storepipe.rows import Block, Rejected
from storepipe.sources import orders_bucket
from storepipe.sources.orders_bucket import MAX_FIELD, gunzip, parse_rows
from storepipe.window import Window

WINDOW = Window(dt.datetime(2024, 1, 1, 10, 0), 5)
WHERE = "s3://b/k.csv"
HEADER = b"order_id,customer_id,item_id,item_name,delivered_on\n"
CHUNKS = [1, 7, 64, 4096, 65536]


def row(n: int, name: str = "chair", customer: str = "42", when: str = "2024-01-01 10:03:00", upper=False) -> bytes:
    order_id, item_id = str(uuid.UUID(int=n)), str(uuid.UUID(int=10**6 + n))
    if upper:
        order_id, item_id = order_id.upper(), item_id.upper()
    return f"{order_id},{customer},{item_id},{name},{when}\n".encode("utf-8", "surrogateescape")  # \udcff: \xff


def clean(first: int, count: int) -> bytes:
    names = ["chair", "Garrafa térmica ☕ 2", "'); drop table x; --", "a", "Mesa #1 (x)", "x" * MAX_FIELD]
    times = ["2024-01-01 10:00", "2024-01-01T10:04:59.999999", "2024-01-01 10:02:07", "2024-01-01T10:01:00.5"]
    return b"".join(
        row(n, name=names[n % len(names)], customer=["42", "-7", "+0", "999999999"][n % 4], when=times[n % len(times)])
        for n in range(first, first + count)
    )


def around(*lines: bytes) -> bytes:
    """A file with the lines under test between clean rows (each block-sized at some chunk size)."""
    return HEADER + clean(0, 100) + b"".join(lines) + clean(1000, 100)


# each its own file: the fast path hands a file over at its first line that is not plainly clean
ODD_TIMES = [
    "10:03:60",
    "10:03:00.1234567",
    "10:03:5",
    " 10:03",
    "10:03:00.",
    "10:3",
    "10:03:00Z",
    "10:03 ",
    "10:03:00.5",
]
ODD_DAYS = ["2024-01-01t10:03", "2024-1-01 10:03", "2024-01-01", "2024-01-01T10:03:00+00:00", "2024-01-01 10:05"]
ODD_CUSTOMERS = ["2147483647", "2147483648", "-2147483648", "-2147483649", "0000000042", "٤٢", " 42", "4 2", "+-1"]
ODD_NAMES = [
    '"ab"',
    '"a',
    'a"',
    "a\rb",
    "a b",
    "é",
    "é!",
    "!é",
    "\u3000tea",
    "a\x85",
    "\x1cab",
    "ab\x1f",
    "a\x0bb",
    "\ufeffab",
    "a\tb",
]
CASES = {
    "all clean": HEADER + clean(0, 300),
    "bad first row": HEADER + row(0, customer="x") + clean(1, 300),
    "bad row in the middle": around(b"a,b,c\n"),
    "bad last row": HEADER + clean(0, 300) + row(300, when="yesterday"),
    "bad rows sprinkled": around(
        row(500, name=""), clean(501, 90), row(591, name="x" * (MAX_FIELD + 1)), clean(592, 9)
    ),
    "blank lines": HEADER + clean(0, 100) + b"\n   \n" + clean(100, 100) + b"\n",
    "crlf": (HEADER + clean(0, 200)).replace(b"\n", b"\r\n"),
    "one crlf line": around(row(500)[:-1] + b"\r\n"),
    "bom": b"\xef\xbb\xbf" + HEADER + clean(0, 200),
    "bom at a line start mid-file": around(b"\xef\xbb\xbf" + row(500)),
    "quoted names with commas": around(row(500, name='"Chair, ""deluxe"""')),
    "quoted name over two lines": around(row(500, name='"two\nlines"')),
    "quoted name with a carriage return": around(row(500, name='"a\rb"')),
    "names with surrounding spaces": around(row(500, name=" lamp "), row(501, name="\tdesk"), row(502, name="x ")),
    "bytes that are not UTF-8": around(row(500).replace(b"chair", b"ch\xffair")),
    "a cut UTF-8 sequence": around(row(500).replace(b"chair", b"caf\xc3")),
    "an encoded surrogate": around(row(500).replace(b"chair", b"a\xed\xa0\x80b")),
    "a NUL byte": around(row(500, name="ch\x00air")),
    "a stray quote swallowing lines": around(b'oops,"never closed\n', clean(500, 5), b'end"\n'),
    "a stray quote to the end": HEADER + clean(0, 100) + b'oops,"never closed\n' + clean(100, 50),
    "out-of-window timestamps": around(row(500, when="2024-01-01 10:05:00"), row(501, when="2024-01-01 09:59:59.9")),
    **{f"delivered_on {t!r}": around(row(500, when="2024-01-01 " + t)) for t in ODD_TIMES},
    **{f"delivered_on {t!r}": around(row(500, when=t)) for t in ODD_DAYS},
    **{f"customer_id {c!r}": around(row(500, customer=c)) for c in ODD_CUSTOMERS},
    **{f"item_name {n!r}": around(row(500, name=n)) for n in ODD_NAMES},
    f"item_name of {MAX_FIELD} bytes in fewer characters": around(row(500, name="a" + "é" * (MAX_FIELD // 2 - 1))),
    "uppercase UUIDs": HEADER + b"".join(row(n, upper=True) for n in range(100)) + clean(100, 100),
    "unhyphenated UUIDs": around(row(500).replace(str(uuid.UUID(int=500)).encode(), uuid.UUID(int=500).hex.encode())),
    "wrong field counts": around(row(500)[:-1] + b",extra\n", b"x\n"),
    "no newline at the end": HEADER + clean(0, 200) + row(200)[:-1],
    "header only": HEADER,
    "header without a newline": HEADER[:-1],
    "empty": b"",
    "header in another order": b"item_id,order_id,customer_id,item_name,delivered_on\n" + clean(0, 100),
    "header with spaces": b"order_id, customer_id,item_id,item_name,delivered_on\n" + clean(0, 100),
    "header with an extra column": HEADER[:-1] + b",note\n" + clean(0, 100),
    "header lacking a column": b"order_id,customer_id,item_id,item_name\n" + clean(0, 100),
    "blank lines before the header": b"\n\n" + HEADER + clean(0, 100),
}


def landed(data: bytes, chunk: int, fast: bool, window: Window = WINDOW, gz: bool = False):
    """What `land` writes for one file: the data CSV's bytes, the good rows, the rejects and their CSV."""
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    if gz:
        packed = gzip.compress(data)
        pieces = gunzip([packed[i : i + chunk] for i in range(0, len(packed), chunk)])
    rejects: list[Rejected] = []

    def keep(items):
        for item in items:
            if isinstance(item, Rejected):
                rejects.append(item)
            yield item

    data_out, rejects_out, tally = io.BytesIO(), io.BytesIO(), Tally()
    data_csv, rejects_csv = landing._csv_writer(data_out), landing._csv_writer(rejects_out)
    data_csv.writerow(orders_bucket.COLUMNS)
    rows = parse_rows(window, WHERE, pieces, fast=fast)
    landing._stream("orders", window, keep(rows), data_csv, data_out, rejects_csv, tally)
    return data_out.getvalue(), tally.good, rejects, rejects_out.getvalue()


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("case", list(CASES))
def test_the_fast_path_lands_what_the_row_by_row_path_lands(case, chunk):
    data = CASES[case]
    if data.startswith(HEADER + clean(0, 100)) and chunk <= 4096:
        first = next(parse_rows(WINDOW, WHERE, [data[i : i + chunk] for i in range(0, len(data), chunk)]))
        assert isinstance(first, Block), "the clean start took the fast path"
    fast, slow = landed(data, chunk, fast=True), landed(data, chunk, fast=False)
    assert fast[0] == slow[0], "the same data CSV, byte for byte"
    assert fast[1:] == slow[1:], "the same good rows count, rejects and rejects CSV"
    unquoted = re.sub(rb'"(?:[^"]|"")*"', b"", fast[0])
    assert b"\n" not in unquoted.replace(b"\r\n", b""), "one line end in the data CSV, as COPY needs"


@pytest.mark.parametrize("chunk", [1, 64, 65536])
def test_overlong_lines_go_the_row_by_row_way(monkeypatch, chunk):
    monkeypatch.setattr(orders_bucket, "MAX_LINE", 2000)  # still above the longest clean line
    for data in [
        HEADER + clean(0, 50) + b"z" * 5000 + b"\n" + clean(50, 50),
        HEADER + clean(0, 50) + row(50, name="y" * 1950) + clean(51, 50),  # long, but not over in every chunking
        HEADER + clean(0, 50) + "é".encode() * 1500 + b"\n" + clean(50, 50),  # over in bytes, not in characters
        HEADER + clean(0, 50) + b"z" * 5000,
        b"z" * 5000 + b"\n" + HEADER + clean(0, 5),
    ]:
        assert landed(data, chunk, fast=True) == landed(data, chunk, fast=False)


@pytest.mark.parametrize("chunk", [1, 64, 105, 4096])
def test_a_line_limit_below_clean_lines_agrees_too(monkeypatch, chunk):
    monkeypatch.setattr(orders_bucket, "MAX_LINE", 100)  # lines of 103 bytes: some chunk ends leave 101 pending
    data = HEADER + b"".join(row(n) for n in range(200))
    assert landed(data, chunk, fast=True) == landed(data, chunk, fast=False)


def test_an_overlong_line_is_never_held_whole(monkeypatch):
    monkeypatch.setattr(orders_bucket, "MAX_LINE", 2000)
    data = HEADER + clean(0, 5) + b"z" * 100_000 + b"\n" + clean(5, 5)
    chunks = iter([data[i : i + 64] for i in range(0, len(data), 64)])
    fast = orders_bucket._CleanBlocks(orders_bucket._block_pattern(WINDOW, MAX_FIELD), chunks)
    blocks = list(fast)
    assert sum(block.rows for block in blocks) == 5 and fast.lines == 6
    assert 2000 < sum(len(piece) for piece in fast.rest) <= 2000 + 64, "handed over once past the limit"
    assert next(chunks), "the rest is left to the row-by-row path"


def test_a_gzip_stream_takes_the_fast_path_too():
    for data in [CASES["all clean"], CASES["bad rows sprinkled"], CASES["bom"]]:
        assert landed(data, 50, fast=True, gz=True) == landed(data, 50, fast=False)
    items = list(parse_rows(WINDOW, WHERE, gunzip([gzip.compress(CASES["all clean"])])))
    assert items and all(isinstance(item, Block) for item in items)


def test_a_window_across_midnight_spells_both_days():
    window = Window(dt.datetime(2024, 1, 1, 23, 50), 15)
    good = row(1, when="2024-01-01 23:59:59") + row(2, when="2024-01-02T00:04")
    data = HEADER + good + row(3, when="2024-01-02") + row(4, when="2024-01-02 00:05")
    for chunk in CHUNKS:
        assert landed(data, chunk, fast=True, window=window) == landed(data, chunk, fast=False, window=window)
    assert list(parse_rows(window, WHERE, [HEADER + good])) == [Block(good, 2)]


def test_a_clean_file_is_copied_in_blocks_without_parsing_rows():
    body = clean(0, 5000)
    chunk = 4096
    data = b"\xef\xbb\xbf" + HEADER + body
    items = list(parse_rows(WINDOW, WHERE, [data[i : i + chunk] for i in range(0, len(data), chunk)]))
    assert all(isinstance(item, Block) for item in items), "no row went the row-by-row way"
    assert len(items) == -(-len(data) // chunk), "a block per chunk"
    assert sum(item.rows for item in items) == 5000 and b"".join(item.data for item in items) == body


def test_ten_digit_customer_ids_inside_int4_stay_on_the_fast_path():
    ids = ["1000000000", "1999999999", "2099999999", "2147483647", "-2147483647", "2147483599"]
    body = b"".join(row(n, customer=c) for n, c in enumerate(ids))
    items = list(parse_rows(WINDOW, WHERE, [HEADER + body]))
    assert items == [Block(body, len(ids))]


@pytest.mark.parametrize(
    "window",
    [Window(dt.datetime(2024, 1, 1, 10, 0), 120), Window(dt.datetime(2024, 1, 1, 10, 0, 30), 5)],
    ids=["over an hour", "off the minute"],
)
def test_windows_the_fast_path_cannot_spell_go_row_by_row(window):
    data = HEADER + clean(0, 10)
    items = list(parse_rows(window, WHERE, [data]))
    assert items and not any(isinstance(item, Block) for item in items)


def test_progress_is_logged_as_blocks_land(monkeypatch, caplog):
    monkeypatch.setattr(landing, "PROGRESS_EVERY", 100)
    with caplog.at_level(logging.INFO, logger="storepipe.lake.landing"):
        landed(HEADER + clean(0, 1000), 4096, fast=True)
    logged = [r.getMessage() for r in caplog.records if "rows landed" in r.getMessage()]
    assert 6 <= len(logged) <= 10, logged


# --- property: clean lines with arbitrary damage ------------------------------------------------

_damage = st.sampled_from([bytes([c]) for c in b'",\r\n\x00\xff\xc3 \tAf9-+:.T5'] + [b"", b"\xc3\xa9", b"\xef\xbb\xbf"])
_names = st.one_of(
    st.sampled_from(["chair", "é", "a b", "x" * 40, "Relógio rosa", "7"]),
    st.text(st.sampled_from('ab é☕"\r\n\t,\x00\x0b\x1c\x85\u3000\ufeff\udcff!~'), max_size=5),
)
_times = st.builds(
    lambda second, suffix: str(WINDOW.start + dt.timedelta(seconds=second)) + suffix,
    st.integers(-2, WINDOW.minutes * 60 + 2),
    st.sampled_from(["", "", "", ".5", ".123456", ".1234567", ".", "Z", " ", "+00:00", "\r"]),
)
_lines = st.lists(
    st.tuples(
        st.integers(0, 10**6),
        _names,
        st.one_of(st.integers(-(10**10), 10**10).map(str), st.sampled_from(["+1", "-0", "007", "1e3", " 1", ""])),
        _times,
        st.one_of(st.none(), st.none(), st.tuples(st.integers(0, 200), st.integers(0, 3), _damage)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines, st.sampled_from([1, 3, 7, 64, 4096]), st.booleans())
def test_fuzz_the_fast_path_agrees_with_the_row_by_row_path(lines, chunk, bom):
    data = b"\xef\xbb\xbf" + HEADER if bom else HEADER
    for n, name, customer, when, damage in lines:
        line = row(n, name=name, customer=customer, when=when.replace(" ", "T", n % 2))
        if damage:
            at, cut, put = damage
            at %= len(line)
            line = line[:at] + put + line[at + cut :]
        data += line
    assert landed(data, chunk, fast=True) == landed(data, chunk, fast=False)

"""Order files are parsed and validated line by line: each kind of bad input has its one outcome."""

import csv
import datetime as dt
import gzip
import io
import uuid
import zlib

import luigi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storepipe.lake.landing import Tally, verdict
from storepipe.rows import FLAGGED, RAW_LIMIT, SOURCES, Block, Rejected
from storepipe.sources import orders_bucket
from storepipe.sources.orders_bucket import MAX_FIELD, gunzip, parse_rows
from storepipe.sources.risk_api import _retry_after
from storepipe.window import Window

WINDOW = Window(dt.datetime(2024, 1, 1, 10, 0), 5)
HEADER = b"order_id,customer_id,item_id,item_name,delivered_on\n"


def row(n: int, name: str = "chair", customer: str = "42", when: str = "2024-01-01 10:03:00") -> bytes:
    order_id, item_id = uuid.UUID(int=n), uuid.UUID(int=10**6 + n)
    return f"{order_id},{customer},{item_id},{name},{when}\n".encode()


def parse(data: bytes, chunk: int = 7) -> tuple[list[tuple], list[Rejected]]:
    """Parse in small chunks, so every case also crosses chunk boundaries; a fast-path `Block` counts as its rows."""
    out = list(parse_rows(WINDOW, "s3://b/k.csv", [data[i : i + chunk] for i in range(0, len(data), chunk)]))
    good = [row for r in out if not isinstance(r, Rejected) for row in (block_rows(r) if isinstance(r, Block) else [r])]
    return good, [r for r in out if isinstance(r, Rejected)]


def block_rows(block: Block) -> list[tuple]:
    """A block's lines hold no quotes, so splitting on commas reads them as csv would."""
    return [tuple(line.split(",")) for line in block.data.decode().split("\n")[:-1]]


def one_bad(line: bytes) -> Rejected:
    """A bad line between two good rows: both good rows load, the bad one is quarantined at line 3."""
    good, bad = parse(HEADER + row(1) + line + row(2))
    assert [g[0] for g in good] == [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]
    assert len(bad) == 1 and bad[0].location == "s3://b/k.csv:3", bad
    return bad[0]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"a,b,c\n", "expected 5 fields, found 3"),
        (row(3)[:-1] + b",extra\n", "expected 5 fields, found 6"),
        (row(3).replace(str(uuid.UUID(int=3)).encode(), b"order-3"), "order_id 'order-3' is not a UUID"),
        (row(3).replace(str(uuid.UUID(int=10**6 + 3)).encode(), b"123"), "item_id '123' is not a UUID"),
        (row(3, customer="4x2"), "customer_id '4x2' is not an integer"),
        (row(3, customer="3.5"), "customer_id '3.5' is not an integer"),
        (row(3, customer="2147483648"), "outside the integer range"),
        (row(3, when="yesterday"), "delivered_on 'yesterday' is not a timestamp"),
        (row(3, when="2024-13-01 10:03:00"), "is not a valid date"),
        (row(3, when="2024-01-01 10:05:00"), "outside window"),
        (row(3, when="2024-01-01 09:59:59"), "outside window"),
        (row(3, name=""), "item_name is empty"),
        (row(3, name="x" * (MAX_FIELD + 1)), f"longer than {MAX_FIELD} characters"),
        (row(3, name="ch\x00air"), "NUL byte"),
        (row(3).replace(b"chair", b"ch\xff\xfeair"), "not UTF-8"),
        (row(3).replace(b"chair", b"caf\xc3"), "not UTF-8"),
        (b'x,"a\rb",c\rd\n', "not valid CSV"),
    ],
)
def test_each_bad_line_is_quarantined_with_its_reason(line, reason):
    assert reason in one_bad(line).reason


def test_quarantined_raw_text_shows_bad_bytes_escaped():
    rejected = one_bad(row(3).replace(b"chair", b"ch\xffa\x00ir"))
    assert rejected.as_row("orders")[3].endswith(r"ch\xffa\x00ir,2024-01-01 10:03:00")
    long = Rejected("here", "why", "y" * (RAW_LIMIT + 10))
    assert len(long.as_row("orders")[3]) == RAW_LIMIT + 1


def test_blank_lines_bom_and_crlf_are_not_errors():
    data = b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n") + b"\r\n" + row(1).replace(b"\n", b"\r\n")
    good, bad = parse(data + b"   \n\n" + row(2) + b"\n")
    assert len(good) == 2 and bad == []
    assert good[0][4] == "2024-01-01 10:03:00", "no stray carriage return"


def test_quoted_fields_keep_commas_quotes_and_newlines():
    name = 'Chair, "deluxe"\nwith arms'
    quoted = '"' + name.replace('"', '""') + '"'
    good, bad = parse(HEADER + row(1, name=quoted) + row(2))
    assert bad == [] and [g[3] for g in good] == [name, "chair"]


def test_valid_utf8_is_not_mistaken_for_bad_bytes():
    good, bad = parse(HEADER + row(1, name="Garrafa térmica ☕"), chunk=3)
    assert bad == [] and good[0][3] == "Garrafa térmica ☕"


def test_text_that_looks_like_sql_is_just_a_name():
    good, bad = parse(HEADER + row(1, name="'); drop table store.orders; --"))
    assert bad == [] and good[0][3] == "'); drop table store.orders; --"


def test_a_stray_quote_does_not_swallow_the_rows_after_it():
    good, bad = parse(HEADER + row(1) + b'oops,"never closed\n' + row(2) + row(3) + b'end"\n' + row(4))
    assert sorted(g[0] for g in good) == [str(uuid.UUID(int=n)) for n in (1, 2, 3, 4)]
    assert [b.location for b in bad] == ["s3://b/k.csv:3", "s3://b/k.csv:6"]


def test_a_multiline_record_that_is_bad_stays_one_entry():
    good, bad = parse(HEADER + row(1, name='"two\nlines"', when="2030-01-01 00:00") + row(2))
    assert len(good) == 1 and len(bad) == 1
    assert bad[0].location == "s3://b/k.csv:2-3" and "outside window" in bad[0].reason


def test_header_is_read_by_name_and_extra_columns_are_ignored(caplog):
    header = b"Delivered_On, item_name ,note,customer_id,item_id,order_id\n"
    line = f"2024-01-01 10:01,lamp,whatever,7,{uuid.UUID(int=9)},{uuid.UUID(int=8)}\n".encode()
    good, bad = parse(header + line)
    assert bad == [] and good == [(str(uuid.UUID(int=8)), "7", str(uuid.UUID(int=9)), "lamp", "2024-01-01 10:01")]
    assert "ignoring unknown columns ['note']" in caplog.text


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"order_id,customer_id,item_id,item_name\n", "lacks required columns ['delivered_on']"),
        (b"order_id,order_id,customer_id,item_id,item_name,delivered_on\n", "repeats columns ['order_id']"),
        (b"\x00\x01\x02\n", "lacks required columns"),
    ],
)
def test_an_unusable_header_sets_the_whole_file_aside_and_fails_the_window(header, reason):
    good, bad = parse(header + row(1))
    assert good == [] and len(bad) == 1
    assert bad[0].location == "s3://b/k.csv" and reason in bad[0].reason and bad[0].fails_window


@pytest.mark.parametrize("data", [b"", HEADER, b"\n\n", b"\xef\xbb\xbf" + HEADER + b"\r\n"])
def test_empty_files_and_header_only_files_yield_nothing(data):
    assert parse(data) == ([], [])


def test_a_line_over_the_limit_is_skipped_without_holding_it(monkeypatch):
    monkeypatch.setattr(orders_bucket, "MAX_LINE", 100)
    good, bad = parse(HEADER + row(1) + b"z" * 1000 + b"\n" + row(2), chunk=64)
    assert len(good) == 2 and len(bad) == 1
    assert "longer than 100 characters" in bad[0].reason and bad[0].raw.startswith("zzz")


def test_gzip_streams_in_pieces_and_a_cut_one_is_an_error():
    data = HEADER + b"".join(row(n) for n in range(200))
    packed = gzip.compress(data)
    assert b"".join(gunzip([packed[i : i + 50] for i in range(0, len(packed), 50)])) == data
    assert b"".join(gunzip([packed + gzip.compress(b"more")])) == data + b"more"
    with pytest.raises(zlib.error, match="truncated"):
        b"".join(gunzip([packed[: len(packed) // 2]]))
    with pytest.raises(zlib.error):
        b"".join(gunzip([b"this is not gzip at all"]))


def test_threshold_and_unreadable_files_decide_the_window():
    assert verdict("orders", WINDOW, Tally(good=90, bad=10), 0.1) is None
    over = verdict("orders", WINDOW, Tally(good=89, bad=11), 0.1)
    assert "11 of 100 orders rows were rejected (11%, limit 10%)" in str(over)
    tally = Tally(good=100)
    tally.count(Rejected("s3://b/k.csv", "header lacks required columns", "", fails_window=True))
    tally.count(Rejected("customers customer_id=1", "odd", "", action=FLAGGED))
    assert (tally.bad, tally.flagged) == (1, 1)
    assert "s3://b/k.csv: header lacks required columns" in str(verdict("orders", WINDOW, tally, 0.5))


def test_each_source_reads_its_threshold_from_its_own_section():
    parser = luigi.configuration.get_config()
    shares = {"customer_db": "0.01", "orders_bucket": "0.2", "risk_api": "0.5"}
    saved = {section: parser.get(section, "max_bad_share", None) for section in shares}
    try:
        for section, share in shares.items():
            parser.set(section, "max_bad_share", share)
        luigi.task_register.Register.clear_instance_cache()
        assert [SOURCES[s].max_bad_share for s in ("customers", "orders", "risk_scores")] == [0.01, 0.2, 0.5]
    finally:
        for section, share in saved.items():
            if share is None:
                parser.remove_option(section, "max_bad_share")
            else:
                parser.set(section, "max_bad_share", share)
        luigi.task_register.Register.clear_instance_cache()


def test_retry_after_reads_seconds_and_http_dates():
    assert _retry_after("3") == 3.0
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0, "a date in the past means now"
    assert _retry_after("soon") is None and _retry_after(None) is None


# --- property: arbitrary bad lines among valid rows -------------------------------------------

_valid_rows = st.lists(
    st.tuples(
        st.uuids(),
        st.integers(min_value=0, max_value=2**31 - 1),
        st.uuids(),
        st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip),
        st.integers(min_value=0, max_value=WINDOW.minutes * 60 - 1),
    ),
    max_size=12,
    unique_by=lambda r: r[0],
)
# arbitrary bytes, and bytes rich in what CSV and UTF-8 find hard (quotes, commas, CR, NUL,
# cut sequences); each bad line holds a letter so that none is blank
_hard_bytes = st.lists(
    st.sampled_from([b'"', b",", b'",', b',"', b"\r", b"\x00", b"\xff", b"\xc3", b"\xef\xbb\xbf", b" ", b"a", b"7"]),
    max_size=12,
).map(b"".join)
_some_bytes = st.one_of(st.binary(max_size=40), _hard_bytes).map(lambda b: b.replace(b"\n", b""))
_bad_lines = st.builds(lambda a, b: a + b"Q" + b, _some_bytes, _some_bytes)


def valid_line(window, order_id, customer_id, item_id, name, second) -> bytes:
    when = window.start + dt.timedelta(seconds=second)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([order_id, customer_id, item_id, name.replace("\n", " "), when])
    return out.getvalue().encode()


def lines_covered(location: str) -> int:
    first, _, last = location.rpartition(":")[2].partition("-")
    return int(last or first) - int(first) + 1


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_valid_rows, st.lists(_bad_lines, max_size=8), st.randoms(use_true_random=False))
def test_fuzz_valid_rows_survive_any_bad_lines(valid, bad, rnd):
    lines = [valid_line(WINDOW, *v) for v in valid] + [b + b"\n" for b in bad]
    rnd.shuffle(lines)
    data = HEADER + b"".join(lines)
    good, rejected = parse(data, chunk=rnd.choice([5, 64, 4096]))
    expected = {str(v[0]) for v in valid}
    assert sorted(g[0] for g in good) == sorted(expected), "every valid row exactly once"
    assert sum(lines_covered(r.location) for r in rejected) == len(bad), "every other line quarantined"
    assert len(good) + len(bad) + 1 == data.count(b"\n")

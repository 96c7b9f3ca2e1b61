"""Bad order files planted in the bucket: each bad thing is quarantined or refused, and the valid rows load."""

import datetime as dt
import gzip
import logging
import uuid

import luigi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storepipe import config
from storepipe.errors import TooManyBadRows, UnreadableFile
from storepipe.sources.orders_bucket import MAX_FIELD
from storepipe.tasks import ExtractOrders, LoadOrders
from storepipe.window import Window
from tests.helpers import never_extracted, query, run_windows
from tests.unit.test_row_validation import _bad_lines as bad_lines
from tests.unit.test_row_validation import _valid_rows as valid_rows
from tests.unit.test_row_validation import lines_covered, valid_line

HEADER = b"order_id,customer_id,item_id,item_name,delivered_on\n"


def order_line(window: Window, n: int, name: str = "chair", customer: str = "42", when: str | None = None) -> bytes:
    when = when or f"{window.start + dt.timedelta(seconds=n % 300):%Y-%m-%d %H:%M:%S}"
    return f"{uuid.UUID(int=n)},{customer},{uuid.UUID(int=10**9 + n)},{name},{when}\n".encode()


def plant(pipeline, window: Window, name: str, body: bytes, minute: int = 0) -> str:
    """Put an object under one of the window's minute prefixes; returns its s3:// location."""
    key = f"orders/{window.start + dt.timedelta(minutes=minute):%Y/%m/%d/%H/%M}/{name}"
    pipeline.s3().put_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=key, Body=body)
    return f"s3://{pipeline.env['ORDERS_BUCKET']}/{key}"


def load_orders(window: Window) -> luigi.LuigiStatusCode:
    luigi.task_register.Register.clear_instance_cache()
    return luigi.build(
        [LoadOrders(window=window)], local_scheduler=True, detailed_summary=True, log_level="WARNING"
    ).status


def loaded_ids(pipeline, window: Window) -> list[str]:
    rows = query(
        pipeline.warehouse_url, "select order_id::text from store.orders where window_start = %s", (window.start,)
    )
    return sorted(r[0] for r in rows)


def quarantined(pipeline, window: Window) -> list[tuple]:
    return query(
        pipeline.warehouse_url,
        "select location, reason, raw, action from storepipe.quarantine"
        " where source = 'orders' and window_start = %s order by quarantine_id",
        (window.start,),
    )


def markers(pipeline, window: Window) -> list[str]:
    rows = query(
        pipeline.warehouse_url, "select task_name from storepipe.markers where window_start = %s", (window.start,)
    )
    return sorted(r[0] for r in rows)


def ids(*numbers: int) -> list[str]:
    return sorted(str(uuid.UUID(int=n)) for n in numbers)


# bad line -> what its quarantine row says; each goes in its own file, between valid rows
LINE_CASES = {
    "too-few-fields": (b"a,b,c\n", "expected 5 fields, found 3"),
    "too-many-fields": (b"%s,%s,a,b,c,d\n" % (uuid.uuid4().bytes.hex().encode(), b"1"), "expected 5 fields, found 6"),
    "order-id-not-uuid": (b"order-1,42,%s,chair,{when}\n" % str(uuid.uuid4()).encode(), "order_id 'order-1'"),
    "item-id-not-uuid": (b"%s,42,123,chair,{when}\n" % str(uuid.uuid4()).encode(), "item_id '123' is not a UUID"),
    "customer-not-integer": ("{order},4x2,{item},chair,{when}\n", "customer_id '4x2' is not an integer"),
    "customer-over-int4": ("{order},2147483648,{item},chair,{when}\n", "outside the integer range"),
    "delivered-unparseable": ("{order},42,{item},chair,soon\n", "delivered_on 'soon' is not a timestamp"),
    "delivered-impossible": ("{order},42,{item},chair,2024-02-30 10:00\n", "is not a valid date"),
    "delivered-out-of-window": ("{order},42,{item},chair,2019-01-01 00:00:00\n", "outside window"),
    "nul-byte": ("{order},42,{item},ch\x00air,{when}\n", "NUL byte"),
    "not-utf8": (b"{order},42,{item},ch\xff\xfeair,{when}\n", "not UTF-8"),
    "field-too-long": ("{order},42,{item}," + "x" * (MAX_FIELD + 1) + ",{when}\n", "longer than"),
    "item-name-empty": ("{order},42,{item},,{when}\n", "item_name is empty"),
    "bare-carriage-return": ("{order},42,{item},a\rb,{when}\n", "not valid CSV"),
}


def bad_line(window: Window, template: bytes | str) -> bytes:
    text = template if isinstance(template, bytes) else template.encode()
    when = f"{window.start + dt.timedelta(minutes=1):%Y-%m-%d %H:%M:%S}".encode()
    return (
        text.replace(b"{order}", str(uuid.uuid4()).encode())
        .replace(b"{item}", str(uuid.uuid4()).encode())
        .replace(b"{when}", when)
    )


def test_each_bad_line_is_quarantined_and_the_rest_of_its_file_loads(pipeline):
    window = pipeline.window(0)
    where, expected = {}, []
    for i, (case, (template, _)) in enumerate(LINE_CASES.items()):
        numbers = range(i * 100, i * 100 + 20)
        lines = [order_line(window, n) for n in numbers]
        body = HEADER + b"".join(lines[:10]) + bad_line(window, template) + b"".join(lines[10:])
        where[case] = plant(pipeline, window, f"{case}.csv", body, minute=i % 5)
        expected += numbers

    assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert loaded_ids(pipeline, window) == ids(*expected), "every valid row, exactly once"
    rows = quarantined(pipeline, window)
    assert len(rows) == len(LINE_CASES)
    for case, (_, reason) in LINE_CASES.items():
        found = [r for r in rows if r[0] == f"{where[case]}:12"]
        assert len(found) == 1 and reason in found[0][1], (case, found)
        assert found[0][3] == "rejected"
    nul = next(r for r in rows if r[0].startswith(where["nul-byte"]))
    assert "ch\\x00air" in nul[2], "the raw text shows the NUL it could not store"
    not_utf8 = next(r for r in rows if r[0].startswith(where["not-utf8"]))
    assert "ch\\xff\\xfeair" in not_utf8[2]


def test_bom_crlf_blank_lines_quoted_fields_and_sql_text_load_exactly(pipeline):
    window = pipeline.window(0)
    names = {
        1: 'Chair, "deluxe"\nwith arms',
        2: "'); drop table store.orders; --",
        3: "Garrafa térmica ☕",
        4: "plain",
    }
    quoted = {n: '"' + name.replace('"', '""') + '"' for n, name in names.items()}
    body = b"\xef\xbb\xbf" + HEADER.replace(b"\n", b"\r\n") + b"\r\n\r\n"
    for n in names:
        body += order_line(window, n, name=quoted[n])[:-1] + b"\r\n   \n\n"
    plant(pipeline, window, "messy.csv", body)

    assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert quarantined(pipeline, window) == []
    loaded = query(
        pipeline.warehouse_url,
        "select order_id::text, item_name, delivered_on from store.orders where window_start = %s",
        (window.start,),
    )
    assert {r[0]: r[1] for r in loaded} == {str(uuid.UUID(int=n)): name for n, name in names.items()}
    assert all(window.start <= r[2] < window.end for r in loaded)


def test_a_truncated_gzip_fails_the_window_until_it_is_replaced_whole(pipeline):
    window = pipeline.window(0)
    big = HEADER + b"".join(order_line(window, n, name=f"item {uuid.uuid4()}") for n in range(3000))
    plant(pipeline, window, "big.csv.gz", gzip.compress(big))  # several 64 KiB chunks
    packed = gzip.compress(HEADER + b"".join(order_line(window, n) for n in range(5000, 5300)))
    cut = plant(pipeline, window, "cut.csv.gz", packed[: len(packed) * 2 // 3], minute=1)

    assert load_orders(window) == luigi.LuigiStatusCode.FAILED
    assert markers(pipeline, window) == [] and loaded_ids(pipeline, window) == [], "not even the good file"
    [row] = quarantined(pipeline, window)
    assert row[0] == cut and "truncated" in row[1] and row[3] == "rejected"
    luigi.task_register.Register.clear_instance_cache()
    with pytest.raises(
        UnreadableFile, match=r"^orders: a file cannot be read: s3://\S+/cut\.csv\.gz: not a complete gzip"
    ):
        ExtractOrders(window=window).run()

    # the producer uploads it again, whole: the next run takes the window with every row
    plant(pipeline, window, "cut.csv.gz", packed, minute=1)
    assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert loaded_ids(pipeline, window) == ids(*range(3000), *range(5000, 5300))
    assert quarantined(pipeline, window) == []


def test_suffixes_match_in_any_case_and_markers_are_ignored_but_listed(pipeline):
    window = pipeline.window(0)
    plant(pipeline, window, "part-000.CSV", HEADER + order_line(window, 1))
    plant(pipeline, window, "part-001.Csv.GZ", gzip.compress(HEADER + order_line(window, 2)))
    marker = plant(pipeline, window, "_SUCCESS", b"")
    hidden = plant(pipeline, window, ".part-002.csv.crc", b"\x00\x01", minute=1)

    assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert loaded_ids(pipeline, window) == ids(1, 2)
    rows = quarantined(pipeline, window)
    assert sorted((r[0], r[3]) for r in rows) == sorted([(marker, "flagged"), (hidden, "flagged")])
    assert all("ignored" in r[1] for r in rows)


def test_an_unknown_object_fails_the_window_rather_than_counting_as_one_row(pipeline):
    window = pipeline.window(0)
    plant(pipeline, window, "orders.csv", HEADER + b"".join(order_line(window, n) for n in range(100)))
    notes = plant(pipeline, window, "orders-2024.txt", HEADER + order_line(window, 500), minute=2)

    assert load_orders(window) == luigi.LuigiStatusCode.FAILED
    [row] = quarantined(pipeline, window)
    assert row[0] == notes and "not a .csv or .csv.gz object" in row[1]
    pipeline.s3().delete_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=notes.split("/", 3)[3])
    assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert loaded_ids(pipeline, window) == ids(*range(100))


def test_empty_and_header_only_files_add_nothing(pipeline):
    window = pipeline.window(0)
    plant(pipeline, window, "empty.csv", b"")
    plant(pipeline, window, "header-only.csv", HEADER)
    plant(pipeline, window, "empty.csv.gz", gzip.compress(b""))
    plant(pipeline, window, "rows.csv", HEADER + order_line(window, 1) + order_line(window, 2))

    assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert loaded_ids(pipeline, window) == ids(1, 2)
    assert quarantined(pipeline, window) == []


def test_columns_are_read_by_name_and_unknown_ones_ignored_with_a_warning(pipeline, caplog):
    window = pipeline.window(0)
    header = b"delivered_on,Item_Name,coupon,customer_id,item_id,order_id\n"
    when = f"{window.start:%Y-%m-%d %H:%M:%S}"
    line = f"{when},lamp,SAVE10,7,{uuid.UUID(int=99)},{uuid.UUID(int=98)}\n".encode()
    location = plant(pipeline, window, "reordered.csv", header + line)

    with caplog.at_level(logging.WARNING, logger="storepipe"):
        assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    loaded = query(
        pipeline.warehouse_url, "select order_id::text, customer_id, item_id::text, item_name from store.orders"
    )
    assert loaded == [(str(uuid.UUID(int=98)), 7, str(uuid.UUID(int=99)), "lamp")]
    assert f"{location}: ignoring unknown columns ['coupon']" in caplog.text


def test_a_missing_required_column_quarantines_the_file_and_fails_the_window(pipeline):
    window = pipeline.window(0)
    plant(pipeline, window, "good.csv", HEADER + order_line(window, 1))
    broken = plant(pipeline, window, "broken.csv", b"order_id,customer_id,item_id,item_name\n1,2,3,4\n", minute=3)

    assert load_orders(window) == luigi.LuigiStatusCode.FAILED
    assert markers(pipeline, window) == [], "nothing is marked complete"
    assert loaded_ids(pipeline, window) == []
    rows = quarantined(pipeline, window)
    assert [r[0] for r in rows] == [broken] and "lacks required columns ['delivered_on']" in rows[0][1]

    luigi.task_register.Register.clear_instance_cache()
    with pytest.raises(
        UnreadableFile, match=r"orders: a file cannot be read: s3://.*broken.csv: header lacks required columns"
    ):
        ExtractOrders(window=window).run()

    # fixed at the source: the window completes and its quarantine rows are replaced
    pipeline.s3().delete_object(Bucket=pipeline.env["ORDERS_BUCKET"], Key=broken.split("/", 3)[3])
    assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert loaded_ids(pipeline, window) == ids(1)
    assert quarantined(pipeline, window) == []


def test_over_the_threshold_the_window_fails_and_says_why(pipeline):
    window = pipeline.window(0)
    body = HEADER + b"".join(order_line(window, n) for n in range(8)) + b"bad\n" * 2
    plant(pipeline, window, "mostly-good.csv", body)

    luigi.task_register.Register.clear_instance_cache()
    with pytest.raises(TooManyBadRows, match=r"2 of 10 orders rows were rejected \(20%, limit 10%\)"):
        ExtractOrders(window=window).run()
    assert markers(pipeline, window) == []
    assert len(quarantined(pipeline, window)) == 2, "the rejects are visible even though the window failed"


def test_under_the_threshold_the_window_completes_with_a_warning(pipeline, caplog):
    window = pipeline.window(0)
    plant(pipeline, window, "a.csv", HEADER + b"".join(order_line(window, n) for n in range(19)) + b"bad\n")

    with caplog.at_level(logging.WARNING, logger="storepipe"):
        assert load_orders(window) == luigi.LuigiStatusCode.SUCCESS
    assert "1 of 20 rows quarantined (under the 10% limit)" in caplog.text
    assert len(loaded_ids(pipeline, window)) == 19 and len(quarantined(pipeline, window)) == 1


def test_duplicate_order_ids_keep_one_row_by_the_documented_rule(pipeline):
    window = pipeline.window(0)
    pipeline.generate(window, customers=2, orders=0)
    at = window.start + dt.timedelta(minutes=1)
    later = f"{at + dt.timedelta(minutes=2):%Y-%m-%d %H:%M:%S}"
    same = f"{at:%Y-%m-%d %H:%M:%S}"
    order = uuid.UUID(int=7)
    lines = [
        f"{order},1,{uuid.UUID(int=30)},first,{same}\n",
        f"{order},1,{uuid.UUID(int=20)},latest delivery wins,{later}\n",  # same file
    ]
    plant(pipeline, window, "a.csv", HEADER + "".join(lines).encode())
    plant(pipeline, window, "b.csv", HEADER + f"{order},1,{uuid.UUID(int=10)},other file,{same}\n".encode(), minute=2)
    tie = uuid.UUID(int=8)  # same delivery: the lowest item_id wins
    plant(
        pipeline,
        window,
        "c.csv",
        HEADER + f"{tie},1,{uuid.UUID(int=41)},b,{same}\n{tie},1,{uuid.UUID(int=40)},a,{same}\n".encode(),
        minute=3,
    )

    assert run_windows(window) == luigi.LuigiStatusCode.SUCCESS
    url = pipeline.warehouse_url
    assert query(url, "select count(*) from store.orders where order_id = %s", (str(order),))[0][0] == 3
    facts = query(url, "select order_id::text, item_name from analytics.fct_orders order by order_id")
    assert facts == [(str(order), "latest delivery wins"), (str(tie), "a")]


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(valid=valid_rows, bad=st.lists(bad_lines, min_size=1, max_size=6), rnd=st.randoms(use_true_random=False))
def test_fuzz_every_valid_row_loads_once_and_every_other_line_is_quarantined(pipeline, monkeypatch, valid, bad, rnd):
    window = pipeline.window(0)
    monkeypatch.setattr(config.orders_bucket(), "max_bad_share", 1.0)  # every mix must load, however bad
    monkeypatch.setenv("LAKE_URL", f"{pipeline.env['LAKE_URL']}/{uuid.uuid4()}")  # a fresh lake copy per example
    never_extracted(pipeline.warehouse_url, window)
    lines = [valid_line(window, *v) for v in valid] + [b + b"\n" for b in bad]
    rnd.shuffle(lines)
    data = HEADER + b"".join(lines)
    plant(pipeline, window, "fuzz.csv", data)

    ExtractOrders(window=window).run()
    LoadOrders(window=window).run()

    assert loaded_ids(pipeline, window) == sorted(str(v[0]) for v in valid), "every valid row exactly once"
    rows = quarantined(pipeline, window)
    assert sum(lines_covered(r[0]) for r in rows) == len(bad), "every other line is in quarantine"
    assert len(valid) + len(bad) + 1 == data.count(b"\n"), "and the counts add up to the lines in the file"

"""Order rows are validated one by one; a bad row becomes a reason, a good one a clean tuple (via `parse_rows`)."""

import datetime as dt

import pytest

from storepipe.rows import Rejected
from storepipe.sources.orders_bucket import parse_rows
from storepipe.window import Window

WINDOW = Window(dt.datetime(2024, 1, 1, 10, 0), 5)
HEADER = "order_id,customer_id,item_id,item_name,delivered_on"
GOOD = [
    "2f1c6f4e-8d7b-4c1e-9a3e-1b2c3d4e5f60",
    "42",
    "9e8d7c6b-5a49-4382-9170-a1b2c3d4e5f6",
    "chair",
    "2024-01-01 10:03:00",
]


def _parse(*rows: list[str], chunks: list[bytes] | None = None) -> list:
    text = "\n".join([HEADER, *(",".join(row) for row in rows)]) + "\n"
    return list(parse_rows(WINDOW, "s3://b/k.csv", chunks or [text.encode()], fast=False))


def test_good_row_loads_as_a_clean_tuple():
    assert _parse(GOOD) == [tuple(GOOD)]


@pytest.mark.parametrize(
    ("index", "value", "name"),
    [(0, "not-a-uuid", "order_id"), (1, "4x2", "customer_id"), (2, "123", "item_id"), (4, "yesterday", "delivered_on")],
)
def test_each_broken_field_is_named(index, value, name):
    row = list(GOOD)
    row[index] = value
    [rejected] = _parse(row)
    assert isinstance(rejected, Rejected) and name in rejected.reason and rejected.location == "s3://b/k.csv:2"


def test_delivery_outside_the_half_open_window_is_rejected():
    row = list(GOOD)
    row[4] = "2024-01-01 10:05:00"
    [rejected] = _parse(row)
    assert "outside window" in rejected.reason


def test_wrong_field_count_is_rejected():
    [rejected] = _parse(GOOD[:4])
    assert "expected 5 fields, found 4" in rejected.reason


def test_lines_split_across_chunks_are_rejoined_and_bom_dropped():
    row = ",".join(GOOD).encode()
    chunks = [b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n" + row[:10], row[10:] + b"\n"]
    assert _parse(chunks=chunks) == [tuple(GOOD)]

"""Order rows are validated one by one; a bad row becomes a reason, a good one a clean tuple."""

import datetime as dt

from storepipe.sources.orders_bucket import _iter_text_lines, _problem, minute_prefixes
from storepipe.window import Window

WINDOW = Window(dt.datetime(2024, 1, 1, 10, 0), 5)
POSITIONS = [0, 1, 2, 3, 4]
GOOD = [
    "2f1c6f4e-8d7b-4c1e-9a3e-1b2c3d4e5f60",
    "42",
    "9e8d7c6b-5a49-4382-9170-a1b2c3d4e5f6",
    "chair",
    "2024-01-01 10:03:00",
]


def test_good_row_has_no_problem():
    assert _problem(GOOD, 5, POSITIONS, WINDOW) is None


def test_each_broken_field_is_named():
    cases = {
        0: ("not-a-uuid", "order_id"),
        1: ("4x2", "customer_id"),
        2: ("123", "item_id"),
        4: ("yesterday", "delivered_on"),
    }
    for index, (value, name) in cases.items():
        row = list(GOOD)
        row[index] = value
        assert name in _problem(row, 5, POSITIONS, WINDOW)


def test_delivery_outside_the_half_open_window_is_a_problem():
    row = list(GOOD)
    row[4] = "2024-01-01 10:05:00"
    assert "outside window" in _problem(row, 5, POSITIONS, WINDOW)


def test_wrong_field_count_is_a_problem():
    assert "expected 5 fields" in _problem(GOOD[:4], 5, POSITIONS, WINDOW)


def test_lines_split_across_chunks_are_rejoined_and_bom_dropped():
    chunks = [b"\xef\xbb\xbfa,b\r\n1,", b'2\n3,"x\ny"\n4,5']
    assert list(_iter_text_lines(iter(chunks))) == ["a,b\r\n", "1,2\n", '3,"x\n', 'y"\n', "4,5"]


def test_a_window_owns_the_prefixes_of_its_minutes():
    assert minute_prefixes(WINDOW, "orders/") == [f"orders/2024/01/01/10/0{m}/" for m in range(5)]

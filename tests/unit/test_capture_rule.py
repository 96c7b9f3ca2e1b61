"""The capture's window rule (an insert or update by its row's datetime_updated, a delete by its commit
time), the slot per warehouse, and unchanged TOAST values carried forward; no server needed."""

import datetime as dt

from storepipe.rows import Rejected
from storepipe.sources.customer_log import DELETE, INSERT, UNCHANGED_TOAST, UPDATE, Relation
from storepipe.tasks import capture

COLUMNS = ("customer_id", "first_name", "last_name", "state_code", "datetime_created", "datetime_updated")
TABLE = Relation(1, "public", "customers", COLUMNS, ("customer_id",), (23, 25, 25, 25, 1114, 1114))
REORDERED = Relation(1, "public", "customers", COLUMNS[::-1], ("customer_id",), (1114, 1114, 25, 25, 25, 23))
CREATED = "2024-01-01 09:00:00"


def change(op, values, committed_at, relation=TABLE, lsn=100):
    return (op, lsn, committed_at, 7, relation, values, None)


def test_an_update_stamped_before_a_window_end_belongs_to_it_even_if_it_commits_after():
    values = ("1", "Ana", "Souza", "SP", CREATED, "2024-01-01 10:04:59.9")
    late = change(UPDATE, values, dt.datetime(2024, 1, 1, 10, 5, 0))
    assert capture._window_of(late) == dt.datetime(2024, 1, 1, 10, 0)


def test_a_delete_belongs_to_the_window_of_its_commit():
    deleted = change(DELETE, ("1", None, None, None, None, None), dt.datetime(2024, 1, 1, 10, 7, 30))
    assert capture._window_of(deleted) == dt.datetime(2024, 1, 1, 10, 5)


def test_values_are_taken_by_column_name_whatever_the_table_order():
    values = ("2024-01-01 10:12:00", CREATED, "SP", "Souza", "Ana", "1")
    assert capture._window_of(change(INSERT, values, dt.datetime(2024, 1, 1, 11, 0), REORDERED)) == dt.datetime(
        2024, 1, 1, 10, 10
    )


def test_each_warehouse_database_has_its_own_slot():
    # pragma: allowlist nextline secret (a URL parsed, never used)
    url = "postgresql://sde:pw@/warehouse_ab12?host=/tmp/pg"
    assert capture.slot_name(url) == "storepipe_warehouse_ab12"
    assert capture.slot_name("dbname=Warehouse-2") == "storepipe_warehouse_2"


def test_an_unchanged_toast_value_is_carried_from_the_customers_previous_change():
    at = dt.datetime(2024, 1, 1, 10, 2)
    first = change(INSERT, ("1", "Ana", "x" * 3000, "SP", CREATED, "2024-01-01 10:01:00"), at, lsn=100)
    second = change(UPDATE, ("1", "Ana", UNCHANGED_TOAST, "RJ", CREATED, "2024-01-01 10:02:00"), at, lsn=200)
    rows = [row for row in capture._rows([first, second]) if not isinstance(row, Rejected)]
    assert rows[1][2] == "x" * 3000 and rows[1][3] == "RJ"
    assert rows[1][6:] == ("update", "0/C8", "2024-01-01 10:02:00")


def test_an_unchanged_toast_value_comes_from_the_updates_old_row_and_a_delete_keeps_only_its_key():
    at = dt.datetime(2024, 1, 1, 10, 2)
    old = ("1", "Ana", "x" * 3000, "SP", CREATED, "2024-01-01 10:01:00")
    update = (*change(UPDATE, ("1", "Ana", UNCHANGED_TOAST, "RJ", CREATED, "2024-01-01 10:02:00"), at)[:6], old)
    deleted = (*change(DELETE, old, at, lsn=300)[:6], None)  # REPLICA IDENTITY FULL: the old row
    rows = [row for row in capture._rows([update, deleted]) if not isinstance(row, Rejected)]
    assert rows[0][2] == "x" * 3000 and rows[0][3] == "RJ", "no previous change in the run: the old row has it"
    assert rows[1][:6] == ("1", None, None, None, None, None) and rows[1][6] == "delete"

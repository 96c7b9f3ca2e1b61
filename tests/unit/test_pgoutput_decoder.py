"""The pgoutput decoder on messages built by hand to protocol 1: nulls, unchanged TOAST, a re-sent Relation."""

import datetime as dt
import struct

import pytest

from storepipe.sources import customer_log
from storepipe.sources.customer_log import UNCHANGED_TOAST, DecodeError, decode

RELID = 16400
COMMITTED_AT = dt.datetime(2024, 1, 1, 10, 4, 59, 999_999)
MICROS = (COMMITTED_AT - dt.datetime(2000, 1, 1)) // dt.timedelta(microseconds=1)


def relation(columns, relid=RELID, key=("customer_id",), identity=b"d"):
    body = b"R" + struct.pack(">I", relid) + b"public\0customers\0" + identity + struct.pack(">H", len(columns))
    for name in columns:
        body += bytes([1 if name in key else 0]) + name.encode() + b"\0" + struct.pack(">Ii", 25, -1)
    return body


def tuple_data(values):
    body = struct.pack(">H", len(values))
    for value in values:
        if value is None:
            body += b"n"
        elif value is UNCHANGED_TOAST:
            body += b"u"
        else:
            raw = value.encode()
            body += b"t" + struct.pack(">I", len(raw)) + raw
    return body


def begin(lsn, xid):
    return b"B" + struct.pack(">QqI", lsn, MICROS, xid)


def commit(lsn):
    return b"C\0" + struct.pack(">QQq", lsn, lsn + 48, MICROS)


def insert(values, relid=RELID):
    return b"I" + struct.pack(">I", relid) + b"N" + tuple_data(values)


def update(values, old=None, relid=RELID, image=b"K"):
    old_part = b"" if old is None else image + tuple_data(old)
    return b"U" + struct.pack(">I", relid) + old_part + b"N" + tuple_data(values)


def delete(key, relid=RELID):
    return b"D" + struct.pack(">I", relid) + b"K" + tuple_data(key)


COLUMNS = ("customer_id", "first_name", "last_name")


def test_insert_update_delete_carry_the_transaction_and_the_relation():
    changes = list(
        decode(
            [
                begin(0x1_0000_0100, 700),
                relation(COLUMNS),
                insert(["1", "Ana", "Silva"]),
                update(["1", "Ana", "Souza"]),
                delete(["1", None, None]),
                commit(0x1_0000_0100),
            ]
        )
    )
    assert [c[customer_log.OP] for c in changes] == ["insert", "update", "delete"]
    assert {(c[customer_log.COMMIT_LSN], c[customer_log.COMMITTED_AT], c[customer_log.XID]) for c in changes} == {
        (0x1_0000_0100, COMMITTED_AT, 700)
    }
    assert [c[customer_log.VALUES] for c in changes] == [
        ("1", "Ana", "Silva"),
        ("1", "Ana", "Souza"),
        ("1", None, None),
    ]
    assert changes[0][customer_log.RELATION].columns == COLUMNS
    assert changes[0][customer_log.RELATION].key == ("customer_id",)


def test_nulls_and_unchanged_toast_are_told_apart():
    (change,) = decode([begin(1, 2), relation(COLUMNS), update(["7", None, UNCHANGED_TOAST]), commit(1)])
    assert change[customer_log.VALUES] == ("7", None, UNCHANGED_TOAST)
    assert repr(change[customer_log.VALUES][2]) == "UNCHANGED_TOAST"


def test_an_update_of_the_key_carries_the_old_key():
    (change,) = decode([begin(1, 2), relation(COLUMNS), update(["8", "a", "b"], old=["7", None, None]), commit(1)])
    assert change[customer_log.OLD_VALUES] == ("7", None, None)
    assert change[customer_log.VALUES] == ("8", "a", "b")


def test_an_old_row_is_decoded_only_for_an_update_with_an_unchanged_toasted_value():
    full = ["1", "a", "x" * 3000]
    changes = list(
        decode(
            [
                begin(1, 2),
                relation(COLUMNS),
                update(["1", "b", UNCHANGED_TOAST], old=full, image=b"O"),
                update(["1", "c", "y"], old=["1", "b", "x" * 3000], image=b"O"),
                commit(1),
            ]
        )
    )
    assert changes[0][customer_log.OLD_VALUES] == tuple(full)
    assert changes[0][customer_log.VALUES] == ("1", "b", UNCHANGED_TOAST)
    assert changes[1][customer_log.OLD_VALUES] is None and changes[1][customer_log.VALUES] == ("1", "c", "y")


def test_a_relation_resent_after_alter_table_gives_the_new_columns():
    wider = (*COLUMNS, "email")
    changes = list(
        decode(
            [
                begin(1, 2),
                relation(COLUMNS),
                insert(["1", "a", "b"]),
                commit(1),
                begin(9, 3),
                relation(wider),
                insert(["2", "c", "d", "c@example.com"]),
                commit(9),
            ]
        )
    )
    assert [dict(zip(c[customer_log.RELATION].columns, c[customer_log.VALUES], strict=True)) for c in changes] == [
        {"customer_id": "1", "first_name": "a", "last_name": "b"},
        {"customer_id": "2", "first_name": "c", "last_name": "d", "email": "c@example.com"},
    ]


def test_text_values_keep_their_bytes():
    value = 'Conceição\ttab, comma "quote"\n'
    (change,) = decode([begin(1, 2), relation(COLUMNS), insert(["1", value, ""]), commit(1)])
    assert change[customer_log.VALUES] == ("1", value, "")


def test_truncate_is_a_change_of_its_own_and_origin_and_type_are_skipped():
    truncate = b"T" + struct.pack(">IB", 1, 0) + struct.pack(">I", RELID)
    origin = b"O" + struct.pack(">Q", 5) + b"upstream\0"
    type_message = b"Y" + struct.pack(">I", 90001) + b"public\0mood\0"
    changes = list(decode([begin(1, 2), origin, type_message, relation(COLUMNS), truncate, commit(1)]))
    assert [(c[customer_log.OP], c[customer_log.RELATION].name, c[customer_log.VALUES]) for c in changes] == [
        ("truncate", "customers", ())
    ]


def test_an_unknown_message_fails_in_one_line():
    with pytest.raises(DecodeError, match="unknown pgoutput message 'M'"):
        list(decode([b"M\0"]))


def test_lsn_text_round_trips():
    assert customer_log.lsn_text(0x16_B374_D848) == "16/B374D848"
    assert customer_log.parse_lsn("16/B374D848") == 0x16_B374_D848
    assert customer_log.parse_lsn("0/0") == 0

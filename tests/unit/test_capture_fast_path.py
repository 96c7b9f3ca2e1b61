"""The capture's fast path (a change's CSV line straight from its pgoutput bytes) lands exactly the
bytes, flags and positions of the general path (decode, then the csv module), on any mix of changes."""

import datetime as dt
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storepipe.errors import StorepipeError
from storepipe.rows import STATE_CODES, Block, Rejected
from storepipe.sources.customer_log import UNCHANGED_TOAST
from storepipe.tasks import capture
from tests.unit.test_pgoutput_decoder import RELID, begin, commit, delete, insert, relation, update

COLUMNS = capture.CUSTOMERS.columns
MINUTES = 5

# mostly what the fast path takes, so that it meets every kind of change the general path takes
common = st.sampled_from(["Ana", "Souza", "Conceição", "D'Ávila", "Mc Donald", "Zé"])
odd = st.one_of(
    st.sampled_from(["", " ", "\u3000", "Ângela", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "\u00a0Ana"]),
    st.text(min_size=0, max_size=12).map(lambda text: text.replace("\x00", "")),
    st.none(),
)
names = st.one_of(common, common, common, odd)
states = st.one_of(st.sampled_from(STATE_CODES), st.sampled_from(STATE_CODES), st.sampled_from(["sp", " SP", "XX", ""]))


def stamps(minutes):
    return st.builds(
        lambda minute, micros: str(dt.datetime(2024, 1, 1, 10) + dt.timedelta(minutes=minute, microseconds=micros)),
        minutes,
        st.sampled_from([0, 0, 500_000, 1]),
    )


customer = st.tuples(
    st.integers(1, 5).map(str),
    names,
    st.one_of(names, names, st.just(UNCHANGED_TOAST)),
    st.one_of(states, st.none()),
    stamps(st.integers(0, 12)),  # created, mostly before updated
    stamps(st.integers(8, 40)),
)
change = st.tuples(st.sampled_from(["insert", "update", "update_old", "delete"]), customer)
transactions = st.lists(st.lists(change, min_size=1, max_size=4), min_size=1, max_size=6)


def messages(full_identity: bool, txs) -> list[bytes]:
    found = [relation(COLUMNS, identity=b"f" if full_identity else b"d")]
    previous: dict[str, tuple] = {}
    for n, tx in enumerate(txs):
        lsn = 0x1_0000_0000 + 256 * n
        found.append(begin(lsn, 700 + n))
        for op, values in tx:
            row = list(values)
            if op == "insert":
                row[2] = row[2] if row[2] is not UNCHANGED_TOAST else "toast"
                found.append(insert(row))
            elif op == "delete":
                found.append(delete([row[0], None, None, None, None, None]))
            else:
                old = previous.get(row[0], (row[0], "Old", "x" * 30, "SP", row[4], row[4]))
                image = op == "update_old" or full_identity
                found.append(update(row, old=list(old) if image else None, image=b"O"))
            previous[row[0]] = tuple(
                v if v is not UNCHANGED_TOAST else previous.get(row[0], [None] * 6)[i] for i, v in enumerate(row)
            )
        found.append(commit(lsn))
    return found


def landed(messages_: list[bytes], fast: bool) -> list[tuple]:
    gathered = capture._Gather(MINUTES, fast=fast)
    for data in messages_:
        gathered.message(data)
    result = []
    for start, first, last, rows in gathered.segments():
        data = b"".join(row.data for row in rows if isinstance(row, Block))
        result.append(
            (start, first, last, data, [row for row in gathered.windows[start].items if isinstance(row, Rejected)])
        )
    return result


@settings(max_examples=300, deadline=None)
@given(full_identity=st.booleans(), txs=transactions)
def test_the_fast_path_lands_the_bytes_of_the_general_path(full_identity, txs):
    found = messages(full_identity, txs)
    assert landed(found, fast=True) == landed(found, fast=False)


def test_the_fast_path_takes_the_common_change_and_leaves_the_odd_one():
    plain = ("1", "Ana", "Souza", "SP", "2024-01-01 09:00:00", "2024-01-01 10:01:00")
    odd = ("2", "Ana", "Souza", "XX", "2024-01-01 09:00:00", "2024-01-01 10:01:00")
    gathered = capture._Gather(MINUTES)
    for data in [
        relation(COLUMNS, identity=b"f"),
        begin(0x100, 1),
        update(list(plain), old=list(plain), image=b"O"),
        insert(list(odd)),
        commit(0x100),
    ]:
        gathered.message(data)
    items = gathered.windows[dt.datetime(2024, 1, 1, 10)].items
    assert (
        items[0]
        == b"1,Ana,Souza,SP,2024-01-01 09:00:00,2024-01-01 10:01:00,update,0/100,2024-01-01 10:04:59.999999\r\n"
    )
    assert isinstance(items[2], Rejected) and "XX" in items[2].reason


def test_a_customer_taken_by_the_fast_path_gives_an_unchanged_toasted_value_to_a_later_update_without_old_row():
    first = ["1", "Ana", "x" * 40, "SP", "2024-01-01 09:00:00", "2024-01-01 10:01:00"]
    later = ["1", "Ana", UNCHANGED_TOAST, "RJ", "2024-01-01 09:00:00", "2024-01-01 10:02:00"]
    found = [relation(COLUMNS), begin(0x100, 1), insert(first), update(later), commit(0x100)]
    (segment,) = landed(found, fast=True)
    assert segment[3].splitlines()[1].startswith(b"1,Ana," + b"x" * 40 + b",RJ,")


def test_a_truncate_fails_the_capture_in_one_line():
    truncate = b"T" + struct.pack(">IB", 1, 0) + struct.pack(">I", RELID)
    gathered = capture._Gather(MINUTES)
    with pytest.raises(StorepipeError, match=r"public.customers was truncated .*storepipe cdc init --reset"):
        for data in [relation(COLUMNS), begin(0x100, 1), truncate, commit(0x100)]:
            gathered.message(data)

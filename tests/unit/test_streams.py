"""streams: ReadAhead's chunks arrive whole and in order, a reading error reaches the consumer, and a
consumer that stops early stops the reader and closes what it read (an S3 body's connection);
write_behind writes every chunk in order before its block ends, raises a writing error in the
writer, and drops what is queued when the writer's own block fails; pour_into's consumer reads every
chunk in order as a file, a consumer that fails never blocks or fails the writer, and a writer that
fails stops the consumer half-way."""

import os
import signal
import threading
import time

import pytest

from storepipe import streams


def test_every_chunk_arrives_in_order_past_the_queue_depth():
    chunks = [bytes([n % 256]) * (n % 7 + 1) for n in range(1000)]
    assert list(streams.ReadAhead(iter(chunks), depth=3)) == chunks


def test_the_reader_runs_ahead_of_a_consumer_that_waits():
    read = []
    ahead = threading.Event()

    def source():
        for n in range(5):
            read.append(n)
            if n == 4:
                ahead.set()
            yield b"x"

    stream = streams.ReadAhead(source(), depth=8)
    next(stream)
    # the consumer holds one chunk; the reader has meanwhile read to the end on its own
    assert ahead.wait(5) and read == [0, 1, 2, 3, 4]
    assert list(stream) == [b"x"] * 4


def test_an_error_while_reading_is_raised_in_the_consumer_after_the_chunks_before_it():
    def source():
        yield b"a"
        yield b"b"
        raise ConnectionResetError("the connection dropped mid-object")

    got = []
    with pytest.raises(ConnectionResetError, match="mid-object"):
        for chunk in streams.ReadAhead(source()):
            got.append(chunk)
    assert got == [b"a", b"b"]


def test_a_consumer_that_stops_early_stops_the_reader_and_closes_the_source():
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield b"chunk"
        finally:
            closed.set()

    stream = streams.ReadAhead(endless(), depth=2)
    assert next(stream) == b"chunk"
    stream.close()  # what a consumer's early return or error does
    assert closed.is_set()
    assert streams.running() == 0


def test_write_behind_writes_every_chunk_in_order_before_the_block_ends():
    written = []
    with streams.write_behind(written.append, depth=2) as write:
        for n in range(500):
            write(b"%d," % n)
    assert b"".join(written) == b"".join(b"%d," % n for n in range(500))


def test_write_behind_raises_a_writing_error_in_the_writer():
    def disk_full(chunk):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"), streams.write_behind(disk_full) as write:
        write(b"a")
        for _ in range(1000):  # raised at a later hand-over, or at the latest on exit
            write(b"b")


def test_write_behind_drops_what_is_queued_when_the_block_fails():
    written = []

    def slow(chunk):
        if not written:
            time.sleep(0.5)  # the block fails meanwhile, with 49 chunks queued
        written.append(chunk)

    with pytest.raises(ValueError, match="a bad row"), streams.write_behind(slow, depth=100) as write:
        for n in range(50):
            write(b"%d" % n)
        raise ValueError("a bad row")
    assert len(written) <= 1  # at most the one being written when the block failed
    assert streams.running() == 0


def _read_all(reader) -> bytes:
    return b"".join(iter(lambda: reader.read(65536), b""))


def test_pour_into_hands_every_chunk_in_order_to_a_consumer_reading_a_file():
    with streams.pour_into(_read_all, depth=2) as poured:
        for n in range(500):
            poured.write(b"%d," % n)
    assert poured.error is None
    assert poured.result == b"".join(b"%d," % n for n in range(500))
    assert streams.running() == 0


def test_a_consumer_that_fails_keeps_its_error_and_the_writer_goes_on():
    def refuses(reader):
        reader.read(1)
        raise ValueError("invalid input syntax")

    with streams.pour_into(refuses, depth=1) as poured:
        for _ in range(1000):  # far past the queue's depth: dropped, never waited on
            poured.write(b"row\n")
    assert isinstance(poured.error, ValueError) and poured.result is None


def test_a_writer_that_fails_stops_the_consumer_half_way():
    seen = []

    def copy(reader):
        for chunk in iter(lambda: reader.read(65536), b""):
            seen.append(chunk)

    with pytest.raises(ValueError, match="a bad row"), streams.pour_into(copy) as poured:
        poured.write(b"a")
        raise ValueError("a bad row")
    assert seen == [b"a"]
    assert poured.error is not None and poured.result is None, "the consumer did not take it for the end"


def test_streams_reuse_the_process_threads_instead_of_starting_one_each():
    list(streams.ReadAhead(iter([b"warm"])))
    threads = threading.active_count()
    for n in range(30):  # a backfill's small windows open a dozen streams each
        assert list(streams.ReadAhead(iter([b"%d" % n]))) == [b"%d" % n]
        with streams.write_behind(lambda chunk: None) as write:
            write(b"x")
    assert threading.active_count() == threads
    assert streams.running() == 0


def test_a_forked_worker_runs_streams_on_threads_of_its_own():
    # Luigi forks a process per task with several workers: the parent's kept threads do not exist there
    list(streams.ReadAhead(iter([b"the parent's pool is up"])))
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a stream works, within the alarm's 10 s
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # pytest-timeout's handler would go on in the child
        signal.alarm(10)
        ok = list(streams.ReadAhead(iter([b"a", b"b"]))) == [b"a", b"b"]
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

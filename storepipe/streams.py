"""Byte streams passed between two threads, so their work overlaps on a second core.

Reading a socket, hashing and writing a file or an S3 part all release the GIL; validating the
orders holds it. An extract that reads the bucket ahead and writes the lake behind its validation
takes about as long as the validation alone, not the sum of the four. Each hand-over is a bounded
queue (memory stays flat) and an error on the other side is raised where the caller reads or writes;
`pour_into` is the exception: what it feeds is a copy the caller can do without.
"""

from __future__ import annotations

import io
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any

DEPTH = 4  # chunks in flight between the threads (2 MB of 512 KB reads, 1 MB of 256 KB writes)
# threads kept per process for the other side of the streams; a small window starts a dozen streams,
# and starting a thread waits for it to take the GIL from the busy ones (up to 5 ms, not 0.1). More
# streams than this at once would wait for each other, so it is far above what one extract opens.
THREADS = 64
_END = object()
_pools: dict[int, ThreadPoolExecutor] = {}  # by pid
_running = [0]  # works submitted and not ended, in this process (`running()`)
_counting = threading.Lock()


def _start(work: Callable[[], None]) -> Future:
    """Run `work` on one of this process's kept threads (a forked worker has none of its parent's)."""
    pool = _pools.get(os.getpid())
    if pool is None:
        pool = _pools[os.getpid()] = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="stream")

    def counted() -> None:
        try:
            work()
        finally:
            with _counting:
                _running[0] -= 1

    with _counting:
        _running[0] += 1
    return pool.submit(counted)


def running() -> int:
    """The streams' other sides still at work in this process: 0 once every stream has ended."""
    with _counting:
        return _running[0]


class _Handoff:
    """A bounded queue whose sender gives up once the receiver has stopped."""

    def __init__(self, depth: int):
        self.items: queue.Queue = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()

    def send(self, item) -> bool:
        while not self.stopped.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def receive(self) -> bytes | None:
        """The next chunk sent, None at the end; an error sent is raised here."""
        item = self.items.get()
        if item is _END:
            return None
        if isinstance(item, BaseException):
            raise item
        return item


class ReadAhead:
    """Iterates `chunks` while a thread, started at once, reads the next ones. An error reading is raised
    here, after the chunks before it. `close()` (also on exhaustion or an error) stops the reader, which
    closes `chunks` (an S3 body's connection); a reader made before it is consumed has its first chunks
    (an S3 GET's round trip) ready by then."""

    def __init__(self, chunks: Iterable[bytes], depth: int = DEPTH):
        self._handoff = _Handoff(depth)
        self._closed = False
        self._reader = _start(lambda: self._read(chunks))

    def _read(self, chunks: Iterable[bytes]) -> None:
        source = iter(chunks)
        try:
            for chunk in source:
                if not self._handoff.send(chunk):
                    return
            self._handoff.send(_END)
        except BaseException as err:  # handed to the consumer, which raises it
            self._handoff.send(err)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> ReadAhead:
        return self

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            chunk = self._handoff.receive()
        except BaseException:
            self.close()
            raise
        if chunk is None:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._handoff.stopped.set()
            self._reader.result()


@contextmanager
def write_behind(write: Callable[[bytes], object], depth: int = DEPTH) -> Iterator[Callable[[bytes], None]]:
    """Yield a `write` that hands each chunk (bytes, never a buffer that is reused) to a thread calling
    `write` in order. On a clean exit every chunk has been written; an error writing is raised at the
    next hand-over or on exit; an error in the caller's block drops what is still queued."""
    handoff = _Handoff(depth)
    failed: list[BaseException] = []

    def drain() -> None:
        while True:
            item = handoff.items.get()
            if item is _END:
                return
            if failed or handoff.stopped.is_set():
                continue
            try:
                write(item)
            except BaseException as err:  # raised in the caller
                failed.append(err)

    writer = _start(drain)

    def hand_over(chunk: bytes) -> None:
        if failed:
            raise failed[0]
        handoff.items.put(chunk)

    try:
        yield hand_over
    except BaseException:
        handoff.stopped.set()  # the caller failed: what is queued is not written
        raise
    finally:
        handoff.items.put(_END)
        writer.result()
    if failed:
        raise failed[0]


class _Abandoned(Exception):
    """Raised to the consumer of `pour_into` when the caller's block failed."""


class Poured:
    """What `pour_into` yields: `write(chunk)` hands a chunk to the consumer (dropped once it has
    stopped); after the block, `result` is what the consumer returned, or `error` what it raised."""

    def __init__(self, handoff: _Handoff):
        self._handoff = handoff
        self.result: Any = None
        self.error: BaseException | None = None

    def write(self, chunk: bytes) -> None:
        self._handoff.send(chunk)


class _Reading(io.RawIOBase):
    """The chunks handed over, read as a file: each `read` returns the next whole chunk, b"" at the end."""

    def __init__(self, handoff: _Handoff):
        self.handoff, self.ended = handoff, False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.ended:
            return b""
        try:
            chunk = self.handoff.receive()
        except BaseException:
            self.ended = True
            raise
        if chunk is None:
            self.ended = True
            return b""
        return chunk


@contextmanager
def pour_into(consume: Callable[[IO[bytes]], Any], depth: int = DEPTH) -> Iterator[Poured]:
    """Run `consume(reader)` in a thread, `reader` a file whose reads return the chunks given to the
    yielded `write`, in order, then its end once the block exits. A consumer that fails only stops
    taking chunks: its error is kept in `error`, never raised here, since what it makes of the chunks
    is a copy the caller can do without. A block that fails makes the reader raise, so the consumer
    stops half-way (a COPY is abandoned), and the block's error is raised once it has."""
    handoff = _Handoff(depth)
    poured = Poured(handoff)

    def run() -> None:
        try:
            poured.result = consume(_Reading(handoff))
        except BaseException as err:  # kept for the caller
            poured.error = err
        finally:
            handoff.stopped.set()  # whatever is still sent is dropped

    consumer = _start(run)
    try:
        yield poured
    except BaseException:
        handoff.send(_Abandoned("the writer failed"))
        consumer.result()
        raise
    handoff.send(_END)
    consumer.result()

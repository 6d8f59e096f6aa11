"""One writer thread per SQLite store: every write of the process, committed in groups.

SQLite lets one connection at a time write a file. With hundreds of runs writing at once
(``--concurrency 1000``), connections from the pool queue for that lock: a run that waited
longer than the busy timeout failed with ``database is locked``, one that waited for a pooled
connection longer than the pool's timeout with ``TimeoutError``, and a run whose last write
failed stayed ``running``. Here each write is an operation handed to one thread, which runs
every operation waiting at that moment in one transaction (group commit): the file sees one
writer per process, and one commit serves many runs.

A caller waits until the transaction that holds its operation has committed, so a journal
entry written before a request that is not safe to repeat is in the file before the request
goes out, exactly as with a direct write. When the file is locked by another process for longer
than the busy timeout, the writer tries again (``PATIENCE`` seconds in all) instead of failing
the runs. An operation that fails on its own (a unique key taken) is run again alone, so it
fails only its own caller.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

from runner.park import Waiter
from runner.store_db import Conn, StoreLocked

T = TypeVar("T")
Operation = Callable[[Conn], Any]
MAX_GROUP = 500  # operations in one transaction, at most
PATIENCE = 300.0  # seconds the writer waits out a store locked by another process



class _Pending:
    __slots__ = ("done", "error", "op", "result")

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.done = Waiter()  # a batch's run waits parked, its hub runs the others meanwhile
        self.result: Any = None
        self.error: BaseException | None = None


class Writer:
    """Runs write operations in one thread, each group in a transaction ``begin()`` opens;
    :meth:`run` waits for the commit."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Conn]], *,
                 patience: float = PATIENCE) -> None:
        self.begin = begin
        self.patience = patience
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def run(self, op: Callable[[Conn], T]) -> T:
        """Run ``op(connection)`` in the writer's transaction; its result once committed."""
        if threading.current_thread() is self._thread:  # never wait for ourselves
            with self.begin() as c:
                return op(c)
        item = _Pending(op)
        self._start()
        self._queue.put(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return cast(T, item.result)

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and self._pid == os.getpid():
            self._queue.put(None)
            thread.join()

    def _start(self) -> None:
        with self._lock:
            # a forked child (a prefork worker) has the object but not the thread
            if self._thread is None or self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, args=(self._queue,),
                                                 daemon=True, name="store-writer")
                self._thread.start()

    def _loop(self, q: queue.SimpleQueue[_Pending | None]) -> None:
        stop = False
        while not stop:
            first = q.get()
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            self._commit(group)

    def _commit(self, group: list[_Pending]) -> None:
        try:
            results = self._patiently(group)
        except Exception as e:
            if len(group) == 1:
                group[0].error = e
                group[0].done.set()
                return
            for item in group:  # one bad operation must not fail the others
                self._commit([item])
            return
        for item, result in zip(group, results, strict=True):
            item.result = result
            item.done.set()

    def _patiently(self, group: list[_Pending]) -> list[Any]:
        deadline = time.monotonic() + self.patience
        pause = 0.05
        while True:
            try:
                with self.begin() as c:
                    return [item.op(c) for item in group]
            except StoreLocked:
                if time.monotonic() >= deadline:
                    raise
                import logging  # a rare event: logging is ~2.5 ms of every start

                logging.getLogger("runner.store").warning(
                    "the run store is locked by another process; %d write(s) wait", len(group))
                time.sleep(pause)
                pause = min(1.0, pause * 2)

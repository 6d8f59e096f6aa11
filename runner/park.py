"""Parked waits: thousands of runs waiting at once on a few OS threads.

A batch's row runs in a greenlet on a :class:`Hub`, an OS thread with a timer heap. A wait
(``RunState.sleep``, which every wait of a run goes through: a poll's interval, a ``sleep:``
step, a retry's backoff) puts the greenlet on the heap and switches to the hub, which runs
another greenlet or sleeps until the next timer: a waiting run holds its Python frames and
nothing else, no thread. Everything else a run does (an HTTP exchange, a store write) runs as
before, blocking its hub while it lasts, so a pool of ``THREADS`` hubs is as many exchanges in
flight at once; that is plenty on loopback and on a LAN, where an exchange takes a millisecond.

Outside a hub (``runner run`` of one playbook, a worker's job, a loop's iteration threads)
:func:`sleep` is ``cancel.wait(seconds)``, as it always was, and greenlet is not even imported
(which thread is a hub's is a dict of thread ids: 1.4 ms less at every ``runner run``).

A greenlet lives in the thread it was started in, so a run stays on its hub to its end. A run
must not wait (park) while holding a lock another run of the same hub may want: none does (a
connector's token lock is its run's own).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from runner.park_shares import Shares

if TYPE_CHECKING:  # made by a hub only: concurrent.futures imports logging, ~3 ms of a
    # plain run's start, which uses no hub
    from concurrent.futures import Future

T = TypeVar("T")
THREADS = int(os.environ.get("RUNNER_PARK_THREADS") or 16)  # hubs of a pool at most: HTTP
# exchanges in flight at once

_seq = itertools.count()
_HUBS: dict[int, Hub] = {}  # a hub's thread id -> the hub: the threads whose waits are parked


class _Timer:
    __slots__ = ("cancel", "due", "g", "live", "seq")

    def __init__(self, due: float, g: Any, cancel: threading.Event) -> None:
        self.due, self.seq, self.g, self.cancel, self.live = due, next(_seq), g, cancel, True

    def __lt__(self, other: _Timer) -> bool:
        return (self.due, self.seq) < (other.due, other.seq)


class Hub:
    """One OS thread: starts the runs handed to it, each in a greenlet, and wakes the parked
    ones at their time (or at once when their cancel event is set and :meth:`poke` is
    called)."""

    def __init__(self, name: str, shares: Shares | None = None) -> None:
        self.shares = shares  # its pool's (:func:`shared`); not the pool: no cycle to collect
        self._cond = threading.Condition(threading.Lock())
        self._inbox: list[Callable[[], None]] = []
        self._timers: list[_Timer] = []
        self._parked: dict[Any, _Timer] = {}  # a run's greenlet -> its timer
        self._stop = False
        self.live = 0  # runs started and not ended
        self.main: Any = None  # the hub's own greenlet, where its loop runs
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    @property
    def parked(self) -> int:
        return len(self._parked)

    def call(self, job: Callable[[], None]) -> None:
        """Have the hub's thread run ``job`` (from any thread)."""
        with self._cond:
            self._inbox.append(job)
            self._cond.notify()

    def spawn(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        from concurrent.futures import Future

        future: Future[T] = Future()

        def then(value: Any, error: BaseException | None) -> None:
            if future.set_running_or_notify_cancel():
                if error is None:
                    future.set_result(value)
                else:  # the caller's to see, in future.result()
                    future.set_exception(error)

        self.start(fn, args, then)
        return future

    def start(self, fn: Callable[..., Any], args: tuple[Any, ...],
              then: Callable[[Any, BaseException | None], None]) -> None:
        """Run ``fn(*args)`` in a greenlet of this hub and call ``then(value, None)`` with what
        it returned, or ``then(None, error)`` with what it raised, in the hub's thread. No
        Future (its Condition, RLock and deque were ~1.5 KB of every run under way of a
        batch of thousands)."""
        with self._cond:
            self.live += 1

        def body() -> None:
            try:
                try:
                    value = fn(*args)
                except BaseException as e:  # the caller's to see
                    then(None, e)
                else:
                    then(value, None)
            finally:
                with self._cond:
                    self.live -= 1

        def begin() -> None:
            import greenlet

            greenlet.greenlet(run=body, parent=self.main).switch()

        self.call(begin)

    def poke(self) -> None:
        """Wake now every parked run whose cancel event is set (Ctrl-C of a batch)."""
        self.call(self._wake_cancelled)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self.thread.join()

    # -- in the hub's thread ---------------------------------------------------------------
    def park(self, seconds: float, cancel: threading.Event) -> None:
        import greenlet

        g = greenlet.getcurrent()
        timer = _Timer(time.monotonic() + seconds, g, cancel)
        heapq.heappush(self._timers, timer)
        self._parked[g] = timer
        assert self.main is not None
        self.main.switch()  # back here when the timer is due, or on a poke

    def _wake(self, timer: _Timer) -> None:
        timer.live = False
        del self._parked[timer.g]
        timer.g.switch()

    def _wake_cancelled(self) -> None:
        for timer in [t for t in self._parked.values() if t.cancel.is_set()]:
            self._wake(timer)

    def _loop(self) -> None:
        import greenlet  # here, not at the top: a run outside a batch never loads it

        ident = threading.get_ident()
        _HUBS[ident] = self
        self.main = greenlet.getcurrent()
        try:
            self._serve()
        finally:
            del _HUBS[ident]  # a later thread may get the same id

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._inbox and not self._stop:
                    while self._timers and not self._timers[0].live:
                        heapq.heappop(self._timers)
                    if not self._timers:
                        self._cond.wait()
                        continue
                    left = self._timers[0].due - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._stop and not self._inbox:
                    return
                jobs, self._inbox = self._inbox, []
            for job in jobs:
                job()
            now = time.monotonic()
            while self._timers and (not self._timers[0].live or self._timers[0].due <= now):
                timer = heapq.heappop(self._timers)
                if timer.live:
                    self._wake(timer)


class Pool:
    """``threads`` hubs; :meth:`submit` starts a run on the one with the fewest runs."""

    def __init__(self, threads: int, name: str = "park") -> None:
        self.shares = Shares()
        self.hubs = [Hub(f"{name}-{i}", self.shares) for i in range(max(1, threads))]

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._next().spawn(fn, *args)

    def start(self, fn: Callable[..., Any], args: tuple[Any, ...],
              then: Callable[[Any, BaseException | None], None]) -> None:
        """:meth:`Hub.start` on the hub with the fewest runs."""
        self._next().start(fn, args, then)

    def _next(self) -> Hub:
        return min(self.hubs, key=lambda h: h.live)

    def each(self, fn: Callable[[Any, threading.Event], T], items: Iterable[Any], limit: int,
             done: Callable[[T], None]) -> None:
        """``fn(item, cancel)`` for each item, at most ``limit`` at once; ``done(result)`` in
        items' order. Ctrl-C or SIGTERM (a KeyboardInterrupt here): items not started never
        start, every ``cancel`` is set and the hubs poked (a parked run sees it now, not at its
        wake time), the runs under way are waited for (they stop at their next step or wait,
        recorded interrupted) and given to ``done``; then the KeyboardInterrupt goes on."""
        cancels: set[Flag] = set()
        lock = threading.Lock()
        stopping = threading.Event()

        def one(item: Any) -> T:
            cancel = Flag()  # as a batch's run has (no Condition unless a thread waits)
            with lock:
                cancels.add(cancel)
                if stopping.is_set():
                    cancel.set()
            try:
                return fn(item, cancel)
            finally:
                with lock:
                    cancels.discard(cancel)

        todo = iter(items)
        running: deque[Future[T]] = deque()
        try:
            running.extend(self.submit(one, x) for x in itertools.islice(todo, max(1, limit)))
            while running:
                done(running.popleft().result())
                running.extend(self.submit(one, x) for x in itertools.islice(todo, 1))
        except KeyboardInterrupt:
            with lock:
                stopping.set()
                for cancel in cancels:
                    cancel.set()
            self.poke()
            while running:  # a second Ctrl-C here leaves them to finish
                done(running.popleft().result())
            raise

    def poke(self) -> None:
        for hub in self.hubs:
            hub.poke()

    @property
    def parked(self) -> int:
        return sum(h.parked for h in self.hubs)

    def close(self) -> None:
        for hub in self.hubs:
            hub.stop()
        self.shares.close()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Flag(threading.Event):
    """A ``threading.Event`` whose lock and condition are made only when a thread waits on it
    (``is_set``, ``set`` and ``clear`` need neither): a batch's run checks its cancel event at
    every step and wait, and only a run outside a hub (a loop's iteration threads) waits on
    it. ~1.1 KB less for each of thousands of runs under way."""

    def __init__(self) -> None:  # no Event.__init__: no Condition until wait()
        self._flag = False
        self._event: threading.Event | None = None

    def is_set(self) -> bool:
        return self._flag

    isSet = is_set  # Event's old name

    def set(self) -> None:
        self._flag = True
        event = self._event  # read after the flag is set: see wait()
        if event is not None:
            event.set()

    def clear(self) -> None:
        self._flag = False
        event = self._event
        if event is not None:
            event.clear()

    def wait(self, timeout: float | None = None) -> bool:
        event = self._event
        if event is None:
            with _MAKING:
                event = self._event
                if event is None:
                    event = threading.Event()
                    self._event = event  # published before the flag is read: a set() that
                    if self._flag:  # did not see it has set the flag, seen here
                        event.set()
        return event.wait(timeout)


_MAKING = threading.Lock()  # a Flag's event is made once


def sleep(seconds: float, cancel: threading.Event) -> bool:
    """Wait ``seconds`` unless ``cancel`` is set meanwhile; True if it was. In a hub's run the
    wait is parked (no thread held); elsewhere it is ``cancel.wait``."""
    hub = _HUBS.get(threading.get_ident())
    if hub is None:
        return cancel.wait(seconds)
    if cancel.is_set():
        return True
    if seconds > 0:
        hub.park(seconds, cancel)
    return cancel.is_set()


class Waiter:
    """Something a run waits for that another thread does (the store's writer committing its
    write): :meth:`wait` parks a hub's run until :meth:`set`, and blocks any other thread. Made
    by the one that waits, in its own greenlet or thread."""

    __slots__ = ("_event", "_g", "_hub", "_set", "_waiting")

    def __init__(self) -> None:
        self._hub = _HUBS.get(threading.get_ident())
        self._g: Any = None
        if self._hub is not None:
            import greenlet

            self._g = greenlet.getcurrent()
        self._event = threading.Event() if self._hub is None else None
        self._set = self._waiting = False

    def set(self) -> None:
        if self._event is not None:
            self._event.set()
        else:
            assert self._hub is not None
            self._hub.call(self._wake)

    def _wake(self) -> None:  # in the hub's thread
        self._set = True
        if self._waiting:
            self._waiting = False
            self._g.switch()

    def wait(self) -> None:
        if self._event is not None:
            self._event.wait()
            return
        assert self._hub is not None and self._hub.main is not None
        if not self._set:  # a set() from another thread runs _wake only once we switch away
            self._waiting = True
            self._hub.main.switch()


def result(future: Future[T]) -> T:
    """``future.result()``; a hub's run waits for it parked (a loop's iterations in threads)."""
    if not future.done() and parked_here():
        waiter = Waiter()
        future.add_done_callback(lambda _: waiter.set())
        waiter.wait()
    return future.result()


def shared(key: str, make: Callable[[], T], close: Callable[[T], None]) -> T | None:
    """On a hub: the object its pool's runs share under ``key`` (made by the first that asks;
    ``close(it)`` when the pool closes, after its hubs have stopped, which a batch's end does).
    Elsewhere None: the caller makes its own."""
    hub = _HUBS.get(threading.get_ident())
    if hub is None or hub.shares is None:
        return None
    return hub.shares.get(key, make, close)


def parked_here() -> bool:
    """Whether the caller runs on a hub (its waits are parked)."""
    return threading.get_ident() in _HUBS

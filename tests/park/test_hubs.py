"""runner.park on its own: thousands of waits on two hub threads, each woken at its time (in
order of due time), a cancelled wait woken by a poke, a waiter set from another thread."""

from __future__ import annotations

import threading
import time

from runner import park


def test_two_thousand_waits_on_two_threads_end_in_due_order() -> None:
    ended: list[tuple[float, float]] = []  # (due, when it ended)
    lock = threading.Lock()
    never = threading.Event()
    before = threading.active_count()

    def wait(seconds: float) -> int:
        due = time.monotonic() + seconds
        assert park.parked_here()
        assert park.sleep(seconds, never) is False
        with lock:
            ended.append((due, time.monotonic()))
        return threading.get_ident()

    with park.Pool(2) as pool:
        assert threading.active_count() == before + 2
        futures = [pool.submit(wait, (i % 50) / 100) for i in range(2000)]
        idents = {f.result(timeout=60) for f in futures}
        assert threading.active_count() == before + 2  # no thread per wait
        assert pool.parked == 0
    assert len(idents) == 2 and len(ended) == 2000
    assert all(at >= due for due, at in ended)  # never woken before its time
    assert threading.active_count() == before


def test_a_poke_wakes_the_cancelled_waits_at_once() -> None:
    cancels = [threading.Event() for _ in range(10)]
    parked = threading.Semaphore(0)

    def wait(cancel: threading.Event) -> bool:
        parked.release()
        return park.sleep(3600, cancel)

    with park.Pool(1) as pool:
        futures = [pool.submit(wait, c) for c in cancels]
        for _ in cancels:
            assert parked.acquire(timeout=30)
        while pool.parked < len(cancels):  # the last one switches to the hub after release
            time.sleep(0.01)
        for c in cancels[:5]:
            c.set()
        pool.poke()
        assert [f.result(timeout=30) for f in futures[:5]] == [True] * 5
        assert not any(f.done() for f in futures[5:])  # the others still wait their hour
        for c in cancels[5:]:
            c.set()
        pool.poke()
        assert [f.result(timeout=30) for f in futures[5:]] == [True] * 5


def test_a_waiter_set_from_another_thread_wakes_its_run_and_others_run_meanwhile() -> None:
    order: list[str] = []

    def waits() -> str:
        w = park.Waiter()
        threading.Timer(0.2, w.set).start()
        w.wait()
        order.append("woken")
        return "done"

    def other() -> None:
        order.append("other ran")

    with park.Pool(1) as pool:
        first = pool.submit(waits)
        pool.submit(other).result(timeout=30)  # the hub is free while the first one waits
        assert first.result(timeout=30) == "done"
    assert order == ["other ran", "woken"]


def test_outside_a_hub_a_wait_is_the_event_wait() -> None:
    assert not park.parked_here()
    cancel = threading.Event()
    cancel.set()
    assert park.sleep(10, cancel) is True
    w = park.Waiter()
    w.set()
    w.wait()  # set before: returns at once


def test_a_run_waiting_for_its_loops_threads_leaves_its_hub_to_the_others() -> None:
    """A run's ``loop:`` with ``concurrency:`` runs its iterations in threads; the run waits
    for them parked (``park.result``), so another run of the same hub can go on meanwhile
    (here: the one the iteration waits for)."""
    from concurrent.futures import ThreadPoolExecutor

    other_ran = threading.Event()

    def with_a_loop() -> str:
        with ThreadPoolExecutor(1) as threads:
            iteration = threads.submit(other_ran.wait, 30)
            return "loop done" if park.result(iteration) else "the hub was held"

    with park.Pool(1) as pool:
        first = pool.submit(with_a_loop)
        pool.submit(other_ran.set)
        assert first.result(timeout=60) == "loop done"


def test_each_run_of_a_hub_has_its_own_context() -> None:
    """A wait is journaled under the step key in a contextvar (``run_state.STEP_KEY``): the
    runs of one hub thread must not see each other's."""
    import contextvars

    key: contextvars.ContextVar[str] = contextvars.ContextVar("key", default="")
    seen: dict[str, str] = {}
    a_parked = threading.Event()

    def a() -> None:
        key.set("steps/1")
        a_parked.set()
        park.sleep(0.2, threading.Event())
        seen["a, after b ran"] = key.get()

    def b() -> None:
        seen["b"] = key.get()
        key.set("steps/9")

    with park.Pool(1) as pool:
        first = pool.submit(a)
        assert a_parked.wait(30)
        pool.submit(b).result(timeout=30)
        first.result(timeout=30)
    assert seen == {"b": "", "a, after b ran": "steps/1"}


def test_a_flag_is_an_event_that_makes_its_condition_only_when_waited_on() -> None:
    """A batch's runs each have a cancel event, checked at every step and wait and waited on
    only off a hub (a loop's iteration threads): a Flag makes no Condition for the others."""
    import gc

    def conditions() -> int:
        return sum(isinstance(o, threading.Condition) for o in gc.get_objects())

    before = conditions()
    flags = [park.Flag() for _ in range(100)]
    assert conditions() == before
    f = flags[0]
    assert isinstance(f, threading.Event) and not f.is_set()
    assert f.wait(0.01) is False  # now it has one
    f.set()
    assert f.is_set() and f.wait() is True and f.wait(0) is True
    f.clear()
    assert not f.is_set() and f.wait(0.01) is False
    flags[1].set()
    assert flags[1].wait(5) is True  # set before any wait: the new condition starts set


def test_a_flag_set_by_another_thread_wakes_its_waiter_however_the_two_meet() -> None:
    for _ in range(300):  # the set may come before, during or after the waiter's condition
        f = park.Flag()
        got: list[bool] = []
        waiter = threading.Thread(target=lambda f=f, got=got: got.append(f.wait(10)))
        waiter.start()
        f.set()
        waiter.join()
        assert got == [True]


def test_a_pool_starts_a_run_and_hands_back_what_it_returned_or_raised() -> None:
    import queue

    ended: queue.SimpleQueue[tuple[object, BaseException | None]] = queue.SimpleQueue()

    def run(x: int) -> int:
        park.sleep(0.01, park.Flag())
        if x == 3:
            raise ValueError("three")
        return x * 2

    with park.Pool(2) as pool:
        for x in range(5):
            pool.start(run, (x,), lambda value, error: ended.put((value, error)))
        got = [ended.get(timeout=30) for _ in range(5)]
    assert sorted(v for v, e in got if e is None) == [0, 2, 4, 8]  # type: ignore[type-var]
    assert [str(e) for _, e in got if e is not None] == ["three"]


def test_a_closed_pools_hubs_go_with_it_without_the_collector() -> None:
    """A hub holds its dead thread's main greenlet: it must go when its pool does (refcounts),
    not wait for a gc pass in some other thread; what the pool's runs share is no cycle."""
    import gc
    import weakref

    gc.collect()
    gc.disable()
    try:
        pool = park.Pool(2)
        assert pool.submit(park.shared, "k", object, lambda _: None).result(timeout=60)
        hubs = [weakref.ref(h) for h in pool.hubs]
        pool.close()
        del pool
        assert [h() for h in hubs] == [None, None]
    finally:
        gc.enable()

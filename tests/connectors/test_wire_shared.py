"""A batch's runs share one pool of direct http:// connections (runner/connectors/wire.py
``for_transport``, kept by the batch's ``park.Pool`` and closed with it). What must hold: runs
of one pool use a connection again, one run's cookies stay its own, a broken connection is
nobody else's, and when the pool closes its connections close (an in-process server can shut
down). Outside a pool every transport keeps its own, as before. Real sockets, against
tests/connectors/test_wire.py's server."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from runner import park
from runner.connectors.http import PreparedCall, Transport
from runner.errors import TransportError
from tests.connectors.test_wire import Scripted, answer, sized


def call(url: str) -> PreparedCall:
    return PreparedCall("api", "", "GET", url)


def in_pool(pool: park.Pool, fn: Callable[[], Any]) -> Any:
    return pool.submit(fn).result(timeout=60)


def fresh_run(url: str) -> Callable[[], bytes]:
    """A run as a batch's is: a transport of its own, made and closed on a hub."""
    def run() -> bytes:
        t = Transport(read_timeout=5)
        try:
            return t.send(call(url)).content
        finally:
            t.close()  # a run's end: the pool's connections stay for the next run
    return run


def test_the_runs_of_a_pool_share_one_connection_and_it_closes_with_the_pool() -> None:
    srv = Scripted([sized(b"ok")])
    with park.Pool(1) as pool:
        for _ in range(5):  # five runs, one after the other, each its own transport
            assert in_pool(pool, fresh_run(srv.url)) == b"ok"
    assert len(srv.requests) == 5
    assert srv.connections == 1
    # the pool closed its connections: the server's side reads the end of each
    assert all(ended(conn) for conn in srv.open)


def ended(conn: socket.socket) -> bool:
    """Whether the client closed ``conn``: the server's side reads its end (or has, and closed
    it already). A connection still open would block: 30 s is a hang, not a timing."""
    try:
        conn.settimeout(30)
        return conn.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:  # the server's thread read the end first and closed its side
        return conn.fileno() == -1


def test_outside_a_pool_each_transport_keeps_its_own() -> None:
    srv = Scripted([sized(b"ok")])
    for _ in range(3):
        assert fresh_run(srv.url)() == b"ok"
    assert srv.connections == 3  # closed with each transport, as before


def test_two_pools_do_not_share() -> None:
    srv = Scripted([sized(b"ok")])
    with park.Pool(1) as one, park.Pool(1) as two:
        in_pool(one, fresh_run(srv.url))
        in_pool(two, fresh_run(srv.url))
    assert srv.connections == 2


def test_a_runs_cookies_are_not_sent_by_another_run_on_the_same_connection() -> None:
    srv = Scripted([sized(b"in", "Set-Cookie: session=alice; Path=/"), sized(b"again")])
    with park.Pool(1) as pool:
        alice, bob = in_pool(pool, lambda: (Transport(read_timeout=5), Transport(read_timeout=5)))
        in_pool(pool, lambda: alice.send(call(srv.url + "/login")))
        in_pool(pool, lambda: bob.send(call(srv.url + "/x")))
        in_pool(pool, lambda: alice.send(call(srv.url + "/y")))
    assert srv.connections == 1  # the same connection all along
    heads = [r.lower() for r in srv.requests]
    assert b"cookie:" not in heads[1]  # bob's
    assert b"cookie: session=alice" in heads[2]  # alice's own, still kept


def test_a_broken_connection_is_not_given_to_the_next_run() -> None:
    broken_chunk = answer(b"zz\r\n", "Transfer-Encoding: chunked")  # not a chunk size
    srv = Scripted([broken_chunk, sized(b"fine")])
    with park.Pool(1) as pool:
        with pytest.raises(TransportError):
            in_pool(pool, fresh_run(srv.url))
        assert in_pool(pool, fresh_run(srv.url)) == b"fine"
    assert srv.connections == 2  # the broken one was closed, not pooled


def test_a_connection_the_server_closed_while_idle_is_not_the_next_runs_failure() -> None:
    srv = Scripted([sized(b"ok")])
    with park.Pool(1) as pool:
        in_pool(pool, fresh_run(srv.url))
        srv.drop_idle()  # a keep-alive timeout on the server's side, between two runs
        assert in_pool(pool, fresh_run(srv.url)) == b"ok"
    assert srv.connections == 2

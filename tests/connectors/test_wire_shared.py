"""One pool of direct http:// connections for the process (runner/connectors/wire.py SHARED):
the runs of a batch, each with its own transport, take their connections from it. What must
hold: a connection is used again by the next run, a run's cookies stay its own, and a broken
connection is nobody else's. Real sockets, against tests/connectors/test_wire.py's server."""

from __future__ import annotations

import os

import pytest

from runner.connectors.http import PreparedCall, Transport
from runner.connectors.wire import SHARED
from runner.errors import TransportError
from tests.connectors.test_wire import Scripted, answer, sized


def call(url: str) -> PreparedCall:
    return PreparedCall("api", "", "GET", url)


def test_the_runs_of_a_batch_share_one_connection() -> None:
    srv = Scripted([sized(b"ok")])
    for _ in range(5):  # five runs, one after the other, each its own transport
        t = Transport(read_timeout=5)
        assert t.send(call(srv.url)).content == b"ok"
        t.close()  # a run's end keeps the process's connection
    assert len(srv.requests) == 5
    assert srv.connections == 1


def test_a_runs_cookies_are_not_sent_by_another_run_on_the_same_connection() -> None:
    srv = Scripted([sized(b"in", "Set-Cookie: session=alice; Path=/"), sized(b"again")])
    alice, bob = Transport(read_timeout=5), Transport(read_timeout=5)
    alice.send(call(srv.url + "/login"))
    bob.send(call(srv.url + "/x"))
    alice.send(call(srv.url + "/y"))
    assert srv.connections == 1  # the same connection all along
    heads = [r.lower() for r in srv.requests]
    assert b"cookie:" not in heads[1]  # bob's
    assert b"cookie: session=alice" in heads[2]  # alice's own, still kept


def test_a_broken_connection_is_not_given_to_the_next_run() -> None:
    broken_chunk = answer(b"zz\r\n", "Transfer-Encoding: chunked")  # not a chunk size
    srv = Scripted([broken_chunk, sized(b"fine")])
    with pytest.raises(TransportError):
        Transport(read_timeout=5).send(call(srv.url))
    assert Transport(read_timeout=5).send(call(srv.url)).content == b"fine"
    assert srv.connections == 2  # the broken one was closed, not pooled


def test_a_connection_the_server_closed_while_idle_is_not_the_next_runs_failure() -> None:
    srv = Scripted([sized(b"ok")])
    Transport(read_timeout=5).send(call(srv.url))
    srv.drop_idle()  # a keep-alive timeout on the server's side, between two runs
    assert Transport(read_timeout=5).send(call(srv.url)).content == b"ok"
    assert srv.connections == 2


def test_a_forked_child_does_not_use_its_parents_connections() -> None:
    srv = Scripted([sized(b"ok")])
    Transport(read_timeout=5).send(call(srv.url))
    assert any(SHARED._idle.values())
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a prefork worker
        os.write(write, b"none" if not any(SHARED._idle.values()) else b"kept")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"none"
    assert any(SHARED._idle.values())  # the parent's stay
    assert Transport(read_timeout=5).send(call(srv.url)).content == b"ok"
    assert srv.connections == 1

"""The parent's dealing of connections: in turn, only to processes that serve, none lost to
one that is gone."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from bot.web.handoff import READY, Dealer, channel


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock


def _connect(listener: socket.socket, count: int) -> list[socket.socket]:
    return [socket.create_connection(listener.getsockname()) for _ in range(count)]


def _dealt(end: socket.socket) -> list[int]:
    """The client ports of the connections this process's end holds."""
    end.setblocking(False)
    ports = []
    while True:
        try:
            _message, descriptors, _flags, _address = socket.recv_fds(end, 1, 1)
        except BlockingIOError:
            return ports
        for descriptor in descriptors:
            with socket.socket(fileno=descriptor) as connection:
                ports.append(connection.getpeername()[1])


def _start(dealer: Dealer, slot: int, *, serving: bool) -> socket.socket:
    parents, workers = channel()
    dealer.join(slot, parents)
    if serving:
        workers.send(READY)
        dealer.ready(dealer.watched()[0])
    return workers


def test_connections_are_dealt_in_turn_to_the_processes_that_serve(listener):
    dealer = Dealer(listener)
    first, second = (_start(dealer, slot, serving=True) for slot in (0, 1))
    starting = _start(dealer, 2, serving=False)
    assert listener in dealer.watched()[0]

    clients = _connect(listener, 6)
    dealer.ready([listener])

    ports = [client.getsockname()[1] for client in clients]
    assert _dealt(first) == ports[0::2]
    assert _dealt(second) == ports[1::2]
    assert _dealt(starting) == []
    for sock in [*clients, first, second, starting]:
        sock.close()
    dealer.close()


def test_until_one_serves_connections_wait_in_the_backlog(listener):
    dealer = Dealer(listener)
    workers = _start(dealer, 0, serving=False)
    client = socket.create_connection(listener.getsockname())
    assert listener not in dealer.watched()[0]

    workers.send(READY)
    dealer.ready(dealer.watched()[0])
    assert listener in dealer.watched()[0]
    dealer.ready([listener])
    assert _dealt(workers) == [client.getsockname()[1]]
    client.close()
    workers.close()
    dealer.close()


def test_a_stuck_process_takes_a_few_and_then_connections_wait_in_the_backlog(listener):
    dealer = Dealer(listener)
    stuck, busy = (_start(dealer, slot, serving=True) for slot in (0, 1))

    clients = _connect(listener, 40)
    dealer.ready([listener])
    dealt_to_busy = _dealt(busy)  # it takes what it is dealt; the stuck one reads nothing
    for _ in range(10):
        dealer.ready([listener])
        dealt_to_busy += _dealt(busy)
    # The stuck one's share stops once its end is full; the rest went to the busy one.
    dealt_to_stuck = _dealt(stuck)
    assert 1 <= len(dealt_to_stuck) <= 12
    assert len(dealt_to_stuck) + len(dealt_to_busy) == 40
    assert sorted(dealt_to_stuck + dealt_to_busy) == sorted(c.getsockname()[1] for c in clients)

    # With every end full, the listener is not even watched: new connections wait, none is
    # accepted only to be closed.
    more = _connect(listener, 30)
    dealer.ready([listener])
    watched, within = dealer.watched()
    assert watched == []
    assert within is not None and within <= 0.01
    assert all(_still_open(client) for client in more)
    for sock in [*clients, *more, stuck, busy]:
        sock.close()
    dealer.close()


def _still_open(client: socket.socket) -> bool:
    client.setblocking(False)
    try:
        return client.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def test_a_process_whose_end_is_gone_is_passed_over_for_good(listener):
    dealer = Dealer(listener)
    gone, left = (_start(dealer, slot, serving=True) for slot in (0, 1))
    gone.close()  # as when the process dies: the kernel closes its end

    clients = _connect(listener, 4)
    dealer.ready([listener])
    assert _dealt(left) == [client.getsockname()[1] for client in clients]

    assert len(dealer.ends()) == 1  # the gone one's end is closed and forgotten
    dealer.leave(1)
    assert dealer.watched()[0] == []  # nobody serves: new connections wait in the backlog
    for sock in [*clients, left]:
        sock.close()


def test_a_process_that_closes_its_end_while_starting_is_forgotten(listener):
    dealer = Dealer(listener)
    workers = _start(dealer, 0, serving=False)
    workers.close()
    dealer.ready(dealer.watched()[0])
    assert dealer.ends() == []
    assert dealer.watched()[0] == []

"""The real UDP transport with a stand-in service that is stuck: the receive thread keeps
receiving, queues what it can and answers "busy" for the rest, naming each request."""

from __future__ import annotations

import socket
import threading
import time

from bridge.frontends.osc import transport
from bridge.frontends.osc.service import request_id_of
from bridge.frontends.osc.transport import UdpServer
from bridge.frontends.osc.wire import message


class StuckService:
    """Handles nothing until released; records what the transport refused."""

    def __init__(self) -> None:
        self.stuck = threading.Event()
        self.release = threading.Event()
        self.handled = 0
        self.refused: list[tuple[str, str]] = []

    def handle(self, packet: bytes, peer) -> None:
        self.stuck.set()
        self.release.wait(30)
        self.handled += 1

    def refuse(self, packet: bytes, peer, text: str) -> None:
        self.refused.append((request_id_of(packet), text))

    def send_error(self, peer, request_id: str, text: str) -> None:
        self.refused.append((request_id, text))


def test_a_full_queue_is_answered_busy_by_request_and_nothing_is_dropped(monkeypatch):
    monkeypatch.setattr(transport, "MAX_WAITING_PACKETS", 50)
    service = StuckService()
    server = UdpServer(service, "127.0.0.1", 0, max_datagram=8192)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sender.sendto(message("/magenta/test", "r0"), server.address)
        assert service.stuck.wait(10)  # r0 is in the handler: the queue is empty
        for n in range(1, 200):
            sender.sendto(message("/magenta/test", f"r{n}"), server.address)
        wait_until(lambda: len(service.refused) >= 149)
        assert all(text.startswith("busy: 50 packets are waiting") for _, text in service.refused)
        assert [request_id for request_id, _ in service.refused] == [
            f"r{n}" for n in range(51, 200)
        ]
        service.release.set()
        wait_until(lambda: service.handled >= 51)
        assert service.handled == 51
    finally:
        service.release.set()
        sender.close()
        server.close()


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)

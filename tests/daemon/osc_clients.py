"""Real-socket OSC clients for the daemon tests, and a config writer."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from pythonosc.osc_packet import OscPacket

from bridge.frontends.osc import slip
from bridge.frontends.osc.wire import message

REPO = Path(__file__).resolve().parents[2]
FINAL = ("/magenta/job/done", "/magenta/error")


class UdpClient:
    """A UDP OSC client that records every datagram it receives."""

    def __init__(self, port: int, timeout: float = 20.0, host: str = "127.0.0.1"):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Room for a burst of result chunks while the test is busy elsewhere: UDP drops
        # what does not fit, and the default buffer (about 200 KB) held too little for
        # four 400-bar results on a loaded machine.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((host, 0))  # another loopback address stands for another host
        self.sock.settimeout(timeout)
        self.sizes: list[int] = []
        self.last_error = ""

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(message(address, *args), ("127.0.0.1", self.port))

    def send_raw(self, packet: bytes) -> None:
        self.sock.sendto(packet, ("127.0.0.1", self.port))

    def receive(self, until: tuple[str, ...] = FINAL) -> list[tuple[str, list]]:
        """Replies up to and including the first whose address is in `until`."""
        replies = []
        while True:
            data, _ = self.sock.recvfrom(65_536)
            self.sizes.append(len(data))
            for timed in OscPacket(data).messages:
                replies.append((timed.message.address, list(timed.message.params)))
                if timed.message.address == "/magenta/error":
                    self.last_error = timed.message.params[1]
                if timed.message.address in until:
                    return replies

    def close(self) -> None:
        self.sock.close()


class TcpClient:
    """An OSC 1.1 client over one TCP connection with SLIP framing."""

    def __init__(self, port: int, timeout: float = 20.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.decoder = slip.Decoder(1 << 24)
        self.pending: list[tuple[str, list]] = []

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendall(slip.encode(message(address, *args)))

    def receive(self, until: tuple[str, ...] = FINAL) -> list[tuple[str, list]]:
        replies = []
        while True:
            while not self.pending:
                data = self.sock.recv(65_536)
                if not data:
                    raise ConnectionError("the daemon closed the connection")
                for packet in self.decoder.feed(data):
                    self.pending += [
                        (t.message.address, list(t.message.params))
                        for t in OscPacket(packet).messages
                    ]
            reply = self.pending.pop(0)
            replies.append(reply)
            if reply[0] in until:
                return replies

    def close(self) -> None:
        self.sock.close()


def upload(
    client: UdpClient | TcpClient,
    request_id: str,
    flat: list,
    length: float,
    chunk_notes: int = 4,
    order: list[int] | None = None,
) -> None:
    """Send a clip in chunks of `chunk_notes` notes, in the given chunk order."""
    width = chunk_notes * 5
    chunks = [flat[i : i + width] for i in range(0, len(flat), width)]
    client.send("/magenta/clip/begin", request_id, 0, len(flat) // 5, float(length), 120.0, 4, 4)
    for index in order or range(len(chunks)):
        client.send("/magenta/clip/notes", request_id, 0, index, *chunks[index])


def final(replies: list[tuple[str, list]]) -> tuple[str, list]:
    return replies[-1]


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.01)

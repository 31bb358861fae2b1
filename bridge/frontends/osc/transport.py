"""Sockets for the OSC service: UDP datagrams and TCP streams with SLIP framing.

Each server runs in its own thread and hands every packet to `OscService.handle` with a
Peer that knows how to answer: a UDP peer sends datagrams no larger than the configured
limit to the sender (or its reply port), a TCP peer writes SLIP frames to its connection.
"""

from __future__ import annotations

import contextlib
import itertools
import selectors
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bridge.frontends.osc import framing, slip
from bridge.frontends.osc.service import OscService
from bridge.frontends.osc.wire import message

POLL_SECONDS = 0.2  # how quickly a server thread notices it should stop
SEND_SECONDS = 10.0  # a TCP client that reads nothing for this long is disconnected


@dataclass(frozen=True)
class UdpPeer:
    sock: socket.socket
    host: str
    port: int
    max_packet: int

    @property
    def name(self) -> str:
        return f"udp:{self.host}:{self.port}"

    def send(self, packet: bytes) -> None:
        if len(packet) > self.max_packet:
            raise ValueError(f"reply of {len(packet)} bytes exceeds {self.max_packet}")
        with contextlib.suppress(OSError):  # nobody at the reply port: no one to tell
            self.sock.sendto(packet, (self.host, self.port))

    def with_reply_port(self, port: int) -> UdpPeer:
        return replace(self, port=port)


@dataclass(eq=False)
class TcpPeer:
    sock: socket.socket
    name: str
    max_packet: int | None = None
    encode: Callable[[bytes], bytes] = slip.encode  # the framing the client spoke
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _broken: bool = False

    def send(self, packet: bytes) -> None:
        # A client that hung up, or read nothing for SEND_SECONDS, misses the reply (its
        # results stay in the store); a frame cut short would garble the rest of the
        # stream, so the connection is closed rather than written to again.
        with self._lock:
            if self._broken:
                return
            try:
                self.sock.sendall(self.encode(packet))
            except OSError:
                self._broken = True
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)

    def with_reply_port(self, port: int) -> TcpPeer:
        return self  # replies always go back on the connection


class UdpServer:
    def __init__(
        self,
        service: OscService,
        host: str,
        port: int,
        max_datagram: int,
        reply_port: int | None = None,
    ):
        self.service = service
        self.max_datagram = max_datagram
        self.reply_port = reply_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(POLL_SECONDS)
        self.address = self.sock.getsockname()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="osc-udp", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                packet, (host, port) = self.sock.recvfrom(65_536)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue  # e.g. ICMP port unreachable from an earlier reply
            peer = UdpPeer(self.sock, host, self.reply_port or port, self.max_datagram)
            if len(packet) > self.max_datagram:
                error = f"datagram of {len(packet)} bytes exceeds the {self.max_datagram} limit"
                peer.send(message("/magenta/error", "", error))
                continue
            self.service.handle(packet, peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class TcpServer:
    def __init__(
        self,
        service: OscService,
        host: str,
        port: int,
        max_packet: int,
        max_connections: int = 32,
    ):
        self.service = service
        self.max_packet = max_packet
        self.max_connections = max_connections
        self.sock = socket.create_server((host, port))
        self.sock.settimeout(POLL_SECONDS)
        self.address = self.sock.getsockname()
        self._stop = threading.Event()
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._thread = threading.Thread(target=self._accept, name="osc-tcp", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, (host, port) = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            peer = TcpPeer(conn, f"tcp:{host}:{port}#{next(self._ids)}")
            with self._lock:
                if len(self._connections) >= self.max_connections:
                    full = f"too many connections (limit {self.max_connections})"
                    peer.send(message("/magenta/error", "", full))
                    conn.close()
                    continue
                self._connections.add(conn)
                worker = threading.Thread(
                    target=self._serve, args=(conn, peer), name=peer.name, daemon=True
                )
                self._workers.add(worker)
            worker.start()

    def _serve(self, conn: socket.socket, peer: TcpPeer) -> None:
        decoder = None
        # The timeout bounds sends (replies wait for a slow reader); receiving polls instead.
        conn.settimeout(SEND_SECONDS)
        readable = selectors.DefaultSelector()
        readable.register(conn, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                if not readable.select(POLL_SECONDS):
                    continue
                data = conn.recv(65_536)
                if not data:
                    return
                if decoder is None:
                    decoder, peer.encode = framing.for_first_byte(data[0], self.max_packet)
                try:
                    packets = decoder.feed(data)
                except slip.FrameTooLarge as error:
                    peer.send(message("/magenta/error", "", f"{error}; closing the connection"))
                    return
                for packet in packets:
                    self.service.handle(packet, peer)
        except OSError:
            return
        finally:
            readable.close()
            with self._lock:
                self._connections.discard(conn)
                self._workers.discard(threading.current_thread())
            conn.close()

    def close(self) -> None:
        """Stop accepting, end every connection, and wait for their handlers to return, so
        nothing touches the store after the daemon closes it."""
        self._stop.set()
        self._thread.join()
        self.sock.close()
        with self._lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            workers = list(self._workers)
        for worker in workers:
            worker.join()

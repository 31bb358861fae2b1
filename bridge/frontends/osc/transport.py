"""Sockets for the OSC service: UDP datagrams and TCP streams (SLIP or length-prefixed).

The UDP receive thread only receives: packets wait in a bounded queue for one dispatch
thread, so a burst or a slow request (a MIDI file to parse) never makes the kernel drop
what clients sent. Each TCP connection has its own thread; a slow one only slows itself.
Every peer knows how to answer: a UDP peer sends paced datagrams no larger than the
configured limit to the sender's host (or its reply port), a TCP peer writes frames to its
connection.

A UDP client is its host: clients that send from several sockets (liblo's `oscsend` runs
one process per message, Max patches have several objects) share their uploads and jobs,
while another host never touches them. A TCP client is its connection.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from bridge.frontends.osc import framing, slip
from bridge.frontends.osc.service import OscService, request_id_of
from bridge.frontends.osc.wire import ReplyTooLarge

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how quickly a server thread notices it should stop
SEND_SECONDS = 10.0  # a TCP client that reads nothing for this long is disconnected
RECEIVE_BUFFER = 8 << 20  # bytes the kernel may hold for the UDP socket (capped by the OS)
MAX_WAITING_PACKETS = 4096  # received, not yet handled; beyond it senders hear "busy"
PACE_BYTES_PER_S = 4 << 20  # UDP replies, so a client's receive buffer can keep up
PACE_BURST_BYTES = 64 << 10


class Pacer:
    """A token bucket shared by every UDP reply: bursts up to `burst` bytes, then `rate`."""

    def __init__(self, rate: float = PACE_BYTES_PER_S, burst: float = PACE_BURST_BYTES):
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def wait(self, size: int) -> None:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= size
            delay = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if delay:
            time.sleep(delay)


@dataclass(frozen=True)
class UdpPeer:
    sock: socket.socket
    host: str
    source_port: int  # the socket the packet came from: what is authorised
    port: int  # where replies go: the source port, or a reply port
    max_packet: int
    pacer: Pacer | None  # None: sent at once (the receive thread's "busy" must not wait)

    @property
    def client(self) -> str:
        return f"udp:{_host_text(self.host)}"

    @property
    def sender(self) -> str:
        return f"udp:{_host_text(self.host)}:{self.source_port}"

    def send(self, packet: bytes) -> None:
        if len(packet) > self.max_packet:
            raise ReplyTooLarge(
                f"a reply of {len(packet)} bytes does not fit the {self.max_packet}-byte "
                "datagram limit (osc.max_datagram); use OSC over TCP for replies this large"
            )
        if self.pacer is not None:
            self.pacer.wait(len(packet))
        with contextlib.suppress(OSError):  # nobody at the reply port: no one to tell
            self.sock.sendto(packet, (self.host, self.port))

    def with_reply_port(self, port: int) -> UdpPeer:
        return replace(self, port=port)


@dataclass(eq=False)
class TcpPeer:
    sock: socket.socket
    host: str
    client: str  # the connection: "tcp:127.0.0.1:53122#3"
    max_packet: int | None = None
    encode: Callable[[bytes], bytes] = slip.encode  # the framing the client spoke
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _broken: bool = False

    @property
    def sender(self) -> str:
        return self.client

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


class _Received(NamedTuple):
    packet: bytes
    size: int
    host: str
    port: int
    request_id: str = ""  # of a packet too large to keep


def _host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _family(host: str, port: int, kind: socket.SocketKind) -> tuple[int, tuple]:
    """The address family and socket address for `host`: IPv4 or IPv6, as it resolves."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=kind)[0]
    except socket.gaierror as error:
        raise OSError(error.errno, f"cannot resolve {host!r}: {error.strerror}") from None
    return family, address


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
        self.pacer = Pacer()
        family, address = _family(host, port, socket.SOCK_DGRAM)
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.receive_buffer = _enlarge_receive_buffer(self.sock)
        self.sock.bind(address)
        self.sock.settimeout(POLL_SECONDS)
        self.address = self.sock.getsockname()[:2]
        self._waiting: queue.Queue[_Received | None] = queue.Queue(MAX_WAITING_PACKETS)
        self._stop = threading.Event()
        self._receiver = threading.Thread(target=self._receive, name="osc-udp-in", daemon=True)
        self._dispatcher = threading.Thread(target=self._dispatch, name="osc-udp", daemon=True)
        self._dispatcher.start()
        self._receiver.start()

    def _receive(self) -> None:
        """Receive and queue; nothing else happens on this thread."""
        while not self._stop.is_set():
            try:
                packet, address = self.sock.recvfrom(65_536)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue  # e.g. ICMP port unreachable from an earlier reply
            received = _Received(packet, len(packet), address[0], address[1])
            if received.size > self.max_datagram:  # keep only what names its request id
                received = _Received(b"", received.size, *address[:2], request_id_of(packet))
            try:
                self._waiting.put_nowait(received)
            except queue.Full:  # answered here: the only work this thread ever does
                busy = f"busy: {MAX_WAITING_PACKETS} packets are waiting; send again shortly"
                unpaced = replace(self._peer(address[0], address[1]), pacer=None)
                self.service.refuse(packet, unpaced, busy)

    def _dispatch(self) -> None:
        while (item := self._waiting.get()) is not None:
            peer = self._peer(item.host, item.port)
            try:
                if item.size > self.max_datagram:
                    limit = f"the {self.max_datagram}-byte limit (osc.max_datagram)"
                    too_large = f"datagram of {item.size} bytes exceeds {limit}"
                    self.service.send_error(peer, item.request_id, too_large)
                else:
                    self.service.handle(item.packet, peer)
            except Exception:  # the service answers its own errors; this is a last guard
                log.exception("OSC packet from %s could not be handled", peer.sender)

    def _peer(self, host: str, port: int) -> UdpPeer:
        reply_to = self.reply_port or port
        return UdpPeer(self.sock, host, port, reply_to, self.max_datagram, self.pacer)

    def close(self) -> None:
        self._stop.set()
        self._receiver.join()
        self._waiting.put(None)  # after everything already received
        self._dispatcher.join()
        self.sock.close()


def _enlarge_receive_buffer(sock: socket.socket) -> int:
    """Room for bursts: as much as the OS grants up to RECEIVE_BUFFER (Linux caps a plain
    request at net.core.rmem_max; a privileged process may go past it)."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    for option in (force, socket.SO_RCVBUF):
        if option is None:
            continue
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
            break
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


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
        family, address = _family(host, port, socket.SOCK_STREAM)
        self.sock = socket.create_server(address, family=family)
        self.sock.settimeout(POLL_SECONDS)
        self.address = self.sock.getsockname()[:2]
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
                conn, address = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            host, port = address[:2]
            peer = TcpPeer(conn, host, f"tcp:{_host_text(host)}:{port}#{next(self._ids)}")
            with self._lock:
                if len(self._connections) >= self.max_connections:
                    full = f"too many connections (limit {self.max_connections})"
                    self.service.refuse(b"", peer, full)
                    conn.close()
                    continue
                self._connections.add(conn)
                worker = threading.Thread(
                    target=self._serve, args=(conn, peer), name=peer.client, daemon=True
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
                    self.service.refuse(b"", peer, f"{error}; closing the connection")
                    return
                for packet in packets:
                    self.service.handle(packet, peer)
        except OSError:
            return
        except Exception:  # the service answers its own errors; this is a last guard
            log.exception("OSC connection %s ended by an error", peer.client)
        finally:
            readable.close()
            self.service.forget(peer)
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

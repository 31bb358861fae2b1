"""Soak: UDP and TCP clients hammer a real daemon with valid and hostile requests mixed.

Starts `magenta-bridge serve` (the bundled folk melody model, no MIDI) on a free loopback
port, then runs --udp-clients and --tcp-clients for --seconds. Each client sends one
request at a time with a fresh request id and waits for its final reply (the documented
reply of a query, `job/done` or `/magenta/error`); hostile requests (garbage, truncated
packets, oversized datagrams, empty bundles, absurd clips and parameters, unknown
addresses, strangers' job ids) are mixed in at --hostile. Afterwards every client keeps
listening for --settle seconds, so a second final reply to any request would be counted.

Reported: requests sent and answered by kind, lost (no final reply within --reply-timeout)
and duplicated finals (both must be 0), reply latency p50/p99, the daemon's RSS at start,
peak and end, the kernel's drop counter for its UDP socket, and /magenta/test's worker
health at the end.

    .venv/bin/python bench/soak.py [--seconds 60] [--udp-clients 8] [--tcp-clients 4]

Prints one JSON object; exits 1 when a request was lost or answered twice, or a worker died.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_packet import OscPacket

from bridge.frontends.osc import slip
from bridge.frontends.osc.wire import message

REPO = Path(__file__).resolve().parents[1]
FINALS = {
    "test": "/magenta/test",
    "models": "/magenta/models/list",
    "file": "/magenta/clip/ready",
}
JOB_FINALS = ("/magenta/job/done", "/magenta/error")


def valid_requests(rng: random.Random, rid: str) -> tuple[str, list[bytes], tuple[str, ...]]:
    """A valid request as packets, and the addresses that end it."""
    kind = rng.choice(["test", "models", "continue", "continue", "upload", "cancel"])
    if kind == "test":
        return kind, [message("/magenta/test", rid)], ("/magenta/test",)
    if kind == "models":
        return kind, [message("/magenta/models/list", rid)], ("/magenta/models/list",)
    if kind == "cancel":  # nothing to cancel: an error, the one final reply
        return kind, [message("/magenta/job/cancel", rid)], ("/magenta/error",)
    params = ["bars", rng.randint(1, 2), "variations", rng.randint(1, 4), "seed", rng.randint(0, 9)]
    if kind == "upload":
        notes = [v for n in range(8) for v in (60 + n % 5, n * 0.5, 0.5, 90, 0)]
        packets = [
            message("/magenta/clip/begin", rid, 0, 8, 4.0),
            message("/magenta/clip/notes", rid, 0, 0, *notes),
        ]
    else:
        packets = [message("/magenta/clip/file", rid, 0, "folk_melody.mid")]
    return kind, [*packets, message("/magenta/tool/continue", rid, *params)], JOB_FINALS


def hostile_requests(
    rng: random.Random, rid: str, max_datagram: int
) -> tuple[str, list[bytes], tuple[str, ...]]:
    """A hostile request whose one final reply is an error naming `rid` (or no id at all
    for bytes that name none)."""
    kind = rng.choice(
        [
            "garbage",
            "truncated",
            "oversized",
            "empty_bundle",
            "absurd_clip",
            "past_end",
            "bad_params",
            "unknown",
            "stranger_job",
            "escape",
        ]
    )
    packets = {
        "garbage": lambda: [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))],
        "truncated": lambda: [message("/magenta/test", rid, 7)[:-3]],
        "oversized": lambda: [message("/magenta/clip/notes", rid, 0, 0, *[60.0] * max_datagram)],
        "empty_bundle": lambda: [OscBundleBuilder(IMMEDIATELY).build().dgram],
        "absurd_clip": lambda: [message("/magenta/clip/begin", rid, 0, 1, 1e7)],
        "past_end": lambda: [
            message("/magenta/clip/begin", rid, 0, 1, 4.0),
            message("/magenta/clip/notes", rid, 0, 0, 60, 1e30, 1.0, 90, 0),
        ],
        "bad_params": lambda: [
            message("/magenta/clip/file", rid, 0, "folk_melody.mid"),
            message("/magenta/tool/continue", rid, "bars", 1e9),
        ],
        "unknown": lambda: [message("/magenta/nothing/here", rid)],
        "stranger_job": lambda: [message("/magenta/job/get", rid, "20990101-000000-deadbeef")],
        "escape": lambda: [message("/magenta/clip/file", rid, 0, "../../etc/passwd")],
    }[kind]()
    finals = ("/magenta/clip/ready", "/magenta/error") if kind == "bad_params" else ()
    return kind, packets, finals or ("/magenta/error",)


class Client(threading.Thread):
    """One client: a request at a time, each waiting for its final reply."""

    def __init__(self, name: str, port: int, args: argparse.Namespace, tcp: bool):
        super().__init__(name=name, daemon=True)
        self.args, self.tcp, self.port = args, tcp, port
        self.rng = random.Random(f"{args.seed}-{name}")
        if tcp:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=1.0)
            self.decoder = slip.Decoder(1 << 24)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            self.sock.bind(("127.0.0.1", 0))
            self.sock.settimeout(1.0)
        self.finals: Counter[str] = Counter()  # request id -> final replies seen
        self.kinds: dict[str, str] = {}
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.lost: list[str] = []
        self.no_id_errors = 0
        self.sent_without_id = 0
        self._inbox: list[tuple[str, list]] = []

    def run(self) -> None:
        end = time.monotonic() + self.args.seconds
        n = 0
        while time.monotonic() < end:
            n += 1
            rid = f"{self.name}-{n}"
            hostile = self.rng.random() < self.args.hostile
            if hostile:
                kind, packets, finals = hostile_requests(self.rng, rid, self.args.max_datagram)
                if kind in ("garbage", "empty_bundle"):
                    self.sent_without_id += 1
            else:
                kind, packets, finals = valid_requests(self.rng, rid)
            if self.tcp and kind == "oversized":
                continue  # TCP has no datagram limit: this is not hostile there
            self.kinds[rid] = kind
            started = time.perf_counter()
            for packet in packets:
                self._send(packet)
            if kind in ("garbage", "empty_bundle"):
                self._send(message("/magenta/test", rid))  # its reply follows the error
            if self._wait(rid, finals, time.monotonic() + self.args.reply_timeout):
                self.latency[kind].append(time.perf_counter() - started)
            else:
                self.lost.append(rid)
        settle = time.monotonic() + self.args.settle
        while time.monotonic() < settle:
            self._receive()

    def _send(self, packet: bytes) -> None:
        if self.tcp:
            self.sock.sendall(slip.encode(packet))
        else:
            self.sock.sendto(packet, ("127.0.0.1", self.port))

    def _wait(self, rid: str, finals: tuple[str, ...], deadline: float) -> bool:
        while time.monotonic() < deadline:
            self._receive()
            if self.finals[rid]:
                return True
        return False

    def _receive(self) -> None:
        try:
            if self.tcp:
                data = self.sock.recv(1 << 20)
                packets = self.decoder.feed(data)
            else:
                packets = [self.sock.recvfrom(65_536)[0]]
        except TimeoutError:
            return
        for packet in packets:
            for timed in OscPacket(packet).messages:
                address, args = timed.message.address, list(timed.message.params)
                rid = str(args[0]) if args else ""
                if address == "/magenta/error" and rid == "":
                    self.no_id_errors += 1
                elif self._is_final(rid, address):
                    self.finals[rid] += 1

    def _is_final(self, rid: str, address: str) -> bool:
        kind = self.kinds.get(rid)
        if kind in ("garbage", "empty_bundle"):
            return address == "/magenta/test"
        if kind == "bad_params":  # clip/ready, then the refusal of the tool request
            return address == "/magenta/error"
        if kind in FINALS:
            return address in (FINALS[kind], "/magenta/error")
        return address in JOB_FINALS or (kind is not None and address == "/magenta/error")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--udp-clients", type=int, default=8)
    parser.add_argument("--tcp-clients", type=int, default=4)
    parser.add_argument("--hostile", type=float, default=0.4, help="share of hostile requests")
    parser.add_argument("--reply-timeout", type=float, default=90.0)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--max-datagram", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()

    daemon, port, _ = start_daemon(args.max_datagram)
    rss = [_rss_mb(daemon.pid)]
    clients = [Client(f"u{n}", port, args, tcp=False) for n in range(args.udp_clients)]
    clients += [Client(f"t{n}", port, args, tcp=True) for n in range(args.tcp_clients)]
    try:
        started = time.monotonic()
        for client in clients:
            client.start()
        while any(client.is_alive() for client in clients):
            time.sleep(0.5)
            rss.append(_rss_mb(daemon.pid))
        elapsed = time.monotonic() - started
        health = _health(port)
        drops = _udp_drops(port)
    finally:
        daemon.terminate()
        daemon.wait(60)

    finals = Counter()
    for client in clients:
        finals.update(client.finals)
    requests = sum(len(client.kinds) for client in clients)
    lost = [rid for client in clients for rid in client.lost]
    duplicated = sorted(rid for rid, count in finals.items() if count > 1)
    by_kind: Counter[str] = Counter(kind for client in clients for kind in client.kinds.values())
    latency = defaultdict(list)
    for client in clients:
        for kind, values in client.latency.items():
            latency[kind] += values
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "seconds": round(elapsed, 1),
        "udp_clients": args.udp_clients,
        "tcp_clients": args.tcp_clients,
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "by_kind": dict(sorted(by_kind.items())),
        "lost": len(lost),
        "lost_examples": lost[:5],
        "duplicated_finals": len(duplicated),
        "duplicated_examples": duplicated[:5],
        "errors_without_id": sum(c.no_id_errors for c in clients),
        "packets_naming_no_id": sum(c.sent_without_id for c in clients),
        "latency_ms_p50": {
            k: round(statistics.median(v) * 1000, 1) for k, v in sorted(latency.items())
        },
        "latency_ms_p99": {
            k: round(sorted(v)[int(0.99 * (len(v) - 1))] * 1000, 1)
            for k, v in sorted(latency.items())
        },
        "rss_mb": {"start": rss[0], "peak": max(rss), "end": rss[-1]},
        "udp_drops_at_daemon": drops,
        "health": health,
    }
    print(json.dumps(report, indent=2))
    alive = health[0] == "ok" and health[2] == health[3]  # status, version, alive, workers
    return 0 if not lost and not duplicated and alive else 1


def start_daemon(max_datagram: int) -> tuple[subprocess.Popen, int, Path]:
    """`magenta-bridge serve` with the bundled folk melody model on a free loopback port."""
    scratch = Path(tempfile.mkdtemp(prefix="soak-"))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = REPO / "models" / "pretrained" / "folk_attention_rnn.safetensors"
    config = {
        "default_model": "folk",
        "models": {"folk": {"family": "melody_rnn", "path": str(model)}},
        "osc": {"port": port, "max_datagram": max_datagram, "input_folder": str(REPO / "examples")},
        "data_folder": str(scratch / "data"),
        "midi": {"enabled": False},
    }
    (scratch / "config.yaml").write_text(yaml.safe_dump(config))
    command = [
        sys.executable,
        "-m",
        "bridge.frontends.cli",
        "--config",
        str(scratch / "config.yaml"),
    ]
    daemon = subprocess.Popen([*command, "serve"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    for line in daemon.stdout:
        if line.startswith("ready"):
            break
    threading.Thread(target=daemon.stdout.read, daemon=True).start()  # keep the pipe drained
    return daemon, port, scratch


def _health(port: int) -> list:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        sock.sendto(message("/magenta/test", "soak-end"), ("127.0.0.1", port))
        while True:
            for timed in OscPacket(sock.recvfrom(65_536)[0]).messages:
                if timed.message.address == "/magenta/test":
                    return list(timed.message.params)[1:]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _udp_drops(port: int) -> int | None:
    """The kernel's drop counter for the daemon's UDP socket (Linux /proc/net/udp)."""
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            return int(fields[-1])
    return None


if __name__ == "__main__":
    sys.exit(main())

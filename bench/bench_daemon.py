"""Benchmark: the daemon end to end over UDP, as a DAW device would use it.

Starts `magenta-bridge serve` (the bundled default model unless --model is given) on a
free loopback port with a scratch data folder, then measures:

- start-to-ready: from process start to the "ready" line (imports, model load, sockets);
- latency: request to `/magenta/job/done` for continuing the 8-bar example melody by
  8 bars (128 steps), clip uploaded in chunks each time, p50/p99 over --requests;
- throughput: jobs per second with --clients concurrent clients for --seconds;
- memory: the daemon's peak resident set (VmHWM; the magenta backend's worker process,
  which holds TensorFlow, is not included).

With --compare-magenta the same is measured on a daemon whose model runs on Google's
magenta (`backend: magenta`, the same `.mag`), and the latency ratio is reported.

    .venv/bin/python bench/bench_daemon.py [--requests 200] [--clients 8] [--seconds 10]
    .venv/bin/python bench/bench_daemon.py --model tests/fixtures/melody_rnn/attention_rnn.mag \
        --compare-magenta

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml
from pythonosc.osc_packet import OscPacket

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.frontends.osc.wire import message  # noqa: E402
from bridge.music.midi import read_midi  # noqa: E402
from bridge.store import ResultStore  # noqa: E402

CLIP = read_midi(REPO / "examples" / "folk_melody.mid")


class Client:
    def __init__(self, port: int):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(30)

    def continue_clip(self, request_id: str, bars: int) -> str:
        """Upload the clip, ask for a continuation, wait for the final reply's address."""
        flat = CLIP.to_flat()
        self._send("/magenta/clip/begin", request_id, 0, len(CLIP.notes), CLIP.length, CLIP.qpm)
        for chunk, start in enumerate(range(0, len(flat), 500)):
            self._send("/magenta/clip/notes", request_id, 0, chunk, *flat[start : start + 500])
        self._send("/magenta/tool/continue", request_id, "bars", bars)
        while True:
            data, _ = self.sock.recvfrom(65_536)
            for timed in OscPacket(data).messages:
                address, args = timed.message.address, timed.message.params
                if args and args[0] == request_id and address in FINAL:
                    return address

    def _send(self, address: str, *args: object) -> None:
        self.sock.sendto(message(address, *args), ("127.0.0.1", self.port))


FINAL = ("/magenta/job/done", "/magenta/error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model file (default: bundled)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--bars", type=int, default=8)
    parser.add_argument(
        "--compare-magenta",
        action="store_true",
        help="also run the same requests on a daemon whose model uses Google's magenta "
        "(backend: magenta; --model must be a .mag) and report the ratio",
    )
    args = parser.parse_args()
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "model": str(args.model or "bundled default"),
        "bars": args.bars,
        "native": _measure(args, backend="native"),
    }
    if args.compare_magenta:
        results["magenta_backend"] = _measure(args, backend="magenta")
        for key in ("latency_ms_p50", "latency_ms_p99"):
            ratio = results["magenta_backend"][key] / results["native"][key]
            results[f"{key}_magenta_over_native"] = round(ratio, 1)
    print(json.dumps(results, indent=1))


def _measure(args: argparse.Namespace, backend: str) -> dict:
    """Start a daemon with one model on `backend`, measure it, stop it."""
    daemon, port, data, ready_s = start_daemon(args.model, backend)
    try:
        results = {
            "start_to_ready_s": round(ready_s, 3),
            **_latency(port, args),
            **_throughput(port, args),
            "daemon_peak_rss_mb": _peak_rss_mb(daemon.pid),
        }
    finally:
        daemon.terminate()
        daemon.wait(30)
    return {**results, **_daemon_side_timings(data)}


def start_daemon(model: Path | None, backend: str) -> tuple[subprocess.Popen, int, Path, float]:
    """`magenta-bridge serve` with one melody model (None: the bundled default) on `backend`,
    on a free loopback port with a scratch data folder: the process, its port, its data
    folder and the seconds it took to be ready."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    config = yaml.safe_load((REPO / "config" / "default.yaml").read_text())
    name = config["default_model"]
    path = model.resolve() if model else REPO / "config" / config["models"][name]["path"]
    config["models"] = {
        name: {"family": "melody_rnn", "path": str(path.resolve()), "backend": backend}
    }
    config["by_content"] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config["osc"] = {"port": port}
    config["data_folder"] = str(scratch / "data")
    config["midi"] = {"enabled": False}
    (scratch / "config.yaml").write_text(yaml.safe_dump(config))

    started = time.perf_counter()
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge.frontends.cli",
            "--config",
            str(scratch / "config.yaml"),
            "serve",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    for line in daemon.stdout:
        if line.startswith("ready"):
            break
    return daemon, port, scratch / "data", time.perf_counter() - started


def _daemon_side_timings(data: Path) -> dict:
    """The daemon's own record of the latency jobs: time in the queue and in the model."""
    with ResultStore(data) as store:
        records = [r for r in store.history(limit=100_000) if r.request_id.startswith("lat")]
    return {
        "latency_jobs_run_ms_p50": round(
            statistics.median(r.timings["run_s"] for r in records) * 1000, 1
        ),
        "latency_jobs_queue_ms_p50": round(
            statistics.median(r.timings["queue_s"] for r in records) * 1000, 1
        ),
    }


def _latency(port: int, args: argparse.Namespace) -> dict:
    client = Client(port)
    for n in range(5):  # warm-up
        client.continue_clip(f"warm{n}", args.bars)
    times = []
    for n in range(args.requests):
        t0 = time.perf_counter()
        assert client.continue_clip(f"lat{n}", args.bars) == "/magenta/job/done"
        times.append(time.perf_counter() - t0)
    times.sort()
    return {
        "latency_requests": len(times),
        "latency_ms_p50": round(statistics.median(times) * 1000, 1),
        "latency_ms_p99": round(times[min(len(times) - 1, int(0.99 * len(times)))] * 1000, 1),
    }


def _throughput(port: int, args: argparse.Namespace) -> dict:
    counts = {"/magenta/job/done": 0, "/magenta/error": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + args.seconds

    def work(index: int) -> None:
        client = Client(port)
        n = 0
        while time.perf_counter() < deadline:
            outcome = client.continue_clip(f"c{index}-{n}", args.bars)
            with lock:
                counts[outcome] += 1
            n += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(args.clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    return {
        "throughput_clients": args.clients,
        "throughput_jobs_per_s": round(counts["/magenta/job/done"] / elapsed, 1),
        "throughput_errors": counts["/magenta/error"],
    }


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


if __name__ == "__main__":
    main()

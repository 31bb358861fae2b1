"""Benchmark: an 8-bar continuation end to end over HTTP, beside OSC/TCP, in the same run.

Starts `magenta-bridge serve` with the bundled `folk_melody` model only, OSC and HTTP on free
loopback ports and a scratch data folder, then alternates requests between the two frontends
(so both meet the same machine load) and measures, from the client's side:

- http: POST /v1/jobs with examples/folk_melody.mid as a multipart upload, the job's events
  read until `done`, result 0 downloaded: request to result MIDI in hand;
- http_json: the same with the clip as JSON notes;
- osc_tcp: bridge.frontends.client over OSC/TCP (SLIP): clip uploaded in chunks, the tool
  request, results received with `job/done` (what `magenta-bridge client` does).

Each is timed over --requests requests after 5 warm-ups each; p50 and p99 in ms. The daemon's
own record of the same jobs (time in the queue and in the model) comes from its store, so the
frontend's share is the rest.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_http.py [--requests 200] [--bars 8]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.frontends.client import DaemonClient  # noqa: E402
from bridge.music.midi import read_midi  # noqa: E402
from bridge.store import ResultStore  # noqa: E402

EXAMPLE = REPO / "examples" / "folk_melody.mid"
CLIP = read_midi(EXAMPLE)
WARM_UP = 5


class HttpClient:
    """POSTs and downloads on one kept-alive connection, events on another, as a browser."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def multipart(self, bars: int) -> tuple[bytes, str]:
        """The form of a continue request uploading the example, and its boundary."""
        boundary = secrets.token_hex(8)
        params = json.dumps({"bars": bars})
        return (
            f'--{boundary}\r\nContent-Disposition: form-data; name="tool"\r\n\r\ncontinue\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="params"\r\n\r\n{params}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="clip0"; '
            f'filename="folk_melody.mid"\r\nContent-Type: audio/midi\r\n\r\n'
        ).encode() + EXAMPLE.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), boundary

    def run(self, body: bytes, content_type: str) -> str:
        """Submit, follow the events to `done`, download result 0; the job id."""
        accepted = json.loads(self._call("POST", "/v1/jobs", body, content_type))
        events = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            events.request("GET", accepted["events_url"])
            response = events.getresponse()
            for line in response:
                if line.startswith(b"event: done"):
                    break
                if line.startswith(b"event: failed"):
                    raise RuntimeError(f"job failed: {response.readline()!r}")
        finally:
            events.close()
        midi = self._call("GET", f"{accepted['status_url']}/results/0.mid")
        assert midi.startswith(b"MThd")
        return accepted["job_id"]

    def _call(self, method: str, path: str, body: bytes | None = None, kind: str = "") -> bytes:
        headers = {"Content-Type": kind} if kind else {}
        self.connection.request(method, path, body, headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--bars", type=int, default=8)
    args = parser.parse_args()
    daemon, osc_port, http_port, data = start_daemon()
    try:
        runs = _runners(osc_port, http_port, args.bars)
        for name, run in runs.items():
            for _ in range(WARM_UP):
                run(name)
        times: dict[str, list[float]] = {name: [] for name in runs}
        jobs: dict[str, list[str]] = {name: [] for name in runs}
        for _ in range(args.requests):
            for name, run in runs.items():  # alternating: every frontend meets the same load
                started = time.perf_counter()
                jobs[name].append(run(name))
                times[name].append(time.perf_counter() - started)
    finally:
        daemon.terminate()
        daemon.wait(30)
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "model": "folk_melody (bundled)",
        "bars": args.bars,
        "requests_each": args.requests,
    }
    for name in runs:
        results[name] = {**_percentiles(times[name]), **_daemon_side(data, jobs[name])}
    print(json.dumps(results, indent=1))


def _runners(osc_port: int, http_port: int, bars: int) -> dict[str, Callable[[str], str]]:
    client = HttpClient(http_port)
    form, boundary = client.multipart(bars)
    notes = [[n.pitch, n.start, n.duration, n.velocity, n.mute] for n in CLIP.notes]
    document = {
        "tool": "continue",
        "params": {"bars": bars},
        "clips": [{"notes": notes, "length": CLIP.length, "qpm": CLIP.qpm}],
    }
    as_json = json.dumps(document).encode()
    osc = DaemonClient("127.0.0.1", osc_port, 60)
    return {
        "http": lambda _: client.run(form, f"multipart/form-data; boundary={boundary}"),
        "http_json": lambda _: client.run(as_json, "application/json"),
        "osc_tcp": lambda _: osc.run_tool("continue", [CLIP], {"bars": bars}).job_id,
    }


def start_daemon() -> tuple[subprocess.Popen, int, int, Path]:
    """`magenta-bridge serve` with the bundled folk_melody model on free loopback ports: the
    process, its OSC and HTTP ports and its data folder."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-http-"))
    config = yaml.safe_load((REPO / "config" / "default.yaml").read_text())
    entry = config["models"]["folk_melody"]
    entry["path"] = str((REPO / "config" / entry["path"]).resolve())
    config["models"] = {"folk_melody": entry}
    config["by_content"] = {}
    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    config["osc"] = {"port": ports[0]}
    config["http"] = {"port": ports[1]}
    config["data_folder"] = str(scratch / "data")
    config["midi"] = {"enabled": False}
    (scratch / "config.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "bridge.frontends.cli"]
    command += ["--config", str(scratch / "config.yaml"), "serve"]
    daemon = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO)
    for line in daemon.stdout:
        if line.startswith("ready"):
            break
    return daemon, ports[0], ports[1], scratch / "data"


def _percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "latency_ms_p50": round(statistics.median(ordered) * 1000, 1),
        "latency_ms_p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
    }


def _daemon_side(data: Path, job_ids: list[str]) -> dict[str, float]:
    """The daemon's own record of these jobs: median time queued and in the model."""
    with ResultStore(data) as store:
        records = [store.get(job_id) for job_id in job_ids]
    return {
        f"daemon_{name}_ms_p50": round(
            statistics.median(record.timings[f"{name}_s"] for record in records) * 1000, 1
        )
        for name in ("queue", "run")
    }


if __name__ == "__main__":
    main()

"""Benchmark: what a producer waits for in the DAW, by path, on the same daemon.

One request, as the DAW integrations send it: continue the 8-bar example melody
(`examples/folk_melody.mid`) by --bars bars, one variation. Timed three ways against one
`magenta-bridge serve` (the bundled default model unless --model is given):

- osc: a UDP client in this process (upload, tool request, results): the floor;
- device: the Max for Live device's JavaScript under the node harness (bench/bench_device.js):
  reading the clip through the LOM stand-in, the upload, the reply chunks, writing the clip;
- client: `magenta-bridge client continue --json` as a new process per request, as the
  REAPER and Ardour scripts run it (Python start-up and imports, OSC/TCP, MIDI files).

With --compare-magenta the same is measured on a daemon whose model runs on Google's magenta
(`backend: magenta`, the same `.mag`), and each path's magenta/native ratio is reported.

    .venv/bin/python bench/bench_daw.py [--repeats 30] [--bars 4]
    .venv/bin/python bench/bench_daw.py --model tests/fixtures/melody_rnn/attention_rnn.mag \\
        --compare-magenta

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_daemon import REPO, Client, start_daemon

EXAMPLE = REPO / "examples" / "folk_melody.mid"
CLIENT = Path(sys.executable).with_name("magenta-bridge")
NODE = shutil.which("node")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model file (default: bundled)")
    parser.add_argument("--repeats", type=int, default=30, help="timed requests per path")
    parser.add_argument("--bars", type=int, default=4, help="bars to continue by")
    parser.add_argument(
        "--compare-magenta",
        action="store_true",
        help="also measure a daemon whose model runs on Google's magenta (--model: a .mag)",
    )
    args = parser.parse_args()
    results = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "model": str(args.model or "bundled default"),
        "bars": args.bars,
        "native": _measure(args, "native"),
    }
    if args.compare_magenta:
        results["magenta_backend"] = _measure(args, "magenta")
        results["p50_magenta_over_native"] = {
            path: round(results["magenta_backend"][path]["p50_ms"] / figures["p50_ms"], 1)
            for path, figures in results["native"].items()
        }
    print(json.dumps(results, indent=1))


def _measure(args: argparse.Namespace, backend: str) -> dict:
    daemon, port, _, _ = start_daemon(args.model, backend)
    try:
        return {
            "osc": _summary(_osc(port, args)),
            "device": _summary(_device(port, args)),
            "client": _summary(_client(port, args)),
        }
    finally:
        daemon.terminate()
        daemon.wait(30)


def _osc(port: int, args: argparse.Namespace) -> list[float]:
    client = Client(port)
    for n in range(3):
        client.continue_clip(f"warm{n}", args.bars)
    times = []
    for n in range(args.repeats):
        started = time.perf_counter()
        assert client.continue_clip(f"osc{n}", args.bars) == "/magenta/job/done"
        times.append(time.perf_counter() - started)
    return times


def _device(port: int, args: argparse.Namespace) -> list[float]:
    if NODE is None:
        raise SystemExit("node is missing: setup.sh installs it")
    script = REPO / "bench" / "bench_device.js"
    done = subprocess.run(
        [NODE, str(script), str(port), str(args.repeats), str(args.bars)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [ms / 1000 for ms in json.loads(done.stdout.splitlines()[-1])["times_ms"]]


def _client(port: int, args: argparse.Namespace) -> list[float]:
    out = Path(tempfile.mkdtemp(prefix="bench-daw-")) / "next.mid"
    command = [
        str(CLIENT),
        "client",
        "--port",
        str(port),
        "--json",
        "continue",
        str(EXAMPLE),
        "-o",
        str(out),
        "--bars",
        str(args.bars),
        "--seed",
        "7",
    ]
    times = []
    for n in range(args.repeats + 2):  # the first two warm the file cache
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        if n >= 2:
            times.append(time.perf_counter() - started)
    return times


def _summary(times: list[float]) -> dict:
    times = sorted(times)
    return {
        "requests": len(times),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))] * 1000, 1),
    }


if __name__ == "__main__":
    main()

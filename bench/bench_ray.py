"""Benchmark: a folder job on Ray, one node's actor against two nodes' actors, in one run.

A two-node Ray cluster on this machine (tests/fixture_ray.py: a head and a second node, one
CPU each, token auth) runs `magenta-bridge vary FOLDER --ray ADDRESS` on --loops two-bar loops
(seeded variants of examples/rock_groove.mid), 16 variations each, with the bundled drum
MusicVAE: once with one actor (one node's CPU), once with two (both nodes), each into a fresh
output folder. The local command (no Ray, this process's two threads) runs the same folder for
reference. Times are wall clock from the command's start to its exit, every result written.
Scaling efficiency is t(1 actor) / (2 x t(2 actors)). Prints one JSON object.

    .venv/bin/python bench/bench_ray.py [--loops 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_music_vae import loops  # noqa: E402

from tests.fixture_ray import local_cluster  # noqa: E402

COMMAND = str(Path(sys.executable).with_name("magenta-bridge"))


def timed_vary(folder: Path, out: Path, ray: list[str], env: dict[str, str]) -> dict:
    """One run of the command; its wall time and what it wrote."""
    command = [COMMAND, "vary", str(folder), "-o", str(out), "--model", "drum_vae"]
    command += ["--variations", "16", "--seed", "1", *ray]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "results": len(list(out.glob("*.mid")))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    folder = work / "loops"
    folder.mkdir()
    loops(args.loops, folder)
    runs = {"local": timed_vary(folder, work / "local", [], dict(os.environ))}
    with local_cluster() as cluster:
        for actors in (1, 2):
            ray = ["--ray", cluster.address, "--ray-actors", str(actors), "--ray-cpus", "1"]
            runs[f"ray_{actors}"] = timed_vary(folder, work / f"ray{actors}", ray, cluster.env)
    one, two = runs["ray_1"]["seconds"], runs["ray_2"]["seconds"]
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
                "loops": args.loops,
                "runs": runs,
                "speedup_2_over_1": round(one / two, 2),
                "scaling_efficiency": round(one / (2 * two), 2),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()

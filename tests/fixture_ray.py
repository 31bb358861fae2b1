"""A real two-node Ray cluster on this machine for the Ray tests (tests/ray_batch: folder
jobs; tests/ray_serve: the daemon's models on Ray Serve), started once a session and shared:
a head and a second node, each its own `ray start --block` process with one CPU and a small
object store, in a temp dir of their own. Each folder's conftest imports `ray_cluster`.
Stopping those two processes stops their nodes (raylet, GCS, workers) and nothing else: a
user's own Ray cluster on this machine is never touched (`ray stop` would stop every cluster
here, so it is not used).

Ray binds its ports on every interface whatever the node address, so the cluster takes a token
of its own (Ray's token authentication), which its drivers get in their environment; a token
the user keeps in ~/.ray is neither used nor changed."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")
START_S = 90  # a node is up within this, or the tests skip
STOP_S = 8  # the nodes' graceful stop, before what is left of them is killed
OBJECT_STORE = 80 * 1024 * 1024  # bytes per node, near Ray's minimum (MIDI files are small)


def run_python(script: str, *args: str) -> subprocess.CompletedProcess:
    """A short script in a fresh interpreter of this checkout (what a test changes there,
    such as hiding Ray, stays there)."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


@dataclass(frozen=True)
class RayCluster:
    """A running test cluster: its address, and the environment its drivers need."""

    address: str
    env: dict[str, str]


def _ray_env(token: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token, "RAY_USAGE_STATS_ENABLED": "0"}
    return env


def _start(args: list[str], node: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(RAY), "start", *args, *node, "--block", "--disable-usage-stats"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )


def _stop(processes: list[subprocess.Popen]) -> None:
    """Stop the nodes: SIGTERM each `ray start --block`, which stops the processes it started
    (GCS, raylet), then end what those had started in turn (agents, workers, Ray Data's
    detached actors) where it outlives them: all found as descendants of the two, by id.
    A head with detached actors can take half a minute to stop gracefully: it gets STOP_S."""
    family: set[psutil.Process] = set()
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            family |= set(psutil.Process(process.pid).children(recursive=True))
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_S
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    _, alive = psutil.wait_procs(family, timeout=max(0.1, deadline - time.monotonic()))
    for leftover in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()  # Ray's agents can outlive their raylet and ignore SIGTERM
    psutil.wait_procs(alive, timeout=10)


class ClusterNotStarted(Exception):
    """The cluster did not come up; the message says what and shows the logs' ends."""


def _wait_for(check, what: str, processes: list[subprocess.Popen], logs: list[Path]):
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if any(p.poll() is not None for p in processes):
            break
        time.sleep(0.5)
    tails = "\n".join(log.read_text(errors="replace")[-1500:] for log in logs if log.exists())
    raise ClusterNotStarted(f"a local Ray cluster could not start ({what}):\n{tails}")


def _nodes_alive(address: str, env: dict[str, str]) -> int:
    """How many nodes the cluster has, asked by a short-lived driver of its own."""
    script = (
        f"import ray; ray.init(address={address!r}, logging_level='ERROR', log_to_driver=False)"
        "; print(sum(n['Alive'] for n in ray.nodes()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return int(done.stdout.split()[-1]) if done.returncode == 0 and done.stdout.split() else 0


@contextlib.contextmanager
def local_cluster() -> Iterator[RayCluster]:
    """A running two-node cluster (two CPUs, one per node), stopped on leaving; ClusterNotStarted
    (with the nodes' logs) when it does not come up. The benchmarks use it too (bench/)."""
    # Short: Ray's Unix socket paths under it must fit in 107 bytes.
    temp = Path(tempfile.mkdtemp(prefix="rb-", dir="/tmp"))
    env = _ray_env(secrets.token_hex(32))
    node = ["--num-cpus=1", f"--object-store-memory={OBJECT_STORE}", f"--temp-dir={temp}"]
    logs = [temp / "head.log", temp / "worker.log"]
    processes = [
        _start(
            ["--head", "--port=0", "--node-ip-address=127.0.0.1", "--include-dashboard=false"],
            node,
            logs[0],
            env,
        )
    ]
    try:
        marker = temp / "ray_current_cluster"  # the head writes its address here when it is up
        address = _wait_for(
            lambda: marker.exists() and marker.read_text().strip(), "head", processes, logs
        )
        processes.append(_start([f"--address={address}"], node, logs[1], env))
        _wait_for(lambda: _nodes_alive(address, env) == 2, "second node", processes, logs)
        yield RayCluster(address, env)
    finally:
        _stop(processes)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """The two-node cluster of `local_cluster` for a test session; the tests skip, saying why,
    where Ray is not installed or the cluster cannot start."""
    if importlib.util.find_spec("ray") is None or not RAY.exists():
        pytest.skip("Ray is not installed: pip install -e '.[ray]' (setup.sh installs it)")
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(local_cluster())
        except ClusterNotStarted as error:
            pytest.skip(str(error))
        yield cluster
